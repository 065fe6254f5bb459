//! Roles and typed effective values on small, realistic configurations: the questions the
//! TLS rules ask (is this a public MX? which TLS level does the `submission` smtpd use?
//! does outgoing mail go to a smarthost?).

use pflint::input::config_dir::ConfigDir;
use pflint::model::{
    Config, HostFacts, ListenerKind, Program, ReadError, Scope, TlsLevel, TlsSide, Version,
};
use pflint::source::SourceFile;

const MASTER_MX: &str = "\
smtp      inet  n       -       y       -       1       postscreen
smtpd     pass  -       -       y       -       -       smtpd
dnsblog   unix  -       -       y       -       0       dnsblog
tlsproxy  unix  -       -       y       -       0       tlsproxy
submission inet n       -       y       -       -       smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
submissions inet n      -       y       -       -       smtpd
  -o { smtpd_tls_wrappermode = yes }
127.0.0.1:10025 inet n  -       n       -       -       smtpd
  -o content_filter=
smtp      unix  -       -       y       -       -       smtp
relay     unix  -       -       y       -       -       smtp
";

fn dir(main: &str, master: &str) -> ConfigDir {
    ConfigDir::from_files(
        Some(SourceFile::new("main.cf", main.as_bytes().to_vec()).unwrap()),
        Some(SourceFile::new("master.cf", master.as_bytes().to_vec()).unwrap()),
    )
}

fn with_model<T>(main: &str, master: &str, f: impl FnOnce(&Config<'_>) -> T) -> T {
    let host = HostFacts::corpus();
    let dir = dir(main, master);
    let config = dir.model("3.7.11".parse::<Version>().unwrap(), &host, None, false);
    f(&config)
}

fn service(config: &Config<'_>, name: &str, kind: &str) -> Scope {
    let index = config
        .services()
        .iter()
        .position(|s| s.name() == name.as_bytes() && s.kind() == kind.as_bytes())
        .unwrap();
    Scope::Service(index)
}

#[test]
fn a_public_mx_behind_postscreen_with_submission_ports() {
    let main = "smtpd_tls_security_level = may\nsmtpd_tls_cert_file = /etc/ssl/mx.pem\n";
    with_model(main, MASTER_MX, |config| {
        let roles = config.roles();
        let mx: Vec<_> = roles.public_mx().collect();
        assert_eq!(mx.len(), 1);
        assert_eq!(mx[0].program, Program::Postscreen);
        assert_eq!(mx[0].port, Some(25));
        // postscreen hands clients to the `smtpd pass` service.
        let smtpd = service(config, "smtpd", "pass");
        assert_eq!(mx[0].session(), Some(index(smtpd)));

        let kinds: Vec<_> = roles.submission().map(|l| l.kind).collect();
        assert_eq!(kinds, [ListenerKind::Submission, ListenerKind::Submissions]);
        assert!(roles.is_public_mx() && roles.is_submission_server());

        // The content-filter return port listens on loopback only.
        let filter = roles
            .listeners
            .iter()
            .find(|l| l.address.as_deref() == Some("127.0.0.1"))
            .unwrap();
        assert!(filter.loopback_only);
        assert_eq!(filter.kind, ListenerKind::Other);

        assert!(roles.direct_delivery);
        assert!(!roles.is_smarthost_client() && !roles.is_null_client());
    });
}

#[test]
fn postscreen_hands_to_the_last_pass_service_of_its_name() {
    // The master daemon runs only the last of two entries with one name and type.
    let master =
        format!("{MASTER_MX}smtpd     pass  -       -       y       -       -       smtpd\n");
    with_model("", &master, |config| {
        let roles = config.roles();
        let last = config
            .services()
            .iter()
            .rposition(|s| s.name() == b"smtpd" && s.kind() == b"pass");
        let mx: Vec<_> = roles.public_mx().collect();
        assert_eq!(mx.len(), 1);
        assert_eq!(mx[0].session(), last);
        assert_ne!(last, Some(1));
    });
}

fn index(scope: Scope) -> usize {
    match scope {
        Scope::Service(i) => i,
        Scope::Main => panic!("not a service"),
    }
}

#[test]
fn tls_levels_per_service() {
    let main = "smtpd_tls_security_level = may\n";
    with_model(main, MASTER_MX, |config| {
        let level = |scope| config.tls_level(scope, TlsSide::Server).unwrap();
        let port25 = level(service(config, "smtpd", "pass"));
        assert_eq!(port25.level, TlsLevel::May);
        assert_eq!(
            port25.decided_by.as_deref(),
            Some("smtpd_tls_security_level")
        );
        assert_eq!(
            level(service(config, "submission", "inet")).level,
            TlsLevel::Encrypt
        );
        let wrapped = level(service(config, "submissions", "inet"));
        assert_eq!(wrapped.level, TlsLevel::Encrypt);
        assert_eq!(wrapped.decided_by.as_deref(), Some("smtpd_tls_wrappermode"));
    });
}

#[test]
fn deprecated_switches_decide_when_the_level_is_empty() {
    let master = "smtp inet n - y - - smtpd\nsmtp unix - - y - - smtp\n";
    let client = |main: &str| {
        with_model(main, master, |config| {
            let scope = service(config, "smtp", "unix");
            config.tls_level(scope, TlsSide::SmtpClient)
        })
    };
    let level = |main: &str| client(main).map(|t| (t.level, t.decided_by));
    assert_eq!(
        level("smtp_use_tls = yes\n"),
        Ok((TlsLevel::May, Some("smtp_use_tls".to_owned())))
    );
    assert_eq!(
        level("smtp_enforce_tls = yes\n"),
        Ok((TlsLevel::Verify, Some("smtp_enforce_tls".to_owned())))
    );
    assert_eq!(
        level("smtp_enforce_tls = yes\nsmtp_tls_enforce_peername = no\n"),
        Ok((TlsLevel::Encrypt, Some("smtp_enforce_tls".to_owned())))
    );
    // An explicit level wins over the old switches.
    assert_eq!(
        level("smtp_tls_security_level = none\nsmtp_enforce_tls = yes\n"),
        Ok((TlsLevel::None, Some("smtp_tls_security_level".to_owned())))
    );
    // Postfix 3.7 at compatibility level 3.6 leaves the client level empty: no TLS.
    assert_eq!(
        level("compatibility_level = 3.6\n"),
        Ok((TlsLevel::None, None))
    );
    assert!(matches!(
        client("smtp_tls_security_level = Encrypt\n"),
        Err(ReadError::Value(_))
    ));
    assert!(matches!(
        client("smtp_use_tls = maybe\n"),
        Err(ReadError::Value(_))
    ));

    let server = |main: &str| {
        with_model(main, master, |config| {
            let scope = service(config, "smtp", "inet");
            config.tls_level(scope, TlsSide::Server)
        })
    };
    assert_eq!(
        server("smtpd_enforce_tls = yes\n").map(|t| t.level),
        Ok(TlsLevel::Encrypt)
    );
    // smtpd runs the levels it does not implement as `encrypt`, and refuses DANE.
    let verify = server("smtpd_tls_security_level = verify\n").unwrap();
    assert!(verify.level == TlsLevel::Encrypt && verify.downgraded);
    assert!(server("smtpd_tls_security_level = dane\n").is_err());
}

#[test]
fn typed_values_follow_overrides_and_expansion() {
    let main = "limit = 20\nsmtpd_client_connection_count_limit = $limit\n\
                smtp_connect_timeout = 2m\nmaximal_queue_lifetime = 3\n";
    let master = "smtp inet n - y - - smtpd\n  -o smtpd_client_connection_count_limit=5\n\
                  submission inet n - y - - smtpd\n";
    with_model(main, master, |config| {
        let limit = |scope| config.integer(scope, "smtpd_client_connection_count_limit");
        assert_eq!(limit(service(config, "smtp", "inet")), Ok(5));
        assert_eq!(limit(service(config, "submission", "inet")), Ok(20));
        assert_eq!(config.seconds(Scope::Main, "smtp_connect_timeout"), Ok(120));
        // A bare number takes the unit of the default (`5d`).
        assert_eq!(
            config.seconds(Scope::Main, "maximal_queue_lifetime"),
            Ok(3 * 86_400)
        );
        assert_eq!(
            config.boolean(Scope::Main, "smtpd_tls_auth_only"),
            Ok(false)
        );
        assert!(matches!(
            config.boolean(Scope::Main, "no_such_parameter"),
            Err(ReadError::Unknown(_))
        ));
        // Below compatibility level 1 the relay restrictions are empty.
        let restrictions = config.list(Scope::Main, "smtpd_relay_restrictions");
        assert_eq!(restrictions, Ok(Vec::new()));
    });
    with_model("compatibility_level = 3.6\n", master, |config| {
        let restrictions = config.list(Scope::Main, "smtpd_relay_restrictions");
        assert_eq!(
            restrictions,
            Ok([
                "permit_mynetworks",
                "permit_sasl_authenticated",
                "defer_unauth_destination"
            ]
            .map(|r| r.as_bytes().to_vec())
            .to_vec())
        );
    });
}

#[test]
fn a_smarthost_client() {
    let main = "relayhost = [smtp.example.net]:587\nsmtp_tls_security_level = encrypt\n";
    let master = "smtp inet n - y - - smtpd\nsmtp unix - - y - - smtp\n";
    with_model(main, master, |config| {
        let roles = config.roles();
        assert!(roles.is_smarthost_client() && !roles.direct_delivery);
        assert_eq!(roles.relays[0].parameter, "relayhost");
        assert_eq!(roles.relays[0].destination, "[smtp.example.net]:587");
        assert_eq!(roles.relays[0].transport, "smtp");
    });

    let main = "default_transport = smtp:[relay.example.net]\n\
                sender_dependent_relayhost_maps = hash:/etc/postfix/sender_relay\n";
    with_model(main, "", |config| {
        let roles = config.roles();
        let sources: Vec<_> = roles.relays.iter().map(|r| r.parameter).collect();
        assert_eq!(
            sources,
            ["default_transport", "sender_dependent_relayhost_maps"]
        );
        assert!(!roles.direct_delivery);
    });

    // A next hop for relay domains only (a backup MX or gateway) leaves other mail direct.
    with_model(
        "relay_transport = relay:[inside.example.net]\n",
        "",
        |config| {
            let roles = config.roles();
            assert!(roles.is_smarthost_client() && roles.direct_delivery);
        },
    );
}

#[test]
fn a_null_client() {
    let main = "myorigin = $mydomain\nrelayhost = $mydomain\ninet_interfaces = loopback-only\n\
                mydestination =\n";
    let master = "smtp inet n - y - - smtpd\nsmtp unix - - y - - smtp\n";
    with_model(main, master, |config| {
        let roles = config.roles();
        assert!(roles.is_null_client());
        assert!(!roles.is_public_mx());
        assert!(roles.listeners[0].loopback_only);
        assert_eq!(roles.relays[0].destination, "example.test");
    });

    // Listening on all interfaces makes it a public MX, not a null client.
    let main = "relayhost = $mydomain\nmydestination =\n";
    with_model(main, master, |config| {
        let roles = config.roles();
        assert!(!roles.is_null_client() && roles.is_public_mx());
    });
}

#[test]
fn listener_addresses_and_ports() {
    let master = "\
[::1]:smtp inet n - y - - smtpd
192.0.2.1:25 inet n - y - - smtpd
2525 inet n - y - - smtpd
smtps inet n - y - - smtpd
lmtp inet n - y - - lmtp
";
    with_model("inet_interfaces = 127.0.0.1, [::1]\n", master, |config| {
        let roles = config.roles();
        let seen: Vec<_> = roles
            .listeners
            .iter()
            .map(|l| {
                (
                    l.address.as_deref().map(str::to_owned),
                    l.port,
                    l.loopback_only,
                    l.kind,
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                (Some("::1".to_owned()), Some(25), true, ListenerKind::Mx),
                (
                    Some("192.0.2.1".to_owned()),
                    Some(25),
                    false,
                    ListenerKind::Mx
                ),
                (None, Some(2525), true, ListenerKind::Other),
                (None, Some(465), true, ListenerKind::Submissions),
            ]
        );
        assert_eq!(roles.public_mx().count(), 1);
    });
}
