//! A parameter value with its `$` expression, parsed at most once.
//!
//! Many readers look at the expression of one value: the parser (for malformed `$`
//! references), postconf's scan for the names a value uses, expansion, and the version
//! checks. A [`Value`] carries its text and its parse, so each reads the same parse: the
//! parser stores the parse of every value it reads with a `$` in it, and a value made
//! elsewhere (a default, a computed value) is parsed the first time it is asked for.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::fmt;
use std::ops::Deref;
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

    /// The parse of `text` when it has a `$` (the only byte that starts a reference);
    /// `None` for literal text, whose parse is trivial and not worth keeping.
    pub(crate) fn of_references(text: &[u8]) -> Option<Rc<Parse>> {
        memchr::memchr(b'$', text).map(|_| Rc::new(Parse::of(text)))
    }
}

/// A value's text (borrowed from its file where it can be) and its parse.
#[derive(Clone, Default)]
pub struct Value<'a> {
    text: Cow<'a, [u8]>,
    parse: OnceCell<Rc<Parse>>,
}

impl<'a> Value<'a> {
    /// A value whose expression is read when first asked for.
    pub fn new(text: impl Into<Cow<'a, [u8]>>) -> Value<'a> {
        Value {
            text: text.into(),
            parse: OnceCell::new(),
        }
    }

    /// A value with the parse its parser already made (`None`: not made yet).
    pub fn with_parse(text: impl Into<Cow<'a, [u8]>>, parse: Option<Rc<Parse>>) -> Value<'a> {
        let value = Value::new(text);
        if let Some(parse) = parse {
            let _ = value.parse.set(parse);
        }
        value
    }

    /// The text, as Postfix stores it.
    pub fn text(&self) -> &[u8] {
        &self.text
    }

    /// The text, taking it out of the value.
    pub fn into_text(self) -> Cow<'a, [u8]> {
        self.text
    }

    /// The parse, made now if it was not made before.
    pub fn parse(&self) -> &Rc<Parse> {
        self.parse.get_or_init(|| Rc::new(Parse::of(&self.text)))
    }

    /// The expression.
    pub fn expr(&self) -> &Expr {
        &self.parse().expr
    }

    /// The names the expression reads (see [`Expr::names`]), as byte slices of the text.
    pub fn names(&self) -> impl Iterator<Item = &[u8]> {
        let text: &[u8] = &self.text;
        let names = if memchr::memchr(b'$', text).is_some() {
            self.expr().names()
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
    fn a_value_is_parsed_once_and_shares_its_parse() {
        let value = Value::new(&b"$a ${b?x}"[..]);
        let first = Rc::clone(value.parse());
        assert!(Rc::ptr_eq(&first, value.parse()));
        let names: Vec<&[u8]> = value.names().collect();
        assert_eq!(names, [&b"a"[..], b"b"]);
    }

    #[test]
    fn a_parse_made_by_the_parser_is_kept() {
        let parse = Parse::of_references(b"$x");
        let value = Value::with_parse(&b"$x"[..], parse.clone());
        assert!(Rc::ptr_eq(value.parse(), parse.as_ref().unwrap()));
        assert!(Parse::of_references(b"literal").is_none());
    }
}
