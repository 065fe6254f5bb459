//! MTA-STS (RFC 8461): the policy a domain serves over HTTPS, the TXT record that
//! announces it, and where the policy must be served.

use sha2::{Digest, Sha256};

/// The longest `max_age` RFC 8461 section 3.2 allows (about a year).
pub const MAX_AGE_LIMIT: u32 = 31_557_600;

/// What senders do when an MX fails the policy (RFC 8461 section 5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Deliver anyway and report the failure (TLS-RPT).
    Testing,
    /// Do not deliver to an MX that fails: a wrong certificate bounces mail.
    Enforce,
    /// Forget an earlier policy.
    None,
}

impl Mode {
    /// The mode as the policy writes it.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Testing => "testing",
            Mode::Enforce => "enforce",
            Mode::None => "none",
        }
    }
}

/// One domain's policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// The mode.
    pub mode: Mode,
    /// The MX host names (or `*.` patterns) senders may deliver to.
    pub mx: Vec<String>,
    /// How long senders cache the policy, in seconds.
    pub max_age: u32,
}

impl Policy {
    /// The policy file's text (`/.well-known/mta-sts.txt`), one `key: value` per line
    /// (RFC 8461 section 3.2, which ends lines with LF or CRLF).
    pub fn text(&self) -> String {
        let mut out = format!("version: STSv1\nmode: {}\n", self.mode.name());
        for mx in &self.mx {
            out.push_str(&format!("mx: {}\n", mx.trim_end_matches('.')));
        }
        out.push_str(&format!("max_age: {}\n", self.max_age));
        out
    }

    /// The policy id: derived from the text, so it stays the same while the policy does
    /// and changes when it changes (senders refetch only when the id changes; RFC 8461
    /// section 3.1 allows 1 to 32 letters and digits).
    pub fn id(&self) -> String {
        crate::tlsa::hex(&Sha256::digest(self.text().as_bytes())[..10])
    }

    /// The TXT record's data for the domain.
    pub fn record(&self) -> String {
        format!("v=STSv1; id={}", self.id())
    }
}

/// The name of the TXT record for `domain`: `_mta-sts.example.com.`.
pub fn record_name(domain: &str) -> String {
    format!("_mta-sts.{}.", domain.trim_end_matches('.'))
}

/// Where the policy must be served: the `mta-sts` host of the domain, over HTTPS with a
/// certificate for that name (RFC 8461 section 3.3).
pub fn url(domain: &str) -> String {
    format!(
        "https://mta-sts.{}/.well-known/mta-sts.txt",
        domain.trim_end_matches('.')
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_follows_the_policy() {
        let policy = Policy {
            mode: Mode::Testing,
            mx: vec!["mx.example.com".to_owned()],
            max_age: 604_800,
        };
        let same = policy.clone();
        let enforced = Policy {
            mode: Mode::Enforce,
            ..policy.clone()
        };
        assert_eq!(policy.id(), same.id());
        assert_ne!(policy.id(), enforced.id());
        assert_eq!(policy.id().len(), 20);
        assert!(policy.id().bytes().all(|b| b.is_ascii_alphanumeric()));
    }
}
