//! SARIF 2.1.0, for code-scanning services: one run whose driver lists every rule, and a
//! result per finding with its physical location and, for a safe fix pflint can express
//! as text, the replacement.

use std::io::{self, Write};

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
fn replacement(main: &SourceFile, edit: &Edit) -> Option<Value> {
    if edit.service.is_some() {
        return None;
    }
    let src = main.bytes();
    let tree = main_cf::parse(src).tree;
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
fn fixes(finding: &Finding, files: &[Checked]) -> Option<Value> {
    let fix = finding.fix.as_ref().filter(|f| f.safety == Safety::Safe)?;
    let main = files.iter().find(|c| c.kind == FileKind::Main)?;
    let replacements: Option<Vec<Value>> = fix
        .edits
        .iter()
        .map(|e| replacement(&main.file, e))
        .collect();
    Some(json!([{
        "description": { "text": fix.to_string() },
        "artifactChanges": [{
            "artifactLocation": { "uri": uri(&main.file) },
            "replacements": replacements?,
        }],
    }]))
}

fn uri(file: &SourceFile) -> String {
    file.name().display().to_string()
}

pub(super) fn write(files: &[Checked], out: &mut dyn Write) -> io::Result<()> {
    let catalog = rules::full_catalog();
    let rules: Vec<&Rule> = catalog.rules().collect();
    let mut results = Vec::new();
    for checked in files {
        for finding in &checked.findings {
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
            if let Some(index) = rules.iter().position(|r| r.code == finding.code) {
                result["ruleIndex"] = json!(index);
            }
            if let Some(fixes) = fixes(finding, files) {
                result["fixes"] = fixes;
            }
            results.push(result);
        }
    }
    let document = json!({
        "$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "pflint",
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": "https://www.postfix.org/postconf.5.html",
                    "rules": rules.iter().map(|r| descriptor(r)).collect::<Vec<_>>(),
                }
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    serde_json::to_writer_pretty(&mut *out, &document).map_err(super::io_error)?;
    writeln!(out)
}
