//! GitHub Actions workflow commands: `::error file=…,line=…,col=…,title=CODE::message`,
//! one per finding, which the runner turns into annotations on the pull request.

use std::fmt;
use std::io::{self, Write};

use crate::diagnostic::Checked;
use crate::diagnostic::Severity;

/// Text written as the runner expects a command's message (`property: false`) or a
/// property value (`true`: `:` and `,` separate properties, so they are escaped too).
struct Escaped<T> {
    text: T,
    property: bool,
}

impl<T: fmt::Display> fmt::Display for Escaped<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write as _;
        write!(
            Escaping {
                out: f,
                property: self.property,
            },
            "{}",
            self.text
        )
    }
}

/// Escapes what is written through it (a finding's message is made as it is written).
struct Escaping<'a, 'b> {
    out: &'a mut fmt::Formatter<'b>,
    property: bool,
}

impl fmt::Write for Escaping<'_, '_> {
    fn write_str(&mut self, mut rest: &str) -> fmt::Result {
        while let Some(at) = rest.find(|c| match c {
            '%' | '\r' | '\n' => true,
            ':' | ',' => self.property,
            _ => false,
        }) {
            self.out.write_str(&rest[..at])?;
            self.out.write_str(match rest.as_bytes()[at] {
                b'%' => "%25",
                b'\r' => "%0D",
                b'\n' => "%0A",
                b':' => "%3A",
                _ => "%2C",
            })?;
            rest = &rest[at + 1..];
        }
        self.out.write_str(rest)
    }
}

fn data<T: fmt::Display>(text: T) -> Escaped<T> {
    Escaped {
        text,
        property: false,
    }
}

fn property<T: fmt::Display>(text: T) -> Escaped<T> {
    Escaped {
        text,
        property: true,
    }
}

pub(super) fn write(files: &[Checked], out: &mut dyn Write) -> io::Result<()> {
    for checked in files {
        let name = checked.file.name().display().to_string();
        let file = property(name.as_str());
        for finding in &checked.findings {
            let start = checked.file.position(finding.span.start);
            let end = checked.file.position(finding.span.end);
            let command = match finding.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "notice",
            };
            writeln!(
                out,
                "::{command} file={file},line={},col={},endLine={},endColumn={},title={} ({})::{}",
                start.line,
                start.column,
                end.line,
                end.column,
                property(finding.code.as_str()),
                property(finding.name()),
                data(finding.message())
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{data, property};

    #[test]
    fn messages_escape_percent_and_line_breaks_and_properties_also_their_separators() {
        let text = "50% of a:b,c\r\nnext";
        assert_eq!(data(text).to_string(), "50%25 of a:b,c%0D%0Anext");
        assert_eq!(property(text).to_string(), "50%25 of a%3Ab%2Cc%0D%0Anext");
        assert_eq!(property("plain").to_string(), "plain");
        assert_eq!(data("").to_string(), "");
    }
}
