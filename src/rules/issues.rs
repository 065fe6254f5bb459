//! The findings for what the model reports as postconf does (unknown, undefined,
//! read-only and duplicate names, failed expansions, values Postfix refuses) and for
//! names the target version does not have.

use crate::diagnostic::{Code, Finding};
use crate::model::Config;
use crate::model::config::{FileRole, Issue, IssueKind};
use crate::model::params;
use crate::model::suggest::Suggester;
use crate::model::version::{Since, Version};
use crate::source::Span;

use super::policy::Policy;

/// The findings for the model's issues, each with the file it is in, one at a time (a
/// large file has many). A "did you mean" is worked out only for unknown names that
/// `policy` reports. The issues are taken from the model: a finding says all they do.
pub fn findings<'c>(
    config: &'c mut Config<'_>,
    version: Version,
    policy: &'c Policy,
) -> impl Iterator<Item = (FileRole, Finding)> + 'c {
    let issues = config.take_issues();
    let config = &*config;
    // The index of known names is built only when a suggestion is wanted.
    let suggester = std::cell::OnceCell::new();
    issues.in_order(config).map(move |issue| {
        let mut suggest = |name: &[u8]| {
            policy
                .reports(Code::PF601)
                .then(|| {
                    suggester
                        .get_or_init(|| Suggester::new(config))
                        .suggest(name)
                })
                .flatten()
        };
        (
            issue.location.file,
            issue_finding(&issue, version, &mut suggest),
        )
    })
}

/// A name the target version does not know, but another release does: too new, or
/// removed.
fn version_finding(name: &[u8], span: Span, version: Version) -> Option<Finding> {
    let name = std::str::from_utf8(name).ok()?;
    let info = params::table().get(name)?;
    if info.template {
        return None;
    }
    if let Some(removed) = info.removed.filter(|r| version.at_least(*r)) {
        let note = info
            .deprecated
            .as_ref()
            .map(|d| d.note)
            .unwrap_or("it has no effect");
        return Some(Finding::new(
            Code::PF504,
            span,
            format!("`{name}` was removed in Postfix {removed}"),
            note,
        ));
    }
    let needs = first_release_with(info.since, version)?;
    Some(Finding::new(
        Code::PF503,
        span,
        format!("`{name}` needs Postfix {needs} or later (target: {version})"),
        "the target version ignores this setting",
    ))
}

/// The first release after `version` that has what starts at `points`: a backport within
/// `version`'s own line, else the first later line that has it. `None` when `version`
/// already has it, or when no point is after it.
fn first_release_with(points: &[Since], version: Version) -> Option<Version> {
    if points.is_empty() || points.iter().any(|p| p.holds_at(version)) {
        return None;
    }
    points
        .iter()
        .filter_map(|p| match p {
            Since::Version(v) => Some(*v),
            Since::Always => None,
        })
        .filter(|v| v.same_line(version) || !version.at_least(*v))
        .min_by_key(|v| v.as_point())
}

/// The finding for an issue of the model. `suggest` is asked only for unknown names that
/// will be reported.
fn issue_finding(
    issue: &Issue,
    version: Version,
    suggest: &mut dyn FnMut(&[u8]) -> Option<String>,
) -> Finding {
    let span = issue.location.span;
    let shown = |name: &[u8]| String::from_utf8_lossy(name).into_owned();
    if let IssueKind::Unknown { name } = &issue.kind
        && let Some(finding) = version_finding(name, span, version)
    {
        return finding;
    }
    match &issue.kind {
        IssueKind::Unknown { name } => Finding::new(
            Code::PF601,
            span,
            match suggest(name) {
                Some(s) => format!("unknown parameter `{}` (did you mean `{s}`?)", shown(name)),
                None => format!("unknown parameter `{}`", shown(name)),
            },
            "Postfix ignores this setting",
        ),
        IssueKind::Undefined { name } => Finding::new(
            Code::PF602,
            span,
            if name.is_empty() {
                "this reference has only blanks for a name, so it names no parameter".to_owned()
            } else {
                format!("`${}` is not defined anywhere", shown(name))
            },
            "this expands to nothing",
        ),
        IssueKind::ReadOnly { name } => Finding::new(
            Code::PF603,
            span,
            format!("`{}` is set by Postfix itself", shown(name)),
            "Postfix ignores this setting",
        ),
        IssueKind::Duplicate { name, .. } => Finding::new(
            Code::PF604,
            span,
            format!("`{}` is set again with another value", shown(name)),
            "this setting replaces an earlier one",
        ),
        IssueKind::Expansion { name, error } => Finding::new(
            Code::PF605,
            span,
            format!("the value of `{}` cannot be expanded: {error}", shown(name)),
            error.to_string(),
        ),
        IssueKind::InvalidValue { name, message } => Finding::new(
            Code::PF606,
            span,
            format!(
                "Postfix refuses this `{}` and stops: {message}",
                shown(name)
            ),
            message.clone(),
        ),
    }
}
