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
