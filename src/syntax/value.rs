//! A parameter value with its `$` expression, as its parser read it.
//!
//! Many readers look at the expression of one value: the parser (for malformed `$`
//! references), postconf's scan for the names a value uses, expansion, and the version
//! checks. A [`Value`] carries its text and the parse its file's parser kept, so each
//! reads that one parse; a value made elsewhere (a default, a computed value) or one the
//! parser did not keep (see [`KEPT_PER_FILE`]) is read again when asked for.

use std::borrow::Cow;
use std::fmt;
use std::ops::{Deref, Range};
use std::rc::Rc;

use super::expr::{self, Expr, ExprError};

/// A value's expression as the parser read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parse {
    /// The parts; offsets are relative to the value's text.
    pub expr: Expr,
    /// The first syntax error in text order, if any.
    pub error: Option<ExprError>,
}

impl Parse {
    /// Reads `text` as an expression.
    pub fn of(text: &[u8]) -> Parse {
        let (expr, error) = expr::parse(text);
        Parse { expr, error }
    }

    /// What keeping the parse is reckoned to cost, in bytes: the shared part, and each
    /// part with its allocation (a reference holds its body inline).
    pub(crate) fn cost(&self) -> usize {
        96 + 160 * self.expr.size()
    }
}

/// The parses one file's parser keeps, in reckoned bytes at most: beyond it a value's
/// expression is read again each time it is asked for. Real configurations stay far below
/// it (`$name` costs some 250 bytes, so this keeps some 16 000 of them); it bounds what a
/// generated file of millions of `$name` values or deeply nested `${name?{…}}` adds to
/// the memory a run takes.
pub const KEPT_PER_FILE: usize = 4 << 20;

/// What one file's parser keeps of its values' expressions: each parse while the
/// budget lasts (see [`KEPT_PER_FILE`]), and the names every value reads, one run per
/// value, which postconf's name scan needs for all of them.
pub(crate) struct Budget {
    left: usize,
    names: Vec<Range<u32>>,
}

/// What the parser read in one value.
pub(crate) struct Read {
    /// The parse, when it was kept.
    pub parse: Option<Rc<Parse>>,
    /// The first syntax error.
    pub error: Option<ExprError>,
    /// The value's run of names in [`Budget::into_names`].
    pub names: Range<u32>,
}

impl Budget {
    pub(crate) fn new() -> Budget {
        Budget {
            left: KEPT_PER_FILE,
            names: Vec::new(),
        }
    }

    /// Reads `text` when it has a `$` (the only byte that starts a reference).
    pub(crate) fn read(&mut self, text: &[u8]) -> Read {
        let at = len(self.names.len());
        if memchr::memchr(b'$', text).is_none() {
            return Read {
                parse: None,
                error: None,
                names: at..at,
            };
        }
        let parse = Parse::of(text);
        self.names.extend(parse.expr.names());
        let names = at..len(self.names.len());
        let error = parse.error.clone();
        let cost = parse.cost();
        if cost > self.left {
            return Read {
                parse: None,
                error,
                names,
            };
        }
        self.left -= cost;
        Read {
            parse: Some(Rc::new(parse)),
            error,
            names,
        }
    }

    /// Every value's names, for [`crate::syntax::Document::references`].
    pub(crate) fn into_names(self) -> Vec<Range<u32>> {
        self.names
    }
}

fn len(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A value's text (borrowed from its file where it can be) and the parse its parser kept.
#[derive(Clone, Default)]
pub struct Value<'a> {
    text: Cow<'a, [u8]>,
    /// `None`: not kept (no `$`, over the parser's budget, or not from a file), so the
    /// text is read again when its expression is asked for.
    parse: Option<Rc<Parse>>,
}

impl<'a> Value<'a> {
    /// A value without a kept parse: a default or a computed value, read when asked for.
    pub fn new(text: impl Into<Cow<'a, [u8]>>) -> Value<'a> {
        Value {
            text: text.into(),
            parse: None,
        }
    }

    /// A value with the parse its parser kept, if it kept one.
    pub fn with_parse(text: impl Into<Cow<'a, [u8]>>, parse: Option<Rc<Parse>>) -> Value<'a> {
        Value {
            text: text.into(),
            parse,
        }
    }

    /// The text, as Postfix stores it.
    pub fn text(&self) -> &[u8] {
        &self.text
    }

    /// The text, taking it out of the value.
    pub fn into_text(self) -> Cow<'a, [u8]> {
        self.text
    }

    /// The parse its parser kept, if it kept one.
    pub fn kept_parse(&self) -> Option<&Rc<Parse>> {
        self.parse.as_ref()
    }

    /// The parse: the one kept, else made now.
    pub fn parse(&self) -> Rc<Parse> {
        match &self.parse {
            Some(kept) => Rc::clone(kept),
            None => Rc::new(Parse::of(&self.text)),
        }
    }

    /// The names the expression reads (see [`Expr::names`]), as byte slices of the text.
    pub fn names(&self) -> impl Iterator<Item = &[u8]> {
        let text: &[u8] = &self.text;
        let names = if memchr::memchr(b'$', text).is_some() {
            self.parse().expr.names()
        } else {
            Vec::new()
        };
        names
            .into_iter()
            .map(move |r| &text[r.start as usize..r.end as usize])
    }
}

impl Deref for Value<'_> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.text
    }
}

impl fmt::Debug for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Value({:?})", self.text.escape_ascii().to_string())
    }
}

impl PartialEq for Value<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for Value<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_names_of_a_value() {
        let value = Value::new(&b"$a ${b?x}"[..]);
        let names: Vec<&[u8]> = value.names().collect();
        assert_eq!(names, [&b"a"[..], b"b"]);
    }

    #[test]
    fn a_parse_the_parser_kept_is_shared_and_one_it_did_not_keep_is_made_again() {
        let mut budget = Budget::new();
        let read = budget.read(b"$x");
        assert!(read.error.is_none());
        let value = Value::with_parse(&b"$x"[..], read.parse.clone());
        assert!(Rc::ptr_eq(&value.parse(), read.parse.as_ref().unwrap()));
        let literal = budget.read(b"literal");
        assert!(literal.parse.is_none() && literal.names.is_empty());
        let unkept = Value::with_parse(&b"$x"[..], None);
        assert!(!Rc::ptr_eq(&unkept.parse(), &unkept.parse()));
        assert_eq!(budget.into_names(), vec![Range { start: 1, end: 2 }]);
    }

    #[test]
    fn a_file_keeps_parses_up_to_its_budget_and_every_error_and_name() {
        let mut budget = Budget::new();
        let mut kept = 0;
        let runs = KEPT_PER_FILE / 64;
        for _ in 0..runs {
            let read = budget.read(b"${a");
            assert!(read.error.is_some());
            kept += usize::from(read.parse.is_some());
        }
        assert!(kept > 0 && kept < runs, "kept {kept}");
    }
}
