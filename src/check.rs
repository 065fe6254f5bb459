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
    let version = options.target.version;
    // Without a master.cf, Postfix's stock services decide the roles the rules see (not
    // which names are used: postconf reads no master.cf then); what rules place in the
    // stock file is shown at the start of main.cf.
    let stock =
        (dir.master.is_none() && dir.main.is_some()).then(crate::input::config_dir::stock_master);
    let (main_findings, master_findings) = {
        let mut config = dir.model(version, &options.host, None, false);
        let mut main_findings = Vec::new();
        let mut master_findings = Vec::new();
        if let Some(main) = &dir.main {
            main_findings.extend(main.problems.iter().cloned().map(Finding::from));
        }
        if let Some(master) = &dir.master {
            master_findings.extend(master.problems.iter().cloned().map(Finding::from));
        }
        // One finding for each issue of the model, most of them in main.cf.
        main_findings.reserve(config.issues.len());
        for (file, finding) in rules::issues::findings(&mut config, version, &options.policy) {
            match file {
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
        let facts = crate::material::gather(judged, &place, &options.reading);
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
