//! The built binary, run as a user runs it: exit statuses, output formats, paths.

mod common;

use std::path::Path;
use std::process::Output;

use serde_json::Value;

fn run(args: &[&str]) -> Output {
    common::pflint()
        .args(args)
        .current_dir(common::root())
        .env_remove("MAIL_CONFIG")
        .env("NO_COLOR", "1")
        .output()
        .expect("pflint runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("output is UTF-8")
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("errors are UTF-8")
}

#[test]
fn clean_example_exits_zero() {
    let out = run(&["check", "--postfix-version", "3.7.11", "examples/mail"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(
        stdout(&out),
        "pflint: no problems found in 2 files (Postfix 3.7.11, from --postfix-version)\n"
    );
}

#[test]
fn broken_example_shows_located_diagnostics_and_exits_one() {
    let out = run(&["check", "--postfix-version", "3.7", "examples/broken"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("╭─[examples/broken/main.cf:50:1]"), "{text}");
    assert!(text.contains("PF001(missing-equals)"), "{text}");
    assert!(
        text.contains("╭─[examples/broken/master.cf:21:6]"),
        "{text}"
    );
    assert!(
        text.ends_with(
            "pflint: 3 errors, 0 warnings and 0 infos in 2 files (Postfix 3.7, from --postfix-version)\n"
        ),
        "{text}"
    );
}

#[test]
fn json_output_has_the_documented_shape() {
    let out = run(&[
        "check",
        "--format",
        "json",
        "--postfix-version",
        "3.7.11",
        "examples/broken",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_str(&stdout(&out)).expect("valid JSON");
    assert_eq!(doc["version"], 1);
    let findings = doc["findings"].as_array().expect("findings is an array");
    assert_eq!(findings.len(), 3);
    for f in findings {
        for key in ["code", "name", "severity", "file", "message", "help"] {
            assert!(f[key].is_string(), "{key} in {f}");
        }
        for key in ["line", "column", "end_line", "end_column"] {
            assert!(f[key].as_u64().is_some_and(|n| n >= 1), "{key} in {f}");
        }
        assert!(
            f.get("fix").is_some(),
            "fix is present (null when there is none)"
        );
    }
    let missing_equals = &findings[1];
    assert_eq!(missing_equals["code"], "PF001");
    assert_eq!(missing_equals["file"], "examples/broken/main.cf");
    assert_eq!(
        (
            missing_equals["line"].as_u64(),
            missing_equals["column"].as_u64()
        ),
        (Some(50), Some(1))
    );
    assert_eq!(doc["summary"]["files"], 2);
    assert_eq!(doc["summary"]["errors"], 3);
    common::snapshots("cli").bind(|| insta::assert_snapshot!("broken-json", stdout(&out)));
}

#[test]
fn short_format_is_one_line_per_finding() {
    let out = run(&["check", "--format", "short", "examples/broken"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out),
        "examples/broken/main.cf:18:16: error[PF005] malformed `$` expression in the value of `smtpd_banner`\n\
         examples/broken/main.cf:50:1: error[PF001] missing `=` after parameter name `permit_sasl_authenticated,`\n\
         examples/broken/master.cf:21:6: error[PF014] missing `}` in a braced argument\n"
    );
}

#[test]
fn fail_on_sets_the_threshold() {
    // Every finding here is an error, so it fails at any threshold.
    for level in ["error", "warning", "info"] {
        let out = run(&["check", "--fail-on", level, "examples/broken"]);
        assert_eq!(out.status.code(), Some(1), "--fail-on {level}");
    }
    let out = run(&["check", "--fail-on", "info", "examples/mail"]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn unreadable_path_exits_two_with_a_one_line_message() {
    let out = run(&["check", "no/such/dir"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "pflint: cannot read no/such/dir: no such file or directory\n"
    );
}

#[test]
fn other_paths_are_still_checked_when_one_is_missing() {
    let out = run(&[
        "check",
        "--format",
        "short",
        "no/such/file",
        "examples/broken",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stdout(&out).lines().count(), 3);
}

#[test]
fn directory_without_main_cf_exits_two() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["check", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("has no main.cf"), "{}", stderr(&out));
}

#[test]
fn usage_error_exits_two() {
    let out = run(&["check", "--format", "yaml", "examples/mail"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn single_files_use_the_grammar_their_name_implies() {
    let out = run(&[
        "check",
        "--format",
        "short",
        "tests/fixtures/invalid/master-errors/master.cf",
    ]);
    assert!(stdout(&out).contains("error[PF010]"), "{}", stdout(&out));

    // The same text under another name is read as main.cf settings.
    let dir = tempfile::tempdir().unwrap();
    let snippet = dir.path().join("services.cf");
    std::fs::copy(common::fixture("invalid/master-errors/master.cf"), &snippet).unwrap();
    let out = run(&["check", "--format", "short", snippet.to_str().unwrap()]);
    assert!(stdout(&out).contains("error[PF001]"), "{}", stdout(&out));
    assert!(!stdout(&out).contains("PF010"));
}

#[test]
fn without_a_path_it_reads_mail_config() {
    let out = common::pflint()
        .args(["check", "--format", "short"])
        .current_dir(common::root())
        .env("MAIL_CONFIG", "examples/broken")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).starts_with("examples/broken/main.cf:18:16:"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn non_utf8_files_are_reported_with_valid_utf8_output() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("main.cf"),
        b"# caf\xe9\nsmtpd_banner = ${x \xff\n",
    )
    .unwrap();
    let out = run(&["check", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("smtpd_banner = ${x ?"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn examples_directory_is_a_complete_config() {
    for name in ["main.cf", "master.cf"] {
        assert!(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("examples/mail")
                .join(name)
                .is_file()
        );
    }
}

#[test]
fn rules_lists_every_rule_and_explain_works_for_each() {
    let out = run(&["rules"]);
    assert_eq!(out.status.code(), Some(0));
    let table = stdout(&out);
    let catalog: Vec<_> = pflint::rules::catalog().rules().collect();
    assert!(catalog.len() >= 30, "only {} rules", catalog.len());
    for rule in catalog {
        let row = table
            .lines()
            .find(|l| l.starts_with(&format!("{} ", rule.code)))
            .unwrap_or_else(|| panic!("{} is not listed", rule.code));
        assert!(row.contains(&rule.name), "{row}");
        for wanted in [rule.code.as_str(), rule.name.as_str()] {
            let out = run(&["explain", wanted]);
            assert_eq!(out.status.code(), Some(0), "explain {wanted}");
            let text = stdout(&out);
            assert!(
                text.starts_with(&format!("{} {} (", rule.code, rule.name)),
                "{text}"
            );
            for section in ["Why:", "Fix:", "Sources:", "Reported:", "Not reported:"] {
                assert!(text.contains(section), "explain {wanted} lacks {section}");
            }
        }
    }
    let out = run(&["explain", "PF999"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no rule is called `PF999`"));
}

#[test]
fn readme_rule_table_is_the_generated_one() {
    let readme = std::fs::read_to_string(common::root().join("README.md")).expect("README.md");
    let start = readme.find("<!-- rules:start").expect("rules:start marker");
    let body_start = start + readme[start..].find("-->\n").expect("marker end") + 4;
    let end = readme.find("<!-- rules:end -->").expect("rules:end marker");
    let out = run(&["rules", "--format", "markdown"]);
    assert_eq!(
        &readme[body_start..end],
        stdout(&out),
        "README's rule table is stale: paste `pflint rules --format markdown` between the markers"
    );
}

#[test]
fn select_and_ignore_filter_by_code_prefix_and_name() {
    let dir = "tests/fixtures/scenarios/too-much-tls";
    let codes = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["check", "--format", "short", dir];
        all.extend_from_slice(args);
        let text = stdout(&run(&all));
        text.lines()
            .filter_map(|l| l.split_once('[').and_then(|(_, r)| r.split_once(']')))
            .map(|(code, _)| code.to_owned())
            .collect()
    };
    let all = codes(&[]);
    assert!(all.contains(&"PF101".to_owned()) && all.contains(&"PF201".to_owned()));
    assert_eq!(codes(&["--select", "PF2"]), ["PF201"]);
    let ignored = codes(&["--ignore", "PF2,deprecated-parameter"]);
    assert!(!ignored.iter().any(|c| c.starts_with("PF2") || c == "PF501"));
    assert!(ignored.contains(&"PF101".to_owned()));
    // Every family PF0 to PF9 has rules (PF9 since the probe's): a typo is longer.
    let typo = run(&["check", dir, "--ignore", "PF99"]);
    assert_eq!(typo.status.code(), Some(2));
    assert!(
        stderr(&typo).contains("`PF99` names no rule"),
        "{}",
        stderr(&typo)
    );
}

#[test]
fn a_bad_settings_file_is_a_located_error() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(dir.path().join("main.cf"), "myhostname = mx.example.org\n").unwrap();
    std::fs::write(
        dir.path().join(".pflint.yaml"),
        "disable: [PF203]\nseverty: {}\n",
    )
    .unwrap();
    let out = run(&["check", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains(".pflint.yaml") && err.contains("severty") && err.contains("line 2"),
        "{err}"
    );
    // --no-config ignores it.
    let out = run(&["check", "--no-config", dir.path().to_str().unwrap()]);
    assert_ne!(out.status.code(), Some(2), "{}", stderr(&out));
}

/// The footer and the json summary say which Postfix version was assumed and why; a
/// version no Postfix release has is a usage error that names the known range.
#[test]
fn the_assumed_version_and_its_source_are_reported() {
    let summary = |args: &[&str]| -> Value {
        let mut all = vec!["check", "--format", "json"];
        all.extend(args);
        all.push("examples/mail");
        let out = run(&all);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let doc: Value = serde_json::from_str(&stdout(&out)).expect("valid JSON");
        doc["summary"]["targets"][0].clone()
    };
    let flag = summary(&["--postfix-version", "3.7.11"]);
    assert_eq!(flag["postfix_version"], "3.7.11");
    assert_eq!(flag["source"], "flag");
    assert_eq!(flag["note"], Value::Null);

    let newer = summary(&["--postfix-version", "3.7.99"]);
    assert_eq!(newer["postfix_version"], "3.7.99");
    let note = newer["note"].as_str().expect("a note on the patch level");
    assert!(note.contains("newer than the newest 3.7 release"), "{note}");

    let settings = tempfile::tempdir().expect("a temporary directory");
    let file = settings.path().join("pflint.yaml");
    std::fs::write(&file, "postfix-version: '3.6.4'\n").expect("written");
    let from_file = summary(&["--config", &file.display().to_string()]);
    assert_eq!(from_file["postfix_version"], "3.6.4");
    assert_eq!(from_file["source"], "settings");
    assert!(
        from_file["reason"]
            .as_str()
            .is_some_and(|r| r.contains("pflint.yaml")),
        "{from_file}"
    );

    let default = summary(&[]);
    match pflint::host::installed::postconf() {
        Some((path, version)) => {
            assert_eq!(default["source"], "installed");
            assert_eq!(default["postfix_version"], version.to_string());
            let reason = default["reason"].as_str().unwrap_or_default();
            assert!(reason.contains(&path.display().to_string()), "{reason}");
        }
        None => assert_eq!(default["source"], "newest-known"),
    }

    for bad in ["9.9", "0.0", "3.13", "2.x"] {
        let out = run(&["check", "--postfix-version", bad, "examples/mail"]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let message = stderr(&out);
        assert!(message.contains("--postfix-version"), "{message}");
        if bad != "2.x" {
            assert!(
                message.contains("known release lines are 1.1 to 3.12"),
                "{message}"
            );
        }
    }
    for command in [
        &["show", "-n", "-c", "examples/mail"][..],
        &["generate", "--role", "mx"],
    ] {
        let mut args = command.to_vec();
        args.extend(["--postfix-version", "3.13"]);
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains("no release 3.13"), "{}", stderr(&out));
    }
    std::fs::write(&file, "postfix-version: '9.9'\n").expect("written");
    let out = run(&[
        "check",
        "--config",
        &file.display().to_string(),
        "examples/mail",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("pflint.yaml: postfix-version: Postfix has no release 9.9"),
        "{}",
        stderr(&out)
    );
}

/// What a release line introduces exists at each of its patch releases: no "needs Postfix
/// 3.7" at 3.7.11, `show -n` prints the line (as postconf does, silently), protocol bounds
/// are valid at 3.6.4, and `generate` uses the newer forms from the line's first release.
#[test]
fn patch_releases_have_the_features_of_their_line() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(
        dir.path().join("main.cf"),
        "smtpd_min_data_rate = 500\nsmtpd_tls_mandatory_protocols = >=TLSv1.2\n",
    )
    .expect("written");
    let path = dir.path().display().to_string();
    for version in ["3.7", "3.7.0", "3.7.11"] {
        let out = run(&[
            "check",
            "--format",
            "short",
            "--select=PF4,PF5,PF6",
            "--postfix-version",
            version,
            &path,
        ]);
        assert_eq!(stdout(&out), "", "{version}");
        assert_eq!(out.status.code(), Some(0), "{version}");
        let show = run(&["show", "-n", "--postfix-version", version, "-c", &path]);
        assert_eq!(
            stdout(&show),
            format!(
                "config_directory = {path}\nsmtpd_min_data_rate = 500\nsmtpd_tls_mandatory_protocols = >=TLSv1.2\n"
            ),
            "{version}"
        );
        assert_eq!(stderr(&show), "", "{version}");
    }
    let out = run(&[
        "check",
        "--format",
        "short",
        "--select=PF4,PF5,PF6",
        "--postfix-version",
        "3.6.20",
        &path,
    ]);
    assert!(stdout(&out).contains("PF503"), "{}", stdout(&out));
    assert!(!stdout(&out).contains("PF410"), "{}", stdout(&out));
    for (version, bounds, chain) in [
        ("3.6.4", true, true),
        ("3.4.0", false, true),
        ("3.3.22", false, false),
    ] {
        let out = run(&[
            "generate",
            "--role",
            "submission",
            "--postfix-version",
            version,
        ]);
        let text = stdout(&out);
        assert_eq!(text.contains(">=TLSv1.2"), bounds, "{version}: {text}");
        assert_eq!(
            text.contains("smtpd_tls_chain_files"),
            chain,
            "{version}: {text}"
        );
    }
}

/// `--select CODE PATH` takes PATH as a path: one value per option (or a comma list).
#[test]
fn select_takes_one_list_and_leaves_the_path() {
    let out = run(&[
        "check",
        "--format",
        "short",
        "--select",
        "PF001",
        "examples/broken",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "examples/broken/main.cf:50:1: error[PF001] missing `=` after parameter name `permit_sasl_authenticated,`\n"
    );
    let out = run(&[
        "check",
        "--format",
        "short",
        "--select",
        "PF001,PF014",
        "--ignore",
        "PF014",
        "examples/broken",
    ]);
    assert_eq!(stdout(&out).lines().count(), 1, "{}", stdout(&out));
}

/// A reader that stops early (`pflint check | head`) is its own choice: every format
/// exits as it would have, without an error message.
#[test]
fn a_closed_pipe_is_quiet_in_every_format() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let main: String = (0..3000)
        .map(|i| format!("unknown_parameter_{i} = x\n"))
        .collect();
    std::fs::write(dir.path().join("main.cf"), main).expect("written");
    for format in ["human", "short", "json", "sarif", "github"] {
        let mut child = common::pflint()
            .args(["check", "--postfix-version", "3.7", "--format", format])
            .arg(dir.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("pflint starts");
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("pflint ends");
        assert_eq!(out.status.code(), Some(1), "{format}: {}", stderr(&out));
        assert_eq!(stderr(&out), "", "{format}");
    }
}

/// What cannot be read is said for what it is, once, with exit status 2: a FIFO (read
/// without waiting for a writer), a device (never read until memory runs out), a symlink
/// loop, a directory that cannot be searched, a file over the size limit, a binary file,
/// a settings file that is not YAML (a short excerpt, not the whole file).
#[test]
fn unreadable_inputs_are_refused_with_their_reason() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let at = |name: &str| dir.path().join(name);
    let fifo = at("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success());
    std::fs::create_dir(at("conf")).expect("a directory");
    std::os::unix::fs::symlink("loop", at("loop")).expect("a symlink");
    std::fs::write(
        at("binary.cf"),
        b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0>\0\x01\0\0\0\x10\x20\0\0",
    )
    .expect("written");
    std::fs::write(
        at("settings.yaml"),
        format!("{}\n", "plain words ".repeat(40)),
    )
    .expect("written");
    let timed = |args: &[&str]| {
        let mut child = common::pflint()
            .args(args)
            .current_dir(common::root())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("pflint starts");
        let start = std::time::Instant::now();
        while child.try_wait().expect("waits").is_none() {
            if start.elapsed() > std::time::Duration::from_secs(20) {
                let _ = child.kill();
                panic!("pflint {args:?} hangs");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        child.wait_with_output().expect("pflint ends")
    };
    let path = |p: &std::path::Path| p.display().to_string();
    let mut cases: Vec<(Vec<String>, String)> = vec![
        (
            vec!["check".into(), "/dev/zero".into()],
            "cannot read /dev/zero: it is a character device, not a regular file".into(),
        ),
        (
            vec!["check".into(), path(&at("loop"))],
            "too many levels of symbolic links".into(),
        ),
        (
            vec!["check".into(), path(&at("binary.cf"))],
            "it looks like a binary file".into(),
        ),
        (
            vec![
                "--max-file-size".into(),
                "100".into(),
                "check".into(),
                "examples/mail".into(),
            ],
            "over the limit of 100 (see --max-file-size)".into(),
        ),
        (
            vec![
                "check".into(),
                "--config".into(),
                path(&at("settings.yaml")),
                "examples/mail".into(),
            ],
            "line 1, column 1: expected settings".into(),
        ),
    ];
    if made {
        cases.push((
            vec!["check".into(), path(&fifo)],
            "it is a FIFO (named pipe), not a regular file".into(),
        ));
        let _ = std::process::Command::new("mkfifo")
            .arg(at("conf/main.cf"))
            .status();
        for command in [
            vec!["check".to_owned(), path(&at("conf"))],
            vec![
                "show".to_owned(),
                "-n".to_owned(),
                "-c".to_owned(),
                path(&at("conf")),
            ],
            vec![
                "generate".to_owned(),
                "--role".to_owned(),
                "mx".to_owned(),
                "-c".to_owned(),
                path(&at("conf")),
            ],
        ] {
            cases.push((command, "main.cf: it is a FIFO".into()));
        }
    } else {
        common::visible("SKIPPED (partly): no mkfifo");
    }
    for (args, expected) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = timed(&args);
        let message = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {message}");
        assert!(message.contains(expected.as_str()), "{args:?}: {message}");
        assert_eq!(message.lines().count(), 1, "one message: {message}");
        assert!(message.len() < 300, "a short message: {message}");
    }
}

/// Control bytes from a file reach no terminal raw: messages write them as escapes.
#[test]
fn control_bytes_in_messages_are_escaped() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let main = dir.path().join("main.cf");
    std::fs::write(&main, b"bad\x01name = x\x1b[31m\n").expect("written");
    let out = run(&[
        "check",
        "--format",
        "short",
        "--select",
        "PF601",
        &main.display().to_string(),
    ]);
    let text = stdout(&out);
    assert!(text.contains("unknown parameter `bad\\x01name`"), "{text}");
    assert!(!text.bytes().any(|b| b < 0x20 && b != b'\n'), "{text:?}");
}

/// A directory pflint may not search is reported as such, not as "no main.cf".
#[test]
fn an_unsearchable_directory_is_permission_denied() {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let setpriv = Path::new("/usr/bin/setpriv");
    if root && !setpriv.is_file() {
        common::visible("SKIPPED: running as root without setpriv");
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let locked = dir.path().join("locked");
    std::fs::create_dir_all(locked.join("conf")).expect("directories");
    std::fs::write(locked.join("conf/main.cf"), "myhostname = a\n").expect("written");
    // nobody must reach `locked` to be refused inside it.
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod");
    std::fs::set_permissions(&locked, std::os::unix::fs::PermissionsExt::from_mode(0o000))
        .expect("chmod");
    let target = locked.join("conf").display().to_string();
    let out = if root {
        std::process::Command::new(setpriv)
            .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_pflint"))
            .args(["check", &target])
            .output()
            .expect("setpriv runs")
    } else {
        run(&["check", &target])
    };
    std::fs::set_permissions(&locked, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        format!("pflint: cannot read {target}: permission denied\n")
    );
}

#[test]
fn findings_on_a_long_line_show_the_part_around_each_and_their_exact_column() {
    // One list of 3 000 `$name` that nothing defines: a finding for each, on one line of
    // some 30 kB, which the snippets would otherwise print whole each time.
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..3000).map(|i| format!("$undefined_{i}")).collect();
    let line = format!("mydestination = {}\n", names.join(", "));
    std::fs::write(dir.path().join("main.cf"), &line).unwrap();
    let path = dir.path().to_str().unwrap();
    // The span is the name after the `$`.
    let column = line.find("undefined_1500,").unwrap() + 1;

    let short = run(&[
        "check",
        "--format",
        "short",
        "--postfix-version",
        "3.7",
        path,
    ]);
    let short = stdout(&short);
    let expected =
        format!("main.cf:1:{column}: warning[PF602] `$undefined_1500` is not defined anywhere");
    assert!(short.lines().any(|l| l.ends_with(&expected)), "{expected}");

    let human = run(&[
        "check",
        "--format",
        "human",
        "--postfix-version",
        "3.7",
        path,
    ]);
    let text = stdout(&human);
    assert!(text.len() < 3000 * 1000, "{} bytes", text.len());
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.ends_with("`$undefined_1500` is not defined anywhere"))
        .unwrap();
    assert!(
        lines[at + 1].ends_with(&format!("main.cf:1:{column}]")),
        "{}",
        lines[at + 1]
    );
    let (shown, underline) = (lines[at + 2], lines[at + 3]);
    assert!(shown.len() < 300, "{shown}");
    assert!(shown.starts_with(" 1 │ $undefined_"), "{shown}");
    let name_at = shown
        .find("undefined_1500,")
        .map(|at| shown[..at].chars().count());
    let underline_at = underline.chars().position(|c| c == '─');
    assert_eq!(name_at, underline_at, "{shown}\n{underline}");
}
