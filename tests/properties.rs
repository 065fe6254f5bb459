//! Property tests: on any input, parsing never panics, the tree prints back the input
//! byte for byte, and every diagnostic has a location inside the file that renders.

mod common;

use pflint::check;
use pflint::report::{self, Format, Style};
use pflint::source::SourceFile;
use pflint::syntax::{self, FileKind, expr, list};
use proptest::prelude::*;

/// Pieces that make parsers take their unusual paths, mixed with arbitrary bytes.
fn config_like() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\n  ".to_vec()),
        Just(b"\n\t".to_vec()),
        Just(b"\n#".to_vec()),
        Just(b" ".to_vec()),
        Just(b"=".to_vec()),
        Just(b"name".to_vec()),
        Just(b"smtp inet n - y - - smtpd".to_vec()),
        Just(b"-o".to_vec()),
        Just(b"-o{".to_vec()),
        Just(b"{".to_vec()),
        Just(b"}".to_vec()),
        Just(b"$".to_vec()),
        Just(b"${".to_vec()),
        Just(b"$(".to_vec()),
        Just(b")".to_vec()),
        Just(b"?".to_vec()),
        Just(b":".to_vec()),
        Just(b"==".to_vec()),
        Just(b"<level".to_vec()),
        Just(b",".to_vec()),
        Just(b"\0".to_vec()),
        Just(b"\xff\xfe".to_vec()),
        Just("é".as_bytes().to_vec()),
        Just(b"\x0b".to_vec()),
        any::<u8>().prop_map(|b| vec![b]),
    ];
    prop::collection::vec(piece, 0..80).prop_map(|pieces| pieces.concat())
}

fn any_input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![config_like(), prop::collection::vec(any::<u8>(), 0..300)]
}

fn assert_lossless_and_located(bytes: &[u8], kind: FileKind) -> Result<(), TestCaseError> {
    let (tree, _) = syntax::parse(kind, bytes);
    let mut at = 0u32;
    for leaf in tree.leaves(bytes) {
        prop_assert_eq!(leaf.span.start, at, "leaves must be contiguous");
        prop_assert!(!leaf.span.is_empty(), "no empty leaf");
        at = leaf.span.end;
    }
    prop_assert_eq!(at as usize, bytes.len());
    prop_assert_eq!(tree.print(bytes), bytes);

    let file = |name: &str| Some(SourceFile::new(name, bytes.to_vec()).unwrap());
    let options = check::Options::default();
    let checked = if kind == FileKind::Master {
        check::check_files(None, file("master.cf"), &options)
    } else {
        check::check_files(file("main.cf"), None, &options)
    };
    let checked = checked.into_iter().next().unwrap();
    for finding in &checked.findings {
        prop_assert!(finding.span.start <= finding.span.end);
        prop_assert!(finding.span.end as usize <= bytes.len());
        let start = checked.file.position(finding.span.start);
        prop_assert!(start.line >= 1 && start.column >= 1);
    }
    let mut out = Vec::new();
    report::write(Format::Human, Style::Plain, &[checked], &mut out).unwrap();
    Ok(())
}

proptest! {
    // PROPTEST_CASES=100000 runs a longer search.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(1500),
        ..ProptestConfig::default()
    })]

    #[test]
    fn main_cf_parsing_is_lossless_and_located(bytes in any_input()) {
        assert_lossless_and_located(&bytes, FileKind::Main)?;
    }

    #[test]
    fn master_cf_parsing_is_lossless_and_located(bytes in any_input()) {
        assert_lossless_and_located(&bytes, FileKind::Master)?;
    }

    #[test]
    fn expressions_and_lists_stay_in_bounds(bytes in any_input()) {
        let (parsed, error) = expr::parse(&bytes);
        for range in parsed.names() {
            prop_assert!(range.start <= range.end && range.end as usize <= bytes.len());
        }
        if let Some(e) = error {
            prop_assert!(e.span.start <= e.span.end && e.span.end as usize <= bytes.len());
        }
        let (elements, errors) = list::split(&bytes);
        for e in &elements {
            prop_assert!(e.span.start <= e.text.start && e.text.end <= e.span.end);
            prop_assert!(e.span.end as usize <= bytes.len());
        }
        for e in &errors {
            prop_assert!(e.span.end as usize <= bytes.len());
        }
    }
}
