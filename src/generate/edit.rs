//! A plan applied to an existing configuration through the lossless trees: each change is
//! a replacement of a byte range of the original file, so everything else stays byte for
//! byte as it was.
//!
//! - A main.cf parameter the plan sets is changed in place (its comments and position
//!   kept); one it replaces (a deprecated alias, a legacy certificate parameter that
//!   `smtpd_tls_chain_files` makes Postfix ignore, a deprecated TLS parameter) becomes a
//!   comment saying why; the rest goes into one marked block at the end.
//! - A master.cf `-o` that overrides a planned value on a service of that role (port 25,
//!   the delivery transports) is updated or removed; the submission services are updated
//!   option by option, or added.

use std::collections::BTreeSet;

use super::{Plan, Role, Service as PlannedService, Setting};
use crate::config_dir::ConfigDir;
use crate::model::{HostFacts, ListenerKind, Version};
use crate::rules::subject::{SubjectKind, subjects};
use crate::source::Span;
use crate::syntax::document::{Entry, Item};
use crate::syntax::master_cf::{Arg, Field, Service};

/// One replacement in a file's bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replacement {
    /// The bytes replaced (empty for an insertion).
    pub span: Span,
    /// The new text.
    pub text: String,
}

/// The new contents of main.cf and master.cf, when they change.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Edited {
    /// main.cf's new bytes, if it changes.
    pub main: Option<Vec<u8>>,
    /// master.cf's new bytes, if it changes (or is created).
    pub master: Option<Vec<u8>>,
}

impl Edited {
    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        self.main.is_none() && self.master.is_none()
    }
}

/// Parameters a planned one makes obsolete: Postfix ignores them, or they say the same in
/// a deprecated way.
fn replaced_by(name: &str) -> &'static [&'static str] {
    match name {
        "smtpd_tls_security_level" => &["smtpd_use_tls", "smtpd_enforce_tls"],
        "smtp_tls_security_level" => &[
            "smtp_use_tls",
            "smtp_enforce_tls",
            "smtp_tls_enforce_peername",
        ],
        "smtpd_tls_chain_files" => &[
            "smtpd_tls_cert_file",
            "smtpd_tls_key_file",
            "smtpd_tls_eccert_file",
            "smtpd_tls_eckey_file",
            "smtpd_tls_dcert_file",
            "smtpd_tls_dkey_file",
        ],
        _ => &[],
    }
}

/// The parameters that give smtpd a certificate.
const CERTIFICATE_PARAMETERS: [&str; 4] = [
    "smtpd_tls_chain_files",
    "smtpd_tls_cert_file",
    "smtpd_tls_eccert_file",
    "smtpd_tls_dcert_file",
];

/// The subjects whose `-o` overrides of a planned main.cf setting would defeat it.
fn overridden_on(role: Role) -> &'static [SubjectKind] {
    match role {
        Role::Mx => &[SubjectKind::Mx],
        Role::Outbound => &[SubjectKind::DirectDelivery],
        Role::RelayClient => &[SubjectKind::RelayClient],
        Role::Submission => &[],
    }
}

/// The edits that bring `dir` to `plan`, for the target `version`.
pub fn edit(dir: &ConfigDir, plan: &Plan, version: Version) -> Result<Edited, String> {
    let main = dir
        .main
        .as_ref()
        .ok_or("the configuration directory has no main.cf")?;
    let src = main.file.bytes();
    let host = HostFacts::assumed();
    let config = dir.model(version, &host, None, false);
    let table = crate::model::params::table();

    // main.cf: the last entry of each name is the one Postfix uses.
    let mut last = std::collections::BTreeMap::new();
    for item in &main.tree.items {
        if let Item::Entry(p) = item {
            last.insert(p.name(src).to_vec(), &**p);
        }
    }
    let mut main_edits = Vec::new();
    let mut appended: Vec<&Setting> = Vec::new();
    let mut obsolete: Vec<(String, String)> = plan
        .reset
        .iter()
        .map(|r| (r.name.clone(), r.reason.clone()))
        .collect();
    let has_certificate = CERTIFICATE_PARAMETERS
        .iter()
        .any(|name| last.contains_key(name.as_bytes()));
    let kept = |setting: &Setting| {
        let certificate = CERTIFICATE_PARAMETERS.contains(&setting.name.as_str())
            || setting.name == "smtpd_tls_key_file";
        setting.keep_existing
            && if certificate {
                has_certificate
            } else {
                last.contains_key(setting.name.as_bytes())
            }
    };
    for setting in &plan.main {
        if kept(setting) {
            continue;
        }
        match last.get(setting.name.as_bytes()) {
            Some(p) if *p.value(src) == *setting.value.as_bytes() => {}
            Some(p) => main_edits.push(Replacement {
                span: p.value_span(),
                text: setting.value.clone(),
            }),
            None => appended.push(setting),
        }
        for old in replaced_by(&setting.name) {
            obsolete.push(((*old).to_owned(), format!("{} replaces it", setting.name)));
        }
    }
    let planned: BTreeSet<&str> = plan
        .main
        .iter()
        .filter(|s| !kept(s))
        .map(|s| s.name.as_str())
        .collect();
    for item in &main.tree.items {
        let Item::Entry(p) = item else { continue };
        let name = String::from_utf8_lossy(p.name(src)).into_owned();
        if planned.contains(name.as_str()) {
            continue;
        }
        let reason = obsolete
            .iter()
            .find(|(old, _)| *old == name)
            .map(|(_, why)| why.clone())
            .or_else(|| {
                let info = table.get(&name)?;
                (name.contains("tls") && info.deprecated_in(version))
                    .then(|| format!("deprecated in Postfix {version}"))
            });
        if let Some(reason) = reason {
            let value = String::from_utf8_lossy(&p.value(src)).into_owned();
            main_edits.push(Replacement {
                span: p.span(),
                text: format!("# pflint generate removed `{name} = {value}`: {reason}\n"),
            });
        }
    }
    if !appended.is_empty() {
        let mut block = String::new();
        if !src.is_empty() && !src.ends_with(b"\n") {
            block.push('\n');
        }
        block.push_str(&format!("\n# BEGIN {}\n", plan.title));
        for s in appended {
            for line in &s.comment {
                block.push_str(&format!("# {line}\n"));
            }
            block.push_str(&format!("{} = {}\n", s.name, s.value));
        }
        block.push_str("# END pflint generate\n");
        let end = src.len() as u32;
        main_edits.push(Replacement {
            span: Span { start: end, end },
            text: block,
        });
    }

    // master.cf: overrides that defeat a planned value, then the submission services.
    let mut master_edits = Vec::new();
    let master_src = dir
        .master
        .as_ref()
        .map(|m| m.file.bytes())
        .unwrap_or_default();
    let roles = config.roles();
    for reset in &plan.reset {
        let Some(role) = reset.role else { continue };
        for index in role_services(&config, &roles, role) {
            let node = config.services()[index].node;
            for o in node.overrides(master_src) {
                if o.name
                    .as_ref()
                    .is_some_and(|n| *node.text(master_src, n.clone()) == *reset.name.as_bytes())
                {
                    master_edits.push(remove_option(node, &o, master_src));
                }
            }
        }
    }
    for setting in &plan.main {
        let Some(role) = setting.role else { continue };
        for index in role_services(&config, &roles, role) {
            let node = config.services()[index].node;
            for o in node.overrides(master_src) {
                let (Some(name), Some(value)) = (&o.name, &o.value) else {
                    continue;
                };
                let name = node.text(master_src, name.clone());
                if *name == *setting.name.as_bytes() {
                    if *node.text(master_src, value.clone()) != *setting.value.as_bytes() {
                        master_edits.push(Replacement {
                            span: node.source_span(value.clone()),
                            text: setting.value.clone(),
                        });
                    }
                } else if replaced_by(&setting.name)
                    .iter()
                    .any(|old| *name == *old.as_bytes())
                {
                    master_edits.push(remove_option(node, &o, master_src));
                }
            }
        }
    }
    let mut added = String::new();
    for planned in &plan.services {
        match find_service(&config, &roles, planned) {
            Some(node) => master_edits.extend(update_service(node, planned, master_src)),
            None => added.push_str(&render_service(planned)),
        }
    }
    if !added.is_empty() {
        let mut block = String::new();
        if !master_src.is_empty() && !master_src.ends_with(b"\n") {
            block.push('\n');
        }
        block.push_str(&format!(
            "\n# BEGIN {}\n{added}# END pflint generate\n",
            plan.title
        ));
        let end = master_src.len() as u32;
        master_edits.push(Replacement {
            span: Span { start: end, end },
            text: block,
        });
    }

    Ok(Edited {
        main: apply(src, main_edits)?,
        master: apply(master_src, master_edits)?,
    })
}

/// The master.cf services (indexes) whose `-o` options concern a role's settings.
fn role_services(
    config: &crate::model::Config<'_>,
    roles: &crate::model::Roles,
    role: Role,
) -> BTreeSet<usize> {
    overridden_on(role)
        .iter()
        .flat_map(|kind| subjects(*kind, config, roles))
        .filter_map(|subject| match subject.scope {
            crate::model::Scope::Service(index) => Some(index),
            crate::model::Scope::Main => None,
        })
        .collect()
}

/// The existing master.cf service that listens where a planned one would: the same
/// port, whatever its name (`smtps` and `submissions`, `587` and `submission`), as two
/// services cannot share a port. The master daemon uses the last of duplicates.
fn find_service<'c>(
    config: &'c crate::model::Config<'c>,
    roles: &crate::model::Roles,
    planned: &PlannedService,
) -> Option<&'c Service> {
    let kind = match planned.name.as_str() {
        "submission" => ListenerKind::Submission,
        _ => ListenerKind::Submissions,
    };
    roles
        .listeners
        .iter()
        .rfind(|l| l.kind == kind)
        .map(|l| config.services()[l.service].node)
}

/// Updates an existing service's `-o` options to the planned values. Missing ones go
/// right after its last option: the daemon stops reading options at the first other
/// argument, so an option after that would be ignored.
fn update_service(node: &Service, planned: &PlannedService, src: &[u8]) -> Vec<Replacement> {
    let options = node.overrides(src);
    let mut edits = Vec::new();
    let mut missing = String::new();
    // An existing service keeps its log name and milter macros (they are not TLS), and
    // its own restrictions where it has them (they may name the site's classes).
    let own = ["syslog_name", "milter_macro_daemon_name"];
    let kept_if_set = ["smtpd_client_restrictions", "smtpd_relay_restrictions"];
    for (name, value) in planned
        .options
        .iter()
        .filter(|(n, _)| !own.contains(&n.as_str()))
    {
        let found = options.iter().rev().find(|o| {
            o.name
                .as_ref()
                .is_some_and(|n| *node.text(src, n.clone()) == *name.as_bytes())
        });
        match found.and_then(|o| o.value.clone()) {
            Some(_) if kept_if_set.contains(&name.as_str()) => {}
            Some(range) if *node.text(src, range.clone()) == *value.as_bytes() => {}
            Some(range) => edits.push(Replacement {
                span: node.source_span(range),
                text: value.clone(),
            }),
            None => missing.push_str(&format!("\n  -o {name}={value}")),
        }
    }
    if !missing.is_empty() {
        let last_option = node
            .args(src)
            .iter()
            .filter_map(|arg| match arg {
                Arg::Flag(range) => Some(range.end),
                Arg::Override(o) => Some(o.argument.as_ref().map_or(o.option.end, |a| a.end)),
                Arg::Positional { .. } => None,
            })
            .max();
        let after = last_option
            .or_else(|| node.field(Field::Command).map(|r| r.end))
            .unwrap_or(0);
        let end = node.source_span(after..after).end;
        edits.push(Replacement {
            span: Span { start: end, end },
            text: missing,
        });
    }
    edits
}

/// Removes one `-o` option: its whole line when it stands alone on it.
fn remove_option(
    node: &Service,
    o: &crate::syntax::master_cf::Override,
    src: &[u8],
) -> Replacement {
    let end_range = o.argument.as_ref().map_or(o.option.end, |a| a.end);
    let mut span = node.source_span(o.option.start..end_range);
    let line_start = src[..span.start as usize]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line_end = src[span.end as usize..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(src.len(), |i| span.end as usize + i + 1);
    let alone = src[line_start..span.start as usize]
        .iter()
        .all(|b| b.is_ascii_whitespace())
        && src[span.end as usize..line_end]
            .iter()
            .all(|b| b.is_ascii_whitespace());
    if alone && line_start > 0 {
        span = Span {
            start: line_start as u32,
            end: line_end as u32,
        };
    }
    Replacement {
        span,
        text: String::new(),
    }
}

fn render_service(service: &PlannedService) -> String {
    super::render_master(&Plan {
        title: String::new(),
        main: Vec::new(),
        services: vec![service.clone()],
        reset: Vec::new(),
    })
}

/// Applies non-overlapping replacements; `None` when there are none.
fn apply(src: &[u8], mut edits: Vec<Replacement>) -> Result<Option<Vec<u8>>, String> {
    if edits.is_empty() {
        return Ok(None);
    }
    edits.sort_by_key(|e| (e.span.start, e.span.end));
    edits.dedup();
    let mut out = Vec::with_capacity(src.len() + 256);
    let mut at = 0usize;
    for e in &edits {
        let (start, end) = (e.span.start as usize, e.span.end as usize);
        if start < at || end > src.len() {
            return Err("internal error: overlapping edits".to_owned());
        }
        out.extend_from_slice(&src[at..start]);
        out.extend_from_slice(e.text.as_bytes());
        at = end;
    }
    out.extend_from_slice(&src[at..]);
    Ok(Some(out))
}
