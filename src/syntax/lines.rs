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

use super::lexical::is_space;
use super::token::{Token, TokenKind};
use crate::source::Span;

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

/// A physical line: its content and its newline, if it has one.
type LineParts<'a> = (&'a [u8], Option<&'a [u8]>);

/// `line := [^\n]* "\n"?`
fn physical_line(input: &[u8]) -> IResult<&[u8], LineParts<'_>> {
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

/// Where the text of one logical line lies in the file.
///
/// Postfix joins the content lines of a logical line without their newlines and skips the
/// comment and blank lines between them. A layout records the whole span and what lies
/// inside it that is *not* logical text ("breaks": newlines, skipped lines), so that
/// positions in the logical text map back to the file, and the node's tokens can be
/// rebuilt without storing them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Layout {
    /// All lines, up to and including the last newline.
    span: Span,
    /// Newlines between the physical lines and the comment or blank lines inside, in
    /// order. None for a logical line on one physical line, as most are: a pointer
    /// then, where a large file has hundreds of thousands of lines.
    breaks: Option<Box<[Break]>>,
    /// Whether the last physical line ends in `\n` (the file's last line may not).
    final_newline: bool,
}

/// A stretch of the file inside a logical line that is not logical text, and how much
/// logical text comes before it. The offsets let a position be found by binary search:
/// one service can have a hundred thousand `-o` lines, and walking them from the start
/// for every token made reading it quadratic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Break {
    token: Token,
    logical: u32,
}

impl Layout {
    /// The layout of a group of lines from [`groups`].
    pub fn new(lines: &[PhysicalLine]) -> Layout {
        let (first, last) = (lines[0], lines[lines.len() - 1]);
        let mut breaks = Vec::new();
        let mut skipped = 0u32;
        let mut push = |kind, span: Span| {
            breaks.push(Break {
                token: Token { kind, span },
                logical: span.start - first.start - skipped,
            });
            skipped += span.end - span.start;
        };
        for line in lines {
            if line.is_trivia() && line.content_end > line.start {
                let kind = if line.kind == LineKind::Comment {
                    TokenKind::Comment
                } else {
                    TokenKind::Blank
                };
                push(kind, line.content());
            }
            if line.start != last.start && line.end > line.content_end {
                let newline = Span {
                    start: line.content_end,
                    end: line.end,
                };
                push(TokenKind::Newline, newline);
            }
        }
        Layout {
            span: Span {
                start: first.start,
                end: last.end,
            },
            breaks: (!breaks.is_empty()).then(|| breaks.into_boxed_slice()),
            final_newline: last.end > last.content_end,
        }
    }

    fn breaks(&self) -> &[Break] {
        self.breaks.as_deref().unwrap_or_default()
    }

    /// The whole logical line in the file, up to and including its last newline.
    pub fn span(&self) -> Span {
        self.span
    }

    fn text_end(&self) -> u32 {
        self.span.end - u32::from(self.final_newline)
    }

    /// Segment `k` (of one more than there are breaks; some may be empty): its place
    /// in the file and the logical offset it starts at.
    fn segment(&self, k: usize) -> (Span, u32) {
        let breaks = self.breaks();
        let (start, logical) = match k.checked_sub(1).and_then(|k| breaks.get(k)) {
            Some(before) => (before.token.span.end, before.logical),
            None => (self.span.start, 0),
        };
        let end = breaks
            .get(k)
            .map_or(self.text_end(), |b| b.token.span.start);
        (Span { start, end }, logical)
    }

    /// The first non-empty segment that holds logical offset `at` (with `bias` saying
    /// which one when `at` falls between two), or the last one when `at` is past the end.
    fn segment_at(&self, at: u32, bias: Bias) -> usize {
        self.breaks().partition_point(|b| match bias {
            Bias::Start => b.logical <= at,
            Bias::End => b.logical < at,
        })
    }

    /// The pieces of the file whose concatenation is the logical text.
    pub fn segments(&self) -> impl Iterator<Item = Span> + '_ {
        (0..=self.breaks().len())
            .map(|k| self.segment(k).0)
            .filter(|segment| !segment.is_empty())
    }

    /// The logical text: borrowed when the logical line is one physical line.
    pub fn text<'a>(&self, src: &'a [u8]) -> Cow<'a, [u8]> {
        if self.breaks().is_empty() {
            return Cow::Borrowed(&src[self.span.start as usize..self.text_end() as usize]);
        }
        Cow::Owned(
            self.segments()
                .flat_map(|s| &src[s.range()])
                .copied()
                .collect(),
        )
    }

    /// The bytes of a range of the logical text.
    pub fn slice<'a>(&self, src: &'a [u8], range: Range<u32>) -> Cow<'a, [u8]> {
        let mut pieces: Vec<&'a [u8]> = Vec::new();
        let first = self.segment_at(range.start, Bias::Start);
        for k in first..=self.breaks().len() {
            let (segment, logical) = self.segment(k);
            if logical >= range.end {
                break;
            }
            let len = segment.end - segment.start;
            let from = range.start.max(logical);
            let to = range.end.min(logical + len);
            if from < to {
                let start = segment.start + (from - logical);
                pieces.push(&src[start as usize..(start + (to - from)) as usize]);
            }
        }
        match pieces.as_slice() {
            [] => Cow::Borrowed(&[]),
            [one] => Cow::Borrowed(one),
            _ => Cow::Owned(pieces.concat()),
        }
    }

    /// The file span of a range of the logical text. A range that crosses a line break
    /// spans the break; an empty range maps to an empty span.
    pub fn source_span(&self, range: Range<u32>) -> Span {
        let start = self.source_offset(range.start, Bias::Start);
        let end = if range.is_empty() {
            start
        } else {
            self.source_offset(range.end, Bias::End)
        };
        Span { start, end }
    }

    fn source_offset(&self, at: u32, bias: Bias) -> u32 {
        let (segment, logical) = self.segment(self.segment_at(at, bias));
        segment.start + at.saturating_sub(logical).min(segment.end - segment.start)
    }

    /// Tokens that tile the span: `logical` (which must tile the logical text) cut at
    /// line boundaries, with the breaks and the final newline between them.
    pub fn tokens(&self, logical: &[LogicalToken]) -> Vec<Token> {
        let mut tokens = Vec::with_capacity(logical.len() + self.breaks().len() + 1);
        let mut next_logical = logical.iter().peekable();
        let mut breaks = self.breaks().iter().map(|b| b.token).peekable();
        let mut segment_logical_start = 0u32;
        for segment in self.segments() {
            while let Some(b) = breaks.next_if(|b| b.span.start < segment.start) {
                tokens.push(b);
            }
            let segment_logical_end = segment_logical_start + (segment.end - segment.start);
            while let Some((kind, range)) = next_logical.peek() {
                let from = range.start.max(segment_logical_start);
                let to = range.end.min(segment_logical_end);
                if from < to {
                    tokens.push(Token {
                        kind: *kind,
                        span: Span {
                            start: segment.start + (from - segment_logical_start),
                            end: segment.start + (to - segment_logical_start),
                        },
                    });
                }
                if range.end > segment_logical_end {
                    break;
                }
                next_logical.next();
            }
            segment_logical_start = segment_logical_end;
        }
        tokens.extend(breaks);
        if self.final_newline {
            tokens.push(Token {
                kind: TokenKind::Newline,
                span: Span {
                    start: self.span.end - 1,
                    end: self.span.end,
                },
            });
        }
        tokens
    }
}

/// Which side of a logical offset to map when it falls on a segment boundary.
#[derive(Clone, Copy, PartialEq)]
enum Bias {
    /// The position of the byte at the offset.
    Start,
    /// The position just after the byte before the offset.
    End,
}

/// A token in logical-text coordinates, before it is mapped onto the file.
pub(crate) type LogicalToken = (TokenKind, Range<u32>);

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
        let layout = first_layout(src);
        assert_eq!(&*layout.text(src), b"a = 1,\r  2");
        assert_eq!(layout.source_span(4..10), Span::new(4, 15));
    }

    /// The layout of the first group of `src`, which must be a logical line.
    fn first_layout(src: &[u8]) -> Layout {
        let Some(Group::Logical(lines)) = groups(src).next() else {
            panic!("expected a logical line")
        };
        Layout::new(&lines)
    }

    /// The file offset of every logical byte, found by walking the segments.
    fn walked_offsets(layout: &Layout) -> Vec<u32> {
        layout.segments().flat_map(|s| s.start..s.end).collect()
    }

    #[test]
    fn positions_found_by_search_equal_those_found_by_walking() {
        let src = b"a = 1,\r\n# c\n\n  2\n  \n  # d\n\t3,\n  4";
        let layout = first_layout(src);
        let offsets = walked_offsets(&layout);
        let text = layout.text(src);
        assert_eq!(text.len(), offsets.len());
        for from in 0..=offsets.len() as u32 {
            for to in from..=offsets.len() as u32 + 1 {
                let span = layout.source_span(from..to);
                let expected_start = offsets.get(from as usize).map_or(src.len() as u32, |&o| o);
                assert_eq!(span.start, expected_start, "start of {from}..{to}");
                if to > from {
                    let last = offsets[(to as usize).min(offsets.len()) - 1];
                    assert_eq!(span.end, last + 1, "end of {from}..{to}");
                }
                let end = (to as usize).min(text.len());
                let start = (from as usize).min(end);
                assert_eq!(&*layout.slice(src, from..to), &text[start..end]);
            }
        }
    }
}
