//! What a rule looks at (`applies: { to: … }`): main.cf as a whole, or each service of a
//! role, each with the scope its values are read in.

use serde::Deserialize;

use crate::model::config::{Config, Daemon, Scope};
use crate::model::{ListenerKind, Roles};

/// The kinds of subject a rule can apply to.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum SubjectKind {
    /// The configuration as a whole (main.cf values).
    #[default]
    Main,
    /// Each smtpd that serves a public port-25 listener (behind postscreen: the `pass`
    /// service it hands clients to).
    Mx,
    /// Each smtpd listening on port 587 beyond loopback.
    Submission,
    /// Each smtpd listening on port 465 beyond loopback.
    Submissions,
    /// Every smtpd service.
    Smtpd,
    /// Each smtpd that serves a listener reachable beyond loopback, on any port.
    PublicSmtpd,
    /// The SMTP client that delivers mail for other domains straight to their MX hosts
    /// (only when the host does that: no relayhost, no next hop in `default_transport`).
    DirectDelivery,
    /// Each SMTP client transport that carries mail to a fixed relay.
    RelayClient,
    /// Every SMTP/LMTP client service.
    SmtpClient,
}

impl SubjectKind {
    /// What the kind means, for `pflint rules` and `pflint explain`.
    pub fn describe(self) -> &'static str {
        match self {
            SubjectKind::Main => "the whole configuration",
            SubjectKind::Mx => "public MX (port 25)",
            SubjectKind::Submission => "submission (port 587)",
            SubjectKind::Submissions => "submissions (port 465)",
            SubjectKind::Smtpd => "every smtpd service",
            SubjectKind::PublicSmtpd => "every smtpd reachable from the network",
            SubjectKind::DirectDelivery => "delivery to other domains' MX hosts",
            SubjectKind::RelayClient => "delivery to a relay host",
            SubjectKind::SmtpClient => "every SMTP/LMTP client",
        }
    }
}

/// One thing a rule is checked against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subject {
    /// Where its values are read.
    pub scope: Scope,
    /// The master.cf service that makes it what it is (the listener for an MX).
    pub service: Option<usize>,
    /// Its role, as findings name it: `public MX (port 25)`, …
    pub role: Option<&'static str>,
    /// For relay clients: the relay (index in [`Roles::relays`]).
    pub relay: Option<usize>,
}

impl Subject {
    fn main() -> Subject {
        Subject {
            scope: Scope::Main,
            service: None,
            role: None,
            relay: None,
        }
    }
}

/// The subjects of `kind` in this configuration, one at a time: a large master.cf has a
/// hundred thousand services, and every rule walks them.
pub fn subjects<'c>(
    kind: SubjectKind,
    config: &'c Config<'_>,
    roles: &'c Roles,
) -> Box<dyn Iterator<Item = Subject> + 'c> {
    let listeners = |wanted: Option<ListenerKind>,
                     role: &'static str|
     -> Box<dyn Iterator<Item = Subject> + 'c> {
        Box::new(
            roles
                .listeners
                .iter()
                .filter(move |l| wanted.is_none_or(|k| l.kind == k) && !l.loopback_only)
                .map(move |l| Subject {
                    scope: Scope::Service(l.session().unwrap_or(l.service)),
                    service: Some(l.service),
                    role: Some(role),
                    relay: None,
                }),
        )
    };
    match kind {
        SubjectKind::Main => Box::new(std::iter::once(Subject::main())),
        SubjectKind::Mx => listeners(Some(ListenerKind::Mx), "public MX on port 25"),
        SubjectKind::Submission => {
            listeners(Some(ListenerKind::Submission), "submission on port 587")
        }
        SubjectKind::Submissions => listeners(
            Some(ListenerKind::Submissions),
            "submission with implicit TLS on port 465",
        ),
        SubjectKind::PublicSmtpd => listeners(None, "reachable from the network"),
        SubjectKind::Smtpd => Box::new(
            config
                .services()
                .iter()
                .enumerate()
                .filter(|(_, s)| s.daemon() == Daemon::Smtpd)
                .map(|(i, _)| Subject {
                    scope: Scope::Service(i),
                    service: Some(i),
                    role: Some("SMTP server"),
                    relay: None,
                }),
        ),
        SubjectKind::DirectDelivery => {
            if !roles.direct_delivery {
                return Box::new(std::iter::empty());
            }
            let transport = config
                .text(Scope::Main, "default_transport")
                .map(|t| {
                    let t = String::from_utf8_lossy(&t).into_owned();
                    t.split(':').next().unwrap_or_default().trim().to_owned()
                })
                .unwrap_or_default();
            Box::new(std::iter::once(client(
                config,
                &transport,
                "delivery to other domains' MX hosts",
                None,
            )))
        }
        SubjectKind::RelayClient => {
            let mut subjects: Vec<Subject> = Vec::new();
            for (i, relay) in roles.relays.iter().enumerate() {
                if relay.transport.is_empty() {
                    continue;
                }
                let subject = client(
                    config,
                    &relay.transport,
                    "delivery to a relay host",
                    Some(i),
                );
                if !subjects.iter().any(|s| s.scope == subject.scope) {
                    subjects.push(subject);
                }
            }
            Box::new(subjects.into_iter())
        }
        SubjectKind::SmtpClient => {
            let clients = config
                .services()
                .iter()
                .enumerate()
                .filter(|(_, s)| matches!(s.daemon(), Daemon::Smtp | Daemon::Lmtp) && s.is_unix())
                .map(|(i, _)| Subject {
                    scope: Scope::Service(i),
                    service: Some(i),
                    role: Some("SMTP client"),
                    relay: None,
                });
            let mut clients = clients.peekable();
            if clients.peek().is_none() {
                return Box::new(std::iter::once(Subject {
                    role: Some("SMTP client"),
                    ..Subject::main()
                }));
            }
            Box::new(clients)
        }
    }
}

/// The client service a transport name selects (`smtp` → the `smtp unix` row), or main.cf
/// when master.cf has no such row.
fn client(
    config: &Config<'_>,
    transport: &str,
    role: &'static str,
    relay: Option<usize>,
) -> Subject {
    let found = config
        .services()
        .iter()
        .position(|s| s.is_unix() && s.name() == transport.as_bytes());
    Subject {
        scope: found.map_or(Scope::Main, Scope::Service),
        service: found,
        role: Some(role),
        relay,
    }
}
