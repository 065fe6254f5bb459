//! The JSON format: a stable, versioned document (schema in README.md).

use std::io::{self, Write};

use serde::Serialize;

use super::Summary;
use crate::diagnostic::Checked;
use crate::diagnostic::{Fix, Message, Severity};

/// The schema version; raised only on an incompatible change.
const VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    findings: Findings<'a>,
    summary: Summary,
}

#[derive(Serialize)]
struct Finding<'a> {
    code: &'a str,
    name: &'a str,
    severity: Severity,
    file: &'a str,
    line: u32,
    column: u32,
    end_line: u32,
    end_column: u32,
    message: Message<'a>,
    help: &'a str,
    /// The service and role the finding concerns, for rules that judge one service.
    context: Option<&'a str>,
    /// Parameter edits that fix the finding, when the rule knows them.
    fix: Option<&'a Fix>,
}

/// The findings, each made while it is written: a report of many findings holds none
/// of them twice.
struct Findings<'a> {
    files: &'a [Checked],
    /// Each file's name as the report writes it.
    names: Vec<String>,
}

impl Serialize for Findings<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let findings = self
            .files
            .iter()
            .zip(&self.names)
            .flat_map(|(checked, file)| {
                checked.findings.iter().map(move |finding| {
                    let start = checked.file.position(finding.span.start);
                    let end = checked.file.position(finding.span.end);
                    Finding {
                        code: finding.code.as_str(),
                        name: finding.name(),
                        severity: finding.severity,
                        file,
                        line: start.line,
                        column: start.column,
                        end_line: end.line,
                        end_column: end.column,
                        message: finding.message(),
                        help: finding.help(),
                        context: finding.context.as_deref(),
                        fix: finding.fix.as_deref(),
                    }
                })
            });
        serializer.collect_seq(findings)
    }
}

pub(super) fn write(files: &[Checked], out: &mut dyn Write) -> io::Result<()> {
    let document = Document {
        version: VERSION,
        findings: Findings {
            files,
            names: files
                .iter()
                .map(|c| c.file.name().display().to_string())
                .collect(),
        },
        summary: Summary::of(files),
    };
    serde_json::to_writer_pretty(&mut *out, &document).map_err(super::io_error)?;
    writeln!(out)
}
