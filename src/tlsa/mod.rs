//! TLSA records (RFC 6698, RFC 7671, for SMTP RFC 7672): what they hold, how one is made
//! from a key and how one is matched against a certificate.

pub mod zone;

use sha2::{Digest, Sha256, Sha512};

/// Certificate usage DANE-TA: the record names a trust anchor (an issuing CA).
pub const DANE_TA: u8 = 2;
/// Certificate usage DANE-EE: the record names the server's own key or certificate.
pub const DANE_EE: u8 = 3;
/// Selector: the whole certificate.
pub const FULL_CERTIFICATE: u8 = 0;
/// Selector: the SubjectPublicKeyInfo (survives a renewal that keeps the key).
pub const PUBLIC_KEY: u8 = 1;
/// Matching type: the data itself.
pub const EXACT: u8 = 0;
/// Matching type: SHA-256.
pub const SHA256: u8 = 1;
/// Matching type: SHA-512.
pub const SHA512: u8 = 2;

/// The data of one TLSA record.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tlsa {
    /// Certificate usage (0–3; SMTP uses 2 and 3 only, RFC 7672 section 3.1.3).
    pub usage: u8,
    /// Selector (0: certificate, 1: public key).
    pub selector: u8,
    /// Matching type (0: exact, 1: SHA-256, 2: SHA-512).
    pub matching: u8,
    /// The association data.
    pub data: Vec<u8>,
}

/// What a record can match of a certificate: its DER when known, and its key.
#[derive(Clone, Copy, Debug)]
pub struct Evidence<'a> {
    /// The certificate's DER (records with selector 0 need it).
    pub certificate: Option<&'a [u8]>,
    /// The DER SubjectPublicKeyInfo.
    pub spki: &'a [u8],
}

impl Tlsa {
    /// Whether this record lets a DANE client accept a server whose leaf is `leaf`,
    /// issued by `issuer`: DANE-EE matches the leaf, DANE-TA the issuing CA (RFC 7671
    /// sections 5.1 and 5.2); other usages do not count for SMTP.
    pub fn covers(&self, leaf: &Evidence<'_>, issuer: Option<&Evidence<'_>>) -> bool {
        match self.usage {
            DANE_EE => self.matches(leaf.certificate, leaf.spki),
            DANE_TA => issuer.is_some_and(|ca| self.matches(ca.certificate, ca.spki)),
            _ => false,
        }
    }

    /// `usage 1 1`: SHA-256 of a DER SubjectPublicKeyInfo.
    pub fn of_public_key(usage: u8, spki: &[u8]) -> Tlsa {
        Tlsa {
            usage,
            selector: PUBLIC_KEY,
            matching: SHA256,
            data: Sha256::digest(spki).to_vec(),
        }
    }

    /// Whether this record matches a certificate (its DER, when known) with the
    /// SubjectPublicKeyInfo `spki`, ignoring the usage.
    pub fn matches(&self, certificate: Option<&[u8]>, spki: &[u8]) -> bool {
        let selected = match self.selector {
            FULL_CERTIFICATE => match certificate {
                Some(der) => der,
                None => return false,
            },
            PUBLIC_KEY => spki,
            _ => return false,
        };
        match self.matching {
            EXACT => self.data == selected,
            SHA256 => self.data[..] == Sha256::digest(selected)[..],
            SHA512 => self.data[..] == Sha512::digest(selected)[..],
            _ => false,
        }
    }

    /// The record's data as a zone file writes it: `3 1 1 <hex>` (lower case, as
    /// `sha256sum` prints the digest).
    pub fn rdata(&self) -> String {
        format!(
            "{} {} {} {}",
            self.usage,
            self.selector,
            self.matching,
            hex(&self.data)
        )
    }

    /// Why SMTP clients cannot use this record, if they cannot: RFC 7672 section 3.1.3
    /// leaves out PKIX-TA(0) and PKIX-EE(1), and unknown parameters make it unusable.
    pub fn unusable(&self) -> Option<&'static str> {
        if self.usage < DANE_TA {
            Some(
                "usages 0 (PKIX-TA) and 1 (PKIX-EE) are not used for SMTP (RFC 7672 section 3.1.3)",
            )
        } else if self.usage > DANE_EE {
            Some("the certificate usage is not one RFC 6698 defines")
        } else if self.selector > PUBLIC_KEY {
            Some("the selector is not one RFC 6698 defines")
        } else if self.matching > SHA512 {
            Some("the matching type is not one RFC 6698 defines")
        } else if (self.matching == SHA256 && self.data.len() != 32)
            || (self.matching == SHA512 && self.data.len() != 64)
        {
            Some("the data is not as long as the digest its matching type names")
        } else {
            None
        }
    }
}

/// The owner name of the TLSA records for `host` on TCP `port`: `_25._tcp.host.`.
pub fn owner(port: u16, host: &str) -> String {
    format!(
        "_{port}._tcp.{}.",
        host.trim_end_matches('.').to_ascii_lowercase()
    )
}

/// Bytes as lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_public_key_record_matches_its_key_and_no_other() {
        let record = Tlsa::of_public_key(DANE_EE, b"key one");
        assert!(record.matches(None, b"key one"));
        assert!(!record.matches(None, b"key two"));
        assert_eq!(record.unusable(), None);
        assert!(record.rdata().starts_with("3 1 1 "));
        assert_eq!(record.rdata().len(), "3 1 1 ".len() + 64);
    }

    #[test]
    fn full_certificate_records_need_the_certificate() {
        let record = Tlsa {
            usage: DANE_EE,
            selector: FULL_CERTIFICATE,
            matching: SHA512,
            data: Sha512::digest(b"cert").to_vec(),
        };
        assert!(record.matches(Some(b"cert"), b"key"));
        assert!(!record.matches(None, b"key"));
    }

    #[test]
    fn owner_names_are_absolute_and_lower_case() {
        assert_eq!(owner(25, "MX.Example.com."), "_25._tcp.mx.example.com.");
    }
}
