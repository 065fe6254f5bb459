//! Built-in checks: rules whose condition the YAML language cannot say (parsing protocol
//! lists, walking restriction lists, reading the parameter table). Each is a plain
//! function from a subject to its hits; the rule file names it with `check: NAME`.

mod certificates;
mod crypto;
mod names;
mod relay;
mod sasl;
mod transport;
mod versions;

use std::borrow::Cow;

use crate::model::config::{Config, Location, Scope, WrittenRef};

use super::condition::Context;
use crate::model::subject::Subject;

/// One problem a built-in check found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Hit {
    /// The parameter that causes it; the finding goes where that is written.
    pub cause: Option<String>,
    /// An exact place, when there is one (it wins over `cause`).
    pub location: Option<Location>,
    /// The message.
    pub message: String,
    /// The label at the place.
    pub label: String,
    /// The scope the cause is written for, when it is not the subject's own (a service's
    /// `-o` found while judging main.cf): the fix goes there.
    pub scope: Option<Scope>,
}

/// A built-in check.
pub type BuiltinCheck = fn(&Context<'_, '_>, &Subject) -> Vec<Hit>;

/// Every built-in check, by the name rule files use.
const CHECKS: &[(&str, BuiltinCheck)] = &[
    ("smtps-relay-without-wrappermode", transport::smtps_relay),
    ("relay-in-clear", transport::relay_in_clear),
    (
        "opportunistic-protocols-server",
        crypto::opportunistic_server,
    ),
    (
        "opportunistic-protocols-client",
        crypto::opportunistic_client,
    ),
    ("ssl-protocols", crypto::ssl_protocols),
    ("invalid-protocol-list", crypto::invalid_protocol_list),
    ("weak-mandatory-protocols", crypto::weak_mandatory),
    ("default-mandatory-protocols", crypto::default_mandatory),
    ("weak-cipher-grade", crypto::weak_cipher_grade),
    ("tls-debug-loglevel", crypto::debug_loglevel),
    ("deprecated-parameter", versions::deprecated),
    ("deprecated-soon", versions::deprecated_soon),
    ("superseded-tls-switch", versions::superseded_tls_switch),
    ("ignored-parameter", versions::ignored),
    ("deprecated-and-replacement", versions::both_set),
    ("invalid-value", versions::invalid_value),
    ("syntax-newer-than-target", versions::newer_syntax),
    (
        "missing-relay-restriction",
        relay::missing_relay_restriction,
    ),
    ("mynetworks-everything", relay::mynetworks_everything),
    ("mynetworks-public", relay::mynetworks_public),
    ("relay-without-recipients", relay::relay_without_recipients),
    ("star-in-domain-list", relay::star_in_domain_list),
    ("override-for-other-daemon", names::other_daemon),
    ("duplicate-service", names::duplicate_service),
    ("comment-in-value", names::comment_in_value),
    ("sasl-backend", sasl::backend),
    (
        "login-restriction-without-sasl",
        sasl::login_restriction_without_sasl,
    ),
    ("tls-file-unreadable", certificates::unreadable),
    ("private-key-exposed", certificates::key_exposed),
    ("encrypted-private-key", certificates::encrypted_key),
    ("chain-file-structure", certificates::chain_structure),
    ("key-certificate-mismatch", certificates::key_mismatch),
    (
        "chain-missing-intermediate",
        certificates::missing_intermediate,
    ),
    ("chain-disorder", certificates::chain_disorder),
    ("certificate-expired", certificates::expired),
    ("certificate-expires-soon", certificates::expires_soon),
    ("certificate-expires", certificates::expires),
    ("certificate-name-mismatch", certificates::name_mismatch),
    ("weak-rsa-key", certificates::weak_rsa),
    ("rsa-key-below-3072", certificates::rsa_below_3072),
    ("dsa-key", certificates::dsa),
    ("sha1-signature", certificates::weak_signature),
    ("not-a-server-certificate", certificates::not_server_cert),
    (
        "self-signed-on-submission",
        certificates::self_signed_submission,
    ),
    ("tlsa-record-missing", certificates::tlsa_record_missing),
    (
        "verification-without-ca-data",
        certificates::verification_without_ca_data,
    ),
    ("skipped-pem-object", certificates::skipped_objects),
];

/// The check named `name`.
pub fn lookup(name: &str) -> Option<BuiltinCheck> {
    CHECKS.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
}

/// The names of all built-in checks.
pub fn names() -> impl Iterator<Item = &'static str> {
    CHECKS.iter().map(|(n, _)| *n)
}

/// A place where a parameter is written: a main.cf setting or a service's `-o`.
#[derive(Clone, Debug)]
pub struct Written {
    /// The parameter.
    pub name: String,
    /// The scope it is written for.
    pub scope: Scope,
    /// The value, expanded when it can be (else as written).
    pub value: String,
    /// Where it is.
    pub location: Location,
}

/// Where a parameter is written: a main.cf setting or a service's `-o` (its value is
/// read only when a check asks for it).
#[derive(Clone, Debug)]
pub struct Place<'c> {
    /// The parameter (borrowed from the model, which has it from the file).
    pub name: Cow<'c, str>,
    /// The scope it is written for.
    pub scope: Scope,
    /// The setting in the model: its location and value are read from there when a check
    /// asks (most checks pass over most settings by name).
    pub at: WrittenRef,
}

/// Every parameter written in main.cf and in master.cf `-o` options, in file order.
/// Computed once per run and shared by the checks through their [`Context`], which
/// gives each as a [`Place`].
pub fn places(config: &Config<'_>) -> Vec<WrittenRef> {
    config.written_settings()
}

/// The [`Place`] of a setting from [`places`].
pub fn place<'c>(config: &'c Config<'_>, at: WrittenRef) -> Option<Place<'c>> {
    let (name, scope) = config.written_setting(at)?;
    Some(Place {
        name: String::from_utf8_lossy(name),
        scope,
        at,
    })
}

/// The written parameters that `keep` accepts (by name and scope), in file order, with
/// their values. Only those values are expanded: expansion can be costly (a value may
/// double with each level), and most checks look at a few names.
pub fn written<'x>(
    cx: &'x Context<'_, '_>,
    keep: impl Fn(&str, Scope) -> bool + 'x,
) -> impl Iterator<Item = Written> + 'x {
    written_where(cx, move |p| keep(&p.name, p.scope))
}

/// [`written`], for a check that chooses by more than the name and scope.
pub fn written_where<'x>(
    cx: &'x Context<'_, '_>,
    keep: impl Fn(&Place<'_>) -> bool + 'x,
) -> impl Iterator<Item = Written> + 'x {
    cx.places().filter(move |p| keep(p)).filter_map(|p| {
        let value = match cx.config.text(p.scope, &p.name) {
            Ok(v) => v,
            Err(_) => cx
                .config
                .raw(p.scope, &p.name)
                .map(|(v, _)| v.to_vec())
                .unwrap_or_default(),
        };
        Some(Written {
            value: String::from_utf8_lossy(&value).into_owned(),
            location: cx.config.written_location(p.at)?,
            name: p.name.into_owned(),
            scope: p.scope,
        })
    })
}

/// A hit at a written setting.
fn at(w: &Written, message: String, label: String) -> Hit {
    Hit {
        cause: Some(w.name.clone()),
        location: Some(w.location),
        message,
        label,
        scope: Some(w.scope),
    }
}
