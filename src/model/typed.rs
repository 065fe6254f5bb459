//! Typed effective values: a parameter as the daemon of a service reads it (its `-o`
//! override, else main.cf, else the default; expanded; converted), and the TLS level a
//! server or client ends up with once the deprecated switches are taken into account.

use std::fmt;
use std::ops::ControlFlow;

use super::config::{Config, Scope};
use super::expand::ExpandError;
use super::value::{self, TlsLevel, ValueError};

/// Why a value cannot be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// The parameter is not known at the target version.
    Unknown(String),
    /// Its value cannot be expanded.
    Expansion(String, ExpandError),
    /// The daemon would refuse the value.
    Value(ValueError),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Unknown(name) => write!(f, "`{name}` is not a known parameter"),
            ReadError::Expansion(name, error) => write!(f, "`{name}`: {error}"),
            ReadError::Value(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for ReadError {}

impl From<ValueError> for ReadError {
    fn from(error: ValueError) -> ReadError {
        ReadError::Value(error)
    }
}

/// Which TLS engine a level is read for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TlsSide {
    /// The SMTP server (`smtpd`): `smtpd_tls_security_level`.
    Server,
    /// The SMTP client (`smtp`): `smtp_tls_security_level`.
    SmtpClient,
    /// The LMTP client (`lmtp`, the `smtp` program run as `lmtp`): `lmtp_tls_security_level`.
    LmtpClient,
}

impl TlsSide {
    /// The parameter prefix of the engine: `smtpd`, `smtp`, `lmtp`.
    pub fn prefix(self) -> &'static str {
        match self {
            TlsSide::Server => "smtpd",
            TlsSide::SmtpClient => "smtp",
            TlsSide::LmtpClient => "lmtp",
        }
    }

    /// The engine whose pre-2.3 TLS switch `name` is (`smtpd_use_tls`, `smtp_enforce_tls`,
    /// …): the switches `*_tls_security_level` replaced, which decide only while it is empty.
    pub fn of_switch(name: &str) -> Option<TlsSide> {
        let (prefix, switch) = name.split_once('_')?;
        [TlsSide::Server, TlsSide::SmtpClient, TlsSide::LmtpClient]
            .into_iter()
            .find(|side| side.prefix() == prefix && matches!(switch, "use_tls" | "enforce_tls"))
    }
}

/// The TLS level in effect, and the parameter that decided it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EffectiveTls {
    /// The level.
    pub level: TlsLevel,
    /// The parameter that set it (`smtpd_tls_security_level`, `smtpd_tls_wrappermode`,
    /// a deprecated `*_use_tls` / `*_enforce_tls`); `None` when nothing turns TLS on.
    pub decided_by: Option<String>,
    /// Whether the level was written as one the server does not implement (`verify`,
    /// `secure`, `fingerprint`), which smtpd runs as `encrypt` with a warning.
    pub downgraded: bool,
}

/// The smtpd restriction lists, in the order smtpd applies them.
pub const SMTPD_RESTRICTION_LISTS: [&str; 8] = [
    "smtpd_client_restrictions",
    "smtpd_helo_restrictions",
    "smtpd_sender_restrictions",
    "smtpd_relay_restrictions",
    "smtpd_recipient_restrictions",
    "smtpd_data_restrictions",
    "smtpd_end_of_data_restrictions",
    "smtpd_etrn_restrictions",
];

/// The restrictions smtpd applies only with SASL on; without it, smtpd skips each and
/// logs "restriction `…' ignored: no SASL support" (`smtpd_check.c`).
pub const NEEDS_SASL: [&str; 5] = [
    "reject_sender_login_mismatch",
    "reject_authenticated_sender_login_mismatch",
    "reject_known_sender_login_mismatch",
    "reject_unauthenticated_sender_login_mismatch",
    "check_sasl_access",
];

/// The restriction classes of a scope (`smtpd_restriction_classes`), and which of them
/// one walk of a list has read. A class is read where it is first named and skipped
/// after: what it adds is already there, and the questions asked (which restrictions
/// apply, which comes first, whether one is reached) do not change. Reading it again
/// each time made classes that name each other exponential (six classes in 2 KB took
/// 20 s).
pub struct Classes {
    /// Sorted, without repeats.
    names: Vec<Vec<u8>>,
    /// Whether the class of the same index was read in this walk.
    read: Vec<bool>,
}

impl Classes {
    /// How deep classes are read inside each other; a class named deeper is taken as a
    /// restriction of that name.
    pub const MAX_DEPTH: usize = 10;

    /// Whether `item` names a class (smtpd finds one by its exact name, unlike a
    /// restriction), and if so whether this walk reads it now: only the first time.
    pub fn enter(&mut self, item: &[u8]) -> Option<bool> {
        let class = self
            .names
            .binary_search_by(|c| c.as_slice().cmp(item))
            .ok()?;
        Some(!std::mem::replace(&mut self.read[class], true))
    }

    /// Forgets which classes were read, for a walk of another list.
    pub fn start_walk(&mut self) {
        self.read.fill(false);
    }
}

impl Config<'_> {
    /// The restrictions `list` (a restriction parameter) applies in `scope`, in order of
    /// their first use, each lower-cased, with the restriction classes it names read in
    /// place (see [`Classes`]).
    pub fn restrictions(&self, scope: Scope, list: &str) -> Vec<String> {
        let mut classes = self.restriction_classes(scope);
        let mut out = Vec::new();
        self.each_restriction(scope, list, &mut classes, 0, &mut |item| {
            out.push(String::from_utf8_lossy(item).to_ascii_lowercase());
            ControlFlow::<()>::Continue(())
        });
        out
    }

    /// Each restriction list of `scope` that uses a restriction needing SASL
    /// ([`NEEDS_SASL`]), with the first such restriction.
    pub fn sasl_restrictions(&self, scope: Scope) -> Vec<(&'static str, String)> {
        // Every SMTP server asks this of eight lists: read without a copy of each item.
        let mut classes = self.restriction_classes(scope);
        SMTPD_RESTRICTION_LISTS
            .into_iter()
            .filter_map(|list| {
                classes.start_walk();
                let item =
                    self.each_restriction(
                        scope,
                        list,
                        &mut classes,
                        0,
                        &mut |item| match NEEDS_SASL
                            .iter()
                            .find(|n| item.eq_ignore_ascii_case(n.as_bytes()))
                        {
                            Some(needs) => ControlFlow::Break(*needs),
                            None => ControlFlow::Continue(()),
                        },
                    )?;
                Some((list, item.to_owned()))
            })
            .collect()
    }

    /// Whether `scope` reads `lists` (restriction parameters) as main.cf does: the lists,
    /// the restriction classes and each class's value (see [`Config::value_scope`]).
    pub fn restrictions_read_as_main(&self, scope: Scope, lists: &[&str]) -> bool {
        let as_main = |name: &str| self.value_scope(scope, name) == Scope::Main;
        scope == Scope::Main
            || (lists.iter().all(|l| as_main(l))
                && as_main("smtpd_restriction_classes")
                && self
                    .restriction_classes(Scope::Main)
                    .names
                    .iter()
                    .all(|c| as_main(&String::from_utf8_lossy(c))))
    }

    /// The restriction classes of `scope`, for a walk of one of its lists.
    pub fn restriction_classes(&self, scope: Scope) -> Classes {
        let mut names = self
            .list(scope, "smtpd_restriction_classes")
            .unwrap_or_default();
        names.sort_unstable();
        names.dedup();
        Classes {
            read: vec![false; names.len()],
            names,
        }
    }

    /// Hands `visit` each restriction of `list` in `scope` as written, with the classes
    /// it names read in place, until `visit` breaks.
    fn each_restriction<B>(
        &self,
        scope: Scope,
        list: &str,
        classes: &mut Classes,
        depth: usize,
        visit: &mut impl FnMut(&[u8]) -> ControlFlow<B>,
    ) -> Option<B> {
        let text = self.text(scope, list).unwrap_or_default();
        for item in value::elements(&text) {
            let entered = if depth < Classes::MAX_DEPTH {
                classes.enter(item)
            } else {
                None
            };
            match entered {
                Some(true) => {
                    let class = String::from_utf8_lossy(item);
                    if let Some(found) =
                        self.each_restriction(scope, &class, classes, depth + 1, visit)
                    {
                        return Some(found);
                    }
                }
                Some(false) => {}
                None => {
                    if let ControlFlow::Break(found) = visit(item) {
                        return Some(found);
                    }
                }
            }
        }
        None
    }

    /// The expanded value of `name` in `scope`.
    pub fn text(&self, scope: Scope, name: &str) -> Result<Vec<u8>, ReadError> {
        match self.expanded(scope, name) {
            None => Err(ReadError::Unknown(name.to_owned())),
            Some(Err(error)) => Err(ReadError::Expansion(name.to_owned(), error)),
            Some(Ok(value)) => Ok(value),
        }
    }

    /// A `yes`/`no` parameter in `scope`.
    pub fn boolean(&self, scope: Scope, name: &str) -> Result<bool, ReadError> {
        Ok(value::boolean(name, &self.text(scope, name)?)?)
    }

    /// A time parameter in `scope`, in seconds (a bare number takes the unit of the
    /// parameter's default).
    pub fn seconds(&self, scope: Scope, name: &str) -> Result<u64, ReadError> {
        let unit = self.info(name).map_or(b's', |i| {
            value::default_time_unit(i.default_at(self.version))
        });
        Ok(value::time(name, &self.text(scope, name)?, unit)?)
    }

    /// A whole-number parameter in `scope`.
    pub fn integer(&self, scope: Scope, name: &str) -> Result<i64, ReadError> {
        Ok(value::integer(name, &self.text(scope, name)?)?)
    }

    /// A list parameter in `scope`, split into its elements.
    pub fn list(&self, scope: Scope, name: &str) -> Result<Vec<Vec<u8>>, ReadError> {
        let text = self.text(scope, name)?;
        Ok(value::elements(&text)
            .into_iter()
            .map(<[u8]>::to_vec)
            .collect())
    }

    /// The TLS level `side` uses in `scope`, decided as the daemon decides it: the
    /// `*_tls_security_level` when set, else the deprecated `*_enforce_tls` and
    /// `*_use_tls` switches; for the server, `smtpd_tls_wrappermode` (implicit TLS, as
    /// on port 465) means `encrypt` whatever the level says.
    pub fn tls_level(&self, scope: Scope, side: TlsSide) -> Result<EffectiveTls, ReadError> {
        let prefix = side.prefix();
        let decided = |level, name: String, downgraded| EffectiveTls {
            level,
            decided_by: Some(name),
            downgraded,
        };
        if side == TlsSide::Server && self.boolean(scope, "smtpd_tls_wrappermode")? {
            return Ok(decided(
                TlsLevel::Encrypt,
                "smtpd_tls_wrappermode".to_owned(),
                false,
            ));
        }
        let level_name = format!("{prefix}_tls_security_level");
        let written = self.text(scope, &level_name)?;
        if !written.is_empty() {
            let invalid = || ValueError {
                name: level_name.clone(),
                value: String::from_utf8_lossy(&written).into_owned(),
                expected: match side {
                    TlsSide::Server => "a server TLS level (`none`, `may` or `encrypt`)",
                    _ => "a TLS security level",
                },
            };
            let level = TlsLevel::parse(&written).ok_or_else(invalid)?;
            if side != TlsSide::Server {
                return Ok(decided(level, level_name, false));
            }
            return match level {
                TlsLevel::None | TlsLevel::May | TlsLevel::Encrypt => {
                    Ok(decided(level, level_name, false))
                }
                TlsLevel::Fingerprint | TlsLevel::Verify | TlsLevel::Secure => {
                    Ok(decided(TlsLevel::Encrypt, level_name, true))
                }
                TlsLevel::Dane | TlsLevel::DaneOnly => Err(invalid().into()),
            };
        }
        let switch = |suffix: &str| -> Result<Option<String>, ReadError> {
            let name = format!("{prefix}_{suffix}");
            match self.boolean(scope, &name) {
                Ok(true) => Ok(Some(name)),
                Ok(false) | Err(ReadError::Unknown(_)) => Ok(None),
                Err(error) => Err(error),
            }
        };
        if let Some(name) = switch("enforce_tls")? {
            let level = match side {
                TlsSide::Server => TlsLevel::Encrypt,
                _ if switch("tls_enforce_peername")?.is_some() => TlsLevel::Verify,
                _ => TlsLevel::Encrypt,
            };
            return Ok(decided(level, name, false));
        }
        if let Some(name) = switch("use_tls")? {
            return Ok(decided(TlsLevel::May, name, false));
        }
        Ok(EffectiveTls {
            level: TlsLevel::None,
            decided_by: None,
            downgraded: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::TlsSide;

    #[test]
    fn the_pre_2_3_switches_are_known_by_engine() {
        assert_eq!(TlsSide::of_switch("smtpd_use_tls"), Some(TlsSide::Server));
        assert_eq!(
            TlsSide::of_switch("smtp_enforce_tls"),
            Some(TlsSide::SmtpClient)
        );
        assert_eq!(
            TlsSide::of_switch("lmtp_enforce_tls"),
            Some(TlsSide::LmtpClient)
        );
        for other in [
            "postscreen_use_tls",
            "smtp_tls_security_level",
            "smtpd_use_tls_x",
            "use_tls",
        ] {
            assert_eq!(TlsSide::of_switch(other), None, "{other}");
        }
    }
}
