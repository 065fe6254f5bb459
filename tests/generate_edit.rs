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
    postconf.map_or_else(Vec::new, |p| common::postconf_warnings(p, dir))
}

#[test]
fn a_legacy_configuration_is_fixed_and_then_checks_without_tls_warnings() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    copy_config(&common::fixture("scenarios/legacy"), dir.path());
    let out = generate(dir.path(), &["--write", "--sasl", "dovecot"]);
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

/// Writes main.cf (and master.cf) into a new directory, runs `generate -c DIR --write`
/// with the roles and flags given at 3.7, and returns the new files and the codes of the
/// warnings and errors `pflint check` then reports.
fn write_and_check(
    main: &str,
    master: Option<&str>,
    roles: &str,
    flags: &[&str],
) -> (String, String, Vec<String>) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(dir.path().join("main.cf"), main).expect("written");
    if let Some(master) = master {
        std::fs::write(dir.path().join("master.cf"), master).expect("written");
    }
    let path = dir.path().display().to_string();
    let mut args = vec![
        "generate",
        "-c",
        &path,
        "--role",
        roles,
        "--postfix-version",
        "3.7",
        "--write",
    ];
    args.extend(flags);
    let out = common::pflint().args(&args).output().expect("pflint runs");
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
            &path,
        ])
        .output()
        .expect("pflint runs");
    let codes = String::from_utf8_lossy(&check.stdout)
        .lines()
        .filter(|l| l.contains(": warning[") || l.contains(": error["))
        .filter_map(|l| l.split('[').nth(1)?.split(']').next().map(str::to_owned))
        .collect();
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap_or_default();
    (read("main.cf"), read("master.cf"), codes)
}

/// The effective value of a parameter in main.cf text (its last setting).
fn value_of(main: &str, name: &str) -> Option<String> {
    main.lines()
        .rev()
        .filter_map(|l| l.split_once('='))
        .find(|(n, _)| n.trim() == name)
        .map(|(_, v)| v.trim().to_owned())
}

const STOCK_SMTPD: &str =
    "smtp inet n - y - - smtpd\nsmtp unix - - y - - smtp\nrelay unix - - y - - smtp\n";

#[test]
fn existing_dane_is_kept_and_gets_dnssec_lookups() {
    let base = "compatibility_level = 3.6\nsmtpd_tls_chain_files = /etc/ssl/mx.pem\n";
    for (given, dnssec) in [("dane", true), ("dane", false), ("dane-only", true)] {
        let mut main = format!("{base}smtp_tls_security_level = {given}\n");
        if dnssec {
            main.push_str("smtp_dns_support_level = dnssec\n");
        }
        let (new, _, codes) = write_and_check(
            &main,
            Some(STOCK_SMTPD),
            "mx,submission,outbound",
            &["--sasl", "dovecot"],
        );
        assert_eq!(
            value_of(&new, "smtp_tls_security_level").as_deref(),
            Some("dane"),
            "{given}:\n{new}"
        );
        assert_eq!(
            value_of(&new, "smtp_dns_support_level").as_deref(),
            Some("dnssec"),
            "{new}"
        );
        assert!(codes.is_empty(), "{given}: {codes:?}\n{new}");
        if given == "dane-only" {
            assert!(
                new.contains("was dane-only") && new.contains("PF101"),
                "{new}"
            );
        }
    }
}

#[test]
fn stronger_settings_are_kept() {
    let main = "compatibility_level = 3.6\n\
                smtpd_tls_chain_files = /etc/ssl/mx.pem\n\
                smtpd_tls_auth_only = yes\n\
                smtpd_tls_mandatory_protocols = >=TLSv1.3\n\
                smtpd_tls_mandatory_ciphers = high\n\
                smtp_tls_policy_maps = hash:/etc/postfix/tls_policy\n\
                smtpd_sasl_type = dovecot\n\
                smtpd_sasl_path = private/auth\n";
    let master = format!(
        "{STOCK_SMTPD}submission inet n - y - - smtpd\n  -o smtpd_tls_security_level=encrypt\n  -o smtpd_client_restrictions=permit_sasl_authenticated,check_client_access,reject\n"
    );
    let (new, new_master, codes) =
        write_and_check(main, Some(&master), "mx,submission,outbound", &[]);
    for (name, value) in [
        ("smtpd_tls_auth_only", "yes"),
        ("smtpd_tls_mandatory_protocols", ">=TLSv1.3"),
        ("smtpd_tls_mandatory_ciphers", "high"),
        ("smtp_tls_policy_maps", "hash:/etc/postfix/tls_policy"),
        ("smtpd_sasl_type", "dovecot"),
        ("smtpd_sasl_path", "private/auth"),
    ] {
        assert_eq!(
            value_of(&new, name).as_deref(),
            Some(value),
            "{name}:\n{new}"
        );
    }
    assert!(
        new_master.contains(
            "-o smtpd_client_restrictions=permit_sasl_authenticated,check_client_access,reject"
        ),
        "{new_master}"
    );
    assert!(codes.is_empty(), "{codes:?}\n{new}\n{new_master}");
}

#[test]
fn passed_certificate_files_are_the_one_set_in_the_target_form() {
    let main = "compatibility_level = 3.6\n\
                smtpd_tls_chain_files = /etc/ssl/old.pem\n\
                smtpd_tls_cert_file = /etc/ssl/certs/ssl-cert-snakeoil.pem\n\
                smtpd_tls_key_file = /etc/ssl/private/ssl-cert-snakeoil.key\n";
    let (new, _, codes) = write_and_check(
        main,
        Some(STOCK_SMTPD),
        "mx,submission,outbound",
        &[
            "--cert",
            "/etc/ssl/new/fullchain.pem",
            "--key",
            "/etc/ssl/new/privkey.pem",
            "--sasl",
            "dovecot",
        ],
    );
    assert_eq!(
        value_of(&new, "smtpd_tls_chain_files").as_deref(),
        Some("/etc/ssl/new/privkey.pem, /etc/ssl/new/fullchain.pem"),
        "{new}"
    );
    assert_eq!(value_of(&new, "smtpd_tls_cert_file"), None, "{new}");
    assert_eq!(value_of(&new, "smtpd_tls_key_file"), None, "{new}");
    assert!(
        !codes.contains(&"PF208".to_owned()) && codes.is_empty(),
        "{codes:?}\n{new}"
    );
    // Without certificate flags, the existing chain files stay and the ignored legacy
    // lines go.
    let (kept, _, codes) = write_and_check(
        main,
        Some(STOCK_SMTPD),
        "mx,submission,outbound",
        &["--sasl", "dovecot"],
    );
    assert_eq!(
        value_of(&kept, "smtpd_tls_chain_files").as_deref(),
        Some("/etc/ssl/old.pem")
    );
    assert_eq!(value_of(&kept, "smtpd_tls_cert_file"), None, "{kept}");
    assert!(codes.is_empty(), "{codes:?}\n{kept}");
    // A key and a certificate in files of their own become chain files (key first);
    // a combined file stays as it is, as its order inside is not known.
    let legacy = "compatibility_level = 3.6\n\
                  smtpd_tls_cert_file = /etc/ssl/certs/mx.pem\n\
                  smtpd_tls_key_file = /etc/ssl/private/mx.key\n";
    let (converted, _, codes) = write_and_check(
        legacy,
        Some(STOCK_SMTPD),
        "mx,submission,outbound",
        &["--sasl", "dovecot"],
    );
    assert_eq!(
        value_of(&converted, "smtpd_tls_chain_files").as_deref(),
        Some("/etc/ssl/private/mx.key, /etc/ssl/certs/mx.pem"),
        "{converted}"
    );
    assert_eq!(
        value_of(&converted, "smtpd_tls_cert_file"),
        None,
        "{converted}"
    );
    assert!(codes.is_empty(), "{codes:?}\n{converted}");
    let combined = "compatibility_level = 3.6\nsmtpd_tls_cert_file = /etc/ssl/private/mx.pem\n";
    let (same, _, codes) = write_and_check(
        combined,
        Some(STOCK_SMTPD),
        "mx,submission,outbound",
        &["--sasl", "dovecot"],
    );
    assert_eq!(
        value_of(&same, "smtpd_tls_cert_file").as_deref(),
        Some("/etc/ssl/private/mx.pem")
    );
    assert_eq!(value_of(&same, "smtpd_tls_chain_files"), None, "{same}");
    assert!(codes.is_empty(), "{codes:?}\n{same}");
}

#[test]
fn the_legacy_profile_edit_carries_its_suppression() {
    let main = "compatibility_level = 3.6\n\
                smtpd_tls_chain_files = /etc/ssl/mx.pem\n\
                smtpd_tls_mandatory_protocols = !SSLv2, !SSLv3\n";
    let (new, _, codes) = write_and_check(
        main,
        Some(STOCK_SMTPD),
        "mx,submission,outbound",
        &["--profile", "legacy", "--sasl", "dovecot"],
    );
    assert!(
        new.contains("# pflint: disable=PF303 -- profile legacy: peers that cannot do TLS 1.2\nsmtpd_tls_mandatory_protocols = >=TLSv1\n"),
        "{new}"
    );
    assert!(codes.is_empty(), "{codes:?}\n{new}");
    // A floor stricter than the profile's stays, and needs no suppression.
    let stricter = main.replace("!SSLv2, !SSLv3", ">=TLSv1.2");
    let (new, _, codes) = write_and_check(
        &stricter,
        Some(STOCK_SMTPD),
        "mx,submission,outbound",
        &["--profile", "legacy", "--sasl", "dovecot"],
    );
    assert_eq!(
        value_of(&new, "smtpd_tls_mandatory_protocols").as_deref(),
        Some(">=TLSv1.2")
    );
    assert!(!new.contains("disable=PF303"), "{new}");
    assert!(codes.is_empty(), "{codes:?}\n{new}");
}

#[test]
fn mandatory_tls_on_port_25_is_corrected_and_said_so() {
    let main = "compatibility_level = 3.6\n\
                smtpd_tls_chain_files = /etc/ssl/mx.pem\n\
                smtpd_tls_security_level = encrypt\n\
                smtpd_sasl_auth_enable = yes\n\
                smtp_tls_security_level = encrypt\n";
    let master = "smtp inet n - y - - smtpd\nsmtp unix - - y - - smtp\nrelay unix - - y - - smtp\n10587 inet n - y - - smtpd\n";
    let (new, new_master, codes) = write_and_check(
        main,
        Some(master),
        "mx,submission,outbound",
        &["--sasl", "dovecot"],
    );
    assert_eq!(
        value_of(&new, "smtpd_tls_security_level").as_deref(),
        Some("may")
    );
    assert!(
        new.contains("was encrypt; a public MX must offer STARTTLS") && new.contains("PF201"),
        "{new}"
    );
    assert_eq!(
        value_of(&new, "smtp_tls_security_level").as_deref(),
        Some("may")
    );
    assert!(new.contains("PF101"), "{new}");
    // The port-10587 smtpd and the relay transport inherited encrypt: they keep it, each
    // with a -o and a comment; port 25 stops offering AUTH.
    assert!(
        new_master.contains("10587 inet n - y - - smtpd\n  -o smtpd_tls_security_level=encrypt"),
        "{new_master}"
    );
    assert!(
        new_master.contains("relay unix - - y - - smtp\n  -o smtp_tls_security_level=encrypt"),
        "{new_master}"
    );
    assert!(
        new_master.contains("smtp inet n - y - - smtpd\n  -o smtpd_sasl_auth_enable=no"),
        "{new_master}"
    );
    assert!(new_master.contains("(PF205)"), "{new_master}");
    assert!(codes.is_empty(), "{codes:?}\n{new}\n{new_master}");
}

#[test]
fn a_lone_main_cf_gets_the_stock_master_cf_with_the_services() {
    let main = "compatibility_level = 3.6\nsmtpd_tls_chain_files = /etc/ssl/mx.pem\n";
    let (_, master, codes) =
        write_and_check(main, None, "mx,submission,outbound", &["--sasl", "dovecot"]);
    assert!(
        master.starts_with("# Postfix's stock master.cf, which pflint assumed"),
        "{master}"
    );
    for service in [
        "pickup    unix",
        "cleanup   unix",
        "submission inet",
        "submissions inet",
    ] {
        assert!(master.contains(service), "{service}:\n{master}");
    }
    assert!(codes.is_empty(), "{codes:?}\n{master}");
}

#[test]
fn cr_lf_files_get_cr_lf_lines() {
    let main = "compatibility_level = 3.6\r\nsmtpd_tls_chain_files = /etc/ssl/mx.pem\r\nsmtpd_tls_security_level = none\r\n";
    let (new, master, _) = write_and_check(
        main,
        Some("smtp inet n - y - - smtpd\r\nsmtp unix - - y - - smtp\r\n"),
        "mx,submission,outbound",
        &["--sasl", "dovecot"],
    );
    // Both files were edited (lines changed and inserted), and every line of each, the
    // last one included, ends in CR LF.
    assert!(new.contains("# BEGIN pflint generate"), "{new:?}");
    assert!(master.contains("submission inet"), "{master:?}");
    for text in [&new, &master] {
        assert!(text.ends_with("\r\n"), "the last line:\n{text:?}");
        let bytes = text.as_bytes();
        for (at, _) in text.match_indices('\n') {
            assert!(
                at > 0 && bytes[at - 1] == b'\r',
                "a line without CR at byte {at}:\n{text:?}"
            );
        }
    }
}

/// Found by fuzzing: a `{` never closed in a service's last option takes in whatever
/// follows it, so options appended after it were not read, and every run added them again.
#[test]
fn options_are_added_before_an_argument_whose_brace_is_never_closed() {
    let master = "smtp inet n - y - - smtpd\nsmtp unix - - y - - smtp\n\
                  submission inet n - y - - smtpd\n  -o syslog_name=postfix/submission\n  -o tls_p{reempt_cipherlist=yes\n";
    let (main, master, _) = write_and_check(
        "compatibility_level = 3.6\nsmtpd_tls_chain_files = /etc/ssl/mx.pem\n",
        Some(master),
        "mx,submission,outbound",
        &["--sasl", "dovecot"],
    );
    assert!(
        master.contains(
            "  -o smtpd_sasl_auth_enable=yes\n  -o smtpd_client_restrictions=permit_sasl_authenticated,reject\n  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject\n  -o tls_p{reempt_cipherlist=yes\n\n"
        ),
        "{master}"
    );
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(dir.path().join("main.cf"), &main).expect("written");
    std::fs::write(dir.path().join("master.cf"), &master).expect("written");
    let path = dir.path().display().to_string();
    let again = common::pflint()
        .args(["generate", "-c", &path, "--role", "mx,submission,outbound"])
        .args(["--postfix-version", "3.7", "--sasl", "dovecot", "--diff"])
        .output()
        .expect("pflint runs");
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let said = String::from_utf8_lossy(&again.stdout);
    assert!(
        said.contains("nothing to change") && !said.contains("+++"),
        "{said}"
    );
}
