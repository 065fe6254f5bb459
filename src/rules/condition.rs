//! The declarative condition language of rule files (`when:`), and its evaluation against
//! the effective configuration of one subject (a service, or main.cf).
//!
//! ```yaml
//! when:
//!   all:
//!     - tls: server                # the effective TLS level of smtpd, smtp or lmtp
//!       is: [encrypt]
//!     - param: smtpd_tls_auth_only # an effective value, expanded
//!       is-not: ["yes"]
//!     - any: [...]                 # also: not: {...}
//!     - role: smarthost-client     # public-mx, submission-server, null-client, direct-delivery
//!     - postfix: ">= 3.6"          # the target version
//! ```
//!
//! Operators on `param`: `is`, `is-not` (one of the values; yes/no in any case for
//! booleans), `empty`, `set` (written in main.cf or a `-o`, rather than left to the
//! default), `contains`/`lacks` (list elements), `at-least` (the leading number).
//! Operators on `tls`: `is`, `is-not`.

use serde::Deserialize;

use crate::model::config::{Config, Scope};
use crate::model::{ReadError, Roles, TlsSide, ValueType, value};
use crate::rules::builtin::Hit;

/// One condition, as written in a rule file.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Condition {
    /// Every condition holds.
    pub all: Option<Vec<Condition>>,
    /// Some condition holds.
    pub any: Option<Vec<Condition>>,
    /// The condition does not hold.
    pub not: Option<Box<Condition>>,
    /// An effective parameter value.
    pub param: Option<String>,
    /// The effective TLS level of `server` (smtpd), `smtp` or `lmtp`.
    pub tls: Option<TlsName>,
    /// A role of the host.
    pub role: Option<RoleName>,
    /// The target Postfix version: `>= 3.6`, `< 3.11`, …
    pub postfix: Option<String>,
    /// The value is one of these.
    pub is: Option<Vec<String>>,
    /// The value is none of these.
    pub is_not: Option<Vec<String>>,
    /// The value is (or is not) empty.
    pub empty: Option<bool>,
    /// The parameter is (or is not) written in main.cf or a `-o` for the subject.
    pub set: Option<bool>,
    /// The list value has one of these elements.
    pub contains: Option<Vec<String>>,
    /// The list value has none of these elements.
    pub lacks: Option<Vec<String>>,
    /// The value starts with a number at least this large.
    pub at_least: Option<i64>,
}

/// A TLS engine, as rule files name it.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum TlsName {
    /// smtpd.
    Server,
    /// The smtp client.
    Smtp,
    /// The lmtp client.
    Lmtp,
}

/// A role, as rule files name it.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum RoleName {
    /// Receives mail from the Internet on port 25.
    PublicMx,
    /// Accepts mail from users on 587 or 465.
    SubmissionServer,
    /// Relays (some) outgoing mail through a fixed next hop.
    SmarthostClient,
    /// Sends mail only.
    NullClient,
    /// Delivers mail for other domains straight to their MX hosts.
    DirectDelivery,
}

/// What a condition is evaluated against.
pub struct Context<'c, 'a> {
    /// The configuration.
    pub config: &'c Config<'a>,
    /// Its roles.
    pub roles: &'c Roles,
    /// The subject's scope.
    pub scope: Scope,
    /// Where parameters are written (see [`crate::rules::builtin::places`]).
    pub places: &'c [crate::model::config::WrittenRef],
    /// What was found of the files the configuration names.
    pub facts: &'c crate::material::Facts,
    /// Answers found for a service that reads its values as main.cf does, for the next.
    pub shared: &'c Shared,
}

/// Answers to questions about values that services inherit from main.cf, kept for one
/// run: a value a hundred thousand services share is judged once, not once each.
#[derive(Default)]
pub struct Shared {
    /// Conditions on one parameter, by the condition's address.
    conditions: std::cell::RefCell<std::collections::HashMap<usize, bool>>,
    /// Built-in checks, by name.
    hits: std::cell::RefCell<std::collections::HashMap<&'static str, Vec<Hit>>>,
    /// Values as messages show them (see [`crate::rules::engine::shown_value`]).
    shown: std::cell::RefCell<std::collections::HashMap<String, String>>,
}

impl Shared {
    /// The inherited value of `param` as shown, when it was shown before.
    pub fn shown_value(&self, param: &str) -> Option<String> {
        self.shown.borrow().get(param).cloned()
    }

    /// Keeps the inherited value of `param` as shown.
    pub fn keep_shown_value(&self, param: &str, shown: &str) {
        self.shown
            .borrow_mut()
            .insert(param.to_owned(), shown.to_owned());
    }
}

impl Context<'_, '_> {
    /// The hits of the built-in check `name`, made by `check` or, when `inherited` says
    /// that this service reads all the check reads as main.cf does, found once for all
    /// such services.
    pub fn shared_hits(
        &self,
        name: &'static str,
        inherited: impl FnOnce() -> bool,
        check: impl FnOnce() -> Vec<Hit>,
    ) -> Vec<Hit> {
        if self.scope == Scope::Main || !inherited() {
            return check();
        }
        if let Some(hits) = self.shared.hits.borrow().get(name) {
            return hits.clone();
        }
        let hits = check();
        self.shared.hits.borrow_mut().insert(name, hits.clone());
        hits
    }
}

impl<'c> Context<'c, '_> {
    /// Every parameter written in main.cf and master.cf `-o` options, in file order.
    pub fn places(&self) -> impl Iterator<Item = crate::rules::builtin::Place<'c>> + use<'c, '_> {
        let config = self.config;
        self.places
            .iter()
            .filter_map(move |at| crate::rules::builtin::place(config, *at))
    }
}

/// Why a condition holds: the parameters whose values make it hold, in order.
pub type Causes = Vec<String>;

impl Condition {
    /// Checks that the condition is well formed: one subject key, and only the operators
    /// that fit it.
    pub fn validate(&self) -> Result<(), String> {
        let subjects = [
            self.all.is_some(),
            self.any.is_some(),
            self.not.is_some(),
            self.param.is_some(),
            self.tls.is_some(),
            self.role.is_some(),
            self.postfix.is_some(),
        ];
        if subjects.iter().filter(|&&s| s).count() != 1 {
            return Err(
                "a condition needs exactly one of all, any, not, param, tls, role, postfix"
                    .to_owned(),
            );
        }
        let operators = [
            self.is.is_some(),
            self.is_not.is_some(),
            self.empty.is_some(),
            self.set.is_some(),
            self.contains.is_some(),
            self.lacks.is_some(),
            self.at_least.is_some(),
        ];
        let operator_count = operators.iter().filter(|&&o| o).count();
        if self.param.is_some() {
            if operator_count != 1 {
                return Err(format!(
                    "`param: {}` needs exactly one operator",
                    self.param.as_deref().unwrap_or_default()
                ));
            }
        } else if self.tls.is_some() {
            if operator_count != 1 || !(self.is.is_some() || self.is_not.is_some()) {
                return Err("`tls` takes exactly one of is, is-not".to_owned());
            }
            for level in self.is.iter().chain(&self.is_not).flatten() {
                if value::TlsLevel::parse(level.as_bytes()).is_none() {
                    return Err(format!("`{level}` is not a TLS level"));
                }
            }
        } else if operator_count != 0 {
            return Err("operators belong to `param` or `tls`".to_owned());
        }
        if let Some(range) = &self.postfix {
            VersionTest::parse(range)?;
        }
        for child in self.all.iter().chain(&self.any).flatten() {
            child.validate()?;
        }
        if let Some(child) = &self.not {
            child.validate()?;
        }
        Ok(())
    }

    /// Evaluates the condition: `Some(causes)` when it holds.
    pub fn eval(&self, cx: &Context<'_, '_>) -> Option<Causes> {
        if let Some(all) = &self.all {
            let mut causes = Vec::new();
            for child in all {
                causes.extend(child.eval(cx)?);
            }
            return Some(causes);
        }
        if let Some(any) = &self.any {
            return any.iter().find_map(|child| child.eval(cx));
        }
        if let Some(not) = &self.not {
            return match not.eval(cx) {
                Some(_) => None,
                None => Some(Vec::new()),
            };
        }
        if let Some(role) = self.role {
            return has_role(cx.roles, role).then(Vec::new);
        }
        if let Some(range) = &self.postfix {
            let test = VersionTest::parse(range).ok()?;
            return test.holds(cx.config.version).then(Vec::new);
        }
        if let Some(side) = self.tls {
            return self.eval_tls(cx, side);
        }
        let name = self.param.as_deref()?;
        self.eval_param(cx, name)
    }

    fn eval_tls(&self, cx: &Context<'_, '_>, side: TlsName) -> Option<Causes> {
        let side = match side {
            TlsName::Server => TlsSide::Server,
            TlsName::Smtp => TlsSide::SmtpClient,
            TlsName::Lmtp => TlsSide::LmtpClient,
        };
        // A level the daemon refuses is another rule's finding.
        let effective = cx.config.tls_level(cx.scope, side).ok()?;
        let name = effective.level.name();
        let listed = |levels: &Option<Vec<String>>| {
            levels
                .as_ref()
                .is_some_and(|l| l.iter().any(|level| level == name))
        };
        let holds = if self.is.is_some() {
            listed(&self.is)
        } else {
            !listed(&self.is_not)
        };
        let cause = effective.decided_by.unwrap_or_else(|| {
            match side {
                TlsSide::Server => "smtpd_tls_security_level",
                TlsSide::SmtpClient => "smtp_tls_security_level",
                TlsSide::LmtpClient => "lmtp_tls_security_level",
            }
            .to_owned()
        });
        holds.then(|| vec![cause])
    }

    fn eval_param(&self, cx: &Context<'_, '_>, name: &str) -> Option<Causes> {
        let cause = || Some(vec![name.to_owned()]);
        if let Some(want) = self.set {
            let written = cx.config.setting_location(cx.scope, name).is_some();
            return (written == want).then(cause)?;
        }
        let key = self as *const Condition as usize;
        let inherited =
            cx.scope != Scope::Main && cx.config.value_scope(cx.scope, name) == Scope::Main;
        if inherited && let Some(&holds) = cx.shared.conditions.borrow().get(&key) {
            return holds.then(cause)?;
        }
        let holds = self.holds(cx, name)?;
        if inherited {
            cx.shared.conditions.borrow_mut().insert(key, holds);
        }
        holds.then(cause)?
    }

    /// Whether the value of `name` meets this condition; `None` when it cannot be read.
    fn holds(&self, cx: &Context<'_, '_>, name: &str) -> Option<bool> {
        // An unknown parameter reads as empty: it has no effect.
        let text = match cx.config.text(cx.scope, name) {
            Ok(text) => text,
            Err(ReadError::Unknown(_)) => Vec::new(),
            Err(_) => return None,
        };
        let boolean = cx
            .config
            .info(name)
            .is_some_and(|i| i.value_type == ValueType::Bool);
        let same = |want: &String| {
            if boolean {
                text.eq_ignore_ascii_case(want.as_bytes())
            } else {
                text == want.as_bytes()
            }
        };
        let holds = if let Some(values) = &self.is {
            values.iter().any(same)
        } else if let Some(values) = &self.is_not {
            !values.iter().any(same)
        } else if let Some(want) = self.empty {
            value::elements(&text).is_empty() == want
        } else if let Some(wanted) = &self.contains {
            let elements = value::elements(&text);
            wanted.iter().any(|w| elements.contains(&w.as_bytes()))
        } else if let Some(unwanted) = &self.lacks {
            let elements = value::elements(&text);
            !unwanted.iter().any(|w| elements.contains(&w.as_bytes()))
        } else if let Some(least) = self.at_least {
            value::strtol(&text).0.is_some_and(|n| n >= least)
        } else {
            false
        };
        Some(holds)
    }
}

/// Whether the host has `role`.
pub fn has_role(roles: &Roles, role: RoleName) -> bool {
    match role {
        RoleName::PublicMx => roles.is_public_mx(),
        RoleName::SubmissionServer => roles.is_submission_server(),
        RoleName::SmarthostClient => roles.is_smarthost_client(),
        RoleName::NullClient => roles.is_null_client(),
        RoleName::DirectDelivery => roles.direct_delivery,
    }
}

/// `>= 3.6`, `< 3.11`, `== 3.7`: a test on the target version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VersionTest {
    operator: Comparison,
    version: crate::model::Version,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Comparison {
    Less,
    LessOrEqual,
    Equal,
    GreaterOrEqual,
    Greater,
}

impl VersionTest {
    /// Parses `OP VERSION`.
    pub fn parse(text: &str) -> Result<VersionTest, String> {
        let text = text.trim();
        let (operator, rest) = [
            ("<=", Comparison::LessOrEqual),
            (">=", Comparison::GreaterOrEqual),
            ("==", Comparison::Equal),
            ("<", Comparison::Less),
            (">", Comparison::Greater),
        ]
        .into_iter()
        .find_map(|(op, c)| text.strip_prefix(op).map(|rest| (c, rest)))
        .ok_or_else(|| format!("`{text}`: expected <, <=, ==, >= or > and a version"))?;
        let version = rest
            .trim()
            .parse()
            .map_err(|e: crate::model::version::BadVersion| format!("`{text}`: {e}"))?;
        Ok(VersionTest { operator, version })
    }

    /// Whether `version` passes.
    pub fn holds(self, version: crate::model::Version) -> bool {
        match self.operator {
            Comparison::Less => !version.at_least(self.version),
            Comparison::LessOrEqual => version.at_most(self.version),
            Comparison::Equal => version.is(self.version),
            Comparison::GreaterOrEqual => version.at_least(self.version),
            Comparison::Greater => !version.at_most(self.version),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Condition {
        serde_yaml::from_str(yaml).unwrap()
    }

    #[test]
    fn malformed_conditions_are_refused() {
        assert!(parse("param: x\nis: [a]\n").validate().is_ok());
        assert!(parse("param: x\n").validate().is_err());
        assert!(
            parse("param: x\nis: [a]\nempty: true\n")
                .validate()
                .is_err()
        );
        assert!(parse("tls: server\nis: [sometimes]\n").validate().is_err());
        assert!(parse("tls: server\nempty: true\n").validate().is_err());
        assert!(parse("role: public-mx\nis: [a]\n").validate().is_err());
        assert!(parse("postfix: '~3'\n").validate().is_err());
        assert!(serde_yaml::from_str::<Condition>("parm: x\n").is_err());
        assert!(
            parse("all:\n  - param: x\n    is: [a]\n  - role: public-mx\n")
                .validate()
                .is_ok()
        );
        assert!(parse("any:\n  - param: x\n").validate().is_err());
    }

    #[test]
    fn version_tests() {
        let v = |s: &str| s.parse::<crate::model::Version>().unwrap();
        let test = VersionTest::parse(">= 3.6").unwrap();
        assert!(test.holds(v("3.6")) && test.holds(v("3.11")) && !test.holds(v("3.5.9")));
        assert!(VersionTest::parse("< 3.11").unwrap().holds(v("3.10.2")));
        assert!(!VersionTest::parse("< 3.7").unwrap().holds(v("3.7.0")));
        assert!(VersionTest::parse(">= 3.7").unwrap().holds(v("3.7.0")));
        assert!(VersionTest::parse("<= 3.7").unwrap().holds(v("3.7.11")));
        assert!(!VersionTest::parse("> 3.7").unwrap().holds(v("3.7.11")));
        assert!(VersionTest::parse("== 3.7").unwrap().holds(v("3.7.11")));
    }
}
