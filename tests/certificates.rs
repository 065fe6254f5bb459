//! The certificate checks as a user runs them: `pflint check` with `--files`, `--root`
//! and `--no-files`, on configurations whose key and certificate files are made at test
//! time (tests/common/material.rs); when files are read and when not; links followed the
//! way the kernel would under the root; a correct RSA + ECDSA setup clean.

mod common;

use std::collections::BTreeMap;
use std::process::Output;

use common::material::{Material, openssl};
use tempfile::TempDir;

const MAIN: &str = "myhostname = mail.example.com\n\
    smtpd_tls_security_level = may\n\
    smtpd_tls_chain_files = /etc/ssl/private/rsa.pem, /etc/ssl/private/ec.pem\n";

const MASTER: &str = "smtp inet n - y - - smtpd\n\
    submission inet n - y - - smtpd\n  \
    -o smtpd_tls_security_level=encrypt\n  \
    -o smtpd_sasl_auth_enable=yes\n  \
    -o smtpd_sasl_type=dovecot\n  \
    -o smtpd_sasl_path=private/auth\n";

/// A configuration directory and a root holding the files it names.
struct Setup {
    tmp: TempDir,
}

impl Setup {
    fn new(main: &str, files: &[(&str, &str)]) -> Option<Setup> {
        let openssl = openssl()?;
        let tmp = TempDir::new().unwrap();
        std::fs::create_dir_all(tmp.path().join("config")).unwrap();
        std::fs::write(tmp.path().join("config/main.cf"), main).unwrap();
        std::fs::write(tmp.path().join("config/master.cf"), MASTER).unwrap();
        let recipes: BTreeMap<String, String> = files
            .iter()
            .map(|(p, r)| ((*p).to_owned(), (*r).to_owned()))
            .collect();
        Material::new(&tmp.path().join("root"), &openssl).write_all(&recipes);
        Some(Setup { tmp })
    }

    fn config(&self) -> std::path::PathBuf {
        self.tmp.path().join("config")
    }

    fn root(&self) -> std::path::PathBuf {
        self.tmp.path().join("root")
    }

    fn check(&self, args: &[&str]) -> Output {
        common::pflint()
            .arg("check")
            .args(["--format", "json", "--no-config"])
            .args(args)
            .output()
            .unwrap()
    }

    /// `pflint check --root ROOT CONFIG`: the files read from the test's own root.
    fn check_under_root(&self) -> Output {
        let (root, config) = (self.root(), self.config());
        self.check(&["--root", root.to_str().unwrap(), config.to_str().unwrap()])
    }
}

/// The certificate findings of a JSON report: (code, line, message).
fn certificate_findings(out: &Output) -> Vec<(String, u64, String)> {
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not a JSON report ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"].as_str().unwrap().starts_with("PF8"))
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
                f["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn codes(out: &Output) -> Vec<String> {
    certificate_findings(out)
        .into_iter()
        .map(|(code, _, _)| code)
        .collect()
}

#[test]
fn a_correct_rsa_and_ecdsa_setup_is_clean() {
    let Some(setup) = Setup::new(
        MAIN,
        &[
            (
                "/etc/ssl/private/rsa.pem",
                "key rsa3072; cert rsa3072 by int; ca int by root",
            ),
            (
                "/etc/ssl/private/ec.pem",
                "key ec; cert ec by int; ca int by root",
            ),
        ],
    ) else {
        return;
    };
    let out = setup.check_under_root();
    assert_eq!(certificate_findings(&out), Vec::new());
}

#[test]
fn each_chain_file_is_judged_at_the_line_that_names_it() {
    let Some(setup) = Setup::new(
        MAIN,
        &[
            ("/etc/ssl/private/rsa.pem", "cert rsa; key rsa"),
            ("/etc/ssl/private/ec.pem", "key ec; cert ec; mode 644"),
        ],
    ) else {
        return;
    };
    let out = setup.check_under_root();
    let found = certificate_findings(&out);
    let placed: Vec<(&str, u64)> = found.iter().map(|(c, l, _)| (c.as_str(), *l)).collect();
    assert_eq!(placed, [("PF802", 3), ("PF804", 3)], "{found:?}");
    assert!(
        found[1].2.contains("/etc/ssl/private/rsa.pem line 1"),
        "the PEM line is named: {}",
        found[1].2
    );
}

#[test]
fn links_are_followed_under_the_root_and_the_target_is_judged() {
    let main = "myhostname = mail.example.com\n\
        smtpd_tls_security_level = may\n\
        smtpd_tls_chain_files = /etc/letsencrypt/live/mail/both.pem\n";
    let Some(setup) = Setup::new(
        main,
        &[(
            "/etc/letsencrypt/archive/mail/both1.pem",
            "key ec; cert ec by int; ca int by root; mode 644",
        )],
    ) else {
        return;
    };
    let root = setup.root();
    let live = root.join("etc/letsencrypt/live/mail");
    std::fs::create_dir_all(&live).unwrap();
    // certbot's relative link, and an absolute one that must stay under the root.
    std::os::unix::fs::symlink("../../archive/mail/both1.pem", live.join("relative.pem")).unwrap();
    std::os::unix::fs::symlink(
        "/etc/letsencrypt/live/mail/relative.pem",
        live.join("both.pem"),
    )
    .unwrap();
    let out = setup.check_under_root();
    let found = certificate_findings(&out);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "PF802");
    assert!(
        found[0].2.contains("archive/mail/both1.pem") && found[0].2.contains("0644"),
        "{}",
        found[0].2
    );
}

#[test]
fn files_are_read_for_the_live_configuration_or_when_asked() {
    let main = "myhostname = mail.example.com\n\
        smtpd_tls_security_level = may\n\
        smtpd_tls_chain_files = /nonexistent/pflint-test/mx.pem\n";
    let Some(setup) = Setup::new(main, &[]) else {
        return;
    };
    let config = setup.config();
    let config = config.to_str().unwrap();
    // A repository: the files are elsewhere, so nothing is said about them.
    assert_eq!(codes(&setup.check(&[config])), Vec::<String>::new());
    assert_eq!(codes(&setup.check(&["--files", config])), ["PF801"]);
    // The live configuration ($MAIL_CONFIG, no path): read unless --no-files.
    let live = |args: &[&str]| {
        common::pflint()
            .arg("check")
            .args(["--format", "json", "--no-config"])
            .args(args)
            .env("MAIL_CONFIG", config)
            .output()
            .unwrap()
    };
    assert_eq!(codes(&live(&[])), ["PF801"]);
    assert_eq!(codes(&live(&["--no-files"])), Vec::<String>::new());
    let found = certificate_findings(&setup.check(&["--files", config]));
    assert_eq!(found[0].1, 3);
    assert!(
        found[0].2.contains("no such file or directory"),
        "{}",
        found[0].2
    );
}

#[test]
fn relative_paths_are_read_from_the_queue_directory() {
    let main = "myhostname = mail.example.com\n\
        queue_directory = /var/spool/postfix\n\
        smtpd_tls_security_level = may\n\
        smtpd_tls_chain_files = mx.pem\n";
    let Some(setup) = Setup::new(main, &[("/etc/postfix/mx.pem", "key ec; cert ec")]) else {
        return;
    };
    let out = setup.check_under_root();
    let found = certificate_findings(&out);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!((found[0].0.as_str(), found[0].1), ("PF801", 4));
    assert!(
        found[0].2.contains("relative path") && found[0].2.contains("var/spool/postfix/mx.pem"),
        "{}",
        found[0].2
    );
}

#[test]
fn the_report_names_the_pem_line() {
    let main = "myhostname = example.com\n\
        smtpd_tls_security_level = may\n\
        smtpd_tls_chain_files = /etc/ssl/private/ec.pem, /etc/ssl/private/rsa.pem\n";
    let Some(setup) = Setup::new(
        main,
        &[
            (
                "/etc/ssl/private/ec.pem",
                "key ec; cert ec for *.example.com",
            ),
            ("/etc/ssl/private/rsa.pem", "key rsa; cert rsa2"),
        ],
    ) else {
        return;
    };
    let root = setup.root();
    let out = common::pflint()
        .arg("check")
        .args(["--no-config", "--select", "PF8", "--postfix-version", "3.7"])
        .args(["--root", root.to_str().unwrap()])
        .arg(setup.config())
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).replace(setup.config().to_str().unwrap(), "[CONFIG]");
    common::snapshots("certificates").bind(|| insta::assert_snapshot!("pem_line", text));
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn sni_entries_are_loaded_and_must_cover_their_name() {
    let main = "myhostname = mail.example.com\n\
        smtpd_tls_security_level = may\n\
        smtpd_tls_chain_files = /etc/ssl/private/ec.pem\n\
        tls_server_sni_maps = inline:{ mail.example.org=/etc/ssl/private/org.pem, \
        { mail.example.net = /etc/ssl/private/net.pem } }\n";
    let Some(setup) = Setup::new(
        main,
        &[
            (
                "/etc/ssl/private/ec.pem",
                "key ec; cert ec by int; ca int by root",
            ),
            (
                "/etc/ssl/private/org.pem",
                "key ec2; cert ec2 for mail.example.org by int; ca int by root; mode 644",
            ),
            (
                "/etc/ssl/private/net.pem",
                "key ec3; cert ec3 for mail.example.com by int; ca int by root",
            ),
        ],
    ) else {
        return;
    };
    let out = setup.check_under_root();
    let found = certificate_findings(&out);
    let placed: Vec<(&str, u64)> = found.iter().map(|(c, l, _)| (c.as_str(), *l)).collect();
    // org.pem (a plain `name=file` entry) is read: its key is judged; net.pem (a braced
    // entry) does not cover its name.
    assert_eq!(placed, [("PF802", 4), ("PF811", 4)], "{found:?}");
    assert!(
        found[0].2.contains("/etc/ssl/private/org.pem"),
        "{}",
        found[0].2
    );
    assert!(
        found[1].2.contains("/etc/ssl/private/net.pem line 6")
            && found[1].2.contains("mail.example.net (its SNI name)"),
        "{}",
        found[1].2
    );
}
