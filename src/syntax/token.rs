//! The leaves of the lossless tree.

use crate::source::Span;

/// What a run of bytes is. Every byte of a file belongs to exactly one token or to one
/// whole-line trivia item ([`Blank`](crate::syntax::Item::Blank) or
/// [`Comment`](crate::syntax::Item::Comment)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// A main.cf parameter name.
    Name,
    /// The `=` between a main.cf name and its value.
    Equals,
    /// Part of a main.cf value. A value continued over several lines has one `Value`
    /// token per line; the continuation line's indentation belongs to it, because Postfix
    /// keeps that whitespace in the value.
    Value,
    /// Part of a master.cf field or argument.
    Word,
    /// Whitespace inside a logical line that separates other tokens.
    Space,
    /// The `\n` that ends a physical line (a CR before it is [`Space`](Self::Space),
    /// as Postfix treats it).
    Newline,
    /// A comment line inside a continued logical line, with its indentation. Postfix
    /// skips it without ending the logical line.
    Comment,
    /// A whitespace-only line inside a continued logical line (without its newline).
    Blank,
    /// Text of a logical line that Postfix rejects or ignores.
    Text,
    /// Bytes after a NUL byte: Postfix handles lines as C strings and never sees them.
    Ignored,
}

/// A run of bytes of one kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    /// What the bytes are.
    pub kind: TokenKind,
    /// Where they are.
    pub span: Span,
}
