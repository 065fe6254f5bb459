//! What main.cf and master.cf have in common: a file is a sequence of whole-line trivia
//! and logical lines, each logical line an entry (a setting or a service) or a line
//! Postfix rejects.

use std::ops::Range;

use super::lexical::is_space;
use super::lines::{self, Group, Layout, LineKind, LogicalToken, PhysicalLine};
use super::token::{Token, TokenKind};
use super::{Problem, ProblemKind};
use crate::source::Span;

/// An entry of a file: a main.cf setting or a master.cf service.
pub trait Entry {
    /// All lines of the entry, including the last newline.
    fn span(&self) -> Span;
    /// Tokens that tile [`span`](Self::span).
    fn tokens(&self) -> Vec<Token>;
}

/// A parsed file. Its items tile the file: printing them in order gives back the input
/// byte for byte.
#[derive(Clone, Debug)]
pub struct Document<E> {
    /// The file's items in order.
    pub items: Vec<Item<E>>,
    /// The names each value reads (as its parser found them, relative to the value's
    /// text), one run per value: an entry holds the indices of its run.
    pub references: Vec<Range<u32>>,
}

impl<E> Default for Document<E> {
    fn default() -> Self {
        Document {
            items: Vec::new(),
            references: Vec::new(),
        }
    }
}

/// One top-level unit of a file.
#[derive(Clone, Debug)]
pub enum Item<E> {
    /// A whitespace-only line, with its newline.
    Blank(Span),
    /// A comment line (first non-whitespace byte is `#`), with its newline.
    Comment(Span),
    /// A setting or service, with its continuation lines.
    Entry(Box<E>),
    /// A logical line that Postfix refuses or ignores.
    Rejected(Box<Rejected>),
}

impl<E: Entry> Item<E> {
    /// The bytes this item covers.
    pub fn span(&self) -> Span {
        match self {
            Item::Blank(span) | Item::Comment(span) => *span,
            Item::Entry(e) => e.span(),
            Item::Rejected(r) => r.span(),
        }
    }
}

impl<E: Entry> Document<E> {
    /// The entries, in file order.
    pub fn entries(&self) -> impl Iterator<Item = &E> {
        self.items.iter().filter_map(|item| match item {
            Item::Entry(e) => Some(&**e),
            _ => None,
        })
    }

    /// Every leaf in file order; together they cover each byte exactly once. Whole-line
    /// trivia items are split into their text and their newline.
    pub fn leaves(&self, src: &[u8]) -> Vec<Token> {
        let mut leaves = Vec::new();
        for item in &self.items {
            match item {
                Item::Blank(span) => push_line(&mut leaves, src, TokenKind::Blank, *span),
                Item::Comment(span) => push_line(&mut leaves, src, TokenKind::Comment, *span),
                Item::Entry(e) => leaves.extend(e.tokens()),
                Item::Rejected(r) => leaves.extend(r.tokens(src)),
            }
        }
        leaves
    }
}

/// Splits a whole-line trivia item into its text and its newline.
fn push_line(leaves: &mut Vec<Token>, src: &[u8], kind: TokenKind, span: Span) {
    let newline = src[span.range()].ends_with(b"\n");
    let text_end = span.end - u32::from(newline);
    if text_end > span.start {
        leaves.push(Token {
            kind,
            span: Span {
                start: span.start,
                end: text_end,
            },
        });
    }
    if newline {
        leaves.push(Token {
            kind: TokenKind::Newline,
            span: Span {
                start: text_end,
                end: span.end,
            },
        });
    }
}

/// The result of parsing: the tree, and the problems found on the way.
#[derive(Clone, Debug, Default)]
pub struct Parsed<T> {
    /// The lossless tree; it is complete even when there are problems.
    pub tree: T,
    /// Lines Postfix would refuse, ignore or misread, in file order.
    pub problems: Vec<Problem>,
}

/// The logical line of an entry, as its parser receives it.
pub(crate) struct LogicalLine<'a> {
    /// Where its text lies in the file.
    pub layout: Layout,
    /// The text up to a NUL byte, if there is one (Postfix reads C strings).
    pub visible: &'a [u8],
}

/// Splits `src` into items; `entry` turns each logical line that does not start with
/// whitespace into an item.
pub(crate) fn parse<E>(
    src: &[u8],
    mut entry: impl FnMut(LogicalLine<'_>, &mut Vec<Problem>) -> Item<E>,
) -> Parsed<Document<E>> {
    let mut parsed: Parsed<Document<E>> = Parsed::default();
    for group in lines::groups(src) {
        let item = match group {
            Group::Trivia(line) if line.kind == LineKind::Comment => Item::Comment(line.span()),
            Group::Trivia(line) => Item::Blank(line.span()),
            Group::Logical(lines) => logical_line(src, &lines, &mut parsed.problems, &mut entry),
        };
        parsed.tree.items.push(item);
    }
    // The tree lives as long as the run; growth by doubling would leave it up to half empty.
    parsed.tree.items.shrink_to_fit();
    parsed.tree.references.shrink_to_fit();
    parsed
}

fn logical_line<E>(
    src: &[u8],
    lines: &[PhysicalLine],
    problems: &mut Vec<Problem>,
    entry: &mut impl FnMut(LogicalLine<'_>, &mut Vec<Problem>) -> Item<E>,
) -> Item<E> {
    let layout = Layout::new(lines);
    let text = layout.text(src);
    let visible = text.iter().position(|&b| b == 0).unwrap_or(text.len());
    if visible < text.len() {
        problems.push(Problem::new(
            ProblemKind::NulByte,
            layout.source_span(visible as u32..visible as u32 + 1),
            "NUL byte in a logical line",
            "Postfix stops reading the logical line here",
        ));
    }
    if lines[0].kind == LineKind::Continuation {
        problems.push(leading_whitespace(&layout, &text[..visible]));
        return Item::Rejected(Box::new(Rejected::new(
            layout,
            ProblemKind::LeadingWhitespace,
            visible as u32,
        )));
    }
    entry(
        LogicalLine {
            layout,
            visible: &text[..visible],
        },
        problems,
    )
}

/// A logical line that starts with whitespace where there is nothing to continue (the
/// top of a file): Postfix warns and ignores it. The problem points at the text of its
/// first line.
fn leading_whitespace(layout: &Layout, text: &[u8]) -> Problem {
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

/// A logical line that Postfix does not accept as an entry.
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

    /// Tokens that tile [`span`](Self::span): text and whitespace runs, newlines and
    /// skipped lines.
    pub fn tokens(&self, src: &[u8]) -> Vec<Token> {
        let text = self.layout.text(src);
        let mut logical: Vec<LogicalToken> = Vec::new();
        for (i, &b) in text[..self.visible as usize].iter().enumerate() {
            let kind = if is_space(b) {
                TokenKind::Space
            } else {
                TokenKind::Text
            };
            let i = i as u32;
            match logical.last_mut() {
                Some((last, range)) if *last == kind => range.end = i + 1,
                _ => logical.push((kind, i..i + 1)),
            }
        }
        logical.extend(ignored_tail(&self.layout, self.visible));
        self.layout.tokens(&logical)
    }
}

/// The logical text after a NUL byte, which Postfix never sees.
pub(crate) fn ignored_tail(layout: &Layout, visible: u32) -> Option<LogicalToken> {
    let len: u32 = layout.segments().map(|s| s.end - s.start).sum();
    (visible < len).then_some((TokenKind::Ignored, visible..len))
}
