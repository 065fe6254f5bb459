//! main.cf: `name = value` logical lines, comments and blank lines.
//!
//! Each logical line (the lines joined as Postfix's `readllines()` joins them) is split
//! the way Postfix's `split_nameval()` does it: the name runs up to whitespace or `=`,
//! whitespace around `=` is skipped, and whitespace at both ends of the value is trimmed.
//! Everything after the first `=` is the value, including further `=` and `#` characters.

use std::borrow::Cow;
use std::ops::Range;
use std::rc::Rc;

use nom::bytes::complete::{tag, take_till1, take_while};
use nom::{IResult, Parser};

use super::document::{self, Document, Entry, Item, LogicalLine, Parsed, Rejected, ignored_tail};
use super::lexical::is_space;
use super::lines::{Layout, LogicalToken};
use super::token::{Token, TokenKind};
use super::value::{Budget, Parse, Value};
use super::{Problem, ProblemKind};
use crate::source::Span;

/// A parsed main.cf file.
pub type MainCf = Document<Parameter>;

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
    /// The value's expression, when it has a `$`, its parameter is not raw, and the
    /// parser kept it (see [`Budget`]).
    parse: Option<Rc<Parse>>,
    /// Its run in [`Document::references`].
    names: Range<u32>,
}

impl Parameter {
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

    /// The names the value reads (relative to the value's text), as the parser found
    /// them; `references` is the tree's [`Document::references`].
    pub fn references<'d>(&self, references: &'d [Range<u32>]) -> &'d [Range<u32>] {
        references
            .get(self.names.start as usize..self.names.end as usize)
            .unwrap_or_default()
    }

    /// The value with the expression the parser read in it.
    pub fn value_with_parse<'a>(&self, src: &'a [u8]) -> Value<'a> {
        Value::with_parse(self.value(src), self.parse.clone())
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
}

impl Entry for Parameter {
    fn span(&self) -> Span {
        self.layout.span()
    }

    /// Name, `=`, value pieces, whitespace, newlines, and the comment or blank lines
    /// inside a continued value.
    fn tokens(&self) -> Vec<Token> {
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

/// Parses main.cf bytes. Never fails: lines Postfix rejects become [`Item::Rejected`] and
/// a [`Problem`], and parsing goes on with the next logical line.
pub fn parse(src: &[u8]) -> Parsed<MainCf> {
    parse_with(src, |_| false)
}

/// [`parse`], where the values of the names `raw` picks are not expressions (Postfix
/// does not expand them), so a `$` in them is not read.
pub fn parse_with(src: &[u8], raw: fn(&[u8]) -> bool) -> Parsed<MainCf> {
    let mut budget = Budget::new();
    let mut parsed = document::parse(src, |line, problems| {
        parameter(line, raw, &mut budget, problems)
    });
    parsed.tree.references = budget.into_names();
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
    let value_len = (rest.len() - rest.iter().rev().take_while(|&&b| is_space(b)).count()) as u32;
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

fn parameter(
    line: LogicalLine<'_>,
    raw: fn(&[u8]) -> bool,
    budget: &mut Budget,
    problems: &mut Vec<Problem>,
) -> Item<Parameter> {
    let LogicalLine { layout, visible } = line;
    if let Ok((_, parts)) = assignment(visible) {
        let name = &visible[parts.name.start as usize..parts.name.end as usize];
        let value = parts.value.clone();
        let read = if raw(name) {
            budget.read(b"")
        } else {
            budget.read(&visible[value.start as usize..value.end as usize])
        };
        if let Some(error) = read.error {
            problems.push(super::expression_problem(
                name,
                layout.source_span(value.start + error.span.start..value.start + error.span.end),
                &error,
            ));
        }
        return Item::Entry(Box::new(Parameter {
            layout,
            name: parts.name,
            equals: parts.equals,
            value,
            visible: visible.len() as u32,
            parse: read.parse,
            names: read.names,
        }));
    }
    let reason = match visible.first() {
        None | Some(b'=') => {
            let at = if visible.is_empty() { 0..0 } else { 0..1 };
            problems.push(Problem::new(
                ProblemKind::MissingName,
                layout.source_span(at),
                "missing parameter name before `=`",
                "no name before this `=`",
            ));
            ProblemKind::MissingName
        }
        Some(_) => {
            let name_len = visible
                .iter()
                .position(|&b| is_space(b) || b == b'=')
                .unwrap_or(visible.len());
            // The line Postfix takes the name from is the one to fix.
            problems.push(Problem::new(
                ProblemKind::MissingEquals,
                layout.source_span(0..name_len as u32),
                format!(
                    "missing `=` after parameter name `{}`",
                    String::from_utf8_lossy(&visible[..name_len])
                ),
                "Postfix reads this as a parameter name, but no `=` follows",
            ));
            ProblemKind::MissingEquals
        }
    };
    Item::Rejected(Box::new(Rejected::new(
        layout,
        reason,
        visible.len() as u32,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parameter(src: &[u8]) -> Parameter {
        match parse(src).tree.items.into_iter().next() {
            Some(Item::Entry(p)) => *p,
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
        assert!(matches!(parsed.tree.items[2], Item::Entry(_)));
    }

    #[test]
    fn the_parser_reads_each_value_with_a_dollar_once_and_reports_malformed_ones() {
        let src = b"a = ${b\nc = $d\nmailbox_command = ${x\n";
        let parsed = parse_with(src, |name| name == b"mailbox_command");
        let kinds: Vec<_> = parsed.problems.iter().map(|p| (p.kind, p.span)).collect();
        assert_eq!(kinds, [(ProblemKind::BadExpression, Span::new(4, 7))]);
        let values: Vec<_> = parsed.tree.entries().map(|p| p.parse.is_some()).collect();
        assert_eq!(values, [true, true, false]);
        let c = parsed.tree.entries().nth(1).unwrap().value_with_parse(src);
        assert!(Rc::ptr_eq(
            &c.parse(),
            parsed
                .tree
                .entries()
                .nth(1)
                .unwrap()
                .parse
                .as_ref()
                .unwrap()
        ));
    }

    #[test]
    fn nul_byte_hides_the_rest_of_the_line() {
        let src = b"a = b\0c\n";
        let parsed = parse(src);
        let Item::Entry(p) = &parsed.tree.items[0] else {
            panic!("expected a parameter")
        };
        assert_eq!(&*p.value(src), b"b");
        assert_eq!(parsed.problems[0].kind, ProblemKind::NulByte);
    }
}
