//! master.cf bytes → tree: lossless, in bounds, and every accessor of a service entry
//! (fields, arguments, `-o` overrides as the daemon and as postconf read them) returns
//! ranges inside the entry's logical text.

#![no_main]

use std::ops::Range;

use libfuzzer_sys::fuzz_target;
use pflint::source::Span;
use pflint::syntax::document::{Entry, Item};
use pflint::syntax::master_cf::{Arg, FIELD_COUNT, Field, Override, Service};
use pflint::syntax::{FileKind, Tree};
use pflint_fuzz::{assert_span_in, parse_lossless};

const FIELDS: [Field; FIELD_COUNT] = [
    Field::Service,
    Field::Type,
    Field::Private,
    Field::Unprivileged,
    Field::Chroot,
    Field::Wakeup,
    Field::MaxProc,
    Field::Command,
];

/// Postfix's `ISSPACE`, which `-o` names and values are split and trimmed with.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Checks a range of a service's logical text and returns its bytes. `Service::text`
/// clamps to the logical text, so a range is inside it exactly when the bytes it gives
/// are as long as the range; its file span must lie inside the entry.
fn logical(s: &Service, src: &[u8], range: &Range<u32>, what: &str) -> Vec<u8> {
    assert!(range.start <= range.end, "{what}: reversed range {range:?}");
    let bytes = s.text(src, range.clone()).into_owned();
    assert_eq!(
        bytes.len(),
        range.len(),
        "{what}: {range:?} beyond the logical text"
    );
    let span = s.source_span(range.clone());
    let whole = s.span();
    assert_span_in(span, src.len(), what);
    assert!(
        span.start >= whole.start && span.end <= whole.end,
        "{what}: {span:?} outside its entry {whole:?}"
    );
    bytes
}

/// An override's parts lie inside its argument; a named one has a non-empty name without
/// whitespace or `=` and a value trimmed like a main.cf value (`split_nameval()`).
fn check_override(s: &Service, src: &[u8], o: &Override) {
    let option = logical(s, src, &o.option, "-o letter");
    assert!(option.ends_with(b"o"), "option {option:?}");
    let Some(argument) = &o.argument else {
        assert!(
            o.name.is_none() && o.value.is_none(),
            "a name without an argument"
        );
        return;
    };
    let argument_bytes = logical(s, src, argument, "-o argument");
    assert_eq!(o.braced, argument_bytes.first() == Some(&b'{'));
    for part in [&o.name, &o.value].into_iter().flatten() {
        assert!(part.start >= argument.start && part.end <= argument.end);
    }
    if let (Some(name), Some(value)) = (&o.name, &o.value) {
        let name = logical(s, src, name, "-o name");
        assert!(!name.is_empty(), "empty -o name");
        assert!(name.iter().all(|&b| !is_space(b) && b != b'='), "{name:?}");
        let value = logical(s, src, value, "-o value");
        assert!(
            !value.first().is_some_and(|&b| is_space(b)),
            "value not trimmed"
        );
        assert!(
            !value.last().is_some_and(|&b| is_space(b)),
            "value not trimmed"
        );
    } else {
        assert!(
            o.name.is_none() && o.value.is_none(),
            "a name without a value"
        );
    }
}

fn check_service(s: &Service, src: &[u8]) {
    assert_span_in(s.span(), src.len(), "service entry");
    // Words are non-empty, in order, and never overlap; a blank-separated word holds no
    // blank outside braces, so its first byte is not one.
    let mut end = 0u32;
    for (i, w) in s.words().iter().enumerate() {
        assert!(
            w.start >= end && !w.is_empty(),
            "word {i}: {w:?} after {end}"
        );
        end = w.end;
        let word = logical(s, src, w, "word");
        assert!(!matches!(word[0], b' ' | b'\t' | b'\r' | b'\n'), "{word:?}");
    }
    for (i, f) in FIELDS.into_iter().enumerate() {
        assert_eq!(s.field(f), s.words().get(i).cloned());
    }

    let args = s.args();
    if s.words().len() < FIELD_COUNT {
        // Documented: no arguments without all eight fields.
        assert!(args.is_empty());
    }
    for arg in args {
        match arg {
            Arg::Flag(r) => {
                let flag = logical(s, src, r, "flag");
                assert!(flag.starts_with(b"-") && flag.len() >= 2, "flag {flag:?}");
            }
            Arg::Override(o) => check_override(s, src, o),
            Arg::Positional { word, text } => {
                logical(s, src, word, "positional word");
                logical(s, src, text, "positional text");
                assert!(text.start >= word.start && text.end <= word.end);
            }
        }
    }
    // The daemon's named overrides are exactly the named `-o` arguments.
    let overrides: Vec<_> = s.overrides().collect();
    let named = args
        .iter()
        .filter(|a| matches!(a, Arg::Override(o) if o.name.is_some()))
        .count();
    assert_eq!(overrides.len(), named);
    for o in overrides.iter().copied().chain(s.postconf_overrides()) {
        assert!(
            o.name.is_some() && o.value.is_some(),
            "an override without a setting"
        );
        check_override(s, src, o);
    }
}

fuzz_target!(|src: &[u8]| {
    let (tree, _) = parse_lossless(FileKind::Master, src);
    let Tree::Master(master) = tree else {
        panic!("master.cf parsed into a main.cf tree");
    };
    let mut at = 0u32;
    for item in &master.items {
        let span: Span = item.span();
        assert_eq!(span.start, at, "items must be contiguous");
        assert!(!span.is_empty(), "empty item");
        at = span.end;
        if let Item::Entry(s) = item {
            check_service(s, src);
        }
    }
    assert_eq!(
        at as usize,
        src.len(),
        "the items must cover the whole input"
    );
});
