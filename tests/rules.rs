//! Every rule's own examples, run as tests: each `bad` example must produce a finding of
//! the rule, each `good` example none. Also checks that rule files and the checks that
//! implement them match one to one.

mod common;

use std::collections::BTreeSet;

use pflint::check;
use pflint::rules::{self, Check, Example};
use pflint::source::SourceFile;
use pflint::syntax::ProblemKind;

/// The codes found in an example's files, checked as one configuration.
fn codes(example: &Example) -> Vec<&'static str> {
    codes_selected(example, &[])
}

/// [`codes`] with only the rules matching `select` reporting.
fn codes_selected(example: &Example, select: &[String]) -> Vec<&'static str> {
    placed_selected(example, select)
        .into_iter()
        .map(|(code, _)| code)
        .collect()
}

/// The findings with only `select` reported, each with where it is (`main.cf:LINE`).
fn placed_selected(example: &Example, select: &[String]) -> Vec<(&'static str, String)> {
    let files = example.files();
    let file = |name: &str, text: Option<String>| {
        text.map(|t| SourceFile::new(name, t.into_bytes()).unwrap())
    };
    let mut options = check::Options::default();
    options.policy.select = select.to_vec();
    // The files an example names are made under a root of their own and read there.
    let root = files.files.as_ref().map(|recipes| {
        let root = tempfile::TempDir::new().unwrap();
        let openssl = common::material::openssl().expect("openssl for the certificate examples");
        common::material::Material::new(root.path(), &openssl).write_all(recipes);
        options.reading = pflint::material::Reading {
            enabled: true,
            root: Some(root.path().to_owned()),
            ..Default::default()
        };
        if let Some(records) = &files.tlsa {
            let text = records
                .iter()
                .map(|r| spki_placeholders(r, root.path(), &openssl))
                .collect::<Vec<_>>()
                .join("\n");
            options.reading.expect.tlsa = Some(pflint::tlsa::zone::parse(&text).unwrap());
        }
        root
    });
    if let Some(version) = &files.postfix_version {
        options.target = pflint::model::version::Target::given(version.parse().unwrap());
    }
    let found = check::check_files(
        file("main.cf", files.main_cf),
        file("master.cf", files.master_cf),
        &options,
    )
    .iter()
    .flat_map(|checked| {
        checked.findings.iter().map(|f| {
            let line = checked.file.position(f.span.start).line;
            let at = format!("{}:{line}", checked.file.name().display());
            (f.code.as_str(), at)
        })
    })
    .collect();
    drop(root);
    found
}

/// A record with each `{spki-sha256 PATH}` replaced by the openssl digest of the public
/// key of the first certificate in the file made for PATH under `root`.
fn spki_placeholders(record: &str, root: &std::path::Path, openssl: &std::path::Path) -> String {
    let mut out = record.to_owned();
    while let Some(start) = out.find("{spki-sha256 ") {
        let end = start + out[start..].find('}').expect("a closed placeholder");
        let path = out[start + "{spki-sha256 ".len()..end].trim_start_matches('/');
        let digest = common::material::openssl_spki_sha256(openssl, &root.join(path));
        out.replace_range(start..=end, &digest);
    }
    out
}

#[test]
fn every_rule_has_examples_that_pass() {
    if let Err(errors) = rules::Catalog::load(&rules::embedded_files()) {
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        panic!("rule files do not load:\n{}", lines.join("\n"));
    }
    let mut failures = Vec::new();
    let mut count = 0;
    for rule in rules::full_catalog().rules() {
        count += 1;
        if rule.examples.bad.is_empty() || rule.examples.good.is_empty() {
            failures.push(format!(
                "{}: needs at least one bad and one good example",
                rule.code
            ));
        }
        for (i, example) in rule.examples.bad.iter().enumerate() {
            let found = codes(example);
            if !found.contains(&rule.code.as_str()) {
                failures.push(format!(
                    "{} bad example {i} does not fire (found {found:?})",
                    rule.code
                ));
            }
        }
        for (i, example) in rule.examples.good.iter().enumerate() {
            let found = codes(example);
            if found.contains(&rule.code.as_str()) {
                failures.push(format!("{} good example {i} fires", rule.code));
            }
        }
    }
    common::visible(&format!("rule examples: {count} rules checked"));
    assert!(count > 0);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Each rule alone: a bad example gives exactly one finding of it, a good one none, so
/// a rule that fires twice or not at all is seen, whatever the other rules find.
#[test]
fn each_rule_alone_finds_exactly_one_problem_in_each_bad_example() {
    let mut failures = Vec::new();
    let (mut bad, mut good, mut placed) = (0, 0, 0);
    for rule in rules::full_catalog().rules() {
        let only = [rule.code.as_str().to_owned()];
        for (i, example) in rule.examples.bad.iter().enumerate() {
            bad += 1;
            let found = placed_selected(example, &only);
            let codes: Vec<&str> = found.iter().map(|(code, _)| *code).collect();
            if codes != [rule.code.as_str()] {
                failures.push(format!("{} bad example {i}: found {found:?}", rule.code));
                continue;
            }
            if let Some(at) = &example.files().at {
                placed += 1;
                if found[0].1 != *at {
                    failures.push(format!(
                        "{} bad example {i}: found at {}, not at {at}",
                        rule.code, found[0].1
                    ));
                }
            }
        }
        for (i, example) in rule.examples.good.iter().enumerate() {
            good += 1;
            let found = codes_selected(example, &only);
            if !found.is_empty() {
                failures.push(format!("{} good example {i}: found {found:?}", rule.code));
            }
        }
    }
    common::visible(&format!(
        "rule examples alone: {bad} bad ({placed} at a line they name) and {good} good examples, {} failing",
        failures.len()
    ));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn parser_rules_and_problem_kinds_match_one_to_one() {
    let parser_rules: BTreeSet<&str> = rules::catalog()
        .rules()
        .filter(|r| r.check == Check::Parser)
        .map(|r| r.code.as_str())
        .collect();
    let kinds: BTreeSet<&str> = ProblemKind::ALL.iter().map(|k| k.code().as_str()).collect();
    assert_eq!(parser_rules, kinds);
}

#[test]
fn every_builtin_check_is_used_by_exactly_one_rule() {
    for name in pflint::rules::builtin::names() {
        let users: Vec<&str> = rules::catalog()
            .rules()
            .filter(|r| r.check == Check::Builtin(name.to_owned()))
            .map(|r| r.code.as_str())
            .collect();
        assert_eq!(users.len(), 1, "built-in check {name} is used by {users:?}");
    }
}

#[test]
fn the_catalog_has_at_least_thirty_rules_beyond_syntax() {
    let engine = rules::catalog()
        .rules()
        .filter(|r| matches!(r.check, Check::Condition | Check::Builtin(_)))
        .count();
    assert!(engine >= 30, "only {engine} condition and built-in rules");
}
