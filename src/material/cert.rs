//! What a certificate says, read with `x509-parser` (signatures checked with its
//! `verify` feature): the facts the certificate rules judge.

use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};
use x509_parser::public_key::PublicKey;

/// A public key's algorithm and size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// RSA, with its modulus size in bits.
    Rsa(u32),
    /// ECDSA on a named curve (`P-256`, …, or the curve's OID).
    Ec(String),
    /// DSA, with the size of its prime in bits (0 when not known).
    Dsa(u32),
    /// Ed25519.
    Ed25519,
    /// Ed448.
    Ed448,
    /// Anything else, by OID.
    Other(String),
}

impl KeyKind {
    /// The slot OpenSSL puts a key of this kind in: one key per slot per engine.
    pub fn slot(&self) -> &str {
        match self {
            KeyKind::Rsa(_) => "RSA",
            KeyKind::Ec(_) => "ECDSA",
            KeyKind::Dsa(_) => "DSA",
            KeyKind::Ed25519 => "Ed25519",
            KeyKind::Ed448 => "Ed448",
            KeyKind::Other(oid) => oid,
        }
    }

    /// The kind as people write it: `RSA 2048`, `ECDSA P-256`.
    pub fn describe(&self) -> String {
        match self {
            KeyKind::Rsa(bits) => format!("RSA {bits}-bit"),
            KeyKind::Ec(curve) => format!("ECDSA {curve}"),
            KeyKind::Dsa(0) => "DSA".to_owned(),
            KeyKind::Dsa(bits) => format!("DSA {bits}-bit"),
            KeyKind::Ed25519 => "Ed25519".to_owned(),
            KeyKind::Ed448 => "Ed448".to_owned(),
            KeyKind::Other(oid) => format!("a key of type {oid}"),
        }
    }
}

/// The key algorithm an OID (and, for EC, its curve's OID) names.
pub fn key_kind(algorithm: &str, curve: Option<&str>, bits: u32) -> KeyKind {
    match algorithm {
        "1.2.840.113549.1.1.1" | "1.2.840.113549.1.1.10" => KeyKind::Rsa(bits),
        "1.2.840.10045.2.1" => KeyKind::Ec(curve_name(curve.unwrap_or("unknown curve"))),
        "1.2.840.10040.4.1" => KeyKind::Dsa(bits),
        "1.3.101.112" => KeyKind::Ed25519,
        "1.3.101.113" => KeyKind::Ed448,
        other => KeyKind::Other(other.to_owned()),
    }
}

/// A named curve's usual name.
pub fn curve_name(oid: &str) -> String {
    match oid {
        "1.2.840.10045.3.1.7" => "P-256",
        "1.3.132.0.34" => "P-384",
        "1.3.132.0.35" => "P-521",
        "1.3.132.0.10" => "secp256k1",
        other => other,
    }
    .to_owned()
}

/// The facts of one certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Certificate {
    /// The DER bytes (for signature checks against other certificates).
    pub der: Vec<u8>,
    /// The subject, as OpenSSL's one-line form writes it (`CN=mail.example.com`).
    pub subject: String,
    /// The issuer, likewise.
    pub issuer: String,
    /// Whether subject and issuer are the same name.
    pub self_issued: bool,
    /// Validity start and end, in seconds since the epoch.
    pub not_before: i64,
    /// See `not_before`.
    pub not_after: i64,
    /// The subjectAltName DNS names (lower case).
    pub dns_names: Vec<String>,
    /// The subject's common names.
    pub common_names: Vec<String>,
    /// The public key's kind.
    pub key: KeyKind,
    /// The public key, comparable with a private key's ([`super::key::PrivateKey::public`]).
    pub public: Vec<u8>,
    /// The DER SubjectPublicKeyInfo, as in the certificate (what TLSA `x 1 x` digests).
    pub spki: Vec<u8>,
    /// The signature algorithm, by name, when it is a weak one (`sha1WithRSAEncryption`).
    pub weak_signature: Option<&'static str>,
    /// Whether basicConstraints says `CA:TRUE`.
    pub is_ca: bool,
    /// Whether the extended key usage allows TLS servers; `None` without the extension
    /// (any use allowed).
    pub server_auth: Option<bool>,
}

impl Certificate {
    /// Reads a DER certificate; why not, in plain words.
    pub fn parse(der: &[u8]) -> Result<Certificate, String> {
        let (rest, cert) = X509Certificate::from_der(der)
            .map_err(|e| format!("not an X.509 certificate ({e})"))?;
        if !rest.is_empty() {
            return Err(format!(
                "{} bytes of excess data after the certificate",
                rest.len()
            ));
        }
        let spki = cert.public_key();
        let algorithm = spki.algorithm.algorithm.to_id_string();
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.as_oid().ok())
            .map(|o| o.to_id_string());
        let parsed = spki.parsed().ok();
        let bits = parsed.as_ref().map_or(0, |k| k.key_size() as u32);
        let public = match &parsed {
            Some(PublicKey::RSA(rsa)) => rsa_identity(rsa.modulus, rsa.exponent),
            _ => spki.subject_public_key.data.to_vec(),
        };
        let mut dns_names = Vec::new();
        if let Ok(Some(san)) = cert.subject_alternative_name() {
            for name in &san.value.general_names {
                if let GeneralName::DNSName(dns) = name {
                    dns_names.push(dns.to_ascii_lowercase());
                }
            }
        }
        let common_names = cert
            .subject()
            .iter_common_name()
            .filter_map(|cn| cn.as_str().ok())
            .map(str::to_owned)
            .collect();
        let server_auth = match cert.extended_key_usage() {
            Ok(Some(eku)) => Some(eku.value.server_auth || eku.value.any),
            _ => None,
        };
        let is_ca = matches!(cert.basic_constraints(), Ok(Some(bc)) if bc.value.ca);
        Ok(Certificate {
            der: der.to_vec(),
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
            self_issued: cert.subject().as_raw() == cert.issuer().as_raw(),
            not_before: cert.validity().not_before.timestamp(),
            not_after: cert.validity().not_after.timestamp(),
            dns_names,
            common_names,
            key: key_kind(&algorithm, curve.as_deref(), bits),
            public,
            spki: spki.raw.to_vec(),
            weak_signature: weak_signature(&cert.signature_algorithm.algorithm.to_id_string()),
            is_ca,
            server_auth,
        })
    }

    /// Whether `issuer` issued this certificate: its subject is this one's issuer and its
    /// key verifies this one's signature.
    pub fn issued_by(&self, issuer: &Certificate) -> bool {
        let (Ok((_, child)), Ok((_, parent))) = (
            X509Certificate::from_der(&self.der),
            X509Certificate::from_der(&issuer.der),
        ) else {
            return false;
        };
        child.issuer().as_raw() == parent.subject().as_raw()
            && child.verify_signature(Some(parent.public_key())).is_ok()
    }

    /// Whether it covers `name` (webpki's reading of RFC 6125: subjectAltName only, a
    /// wildcard for one whole left-most label).
    pub fn covers(&self, name: &str) -> bool {
        let der = rustls_pki_types::CertificateDer::from(self.der.as_slice());
        let Ok(end_entity) = webpki::EndEntityCert::try_from(&der) else {
            return false;
        };
        let Ok(server_name) = rustls_pki_types::ServerName::try_from(name) else {
            return false;
        };
        end_entity
            .verify_is_valid_for_subject_name(&server_name)
            .is_ok()
    }

    /// Why it does not cover `name`, in words a person can act on.
    pub fn why_not_covering(&self, name: &str) -> String {
        for san in &self.dns_names {
            if let Some(base) = san.strip_prefix("*.") {
                if name == base {
                    return format!(
                        "its wildcard `{san}` covers names one label below {base}, not {base} itself"
                    );
                }
                if name.ends_with(&format!(".{base}")) {
                    return format!(
                        "its wildcard `{san}` covers one label only, not the two in {name}"
                    );
                }
            }
        }
        if self.dns_names.is_empty() {
            if self
                .common_names
                .iter()
                .any(|cn| cn.eq_ignore_ascii_case(name))
            {
                return "it names it only in the subject CN and has no subjectAltName, which clients require".to_owned();
            }
            return format!("it has no subjectAltName (subject `{}`)", self.subject);
        }
        format!("it is for {}", self.dns_names.join(", "))
    }
}

/// An RSA public key as the comparison with a private key sees it: the modulus and the
/// exponent without leading zero bytes.
pub fn rsa_identity(modulus: &[u8], exponent: &[u8]) -> Vec<u8> {
    let strip = |b: &[u8]| -> Vec<u8> {
        let start = b.iter().position(|&x| x != 0).unwrap_or(b.len());
        b[start..].to_vec()
    };
    let mut out = strip(modulus);
    out.push(0xff);
    out.extend(strip(exponent));
    out
}

/// The name of a signature algorithm no client should still have to accept.
fn weak_signature(oid: &str) -> Option<&'static str> {
    match oid {
        "1.2.840.113549.1.1.5" => Some("sha1WithRSAEncryption"),
        "1.2.840.113549.1.1.4" => Some("md5WithRSAEncryption"),
        "1.2.840.10045.4.1" => Some("ecdsa-with-SHA1"),
        "1.2.840.10040.4.3" => Some("dsa-with-SHA1"),
        _ => None,
    }
}

/// Seconds in a day.
const DAY: i64 = 86_400;

/// A date as `YYYY-MM-DD` (UTC).
pub fn date(seconds: i64) -> String {
    // Howard Hinnant's days-to-civil.
    let z = seconds.div_euclid(DAY) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}
