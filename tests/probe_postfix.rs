//! `pflint probe` against the real Postfix: each scenario starts a Postfix 3.7 from a
//! configuration made for it, runs `pflint probe -c <config> --format json` (and the human
//! format, for the transcript) against it, and holds the PF9xx findings to exactly the
//! expected codes.
//!
//! | scenario | what Postfix runs | PF9xx expected |
//! |---|---|---|
//! | generated | `pflint generate --role mx,submission --sasl cyrus`: 25 (`may`), 587 (`encrypt`, SASL), 465 (wrapper mode, SASL); RSA and ECDSA chain files | none, exit 0, all three ports reached |
//! | stale certificate | 25 with one RSA chain file, replaced by a newer key and certificate without `postfix reload` | PF906 ("reload"), then none after `postfix reload` |
//! | RSA and ECDSA | 25 with both chain files | none (no PF909); the transcript shows both certificates |
//! | TLS off | 25 with `smtpd_tls_security_level = none` | none with `-c` (the configuration says no TLS), PF903 without a configuration |
//! | STARTTLS hidden | 25 with `may` but `smtpd_discard_ehlo_keywords = starttls` | PF903 |
//! | AUTH before STARTTLS | 25 with `may`, Cyrus SASL, `smtpd_tls_auth_only = no` | PF904 |
//!
//! In every scenario a finding makes the probe exit 1 and none exit 0, every PF9xx finding
//! is placed in a `probe HOST:PORT` transcript, and Postfix logs no warning, fatal or
//! panic for any probe (pflint is an ordinary client to it).
//!
//! Passwords are checked by Cyrus SASL (Debian's postfix links it; libsasl2-modules holds
//! PLAIN and LOGIN, sasl2-bin's saslpasswd2 makes the sasldb), set up as tests/e2e.rs does.
//! Keys (RSA 3072, ECDSA P-256) and self-signed server certificates for [`HOSTNAME`] are
//! made with `openssl` at test time.
//!
//! Each scenario runs in a thread of its own in a new network namespace (see
//! tests/common/postfix.rs): its Postfix listens on a loopback nothing else shares, and
//! pflint, started from that thread, probes that loopback. Every file lives in a temporary
//! directory; the host's /etc/postfix is never touched. Postfix is stopped on every exit,
//! also on a panic.
//!
//! Needs root, Postfix (Debian's package: its stock master.cf), openssl, saslpasswd2 and
//! ip. Skipped with a message when any is missing, a failure under
//! `PFLINT_REQUIRE_POSTFIX=1`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::postfix::{
    Checks, DEBIAN_MASTER, HOSTNAME, Instance, PlainSmtp, Ran, Running, Smtp, TIMEOUT, Tools,
    chmod, enter_network_namespace, first_certificate, indent, processes_in_namespace, read,
    run_ok, run_scenarios, self_signed, try_run, wait_for_quiet_log, write,
};

/// The login in the Cyrus sasldb.
const LOGIN: &str = "alice@example.test";
const PASSWORD: &str = "secret";
/// `openssl req` options that make a server's certificate, not a CA's.
const SERVER: [&str; 4] = [
    "-addext",
    "basicConstraints=critical,CA:FALSE",
    "-addext",
    "extendedKeyUsage=serverAuth",
];
/// Well beyond every expiry threshold.
const DAYS: u32 = 365;
/// How long one `pflint probe` run may take: a handful of connections, each bounded by
/// its own 10 s limits.
const PROBE_LIMIT: Duration = Duration::from_secs(90);

#[test]
fn probe_judges_a_running_postfix() {
    let Some(tools) = Tools::find(
        "Postfix probe test",
        &[("saslpasswd2", "sasl2-bin"), ("chgrp", "coreutils")],
        &[DEBIAN_MASTER],
    ) else {
        return;
    };
    let scenarios = vec![
        Scenario::Generated,
        Scenario::Stale,
        Scenario::TwoAlgorithms,
        Scenario::TlsOff,
        Scenario::StarttlsHidden,
        Scenario::AuthBeforeTls,
    ];
    run_scenarios(&tools, scenarios, |s| s.name().to_owned(), run_scenario);
}

// ---- the scenarios ------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scenario {
    /// What `pflint generate --role mx,submission` writes: 25, 587 and 465.
    Generated,
    /// The chain file replaced under a running smtpd.
    Stale,
    /// An RSA and an ECDSA chain on port 25.
    TwoAlgorithms,
    /// `smtpd_tls_security_level = none` on port 25.
    TlsOff,
    /// TLS on, but STARTTLS removed from the EHLO reply.
    StarttlsHidden,
    /// AUTH offered in the clear.
    AuthBeforeTls,
}

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Scenario::Generated => "generated",
            Scenario::Stale => "stale-certificate",
            Scenario::TwoAlgorithms => "rsa-and-ecdsa",
            Scenario::TlsOff => "tls-off",
            Scenario::StarttlsHidden => "starttls-hidden",
            Scenario::AuthBeforeTls => "auth-before-starttls",
        }
    }

    /// The ports Postfix must listen on before the probe.
    fn ports(self) -> &'static [u16] {
        match self {
            Scenario::Generated => &[25, 587, 465],
            _ => &[25],
        }
    }

    /// The PF9xx codes `pflint probe -c` must report, in order, each once.
    fn expected(self) -> &'static [&'static str] {
        match self {
            Scenario::Generated | Scenario::TwoAlgorithms | Scenario::TlsOff => &[],
            Scenario::Stale => &["PF906"],
            Scenario::StarttlsHidden => &["PF903"],
            Scenario::AuthBeforeTls => &["PF904"],
        }
    }
}

// ---- keys, certificates and SASL ----------------------------------------------------

/// The scenario's instance, its chain files and its Cyrus sasldb.
struct Setup {
    postfix: Instance,
    /// `tls/rsa.pem`: an RSA 3072 key, then its certificate.
    rsa: PathBuf,
    /// `tls/ecdsa.pem`: an ECDSA P-256 key, then its certificate.
    ecdsa: PathBuf,
}

impl Setup {
    fn new(tools: &Tools) -> Setup {
        let postfix = Instance::new(&["tls", "sasl"]);
        let tls = postfix.root.join("tls");
        let setup = Setup {
            rsa: tls.join("rsa.pem"),
            ecdsa: tls.join("ecdsa.pem"),
            postfix,
        };
        chain_file(tools, "rsa:3072", &[], &setup.rsa);
        chain_file(
            tools,
            "ec",
            &["-pkeyopt", "ec_paramgen_curve:prime256v1"],
            &setup.ecdsa,
        );
        setup.postfix.make_sasl(tools, LOGIN, PASSWORD);
        setup
    }

    /// The main.cf lines every scenario has: names, aliases, the instance's paths, SASL's
    /// configuration directory, and smtpd processes that live long (see
    /// [`Scenario::Stale`]).
    fn base(&self) -> String {
        let aliases = self.postfix.aliases();
        // Without a compatibility_level Postfix 3.7 runs at level 0, where the default
        // smtpd_relay_restrictions is empty and the port 25 smtpd refuses to start.
        format!(
            "compatibility_level = 3.6\n\
             myhostname = {HOSTNAME}\n\
             mydestination = $myhostname, localhost\n\
             inet_interfaces = loopback-only\n\
             alias_maps = hash:{aliases}\n\
             alias_database = hash:{aliases}\n\
             {own}\
             cyrus_sasl_config_path = {root}/sasl\n\
             # An idle smtpd waits an hour and serves 1000 sessions before it exits.\n\
             max_idle = 3600s\n\
             max_use = 1000\n",
            aliases = aliases.display(),
            own = self.postfix.own_settings(),
            root = self.postfix.root.display(),
        )
    }

    /// `smtpd_tls_chain_files` naming the given files.
    fn chain_files(files: &[&Path]) -> String {
        let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        format!("smtpd_tls_chain_files = {}\n", names.join(", "))
    }

    /// Writes main.cf and master.cf for the scenario.
    fn configure(&self, tools: &Tools, scenario: Scenario) {
        let config = &self.postfix.config;
        let stock = read(Path::new(DEBIAN_MASTER));
        let rsa = Setup::chain_files(&[&self.rsa]);
        let both = Setup::chain_files(&[&self.rsa, &self.ecdsa]);
        let tls_may = "smtpd_tls_security_level = may\nsmtpd_tls_loglevel = 1\n";
        let (main, master) = match scenario {
            Scenario::Generated => {
                let ran = run_ok(
                    common::pflint()
                        .args(["generate", "--role", "mx,submission"])
                        .args(["--profile", "intermediate", "--sasl", "cyrus", "--chain"])
                        .arg(&self.rsa)
                        .arg("--chain")
                        .arg(&self.ecdsa),
                    None,
                );
                let (main_part, master_part) = split_snippet(&ran.stdout);
                (main_part, format!("{stock}\n{master_part}"))
            }
            Scenario::Stale => {
                // One smtpd process at most: a second one, started after the chain file
                // is replaced, would load the new file and serve it.
                let master = stock.replacen(
                    "smtp      inet  n       -       y       -       -       smtpd",
                    "smtp      inet  n       -       y       -       1       smtpd",
                    1,
                );
                assert_ne!(master, stock, "no smtp inet line in {DEBIAN_MASTER}");
                (format!("{tls_may}{rsa}"), master)
            }
            Scenario::TwoAlgorithms => (format!("{tls_may}{both}"), stock),
            Scenario::TlsOff => (format!("smtpd_tls_security_level = none\n{both}"), stock),
            Scenario::StarttlsHidden => (
                format!("{tls_may}{both}smtpd_discard_ehlo_keywords = starttls\n"),
                stock,
            ),
            Scenario::AuthBeforeTls => (
                format!(
                    "{tls_may}{both}\
                     smtpd_sasl_type = cyrus\n\
                     smtpd_sasl_path = smtpd\n\
                     smtpd_sasl_auth_enable = yes\n\
                     smtpd_tls_auth_only = no\n"
                ),
                stock,
            ),
        };
        write(&config.join("main.cf"), &format!("{}\n{main}", self.base()));
        write(&config.join("master.cf"), &master);
        self.postfix.finish_config(tools);
    }
}

/// A new key (`newkey`: `openssl req -newkey`'s argument) and a self-signed server
/// certificate for [`HOSTNAME`], written to `chain` as smtpd_tls_chain_files reads it:
/// the key, then the certificate. The key and certificate stay beside it
/// (`<chain>.key`, `<chain>.crt`, replaced on the next call).
fn chain_file(tools: &Tools, newkey: &str, options: &[&str], chain: &Path) {
    let key = chain.with_extension("key");
    let cert = chain.with_extension("crt");
    let mut all: Vec<&str> = options.to_vec();
    all.extend(SERVER);
    self_signed(tools, newkey, &all, DAYS, &key, &cert);
    write(chain, &format!("{}{}", read(&key), read(&cert)));
    chmod(chain, 0o600);
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

// ---- pflint probe -------------------------------------------------------------------

/// One finding of `pflint probe --format json`.
#[derive(Clone, Debug)]
struct Found {
    code: String,
    file: String,
    message: String,
}

/// What one `pflint probe` run printed and meant.
struct Probed {
    /// The command, for messages.
    shown: String,
    /// Its exit code (`None`: killed by a signal).
    code: Option<i32>,
    /// The JSON run's findings.
    findings: Vec<Found>,
    /// The JSON run's output, then the human run's.
    json: Ran,
    human: Ran,
}

impl Probed {
    /// The PF9xx codes found, in the order reported.
    fn probe_codes(&self) -> Vec<&str> {
        self.findings
            .iter()
            .map(|f| f.code.as_str())
            .filter(|c| c.starts_with("PF9"))
            .collect()
    }

    /// The findings, one line each.
    fn listed(&self) -> String {
        self.findings
            .iter()
            .map(|f| format!("{} [{}] {}", f.code, f.file, f.message))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// What the human output says each probe saw of TLS before its findings: a
    /// `probe HOST:PORT` line per target, then the transcript's `TLS:` lines (handshakes
    /// and certificates), indented, or `no TLS`.
    fn seen(&self) -> Vec<(String, Vec<String>)> {
        let mut seen: Vec<(String, Vec<String>)> = Vec::new();
        for line in self.human.stdout.lines() {
            if line.trim().is_empty() {
                break;
            }
            match (line.strip_prefix("  "), seen.last_mut()) {
                (Some(fact), Some((_, facts))) => facts.push(fact.to_owned()),
                _ => seen.push((line.to_owned(), Vec::new())),
            }
        }
        seen
    }

    /// The TLS facts the human output lists for `probe HOST:PORT`.
    fn tls_of(&self, address: &str) -> Vec<String> {
        let header = format!("probe {address}");
        self.seen()
            .into_iter()
            .find(|(h, _)| *h == header)
            .map(|(_, facts)| facts)
            .unwrap_or_default()
    }
}

/// `pflint probe` with `args`, once with `--format json` and once in the human format.
fn probe(args: &[&str]) -> Probed {
    let run_with = |format: &str| {
        let mut command = common::pflint();
        command.arg("probe").args(args).args(["--format", format]);
        let shown = format!("{command:?}");
        let ran = try_run(&mut command, None, PROBE_LIMIT).unwrap_or_else(|e| panic!("{e}"));
        (shown, ran)
    };
    let (shown, json) = run_with("json");
    // 0: nothing at --fail-on's severity, 1: something; 2 is a usage error.
    assert!(
        matches!(json.status.code(), Some(0 | 1)),
        "{shown} failed ({}):\n{}",
        json.status,
        json.text()
    );
    let document: serde_json::Value = serde_json::from_str(&json.stdout)
        .unwrap_or_else(|e| panic!("{shown} printed no JSON document ({e}):\n{}", json.text()));
    let findings = document["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("{shown}: no findings array:\n{}", json.stdout))
        .iter()
        .map(|f| Found {
            code: f["code"].as_str().unwrap_or_default().to_owned(),
            file: f["file"].as_str().unwrap_or_default().to_owned(),
            message: f["message"].as_str().unwrap_or_default().to_owned(),
        })
        .collect();
    let (_, human) = run_with("human");
    Probed {
        code: json.status.code(),
        shown,
        findings,
        json,
        human,
    }
}

/// `pflint probe -c <config>`.
fn probe_config(instance: &Instance) -> Probed {
    let config = instance.config.display().to_string();
    probe(&["-c", &config])
}

/// Prints what a probe found and its transcript.
fn show(label: &str, probed: &Probed) {
    let seen: Vec<String> = probed
        .seen()
        .into_iter()
        .map(|(target, facts)| format!("{target}\n{}", indent(&facts.join("\n"))))
        .collect();
    let seen = seen.join("\n");
    common::visible(&format!(
        "  {label}: exit {:?}, findings:\n{}\n  seen:\n{}",
        probed.code,
        indent(&probed.listed()),
        indent(&seen)
    ));
}

/// The probe found exactly the PF9xx codes `expected` (each once, in any order), exits 1
/// when it found any (they are all warnings or errors) and 0 otherwise, and puts every
/// PF9xx finding in a `probe HOST:PORT` transcript.
fn check_codes(checks: &mut Checks, label: &str, probed: &Probed, expected: &[&str]) {
    let mut found = probed.probe_codes();
    found.sort_unstable();
    let mut wanted = expected.to_vec();
    wanted.sort_unstable();
    checks.expect(
        found == wanted,
        format!(
            "{label}: {} found {found:?}, expected {wanted:?}:\n{}",
            probed.shown,
            probed.listed()
        ),
    );
    let exit = if expected.is_empty() { 0 } else { 1 };
    checks.expect(
        probed.code == Some(exit),
        format!(
            "{label}: exit {:?}, expected {exit}:\n{}",
            probed.code,
            probed.json.text()
        ),
    );
    for f in probed.findings.iter().filter(|f| f.code.starts_with("PF9")) {
        checks.expect(
            f.file.starts_with("probe "),
            format!(
                "{label}: {} is reported in {:?}, not in a `probe HOST:PORT` transcript",
                f.code, f.file
            ),
        );
    }
}

// ---- what the server says -----------------------------------------------------------

/// The EHLO reply port 25 gives before TLS, for the record.
fn plain_ehlo() -> String {
    let mut smtp = PlainSmtp::connect(25);
    let _ = smtp.reply();
    let ehlo = smtp.ehlo();
    smtp.quit();
    ehlo.lines.join(" / ")
}

/// The leaf certificate smtpd on port 25 serves to `openssl s_client` offering RSA-PSS
/// signatures only, as base64 without line breaks.
fn served_leaf(tools: &Tools) -> Option<String> {
    let mut command = Command::new(&tools.openssl);
    command
        .args(["s_client", "-starttls", "smtp", "-connect", "127.0.0.1:25"])
        .args(["-servername", HOSTNAME, "-sigalgs", "rsa_pss_rsae_sha256"]);
    let ran = try_run(&mut command, None, TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    first_certificate(&ran.stdout)
}

/// The pids of the smtpd processes in the scenario's namespace.
fn smtpd_pids() -> Vec<i32> {
    processes_in_namespace()
        .into_iter()
        .filter(|pid| read(Path::new(&format!("/proc/{pid}/comm"))).trim() == "smtpd")
        .collect()
}

// ---- the scenarios' own checks ------------------------------------------------------

/// Every port of the configuration was probed, each with a TLS handshake.
fn check_reached(checks: &mut Checks, probed: &Probed, ports: &[u16]) {
    for port in ports {
        let address = format!("127.0.0.1:{port}");
        let tls = probed.tls_of(&address);
        checks.expect(
            tls.iter().any(|l| l.starts_with("TLSv1.")),
            format!(
                "the probe shows no handshake with {address}:\n{}",
                probed.human.stdout
            ),
        );
    }
}

/// The probe of each port lists an RSA and an ECDSA leaf certificate served.
fn check_both_algorithms(checks: &mut Checks, probed: &Probed, ports: &[u16]) {
    for port in ports {
        let address = format!("127.0.0.1:{port}");
        let tls = probed.tls_of(&address);
        for kind in ["RSA 3072-bit key", "ECDSA P-256 key"] {
            checks.expect(
                tls.iter()
                    .any(|l| l.starts_with("certificate 1: ") && l.contains(kind)),
                format!(
                    "the probe of {address} shows no leaf certificate with an {kind}:\n{}",
                    probed.human.stdout
                ),
            );
        }
    }
}

/// The stale-certificate scenario, from a started Postfix on: a first probe while the
/// files are those smtpd loaded, then the chain file replaced, a second probe, then
/// `postfix reload` and a third.
///
/// smtpd loads its keys once, when the process starts (Postfix's tls_server_init in
/// smtpd's pre-jail initialisation), and the master starts an smtpd only when no idle one
/// is there to accept a connection. The first probe makes sure one exists (an smtpd
/// started before the replacement); max_idle and max_use (main.cf) keep it alive, and a
/// process limit of 1 on the smtp service keeps the master from starting a second one that
/// would load the new file. (Without that limit Postfix 3.7.11 hands pflint's sequential
/// connections to the one idle smtpd too, as seen in repeated runs; the limit makes it
/// certain.) The scenario checks that the smtpd pid is the same before and after.
fn check_stale(checks: &mut Checks, tools: &Tools, setup: &Setup) {
    let instance = &setup.postfix;
    let first = probe_config(instance);
    show("before the replacement", &first);
    check_codes(checks, "before the replacement", &first, &[]);
    let before = smtpd_pids();
    common::visible(&format!("  smtpd processes: {before:?}"));

    // The new certificate's notBefore must be later than the old one's: openssl sets it
    // to the current second (OpenSSL 3.0's req has no -not_before).
    std::thread::sleep(Duration::from_millis(1100));
    let old = read(&setup.rsa.with_extension("crt"));
    chain_file(tools, "rsa:3072", &[], &setup.rsa);
    checks.expect(
        read(&setup.rsa.with_extension("crt")) != old,
        "the replacement certificate is the old one",
    );

    let second = probe_config(instance);
    show("after the replacement, without reload", &second);
    let after = smtpd_pids();
    common::visible(&format!("  smtpd processes: {after:?}"));
    checks.expect(
        !before.is_empty() && before == after,
        format!(
            "the probe after the replacement was not served by the smtpd started before it: {before:?} then {after:?}"
        ),
    );
    check_codes(checks, "after the replacement", &second, &["PF906"]);
    // What openssl's client gets from that smtpd: the old certificate, not the file's.
    let served = served_leaf(tools);
    checks.expect(
        served.is_some() && served == first_certificate(&old),
        "openssl s_client does not get the old certificate from the running smtpd",
    );
    for f in second.findings.iter().filter(|f| f.code == "PF906") {
        checks.expect(
            f.message.contains("reload") && f.message.contains("older"),
            format!(
                "PF906 should say the served certificate is older and to reload Postfix: {}",
                f.message
            ),
        );
    }

    run_ok(
        Command::new(&tools.postfix)
            .arg("-c")
            .arg(&instance.config)
            .arg("reload"),
        None,
    );
    // The old smtpd exits when it notices the reload; until then it may still answer.
    let deadline = Instant::now() + TIMEOUT;
    let mut tries = 0;
    let third = loop {
        tries += 1;
        let probed = probe_config(instance);
        if !probed.probe_codes().contains(&"PF906") || Instant::now() >= deadline {
            break probed;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    show(&format!("after postfix reload (probe {tries})"), &third);
    checks.expect(
        served_leaf(tools) == first_certificate(&read(&setup.rsa)),
        "after postfix reload openssl s_client does not get the new certificate",
    );
    check_codes(checks, "after postfix reload", &third, &[]);
}

/// TLS off: the configuration says so, and pflint does not blame the server for doing
/// what it was told; without a configuration the missing STARTTLS is PF903.
fn check_tls_off(checks: &mut Checks) {
    let bare = probe(&["127.0.0.1:25"]);
    show("pflint probe 127.0.0.1:25 (no configuration)", &bare);
    check_codes(checks, "without a configuration", &bare, &["PF903"]);
}

// ---- the scenario -------------------------------------------------------------------

/// One scenario, from an empty temporary directory to a stopped Postfix; panics (after
/// printing the maillog) when an expectation fails.
fn run_scenario(tools: &Tools, scenario: &Scenario) {
    let scenario = *scenario;
    let started = Instant::now();
    common::visible(&format!("== {}", scenario.name()));
    enter_network_namespace(tools);
    let setup = Setup::new(tools);
    setup.configure(tools, scenario);
    let instance = &setup.postfix;
    let mut checks = Checks::default();

    let mut running = Running::start(tools, instance, scenario.ports());
    common::visible(&format!("  EHLO on 25 before TLS: {}", plain_ehlo()));
    if scenario == Scenario::Stale {
        check_stale(&mut checks, tools, &setup);
    } else {
        let probed = probe_config(instance);
        show(
            &format!("pflint probe -c {}", instance.config.display()),
            &probed,
        );
        check_codes(&mut checks, "pflint probe -c", &probed, scenario.expected());
        match scenario {
            Scenario::Generated => {
                check_reached(&mut checks, &probed, scenario.ports());
                check_both_algorithms(&mut checks, &probed, scenario.ports());
            }
            Scenario::TwoAlgorithms => {
                check_both_algorithms(&mut checks, &probed, scenario.ports());
            }
            Scenario::TlsOff => check_tls_off(&mut checks),
            Scenario::AuthBeforeTls => {
                checks.expect(
                    probed
                        .findings
                        .iter()
                        .any(|f| f.code == "PF904" && f.message.contains("AUTH")),
                    "PF904 should quote the AUTH line",
                );
            }
            _ => {}
        }
    }
    wait_for_quiet_log(&instance.maillog);
    running.stop();
    let log = read(&instance.maillog);
    let warnings: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("warning:") || l.contains("fatal:") || l.contains("panic:"))
        .collect();
    // The probe is an ordinary client: smtpd finds nothing in it to warn about.
    checks.expect(
        warnings.is_empty(),
        format!(
            "Postfix logged problems during the probes:\n{}",
            indent(&warnings.join("\n"))
        ),
    );
    common::visible(&format!(
        "  {} took {:.1} s",
        scenario.name(),
        started.elapsed().as_secs_f64()
    ));

    if !checks.0.is_empty() {
        common::visible(&format!("maillog of {}:\n{log}", scenario.name()));
        panic!(
            "{} failed expectations:\n- {}",
            checks.0.len(),
            checks.0.join("\n- ")
        );
    }
}
