//! `pflint generate -c DIR`: edits against existing configurations. On copies of the
//! corpus sets the diff applies with `git apply`, equals what `--write` produces, removes
//! only lines about TLS, and a second `--write` changes nothing; a failing write leaves
//! the files as they were.

mod common;

use std::path::Path;
use std::process::{Command, Output};

const ROLES: &str = "mx,submission,outbound";

fn generate(dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "generate".to_owned(),
        "-c".to_owned(),
        dir.display().to_string(),
        "--role".to_owned(),
        ROLES.to_owned(),
        "--profile".to_owned(),
        "intermediate".to_owned(),
        "--postfix-version".to_owned(),
        "3.7".to_owned(),
    ];
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    common::pflint().args(&args).output().expect("pflint runs")
}

fn copy_config(from: &Path, to: &Path) {
    for name in ["main.cf", "master.cf"] {
        if from.join(name).is_file() {
            std::fs::copy(from.join(name), to.join(name)).expect("copied");
        }
    }
}

fn read(dir: &Path, name: &str) -> Option<Vec<u8>> {
    std::fs::read(dir.join(name)).ok()
}

#[test]
fn diffs_apply_equal_the_written_result_and_a_second_run_is_a_no_op() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let postconf = common::installed_postconf().map(|(path, _)| path);
    let mut applied = 0;
    let mut refused = 0;
    for set in common::corpus_sets(&corpus) {
        let utf8 = ["main.cf", "master.cf"]
            .iter()
            .filter_map(|n| read(&set.dir, n))
            .all(|b| std::str::from_utf8(&b).is_ok());
        if !utf8 {
            continue;
        }
        let patched = tempfile::tempdir().expect("a temporary directory");
        let written = tempfile::tempdir().expect("a temporary directory");
        copy_config(&set.dir, patched.path());
        copy_config(&set.dir, written.path());

        let out = generate(patched.path(), &["--diff"]);
        if out.status.code() == Some(1) {
            // Files with syntax errors are not edited at all.
            assert!(String::from_utf8_lossy(&out.stderr).contains("syntax errors"));
            let write = generate(written.path(), &["--write"]);
            assert_eq!(write.status.code(), Some(1));
            assert_eq!(read(written.path(), "main.cf"), read(&set.dir, "main.cf"));
            assert_eq!(
                read(written.path(), "master.cf"),
                read(&set.dir, "master.cf")
            );
            refused += 1;
            continue;
        }
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            set.name,
            String::from_utf8_lossy(&out.stderr)
        );
        let diff = String::from_utf8(out.stdout).expect("UTF-8 diff");
        // Every removed line is a setting generate manages (TLS, or the SASL and
        // restrictions of a submission service), or a continuation line of one.
        let managed = |text: &str| {
            ["tls", "TLS", "sasl", "_restrictions"]
                .iter()
                .any(|word| text.contains(word))
        };
        let mut in_managed_entry = false;
        let lines: Vec<&str> = diff.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if !line.starts_with('-') || line.starts_with("---") {
                continue;
            }
            // A last line without a newline is removed and added back with one.
            if lines
                .get(i + 1)
                .is_some_and(|next| next.starts_with("\\ No newline"))
            {
                continue;
            }
            let content = &line[1..];
            let option = content.trim_start().starts_with("-o");
            if option || !content.starts_with([' ', '\t']) {
                in_managed_entry = managed(content);
            }
            assert!(
                in_managed_entry,
                "{}: the diff removes a line generate does not manage: {line}",
                set.name
            );
        }
        std::fs::write(patched.path().join("change.diff"), &diff).expect("writable");
        let git = Command::new("git")
            .args(["apply", "--unsafe-paths", "change.diff"])
            .current_dir(patched.path())
            .output()
            .expect("git runs");
        assert!(
            git.status.success(),
            "{}: git apply: {}\n{diff}",
            set.name,
            String::from_utf8_lossy(&git.stderr)
        );

        let warnings_before = postconf_warnings(postconf.as_deref(), written.path());
        let out = generate(written.path(), &["--write"]);
        let before_main = read(&set.dir, "main.cf");
        match out.status.code() {
            Some(0) => {
                for name in ["main.cf", "master.cf"] {
                    assert_eq!(
                        read(patched.path(), name),
                        read(written.path(), name),
                        "{}: {name}",
                        set.name
                    );
                }
                let warnings_after = postconf_warnings(postconf.as_deref(), written.path());
                let new: Vec<&String> = warnings_after
                    .iter()
                    .filter(|w| !warnings_before.contains(w))
                    .collect();
                assert!(new.is_empty(), "{}: postconf warns anew: {new:?}", set.name);
                let again = generate(written.path(), &["--write"]);
                assert_eq!(again.status.code(), Some(0));
                assert!(
                    String::from_utf8_lossy(&again.stdout).contains("nothing to change"),
                    "{}: the second run changed something",
                    set.name
                );
                applied += 1;
            }
            Some(1) => assert_eq!(
                read(written.path(), "main.cf"),
                before_main,
                "{}: refused, yet changed",
                set.name
            ),
            other => panic!(
                "{}: exit {other:?}: {}",
                set.name,
                String::from_utf8_lossy(&out.stderr)
            ),
        }
    }
    common::visible(&format!(
        "generate -c: {applied} corpus sets patched, written and re-run; {refused} with syntax errors left alone"
    ));
    assert!(applied >= 30, "only {applied} sets");
}

/// postconf's warnings on a directory (`postconf -n` reads both files and warns about
/// both), or none without postconf.
fn postconf_warnings(postconf: Option<&Path>, dir: &Path) -> Vec<String> {
    let Some(postconf) = postconf else {
        return Vec::new();
    };
    common::age_config(dir);
    let out = Command::new(postconf)
        .args(["-c", &dir.display().to_string(), "-n"])
        .output()
        .expect("postconf runs");
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_legacy_configuration_is_fixed_and_then_checks_without_tls_warnings() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    copy_config(&common::fixture("scenarios/legacy"), dir.path());
    let out = generate(dir.path(), &["--write"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let check = common::pflint()
        .args([
            "check",
            "--format",
            "short",
            "--postfix-version",
            "3.7",
            &dir.path().display().to_string(),
        ])
        .output()
        .expect("pflint runs");
    let text = String::from_utf8_lossy(&check.stdout).into_owned();
    let warnings: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(": warning[") || l.contains(": error["))
        .collect();
    assert!(warnings.is_empty(), "{text}");
    let main = std::fs::read_to_string(dir.path().join("main.cf")).expect("main.cf");
    assert!(
        main.contains("# pflint generate removed `smtpd_use_tls = yes`"),
        "{main}"
    );
    // The certificate it had is kept, not replaced by a placeholder.
    assert!(main.contains("smtpd_tls_cert_file = /etc/ssl/certs/ssl-cert-snakeoil.pem"));
    let again = generate(dir.path(), &["--write"]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("nothing to change"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("main.cf")).expect("main.cf"),
        main
    );
}

#[test]
fn a_failing_write_leaves_the_files_untouched() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("main.cf");
    std::fs::write(&path, "smtpd_use_tls = yes\n").expect("writable");
    // The temporary file's name is taken, so the write fails before the rename.
    let blocker = dir
        .path()
        .join(format!(".main.cf.pflint-{}", std::process::id()));
    std::fs::create_dir(&blocker).expect("a directory");
    assert!(pflint::atomic::replace(&path, b"smtpd_tls_security_level = may\n").is_err());
    assert_eq!(
        std::fs::read(&path).expect("readable"),
        b"smtpd_use_tls = yes\n"
    );
    assert!(blocker.is_dir(), "someone else's file is left alone");
}

#[test]
fn a_read_only_directory_refuses_the_write_and_keeps_the_files() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let dir = tempfile::tempdir().expect("a temporary directory");
    copy_config(&common::fixture("scenarios/legacy"), dir.path());
    let before = (read(dir.path(), "main.cf"), read(dir.path(), "master.cf"));
    for name in ["main.cf", "master.cf"] {
        std::fs::set_permissions(
            dir.path().join(name),
            std::fs::Permissions::from_mode(0o644),
        )
        .expect("chmod");
    }
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o555)).expect("chmod");
    let args = [
        "generate",
        "-c",
        &dir.path().display().to_string(),
        "--role",
        ROLES,
        "--postfix-version",
        "3.7",
        "--write",
    ]
    .map(str::to_owned);
    // root writes anywhere, so as root the check runs as nobody (setpriv, util-linux).
    let root = std::fs::metadata(dir.path()).expect("metadata").uid() == 0;
    let out = if root {
        Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_pflint"))
            .args(&args)
            .output()
            .expect("setpriv runs")
    } else {
        common::pflint().args(&args).output().expect("pflint runs")
    };
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no file was changed"), "{stderr}");
    assert_eq!(
        (read(dir.path(), "main.cf"), read(dir.path(), "master.cf")),
        before
    );
}
