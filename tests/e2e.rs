//! End to end: the real Postfix, started with configurations `pflint generate` wrote,
//! answers on ports 25, 587 and 465 as the generated TLS setup promises (opportunistic
//! STARTTLS on 25, mandatory TLS with the profile's floor and SASL on 587 and 465).
//!
//! Each scenario runs in a thread of its own that first enters a new network namespace:
//! on Linux namespaces belong to threads, and the processes the thread spawns and the
//! sockets it opens inherit its namespace. The instance therefore listens on the standard
//! ports of a loopback nothing else shares. Every file lives in a temporary directory;
//! the host's /etc/postfix is only read (postfix-files, dynamicmaps.cf). The machinery
//! shared with the other Postfix tests is in tests/common/postfix.rs.
//!
//! Needs root, Postfix (Debian's package: its stock main.cf and master.cf are the base),
//! openssl, saslpasswd2 and ip. Skipped with a message when any is missing, a failure under
//! `PFLINT_REQUIRE_POSTFIX=1`.

mod common;

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Instant;

use common::postfix::{
    Checks, DEBIAN_MASTER, HOSTNAME, Instance, PlainSmtp, Reply, Running, Smtp, TIMEOUT, Tools,
    chmod, copy, enter_network_namespace, first_certificate, indent, is_final, negotiated,
    parse_reply, read, run, run_ok, run_scenarios, self_signed, try_run, wait_for_quiet_log, write,
};

const LOGIN: &str = "alice@example.test";
const PASSWORD: &str = "secret";
const ROLES: &str = "mx,submission,outbound";
/// Debian's stock configuration, as its postinst installs it for "Internet Site".
const DEBIAN_MAIN: &str = "/usr/share/postfix/main.cf.debian";
const DEBIAN_TLS: &str = "/usr/share/postfix/main.cf.tls";
/// The protocol versions tried on every port, oldest first, with s_client's option.
const VERSIONS: [(&str, &str); 4] = [
    ("TLSv1", "-tls1"),
    ("TLSv1.1", "-tls1_1"),
    ("TLSv1.2", "-tls1_2"),
    ("TLSv1.3", "-tls1_3"),
];
/// The smtpd log tags of the three listeners.
const SMTPD_TAGS: [&str; 3] = [
    "postfix/smtpd[",
    "postfix/submission/smtpd[",
    "postfix/submissions/smtpd[",
];

#[test]
fn generated_tls_works_in_a_running_postfix() {
    let Some(tools) = Tools::find(
        "end-to-end Postfix test",
        &[("saslpasswd2", "sasl2-bin"), ("chgrp", "coreutils")],
        &[DEBIAN_MAIN, DEBIAN_TLS, DEBIAN_MASTER],
    ) else {
        return;
    };
    let scenarios = vec![
        Scenario::edited("modern"),
        Scenario::edited("intermediate"),
        Scenario::edited("legacy"),
        Scenario {
            profile: "intermediate",
            base: Base::MinimalPlusSnippet,
        },
    ];
    run_scenarios(&tools, scenarios, Scenario::name, run_scenario);
}

// ---- the instance -------------------------------------------------------------------

/// Which configuration `pflint generate` works on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Base {
    /// Debian's stock "Internet Site" configuration, edited in place (`-c DIR --write`).
    DebianEdited,
    /// A minimal main.cf and the stock master.cf, with the printed snippet appended.
    MinimalPlusSnippet,
}

#[derive(Clone, Debug)]
struct Scenario {
    profile: &'static str,
    base: Base,
}

impl Scenario {
    fn edited(profile: &'static str) -> Scenario {
        Scenario {
            profile,
            base: Base::DebianEdited,
        }
    }

    fn name(&self) -> String {
        let base = match self.base {
            Base::DebianEdited => "debian-stock --write",
            Base::MinimalPlusSnippet => "minimal + snippet",
        };
        format!("{base}, profile {}", self.profile)
    }

    /// The oldest version mandatory TLS (587, 465) must accept: an index into [`VERSIONS`].
    /// Written down here rather than read from the profiles, so that the test checks them.
    fn floor(&self) -> usize {
        match self.profile {
            "modern" => 3,
            "intermediate" => 2,
            _ => 0,
        }
    }
}

/// The scenario's Postfix instance, with its certificate and SASL database.
struct Setup {
    postfix: Instance,
    cert: PathBuf,
    chain: PathBuf,
}

impl Setup {
    /// Directories, certificate, SASL database and chroot files; no main.cf yet.
    fn new(tools: &Tools) -> Setup {
        // The postfix user must reach the queue, the SASL database and the maps.
        let postfix = Instance::new(&["tls", "sasl"]);
        let setup = Setup {
            cert: postfix.root.join("tls/cert.pem"),
            chain: postfix.root.join("tls/server.pem"),
            postfix,
        };
        setup.make_certificate(tools);
        setup.postfix.make_sasl(tools, LOGIN, PASSWORD);
        setup
    }

    /// A self-signed certificate, and the chain file smtpd_tls_chain_files reads: the key
    /// first, then the certificate.
    fn make_certificate(&self, tools: &Tools) {
        let key = self.postfix.root.join("tls/key.pem");
        self_signed(tools, "rsa:2048", &[], 2, &key, &self.cert);
        write(&self.chain, &format!("{}{}", read(&key), read(&self.cert)));
        chmod(&self.chain, 0o600);
    }

    /// The instance's own settings, the same in every scenario: its paths, and Cyrus
    /// SASL's configuration directory.
    fn own_settings(&self) -> String {
        format!(
            "{}cyrus_sasl_config_path = {}/sasl\n",
            self.postfix.own_settings(),
            self.postfix.root.display()
        )
    }

    /// The settings Debian's postinst writes (postconf -e) for "Internet Site", with the
    /// alias database moved into the temporary directory.
    fn debian_postinst_settings(&self) -> String {
        let aliases = self.postfix.aliases();
        format!(
            "smtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated defer_unauth_destination\n\
             myhostname = {HOSTNAME}\n\
             alias_maps = hash:{aliases}\n\
             alias_database = hash:{aliases}\n\
             mydestination = $myhostname, localhost\n\
             relayhost =\n\
             mynetworks = 127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128\n\
             mailbox_size_limit = 0\n\
             recipient_delimiter = +\n\
             inet_interfaces = all\n\
             inet_protocols = all\n",
            aliases = aliases.display()
        )
    }

    /// Writes main.cf and master.cf for the scenario and lets `pflint generate` add TLS.
    fn configure(&self, scenario: &Scenario, tools: &Tools) {
        let config = &self.postfix.config;
        let main = config.join("main.cf");
        let master = config.join("master.cf");
        match scenario.base {
            Base::DebianEdited => {
                // The postinst appends main.cf.tls when the snakeoil key exists; always
                // here, as the edit must deal with its cert_file and key_file lines.
                let text = format!(
                    "{}{}{}{}# The existing SASL backend, which pflint generate must keep.\nsmtpd_sasl_type = cyrus\n",
                    read(Path::new(DEBIAN_MAIN)),
                    read(Path::new(DEBIAN_TLS)),
                    self.debian_postinst_settings(),
                    self.own_settings()
                );
                write(&main, &text);
                copy(Path::new(DEBIAN_MASTER), &master, 0o644);
                let ran = run_ok(
                    common::pflint()
                        .arg("generate")
                        .arg("-c")
                        .arg(config)
                        .args(["--role", ROLES, "--profile", scenario.profile, "--chain"])
                        .arg(&self.chain)
                        .arg("--write"),
                    None,
                );
                common::visible(&format!("  pflint generate --write: {}", ran.text().trim()));
            }
            Base::MinimalPlusSnippet => {
                let ran = run_ok(
                    common::pflint()
                        .arg("generate")
                        .args(["--role", ROLES, "--profile", scenario.profile])
                        .args(["--sasl", "cyrus", "--chain"])
                        .arg(&self.chain),
                    None,
                );
                let (main_part, master_part) = split_snippet(&ran.stdout);
                // Without a compatibility_level Postfix 3.7 runs at level 0, where the
                // default smtpd_relay_restrictions is empty and the port 25 smtpd refuses
                // to start; that is a property of this bare base, not of the snippet.
                let aliases = self.postfix.aliases();
                let text = format!(
                    "compatibility_level = 3.6\n\
                     myhostname = {HOSTNAME}\n\
                     mydestination = $myhostname, localhost\n\
                     alias_maps = hash:{aliases}\n\
                     alias_database = hash:{aliases}\n{own}\n{main_part}",
                    aliases = aliases.display(),
                    own = self.own_settings()
                );
                write(&main, &text);
                write(
                    &master,
                    &format!("{}\n{master_part}", read(Path::new(DEBIAN_MASTER))),
                );
            }
        }
        self.postfix.finish_config(tools);
    }
}

/// The main.cf and master.cf parts of `pflint generate`'s printed snippet.
fn split_snippet(snippet: &str) -> (String, String) {
    let main_at = snippet.find("# ---- main.cf ----\n");
    let master_at = snippet.find("# ---- master.cf ----\n");
    let (Some(main_at), Some(master_at)) = (main_at, master_at) else {
        panic!("the snippet has no main.cf and master.cf parts:\n{snippet}");
    };
    (
        snippet[main_at..master_at].to_owned(),
        snippet[master_at..].to_owned(),
    )
}

// ---- SMTP dialogues -----------------------------------------------------------------

/// `AUTH PLAIN LOGIN`-style summary of an EHLO reply for the table: STARTTLS and AUTH, if
/// offered.
fn summary(reply: &Reply) -> String {
    let mut parts = Vec::new();
    if reply.offers("STARTTLS") {
        parts.push("STARTTLS".to_owned());
    }
    let auth = reply
        .lines
        .iter()
        .skip(1)
        .filter_map(|l| l.get(4..))
        .find(|t| {
            t.split_whitespace()
                .next()
                .is_some_and(|k| k.eq_ignore_ascii_case("AUTH"))
        });
    parts.push(auth.map_or("no AUTH".to_owned(), str::to_owned));
    parts.join(", ")
}

/// SMTP inside TLS, through `openssl s_client -quiet`: TLS from the first byte, or after
/// STARTTLS (which s_client negotiates itself).
struct TlsSmtp {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
    stderr: File,
    port: u16,
}

impl TlsSmtp {
    fn connect(tools: &Tools, port: u16, starttls: bool) -> TlsSmtp {
        let stderr = tempfile::tempfile().expect("a temporary file");
        let mut command = Command::new(&tools.openssl);
        command
            .args(["s_client", "-quiet", "-crlf", "-servername", HOSTNAME])
            .arg("-connect")
            .arg(format!("127.0.0.1:{port}"));
        if starttls {
            command.args(["-starttls", "smtp"]);
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr.try_clone().expect("a file handle"))
            .spawn()
            .unwrap_or_else(|e| panic!("openssl s_client: {e}"));
        let stdin = child.stdin.take().expect("a stdin pipe");
        let stdout = child.stdout.take().expect("a stdout pipe");
        let (sender, lines) = mpsc::channel();
        // A reader thread, so that waiting for a line can time out; it ends when the
        // child's output closes.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line.trim_end().to_owned()).is_err() {
                    break;
                }
            }
        });
        TlsSmtp {
            child,
            stdin,
            lines,
            stderr,
            port,
        }
    }

    fn diagnostics(&mut self) -> String {
        let mut text = String::new();
        let _ = self.stderr.rewind();
        let _ = self.stderr.read_to_string(&mut text);
        text
    }
}

impl Smtp for TlsSmtp {
    fn send(&mut self, line: &str) {
        // -crlf turns the newline into CR LF.
        if let Err(e) = writeln!(self.stdin, "{line}").and_then(|()| self.stdin.flush()) {
            let stderr = self.diagnostics();
            panic!("port {} (TLS): sending {line:?}: {e}\n{stderr}", self.port);
        }
    }

    fn reply(&mut self) -> Reply {
        let deadline = Instant::now() + TIMEOUT;
        let mut lines = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let last = is_final(&line);
                    lines.push(line);
                    if last {
                        return parse_reply(lines);
                    }
                }
                Err(e) => {
                    let stderr = self.diagnostics();
                    panic!(
                        "port {} (TLS): no reply ({e}) after {lines:?}\nopenssl:\n{stderr}",
                        self.port
                    );
                }
            }
        }
    }
}

impl Drop for TlsSmtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `AUTH PLAIN` with the initial response, as RFC 4616 writes it.
fn auth_plain(smtp: &mut impl Smtp, password: &str) -> u16 {
    let response = base64(format!("\0{LOGIN}\0{password}").as_bytes());
    smtp.command(&format!("AUTH PLAIN {response}")).code
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut text = String::new();
    for chunk in bytes.chunks(3) {
        let byte = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (byte(0) << 16) | (byte(1) << 8) | byte(2);
        for i in 0..4 {
            if i <= chunk.len() {
                text.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                text.push('=');
            }
        }
    }
    text
}

// ---- TLS handshakes -----------------------------------------------------------------

/// One `openssl s_client` handshake at one protocol version.
#[derive(Clone, Debug)]
struct Handshake {
    /// The version asked for (the client offers only that one).
    version: &'static str,
    /// The version negotiated, `None` when the server refused.
    negotiated: Option<String>,
    /// The leaf certificate the server sent, base64 without line breaks.
    leaf: Option<String>,
}

/// Tries every version in [`VERSIONS`] on a port. Below TLS 1.2 the client is made willing
/// (`@SECLEVEL=0`), so that a refusal is the server's.
fn handshakes(tools: &Tools, port: u16, starttls: bool) -> Vec<Handshake> {
    VERSIONS
        .iter()
        .enumerate()
        .map(|(index, (version, option))| {
            let mut command = Command::new(&tools.openssl);
            command
                .args(["s_client", "-showcerts", "-servername", HOSTNAME, option])
                .arg("-connect")
                .arg(format!("127.0.0.1:{port}"));
            if starttls {
                command.args(["-starttls", "smtp"]);
            }
            if index < 2 {
                command.args(["-cipher", "DEFAULT@SECLEVEL=0"]);
            }
            let ran = try_run(&mut command, None, TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
            Handshake {
                version,
                negotiated: negotiated(&ran.stdout),
                leaf: first_certificate(&ran.stdout),
            }
        })
        .collect()
}

// ---- the probes ---------------------------------------------------------------------

/// What one port answered.
#[derive(Clone, Debug, Default)]
struct PortReport {
    port: u16,
    greeting: String,
    /// EHLO before TLS (none on 465).
    ehlo_plain: Option<Reply>,
    /// EHLO inside TLS.
    ehlo_tls: Reply,
    /// `MAIL FROM` before TLS.
    mail_plain: Option<u16>,
    auth_right: Option<u16>,
    auth_wrong: Option<u16>,
    handshakes: Vec<Handshake>,
}

impl PortReport {
    fn accepts(&self, version: &str) -> bool {
        self.handshakes
            .iter()
            .any(|h| h.version == version && h.negotiated.is_some())
    }

    fn refused(&self) -> usize {
        self.handshakes
            .iter()
            .filter(|h| h.negotiated.is_none())
            .count()
    }
}

/// Port 25: the greeting, EHLO and MAIL before TLS, EHLO after STARTTLS, the handshakes.
fn probe_mx(tools: &Tools) -> PortReport {
    let mut plain = PlainSmtp::connect(25);
    let greeting = plain.reply();
    let ehlo_plain = plain.ehlo();
    let mail = plain.command("MAIL FROM:<a@example.org>");
    plain.quit();
    let mut tls = TlsSmtp::connect(tools, 25, true);
    let ehlo_tls = tls.ehlo();
    tls.quit();
    PortReport {
        port: 25,
        greeting: greeting.lines.join(" / "),
        ehlo_plain: Some(ehlo_plain),
        ehlo_tls,
        mail_plain: Some(mail.code),
        auth_right: None,
        auth_wrong: None,
        handshakes: handshakes(tools, 25, true),
    }
}

/// Port 587: EHLO and MAIL before STARTTLS; after it EHLO and AUTH with the right and,
/// on a second connection, a wrong password.
fn probe_submission(tools: &Tools) -> PortReport {
    let mut plain = PlainSmtp::connect(587);
    let greeting = plain.reply();
    let ehlo_plain = plain.ehlo();
    let mail = plain.command("MAIL FROM:<a@example.org>");
    plain.quit();
    let mut tls = TlsSmtp::connect(tools, 587, true);
    let ehlo_tls = tls.ehlo();
    let right = auth_plain(&mut tls, PASSWORD);
    tls.quit();
    let mut tls = TlsSmtp::connect(tools, 587, true);
    tls.ehlo();
    let wrong = auth_plain(&mut tls, "wrong-password");
    tls.quit();
    PortReport {
        port: 587,
        greeting: greeting.lines.join(" / "),
        ehlo_plain: Some(ehlo_plain),
        ehlo_tls,
        mail_plain: Some(mail.code),
        auth_right: Some(right),
        auth_wrong: Some(wrong),
        handshakes: handshakes(tools, 587, true),
    }
}

/// Port 465: TLS from the first byte, then the greeting, EHLO and AUTH inside it.
fn probe_submissions(tools: &Tools) -> PortReport {
    let mut tls = TlsSmtp::connect(tools, 465, false);
    let greeting = tls.reply();
    let ehlo_tls = tls.ehlo();
    let right = auth_plain(&mut tls, PASSWORD);
    tls.quit();
    PortReport {
        port: 465,
        greeting: greeting.lines.join(" / "),
        ehlo_plain: None,
        ehlo_tls,
        mail_plain: None,
        auth_right: Some(right),
        auth_wrong: None,
        handshakes: handshakes(tools, 465, false),
    }
}

// ---- expectations -------------------------------------------------------------------

/// What every port must answer, for the scenario's profile.
fn check_ports(checks: &mut Checks, scenario: &Scenario, reports: &[PortReport], cert: &str) {
    for r in reports {
        let port = r.port;
        checks.expect(
            r.greeting.starts_with("220 "),
            format!("port {port}: greeting {:?}, not 220", r.greeting),
        );
        if let Some(ehlo) = &r.ehlo_plain {
            checks.expect(
                ehlo.code == 250 && ehlo.offers("STARTTLS"),
                format!("port {port}: EHLO before TLS does not offer STARTTLS: {ehlo:?}"),
            );
            checks.expect(
                !ehlo.offers("AUTH"),
                format!("port {port}: EHLO before TLS offers AUTH: {ehlo:?}"),
            );
        }
        let auth_after_tls = port != 25;
        checks.expect(
            r.ehlo_tls.code == 250 && r.ehlo_tls.offers("AUTH") == auth_after_tls,
            format!(
                "port {port}: EHLO inside TLS should {}offer AUTH: {:?}",
                if auth_after_tls { "" } else { "not " },
                r.ehlo_tls
            ),
        );
        let (mail, right, wrong) = match port {
            25 => (Some(250), None, None),
            587 => (Some(530), Some(235), Some(535)),
            _ => (None, Some(235), None),
        };
        checks.expect(
            r.mail_plain == mail,
            format!(
                "port {port}: MAIL FROM before TLS got {:?}, expected {mail:?}",
                r.mail_plain
            ),
        );
        checks.expect(
            r.auth_right == right && r.auth_wrong == wrong,
            format!(
                "port {port}: AUTH PLAIN right/wrong password got {:?}/{:?}, expected {right:?}/{wrong:?}",
                r.auth_right, r.auth_wrong
            ),
        );
        check_versions(checks, scenario, r);
        let served: Vec<&Handshake> = r
            .handshakes
            .iter()
            .filter(|h| h.negotiated.is_some())
            .collect();
        checks.expect(
            !served.is_empty() && served.iter().all(|h| h.leaf.as_deref() == Some(cert)),
            format!("port {port}: the certificate served is not the generated one"),
        );
    }
}

/// Port 25 accepts TLS 1.2 and 1.3 (older ones are recorded only: it keeps Postfix's
/// defaults); 587 and 465 refuse every version below the profile's floor and accept the
/// floor and newer. Legacy's TLS 1.0 and 1.1 are recorded only: the system's OpenSSL
/// policy may refuse them on its own.
fn check_versions(checks: &mut Checks, scenario: &Scenario, r: &PortReport) {
    for (index, h) in r.handshakes.iter().enumerate() {
        if let Some(negotiated) = &h.negotiated {
            checks.expect(
                negotiated == h.version,
                format!(
                    "port {}: asked for {} and got {negotiated}",
                    r.port, h.version
                ),
            );
        }
        let below_floor = r.port != 25 && index < scenario.floor();
        let required = if below_floor {
            Some(false)
        } else {
            (index >= 2).then_some(true)
        };
        if let Some(accepted) = required {
            checks.expect(
                h.negotiated.is_some() == accepted,
                format!(
                    "port {}: a {} handshake should be {}",
                    r.port,
                    h.version,
                    if accepted { "accepted" } else { "refused" }
                ),
            );
        }
    }
}

/// The log lines that show a problem: every fatal and panic, and every warning except
/// those the test provokes itself, and no more of those than it provoked.
fn log_problems(log: &str, provoked: &[(&[&str], &str, usize)]) -> Vec<String> {
    let mut used = vec![0; provoked.len()];
    let mut problems = Vec::new();
    for line in log.lines() {
        if line.contains("fatal:") || line.contains("panic:") {
            problems.push(line.to_owned());
            continue;
        }
        if !line.contains("warning:") {
            continue;
        }
        let allowed = provoked.iter().position(|(tags, text, _)| {
            tags.iter().any(|t| line.contains(t)) && line.contains(text)
        });
        match allowed {
            Some(i) if used[i] < provoked[i].2 => used[i] += 1,
            _ => problems.push(line.to_owned()),
        }
    }
    problems
}

/// Checks the maillog against what the test did: refused handshakes and one wrong password.
fn check_log(checks: &mut Checks, log: &str, reports: &[PortReport]) {
    let refused: usize = reports.iter().map(PortReport::refused).sum();
    let wrong = reports.iter().filter(|r| r.auth_wrong.is_some()).count();
    let submission: &[&str] = &["postfix/submission/smtpd["];
    let provoked: [(&[&str], &str, usize); 3] = [
        // A handshake below the floor, refused by OpenSSL inside smtpd.
        (
            &SMTPD_TAGS,
            "warning: TLS library problem: error:0A000102:SSL routines::unsupported protocol:",
            refused,
        ),
        // The wrong password on 587: Cyrus SASL's line, then smtpd's.
        (
            submission,
            "warning: SASL authentication failure: Password verification failed",
            wrong,
        ),
        (
            submission,
            "warning: localhost[127.0.0.1]: SASL PLAIN authentication failed: authentication failure",
            wrong,
        ),
    ];
    for line in log_problems(log, &provoked) {
        checks.0.push(format!("maillog: {line}"));
    }
}

/// Files the effective smtpd certificate settings name that do not exist (the snakeoil
/// lines of Debian's main.cf.tls must not survive the edit).
fn missing_certificate_files(instance: &Instance, tools: &Tools) -> Vec<String> {
    let names = [
        "smtpd_tls_chain_files",
        "smtpd_tls_cert_file",
        "smtpd_tls_key_file",
        "smtpd_tls_eccert_file",
        "smtpd_tls_eckey_file",
        "smtpd_tls_dcert_file",
        "smtpd_tls_dkey_file",
    ];
    let mut args = vec!["-x"];
    args.extend(names);
    let values = instance.postconf(tools, &args);
    let mut missing = Vec::new();
    for line in values.lines() {
        let Some((name, value)) = line.split_once(" = ") else {
            continue;
        };
        for file in value.split([',', ' ', '\t']).filter(|f| f.starts_with('/')) {
            if !Path::new(file).exists() {
                missing.push(format!("{name} names a missing file: {file}"));
            }
        }
    }
    missing
}

// ---- the scenario -------------------------------------------------------------------

/// One scenario, from an empty temporary directory to a stopped Postfix; panics (after
/// printing the maillog) when an expectation fails.
fn run_scenario(tools: &Tools, scenario: &Scenario) {
    let name = scenario.name();
    common::visible(&format!("== {name}"));
    enter_network_namespace(tools);
    let setup = Setup::new(tools);
    setup.configure(scenario, tools);
    let instance = &setup.postfix;
    let mut checks = Checks::default();

    // What pflint generated, pflint's own check finds clean.
    let lint = run(
        common::pflint()
            .args(["check", "--fail-on", "info"])
            .arg(&instance.config),
        None,
    );
    common::visible(&format!(
        "  pflint check ({}):\n{}",
        lint.status,
        indent(lint.text().trim_end())
    ));
    if !lint.status.success() || !lint.stdout.contains("no problems found") {
        checks
            .0
            .push(format!("pflint check is not clean:\n{}", lint.text()));
    }
    let tls_settings: Vec<String> = instance
        .postconf(tools, &["-n"])
        .lines()
        .filter(|l| l.contains("tls") || l.contains("sasl"))
        .map(str::to_owned)
        .collect();
    common::visible(&format!(
        "  postconf -n (TLS, SASL):\n{}",
        indent(&tls_settings.join("\n"))
    ));
    for missing in missing_certificate_files(instance, tools) {
        checks.0.push(missing);
    }

    // `postfix check` reports to its output and, as root, to the maillog.
    let before = read(&instance.maillog).len();
    let check = run(
        Command::new(&tools.postfix)
            .arg("-c")
            .arg(&instance.config)
            .arg("check"),
        None,
    );
    let logged = read(&instance.maillog)
        .get(before..)
        .unwrap_or("")
        .to_owned();
    let said = format!("{}{logged}", check.text());
    checks.expect(
        check.status.success() && !said.contains("fatal") && !said.contains("warning"),
        format!("postfix check ({}): {said}", check.status),
    );

    let mut running = Running::start(tools, instance, &[25, 587, 465]);
    let reports = [
        probe_mx(tools),
        probe_submission(tools),
        probe_submissions(tools),
    ];
    wait_for_quiet_log(&instance.maillog);
    running.stop();
    let log = read(&instance.maillog);

    let cert = first_certificate(&read(&setup.cert)).unwrap_or_default();
    common::visible(&table(&reports, &cert));
    check_ports(&mut checks, scenario, &reports, &cert);
    check_log(&mut checks, &log, &reports);
    if !checks.0.is_empty() {
        common::visible(&format!("maillog of {name}:\n{log}"));
        panic!(
            "{} failed expectations:\n- {}",
            checks.0.len(),
            checks.0.join("\n- ")
        );
    }
}

/// A compact table of what each port answered.
fn table(reports: &[PortReport], cert: &str) -> String {
    let code = |c: Option<u16>| c.map_or("-".to_owned(), |c| c.to_string());
    let mut rows = vec![
        [
            "port",
            "EHLO before TLS",
            "EHLO inside TLS",
            "MAIL",
            "AUTH ok",
            "AUTH bad",
            "TLSv1",
            "TLSv1.1",
            "TLSv1.2",
            "TLSv1.3",
            "certificate",
        ]
        .map(str::to_owned)
        .to_vec(),
    ];
    for r in reports {
        let mut row = vec![
            r.port.to_string(),
            r.ehlo_plain.as_ref().map_or("-".to_owned(), summary),
            summary(&r.ehlo_tls),
            code(r.mail_plain),
            code(r.auth_right),
            code(r.auth_wrong),
        ];
        for (version, _) in VERSIONS {
            row.push(if r.accepts(version) { "ok" } else { "refused" }.to_owned());
        }
        let leaves: Vec<&str> = r
            .handshakes
            .iter()
            .filter_map(|h| h.leaf.as_deref())
            .collect();
        let served = if leaves.is_empty() {
            "none"
        } else if leaves.iter().all(|l| *l == cert) {
            "generated"
        } else {
            "OTHER"
        };
        row.push(served.to_owned());
        rows.push(row);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0))
        .collect();
    let mut text = String::new();
    for r in reports {
        let _ = writeln!(text, "  greeting on {}: {}", r.port, r.greeting);
    }
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        let _ = writeln!(text, "  {}", cells.join("  ").trim_end());
    }
    text
}
