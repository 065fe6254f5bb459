//! SASL checks: AUTH that is offered with no backend that can check a password.

use super::Hit;
use crate::model::config::Scope;
use crate::model::subject::Subject;
use crate::model::typed::SMTPD_RESTRICTION_LISTS;
use crate::rules::condition::Context;

/// PF304: SASL AUTH is on, but the backend cannot work: Dovecot with no socket named,
/// or Cyrus with no application configuration file where it looks.
pub fn backend(cx: &Context<'_, '_>, _: &Subject) -> Vec<Hit> {
    let on = cx
        .config
        .boolean(cx.scope, "smtpd_sasl_auth_enable")
        .unwrap_or(false);
    if !on {
        return Vec::new();
    }
    let text = |name: &str| {
        cx.config
            .text(cx.scope, name)
            .map(|v| String::from_utf8_lossy(&v).trim().to_owned())
            .unwrap_or_default()
    };
    let kind = text("smtpd_sasl_type");
    let path = text("smtpd_sasl_path");
    match kind.as_str() {
        "dovecot" if path == "smtpd" || path.is_empty() => vec![Hit {
            cause: Some("smtpd_sasl_path".to_owned()),
            message: format!(
                "SASL AUTH uses Dovecot, but `smtpd_sasl_path = {path}` names no Dovecot auth socket"
            ),
            label: "no Dovecot socket".to_owned(),
            ..Hit::default()
        }],
        "cyrus" => {
            let Some(search) = cx.facts.cyrus.get(&path) else {
                return Vec::new();
            };
            if search.found.is_some() {
                return Vec::new();
            }
            // Beside main.cf, a path reads the same in every checkout of a repository.
            let beside = match &cx.facts.place {
                crate::material::Where::Repository(dir) | crate::material::Where::Live(dir) => {
                    Some(dir.clone())
                }
                crate::material::Where::Nowhere => None,
            };
            let looked: Vec<String> = search
                .searched
                .iter()
                .map(
                    |p| match beside.as_ref().and_then(|d| p.strip_prefix(d).ok()) {
                        Some(relative) => format!("{} beside main.cf", relative.display()),
                        None => p.display().to_string(),
                    },
                )
                .collect();
            vec![Hit {
                cause: Some("smtpd_sasl_auth_enable".to_owned()),
                message: format!(
                    "SASL AUTH uses Cyrus (`smtpd_sasl_type = cyrus`), but there is no {path}.conf (looked for {}): Cyrus falls back to its defaults, and logins fail",
                    looked.join(", ")
                ),
                label: "no Cyrus SASL configuration".to_owned(),
                ..Hit::default()
            }]
        }
        _ => Vec::new(),
    }
}

/// PF305: a restriction that checks the SASL login, on a service where SASL is off.
pub fn login_restriction_without_sasl(cx: &Context<'_, '_>, _: &Subject) -> Vec<Hit> {
    let inherited = || {
        cx.config.value_scope(cx.scope, "smtpd_sasl_auth_enable") == Scope::Main
            && cx
                .config
                .restrictions_read_as_main(cx.scope, &SMTPD_RESTRICTION_LISTS)
    };
    cx.shared_hits("login-restriction-without-sasl", inherited, || {
        login_restrictions_ignored(cx)
    })
}

fn login_restrictions_ignored(cx: &Context<'_, '_>) -> Vec<Hit> {
    let on = cx
        .config
        .boolean(cx.scope, "smtpd_sasl_auth_enable")
        .unwrap_or(true);
    if on {
        return Vec::new();
    }
    let mut hits = Vec::new();
    for (list, item) in cx.config.sasl_restrictions(cx.scope) {
        hits.push(Hit {
            cause: Some(list.to_owned()),
            message: format!(
                "`{item}` in {list} does nothing here: smtpd_sasl_auth_enable = no, and smtpd skips it with \"restriction ignored: no SASL support\""
            ),
            label: "needs SASL, which is off".to_owned(),
            ..Hit::default()
        });
    }
    hits
}
