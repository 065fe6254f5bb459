//! main.cf bytes → tree: lossless, in bounds, and split the way Postfix splits
//! `name = value` lines.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pflint::syntax::document::{Entry, Item};
use pflint::syntax::{FileKind, ProblemKind, Tree, expr, list};
use pflint_fuzz::{assert_span_in, parse_lossless};

/// Postfix's `ISSPACE`, which main.cf's parser splits and trims with.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fuzz_target!(|src: &[u8]| {
    let (tree, problems) = parse_lossless(FileKind::Main, src);
    let Tree::Main(main) = tree else {
        panic!("main.cf parsed into a master.cf tree");
    };

    // The items tile the file too: each starts where the one before it ended.
    let mut at = 0u32;
    for item in &main.items {
        let span = item.span();
        assert_eq!(span.start, at, "items must be contiguous");
        assert!(!span.is_empty(), "empty item");
        at = span.end;

        match item {
            Item::Entry(p) => {
                let whole = p.span();
                let inside = |s: pflint::source::Span| {
                    assert_span_in(s, src.len(), "parameter part");
                    assert!(
                        s.start >= whole.start && s.end <= whole.end,
                        "outside its entry"
                    );
                };
                let (name, equals, value) = (p.name_span(), p.equals_span(), p.value_span());
                inside(name);
                inside(equals);
                inside(value);
                // `name := [^space=]+` and a logical line starts with neither whitespace
                // nor `#` (that would be a continuation or a comment), nor is a NUL byte
                // part of the text Postfix sees.
                let name_bytes = p.name(src);
                assert!(!name_bytes.is_empty(), "empty name");
                assert!(
                    name_bytes
                        .iter()
                        .all(|&b| !is_space(b) && b != b'=' && b != 0),
                    "name {name_bytes:?}"
                );
                assert_ne!(name_bytes[0], b'#');
                // The `=` is one byte, after the name; the value comes after it.
                assert_eq!(&src[equals.range()], b"=");
                assert!(name.end <= equals.start && equals.end <= value.start);
                // The value is the logical text Postfix stores: lines joined without
                // their newlines, trimmed of whitespace at both ends, cut at a NUL byte;
                // its length is that of its logical range (so the range is in bounds).
                let v = p.value(src);
                assert_eq!(
                    v.len(),
                    p.value_range().len(),
                    "value out of its logical text"
                );
                assert!(!v.contains(&b'\n') && !v.contains(&0), "value {v:?}");
                assert!(
                    !v.first().is_some_and(|&b| is_space(b)),
                    "value not trimmed"
                );
                assert!(!v.last().is_some_and(|&b| is_space(b)), "value not trimmed");
                // The value grammars report positions inside the value they were given.
                let (_, error) = expr::parse(&v);
                if let Some(e) = error {
                    assert!(e.span.start <= e.span.end && e.span.end as usize <= v.len());
                    // And the checker maps them back into the file through the entry.
                    let base = p.value_range().start;
                    inside(p.source_span(base + e.span.start..base + e.span.end));
                }
                let (elements, errors) = list::split(&v);
                for el in &elements {
                    assert!(el.span.start <= el.span.end && el.span.end as usize <= v.len());
                    assert!(el.text.start >= el.span.start && el.text.end <= el.span.end);
                }
                for e in &errors {
                    assert!(e.span.start <= e.span.end && e.span.end as usize <= v.len());
                }
            }
            Item::Rejected(r) => {
                // A rejected main.cf line is rejected for one of main.cf's reasons, and
                // that reason is among the problems reported.
                assert!(matches!(
                    r.reason(),
                    ProblemKind::MissingEquals
                        | ProblemKind::MissingName
                        | ProblemKind::LeadingWhitespace
                ));
                assert!(problems.iter().any(|p| p.kind == r.reason()));
            }
            Item::Blank(_) | Item::Comment(_) => {}
        }
    }
    assert_eq!(
        at as usize,
        src.len(),
        "the items must cover the whole input"
    );
});
