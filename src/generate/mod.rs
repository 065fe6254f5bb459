//! `pflint generate`: the TLS settings for a host's roles at a profile, rendered for a
//! target Postfix version: main.cf settings and master.cf services.
//!
//! The rules it follows are the checker's: opportunistic TLS on port 25 and towards other
//! domains' MX hosts (RFC 3207, RFC 7435), mandatory TLS with the profile's floors on the
//! submission ports (RFC 8314) and towards an authenticated relay; names the target
//! version knows and does not deprecate.

pub mod edit;
pub mod profile;
pub mod strength;

use std::fmt::Write as _;

use crate::model::tls::Protocols;
use crate::model::{TlsLevel, Version};
pub use profile::Profile;

/// What the host does, as `--role` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Role {
    /// Receives mail from the Internet on port 25: opportunistic TLS.
    Mx,
    /// Accepts mail from users on 587 (STARTTLS required) and 465 (implicit TLS), with SASL.
    Submission,
    /// Delivers mail straight to other domains' MX hosts: opportunistic TLS, or DANE.
    Outbound,
    /// Sends all mail through one authenticated relay (smarthost) over verified TLS.
    RelayClient,
}

impl Role {
    /// The name `--role` takes.
    pub fn name(self) -> &'static str {
        match self {
            Role::Mx => "mx",
            Role::Submission => "submission",
            Role::Outbound => "outbound",
            Role::RelayClient => "relay-client",
        }
    }
}

/// The server certificate, as given on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Certificate {
    /// PEM files each holding a private key, its certificate and the chain (`--chain`).
    Chain(Vec<String>),
    /// A certificate (with its chain) and its key in two files (`--cert`, `--key`).
    Pair {
        /// The certificate file.
        cert: String,
        /// The private key file.
        key: String,
    },
}

/// What to generate.
#[derive(Clone, Debug)]
pub struct Request<'p> {
    /// The roles, each once.
    pub roles: Vec<Role>,
    /// The profile.
    pub profile: &'p Profile,
    /// The Postfix version the result must suit.
    pub version: Version,
    /// The server certificate (placeholder paths when none is given).
    pub certificate: Option<Certificate>,
    /// DANE for outbound delivery.
    pub dane: bool,
    /// The relay host, for `relay-client`.
    pub relayhost: Option<String>,
    /// The SASL backend of the submission services; `None` keeps the one configured.
    pub sasl: Option<Sasl>,
}

/// The SASL backend smtpd asks to check passwords (`smtpd_sasl_type`, `smtpd_sasl_path`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sasl {
    /// Dovecot's auth service, at this socket: relative to the queue directory
    /// (`private/auth`, the usual one) or `inet:host:port`.
    Dovecot(String),
    /// Cyrus SASL with the application name `smtpd` (its `smtpd.conf`).
    Cyrus,
}

impl std::str::FromStr for Sasl {
    type Err = String;

    /// `dovecot`, `dovecot:SOCKET` or `cyrus`.
    fn from_str(s: &str) -> Result<Sasl, String> {
        match s.split_once(':') {
            None if s == "dovecot" => Ok(Sasl::Dovecot("private/auth".to_owned())),
            None if s == "cyrus" => Ok(Sasl::Cyrus),
            Some(("dovecot", socket)) if !socket.is_empty() && !socket.contains([' ', ',']) => {
                Ok(Sasl::Dovecot(socket.to_owned()))
            }
            _ => Err(format!(
                "`{s}` is not a SASL backend (write dovecot, dovecot:SOCKET or cyrus)"
            )),
        }
    }
}

impl Sasl {
    /// The main.cf settings that select it.
    pub fn settings(&self) -> [(&'static str, &str); 2] {
        match self {
            Sasl::Dovecot(socket) => [("smtpd_sasl_type", "dovecot"), ("smtpd_sasl_path", socket)],
            Sasl::Cyrus => [("smtpd_sasl_type", "cyrus"), ("smtpd_sasl_path", "smtpd")],
        }
    }
}

/// One main.cf setting, with the comment lines that go above it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting {
    /// Comment lines, without `# `.
    pub comment: Vec<String>,
    /// The parameter.
    pub name: String,
    /// Its value.
    pub value: String,
    /// The role whose services must not override it with `-o` (port 25 for the MX's
    /// level, the delivery transports for outbound and relay settings).
    pub role: Option<Role>,
    /// Against an existing configuration, left out when that already sets it: a
    /// placeholder certificate (when any certificate is named), a log level.
    pub keep_existing: bool,
    /// `# pflint: disable=…` lines for findings the profile accepts on purpose.
    pub suppress: Vec<String>,
}

/// A parameter the plan returns to Postfix's default, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reset {
    /// The parameter.
    pub name: String,
    /// Why its default is right.
    pub reason: String,
    /// The role whose services' `-o` options of it are removed too.
    pub role: Option<Role>,
}

/// One master.cf service: `name inet n - - - - smtpd` and its `-o` options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    /// Comment lines, without `# `.
    pub comment: Vec<String>,
    /// The service name (`submission`, `submissions`, `smtps`).
    pub name: String,
    /// The `-o` options, in order.
    pub options: Vec<(String, String)>,
}

/// The settings and services a request asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// A one-line description: profile, version, roles.
    pub title: String,
    /// The profile's name.
    pub profile: String,
    /// The roles.
    pub roles: Vec<Role>,
    /// main.cf settings, in order.
    pub main: Vec<Setting>,
    /// master.cf services, in order.
    pub services: Vec<Service>,
    /// Parameters returned to their defaults (removed where they are written).
    pub reset: Vec<Reset>,
}

/// The system's trust anchors (Debian's, and most distributions' name for the bundle).
pub const SYSTEM_CA_FILE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// The oldest release `generate` renders for.
pub const OLDEST: Version = Version::new(3, 3);

/// A protocol floor in the syntax the version reads: `>=TLSv1.2` from 3.6, else the
/// exclusions `!SSLv2, !SSLv3, !TLSv1, !TLSv1.1`.
pub fn protocol_floor(floor: &str, version: Version) -> String {
    Protocols::from(floor).render(version)
}

/// `host`, `[host]`, `host:port` or `[host]:port` as a relayhost that skips MX lookups
/// (`[host]:port`; port 587 when none is given).
fn normalize_relayhost(given: &str) -> Result<(String, u16), String> {
    let bad = || format!("`{given}` is not a relay host (write host, [host] or [host]:port)");
    let (host, port) = match given.strip_prefix('[') {
        Some(rest) => {
            let (host, after) = rest.split_once(']').ok_or_else(bad)?;
            match after.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None if after.is_empty() => (host, None),
                None => return Err(bad()),
            }
        }
        None => match given.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (given, None),
        },
    };
    let valid_host = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_'));
    if !valid_host {
        return Err(bad());
    }
    let port = match port {
        Some(p) => p.parse::<u16>().map_err(|_| bad())?,
        None => 587,
    };
    Ok((format!("[{host}]:{port}"), port))
}

fn setting(comment: &[&str], name: &str, value: impl Into<String>) -> Setting {
    Setting {
        comment: comment.iter().map(|c| (*c).to_owned()).collect(),
        name: name.to_owned(),
        value: value.into(),
        role: None,
        keep_existing: false,
        suppress: Vec::new(),
    }
}

/// A setting an existing configuration's own value wins over.
fn preference(comment: &[&str], name: &str, value: impl Into<String>) -> Setting {
    Setting {
        keep_existing: true,
        ..setting(comment, name, value)
    }
}

/// Marks the settings from `start` on as belonging to `role`.
fn claim(main: &mut [Setting], start: usize, role: Role) {
    for s in &mut main[start..] {
        s.role = Some(role);
    }
}

/// Works out the settings and services for a request, or says why it cannot.
pub fn plan(request: &Request<'_>) -> Result<Plan, String> {
    let version = request.version;
    if !version.at_least(OLDEST) {
        return Err(format!(
            "pflint generate renders for Postfix {OLDEST} and later (asked: {version})"
        ));
    }
    let has = |role| request.roles.contains(&role);
    if request.roles.is_empty() {
        return Err("give at least one --role".to_owned());
    }
    if has(Role::Outbound) && has(Role::RelayClient) {
        return Err("outbound and relay-client exclude each other: with a relay host, all mail leaves through it".to_owned());
    }
    if request.dane && !has(Role::Outbound) {
        return Err("--dane concerns the outbound role".to_owned());
    }
    if request.relayhost.is_some() && !has(Role::RelayClient) {
        return Err("--relayhost concerns the relay-client role".to_owned());
    }
    let profile = request.profile;
    let floor = protocol_floor(&profile.mandatory.protocols, version);
    let mut main = Vec::new();

    if has(Role::Mx) || has(Role::Submission) {
        let certificate = request.certificate.clone().unwrap_or_else(|| {
            if version.at_least(Version::new(3, 4)) {
                Certificate::Chain(vec!["/etc/postfix/tls/server.pem".to_owned()])
            } else {
                Certificate::Pair {
                    cert: "/etc/postfix/tls/server-chain.pem".to_owned(),
                    key: "/etc/postfix/tls/server-key.pem".to_owned(),
                }
            }
        });
        let placeholder = request.certificate.is_none();
        let start = main.len();
        match certificate {
            Certificate::Chain(files) if version.at_least(Version::new(3, 4)) => {
                let mut comment = vec![
                    "Server certificate: each file holds the private key, then the certificate and its chain.",
                ];
                if placeholder {
                    comment.push("Placeholder path: pass --chain FILE (or --cert and --key).");
                }
                main.push(setting(&comment, "smtpd_tls_chain_files", files.join(", ")));
            }
            Certificate::Chain(_) => {
                return Err(format!(
                    "--chain needs Postfix 3.4 or later (smtpd_tls_chain_files); for {version} give --cert and --key"
                ));
            }
            // From 3.4 the key and its certificate chain are named together, key first
            // (the legacy cert/key parameters are ignored once chain files are set).
            Certificate::Pair { cert, key } if version.at_least(Version::new(3, 4)) => {
                main.push(setting(
                    &["Server private key, then its certificate and chain."],
                    "smtpd_tls_chain_files",
                    format!("{key}, {cert}"),
                ));
            }
            Certificate::Pair { cert, key } => {
                let mut comment = vec!["Server certificate (with its chain) and private key."];
                if placeholder {
                    comment.push("Placeholder paths: pass --cert FILE --key FILE.");
                }
                main.push(setting(&comment, "smtpd_tls_cert_file", cert));
                main.push(setting(&[], "smtpd_tls_key_file", key));
            }
        }
        for s in &mut main[start..] {
            s.keep_existing = placeholder;
        }
        main.push(setting(
            &["AUTH only after STARTTLS, wherever smtpd offers it."],
            "smtpd_tls_auth_only",
            "yes",
        ));
        main.push(preference(
            &["One line per TLS session in the log."],
            "smtpd_tls_loglevel",
            "1",
        ));
    }
    if has(Role::Mx) {
        let start = main.len();
        main.push(setting(
            &[
                "Port 25: offer STARTTLS, never require it. A public MX must accept mail",
                "from servers without TLS (RFC 3207, section 4); the broad default",
                "protocols and ciphers apply, as refusing a peer's TLS means plaintext.",
            ],
            "smtpd_tls_security_level",
            "may",
        ));
        claim(&mut main, start, Role::Mx);
    }
    if has(Role::Submission) {
        main.push(setting(
            &[
                &format!(
                    "Mandatory TLS (the submission services below): profile {}.",
                    profile.name
                ),
                "These apply only where TLS is required; port 25 keeps the defaults.",
            ],
            "smtpd_tls_mandatory_protocols",
            floor.clone(),
        ));
        main.push(setting(
            &[],
            "smtpd_tls_mandatory_ciphers",
            profile.mandatory.ciphers.clone(),
        ));
    }
    if has(Role::Outbound) {
        let start = main.len();
        if request.dane {
            main.push(setting(
                &[
                    "Outbound: DANE (RFC 7672) where the destination publishes DNSSEC-signed",
                    "TLSA records, opportunistic TLS elsewhere. Needs a local DNSSEC-validating",
                    "resolver (unbound, or systemd-resolved with DNSSEC=yes) in /etc/resolv.conf.",
                ],
                "smtp_dns_support_level",
                "dnssec",
            ));
            main.push(setting(&[], "smtp_tls_security_level", "dane"));
        } else {
            main.push(setting(
                &[
                    "Outbound to other domains' MX hosts: opportunistic TLS. Mandatory TLS here",
                    "would bounce mail to every MX without TLS; list the domains that must be",
                    "reached over TLS in smtp_tls_policy_maps instead.",
                ],
                "smtp_tls_security_level",
                "may",
            ));
        }
        main.push(preference(&[], "smtp_tls_loglevel", "1"));
        claim(&mut main, start, Role::Outbound);
    }
    if has(Role::RelayClient) {
        let start = main.len();
        let given = request
            .relayhost
            .as_deref()
            .ok_or("the relay-client role needs --relayhost [host]:port")?;
        let (relayhost, port) = normalize_relayhost(given)?;
        let level = profile.relay_tls_level();
        main.push(setting(
            &["All mail leaves through the relay host (smarthost)."],
            "relayhost",
            relayhost.clone(),
        ));
        main.push(setting(
            &[
                "Log in to the relay; the map holds one line, then run postmap on it:",
                &format!("{relayhost} username:password"),
            ],
            "smtp_sasl_auth_enable",
            "yes",
        ));
        main.push(setting(
            &[],
            "smtp_sasl_password_maps",
            "hash:/etc/postfix/sasl_passwd",
        ));
        main.push(setting(&[], "smtp_sasl_security_options", "noanonymous"));
        main.push(setting(
            &[],
            "smtp_sasl_tls_security_options",
            "noanonymous",
        ));
        let level_comment = if level == TlsLevel::Secure {
            "Mandatory TLS to the relay, its certificate verified against the system CAs"
        } else {
            "Mandatory TLS to the relay; its certificate is not verified"
        };
        main.push(setting(
            &[
                level_comment,
                &format!(
                    "(profile {}): the password never travels in the clear.",
                    profile.name
                ),
            ],
            "smtp_tls_security_level",
            level.name(),
        ));
        if port == 465 {
            main.push(setting(
                &["Port 465: TLS from the first byte (RFC 8314)."],
                "smtp_tls_wrappermode",
                "yes",
            ));
        }
        if level == TlsLevel::Secure {
            main.push(setting(&[], "smtp_tls_CAfile", SYSTEM_CA_FILE));
        }
        main.push(setting(&[], "smtp_tls_mandatory_protocols", floor.clone()));
        main.push(setting(
            &[],
            "smtp_tls_mandatory_ciphers",
            profile.mandatory.ciphers.clone(),
        ));
        main.push(preference(&[], "smtp_tls_loglevel", "1"));
        claim(&mut main, start, Role::RelayClient);
    }
    if has(Role::Submission)
        && let Some(sasl) = &request.sasl
    {
        let [(type_name, type_value), (path_name, path_value)] = sasl.settings();
        main.push(setting(
            &["The SASL backend that checks the submission services' passwords."],
            type_name,
            type_value,
        ));
        main.push(setting(&[], path_name, path_value));
    }
    for s in &mut main {
        s.suppress = suppressions(&s.name, &s.value, s.role, &profile.name);
    }

    let mut services = Vec::new();
    if has(Role::Submission) {
        let restrictions = "permit_sasl_authenticated,reject";
        let common = |extra: &[(&str, &str)]| -> Vec<(String, String)> {
            extra
                .iter()
                .chain(&[
                    ("smtpd_sasl_auth_enable", "yes"),
                    ("smtpd_client_restrictions", restrictions),
                    ("smtpd_relay_restrictions", restrictions),
                    ("milter_macro_daemon_name", "ORIGINATING"),
                ])
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect()
        };
        services.push(Service {
            comment: vec![
                "Port 587: STARTTLS required before AUTH and mail (RFC 8314; encrypt implies"
                    .to_owned(),
                "smtpd_tls_auth_only).".to_owned(),
            ]
            .into_iter()
            .chain(sasl_comment(request.sasl.as_ref()))
            .collect(),
            name: "submission".to_owned(),
            options: common(&[
                ("syslog_name", "postfix/submission"),
                ("smtpd_tls_security_level", "encrypt"),
            ]),
        });
        // The stock master.cf names port 465 `submissions` from Postfix 3.5 on.
        let implicit = if version.at_least(Version::new(3, 5)) {
            "submissions"
        } else {
            "smtps"
        };
        services.push(Service {
            comment: vec!["Port 465: TLS from the first byte (RFC 8314).".to_owned()],
            name: implicit.to_owned(),
            options: common(&[
                ("syslog_name", &format!("postfix/{implicit}")),
                ("smtpd_tls_wrappermode", "yes"),
            ]),
        });
    }
    let mut reset = Vec::new();
    let mut reset_param = |name: &str, reason: &str, role: Option<Role>| {
        reset.push(Reset {
            name: name.to_owned(),
            reason: reason.to_owned(),
            role,
        });
    };
    let opportunistic = "opportunistic TLS keeps Postfix's default, as refusing a peer's TLS sends its mail in plaintext";
    if has(Role::Mx) {
        for name in ["smtpd_tls_protocols", "smtpd_tls_ciphers"] {
            reset_param(name, opportunistic, Some(Role::Mx));
        }
    }
    if has(Role::Outbound) {
        for name in ["smtp_tls_protocols", "smtp_tls_ciphers"] {
            reset_param(name, opportunistic, Some(Role::Outbound));
        }
    }
    for name in [
        "tls_high_cipherlist",
        "tls_medium_cipherlist",
        "tls_low_cipherlist",
        "tls_export_cipherlist",
    ] {
        reset_param(
            name,
            "Postfix advises against redefining the built-in cipher grades",
            None,
        );
    }
    let roles: Vec<&str> = request.roles.iter().map(|r| r.name()).collect();
    Ok(Plan {
        title: format!(
            "pflint generate: TLS for {} (profile {}, Postfix {version})",
            roles.join(", "),
            profile.name
        ),
        main,
        services,
        reset,
        profile: profile.name.clone(),
        roles: request.roles.clone(),
    })
}

/// What the submission services' comment says of the SASL backend.
fn sasl_comment(sasl: Option<&Sasl>) -> Vec<String> {
    match sasl {
        Some(_) => vec!["Passwords are checked by the SASL backend set in main.cf.".to_owned()],
        None => [
            "Passwords are checked by the SASL backend main.cf names (smtpd_sasl_type,",
            "smtpd_sasl_path); without a usable one every login fails (pflint check warns:",
            "PF304). Pass --sasl dovecot or --sasl cyrus to set one.",
        ]
        .map(str::to_owned)
        .to_vec(),
    }
}

/// The `# pflint: disable=…` lines a setting carries: what the legacy profile accepts on
/// purpose (TLS 1.0 and 1.1 where TLS is mandatory, a relay whose certificate is not
/// checked), so that its own check stays clean.
pub fn suppressions(name: &str, value: &str, role: Option<Role>, profile: &str) -> Vec<String> {
    let mut lines = Vec::new();
    if name.ends_with("_tls_mandatory_protocols") && !Protocols::parse(value).weak().is_empty() {
        lines.push(format!(
            "pflint: disable=PF303 -- profile {profile}: peers that cannot do TLS 1.2"
        ));
    }
    if name == "smtp_tls_security_level" && role == Some(Role::RelayClient) && value == "encrypt" {
        lines.push(format!(
            "pflint: disable=PF107 -- profile {profile}: the relay's certificate is not verified"
        ));
    }
    lines
}

/// The main.cf settings as lines to paste, with their comments.
pub fn render_main(plan: &Plan) -> String {
    let mut text = String::new();
    for s in &plan.main {
        for line in s.comment.iter().chain(&s.suppress) {
            let _ = writeln!(text, "# {line}");
        }
        let _ = writeln!(text, "{} = {}", s.name, s.value);
    }
    text
}

/// The master.cf services as lines to paste.
pub fn render_master(plan: &Plan) -> String {
    let mut text = String::new();
    for service in &plan.services {
        for line in &service.comment {
            let _ = writeln!(text, "# {line}");
        }
        let _ = writeln!(
            text,
            "{:<10} inet  n       -       -       -       -       smtpd",
            service.name
        );
        for (name, value) in &service.options {
            let _ = writeln!(text, "  -o {name}={value}");
        }
    }
    text
}

/// Both parts, each under a header naming its file.
pub fn snippet(plan: &Plan) -> String {
    let mut text = format!(
        "# {}\n\n# ---- main.cf ----\n{}",
        plan.title,
        render_main(plan)
    );
    if !plan.services.is_empty() {
        let _ = write!(text, "\n# ---- master.cf ----\n{}", render_master(plan));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floors_in_the_syntax_each_version_reads() {
        assert_eq!(protocol_floor("TLSv1.2", Version::new(3, 6)), ">=TLSv1.2");
        assert_eq!(
            protocol_floor("TLSv1.2", Version::new(3, 5)),
            "!SSLv2, !SSLv3, !TLSv1, !TLSv1.1"
        );
        assert_eq!(
            protocol_floor("TLSv1", Version::new(3, 4)),
            "!SSLv2, !SSLv3"
        );
    }

    #[test]
    fn relay_hosts_skip_mx_lookups() {
        assert_eq!(
            normalize_relayhost("smtp.example.net").unwrap().0,
            "[smtp.example.net]:587"
        );
        assert_eq!(
            normalize_relayhost("[smtp.example.net]:465").unwrap(),
            ("[smtp.example.net]:465".to_owned(), 465)
        );
        assert_eq!(
            normalize_relayhost("smtp.example.net:2525").unwrap().0,
            "[smtp.example.net]:2525"
        );
        assert!(normalize_relayhost("[smtp.example.net").is_err());
        assert!(normalize_relayhost("smtp example").is_err());
        assert!(normalize_relayhost("host:99999").is_err());
    }
}
