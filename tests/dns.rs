//! `pflint dns` as a user runs it: TLSA records byte-equal to the openssl recipe for every
//! key type, from the certificate and from the private key; only the keys smtpd really
//! loads; the rollover, `--check-tlsa`, MTA-STS and TLS-RPT output (snapshots, with the
//! random key digests replaced by names); and the MTA-STS policy checked against RFC
//! 8461's grammar by a reader of our own.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::material::{Material, openssl, openssl_key_sha256, openssl_spki_sha256};
use tempfile::TempDir;

/// A configuration directory and a root for the files it names.
struct Setup {
    tmp: TempDir,
    openssl: PathBuf,
}

impl Setup {
    fn new(main: &str, master: Option<&str>) -> Option<Setup> {
        let openssl = openssl()?;
        let tmp = TempDir::new().unwrap();
        std::fs::create_dir_all(tmp.path().join("config")).unwrap();
        std::fs::create_dir_all(tmp.path().join("root")).unwrap();
        std::fs::write(tmp.path().join("config/main.cf"), main).unwrap();
        if let Some(master) = master {
            std::fs::write(tmp.path().join("config/master.cf"), master).unwrap();
        }
        Some(Setup { tmp, openssl })
    }

    fn path(&self, under: &str) -> PathBuf {
        self.tmp.path().join(under)
    }

    /// Makes files from recipes (tests/common/material.rs) under the root.
    fn files(&self, files: &[(&str, &str)]) {
        let recipes: BTreeMap<String, String> = files
            .iter()
            .map(|(p, r)| ((*p).to_owned(), (*r).to_owned()))
            .collect();
        Material::new(&self.path("root"), &self.openssl).write_all(&recipes);
    }

    /// Runs openssl in the root directory.
    fn openssl(&self, args: &[&str]) {
        let out = std::process::Command::new(&self.openssl)
            .args(args)
            .current_dir(self.path("root"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn dns(&self, args: &[&str]) -> Output {
        common::pflint()
            .arg("dns")
            .arg("-c")
            .arg(self.path("config"))
            .arg("--root")
            .arg(self.path("root"))
            .args(args)
            .output()
            .unwrap()
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.dns(&[&["--format", "json"], args].concat());
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        })
    }

    /// The openssl digest of the first certificate in a root file.
    fn cert_digest(&self, file: &str) -> String {
        openssl_spki_sha256(&self.openssl, &self.path("root").join(file))
    }
}

/// The `data` of every TLSA record of a JSON report, with the key role.
fn tlsa(report: &serde_json::Value) -> Vec<(String, String)> {
    report["tlsa"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["key"]["role"].as_str().unwrap().to_owned(),
                r["data"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

const CHAIN_MAIN: &str = "myhostname = mail.example.com\nmydomain = example.com\n\
    smtpd_tls_security_level = may\nsmtpd_tls_chain_files = /etc/ssl/private/chain.pem\n";

/// Every key type Postfix loads, in every encoding openssl writes: the record from the
/// certificate and the one from the private key (alone, as `--next-key`) both equal the
/// openssl recipe.
#[test]
fn tlsa_equals_openssl_for_every_key_type() {
    let kinds: &[(&str, &[&[&str]])] = &[
        (
            "rsa-pkcs1",
            &[&["genrsa", "-traditional", "-out", "key.pem", "2048"]],
        ),
        (
            "rsa-pkcs8",
            &[&[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
                "key.pem",
            ]],
        ),
        (
            "p256-sec1",
            &[&[
                "ecparam",
                "-name",
                "prime256v1",
                "-genkey",
                "-noout",
                "-out",
                "key.pem",
            ]],
        ),
        (
            "p256-sec1-no-public",
            &[
                &[
                    "ecparam",
                    "-name",
                    "prime256v1",
                    "-genkey",
                    "-noout",
                    "-out",
                    "full.pem",
                ],
                &["ec", "-in", "full.pem", "-no_public", "-out", "key.pem"],
            ],
        ),
        (
            "p384-sec1",
            &[&[
                "ecparam",
                "-name",
                "secp384r1",
                "-genkey",
                "-noout",
                "-out",
                "key.pem",
            ]],
        ),
        (
            "p384-sec1-no-public",
            &[
                &[
                    "ecparam",
                    "-name",
                    "secp384r1",
                    "-genkey",
                    "-noout",
                    "-out",
                    "full.pem",
                ],
                &["ec", "-in", "full.pem", "-no_public", "-out", "key.pem"],
            ],
        ),
        (
            "p384-pkcs8",
            &[&[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-384",
                "-out",
                "key.pem",
            ]],
        ),
        (
            "ed25519",
            &[&["genpkey", "-algorithm", "ed25519", "-out", "key.pem"]],
        ),
    ];
    for (kind, steps) in kinds {
        let Some(setup) = Setup::new(CHAIN_MAIN, None) else {
            return;
        };
        for step in *steps {
            setup.openssl(step);
        }
        setup.openssl(&[
            "req",
            "-x509",
            "-key",
            "key.pem",
            "-subj",
            "/CN=mail.example.com",
            "-addext",
            "subjectAltName=DNS:mail.example.com",
            "-days",
            "30",
            "-out",
            "cert.pem",
        ]);
        let root = setup.path("root");
        let key = std::fs::read_to_string(root.join("key.pem")).unwrap();
        let cert = std::fs::read_to_string(root.join("cert.pem")).unwrap();
        std::fs::create_dir_all(root.join("etc/ssl/private")).unwrap();
        std::fs::write(
            root.join("etc/ssl/private/chain.pem"),
            format!("{key}{cert}"),
        )
        .unwrap();
        let from_cert = setup.cert_digest("cert.pem");
        let from_key = openssl_key_sha256(&setup.openssl, &root.join("key.pem"));
        assert_eq!(
            from_cert, from_key,
            "{kind}: openssl's own two recipes agree"
        );
        let next = root.join("key.pem");
        let report = setup.json(&["--next-key", next.to_str().unwrap()]);
        assert_eq!(
            tlsa(&report),
            [("current".to_owned(), from_cert.clone())],
            "{kind}: the key alone gives the same record, printed once: {report}"
        );
        assert_eq!(
            report["tlsa"][0]["line"].as_str().unwrap(),
            format!("_25._tcp.mail.example.com. 3600 IN TLSA 3 1 1 {from_cert}"),
            "{kind}"
        );
    }
}

/// Debian's leftover snakeoil lines beside chain files: smtpd loads the chain files only,
/// and only their keys get records, one per algorithm.
#[test]
fn only_the_keys_smtpd_loads_get_records() {
    let main = "myhostname = mail.example.com\nmydomain = example.com\n\
        smtpd_tls_cert_file = /etc/ssl/certs/ssl-cert-snakeoil.pem\n\
        smtpd_tls_key_file = /etc/ssl/private/ssl-cert-snakeoil.key\n\
        smtpd_tls_security_level = may\n\
        smtpd_tls_chain_files = /etc/ssl/private/rsa.pem, /etc/ssl/private/ec.pem\n";
    let Some(setup) = Setup::new(main, None) else {
        return;
    };
    setup.files(&[
        ("/etc/ssl/certs/ssl-cert-snakeoil.pem", "cert snake"),
        ("/etc/ssl/private/ssl-cert-snakeoil.key", "key snake"),
        (
            "/etc/ssl/private/rsa.pem",
            "key rsa; cert rsa for mail.example.com by int; ca int by root",
        ),
        (
            "/etc/ssl/private/ec.pem",
            "key ec; cert ec for mail.example.com by int; ca int by root",
        ),
    ]);
    let report = setup.json(&[]);
    let expected = vec![
        (
            "current".to_owned(),
            setup.cert_digest("etc/ssl/private/rsa.pem"),
        ),
        (
            "current".to_owned(),
            setup.cert_digest("etc/ssl/private/ec.pem"),
        ),
    ];
    assert_eq!(tlsa(&report), expected, "{report}");
    let snakeoil = setup.cert_digest("etc/ssl/certs/ssl-cert-snakeoil.pem");
    assert!(!report.to_string().contains(&snakeoil));
    // With the issuing CA: one 2 1 1 record for the intermediate both chains share.
    let report = setup.json(&["--issuer"]);
    let usages: Vec<u64> = report["tlsa"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["usage"].as_u64().unwrap())
        .collect();
    assert_eq!(usages, [3, 2, 3], "{report}");
    assert!(
        report["notes"][0]
            .as_str()
            .unwrap()
            .contains("CAs change intermediates"),
        "{report}"
    );
}

/// `--ports`: the submission service's own `-o smtpd_tls_chain_files` gives port 587 its
/// own record; a port nothing listens on is an error, not an empty answer. With outbound
/// DANE but no DNSSEC lookups, the note of PF104 comes with the records.
#[test]
fn ports_follow_master_cf_and_outbound_dane_is_checked() {
    let main =
        format!("{CHAIN_MAIN}smtp_tls_security_level = dane\nsmtp_dns_support_level = enabled\n");
    let master = "smtp inet n - y - - smtpd\n\
        submission inet n - y - - smtpd\n  -o smtpd_tls_chain_files=/etc/ssl/private/sub.pem\n";
    let Some(setup) = Setup::new(&main, Some(master)) else {
        return;
    };
    setup.files(&[
        (
            "/etc/ssl/private/chain.pem",
            "key mx; cert mx for mail.example.com",
        ),
        (
            "/etc/ssl/private/sub.pem",
            "key sub; cert sub for mail.example.com",
        ),
    ]);
    let report = setup.json(&["--ports", "25,587"]);
    let records: Vec<(String, String)> = report["tlsa"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_owned(),
                r["data"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        records,
        [
            (
                "_25._tcp.mail.example.com.".to_owned(),
                setup.cert_digest("etc/ssl/private/chain.pem")
            ),
            (
                "_587._tcp.mail.example.com.".to_owned(),
                setup.cert_digest("etc/ssl/private/sub.pem")
            ),
        ],
        "{report}"
    );
    let notes = report["notes"].to_string();
    assert!(
        notes.contains("[PF104]") && notes.contains("main.cf:5: smtp_tls_security_level = dane"),
        "{report}"
    );
    assert!(report["errors"].as_array().unwrap().is_empty(), "{report}");

    let out = setup.dns(&["--ports", "25,465"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no smtpd service listens on port 465"),
        "{stderr}"
    );
}

/// Replaces each 64-hex-digit digest by KEY1, KEY2, … in order of appearance, and the
/// temporary directory by ROOT, so that snapshots do not change with the random keys.
fn redact(text: &str, tmp: &Path) -> String {
    let text = text.replace(&tmp.display().to_string(), "TMP");
    // Test certificates are made relative to today.
    let text = dates_redacted(&text);
    let mut names: Vec<String> = Vec::new();
    let mut out = String::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let run = bytes[i..]
            .iter()
            .take_while(|b| b.is_ascii_hexdigit())
            .count();
        if run == 64 && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric()) {
            let digest = text[i..i + 64].to_ascii_lowercase();
            let n = match names.iter().position(|d| *d == digest) {
                Some(n) => n + 1,
                None => {
                    names.push(digest);
                    names.len()
                }
            };
            out.push_str(&format!("<KEY{n}>"));
            i += 64;
        } else {
            let step = run.max(1);
            out.push_str(&text[i..i + step]);
            i += step;
        }
    }
    out
}

/// The zone output and the messages of a run, for a snapshot.
fn shown(out: &Output, tmp: &Path) -> String {
    redact(
        &format!(
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        tmp,
    )
}

fn rollover_setup() -> Option<Setup> {
    let setup = Setup::new(CHAIN_MAIN, None)?;
    setup.files(&[
        (
            "/etc/ssl/private/chain.pem",
            "key rsa; cert rsa for mail.example.com by int; ca int by root",
        ),
        (
            "/etc/ssl/private/next.pem",
            "key rsa2; cert rsa2 for mail.example.com by int; ca int by root",
        ),
    ]);
    Some(setup)
}

/// `--next-key`: current and next records side by side and the steps, with the wait
/// computed from the TTL.
#[test]
fn rollover_prints_both_records_and_the_steps() {
    let Some(setup) = rollover_setup() else {
        return;
    };
    let next = setup.path("root/etc/ssl/private/next.pem");
    let out = setup.dns(&["--ttl", "1800", "--next-key", next.to_str().unwrap()]);
    common::snapshots("dns").bind(|| {
        insta::assert_snapshot!("rollover", shown(&out, setup.tmp.path()));
    });
    assert_eq!(out.status.code(), Some(0));
}

/// `--check-tlsa`: every key in use with a record exits 0; the next key without one
/// exits 1 and prints the record to publish; a record for no key is called stale.
#[test]
fn check_tlsa_passes_and_fails() {
    let Some(setup) = rollover_setup() else {
        return;
    };
    let current = setup.cert_digest("etc/ssl/private/chain.pem");
    let next = setup.cert_digest("etc/ssl/private/next.pem");
    let published = setup.path("published.txt");
    // As dig prints it: upper case, the data in two chunks.
    let upper = current.to_ascii_uppercase();
    std::fs::write(
        &published,
        format!(
            ";; ANSWER SECTION:\n_25._tcp.mail.example.com. 3600 IN TLSA 3 1 1 {} {}\n",
            &upper[..56],
            &upper[56..]
        ),
    )
    .unwrap();
    let published_arg = published.to_str().unwrap();
    let pass = setup.dns(&["--check-tlsa", published_arg]);
    let next_file = setup.path("root/etc/ssl/private/next.pem");
    let next_arg = next_file.to_str().unwrap();
    let fail = setup.dns(&["--check-tlsa", published_arg, "--next-key", next_arg]);
    std::fs::write(
        &published,
        format!(
            "_25._tcp.mail.example.com. 3600 IN TLSA 3 1 1 {next}\n_25._tcp.mail.example.com. 3600 IN TLSA 3 1 1 {}\n",
            "ab".repeat(32)
        ),
    )
    .unwrap();
    let stale = setup.dns(&["--check-tlsa", published_arg]);
    common::snapshots("dns").bind(|| {
        insta::assert_snapshot!("check_tlsa_pass", shown(&pass, setup.tmp.path()));
        insta::assert_snapshot!("check_tlsa_next_missing", shown(&fail, setup.tmp.path()));
        insta::assert_snapshot!("check_tlsa_stale", shown(&stale, setup.tmp.path()));
    });
    assert_eq!(pass.status.code(), Some(0));
    assert_eq!(fail.status.code(), Some(1));
    assert_eq!(stale.status.code(), Some(1));
    // Standard input works as the published file (dig | pflint dns --check-tlsa -).
    let mut child = common::pflint()
        .args(["dns", "-c"])
        .arg(setup.path("config"))
        .arg("--root")
        .arg(setup.path("root"))
        .args(["--check-tlsa", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "3 1 1 {current}").unwrap();
    }
    assert_eq!(child.wait_with_output().unwrap().status.code(), Some(0));
}

/// MTA-STS enforce is refused for each reason RFC 8461 gives, with testing printed
/// instead; a public chain that covers the MX is accepted; TLS-RPT from --rua.
#[test]
fn mta_sts_enforce_refusals_and_tls_rpt() {
    let master = "smtp inet n - y - - smtpd\n";
    let cases: &[(&str, &str, &str)] = &[
        ("self_signed", "key rsa; cert rsa for mail.example.com", ""),
        (
            "wrong_name",
            "key rsa; cert rsa for other.example.net by int; ca int by root",
            "",
        ),
        (
            "expired",
            "key rsa; cert rsa for mail.example.com by int days -1; ca int by root",
            "",
        ),
        (
            "old_protocols",
            "key rsa; cert rsa for mail.example.com by int; ca int by root",
            "smtpd_tls_protocols = TLSv1, TLSv1.1\n",
        ),
        (
            "accepted",
            "key rsa; cert rsa for mail.example.com by int; ca int by root",
            "",
        ),
    ];
    for (name, recipe, extra) in cases {
        let Some(setup) = Setup::new(&format!("{CHAIN_MAIN}{extra}"), Some(master)) else {
            return;
        };
        setup.files(&[
            ("/etc/ssl/private/chain.pem", recipe),
            ("/ca.pem", "ca root"),
        ]);
        let ca = setup.path("root/ca.pem");
        let out = setup.dns(&[
            "--mta-sts",
            "enforce",
            "--ca-file",
            ca.to_str().unwrap(),
            "--rua",
            "tlsrpt@example.com",
        ]);
        common::snapshots("dns").bind(|| {
            insta::assert_snapshot!(format!("mta_sts_{name}"), shown(&out, setup.tmp.path()));
        });
        let expected = if *name == "accepted" { 0 } else { 1 };
        assert_eq!(out.status.code(), Some(expected), "{name}");
        let text = String::from_utf8_lossy(&out.stdout);
        let policy: String = text
            .lines()
            .filter_map(|l| l.strip_prefix(";   "))
            .map(|l| format!("{l}\n"))
            .collect();
        validate_policy(&policy).unwrap_or_else(|e| panic!("{name}: {e}\n{policy}"));
    }
    // No STARTTLS on port 25 at all.
    let Some(setup) = Setup::new(
        "myhostname = mail.example.com\nmydomain = example.com\nsmtpd_tls_security_level = none\n",
        Some(master),
    ) else {
        return;
    };
    let out = setup.dns(&["--mta-sts", "enforce"]);
    common::snapshots("dns").bind(|| {
        insta::assert_snapshot!("mta_sts_no_starttls", shown(&out, setup.tmp.path()));
    });
    assert_eq!(out.status.code(), Some(1));
}

/// Reads an MTA-STS policy by RFC 8461 section 3.2's grammar: `sts-policy-field` lines
/// ended by LF or CRLF; `version: STSv1` first; exactly one `mode` (testing, enforce,
/// none) and `max_age` (1 to 10 digits, at most 31557600); `mx` values that are host
/// names or `*.` followed by one, present unless the mode is none; extension keys as the
/// grammar allows.
fn validate_policy(text: &str) -> Result<(), String> {
    let mut fields = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let end = rest.find('\n').ok_or("a line without its LF")?;
        let line = rest[..end].strip_suffix('\r').unwrap_or(&rest[..end]);
        rest = &rest[end + 1..];
        let (key, value) = line
            .split_once(':')
            .ok_or(format!("`{line}` is no field"))?;
        let key_ok = !key.is_empty()
            && key.len() <= 32
            && key
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphanumeric())
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
        if !key_ok {
            return Err(format!("`{key}` is not a field name"));
        }
        let value = value
            .trim_start_matches([' ', '\t'])
            .trim_end_matches([' ', '\t']);
        if value.bytes().any(|b| !(0x20..0x7f).contains(&b)) {
            return Err(format!("`{value}` has bytes the grammar does not allow"));
        }
        fields.push((key.to_owned(), value.to_owned()));
    }
    let get = |k: &str| {
        fields
            .iter()
            .filter(|(key, _)| key == k)
            .collect::<Vec<_>>()
    };
    if fields.first().map(|(k, v)| (k.as_str(), v.as_str())) != Some(("version", "STSv1")) {
        return Err("the first field is not `version: STSv1`".to_owned());
    }
    let mode = match get("mode")[..] {
        [(_, mode)] if ["testing", "enforce", "none"].contains(&mode.as_str()) => mode.clone(),
        _ => return Err("not exactly one valid mode".to_owned()),
    };
    match get("max_age")[..] {
        [(_, age)]
            if !age.is_empty()
                && age.len() <= 10
                && age.bytes().all(|b| b.is_ascii_digit())
                && age.parse::<u64>().is_ok_and(|a| a <= 31_557_600) => {}
        _ => return Err("not exactly one valid max_age".to_owned()),
    }
    let mx = get("mx");
    if mx.is_empty() && mode != "none" {
        return Err("no mx".to_owned());
    }
    for (_, host) in mx {
        let name = host.strip_prefix("*.").unwrap_or(host);
        let ok = name.split('.').count() >= 2
            && name.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if !ok {
            return Err(format!("mx `{host}` is not a host name pattern"));
        }
    }
    Ok(())
}

#[test]
fn the_policy_reader_rejects_what_the_grammar_does() {
    assert!(
        validate_policy("version: STSv1\nmode: testing\nmx: mx.example.com\nmax_age: 86400\n")
            .is_ok()
    );
    for bad in [
        "mode: testing\nversion: STSv1\nmx: mx.example.com\nmax_age: 86400\n",
        "version: STSv1\nmode: strict\nmx: mx.example.com\nmax_age: 86400\n",
        "version: STSv1\nmode: testing\nmx: mx.example.com\nmax_age: 99999999999\n",
        "version: STSv1\nmode: testing\nmax_age: 86400\n",
        "version: STSv1\nmode: testing\nmx: *.*.example.com\nmax_age: 86400\n",
        "version: STSv1\nmode: testing\nmx: mx.example.com\nmax_age: 86400",
    ] {
        assert!(validate_policy(bad).is_err(), "{bad}");
    }
}

/// `YYYY-MM-DD` → `DATE`.
fn dates_redacted(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < bytes.len() {
        let date = bytes.len() - i >= 10
            && bytes[i..i + 10].iter().enumerate().all(|(k, b)| {
                if k == 4 || k == 7 {
                    *b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            });
        if date {
            out.push_str("DATE");
            i += 10;
        } else {
            let step = text[i..].chars().next().map_or(1, char::len_utf8);
            out.push_str(&text[i..i + step]);
            i += step;
        }
    }
    out
}
