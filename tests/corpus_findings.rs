//! pflint's findings on every real configuration of the corpus, as snapshots: a change
//! to any rule shows up here as a reviewable diff on real files. Every error-level
//! finding in these snapshots has been reviewed as a true problem of that configuration.

mod common;

use std::collections::BTreeMap;

use pflint::check;
use pflint::config_dir::ConfigDir;
use pflint::diagnostic::Severity;
use pflint::model::HostFacts;
use pflint::syntax::FileKind;

#[test]
fn corpus_findings_match_their_snapshots() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    // The corpus was produced with Postfix 3.7.11; judge it against that release.
    let options = check::Options {
        version: "3.7.11".parse().expect("a version"),
        host: HostFacts::corpus(),
        ..check::Options::default()
    };
    let mut by_code: BTreeMap<(&'static str, Severity), usize> = BTreeMap::new();
    let sets = common::corpus_sets(&corpus);
    for set in &sets {
        let config = ConfigDir::read(&set.dir).expect("corpus set is readable");
        let mut lines = Vec::new();
        for checked in check::check_config(config, &options) {
            let file = match checked.kind {
                FileKind::Master => "master.cf",
                FileKind::Main => "main.cf",
            };
            for finding in &checked.findings {
                *by_code.entry((finding.code, finding.severity)).or_default() += 1;
                let at = checked.file.position(finding.span.start);
                lines.push(format!(
                    "{file}:{}:{}: {}[{}] {}",
                    at.line, at.column, finding.severity, finding.code, finding.message
                ));
            }
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
