//! Checks that read the parameter table: deprecations for the target version, values the
//! daemons refuse, and syntax newer than the target version.

use super::{Hit, Place, Written, at, written};
use crate::model::config::Scope;
use crate::model::params::{self, Limit, LimitKind};
use crate::model::subject::Subject;
use crate::model::typed::TlsSide;
use crate::model::value::{self, TlsLevel};
use crate::model::{ParamInfo, ValueType, Version};
use crate::rules::condition::Context;
use crate::syntax::expr::{Body, Expr, Part, Subject as Tested};

fn deprecation_text(info: &ParamInfo) -> String {
    let Some(d) = &info.deprecated else {
        return String::new();
    };
    match d.replacement {
        Some(replacement) => format!("use `{replacement}` instead"),
        None => d.note.to_owned(),
    }
}

fn since_text(info: &ParamInfo) -> String {
    match info.deprecated.as_ref().map(|d| d.since) {
        Some("0") | None => "long obsolete".to_owned(),
        Some(since) => format!("deprecated since Postfix {since}"),
    }
}

/// Whether the table marks `name` deprecated (in any version). The pre-2.3 TLS switches
/// are left to PF509, which says what they mean at every target version, and names the
/// target version no longer reads to PF510.
fn is_deprecated(cx: &Context<'_, '_>, name: &str) -> bool {
    TlsSide::of_switch(name).is_none()
        && cx
            .config
            .info(name)
            .is_some_and(|i| i.deprecated.is_some() && ignored_since(cx, i).is_none())
}

/// The release since which the target version no longer reads the parameter, if so.
fn ignored_since(cx: &Context<'_, '_>, info: &ParamInfo) -> Option<Version> {
    info.ignored
        .filter(|&since| cx.config.version.at_least(since))
}

/// PF510: a parameter the target version accepts but no longer reads.
pub fn ignored(cx: &Context<'_, '_>, _: &Subject) -> Vec<Hit> {
    let ignored = |name: &str| cx.config.info(name).and_then(|i| ignored_since(cx, i));
    let version = cx.config.version;
    written(cx, |name, _| ignored(name).is_some())
        .filter_map(|w| {
            let since = ignored(&w.name)?;
            Some(at(
                &w,
                format!(
                    "`{}` has had no effect since Postfix {since} (target: {version})",
                    w.name
                ),
                "nothing reads it: delete it".to_owned(),
            ))
        })
        .collect()
}

/// PF509: a pre-2.3 TLS switch that decides the level because the level is not written.
pub fn superseded_tls_switch(cx: &Context<'_, '_>, _: &Subject) -> Vec<Hit> {
    written(cx, |name, _| TlsSide::of_switch(name).is_some())
        .filter_map(|w| {
            let side = TlsSide::of_switch(&w.name)?;
            let level_name = format!("{}_tls_security_level", side.prefix());
            // With the level written, the switch is dead: PF502 says so.
            let level_written = cx.config.text(w.scope, &level_name).ok()?;
            if !level_written.iter().all(u8::is_ascii_whitespace) {
                return None;
            }
            let effective = cx.config.tls_level(w.scope, side).ok()?;
            let help = match &effective.decided_by {
                None => format!("it is off, as by default: delete it (or write `{level_name} = none`)"),
                Some(by) if *by == w.name => {
                    format!("write `{level_name} = {}` and delete this switch", effective.level)
                }
                Some(by) => format!(
                    "`{by}` decides here (`{level_name} = {}`): write that and delete both switches",
                    effective.level
                ),
            };
            Some(at(
                &w,
                format!(
                    "`{}` is a TLS switch that `{level_name}` replaced in Postfix 2.3",
                    w.name
                ),
                help,
            ))
        })
        .collect()
}

/// PF501: a parameter deprecated in the target version.
pub fn deprecated(cx: &Context<'_, '_>, _: &Subject) -> Vec<Hit> {
    let version = cx.config.version;
    written(cx, |name, _| is_deprecated(cx, name))
        .filter_map(|w| {
            let info = cx.config.info(&w.name)?;
            info.deprecated_in(version).then(|| {
                at(
                    &w,
                    format!("`{}` is {}", w.name, since_text(info)),
                    deprecation_text(info),
                )
            })
        })
        .collect()
}

/// PF508: a parameter that a later Postfix release deprecates.
pub fn deprecated_soon(cx: &Context<'_, '_>, _: &Subject) -> Vec<Hit> {
    let version = cx.config.version;
    written(cx, |name, _| is_deprecated(cx, name))
        .filter_map(|w| {
            let info = cx.config.info(&w.name)?;
            let since: Version = info.deprecated.as_ref()?.since.parse().ok()?;
            (!version.at_least(since)).then(|| {
                at(
                    &w,
                    format!(
                        "`{}` is deprecated from Postfix {since}: replace it before upgrading",
                        w.name
                    ),
                    deprecation_text(info),
                )
            })
        })
        .collect()
}

/// PF502: a deprecated parameter written beside its replacement, which wins.
pub fn both_set(cx: &Context<'_, '_>, _: &Subject) -> Vec<Hit> {
    let deprecated = |name: &str| cx.config.info(name).is_some_and(|i| i.deprecated.is_some());
    written(cx, |name, _| deprecated(name))
        .filter_map(|w| {
            let info = cx.config.info(&w.name)?;
            let replacement = info.deprecated.as_ref()?.replacement?;
            // A per-site table and a policy table are not one setting in two spellings.
            if w.name.ends_with("_per_site") {
                return None;
            }
            // The replacement may be written elsewhere: a master.cf `-o smtpd_enforce_tls`
            // loses to main.cf's `smtpd_tls_security_level` as much as to its own.
            cx.config.setting_location(w.scope, replacement)?;
            replacement_wins(cx, &w, info, replacement).then(|| {
                at(
                    &w,
                    format!(
                        "`{}` has no effect: `{replacement}` is also set and wins",
                        w.name
                    ),
                    format!("{replacement} decides"),
                )
            })
        })
        .collect()
}

/// Whether the written `replacement` makes the deprecated setting `w` dead. It does not
/// when its value reads the old parameter (`virtual_alias_maps = $virtual_maps, …`), nor
/// when it is empty and the old parameter is a switch the daemon falls back to, not an
/// alias: an empty `*_tls_security_level` leaves `*_use_tls` and `*_enforce_tls` in
/// charge (`smtpd.c`, `global_tls_level()` in `smtp_tls_policy.c`), an empty
/// `smtp_dns_support_level` leaves `disable_dns_lookups` (`smtp.c`).
fn replacement_wins(
    cx: &Context<'_, '_>,
    w: &Written,
    info: &ParamInfo,
    replacement: &str,
) -> bool {
    let Some((raw, _)) = cx.config.raw(w.scope, replacement) else {
        return true;
    };
    let reads_old = raw.names().any(|name| name == w.name.as_bytes());
    if reads_old {
        return false;
    }
    let empty = cx
        .config
        .text(w.scope, replacement)
        .is_ok_and(|v| v.iter().all(u8::is_ascii_whitespace));
    !(empty && info.legacy.is_none())
}

/// The numeric parameters Postfix reads as a `long` (its `CONFIG_LONG_TABLE`s), so that
/// values beyond the range of an `int` are fine.
const LONG_PARAMS: [&str; 5] = [
    "lmdb_map_size",
    "mailbox_size_limit",
    "message_size_limit",
    "queue_minfree",
    "virtual_mailbox_limit",
];

/// Why a value is refused, if it is: its type first, then the bounds the programs that
/// read it enforce, then what a few parameters must be (host names, user IDs).
fn refusal(cx: &Context<'_, '_>, w: &Written, info: &ParamInfo) -> Option<String> {
    type_refusal(cx, w, info)
        .or_else(|| bounds_refusal(cx, w, info))
        .or_else(|| content_refusal(cx, w))
}

/// The programs of a [`Limit`], in words.
fn programs(limit: &Limit) -> String {
    match limit.programs {
        ["every program"] => "every Postfix program".to_owned(),
        ["every TLS program"] => "every Postfix program that uses TLS".to_owned(),
        names => {
            // The commands a person runs are in section 1 of the manual, daemons in 8.
            let section = |n: &str| match n {
                "postfix" | "sendmail" | "postqueue" | "postdrop" | "postlog" | "postmulti"
                | "postsuper" | "postcat" | "postmap" | "postalias" | "postkick" | "postlock" => 1,
                _ => 8,
            };
            let names: Vec<String> = names
                .iter()
                .map(|n| format!("{n}({})", section(n)))
                .collect();
            names.join(" and ")
        }
    }
}

/// A value outside the bounds of `CONFIG_*_TABLE` (src/global/mail_conf_str.c,
/// mail_conf_int.c, mail_conf_time.c): the program stops with a fatal error.
fn bounds_refusal(cx: &Context<'_, '_>, w: &Written, info: &ParamInfo) -> Option<String> {
    let value = w.value.trim();
    for limit in params::limits(&w.name) {
        let measured = match limit.kind {
            LimitKind::Length => Some(value.len() as i64),
            LimitKind::Int => value::integer(&w.name, value.as_bytes()).ok(),
            LimitKind::Time => {
                let unit = value::default_time_unit(info.default_at(cx.config.version));
                value::time(&w.name, value.as_bytes(), unit)
                    .ok()
                    .and_then(|s| i64::try_from(s).ok())
            }
        };
        let Some(measured) = measured else { continue };
        let amount = |n: i64| {
            let plural = if n == 1 { "" } else { "s" };
            match limit.kind {
                LimitKind::Length => format!("{n} byte{plural}"),
                LimitKind::Int => n.to_string(),
                LimitKind::Time => format!("{n} second{plural}"),
            }
        };
        let stops = programs(limit);
        if limit.min != 0 && measured < limit.min {
            return Some(if limit.kind == LimitKind::Length && measured == 0 {
                format!(
                    "it is empty, and {stops} stops when it reads an empty `{}`",
                    w.name
                )
            } else {
                format!(
                    "it is {}; {stops} requires at least {} and stops otherwise",
                    amount(measured),
                    amount(limit.min)
                )
            });
        }
        if limit.max != 0 && measured > limit.max {
            return Some(format!(
                "it is {}; {stops} allows at most {} and stops otherwise",
                amount(measured),
                amount(limit.max)
            ));
        }
    }
    None
}

/// The parameters that must hold more than their type says: every program checks that
/// `myhostname` and `mydomain` are host names (mail_params.c, `valid_hostname()`), and
/// virtual(8) defers every delivery whose `static:` user ID is below
/// `virtual_minimum_uid` or whose group ID is not positive (virtual/mailbox.c, `atol()`).
const CONTENT_CHECKED: [&str; 4] = [
    "myhostname",
    "mydomain",
    "virtual_uid_maps",
    "virtual_gid_maps",
];

/// See [`CONTENT_CHECKED`].
fn content_refusal(cx: &Context<'_, '_>, w: &Written) -> Option<String> {
    let value = w.value.trim();
    match w.name.as_str() {
        "myhostname" | "mydomain" if !value.is_empty() => {
            value::host_name(&w.name, value.as_bytes())
                .err()
                .map(|e| format!("{e}; every Postfix program stops (\"bad parameter value\")"))
        }
        "virtual_uid_maps" | "virtual_gid_maps" => {
            let id = value.strip_prefix("static:")?;
            let n = value::atol(id.as_bytes());
            if w.name == "virtual_uid_maps" {
                // virtual_minimum_uid is at least 1 (its own bound): a number below
                // that is refused whatever it is, and an unreadable one is PF506's own.
                let minimum = cx
                    .config
                    .text(w.scope, "virtual_minimum_uid")
                    .ok()
                    .and_then(|m| value::integer("virtual_minimum_uid", &m).ok())
                    .map_or(1, |m| m.max(1));
                (n < minimum).then(|| {
                    format!(
                        "`{id}` is not a user ID of at least {minimum} (virtual_minimum_uid): \
                         virtual(8) defers every delivery (\"bad uid\")"
                    )
                })
            } else {
                (n <= 0).then(|| {
                    format!(
                        "`{id}` is not a positive group ID: virtual(8) defers every \
                         delivery (\"bad gid\")"
                    )
                })
            }
        }
        _ => None,
    }
}

/// Why a value of a typed parameter is not of its type, if it is not.
fn type_refusal(cx: &Context<'_, '_>, w: &Written, info: &ParamInfo) -> Option<String> {
    let value = w.value.trim();
    let bytes = value.as_bytes();
    match info.value_type {
        ValueType::Bool => value::boolean(&w.name, bytes).err().map(|e| e.to_string()),
        // The TLS log levels are name lists (`tls_log_mask()`: `routine`, `1, peercert`,
        // `2,trace`); an unknown name draws a warning, not a fatal error.
        ValueType::Int if w.name.ends_with("_tls_loglevel") => None,
        ValueType::Int if LONG_PARAMS.contains(&w.name.as_str()) => {
            value.parse::<i64>().is_err().then(|| {
                value::ValueError {
                    name: w.name.clone(),
                    value: value.to_owned(),
                    expected: "a whole number",
                }
                .to_string()
            })
        }
        ValueType::Int => value::integer(&w.name, bytes).err().map(|e| e.to_string()),
        ValueType::Time => {
            let unit = value::default_time_unit(info.default_at(cx.config.version));
            value::time(&w.name, bytes, unit)
                .err()
                .map(|e| e.to_string())
        }
        ValueType::Enum if value.is_empty() => None,
        ValueType::Enum if w.name.ends_with("_tls_security_level") => {
            let level = TlsLevel::parse(bytes);
            let server = info.values.len() <= 3;
            match level {
                None => Some(format!("`{value}` is not a TLS security level")),
                Some(TlsLevel::Dane | TlsLevel::DaneOnly) if server => Some(format!(
                    "`{value}` is a client level; the server refuses it"
                )),
                Some(_) => None,
            }
        }
        ValueType::Enum => {
            (!info.values.iter().any(|v| v.eq_ignore_ascii_case(value))).then(|| {
                format!(
                    "`{value}` is not one of {}",
                    info.values
                        .iter()
                        .map(|v| format!("`{v}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
        }
        ValueType::List | ValueType::Version | ValueType::String => None,
    }
}

/// PF506: a value the daemon reading it refuses (it stops with a fatal error).
pub fn invalid_value(cx: &Context<'_, '_>, _: &Subject) -> Vec<Hit> {
    let checked = |name: &str, _| {
        cx.config.info(name).is_some_and(|i| {
            matches!(
                i.value_type,
                ValueType::Bool | ValueType::Int | ValueType::Time | ValueType::Enum
            ) || !params::limits(name).is_empty()
                || CONTENT_CHECKED.contains(&name)
        })
    };
    written(cx, checked)
        .filter_map(|w| {
            let info = cx.config.info(&w.name)?;
            // A value that cannot be expanded is PF605's finding.
            if cx.config.text(w.scope, &w.name).is_err() || info.raw {
                return None;
            }
            let why = refusal(cx, &w, info)?;
            let written = cx
                .config
                .raw(w.scope, &w.name)
                .map(|(raw, _)| String::from_utf8_lossy(raw.text()).trim().to_owned());
            let message = match written {
                Some(raw) if w.value.trim().is_empty() && !raw.is_empty() => {
                    format!("Postfix refuses `{} = {raw}` (empty once expanded)", w.name)
                }
                Some(raw) if raw != w.value.trim() => format!(
                    "Postfix refuses `{} = {raw}` (`{}` once expanded)",
                    w.name,
                    w.value.trim()
                ),
                _ => format!("Postfix refuses `{} = {}`", w.name, w.value.trim()),
            };
            Some(at(&w, message, why))
        })
        .collect()
}

/// The newest syntax an expression uses, with its first release.
fn newest_syntax(expr: &Expr, found: &mut Vec<(Version, &'static str)>) {
    for part in &expr.parts {
        let Part::Macro(m) = part else { continue };
        match &m.body {
            Body::Name(_) => {}
            Body::Function { argument, .. } => {
                found.push((Version::new(3, 11), "`${name{…}}` functions"));
                newest_syntax(&argument.expr, found);
            }
            Body::Test {
                subject,
                if_true,
                if_false,
            } => {
                if let Tested::Comparison(c) = subject {
                    found.push((Version::new(3, 0), "`${{…} == {…} ? … : …}` comparisons"));
                    if c.level {
                        found.push((Version::new(3, 6), "`<level` comparisons"));
                    }
                    newest_syntax(&c.left.expr, found);
                    newest_syntax(&c.right.expr, found);
                }
                for operand in [if_true, if_false].into_iter().flatten() {
                    if operand.braced {
                        found.push((Version::new(3, 0), "`{…}` branches in `${name?{…}:{…}}`"));
                    }
                    newest_syntax(&operand.expr, found);
                }
            }
        }
    }
}

/// PF507: syntax that the target Postfix version does not understand.
pub fn newer_syntax(cx: &Context<'_, '_>, _: &Subject) -> Vec<Hit> {
    let version = cx.config.version;
    let mut hits = Vec::new();
    // Only the written text matters here, so the values are not expanded.
    for w in cx.places() {
        let Some(raw) = cx.config.written_raw(w.at) else {
            continue;
        };
        // Every newer form has a `{`, except a braced `-o`, which any override may be.
        if w.scope == Scope::Main && !raw.contains(&b'{') {
            continue;
        }
        if cx.config.info(&w.name).is_some_and(|i| i.raw) {
            continue;
        }
        let mut found = Vec::new();
        newest_syntax(&raw.parse().expr, &mut found);
        if w.scope != Scope::Main && braced_override(cx, &w) {
            found.push((Version::new(3, 0), "`-o { name = value }` options"));
        }
        if let Some((needs, what)) = found
            .into_iter()
            .filter(|(v, _)| !version.at_least(*v))
            .max_by_key(|(v, _)| v.as_point())
        {
            hits.push(Hit {
                scope: None,
                cause: Some(w.name.to_string()),
                location: cx.config.written_location(w.at),
                message: format!("{what} need Postfix {needs} or later (target: {version})"),
                label: "the target version reads this differently".to_owned(),
            });
        }
    }
    hits
}

/// Whether the `-o` that writes `w` is the braced form.
fn braced_override(cx: &Context<'_, '_>, w: &Place<'_>) -> bool {
    let Scope::Service(i) = w.scope else {
        return false;
    };
    cx.config
        .overrides(i)
        .get(w.name.as_bytes())
        .is_some_and(|s| s.option.braced)
}
