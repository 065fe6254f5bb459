//! `pflint probe`: what a running server really does on each SMTP port — banner, EHLO
//! before and after TLS, STARTTLS or implicit TLS, one handshake per key algorithm with the
//! chain exactly as sent — logged in a transcript that findings point into, and judged
//! against the configuration's files ([`judge`]). Only the targets asked for are reached;
//! every read is bounded ([`smtp::Limits`]).

pub mod judge;
pub mod smtp;
pub mod socket;
pub mod targets;
pub mod tls;
pub mod transcript;

use std::net::{TcpStream, ToSocketAddrs};
use std::time::Instant;

use smtp::{Broken, Limits, Reply, Session};
use socket::Bounded;
use tls::{Algorithm, Negotiated};
use transcript::Transcript;

use crate::source::Span;

/// The name pflint gives in EHLO: `.invalid` is reserved (RFC 6761) and says no one real.
pub const EHLO_NAME: &str = "pflint.invalid";

/// One port to probe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// Host name or IP address to connect to.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// TLS from the first byte (port 465, `smtpd_tls_wrappermode = yes`), not STARTTLS.
    pub implicit_tls: bool,
    /// The name sent as SNI and checked against the certificate.
    pub server_name: String,
    /// The master.cf service behind it (index in the configuration), when known.
    pub service: Option<usize>,
}

impl Target {
    /// `HOST:PORT`, with brackets around an IPv6 address.
    pub fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// One TLS handshake of a probe.
#[derive(Clone, Debug)]
pub struct Handshake {
    /// The signature algorithm offered (the only one).
    pub algorithm: Algorithm,
    /// What it established, or why it failed.
    pub outcome: Result<Negotiated, tls::Failed>,
    /// The transcript line of the outcome.
    pub span: Span,
    /// The transcript line of each certificate sent, leaf first.
    pub certificates: Vec<Span>,
}

/// Everything one probe of a target saw.
#[derive(Clone, Debug, Default)]
pub struct Probe {
    /// What was said, in order.
    pub transcript: Transcript,
    /// The greeting (of the first connection that had one).
    pub banner: Option<Reply>,
    /// Bytes of a greeting that broke before it was complete: none is silence or a close
    /// (no session), some are a server speaking broken SMTP.
    pub greeting_bytes: usize,
    /// EHLO in plain text (STARTTLS ports).
    pub ehlo_plain: Option<Reply>,
    /// The reply to STARTTLS.
    pub starttls: Option<Reply>,
    /// Bytes the server sent after STARTTLS's reply, before the handshake.
    pub injected: Option<Span>,
    /// EHLO inside TLS (after the first handshake that succeeded).
    pub ehlo_tls: Option<Reply>,
    /// One handshake per algorithm tried.
    pub handshakes: Vec<Handshake>,
    /// Why the session stopped early, and where.
    pub broken: Option<(Span, Broken)>,
    /// How many TCP connections were made.
    pub connections: usize,
    /// The connection could not be made (the first, or the one after [`Probe::connections`]).
    pub unreachable: Option<(Span, String)>,
}

/// Probes `target` once per algorithm in `algorithms` (the first handshake that succeeds
/// is followed by EHLO inside TLS).
pub fn probe(target: &Target, algorithms: &[Algorithm], limits: &Limits) -> Probe {
    let mut probe = Probe::default();
    for (n, &algorithm) in algorithms.iter().enumerate() {
        if n > 0 {
            probe.transcript.push(
                "--",
                &format!("connection {}, offering {algorithm} signatures only", n + 1),
            );
        }
        if !connection(&mut probe, target, algorithm, limits) {
            break;
        }
    }
    probe
}

/// One connection; false when the next would fail the same way. The banner and EHLO
/// are kept from the first connection that gets them: on a STARTTLS port that is the
/// first, but EHLO inside TLS (and everything on an implicit-TLS port) comes only with a
/// handshake that succeeds, which need not be the first (an ECDSA-only server fails the
/// RSA one).
fn connection(probe: &mut Probe, target: &Target, algorithm: Algorithm, limits: &Limits) -> bool {
    let tcp = match connect(target, limits) {
        Ok(tcp) => {
            probe.connections += 1;
            probe
                .transcript
                .push("--", &format!("connected to {}", target.address()));
            Bounded::new(tcp, Instant::now() + limits.reply)
        }
        Err(why) => {
            let span = probe.transcript.push("--", &why);
            probe.unreachable = Some((span, why));
            return false;
        }
    };
    if target.implicit_tls {
        return match start_tls(probe, tcp, target, algorithm, limits) {
            Ok(stream) => smtp_session(probe, Session::new(stream, *limits), true),
            Err(go_on) => go_on,
        };
    }
    let mut session = Session::new(tcp, *limits);
    if !greeting(probe, &mut session) {
        return false;
    }
    let ehlo = match session.command(&mut probe.transcript, &format!("EHLO {EHLO_NAME}")) {
        Ok(ehlo) => ehlo,
        Err(broken) => return stop(probe, broken),
    };
    let offered = ehlo.code == 250 && ehlo.offer("STARTTLS").is_some();
    if probe.ehlo_plain.is_none() {
        probe.ehlo_plain = Some(ehlo);
    }
    if !offered {
        let _ = session.command(&mut probe.transcript, "QUIT");
        return false;
    }
    let reply = match session.command(&mut probe.transcript, "STARTTLS") {
        Ok(reply) => reply,
        Err(broken) => return stop(probe, broken),
    };
    let ready = reply.code == 220;
    probe.starttls = Some(reply);
    if !ready {
        let _ = session.command(&mut probe.transcript, "QUIT");
        return false;
    }
    let (tcp, unread) = session.into_parts();
    if !unread.is_empty() {
        let span = probe.transcript.push(
            "--",
            &format!(
                "{} bytes arrived after the STARTTLS reply, before the handshake: `{}`",
                unread.len(),
                String::from_utf8_lossy(&unread[..unread.len().min(60)])
            ),
        );
        probe.injected = Some(span);
        return false;
    }
    match start_tls(probe, tcp, target, algorithm, limits) {
        Ok(stream) => smtp_session(probe, Session::new(stream, *limits), false),
        Err(go_on) => go_on,
    }
}

/// Reads the greeting and keeps the first; false (after QUIT to a refusal) when the
/// session cannot go on.
fn greeting<S: smtp::Timed>(probe: &mut Probe, session: &mut Session<S>) -> bool {
    let banner = match session.reply(&mut probe.transcript) {
        Ok(banner) => banner,
        Err(broken) => {
            if probe.banner.is_none() {
                probe.greeting_bytes = session.received();
            }
            return stop(probe, broken);
        }
    };
    let refused = banner.code != 220;
    if probe.banner.is_none() {
        probe.banner = Some(banner);
    }
    if refused {
        let _ = session.command(&mut probe.transcript, "QUIT");
        return false;
    }
    true
}

/// The SMTP session inside TLS: the greeting first on an implicit-TLS port, then EHLO
/// once per probe, then QUIT.
fn smtp_session(probe: &mut Probe, mut session: Session<tls::Stream>, greets: bool) -> bool {
    if greets && !greeting(probe, &mut session) {
        return false;
    }
    if probe.ehlo_tls.is_none() {
        match session.command(&mut probe.transcript, &format!("EHLO {EHLO_NAME}")) {
            Ok(ehlo) => probe.ehlo_tls = Some(ehlo),
            Err(broken) => return stop(probe, broken),
        }
    }
    // What the session had to show is in; how the server answers QUIT is not judged.
    let _ = session.command(&mut probe.transcript, "QUIT");
    true
}

fn stop(probe: &mut Probe, broken: Broken) -> bool {
    let span = probe.transcript.push("--", &format!("stopped: {broken}"));
    if probe.broken.is_none() {
        probe.broken = Some((span, broken));
    }
    false
}

/// The handshake, logged; the TLS stream when it succeeded, else whether to go on with
/// the next algorithm (not after a timeout: each handshake would wait as long).
fn start_tls(
    probe: &mut Probe,
    tcp: Bounded,
    target: &Target,
    algorithm: Algorithm,
    limits: &Limits,
) -> Result<tls::Stream, bool> {
    match tls::handshake(tcp, algorithm, &target.server_name, limits) {
        Ok((stream, negotiated)) => {
            let span = probe.transcript.push(
                "TLS",
                &format!(
                    "{}, {}{}, offering {algorithm} signatures only",
                    negotiated.version,
                    negotiated.cipher,
                    negotiated
                        .group
                        .as_deref()
                        .map(|g| format!(", {g}"))
                        .unwrap_or_default()
                ),
            );
            let certificates = negotiated
                .chain
                .iter()
                .enumerate()
                .map(|(i, der)| {
                    probe
                        .transcript
                        .push("TLS", &format!("certificate {}: {}", i + 1, describe(der)))
                })
                .collect();
            probe.handshakes.push(Handshake {
                algorithm,
                outcome: Ok(negotiated),
                span,
                certificates,
            });
            Ok(stream)
        }
        Err(failed) => {
            let span = probe.transcript.push(
                "TLS",
                &format!("handshake offering {algorithm} signatures failed: {failed}"),
            );
            let go_on = !failed.timed_out;
            if !go_on {
                probe.transcript.push(
                    "--",
                    "no handshake offering another algorithm: it would wait as long",
                );
            }
            probe.handshakes.push(Handshake {
                algorithm,
                outcome: Err(failed),
                span,
                certificates: Vec::new(),
            });
            Err(go_on)
        }
    }
}

/// A certificate in one line: subject, issuer, expiry, key.
fn describe(der: &[u8]) -> String {
    match crate::material::cert::Certificate::parse(der) {
        Ok(c) => format!(
            "{} (issuer {}, not after {}, {} key)",
            c.subject,
            c.issuer,
            crate::material::cert::date(c.not_after),
            c.key.describe()
        ),
        Err(why) => format!("{} bytes, {why}", der.len()),
    }
}

/// A TCP connection to the target, within the connect limit.
fn connect(target: &Target, limits: &Limits) -> Result<TcpStream, String> {
    let address = target.address();
    let addresses: Vec<_> = (target.host.as_str(), target.port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {}: {e}", target.host))?
        .collect();
    let mut last = format!("{address} has no address");
    for socket in addresses {
        match TcpStream::connect_timeout(&socket, limits.connect) {
            Ok(tcp) => return Ok(tcp),
            Err(e) => last = format!("cannot connect to {socket}: {e}"),
        }
    }
    Err(last)
}
