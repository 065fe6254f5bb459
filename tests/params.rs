//! The committed parameter table is exactly what `scripts/gen-params.py` makes of Postfix's
//! parameter list (`../shared/data/postfix-params.tsv`) and `data/params-overrides.toml`,
//! so nobody edits the generated file by hand and the overrides stay in force.

mod common;

use std::process::Command;

#[test]
fn the_parameter_table_is_generated_from_its_sources() {
    let root = common::root();
    let tsv = root.join("../shared/data/postfix-params.tsv");
    if !tsv.is_file() {
        assert!(
            std::env::var_os("PFLINT_REQUIRE_CORPUS").is_none_or(|v| v != "1"),
            "PFLINT_REQUIRE_CORPUS=1 but {} is missing",
            tsv.display()
        );
        common::visible("SKIPPED: ../shared/data/postfix-params.tsv is absent");
        return;
    }
    let output = match Command::new("python3")
        .arg(root.join("scripts/gen-params.py"))
        .arg(&tsv)
        .output()
    {
        Ok(output) => output,
        Err(e) => {
            common::visible(&format!("SKIPPED: cannot run python3 ({e})"));
            return;
        }
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    if stderr.contains("No module named 'tomllib'") {
        common::visible("SKIPPED: python3 is older than 3.11 (no tomllib)");
        return;
    }
    assert!(output.status.success(), "gen-params.py failed: {stderr}");
    let committed = std::fs::read(root.join("data/params.json")).unwrap();
    assert!(
        output.stdout == committed,
        "data/params.json is stale: run `scripts/gen-params.py > data/params.json`"
    );
}

/// A release line's features hold at every patch of it: at `X.Y`, `X.Y.0` and `X.Y.11`
/// each parameter is known or unknown alike and has the same default, except where the
/// table records a backport into that line (a point `X.Y.Z` with Z > 0), which must then
/// hold from its own patch level on.
#[test]
fn every_patch_of_a_line_has_the_features_of_the_line() {
    use pflint::model::version::{Since, Version};
    let table = pflint::model::params::table();
    let mut compared = 0;
    let mut backports = 0;
    for &(major, minor, _) in table.releases.0 {
        let line = Version::new(major, minor);
        let first = Version::with_patch(major, minor, 0);
        let eleventh = Version::with_patch(major, minor, 11);
        for p in table.all() {
            let backport = p
                .since
                .iter()
                .chain(p.defaults.iter().map(|(s, _)| s))
                .find_map(|s| match s {
                    Since::Version(v) if v.same_line(line) && v.patch.is_some_and(|z| z > 0) => {
                        Some(*v)
                    }
                    _ => None,
                });
            if let Some(point) = backport {
                backports += 1;
                let at = |patch: u32| Version::with_patch(major, minor, patch);
                let z = point.patch.unwrap_or_default();
                let shape = |v: Version| (p.available_in(v), p.default_at(v));
                assert_eq!(shape(at(z)), shape(line), "{} at {point}", p.name);
                assert_ne!(
                    shape(at(z - 1)),
                    shape(at(z)),
                    "{}: the backport at {point} changes something",
                    p.name
                );
                continue;
            }
            compared += 1;
            for v in [first, eleventh] {
                assert_eq!(
                    p.available_in(v),
                    p.available_in(line),
                    "{} known at {v} and at {line} alike",
                    p.name
                );
                assert_eq!(
                    p.default_at(v),
                    p.default_at(line),
                    "{}: the same default at {v} and at {line}",
                    p.name
                );
            }
        }
    }
    assert!(
        compared > 20_000 && backports > 10,
        "{compared} {backports}"
    );
    common::visible(&format!(
        "{compared} (parameter, line) pairs agree at X.Y, X.Y.0 and X.Y.11; {backports} backports hold from their patch on"
    ));
}

/// A parameter that a line introduces is known at that line's patch releases: the defect
/// this guards against made every 3.7 parameter unknown at 3.7.11.
#[test]
fn a_parameter_of_a_line_is_known_at_its_patch_releases() {
    let table = pflint::model::params::table();
    let v = |s: &str| s.parse::<pflint::model::Version>().expect("a version");
    for (name, line) in [
        ("smtpd_min_data_rate", "3.7"),
        ("smtpd_per_request_deadline", "3.7"),
        ("smtpd_tls_chain_files", "3.4"),
        ("tls_ffdhe_auto_groups", "3.8"),
    ] {
        let p = table.get(name).expect("in the table");
        for patch in ["", ".0", ".4", ".11"] {
            assert!(
                p.available_in(v(&format!("{line}{patch}"))),
                "{name} at {line}{patch}"
            );
        }
    }
    assert!(table.get_in("smtpd_min_data_rate", v("3.6.20")).is_none());
}
