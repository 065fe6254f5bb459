//! The check pipeline: a configuration's trees → the model → findings.

use std::path::Path;

use crate::config_dir::ConfigDir;
use crate::diagnostic::{Code, Finding};
use crate::model::config::{FileRole, Issue, IssueKind};
use crate::model::version::{Since, Target, VersionSource};
use crate::model::{HostFacts, Version, params};
use crate::policy::Policy;
use crate::rules;
use crate::settings::RoleOverrides;
use crate::source::{SourceFile, Span};
use crate::suppress;
use crate::syntax::FileKind;

/// A checked file: its source and what was found in it.
#[derive(Debug)]
pub struct Checked {
    /// The file.
    pub file: SourceFile,
    /// The grammar it was read with.
    pub kind: FileKind,
    /// Findings, ordered by position.
    pub findings: Vec<Finding>,
    /// The Postfix version it was judged for.
    pub target: Target,
}

/// What a check judges against.
#[derive(Clone, Debug)]
pub struct Options {
    /// The Postfix version whose parameters and defaults apply, and where it came from.
    pub target: Target,
    /// Facts for host-dependent defaults.
    pub host: HostFacts,
    /// Which rules report, at which severity.
    pub policy: Policy,
    /// Roles to assume over those read from the files.
    pub roles: RoleOverrides,
    /// Whether this is the host's own configuration, so that the files it names are
    /// looked for where it says (else only beside main.cf).
    pub live: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            target: Target {
                version: crate::model::params::table().latest_stable,
                source: VersionSource::NewestKnown,
                note: None,
            },
            host: HostFacts::assumed(),
            policy: Policy::default(),
            roles: RoleOverrides::default(),
            live: false,
        }
    }
}

/// Checks one configuration: its main.cf and master.cf, each if present. Findings come
/// from the parsers and from the model of the whole configuration.
pub fn check_config(dir: ConfigDir, options: &Options) -> Vec<Checked> {
    let version = options.target.version;
    // Without a master.cf, Postfix's stock services decide the roles the rules see (not
    // which names are used: postconf reads no master.cf then); what rules place in the
    // stock file is shown at the start of main.cf.
    let stock = (dir.master.is_none() && dir.main.is_some()).then(crate::config_dir::stock_master);
    let (main_findings, master_findings) = {
        let config = dir.model(version, &options.host, None, false);
        let mut main_findings = Vec::new();
        let mut master_findings = Vec::new();
        if let Some(main) = &dir.main {
            main_findings.extend(main.problems.iter().cloned().map(Finding::from_problem));
        }
        if let Some(master) = &dir.master {
            master_findings.extend(master.problems.iter().cloned().map(Finding::from_problem));
        }
        // The index of known names is built only when a suggestion is wanted.
        let suggester = std::cell::OnceCell::new();
        let mut suggest = |name: &[u8]| {
            options
                .policy
                .reports(Code::PF601)
                .then(|| {
                    suggester
                        .get_or_init(|| crate::model::suggest::Suggester::new(&config))
                        .suggest(name)
                })
                .flatten()
        };
        for issue in &config.issues {
            let finding = issue_finding(issue, version, &mut suggest);
            match issue.location.file {
                FileRole::Main => main_findings.push(finding),
                FileRole::Master => master_findings.push(finding),
            }
        }
        let with_stock = stock
            .as_ref()
            .map(|stock| dir.model_with_master(Some(stock), version, &options.host, None, false));
        let judged = with_stock.as_ref().unwrap_or(&config);
        let mut roles = judged.roles();
        options.roles.apply(&mut roles);
        let directory = dir
            .main
            .as_ref()
            .map(|m| &m.file)
            .or(dir.master.as_ref().map(|m| &m.file))
            .and_then(|f| f.name().parent().map(Path::to_path_buf));
        let place = match directory {
            Some(d) if options.live => crate::material::Where::Live(d),
            Some(d) => crate::material::Where::Repository(d),
            None => crate::material::Where::Nowhere,
        };
        let facts = crate::material::gather(judged, &place);
        for placed in rules::engine::run(judged, &roles, &facts) {
            match placed.file {
                FileRole::Main => main_findings.push(placed.finding),
                FileRole::Master if stock.is_some() => {
                    let mut finding = placed.finding;
                    finding.span = Span::default();
                    finding.message =
                        format!("{} (Postfix's stock master.cf assumed)", finding.message);
                    main_findings.push(finding);
                }
                FileRole::Master => master_findings.push(placed.finding),
            }
        }
        (main_findings, master_findings)
    };
    let mut checked = Vec::new();
    let mut main_findings = main_findings;
    let mut master_findings = master_findings;
    if let Some(main) = &dir.main {
        suppress::apply(&main.tree, main.file.bytes(), &mut main_findings);
    }
    if let Some(master) = &dir.master {
        suppress::apply(&master.tree, master.file.bytes(), &mut master_findings);
    }
    for (file, kind, mut findings) in [
        dir.main.map(|m| (m.file, FileKind::Main, main_findings)),
        dir.master
            .map(|m| (m.file, FileKind::Master, master_findings)),
    ]
    .into_iter()
    .flatten()
    {
        options.policy.apply(&mut findings);
        for finding in &mut findings {
            // Names and values from the files may hold control bytes: never let them
            // reach a terminal or a CI log raw.
            if has_control(&finding.message) {
                finding.message = printable(&finding.message);
            }
            if has_control(&finding.label) {
                finding.label = printable(&finding.label).into();
            }
        }
        findings.sort_by_key(|f| (f.span.start, f.span.end, f.code));
        findings.dedup();
        checked.push(Checked {
            file,
            kind,
            findings,
            target: options.target.clone(),
        });
    }
    checked
}

/// Whether `text` has a character that [`printable`] would escape.
fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

/// `text` with every control character written as an escape (`\x01`, `\u{9b}`).
pub fn printable(text: &str) -> String {
    if !has_control(text) {
        return text.to_owned();
    }
    text.chars()
        .map(|c| match c {
            c if c.is_control() && (c as u32) < 0x80 => format!("\\x{:02x}", c as u32),
            c if c.is_control() => c.escape_unicode().to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// Checks files read elsewhere: `main` and `master` form one configuration.
pub fn check_files(
    main: Option<SourceFile>,
    master: Option<SourceFile>,
    options: &Options,
) -> Vec<Checked> {
    check_config(ConfigDir::from_files(main, master), options)
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
