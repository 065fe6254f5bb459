//! Physical lines and how Postfix joins them into logical lines.
//!
//! This follows `readllines()` in Postfix's `src/util/readlline.c`, which both main.cf and
//! master.cf go through:
//!
//! * a line is the bytes up to `\n` (the last line may lack it); a CR is ordinary whitespace;
//! * a line that is empty, whitespace-only, or whose first non-whitespace byte is `#` is
//!   skipped, and skipping it does **not** end the logical line being read;
//! * a line that starts with whitespace continues the current logical line: the newline is
//!   dropped and the line's leading whitespace is kept;
//! * any other line starts a new logical line;
//! * a logical line whose first line starts with whitespace (possible only at the top of a
//!   file) is reported and ignored.
//!
//! Blank and comment lines that end up *between* the parts of a continued logical line
//! belong to it in the tree; those after its last part are trivia of their own, so that a
//! comment stays attached to the setting below it.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::ops::Range;

use nom::bytes::complete::{tag, take_till};
use nom::combinator::opt;
use nom::{IResult, Parser};

use super::token::{Token, TokenKind};
use crate::source::Span;

/// Postfix's `ISSPACE`: ASCII space, tab, newline, vertical tab, form feed and CR.
pub(crate) fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// How `readllines()` treats a physical line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LineKind {
    /// Empty or whitespace-only: skipped.
    Blank,
    /// First non-whitespace byte is `#`: skipped.
    Comment,
    /// Starts with a byte that is neither whitespace nor `#`: begins a logical line.
    Start,
    /// Starts with whitespace and has other text: continues a logical line.
    Continuation,
}

/// One line of the file.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PhysicalLine {
    /// Offset of the first byte.
    pub start: u32,
    /// Offset of the `\n`, or of the end of the file when the line has none.
    pub content_end: u32,
    /// Offset after the `\n`.
    pub end: u32,
    pub kind: LineKind,
}

impl PhysicalLine {
    pub fn span(&self) -> Span {
        Span {
            start: self.start,
            end: self.end,
        }
    }

    pub fn content(&self) -> Span {
        Span {
            start: self.start,
            end: self.content_end,
        }
    }

    pub fn is_trivia(&self) -> bool {
        matches!(self.kind, LineKind::Blank | LineKind::Comment)
    }
}

/// `line := [^\n]* "\n"?` — the content and the newline (possibly empty).
fn physical_line(input: &[u8]) -> IResult<&[u8], (&[u8], Option<&[u8]>)> {
    (take_till(|b| b == b'\n'), opt(tag(&b"\n"[..]))).parse(input)
}

fn classify(content: &[u8]) -> LineKind {
    match content.iter().position(|&b| !is_space(b)) {
        None => LineKind::Blank,
        Some(i) if content[i] == b'#' => LineKind::Comment,
        Some(0) => LineKind::Start,
        Some(_) => LineKind::Continuation,
    }
}

/// Iterates over the physical lines of a file.
struct PhysicalLines<'a> {
    rest: &'a [u8],
    offset: usize,
}

impl Iterator for PhysicalLines<'_> {
    type Item = PhysicalLine;

    fn next(&mut self) -> Option<PhysicalLine> {
        if self.rest.is_empty() {
            return None;
        }
        // physical_line cannot fail: take_till and opt accept any input.
        let (rest, (content, newline)) = physical_line(self.rest).ok()?;
        let start = self.offset;
        let content_end = start + content.len();
        let end = content_end + newline.map_or(0, <[u8]>::len);
        self.rest = rest;
        self.offset = end;
        Some(PhysicalLine {
            start: start as u32,
            content_end: content_end as u32,
            end: end as u32,
            kind: classify(content),
        })
    }
}

/// A unit of the file at the level of logical lines.
pub(crate) enum Group {
    /// A blank or comment line outside any logical line.
    Trivia(PhysicalLine),
    /// The lines of one logical line: the first content line, then continuation lines and
    /// the skipped lines between them. The first line is a [`LineKind::Continuation`]
    /// only when the logical line illegally starts with whitespace.
    Logical(Vec<PhysicalLine>),
}

/// Iterates over the groups of a file in order; the groups tile the file.
pub(crate) struct Groups<'a> {
    lines: std::iter::Peekable<PhysicalLines<'a>>,
    trailing_trivia: VecDeque<PhysicalLine>,
}

/// Splits `src` into trivia lines and logical lines.
pub(crate) fn groups(src: &[u8]) -> Groups<'_> {
    Groups {
        lines: PhysicalLines {
            rest: src,
            offset: 0,
        }
        .peekable(),
        trailing_trivia: VecDeque::new(),
    }
}

impl Iterator for Groups<'_> {
    type Item = Group;

    fn next(&mut self) -> Option<Group> {
        if let Some(line) = self.trailing_trivia.pop_front() {
            return Some(Group::Trivia(line));
        }
        let first = self.lines.next()?;
        if first.is_trivia() {
            return Some(Group::Trivia(first));
        }
        let mut group = vec![first];
        let mut skipped = Vec::new();
        while let Some(next) = self.lines.peek() {
            match next.kind {
                LineKind::Start => break,
                LineKind::Blank | LineKind::Comment => skipped.extend(self.lines.next()),
                LineKind::Continuation => {
                    group.append(&mut skipped);
                    group.extend(self.lines.next());
                }
            }
        }
        self.trailing_trivia.extend(skipped);
        Some(Group::Logical(group))
    }
}

/// The text of a logical line: its content lines joined without their newlines.
/// Borrowed when the logical line is a single physical line.
pub(crate) fn logical_text<'a>(src: &'a [u8], lines: &[PhysicalLine]) -> Cow<'a, [u8]> {
    let mut content = lines.iter().filter(|l| !l.is_trivia());
    match (content.next(), content.clone().next()) {
        (Some(only), None) => Cow::Borrowed(&src[only.content().range()]),
        (first, _) => Cow::Owned(
            first
                .into_iter()
                .chain(content)
                .flat_map(|l| &src[l.content().range()])
                .copied()
                .collect(),
        ),
    }
}

/// A token in logical-text coordinates, before it is mapped back onto the file.
pub(crate) type LogicalToken = (TokenKind, Range<u32>);

/// Maps tokens that tile a logical line's text back onto the file: each is cut at line
/// boundaries, and newlines and skipped lines are put between the pieces. The result
/// tiles the bytes of `lines`.
pub(crate) fn project(lines: &[PhysicalLine], logical: &[LogicalToken]) -> Vec<Token> {
    let mut tokens = Vec::with_capacity(logical.len() + 2 * lines.len());
    let mut next_logical = logical.iter().peekable();
    let mut line_logical_start = 0u32;
    for line in lines {
        match line.kind {
            LineKind::Blank | LineKind::Comment => {
                if line.content_end > line.start {
                    let kind = if line.kind == LineKind::Comment {
                        TokenKind::Comment
                    } else {
                        TokenKind::Blank
                    };
                    tokens.push(Token {
                        kind,
                        span: line.content(),
                    });
                }
            }
            LineKind::Start | LineKind::Continuation => {
                let line_logical_end = line_logical_start + (line.content_end - line.start);
                while let Some((kind, range)) = next_logical.peek() {
                    let from = range.start.max(line_logical_start);
                    let to = range.end.min(line_logical_end);
                    if from < to {
                        tokens.push(Token {
                            kind: *kind,
                            span: Span {
                                start: line.start + (from - line_logical_start),
                                end: line.start + (to - line_logical_start),
                            },
                        });
                    }
                    if range.end > line_logical_end {
                        break;
                    }
                    next_logical.next();
                }
                line_logical_start = line_logical_end;
            }
        }
        if line.end > line.content_end {
            tokens.push(Token {
                kind: TokenKind::Newline,
                span: Span {
                    start: line.content_end,
                    end: line.end,
                },
            });
        }
    }
    tokens
}

/// The file span of a logical-text range of a node, found through the node's tokens. A
/// range that crosses a line break spans the break; an empty range maps to an empty span.
pub(crate) fn source_span(tokens: &[Token], range: Range<u32>) -> Span {
    let start = source_offset(tokens, range.start, Bias::Start);
    let end = if range.is_empty() {
        start
    } else {
        source_offset(tokens, range.end, Bias::End)
    };
    Span { start, end }
}

/// Which side of a logical offset to map when it falls on a token boundary.
#[derive(Clone, Copy, PartialEq)]
enum Bias {
    /// The position of the byte at the offset.
    Start,
    /// The position just after the byte before the offset.
    End,
}

fn source_offset(tokens: &[Token], at: u32, bias: Bias) -> u32 {
    let mut logical = 0u32;
    let mut last_end = tokens.first().map_or(0, |t| t.span.start);
    for token in tokens.iter().filter(|t| t.kind.is_logical()) {
        let len = token.span.end - token.span.start;
        let inside = match bias {
            Bias::Start => at < logical + len,
            Bias::End => at <= logical + len,
        };
        if inside {
            return token.span.start + (at - logical);
        }
        logical += len;
        last_end = token.span.end;
    }
    last_end
}

/// The bytes of a logical-text range of a node, from the node's tokens.
pub(crate) fn logical_slice<'a>(
    tokens: &[Token],
    src: &'a [u8],
    range: Range<u32>,
) -> Cow<'a, [u8]> {
    let mut logical = 0u32;
    let mut pieces: Vec<&'a [u8]> = Vec::new();
    for token in tokens.iter().filter(|t| t.kind.is_logical()) {
        let len = token.span.end - token.span.start;
        let from = range.start.max(logical);
        let to = range.end.min(logical + len);
        if from < to {
            let start = (token.span.start + (from - logical)) as usize;
            let end = (token.span.start + (to - logical)) as usize;
            pieces.push(&src[start..end]);
        }
        logical += len;
        if logical >= range.end {
            break;
        }
    }
    match pieces.as_slice() {
        [] => Cow::Borrowed(&[]),
        [one] => Cow::Borrowed(one),
        _ => Cow::Owned(pieces.concat()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &[u8]) -> Vec<Vec<LineKind>> {
        groups(src)
            .map(|g| match g {
                Group::Trivia(l) => vec![l.kind],
                Group::Logical(lines) => lines.iter().map(|l| l.kind).collect(),
            })
            .collect()
    }

    use LineKind::*;

    #[test]
    fn comment_between_continuations_stays_inside_the_logical_line() {
        let src = b"a = 1,\n# note\n  2\n# about b\nb = 3";
        assert_eq!(
            kinds(src),
            vec![
                vec![Start, Comment, Continuation],
                vec![Comment],
                vec![Start]
            ]
        );
    }

    #[test]
    fn indented_text_after_a_blank_line_still_continues() {
        assert_eq!(
            kinds(b"a = 1\n\n  b = 2\n"),
            vec![vec![Start, Blank, Continuation]]
        );
    }

    #[test]
    fn leading_whitespace_group_swallows_its_continuations() {
        assert_eq!(
            kinds(b"  x = 1\n\t# c\n  y\nz = 2\n"),
            vec![vec![Continuation, Comment, Continuation], vec![Start]]
        );
    }

    #[test]
    fn logical_text_drops_newlines_and_skipped_lines() {
        let src = b"a = 1,\r\n# c\n  2\n";
        let Some(Group::Logical(lines)) = groups(src).next() else {
            panic!("expected a logical line")
        };
        assert_eq!(&*logical_text(src, &lines), b"a = 1,\r  2");
    }
}
