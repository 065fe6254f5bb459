//! Whole configuration directories, one per role a host plays, checked by the built
//! binary as a user runs it: the human and json outputs are snapshots, and the json is
//! validated against the schema documented in README.md.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

/// Every scenario directory, sorted.
fn scenarios() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(common::fixture("scenarios"))
        .expect("scenarios are readable")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

fn relative(dir: &Path) -> String {
    dir.strip_prefix(common::root())
        .expect("scenarios are inside the repository")
        .display()
        .to_string()
}

fn check(dir: &Path, format: &str) -> Output {
    common::pflint()
        .args(["check", "--format", format, &relative(dir)])
        .current_dir(common::root())
        .env("NO_COLOR", "1")
        .output()
        .expect("pflint runs")
}

fn json(dir: &Path) -> Value {
    let out = check(dir, "json");
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}

fn name(dir: &Path) -> String {
    dir.file_name()
        .expect("a directory name")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn scenario_outputs_match_their_snapshots() {
    let dirs = scenarios();
    assert!(
        dirs.len() >= 7,
        "expected the role scenarios, found {dirs:?}"
    );
    for dir in dirs {
        let scenario = name(&dir);
        let human = check(&dir, "human");
        let text = String::from_utf8(human.stdout).expect("UTF-8 output");
        assert!(
            human.stderr.is_empty(),
            "{scenario}: {}",
            String::from_utf8_lossy(&human.stderr)
        );
        let json_text = String::from_utf8(check(&dir, "json").stdout).expect("UTF-8 output");
        common::snapshots("scenarios").bind(|| {
            insta::assert_snapshot!(format!("{scenario}-human"), text);
            insta::assert_snapshot!(format!("{scenario}-json"), json_text);
        });
    }
}

#[test]
fn json_output_validates_against_the_documented_schema() {
    let schema_text = std::fs::read_to_string(common::fixture("schema/check-json.schema.json"))
        .expect("the schema is readable");
    let schema: Value = serde_json::from_str(&schema_text).expect("the schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("the schema is valid");
    let mut documents: Vec<(String, Value)> = scenarios()
        .iter()
        .map(|dir| (name(dir), json(dir)))
        .collect();
    for example in ["examples/mail", "examples/broken"] {
        let out = common::pflint()
            .args(["check", "--format", "json", example])
            .current_dir(common::root())
            .output()
            .expect("pflint runs");
        documents.push((
            example.to_owned(),
            serde_json::from_slice(&out.stdout).expect("valid JSON"),
        ));
    }
    let mut with_fix = 0;
    for (name, document) in &documents {
        let errors: Vec<String> = validator
            .iter_errors(document)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{name}: {}", errors.join("\n"));
        with_fix += document["findings"]
            .as_array()
            .map_or(0, |f| f.iter().filter(|f| !f["fix"].is_null()).count());
    }
    // The schema must also have met the optional parts, not only empty documents.
    assert!(with_fix > 0, "no finding with a fix was validated");
    // And it must reject what it should: a finding without a code.
    let mut broken = documents[0].1.clone();
    if let Some(first) = broken["findings"].get_mut(0) {
        first.as_object_mut().map(|o| o.remove("code"));
        assert!(!validator.is_valid(&broken));
    }
}

/// Errors of a scenario: (code, line).
fn errors(dir: &str) -> Vec<(String, u64)> {
    let doc = json(&common::fixture(dir));
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| {
            (
                f["code"].as_str().unwrap_or_default().to_owned(),
                f["line"].as_u64().unwrap_or_default(),
            )
        })
        .collect()
}

fn line_of(dir: &str, text: &str) -> u64 {
    let main = std::fs::read_to_string(common::fixture(dir).join("main.cf")).expect("main.cf");
    main.lines()
        .position(|l| l.starts_with(text))
        .map(|i| i as u64 + 1)
        .expect("the line is in main.cf")
}

#[test]
fn too_much_tls_on_an_mx_gives_two_errors_at_the_two_lines() {
    let dir = "scenarios/too-much-tls";
    let mut found = errors(dir);
    found.sort();
    assert_eq!(
        found,
        [
            (
                "PF101".to_owned(),
                line_of(dir, "smtp_tls_security_level = encrypt")
            ),
            (
                "PF201".to_owned(),
                line_of(dir, "smtpd_tls_security_level = encrypt")
            ),
        ]
    );
}

#[test]
fn outbound_encrypt_through_an_authenticated_relay_is_no_error() {
    let dir = "scenarios/too-much-tls-relay";
    let main = std::fs::read_to_string(common::fixture(dir).join("main.cf")).expect("main.cf");
    assert!(main.contains("smtp_tls_security_level = encrypt\n"));
    assert!(main.contains("relayhost = [smtp.provider.example]:587\n"));
    assert!(main.contains("smtp_sasl_auth_enable = yes\n"));
    assert_eq!(errors(dir), []);
}

#[test]
fn settings_file_changes_version_rules_and_severity() {
    // legacy/.pflint.yaml: postfix-version 3.7, PF409 disabled, PF508 raised to warning.
    let doc = json(&common::fixture("scenarios/legacy"));
    let findings = doc["findings"].as_array().expect("findings");
    assert!(
        findings
            .iter()
            .any(|f| f["code"] == "PF508" && f["severity"] == "warning")
    );
    assert!(
        !findings.iter().any(|f| f["code"] == "PF501"),
        "3.7 still has these names"
    );
    // The suppression above `smtpd_tls_loglevel = 2` silences PF408 and is used.
    assert!(
        !findings
            .iter()
            .any(|f| f["code"] == "PF408" || f["code"] == "PF020")
    );
}

#[test]
fn an_override_finding_points_at_its_o_line_and_names_the_service() {
    use pflint::check;
    use pflint::source::SourceFile;
    let main = "smtpd_tls_security_level = may\nsmtpd_tls_chain_files = /etc/ssl/private/mx.pem\n";
    let master = "smtp inet n - y - - smtpd\n  -o syslog_name=postfix/mx\n  -o smtpd_tls_security_level=encrypt\nsubmission inet n - y - - smtpd\n  -o smtpd_tls_security_level=encrypt\n";
    let checked = check::check_files(
        Some(SourceFile::new("main.cf", main.as_bytes().to_vec()).expect("a file")),
        Some(SourceFile::new("master.cf", master.as_bytes().to_vec()).expect("a file")),
        &check::Options::default(),
    );
    let found: Vec<(String, u32, Option<String>)> = checked
        .iter()
        .flat_map(|c| {
            c.findings
                .iter()
                .filter(|f| f.code.as_str() == "PF201")
                .map(|f| {
                    let at = c.file.position(f.span.start);
                    (
                        c.file.name().display().to_string(),
                        at.line,
                        f.context.as_deref().map(str::to_owned),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(
        found,
        [(
            "master.cf".to_owned(),
            3,
            Some("service `smtp/inet`, public MX on port 25".to_owned())
        )]
    );
}
