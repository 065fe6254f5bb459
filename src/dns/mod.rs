//! The DNS records a Postfix TLS setup needs, derived from the same file facts as the
//! certificate checks ([`crate::material`]): TLSA for DANE (one `3 1 1` per key smtpd
//! really loads, with a safe rollover to the next key and a check of what is published),
//! MTA-STS (refused in `enforce` mode when the MX would fail it) and TLS-RPT. Nothing here
//! queries DNS.

pub mod mta_sts;
pub mod records;
pub mod render;

pub use records::{Key, KeyRole, Records, Request, TlsaRecord, plan};
