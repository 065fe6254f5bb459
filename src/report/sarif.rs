//! SARIF 2.1.0, for code-scanning services: one run whose driver lists every rule, and a
//! result per finding with its physical location and, for a safe fix pflint can express
//! as text, the replacement.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::{Value, json};

use crate::check::Checked;
use crate::diagnostic::{Finding, Safety, Severity};
use crate::edit::{self, Replacement};
use crate::rules::{self, Rule};
use crate::source::{SourceFile, Span};
use crate::syntax::{FileKind, MainCf, MasterCf, main_cf, master_cf};

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn descriptor(rule: &Rule) -> Value {
    json!({
        "id": rule.code,
        "name": rule.name,
        "shortDescription": { "text": rule.summary },
        "fullDescription": { "text": rule.why },
        "help": { "text": rule.help },
        "defaultConfiguration": { "level": level(rule.severity) },
        "properties": { "sources": rule.sources },
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

/// A replacement as SARIF writes it: the region it deletes and the text it inserts (in
/// the file's own line ending).
fn replacement(file: &SourceFile, r: &Replacement) -> Value {
    let text = edit::line_endings(file.bytes(), r.text.clone().into_bytes());
    json!({
        "deletedRegion": region(file, r.span),
        "insertedContent": { "text": String::from_utf8_lossy(&text) },
    })
}

/// The SARIF `fixes` of a finding: only safe fixes, only when every edit can be made.
fn fixes(finding: &Finding, trees: &Trees<'_>) -> Option<Value> {
    let fix = finding.fix.as_ref().filter(|f| f.safety == Safety::Safe)?;
    let (main, master) = trees.get_or_init();
    let planned = edit::fix::plan(
        finding.code,
        fix,
        edit::fix::Trees {
            main: main.as_ref().map(|(f, t)| (t, f.bytes())),
            master: master.as_ref().map(|(f, t)| (t, f.bytes())),
        },
    )?;
    let changes: Vec<Value> = [
        (main.as_ref().map(|(f, _)| *f), &planned.main),
        (master.as_ref().map(|(f, _)| *f), &planned.master),
    ]
    .into_iter()
    .filter(|(_, r)| !r.is_empty())
    .map(|(file, replacements)| {
        let file = file?;
        Some(json!({
            "artifactLocation": { "uri": uri(file) },
            "replacements": replacements.iter().map(|r| replacement(file, r)).collect::<Vec<_>>(),
        }))
    })
    .collect::<Option<_>>()?;
    if changes.is_empty() {
        return None;
    }
    Some(json!([{
        "description": { "text": fix.to_string() },
        "artifactChanges": changes,
    }]))
}

/// A file with its tree.
type Parsed<'a, T> = Option<(&'a SourceFile, T)>;

/// main.cf's and master.cf's trees, parsed once for all the fixes of a report.
struct Trees<'a> {
    files: &'a [Checked],
    parsed: std::cell::OnceCell<(Parsed<'a, MainCf>, Parsed<'a, MasterCf>)>,
}

impl<'a> Trees<'a> {
    fn get_or_init(&self) -> &(Parsed<'a, MainCf>, Parsed<'a, MasterCf>) {
        self.parsed.get_or_init(|| {
            let file = |kind| self.files.iter().find(|c| c.kind == kind).map(|c| &c.file);
            (
                file(FileKind::Main).map(|f| (f, main_cf::parse(f.bytes()).tree)),
                file(FileKind::Master).map(|f| (f, master_cf::parse(f.bytes()).tree)),
            )
        })
    }
}

fn uri(file: &SourceFile) -> String {
    file.name().display().to_string()
}

/// The results, made one at a time while they are written: a report of many findings
/// never holds more than one result in memory.
struct Results<'a> {
    files: &'a [Checked],
    rules: &'a [&'a Rule],
}

impl Serialize for Results<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let trees = Trees {
            files: self.files,
            parsed: std::cell::OnceCell::new(),
        };
        let files = self.files;
        serializer.collect_seq(files.iter().flat_map(|checked| {
            let trees = &trees;
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
                if let Some(index) = self.rules.iter().position(|r| r.code == finding.code) {
                    result["ruleIndex"] = json!(index);
                }
                if let Some(fixes) = fixes(finding, trees) {
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
    let catalog = rules::full_catalog();
    let rules: Vec<&Rule> = catalog.rules().collect();
    let tool = json!({
        "driver": {
            "name": "pflint",
            "version": env!("CARGO_PKG_VERSION"),
            "informationUri": "https://www.postfix.org/postconf.5.html",
            "rules": rules.iter().map(|r| descriptor(r)).collect::<Vec<_>>(),
        }
    });
    let document = Document {
        schema: "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
        runs: [Run {
            column_kind: "unicodeCodePoints",
            results: Results {
                files,
                rules: &rules,
            },
            tool,
        }],
        version: "2.1.0",
    };
    serde_json::to_writer_pretty(&mut *out, &document).map_err(super::io_error)?;
    writeln!(out)
}
