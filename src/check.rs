//! The check pipeline: a configuration's trees → the model → findings.

use std::path::Path;

pub use crate::diagnostic::Checked;
use crate::diagnostic::Finding;
use crate::input::config_dir::ConfigDir;
use crate::input::settings::RoleOverrides;
use crate::model::HostFacts;
use crate::model::config::FileRole;
use crate::model::version::{Target, VersionSource};
use crate::rules;
use crate::rules::policy::Policy;
use crate::rules::suppress;
use crate::source::{SourceFile, Span};
use crate::syntax::FileKind;

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
    /// Whether and how the certificate, key and CA files are read.
    pub reading: crate::material::Reading,
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
            reading: crate::material::Reading::default(),
        }
    }
}

/// Checks one configuration: its main.cf and master.cf, each if present. Findings come
/// from the parsers and from the model of the whole configuration.
pub fn check_config(dir: ConfigDir, options: &Options) -> Vec<Checked> {
    let (mut main_findings, master_findings) = judge(&dir, options);
    // One run tells the whole story: what a value would mean without the text after a
    // `#` that Postfix keeps in it (PF017) is judged too, and said.
    if main_findings
        .iter()
        .any(|f| f.code == crate::diagnostic::Code::PF017)
        && let Some(meant) = as_meant(&dir)
    {
        let (meant_findings, _) = judge(&meant, options);
        let mut known: foldhash::HashSet<_> =
            main_findings.iter().map(|f| (f.code, f.span)).collect();
        for mut finding in meant_findings {
            if finding.code != crate::diagnostic::Code::PF017
                && known.insert((finding.code, finding.span))
            {
                finding.notes.without_comment = true;
                main_findings.push(finding);
            }
        }
    }
    let mut checked = Vec::new();
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
            if has_control(&finding.headline) {
                finding.headline = printable(&finding.headline).into();
            }
            if let Some(context) = &mut finding.context
                && has_control(context)
            {
                *context = printable(context).into();
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

/// The findings of one configuration, main.cf's and master.cf's, before suppressions and
/// the policy apply.
fn judge(dir: &ConfigDir, options: &Options) -> (Vec<Finding>, Vec<Finding>) {
    let version = options.target.version;
    // Without a master.cf, Postfix's stock services decide what the rules see: the roles,
    // and the per-service names (`smtp_destination_rate_delay`) that main.cf may set. What
    // rules place in the stock file is shown at the start of main.cf. (`show` reads no
    // master.cf then, as postconf does.)
    let stock =
        (dir.master.is_none() && dir.main.is_some()).then(crate::input::config_dir::stock_master);
    {
        let mut config = match &stock {
            Some(stock) => dir.model_with_master(Some(stock), version, &options.host, None, false),
            None => dir.model(version, &options.host, None, false),
        };
        let mut main_findings = Vec::new();
        let mut master_findings = Vec::new();
        if let Some(main) = &dir.main {
            main_findings.extend(main.problems.iter().cloned().map(Finding::from));
        }
        if let Some(master) = &dir.master {
            master_findings.extend(master.problems.iter().cloned().map(Finding::from));
        }
        // One finding for each issue of the model, most of them in main.cf; the stock
        // master.cf has none of its own.
        main_findings.reserve(config.issue_count());
        for (file, finding) in rules::issues::findings(&mut config, version, &options.policy) {
            match file {
                FileRole::Main => main_findings.push(finding),
                FileRole::Master if stock.is_none() => master_findings.push(finding),
                FileRole::Master => {}
            }
        }
        let judged = &config;
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
        let facts = crate::material::gather(judged, &place, &options.reading);
        let mut found = rules::engine::run(judged, &roles, &facts);
        if stock.is_some() {
            for finding in &mut found.master {
                finding.span = Span::default();
                finding.notes.stock_master = true;
            }
            absorb(&mut found.main, std::mem::take(&mut found.master));
        }
        absorb(&mut main_findings, found.main);
        absorb(&mut master_findings, found.master);
        (main_findings, master_findings)
    }
}

/// Adds `more` to `findings`, the shorter moved into the longer (the engine's findings
/// of a large file are most of them; their order is made later).
fn absorb(findings: &mut Vec<Finding>, mut more: Vec<Finding>) {
    if more.len() > findings.len() {
        std::mem::swap(findings, &mut more);
    }
    findings.append(&mut more);
}

/// The configuration with the text after each `#` that ends a main.cf value blanked out
/// (offsets kept, so findings point at the same bytes); `None` when there is none.
fn as_meant(dir: &ConfigDir) -> Option<ConfigDir> {
    let main = dir.main.as_ref()?;
    let mut text = main.file.bytes().to_vec();
    let mut changed = false;
    for parameter in main.tree.entries() {
        let value = parameter.value_span();
        let mut at = value.start as usize;
        while at < value.end as usize {
            // A `#` after a space ends the value as the writer meant it; one that starts a
            // physical line is a comment line inside the value, which Postfix skips.
            let before = text[..at].iter().rev().find(|&&b| b != b' ' && b != b'\t');
            let comment = text[at] == b'#'
                && at > 0
                && text[at - 1].is_ascii_whitespace()
                && before != Some(&b'\n');
            if !comment {
                at += 1;
                continue;
            }
            // To the end of the physical line: a continuation line may follow.
            while at < value.end as usize && text[at] != b'\n' {
                text[at] = b' ';
                at += 1;
            }
            changed = true;
        }
    }
    if !changed {
        return None;
    }
    let file = SourceFile::new(main.file.name(), text).ok()?;
    let master = match &dir.master {
        Some(m) => Some(SourceFile::new(m.file.name(), m.file.bytes().to_vec()).ok()?),
        None => None,
    };
    Some(ConfigDir::from_files(Some(file), master))
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
