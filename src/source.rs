//! Source files, byte spans, and 1-based line/column positions.
//!
//! Postfix reads its files as bytes: they may hold Latin-1 text, invalid UTF-8 or CR LF line
//! ends. Everything in pflint therefore works on `&[u8]`; text is only decoded for display.

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// A half-open byte range `start..end` into one source file.
///
/// Offsets are `u32`: a Postfix configuration file larger than 4 GiB is refused when the
/// [`SourceFile`] is made, so no span can overflow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    /// First byte of the range.
    pub start: u32,
    /// One past the last byte of the range.
    pub end: u32,
}

impl Span {
    /// A span from two byte offsets; `start` must not exceed `end`.
    pub fn new(start: usize, end: usize) -> Span {
        debug_assert!(start <= end, "span start {start} after end {end}");
        Span {
            start: to_u32(start),
            end: to_u32(end),
        }
    }

    /// An empty span at `offset`, used to point at a position rather than at text.
    pub fn at(offset: usize) -> Span {
        Span::new(offset, offset)
    }

    /// Number of bytes covered.
    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    /// True when the span covers no byte.
    pub fn is_empty(self) -> bool {
        self.start == self.end
    }

    /// The span as a `usize` range, for slicing.
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    /// The smallest span that covers both `self` and `other`.
    pub fn cover(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(span: Span) -> Self {
        miette::SourceSpan::new((span.start as usize).into(), span.len())
    }
}

fn to_u32(offset: usize) -> u32 {
    // SourceFile::new refuses inputs whose offsets do not fit, so this cannot truncate.
    u32::try_from(offset).unwrap_or(u32::MAX)
}

/// A 1-based line and column. Columns count characters: a valid UTF-8 sequence is one
/// column, and so is each byte that is not valid UTF-8.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    /// 1-based line number.
    pub line: u32,
    /// 1-based column number.
    pub column: u32,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// The input was larger than the 4 GiB a [`Span`] can address.
#[derive(Debug)]
pub struct TooLarge {
    /// Size of the refused input in bytes.
    pub len: usize,
}

impl fmt::Display for TooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "file is too large ({} bytes; the limit is 4 GiB)",
            self.len
        )
    }
}

impl std::error::Error for TooLarge {}

/// Where a window of lines starts: its byte offset and its 0-based line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowStart {
    /// The offset of the window's first byte (the start of a line).
    pub offset: usize,
    /// That line's 0-based number.
    pub line: usize,
}

/// One configuration file: its name as the user gave it and its bytes.
pub struct SourceFile {
    name: PathBuf,
    text: Vec<u8>,
    line_starts: OnceLock<Vec<u32>>,
    columns: OnceLock<Vec<ColumnMark>>,
    display: OnceLock<String>,
}

/// A point on a long line where the column is known: counting from it, a position on
/// the line costs at most [`COLUMN_STEP`] bytes of counting, not the whole line before
/// it (a one-line list of 100 000 `$name` has a finding for each).
#[derive(Clone, Copy, Debug)]
struct ColumnMark {
    /// A byte offset that starts a character (or is an undecodable byte).
    offset: u32,
    /// The characters on its line before it.
    chars: u32,
}

/// The spacing of [`ColumnMark`]s on a line, in bytes (a mark costs eight).
const COLUMN_STEP: usize = 1024;

impl SourceFile {
    /// Wraps `text` read from `name`. Fails only for inputs of 4 GiB or more.
    pub fn new(name: impl Into<PathBuf>, text: Vec<u8>) -> Result<SourceFile, TooLarge> {
        if u32::try_from(text.len()).is_err() {
            return Err(TooLarge { len: text.len() });
        }
        Ok(SourceFile {
            name: name.into(),
            text,
            line_starts: OnceLock::new(),
            columns: OnceLock::new(),
            display: OnceLock::new(),
        })
    }

    /// The bytes, given back (a generated file is read as a result, then written).
    pub fn into_bytes(self) -> Vec<u8> {
        self.text
    }

    /// The path as given by the user (not canonicalised), used in every report.
    pub fn name(&self) -> &Path {
        &self.name
    }

    /// The file's bytes, exactly as read.
    pub fn bytes(&self) -> &[u8] {
        &self.text
    }

    /// The bytes under `span`.
    pub fn slice(&self, span: Span) -> &[u8] {
        &self.text[span.range()]
    }

    /// The 1-based line and column of a byte offset (an offset at the end of the file is
    /// valid and names the position after the last character).
    pub fn position(&self, offset: u32) -> Position {
        let starts = self.line_starts();
        let offset = offset.min(to_u32(self.text.len()));
        let line_index = match starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let line_start = starts[line_index] as usize;
        let line_end = starts
            .get(line_index + 1)
            .map_or(self.text.len(), |&s| s as usize);
        let (from, before) = if line_end - line_start > COLUMN_STEP {
            let marks = self.column_marks();
            let at = marks.partition_point(|m| m.offset <= offset);
            marks[..at]
                .last()
                .filter(|m| m.offset as usize >= line_start)
                .map_or((line_start, 0), |m| (m.offset as usize, m.chars as usize))
        } else {
            (line_start, 0)
        };
        let column = before + count_chars(&self.text[from..offset as usize]) + 1;
        Position {
            line: to_u32(line_index + 1),
            column: to_u32(column),
        }
    }

    /// The text to show in a rendered report. Byte offsets are the same as in
    /// [`bytes`](Self::bytes): each byte of an invalid UTF-8 sequence and each control
    /// character other than tab, CR and LF is shown as `?`, as Postfix does in its own logs.
    pub fn display_text(&self) -> &str {
        self.display
            .get_or_init(|| sanitize_for_display(&self.text).into_owned())
    }

    /// The bytes to read a snippet from: from the start of the line `before` lines above
    /// the one holding `start` (and one more, for miette's own counting) to the end of the
    /// line `after` lines below the one holding `end`, and the 0-based line the window
    /// starts on.
    pub fn line_window(
        &self,
        start: usize,
        end: usize,
        before: usize,
        after: usize,
    ) -> (WindowStart, usize) {
        let starts = self.line_starts();
        let line_of = |offset: usize| match starts.binary_search(&to_u32(offset)) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let first = line_of(start).saturating_sub(before + 1);
        let last = line_of(end.saturating_sub(1).max(start)) + after + 2;
        let to = starts
            .get(last)
            .map_or(self.text.len(), |&s| s as usize)
            .min(self.text.len());
        (
            WindowStart {
                offset: starts[first] as usize,
                line: first,
            },
            to,
        )
    }

    /// The start of the line holding `offset` and its end (before its newline).
    pub fn line_bounds(&self, offset: usize) -> (usize, usize) {
        let starts = self.line_starts();
        let i = match starts.binary_search(&to_u32(offset)) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = starts[i] as usize;
        let end = starts
            .get(i + 1)
            .map_or(self.text.len(), |&next| next as usize - 1);
        (start, end.max(start))
    }

    /// The length of the longest line (newline excluded) that has a byte in `from..to`.
    pub fn longest_line(&self, from: usize, to: usize) -> usize {
        let starts = self.line_starts();
        let first = starts
            .partition_point(|&s| s as usize <= from)
            .saturating_sub(1);
        let last = starts.partition_point(|&s| (s as usize) < to.max(from + 1));
        (first..last.max(first + 1))
            .map(|i| {
                let start = starts[i] as usize;
                let end = starts
                    .get(i + 1)
                    .map_or(self.text.len(), |&n| n as usize - 1);
                end.saturating_sub(start)
            })
            .max()
            .unwrap_or(0)
    }

    /// The column marks of every line longer than [`COLUMN_STEP`], in file order.
    fn column_marks(&self) -> &[ColumnMark] {
        self.columns.get_or_init(|| {
            let starts = self.line_starts();
            let mut marks = Vec::new();
            for (i, &start) in starts.iter().enumerate() {
                let start = start as usize;
                let end = starts.get(i + 1).map_or(self.text.len(), |&s| s as usize);
                if end - start > COLUMN_STEP {
                    mark_line(&self.text[start..end], start, &mut marks);
                }
            }
            marks
        })
    }

    fn line_starts(&self) -> &[u32] {
        self.line_starts.get_or_init(|| {
            let mut starts = vec![0];
            starts.extend(
                self.text
                    .iter()
                    .enumerate()
                    .filter(|&(_, &b)| b == b'\n')
                    .map(|(i, _)| to_u32(i + 1)),
            );
            starts
        })
    }
}

impl fmt::Debug for SourceFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SourceFile")
            .field("name", &self.name)
            .field("len", &self.text.len())
            .finish()
    }
}

/// Adds marks every [`COLUMN_STEP`] bytes or so of `line` (which starts at `base`), each
/// at a point where [`count_chars`] may stop and start again: before a character or an
/// undecodable byte, never inside a character.
fn mark_line(line: &[u8], base: usize, marks: &mut Vec<ColumnMark>) {
    let mut chars = 0u32;
    let mut at = 0;
    let mut next = COLUMN_STEP;
    let mut boundary = |at: usize, chars: u32, next: &mut usize| {
        if at >= *next {
            marks.push(ColumnMark {
                offset: to_u32(base + at),
                chars,
            });
            *next = at + COLUMN_STEP;
        }
    };
    for chunk in line.utf8_chunks() {
        for (i, _) in chunk.valid().char_indices() {
            boundary(at + i, chars, &mut next);
            chars += 1;
        }
        at += chunk.valid().len();
        for _ in chunk.invalid() {
            boundary(at, chars, &mut next);
            chars += 1;
            at += 1;
        }
    }
}

/// Counts columns the way [`Position`] defines them.
fn count_chars(bytes: &[u8]) -> usize {
    // Most configuration text is ASCII, which is checked far faster than decoded.
    if bytes.is_ascii() {
        return bytes.len();
    }
    bytes
        .utf8_chunks()
        .map(|chunk| chunk.valid().chars().count() + chunk.invalid().len())
        .sum()
}

/// Replaces undisplayable bytes with `?` one for one, so offsets stay valid.
pub fn sanitize_for_display(bytes: &[u8]) -> Cow<'_, str> {
    let is_clean = |s: &str| !s.chars().any(is_hidden_control);
    if let Ok(text) = std::str::from_utf8(bytes)
        && is_clean(text)
    {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.extend(
            chunk
                .valid()
                .chars()
                .map(|c| if is_hidden_control(c) { '?' } else { c }),
        );
        out.extend(std::iter::repeat_n('?', chunk.invalid().len()));
    }
    Cow::Owned(out)
}

fn is_hidden_control(c: char) -> bool {
    c.is_ascii_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// Which grammar a file is read with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// main.cf: `name = value` settings.
    Main,
    /// master.cf: service entries.
    Master,
}

impl FileKind {
    /// The grammar for a file name: `master.cf` is read as master.cf, anything else as
    /// main.cf (a snippet or a file under another name usually holds settings).
    pub fn for_path(path: &std::path::Path) -> FileKind {
        if path.file_name().is_some_and(|n| n == "master.cf") {
            FileKind::Master
        } else {
            FileKind::Main
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &[u8]) -> SourceFile {
        SourceFile::new("main.cf", text.to_vec()).unwrap()
    }

    #[test]
    fn columns_on_long_lines_are_counted_from_marks_exactly_as_from_the_line_start() {
        // Mixed widths, stray continuation bytes, truncated sequences and bytes that
        // are never UTF-8, repeated past several marks, on the second of three lines.
        let piece: &[u8] = "aé€😀 ".as_bytes();
        let odd: &[&[u8]] = &[b"\x80", b"\xe2\x82A", b"\xff", b"\xf0\x9f\x98", b"\xc3"];
        let mut text = b"first\n".to_vec();
        for i in 0..1200 {
            text.extend_from_slice(piece);
            text.extend_from_slice(odd[i % odd.len()]);
        }
        text.extend_from_slice(b"\nlast");
        let source = file(&text);
        let second = 6;
        let third = text.len() - 4;
        assert!(third - second > 3 * COLUMN_STEP);
        for offset in 0..=text.len() {
            let (line, start) = match offset {
                o if o < second => (1, 0),
                o if o < third => (2, second),
                _ => (3, third),
            };
            let expected = Position {
                line,
                column: to_u32(count_chars(&text[start..offset]) + 1),
            };
            assert_eq!(source.position(to_u32(offset)), expected, "at {offset}");
        }
    }

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let f = file("a = b\ncafé = x\n".as_bytes());
        assert_eq!(f.position(0), Position { line: 1, column: 1 });
        assert_eq!(f.position(6), Position { line: 2, column: 1 });
        // "café" is 5 bytes but 4 characters, so the space after it is column 5.
        assert_eq!(f.position(11), Position { line: 2, column: 5 });
        assert_eq!(f.position(16), Position { line: 3, column: 1 });
    }

    #[test]
    fn invalid_bytes_count_one_column_each_and_display_as_question_marks() {
        let f = file(b"a\xff\xfeb = \x01\n");
        assert_eq!(f.position(3), Position { line: 1, column: 4 });
        assert_eq!(f.display_text(), "a??b = ?\n");
        assert_eq!(f.display_text().len(), f.bytes().len());
    }

    #[test]
    fn span_cover_joins_ranges() {
        assert_eq!(Span::new(3, 5).cover(Span::new(1, 4)), Span::new(1, 5));
    }
}
