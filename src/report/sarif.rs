//! SARIF 2.1.0, for code-scanning services: one run whose driver lists every rule, and a
//! result per finding with its physical location and, for a safe fix pflint can express
//! as text, the replacement.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::{Value, json};

use crate::diagnostic::{Checked, Code, Finding, Safety, Severity};
use crate::source::{SourceFile, Span};
use crate::syntax::FileKind;

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn descriptor(code: Code) -> Value {
    json!({
        "id": code,
        "name": code.name(),
        "shortDescription": { "text": code.summary() },
        "fullDescription": { "text": code.why() },
        "help": { "text": code.help() },
        "defaultConfiguration": { "level": level(code.severity()) },
        "properties": { "sources": code.sources() },
    })
}

fn region(file: &SourceFile, span: Span) -> Value {
    let start = file.position(span.start);
    let end = file.position(span.end);
    json!({
        "startLine": start.line,
        "startColumn": start.column,
        "endLine": end.line,
        "endColumn": end.column,
    })
}

/// The SARIF `fixes` of a finding: only safe fixes, only when every edit was planned
/// (the edit path plans them, [`crate::edit::fix::plan_changes`]).
fn fixes(finding: &Finding, files: &[Checked]) -> Option<Value> {
    let fix = finding.fix.as_ref().filter(|f| f.safety == Safety::Safe)?;
    let changes = fix.changes.as_ref().filter(|c| !c.is_empty())?;
    let file = |kind: FileKind| files.iter().find(|c| c.kind == kind).map(|c| &c.file);
    let changes: Vec<Value> = changes
        .iter()
        .map(|change| {
            let file = file(change.file)?;
            let replacements: Vec<Value> = change
                .replacements
                .iter()
                .map(|r| {
                    json!({
                        "deletedRegion": region(file, r.span),
                        "insertedContent": { "text": r.text },
                    })
                })
                .collect();
            Some(json!({
                "artifactLocation": { "uri": uri(file) },
                "replacements": replacements,
            }))
        })
        .collect::<Option<_>>()?;
    Some(json!([{
        "description": { "text": fix.to_string() },
        "artifactChanges": changes,
    }]))
}

fn uri(file: &SourceFile) -> String {
    file.name().display().to_string()
}

/// The results, made one at a time while they are written: a report of many findings
/// never holds more than one result in memory.
struct Results<'a> {
    files: &'a [Checked],
}

impl Serialize for Results<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let files = self.files;
        serializer.collect_seq(files.iter().flat_map(|checked| {
            checked.findings.iter().map(move |finding| {
                let mut result = json!({
                    "ruleId": finding.code,
                    "level": level(finding.severity),
                    "message": { "text": finding.message },
                    "locations": [{
                        "physicalLocation": {
                            "artifactLocation": { "uri": uri(&checked.file) },
                            "region": region(&checked.file, finding.span),
                        }
                    }],
                });
                if let Some(index) = Code::ALL.iter().position(|c| *c == finding.code) {
                    result["ruleIndex"] = json!(index);
                }
                if let Some(fixes) = fixes(finding, files) {
                    result["fixes"] = fixes;
                }
                result
            })
        }))
    }
}

/// The document, its keys in the order serde_json writes a map's (sorted).
#[derive(Serialize)]
struct Document<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    runs: [Run<'a>; 1],
    version: &'static str,
}

#[derive(Serialize)]
struct Run<'a> {
    #[serde(rename = "columnKind")]
    column_kind: &'static str,
    results: Results<'a>,
    tool: Value,
}

pub(super) fn write(files: &[Checked], out: &mut dyn Write) -> io::Result<()> {
    let tool = json!({
        "driver": {
            "name": "pflint",
            "version": env!("CARGO_PKG_VERSION"),
            "informationUri": "https://www.postfix.org/postconf.5.html",
            "rules": Code::ALL.iter().map(|c| descriptor(*c)).collect::<Vec<_>>(),
        }
    });
    let document = Document {
        schema: "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
        runs: [Run {
            column_kind: "unicodeCodePoints",
            results: Results { files },
            tool,
        }],
        version: "2.1.0",
    };
    serde_json::to_writer_pretty(&mut *out, &document).map_err(super::io_error)?;
    writeln!(out)
}
