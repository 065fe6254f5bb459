//! Bytes to a lossless tree: main.cf and master.cf parsers, and the value expression and
//! list grammars.
//!
//! Every byte of a file belongs to exactly one leaf of its tree ([`Tree::leaves`]), so
//! printing the tree gives back the input byte for byte. Leaves and nodes carry byte
//! [`Span`]s that [`SourceFile::position`](crate::source::SourceFile::position) turns into
//! 1-based lines and columns.
//!
//! The parsers never fail and never panic: lines Postfix would refuse become
//! [`Problem`]s, and parsing goes on with the next logical line.

pub mod document;
pub mod dump;
pub mod expr;
pub mod lexical;
mod lines;
pub mod list;
pub mod main_cf;
pub mod master_cf;
mod token;
pub mod value;

pub use document::{Document, Entry, Item, Parsed, Rejected};
pub use main_cf::{MainCf, Parameter};
pub use master_cf::{MasterCf, Service};
pub use token::{Token, TokenKind};
pub use value::Value;

pub use crate::source::FileKind;

use crate::code::Code;
use crate::source::Span;

/// What kind of problem the parser found. Each kind has a stable rule code and a rule
/// file under `rules/syntax/` that explains it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProblemKind {
    /// A main.cf logical line without `=` (Postfix: fatal).
    MissingEquals,
    /// A main.cf logical line that starts with `=` (Postfix: fatal).
    MissingName,
    /// A logical line that starts with whitespace at the top of a file (Postfix: ignored).
    LeadingWhitespace,
    /// A NUL byte, after which Postfix ignores the rest of the logical line.
    NulByte,
    /// A malformed `$` expression in a value.
    BadExpression,
    /// A master.cf entry with fewer than eight fields (Postfix: fatal).
    FieldCount,
    /// A master.cf entry with an unknown service type (Postfix: fatal).
    ServiceType,
    /// A master.cf field with an invalid value (Postfix: fatal).
    FieldValue,
    /// An inet service marked private (the master daemon: fatal).
    PrivateInet,
    /// An unclosed `{` or text after `}` in a master.cf argument.
    UnbalancedBrace,
    /// A `-o` option without `name=value` (the daemon: fatal at start).
    BadOverride,
    /// Options that postconf and the daemon read differently.
    OptionReading,
}

impl ProblemKind {
    /// Every kind, for completeness tests.
    pub const ALL: [ProblemKind; 12] = [
        ProblemKind::MissingEquals,
        ProblemKind::MissingName,
        ProblemKind::LeadingWhitespace,
        ProblemKind::NulByte,
        ProblemKind::BadExpression,
        ProblemKind::FieldCount,
        ProblemKind::ServiceType,
        ProblemKind::FieldValue,
        ProblemKind::PrivateInet,
        ProblemKind::UnbalancedBrace,
        ProblemKind::BadOverride,
        ProblemKind::OptionReading,
    ];

    /// Whether the problem lies inside one value (a malformed `$` reference): every line
    /// still reads as Postfix reads it, so edits to the file stay where they belong.
    pub fn inside_a_value(self) -> bool {
        self == ProblemKind::BadExpression
    }

    /// The stable rule code.
    pub fn code(self) -> Code {
        match self {
            ProblemKind::MissingEquals => Code::PF001,
            ProblemKind::MissingName => Code::PF002,
            ProblemKind::LeadingWhitespace => Code::PF003,
            ProblemKind::NulByte => Code::PF004,
            ProblemKind::BadExpression => Code::PF005,
            ProblemKind::FieldCount => Code::PF010,
            ProblemKind::ServiceType => Code::PF011,
            ProblemKind::FieldValue => Code::PF012,
            ProblemKind::PrivateInet => Code::PF013,
            ProblemKind::UnbalancedBrace => Code::PF014,
            ProblemKind::BadOverride => Code::PF015,
            ProblemKind::OptionReading => Code::PF016,
        }
    }
}

/// Something in the file that Postfix would refuse, ignore or misread.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// What kind of problem it is.
    pub kind: ProblemKind,
    /// Where it is.
    pub span: Span,
    /// What is wrong, about this occurrence.
    pub message: String,
    /// A short note shown at the span.
    pub label: String,
}

/// A malformed `$` expression in the value of `name`, at `span` in the file.
fn expression_problem(name: &[u8], span: Span, error: &expr::ExprError) -> Problem {
    Problem::new(
        ProblemKind::BadExpression,
        span,
        format!(
            "malformed `$` expression in the value of `{}`",
            String::from_utf8_lossy(name)
        ),
        error.message.clone(),
    )
}

impl Problem {
    /// A problem of `kind` at `span`.
    pub fn new(
        kind: ProblemKind,
        span: Span,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> Problem {
        Problem {
            kind,
            span,
            message: message.into(),
            label: label.into(),
        }
    }
}

/// A parsed file of either kind.
#[derive(Clone, Debug)]
pub enum Tree {
    /// A main.cf tree.
    Main(MainCf),
    /// A master.cf tree.
    Master(MasterCf),
}

/// Parses `src` with the grammar for `kind`.
pub fn parse(kind: FileKind, src: &[u8]) -> (Tree, Vec<Problem>) {
    match kind {
        FileKind::Main => {
            let parsed = main_cf::parse(src);
            (Tree::Main(parsed.tree), parsed.problems)
        }
        FileKind::Master => {
            let parsed = master_cf::parse(src);
            (Tree::Master(parsed.tree), parsed.problems)
        }
    }
}

impl Tree {
    /// Every leaf in file order; together they cover each byte exactly once.
    pub fn leaves(&self, src: &[u8]) -> Vec<Token> {
        match self {
            Tree::Main(tree) => tree.leaves(src),
            Tree::Master(tree) => tree.leaves(src),
        }
    }

    /// Prints the tree: the bytes of its leaves in order, which equal the parsed input.
    pub fn print(&self, src: &[u8]) -> Vec<u8> {
        let leaves = self.leaves(src);
        let mut out = Vec::with_capacity(src.len());
        for leaf in leaves {
            out.extend_from_slice(&src[leaf.span.range()]);
        }
        out
    }
}
