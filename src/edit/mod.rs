//! The one path by which pflint changes a configuration, for `generate` and for
//! `check --fix` alike: edits are replacements of byte ranges of the original files (so
//! everything else stays byte for byte as it was), applied, shown as a unified diff, and
//! written atomically once the result is known to bring no new error.
//!
//! [`fix`] turns the rules' fixes into replacements and repeats check → fix until nothing
//! changes; [`master`] holds the master.cf option edits both users need.

pub mod fix;
pub mod master;

use std::path::Path;

use crate::atomic;
use crate::check;
use crate::diagnostic::Severity;
use crate::model::Version;
use crate::source::SourceFile;

pub use crate::diagnostic::Replacement;

/// Applies non-overlapping replacements; `None` when there are none.
pub fn apply(src: &[u8], mut edits: Vec<Replacement>) -> Result<Option<Vec<u8>>, String> {
    if edits.is_empty() {
        return Ok(None);
    }
    edits.sort_by_key(|e| (e.span.start, e.span.end));
    edits.dedup();
    // The result's exact size: a large file's result is most of what an edit holds.
    let replaced: usize = edits.iter().map(|e| e.span.len()).sum();
    let inserted: usize = edits.iter().map(|e| e.text.len()).sum();
    let mut out = Vec::with_capacity((src.len() + inserted).saturating_sub(replaced));
    let mut at = 0usize;
    for e in &edits {
        let (start, end) = (e.span.start as usize, e.span.end as usize);
        if start < at || end > src.len() {
            return Err("internal error: overlapping edits".to_owned());
        }
        out.extend_from_slice(&src[at..start]);
        out.extend_from_slice(e.text.as_bytes());
        at = end;
    }
    out.extend_from_slice(&src[at..]);
    Ok(Some(line_endings(src, out)))
}

/// New bytes with the line ending of the original file: inserted lines of a CR LF file end
/// in CR LF too.
pub fn line_endings(original: &[u8], new: Vec<u8>) -> Vec<u8> {
    if !uses_crlf(original) {
        return new;
    }
    let mut out = Vec::with_capacity(new.len() + new.len() / 16);
    for (i, &b) in new.iter().enumerate() {
        if b == b'\n' && (i == 0 || new[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

/// Whether a file's lines end in CR LF (judged by its first line).
pub fn uses_crlf(src: &[u8]) -> bool {
    memchr::memchr(b'\n', src).is_some_and(|i| i > 0 && src[i - 1] == b'\r')
}

/// The start of the line that holds byte `at`.
pub fn line_start(src: &[u8], at: u32) -> u32 {
    src[..at as usize]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i as u32 + 1)
}

/// Lines of text as `#` comment lines.
pub fn comment_lines(lines: &[String]) -> String {
    lines.iter().map(|l| format!("# {l}\n")).collect()
}

/// Text appended at the end of a file: on a line of its own.
pub fn at_end(src: &[u8], text: &str) -> Replacement {
    let newline = if src.is_empty() || src.ends_with(b"\n") {
        ""
    } else {
        "\n"
    };
    Replacement::insert(src.len() as u32, format!("{newline}{text}"))
}

/// How long a diff may search for the fewest changes before it settles for a larger one.
const DIFF_DEADLINE: std::time::Duration = std::time::Duration::from_secs(1);

/// A unified diff of one file, with `a/` and `b/` headers for `git apply` and
/// `patch -p1` run in the configuration directory.
pub fn diff(name: &str, old: Option<&[u8]>, new: &[u8]) -> Result<String, String> {
    use similar::algorithms::{Capture, IdentifyDistinct, Replace, patience};
    let text = |bytes| {
        std::str::from_utf8(bytes)
            .map_err(|_| format!("{name} is not UTF-8, so no diff can show it"))
    };
    let old_text = old.map(text).transpose()?.unwrap_or_default();
    let new_text = text(new)?;
    let old_header = if old.is_some() {
        format!("a/{name}")
    } else {
        "/dev/null".to_owned()
    };
    // Lines end at `\n` only, as for patch and Postfix (a lone CR is text).
    let old_lines: Vec<&str> = old_text.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = new_text.split_inclusive('\n').collect();
    let ids = IdentifyDistinct::<u32>::new(
        &old_lines[..],
        0..old_lines.len(),
        &new_lines[..],
        0..new_lines.len(),
    );
    // Patience anchors on the lines that occur once (a large master.cf's service names)
    // and runs Myers' diff only between them; an edit there changes a line of every
    // service. Past the deadline the rest is shown as removed and added, which is still
    // a patch that applies. similar's `TextDiff` is not used: it tidies the changes
    // found with a pass that is quadratic in their number.
    let mut changes = Replace::new(Capture::new());
    let Ok(()) = patience::diff_deadline(
        &mut changes,
        ids.old_lookup(),
        ids.old_range(),
        ids.new_lookup(),
        ids.new_range(),
        std::time::Instant::now().checked_add(DIFF_DEADLINE),
    );
    let hunks = similar::group_diff_ops(changes.into_inner().into_ops(), 3);
    let mut out = String::new();
    for (i, hunk) in hunks.iter().filter(|h| !h.is_empty()).enumerate() {
        if i == 0 {
            out.push_str(&format!("--- {old_header}\n+++ b/{name}\n"));
        }
        out.push_str(&format!(
            "{}\n",
            similar::udiff::UnifiedHunkHeader::new(hunk)
        ));
        for op in hunk {
            let (_, old_range, new_range) = op.as_tag_tuple();
            let (removed, added, kept) = match op.tag() {
                similar::DiffTag::Equal => (&[][..], &[][..], &old_lines[old_range]),
                _ => (&old_lines[old_range], &new_lines[new_range], &[][..]),
            };
            for (mark, lines) in [(' ', kept), ('-', removed), ('+', added)] {
                for line in lines {
                    out.push(mark);
                    out.push_str(line);
                    if !line.ends_with('\n') {
                        out.push_str("\n\\ No newline at end of file\n");
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Errors (parse problems included) the new files have and the old ones do not, each as
/// `file: error[CODE] message`.
pub fn new_errors(
    old: (&[u8], Option<&[u8]>),
    new: (&[u8], Option<&[u8]>),
    version: Version,
) -> Vec<String> {
    let errors = |(main, master): (&[u8], Option<&[u8]>)| -> Vec<String> {
        let file = |name: &str, bytes: &[u8]| SourceFile::new(name, bytes.to_vec()).ok();
        let options = check::Options {
            target: crate::model::version::Target::given(version),
            ..check::Options::default()
        };
        check::check_files(
            file("main.cf", main),
            master.and_then(|m| file("master.cf", m)),
            &options,
        )
        .iter()
        .flat_map(|c| {
            c.findings
                .iter()
                .filter(|f| f.severity == Severity::Error)
                .map(|f| {
                    format!(
                        "{}: {}[{}] {}",
                        c.file.name().display(),
                        f.severity,
                        f.code,
                        f.message()
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect()
    };
    // Counted, not searched: a large master.cf can have an error on every service.
    let mut before: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for error in errors(old) {
        *before.entry(error).or_default() += 1;
    }
    errors(new)
        .into_iter()
        .filter(|e| match before.get_mut(e) {
            Some(left) if *left > 0 => {
                *left -= 1;
                false
            }
            _ => true,
        })
        .collect()
}

/// Writes the changed files together (journal in `dir`), after printing the warnings the
/// write has for the user. `again` is the command that finishes an interrupted write.
pub fn write(dir: &Path, changes: &[atomic::Change], again: &str) -> Result<(), String> {
    let prepared = atomic::prepare(dir, changes).map_err(|e| cannot_write(changes, &e, again))?;
    for warning in prepared.warnings() {
        eprintln!("pflint: warning: {warning}");
    }
    prepared
        .commit()
        .map_err(|e| cannot_write(changes, &e, again))
}

/// What a failed write changed and what it did not, and how to go on.
fn cannot_write(changes: &[atomic::Change], e: &atomic::Error, again: &str) -> String {
    if e.committed().is_empty() {
        let names: Vec<String> = changes
            .iter()
            .map(|c| c.path.display().to_string())
            .collect();
        return format!("cannot write {}: {e}", names.join(" and "));
    }
    if e.pending().is_empty() {
        return e.to_string();
    }
    let replaced: Vec<String> = e
        .committed()
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    format!(
        "{e}. The files may not fit together now: run {again} again to finish (it makes only the edits left), or restore {} from a backup (pflint keeps no copy)",
        replaced.join(" and ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Span;

    #[test]
    fn a_diff_splits_lines_at_newlines_only_and_marks_a_missing_one() {
        let old = b"a = 1\rb\nc = 2\nd = 3\ne = 4\nf = 5\ng = 6\nh = 7\ni = 8\nlast = 9";
        let new = b"a = 1\rb\nc = 2\nd = 3\ne = 4\nf = 5\ng = 6\nh = 7\ni = 8\nlast = 10";
        let shown = diff("main.cf", Some(old), new).expect("UTF-8");
        assert_eq!(
            shown,
            "--- a/main.cf\n+++ b/main.cf\n@@ -6,4 +6,4 @@\n g = 6\n h = 7\n i = 8\n-last = 9\n\
             \\ No newline at end of file\n+last = 10\n\\ No newline at end of file\n"
        );
        let first = diff("main.cf", Some(old), b"a = 0\rb\n").expect("UTF-8");
        assert!(
            first.starts_with("--- a/main.cf\n+++ b/main.cf\n@@ -1,9 +1 @@\n-a = 1\rb\n-c = 2\n")
        );
        assert!(first.ends_with("-last = 9\n\\ No newline at end of file\n+a = 0\rb\n"));
        assert_eq!(diff("main.cf", Some(old), old).expect("UTF-8"), "");
        let created = diff("main.cf", None, b"x = 1\n").expect("UTF-8");
        assert_eq!(
            created,
            "--- /dev/null\n+++ b/main.cf\n@@ -0,0 +1 @@\n+x = 1\n"
        );
    }

    #[test]
    fn a_result_with_a_new_error_is_found_before_anything_is_written() {
        let version = Version::new(3, 11);
        let old = b"smtpd_tls_security_level = may\n".as_slice();
        let broken = b"smtpd_tls_security_level = may\npermit_mynetworks,\n".as_slice();
        assert!(new_errors((old, None), (old, None), version).is_empty());
        let found = new_errors((old, None), (broken, None), version);
        assert!(found.iter().any(|e| e.contains("PF001")), "{found:?}");
    }

    #[test]
    fn inserted_lines_take_the_files_line_ending() {
        let src = b"a = 1\r\nb = 2\r\n";
        let out = apply(src, vec![at_end(src, "c = 3\n")]).unwrap();
        assert_eq!(
            out.as_deref(),
            Some(b"a = 1\r\nb = 2\r\nc = 3\r\n".as_slice())
        );
    }

    #[test]
    fn overlapping_replacements_are_refused() {
        let src = b"a = 1\n";
        let one = Replacement {
            span: Span { start: 4, end: 5 },
            text: "2".into(),
        };
        let two = Replacement {
            span: Span { start: 0, end: 6 },
            text: String::new(),
        };
        assert!(one.overlaps(&two));
        assert!(apply(src, vec![one, two]).is_err());
    }
}
