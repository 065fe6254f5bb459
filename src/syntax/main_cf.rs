//! main.cf: `name = value` logical lines, comments and blank lines.
//!
//! Each logical line (see [`lines`](super::lines)) is split the way Postfix's
//! `split_nameval()` does it: the name runs up to whitespace or `=`, whitespace around `=`
//! is skipped, and whitespace at both ends of the value is trimmed. Everything after the
//! first `=` is the value, including further `=` and `#` characters.

use std::borrow::Cow;
use std::ops::Range;

use nom::bytes::complete::{tag, take_till1, take_while};
use nom::{IResult, Parser};

use super::lines::{self, Group, Layout, LineKind, LogicalToken, PhysicalLine, is_space};
use super::token::{Token, TokenKind};
use super::{Problem, ProblemKind};
use crate::source::Span;

/// A parsed main.cf file. Its items tile the file: printing them in order gives back the
/// input byte for byte.
#[derive(Clone, Debug, Default)]
pub struct MainCf {
    /// The file's items in order.
    pub items: Vec<Item>,
}

/// One top-level unit of main.cf.
#[derive(Clone, Debug)]
pub enum Item {
    /// A whitespace-only line, with its newline.
    Blank(Span),
    /// A comment line (first non-whitespace byte is `#`), with its newline.
    Comment(Span),
    /// A `name = value` setting, with its continuation lines.
    Parameter(Box<Parameter>),
    /// A logical line that Postfix refuses or ignores.
    Rejected(Box<Rejected>),
}

impl Item {
    /// The bytes this item covers.
    pub fn span(&self) -> Span {
        match self {
            Item::Blank(span) | Item::Comment(span) => *span,
            Item::Parameter(p) => p.span(),
            Item::Rejected(r) => r.span(),
        }
    }
}

/// A `name = value` logical line. Positions inside it are kept in the coordinates of its
/// logical text (the lines joined as Postfix joins them); [`source_span`](Self::source_span)
/// maps them to the file.
#[derive(Clone, Debug)]
pub struct Parameter {
    layout: Layout,
    name: Range<u32>,
    equals: u32,
    value: Range<u32>,
    /// Length of the logical text Postfix sees (up to a NUL byte, if any).
    visible: u32,
}

impl Parameter {
    /// From the first byte of the name to the end of the last continuation line,
    /// including its newline.
    pub fn span(&self) -> Span {
        self.layout.span()
    }

    /// The parameter name in the file.
    pub fn name_span(&self) -> Span {
        self.layout.source_span(self.name.clone())
    }

    /// The `=` sign in the file.
    pub fn equals_span(&self) -> Span {
        self.layout.source_span(self.equals..self.equals + 1)
    }

    /// The name's bytes (a name never crosses a line break).
    pub fn name<'a>(&self, src: &'a [u8]) -> &'a [u8] {
        &src[self.name_span().range()]
    }

    /// The value as Postfix stores it: the lines joined without newlines (continuation
    /// indentation kept), skipped lines left out, whitespace trimmed at both ends.
    pub fn value<'a>(&self, src: &'a [u8]) -> Cow<'a, [u8]> {
        self.layout.slice(src, self.value.clone())
    }

    /// Where the value lies in the logical text; an empty value sits right after `=`.
    pub fn value_range(&self) -> Range<u32> {
        self.value.clone()
    }

    /// The file span of the whole value, from its first to its last byte.
    pub fn value_span(&self) -> Span {
        self.layout.source_span(self.value.clone())
    }

    /// Maps a range of the logical text (for example part of the value) to the file.
    pub fn source_span(&self, range: Range<u32>) -> Span {
        self.layout.source_span(range)
    }

    /// The tokens that tile [`span`](Self::span): name, `=`, value pieces, whitespace,
    /// newlines and the comment or blank lines inside a continued value.
    pub fn tokens(&self) -> Vec<Token> {
        let equals = self.equals..self.equals + 1;
        let logical: Vec<LogicalToken> = [
            (TokenKind::Name, self.name.clone()),
            (TokenKind::Space, self.name.end..equals.start),
            (TokenKind::Equals, equals.clone()),
            (TokenKind::Space, equals.end..self.value.start),
            (TokenKind::Value, self.value.clone()),
            (TokenKind::Space, self.value.end..self.visible),
        ]
        .into_iter()
        .filter(|(_, r)| !r.is_empty())
        .chain(ignored_tail(&self.layout, self.visible))
        .collect();
        self.layout.tokens(&logical)
    }
}

/// A logical line that Postfix does not accept as a setting.
#[derive(Clone, Debug)]
pub struct Rejected {
    layout: Layout,
    reason: ProblemKind,
    visible: u32,
}

impl Rejected {
    pub(crate) fn new(layout: Layout, reason: ProblemKind, visible: u32) -> Rejected {
        Rejected {
            layout,
            reason,
            visible,
        }
    }

    /// All lines of the logical line.
    pub fn span(&self) -> Span {
        self.layout.span()
    }

    /// Why Postfix rejects it.
    pub fn reason(&self) -> ProblemKind {
        self.reason
    }

    /// The tokens that tile [`span`](Self::span): text and whitespace runs, newlines,
    /// skipped lines.
    pub fn tokens(&self, src: &[u8]) -> Vec<Token> {
        let text = self.layout.text(src);
        let logical: Vec<LogicalToken> = words_and_spaces(&text[..self.visible as usize])
            .into_iter()
            .chain(ignored_tail(&self.layout, self.visible))
            .collect();
        self.layout.tokens(&logical)
    }
}

/// The logical text after a NUL byte, which Postfix never sees.
pub(crate) fn ignored_tail(layout: &Layout, visible: u32) -> Option<LogicalToken> {
    let len: u32 = layout.segments().map(|s| s.end - s.start).sum();
    (visible < len).then_some((TokenKind::Ignored, visible..len))
}

/// The result of parsing: the tree, and the problems found on the way.
#[derive(Clone, Debug, Default)]
pub struct Parsed<T> {
    /// The lossless tree; it is complete even when there are problems.
    pub tree: T,
    /// Lines Postfix would refuse, ignore or misread, in file order.
    pub problems: Vec<Problem>,
}

/// Parses main.cf bytes. Never fails: lines Postfix rejects become [`Item::Rejected`] and
/// a [`Problem`], and parsing goes on with the next logical line.
pub fn parse(src: &[u8]) -> Parsed<MainCf> {
    let mut parsed: Parsed<MainCf> = Parsed::default();
    for group in lines::groups(src) {
        let item = match group {
            Group::Trivia(line) if line.kind == LineKind::Comment => Item::Comment(line.span()),
            Group::Trivia(line) => Item::Blank(line.span()),
            Group::Logical(lines) => logical_line(src, &lines, &mut parsed.problems),
        };
        parsed.tree.items.push(item);
    }
    parsed
}

/// Where the parts of a `name = value` line lie in the logical text.
struct Assignment {
    name: Range<u32>,
    equals: u32,
    value: Range<u32>,
}

/// `assignment := name space* "=" space* value` with `name := [^space=]+`; the value is
/// the rest, trimmed of whitespace at its end.
fn assignment(input: &[u8]) -> IResult<&[u8], Assignment> {
    let at = |rest: &[u8]| (input.len() - rest.len()) as u32;
    let (rest, name) = take_till1(|b| is_space(b) || b == b'=')(input)?;
    let (rest, _) = take_while(is_space)(rest)?;
    let equals = at(rest);
    let (rest, _) = tag(&b"="[..]).parse(rest)?;
    let (rest, _) = take_while(is_space)(rest)?;
    let value_len = (rest.len() - trailing_space(rest)) as u32;
    let value_start = if value_len == 0 { equals + 1 } else { at(rest) };
    Ok((
        &rest[rest.len()..],
        Assignment {
            name: 0..name.len() as u32,
            equals,
            value: value_start..value_start + value_len,
        },
    ))
}

fn trailing_space(bytes: &[u8]) -> usize {
    bytes.iter().rev().take_while(|&&b| is_space(b)).count()
}

/// Postfix handles a logical line as a C string: a NUL byte ends it.
pub(crate) fn visible_len(text: &[u8]) -> usize {
    text.iter().position(|&b| b == 0).unwrap_or(text.len())
}

/// Reports a NUL byte at `visible` in the logical text, if there is one.
pub(crate) fn report_nul(
    layout: &Layout,
    text: &[u8],
    visible: usize,
    problems: &mut Vec<Problem>,
) {
    if visible < text.len() {
        problems.push(Problem::new(
            ProblemKind::NulByte,
            layout.source_span(visible as u32..visible as u32 + 1),
            "NUL byte in a logical line",
            "Postfix stops reading the logical line here",
        ));
    }
}

/// The span of the first run of non-whitespace text on the first line of a logical
/// line that starts with whitespace.
pub(crate) fn leading_whitespace_problem(layout: &Layout, text: &[u8]) -> Problem {
    let first_line_len = layout.segments().next().map_or(0, |s| s.end - s.start) as usize;
    let first_line = &text[..first_line_len.min(text.len())];
    let start = first_line.iter().position(|&b| !is_space(b)).unwrap_or(0);
    let end = first_line
        .iter()
        .rposition(|&b| !is_space(b))
        .map_or(start, |i| i + 1);
    Problem::new(
        ProblemKind::LeadingWhitespace,
        layout.source_span(start as u32..end as u32),
        "line starts with whitespace but there is nothing above it to continue",
        "Postfix ignores this line",
    )
}

fn logical_line(src: &[u8], lines: &[PhysicalLine], problems: &mut Vec<Problem>) -> Item {
    let layout = Layout::new(lines);
    let text = layout.text(src);
    let visible = visible_len(&text);
    let visible_text = &text[..visible];

    if lines[0].kind == LineKind::Continuation {
        problems.push(leading_whitespace_problem(&layout, visible_text));
        report_nul(&layout, &text, visible, problems);
        return Item::Rejected(Box::new(Rejected::new(
            layout,
            ProblemKind::LeadingWhitespace,
            visible as u32,
        )));
    }

    match assignment(visible_text) {
        Ok((_, parts)) => {
            report_nul(&layout, &text, visible, problems);
            Item::Parameter(Box::new(Parameter {
                layout,
                name: parts.name,
                equals: parts.equals,
                value: parts.value,
                visible: visible as u32,
            }))
        }
        Err(_) => {
            let reason = match visible_text.first() {
                None | Some(b'=') => {
                    let at = if visible_text.is_empty() { 0..0 } else { 0..1 };
                    problems.push(Problem::new(
                        ProblemKind::MissingName,
                        layout.source_span(at),
                        "missing parameter name before `=`",
                        "no name before this `=`",
                    ));
                    ProblemKind::MissingName
                }
                Some(_) => {
                    let name_len = visible_text
                        .iter()
                        .position(|&b| is_space(b) || b == b'=')
                        .unwrap_or(visible);
                    // The line Postfix takes the name from is the one to fix.
                    problems.push(Problem::new(
                        ProblemKind::MissingEquals,
                        layout.source_span(0..name_len as u32),
                        format!(
                            "missing `=` after parameter name `{}`",
                            String::from_utf8_lossy(&visible_text[..name_len])
                        ),
                        "Postfix reads this as a parameter name, but no `=` follows",
                    ));
                    ProblemKind::MissingEquals
                }
            };
            report_nul(&layout, &text, visible, problems);
            Item::Rejected(Box::new(Rejected::new(layout, reason, visible as u32)))
        }
    }
}

/// Splits text into alternating [`TokenKind::Text`] and [`TokenKind::Space`] runs.
fn words_and_spaces(text: &[u8]) -> Vec<LogicalToken> {
    let mut tokens: Vec<LogicalToken> = Vec::new();
    for (i, &b) in text.iter().enumerate() {
        let this = if is_space(b) {
            TokenKind::Space
        } else {
            TokenKind::Text
        };
        let i = i as u32;
        match tokens.last_mut() {
            Some((last, range)) if *last == this => range.end = i + 1,
            _ => tokens.push((this, i..i + 1)),
        }
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parameter(src: &[u8]) -> Parameter {
        match parse(src).tree.items.into_iter().next() {
            Some(Item::Parameter(p)) => *p,
            other => panic!("expected a parameter, got {other:?}"),
        }
    }

    #[test]
    fn splits_name_and_value_like_split_nameval() {
        let src = b"smtpd_banner = = x # not a comment  \n";
        let p = parameter(src);
        assert_eq!(p.name(src), b"smtpd_banner");
        assert_eq!(&*p.value(src), b"= x # not a comment");
    }

    #[test]
    fn continued_value_keeps_indentation_and_skips_comments() {
        let src = b"mydestination = one,\n# c\n    two  \n";
        let p = parameter(src);
        assert_eq!(&*p.value(src), b"one,    two");
        assert_eq!(p.value_span(), Span::new(16, 32));
    }

    #[test]
    fn value_may_start_on_a_continuation_line() {
        let src = b"smtpd_helo_restrictions =\n    permit_mynetworks\n";
        let p = parameter(src);
        assert_eq!(&*p.value(src), b"permit_mynetworks");
    }

    #[test]
    fn empty_value_points_after_the_equals_sign() {
        let src = b"relayhost =\n";
        let p = parameter(src);
        assert_eq!(&*p.value(src), b"");
        assert_eq!(p.value_span(), Span::at(11));
    }

    #[test]
    fn missing_equals_is_reported_and_parsing_goes_on() {
        let parsed = parse(b"a = 1\nthis line has no equals\nb = 2\n");
        assert_eq!(parsed.problems.len(), 1);
        assert_eq!(parsed.problems[0].kind, ProblemKind::MissingEquals);
        assert_eq!(parsed.problems[0].span, Span::new(6, 10));
        assert!(matches!(parsed.tree.items[2], Item::Parameter(_)));
    }

    #[test]
    fn nul_byte_hides_the_rest_of_the_line() {
        let src = b"a = b\0c\n";
        let parsed = parse(src);
        let Item::Parameter(p) = &parsed.tree.items[0] else {
            panic!("expected a parameter")
        };
        assert_eq!(&*p.value(src), b"b");
        assert_eq!(parsed.problems[0].kind, ProblemKind::NulByte);
    }
}
