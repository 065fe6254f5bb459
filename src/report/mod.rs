//! Findings to bytes, one module per output format, and the exit status they imply.

mod github;
mod human;
mod json;
mod sarif;
mod short;

use std::io::{self, Write};

use crate::diagnostic::Checked;
use crate::diagnostic::Severity;
use crate::model::version::Target;

/// An output format of `pflint check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Rendered diagnostics with source snippets (miette).
    Human,
    /// One line per finding: `file:line:col: severity[CODE] message`.
    Short,
    /// A JSON document (see README for the schema).
    Json,
    /// SARIF 2.1.0, for code scanning (GitHub, GitLab, …).
    Sarif,
    /// GitHub Actions workflow commands: annotations on the pull request.
    Github,
}

/// How to draw human output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Unicode box drawing and ANSI colours, for a terminal.
    Color,
    /// Unicode box drawing without colours, for pipes and files.
    Plain,
}

/// Writes the findings of `files` in `format`.
pub fn write(
    format: Format,
    style: Style,
    files: &[Checked],
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Human => human::write(style, files, out),
        Format::Short => short::write(files, out),
        Format::Json => json::write(files, out),
        Format::Sarif => sarif::write(files, out),
        Format::Github => github::write(files, out),
    }
}

/// Counts of findings by severity, and the Postfix versions they were judged for.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// Files checked.
    pub files: usize,
    /// Error findings.
    pub errors: usize,
    /// Warning findings.
    pub warnings: usize,
    /// Info findings.
    pub infos: usize,
    /// Each distinct target version, in the order first met.
    pub targets: Vec<TargetSummary>,
}

/// The version a check assumed, and why.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TargetSummary {
    /// `3.7.11`, `3.7`.
    pub postfix_version: String,
    /// `flag`, `settings`, `installed` or `newest-known`.
    pub source: &'static str,
    /// Where exactly, in words: `from the installed /usr/sbin/postconf`.
    pub reason: String,
    /// A remark, such as a patch level newer than pflint knows.
    pub note: Option<String>,
}

impl TargetSummary {
    fn of(target: &Target) -> TargetSummary {
        TargetSummary {
            postfix_version: target.version.to_string(),
            source: target.source.key(),
            reason: target.source.to_string(),
            note: target.note.clone(),
        }
    }
}

impl Summary {
    /// Counts the findings of `files`.
    pub fn of(files: &[Checked]) -> Summary {
        let mut summary = Summary {
            files: files.len(),
            ..Summary::default()
        };
        for checked in files {
            let target = TargetSummary::of(&checked.target);
            if !summary.targets.contains(&target) {
                summary.targets.push(target);
            }
        }
        for finding in files.iter().flat_map(|f| &f.findings) {
            match finding.severity {
                Severity::Error => summary.errors += 1,
                Severity::Warning => summary.warnings += 1,
                Severity::Info => summary.infos += 1,
            }
        }
        summary
    }
}

/// True when some finding is at or above `fail_on`: the check then exits with status 1.
pub fn fails(files: &[Checked], fail_on: Severity) -> bool {
    files
        .iter()
        .flat_map(|f| &f.findings)
        .any(|finding| finding.severity >= fail_on)
}

/// A JSON writer's error as the I/O error it wraps, so that a closed pipe stays a closed
/// pipe (the caller treats it as the reader's choice, in every format alike).
fn io_error(e: serde_json::Error) -> io::Error {
    match e.io_error_kind() {
        Some(kind) => io::Error::from(kind),
        None => io::Error::other(e),
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}
