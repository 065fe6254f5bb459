//! The ports a configuration listens on, as probe targets: every `inet` smtpd (or
//! postscreen) service with a port, on the address it listens on, or loopback where it
//! listens on all.

use super::Target;
use crate::model::config::{Config, Scope};

/// The targets of `config`'s SMTP listeners, in master.cf order.
pub fn from_config(config: &Config<'_>) -> Vec<Target> {
    let main = |name: &str| {
        config
            .text(Scope::Main, name)
            .map(|v| String::from_utf8_lossy(&v).trim().to_owned())
            .unwrap_or_default()
    };
    let server_name = main("myhostname");
    let interfaces = main("inet_interfaces");
    config
        .roles()
        .listeners
        .iter()
        .filter_map(|listener| {
            let port = listener.port?;
            // The smtpd that holds the sessions decides TLS (postscreen hands over).
            let service = listener.session().unwrap_or(listener.service);
            let wrapper = config
                .text(Scope::Service(service), "smtpd_tls_wrappermode")
                .is_ok_and(|v| v.eq_ignore_ascii_case(b"yes"));
            let host = match &listener.address {
                Some(address) => address.trim_matches(['[', ']']).to_owned(),
                None => listening_address(&interfaces),
            };
            Some(Target {
                host,
                port,
                implicit_tls: wrapper,
                server_name: server_name.clone(),
                service: Some(service),
            })
        })
        .collect()
}

/// Where to reach a service that listens on `inet_interfaces`: its first address, or the
/// IPv4 loopback for `all`, `loopback-only` and `localhost`.
fn listening_address(interfaces: &str) -> String {
    let first = interfaces
        .split([',', ' ', '\t'])
        .find(|s| !s.is_empty())
        .unwrap_or("all");
    match first.to_ascii_lowercase().as_str() {
        "all" | "loopback-only" | "localhost" => "127.0.0.1".to_owned(),
        _ => first.trim_matches(['[', ']']).to_owned(),
    }
}

/// A target from the command line: `HOST`, `HOST:PORT` or `[IPv6]:PORT`; port 25 by
/// default, implicit TLS on 465.
pub fn parse(given: &str, server_name: Option<&str>) -> Result<Target, String> {
    let (host, port) = if let Some(rest) = given.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("`{given}`: `[` without `]`"))?;
        (host, after.strip_prefix(':'))
    } else if given.matches(':').count() > 1 {
        (given, None)
    } else {
        match given.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (given, None),
        }
    };
    if host.is_empty() {
        return Err(format!("`{given}`: no host"));
    }
    let port = match port {
        Some(port) => port
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("`{given}`: `{port}` is not a TCP port"))?,
        None => 25,
    };
    Ok(Target {
        host: host.to_owned(),
        port,
        implicit_tls: port == 465,
        server_name: server_name.unwrap_or(host).to_owned(),
        service: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_targets() {
        let t = parse("mx.example.com", None).unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.implicit_tls),
            ("mx.example.com", 25, false)
        );
        let t = parse("127.0.0.1:465", Some("mail.example.com")).unwrap();
        assert_eq!(
            (t.port, t.implicit_tls, t.server_name.as_str()),
            (465, true, "mail.example.com")
        );
        let t = parse("[::1]:587", None).unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 587));
        assert_eq!(t.address(), "[::1]:587");
        assert!(parse("mx:0", None).is_err());
        assert!(parse("mx:smtp", None).is_err());
        assert!(parse(":25", None).is_err());
    }

    #[test]
    fn listening_addresses() {
        assert_eq!(listening_address("all"), "127.0.0.1");
        assert_eq!(listening_address("loopback-only"), "127.0.0.1");
        assert_eq!(listening_address("192.0.2.1, [2001:db8::1]"), "192.0.2.1");
    }
}
