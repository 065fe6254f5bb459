//! The TLS side of a probe: a rustls client (ring, TLS 1.2 and 1.3) whose verifier records
//! the chain exactly as the server sent it and accepts it (judging it is the probe's, from
//! the configuration), while still checking the handshake signature, so the recorded key
//! is the one the server holds. Offering one algorithm's signature schemes at a time makes
//! a server with several chains show each.

use std::fmt;
use std::io::ErrorKind;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    AlertDescription, ClientConfig, ClientConnection, DigitallySignedStruct, PeerIncompatible,
    SignatureScheme,
};

use super::smtp::Limits;
use super::socket::Bounded;

/// A key algorithm a server certificate can have, as the signature schemes a client
/// offers for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    /// RSA (PSS or PKCS#1 v1.5 signatures).
    Rsa,
    /// ECDSA on P-256, P-384 or P-521.
    Ecdsa,
    /// Ed25519.
    Ed25519,
}

impl Algorithm {
    /// Every algorithm, in the order they are tried.
    pub const ALL: [Algorithm; 3] = [Algorithm::Rsa, Algorithm::Ecdsa, Algorithm::Ed25519];

    fn schemes(self) -> Vec<SignatureScheme> {
        match self {
            Algorithm::Rsa => vec![
                SignatureScheme::RSA_PSS_SHA256,
                SignatureScheme::RSA_PSS_SHA384,
                SignatureScheme::RSA_PSS_SHA512,
                SignatureScheme::RSA_PKCS1_SHA256,
                SignatureScheme::RSA_PKCS1_SHA384,
                SignatureScheme::RSA_PKCS1_SHA512,
            ],
            Algorithm::Ecdsa => vec![
                SignatureScheme::ECDSA_NISTP256_SHA256,
                SignatureScheme::ECDSA_NISTP384_SHA384,
                SignatureScheme::ECDSA_NISTP521_SHA512,
            ],
            Algorithm::Ed25519 => vec![SignatureScheme::ED25519],
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Algorithm::Rsa => "RSA",
            Algorithm::Ecdsa => "ECDSA",
            Algorithm::Ed25519 => "Ed25519",
        })
    }
}

/// What one handshake established.
#[derive(Clone, Debug)]
pub struct Negotiated {
    /// `TLSv1.3` or `TLSv1.2`.
    pub version: String,
    /// The cipher suite (`TLS13_AES_256_GCM_SHA384`).
    pub cipher: String,
    /// The key-exchange group (`X25519`), when rustls reports one.
    pub group: Option<String>,
    /// The certificates as sent, leaf first (DER).
    pub chain: Vec<Vec<u8>>,
}

/// Why a handshake failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failed {
    /// What went wrong, in words.
    pub why: String,
    /// It ran out of time: another handshake with the same server would wait as long.
    pub timed_out: bool,
}

impl Failed {
    fn new(why: String) -> Failed {
        Failed {
            why,
            timed_out: false,
        }
    }

    fn timeout(limits: &Limits) -> Failed {
        Failed {
            why: format!(
                "the handshake did not finish within {} s",
                limits.reply.as_secs()
            ),
            timed_out: true,
        }
    }
}

impl fmt::Display for Failed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.why)
    }
}

/// Records the chain and checks only the handshake signature.
#[derive(Debug)]
struct Recorder {
    schemes: Vec<SignatureScheme>,
    algorithms: WebPkiSupportedAlgorithms,
    chain: Mutex<Vec<Vec<u8>>>,
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Ok(mut chain) = self.chain.lock() {
            *chain = std::iter::once(end_entity)
                .chain(intermediates)
                .map(|c| c.as_ref().to_vec())
                .collect();
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.schemes.clone()
    }
}

/// The TLS stream a probe goes on with after the handshake.
pub type Stream = rustls::StreamOwned<ClientConnection, Bounded>;

/// Runs a handshake on `tcp` offering only `algorithm`'s signature schemes and sending
/// `sni` (none for an IP address), within the reply time limit: the deadline is the
/// socket's, so however rustls loops over reads, the handshake ends by it.
pub fn handshake(
    tcp: Bounded,
    algorithm: Algorithm,
    sni: &str,
    limits: &Limits,
) -> Result<(Stream, Negotiated), Failed> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let recorder = Arc::new(Recorder {
        schemes: algorithm.schemes(),
        algorithms: provider.signature_verification_algorithms,
        chain: Mutex::new(Vec::new()),
    });
    let config = ClientConfig::builder_with_provider(Arc::clone(&provider) as Arc<CryptoProvider>)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| Failed::new(format!("rustls: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::clone(&recorder) as Arc<dyn ServerCertVerifier>)
        .with_no_client_auth();
    let name = ServerName::try_from(sni.to_owned())
        .map_err(|e| Failed::new(format!("`{sni}` is not a server name: {e}")))?;
    let mut connection = ClientConnection::new(Arc::new(config), name)
        .map_err(|e| Failed::new(format!("rustls: {e}")))?;
    let mut tcp = tcp;
    tcp.set_deadline(Instant::now() + limits.reply);
    while connection.is_handshaking() {
        match connection.complete_io(&mut tcp) {
            Ok((0, 0)) if connection.is_handshaking() && !connection.wants_write() => {
                return Err(Failed::new(
                    "the server closed the connection during the handshake".to_owned(),
                ));
            }
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err(Failed::timeout(limits));
            }
            Err(e) => return Err(Failed::new(describe(&e, algorithm))),
        }
    }
    let chain = recorder.chain.lock().map(|c| c.clone()).unwrap_or_default();
    let negotiated = Negotiated {
        version: match connection.protocol_version() {
            Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3".to_owned(),
            Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2".to_owned(),
            Some(other) => format!("{other:?}"),
            None => "unknown".to_owned(),
        },
        cipher: connection
            .negotiated_cipher_suite()
            .map(|s| format!("{:?}", s.suite()))
            .unwrap_or_default(),
        group: connection
            .negotiated_key_exchange_group()
            .map(|g| format!("{:?}", g.name())),
        chain,
    };
    Ok((Stream::new(connection, tcp), negotiated))
}

/// A handshake error in words, with what rustls cannot do said plainly, and an alert the
/// server sent named as RFC 8446 names it (rustls servers refuse with access_denied,
/// OpenSSL ones with handshake_failure: telling them apart tells which server answered).
fn describe(error: &std::io::Error, algorithm: Algorithm) -> String {
    let text = error.to_string();
    let rustls_error = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    let versions = "the server offers neither TLS 1.2 nor 1.3 (pflint's TLS client, rustls, speaks no older version; testssl.sh inventories those)";
    match rustls_error {
        Some(rustls::Error::AlertReceived(alert)) => {
            let name = alert_name(*alert);
            match alert {
                AlertDescription::HandshakeFailure => format!(
                    "the server sent the alert {name}: it has no certificate for {algorithm} signatures, or no cipher in common"
                ),
                AlertDescription::AccessDenied => format!(
                    "the server sent the alert {name}: it refused the handshake (a rustls server says so when it has no certificate for {algorithm} signatures)"
                ),
                AlertDescription::ProtocolVersion => {
                    format!("the server sent the alert {name}: {versions}")
                }
                _ => format!("the server sent the alert {name}"),
            }
        }
        Some(rustls::Error::PeerIncompatible(
            PeerIncompatible::ServerDoesNotSupportTls12Or13
            | PeerIncompatible::ServerTlsVersionIsDisabledByOurConfig,
        )) => format!("{text}: {versions}"),
        _ => text,
    }
}

/// An alert's name as the TLS RFCs write it (`access_denied (49)`): rustls's names are
/// the same words in camel case (`AccessDenied`, `UnknownCA`).
fn alert_name(alert: AlertDescription) -> String {
    let number = u8::from(alert);
    let camel = format!("{alert:?}");
    if !camel.chars().all(|c| c.is_ascii_alphabetic()) {
        // `Unknown(0x99)`: an alert rustls has no name for.
        return format!("number {number}");
    }
    let chars: Vec<char> = camel.chars().collect();
    let mut snake = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let previous = i.checked_sub(1).and_then(|p| chars.get(p));
        let next = chars.get(i + 1);
        // A word starts at a capital after a small letter, or at the last capital of a
        // run followed by a small letter (`PSKIdentity`: `psk_identity`).
        let starts_word = c.is_ascii_uppercase()
            && (previous.is_some_and(char::is_ascii_lowercase)
                || (previous.is_some_and(char::is_ascii_uppercase)
                    && next.is_some_and(char::is_ascii_lowercase)));
        if starts_word {
            snake.push('_');
        }
        snake.push(c.to_ascii_lowercase());
    }
    format!("{snake} ({number})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alerts_are_named_as_the_rfcs_name_them() {
        assert_eq!(
            alert_name(AlertDescription::AccessDenied),
            "access_denied (49)"
        );
        assert_eq!(
            alert_name(AlertDescription::HandshakeFailure),
            "handshake_failure (40)"
        );
        assert_eq!(alert_name(AlertDescription::UnknownCA), "unknown_ca (48)");
        assert_eq!(
            alert_name(AlertDescription::UnknownPSKIdentity),
            "unknown_psk_identity (115)"
        );
        assert_eq!(alert_name(AlertDescription::from(0x99)), "number 153");
    }

    #[test]
    fn a_refusal_names_the_alert_sent() {
        let error = |alert| {
            std::io::Error::new(ErrorKind::InvalidData, rustls::Error::AlertReceived(alert))
        };
        let denied = describe(&error(AlertDescription::AccessDenied), Algorithm::Rsa);
        assert!(denied.contains("access_denied"), "{denied}");
        assert!(!denied.contains("handshake_failure"), "{denied}");
        let failure = describe(&error(AlertDescription::HandshakeFailure), Algorithm::Ecdsa);
        assert!(
            failure.contains("handshake_failure") && failure.contains("ECDSA"),
            "{failure}"
        );
    }
}
