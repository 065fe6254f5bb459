//! What a private key is, read with `pkcs8`, `pkcs1` and `sec1`: its kind and size, its
//! public half where the encoding carries it (to compare with a certificate's), and its
//! SubjectPublicKeyInfo (what a TLSA `3 1 x` record is made of), derived from the private
//! half when the encoding leaves the public one out.

use pkcs1::{RsaPrivateKeyRef, RsaPublicKey};
use pkcs8::PrivateKeyInfoRef;
use sec1::EcPrivateKey;
use spki::der::Encode;
use spki::der::asn1::{AnyRef, BitStringRef, ObjectIdentifier};
use spki::{AlgorithmIdentifier, SubjectPublicKeyInfo};

use super::cert::{KeyKind, curve_name, key_kind, rsa_identity};

/// The facts of one private key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrivateKey {
    /// Its kind and size.
    pub kind: KeyKind,
    /// Its public half, comparable with [`super::cert::Certificate::public`]; `None`
    /// when the encoding does not carry it (a PKCS#8 Ed25519 key of version 1, a DSA key).
    pub public: Option<Vec<u8>>,
    /// The DER SubjectPublicKeyInfo of its public half, as `openssl pkey -pubout
    /// -outform DER` writes it; `None` for a key pflint cannot derive it for (DSA, Ed448
    /// without its public half, an EC key on a curve other than P-256 and P-384 without
    /// its public point).
    pub spki: Option<Vec<u8>>,
}

const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const ED448: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.113");
const P256: &str = "1.2.840.10045.3.1.7";
const P384: &str = "1.3.132.0.34";

/// A DER SubjectPublicKeyInfo of `key` under `algorithm` with `parameters`.
fn spki_der(
    algorithm: ObjectIdentifier,
    parameters: Option<AnyRef<'_>>,
    key: &[u8],
) -> Option<Vec<u8>> {
    SubjectPublicKeyInfo {
        algorithm: AlgorithmIdentifier {
            oid: algorithm,
            parameters,
        },
        subject_public_key: BitStringRef::from_bytes(key).ok()?,
    }
    .to_der()
    .ok()
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
            spki: None,
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
        _ => {
            let public = info.public_key.map(|k| k.raw_bytes().to_vec()).or_else(|| {
                (info.algorithm.oid == ED25519)
                    .then(|| ed25519_public(inner))
                    .flatten()
            });
            let spki = match (&public, info.algorithm.oid) {
                (Some(key), oid @ (ED25519 | ED448)) => spki_der(oid, None, key),
                _ => None,
            };
            Ok(PrivateKey {
                kind: key_kind(&algorithm, curve.as_deref(), 0),
                public,
                spki,
            })
        }
    }
}

/// The public key of an Ed25519 private key (RFC 8410: an OCTET STRING of the 32-byte
/// seed inside the PKCS#8 one).
fn ed25519_public(inner: &[u8]) -> Option<Vec<u8>> {
    let seed = match inner {
        [0x04, 0x20, seed @ ..] if seed.len() == 32 => seed,
        _ => return None,
    };
    let pair = ring::signature::Ed25519KeyPair::from_seed_unchecked(seed).ok()?;
    Some(
        ring::signature::KeyPair::public_key(&pair)
            .as_ref()
            .to_vec(),
    )
}

fn rsa(der: &[u8]) -> Result<PrivateKey, String> {
    let key =
        RsaPrivateKeyRef::try_from(der).map_err(|e| format!("not an RSA private key ({e})"))?;
    let modulus = key.modulus.as_bytes();
    let public = RsaPublicKey {
        modulus: key.modulus,
        public_exponent: key.public_exponent,
    };
    let spki = public
        .to_der()
        .ok()
        .and_then(|rsa| spki_der(RSA_ENCRYPTION, Some(AnyRef::NULL), &rsa));
    Ok(PrivateKey {
        kind: KeyKind::Rsa(bit_length(modulus)),
        public: Some(rsa_identity(modulus, key.public_exponent.as_bytes())),
        spki,
    })
}

fn ec(der: &[u8], curve: Option<String>) -> Result<PrivateKey, String> {
    let key = EcPrivateKey::try_from(der).map_err(|e| format!("not an EC private key ({e})"))?;
    let curve = curve.or_else(|| {
        key.parameters
            .and_then(|p| p.named_curve())
            .map(|o| o.to_string())
    });
    let public = key
        .public_key
        .map(<[u8]>::to_vec)
        .or_else(|| ec_public(curve.as_deref()?, key.private_key));
    let spki = match (&public, &curve) {
        (Some(point), Some(curve)) => ObjectIdentifier::new(curve)
            .ok()
            .and_then(|oid| spki_der(EC_PUBLIC_KEY, Some(AnyRef::from(&oid)), point)),
        _ => None,
    };
    Ok(PrivateKey {
        kind: KeyKind::Ec(curve.map_or_else(|| "unknown curve".to_owned(), |c| curve_name(&c))),
        public,
        spki,
    })
}

/// The uncompressed public point of an EC private key whose encoding left it out
/// (`openssl ec -no_public`), computed from the private scalar.
fn ec_public(curve: &str, scalar: &[u8]) -> Option<Vec<u8>> {
    use p256::elliptic_curve::sec1::ToSec1Point;
    match curve {
        P256 => {
            let key = p256::SecretKey::from_slice(scalar).ok()?;
            Some(key.public_key().to_sec1_point(false).as_bytes().to_vec())
        }
        P384 => {
            let key = p384::SecretKey::from_slice(scalar).ok()?;
            Some(key.public_key().to_sec1_point(false).as_bytes().to_vec())
        }
        _ => None,
    }
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
