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

use super::lines::{self, Group, LineKind, LogicalToken, PhysicalLine, is_space};
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
    Parameter(Parameter),
    /// A logical line that Postfix refuses or ignores.
    Rejected(Rejected),
}

impl Item {
    /// The bytes this item covers.
    pub fn span(&self) -> Span {
        match self {
            Item::Blank(span) | Item::Comment(span) => *span,
            Item::Parameter(p) => p.span,
            Item::Rejected(r) => r.span,
        }
    }
}

/// A `name = value` logical line.
#[derive(Clone, Debug)]
pub struct Parameter {
    /// From the first byte of the name to the end of the last continuation line,
    /// including its newline.
    pub span: Span,
    /// The parameter name.
    pub name: Span,
    /// The `=` sign.
    pub equals: Span,
    /// Tokens that tile [`span`](Self::span).
    pub tokens: Vec<Token>,
}

impl Parameter {
    /// The name's bytes.
    pub fn name<'a>(&self, src: &'a [u8]) -> &'a [u8] {
        &src[self.name.range()]
    }

    /// The value as Postfix stores it: the lines joined without newlines (continuation
    /// indentation kept), skipped lines left out, whitespace trimmed at both ends.
    pub fn value<'a>(&self, src: &'a [u8]) -> Cow<'a, [u8]> {
        lines::logical_slice(&self.tokens, src, self.value_range())
    }

    /// Where the value lies in the logical line's text; use with
    /// [`source_span`](Self::source_span).
    pub fn value_range(&self) -> Range<u32> {
        let mut logical = 0u32;
        let mut range: Option<Range<u32>> = None;
        for token in self.tokens.iter().filter(|t| t.kind.is_logical()) {
            let len = token.span.len() as u32;
            if token.kind == TokenKind::Value {
                let start = range.as_ref().map_or(logical, |r| r.start);
                range = Some(start..logical + len);
            }
            logical += len;
        }
        range.unwrap_or_else(|| {
            let after_equals = self.logical_offset_of(self.equals.end);
            after_equals..after_equals
        })
    }

    /// The file span of the whole value, from its first to its last byte (an empty span
    /// after `=` when the value is empty).
    pub fn value_span(&self) -> Span {
        self.source_span(self.value_range())
    }

    /// Maps a range of the logical line's text (for example a sub-range of
    /// [`value_range`](Self::value_range)) to the file.
    pub fn source_span(&self, range: Range<u32>) -> Span {
        lines::source_span(&self.tokens, range)
    }

    fn logical_offset_of(&self, source_offset: u32) -> u32 {
        self.tokens
            .iter()
            .filter(|t| t.kind.is_logical() && t.span.start < source_offset)
            .map(|t| t.span.end.min(source_offset) - t.span.start)
            .sum()
    }
}

/// A logical line that Postfix does not accept as a setting.
#[derive(Clone, Debug)]
pub struct Rejected {
    /// All lines of the logical line.
    pub span: Span,
    /// Why Postfix rejects it.
    pub reason: ProblemKind,
    /// Tokens that tile [`span`](Self::span).
    pub tokens: Vec<Token>,
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
    equals: Range<u32>,
    value: Range<u32>,
}

/// `assignment := name space* "=" space* value` with `name := [^space=]+`; the value is
/// the rest, trimmed of whitespace at its end.
fn assignment(input: &[u8]) -> IResult<&[u8], Assignment> {
    let at = |rest: &[u8]| (input.len() - rest.len()) as u32;
    let (rest, name) = take_till1(|b| is_space(b) || b == b'=')(input)?;
    let (rest, _) = take_while(is_space)(rest)?;
    let equals_at = at(rest);
    let (rest, _) = tag(&b"="[..]).parse(rest)?;
    let (rest, _) = take_while(is_space)(rest)?;
    let value_start = at(rest);
    let value_len = rest.len() - trailing_space(rest);
    Ok((
        &rest[rest.len()..],
        Assignment {
            name: 0..name.len() as u32,
            equals: equals_at..equals_at + 1,
            value: value_start..value_start + value_len as u32,
        },
    ))
}

fn trailing_space(bytes: &[u8]) -> usize {
    bytes.iter().rev().take_while(|&&b| is_space(b)).count()
}

fn logical_line(src: &[u8], lines: &[PhysicalLine], problems: &mut Vec<Problem>) -> Item {
    let span = Span {
        start: lines[0].start,
        end: lines[lines.len() - 1].end,
    };
    let text = lines::logical_text(src, lines);
    // Postfix handles the logical line as a C string: a NUL byte ends it.
    let visible = text.iter().position(|&b| b == 0).unwrap_or(text.len());
    let mut ignored_tail = Vec::new();
    if visible < text.len() {
        ignored_tail.push((TokenKind::Ignored, visible as u32..text.len() as u32));
    }
    let visible_text = &text[..visible];

    if lines[0].kind == LineKind::Continuation {
        let logical = [
            words_and_spaces(visible_text, TokenKind::Text),
            ignored_tail,
        ]
        .concat();
        let tokens = lines::project(lines, &logical);
        let text_span = first_text_span(&tokens);
        problems.push(Problem::new(
            ProblemKind::LeadingWhitespace,
            text_span,
            "line starts with whitespace but there is nothing above it to continue",
            "Postfix ignores this line",
        ));
        report_nul(&tokens, problems);
        return Item::Rejected(Rejected {
            span,
            reason: ProblemKind::LeadingWhitespace,
            tokens,
        });
    }

    match assignment(visible_text) {
        Ok((_, parts)) => {
            let end = visible as u32;
            let logical: Vec<LogicalToken> = [
                (TokenKind::Name, parts.name.clone()),
                (TokenKind::Space, parts.name.end..parts.equals.start),
                (TokenKind::Equals, parts.equals.clone()),
                (TokenKind::Space, parts.equals.end..parts.value.start),
                (TokenKind::Value, parts.value.clone()),
                (TokenKind::Space, parts.value.end..end),
            ]
            .into_iter()
            .filter(|(_, r)| !r.is_empty())
            .chain(ignored_tail)
            .collect();
            let tokens = lines::project(lines, &logical);
            report_nul(&tokens, problems);
            let find = |kind| {
                tokens
                    .iter()
                    .find(|t| t.kind == kind)
                    .map_or(Span::at(span.start as usize), |t| t.span)
            };
            Item::Parameter(Parameter {
                span,
                name: find(TokenKind::Name),
                equals: find(TokenKind::Equals),
                tokens,
            })
        }
        Err(_) => {
            let logical = [
                words_and_spaces(visible_text, TokenKind::Text),
                ignored_tail,
            ]
            .concat();
            let tokens = lines::project(lines, &logical);
            let reason = if visible_text.first() == Some(&b'=') || visible_text.is_empty() {
                report_missing_name(&tokens, problems);
                ProblemKind::MissingName
            } else {
                report_missing_equals(visible_text, &tokens, problems);
                ProblemKind::MissingEquals
            };
            report_nul(&tokens, problems);
            Item::Rejected(Rejected {
                span,
                reason,
                tokens,
            })
        }
    }
}

/// Splits text into alternating `kind` and [`TokenKind::Space`] runs.
fn words_and_spaces(text: &[u8], kind: TokenKind) -> Vec<LogicalToken> {
    let mut tokens: Vec<LogicalToken> = Vec::new();
    for (i, &b) in text.iter().enumerate() {
        let this = if is_space(b) { TokenKind::Space } else { kind };
        let i = i as u32;
        match tokens.last_mut() {
            Some((last, range)) if *last == this => range.end = i + 1,
            _ => tokens.push((this, i..i + 1)),
        }
    }
    tokens
}

fn first_text_span(tokens: &[Token]) -> Span {
    let mut texts = tokens.iter().filter(|t| t.kind == TokenKind::Text);
    match texts.next() {
        Some(first) => {
            // Point at the first physical line's text only, which is what the user sees.
            let line_end = tokens
                .iter()
                .skip_while(|t| t.span.start < first.span.start)
                .take_while(|t| t.kind != TokenKind::Newline)
                .filter(|t| t.kind == TokenKind::Text)
                .last()
                .map_or(first.span.end, |t| t.span.end);
            Span {
                start: first.span.start,
                end: line_end,
            }
        }
        None => tokens
            .first()
            .map_or(Span::default(), |t| Span::at(t.span.start as usize)),
    }
}

fn report_missing_name(tokens: &[Token], problems: &mut Vec<Problem>) {
    let at = tokens
        .iter()
        .find(|t| t.kind == TokenKind::Text)
        .map_or_else(
            || {
                tokens
                    .first()
                    .map_or(Span::default(), |t| Span::at(t.span.start as usize))
            },
            |t| Span::new(t.span.start as usize, t.span.start as usize + 1),
        );
    problems.push(Problem::new(
        ProblemKind::MissingName,
        at,
        "missing parameter name before `=`",
        "no name before this `=`",
    ));
}

fn report_missing_equals(text: &[u8], tokens: &[Token], problems: &mut Vec<Problem>) {
    let name_len = text
        .iter()
        .position(|&b| is_space(b) || b == b'=')
        .unwrap_or(text.len());
    let name = String::from_utf8_lossy(&text[..name_len]);
    // The first Text token is what Postfix takes for the name: that line needs the fix.
    let name_span = tokens
        .iter()
        .find(|t| t.kind == TokenKind::Text)
        .map_or(Span::default(), |t| t.span);
    problems.push(Problem::new(
        ProblemKind::MissingEquals,
        name_span,
        format!("missing `=` after parameter name `{name}`"),
        "Postfix reads this as a parameter name, but no `=` follows",
    ));
}

fn report_nul(tokens: &[Token], problems: &mut Vec<Problem>) {
    if let Some(ignored) = tokens.iter().find(|t| t.kind == TokenKind::Ignored) {
        problems.push(Problem::new(
            ProblemKind::NulByte,
            Span::new(ignored.span.start as usize, ignored.span.start as usize + 1),
            "NUL byte in a logical line",
            "Postfix stops reading the logical line here",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parameter(src: &[u8]) -> Parameter {
        match parse(src).tree.items.into_iter().next() {
            Some(Item::Parameter(p)) => p,
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
