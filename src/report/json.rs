//! The JSON format: a stable, versioned document (schema in README.md).

use std::io::{self, Write};

use serde::Serialize;

use super::Summary;
use crate::diagnostic::Checked;
use crate::diagnostic::{Fix, Severity};

/// The schema version; raised only on an incompatible change.
const VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    findings: Vec<Finding<'a>>,
    summary: Summary,
}

#[derive(Serialize)]
struct Finding<'a> {
    code: &'a str,
    name: &'a str,
    severity: Severity,
    file: String,
    line: u32,
    column: u32,
    end_line: u32,
    end_column: u32,
    message: &'a str,
    help: &'a str,
    /// The service and role the finding concerns, for rules that judge one service.
    context: Option<&'a str>,
    /// Parameter edits that fix the finding, when the rule knows them.
    fix: Option<&'a Fix>,
}

pub(super) fn write(files: &[Checked], out: &mut dyn Write) -> io::Result<()> {
    let findings = files
        .iter()
        .flat_map(|checked| {
            checked.findings.iter().map(move |finding| {
                let start = checked.file.position(finding.span.start);
                let end = checked.file.position(finding.span.end);
                Finding {
                    code: finding.code.as_str(),
                    name: finding.name(),
                    severity: finding.severity,
                    file: checked.file.name().display().to_string(),
                    line: start.line,
                    column: start.column,
                    end_line: end.line,
                    end_column: end.column,
                    message: &finding.message,
                    help: finding.help(),
                    context: finding.context.as_deref(),
                    fix: finding.fix.as_deref(),
                }
            })
        })
        .collect();
    let document = Document {
        version: VERSION,
        findings,
        summary: Summary::of(files),
    };
    serde_json::to_writer_pretty(&mut *out, &document).map_err(super::io_error)?;
    writeln!(out)
}
