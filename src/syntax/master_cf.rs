//! master.cf: one service per logical line.
//!
//! A logical line (the lines joined as `readllines()` joins them) is split into words at
//! spaces, tabs, CR and LF, except inside `{ … }`: Postfix's `mystrtokq()` keeps a braced
//! group, which may hold whitespace, in one word, and an unclosed `{` runs to the end of
//! the line. The first eight words are the fixed fields; the rest are the command's
//! arguments, whose leading options are read as the daemons read them (`-o name=value`,
//! `-o { name = value }`, `-v`, …).

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;
use std::rc::Rc;

use nom::bytes::complete::take_while;
use nom::{IResult, Parser};

use super::document::{self, Document, Entry, Item, LogicalLine, Parsed, ignored_tail};
use super::lexical::{self, BraceTrouble, is_blank, split_nameval, unwrap_braces};
use super::lines::{Layout, LogicalToken};
use super::token::{Token, TokenKind};
use super::value::{Budget, Parse, Value};
use super::{Problem, ProblemKind};
use crate::source::Span;

/// A parsed master.cf file.
pub type MasterCf = Document<Service>;

/// The eight fixed columns of a service entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// Service name (`smtp`, `submission`, `127.0.0.1:10025`, …).
    Service = 0,
    /// Transport type (`inet`, `unix`, `unix-dgram`, `fifo`, `pass`).
    Type,
    /// Private (`y`, `n`, `-`).
    Private,
    /// Unprivileged (`y`, `n`, `-`).
    Unprivileged,
    /// Chroot (`y`, `n`, `-`).
    Chroot,
    /// Wakeup time (`-`, a number, optionally followed by `?`).
    Wakeup,
    /// Process limit (`-` or a number).
    MaxProc,
    /// Command name (the daemon program).
    Command,
}

/// Number of fixed columns.
pub const FIELD_COUNT: usize = 8;

/// A service entry. Positions inside it are ranges of its logical text (the lines
/// joined as Postfix joins them); [`source_span`](Self::source_span) maps them to the file.
#[derive(Clone, Debug)]
pub struct Service {
    layout: Layout,
    words: Vec<Range<u32>>,
    visible: u32,
    /// The arguments after the command, as the daemon reads them.
    args: Vec<Arg>,
    /// The first field problem that makes postconf refuse the whole file, if any.
    refused: Option<ProblemKind>,
    /// The `-o` settings as postconf reads them, when that is not as the daemon does
    /// (`None`: the same as the daemon's, which most entries are).
    postconf: Option<Vec<Override>>,
    /// Whether postconf reads any `-o` here, even one it makes no setting of: only such
    /// an entry shows its name and type's shared settings in `postconf -P`.
    postconf_options: bool,
}

/// An argument after the command field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arg {
    /// Option letters that take no value, such as `-v` or `-D`.
    Flag(Range<u32>),
    /// A `-o` option.
    Override(Override),
    /// An argument after the options. `text` excludes surrounding braces.
    Positional {
        /// The word as written.
        word: Range<u32>,
        /// The word without its `{ }` and the whitespace inside them.
        text: Range<u32>,
    },
}

/// A `-o name=value` option, in any of its spellings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Override {
    /// The option letter `o` (with its `-` when it starts the word).
    pub option: Range<u32>,
    /// The option's argument as written, braces included; `None` for a `-o` at the end.
    pub argument: Option<Range<u32>>,
    /// The parameter name, when the argument has the form `name=value`.
    pub name: Option<Range<u32>>,
    /// The value, trimmed like a main.cf value, when the argument has a name.
    pub value: Option<Range<u32>>,
    /// Whether the argument is the `{ name = value }` form (Postfix 3.0 and later).
    pub braced: bool,
    /// Whether postconf reads the name with a `-` in front that is not in the text: it
    /// cuts `-oo=x` into `-o` and `-o=x`, a setting of `-o` (the daemon sets `o`).
    pub dashed: bool,
    /// The value's expression, when it has a `$`, its parameter is not raw, and the
    /// parser kept it (see [`Budget`]).
    pub parse: Option<Rc<Parse>>,
    /// The names the value reads: a run in [`Document::references`].
    pub names: Range<u32>,
}

impl Override {
    /// The names the value reads (relative to the value), as the parser found them;
    /// `references` is the tree's [`Document::references`].
    pub fn references<'d>(&self, references: &'d [Range<u32>]) -> &'d [Range<u32>] {
        references
            .get(self.names.start as usize..self.names.end as usize)
            .unwrap_or_default()
    }

    /// The value with the expression the parser read in it; `None` without a name.
    pub fn value_with_parse<'a>(&self, service: &Service, src: &'a [u8]) -> Option<Value<'a>> {
        let value = self.value.clone()?;
        Some(Value::with_parse(
            service.text(src, value),
            self.parse.clone(),
        ))
    }
}

impl Service {
    /// The words of the logical line (fields first, then arguments) as logical ranges.
    pub fn words(&self) -> &[Range<u32>] {
        &self.words
    }

    /// The word in a fixed column, if the entry has it.
    pub fn field(&self, field: Field) -> Option<Range<u32>> {
        self.words.get(field as usize).cloned()
    }

    /// The bytes of a logical-text range (of a word, a name or a value).
    pub fn text<'a>(&self, src: &'a [u8], range: Range<u32>) -> Cow<'a, [u8]> {
        self.layout.slice(src, range)
    }

    /// Maps a logical-text range to the file (it may cross a line break inside braces).
    pub fn source_span(&self, range: Range<u32>) -> Span {
        self.layout.source_span(range)
    }

    /// Why postconf refuses the file because of this entry's fields, if it does.
    pub fn refused(&self) -> Option<ProblemKind> {
        if self.words.len() < FIELD_COUNT {
            return Some(ProblemKind::FieldCount);
        }
        self.refused
    }

    /// The arguments after the command field, as the daemon reads them; empty when the
    /// entry has fewer than eight fields.
    pub fn args(&self) -> &[Arg] {
        &self.args
    }

    /// Whether postconf reads any `-o` option in this entry.
    pub fn has_postconf_options(&self) -> bool {
        self.postconf_options
    }

    /// The `-o` settings as postconf reads them, which is not always as the daemon does
    /// (see [`postconf_overrides`]); the model follows postconf, its oracle.
    pub fn postconf_overrides(&self) -> impl Iterator<Item = &Override> {
        let own = self.postconf.as_deref();
        own.into_iter().flatten().chain(
            own.is_none()
                .then(|| self.overrides())
                .into_iter()
                .flatten(),
        )
    }

    /// The entry's words as postconf shows them (`pcf_normalize_daemon_args()`): the
    /// fields, then each option on its own (`-vo` → `-v -o`, `-oname=x` → `-o name=x`)
    /// with its value, braces removed from `{ … }` values and arguments, and
    /// `-o { name = value }` as `-o name=value`.
    pub fn postconf_words(&self, src: &[u8]) -> Vec<Vec<u8>> {
        let text = self.layout.text(src);
        let text = &text[..self.visible as usize];
        let slice = |r: &Range<u32>| text[r.start as usize..r.end as usize].to_vec();
        let unwrapped = |word: Vec<u8>| match word.first() {
            Some(b'{') => lexical::unwrapped(&word).to_vec(),
            _ => word,
        };
        let mut out: Vec<Vec<u8>> = self.words.iter().take(FIELD_COUNT).map(slice).collect();
        if self.words.len() < FIELD_COUNT {
            return out;
        }
        let words = &self.words[FIELD_COUNT..];
        let args = postconf_args(words, text);
        for (option, value) in args.options {
            let option = option.bytes(text);
            let Some(value) = value.map(|v| v.bytes(text)) else {
                out.push(option);
                continue;
            };
            let value = match value.first() {
                Some(b'{') => {
                    let inner = lexical::unwrapped(&value);
                    let whole = 0..u32::try_from(inner.len()).unwrap_or(u32::MAX);
                    let part = |r: Range<u32>| &inner[r.start as usize..r.end as usize];
                    match lexical::split_nameval(inner, whole).filter(|_| option.len() > 1) {
                        Some((name, value)) => [part(name), b"=", part(value)].concat(),
                        None => inner.to_vec(),
                    }
                }
                _ => value,
            };
            out.push(option);
            out.push(value);
        }
        out.extend(words[args.rest..].iter().map(slice).map(unwrapped));
        out
    }

    /// The `-o` options that have a name, in order, as the daemon reads them.
    pub fn overrides(&self) -> impl Iterator<Item = &Override> {
        self.args.iter().filter_map(|arg| match arg {
            Arg::Override(o) if o.name.is_some() => Some(o),
            _ => None,
        })
    }
}

impl Entry for Service {
    fn span(&self) -> Span {
        self.layout.span()
    }

    /// Words, whitespace, newlines and skipped lines.
    fn tokens(&self) -> Vec<Token> {
        let mut logical: Vec<LogicalToken> = Vec::with_capacity(2 * self.words.len() + 2);
        let mut at = 0u32;
        for range in &self.words {
            if range.start > at {
                logical.push((TokenKind::Space, at..range.start));
            }
            logical.push((TokenKind::Word, range.clone()));
            at = range.end;
        }
        if self.visible > at {
            logical.push((TokenKind::Space, at..self.visible));
        }
        logical.extend(ignored_tail(&self.layout, self.visible));
        self.layout.tokens(&logical)
    }
}

/// Parses master.cf bytes. Never fails: problems are collected and parsing goes on.
pub fn parse(src: &[u8]) -> Parsed<MasterCf> {
    parse_with(src, |_| false)
}

/// [`parse`], where the `-o` values of the names `raw` picks are not expressions
/// (Postfix does not expand them), so a `$` in them is not read.
pub fn parse_with(src: &[u8], raw: fn(&[u8]) -> bool) -> Parsed<MasterCf> {
    let mut budget = Budget::new();
    let mut parsed = document::parse(src, |line, problems| {
        service(line, raw, &mut budget, problems)
    });
    parsed.tree.references = budget.into_names();
    parsed
}

/// `word := (brace-group | [^blank])+`, where a `{` opens a group that ends at its
/// matching `}` or at the end of the input, and blanks inside a group do not split.
fn word(input: &[u8]) -> IResult<&[u8], &[u8]> {
    let mut depth = 0usize;
    let len = input
        .iter()
        .position(|&b| {
            match b {
                b'{' => depth += 1,
                b'}' if depth > 0 => depth -= 1,
                _ if depth == 0 && is_blank(b) => return true,
                _ => {}
            }
            false
        })
        .unwrap_or(input.len());
    if len == 0 {
        return Err(nom::Err::Error(nom::error::Error::new(
            input,
            nom::error::ErrorKind::TakeTill1,
        )));
    }
    Ok((&input[len..], &input[..len]))
}

/// Whether a word opens a `{` it never closes: such a word runs to the end of the entry,
/// taking in whatever follows it.
pub fn leaves_brace_open(word: &[u8]) -> bool {
    let mut depth = 0usize;
    for &b in word {
        match b {
            b'{' => depth += 1,
            b'}' if depth > 0 => depth -= 1,
            _ => {}
        }
    }
    depth > 0
}

/// `words := blank* (word blank*)*` as logical-text ranges.
fn words(text: &[u8]) -> Vec<Range<u32>> {
    let mut ranges = Vec::new();
    let mut rest = text;
    loop {
        let Ok((after_blanks, _)) =
            take_while::<_, _, nom::error::Error<&[u8]>>(is_blank).parse(rest)
        else {
            break;
        };
        let Ok((after_word, w)) = word(after_blanks) else {
            break;
        };
        let start = (text.len() - after_blanks.len()) as u32;
        ranges.push(start..start + w.len() as u32);
        rest = after_word;
    }
    ranges
}

fn service(
    line: LogicalLine<'_>,
    raw: fn(&[u8]) -> bool,
    budget: &mut Budget,
    problems: &mut Vec<Problem>,
) -> Item<Service> {
    let LogicalLine { layout, visible } = line;
    let mut service = Service {
        words: words(visible),
        layout,
        visible: visible.len() as u32,
        args: Vec::new(),
        refused: None,
        postconf: None,
        postconf_options: false,
    };
    if service.words.len() < FIELD_COUNT {
        // No words at all happens when the line starts with a NUL byte.
        let whole = match (service.words.first(), service.words.last()) {
            (Some(first), Some(last)) => first.start..last.end,
            _ => 0..0,
        };
        problems.push(Problem::new(
            ProblemKind::FieldCount,
            service.source_span(whole),
            format!(
                "service entry has {} of the 8 required fields",
                service.words.len()
            ),
            "service, type, private, unpriv, chroot, wakeup, maxproc and command are all required",
        ));
    } else {
        service.refused = check_fields(&service, visible, problems);
        check_open_braces(&service, visible, problems);
        let mut args = arguments(&service, visible, problems);
        let (mut postconf, options) = postconf_overrides(&service.words[FIELD_COUNT..], visible);
        service.postconf_options = options;
        check_option_readings(&service, visible, &args, &postconf, problems);
        let reading = Reading { raw, budget };
        parse_values(
            &service,
            visible,
            reading,
            &mut args,
            &mut postconf,
            problems,
        );
        let same = postconf.iter().eq(args.iter().filter_map(|a| match a {
            Arg::Override(o) if o.name.is_some() => Some(o),
            _ => None,
        }));
        // A large master.cf holds a hundred thousand of these: no room to grow.
        args.shrink_to_fit();
        service.args = args;
        service.postconf = (!same).then_some(postconf);
    }
    service.words.shrink_to_fit();
    Item::Entry(Box::new(service))
}

/// A `{` inside an argument (not at its start, which [`strip_braces`] judges) that is
/// never closed: the daemon takes it as plain text, so the words after it, options
/// included, silently become part of this one.
fn check_open_braces(service: &Service, text: &[u8], problems: &mut Vec<Problem>) {
    for word in &service.words[FIELD_COUNT..] {
        let bytes = &text[word.start as usize..word.end as usize];
        if bytes.first() != Some(&b'{')
            && leaves_brace_open(bytes)
            && bytes.iter().any(|&b| is_blank(b))
        {
            problems.push(Problem::new(
                ProblemKind::UnbalancedBrace,
                service.source_span(word.clone()),
                "a `{` in this argument is never closed",
                "the rest of the entry, with the options after it, becomes part of this argument",
            ));
        }
    }
}

/// How a file's `-o` values are read as expressions.
struct Reading<'b> {
    /// The names whose values are not expressions.
    raw: fn(&[u8]) -> bool,
    /// What the file's parser may still keep.
    budget: &'b mut Budget,
}

/// Reads the `-o` values as expressions, once each: the daemon's reading reports the
/// malformed ones, and postconf's reading shares the parse of a value both read alike.
fn parse_values(
    service: &Service,
    text: &[u8],
    reading: Reading<'_>,
    args: &mut [Arg],
    postconf: &mut [Override],
    problems: &mut Vec<Problem>,
) {
    let Reading { raw, budget } = reading;
    let slice = |r: &Range<u32>| &text[r.start as usize..r.end as usize];
    let mut read = |o: &mut Override| match (&o.name, &o.value) {
        (Some(name), Some(value)) if !raw(slice(name)) => {
            let read = budget.read(slice(value));
            o.parse = read.parse;
            o.names = read.names;
            read.error
        }
        _ => None,
    };
    for arg in args.iter_mut() {
        let Arg::Override(o) = arg else { continue };
        let error = read(o);
        if let (Some(name), Some(value), Some(error)) = (&o.name, &o.value, error) {
            let at = value.start + error.span.start..value.start + error.span.end;
            problems.push(super::expression_problem(
                slice(name),
                service.source_span(at),
                &error,
            ));
        }
    }
    // Found by place, not searched for: one service can carry a hundred thousand `-o`s.
    let mut daemon_reading = HashMap::new();
    if !postconf.is_empty() {
        for a in args.iter() {
            if let Arg::Override(d) = a {
                daemon_reading.entry((&d.name, &d.value)).or_insert(d);
            }
        }
    }
    for o in postconf.iter_mut() {
        let same = daemon_reading
            .get(&(&o.name, &o.value))
            .map(|d| (d.parse.clone(), d.names.clone()));
        match same {
            Some((parse, names)) => {
                o.parse = parse;
                o.names = names;
            }
            None => {
                let _ = read(o);
            }
        }
    }
}

const TYPES: [&[u8]; 5] = [b"unix", b"fifo", b"inet", b"pass", b"unix-dgram"];

/// The per-field checks of postconf's `pcf_check_master_entry()` and the master daemon's
/// `get_master_ent()`; returns the first that postconf makes fatal (a bad type, flag,
/// wakeup or process limit; not a `-` command, which only the master daemon refuses).
fn check_fields(
    service: &Service,
    text: &[u8],
    problems: &mut Vec<Problem>,
) -> Option<ProblemKind> {
    let before = problems.len();
    let field = |f: Field| &service.words[f as usize];
    let bytes = |f: Field| &text[field(f).start as usize..field(f).end as usize];
    let problem = |f: Field, message: String, label: &str| {
        Problem::new(
            match f {
                Field::Type => ProblemKind::ServiceType,
                _ => ProblemKind::FieldValue,
            },
            service.source_span(field(f).clone()),
            message,
            label,
        )
    };
    let shown = |b: &[u8]| String::from_utf8_lossy(b).into_owned();

    if !TYPES.contains(&bytes(Field::Type)) {
        problems.push(problem(
            Field::Type,
            format!("invalid service type `{}`", shown(bytes(Field::Type))),
            "expected inet, unix, unix-dgram, fifo or pass",
        ));
    }
    for (f, name) in [
        (Field::Private, "private"),
        (Field::Unprivileged, "unpriv"),
        (Field::Chroot, "chroot"),
    ] {
        if !matches!(bytes(f), b"y" | b"n" | b"-") {
            problems.push(problem(
                f,
                format!("invalid {name} field `{}`", shown(bytes(f))),
                "expected y, n or -",
            ));
        }
    }
    let wakeup = bytes(Field::Wakeup);
    let wakeup_digits = wakeup.strip_suffix(b"?").unwrap_or(wakeup);
    if wakeup_digits != b"-" && !wakeup_digits.iter().all(u8::is_ascii_digit) {
        problems.push(problem(
            Field::Wakeup,
            format!("invalid wakeup field `{}`", shown(wakeup)),
            "expected -, or a number of seconds optionally followed by ?",
        ));
    }
    let maxproc = bytes(Field::MaxProc);
    if maxproc != b"-" && !maxproc.iter().all(u8::is_ascii_digit) {
        problems.push(problem(
            Field::MaxProc,
            format!("invalid maxproc field `{}`", shown(maxproc)),
            "expected - or a number of processes (0 means no limit)",
        ));
    }
    let refused = problems[before..].first().map(|p| p.kind);
    if bytes(Field::Command) == b"-" {
        problems.push(problem(
            Field::Command,
            "the command field has no default".to_owned(),
            "name the daemon program here",
        ));
    }
    if bytes(Field::Type) == b"inet" && matches!(bytes(Field::Private), b"y" | b"-") {
        problems.push(Problem::new(
            ProblemKind::PrivateInet,
            service.source_span(field(Field::Private).clone()),
            "an inet service cannot be private",
            "the private column defaults to y; use n for inet services",
        ));
    }
    refused
}

/// Reads the arguments after the command field. Options are read as getopt() in the
/// daemons reads them: letters after `-`, where `o` takes the rest of the word or the next
/// word as `name=value`. Braces around a value are removed as postconf and the master
/// daemon remove them (`extpar()` with whitespace stripping).
fn arguments(service: &Service, text: &[u8], problems: &mut Vec<Problem>) -> Vec<Arg> {
    let words = &service.words[FIELD_COUNT..];
    let slice = |r: &Range<u32>| &text[r.start as usize..r.end as usize];
    let mut args = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let range = words[i].clone();
        let word = slice(&range);
        // getopt() stops at the first word that is not an option; a lone `-` is not one.
        if word[0] != b'-' || word == b"--" || word == b"-" {
            break;
        }
        match word[1..].iter().position(|&b| b == b'o') {
            None => args.push(Arg::Flag(range)),
            Some(k) => {
                let o_at = range.start + 1 + k as u32;
                if k > 0 {
                    args.push(Arg::Flag(range.start..o_at));
                }
                let option = if k == 0 { range.start } else { o_at }..o_at + 1;
                let argument = if o_at + 1 < range.end {
                    Some(o_at + 1..range.end)
                } else if i + 1 < words.len() {
                    i += 1;
                    Some(words[i].clone())
                } else {
                    None
                };
                args.push(Arg::Override(override_option(
                    service, text, option, argument, problems,
                )));
            }
        }
        i += 1;
    }
    for w in &words[i..] {
        args.push(positional(service, text, w.clone(), problems));
    }
    args
}

/// Reports options that the daemon (getopt()) and postconf read differently, so that
/// `postconf -P` and `postconf -e`, and pflint with them, see other settings than the
/// daemon: `-oname=value` with another `o` in it, or a lone `-` before options.
fn check_option_readings(
    service: &Service,
    text: &[u8],
    args: &[Arg],
    postconf: &[Override],
    problems: &mut Vec<Problem>,
) {
    let words = &service.words[FIELD_COUNT..];
    let slice = |r: &Range<u32>| &text[r.start as usize..r.end as usize];
    let setting = |o: &Override| {
        let part = |r: &Option<Range<u32>>| r.as_ref().map(slice);
        (part(&o.name), part(&o.value))
    };
    let daemon: Vec<_> = args
        .iter()
        .filter_map(|a| match a {
            Arg::Override(o) if o.name.is_some() => Some(setting(o)),
            _ => None,
        })
        .collect();
    let postconf: Vec<_> = postconf.iter().map(setting).collect();
    if daemon == postconf {
        return;
    }
    let cause = words.iter().find(|w| {
        let word = slice(w);
        let after_option = word.iter().skip(1).position(|&b| b == b'o').map(|i| i + 2);
        word == b"-" || after_option.is_some_and(|i| word[i..].contains(&b'o'))
    });
    let span = cause.cloned().unwrap_or_else(|| {
        let first = words.first().map_or(0, |w| w.start);
        first..words.last().map_or(first, |w| w.end)
    });
    let shown = String::from_utf8_lossy(slice(&span)).into_owned();
    let (message, label) = if shown == "-" {
        (
            "a lone `-` ends the options for the daemon, but not for postconf".to_owned(),
            "the daemon ignores every option after this",
        )
    } else {
        (
            format!("postconf reads `{shown}` as other options than the daemon does"),
            "postconf cuts this word before each further `o`",
        )
    };
    problems.push(Problem::new(
        ProblemKind::OptionReading,
        service.source_span(span),
        message,
        label,
    ));
}

/// A piece of an option word: postconf cuts words apart and reads the pieces after the
/// first with a `-` in front that is not in the text.
#[derive(Clone)]
struct Piece {
    range: Range<u32>,
    added_dash: bool,
    /// The argument word it is (part of).
    word: usize,
}

impl Piece {
    /// The piece as postconf sees it, with its added dash.
    fn bytes(&self, text: &[u8]) -> Vec<u8> {
        let own = &text[self.range.start as usize..self.range.end as usize];
        if self.added_dash {
            [b"-", own].concat()
        } else {
            own.to_vec()
        }
    }
}

/// Whether an option word takes the next word as its value: `-o`, and a lone `-`,
/// because postconf looks the letter up with strchr(), which also finds the NUL.
pub fn takes_value(word: &[u8]) -> bool {
    matches!(word.get(1), Some(b'o') | None)
}

/// postconf's reading of the argument words: each option with its value (when its
/// letter takes one), and the index of the first word after the options.
struct PostconfArgs {
    options: Vec<(Piece, Option<Piece>)>,
    rest: usize,
}

/// postconf's reading of the options (`pcf_normalize_daemon_args()` and the loop that
/// registers `-o` settings): an option word is cut before every `o` after its second
/// byte (`-osyslog_name=x` reads as `-osysl`, `-og_name=x`), the letter after `-` is
/// looked up with strchr(), which also finds the NUL of a lone `-` (so `-` takes the next
/// word as a value), and a value in braces is unwrapped. The daemon's getopt() reads such
/// words differently; checks point that out.
fn postconf_args(words: &[Range<u32>], text: &[u8]) -> PostconfArgs {
    let mut queue: std::collections::VecDeque<Piece> = words
        .iter()
        .enumerate()
        .map(|(word, w)| Piece {
            range: w.clone(),
            added_dash: false,
            word,
        })
        .collect();
    let mut options = Vec::new();
    while let Some(mut piece) = queue.pop_front() {
        let word = piece.bytes(text);
        if word.first() != Some(&b'-') || word == b"--" {
            // Only a whole word can end the options: a cut piece starts with its dash.
            return PostconfArgs {
                options,
                rest: piece.word,
            };
        }
        if let Some(cut) = word.iter().skip(2).position(|&b| b == b'o') {
            // Offsets in `word` count the added dash, which the text does not have.
            let at = piece.range.start + (cut + 2) as u32 - u32::from(piece.added_dash);
            queue.push_front(Piece {
                range: at..piece.range.end,
                added_dash: true,
                word: piece.word,
            });
            piece.range.end = at;
        }
        let word = piece.bytes(text);
        if !takes_value(&word) {
            options.push((piece, None));
            continue;
        }
        let value = if word.len() > 2 {
            Some(Piece {
                range: piece.range.start + 2 - u32::from(piece.added_dash)..piece.range.end,
                added_dash: false,
                word: piece.word,
            })
        } else {
            queue.pop_front()
        };
        if word.len() > 2 {
            piece.range.end = piece.range.start + 2 - u32::from(piece.added_dash);
        }
        options.push((piece, value));
    }
    PostconfArgs {
        options,
        rest: words.len(),
    }
}

/// The `-o` settings in postconf's reading of the argument words.
fn postconf_overrides(words: &[Range<u32>], text: &[u8]) -> (Vec<Override>, bool) {
    let mut overrides = Vec::new();
    let mut any = false;
    for (piece, value) in postconf_args(words, text).options {
        if piece.bytes(text).get(1) != Some(&b'o') {
            continue;
        }
        any = true;
        let option = piece.range.clone();
        let Some(value) = value else {
            continue;
        };
        let argument = value.range.clone();
        let braced = text.get(argument.start as usize) == Some(&b'{');
        let inner = if braced {
            unwrap_braces(text, argument.clone()).0
        } else {
            argument.clone()
        };
        if let Some((name, setting)) = split_nameval(text, inner) {
            overrides.push(Override {
                option,
                argument: Some(argument),
                name: Some(name),
                value: Some(setting),
                braced,
                dashed: value.added_dash,
                parse: None,
                names: 0..0,
            });
        }
    }
    (overrides, any)
}

fn positional(
    service: &Service,
    text: &[u8],
    word: Range<u32>,
    problems: &mut Vec<Problem>,
) -> Arg {
    let inner = if text.get(word.start as usize) == Some(&b'{') {
        strip_braces(service, text, word.clone(), problems)
    } else {
        word.clone()
    };
    Arg::Positional { word, text: inner }
}

fn override_option(
    service: &Service,
    text: &[u8],
    option: Range<u32>,
    argument: Option<Range<u32>>,
    problems: &mut Vec<Problem>,
) -> Override {
    let Some(argument) = argument else {
        problems.push(Problem::new(
            ProblemKind::BadOverride,
            service.source_span(option.clone()),
            "`-o` at the end of the service entry has no `name=value`",
            "the daemon refuses to start with a `-o` that has no argument",
        ));
        return Override {
            option,
            argument: None,
            name: None,
            value: None,
            braced: false,
            dashed: false,
            parse: None,
            names: 0..0,
        };
    };
    let braced = text[argument.start as usize] == b'{';
    let inner = if braced {
        strip_braces(service, text, argument.clone(), problems)
    } else {
        argument.clone()
    };
    let (name, value) = match split_nameval(text, inner.clone()) {
        Some((name, value)) => (Some(name), Some(value)),
        None => {
            let shown = String::from_utf8_lossy(&text[inner.start as usize..inner.end as usize]);
            problems.push(Problem::new(
                ProblemKind::BadOverride,
                service.source_span(argument.clone()),
                format!("`-o {shown}` is not of the form `name=value`"),
                "the daemon refuses to start with this option",
            ));
            (None, None)
        }
    };
    Override {
        option,
        argument: Some(argument),
        name,
        value,
        braced,
        dashed: false,
        parse: None,
        names: 0..0,
    }
}

/// Postfix's `extpar(…, EXTPAR_FLAG_STRIP)`: the text inside the outer braces, trimmed.
/// Reports a missing `}` (the rest of the word is kept) or text after the `}` (dropped).
fn strip_braces(
    service: &Service,
    text: &[u8],
    range: Range<u32>,
    problems: &mut Vec<Problem>,
) -> Range<u32> {
    let (inner, trouble) = unwrap_braces(text, range.clone());
    match trouble {
        Some(BraceTrouble::Unclosed) => problems.push(Problem::new(
            ProblemKind::UnbalancedBrace,
            service.source_span(range),
            "missing `}` in a braced argument",
            "this `{` is never closed, so the rest of the entry becomes part of it",
        )),
        Some(BraceTrouble::TextAfter(after)) => problems.push(Problem::new(
            ProblemKind::UnbalancedBrace,
            service.source_span(after),
            "text after the closing `}` of a braced argument",
            "Postfix drops this text",
        )),
        None => {}
    }
    inner
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(src: &[u8]) -> (Service, Vec<Problem>) {
        let parsed = parse(src);
        let service = parsed
            .tree
            .items
            .into_iter()
            .find_map(|i| match i {
                Item::Entry(s) => Some(s),
                _ => None,
            })
            .expect("a service entry");
        (*service, parsed.problems)
    }

    fn overrides(src: &[u8]) -> Vec<(String, String)> {
        settings(src, |s| s.overrides().cloned().collect())
    }

    fn postconf_overrides(src: &[u8]) -> Vec<(String, String)> {
        settings(src, |s| s.postconf_overrides().cloned().collect())
    }

    fn settings(src: &[u8], read: fn(&Service) -> Vec<Override>) -> Vec<(String, String)> {
        let (s, _) = service(src);
        read(&s)
            .into_iter()
            .map(|o| {
                let text = |r: &Option<Range<u32>>| {
                    String::from_utf8_lossy(&s.text(src, r.clone().unwrap_or(0..0))).into_owned()
                };
                (text(&o.name), text(&o.value))
            })
            .collect()
    }

    #[test]
    fn the_fields_postconf_refuses_are_kept_with_the_entry() {
        let refused = |src: &[u8]| service(src).0.refused();
        assert_eq!(refused(b"smtp inet n - y - - smtpd\n"), None);
        assert_eq!(
            refused(b"x tcp n - y - - smtpd\n"),
            Some(ProblemKind::ServiceType)
        );
        assert_eq!(
            refused(b"x unix n - y - PH smtp\n"),
            Some(ProblemKind::FieldValue)
        );
        assert_eq!(
            refused(b"x unix n - y - - -\n"),
            None,
            "only the daemon refuses `-`"
        );
        assert_eq!(refused(b"x unix n\n"), Some(ProblemKind::FieldCount));
    }

    #[test]
    fn option_values_are_parsed_once_for_both_readings() {
        let src = b"sub inet n - y - - smtpd -o a=${b -o c=$d\n";
        let parsed = parse_with(src, |_| false);
        let kinds: Vec<_> = parsed.problems.iter().map(|p| p.kind).collect();
        // The open `${` also takes `-o c=$d` into `a`'s value.
        assert_eq!(
            kinds,
            [ProblemKind::UnbalancedBrace, ProblemKind::BadExpression]
        );
        let Some(Item::Entry(s)) = parsed.tree.items.first() else {
            panic!("expected a service")
        };
        let daemon: Vec<_> = s.overrides().collect();
        for (d, p) in daemon.iter().zip(s.postconf_overrides()) {
            let (d, p) = (d.parse.as_ref().unwrap(), p.parse.as_ref().unwrap());
            assert!(Rc::ptr_eq(d, p), "the two readings share one parse");
        }
    }

    #[test]
    fn reads_all_override_spellings() {
        let src = b"sub inet n - y - - smtpd -o a=1 -ob=2 -vo c=3\n  -o { d = 4 5 }\n  -o\n  e=\n";
        assert_eq!(
            overrides(src),
            [("a", "1"), ("b", "2"), ("c", "3"), ("d", "4 5"), ("e", "")]
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
        );
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_lone_dash_ends_the_options_for_the_daemon_not_for_postconf() {
        let src = b"s inet n - y - - smtpd - { x = 1 } -o a=1 - -o -o b=2 tail -o c=3\n";
        assert_eq!(overrides(src), []);
        assert_eq!(postconf_overrides(src), pairs(&[("a", "1"), ("b", "2")]));
    }

    #[test]
    fn postconf_cuts_option_words_before_each_o() {
        let src = b"s inet n - y - - smtpd -osyslog_name=postfix/x -o{ a = b } -o { c = d }\n";
        assert_eq!(
            overrides(src),
            pairs(&[("syslog_name", "postfix/x"), ("a", "b"), ("c", "d")])
        );
        // `-osysl`, `-og_name=p`, `-ostfix/x`: only the middle one is name=value.
        assert_eq!(
            postconf_overrides(src),
            pairs(&[("g_name", "p"), ("a", "b"), ("c", "d")])
        );
        // Both agree on every usual spelling.
        let usual = b"s inet n - y - - smtpd -o a=1 -ob=2 -vo c=3 -o { d = 4 5 }\n";
        assert_eq!(overrides(usual), postconf_overrides(usual));
    }

    #[test]
    fn braces_keep_whitespace_in_one_word_across_lines() {
        let src = b"s inet n - y - - smtpd -o {\n  x = y }\n";
        let (s, problems) = service(src);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(s.words.len(), 10);
        assert_eq!(s.source_span(s.words()[9].clone()), Span::new(26, 37));
    }

    #[test]
    fn unbalanced_brace_swallows_the_rest_of_the_line() {
        let src = b"s inet n - y - - smtpd\n  -o { a = b\n  -o c=d\n";
        assert_eq!(
            overrides(src),
            vec![("a".to_owned(), "b  -o c=d".to_owned())]
        );
        let (_, problems) = service(src);
        assert_eq!(problems[0].kind, ProblemKind::UnbalancedBrace);
    }

    #[test]
    fn a_brace_never_closed_inside_a_word_swallows_what_follows() {
        let src = b"s inet n - y - - smtpd\n  -o x{y=1\n  -o c=d\n";
        assert_eq!(
            overrides(src),
            vec![("x{y".to_owned(), "1  -o c=d".to_owned())]
        );
        let (_, problems) = service(src);
        assert_eq!(problems[0].kind, ProblemKind::UnbalancedBrace);
        let (_, problems) = service(b"s inet n - y - - smtpd\n  -o x{y=1\n");
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn field_problems_are_all_reported() {
        let (_, problems) = service(b"weird tcp x - y 1x - smtpd -o\n");
        let kinds: Vec<_> = problems.iter().map(|p| p.kind).collect();
        assert_eq!(
            kinds,
            [
                ProblemKind::ServiceType,
                ProblemKind::FieldValue,
                ProblemKind::FieldValue,
                ProblemKind::BadOverride
            ]
        );
    }

    #[test]
    fn too_few_fields() {
        let src = b"smtp inet n - y\n";
        let (s, problems) = service(src);
        assert_eq!(problems[0].kind, ProblemKind::FieldCount);
        assert!(s.args().is_empty());
    }
}
