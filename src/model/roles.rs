//! The jobs a configuration gives its host, so that rules judge a setting by where it
//! matters: opportunistic TLS on a public MX, mandatory TLS towards a smarthost, TLS and
//! authentication on submission ports, and nothing listening on a null client.
//!
//! Derived from the model alone: master.cf listeners with their ports and addresses,
//! `inet_interfaces`, `mydestination`, `relayhost`, the transports' next hops and the
//! sender-dependent maps. Lookup tables (`transport_maps`, …) are not read, so a route
//! they add is not seen.

use std::collections::HashMap;

use super::config::{Config, Daemon, Scope, ServiceEntry};
use super::value;

/// A master.cf service that accepts SMTP connections from the network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listener {
    /// The service (index in [`Config::services`]).
    pub service: usize,
    /// The program that accepts the connections.
    pub program: Program,
    /// The TCP port, when the service name gives one pflint knows.
    pub port: Option<u16>,
    /// The address from the service name (`127.0.0.1:smtp`), if it has one.
    pub address: Option<Box<str>>,
    /// Whether it listens on loopback addresses only.
    pub loopback_only: bool,
    /// What the port is for.
    pub kind: ListenerKind,
    /// For `postscreen`, the `smtpd` `pass` service it hands clients to (see
    /// [`Listener::session`]); none for `smtpd`, which holds its own sessions.
    handoff: Option<usize>,
}

impl Listener {
    /// The service whose `smtpd` holds the SMTP sessions: the listener itself, or for
    /// `postscreen` the `smtpd` `pass` service it hands clients to (none when it has
    /// none).
    pub fn session(&self) -> Option<usize> {
        match self.program {
            Program::Smtpd => Some(self.service),
            Program::Postscreen => self.handoff,
        }
    }
}

/// The program behind a [`Listener`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Program {
    /// `smtpd`.
    Smtpd,
    /// `postscreen`, in front of `smtpd`.
    Postscreen,
}

/// What an SMTP port is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListenerKind {
    /// Port 25: mail from other MTAs (RFC 5321). STARTTLS must stay optional (RFC 3207).
    Mx,
    /// Port 587: submission by users' clients, STARTTLS then AUTH (RFC 6409).
    Submission,
    /// Port 465: submission over implicit TLS (RFC 8314).
    Submissions,
    /// Any other port (content filter re-injection, a private relay port, …).
    Other,
}

/// A route that sends mail to a fixed next hop instead of the recipients' MX hosts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Relay {
    /// The parameter that sets it up.
    pub parameter: &'static str,
    /// The next hop (`[smtp.example.com]:587`), or the lookup table that names next hops.
    pub destination: String,
    /// The transport that carries the mail: a master.cf service name such as `smtp` or
    /// `relay`; empty when the parameter names tables of transports.
    pub transport: String,
}

/// The jobs of the host.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Roles {
    /// Every SMTP listener in master.cf.
    pub listeners: Vec<Listener>,
    /// The fixed next hops mail is relayed to.
    pub relays: Vec<Relay>,
    /// Whether mail to other domains goes straight to the recipients' MX hosts: no
    /// relayhost, no next hop in `default_transport`, no sender-dependent routing.
    pub direct_delivery: bool,
    /// Whether `mydestination` is empty, so that no domain is delivered locally.
    pub no_local_domains: bool,
}

impl Roles {
    /// Listeners on port 25 reachable from the network: the host is a public MX.
    pub fn public_mx(&self) -> impl Iterator<Item = &Listener> {
        self.public(ListenerKind::Mx)
    }

    /// Listeners on ports 587 and 465 reachable from the network.
    pub fn submission(&self) -> impl Iterator<Item = &Listener> {
        self.listeners.iter().filter(|l| {
            !l.loopback_only
                && matches!(l.kind, ListenerKind::Submission | ListenerKind::Submissions)
        })
    }

    fn public(&self, kind: ListenerKind) -> impl Iterator<Item = &Listener> {
        self.listeners
            .iter()
            .filter(move |l| l.kind == kind && !l.loopback_only)
    }

    /// Whether the host receives mail for its domains from the Internet.
    pub fn is_public_mx(&self) -> bool {
        self.public_mx().next().is_some()
    }

    /// Whether the host accepts mail from users' clients on a submission port.
    pub fn is_submission_server(&self) -> bool {
        self.submission().next().is_some()
    }

    /// Whether the host hands (some) outgoing mail to a fixed relay.
    pub fn is_smarthost_client(&self) -> bool {
        !self.relays.is_empty()
    }

    /// A null client (Postfix's STANDARD_CONFIGURATION_README): it accepts no mail from
    /// the network and delivers none locally; it only sends.
    pub fn is_null_client(&self) -> bool {
        self.no_local_domains && self.listeners.iter().all(|l| l.loopback_only)
    }
}

impl Config<'_> {
    /// The jobs this configuration gives the host.
    pub fn roles(&self) -> Roles {
        // The `pass` services by name, for postscreen's handoff: found once, not by a
        // search of every service for each postscreen. Of entries with the same name
        // and type, the master daemon runs only the last (master_conf.c).
        let mut passes: HashMap<&[u8], usize> = HashMap::new();
        for (index, service) in self.services().iter().enumerate() {
            if service.kind() == b"pass" {
                passes.insert(service.name(), index);
            }
        }
        let listeners = self
            .services()
            .iter()
            .enumerate()
            .filter_map(|(index, service)| self.listener(index, service, &passes))
            .collect();
        let relays = self.relays();
        let direct_delivery = !relays.iter().any(|r| {
            matches!(
                r.parameter,
                "relayhost"
                    | "default_transport"
                    | "sender_dependent_relayhost_maps"
                    | "sender_dependent_default_transport_maps"
            )
        });
        let no_local_domains = self
            .text(Scope::Main, "mydestination")
            .is_ok_and(|v| value::elements(&v).is_empty());
        Roles {
            listeners,
            relays,
            direct_delivery,
            no_local_domains,
        }
    }

    fn listener(
        &self,
        index: usize,
        service: &ServiceEntry<'_>,
        passes: &HashMap<&[u8], usize>,
    ) -> Option<Listener> {
        let program = match service.daemon() {
            Daemon::Smtpd => Program::Smtpd,
            Daemon::Postscreen => Program::Postscreen,
            _ => return None,
        };
        if service.kind() != b"inet" {
            return None;
        }
        let name = String::from_utf8_lossy(service.name()).into_owned();
        let (address, port_name) = match name.rsplit_once(':') {
            Some((host, port)) => (
                Some(Box::<str>::from(
                    host.trim_start_matches('[').trim_end_matches(']'),
                )),
                port,
            ),
            None => (None, name.as_str()),
        };
        let port = port_number(port_name);
        let loopback_only = match &address {
            Some(host) => is_loopback(host),
            None => self.listens_on_loopback_only(),
        };
        let kind = match port {
            Some(25) => ListenerKind::Mx,
            Some(587) => ListenerKind::Submission,
            Some(465) => ListenerKind::Submissions,
            _ => ListenerKind::Other,
        };
        let handoff = match program {
            Program::Smtpd => None,
            Program::Postscreen => self.postscreen_handoff(index, passes),
        };
        Some(Listener {
            service: index,
            program,
            port,
            address,
            loopback_only,
            kind,
            handoff,
        })
    }

    /// Whether `inet_interfaces` names loopback addresses only.
    fn listens_on_loopback_only(&self) -> bool {
        let Ok(interfaces) = self.text(Scope::Main, "inet_interfaces") else {
            return false;
        };
        let elements = value::elements(&interfaces);
        !elements.is_empty()
            && elements.iter().all(|e| {
                let e = String::from_utf8_lossy(e);
                e.eq_ignore_ascii_case("loopback-only")
                    || is_loopback(e.trim_start_matches('[').trim_end_matches(']'))
            })
    }

    /// The `smtpd` `pass` service a postscreen service hands clients to
    /// (`smtpd_service_name`, `smtpd` by default).
    fn postscreen_handoff(
        &self,
        postscreen: usize,
        passes: &HashMap<&[u8], usize>,
    ) -> Option<usize> {
        let target = self
            .text(Scope::Service(postscreen), "smtpd_service_name")
            .unwrap_or_else(|_| b"smtpd".to_vec());
        passes.get(target.as_slice()).copied()
    }

    fn relays(&self) -> Vec<Relay> {
        let text = |name: &str| {
            self.text(Scope::Main, name)
                .map(|v| String::from_utf8_lossy(&v).trim().to_owned())
                .unwrap_or_default()
        };
        let transport_of = |name: &str| {
            let value = text(name);
            match value.split_once(':') {
                Some((transport, nexthop)) => (transport.to_owned(), nexthop.to_owned()),
                None => (value, String::new()),
            }
        };
        let (default_transport, default_nexthop) = transport_of("default_transport");
        let (relay_transport, relay_nexthop) = transport_of("relay_transport");
        let mut relays = Vec::new();
        let mut add = |parameter: &'static str, destination: String, transport: &str| {
            if !destination.is_empty() {
                relays.push(Relay {
                    parameter,
                    destination,
                    transport: transport.to_owned(),
                });
            }
        };
        add("relayhost", text("relayhost"), &default_transport);
        add("default_transport", default_nexthop, &default_transport);
        add("relay_transport", relay_nexthop, &relay_transport);
        add(
            "sender_dependent_relayhost_maps",
            text("sender_dependent_relayhost_maps"),
            &default_transport,
        );
        add(
            "sender_dependent_default_transport_maps",
            text("sender_dependent_default_transport_maps"),
            "",
        );
        relays
    }
}

/// The port of a service name: a number, or one of the names `/etc/services` gives the
/// SMTP ports.
fn port_number(name: &str) -> Option<u16> {
    match name {
        "smtp" => Some(25),
        "submission" => Some(587),
        "submissions" | "smtps" | "ssmtp" | "urd" => Some(465),
        "lmtp" => Some(24),
        _ => name.parse().ok(),
    }
}

/// Whether a host name or address is this host's loopback (`localhost`, 127/8, ::1).
pub(crate) fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}
