//! Protocol and cipher checks: protocol lists read as Postfix's `tls_proto_mask_lims()`
//! reads them, so that `!SSLv2, !SSLv3`, `>=TLSv1.2` and inclusion lists all mean what
//! they mean to Postfix.

use super::{Hit, at, written};
use crate::model::TlsLevel;
use crate::model::TlsSide;
use crate::model::Version;
use crate::model::subject::Subject;
use crate::model::tls::{Protocols, VERSIONS};
use crate::rules::condition::Context;

fn protocols(cx: &Context<'_, '_>, name: &str) -> Option<Protocols> {
    let text = cx.config.text(cx.scope, name).ok()?;
    Some(Protocols::parse(&String::from_utf8_lossy(&text)))
}

fn floor_hit(cx: &Context<'_, '_>, name: &str, channel: &str) -> Vec<Hit> {
    match protocols(cx, name) {
        Some(p) if !p.allows("TLSv1.2") => vec![Hit {
            cause: Some(name.to_owned()),
            message: format!(
                "opportunistic TLS {channel} refuses TLS 1.2, so peers without TLS 1.3 fall back to plaintext"
            ),
            label: format!("{name} = {}", crate::rules::engine::shown_value(cx, name)),
            ..Hit::default()
        }],
        _ => Vec::new(),
    }
}

/// PF401: the public MX, with opportunistic TLS, does not offer TLS 1.2.
pub fn opportunistic_server(cx: &Context<'_, '_>, _: &Subject) -> Vec<Hit> {
    match cx.config.tls_level(cx.scope, TlsSide::Server) {
        Ok(t) if t.level == TlsLevel::May => {
            floor_hit(cx, "smtpd_tls_protocols", "on the public MX")
        }
        _ => Vec::new(),
    }
}

/// PF402: delivery to MX hosts, with opportunistic TLS, does not offer TLS 1.2. `dane`
/// counts too: towards a destination without usable TLSA records `dane_init()` falls back
/// to `may` before the protocol list is chosen, so `smtp_tls_protocols` applies
/// (`smtp_tls_policy.c`).
pub fn opportunistic_client(cx: &Context<'_, '_>, _: &Subject) -> Vec<Hit> {
    match cx.config.tls_level(cx.scope, TlsSide::SmtpClient) {
        Ok(t) if matches!(t.level, TlsLevel::May | TlsLevel::Dane) => {
            floor_hit(cx, "smtp_tls_protocols", "to other domains' MX hosts")
        }
        _ => Vec::new(),
    }
}

fn is_protocol_list(name: &str) -> bool {
    name.ends_with("_tls_protocols") || name.ends_with("_tls_mandatory_protocols")
}

/// Why Postfix would reject a protocol list as a whole (`tls_proto_mask_lims()` returns
/// "invalid" on the first token it cannot read), if it would.
fn protocol_list_problem(value: &str, version: Version) -> Option<String> {
    let known = |name: &str| VERSIONS.iter().any(|v| v.eq_ignore_ascii_case(name));
    let hex = |name: &str| {
        let digits = name
            .strip_prefix("0x")
            .or_else(|| name.strip_prefix("0X"))
            .unwrap_or(name);
        !digits.is_empty() && digits.chars().all(|c| c.is_ascii_hexdigit())
    };
    let bounds_since = Version::new(3, 6);
    for token in value
        .split(|c: char| c == ',' || c == ':' || c.is_ascii_whitespace())
        .filter(|t| !t.is_empty())
    {
        if let Some(name) = token
            .strip_prefix(">=")
            .or_else(|| token.strip_prefix("<="))
        {
            if !version.at_least(bounds_since) {
                return Some(format!(
                    "`{token}`: bounds need Postfix {bounds_since} (target: {version})"
                ));
            }
            if !known(name) && !hex(name) {
                return Some(format!("`{token}` names no protocol version"));
            }
        } else if !known(token.strip_prefix('!').unwrap_or(token)) {
            return Some(format!("`{token}` names no protocol version"));
        }
    }
    None
}

/// PF410: a written protocol list that Postfix rejects as a whole.
pub fn invalid_protocol_list(cx: &Context<'_, '_>, _: &Subject) -> Vec<Hit> {
    written(cx, |name, _| is_protocol_list(name))
        .filter_map(|w| {
            let problem = protocol_list_problem(&w.value, cx.config.version)?;
            Some(at(
                &w,
                format!("Postfix cannot read `{}`: {problem}", w.name),
                "the whole list is invalid, and TLS with it".to_owned(),
            ))
        })
        .collect()
}

/// PF403: a written protocol list enables SSLv2 or SSLv3.
pub fn ssl_protocols(cx: &Context<'_, '_>, _: &Subject) -> Vec<Hit> {
    written(cx, |name, _| is_protocol_list(name))
        .filter_map(|w| {
            let enabled: Vec<&str> = ["SSLv2", "SSLv3"]
                .into_iter()
                .filter(|v| Protocols::parse(&w.value).allows(v))
                .collect();
            (!enabled.is_empty()).then(|| {
                at(
                    &w,
                    format!("`{}` enables {}", w.name, enabled.join(" and ")),
                    "exclude SSLv2 and SSLv3, or set a floor of >=TLSv1.2".to_owned(),
                )
            })
        })
        .collect()
}

/// The mandatory-protocols parameter of a subject whose TLS is mandatory, the protocols
/// below TLS 1.2 it accepts, and whether the configuration writes it (else it is
/// Postfix's default).
fn weak_mandatory_protocols(
    cx: &Context<'_, '_>,
    subject: &Subject,
) -> Option<(&'static str, Vec<&'static str>, bool)> {
    let (side, name) = if subject.relay.is_some() {
        (TlsSide::SmtpClient, "smtp_tls_mandatory_protocols")
    } else {
        (TlsSide::Server, "smtpd_tls_mandatory_protocols")
    };
    let mandatory = cx
        .config
        .tls_level(cx.scope, side)
        .is_ok_and(|t| t.level.is_mandatory());
    if !mandatory {
        return None;
    }
    let weak = protocols(cx, name)?.weak();
    if weak.is_empty() {
        return None;
    }
    let written = cx.config.setting_location(cx.scope, name).is_some();
    Some((name, weak, written))
}

/// PF303: TLS is mandatory, and the configuration writes a protocol floor below TLS 1.2.
pub fn weak_mandatory(cx: &Context<'_, '_>, subject: &Subject) -> Vec<Hit> {
    let Some((name, weak, true)) = weak_mandatory_protocols(cx, subject) else {
        return Vec::new();
    };
    vec![Hit {
        cause: Some(name.to_owned()),
        message: format!("mandatory TLS still accepts {}", weak.join(", ")),
        label: format!("{name} = {}", crate::rules::engine::shown_value(cx, name)),
        ..Hit::default()
    }]
}

/// PF306: TLS is mandatory, and Postfix's default protocol floor still admits TLS 1.0
/// and 1.1 (which OpenSSL 3 refuses at its default security level).
pub fn default_mandatory(cx: &Context<'_, '_>, subject: &Subject) -> Vec<Hit> {
    let Some((name, weak, false)) = weak_mandatory_protocols(cx, subject) else {
        return Vec::new();
    };
    vec![Hit {
        cause: Some(name.to_owned()),
        message: format!(
            "mandatory TLS accepts {} by Postfix's default ({name} = {}); OpenSSL 3 refuses them at its default security level, older OpenSSL does not",
            weak.join(", "),
            crate::rules::engine::shown_value(cx, name)
        ),
        label: "Postfix's default".to_owned(),
        ..Hit::default()
    }]
}

/// PF404: a cipher grade that gives weak or no encryption. From Postfix 3.8 `export` and
/// `low` are read as `medium` (`tls_cipher_grade_table` in `tls_misc.c`).
pub fn weak_cipher_grade(cx: &Context<'_, '_>, _: &Subject) -> Vec<Hit> {
    let weak_grades = !cx.config.version.at_least(Version::new(3, 8));
    written(cx, |name, _| {
        name.ends_with("_tls_ciphers") || name.ends_with("_tls_mandatory_ciphers")
    })
    .filter_map(|w| {
        let grade = w.value.trim().to_ascii_lowercase();
        let what = match grade.as_str() {
            "null" => "ciphers without encryption",
            "export" if weak_grades => "export-grade ciphers",
            "low" if weak_grades => "low-grade ciphers",
            _ => return None,
        };
        Some(at(
            &w,
            format!("`{} = {grade}` allows {what}", w.name),
            "use medium (the default), or high for mandatory TLS only".to_owned(),
        ))
    })
    .collect()
}

/// The `*_tls_loglevel` words (`tls_log_table` in `tls_misc.c`) that turn on more than the
/// per-session summary: levels 2 and up and their names, their parts, and `trace`.
const DEBUG_LOG_WORDS: [&str; 9] = [
    "debug",
    "ssl-expert",
    "ssl-developer",
    "verbose",
    "cache",
    "ssl-debug",
    "ssl-handshake-packet-dump",
    "ssl-session-packet-dump",
    "trace",
];

/// Whether a TLS log level (a list of numbers and names, any case) logs more than a
/// summary of each session.
fn logs_debug(value: &str) -> bool {
    value
        .split(|c: char| c == ',' || c.is_ascii_whitespace())
        .filter(|w| !w.is_empty())
        .any(|w| {
            DEBUG_LOG_WORDS.iter().any(|d| d.eq_ignore_ascii_case(w))
                || w.parse::<u32>().is_ok_and(|level| level >= 2)
        })
}

/// PF408: a TLS log level meant for debugging, left on.
pub fn debug_loglevel(cx: &Context<'_, '_>, _: &Subject) -> Vec<Hit> {
    written(cx, |name, _| name.ends_with("_tls_loglevel"))
        .filter(|w| logs_debug(&w.value))
        .map(|w| {
            at(
                &w,
                format!(
                    "`{} = {}` logs every TLS session in detail",
                    w.name,
                    w.value.trim()
                ),
                "1 logs a summary of each TLS session".to_owned(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_protocol_lists_like_postfix() {
        let v36 = Version::new(3, 6);
        let v35 = Version::new(3, 5);
        assert_eq!(protocol_list_problem(">=TLSv1.2", v36), None);
        assert_eq!(protocol_list_problem("!SSLv2, !SSLv3 tlsv1", v35), None);
        assert_eq!(protocol_list_problem(">=0x0303", v36), None);
        assert!(protocol_list_problem(">=TLSv1.2", v35).is_some());
        assert!(protocol_list_problem("!SSLv2, !TLS1.1", v36).is_some());
        assert!(protocol_list_problem(">= TLSv1.2", v36).is_some());
    }

    #[test]
    fn tls_log_levels_like_postfix() {
        for debug in [
            "2",
            "4",
            "9",
            "debug",
            "1, SSL-Expert",
            "1,trace",
            "summary verbose",
        ] {
            assert!(logs_debug(debug), "{debug}");
        }
        for quiet in ["0", "1", "routine", "summary, peercert", "none", ""] {
            assert!(!logs_debug(quiet), "{quiet}");
        }
    }
}
