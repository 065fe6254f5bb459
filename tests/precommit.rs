//! The hook this repository defines (`.pre-commit-hooks.yaml`), run by the real
//! pre-commit in a temporary git repository of mail-server configuration: a bad config
//! makes the commit hook fail with pflint's message, a good one passes, and a main.cf is
//! checked together with the master.cf beside it.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// One hook of the repository's definition, turned into a `repo: local` hook that runs
/// the binary this test suite built (pre-commit would otherwise `cargo install` the
/// repository, a release build, for every run): same id, entry, files pattern and serial
/// mode.
fn local_config(id: &str, entry: &str) -> String {
    let hooks = std::fs::read_to_string(common::root().join(".pre-commit-hooks.yaml"))
        .expect(".pre-commit-hooks.yaml");
    let block = hooks
        .split("\n- ")
        .find(|b| {
            b.trim_start_matches("- ")
                .starts_with(&format!("id: {id}\n"))
        })
        .unwrap_or_else(|| panic!("no hook {id}"));
    let field = |name: &str| -> String {
        block
            .lines()
            .find_map(|l| {
                l.trim_start_matches(['-', ' '])
                    .strip_prefix(&format!("{name}: "))
            })
            .unwrap_or_else(|| panic!("the hook {id} has no {name}"))
            .to_owned()
    };
    assert_eq!(field("language"), "rust");
    assert_eq!(field("entry"), entry);
    let args = entry
        .strip_prefix("pflint ")
        .expect("the entry runs pflint");
    format!(
        "repos:\n  - repo: local\n    hooks:\n      - id: {id}\n        name: {}\n        entry: {} {args} --postfix-version 3.11\n        language: system\n        files: {}\n        require_serial: {}\n",
        field("name"),
        env!("CARGO_BIN_EXE_pflint"),
        field("files"),
        field("require_serial"),
    )
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A git repository with `.pre-commit-config.yaml` for the `pflint` hook and
/// `etc/postfix/{main,master}.cf`.
fn repository(main: &str, master: &str) -> tempfile::TempDir {
    repository_with(main, master, &local_config("pflint", "pflint check"))
}

fn repository_with(main: &str, master: &str, config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let postfix = dir.path().join("etc/postfix");
    std::fs::create_dir_all(&postfix).expect("mkdir");
    std::fs::write(postfix.join("main.cf"), main).expect("writable");
    std::fs::write(postfix.join("master.cf"), master).expect("writable");
    std::fs::write(dir.path().join(".pre-commit-config.yaml"), config).expect("writable");
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["config", "user.email", "test@example.org"]);
    git(dir.path(), &["config", "user.name", "test"]);
    git(dir.path(), &["add", "."]);
    dir
}

fn run(pre_commit: &PathBuf, dir: &Path, files: &[&str]) -> Output {
    let mut args = vec!["run", "--files"];
    args.extend_from_slice(files);
    Command::new(pre_commit)
        .args(&args)
        .current_dir(dir)
        .env("PRE_COMMIT_HOME", dir.join(".pre-commit-cache"))
        .env("NO_COLOR", "1")
        .output()
        .expect("pre-commit runs")
}

const MASTER: &str = "smtp inet n - y - - smtpd\nsubmission inet n - y - - smtpd\n  -o smtpd_tls_security_level=encrypt\n  -o smtpd_sasl_auth_enable=yes\n  -o smtpd_tls_wrappermode=no\nsmtp unix - - y - - smtp\n";
const GOOD_MAIN: &str = "compatibility_level = 3.6\nsmtpd_tls_security_level = may\nsmtpd_tls_chain_files = /etc/ssl/private/mx.pem\nsmtpd_tls_mandatory_protocols = >=TLSv1.2\nsmtp_tls_security_level = may\nsmtpd_sasl_type = dovecot\nsmtpd_sasl_path = private/auth\n";

#[test]
fn a_bad_configuration_fails_the_hook_with_pflints_message() {
    let Some(pre_commit) = common::pre_commit() else {
        return;
    };
    let bad = GOOD_MAIN.replace(
        "smtpd_tls_security_level = may",
        "smtpd_tls_security_level = encrypt",
    );
    let dir = repository(&bad, MASTER);
    let out = run(&pre_commit, dir.path(), &["etc/postfix/main.cf"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("PF201(mandatory-tls-on-public-mx)"), "{text}");
    assert!(text.contains("etc/postfix/main.cf"), "{text}");
}

#[test]
fn a_good_configuration_passes_the_hook() {
    let Some(pre_commit) = common::pre_commit() else {
        return;
    };
    let dir = repository(GOOD_MAIN, MASTER);
    let out = run(
        &pre_commit,
        dir.path(),
        &["etc/postfix/main.cf", "etc/postfix/master.cf"],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("Passed"), "{text}");
}

#[test]
fn a_changed_master_cf_is_judged_with_its_main_cf() {
    let Some(pre_commit) = common::pre_commit() else {
        return;
    };
    // Only master.cf is passed; the finding needs main.cf's values to be right: with
    // main.cf's `may`, an `-o ...=encrypt` on port 25 is the one problem.
    let master = MASTER.replace(
        "smtp inet n - y - - smtpd\n",
        "smtp inet n - y - - smtpd\n  -o smtpd_tls_security_level=encrypt\n",
    );
    let dir = repository(GOOD_MAIN, &master);
    let out = run(&pre_commit, dir.path(), &["etc/postfix/master.cf"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("etc/postfix/master.cf:2:"), "{text}");
    assert!(text.contains("PF201"), "{text}");
}

#[test]
fn the_fix_hook_applies_the_safe_fixes_then_passes() {
    let Some(pre_commit) = common::pre_commit() else {
        return;
    };
    // Opportunistic TLS limited to `high` ciphers: the safe fix gives Postfix's default.
    let main = format!("{GOOD_MAIN}smtpd_tls_ciphers = high\n");
    let config = local_config("pflint-fix", "pflint check --fix");
    let dir = repository_with(&main, MASTER, &config);
    let out = run(&pre_commit, dir.path(), &["etc/postfix/main.cf"]);
    let text = String::from_utf8_lossy(&out.stdout);
    // pre-commit fails a hook that changed files, so that they are looked at and staged.
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("files were modified by this hook"), "{text}");
    assert!(text.contains("PF406"), "{text}");
    let fixed = std::fs::read_to_string(dir.path().join("etc/postfix/main.cf")).expect("readable");
    assert!(fixed.ends_with("#smtpd_tls_ciphers = high\n"), "{fixed}");
    assert!(fixed.starts_with(GOOD_MAIN), "{fixed}");
    // Staged, the fixed file passes.
    git(dir.path(), &["add", "."]);
    let again = run(&pre_commit, dir.path(), &["etc/postfix/main.cf"]);
    let text = String::from_utf8_lossy(&again.stdout);
    assert!(again.status.success(), "{text}");
    assert!(text.contains("Passed"), "{text}");
}
