//! What the fuzz targets share: how an input becomes files, and the checks that hold for
//! every parsed file.

use pflint::source::{SourceFile, Span};
use pflint::syntax::{self, FileKind, Tree};

/// The directory the fuzzed files claim to be in. It does not exist, so that the checks
/// that look for files beside main.cf (Cyrus SASL configurations) find nothing and never
/// read whatever happens to be in the fuzzer's working directory.
const DIR: &str = "/nonexistent/pflint-fuzz";

/// Splits an input of the two-file targets at its first NUL byte: main.cf before it,
/// master.cf after it; without a NUL byte there is no master.cf (Postfix's stock one is
/// then assumed, a path of its own). `fuzz/seed.sh` writes seeds in this format.
pub fn split(data: &[u8]) -> (&[u8], Option<&[u8]>) {
    match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    }
}

/// A file named `name` in [`DIR`]. The fuzzer's inputs are far below the 4 GiB
/// [`SourceFile::new`] refuses.
pub fn file(name: &str, bytes: &[u8]) -> SourceFile {
    SourceFile::new(format!("{DIR}/{name}"), bytes.to_vec()).expect("fuzz inputs are small")
}

/// Asserts that a span lies inside a file of `len` bytes and is not reversed.
pub fn assert_span_in(span: Span, len: usize, what: &str) {
    assert!(
        span.start <= span.end && span.end as usize <= len,
        "{what}: span {span:?} outside the {len} bytes of the file"
    );
}

/// Parses `src` as `kind` and checks what the parser promises for any input
/// (`src/syntax/mod.rs`): it does not panic, its leaves tile the input (contiguous, none
/// empty, from the first byte to the last), printing the tree gives back the input byte for
/// byte, and every problem points inside the file at a position that renders. Returns the
/// tree and problems for checks of their own.
pub fn parse_lossless(kind: FileKind, src: &[u8]) -> (Tree, Vec<syntax::Problem>) {
    let (tree, problems) = syntax::parse(kind, src);

    let mut at = 0u32;
    for leaf in tree.leaves(src) {
        assert_eq!(leaf.span.start, at, "leaves must be contiguous: {leaf:?}");
        assert!(!leaf.span.is_empty(), "empty leaf {leaf:?}");
        at = leaf.span.end;
    }
    assert_eq!(
        at as usize,
        src.len(),
        "the leaves must cover the whole input"
    );
    assert!(
        tree.print(src) == src,
        "the printed tree differs from the input"
    );

    let source = file("fuzzed.cf", src);
    for problem in &problems {
        assert_span_in(problem.span, src.len(), "problem");
        // Lines and columns are 1-based; a span may end at the end of the file.
        for offset in [problem.span.start, problem.span.end] {
            let position = source.position(offset);
            assert!(position.line >= 1 && position.column >= 1, "{position:?}");
        }
    }
    (tree, problems)
}
