//! Checks of where things are written: `-o` options a daemon does not read, services
//! defined twice, comments that are part of a value.

use super::{Hit, Place, at, written, written_where};
use crate::model::config::Scope;
use crate::model::subject::Subject;
use crate::rules::condition::Context;
use crate::rules::engine::service_row;

/// PF607: a `-o` for the other side of SMTP (`smtp_*` on smtpd, `smtpd_*` on the client).
pub fn other_daemon(cx: &Context<'_, '_>, _: &Subject) -> Vec<Hit> {
    let client_or_server = |name: &str| {
        name.starts_with("smtp_") || name.starts_with("lmtp_") || name.starts_with("smtpd_")
    };
    written(cx, |name, scope| {
        scope != Scope::Main && client_or_server(name)
    })
    .filter_map(|w| {
        let Scope::Service(i) = w.scope else {
            return None;
        };
        let entry = &cx.config.services()[i];
        let program = String::from_utf8_lossy(entry.process_name()).into_owned();
        let foreign = match program.as_str() {
            "smtpd" => w.name.starts_with("smtp_") || w.name.starts_with("lmtp_"),
            "smtp" | "lmtp" => w.name.starts_with("smtpd_"),
            _ => false,
        };
        foreign.then(|| {
            at(
                &w,
                format!(
                    "`{}` has no effect on a service that runs {program}",
                    w.name
                ),
                format!("{program} does not read this parameter"),
            )
        })
    })
    .collect()
}

/// PF608: a master.cf service defined twice; the master daemon uses the last one.
pub fn duplicate_service(cx: &Context<'_, '_>, _: &Subject) -> Vec<Hit> {
    let services = cx.config.services();
    // The last service of each name/type is the one the master daemon runs.
    let mut last = vec![0; cx.config.namespace_count()];
    for (i, s) in services.iter().enumerate() {
        last[s.namespace()] = i;
    }
    services
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let winner = last[s.namespace()];
            (winner != i).then(|| {
                let name = s.name_type();
                let line = cx
                    .config
                    .master_file()
                    .map(|f| f.position(service_row(cx.config, winner).span.start).line)
                    .unwrap_or_default();
                Hit {
                    location: Some(service_row(cx.config, i)),
                    message: format!(
                        "the service `{name}` is defined again on line {line}; the master daemon uses only that one"
                    ),
                    label: "this entry is ignored".to_owned(),
                    ..Hit::default()
                }
            })
        })
        .collect()
}

/// PF017: a `#` inside a value, which Postfix keeps as part of the value.
pub fn comment_in_value(cx: &Context<'_, '_>, _: &Subject) -> Vec<Hit> {
    let has_hash = |p: &Place<'_>| {
        cx.config
            .written_raw(p.at)
            .is_some_and(|raw| raw.contains(&b'#'))
    };
    written_where(cx, has_hash)
        .filter_map(|w| {
            let (raw, _) = cx.config.raw(w.scope, &w.name)?;
            let text = String::from_utf8_lossy(&raw).into_owned();
            let bytes = text.as_bytes();
            let hash = bytes
                .iter()
                .enumerate()
                .find(|&(i, &b)| b == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()))?
                .0;
            Some(at(
                &w,
                format!(
                    "`{}` includes `{}`: a `#` after the value is not a comment",
                    w.name,
                    text[hash..].trim_end()
                ),
                "Postfix keeps this text as part of the value".to_owned(),
            ))
        })
        .collect()
}
