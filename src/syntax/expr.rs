//! Postfix's `$name` expression language, read as `mac_parse()` and `mac_expand()` read it.
//!
//! ```text
//! expr      := (literal | "$$" | macro)*
//! macro     := "$" name | "${" body "}" | "$(" body ")"      braces/parens counted to match
//! body      := ws* name ws*                                   ${name}
//!            | ws* name ws* ("?" | ":") branches              ${name?x} ${name:x} ${name?{x}:{y}}
//!            | ws* name ws* operand                           ${fn{text}}      (Postfix 3.11+)
//!            | ws* operand op operand [("?" | ":") branches]  ${{$a} == {b} ? {x} : {y}}
//! branches  := operand ws* [":" operand]  after "?";  operand after ":"
//! operand   := ws* "{" expr "}" ws*  |  expr up to the end of the body
//! op        := "==" | "!=" | "<" | "<=" | ">=" | ">"  [ "level" ]   ("<level" etc.: 3.6+)
//! ```
//!
//! An error inside an operand stays inside it: Postfix finds an operand's extent (matching
//! braces, or the rest of the body) before it reads the operand, and when it expands it
//! reads only the branch it takes. So the operand holds an [`Part::Invalid`] and the
//! enclosing reference parses; expansion fails only if it reaches that part, while the
//! scan that postconf makes for names stops at the first error. Any other error ends the
//! expression it is in. Offsets are relative to the parsed text. Nesting deeper than
//! [`MAX_DEPTH`] is an error, so no input can exhaust the stack.

use std::ops::Range;

use super::lexical::is_blank;

/// The deepest nesting of `$` references inside operands that is parsed: well above the
/// 100 levels at which Postfix's expansion gives up ("unreasonable macro call nesting",
/// which the expander reports exactly as Postfix does), and low enough that no input can
/// exhaust the stack.
pub const MAX_DEPTH: usize = 250;

/// A parsed expression: literal text and references, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expr {
    /// The parts, which together cover the parsed text.
    pub parts: Vec<Part>,
}

/// A piece of an expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    /// Literal text; a `$$` in it stands for one `$`.
    Literal(Range<u32>),
    /// A `$` reference.
    Macro(Box<Macro>),
    /// Text from a malformed reference to the end of its expression, which Postfix
    /// cannot process.
    Invalid(Box<Invalid>),
}

/// A malformed stretch of an expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid {
    /// From the malformed reference to the end of its expression.
    pub span: Range<u32>,
    /// What is wrong.
    pub error: ExprError,
    /// The names postconf's scan registers in this reference before it meets the error
    /// (say, the operands of a comparison followed by garbage).
    pub scanned: Vec<Range<u32>>,
}

/// A `$name`, `${…}` or `$(…)` reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Macro {
    /// From the `$` to the closing `}` or `)`, or to the end of a bare name.
    pub span: Range<u32>,
    /// How the reference is delimited.
    pub delimiter: Delimiter,
    /// What it says.
    pub body: Body,
}

/// The delimiters of a reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delimiter {
    /// `$name`
    Bare,
    /// `${…}`
    Braces,
    /// `$(…)`, the legacy spelling of `${…}`
    Parens,
}

/// The inside of a reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    /// A parameter's value.
    Name(Range<u32>),
    /// `?` and `:` branches on a parameter or a comparison; a comparison without branches
    /// gives `true` or an empty string.
    Test {
        /// What is tested: a parameter being non-empty, or a comparison being true.
        subject: Subject,
        /// Used when the subject is non-empty or true.
        if_true: Option<Operand>,
        /// Used when the subject is empty, undefined or false.
        if_false: Option<Operand>,
    },
    /// `${name{text}}`: a named function applied to text (Postfix 3.11 and later).
    Function {
        /// The function name.
        name: Range<u32>,
        /// Its argument.
        argument: Operand,
    },
}

/// What a [`Body::Test`] tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    /// Whether a parameter's value is non-empty.
    Name(Range<u32>),
    /// A comparison of two operands.
    Comparison(Box<Comparison>),
}

/// `{left} op {right}`; numeric when both sides are all digits, else by bytes; with the
/// `level` suffix, by compatibility level.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comparison {
    /// Left operand.
    pub left: Operand,
    /// The operator.
    pub operator: Operator,
    /// Where the operator (and its suffix) is.
    pub operator_span: Range<u32>,
    /// Whether the operator has the `level` suffix (Postfix 3.6 and later).
    pub level: bool,
    /// Right operand.
    pub right: Operand,
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operator {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>=`
    Ge,
    /// `>`
    Gt,
}

/// An operand of a branch, comparison or function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operand {
    /// The operand as written, braces included.
    pub span: Range<u32>,
    /// Whether it is `{…}` (Postfix 3.0 and later) rather than the rest of the body.
    pub braced: bool,
    /// Its content, parsed.
    pub expr: Expr,
}

/// A syntax error Postfix reports (as a warning, or as a fatal "macro processing error"
/// when the value is used).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExprError {
    /// Where the problem is.
    pub span: Range<u32>,
    /// What is wrong, in plain words.
    pub message: String,
}

/// The names of the functions Postfix 3.11 and later provide for `${name{text}}`.
pub const FUNCTIONS: [&str; 2] = ["domain_to_ascii", "domain_to_utf8"];

/// Parses `text`, and returns the first syntax error (in text order), if any; the
/// malformed parts are [`Part::Invalid`] in the expression.
pub fn parse(text: &[u8]) -> (Expr, Option<ExprError>) {
    // Only `$` starts a reference; most values have none.
    if memchr::memchr(b'$', text).is_none() {
        let parts = if text.is_empty() {
            Vec::new()
        } else {
            vec![Part::Literal(0..len(text))]
        };
        return (Expr { parts }, None);
    }
    parse_references(text)
}

/// [`parse`] for a text that may hold references.
fn parse_references(text: &[u8]) -> (Expr, Option<ExprError>) {
    let parser = Parser {
        text,
        errors: std::cell::RefCell::new(Vec::new()),
        closers: Closers::of(text),
    };
    let mut parts = Vec::new();
    let _ = parser.expr_into(0..len(text), 0, &mut parts);
    let first = parser
        .errors
        .into_inner()
        .into_iter()
        .min_by_key(|e| e.span.start);
    (Expr { parts }, first)
}

fn len(text: &[u8]) -> u32 {
    u32::try_from(text.len()).unwrap_or(u32::MAX)
}

fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

type Result<T> = std::result::Result<T, Failure>;

/// A syntax error, with the names a scan has registered in the reference before it.
struct Failure {
    error: ExprError,
    scanned: Vec<Range<u32>>,
}

fn error<T>(span: Range<u32>, message: impl Into<String>) -> Result<T> {
    late_error(Vec::new(), span, message)
}

/// An error found after parts of the reference were scanned.
fn late_error<T>(
    scanned: Vec<Range<u32>>,
    span: Range<u32>,
    message: impl Into<String>,
) -> Result<T> {
    Err(Failure {
        error: ExprError {
            span,
            message: message.into(),
        },
        scanned,
    })
}

struct Parser<'a> {
    text: &'a [u8],
    /// Every error found, also those contained in operands.
    errors: std::cell::RefCell<Vec<ExprError>>,
    /// Where each `{` and `(` is closed.
    closers: Closers,
}

/// For each `{` and `(` of a text, the offset of the bracket of the same kind that
/// closes it (counting only that kind, as `mac_parse()` does), found in one pass: finding
/// it anew at every level of nesting made deep nesting quadratic.
struct Closers {
    /// (opener, closer) for `{`, sorted by opener.
    braces: Vec<(u32, u32)>,
    /// (opener, closer) for `(`, sorted by opener.
    parens: Vec<(u32, u32)>,
}

impl Closers {
    fn of(text: &[u8]) -> Closers {
        let pairs = |open: u8, close: u8| {
            let mut stack = Vec::new();
            let mut pairs = Vec::new();
            if memchr::memchr(open, text).is_none() {
                return pairs;
            }
            for (i, &b) in text.iter().enumerate() {
                if b == open {
                    stack.push(len_of(i));
                } else if b == close
                    && let Some(o) = stack.pop()
                {
                    pairs.push((o, len_of(i)));
                }
            }
            pairs.sort_unstable();
            pairs
        };
        Closers {
            braces: pairs(b'{', b'}'),
            parens: pairs(b'(', b')'),
        }
    }

    /// The closer of the opener at `open` (`{` or `(`), if it is closed before `end`.
    fn close(&self, kind: u8, open: u32, end: u32) -> Option<u32> {
        let pairs = if kind == b'(' {
            &self.parens
        } else {
            &self.braces
        };
        let i = pairs.binary_search_by_key(&open, |(o, _)| *o).ok()?;
        let close = pairs[i].1;
        (close < end).then_some(close)
    }
}

fn len_of(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

impl Parser<'_> {
    fn at(&self, i: u32) -> Option<u8> {
        self.text.get(i as usize).copied()
    }

    fn skip_ws(&self, mut i: u32, end: u32) -> u32 {
        while i < end && self.at(i).is_some_and(is_blank) {
            i += 1;
        }
        i
    }

    /// `expr` over `range`, appending to `parts`.
    fn expr_into(&self, range: Range<u32>, depth: usize, parts: &mut Vec<Part>) -> Result<()> {
        let mut literal_start = range.start;
        let mut i = range.start;
        while i < range.end {
            let rest = &self.text[i as usize..range.end as usize];
            let Some(next) = memchr::memchr(b'$', rest) else {
                break;
            };
            i += len_of(next);
            if i + 1 < range.end && self.at(i + 1) == Some(b'$') {
                i += 2;
                continue;
            }
            if literal_start < i {
                parts.push(Part::Literal(literal_start..i));
            }
            match self.reference(i, range.end, depth) {
                Ok(m) => {
                    i = m.span.end;
                    literal_start = i;
                    parts.push(Part::Macro(Box::new(m)));
                }
                Err(failure) => {
                    self.errors.borrow_mut().push(failure.error.clone());
                    parts.push(Part::Invalid(Box::new(Invalid {
                        span: i..range.end,
                        error: failure.error,
                        scanned: failure.scanned,
                    })));
                    return Ok(());
                }
            }
        }
        if literal_start < range.end {
            parts.push(Part::Literal(literal_start..range.end));
        }
        Ok(())
    }

    /// An operand's content. Its errors stay inside it (see the module documentation).
    fn content(&self, range: Range<u32>, depth: usize) -> Result<Expr> {
        if depth >= MAX_DEPTH {
            return error(
                range,
                format!("`$` expressions are nested more than {MAX_DEPTH} levels deep"),
            );
        }
        let mut parts = Vec::new();
        let _ = self.expr_into(range, depth, &mut parts);
        Ok(Expr { parts })
    }

    /// `macro` starting at the `$` at `dollar`.
    fn reference(&self, dollar: u32, end: u32, depth: usize) -> Result<Macro> {
        let open = dollar + 1;
        let delimiter = match self.at(open).filter(|_| open < end) {
            Some(b'{') => Delimiter::Braces,
            Some(b'(') => Delimiter::Parens,
            _ => {
                let name_len = self.text[open as usize..end as usize]
                    .iter()
                    .take_while(|&&b| is_name_char(b))
                    .count() as u32;
                if name_len == 0 {
                    return error(
                        dollar..dollar + 1,
                        "`$` is not followed by a parameter name (write `$$` for a literal `$`)",
                    );
                }
                return Ok(Macro {
                    span: dollar..open + name_len,
                    delimiter: Delimiter::Bare,
                    body: Body::Name(open..open + name_len),
                });
            }
        };
        let opener = self.text[open as usize];
        let Some(closed) = self.closers.close(opener, open, end) else {
            return error(
                dollar..end,
                format!("`${}` is never closed", opener as char),
            );
        };
        let i = closed + 1;
        let span = dollar..i;
        let body_range = open + 1..i - 1;
        if body_range.is_empty() {
            return error(span, "empty parameter name");
        }
        if depth + 1 >= MAX_DEPTH {
            return error(
                span,
                format!("`$` expressions are nested more than {MAX_DEPTH} levels deep"),
            );
        }
        let body = self.body(body_range, depth + 1)?;
        Ok(Macro {
            span,
            delimiter,
            body,
        })
    }

    /// `body`, the text between the delimiters of a reference.
    fn body(&self, range: Range<u32>, depth: usize) -> Result<Body> {
        let start = self.skip_ws(range.start, range.end);
        if self.at(start).filter(|_| start < range.end) == Some(b'{') {
            return self.comparison_body(start, range.end, depth);
        }
        let mut i = start;
        loop {
            let ahead = self.skip_ws(i, range.end);
            let name = start..i;
            // Postfix rejects only a reference with nothing between its delimiters;
            // `${ }` or `${?x}` name the (never defined) empty parameter.
            if ahead == range.end {
                return Ok(Body::Name(name));
            }
            match self.text[ahead as usize] {
                b @ (b'?' | b':') => {
                    return self.branches(b, ahead + 1, range.end, Subject::Name(name), depth);
                }
                b'{' if !name.is_empty() => return self.function(name, ahead, range.end, depth),
                _ => {}
            }
            if !is_name_char(self.text[i as usize]) {
                return error(
                    i..i + 1,
                    format!(
                        "unexpected `{}` in a parameter name (a comparison needs the form `${{{{$name}} == {{value}} ? {{…}} : {{…}}}}`)",
                        self.text[i as usize].escape_ascii()
                    ),
                );
            }
            i += 1;
        }
    }

    fn comparison_body(&self, start: u32, end: u32, depth: usize) -> Result<Body> {
        let (left, after_left) = self.braced_operand(start, end, depth)?;
        let op_len = self.text[after_left as usize..end as usize]
            .iter()
            .take_while(|b| b"<>!=?+-*/~&|%".contains(b))
            .count() as u32;
        let op_text = &self.text[after_left as usize..(after_left + op_len) as usize];
        let operator = match op_text {
            b"==" => Operator::Eq,
            b"!=" => Operator::Ne,
            b"<" => Operator::Lt,
            b"<=" => Operator::Le,
            b">=" => Operator::Ge,
            b">" => Operator::Gt,
            _ => {
                return error(
                    after_left..(after_left + op_len.max(1)).min(end),
                    "expected `==`, `!=`, `<`, `<=`, `>=` or `>` after `{…}`",
                );
            }
        };
        let mut i = after_left + op_len;
        let suffix_len = self.text[i as usize..end as usize]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count() as u32;
        let level = suffix_len > 0;
        if level && &self.text[i as usize..(i + suffix_len) as usize] != b"level" {
            return error(
                i..i + suffix_len,
                "unknown operator suffix (only `level` is defined)",
            );
        }
        i += suffix_len;
        let operator_span = after_left..i;
        let right_start = self.skip_ws(i, end);
        if self.at(right_start).filter(|_| right_start < end) != Some(b'{') {
            return error(
                right_start..right_start,
                "expected `{…}` after the comparison operator",
            );
        }
        let (right, after_right) = self.braced_operand(right_start, end, depth)?;
        let subject = Subject::Comparison(Box::new(Comparison {
            left,
            operator,
            operator_span,
            level,
            right,
        }));
        if after_right == end {
            return Ok(Body::Test {
                subject,
                if_true: None,
                if_false: None,
            });
        }
        match self.text[after_right as usize] {
            b @ (b'?' | b':') => self.branches(b, after_right + 1, end, subject, depth),
            _ => late_error(
                scanned_names(&subject, [None, None]),
                after_right..after_right + 1,
                "expected `?` or `:` after the comparison",
            ),
        }
    }

    /// The branches after `?` or `:` (`which`), starting at `i`.
    fn branches(
        &self,
        which: u8,
        mut i: u32,
        end: u32,
        subject: Subject,
        depth: usize,
    ) -> Result<Body> {
        let mut if_true = None;
        if which == b'?' {
            let (operand, after) = self
                .operand(i, end, depth)
                .map_err(|f| rescan(f, &subject, [None, None]))?;
            if after == end {
                return Ok(Body::Test {
                    subject,
                    if_true: Some(operand),
                    if_false: None,
                });
            }
            if self.text[after as usize] != b':' {
                return late_error(
                    scanned_names(&subject, [Some(&operand), None]),
                    after..after + 1,
                    "expected `:` after the `?` branch",
                );
            }
            if_true = Some(operand);
            i = after + 1;
        }
        let (operand, after) = self
            .operand(i, end, depth)
            .map_err(|f| rescan(f, &subject, [if_true.as_ref(), None]))?;
        if after != end {
            return late_error(
                scanned_names(&subject, [if_true.as_ref(), Some(&operand)]),
                after..end,
                "unexpected text after the `:` branch",
            );
        }
        Ok(Body::Test {
            subject,
            if_true,
            if_false: Some(operand),
        })
    }

    /// `operand`: braced if a `{` follows optional whitespace, else the rest of the body.
    fn operand(&self, i: u32, end: u32, depth: usize) -> Result<(Operand, u32)> {
        let brace = self.skip_ws(i, end);
        if self.at(brace).filter(|_| brace < end) == Some(b'{') {
            return self.braced_operand(brace, end, depth);
        }
        let expr = self.content(i..end, depth)?;
        Ok((
            Operand {
                span: i..end,
                braced: false,
                expr,
            },
            end,
        ))
    }

    /// `"{" expr "}" ws*` at `open`; returns the operand and the offset after it.
    fn braced_operand(&self, open: u32, end: u32, depth: usize) -> Result<(Operand, u32)> {
        let Some(close) = self.closers.close(b'{', open, end) else {
            return error(open..end, "unbalanced `{` in expression");
        };
        let expr = self.content(open + 1..close, depth)?;
        Ok((
            Operand {
                span: open..close + 1,
                braced: true,
                expr,
            },
            self.skip_ws(close + 1, end),
        ))
    }

    fn function(&self, name: Range<u32>, open: u32, end: u32, depth: usize) -> Result<Body> {
        let (argument, after) = self.braced_operand(open, end, depth)?;
        if after != end {
            return error(after..end, "unexpected text after the function argument");
        }
        let name_text = &self.text[name.start as usize..name.end as usize];
        if !FUNCTIONS.iter().any(|f| f.as_bytes() == name_text) {
            return error(
                name,
                format!(
                    "unknown function `{}` (Postfix has {})",
                    name_text.escape_ascii(),
                    FUNCTIONS.map(|f| format!("`{f}`")).join(" and ")
                ),
            );
        }
        Ok(Body::Function { name, argument })
    }
}

/// A failure to read a branch of a test, with the names scanned before it.
fn rescan(failure: Failure, subject: &Subject, branches: [Option<&Operand>; 2]) -> Failure {
    Failure {
        scanned: scanned_names(subject, branches),
        ..failure
    }
}

/// The names postconf's scan has registered once it has read `subject` and `branches`.
fn scanned_names(subject: &Subject, branches: [Option<&Operand>; 2]) -> Vec<Range<u32>> {
    let mut names = Vec::new();
    if collect_subject_names(subject, &mut names) {
        for operand in branches.into_iter().flatten() {
            if !operand.expr.collect_names(&mut names) {
                break;
            }
        }
    }
    names
}

/// Collects the names of a test's subject; returns false at a syntax error. The
/// operands of a comparison are scanned separately, so an error in the left one does
/// not stop the scan of the right one.
fn collect_subject_names(subject: &Subject, names: &mut Vec<Range<u32>>) -> bool {
    match subject {
        Subject::Name(name) => {
            names.push(name.clone());
            true
        }
        Subject::Comparison(c) => {
            let left = c.left.expr.collect_names(names);
            let right = c.right.expr.collect_names(names);
            left && right
        }
    }
}

impl Expr {
    /// The parameter names this expression reads, in order, including names inside
    /// branches and comparisons (both branches, as postconf scans them), up to the first
    /// syntax error, where postconf's scan stops.
    pub fn names(&self) -> Vec<Range<u32>> {
        let mut names = Vec::new();
        self.collect_names(&mut names);
        names
    }

    /// Collects names; returns false at a syntax error.
    /// How many parts the expression holds, nested ones included: what keeping it costs.
    pub fn size(&self) -> usize {
        let operand = |o: &Option<Operand>| o.as_ref().map_or(0, |o| 1 + o.expr.size());
        self.parts
            .iter()
            .map(|part| match part {
                Part::Literal(_) | Part::Invalid(_) => 1,
                Part::Macro(m) => {
                    1 + match &m.body {
                        Body::Name(_) => 0,
                        Body::Test {
                            subject,
                            if_true,
                            if_false,
                        } => {
                            let compared = match subject {
                                Subject::Name(_) => 0,
                                Subject::Comparison(c) => {
                                    2 + c.left.expr.size() + c.right.expr.size()
                                }
                            };
                            compared + operand(if_true) + operand(if_false)
                        }
                        Body::Function { argument, .. } => 1 + argument.expr.size(),
                    }
                }
            })
            .sum()
    }

    fn collect_names(&self, names: &mut Vec<Range<u32>>) -> bool {
        for part in &self.parts {
            let m = match part {
                Part::Literal(_) => continue,
                Part::Invalid(invalid) => {
                    names.extend(invalid.scanned.iter().cloned());
                    return false;
                }
                Part::Macro(m) => m,
            };
            let complete = match &m.body {
                Body::Name(name) => {
                    names.push(name.clone());
                    true
                }
                Body::Test {
                    subject,
                    if_true,
                    if_false,
                } => {
                    collect_subject_names(subject, names)
                        && [if_true, if_false]
                            .into_iter()
                            .flatten()
                            .all(|operand| operand.expr.collect_names(names))
                }
                Body::Function { argument, .. } => argument.expr.collect_names(names),
            };
            if !complete {
                return false;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_without_a_dollar_is_one_literal_either_way() {
        for text in [
            &b""[..],
            b"x",
            b"a b, c",
            b"{ a = b }",
            b"a{b}c}",
            b"{{",
            b"}",
            b"  spaced  ",
            b"\\n\t",
        ] {
            assert_eq!(parse(text), parse_references(text), "{text:?}");
        }
    }

    fn names(text: &str) -> Vec<&str> {
        let (expr, error) = parse(text.as_bytes());
        assert_eq!(error, None, "{text}");
        expr.names()
            .into_iter()
            .map(|r| &text[r.start as usize..r.end as usize])
            .collect()
    }

    fn error_of(text: &str) -> (String, &str) {
        let (_, error) = parse(text.as_bytes());
        let e = error.unwrap_or_else(|| panic!("expected an error in {text}"));
        (e.message, &text[e.span.start as usize..e.span.end as usize])
    }

    #[test]
    fn reads_every_reference_spelling() {
        assert_eq!(
            names("$a, ${b}, $(c), $d.suffix, $$e, ${ f }"),
            ["a", "b", "c", "d", "f"]
        );
    }

    #[test]
    fn reads_conditionals_and_comparisons() {
        assert_eq!(names("${a?x:y}"), ["a"]);
        assert_eq!(names("${a?{$b}:{$c}}"), ["a", "b", "c"]);
        assert_eq!(names("${a ? {x} : {y}}"), ["a"]);
        assert_eq!(names("${a:{$b}}"), ["a", "b"]);
        assert_eq!(names("${{$a} == {yes} ? {$b} : {$c}}"), ["a", "b", "c"]);
        assert_eq!(names("${{$a}<level{3.6}?{x}:{y}}"), ["a"]);
        assert_eq!(names("${a?${b:{nested}}}"), ["a", "b"]);
        assert_eq!(names("${domain_to_ascii{$mydomain}}"), ["mydomain"]);
    }

    #[test]
    fn unbraced_branch_takes_the_rest_of_the_body() {
        let (expr, _) = parse(b"${a?x:y}");
        let Part::Macro(m) = &expr.parts[0] else {
            panic!()
        };
        let Body::Test {
            if_true, if_false, ..
        } = &m.body
        else {
            panic!()
        };
        assert_eq!(if_true.as_ref().map(|o| o.span.clone()), Some(4..7));
        assert!(if_false.is_none());
    }

    #[test]
    fn reports_postfix_syntax_errors() {
        assert_eq!(error_of("${a").1, "${a");
        assert_eq!(error_of("x $").1, "$");
        assert_eq!(error_of("${}").1, "${}");
        assert_eq!(error_of("${my_set==yes?a:b}").1, "=");
        assert_eq!(error_of("${{a} = {b}}").1, "=");
        assert_eq!(error_of("${{a} == b}").1, "");
        assert_eq!(error_of("${a?{x} y}").1, "y");
        assert_eq!(error_of("${a:{x} y}").1, "y");
        assert_eq!(error_of("${{a}==bogus{b}}").1, "bogus");
        assert!(error_of("${nosuch{x}}").0.contains("unknown function"));
    }

    #[test]
    fn an_error_in_a_branch_stays_in_the_branch() {
        let (expr, error) = parse(b"${a?{ok}:{${}}} tail $b");
        assert!(error.is_some());
        // The reference parses; the error is an invalid part of its false branch.
        let Part::Macro(m) = &expr.parts[0] else {
            panic!("{expr:?}")
        };
        let Body::Test { if_false, .. } = &m.body else {
            panic!()
        };
        let false_branch = &if_false.as_ref().unwrap().expr.parts;
        assert!(
            matches!(false_branch[0], Part::Invalid(_)),
            "{false_branch:?}"
        );
        assert!(
            matches!(expr.parts.last(), Some(Part::Macro(_))),
            "{expr:?}"
        );
        // postconf's scan stops at the error, so `b` is not among the names.
        let text = "${a?{ok}:{${}}} tail $b";
        let names: Vec<&str> = expr
            .names()
            .into_iter()
            .map(|r| &text[r.start as usize..r.end as usize])
            .collect();
        assert_eq!(names, ["a"]);
    }

    /// The names a scan registers, in a text that may be malformed.
    fn scanned(text: &str) -> Vec<&str> {
        parse(text.as_bytes())
            .0
            .names()
            .into_iter()
            .map(|r| &text[r.start as usize..r.end as usize])
            .collect()
    }

    #[test]
    fn the_scan_keeps_names_read_before_an_error() {
        // Garbage after the last branch is found after both branches were scanned.
        assert_eq!(scanned("${{$a} < {1} ? {x} : {$b}fix} $c"), ["a", "b"]);
        assert_eq!(scanned("${t?{$a}junk} $c"), ["t", "a"]);
        assert_eq!(scanned("${t?{$a}:{$b} junk}"), ["t", "a", "b"]);
        // A missing `?` is found after the operands were scanned.
        assert_eq!(scanned("${{$a} == {$b} x} $c"), ["a", "b"]);
        // Each operand of a comparison is scanned on its own.
        assert_eq!(scanned("${{${}} == {$b} ? {$c}} $d"), ["b"]);
        // A name is registered only once it is read whole.
        assert_eq!(scanned("${a b} $c"), Vec::<&str>::new());
        // Malformed operands are found before anything is scanned.
        assert_eq!(scanned("${{$a} = {$b}} $c"), Vec::<&str>::new());
    }

    #[test]
    fn blank_references_name_the_empty_parameter() {
        assert_eq!(names("${ }x"), [""]);
        assert_eq!(names("$( ? y)"), [""]);
        assert_eq!(names("${:y}"), [""]);
        assert!(error_of("${}").0.contains("empty"));
        assert!(error_of("$()").0.contains("empty"));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = "${a?".repeat(10_000) + &"}".repeat(10_000);
        assert!(
            error_of(&text)
                .0
                .contains("nested more than 250 levels deep")
        );
    }
}
