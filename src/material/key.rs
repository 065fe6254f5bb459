//! What a private key is, read with `pkcs8`, `pkcs1` and `sec1`: its kind and size, and
//! its public half where the encoding carries it (to compare with a certificate's).

use pkcs1::RsaPrivateKeyRef;
use pkcs8::PrivateKeyInfoRef;
use sec1::EcPrivateKey;
use spki::der::asn1::ObjectIdentifier;

use super::cert::{KeyKind, curve_name, key_kind, rsa_identity};

/// The facts of one private key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrivateKey {
    /// Its kind and size.
    pub kind: KeyKind,
    /// Its public half, comparable with [`super::cert::Certificate::public`]; `None`
    /// when the encoding does not carry it (a PKCS#8 Ed25519 key of version 1, a DSA key).
    pub public: Option<Vec<u8>>,
}

/// The PEM labels OpenSSL reads as an unencrypted private key, as Postfix accepts them.
pub const KEY_LABELS: [&str; 4] = [
    "PRIVATE KEY",
    "RSA PRIVATE KEY",
    "EC PRIVATE KEY",
    "DSA PRIVATE KEY",
];

/// The label of a PKCS#8 encrypted private key, which Postfix cannot use (it has no
/// passphrase to give).
pub const ENCRYPTED_LABEL: &str = "ENCRYPTED PRIVATE KEY";

/// Reads the DER body of a PEM block labelled `label` (one of [`KEY_LABELS`]).
pub fn parse(label: &str, der: &[u8]) -> Result<PrivateKey, String> {
    match label {
        "PRIVATE KEY" => pkcs8(der),
        "RSA PRIVATE KEY" => rsa(der),
        "EC PRIVATE KEY" => ec(der, None),
        "DSA PRIVATE KEY" => Ok(PrivateKey {
            kind: KeyKind::Dsa(dsa_bits(der)),
            public: None,
        }),
        other => Err(format!("`{other}` is not a private key")),
    }
}

fn pkcs8(der: &[u8]) -> Result<PrivateKey, String> {
    let info =
        PrivateKeyInfoRef::try_from(der).map_err(|e| format!("not a PKCS#8 private key ({e})"))?;
    let algorithm = info.algorithm.oid.to_string();
    let inner = info.private_key.as_bytes();
    let curve = info
        .algorithm
        .parameters
        .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
        .map(|o| o.to_string());
    match algorithm.as_str() {
        "1.2.840.113549.1.1.1" | "1.2.840.113549.1.1.10" => rsa(inner),
        "1.2.840.10045.2.1" => ec(inner, curve),
        _ => Ok(PrivateKey {
            kind: key_kind(&algorithm, curve.as_deref(), 0),
            public: info.public_key.map(|k| k.raw_bytes().to_vec()),
        }),
    }
}

fn rsa(der: &[u8]) -> Result<PrivateKey, String> {
    let key =
        RsaPrivateKeyRef::try_from(der).map_err(|e| format!("not an RSA private key ({e})"))?;
    let modulus = key.modulus.as_bytes();
    Ok(PrivateKey {
        kind: KeyKind::Rsa(bit_length(modulus)),
        public: Some(rsa_identity(modulus, key.public_exponent.as_bytes())),
    })
}

fn ec(der: &[u8], curve: Option<String>) -> Result<PrivateKey, String> {
    let key = EcPrivateKey::try_from(der).map_err(|e| format!("not an EC private key ({e})"))?;
    let curve = curve
        .or_else(|| {
            key.parameters
                .and_then(|p| p.named_curve())
                .map(|o| o.to_string())
        })
        .map_or_else(|| "unknown curve".to_owned(), |c| curve_name(&c));
    Ok(PrivateKey {
        kind: KeyKind::Ec(curve),
        public: key.public_key.map(<[u8]>::to_vec),
    })
}

/// The bit length of a big-endian unsigned number.
fn bit_length(bytes: &[u8]) -> u32 {
    let Some(start) = bytes.iter().position(|&b| b != 0) else {
        return 0;
    };
    (bytes.len() - start) as u32 * 8 - bytes[start].leading_zeros()
}

/// The size of a traditional OpenSSL DSA key (`SEQUENCE { version, p, q, g, y, x }`): the
/// bit length of `p`; 0 when it cannot be read.
fn dsa_bits(der: &[u8]) -> u32 {
    use x509_parser::der_parser::ber::BerObjectContent;
    let Ok((_, object)) = x509_parser::der_parser::parse_der(der) else {
        return 0;
    };
    let BerObjectContent::Sequence(items) = &object.content else {
        return 0;
    };
    match items.get(1).map(|p| &p.content) {
        Some(BerObjectContent::Integer(p)) => bit_length(p),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_lengths() {
        assert_eq!(bit_length(&[0, 0x80, 0]), 16);
        assert_eq!(bit_length(&[0x01, 0]), 9);
        assert_eq!(bit_length(&[]), 0);
    }
}
