//! Certificate material, judged by the real Postfix: for each way `smtpd_tls_chain_files`
//! can be wrong that a PF8xx rule of pflint claims to find, the smtpd of a Postfix 3.7
//! started from that main.cf fails to load the chain, and `pflint check --files` on the
//! same directory reports that rule's code at the main.cf line of `smtpd_tls_chain_files`;
//! for a good chain neither complains. What smtpd logs (Postfix 3.7.11, OpenSSL 3):
//!
//! | case | PF | smtpd's warnings | STARTTLS |
//! |---|---|---|---|
//! | missing file | PF801 | `error opening chain file: F: No such file or directory` | 220, handshake fails (`no shared cipher`) |
//! | certificate before key | PF804 | `error loading chain from F: key not first` | 454 |
//! | key, then another key's certificate | PF805 | `key at index 1 in F does not match next certificate` | 454 |
//! | encrypted PKCS#8 key | PF803 | `loading F: ignoring PEM type: ENCRYPTED PRIVATE KEY`, `error loading chain from F: key not first` | 454 |
//! | RSA 3072 and ECDSA P-256, each key then certificate | none | none | 220, each certificate served |
//!
//! 454 is `454 4.7.0 TLS not available due to local problem`, after `error loading
//! private keys and certificates from: F: disabling TLS support`. A missing file is
//! different: Postfix 3.7's loader leaves the file loop without an error status, so
//! smtpd keeps a TLS context with no certificate, offers and accepts STARTTLS, and fails
//! every handshake. In the good case a client that offers only ECDSA signatures gets the
//! ECDSA certificate, one that offers only RSA-PSS the RSA one, each verified for the
//! host name; and OpenSSL's DANE client, given only one of the two `3 1 1` records
//! `pflint dns` prints, verifies the certificate of that record's algorithm and refuses
//! the other (smtpd logs `sslv3 alert bad certificate … SSL alert number 42` for each
//! refusal, the only warning of the good case).
//!
//! Keys (RSA 2048, 3072 in the good chain; ECDSA P-256) and self-signed server
//! certificates are made with the `openssl` command at test time. Each scenario
//! runs in a thread of its own in a new network namespace (see tests/common/postfix.rs):
//! its Postfix listens on port 25 of a loopback nothing else shares; every file lives in
//! a temporary directory, the host's /etc/postfix is only read.
//!
//! Needs root, Postfix (Debian's package: its stock master.cf), openssl and ip. Skipped
//! with a message when any is missing, a failure under `PFLINT_REQUIRE_POSTFIX=1`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::postfix::{
    Checks, DEBIAN_MASTER, HOSTNAME, Instance, PlainSmtp, Running, Smtp, TIMEOUT, Tools, chmod,
    copy, enter_network_namespace, first_certificate, indent, negotiated, read, run, run_ok,
    run_scenarios, self_signed, try_run, wait_for_quiet_log, write,
};

/// smtpd's reply to STARTTLS when it has no TLS context.
const TLS_UNAVAILABLE: &str = "454 4.7.0 TLS not available due to local problem";
/// The smtpd listener's log tag.
const SMTPD: &str = "postfix/smtpd[";

#[test]
fn postfix_loads_certificates_as_pflint_predicts() {
    let Some(tools) = Tools::find("Postfix certificate-loading test", &[], &[DEBIAN_MASTER]) else {
        return;
    };
    let cases = vec![
        Case::MissingFile,
        Case::ChainOrder,
        Case::KeyMismatch,
        Case::EncryptedKey,
        Case::Good,
    ];
    run_scenarios(&tools, cases, |case| case.name().to_owned(), run_case);
}

// ---- the cases ----------------------------------------------------------------------

/// One value of `smtpd_tls_chain_files`, right or wrong in one way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Case {
    /// A file that does not exist.
    MissingFile,
    /// The certificate first, then its key.
    ChainOrder,
    /// The RSA key, then the certificate of another RSA key.
    KeyMismatch,
    /// The RSA key encrypted (PKCS#8 with a passphrase), then its certificate.
    EncryptedKey,
    /// An RSA key and its certificate, then an ECDSA key and its certificate, in two files.
    Good,
}

/// What smtpd does on STARTTLS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tls {
    /// 454: it has no TLS context.
    Unavailable,
    /// 220, but the handshake fails: a context without a certificate.
    HandshakeFails,
    /// 220 and handshakes that serve the certificate of the client's algorithm.
    Served,
}

impl Case {
    fn name(self) -> &'static str {
        match self {
            Case::MissingFile => "missing-file",
            Case::ChainOrder => "chain-order",
            Case::KeyMismatch => "key-mismatch",
            Case::EncryptedKey => "encrypted-key",
            Case::Good => "good",
        }
    }

    /// Writes the case's chain files beside `material`; returns the value of
    /// smtpd_tls_chain_files and the file Postfix complains about (the first file for
    /// the good case).
    fn chain_files(self, tools: &Tools, material: &Material) -> (String, PathBuf) {
        let tls = &material.dir;
        let chain = |name: &str, parts: &[&Path]| {
            let path = tls.join(name);
            let text: String = parts.iter().map(|p| read(p)).collect();
            write(&path, &text);
            chmod(&path, 0o600);
            path
        };
        let file = match self {
            Case::MissingFile => tls.join("absent.pem"),
            Case::ChainOrder => chain("order.pem", &[&material.rsa_cert, &material.rsa_key]),
            Case::KeyMismatch => {
                let (key, cert) = (tls.join("other.key"), tls.join("other.crt"));
                self_signed(tools, "rsa:2048", &SERVER, DAYS, &key, &cert);
                chain("mismatch.pem", &[&material.rsa_key, &cert])
            }
            Case::EncryptedKey => {
                let encrypted = tls.join("rsa.encrypted.key");
                run_ok(
                    Command::new(&tools.openssl)
                        .arg("pkey")
                        .arg("-in")
                        .arg(&material.rsa_key)
                        .args(["-aes256", "-passout", "pass:x", "-out"])
                        .arg(&encrypted),
                    None,
                );
                chmod(&encrypted, 0o600);
                let pem = read(&encrypted);
                assert!(
                    pem.starts_with(&format!("-----BEGIN {}-----", "ENCRYPTED PRIVATE KEY")),
                    "openssl pkey -aes256 wrote no encrypted PKCS#8 key:\n{pem}"
                );
                chain("encrypted.pem", &[&encrypted, &material.rsa_cert])
            }
            Case::Good => {
                let rsa = chain("rsa.pem", &[&material.rsa_key, &material.rsa_cert]);
                let ec = chain("ecdsa.pem", &[&material.ec_key, &material.ec_cert]);
                return (format!("{}, {}", rsa.display(), ec.display()), rsa);
            }
        };
        (file.display().to_string(), file)
    }

    /// The RSA key size: 2048 bits, except for the good chain, where it is 3072: pflint's
    /// PF813 (info) advises against 2048 for use beyond 2030, and the good chain is one
    /// pflint has nothing to say about.
    fn rsa(self) -> &'static str {
        if self == Case::Good {
            "rsa:3072"
        } else {
            "rsa:2048"
        }
    }

    fn tls(self) -> Tls {
        match self {
            Case::MissingFile => Tls::HandshakeFails,
            Case::Good => Tls::Served,
            _ => Tls::Unavailable,
        }
    }

    /// The text of each smtpd warning the case must cause, as Postfix 3.7.11 with
    /// OpenSSL 3 logs it; `file` is the file smtpd fails on, `value` the parameter's.
    fn expected_log(self, file: &Path, value: &str) -> Vec<String> {
        let file = file.display();
        let disabled = format!(
            "warning: error loading private keys and certificates from: {value}: disabling TLS support"
        );
        match self {
            Case::MissingFile => vec![
                format!("warning: error opening chain file: {file}: No such file or directory"),
                // When the client's handshake finds no certificate to use.
                "warning: TLS library problem: error:0A0000C1:SSL routines::no shared cipher:"
                    .to_owned(),
            ],
            Case::ChainOrder => vec![
                format!("warning: error loading chain from {file}: key not first"),
                disabled,
            ],
            Case::KeyMismatch => vec![
                format!("warning: key at index 1 in {file} does not match next certificate"),
                disabled,
            ],
            Case::EncryptedKey => vec![
                format!("warning: loading {file}: ignoring PEM type: ENCRYPTED PRIVATE KEY"),
                format!("warning: error loading chain from {file}: key not first"),
                disabled,
            ],
            Case::Good => Vec::new(),
        }
    }

    /// Further smtpd warnings the case may cause: for a mismatch, OpenSSL's own reasons
    /// (their wording and source lines depend on its version); in the good case, the
    /// DANE client's refusals of the other algorithm's certificate (alert 42).
    fn tolerated(self, line: &str) -> bool {
        match self {
            Case::KeyMismatch => line.contains("warning: TLS library problem: "),
            Case::Good => {
                line.contains("alert bad certificate") && line.contains("alert number 42")
            }
            _ => false,
        }
    }

    /// The PF8xx code pflint must report at the smtpd_tls_chain_files line, if any.
    fn expected_code(self) -> Option<&'static str> {
        match self {
            Case::MissingFile => Some("PF801"),
            Case::ChainOrder => Some("PF804"),
            Case::KeyMismatch => Some("PF805"),
            Case::EncryptedKey => Some("PF803"),
            Case::Good => None,
        }
    }
}

/// An RSA and an ECDSA P-256 key (unencrypted PKCS#8, mode 0600), each with a
/// certificate for [`HOSTNAME`] that pflint finds nothing to say about: self-signed, but
/// a server's (CA:FALSE, serverAuth), valid for a year.
struct Material {
    dir: PathBuf,
    rsa_key: PathBuf,
    rsa_cert: PathBuf,
    ec_key: PathBuf,
    ec_cert: PathBuf,
}

/// `openssl req` options that make a server's certificate, not a CA's.
const SERVER: [&str; 4] = [
    "-addext",
    "basicConstraints=critical,CA:FALSE",
    "-addext",
    "extendedKeyUsage=serverAuth",
];
/// Well beyond the expiry thresholds of PF809 (14 days) and PF810 (30 days).
const DAYS: u32 = 365;

impl Material {
    /// The keys in `dir`; `rsa` is `openssl req -newkey`'s `rsa:BITS`.
    fn new(tools: &Tools, dir: &Path, rsa: &str) -> Material {
        let material = Material {
            dir: dir.to_owned(),
            rsa_key: dir.join("rsa.key"),
            rsa_cert: dir.join("rsa.crt"),
            ec_key: dir.join("ecdsa.key"),
            ec_cert: dir.join("ecdsa.crt"),
        };
        self_signed(
            tools,
            rsa,
            &SERVER,
            DAYS,
            &material.rsa_key,
            &material.rsa_cert,
        );
        let mut ec = vec!["-pkeyopt", "ec_paramgen_curve:prime256v1"];
        ec.extend(SERVER);
        self_signed(tools, "ec", &ec, DAYS, &material.ec_key, &material.ec_cert);
        material
    }
}

// ---- the configuration --------------------------------------------------------------

/// Writes main.cf (returning the line number of smtpd_tls_chain_files) and Debian's stock
/// master.cf (one smtpd, on port 25; its `postlog` service writes the maillog).
fn configure(tools: &Tools, instance: &Instance, chain_files: &str) -> usize {
    // Without a compatibility_level Postfix 3.7 runs at level 0, where the default
    // smtpd_relay_restrictions is empty and the port 25 smtpd refuses to start.
    let head = format!(
        "compatibility_level = 3.6\n\
         myhostname = {HOSTNAME}\n\
         mydestination = $myhostname, localhost\n\
         inet_interfaces = loopback-only\n\
         alias_maps = hash:{aliases}\n\
         alias_database = hash:{aliases}\n\
         {own}\n\
         smtpd_tls_security_level = may\n\
         smtpd_tls_loglevel = 1\n",
        aliases = instance.aliases().display(),
        own = instance.own_settings(),
    );
    let line = head.lines().count() + 1;
    write(
        &instance.config.join("main.cf"),
        &format!("{head}smtpd_tls_chain_files = {chain_files}\n"),
    );
    copy(
        Path::new(DEBIAN_MASTER),
        &instance.config.join("master.cf"),
        0o644,
    );
    instance.finish_config(tools);
    line
}

// ---- pflint's prediction ------------------------------------------------------------

/// pflint's prediction for a configuration directory: the PF8xx findings of
/// `pflint check --files --format json`, as code and main.cf line. Fails when pflint
/// does not run, prints no JSON document, or reports a PF8xx finding in another file.
fn predicted(config_dir: &Path) -> Vec<(String, usize)> {
    let mut command = common::pflint();
    command
        .args(["check", "--files", "--format", "json"])
        .arg(config_dir);
    let shown = format!("{command:?}");
    let ran = run(&mut command, None);
    // 0: nothing at --fail-on's severity, 1: something; 2 is a usage error.
    assert!(
        matches!(ran.status.code(), Some(0 | 1)),
        "{shown} failed ({}):\n{}",
        ran.status,
        ran.text()
    );
    let document: serde_json::Value = serde_json::from_str(&ran.stdout)
        .unwrap_or_else(|e| panic!("{shown} printed no JSON document ({e}):\n{}", ran.text()));
    let findings = document["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("{shown}: no findings array:\n{}", ran.stdout));
    let mut codes = Vec::new();
    for finding in findings {
        let code = finding["code"].as_str().unwrap_or_default();
        if !code.starts_with("PF8") {
            continue;
        }
        let file = finding["file"].as_str().unwrap_or_default();
        assert!(
            Path::new(file).file_name() == Some("main.cf".as_ref()),
            "{shown}: {code} is reported in {file}, not in main.cf: {finding}"
        );
        let line = finding["line"].as_u64().unwrap_or_default();
        codes.push((code.to_owned(), usize::try_from(line).unwrap_or_default()));
    }
    codes
}

/// Compares pflint's prediction with the case's expectation.
fn check_prediction(checks: &mut Checks, case: Case, config_dir: &Path, line: usize) {
    let found = match std::panic::catch_unwind(|| predicted(config_dir)) {
        Ok(found) => found,
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            checks.0.push(format!("pflint: {message}"));
            return;
        }
    };
    common::visible(&format!(
        "  pflint's PF8xx findings (code, line): {found:?}"
    ));
    let all = format!("pflint reports {found:?} (smtpd_tls_chain_files is on line {line})");
    match case.expected_code() {
        None => checks.expect(
            found.is_empty(),
            format!("pflint: no PF8xx expected; {all}"),
        ),
        Some(code) => {
            checks.expect(
                found.iter().any(|(c, l)| c == code && *l == line),
                format!("pflint: {code} expected at main.cf:{line}; {all}"),
            );
            // Nothing but its absence can be said about a missing file.
            checks.expect(
                case != Case::MissingFile || found.len() == 1,
                format!("pflint: exactly one PF8xx expected; {all}"),
            );
        }
    }
}

// ---- what Postfix does --------------------------------------------------------------

/// The greeting, EHLO and STARTTLS on port 25: the STARTTLS reply, its lines joined.
fn starttls(checks: &mut Checks) -> String {
    let mut smtp = PlainSmtp::connect(25);
    let greeting = smtp.reply();
    checks.expect(
        greeting.code == 220,
        format!("greeting {:?}, not 220", greeting.lines),
    );
    let ehlo = smtp.ehlo();
    checks.expect(
        ehlo.code == 250 && ehlo.offers("STARTTLS"),
        format!("EHLO does not offer STARTTLS: {:?}", ehlo.lines),
    );
    let reply = smtp.command("STARTTLS");
    // After 454 the session goes on in plain text; after 220 the connection is dropped
    // before a handshake (smtpd logs that at info level), the handshakes are s_client's.
    if reply.code != 220 {
        smtp.quit();
    }
    reply.lines.join(" / ")
}

/// What one `openssl s_client -starttls smtp` handshake got.
struct Handshake {
    /// The version negotiated; `None` when the handshake failed.
    version: Option<String>,
    /// The leaf certificate served, base64 without line breaks.
    leaf: Option<String>,
    /// Whether the certificate verified against the CA file and for [`HOSTNAME`].
    verified: bool,
    /// s_client's output.
    report: String,
}

/// A STARTTLS handshake on 127.0.0.1:25 that offers only the signature algorithm
/// `sigalgs` and verifies the server's certificate against `ca`, for [`HOSTNAME`].
fn handshake(tools: &Tools, sigalgs: &str, ca: &Path) -> Handshake {
    let mut command = Command::new(&tools.openssl);
    command
        .args(["s_client", "-starttls", "smtp", "-connect", "127.0.0.1:25"])
        .args(["-servername", HOSTNAME, "-verify_hostname", HOSTNAME])
        .args(["-verify_return_error", "-showcerts", "-sigalgs", sigalgs])
        .arg("-CAfile")
        .arg(ca);
    let ran = try_run(&mut command, None, TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    Handshake {
        version: negotiated(&ran.stdout),
        leaf: first_certificate(&ran.stdout),
        verified: ran.status.success() && ran.stdout.contains("Verify return code: 0 (ok)"),
        report: ran.text(),
    }
}

/// The good case: for each algorithm a verified handshake with its certificate.
fn check_served(checks: &mut Checks, tools: &Tools, material: &Material) {
    let tries = [
        ("ECDSA", "ecdsa_secp256r1_sha256", &material.ec_cert),
        ("RSA", "rsa_pss_rsae_sha256", &material.rsa_cert),
    ];
    for (algorithm, sigalgs, cert) in tries {
        let expected = first_certificate(&read(cert));
        let h = handshake(tools, sigalgs, cert);
        let served = if h.leaf.is_none() {
            "no"
        } else if h.leaf == expected {
            algorithm
        } else {
            "ANOTHER"
        };
        common::visible(&format!(
            "  s_client -sigalgs {sigalgs}: {}, {served} certificate{}",
            h.version.as_deref().unwrap_or("no handshake"),
            if h.verified { ", verified" } else { "" }
        ));
        checks.expect(
            h.version.is_some() && h.verified && h.leaf == expected,
            format!(
                "-sigalgs {sigalgs}: no verified handshake with the {algorithm} certificate:\n{}",
                h.report
            ),
        );
    }
}

/// The TLSA records `pflint dns --format json` prints for a configuration directory:
/// owner name and `3 1 1 HEX` data.
fn tlsa_records(config_dir: &Path) -> Vec<(String, String)> {
    let mut command = common::pflint();
    command
        .args(["dns", "--mx", HOSTNAME, "--format", "json", "-c"])
        .arg(config_dir);
    let ran = run(&mut command, None);
    assert!(ran.status.success(), "{command:?} failed:\n{}", ran.text());
    let document: serde_json::Value = serde_json::from_str(&ran.stdout)
        .unwrap_or_else(|e| panic!("pflint dns printed no JSON document ({e}):\n{}", ran.text()));
    let records = document["tlsa"].as_array().cloned().unwrap_or_default();
    records
        .iter()
        .map(|r| {
            let data = format!(
                "{} {} {} {}",
                r["usage"],
                r["selector"],
                r["matching"],
                r["data"].as_str().unwrap_or_default()
            );
            (r["name"].as_str().unwrap_or_default().to_owned(), data)
        })
        .collect()
}

/// The good case under DANE: `pflint dns` prints one `3 1 1` record per key smtpd
/// loads, and OpenSSL's DANE client, given only that record (no CA file), verifies the
/// certificate smtpd serves for that algorithm and rejects the one for the other.
fn check_dane(checks: &mut Checks, tools: &Tools, config_dir: &Path) {
    let records = tlsa_records(config_dir);
    common::visible(&format!("  pflint dns: {records:?}"));
    let owner = format!("_25._tcp.{HOSTNAME}.");
    checks.expect(
        records.len() == 2
            && records
                .iter()
                .all(|(name, data)| *name == owner && data.starts_with("3 1 1 ")),
        format!("pflint dns: two 3 1 1 records at {owner} expected, got {records:?}"),
    );
    let mut matched = Vec::new();
    for sigalgs in ["ecdsa_secp256r1_sha256", "rsa_pss_rsae_sha256"] {
        let verified: Vec<usize> = records
            .iter()
            .enumerate()
            .filter(|(_, (_, data))| {
                let mut command = Command::new(&tools.openssl);
                command
                    .args(["s_client", "-starttls", "smtp", "-connect", "127.0.0.1:25"])
                    .args(["-servername", HOSTNAME, "-sigalgs", sigalgs])
                    .args(["-dane_tlsa_domain", HOSTNAME, "-dane_tlsa_rrdata", data])
                    .arg("-verify_return_error");
                let ran = try_run(&mut command, None, TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
                ran.status.success() && ran.stdout.contains("Verify return code: 0 (ok)")
            })
            .map(|(i, _)| i)
            .collect();
        common::visible(&format!(
            "  s_client -sigalgs {sigalgs} -dane_tlsa_rrdata: verified by record {verified:?}"
        ));
        checks.expect(
            verified.len() == 1,
            format!("-sigalgs {sigalgs}: exactly one of pflint's records must verify the served certificate, {verified:?} did"),
        );
        matched.extend(verified);
    }
    matched.dedup();
    checks.expect(
        matched.len() == 2,
        format!("each key needs its own record; the records verified {matched:?}"),
    );
}

/// The missing-file case: smtpd accepted STARTTLS, but has no certificate to serve.
fn check_refused(checks: &mut Checks, tools: &Tools, material: &Material) {
    let h = handshake(tools, "rsa_pss_rsae_sha256", &material.rsa_cert);
    common::visible(&format!(
        "  s_client: {}",
        h.version.as_deref().unwrap_or("the handshake fails")
    ));
    checks.expect(
        h.version.is_none() && h.leaf.is_none(),
        format!(
            "a handshake without a certificate loaded succeeded:\n{}",
            h.report
        ),
    );
}

/// The smtpd lines of the log that are warnings, fatals or panics.
fn smtpd_problems(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| l.contains(SMTPD))
        .filter(|l| l.contains("warning:") || l.contains("fatal:") || l.contains("panic:"))
        .collect()
}

/// The case's warnings are all in the log, and smtpd logged no other problem.
fn check_log(checks: &mut Checks, case: Case, log: &str, file: &Path, value: &str) {
    let problems = smtpd_problems(log);
    common::visible(&format!(
        "  smtpd's warnings:\n{}",
        indent(&problems.join("\n"))
    ));
    let expected = case.expected_log(file, value);
    for text in &expected {
        checks.expect(
            problems.iter().any(|l| l.contains(text.as_str())),
            format!("the maillog has no smtpd line with {text:?}"),
        );
    }
    for line in problems {
        checks.expect(
            expected.iter().any(|t| line.contains(t.as_str())) || case.tolerated(line),
            format!("unexpected smtpd line: {line}"),
        );
    }
}

// ---- the scenario -------------------------------------------------------------------

/// One case, from an empty temporary directory to a stopped Postfix; panics (after
/// printing the maillog) when an expectation fails.
fn run_case(tools: &Tools, case: &Case) {
    let case = *case;
    common::visible(&format!("== {}", case.name()));
    enter_network_namespace(tools);
    let instance = Instance::new(&["tls"]);
    let material = Material::new(tools, &instance.root.join("tls"), case.rsa());
    let (value, file) = case.chain_files(tools, &material);
    let line = configure(tools, &instance, &value);
    common::visible(&format!(
        "  main.cf:{line}: smtpd_tls_chain_files = {value}"
    ));
    let mut checks = Checks::default();

    check_prediction(&mut checks, case, &instance.config, line);

    let mut running = Running::start(tools, &instance, &[25]);
    let reply = starttls(&mut checks);
    common::visible(&format!("  STARTTLS: {reply}"));
    let tls = case.tls();
    if tls == Tls::Unavailable {
        checks.expect(
            reply == TLS_UNAVAILABLE,
            format!("STARTTLS answered {reply:?}, not {TLS_UNAVAILABLE:?}"),
        );
    } else {
        checks.expect(
            reply.starts_with("220 "),
            format!("STARTTLS answered {reply:?}, not 220"),
        );
        if tls == Tls::Served {
            check_served(&mut checks, tools, &material);
            check_dane(&mut checks, tools, &instance.config);
        } else {
            check_refused(&mut checks, tools, &material);
        }
    }
    wait_for_quiet_log(&instance.maillog);
    running.stop();
    let log = read(&instance.maillog);
    check_log(&mut checks, case, &log, &file, &value);

    if !checks.0.is_empty() {
        common::visible(&format!("maillog of {}:\n{log}", case.name()));
        panic!(
            "{} failed expectations:\n- {}",
            checks.0.len(),
            checks.0.join("\n- ")
        );
    }
}
