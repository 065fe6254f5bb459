//! From a configuration and what its files hold to the records to publish: which keys
//! smtpd serves on each port (SNI included), the TLSA records for them and for the next
//! key, what a published record set lacks, and whether an MX would pass MTA-STS.

use std::cell::OnceCell;
use std::collections::BTreeSet;

use serde::Serialize;

use super::mta_sts::{Mode, Policy};
use crate::material::Tls;
use crate::material::cert::Certificate;
use crate::material::load::Chain;
use crate::material::read::Object;
use crate::model::config::{Config, Scope};
use crate::model::roles::Roles;
use crate::model::tls::Protocols;
use crate::model::typed::TlsSide;
use crate::tlsa::zone::Published;
use crate::tlsa::{self, Tlsa};

/// What to print records for.
#[derive(Clone, Debug)]
pub struct Request {
    /// Mail domains (MTA-STS, TLS-RPT).
    pub domains: Vec<String>,
    /// MX host names (TLSA owners, the policy's `mx:` lines).
    pub mx: Vec<String>,
    /// TTL of the records, in seconds.
    pub ttl: u32,
    /// TCP ports to publish TLSA records for.
    pub ports: Vec<u16>,
    /// Also a `2 1 1` record for the CA that issued each leaf.
    pub issuer: bool,
    /// The next keys, each read from a key, certificate or chain file.
    pub next: Vec<NextFile>,
    /// Published records to check against (`--check-tlsa`).
    pub published: Option<Vec<Published>>,
    /// The MTA-STS mode asked for.
    pub mode: Mode,
    /// The MTA-STS `max_age`.
    pub max_age: u32,
    /// TLS-RPT report addresses (`mailto:` or `https:` URIs).
    pub rua: Vec<String>,
    /// The CA certificates senders trust.
    pub public_roots: Roots,
    /// Seconds since the epoch (certificate validity).
    pub now: i64,
}

/// The subjects of the CA certificates MTA-STS senders trust, read on first use: only a
/// chain that is not self-signed is judged against them, and parsing the system's ~150
/// CA certificates costs more than everything else `pflint dns` does.
#[derive(Clone, Debug)]
pub struct Roots {
    /// A CA bundle given instead of the system's.
    bundle: Option<Vec<u8>>,
    subjects: OnceCell<BTreeSet<String>>,
}

impl Roots {
    /// The system's CA bundle.
    pub fn system() -> Roots {
        Roots {
            bundle: None,
            subjects: OnceCell::new(),
        }
    }

    /// The certificates of a CA bundle's bytes (`--ca-file`).
    pub fn bundle(bytes: Vec<u8>) -> Roots {
        Roots {
            bundle: Some(bytes),
            subjects: OnceCell::new(),
        }
    }

    fn subjects(&self) -> &BTreeSet<String> {
        self.subjects.get_or_init(|| match &self.bundle {
            Some(bytes) => crate::material::roots_in(bytes),
            None => crate::material::system_roots(),
        })
    }
}

/// A file given as the next key: its name and bytes.
#[derive(Clone, Debug)]
pub struct NextFile {
    /// The path as given.
    pub path: String,
    /// Its contents.
    pub bytes: Vec<u8>,
}

/// Which key a record is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyRole {
    /// A key smtpd uses now.
    Current,
    /// The key that replaces it.
    Next,
    /// The CA that issued a current leaf (DANE-TA).
    Issuer,
}

/// A public key a record is made from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Key {
    /// Current, next or issuer.
    pub role: KeyRole,
    /// `RSA 2048-bit`, `ECDSA P-256`, …
    pub kind: String,
    /// The file, as the configuration or the command line names it.
    pub file: String,
    /// The line of its PEM block.
    pub line: u32,
    /// The certificate's subject, when it came from one.
    pub subject: Option<String>,
    /// The DER SubjectPublicKeyInfo.
    #[serde(skip)]
    pub spki: Vec<u8>,
    /// The certificate's DER, when known (for records that select the certificate).
    #[serde(skip)]
    pub certificate: Option<Vec<u8>>,
}

impl Key {
    fn from_certificate(role: KeyRole, cert: &Certificate, file: &str, line: u32) -> Key {
        Key {
            role,
            kind: cert.key.describe(),
            file: file.to_owned(),
            line,
            subject: Some(cert.subject.clone()),
            spki: cert.spki.clone(),
            certificate: Some(cert.der.clone()),
        }
    }

    /// What a record can match of it.
    pub fn evidence(&self) -> tlsa::Evidence<'_> {
        tlsa::Evidence {
            certificate: self.certificate.as_deref(),
            spki: &self.spki,
        }
    }

    /// `RSA 2048-bit key in FILE line N`.
    pub fn describe(&self) -> String {
        let what = match self.role {
            KeyRole::Issuer => "CA",
            _ => "key",
        };
        format!("{} {what} in {} line {}", self.kind, self.file, self.line)
    }
}

/// One TLSA record to publish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsaRecord {
    /// Owner name (`_25._tcp.mx.example.com.`).
    pub name: String,
    /// TTL.
    pub ttl: u32,
    /// Its data.
    pub tlsa: Tlsa,
    /// The key it is for.
    pub key: Key,
}

impl TlsaRecord {
    /// The zone-file line.
    pub fn line(&self) -> String {
        format!("{} {} IN TLSA {}", self.name, self.ttl, self.tlsa.rdata())
    }
}

/// Whether a key in use has a published record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// Owner name.
    pub name: String,
    /// The key.
    pub key: Key,
    /// Lines of the published records that match it.
    pub matched: Vec<u32>,
    /// The record that would match it.
    pub wanted: TlsaRecord,
}

/// One domain's MTA-STS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MtaSts {
    /// The domain.
    pub domain: String,
    /// The policy to serve (testing when enforce was refused).
    pub policy: Policy,
    /// Why the MX would fail the policy: reasons enforce is refused, or notes in testing.
    pub failures: Vec<String>,
    /// Whether enforce was asked for and refused.
    pub refused: bool,
}

/// Everything `pflint dns` prints.
#[derive(Clone, Debug, Default)]
pub struct Records {
    /// TLSA records, by port and MX name.
    pub tlsa: Vec<TlsaRecord>,
    /// Whether next keys were given (the rollover steps are printed).
    pub rollover: bool,
    /// With `--check-tlsa`: each key's verdict.
    pub verdicts: Option<Vec<Verdict>>,
    /// Published records that match no key in use or next (with the line they are on).
    pub stale: Vec<(u32, String)>,
    /// Per domain.
    pub mta_sts: Vec<MtaSts>,
    /// `_smtp._tls` records: (domain, TXT data).
    pub tls_rpt: Vec<(String, String)>,
    /// Things worth knowing.
    pub notes: Vec<String>,
    /// Things that make the command fail (exit 1).
    pub errors: Vec<String>,
}

/// The smtpd services that accept connections on `port`: the listener itself, or the
/// smtpd service postscreen hands clients to.
fn services_on(roles: &Roles, port: u16) -> Vec<usize> {
    let mut out: Vec<usize> = roles
        .listeners
        .iter()
        .filter(|l| l.port == Some(port))
        .filter_map(|l| l.session())
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The certificate that issued a chain's leaf, when the chain holds it.
fn issuer_of<'t>(tls: &'t Tls, chain: &'t Chain) -> Option<(&'t Certificate, u32, &'t str)> {
    let at = chain.issuer()?;
    tls.certificate(at).map(|c| (c, at.line, at.named.as_str()))
}

/// The keys smtpd serves on `port` to a client asking for `name`, each with the CA that
/// issued its leaf; an error when it serves none.
fn keys_in_use(
    config: &Config<'_>,
    roles: &Roles,
    tls: &Tls,
    port: u16,
    name: &str,
) -> Result<Vec<(Key, Option<Key>)>, String> {
    let services = services_on(roles, port);
    if services.is_empty() {
        return Err(format!(
            "no smtpd service listens on port {port} (master.cf): there is nothing to publish TLSA records for"
        ));
    }
    let mut out: Vec<(Key, Option<Key>)> = Vec::new();
    for index in services {
        let service = String::from_utf8_lossy(config.services()[index].name()).into_owned();
        let Some(engine) = tls.engine(Scope::Service(index), TlsSide::Server) else {
            return Err(format!(
                "smtpd of `{service}` (port {port}) does not start TLS (its smtpd_tls_security_level is none, or no certificate is configured): no key to publish a TLSA record for"
            ));
        };
        // DANE clients send the TLSA base domain as SNI (RFC 7672 section 8.1).
        let (load, sni) = engine.material.load_for(name);
        let whose = sni.map_or_else(String::new, |k| format!(" (SNI entry {k})"));
        if load.failure.is_some() || load.chains.is_empty() {
            return Err(format!(
                "Postfix cannot load the keys of `{service}`{whose} and turns TLS off there; `pflint check --files` says why"
            ));
        }
        for chain in &load.chains {
            let Some(leaf) = tls.certificate(&chain.leaf) else {
                continue;
            };
            let key =
                Key::from_certificate(KeyRole::Current, leaf, &chain.key.named, chain.key.line);
            if out.iter().any(|(k, _)| k.spki == key.spki) {
                continue;
            }
            let issuer = issuer_of(tls, chain)
                .map(|(c, line, file)| Key::from_certificate(KeyRole::Issuer, c, file, line));
            out.push((key, issuer));
        }
    }
    Ok(out)
}

/// The keys of a next-key file: each private key's (with its certificate when the file
/// has it), else the first certificate's; with the CA that issued its certificate when
/// the file holds that too.
fn next_keys(file: &NextFile) -> Result<Vec<(Key, Option<Key>)>, String> {
    let contents = crate::material::read::contents(&file.bytes);
    let certificates: Vec<(&Certificate, u32)> = contents
        .iter()
        .filter_map(|(block, object)| match object {
            Object::Certificate(Ok(c)) => Some((c.as_ref(), block.line)),
            _ => None,
        })
        .collect();
    let issuer = |leaf: &Certificate| {
        certificates
            .iter()
            .find(|(c, _)| c.subject == leaf.issuer && !std::ptr::eq(*c, leaf) && leaf.issued_by(c))
            .map(|(c, line)| Key::from_certificate(KeyRole::Issuer, c, &file.path, *line))
    };
    let mut out = Vec::new();
    for (block, object) in contents.iter() {
        let at = format!("{} line {}", file.path, block.line);
        match object {
            Object::Key(Ok(key)) => {
                let leaf = certificates
                    .iter()
                    .find(|(c, _)| key.public.as_ref() == Some(&c.public))
                    .map(|(c, _)| *c);
                let spki = key.spki.clone().or_else(|| leaf.map(|c| c.spki.clone()));
                let Some(spki) = spki else {
                    return Err(format!(
                        "pflint cannot work out the public half of the {} key at {at}: give its certificate instead",
                        key.kind.describe()
                    ));
                };
                out.push((
                    Key {
                        role: KeyRole::Next,
                        kind: key.kind.describe(),
                        file: file.path.clone(),
                        line: block.line,
                        subject: leaf.map(|c| c.subject.clone()),
                        spki,
                        certificate: leaf.map(|c| c.der.clone()),
                    },
                    leaf.and_then(issuer),
                ));
            }
            Object::Key(Err(why)) => return Err(format!("the private key at {at}: {why}")),
            Object::EncryptedKey => {
                return Err(format!(
                    "the private key at {at} is encrypted: give its certificate, or the key decrypted"
                ));
            }
            _ => {}
        }
    }
    if out.is_empty() {
        let Some((leaf, line)) = certificates.first() else {
            return Err(format!(
                "{}: no private key or certificate pflint can read",
                file.path
            ));
        };
        let mut key = Key::from_certificate(KeyRole::Next, leaf, &file.path, *line);
        key.role = KeyRole::Next;
        out.push((key, issuer(leaf)));
    }
    Ok(out)
}

/// The records for `request`, from the configuration, its roles and its TLS material.
pub fn plan(config: &Config<'_>, roles: &Roles, tls: &Tls, request: &Request) -> Records {
    let mut out = Records {
        rollover: !request.next.is_empty(),
        ..Records::default()
    };
    let mut next = Vec::new();
    for file in &request.next {
        match next_keys(file) {
            Ok(keys) => next.extend(keys),
            Err(why) => out.errors.push(why),
        }
    }
    let mut verdicts = Vec::new();
    let mut issuers_noted = false;
    for &port in &request.ports {
        for mx in &request.mx {
            let name = tlsa::owner(port, mx);
            let current = match keys_in_use(config, roles, tls, port, mx) {
                Ok(keys) => keys,
                Err(why) => {
                    if !out.errors.contains(&why) {
                        out.errors.push(why);
                    }
                    continue;
                }
            };
            let add = |key: &Key, usage: u8, out: &mut Records| -> TlsaRecord {
                let record = TlsaRecord {
                    name: name.clone(),
                    ttl: request.ttl,
                    tlsa: Tlsa::of_public_key(usage, &key.spki),
                    key: key.clone(),
                };
                if !out
                    .tlsa
                    .iter()
                    .any(|r| r.name == record.name && r.tlsa == record.tlsa)
                {
                    out.tlsa.push(record.clone());
                }
                record
            };
            for (key, issuer) in current.iter().chain(&next) {
                let wanted = add(key, tlsa::DANE_EE, &mut out);
                if request.issuer {
                    match issuer {
                        Some(ca) => {
                            add(ca, tlsa::DANE_TA, &mut out);
                        }
                        None if key.role == KeyRole::Current => out.notes.push(format!(
                            "the {} has no issuing CA in its chain file (self-signed, or the intermediate is missing): no 2 1 1 record for it",
                            key.describe()
                        )),
                        None => {}
                    }
                }
                if let Some(published) = &request.published {
                    let matched = published
                        .iter()
                        .filter(|p| p.is_at(&name))
                        .filter(|p| p.tlsa.unusable().is_none())
                        .filter(|p| {
                            p.tlsa.covers(
                                &key.evidence(),
                                issuer.as_ref().map(Key::evidence).as_ref(),
                            )
                        })
                        .map(|p| p.line)
                        .collect();
                    verdicts.push(Verdict {
                        name: name.clone(),
                        key: key.clone(),
                        matched,
                        wanted,
                    });
                }
            }
            if request.issuer && !issuers_noted && current.iter().any(|(_, i)| i.is_some()) {
                issuers_noted = true;
                out.notes.push(
                    "a 2 1 1 record trusts the issuing CA's key: CAs change intermediates at renewal (Let's Encrypt rotates among several), and the record then matches nothing; keep the 3 1 1 records beside it".to_owned(),
                );
            }
            if let Some(published) = &request.published {
                for p in published.iter().filter(|p| p.is_at(&name)) {
                    if let Some(why) = p.tlsa.unusable() {
                        out.stale
                            .push((p.line, format!("{}: {why}", p.tlsa.rdata())));
                        continue;
                    }
                    let used = current.iter().chain(&next).any(|(key, issuer)| {
                        p.tlsa
                            .covers(&key.evidence(), issuer.as_ref().map(Key::evidence).as_ref())
                    });
                    if !used && !out.stale.iter().any(|(line, _)| *line == p.line) {
                        out.stale.push((
                            p.line,
                            format!(
                                "{} at {name} matches no key smtpd uses or will use: remove it once no key needs it",
                                p.tlsa.rdata()
                            ),
                        ));
                    }
                }
            }
        }
    }
    if request.published.is_some() {
        for verdict in verdicts.iter().filter(|v| v.matched.is_empty()) {
            out.errors.push(format!(
                "no published TLSA record at {} matches the {}: DANE senders cannot verify it and defer mail; publish `{}`",
                verdict.name,
                verdict.key.describe(),
                verdict.wanted.line()
            ));
        }
        out.verdicts = Some(verdicts);
    }
    for domain in &request.domains {
        let failures = mta_sts_failures(config, roles, tls, request);
        let refused = request.mode == Mode::Enforce && !failures.is_empty();
        let mode = if refused { Mode::Testing } else { request.mode };
        if refused {
            out.errors.push(format!(
                "MTA-STS enforce refused for {domain}, the policy is in testing mode: senders that enforce it would bounce mail to this MX: {}",
                failures.join("; ")
            ));
        }
        out.mta_sts.push(MtaSts {
            domain: domain.clone(),
            policy: Policy {
                mode,
                mx: request.mx.clone(),
                max_age: request.max_age,
            },
            failures,
            refused,
        });
        if !request.rua.is_empty() {
            out.tls_rpt.push((
                domain.clone(),
                format!("v=TLSRPTv1; rua={}", request.rua.join(",")),
            ));
        }
    }
    out
}

/// Why the port-25 smtpd would fail a sender that enforces MTA-STS, each with the part
/// of RFC 8461 it fails: STARTTLS (section 4, item 2; section 5), a certificate that is
/// unexpired, chains to a public root and has a subjectAltName DNS-ID for the MX name
/// (section 4.2). RFC 8461 names no TLS version; senders that follow RFC 8996 refuse
/// TLS 1.0 and 1.1, so a server limited to those fails STARTTLS with them.
fn mta_sts_failures(
    config: &Config<'_>,
    roles: &Roles,
    tls: &Tls,
    request: &Request,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut push = |why: String| {
        if !out.contains(&why) {
            out.push(why);
        }
    };
    let services = services_on(roles, 25);
    if services.is_empty() {
        push("no smtpd listens on port 25".to_owned());
    }
    for index in services {
        let scope = Scope::Service(index);
        let service = String::from_utf8_lossy(config.services()[index].name()).into_owned();
        let Some(engine) = tls.engine(scope, TlsSide::Server) else {
            push(format!(
                "smtpd of `{service}` offers no STARTTLS (RFC 8461 section 5: enforcing senders do not deliver to an MX without it)"
            ));
            continue;
        };
        let protocols = config
            .text(scope, "smtpd_tls_protocols")
            .map(|v| Protocols::parse(&String::from_utf8_lossy(&v)))
            .unwrap_or_else(|_| Protocols::parse(""));
        if !protocols.allows("TLSv1.2") && !protocols.allows("TLSv1.3") {
            push(format!(
                "smtpd_tls_protocols of `{service}` allows neither TLS 1.2 nor 1.3: RFC 8461 names no version, but senders that follow RFC 8996 refuse TLS 1.0 and 1.1, so STARTTLS fails with them"
            ));
        }
        for mx in &request.mx {
            let (load, _) = engine.material.load_for(mx);
            if load.failure.is_some() || load.chains.is_empty() {
                push(format!(
                    "smtpd of `{service}` cannot load its certificate, so TLS is off (`pflint check --files` says why)"
                ));
                continue;
            }
            for chain in &load.chains {
                let Some(leaf) = tls.certificate(&chain.leaf) else {
                    continue;
                };
                let what = format!(
                    "the {} certificate for {mx} ({} line {})",
                    leaf.key.describe(),
                    chain.leaf.named,
                    chain.leaf.line
                );
                if chain.snakeoil() {
                    push(format!(
                        "{what} is the distribution's snakeoil certificate, which no sender trusts (RFC 8461 section 4.2: it must chain to a root CA the sender trusts)"
                    ));
                } else if chain.self_signed() {
                    push(format!(
                        "{what} is self-signed (RFC 8461 section 4.2: it must chain to a root CA the sender trusts)"
                    ));
                } else if !public_chain(tls, chain, leaf, request.public_roots.subjects()) {
                    push(format!(
                        "{what} is issued by `{}`, which is not a public CA this host knows and not in the chain up to one (RFC 8461 section 4.2: it must chain to a root CA the sender trusts)",
                        leaf.issuer
                    ));
                }
                if !leaf.covers(mx) {
                    push(format!(
                        "{what} does not cover {mx}: {} (RFC 8461 section 4.2: a subjectAltName DNS-ID must match the MX name)",
                        leaf.why_not_covering(mx)
                    ));
                }
                if leaf.not_after < request.now {
                    push(format!(
                        "{what} expired on {} (RFC 8461 section 4.2: it must not be expired)",
                        crate::material::cert::date(leaf.not_after)
                    ));
                } else if leaf.not_before > request.now {
                    push(format!(
                        "{what} is not valid before {}",
                        crate::material::cert::date(leaf.not_before)
                    ));
                }
            }
        }
    }
    out
}

/// Whether a chain leads from its leaf to a CA in `roots`: following which certificate
/// issued which inside the chain, the last one's issuer (or itself) is a root.
fn public_chain(tls: &Tls, chain: &Chain, leaf: &Certificate, roots: &BTreeSet<String>) -> bool {
    let mut current = leaf;
    let mut index = 0;
    for _ in 0..=chain.issuers.len() {
        if roots.contains(&current.issuer) || roots.contains(&current.subject) {
            return true;
        }
        match chain.issued_by.get(index).copied().flatten() {
            Some(parent) if parent != index && parent > 0 => {
                let Some(cert) = chain
                    .issuers
                    .get(parent - 1)
                    .and_then(|at| tls.certificate(at))
                else {
                    return false;
                };
                current = cert;
                index = parent;
            }
            _ => return false,
        }
    }
    false
}

/// Reads a TLS-RPT report address as RFC 8460 section 3 writes it: a `mailto:` or
/// `https:` URI; a bare address gets `mailto:`.
pub fn rua(given: &str) -> Result<String, String> {
    let given = given.trim();
    let uri = if given.contains(':') {
        given.to_owned()
    } else if given.contains('@') {
        format!("mailto:{given}")
    } else {
        return Err(format!(
            "`{given}` is neither an address nor a mailto: or https: URI"
        ));
    };
    let lower = uri.to_ascii_lowercase();
    let ok = (lower.starts_with("mailto:") && uri.len() > 7 && uri[7..].contains('@'))
        || (lower.starts_with("https://") && uri.len() > 8);
    if !ok || uri.contains([',', ';', ' ', '"', '\\']) {
        return Err(format!(
            "`{given}` is not a report URI TLS-RPT accepts (mailto:ADDRESS or https://HOST/PATH, without commas, semicolons, quotes or spaces)"
        ));
    }
    Ok(uri)
}

/// The wait before the next key may be deployed: twice the TTL, in words.
pub fn wait(ttl: u32) -> String {
    let seconds = u64::from(ttl) * 2;
    let words = if seconds % 86_400 == 0 && seconds >= 86_400 {
        plural(seconds / 86_400, "day")
    } else if seconds % 3600 == 0 && seconds >= 3600 {
        plural(seconds / 3600, "hour")
    } else if seconds % 60 == 0 && seconds >= 60 {
        plural(seconds / 60, "minute")
    } else {
        plural(seconds, "second")
    };
    format!("{words} ({seconds} s)")
}

fn plural(n: u64, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

/// The TLS-RPT record name for a domain.
pub fn tls_rpt_name(domain: &str) -> String {
    format!("_smtp._tls.{}.", domain.trim_end_matches('.'))
}
