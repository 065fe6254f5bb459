//! Checks of the transports that carry mail to a relay.

use super::Hit;
use crate::model::TlsSide;
use crate::model::config::Scope;
use crate::model::subject::Subject;
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

#[cfg(test)]
mod tests {
    use super::port;

    #[test]
    fn ports_of_next_hops() {
        assert_eq!(port("[smtp.example.net]:465"), Some("465"));
        assert_eq!(port("smtp.example.net:submissions"), Some("submissions"));
        assert_eq!(port("[2001:db8::1]"), None);
        assert_eq!(port("smtp.example.net"), None);
    }
}
