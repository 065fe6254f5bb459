//! Checks of the transports that carry mail to a relay.

use super::Hit;
use crate::model::config::Scope;
use crate::model::subject::Subject;
use crate::model::{TlsLevel, TlsSide};
use crate::rules::condition::Context;

/// The port of a next hop (`[host]:port`, `host:port`), if it names one.
fn port(destination: &str) -> Option<&str> {
    let after_host = match destination.rfind(']') {
        Some(close) => &destination[close + 1..],
        None => destination,
    };
    after_host.rsplit_once(':').map(|(_, port)| port.trim())
}

/// PF106: a relay on port 465 (implicit TLS) reached without `smtp_tls_wrappermode = yes`
/// and a mandatory TLS level; Postfix then fails to talk to it.
pub fn smtps_relay(cx: &Context<'_, '_>, subject: &Subject) -> Vec<Hit> {
    let Some(relay) = subject.relay.and_then(|i| cx.roles.relays.get(i)) else {
        return Vec::new();
    };
    if relay.parameter.starts_with("sender_dependent") {
        return Vec::new();
    }
    let implicit_tls = relay
        .destination
        .split([',', ' '])
        .filter_map(port)
        .any(|p| matches!(p, "465" | "smtps" | "submissions"));
    if !implicit_tls {
        return Vec::new();
    }
    let wrapper = cx
        .config
        .boolean(cx.scope, "smtp_tls_wrappermode")
        .unwrap_or(false);
    let level = cx.config.tls_level(cx.scope, TlsSide::SmtpClient).ok();
    let mandatory = level.as_ref().is_some_and(|t| t.level.is_mandatory());
    let cause = if !wrapper {
        "smtp_tls_wrappermode".to_owned()
    } else if mandatory {
        return Vec::new();
    } else {
        level
            .and_then(|t| t.decided_by)
            .unwrap_or_else(|| "smtp_tls_security_level".to_owned())
    };
    let location = cx
        .config
        .setting_location(cx.scope, &cause)
        .or_else(|| cx.config.setting_location(Scope::Main, relay.parameter));
    vec![Hit {
        scope: None,
        location,
        cause: Some(cause),
        message: format!(
            "the relay {} expects TLS from the first byte (port 465), which needs smtp_tls_wrappermode = yes and smtp_tls_security_level = encrypt or stronger",
            relay.destination
        ),
        label: format!("{} sets this relay", relay.parameter),
    }]
}

/// The host of a next hop (`[host]:port`, `host:port`, `host`).
fn host(destination: &str) -> &str {
    let destination = destination.trim();
    if let Some(rest) = destination.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    destination
        .rsplit_once(':')
        .map_or(destination, |(host, _)| host)
}

/// PF108: mail to a relay host crosses the network with no TLS at all (and no login,
/// which PF103 judges): anyone on the path reads it.
pub fn relay_in_clear(cx: &Context<'_, '_>, subject: &Subject) -> Vec<Hit> {
    let Some(relay) = subject.relay.and_then(|i| cx.roles.relays.get(i)) else {
        return Vec::new();
    };
    // A table's next hops are not known here; a content filter on this host needs no TLS.
    let remote = relay
        .destination
        .split([',', ' '])
        .filter(|d| !d.is_empty())
        .any(|d| !crate::model::roles::is_loopback(host(d)));
    if relay.parameter.starts_with("sender_dependent") || !remote {
        return Vec::new();
    }
    let Ok(tls) = cx.config.tls_level(cx.scope, TlsSide::SmtpClient) else {
        return Vec::new();
    };
    let sasl = cx
        .config
        .boolean(cx.scope, "smtp_sasl_auth_enable")
        .unwrap_or(false);
    let policy = cx
        .config
        .text(cx.scope, "smtp_tls_policy_maps")
        .is_ok_and(|v| !v.trim_ascii().is_empty());
    if tls.level != TlsLevel::None || sasl || policy {
        return Vec::new();
    }
    let cause = tls
        .decided_by
        .filter(|name| cx.config.setting_location(cx.scope, name).is_some())
        .unwrap_or_else(|| relay.parameter.to_owned());
    vec![Hit {
        cause: Some(cause),
        message: format!(
            "mail to the relay {} is sent without TLS: smtp_tls_security_level is none",
            relay.destination
        ),
        label: "no TLS to the relay".to_owned(),
        ..Hit::default()
    }]
}

#[cfg(test)]
mod tests {
    use super::{host, port};

    #[test]
    fn hosts_of_next_hops() {
        assert_eq!(host("[127.0.0.1]:10025"), "127.0.0.1");
        assert_eq!(host("[::1]:10025"), "::1");
        assert_eq!(host("localhost:10025"), "localhost");
        assert_eq!(host("smtp.example.net"), "smtp.example.net");
    }

    #[test]
    fn ports_of_next_hops() {
        assert_eq!(port("[smtp.example.net]:465"), Some("465"));
        assert_eq!(port("smtp.example.net:submissions"), Some("submissions"));
        assert_eq!(port("[2001:db8::1]"), None);
        assert_eq!(port("smtp.example.net"), None);
    }
}
