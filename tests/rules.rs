//! Every rule's own examples, run as tests: each `bad` example must produce a finding of
//! the rule, each `good` example none. Also checks that rule files and the checks that
//! implement them match one to one.

mod common;

use std::collections::BTreeSet;

use pflint::check;
use pflint::rules::{self, Check, Example, Rule};
use pflint::source::SourceFile;
use pflint::syntax::ProblemKind;

/// What an example gave: each finding's code and where it is (`main.cf:LINE`, or
/// `transcript:LINE` for a probe), and for a probe rule the transcript, to show when the
/// example fails.
struct Found {
    placed: Vec<(&'static str, String)>,
    transcript: Option<String>,
}

impl Found {
    fn codes(&self) -> Vec<&'static str> {
        self.placed.iter().map(|(code, _)| *code).collect()
    }

    /// The transcript after a failure message, when there is one.
    fn shown(&self) -> String {
        self.transcript
            .as_deref()
            .map(|t| {
                format!(
                    "\n  transcript:\n    {}",
                    t.trim_end().replace('\n', "\n    ")
                )
            })
            .unwrap_or_default()
    }
}

/// The codes found in an example, with every rule reporting.
fn codes(rule: &Rule, example: &Example) -> Found {
    placed_selected(rule, example, &[])
}

/// The findings of an example with only the rules matching `select` reporting: a probe
/// rule's example probed ([`probe_placed`]), any other's files checked as one
/// configuration ([`check_placed`]).
fn placed_selected(rule: &Rule, example: &Example, select: &[String]) -> Found {
    if rule.check == Check::Probe {
        probe_placed(example, select)
    } else {
        Found {
            placed: check_placed(example, select),
            transcript: None,
        }
    }
}

/// The findings with only `select` reported, each with where it is (`main.cf:LINE`).
fn check_placed(example: &Example, select: &[String]) -> Vec<(&'static str, String)> {
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

/// A probe rule's example run for real: its scripted server started on loopback (TLS with
/// the chains it serves, made from the example's file recipes under a root of their own),
/// probed as `pflint probe` would probe the configuration's port-25 listener, and judged
/// against its main.cf (read with its files under that root, with Postfix's stock
/// master.cf unless it gives one) and its TLSA records; only the codes in `select` kept
/// (all when empty), each placed at its transcript line.
fn probe_placed(example: &Example, select: &[String]) -> Found {
    use pflint::input::config_dir::{ConfigDir, stock_master};
    use pflint::probe::judge::{self, Against};
    use pflint::probe::smtp::Limits;
    use pflint::probe::{Target, targets};
    use std::time::Duration;

    let files = example.files();
    let server = files
        .server
        .as_ref()
        .expect("a probe rule's example has a server");
    let root = tempfile::TempDir::new().unwrap();
    let openssl = (files.files.is_some() || files.tlsa.is_some())
        .then(|| common::material::openssl().expect("openssl for the certificate examples"));
    if let (Some(recipes), Some(openssl)) = (&files.files, &openssl) {
        common::material::Material::new(root.path(), openssl).write_all(recipes);
    }
    let serves: Vec<std::path::PathBuf> = server
        .serves
        .iter()
        .map(|path| root.path().join(path.trim_start_matches('/')))
        .collect();
    let fake = common::fake_smtp::FakeSmtp::start(&server.replies, &serves);

    // The configuration, as src/cli/probe.rs reads it.
    let source = |name: &str, text: &Option<String>| {
        text.as_ref()
            .map(|t| SourceFile::new(name, t.clone().into_bytes()).unwrap())
    };
    let loaded = files.main_cf.is_some().then(|| {
        ConfigDir::from_files(
            source("main.cf", &files.main_cf),
            source("master.cf", &files.master_cf),
        )
    });
    let stock = loaded
        .as_ref()
        .filter(|l| l.master.is_none())
        .map(|_| stock_master());
    let version = files.postfix_version.as_ref().map_or_else(
        || check::Options::default().target.version,
        |v| v.parse().unwrap(),
    );
    let host = pflint::model::HostFacts::assumed();
    let config = loaded.as_ref().map(|l| {
        l.model_with_master(
            stock.as_ref().or(l.master.as_ref()),
            version,
            &host,
            None,
            false,
        )
    });
    let reading = pflint::material::Reading {
        enabled: true,
        root: Some(root.path().to_owned()),
        owners_matter: false,
        ..Default::default()
    };
    let tls = config.as_ref().and_then(|config| {
        pflint::material::gather(
            config,
            &pflint::material::Where::Live("/etc/postfix".into()),
            &reading,
        )
        .tls
    });
    // The examples' records are for port 25; the server listens on another port.
    let published = files.tlsa.as_ref().map(|records| {
        let openssl = openssl.as_deref().expect("openssl for the TLSA examples");
        let text = records
            .iter()
            .map(|r| spki_placeholders(r, root.path(), openssl))
            .map(|r| r.replace("_25._tcp.", &format!("_{}._tcp.", fake.port())))
            .collect::<Vec<_>>()
            .join("\n");
        pflint::tlsa::zone::parse(&text).unwrap()
    });

    let target = Target {
        host: "127.0.0.1".to_owned(),
        port: fake.port(),
        implicit_tls: false,
        server_name: "mail.example.com".to_owned(),
        service: config.as_ref().and_then(|config| {
            targets::from_config(config)
                .into_iter()
                .find(|t| t.port == 25)
                .expect("the configuration listens on port 25")
                .service
        }),
    };
    let against = Against {
        tls: tls.as_ref(),
        tlsa: published.as_deref(),
        now: pflint::material::Expectations::default().now,
    };
    let limits = Limits {
        connect: Duration::from_secs(5),
        reply: Duration::from_secs(5),
        ..Limits::default()
    };
    let probe = pflint::probe::probe(&target, &judge::algorithms(&against, &target), &limits);
    let findings = judge::judge(&probe, &target, &against);
    drop(fake);
    let transcript = probe.transcript.text().to_owned();
    let lines = SourceFile::new("transcript", transcript.clone().into_bytes()).unwrap();
    let placed = findings
        .iter()
        .filter(|f| select.is_empty() || select.iter().any(|s| s == f.code.as_str()))
        .map(|f| {
            let line = lines.position(f.span.start).line;
            (f.code.as_str(), format!("transcript:{line}"))
        })
        .collect();
    drop(root);
    Found {
        placed,
        transcript: Some(transcript),
    }
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
            let found = codes(rule, example);
            if !found.codes().contains(&rule.code.as_str()) {
                failures.push(format!(
                    "{} bad example {i} does not fire (found {:?}){}",
                    rule.code,
                    found.codes(),
                    found.shown()
                ));
            }
        }
        for (i, example) in rule.examples.good.iter().enumerate() {
            let found = codes(rule, example);
            if found.codes().contains(&rule.code.as_str()) {
                failures.push(format!(
                    "{} good example {i} fires{}",
                    rule.code,
                    found.shown()
                ));
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
            let found = placed_selected(rule, example, &only);
            if found.codes() != [rule.code.as_str()] {
                failures.push(format!(
                    "{} bad example {i}: found {:?}{}",
                    rule.code,
                    found.placed,
                    found.shown()
                ));
                continue;
            }
            if let Some(at) = &example.files().at {
                placed += 1;
                if found.placed[0].1 != *at {
                    failures.push(format!(
                        "{} bad example {i}: found at {}, not at {at}{}",
                        rule.code,
                        found.placed[0].1,
                        found.shown()
                    ));
                }
            }
        }
        for (i, example) in rule.examples.good.iter().enumerate() {
            good += 1;
            let found = placed_selected(rule, example, &only);
            if !found.placed.is_empty() {
                failures.push(format!(
                    "{} good example {i}: found {:?}{}",
                    rule.code,
                    found.codes(),
                    found.shown()
                ));
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
