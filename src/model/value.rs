//! Typed readings of expanded parameter values, with the rules of Postfix's own converters
//! (`get_mail_conf_bool()`, `conv_time()`, `get_mail_conf_int()`, `tls_level_lookup()`), so
//! that a rule sees exactly what the daemon would see, and a value the daemon would refuse
//! is a [`ValueError`] rather than a guess.

use std::fmt;

use crate::syntax::list;

/// A value that the daemon reading it would refuse (Postfix stops with a fatal error).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueError {
    /// The parameter.
    pub name: String,
    /// The expanded value.
    pub value: String,
    /// What the value should be.
    pub expected: &'static str,
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{} = {}` is not {}",
            self.name, self.value, self.expected
        )
    }
}

impl std::error::Error for ValueError {}

fn refuse<T>(name: &str, value: &[u8], expected: &'static str) -> Result<T, ValueError> {
    Err(ValueError {
        name: name.to_owned(),
        value: String::from_utf8_lossy(value).into_owned(),
        expected,
    })
}

/// `yes` or `no`, in any letter case.
pub fn boolean(name: &str, value: &[u8]) -> Result<bool, ValueError> {
    if value.eq_ignore_ascii_case(b"yes") {
        Ok(true)
    } else if value.eq_ignore_ascii_case(b"no") {
        Ok(false)
    } else {
        refuse(name, value, "`yes` or `no`")
    }
}

/// A whole number (`strtol()` over the whole value: leading blanks and a sign allowed).
pub fn integer(name: &str, value: &[u8]) -> Result<i64, ValueError> {
    let (number, rest) = strtol(value);
    match number {
        Some(n) if rest.is_empty() && i32::try_from(n).is_ok() => Ok(n),
        _ => refuse(name, value, "a whole number"),
    }
}

/// A time in seconds: a number and an optional unit (`s`, `m`, `h`, `d`, `w`);
/// `default_unit` applies when there is none. Like Postfix, text after the unit is
/// ignored.
pub fn time(name: &str, value: &[u8], default_unit: u8) -> Result<u64, ValueError> {
    let (number, rest) = strtol(value);
    let expected = "a time such as `30s`, `5m`, `1h`, `2d` or `1w`";
    let Some(n) = number.filter(|&n| n >= 0 && i32::try_from(n).is_ok()) else {
        return refuse(name, value, expected);
    };
    let unit: u64 = match rest.first().copied().unwrap_or(default_unit) {
        b's' => 1,
        b'm' => 60,
        b'h' => 3600,
        b'd' => 86_400,
        b'w' => 604_800,
        _ => return refuse(name, value, expected),
    };
    let seconds = n.unsigned_abs() * unit;
    if unit > 1 && seconds > i32::MAX as u64 {
        return refuse(name, value, expected);
    }
    Ok(seconds)
}

/// The unit a time parameter assumes for a bare number: the unit of its default.
pub fn default_time_unit(default: &str) -> u8 {
    default
        .bytes()
        .rev()
        .find(|b| !b.is_ascii_digit())
        .filter(|b| b"smhdw".contains(b))
        .unwrap_or(b's')
}

/// The elements of a list value, split at commas and whitespace outside `{ }`.
pub fn elements(value: &[u8]) -> Vec<&[u8]> {
    list::split(value)
        .0
        .into_iter()
        .map(|e| &value[e.text.start as usize..e.text.end as usize])
        .collect()
}

/// What C's `atol()` makes of a value: its leading number, or 0.
pub fn atol(value: &[u8]) -> i64 {
    strtol(value).0.unwrap_or(0)
}

/// A host name as `valid_hostname()` accepts it (src/util/valid_hostname.c): labels of
/// letters, digits, `_` and inner `-`, at most 63 bytes each, separated by single dots,
/// not all digits, at most 255 bytes.
pub fn host_name(name: &str, value: &[u8]) -> Result<(), ValueError> {
    let why = host_name_problem(value);
    match why {
        None => Ok(()),
        Some(expected) => refuse(name, value, expected),
    }
}

/// Whether `valid_hostname()` accepts `value` (see [`host_name`]).
pub fn is_host_name(value: &[u8]) -> bool {
    host_name_problem(value).is_none()
}

fn host_name_problem(value: &[u8]) -> Option<&'static str> {
    if value.is_empty() {
        return Some("a host name (it is empty)");
    }
    let mut label = 0usize;
    let mut numeric = true;
    for (i, &b) in value.iter().enumerate() {
        let next = value.get(i + 1).copied();
        match b {
            b'.' if label == 0 || next.is_none() => {
                return Some("a host name (a dot is misplaced)");
            }
            b'.' => label = 0,
            b'-' if label == 0 || next.is_none() || next == Some(b'.') => {
                return Some("a host name (a hyphen is misplaced)");
            }
            b'-' => {
                numeric = false;
                label += 1;
            }
            _ if b.is_ascii_alphanumeric() || b == b'_' => {
                label += 1;
                numeric &= b.is_ascii_digit();
                if label > 63 {
                    return Some("a host name (a label is longer than 63 bytes)");
                }
            }
            _ => {
                return Some(
                    "a host name: letters, digits, `-` and `_` in labels separated by dots",
                );
            }
        }
    }
    if numeric {
        return Some("a host name (it is all digits)");
    }
    (value.len() > 255).then_some("a host name (it is longer than 255 bytes)")
}

/// `strtol()`: optional blanks and sign, then digits; `None` without digits or when out of
/// range; also returns the text after the number.
pub fn strtol(value: &[u8]) -> (Option<i64>, &[u8]) {
    let start = value
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r'))
        .unwrap_or(value.len());
    let mut i = start;
    if matches!(value.get(i), Some(b'+' | b'-')) {
        i += 1;
    }
    let digits = value[i..].iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return (None, value);
    }
    let end = i + digits;
    let number = std::str::from_utf8(&value[start..end])
        .ok()
        .and_then(|s| s.parse::<i64>().ok());
    (number, &value[end..])
}

/// A TLS security level (`smtp_tls_security_level`, `smtpd_tls_security_level`, and the
/// levels of TLS policy tables).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TlsLevel {
    /// No TLS.
    None,
    /// Opportunistic TLS: used when offered, plaintext otherwise.
    May,
    /// Mandatory TLS, peer not authenticated.
    Encrypt,
    /// Mandatory TLS, peer authenticated by certificate fingerprint.
    Fingerprint,
    /// Opportunistic DANE: authenticated by TLSA records when DNSSEC-signed ones exist.
    Dane,
    /// Mandatory DANE.
    DaneOnly,
    /// Mandatory TLS, peer name verified against the certificate.
    Verify,
    /// Mandatory TLS, secure-channel verification of the peer name.
    Secure,
}

impl TlsLevel {
    /// Every level, weakest first.
    pub const ALL: [TlsLevel; 8] = [
        TlsLevel::None,
        TlsLevel::May,
        TlsLevel::Encrypt,
        TlsLevel::Fingerprint,
        TlsLevel::Dane,
        TlsLevel::DaneOnly,
        TlsLevel::Verify,
        TlsLevel::Secure,
    ];

    /// The level's name as Postfix spells it (case matters).
    pub fn name(self) -> &'static str {
        match self {
            TlsLevel::None => "none",
            TlsLevel::May => "may",
            TlsLevel::Encrypt => "encrypt",
            TlsLevel::Fingerprint => "fingerprint",
            TlsLevel::Dane => "dane",
            TlsLevel::DaneOnly => "dane-only",
            TlsLevel::Verify => "verify",
            TlsLevel::Secure => "secure",
        }
    }

    /// Reads a level name (`tls_level_lookup()`: exact spelling; `halfdane` is output only).
    pub fn parse(value: &[u8]) -> Option<TlsLevel> {
        TlsLevel::ALL
            .into_iter()
            .find(|l| l.name().as_bytes() == value)
    }

    /// Whether mail is refused or deferred when the peer offers no TLS.
    pub fn is_mandatory(self) -> bool {
        !matches!(self, TlsLevel::None | TlsLevel::May | TlsLevel::Dane)
    }

    /// Whether the peer is authenticated (when the level applies at all).
    pub fn authenticates(self) -> bool {
        !matches!(self, TlsLevel::None | TlsLevel::May | TlsLevel::Encrypt)
    }
}

impl fmt::Display for TlsLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_as_valid_hostname_judges_them() {
        for good in [
            "mail.example.com",
            "mx-1.example",
            "a_b.example",
            "localhost",
            "1a",
        ] {
            assert!(host_name("myhostname", good.as_bytes()).is_ok(), "{good}");
        }
        for bad in [
            "",
            "!PANEL_FQDN!",
            "{{ main_domain }}",
            "mail..example",
            ".example",
            "example.",
            "-mx.example",
            "mx-.example",
            "192.0.2.1",
            "mail example",
        ] {
            assert!(host_name("myhostname", bad.as_bytes()).is_err(), "{bad}");
        }
        let long_label = "a".repeat(64);
        assert!(host_name("mydomain", long_label.as_bytes()).is_err());
        let long_name = vec!["abc"; 65].join(".");
        assert!(host_name("mydomain", long_name.as_bytes()).is_err());
    }

    #[test]
    fn booleans_like_postfix() {
        assert_eq!(boolean("x", b"YES"), Ok(true));
        assert_eq!(boolean("x", b"no"), Ok(false));
        assert!(boolean("x", b"true").is_err());
        assert!(boolean("x", b"").is_err());
    }

    #[test]
    fn times_like_conv_time() {
        assert_eq!(time("t", b"30", b's'), Ok(30));
        assert_eq!(time("t", b"5", b'd'), Ok(5 * 86_400));
        assert_eq!(time("t", b"2h", b's'), Ok(7200));
        assert_eq!(time("t", b"1w", b's'), Ok(604_800));
        // conv_time() does not look past the unit.
        assert_eq!(time("t", b"10sec", b'd'), Ok(10));
        assert!(time("t", b"-1s", b's').is_err());
        assert!(time("t", b"5y", b's').is_err());
        assert!(time("t", b"", b's').is_err());
        assert!(time("t", b"99999999w", b's').is_err());
        assert_eq!(default_time_unit("5d"), b'd');
        assert_eq!(default_time_unit("3600s"), b's');
        assert_eq!(default_time_unit("${x}"), b's');
    }

    #[test]
    fn integers_like_strtol() {
        assert_eq!(integer("i", b"10240000"), Ok(10_240_000));
        assert_eq!(integer("i", b" -1"), Ok(-1));
        assert!(integer("i", b"10k").is_err());
        assert!(integer("i", b"99999999999").is_err());
    }

    #[test]
    fn tls_levels_are_spelled_exactly() {
        for level in TlsLevel::ALL {
            assert_eq!(TlsLevel::parse(level.name().as_bytes()), Some(level));
        }
        assert_eq!(TlsLevel::parse(b"Encrypt"), None);
        assert_eq!(TlsLevel::parse(b"halfdane"), None);
        assert!(TlsLevel::Encrypt.is_mandatory() && !TlsLevel::Dane.is_mandatory());
        assert!(TlsLevel::Dane.authenticates() && !TlsLevel::Encrypt.authenticates());
    }

    #[test]
    fn lists_split_at_commas_and_blanks() {
        assert_eq!(
            elements(b"permit_mynetworks, reject_unauth_destination  {a b}"),
            [
                &b"permit_mynetworks"[..],
                b"reject_unauth_destination",
                b"a b"
            ]
        );
    }
}
