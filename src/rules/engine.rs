//! Runs the condition and built-in rules over the model: each rule against each subject it
//! applies to, each finding placed at the line that causes it.

use std::borrow::Cow;
use std::hash::BuildHasher as _;

use foldhash::{HashMap, HashMapExt as _};

use crate::diagnostic::{Edit, Finding, Fix};
use crate::model::Roles;
use crate::model::config::{Config, FileRole, Location, Origin, Scope};
use crate::source::Span;
use crate::syntax::document::Entry as _;
use crate::text::Interner;

use super::builtin::{self, Hit};
use super::condition::{Causes, Context, Shared, VersionTest};
use super::{Check, FixTarget, Rule, catalog};
use crate::model::subject::{Subject, SubjectKind, subjects};

/// A finding and the file it belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placed {
    /// main.cf or master.cf.
    pub file: FileRole,
    /// The finding.
    pub finding: Finding,
}

/// The findings of the rules, main.cf's and master.cf's.
#[derive(Debug, Default)]
pub struct Found {
    /// main.cf's findings.
    pub main: Vec<Finding>,
    /// master.cf's findings.
    pub master: Vec<Finding>,
}

/// Runs every condition and built-in rule.
pub fn run(config: &Config<'_>, roles: &Roles, facts: &crate::material::Facts) -> Found {
    // Per file: the findings, and beside each the contexts (services and roles) of the
    // subjects merged into it, joined as they come. Kept side by side rather than in
    // one vector of pairs, so that the result is these vectors themselves: a master.cf
    // of many listeners has hundreds of thousands of findings.
    let mut merged: [(Vec<Finding>, Vec<String>); 2] = Default::default();
    // The first finding of each hash, so that merging stays linear: a master.cf of many
    // listeners has as many findings of one rule.
    let mut first_of: HashMap<u64, usize> = HashMap::new();
    // For the findings that subjects were merged into (by file and place), their edits.
    let mut edit_indexes: HashMap<(u8, usize), EditIndex> = HashMap::new();
    let places = builtin::places(config);
    let shared = Shared::default();
    let mut texts = Interner::default();
    for rule in catalog().rules() {
        if !matches!(rule.check, Check::Condition | Check::Builtin(_)) {
            continue;
        }
        let in_range = rule
            .applies
            .postfix
            .as_deref()
            .and_then(|r| VersionTest::parse(r).ok())
            .is_none_or(|test| test.holds(config.version));
        if !in_range {
            continue;
        }
        let kinds = if rule.applies.to.is_empty() {
            vec![SubjectKind::Main]
        } else {
            rule.applies.to.clone()
        };
        for subject in kinds.into_iter().flat_map(|k| subjects(k, config, roles)) {
            let cx = Context {
                config,
                roles,
                scope: subject.scope,
                places: &places,
                facts,
                shared: &shared,
            };
            for hit in hits(rule, &cx, &subject) {
                let (placed, context) = place(rule, &cx, &subject, hit, &mut texts);
                let (findings, contexts) = &mut merged[placed.file as usize];
                let hash = merge_hash(&placed);
                let kept = match first_of.get(&hash) {
                    Some(&i)
                        if findings
                            .get(i)
                            .is_some_and(|f| same_but_fix(f, &placed.finding)) =>
                    {
                        Some(i)
                    }
                    // Another finding of the same hash, which is all but never.
                    Some(_) => findings
                        .iter()
                        .position(|f| same_but_fix(f, &placed.finding)),
                    None => None,
                };
                match kept {
                    Some(i) => {
                        if let Some(context) = context {
                            let joined = &mut contexts[i];
                            if !joined.is_empty() {
                                joined.push_str("; ");
                            }
                            joined.push_str(&context);
                        }
                        let index = edit_indexes.entry((placed.file as u8, i)).or_default();
                        gather_edits(&mut findings[i].fix, index, placed.finding.fix);
                    }
                    None => {
                        first_of.entry(hash).or_insert(findings.len());
                        findings.push(placed.finding);
                        let mut context = context.unwrap_or_default();
                        context.shrink_to_fit();
                        contexts.push(context);
                    }
                }
            }
        }
    }
    let [(mut main, main_contexts), (mut master, master_contexts)] = merged;
    for (findings, contexts) in [(&mut main, main_contexts), (&mut master, master_contexts)] {
        for (finding, joined) in findings.iter_mut().zip(contexts) {
            if !joined.is_empty() {
                finding.context = Some(joined.into_boxed_str());
            }
        }
    }
    Found { main, master }
}

/// Whether two findings in one file are one at the same place, for subjects whose fixes
/// may go to different places (one service's `-o` each).
fn same_but_fix(a: &Finding, b: &Finding) -> bool {
    a.code == b.code
        && a.span == b.span
        && a.severity == b.severity
        && a.headline == b.headline
        && a.label == b.label
        && a.context == b.context
}

/// A hash of what [`same_but_fix`] compares (but the code and severity, which the span
/// and message all but decide), and the file.
fn merge_hash(placed: &Placed) -> u64 {
    let f = &placed.finding;
    foldhash::fast::FixedState::default().hash_one((
        placed.file as u8,
        f.span,
        &f.headline,
        &f.label,
        &f.context,
    ))
}

/// The edits a merged finding's fix holds, by hash: one finding can gather an edit from
/// each of a hundred thousand services, and searching them all for each was quadratic.
type EditIndex = HashMap<u64, Vec<usize>>;

/// One finding's fix made of every subject's edits, each once.
fn gather_edits(kept: &mut Option<Box<Fix>>, index: &mut EditIndex, other: Option<Box<Fix>>) {
    match (kept, other) {
        (Some(kept), Some(other)) => {
            let hash = |edit: &Edit| foldhash::fast::FixedState::default().hash_one(edit);
            if index.is_empty() {
                for (i, edit) in kept.edits.iter().enumerate() {
                    index.entry(hash(edit)).or_default().push(i);
                }
            }
            for edit in other.edits {
                let same_hash = index.entry(hash(&edit)).or_default();
                if !same_hash.iter().any(|&i| kept.edits[i] == edit) {
                    same_hash.push(kept.edits.len());
                    kept.edits.push(edit);
                }
            }
        }
        (kept @ None, other) => *kept = other,
        (Some(_), None) => {}
    }
}

fn hits(rule: &'static Rule, cx: &Context<'_, '_>, subject: &Subject) -> Vec<Hit> {
    match &rule.check {
        Check::Condition => {
            let Some(condition) = &rule.when else {
                return Vec::new();
            };
            condition
                .eval(cx)
                .map(|causes| vec![condition_hit(rule, cx, causes)])
                .unwrap_or_default()
        }
        Check::Builtin(name) => {
            builtin::lookup(name).map_or_else(Vec::new, |check| check(cx, subject))
        }
        Check::Parser | Check::Model | Check::Suppression | Check::Probe => Vec::new(),
    }
}

/// A condition's finding: at the first cause that is written somewhere, with the rule's
/// message and label filled in.
fn condition_hit(rule: &Rule, cx: &Context<'_, '_>, causes: Causes) -> Hit {
    let cause = causes
        .iter()
        .find(|c| cx.config.setting_location(cx.scope, c).is_some())
        .or(causes.first())
        .cloned();
    let fill = |template: &str| match &cause {
        Some(param) => template
            .replace("{param}", param)
            .replace("{value}", &shown_value(cx, param)),
        None => template.to_owned(),
    };
    let message = fill(rule.message.as_deref().unwrap_or(&rule.summary));
    let label = match (&rule.label, &cause) {
        (Some(label), _) => fill(label),
        (None, Some(param)) => {
            let value = shown_value(cx, param);
            if cx.config.setting_location(cx.scope, param).is_some() {
                format!("{param} = {value}")
            } else {
                format!("by default, {param} = {value}")
            }
        }
        (None, None) => String::new(),
    };
    Hit {
        scope: None,
        cause,
        location: None,
        message,
        label,
    }
}

/// The effective value of `param` for display: expanded when it can be, and cut after
/// [`SHOWN_VALUE`] bytes (a label is read beside its line, which the snippet shows).
/// An empty value reads `(empty)`, so that `name = ` does not look truncated. Services
/// that inherit the value from main.cf share one copy.
pub fn shown_value(cx: &Context<'_, '_>, param: &str) -> String {
    let inherited =
        cx.scope != Scope::Main && cx.config.value_scope(cx.scope, param) == Scope::Main;
    if inherited && let Some(shown) = cx.shared.shown_value(param) {
        return shown;
    }
    let value = match cx.config.text(cx.scope, param) {
        Ok(v) => shortened(&v),
        Err(_) => cx
            .config
            .raw(cx.scope, param)
            .map(|(v, _)| shortened(&v))
            .unwrap_or_default(),
    };
    let shown = if value.trim().is_empty() {
        "(empty)".to_owned()
    } else {
        value
    };
    if inherited {
        cx.shared.keep_shown_value(param, &shown);
    }
    shown
}

/// How much of a value a message or label shows.
pub const SHOWN_VALUE: usize = 256;

/// `value` as text, cut after [`SHOWN_VALUE`] bytes (at a character) with `…`.
fn shortened(value: &[u8]) -> String {
    if value.len() <= SHOWN_VALUE {
        return String::from_utf8_lossy(value).into_owned();
    }
    let mut shown = String::from_utf8_lossy(&value[..SHOWN_VALUE]).into_owned();
    // A character cut in two reads as U+FFFD at the end; drop it.
    if shown.ends_with('\u{FFFD}') {
        shown.pop();
    }
    shown.push('…');
    shown
}

/// Turns a hit into a finding at its place, with the subject's context. Its message and
/// label are shared with every finding that says the same (one rule says the same on
/// every listener of a large master.cf; each context and service name is its own).
fn place(
    rule: &'static Rule,
    cx: &Context<'_, '_>,
    subject: &Subject,
    hit: Hit,
    texts: &mut Interner,
) -> (Placed, Option<String>) {
    let location = hit
        .location
        .or_else(|| {
            hit.cause
                .as_deref()
                .and_then(|c| cx.config.setting_location(cx.scope, c))
        })
        .or_else(|| subject.service.map(|i| service_row(cx.config, i)))
        .unwrap_or_else(|| file_start(cx.config));
    let mut finding = Finding::new(
        rule.code,
        location.span,
        texts.text(hit.message),
        texts.text(hit.label),
    );
    let offered =
        |spec: &&super::FixSpec| spec.unless.as_ref().is_none_or(|c| c.eval(cx).is_none());
    finding.fix = rule.fix.as_ref().filter(offered).map(|spec| -> Box<Fix> {
        // Each edit goes where its parameter is written for this subject; one written
        // nowhere goes where the cause is.
        let scope = hit.scope.unwrap_or(cx.scope);
        let cause_target = hit
            .cause
            .as_deref()
            .and_then(|c| override_service(cx.config, scope, c));
        let target = |parameter: &str| match (spec.on, scope) {
            (FixTarget::Service, Scope::Service(index)) => Some(index),
            _ => match cx.config.raw(scope, parameter) {
                Some((_, Origin::Override { service, .. })) => Some(service),
                Some((_, Origin::Main(_))) => None,
                _ => cause_target,
            },
        };
        let written = |p: &str| {
            cx.config
                .raw(scope, p)
                .is_some_and(|(_, origin)| !matches!(origin, Origin::Default))
        };
        let at_default = spec.default.iter().filter(|(p, _)| !written(p));
        let removed = spec.remove.iter().filter(|p| written(p));
        // The parameters first, so that the edits are collected from an iterator of
        // known length, into a vector of their number: a shrunk vector of room for four
        // leaves a hole behind in the allocator for each of a large file's fixes.
        let wanted: Vec<(&'static String, Option<&'static String>)> = spec
            .set
            .iter()
            .chain(at_default)
            .map(|(p, v)| (p, Some(v)))
            .chain(removed.map(|p| (p, None)))
            .collect();
        let edits = wanted
            .into_iter()
            .map(|(parameter, value)| {
                let service = target(parameter).map(|i| service_name(cx.config, i).into());
                Edit {
                    file: if service.is_some() {
                        "master.cf"
                    } else {
                        "main.cf"
                    },
                    service,
                    parameter: Cow::Borrowed(parameter.as_str()),
                    value: value.map(|v| Cow::Borrowed(v.as_str())),
                }
            })
            .collect();
        Box::new(Fix {
            safety: spec.safety,
            edits,
            changes: None,
        })
    });
    let context = subject.service.map(|i| {
        let name = service_name(cx.config, i);
        match subject.role {
            Some(role) => format!("service `{name}`, {role}"),
            None => format!("service `{name}`"),
        }
    });
    let context = context.or_else(|| subject.role.map(str::to_owned));
    (
        Placed {
            file: location.file,
            finding,
        },
        context,
    )
}

/// The service whose `-o` sets `param` for `scope`, if one does.
fn override_service(config: &Config<'_>, scope: Scope, param: &str) -> Option<usize> {
    let (_, origin) = config.raw(scope, param)?;
    let Origin::Override { service, .. } = origin else {
        return None;
    };
    Some(service)
}

/// A service as `name/type`.
fn service_name(config: &Config<'_>, index: usize) -> String {
    config.services()[index].name_type()
}

/// The service-name field of a master.cf row.
pub fn service_row(config: &Config<'_>, index: usize) -> Location {
    let node = config.services()[index].node;
    let span = node
        .words()
        .first()
        .map_or(node.span(), |w| node.source_span(w.clone()));
    Location {
        file: FileRole::Master,
        span,
    }
}

/// The start of main.cf (or of master.cf when there is no main.cf).
pub fn file_start(config: &Config<'_>) -> Location {
    Location {
        file: if config.main_file().is_some() {
            FileRole::Main
        } else {
            FileRole::Master
        },
        span: Span::default(),
    }
}
