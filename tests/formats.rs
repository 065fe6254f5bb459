//! The CI formats: SARIF 2.1.0 (validated against the official OASIS schema, kept in
//! tests/fixtures/schema), GitHub workflow commands (each line parsed as the runner
//! parses it), and snapshots of short, github and sarif output for a scenario.

mod common;

use std::collections::BTreeMap;

use serde_json::Value;

fn check(format: &str, dir: &str) -> String {
    let out = common::pflint()
        .args(["check", "--format", format, dir])
        .current_dir(common::root())
        .env("NO_COLOR", "1")
        .output()
        .expect("pflint runs");
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

const SCENARIOS: [&str; 4] = [
    "tests/fixtures/scenarios/mx-submission",
    "tests/fixtures/scenarios/too-much-tls",
    "tests/fixtures/scenarios/legacy",
    "examples/broken",
];

#[test]
fn sarif_validates_against_the_official_schema() {
    let schema_text =
        std::fs::read_to_string(common::fixture("schema/sarif-schema-2.1.0.json")).expect("schema");
    let schema: Value = serde_json::from_str(&schema_text).expect("the schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let mut fixes = 0;
    for dir in SCENARIOS {
        let document: Value = serde_json::from_str(&check("sarif", dir)).expect("SARIF is JSON");
        let errors: Vec<String> = validator
            .iter_errors(&document)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{dir}: {}", errors.join("\n"));
        let run = &document["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
        assert_eq!(rules.len(), pflint::rules::catalog().rules().count());
        for rule in rules {
            for key in [
                "id",
                "name",
                "shortDescription",
                "fullDescription",
                "help",
                "defaultConfiguration",
            ] {
                assert!(!rule[key].is_null(), "{dir}: rule without {key}: {rule}");
            }
        }
        for result in run["results"].as_array().expect("results") {
            let index = result["ruleIndex"].as_u64().expect("ruleIndex") as usize;
            assert_eq!(rules[index]["id"], result["ruleId"]);
            let location = &result["locations"][0]["physicalLocation"];
            assert!(
                location["region"]["startLine"]
                    .as_u64()
                    .is_some_and(|l| l >= 1)
            );
            fixes += result["fixes"].as_array().map_or(0, Vec::len);
        }
    }
    assert!(fixes > 0, "no safe fix was validated");
    // The schema is strict enough to catch a broken document.
    let mut broken: Value = serde_json::from_str(&check("sarif", SCENARIOS[0])).expect("JSON");
    broken["runs"][0]["results"][0]["level"] = Value::from("fatal");
    assert!(!validator.is_valid(&broken));
}

/// Parses a workflow command line as the Actions runner does: `::name k=v,k=v::message`.
fn workflow_command(line: &str) -> Result<(String, BTreeMap<String, String>, String), String> {
    let rest = line.strip_prefix("::").ok_or("no leading ::")?;
    let (head, message) = rest.split_once("::").ok_or("no :: before the message")?;
    let (name, properties) = head.split_once(' ').unwrap_or((head, ""));
    let unescape = |s: &str| {
        s.replace("%0D", "\r")
            .replace("%0A", "\n")
            .replace("%3A", ":")
            .replace("%2C", ",")
            .replace("%25", "%")
    };
    let mut map = BTreeMap::new();
    for pair in properties.split(',').filter(|p| !p.is_empty()) {
        let (key, value) = pair
            .split_once('=')
            .ok_or(format!("property without =: {pair}"))?;
        map.insert(key.to_owned(), unescape(value));
    }
    if message.contains(['\n', '\r']) {
        return Err("raw newline in the message".to_owned());
    }
    Ok((name.to_owned(), map, unescape(message)))
}

#[test]
fn github_lines_parse_as_workflow_commands() {
    let mut count = 0;
    for dir in SCENARIOS {
        let text = check("github", dir);
        let json: Value = serde_json::from_str(&check("json", dir)).expect("JSON");
        let findings = json["findings"].as_array().expect("findings");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), findings.len(), "{dir}: one line per finding");
        for (line, finding) in lines.iter().zip(findings) {
            let (name, properties, message) =
                workflow_command(line).unwrap_or_else(|e| panic!("{dir}: {e}: {line}"));
            let expected = match finding["severity"].as_str() {
                Some("error") => "error",
                Some("warning") => "warning",
                _ => "notice",
            };
            assert_eq!(name, expected);
            assert_eq!(
                properties["file"],
                finding["file"].as_str().unwrap_or_default()
            );
            assert_eq!(properties["line"], finding["line"].to_string());
            assert_eq!(properties["col"], finding["column"].to_string());
            assert!(properties["title"].starts_with(finding["code"].as_str().unwrap_or("?")));
            assert_eq!(message, finding["message"].as_str().unwrap_or_default());
            let known = ["file", "line", "col", "endLine", "endColumn", "title"];
            assert!(
                properties.keys().all(|k| known.contains(&k.as_str())),
                "{line}"
            );
            count += 1;
        }
    }
    assert!(count > 0);
}

#[test]
fn short_github_and_sarif_output_match_their_snapshots() {
    let dir = "tests/fixtures/scenarios/mx-submission";
    for format in ["short", "github", "sarif"] {
        let text = check(format, dir);
        common::snapshots("formats").bind(|| {
            insta::assert_snapshot!(format!("mx-submission-{format}"), text);
        });
    }
}

#[test]
fn completions_and_the_manual_page_are_produced() {
    for shell in ["bash", "zsh", "fish"] {
        let out = common::pflint()
            .args(["completions", shell])
            .output()
            .expect("pflint runs");
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(
            script.contains("pflint") && script.contains("generate"),
            "{shell}"
        );
    }
    let out = common::pflint().arg("man").output().expect("pflint runs");
    assert_eq!(out.status.code(), Some(0));
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(
        page.starts_with(".ie") || page.contains(".TH pflint 1"),
        "{page}"
    );
    assert!(page.contains(".SH NAME"));
}
