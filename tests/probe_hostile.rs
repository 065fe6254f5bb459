//! `pflint probe` against hostile SMTP servers. Each test starts a scripted fake server on
//! 127.0.0.1 (a fresh port from the kernel, never another address; one thread per test)
//! that sends what a broken server, a tarpit or a man in the middle sends, and runs the
//! built binary against it as a user would: `pflint probe 127.0.0.1:PORT --format json
//! --timeout 2`, no configuration. (tests/common/fake_smtp.rs answers in whole replies
//! and mends bare LFs; these servers need byte-level control: drips, endless writes.)
//!
//! | server | expected finding |
//! |---|---|
//! | `220 ` and then `a` without end | PF902, line longer than 4096 bytes |
//! | `220 mx ESMTP` ending in a bare LF | PF902, LF without CR |
//! | 220 to STARTTLS and `250 injected` in the same write | PF902, bytes after the STARTTLS reply |
//! | 220 to STARTTLS, then plain text for the ClientHello | PF905, handshake failed (each algorithm) |
//! | a 10 MB banner of 1000-byte `220-` lines | PF902, more than 128 lines |
//! | the banner dripped, one byte every 500 ms | PF902, no complete reply within 2 s |
//! | close on accept / close after EHLO | PF901 / PF902, closed the connection |
//! | silence on accept | PF901, no complete reply within 2 s |
//! | EHLO without STARTTLS | PF903 |
//! | `AUTH PLAIN LOGIN` in the plain EHLO, 454 to STARTTLS | PF904 and PF905 |
//! | the same hostile replies to EHLO, after a good banner | PF902 |
//! | a TLS record dripped during the handshake, or after it | PF905 once / PF902, no hang |
//! | one connection, then none | the first session's PF905 kept, PF901 for the second |
//! | a well-behaved server (rustls, rcgen's ECDSA certificate), EHLO inside TLS | none, exit 0 |
//!
//! Bounds, checked on every run: pflint is killed and the test fails when it still runs
//! after [`HARD_LIMIT`] (30 s); a run that has nothing to wait for ends within [`QUICK`]
//! (5 s), one that waits out the 2 s reply limit within [`SLOW`] (10 s); pflint's peak
//! resident memory stays under [`MEMORY_KIB`] (50 MB) whatever the server sends
//! (measured by `/usr/bin/time -v`, else by polling `VmHWM` while it runs); its stderr
//! never says "panicked". Each run prints its exit status, time and peak memory.

mod common;

use std::fmt;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

/// pflint is killed, and the test fails, when it runs longer than this.
const HARD_LIMIT: Duration = Duration::from_secs(30);
/// A run with nothing to wait for (the server misbehaves at once) ends within this.
const QUICK: Duration = Duration::from_secs(5);
/// A run that waits out the reply limit (`--timeout 2`) ends within this.
const SLOW: Duration = Duration::from_secs(10);
/// pflint's peak resident memory, in KiB, stays below this.
const MEMORY_KIB: i64 = 50 * 1024;
/// `--timeout` of every run, seconds.
const TIMEOUT: &str = "2";
/// How long the fake server waits for the client before giving up on the connection.
const PEER_LIMIT: Duration = Duration::from_secs(40);
/// The pause between two dripped bytes.
const DRIP: Duration = Duration::from_millis(500);

const BANNER: &str = "220 mx.example.test ESMTP\r\n";

// ---------------------------------------------------------------------------------------
// The fake server

/// What the fake server does on each connection, in order.
enum Step {
    /// Writes these bytes in one write (through TLS once [`Step::Tls`] ran).
    Send(Vec<u8>),
    /// Reads one command line and logs it; the connection ends when it does not start
    /// with this.
    Expect(&'static str),
    /// Writes these bytes on the TCP connection (under any TLS) one at a time, with a
    /// pause after each.
    Drip(Vec<u8>, Duration),
    /// Writes these bytes on the TCP connection again and again until the client goes.
    Endless(Vec<u8>),
    /// Reads whatever the client sends next on the TCP connection (a ClientHello).
    Swallow,
    /// Runs a TLS server handshake (rustls, a self-signed ECDSA certificate).
    Tls,
    /// Closes the connection.
    Close,
}

fn send(bytes: impl AsRef<[u8]>) -> Step {
    Step::Send(bytes.as_ref().to_vec())
}

/// A good banner and EHLO offering STARTTLS, up to the STARTTLS command, then `rest`.
fn after_starttls(rest: impl IntoIterator<Item = Step>) -> Vec<Step> {
    let mut script = vec![
        send(BANNER),
        Step::Expect("EHLO pflint.invalid"),
        send("250-mx.example.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n"),
        Step::Expect("STARTTLS"),
    ];
    script.extend(rest);
    script
}

/// One accepted connection.
struct Connection {
    tcp: TcpStream,
    tls: Option<rustls::ServerConnection>,
}

impl Connection {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match &mut self.tls {
            Some(tls) => {
                let mut stream = rustls::Stream::new(tls, &mut self.tcp);
                stream.write_all(bytes)?;
                stream.flush()
            }
            None => self.tcp.write_all(bytes),
        }
    }

    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match &mut self.tls {
            Some(tls) => rustls::Stream::new(tls, &mut self.tcp).read(buf),
            None => self.tcp.read(buf),
        }
    }

    /// One line from the client, without its line end (byte by byte: commands are short).
    fn line(&mut self) -> std::io::Result<String> {
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        while line.len() < 1000 {
            if self.read(&mut byte)? == 0 {
                break;
            }
            if byte[0] == b'\n' {
                break;
            }
            line.push(byte[0]);
        }
        Ok(String::from_utf8_lossy(&line).trim_end().to_owned())
    }
}

/// Plays `script` on one connection; errors (the client went away) end it.
fn play(script: &[Step], tcp: TcpStream, heard: &Mutex<Vec<String>>) -> std::io::Result<()> {
    tcp.set_read_timeout(Some(PEER_LIMIT))?;
    tcp.set_write_timeout(Some(PEER_LIMIT))?;
    let mut c = Connection { tcp, tls: None };
    for step in script {
        match step {
            Step::Send(bytes) => c.write(bytes)?,
            Step::Expect(prefix) => {
                let line = c.line()?;
                let expected = line.starts_with(prefix);
                heard.lock().unwrap().push(line);
                if !expected {
                    return Ok(());
                }
            }
            Step::Drip(bytes, pause) => {
                for byte in bytes {
                    c.tcp.write_all(std::slice::from_ref(byte))?;
                    thread::sleep(*pause);
                }
            }
            Step::Endless(chunk) => loop {
                c.tcp.write_all(chunk)?;
            },
            Step::Swallow => {
                let mut buf = [0u8; 16 * 1024];
                let _ = c.tcp.read(&mut buf)?;
            }
            Step::Tls => {
                let mut tls =
                    rustls::ServerConnection::new(tls_config()).map_err(std::io::Error::other)?;
                while tls.is_handshaking() {
                    tls.complete_io(&mut c.tcp)?;
                }
                c.tls = Some(tls);
            }
            Step::Close => break,
        }
    }
    Ok(())
}

/// The fake server's TLS: a self-signed ECDSA P-256 certificate made by rcgen.
fn tls_config() -> Arc<rustls::ServerConfig> {
    static CONFIG: OnceLock<Arc<rustls::ServerConfig>> = OnceLock::new();
    let config = CONFIG.get_or_init(|| {
        let made = rcgen::generate_simple_self_signed(vec!["mx.example.test".to_owned()])
            .expect("rcgen makes a certificate");
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(made.signing_key.serialize_der().into());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS 1.2 and 1.3")
            .with_no_client_auth()
            .with_single_cert(vec![made.cert.der().clone()], key)
            .expect("the certificate and key match");
        Arc::new(config)
    });
    Arc::clone(config)
}

/// A scripted SMTP server on 127.0.0.1, stopped when dropped.
struct Server {
    addr: SocketAddr,
    heard: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl Server {
    /// Plays `script` on every connection, one after the other.
    fn start(script: Vec<Step>) -> Server {
        Server::accepting(script, usize::MAX)
    }

    /// Plays `script` on the first `connections` connections; the port is closed as the
    /// last one is accepted, so later ones are refused.
    fn accepting(script: Vec<Step>, connections: usize) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let addr = listener.local_addr().unwrap();
        let heard = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (log, stopped) = (Arc::clone(&heard), Arc::clone(&stop));
        thread::spawn(move || {
            let mut left = connections;
            let mut listener = Some(listener);
            while let Some(open) = listener.take() {
                let Ok((tcp, _)) = open.accept() else { break };
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                left -= 1;
                if left > 0 {
                    listener = Some(open);
                } else {
                    drop(open);
                }
                // A client that goes away mid-script is what most tests are about.
                let _ = play(&script, tcp, &log);
            }
        });
        Server { addr, heard, stop }
    }

    /// The command lines the server read, over all connections.
    fn heard(&self) -> Vec<String> {
        self.heard.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept; refused when the port is already closed.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
    }
}

// ---------------------------------------------------------------------------------------
// Running pflint

/// One finished run of pflint.
struct Run {
    args: Vec<String>,
    status: ExitStatus,
    stdout: String,
    stderr: String,
    elapsed: Duration,
    /// Peak resident memory, KiB, when measured.
    peak_kib: Option<i64>,
}

impl fmt::Display for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`pflint {}`: {}, {:.2} s, peak {:?} KiB\n--- stdout\n{}--- stderr\n{}",
            self.args.join(" "),
            self.status,
            self.elapsed.as_secs_f64(),
            self.peak_kib,
            self.stdout,
            self.stderr
        )
    }
}

impl Run {
    /// Prints the run's time and memory, and holds it to no panic, `bound` and
    /// [`MEMORY_KIB`].
    fn check_bounds(&self, case: &str, bound: Duration) {
        let peak = self.peak_kib.map_or_else(
            || "not measured".to_owned(),
            |kib| format!("{:.1} MB", kib as f64 / 1024.0),
        );
        common::visible(&format!(
            "{case}: exit {:?} in {:.2} s, peak memory {peak}",
            self.status.code(),
            self.elapsed.as_secs_f64(),
        ));
        assert!(!self.stderr.contains("panicked"), "{case}: a panic\n{self}");
        assert!(
            self.elapsed < bound,
            "{case}: took {:.2} s, more than {} s\n{self}",
            self.elapsed.as_secs_f64(),
            bound.as_secs()
        );
        if let Some(kib) = self.peak_kib {
            assert!(
                kib < MEMORY_KIB,
                "{case}: peak memory {kib} KiB, {MEMORY_KIB} allowed\n{self}"
            );
        }
    }

    fn findings(&self) -> Vec<Value> {
        let json: Value = serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("the output is not JSON ({e}):\n{self}"));
        json["findings"]
            .as_array()
            .unwrap_or_else(|| panic!("no findings array:\n{self}"))
            .clone()
    }

    fn codes(&self) -> Vec<String> {
        self.findings()
            .iter()
            .map(|f| f["code"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// The finding with `code`, whose message must contain each of `says`.
    fn finding(&self, code: &str, says: &[&str]) -> Value {
        let found = self
            .findings()
            .into_iter()
            .find(|f| f["code"] == code)
            .unwrap_or_else(|| panic!("no {code} (got {:?}):\n{self}", self.codes()));
        let message = found["message"].as_str().unwrap_or_default();
        for part in says {
            assert!(
                message.contains(part),
                "the {code} message does not say `{part}`: {message}\n{self}"
            );
        }
        found
    }
}

/// Collects a pipe on a thread of its own, so that a chatty child never blocks.
fn drain(pipe: Option<impl Read + Send + 'static>) -> thread::JoinHandle<String> {
    let mut pipe = pipe.expect("a piped stream");
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// GNU time, which reports the peak memory of the process it forks. (`ru_maxrss` of a
/// child this test spawns itself would not do: Linux counts the test process's own memory,
/// which the child had until it ran exec, into it.)
const TIME: &str = "/usr/bin/time";

/// The peak resident memory in KiB of a process still running (`VmHWM`).
fn high_water(pid: u32) -> Option<i64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs `pflint ARGS` within [`HARD_LIMIT`], measuring its time and peak memory: under
/// `/usr/bin/time -v` when there is one, else by polling `VmHWM` while it runs.
fn pflint(args: &[&str]) -> Run {
    let report = tempfile::NamedTempFile::new().expect("a temporary file");
    let timed = Path::new(TIME).is_file();
    let mut command = if timed {
        let mut command = Command::new(TIME);
        command
            .arg("-v")
            .arg("-o")
            .arg(report.path())
            .arg(env!("CARGO_BIN_EXE_pflint"));
        command
    } else {
        common::pflint()
    };
    let mut child = command
        .args(args)
        .current_dir(std::env::temp_dir())
        .env_remove("MAIL_CONFIG")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("pflint starts");
    let started = Instant::now();
    let (stdout, stderr) = (drain(child.stdout.take()), drain(child.stderr.take()));
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let mut polled = None;
    let status = loop {
        if let Some(status) = child.try_wait().expect("the child can be waited for") {
            break status;
        }
        if !timed {
            polled = polled.max(high_water(child.id()));
        }
        if started.elapsed() > HARD_LIMIT {
            let group = -libc::pid_t::try_from(child.id()).expect("a pid");
            // SAFETY: kill has no memory preconditions; the group is the child's own
            // (process_group(0)), not yet reaped, so it holds only time and pflint.
            unsafe { libc::kill(group, libc::SIGKILL) };
            let _ = child.wait();
            panic!(
                "`pflint {}` still ran after {} s (killed)\n--- stdout\n{}--- stderr\n{}",
                args.join(" "),
                HARD_LIMIT.as_secs(),
                stdout.join().unwrap(),
                stderr.join().unwrap()
            );
        }
        thread::sleep(Duration::from_millis(5));
    };
    let elapsed = started.elapsed();
    let peak_kib = if timed {
        let text = std::fs::read_to_string(report.path()).expect("time wrote its report");
        text.lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix("Maximum resident set size (kbytes): ")
            })
            .and_then(|n| n.parse().ok())
    } else {
        polled
    };
    Run {
        args,
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
        elapsed,
        peak_kib,
    }
}

/// Probes `server` and checks what every run keeps to: no panic, finished within
/// `bound`, memory under [`MEMORY_KIB`], the exit status `exit`, and the report's file
/// named after the target.
fn probe(case: &str, server: &Server, exit: i32, bound: Duration) -> Run {
    let target = server.addr.to_string();
    let run = pflint(&["probe", &target, "--format", "json", "--timeout", TIMEOUT]);
    run.check_bounds(case, bound);
    common::visible(&format!("  {:?}", run.codes()));
    assert_eq!(run.status.code(), Some(exit), "{case}\n{run}");
    for finding in run.findings() {
        assert_eq!(finding["file"], format!("probe {target}"), "{case}\n{run}");
    }
    run
}

// ---------------------------------------------------------------------------------------
// The cases

#[test]
fn an_endless_banner_line_is_cut_at_the_line_limit() {
    let server = Server::start(vec![send("220 "), Step::Endless(vec![b'a'; 64 * 1024])]);
    let run = probe("endless line", &server, 1, QUICK);
    run.finding("PF902", &["longer than 4096 bytes"]);
}

#[test]
fn a_banner_ending_in_a_bare_lf_is_a_protocol_violation() {
    let server = Server::start(vec![send("220 mx ESMTP\n"), Step::Close]);
    let run = probe("bare LF", &server, 1, QUICK);
    run.finding("PF902", &["LF without CR"]);
}

#[test]
fn bytes_after_the_starttls_reply_are_reported_as_injection() {
    let server = Server::start(after_starttls([
        send("220 go ahead\r\n250 injected\r\n"),
        Step::Swallow,
        Step::Close,
    ]));
    let run = probe("STARTTLS injection", &server, 1, QUICK);
    run.finding(
        "PF902",
        &["after its STARTTLS reply", "before the TLS handshake"],
    );
}

#[test]
fn plain_text_instead_of_a_server_hello_fails_the_handshake() {
    let server = Server::start(after_starttls([
        send("220 go ahead\r\n"),
        Step::Swallow,
        send("HELLO THIS IS NOT TLS\r\n"),
        Step::Close,
    ]));
    let run = probe("not TLS", &server, 1, QUICK);
    run.finding("PF905", &["no TLS handshake with", "succeeded"]);
    let starttls = server.heard().iter().filter(|l| *l == "STARTTLS").count();
    assert_eq!(starttls, 3, "one connection per algorithm\n{run}");
}

#[test]
fn a_ten_megabyte_banner_stops_at_the_line_count_limit() {
    let line = format!("220-{}\r\n", "x".repeat(994));
    assert_eq!(line.len(), 1000);
    let banner = line.repeat(10 * 1024 * 1024 / 1000);
    let server = Server::start(vec![send(banner), send("220 end\r\n"), Step::Close]);
    let run = probe("10 MB banner", &server, 1, QUICK);
    run.finding("PF902", &["more than 128 lines"]);
}

#[test]
fn a_dripped_banner_times_out() {
    let server = Server::start(vec![Step::Drip(BANNER.as_bytes().to_vec(), DRIP)]);
    let run = probe("slow drip", &server, 1, SLOW);
    run.finding("PF902", &["no complete reply within 2 s"]);
    assert!(run.elapsed >= Duration::from_millis(1900), "{run}");
}

#[test]
fn a_server_that_closes_at_once_gives_no_session() {
    let server = Server::start(vec![Step::Close]);
    let run = probe("close on accept", &server, 1, QUICK);
    run.finding("PF901", &["no SMTP greeting", "closed the connection"]);
}

/// Not one byte of a greeting, however long: no session, as with a close (a broken
/// greeting, some bytes of one, is PF902).
#[test]
fn a_silent_server_gives_no_session() {
    let server = Server::start(vec![Step::Swallow]);
    let run = probe("silence on accept", &server, 1, SLOW);
    run.finding(
        "PF901",
        &["no SMTP greeting", "no complete reply within 2 s"],
    );
}

#[test]
fn a_server_that_closes_after_ehlo_broke_the_session() {
    let server = Server::start(vec![
        send(BANNER),
        Step::Expect("EHLO pflint.invalid"),
        Step::Close,
    ]);
    let run = probe("close after EHLO", &server, 1, QUICK);
    run.finding(
        "PF902",
        &["broke the SMTP session", "closed the connection"],
    );
    assert_eq!(server.heard(), ["EHLO pflint.invalid"], "{run}");
}

#[test]
fn ehlo_without_starttls_is_reported() {
    let server = Server::start(vec![
        send(BANNER),
        Step::Expect("EHLO pflint.invalid"),
        send("250-mx.example.test\r\n250 PIPELINING\r\n"),
        Step::Expect("QUIT"),
        send("221 bye\r\n"),
        Step::Close,
    ]);
    let run = probe("no STARTTLS", &server, 1, QUICK);
    run.finding("PF903", &["does not offer STARTTLS"]);
}

#[test]
fn auth_before_starttls_and_a_refused_starttls_are_both_reported() {
    let server = Server::start(vec![
        send(BANNER),
        Step::Expect("EHLO pflint.invalid"),
        send("250-mx.example.test\r\n250-AUTH PLAIN LOGIN\r\n250 STARTTLS\r\n"),
        Step::Expect("STARTTLS"),
        send("454 4.7.0 TLS not available due to local problem\r\n"),
        Step::Expect("QUIT"),
        send("221 bye\r\n"),
        Step::Close,
    ]);
    let run = probe("AUTH before STARTTLS", &server, 1, QUICK);
    run.finding("PF904", &["`AUTH PLAIN LOGIN`", "before STARTTLS"]);
    run.finding("PF905", &["answers STARTTLS with 454"]);
}

/// The hostile replies of the banner cases, to EHLO after a good banner: the reader's
/// bounds, apart from how a broken greeting is classified.
#[test]
fn hostile_ehlo_replies_are_protocol_violations() {
    let many = "250-x\r\n".repeat(200);
    let cases: Vec<(&str, Vec<Step>, &str, Duration)> = vec![
        (
            "endless EHLO line",
            vec![send("250 "), Step::Endless(vec![b'a'; 64 * 1024])],
            "longer than 4096 bytes",
            QUICK,
        ),
        (
            "bare LF in EHLO",
            vec![send("250-mx\n250 STARTTLS\r\n"), Step::Close],
            "LF without CR",
            QUICK,
        ),
        (
            "200-line EHLO",
            vec![send(many), send("250 end\r\n"), Step::Close],
            "more than 128 lines",
            QUICK,
        ),
        (
            "dripped EHLO",
            vec![Step::Drip(b"250 mx.example.test\r\n".to_vec(), DRIP)],
            "no complete reply within 2 s",
            SLOW,
        ),
    ];
    for (case, rest, says, bound) in cases {
        let mut script = vec![send(BANNER), Step::Expect("EHLO pflint.invalid")];
        script.extend(rest);
        let server = Server::start(script);
        let run = probe(case, &server, 1, bound);
        run.finding("PF902", &["broke the SMTP session", says]);
    }
}

/// A partial TLS record (a handshake record header announcing 16 KiB) dripped a byte at a
/// time: the handshake has to end at the reply limit, however the bytes trickle.
#[test]
fn a_handshake_dripped_a_byte_at_a_time_times_out() {
    let mut record = vec![0x16, 0x03, 0x03, 0x40, 0x00];
    record.resize(5 + 0x4000, 0);
    let server = Server::start(after_starttls([
        send("220 go ahead\r\n"),
        Step::Swallow,
        Step::Drip(record, DRIP),
    ]));
    let run = probe("dripped handshake", &server, 1, SLOW);
    run.finding("PF905", &["did not finish within 2 s"]);
    // One timeout, not one per algorithm: the next handshake would wait as long.
    let starttls = server.heard().iter().filter(|l| *l == "STARTTLS").count();
    assert_eq!(
        starttls, 1,
        "no handshake after the one that timed out\n{run}"
    );
}

/// After a good handshake, a partial TLS application-data record dripped a byte at a
/// time: the reply read inside TLS has to end at the reply limit too. (The ECDSA-only
/// server fails the RSA connection; on the ECDSA one pflint says EHLO, and the drip is
/// its reply.)
#[test]
fn a_reply_inside_tls_dripped_a_byte_at_a_time_does_not_hang() {
    let mut record = vec![0x17, 0x03, 0x03, 0x40, 0x00];
    record.resize(5 + 0x4000, 0);
    let server = Server::start(after_starttls([
        send("220 go ahead\r\n"),
        Step::Tls,
        Step::Expect(""),
        Step::Drip(record, DRIP),
    ]));
    let target = server.addr.to_string();
    let run = pflint(&["probe", &target, "--format", "json", "--timeout", TIMEOUT]);
    run.check_bounds("dripped TLS reply", SLOW);
    run.finding(
        "PF902",
        &["broke the SMTP session", "no complete reply within 2 s"],
    );
}

/// A server that takes one connection and then refuses the next (a connection rate limit,
/// a server going down): what the first session showed is still reported.
#[test]
fn a_refused_second_connection_keeps_the_first_sessions_finding() {
    let server = Server::accepting(
        after_starttls([
            send("220 go ahead\r\n"),
            Step::Swallow,
            send("HELLO THIS IS NOT TLS\r\n"),
            Step::Close,
        ]),
        1,
    );
    let run = probe("one connection only", &server, 1, QUICK);
    run.finding("PF905", &["no TLS handshake with"]);
    run.finding("PF901", &["connection 2", "not tried"]);
}

/// The fake server's good path, so that the hostile cases are not judged against a
/// server pflint would flag anyway: STARTTLS, a handshake for ECDSA, EHLO inside TLS
/// (RFC 3207 section 4.2), QUIT. Its only key is ECDSA, so the RSA connection (the
/// first) fails its handshake and the EHLO inside TLS comes on the second.
#[test]
fn a_well_behaved_server_has_no_findings() {
    let server = Server::start(after_starttls([
        send("220 go ahead\r\n"),
        Step::Tls,
        Step::Expect("EHLO pflint.invalid"),
        send("250-mx.example.test\r\n250 PIPELINING\r\n"),
        Step::Expect("QUIT"),
        send("221 bye\r\n"),
        Step::Close,
    ]));
    let run = probe("well-behaved", &server, 0, QUICK);
    assert_eq!(run.codes(), Vec::<String>::new(), "{run}");
    let plain = ["EHLO pflint.invalid", "STARTTLS"];
    let expected: Vec<&str> =
        [&plain[..], &plain, &["EHLO pflint.invalid", "QUIT"], &plain].concat();
    assert_eq!(
        server.heard(),
        expected,
        "RSA fails, ECDSA gets EHLO inside TLS and QUIT, Ed25519 fails\n{run}"
    );
}
