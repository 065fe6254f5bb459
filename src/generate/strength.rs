//! What "weaker" means, service by service, so that `generate -c` can promise never to
//! make a configuration weaker.
//!
//! Each smtpd service has a server posture: its TLS level (none < may < encrypt), whether
//! AUTH waits for TLS, the protocols and cipher grade mandatory TLS accepts, and which
//! restriction lists admit SASL-authenticated clients only. Each SMTP/LMTP client
//! transport has a client posture: whether it uses TLS at all, whether TLS is mandatory,
//! how the peer is authenticated (none < DANE where published < always), whether DANE can
//! work (DNSSEC lookups on), the TLS policy tables it consults, and the mandatory protocols
//! and cipher grade. A change is weaker when any one property of any service goes down.
//!
//! Two changes are corrections rather than weakenings, because the rules call the
//! original an error: mandatory TLS on a public port 25 becomes `may` (PF201), and
//! mandatory TLS for delivery straight to other domains' MX hosts becomes `may`, or `dane`
//! from `dane-only` (PF101). The generator says so in a comment beside each.

use std::fmt;

use crate::diagnostic::Code;
use crate::model::config::Daemon;
use crate::model::subject::{SubjectKind, subjects};
use crate::model::tls::{CipherGrade, Protocols};
use crate::model::{Config, ListenerKind, Roles, Scope, TlsLevel, TlsSide};

/// The restriction lists whose SASL-only form is a property.
const RESTRICTION_LISTS: [&str; 5] = [
    "smtpd_client_restrictions",
    "smtpd_helo_restrictions",
    "smtpd_sender_restrictions",
    "smtpd_relay_restrictions",
    "smtpd_recipient_restrictions",
];

/// What a service is for, where it decides which changes are corrections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Duty {
    /// An smtpd behind a public port-25 listener.
    PublicMx,
    /// The client that delivers to other domains' MX hosts.
    DirectDelivery,
    /// Anything else.
    Other,
}

/// The TLS properties of an smtpd service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerTls {
    /// none, may or encrypt (implicit TLS counts as encrypt).
    pub level: Option<TlsLevel>,
    /// AUTH only after STARTTLS (`smtpd_tls_auth_only`, implied by encrypt).
    pub auth_only: Option<bool>,
    /// What mandatory TLS accepts.
    pub mandatory_protocols: Option<Protocols>,
    /// The mandatory cipher grade.
    pub mandatory_grade: Option<CipherGrade>,
    /// The restriction lists that admit SASL-authenticated clients only.
    pub sasl_only: Vec<&'static str>,
}

/// The TLS properties of an SMTP or LMTP client transport.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientTls {
    /// The TLS level.
    pub level: Option<TlsLevel>,
    /// DANE can take effect: a DANE level and DNSSEC lookups.
    pub dane: bool,
    /// The TLS policy tables consulted (`*_tls_policy_maps`, `*_tls_per_site`).
    pub policy_maps: Vec<String>,
    /// What mandatory TLS accepts.
    pub mandatory_protocols: Option<Protocols>,
    /// The mandatory cipher grade.
    pub mandatory_grade: Option<CipherGrade>,
}

/// A service's properties, by side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Properties {
    /// An smtpd service.
    Server(ServerTls),
    /// An SMTP or LMTP client.
    Client(ClientTls),
}

/// One service's TLS posture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Posture {
    /// `name/type`, as master.cf names the service.
    pub service: String,
    /// What it is for.
    pub duty: Duty,
    /// Its properties.
    pub properties: Properties,
}

/// A property that went down.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Weakening {
    /// The service.
    pub service: String,
    /// The property (`TLS level`, `mandatory protocols`, …).
    pub property: &'static str,
    /// Before and after, in words.
    pub before: String,
    /// After.
    pub after: String,
    /// The rule that calls the original an error, when the change is its correction.
    pub correction: Option<Code>,
}

impl fmt::Display for Weakening {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} from {} to {}",
            self.service, self.property, self.before, self.after
        )?;
        if let Some(code) = self.correction {
            write!(f, " (correction of {code})")?;
        }
        Ok(())
    }
}

/// The posture of every smtpd service and every SMTP/LMTP client of a configuration.
pub fn postures(config: &Config<'_>, roles: &Roles) -> Vec<Posture> {
    let public_mx: std::collections::HashSet<usize> = roles
        .listeners
        .iter()
        .filter(|l| l.kind == ListenerKind::Mx && !l.loopback_only)
        .map(|l| l.session().unwrap_or(l.service))
        .collect();
    let direct: std::collections::HashSet<usize> =
        subjects(SubjectKind::DirectDelivery, config, roles)
            .filter_map(|s| match s.scope {
                Scope::Service(i) => Some(i),
                Scope::Main => None,
            })
            .collect();
    let mut found: Vec<Posture> = Vec::new();
    let mut main_sasl_only = MainSaslOnly::new();
    // By namespace (name and type): the posture found for each, without a copy of its
    // name.
    let mut at: Vec<Option<usize>> = vec![None; config.namespace_count()];
    for (index, service) in config.services().iter().enumerate() {
        let scope = Scope::Service(index);
        let properties = match (service.is_unix(), service.daemon()) {
            (_, Daemon::Smtpd) => Properties::Server(server(config, scope, &mut main_sasl_only)),
            (true, Daemon::Smtp) => Properties::Client(client(config, scope, TlsSide::SmtpClient)),
            (true, Daemon::Lmtp) => Properties::Client(client(config, scope, TlsSide::LmtpClient)),
            _ => continue,
        };
        let name = service.name_type();
        let duty = if public_mx.contains(&index) {
            Duty::PublicMx
        } else if direct.contains(&index) {
            Duty::DirectDelivery
        } else {
            Duty::Other
        };
        // The master daemon uses the last of duplicate entries.
        let posture = Posture {
            service: name,
            duty,
            properties,
        };
        match at.get_mut(service.namespace()) {
            Some(Some(i)) => found[*i] = posture,
            Some(slot) => {
                *slot = Some(found.len());
                found.push(posture);
            }
            None => found.push(posture),
        }
    }
    found
}

fn text(config: &Config<'_>, scope: Scope, name: &str) -> Option<String> {
    config
        .text(scope, name)
        .ok()
        .map(|v| String::from_utf8_lossy(&v).into_owned())
}

/// Whether each restriction list of main.cf admits only SASL clients, as far as found:
/// the services that inherit a list share its answer (a long list read by each of a
/// hundred thousand services was quadratic).
type MainSaslOnly = std::collections::HashMap<&'static str, bool>;

fn server(config: &Config<'_>, scope: Scope, main_sasl_only: &mut MainSaslOnly) -> ServerTls {
    let level = config
        .tls_level(scope, TlsSide::Server)
        .ok()
        .map(|t| t.level);
    let auth_only = config
        .boolean(scope, "smtpd_tls_auth_only")
        .ok()
        .map(|only| only || level == Some(TlsLevel::Encrypt));
    let admits_only_sasl = |name: &str| {
        config
            .list(scope, name)
            .is_ok_and(|elements| admits_only_sasl(&elements))
    };
    let sasl_only = RESTRICTION_LISTS
        .into_iter()
        .filter(|&name| match config.value_scope(scope, name) {
            Scope::Main => *main_sasl_only
                .entry(name)
                .or_insert_with(|| admits_only_sasl(name)),
            Scope::Service(_) => admits_only_sasl(name),
        })
        .collect();
    ServerTls {
        level,
        auth_only,
        mandatory_protocols: text(config, scope, "smtpd_tls_mandatory_protocols")
            .map(|v| Protocols::parse(&v)),
        mandatory_grade: text(config, scope, "smtpd_tls_mandatory_ciphers")
            .and_then(|v| CipherGrade::parse(&v)),
        sasl_only,
    }
}

fn client(config: &Config<'_>, scope: Scope, side: TlsSide) -> ClientTls {
    let prefix = match side {
        TlsSide::LmtpClient => "lmtp",
        _ => "smtp",
    };
    let level = config.tls_level(scope, side).ok().map(|t| t.level);
    let dnssec = text(config, scope, &format!("{prefix}_dns_support_level"))
        .is_some_and(|v| v.trim() == "dnssec");
    let mut policy_maps = Vec::new();
    for name in [
        format!("{prefix}_tls_policy_maps"),
        format!("{prefix}_tls_per_site"),
    ] {
        if let Ok(elements) = config.list(scope, &name) {
            policy_maps.extend(
                elements
                    .iter()
                    .map(|e| format!("{name}: {}", String::from_utf8_lossy(e))),
            );
        }
    }
    ClientTls {
        level,
        dane: dnssec && matches!(level, Some(TlsLevel::Dane | TlsLevel::DaneOnly)),
        policy_maps,
        mandatory_protocols: text(config, scope, &format!("{prefix}_tls_mandatory_protocols"))
            .map(|v| Protocols::parse(&v)),
        mandatory_grade: text(config, scope, &format!("{prefix}_tls_mandatory_ciphers"))
            .and_then(|v| CipherGrade::parse(&v)),
    }
}

/// Whether a restriction list lets in SASL-authenticated clients and rejects everyone
/// else: only `permit_sasl_authenticated` and rejecting checks before an unconditional
/// `reject` (or `defer`). Any other element might admit someone, so the list does not
/// count.
pub fn admits_only_sasl(elements: &[Vec<u8>]) -> bool {
    let mut sasl = false;
    for element in elements {
        match element.as_slice() {
            b"permit_sasl_authenticated" => sasl = true,
            b"reject" | b"defer" => return sasl,
            e if e.starts_with(b"reject_") || e.starts_with(b"defer_") => {}
            _ => return false,
        }
    }
    false
}

/// How a client level authenticates the peer: 0 never, 1 where DNSSEC-signed TLSA
/// records exist, 2 always.
fn authentication(level: TlsLevel) -> u8 {
    match level {
        TlsLevel::None | TlsLevel::May | TlsLevel::Encrypt => 0,
        TlsLevel::Dane => 1,
        TlsLevel::Fingerprint | TlsLevel::DaneOnly | TlsLevel::Verify | TlsLevel::Secure => 2,
    }
}

/// Whether client level `after` is weaker than `before` in some respect: TLS at all,
/// TLS required, or peer authentication.
pub fn client_level_weaker(before: TlsLevel, after: TlsLevel) -> bool {
    (before != TlsLevel::None && after == TlsLevel::None)
        || (before.is_mandatory() && !after.is_mandatory())
        || authentication(after) < authentication(before)
}

/// The client level to write where `planned` is asked for and `current` is in place: the
/// planned one unless that is weaker in some respect; then the current one unless that
/// falls short of the plan; else the least level that is neither (`dane` and `encrypt`
/// give `secure`: mandatory, and authenticated).
pub fn client_join(current: TlsLevel, planned: TlsLevel) -> TlsLevel {
    [planned, current, TlsLevel::Secure, TlsLevel::DaneOnly]
        .into_iter()
        .find(|l| !client_level_weaker(current, *l) && !client_level_weaker(planned, *l))
        .unwrap_or(current)
}

fn server_rank(level: TlsLevel) -> u8 {
    match level {
        TlsLevel::None => 0,
        TlsLevel::May => 1,
        _ => 2,
    }
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_owned()
}

fn protocols(p: Protocols) -> String {
    p.enabled().join(" ")
}

/// Every property that is weaker in `after` than in `before`, service by service
/// (services only one side has are not compared).
pub fn weakenings(before: &[Posture], after: &[Posture]) -> Vec<Weakening> {
    let mut found = Vec::new();
    let after: std::collections::HashMap<&str, &Posture> =
        after.iter().map(|p| (p.service.as_str(), p)).collect();
    for old in before {
        let Some(new) = after.get(old.service.as_str()) else {
            continue;
        };
        let mut weaker = |property: &'static str, b: String, a: String, correction| {
            found.push(Weakening {
                service: old.service.clone(),
                property,
                before: b,
                after: a,
                correction,
            });
        };
        let (floors, grades) = match (&old.properties, &new.properties) {
            (Properties::Server(o), Properties::Server(n)) => {
                if let (Some(b), Some(a)) = (o.level, n.level)
                    && server_rank(a) < server_rank(b)
                {
                    let correction =
                        (old.duty == Duty::PublicMx && a == TlsLevel::May).then_some(Code::PF201);
                    weaker("TLS level", b.to_string(), a.to_string(), correction);
                }
                if let (Some(true), Some(false)) = (o.auth_only, n.auth_only) {
                    weaker("AUTH only after TLS", yes_no(true), yes_no(false), None);
                }
                for list in &o.sasl_only {
                    if !n.sasl_only.contains(list) {
                        weaker(
                            "SASL-only restrictions",
                            format!("{list} admits SASL clients only"),
                            format!("{list} admits others"),
                            None,
                        );
                    }
                }
                (
                    (o.mandatory_protocols, n.mandatory_protocols),
                    (o.mandatory_grade, n.mandatory_grade),
                )
            }
            (Properties::Client(o), Properties::Client(n)) => {
                if let (Some(b), Some(a)) = (o.level, n.level)
                    && client_level_weaker(b, a)
                {
                    let corrected_to = matches!(a, TlsLevel::May | TlsLevel::Dane)
                        && !(a == TlsLevel::May && b == TlsLevel::Dane);
                    let correction =
                        (old.duty == Duty::DirectDelivery && b.is_mandatory() && corrected_to)
                            .then_some(Code::PF101);
                    weaker("TLS level", b.to_string(), a.to_string(), correction);
                }
                // A level that authenticates every peer covers where DANE would.
                let always = n.level.is_some_and(|l| authentication(l) == 2);
                if o.dane && !n.dane && !always {
                    weaker("DANE", yes_no(true), yes_no(false), None);
                }
                for map in &o.policy_maps {
                    if !n.policy_maps.contains(map) {
                        weaker("TLS policy table", map.clone(), "absent".to_owned(), None);
                    }
                }
                (
                    (o.mandatory_protocols, n.mandatory_protocols),
                    (o.mandatory_grade, n.mandatory_grade),
                )
            }
            _ => continue,
        };
        if let (Some(b), Some(a)) = floors
            && !a.within(b)
        {
            weaker("mandatory protocols", protocols(b), protocols(a), None);
        }
        if let (Some(b), Some(a)) = grades
            && a < b
        {
            weaker(
                "mandatory cipher grade",
                b.name().to_owned(),
                a.name().to_owned(),
                None,
            );
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::value;

    fn list(text: &str) -> Vec<Vec<u8>> {
        value::elements(text.as_bytes())
            .into_iter()
            .map(<[u8]>::to_vec)
            .collect()
    }

    #[test]
    fn sasl_only_lists() {
        assert!(admits_only_sasl(&list("permit_sasl_authenticated, reject")));
        assert!(admits_only_sasl(&list(
            "reject_non_fqdn_recipient permit_sasl_authenticated reject"
        )));
        assert!(!admits_only_sasl(&list(
            "permit_mynetworks, permit_sasl_authenticated, reject"
        )));
        assert!(!admits_only_sasl(&list("permit_sasl_authenticated")));
        assert!(!admits_only_sasl(&list("reject")));
    }

    #[test]
    fn client_levels_order_by_tls_mandatory_and_authentication() {
        let weaker = |b: &str, a: &str| {
            client_level_weaker(
                TlsLevel::parse(b.as_bytes()).expect("a level"),
                TlsLevel::parse(a.as_bytes()).expect("a level"),
            )
        };
        assert!(weaker("dane", "may"));
        assert!(weaker("dane-only", "dane"));
        assert!(weaker("encrypt", "may"));
        assert!(weaker("may", "none"));
        assert!(weaker("secure", "encrypt"));
        assert!(weaker("secure", "dane"));
        assert!(!weaker("may", "dane"));
        assert!(!weaker("encrypt", "secure"));
        assert!(!weaker("verify", "secure"));
        assert!(!weaker("dane", "dane-only"));
    }

    #[test]
    fn joins_keep_what_either_side_has() {
        let join = |c: &str, p: &str| {
            client_join(
                TlsLevel::parse(c.as_bytes()).expect("a level"),
                TlsLevel::parse(p.as_bytes()).expect("a level"),
            )
            .to_string()
        };
        assert_eq!(join("may", "secure"), "secure");
        assert_eq!(join("secure", "encrypt"), "secure");
        assert_eq!(join("dane", "encrypt"), "secure");
        assert_eq!(join("dane", "secure"), "secure");
        assert_eq!(join("dane-only", "encrypt"), "dane-only");
        assert_eq!(join("none", "encrypt"), "encrypt");
    }
}
