//! What a probe saw, as text a person can read and findings can point into: one line per
//! SMTP line sent or received (`C:` / `S:`) and per TLS fact (`TLS:`), in order.

use crate::source::Span;

/// How much of one received line the transcript keeps: a hostile server's megabyte line
/// is shown by its start and its length.
const SHOWN: usize = 200;

/// A session's transcript.
#[derive(Clone, Debug, Default)]
pub struct Transcript {
    text: String,
}

impl Transcript {
    /// Appends `line` after `tag` (`C`, `S`, `TLS`, `--`) and returns its span.
    pub fn push(&mut self, tag: &str, line: &str) -> Span {
        let start = self.text.len();
        self.text.push_str(tag);
        self.text.push_str(": ");
        let mut shown: String = line.chars().take(SHOWN).map(printable).collect();
        let total = line.chars().count();
        if total > SHOWN {
            shown.push_str(&format!("… ({total} characters)"));
        }
        self.text.push_str(&shown);
        let end = self.text.len();
        self.text.push('\n');
        Span {
            start: u32::try_from(start).unwrap_or(u32::MAX),
            end: u32::try_from(end).unwrap_or(u32::MAX),
        }
    }

    /// Appends raw received bytes as a server line.
    pub fn server(&mut self, bytes: &[u8]) -> Span {
        self.push("S", &String::from_utf8_lossy(bytes))
    }

    /// The text so far.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The span covering `first` to `last`.
    pub fn join(first: Span, last: Span) -> Span {
        Span {
            start: first.start.min(last.start),
            end: first.end.max(last.end),
        }
    }
}

/// Control characters a server sent, made visible.
fn printable(c: char) -> char {
    if c.is_control() { '\u{fffd}' } else { c }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_cut_and_spans_point_at_the_line() {
        let mut t = Transcript::default();
        let first = t.push("C", "EHLO x");
        let long = "a".repeat(5000);
        let second = t.push("S", &long);
        assert_eq!(
            &t.text()[first.start as usize..first.end as usize],
            "C: EHLO x"
        );
        let shown = &t.text()[second.start as usize..second.end as usize];
        assert!(shown.ends_with("… (5000 characters)"), "{shown}");
        assert!(shown.len() < 300);
    }

    #[test]
    fn control_characters_are_replaced() {
        let mut t = Transcript::default();
        t.push("S", "220 a\u{1b}[31m\r");
        assert!(!t.text().contains('\u{1b}'));
        assert!(!t.text().contains('\r'));
    }
}
