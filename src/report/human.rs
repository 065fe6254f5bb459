//! Rendered diagnostics: a source snippet with the span labelled, and the fix as help.

use std::io::{self, Write};

use miette::{GraphicalReportHandler, GraphicalTheme};

use super::{Style, Summary, plural};
use crate::check::Checked;
use crate::diagnostic::Report;

pub(super) fn write(style: Style, files: &[Checked], out: &mut dyn Write) -> io::Result<()> {
    let theme = match style {
        Style::Color => GraphicalTheme::unicode(),
        Style::Plain => GraphicalTheme::unicode_nocolor(),
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100);
    for checked in files {
        for finding in &checked.findings {
            let report = Report {
                finding,
                file: &checked.file,
            };
            let mut rendered = String::new();
            handler
                .render_report(&mut rendered, &report)
                .map_err(io::Error::other)?;
            writeln!(out, "{rendered}")?;
        }
    }
    let summary = Summary::of(files);
    if summary.files == 0 {
        return Ok(());
    }
    let files_checked = plural(summary.files, "file");
    let judged: Vec<String> = summary
        .targets
        .iter()
        .map(|t| {
            let note = t
                .note
                .as_ref()
                .map(|n| format!("; {n}"))
                .unwrap_or_default();
            format!("Postfix {}, {}{note}", t.postfix_version, t.reason)
        })
        .collect();
    let judged = judged.join("; ");
    if summary.errors + summary.warnings + summary.infos == 0 {
        writeln!(
            out,
            "pflint: no problems found in {files_checked} ({judged})"
        )
    } else {
        writeln!(
            out,
            "pflint: {}, {} and {} in {files_checked} ({judged})",
            plural(summary.errors, "error"),
            plural(summary.warnings, "warning"),
            plural(summary.infos, "info")
        )
    }
}
