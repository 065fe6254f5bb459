//! pflint's findings on every real configuration of the corpus, as snapshots: a change
//! to any rule shows up here as a reviewable diff on real files. Every error-level
//! finding in these snapshots has been reviewed as a true problem of that configuration.

mod common;

use std::collections::BTreeMap;

use pflint::check;
use pflint::diagnostic::Severity;
use pflint::input::config_dir::ConfigDir;
use pflint::model::HostFacts;
use pflint::syntax::FileKind;

/// Every finding of one configuration, a line each, judged for `version`.
fn findings(dir: &std::path::Path, version: &str) -> (Vec<String>, Vec<(&'static str, Severity)>) {
    let options = check::Options {
        target: pflint::model::version::Target::given(version.parse().expect("a version")),
        host: HostFacts::corpus(),
        ..check::Options::default()
    };
    let config = ConfigDir::read(dir).expect("corpus set is readable");
    let mut lines = Vec::new();
    let mut codes = Vec::new();
    for checked in check::check_config(config, &options) {
        let file = match checked.kind {
            FileKind::Master => "master.cf",
            FileKind::Main => "main.cf",
        };
        for finding in &checked.findings {
            codes.push((finding.code.as_str(), finding.severity));
            let at = checked.file.position(finding.span.start);
            lines.push(format!(
                "{file}:{}:{}: {}[{}] {}",
                at.line,
                at.column,
                finding.severity,
                finding.code,
                finding.message()
            ));
        }
    }
    (lines, codes)
}

#[test]
fn corpus_findings_match_their_snapshots() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let mut by_code: BTreeMap<(&'static str, Severity), usize> = BTreeMap::new();
    let sets = common::corpus_sets(&corpus);
    for set in &sets {
        // The corpus was produced with Postfix 3.7.11; judge it against that release.
        let (lines, codes) = findings(&set.dir, "3.7.11");
        for code in codes {
            *by_code.entry(code).or_default() += 1;
        }
        let text = if lines.is_empty() {
            "no findings\n".to_owned()
        } else {
            lines.join("\n") + "\n"
        };
        common::snapshots("corpus").bind(|| insta::assert_snapshot!(set.name.clone(), text));
    }
    let counts: Vec<String> = by_code
        .iter()
        .map(|((code, severity), n)| format!("{code} {severity}: {n}"))
        .collect();
    common::visible(&format!(
        "corpus findings over {} sets: {}",
        sets.len(),
        counts.join(", ")
    ));
}

/// A release line's features hold at its patch releases, so `3.7` (the newest 3.7.x) and
/// `3.7.11` find the same on every set: the messages name the target, which is all that
/// may differ. Likewise for 3.4 and 3.10. (An early patch such as 3.7.0 may differ, by
/// exactly the backports the table records; tests/params.rs checks those.)
#[test]
fn a_line_and_its_patch_releases_give_the_same_findings() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let sets = common::corpus_sets(&corpus);
    let mut compared = 0;
    for set in &sets {
        for (line, patches) in [
            ("3.7", ["3.7.11"]),
            ("3.4", ["3.4.29"]),
            ("3.10", ["3.10.13"]),
        ] {
            let (expected, _) = findings(&set.dir, line);
            for patch in patches {
                let (got, _) = findings(&set.dir, patch);
                let got: Vec<String> = got
                    .iter()
                    .map(|l| l.replace(&format!("(target: {patch})"), &format!("(target: {line})")))
                    .collect();
                assert_eq!(got, expected, "{}: {patch} against {line}", set.name);
                compared += 1;
            }
        }
    }
    common::visible(&format!(
        "{} sets: 3.7 and 3.7.11, 3.4 and 3.4.29, 3.10 and 3.10.13 find the same ({compared} comparisons)",
        sets.len()
    ));
}
