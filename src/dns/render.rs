//! `pflint dns` output: zone-file text (everything that is not a record is a `;`
//! comment, so the whole text can go into a zone) and JSON.

use std::fmt::Write;

use serde_json::{Value, json};

use super::mta_sts;
use super::records::{Key, Records, TlsaRecord, tls_rpt_name, wait};

/// What `pflint dns` says before its TLSA records, always: they are nothing without
/// DNSSEC.
pub const DNSSEC: &str = "TLSA records count only in a DNSSEC-signed zone: senders that do DANE (RFC 7672) ignore them otherwise, and an unsigned zone gives no protection at all";

/// The zone-file text.
pub fn zone(records: &Records, ttl: u32) -> String {
    let mut out = String::new();
    if let Some(verdicts) = &records.verdicts {
        let _ = writeln!(
            out,
            "; published TLSA records checked against the keys smtpd uses"
        );
        for verdict in verdicts {
            let state = if verdict.matched.is_empty() {
                "MISSING".to_owned()
            } else {
                let lines: Vec<String> = verdict.matched.iter().map(u32::to_string).collect();
                format!("ok (line {})", lines.join(", "))
            };
            let _ = writeln!(
                out,
                "; {state}: {} for the {}",
                verdict.name,
                role_and(&verdict.key)
            );
            if verdict.matched.is_empty() {
                let _ = writeln!(out, "{}", verdict.wanted.line());
            }
        }
        for (line, why) in &records.stale {
            let _ = writeln!(out, "; line {line}: {why}");
        }
        notes(&mut out, records);
        return out;
    }
    if !records.tlsa.is_empty() {
        let _ = writeln!(out, "; {DNSSEC}.");
        let _ = writeln!(
            out,
            "; One 3 1 1 record per key smtpd uses: the SHA-256 of its public key, which stays the same when a certificate is renewed with the same key."
        );
        for record in &records.tlsa {
            let _ = writeln!(out, "{} ; {}", record.line(), role_and(&record.key));
        }
    }
    if records.rollover && !records.tlsa.is_empty() {
        let _ = writeln!(out, ";");
        let _ = writeln!(out, "; Rollover to the next key:");
        let _ = writeln!(
            out,
            ";   1. publish the current and the next records above, side by side;"
        );
        let _ = writeln!(
            out,
            ";   2. wait at least twice the TTL, {}, after every name server serves them (caches may keep the old set that long);",
            wait(ttl)
        );
        let _ = writeln!(
            out,
            ";   3. deploy the next key and its certificate, then `postfix reload`;"
        );
        let _ = writeln!(
            out,
            ";   4. remove the current key's record, now that no server uses that key."
        );
    }
    for sts in &records.mta_sts {
        gap(&mut out);
        let _ = writeln!(
            out,
            "; MTA-STS for {} (RFC 8461): serve the policy below as {} over HTTPS, with a certificate for mta-sts.{} from a public CA:",
            sts.domain,
            mta_sts::url(&sts.domain),
            sts.domain.trim_end_matches('.')
        );
        for line in sts.policy.text().lines() {
            let _ = writeln!(out, ";   {line}");
        }
        for failure in &sts.failures {
            let verb = if sts.refused {
                "refused"
            } else {
                "would fail enforce"
            };
            let _ = writeln!(out, "; {verb}: {failure}");
        }
        let _ = writeln!(
            out,
            "{} {ttl} IN TXT \"{}\"",
            mta_sts::record_name(&sts.domain),
            sts.policy.record()
        );
    }
    for (domain, data) in &records.tls_rpt {
        gap(&mut out);
        let _ = writeln!(
            out,
            "; TLS-RPT for {domain} (RFC 8460): where senders send their daily TLS reports"
        );
        let _ = writeln!(out, "{} {ttl} IN TXT \"{data}\"", tls_rpt_name(domain));
    }
    if records.tls_rpt.is_empty() && !records.mta_sts.is_empty() {
        gap(&mut out);
        let _ = writeln!(
            out,
            "; TLS-RPT: give --rua mailto:ADDRESS to get the _smtp._tls record that makes senders report TLS failures"
        );
    }
    notes(&mut out, records);
    out
}

/// A blank line between sections, none before the first.
fn gap(out: &mut String) {
    if !out.is_empty() {
        out.push('\n');
    }
}

fn notes(out: &mut String, records: &Records) {
    for note in &records.notes {
        let _ = writeln!(out, "; note: {note}");
    }
}

/// `current RSA 2048-bit key in FILE line N`.
fn role_and(key: &Key) -> String {
    let role = match key.role {
        super::KeyRole::Current => "current",
        super::KeyRole::Next => "next",
        super::KeyRole::Issuer => "issuing",
    };
    format!("{role} {}", key.describe())
}

fn record_json(record: &TlsaRecord) -> Value {
    json!({
        "name": record.name,
        "ttl": record.ttl,
        "usage": record.tlsa.usage,
        "selector": record.tlsa.selector,
        "matching": record.tlsa.matching,
        "data": crate::tlsa::hex(&record.tlsa.data),
        "line": record.line(),
        "key": record.key,
    })
}

/// The JSON document.
pub fn json(records: &Records, ttl: u32) -> Value {
    json!({
        "dnssec": DNSSEC,
        "tlsa": records.tlsa.iter().map(record_json).collect::<Vec<_>>(),
        "rollover": records.rollover.then(|| json!({
            "wait_seconds": u64::from(ttl) * 2,
            "steps": [
                "publish the current and the next records side by side",
                format!("wait at least twice the TTL ({}) after every name server serves them", wait(ttl)),
                "deploy the next key and its certificate, then postfix reload",
                "remove the current key's record",
            ],
        })),
        "check": records.verdicts.as_ref().map(|verdicts| json!({
            "keys": verdicts.iter().map(|v| json!({
                "name": v.name,
                "key": v.key,
                "published": !v.matched.is_empty(),
                "lines": v.matched,
                "wanted": record_json(&v.wanted),
            })).collect::<Vec<_>>(),
            "stale": records.stale.iter().map(|(line, why)| json!({"line": line, "why": why})).collect::<Vec<_>>(),
        })),
        "mta_sts": records.mta_sts.iter().map(|s| json!({
            "domain": s.domain,
            "name": mta_sts::record_name(&s.domain),
            "txt": s.policy.record(),
            "url": mta_sts::url(&s.domain),
            "policy": s.policy.text(),
            "mode": s.policy.mode,
            "refused": s.refused,
            "failures": s.failures,
        })).collect::<Vec<_>>(),
        "tls_rpt": records.tls_rpt.iter().map(|(domain, data)| json!({
            "domain": domain,
            "name": tls_rpt_name(domain),
            "txt": data,
        })).collect::<Vec<_>>(),
        "notes": records.notes,
        "errors": records.errors,
    })
}
