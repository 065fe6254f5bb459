//! GitHub Actions workflow commands: `::error file=…,line=…,col=…,title=CODE::message`,
//! one per finding, which the runner turns into annotations on the pull request.

use std::io::{self, Write};

use crate::diagnostic::Checked;
use crate::diagnostic::Severity;

/// Escapes a command's message as the runner expects.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value: also `:` and `,`, which separate properties.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

pub(super) fn write(files: &[Checked], out: &mut dyn Write) -> io::Result<()> {
    for checked in files {
        let file = escape_property(&checked.file.name().display().to_string());
        for finding in &checked.findings {
            let start = checked.file.position(finding.span.start);
            let end = checked.file.position(finding.span.end);
            let command = match finding.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "notice",
            };
            let title = escape_property(&format!("{} ({})", finding.code, finding.name()));
            writeln!(
                out,
                "::{command} file={file},line={},col={},endLine={},endColumn={},title={title}::{}",
                start.line,
                start.column,
                end.line,
                end.column,
                escape_data(&finding.message)
            )?;
        }
    }
    Ok(())
}
