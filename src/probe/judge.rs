//! A probe's findings: what the server did wrong on its own (no session, broken SMTP, no
//! STARTTLS, AUTH in the clear, no handshake, a bad certificate) and where what it serves
//! differs from what the configuration's files hold (an older certificate that smtpd
//! never reloaded, another chain, an algorithm not served, a key without TLSA record).

use super::smtp::Broken;
use super::tls::Algorithm;
use super::{Probe, Target};
use crate::diagnostic::{Code, Finding};
use crate::material::Tls;
use crate::material::cert::{Certificate, date};
use crate::material::load::Chain;
use crate::model::config::Scope;
use crate::model::typed::TlsSide;
use crate::source::Span;
use crate::tlsa::zone::Published;
use crate::tlsa::{self, Evidence};

/// What a probe is judged against.
pub struct Against<'a> {
    /// The configuration's TLS facts, when a configuration was read.
    pub tls: Option<&'a Tls>,
    /// Published TLSA records (`--tlsa`, or `.pflint.yaml`).
    pub tlsa: Option<&'a [Published]>,
    /// Seconds since the epoch.
    pub now: i64,
}

/// The chains the target's smtpd loads for its server name, when the configuration is
/// known and its TLS engine starts.
fn configured<'t>(against: &Against<'t>, target: &Target) -> Option<(&'t Tls, Vec<&'t Chain>)> {
    let tls = against.tls?;
    let engine = tls.engine(Scope::Service(target.service?), TlsSide::Server)?;
    let (load, _) = engine.material.load_for(&target.server_name);
    Some((tls, load.chains.iter().collect()))
}

/// The algorithm of a key, as the probe offers it.
fn algorithm_of(cert: &Certificate) -> Option<Algorithm> {
    match cert.key.slot() {
        "RSA" => Some(Algorithm::Rsa),
        "ECDSA" => Some(Algorithm::Ecdsa),
        "Ed25519" => Some(Algorithm::Ed25519),
        _ => None,
    }
}

/// The algorithms to offer, one connection each: those of the chains the configuration
/// loads for the target, or all when that is not known.
pub fn algorithms(against: &Against<'_>, target: &Target) -> Vec<Algorithm> {
    let mut out: Vec<Algorithm> = configured(against, target)
        .map(|(tls, chains)| {
            chains
                .iter()
                .filter_map(|c| tls.certificate(&c.leaf))
                .filter_map(algorithm_of)
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out.dedup();
    if out.is_empty() {
        out = Algorithm::ALL.to_vec();
    }
    out
}

/// Whether the configuration turns TLS on for the target's service (unknown: assume so).
fn tls_expected(against: &Against<'_>, target: &Target) -> bool {
    match (against.tls, target.service) {
        (Some(tls), Some(service)) => tls
            .engine(Scope::Service(service), TlsSide::Server)
            .is_some(),
        _ => true,
    }
}

fn finding(code: Code, span: Span, message: String, label: &'static str) -> Finding {
    Finding::new(code, span, message, label)
}

/// The findings of one probe.
pub fn judge(probe: &Probe, target: &Target, against: &Against<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let address = target.address();
    if let Some((span, why)) = &probe.unreachable {
        if probe.connections == 0 {
            out.push(finding(
                Code::PF901,
                *span,
                format!("no SMTP session with {address}: {why}"),
                "no connection",
            ));
            return out;
        }
        // What the connections before saw stands; only what this one would have shown
        // (the handshakes of the algorithms left) is missing.
        out.push(finding(
            Code::PF901,
            *span,
            format!(
                "connection {} to {address} failed: {why}; the findings here come from the {} before it, and the key algorithms left were not tried",
                probe.connections + 1,
                probe.connections
            ),
            "no connection",
        ));
    }
    match (&probe.banner, &probe.broken) {
        (Some(banner), broken) => {
            if banner.code != 220 {
                out.push(finding(
                    Code::PF901,
                    banner.span,
                    format!(
                        "{address} greets with {} instead of 220: it refuses SMTP sessions",
                        banner.code
                    ),
                    "not 220",
                ));
            }
            if let Some((span, broken)) = broken {
                out.push(finding(
                    Code::PF902,
                    *span,
                    format!("{address} broke the SMTP session: {broken}"),
                    "session broken here",
                ));
            }
        }
        // Nothing but the handshakes of an implicit-TLS port can come before a greeting;
        // those are judged below all the same.
        (None, Some((span, broken))) => out.push(greeting_broken(probe, *span, broken, &address)),
        (None, None) => {}
    }
    if let Some(span) = probe.injected {
        out.push(finding(
            Code::PF902,
            span,
            format!(
                "{address} sent bytes after its STARTTLS reply, before the TLS handshake: a client would read them as TLS (a broken server, or a man in the middle injecting commands)"
            ),
            "bytes before the handshake",
        ));
    }
    if let Some(ehlo) = &probe.ehlo_plain {
        if let Some((line, span)) = ehlo.offered("AUTH") {
            out.push(finding(
                Code::PF904,
                span,
                format!(
                    "{address} offers `{line}` before STARTTLS: clients may send passwords in the clear"
                ),
                "AUTH before TLS",
            ));
        }
        if ehlo.code == 250 && ehlo.offer("STARTTLS").is_none() && tls_expected(against, target) {
            let why = if against.tls.is_some() {
                "though the configuration turns TLS on for this service: smtpd could not load its keys, or the running server is not this configuration"
            } else {
                "mail to and from it goes in the clear"
            };
            out.push(finding(
                Code::PF903,
                ehlo.span,
                format!("{address} does not offer STARTTLS, {why}"),
                "no STARTTLS",
            ));
        }
    }
    if let Some(reply) = &probe.starttls
        && reply.code != 220
    {
        out.push(finding(
            Code::PF905,
            reply.span,
            format!(
                "{address} answers STARTTLS with {}: no TLS (smtpd says so when it cannot load its keys)",
                reply.code
            ),
            "STARTTLS refused",
        ));
    }
    let served: Vec<_> = probe
        .handshakes
        .iter()
        .filter_map(|h| h.outcome.as_ref().ok().map(|n| (h, n)))
        .collect();
    if served.is_empty()
        && let Some(first) = probe.handshakes.first()
        && let Err(failed) = &first.outcome
    {
        out.push(finding(
            Code::PF905,
            first.span,
            format!("no TLS handshake with {address} succeeded: {failed}"),
            "handshake failed",
        ));
    }
    let configured = configured(against, target);
    for (handshake, negotiated) in &served {
        let Some(der) = negotiated.chain.first() else {
            continue;
        };
        let leaf_span = handshake
            .certificates
            .first()
            .copied()
            .unwrap_or(handshake.span);
        let Ok(leaf) = Certificate::parse(der) else {
            out.push(finding(
                Code::PF908,
                leaf_span,
                format!("{address} serves a certificate that is not valid X.509"),
                "unreadable certificate",
            ));
            continue;
        };
        if leaf.not_after < against.now {
            out.push(finding(
                Code::PF908,
                leaf_span,
                format!(
                    "{address} serves a certificate that expired on {}",
                    date(leaf.not_after)
                ),
                "expired",
            ));
        }
        let name = &target.server_name;
        if name.parse::<std::net::IpAddr>().is_err() && !leaf.covers(name) {
            out.push(finding(
                Code::PF908,
                leaf_span,
                format!(
                    "{address} serves a certificate that does not cover {name}: {}",
                    leaf.why_not_covering(name)
                ),
                "wrong name",
            ));
        }
        if let Some((tls, chains)) = &configured {
            compare(
                &mut out, tls, chains, handshake, negotiated, &leaf, leaf_span, &address,
            );
        }
        tlsa_check(
            &mut out, against, target, negotiated, &leaf, leaf_span, &address,
        );
    }
    if let Some((tls, chains)) = &configured {
        for chain in chains {
            let Some(cert) = tls.certificate(&chain.leaf) else {
                continue;
            };
            let Some(algorithm) = algorithm_of(cert) else {
                continue;
            };
            let Some(handshake) = probe.handshakes.iter().find(|h| h.algorithm == algorithm) else {
                continue;
            };
            let got = match &handshake.outcome {
                Err(failed) => Some(format!("the handshake fails ({failed})")),
                Ok(n) => match n.chain.first().map(|d| Certificate::parse(d)) {
                    Some(Ok(c)) if algorithm_of(&c) == Some(algorithm) => None,
                    Some(Ok(c)) => Some(format!("it gets the {} certificate", c.key.describe())),
                    _ => Some("it gets no certificate it can read".to_owned()),
                },
            };
            if let (Some(got), false) = (got, served.is_empty()) {
                out.push(finding(
                    Code::PF909,
                    handshake.span,
                    format!(
                        "the configuration loads an {} chain ({} line {}), but a client offering only {algorithm} signatures to {address}: {got}",
                        cert.key.describe(),
                        chain.leaf.named,
                        chain.leaf.line
                    ),
                    "algorithm not served",
                ));
            }
        }
    }
    out.sort_by_key(|f| (f.span.start, f.code));
    out
}

/// A greeting that never came whole: no session (PF901) when not one byte of it came (a
/// close, or silence), broken SMTP (PF902) when the server sent something that is not one.
fn greeting_broken(probe: &Probe, span: Span, broken: &Broken, address: &str) -> Finding {
    if probe.greeting_bytes == 0 {
        finding(
            Code::PF901,
            span,
            format!("no SMTP greeting from {address}: {broken}"),
            "no greeting",
        )
    } else {
        finding(
            Code::PF902,
            span,
            format!(
                "{address} sent a broken greeting ({} bytes): {broken}",
                probe.greeting_bytes
            ),
            "broken greeting",
        )
    }
}

/// Two instants as `YYYY-MM-DD`, with the time of day (UTC) when that is the same for
/// both, to the second when the minute is too: a certificate renewed the day it was
/// issued would otherwise read as "older than" one of the same date.
fn dates(a: i64, b: i64) -> (String, String) {
    let at = |seconds: i64, precise: bool| {
        let time = seconds.rem_euclid(86_400);
        let (hours, minutes) = (time / 3600, time / 60 % 60);
        if precise {
            format!(
                "{} {hours:02}:{minutes:02}:{:02} UTC",
                date(seconds),
                time % 60
            )
        } else {
            format!("{} {hours:02}:{minutes:02} UTC", date(seconds))
        }
    };
    if date(a) != date(b) {
        (date(a), date(b))
    } else if a.div_euclid(60) != b.div_euclid(60) {
        (at(a, false), at(b, false))
    } else {
        (at(a, true), at(b, true))
    }
}

/// Served chain against the configured chains of the same algorithm.
#[allow(clippy::too_many_arguments)]
fn compare(
    out: &mut Vec<Finding>,
    tls: &Tls,
    chains: &[&Chain],
    handshake: &super::Handshake,
    negotiated: &super::tls::Negotiated,
    leaf: &Certificate,
    leaf_span: Span,
    address: &str,
) {
    let same_kind: Vec<(&Chain, &Certificate)> = chains
        .iter()
        .filter_map(|c| tls.certificate(&c.leaf).map(|cert| (*c, cert)))
        .filter(|(_, cert)| cert.key.slot() == leaf.key.slot())
        .collect();
    let Some((chain, file_leaf)) = same_kind
        .iter()
        .find(|(_, cert)| cert.der == leaf.der)
        .or(same_kind.first())
        .copied()
    else {
        return;
    };
    let place = format!("{} line {}", chain.leaf.named, chain.leaf.line);
    if file_leaf.der != leaf.der {
        let message = if leaf.not_before < file_leaf.not_before {
            let (served, held) = dates(leaf.not_before, file_leaf.not_before);
            format!(
                "{address} serves an older {} certificate (valid from {}) than {place} holds (from {}): smtpd still runs with the files it loaded before they were replaced; run `postfix reload`",
                leaf.key.describe(),
                served,
                held
            )
        } else {
            format!(
                "{address} serves an {} certificate ({}, valid from {}) that is not the one in {place} ({}): the server runs another configuration, or the files changed since it started; run `postfix reload`",
                leaf.key.describe(),
                leaf.subject,
                date(leaf.not_before),
                file_leaf.subject
            )
        };
        out.push(finding(
            Code::PF906,
            leaf_span,
            message,
            "not the configured certificate",
        ));
        return;
    }
    let file_issuers: Vec<&[u8]> = chain
        .issuers
        .iter()
        .filter_map(|at| tls.certificate(at))
        .map(|c| c.der.as_slice())
        .collect();
    let sent: Vec<&[u8]> = negotiated.chain.iter().skip(1).map(Vec::as_slice).collect();
    if sent != file_issuers {
        let span = handshake.certificates.get(1).copied().unwrap_or(leaf_span);
        out.push(finding(
            Code::PF907,
            span,
            format!(
                "{address} sends {} certificate(s) after the leaf, {place} holds {} others: the running smtpd loaded another chain file; run `postfix reload`",
                sent.len(),
                file_issuers.len()
            ),
            "not the configured chain",
        ));
    }
}

/// The served key against published TLSA records at the target's name.
fn tlsa_check(
    out: &mut Vec<Finding>,
    against: &Against<'_>,
    target: &Target,
    negotiated: &super::tls::Negotiated,
    leaf: &Certificate,
    leaf_span: Span,
    address: &str,
) {
    let Some(published) = against.tlsa else {
        return;
    };
    let owner = tlsa::owner(target.port, &target.server_name);
    let here: Vec<&Published> = published.iter().filter(|p| p.is_at(&owner)).collect();
    if here.is_empty() {
        return;
    }
    let issuer = negotiated
        .chain
        .get(1)
        .and_then(|d| Certificate::parse(d).ok());
    let evidence = Evidence {
        certificate: Some(&leaf.der),
        spki: &leaf.spki,
    };
    let issuer_evidence = issuer.as_ref().map(|c| Evidence {
        certificate: Some(&c.der),
        spki: &c.spki,
    });
    if !here
        .iter()
        .any(|p| p.tlsa.covers(&evidence, issuer_evidence.as_ref()))
    {
        out.push(finding(
            Code::PF910,
            leaf_span,
            format!(
                "no published TLSA record at {owner} matches the {} key {address} serves: senders doing DANE defer mail to it; publish `{owner} IN TLSA {}`",
                leaf.key.describe(),
                tlsa::Tlsa::of_public_key(tlsa::DANE_EE, &leaf.spki).rdata()
            ),
            "no TLSA record for this key",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::dates;

    #[test]
    fn dates_show_the_time_when_the_day_is_the_same() {
        // 2026-12-03 14:05:00 UTC, and 10 minutes, 30 seconds and a day later.
        let t = 1_796_306_700;
        assert_eq!(
            dates(t, t + 86_400),
            ("2026-12-03".to_owned(), "2026-12-04".to_owned())
        );
        assert_eq!(
            dates(t, t + 600),
            (
                "2026-12-03 14:05 UTC".to_owned(),
                "2026-12-03 14:15 UTC".to_owned()
            )
        );
        assert_eq!(
            dates(t, t + 30),
            (
                "2026-12-03 14:05:00 UTC".to_owned(),
                "2026-12-03 14:05:30 UTC".to_owned()
            )
        );
    }
}
