//! The parser against real configurations and real Postfix: every corpus file prints back
//! byte for byte, and pflint reports a syntax problem exactly where postconf 3.7.11 did.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use pflint::check;
use pflint::input::config_dir::ConfigDir;
use pflint::model::HostFacts;
use pflint::syntax::{self, FileKind, ProblemKind, TokenKind};

#[test]
fn every_corpus_file_round_trips_byte_for_byte() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let mut checked = 0;
    let mut failures = Vec::new();
    for set in common::corpus_sets(&corpus) {
        for (name, kind) in [("main.cf", FileKind::Main), ("master.cf", FileKind::Master)] {
            let path = set.dir.join(name);
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            checked += 1;
            let (tree, _) = syntax::parse(kind, &bytes);
            if let Err(why) = tiles(&tree.leaves(&bytes), bytes.len()) {
                failures.push(format!(
                    "{}: leaves do not tile the file: {why}",
                    path.display()
                ));
            }
            let printed = tree.print(&bytes);
            if printed != bytes {
                failures.push(format!(
                    "{}: printed tree differs from the file\n{}",
                    path.display(),
                    first_difference(&bytes, &printed)
                ));
            }
        }
    }
    common::visible(&format!(
        "corpus round trip: {} of {checked} files byte-exact",
        checked - failures.len()
    ));
    assert!(checked > 0, "the corpus has no files");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Checks that leaves are contiguous from 0 to `len`, with no empty leaf.
fn tiles(leaves: &[syntax::Token], len: usize) -> Result<(), String> {
    let mut at = 0u32;
    for leaf in leaves {
        if leaf.span.start != at || leaf.span.is_empty() {
            return Err(format!("leaf {leaf:?} where offset {at} was expected"));
        }
        at = leaf.span.end;
    }
    if at as usize != len {
        return Err(format!("leaves end at {at}, the file at {len}"));
    }
    Ok(())
}

fn first_difference(expected: &[u8], actual: &[u8]) -> String {
    let expected = String::from_utf8_lossy(expected);
    let actual = String::from_utf8_lossy(actual);
    similar::TextDiff::from_lines(&*expected, &*actual)
        .unified_diff()
        .context_radius(2)
        .header("file", "printed")
        .to_string()
}

/// A syntax problem as postconf reported it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Reported {
    kind: ProblemKind,
    file: &'static str,
    line: Option<u32>,
}

/// The kinds postconf itself detects. The others (a `-o` without `=`, an inet service
/// left private, a NUL byte) only make the daemons fail, and postconf does not know that
/// it reads some options unlike the daemon, so postconf stays silent.
fn postconf_detects(kind: ProblemKind) -> bool {
    !matches!(
        kind,
        ProblemKind::BadOverride
            | ProblemKind::PrivateInet
            | ProblemKind::NulByte
            | ProblemKind::OptionReading
    )
}

/// Parses postconf's stderr into the syntax problems it names.
fn postconf_reports(text: &str) -> BTreeSet<Reported> {
    let mut reports = BTreeSet::new();
    for line in text.lines() {
        let file = if line.contains("master.cf") {
            "master.cf"
        } else {
            "main.cf"
        };
        let number = line
            .split("line ")
            .nth(1)
            .and_then(|rest| rest.split(':').next())
            .and_then(|n| n.parse().ok());
        let kind = if line.contains("missing '=' after attribute name") && file == "master.cf" {
            ProblemKind::BadOverride
        } else if line.contains("missing '=' after attribute name") {
            ProblemKind::MissingEquals
        } else if line.contains("missing attribute name") {
            ProblemKind::MissingName
        } else if line.contains("logical line must not start with whitespace") {
            ProblemKind::LeadingWhitespace
        } else if line.contains("bad field count") {
            ProblemKind::FieldCount
        } else if line.contains("invalid type field") {
            ProblemKind::ServiceType
        } else if line.contains("fatal: invalid ") && line.contains(" field ") {
            ProblemKind::FieldValue
        } else if line.contains("missing '}'") || line.contains("syntax error after '}'") {
            ProblemKind::UnbalancedBrace
        } else if [
            "attribute name syntax error",
            "truncated macro reference",
            "empty macro name",
            "unbalanced {}",
            "expected at:",
            "unexpected input at:",
            "bad operator suffix",
            "unknown function",
        ]
        .iter()
        .any(|m| line.contains(m))
        {
            // postconf names no file for these; the value may be in either file.
            reports.insert(Reported {
                kind: ProblemKind::BadExpression,
                file: "",
                line: None,
            });
            continue;
        } else {
            continue;
        };
        // Field and brace errors name no file, but only master.cf has fields.
        let file = match kind {
            ProblemKind::FieldCount
            | ProblemKind::ServiceType
            | ProblemKind::FieldValue
            | ProblemKind::UnbalancedBrace => "master.cf",
            _ => file,
        };
        reports.insert(Reported {
            kind,
            file,
            line: number,
        });
    }
    reports
}

fn our_reports(dir: &Path) -> Vec<(ProblemKind, &'static str, u32)> {
    let config = ConfigDir::read(dir).expect("corpus set is readable");
    let options = check::Options {
        target: pflint::model::version::Target::given("3.7.11".parse().unwrap()),
        host: HostFacts::corpus(),
        ..check::Options::default()
    };
    let mut reports = Vec::new();
    for checked in check::check_config(config, &options) {
        let name = if checked.kind == FileKind::Master {
            "master.cf"
        } else {
            "main.cf"
        };
        for finding in &checked.findings {
            // Only the parser's own problems; the model's findings have their own test.
            let Some(kind) = ProblemKind::ALL
                .into_iter()
                .find(|k| k.code() == finding.code)
            else {
                continue;
            };
            let line = checked.file.position(finding.span.start).line;
            reports.push((kind, name, line));
        }
    }
    reports
}

#[test]
fn syntax_problems_match_postconf_on_every_corpus_set() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let mut failures = Vec::new();
    let mut agreeing = 0;
    let sets = common::corpus_sets(&corpus);
    for set in &sets {
        let stderr = [
            "postconf.warnings.txt",
            "postconf.nx.warnings.txt",
            "postconf.M.warnings.txt",
        ]
        .map(|f| set.oracle(f))
        .concat();
        let postconf_failed = set.oracle("postconf.rc.txt").contains(": 1");
        let theirs = postconf_reports(&stderr);
        let ours = our_reports(&set.dir);
        let mut problems = Vec::new();

        for reported in &theirs {
            let found = ours.iter().any(|(kind, file, line)| {
                *kind == reported.kind
                    && (reported.file.is_empty() || *file == reported.file)
                    && reported.line.is_none_or(|l| l == *line)
            });
            if !found {
                problems.push(format!("postconf reports {reported:?}, pflint does not"));
            }
        }
        for (kind, file, line) in &ours {
            if postconf_detects(*kind) {
                let matched = theirs.iter().any(|r| {
                    r.kind == *kind
                        && (r.file.is_empty() || r.file == *file)
                        && r.line.is_none_or(|l| l == *line)
                });
                // A fatal error stops postconf, so it may not have reached later problems.
                if !matched && !postconf_failed {
                    problems.push(format!(
                        "pflint reports {kind:?} at {file}:{line}, postconf does not"
                    ));
                }
            } else if set.is_synthetic() {
                common::visible(&format!(
                    "{}: {kind:?} at {file}:{line} (a daemon refuses this; postconf is silent)",
                    set.name
                ));
            } else {
                problems.push(format!(
                    "{kind:?} at {file}:{line} in a real configuration that runs in production"
                ));
            }
        }
        if problems.is_empty() {
            agreeing += 1;
        } else {
            failures.push(format!("{}:\n  {}", set.name, problems.join("\n  ")));
        }
    }
    common::visible(&format!(
        "corpus syntax problems: pflint agrees with postconf on {agreeing} of {} sets",
        sets.len()
    ));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn values_are_the_ones_postconf_prints() {
    // postconf -n prints each value with whitespace runs collapsed; comparing the parsed
    // values that way checks continuation, comment and trimming rules on real files.
    let Some(corpus) = common::corpus() else {
        return;
    };
    let mut compared = 0;
    let mut failures = Vec::new();
    for set in common::corpus_sets(&corpus) {
        let expected = std::fs::read(set.dir.join("postconf.n.txt")).unwrap_or_default();
        if set.oracle("postconf.rc.txt").contains("-n: 1") {
            continue;
        }
        let bytes = std::fs::read(set.dir.join("main.cf")).expect("main.cf is readable");
        let (tree, _) = syntax::parse(FileKind::Main, &bytes);
        let syntax::Tree::Main(main) = tree else {
            unreachable!()
        };
        // The last assignment wins, as in Postfix.
        let mut values = std::collections::BTreeMap::new();
        for p in main.entries() {
            values.insert(p.name(&bytes).to_vec(), p.value(&bytes).into_owned());
        }
        for line in expected.split(|&b| b == b'\n') {
            let Some(equals) = line.windows(2).position(|w| w == b" =") else {
                continue;
            };
            let (name, value) = (&line[..equals], line[equals + 2..].trim_ascii_start());
            let Some(ours) = values.get(name) else {
                continue; // defaults such as config_directory
            };
            compared += 1;
            let collapsed = collapse(ours);
            if collapsed != value {
                failures.push(format!(
                    "{}: {}: postconf {:?}, pflint {:?}",
                    set.name,
                    name.escape_ascii(),
                    value.escape_ascii().to_string(),
                    collapsed.escape_ascii().to_string()
                ));
            }
        }
    }
    common::visible(&format!(
        "corpus values compared with postconf -n: {compared}"
    ));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Collapses whitespace runs to one space, as postconf prints values.
fn collapse(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    for chunk in value.split(|&b| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c)) {
        if chunk.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(b' ');
        }
        out.extend_from_slice(chunk);
    }
    out
}

#[test]
fn token_kinds_of_real_files_are_the_expected_ones() {
    // Guard against a file silently parsing as something else: in real, accepted
    // configurations there is no rejected text and nothing after a NUL byte.
    let Some(corpus) = common::corpus() else {
        return;
    };
    for set in common::corpus_sets(&corpus)
        .iter()
        .filter(|s| !s.is_synthetic())
    {
        if set.oracle("postconf.rc.txt").contains(": 1") {
            continue;
        }
        for (name, kind) in [("main.cf", FileKind::Main), ("master.cf", FileKind::Master)] {
            let Ok(bytes) = std::fs::read(set.dir.join(name)) else {
                continue;
            };
            let (tree, _) = syntax::parse(kind, &bytes);
            let odd: Vec<_> = tree
                .leaves(&bytes)
                .into_iter()
                .filter(|t| matches!(t.kind, TokenKind::Text | TokenKind::Ignored))
                .collect();
            assert!(odd.is_empty(), "{}/{name}: {odd:?}", set.name);
        }
    }
}
