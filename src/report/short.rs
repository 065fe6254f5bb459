//! `file:line:col: severity[CODE] message`, one line per finding, for editors and grep.

use std::io::{self, Write};

use crate::diagnostic::Checked;

pub(super) fn write(files: &[Checked], out: &mut dyn Write) -> io::Result<()> {
    for checked in files {
        for finding in &checked.findings {
            let at = checked.file.position(finding.span.start);
            writeln!(
                out,
                "{}:{}:{}: {}[{}] {}",
                checked.file.name().display(),
                at.line,
                at.column,
                finding.severity,
                finding.code,
                finding.message()
            )?;
        }
    }
    Ok(())
}
