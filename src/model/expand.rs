//! `$name` expansion, exactly as Postfix's `mac_expand()` does it with recursion on.
//!
//! * A reference is replaced by the looked-up value, itself expanded; an undefined name
//!   gives nothing.
//! * `${name?x}` expands `x` when the value is non-empty, `${name:x}` when it is empty or
//!   undefined; a comparison is true or false instead of empty or not.
//! * Comparison operands are expanded separately, with a fresh nesting count (as Postfix
//!   calls `mac_expand()` anew for them).
//! * Nesting: every literal run and reference entered counts one level, and entering one
//!   at a level above 100 is Postfix's "unreasonable macro call nesting". That is how a
//!   loop (`a = $b`, `b = $a`) or a chain deeper than 100 ends, in Postfix and here.
//!
//! Beyond Postfix, the total work and the output size are bounded, so an exponential
//! definition (`x1 = $x0$x0`, `x2 = $x1$x1`, …) ends with [`ExpandError::TooLarge`]
//! instead of exhausting memory.

use foldhash::{HashMap, HashMapExt};
use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;
use std::rc::Rc;

use crate::syntax::Value;
use crate::syntax::expr::{Body, Comparison, Expr, ExprError, Operand, Operator, Part, Subject};
use crate::syntax::value::Parse;

/// The nesting level above which Postfix gives up.
pub const MAX_NESTING: usize = 100;
/// The deepest nesting across fresh contexts: comparison operands and function arguments
/// restart Postfix's count, so a loop through them never reaches [`MAX_NESTING`] (Postfix
/// would run out of stack); pflint stops it here.
pub const MAX_TOTAL_NESTING: usize = 200;
/// The most references and literal runs one expansion may enter.
pub const MAX_WORK: usize = 250_000;
/// The longest expansion result, in bytes.
pub const MAX_OUTPUT: usize = 16 * 1024 * 1024;

/// Where expansion finds parameter values.
pub trait Lookup {
    /// The raw (unexpanded) value of a parameter, with its expression, or `None` when it
    /// has none.
    fn lookup(&self, name: &[u8]) -> Option<Cow<'_, Value<'_>>>;
}

/// Why an expansion failed. Postfix reports each of the first three as a warning followed
/// by "fatal: macro processing error".
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExpandError {
    /// A malformed expression, in the value of `name` (or in the value being expanded).
    Syntax {
        /// The parameter whose value holds it; empty for the value being expanded.
        name: Vec<u8>,
        /// The parse error.
        error: ExprError,
    },
    /// Nesting above [`MAX_NESTING`]: a loop, or a chain that is too deep.
    Nesting {
        /// The loop's names in order when `looped`; otherwise the outermost names of the
        /// chain (up to [`CHAIN_SHOWN`]). Only these are kept: a chain is a hundred
        /// names, and each parameter whose expansion fails holds its error.
        names: Vec<Vec<u8>>,
        /// Whether the chain runs into itself.
        looped: bool,
    },
    /// A comparison with `level` that is not between two compatibility levels.
    BadLevel {
        /// The operand that is not a level.
        operand: Vec<u8>,
    },
    /// A number in a numeric comparison that a C `long` cannot hold: Postfix stops
    /// ("mac_exp_eval: bad conversion").
    BadNumber {
        /// The operand.
        operand: Vec<u8>,
    },
    /// The expansion grew beyond the work or size bound.
    TooLarge,
}

impl fmt::Display for ExpandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpandError::Syntax { name, error } if name.is_empty() => {
                write!(f, "malformed expression: {}", error.message)
            }
            ExpandError::Syntax { name, error } => write!(
                f,
                "malformed expression in the value of `{}`: {}",
                name.escape_ascii(),
                error.message
            ),
            ExpandError::Nesting { names, looped } => {
                let shown: Vec<String> = names
                    .iter()
                    .map(|n| format!("${}", n.escape_ascii()))
                    .collect();
                if let (true, Some(first)) = (looped, shown.first()) {
                    write!(f, "expansion loop: {} → {first}", shown.join(" → "))
                } else if shown.is_empty() {
                    write!(
                        f,
                        "`$` expressions nested more than {MAX_NESTING} levels deep (Postfix: unreasonable macro call nesting)"
                    )
                } else {
                    write!(
                        f,
                        "expansion nested more than {MAX_NESTING} levels deep (through {})",
                        shown.join(" → ")
                    )
                }
            }
            ExpandError::BadLevel { operand } => write!(
                f,
                "`{}` is not a compatibility level (expected a number such as 3.6)",
                operand.escape_ascii()
            ),
            ExpandError::BadNumber { operand } => write!(
                f,
                "`{}` is too large a number to compare (Postfix: mac_exp_eval: bad conversion)",
                operand.escape_ascii()
            ),
            ExpandError::TooLarge => write!(
                f,
                "expansion exceeds {} MiB or {MAX_WORK} steps",
                MAX_OUTPUT >> 20
            ),
        }
    }
}

impl std::error::Error for ExpandError {}

/// How many of a too-deep chain's outermost names a [`ExpandError::Nesting`] keeps.
pub const CHAIN_SHOWN: usize = 3;

/// The error for a chain of references (outermost first) that nests too deep: its first
/// cycle (the names from the first one that repeats up to just before its repetition),
/// or its outermost names.
fn nesting(chain: &[Vec<u8>]) -> ExpandError {
    let mut seen: HashMap<&[u8], usize> = HashMap::with_capacity(chain.len());
    for (j, name) in chain.iter().enumerate() {
        if let Some(&i) = seen.get(name.as_slice()) {
            return ExpandError::Nesting {
                names: chain[i..j].to_vec(),
                looped: true,
            };
        }
        seen.insert(name, j);
    }
    ExpandError::Nesting {
        names: chain.iter().take(CHAIN_SHOWN).cloned().collect(),
        looped: false,
    }
}

/// Expands `value`.
pub fn expand(value: &Value<'_>, lookup: &dyn Lookup) -> Result<Vec<u8>, ExpandError> {
    expand_named(b"", value, lookup)
}

/// Expands `value`, the value of parameter `name` (named in loop reports).
pub fn expand_named(
    name: &[u8],
    value: &Value<'_>,
    lookup: &dyn Lookup,
) -> Result<Vec<u8>, ExpandError> {
    expand_reusing(name, value, lookup, &mut Parses::default())
}

/// The parses of looked-up values that their parser did not keep, by name, made once
/// and shared by expansions that look up the same values. Bounded: it forgets all it
/// holds when what it holds passes [`Parses::MAX_COST`] reckoned bytes.
#[derive(Default)]
pub struct Parses {
    by_name: HashMap<Vec<u8>, (Vec<u8>, Rc<Parse>)>,
    cost: usize,
}

impl Parses {
    /// The most the parses held may cost, in reckoned bytes: a thousand `$name` chains
    /// of a hundred links, and much less than a file's parser keeps.
    const MAX_COST: usize = 1 << 20;

    /// The parse of `value`, the looked-up value of `name`: the one the value keeps, or
    /// one made here once.
    fn of(&mut self, name: &[u8], value: &Value<'_>) -> Rc<Parse> {
        if let Some(kept) = value.kept_parse() {
            return Rc::clone(kept);
        }
        if let Some((text, parse)) = self.by_name.get(name)
            && **text == **value
        {
            return Rc::clone(parse);
        }
        let parse = value.parse();
        let cost = parse.cost() + name.len() + value.len();
        if self.cost + cost > Self::MAX_COST {
            self.by_name.clear();
            self.cost = 0;
        }
        self.cost += cost;
        self.by_name
            .insert(name.to_vec(), (value.to_vec(), Rc::clone(&parse)));
        parse
    }
}

/// [`expand_named`], with the parses of earlier expansions.
pub fn expand_reusing(
    name: &[u8],
    value: &Value<'_>,
    lookup: &dyn Lookup,
    parses: &mut Parses,
) -> Result<Vec<u8>, ExpandError> {
    // Only `$` starts an expansion; most values have none.
    if memchr::memchr(b'$', value).is_none() {
        return Ok(value.to_vec());
    }
    let mut expander = Expander {
        lookup,
        work: 0,
        depth: 0,
        chain: if name.is_empty() {
            Vec::new()
        } else {
            vec![name.to_vec()]
        },
        parses,
    };
    let mut out = Vec::new();
    let parse = value.parse();
    expander.expand_parsed(b"", value, &parse.expr, parse.error.clone(), &mut out, 0)?;
    Ok(out)
}

struct Expander<'l> {
    lookup: &'l dyn Lookup,
    work: usize,
    /// Nesting across all contexts, for [`MAX_TOTAL_NESTING`].
    depth: usize,
    /// Names being expanded, outermost first, for loop reports.
    chain: Vec<Vec<u8>>,
    /// The parses of looked-up values.
    parses: &'l mut Parses,
}

impl Expander<'_> {
    /// Expands the looked-up value of `name`.
    fn expand_lookup(
        &mut self,
        name: &[u8],
        value: &Value<'_>,
        out: &mut Vec<u8>,
        level: usize,
    ) -> Result<(), ExpandError> {
        let parse = self.parses.of(name, value);
        self.expand_parsed(name, value, &parse.expr, parse.error.clone(), out, level)
    }

    /// Expands a parsed value of `name` (empty: the top-level value).
    fn expand_parsed(
        &mut self,
        name: &[u8],
        value: &[u8],
        parsed: &Expr,
        error: Option<ExprError>,
        out: &mut Vec<u8>,
        level: usize,
    ) -> Result<(), ExpandError> {
        // Postfix reports a syntax error only when expansion reaches it (an untaken
        // branch is never read), so `error` matters only through the parts.
        let _ = error;
        match self.expand_parts(value, &parsed.parts, out, level) {
            Err(ExpandError::Syntax { name: n, error }) if n.is_empty() => {
                Err(ExpandError::Syntax {
                    name: name.to_vec(),
                    error,
                })
            }
            result => result,
        }
    }

    fn expand_parts(
        &mut self,
        text: &[u8],
        parts: &[Part],
        out: &mut Vec<u8>,
        level: usize,
    ) -> Result<(), ExpandError> {
        if self.depth >= MAX_TOTAL_NESTING {
            return Err(nesting(&self.chain));
        }
        self.depth += 1;
        let result = self.expand_each(text, parts, out, level);
        self.depth -= 1;
        result
    }

    fn expand_each(
        &mut self,
        text: &[u8],
        parts: &[Part],
        out: &mut Vec<u8>,
        level: usize,
    ) -> Result<(), ExpandError> {
        for part in parts {
            self.work += 1;
            if self.work > MAX_WORK || out.len() > MAX_OUTPUT {
                return Err(ExpandError::TooLarge);
            }
            if level > MAX_NESTING {
                return Err(nesting(&self.chain));
            }
            match part {
                Part::Literal(r) => push_unescaped(out, slice(text, r)),
                Part::Macro(m) => self.expand_macro(text, &m.body, out, level + 1)?,
                Part::Invalid(invalid) => {
                    return Err(ExpandError::Syntax {
                        name: Vec::new(),
                        error: invalid.error.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    fn expand_macro(
        &mut self,
        text: &[u8],
        body: &Body,
        out: &mut Vec<u8>,
        level: usize,
    ) -> Result<(), ExpandError> {
        match body {
            Body::Name(r) => {
                let name = slice(text, r);
                if let Some(value) = self.lookup.lookup(name).filter(|v| !v.is_empty()) {
                    self.chain.push(name.to_vec());
                    self.expand_lookup(name, &value, out, level)?;
                    self.chain.pop();
                }
            }
            Body::Test {
                subject,
                if_true,
                if_false,
            } => {
                let (subject_name, value): (&[u8], Option<Cow<'_, Value<'_>>>) = match subject {
                    Subject::Name(r) => (slice(text, r), self.lookup.lookup(slice(text, r))),
                    Subject::Comparison(c) => {
                        let truth = self.compare(text, c)?;
                        let text: &[u8] = if truth { b"true" } else { b"" };
                        (b"", Some(Cow::Owned(Value::new(text))))
                    }
                };
                let set = value.as_ref().is_some_and(|v| !v.is_empty());
                match (set, if_true, if_false) {
                    (true, Some(operand), _) | (false, _, Some(operand)) => {
                        self.expand_parts(text, &operand.expr.parts, out, level)?;
                    }
                    // A comparison without branches gives its truth value.
                    (true, None, None) => {
                        if let Some(v) = value {
                            let parse = self.parses.of(subject_name, &v);
                            self.expand_parsed(
                                b"",
                                &v,
                                &parse.expr,
                                parse.error.clone(),
                                out,
                                level,
                            )?;
                        }
                    }
                    _ => {}
                }
            }
            Body::Function { name, argument } => {
                let argument = self.fresh(text, argument)?;
                match slice(text, name) {
                    // Postfix converts U-labels to A-labels; ASCII names pass unchanged
                    // except for case (IDNA conversion of non-ASCII names is not modelled).
                    b"domain_to_ascii" => out.extend(argument.to_ascii_lowercase()),
                    _ => out.extend(argument),
                }
            }
        }
        Ok(())
    }

    /// Expands an operand in a fresh context, as Postfix expands comparison operands and
    /// function arguments with a separate `mac_expand()` call.
    fn fresh(&mut self, text: &[u8], operand: &Operand) -> Result<Vec<u8>, ExpandError> {
        let mut out = Vec::new();
        self.expand_parts(text, &operand.expr.parts, &mut out, 0)?;
        Ok(out)
    }

    fn compare(&mut self, text: &[u8], c: &Comparison) -> Result<bool, ExpandError> {
        let left = self.fresh(text, &c.left)?;
        let right = self.fresh(text, &c.right)?;
        let order = if c.level {
            let level = |s: &[u8]| {
                compat_level(s).ok_or_else(|| ExpandError::BadLevel {
                    operand: s.to_vec(),
                })
            };
            level(&left)?.cmp(&level(&right)?)
        } else if all_digits(&left) && all_digits(&right) {
            // Postfix converts both with strtol() and stops when one does not fit.
            let number = |s: &[u8]| {
                std::str::from_utf8(s)
                    .ok()
                    .and_then(|t| t.parse::<i64>().ok())
                    .ok_or_else(|| ExpandError::BadNumber {
                        operand: s.to_vec(),
                    })
            };
            number(&left)?.cmp(&number(&right)?)
        } else {
            left.cmp(&right)
        };
        Ok(match c.operator {
            Operator::Eq => order == Ordering::Equal,
            Operator::Ne => order != Ordering::Equal,
            Operator::Lt => order == Ordering::Less,
            Operator::Le => order != Ordering::Greater,
            Operator::Ge => order != Ordering::Less,
            Operator::Gt => order == Ordering::Greater,
        })
    }
}

fn slice<'t>(text: &'t [u8], range: &std::ops::Range<u32>) -> &'t [u8] {
    &text[range.start as usize..range.end as usize]
}

/// Appends literal text, with `$$` standing for one `$`.
fn push_unescaped(out: &mut Vec<u8>, literal: &[u8]) {
    let mut i = 0;
    while i < literal.len() {
        out.push(literal[i]);
        i += if literal[i] == b'$' && literal.get(i + 1) == Some(&b'$') {
            2
        } else {
            1
        };
    }
}

/// Postfix's `alldig()`: non-empty and only ASCII digits.
fn all_digits(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(u8::is_ascii_digit)
}

/// A compatibility level as Postfix's `compat_level_from_string()` reads it, as
/// comparable numbers: `major[.minor[.patch]]`, each field read by `strtol()` (so blanks
/// and a sign may lead it), the major up to 2^43 - 1, minor and patch up to 1023.
pub fn compat_level(s: &[u8]) -> Option<(u64, u64, u64)> {
    fn field(s: &[u8], max: i64) -> Option<(u64, &[u8])> {
        let (number, rest) = crate::model::value::strtol(s);
        let number = number.filter(|n| (0..=max).contains(n))?;
        Some((number.unsigned_abs(), rest))
    }
    let (major, rest) = field(s, i64::MAX >> 20)?;
    if rest.is_empty() {
        return Some((major, 0, 0));
    }
    let (minor, rest) = field(rest.strip_prefix(b".")?, 1023)?;
    if rest.is_empty() {
        return Some((major, minor, 0));
    }
    let (patch, rest) = field(rest.strip_prefix(b".")?, 1023)?;
    rest.is_empty().then_some((major, minor, patch))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Map(HashMap<Vec<u8>, Value<'static>>);

    impl Lookup for Map {
        fn lookup(&self, name: &[u8]) -> Option<Cow<'_, Value<'_>>> {
            self.0.get(name).map(Cow::Borrowed)
        }
    }

    fn map(pairs: &[(&str, &str)]) -> Map {
        Map(pairs
            .iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), Value::new(v.as_bytes().to_vec())))
            .collect())
    }

    fn run(value: &str, pairs: &[(&str, &str)]) -> Result<String, ExpandError> {
        expand(&Value::new(value.as_bytes()), &map(pairs)).map(|v| String::from_utf8(v).unwrap())
    }

    #[test]
    fn expands_like_postfix() {
        let vars = [
            ("myhostname", "mail.example.org"),
            ("mydomain", "example.org"),
            ("set", "yes"),
            ("empty", ""),
            ("level", "3.6"),
        ];
        assert_eq!(
            run("$myhostname, ${mydomain}, $(mydomain)", &vars).unwrap(),
            "mail.example.org, example.org, example.org"
        );
        assert_eq!(run("$$ and $undefined.x", &vars).unwrap(), "$ and .x");
        assert_eq!(
            run("${set?a:b}|${empty?a}|${empty:b}|${nope:{c d}}", &vars).unwrap(),
            "a:b||b|c d"
        );
        assert_eq!(
            run("${{$set} == {yes} ? {eq} : {ne}}", &vars).unwrap(),
            "eq"
        );
        assert_eq!(
            run("${{10} > {9}?{num}}${{b} > {a}?{str}}", &vars).unwrap(),
            "numstr"
        );
        assert_eq!(
            run("${{$level} <level {3.10} ? {old} : {new}}", &vars).unwrap(),
            "old"
        );
        assert_eq!(run("${{$set} == {yes}}", &vars).unwrap(), "true");
    }

    #[test]
    fn a_loop_is_an_error_naming_it() {
        let err = run("$a", &[("a", "$b"), ("b", "$a")]).unwrap_err();
        assert!(
            err.to_string().starts_with("expansion loop: $a → $b → $a"),
            "{err}"
        );
    }

    #[test]
    fn nesting_limit_matches_postfix() {
        // A chain of 100 references expands; 101 is too deep (corpus synthetic-chain-*).
        let chain = |n: usize| -> Vec<(String, String)> {
            (1..=n)
                .map(|i| {
                    let value = if i == n {
                        "end".to_owned()
                    } else {
                        format!("$c{}", i + 1)
                    };
                    (format!("c{i}"), value)
                })
                .collect()
        };
        let as_pairs = |v: &[(String, String)]| {
            v.iter()
                .map(|(a, b)| (a.clone(), b.clone()))
                .collect::<Vec<_>>()
        };
        let ok = as_pairs(&chain(100));
        let pairs: Vec<(&str, &str)> = ok.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        assert_eq!(run("$c1", &pairs).unwrap(), "end");
        let deep = as_pairs(&chain(101));
        let pairs: Vec<(&str, &str)> = deep.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        assert!(matches!(
            run("$c1", &pairs),
            Err(ExpandError::Nesting { .. })
        ));
        // Ten levels are nothing special.
        let ten = as_pairs(&chain(10));
        let pairs: Vec<(&str, &str)> = ten.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        assert_eq!(run("$c1", &pairs).unwrap(), "end");
    }

    #[test]
    fn a_loop_through_a_comparison_is_bounded() {
        // Comparison operands restart Postfix's nesting count; the loop must still end.
        let err = run("$a", &[("a", "${{$b} == {x} ? {y}}"), ("b", "$a")]).unwrap_err();
        assert!(matches!(err, ExpandError::Nesting { .. }), "{err:?}");
        assert!(err.to_string().contains("expansion loop"), "{err}");
    }

    #[test]
    fn an_exponential_definition_is_bounded() {
        let mut vars: Vec<(String, String)> = vec![("x0".into(), "0123456789".into())];
        for i in 1..40 {
            vars.push((
                format!("x{i}"),
                format!("$x{}$x{}$x{}", i - 1, i - 1, i - 1),
            ));
        }
        let pairs: Vec<(&str, &str)> = vars.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let start = std::time::Instant::now();
        assert_eq!(run("$x39", &pairs), Err(ExpandError::TooLarge));
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn an_error_in_an_untaken_branch_is_not_reached() {
        assert_eq!(run("${set?{ok}:{${}}}", &[("set", "yes")]).unwrap(), "ok");
        assert!(run("${set?{ok}:{${}}}", &[]).is_err());
    }

    #[test]
    fn syntax_errors_name_their_parameter() {
        let err = run("$bad", &[("bad", "${x")]).unwrap_err();
        assert!(
            matches!(&err, ExpandError::Syntax { name, .. } if name == b"bad"),
            "{err:?}"
        );
        assert!(matches!(
            run("${{a}<level{b}}", &[]),
            Err(ExpandError::BadLevel { .. })
        ));
    }

    #[test]
    fn compat_levels_compare_numerically() {
        assert!(compat_level(b"3.10").unwrap() > compat_level(b"3.9").unwrap());
        assert_eq!(compat_level(b"2"), Some((2, 0, 0)));
        assert_eq!(compat_level(b""), None);
        assert_eq!(compat_level(b"3.x"), None);
        // As compat_level_from_string() reads them (strtol() fields).
        assert_eq!(compat_level(b"+3"), Some((3, 0, 0)));
        assert_eq!(compat_level(b"-0"), Some((0, 0, 0)));
        assert_eq!(compat_level(b"3.+6"), Some((3, 6, 0)));
        assert_eq!(compat_level(b"3. 6"), Some((3, 6, 0)));
        assert_eq!(compat_level(b"3.1023.1023"), Some((3, 1023, 1023)));
        assert_eq!(compat_level(b"3.1024"), None);
        assert_eq!(compat_level(b"3.2.1024"), None);
        assert_eq!(compat_level(b"-1"), None);
        assert_eq!(compat_level(b"3.6."), None);
        assert_eq!(compat_level(b"3..6"), None);
        assert_eq!(
            compat_level(b"8796093022207"),
            Some((8_796_093_022_207, 0, 0))
        );
        assert_eq!(compat_level(b"8796093022208"), None);
    }
}
