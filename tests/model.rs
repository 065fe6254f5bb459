//! The model against postconf's warnings on the corpus: pflint's unknown, undefined,
//! duplicate and read-only findings name exactly the parameters postconf warns about,
//! except where main.cf has no master.cf beside it: postconf then reads no services,
//! while `check` assumes Postfix's stock master.cf, whose delivery services make their
//! per-service names (`smtp_recipient_limit`) known.

mod common;

use std::collections::BTreeSet;

use pflint::check;
use pflint::input::config_dir::ConfigDir;
use pflint::model::HostFacts;
use pflint::syntax::FileKind;

/// The suffixes postconf appends to a master.cf delivery service's name
/// (`pcf_register_service_parameters()` in src/postconf/postconf_service.c, v3.7.11).
const SERVICE_SUFFIXES: [&str; 17] = [
    "_time_limit",
    "_recipient_limit",
    "_extra_recipient_limit",
    "_recipient_refill_limit",
    "_recipient_refill_delay",
    "_delivery_slot_cost",
    "_delivery_slot_loan",
    "_delivery_slot_discount",
    "_minimum_delivery_slots",
    "_initial_destination_concurrency",
    "_destination_concurrency_limit",
    "_destination_recipient_limit",
    "_destination_concurrency_positive_feedback",
    "_destination_concurrency_negative_feedback",
    "_destination_concurrency_failed_cohort_limit",
    "_destination_rate_delay",
    "_transport_rate_delay",
];

/// Whether `name` is a per-service name of a delivery service of the stock master.cf.
fn stock_service_name(name: &str) -> bool {
    let stock = std::fs::read_to_string(common::root().join("data/stock-master.cf"))
        .expect("data/stock-master.cf");
    stock
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with(char::is_whitespace))
        .filter_map(|l| {
            let fields: Vec<&str> = l.split_whitespace().collect();
            let command = fields.get(7)?;
            matches!(*command, "local" | "error" | "virtual" | "smtp" | "lmtp")
                .then(|| fields[0].to_owned())
        })
        .any(|service| {
            name.strip_prefix(service.as_str())
                .is_some_and(|suffix| SERVICE_SUFFIXES.contains(&suffix))
        })
}

/// (file, what, name) — postconf shows non-printable and non-ASCII bytes as `?`.
type Warning = (String, String, String);

fn printable(name: &[u8]) -> String {
    name.iter()
        .map(|&b| if b.is_ascii_graphic() { b as char } else { '?' })
        .collect()
}

fn postconf_warnings(text: &str) -> BTreeSet<Warning> {
    let mut warnings = BTreeSet::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("postconf: warning: ./") else {
            continue;
        };
        let file = if rest.starts_with("master.cf") {
            "master.cf"
        } else {
            "main.cf"
        };
        for (marker, what) in [
            ("unused parameter: ", "unknown"),
            ("undefined parameter: ", "undefined"),
            ("read-only parameter assignment: ", "read-only"),
            ("overriding earlier entry: ", "duplicate"),
        ] {
            if let Some((_, tail)) = rest.split_once(marker) {
                let name = tail.split('=').next().unwrap_or(tail);
                warnings.insert((file.to_owned(), what.to_owned(), name.to_owned()));
            }
        }
    }
    warnings
}

#[test]
fn unknown_and_undefined_findings_match_postconf_warnings() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let options = check::Options {
        target: pflint::model::version::Target::given("3.7.11".parse().unwrap()),
        host: HostFacts::corpus(),
        ..check::Options::default()
    };
    let mut compared = 0;
    let mut failures = Vec::new();
    let mut total = 0;
    for set in common::corpus_sets(&corpus) {
        // A fatal error stops postconf before it reports unused parameters.
        if set.oracle("postconf.rc.txt").contains("-n: 1") {
            continue;
        }
        compared += 1;
        let mut theirs = postconf_warnings(&set.oracle("postconf.warnings.txt"));
        if !set.dir.join("master.cf").exists() {
            theirs.retain(|(_, what, name)| what != "unknown" || !stock_service_name(name));
        }
        let mut ours = BTreeSet::new();
        let config = ConfigDir::read(&set.dir).unwrap();
        for checked in check::check_config(config, &options) {
            let file = if checked.kind == FileKind::Master {
                "master.cf"
            } else {
                "main.cf"
            };
            for finding in &checked.findings {
                let what = match finding.code.as_str() {
                    "PF601" | "PF503" | "PF504" => "unknown",
                    "PF602" => "undefined",
                    "PF603" => "read-only",
                    "PF604" => "duplicate",
                    _ => continue,
                };
                let name = checked.file.slice(finding.span);
                let name = name.strip_prefix(b"$").unwrap_or(name);
                ours.insert((file.to_owned(), what.to_owned(), printable(name)));
            }
        }
        total += ours.len();
        if ours != theirs {
            failures.push(format!(
                "{}:\n  only postconf: {:?}\n  only pflint:   {:?}",
                set.name,
                theirs.difference(&ours).collect::<Vec<_>>(),
                ours.difference(&theirs).collect::<Vec<_>>()
            ));
        }
    }
    common::visible(&format!(
        "unknown/undefined/duplicate/read-only findings: equal to postconf's warnings on {} of {compared} sets ({total} findings)",
        compared - failures.len()
    ));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Checks a main.cf alone and returns the codes found with their messages.
fn findings(main_cf: &str) -> Vec<(String, String)> {
    let file = pflint::source::SourceFile::new("main.cf", main_cf.as_bytes().to_vec()).unwrap();
    check::check_files(Some(file), None, &check::Options::default())
        .into_iter()
        .flat_map(|c| c.findings)
        .map(|f| (f.code.to_string(), format!("{} ({})", f.message(), f.label)))
        .collect()
}

/// How many findings of `code` a main.cf alone gives.
fn count(code: &str, main_cf: &str) -> usize {
    findings(main_cf).iter().filter(|(c, _)| c == code).count()
}

#[test]
fn an_expansion_loop_is_a_finding() {
    let found = findings("myorigin = $a\na = $b\nb = $a\n");
    let loops: Vec<_> = found.iter().filter(|(code, _)| code == "PF605").collect();
    assert_eq!(loops.len(), 1, "{found:?}");
    assert!(
        loops[0].1.contains("expansion loop: $a → $b → $a"),
        "{found:?}"
    );
}

#[test]
fn a_ten_level_chain_is_fine() {
    let mut text = String::from("myorigin = $c1\n");
    for i in 1..10 {
        text.push_str(&format!("c{i} = $c{}\n", i + 1));
    }
    text.push_str("c10 = example.org\n");
    // No expansion or naming finding; the rules still judge the (empty) TLS setup.
    let model: Vec<_> = findings(&text)
        .into_iter()
        .filter(|(code, _)| code.starts_with("PF60"))
        .collect();
    assert_eq!(model, vec![]);
}

#[test]
fn an_exponential_definition_is_a_finding_in_bounded_time() {
    let mut text = String::from("x0 = 0123456789\n");
    for i in 1..40 {
        text.push_str(&format!("x{i} = $x{p}$x{p}$x{p}\n", p = i - 1));
    }
    text.push_str("myorigin = $x39\n");
    let start = std::time::Instant::now();
    let found = findings(&text);
    assert!(
        start.elapsed() < std::time::Duration::from_secs(10),
        "took {:?}",
        start.elapsed()
    );
    let too_large: Vec<_> = found.iter().filter(|(code, _)| code == "PF605").collect();
    assert_eq!(
        too_large.len(),
        1,
        "one finding for the whole family: {found:?}"
    );
    assert!(too_large[0].1.contains("exceeds"), "{found:?}");
}

#[test]
fn restriction_classes_that_name_each_other_are_read_through() {
    // Each class names every class: read in place once each, what they hold is found.
    let config = |last: &str| {
        format!(
            "relay_domains = example.org\nsmtpd_restriction_classes = a, b, c\n\
             a = b, c, a\nb = c, a, b, permit_mynetworks\nc = a, b, c, {last}\n\
             smtpd_recipient_restrictions = a, b, c, reject_unauth_destination\n"
        )
    };
    let backscatter = |text: &str| count("PF704", text);
    assert_eq!(backscatter(&config("reject_unverified_recipient")), 0);
    assert_eq!(backscatter(&config("permit")), 1);
}

#[test]
fn a_relay_check_reached_through_classes_that_name_each_other_is_found() {
    // smtpd's has_required(): a `permit` ends only its own class.
    let config = |last: &str| {
        format!(
            "smtpd_restriction_classes = a, b\na = b, a, {last}\nb = a, b, permit\n\
             smtpd_relay_restrictions = a\nsmtpd_recipient_restrictions = b, a\n"
        )
    };
    let open_relay = |text: &str| count("PF701", text);
    assert_eq!(open_relay(&config("reject_unauth_destination")), 0);
    assert_eq!(open_relay(&config("permit_mynetworks")), 1);
}
