//! SARIF 2.1.0, for code-scanning services: one run whose driver lists every rule, and a
//! result per finding with its physical location and, for a safe fix pflint can express
//! as text, the replacement.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::{Value, json};

use crate::check::Checked;
use crate::diagnostic::{Edit, Finding, Safety, Severity};
use crate::rules::{self, Rule};
use crate::source::{SourceFile, Span};
use crate::syntax::{FileKind, main_cf};

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

/// A main.cf edit as a text replacement, when the edit can be written as one.
fn replacement(main: &SourceFile, tree: &crate::syntax::MainCf, edit: &Edit) -> Option<Value> {
    if edit.service.is_some() {
        return None;
    }
    let src = main.bytes();
    let entry = tree
        .entries()
        .filter(|p| *p.name(src) == *edit.parameter.as_bytes())
        .last();
    use crate::syntax::document::Entry as _;
    let (span, text) = match (&edit.value, entry) {
        (Some(value), Some(p)) => (p.value_span(), value.clone()),
        (None, Some(p)) => (p.span(), String::new()),
        (Some(value), None) => {
            let end = src.len() as u32;
            let newline = if src.is_empty() || src.ends_with(b"\n") {
                ""
            } else {
                "\n"
            };
            (
                Span { start: end, end },
                format!("{newline}{} = {value}\n", edit.parameter),
            )
        }
        (None, None) => return None,
    };
    Some(json!({
        "deletedRegion": region(main, span),
        "insertedContent": { "text": text },
    }))
}

/// The SARIF `fixes` of a finding: only safe fixes, only when every edit can be written.
fn fixes(finding: &Finding, files: &[Checked], main_tree: &MainTree<'_>) -> Option<Value> {
    let fix = finding.fix.as_ref().filter(|f| f.safety == Safety::Safe)?;
    let main = files.iter().find(|c| c.kind == FileKind::Main)?;
    let tree = main_tree.get_or_init(|| main_cf::parse(main.file.bytes()).tree);
    let replacements: Option<Vec<Value>> = fix
        .edits
        .iter()
        .map(|e| replacement(&main.file, tree, e))
        .collect();
    Some(json!([{
        "description": { "text": fix.to_string() },
        "artifactChanges": [{
            "artifactLocation": { "uri": uri(&main.file) },
            "replacements": replacements?,
        }],
    }]))
}

/// main.cf's tree, parsed once for all the fixes of a report.
type MainTree<'t> = std::cell::OnceCell<crate::syntax::MainCf>;

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
        let main_tree = MainTree::new();
        let files = self.files;
        serializer.collect_seq(files.iter().flat_map(|checked| {
            let main_tree = &main_tree;
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
                if let Some(fixes) = fixes(finding, files, main_tree) {
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
