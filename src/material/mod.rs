//! Files the effective configuration names, read at the edge into facts that rules judge
//! (the model itself reads nothing). For now: the Cyrus SASL application configuration
//! (`smtpd.conf`) that smtpd's SASL needs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::model::{Config, Scope};

/// Where the files a configuration names are looked for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Where {
    /// Not at all: nothing is known about files.
    #[default]
    Nowhere,
    /// A configuration kept elsewhere (a repository): only beside its main.cf, where
    /// `$config_directory` (or `/etc/postfix`) is this directory.
    Repository(PathBuf),
    /// The live configuration of this host, in this directory: every path as it is.
    Live(PathBuf),
}

/// What was found of the files a configuration names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    /// Where files were looked for.
    pub place: Where,
    /// For each Cyrus SASL application name (`smtpd_sasl_path`, `smtpd` by default): the
    /// places looked at, and the one found.
    pub cyrus: BTreeMap<String, CyrusConfig>,
}

/// The search for one Cyrus SASL application configuration file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CyrusConfig {
    /// The files looked for, in order.
    pub searched: Vec<PathBuf>,
    /// The first that exists.
    pub found: Option<PathBuf>,
}

/// Directories libsasl2 searches when Postfix gives it no path (Debian's build reads
/// `$config_directory/sasl`, then `/usr/lib/sasl`).
const CYRUS_DIRS: [&str; 5] = [
    "/usr/lib/sasl",
    "/etc/sasl2",
    "/etc/sasl",
    "/usr/lib/sasl2",
    "/usr/lib/x86_64-linux-gnu/sasl2",
];

/// Looks for the files `config` names, in `place`.
pub fn gather(config: &Config<'_>, place: &Where) -> Facts {
    let mut facts = Facts {
        place: place.clone(),
        ..Facts::default()
    };
    if *place == Where::Nowhere {
        return facts;
    }
    let scopes =
        std::iter::once(Scope::Main).chain((0..config.services().len()).map(Scope::Service));
    for scope in scopes {
        let text = |name: &str| {
            config
                .text(scope, name)
                .map(|v| String::from_utf8_lossy(&v).trim().to_owned())
                .unwrap_or_default()
        };
        if text("smtpd_sasl_type") != "cyrus" {
            continue;
        }
        let app = text("smtpd_sasl_path");
        if app.is_empty() || facts.cyrus.contains_key(&app) {
            continue;
        }
        let mut dirs: Vec<PathBuf> = Vec::new();
        match place {
            Where::Repository(dir) => {
                dirs.push(dir.join("sasl"));
                for d in text("cyrus_sasl_config_path").split(':') {
                    if let Some(rest) = d.strip_prefix("/etc/postfix/") {
                        dirs.push(dir.join(rest));
                    }
                }
            }
            Where::Live(dir) => {
                dirs.push(dir.join("sasl"));
                dirs.extend(
                    text("cyrus_sasl_config_path")
                        .split(':')
                        .filter(|d| !d.is_empty())
                        .map(PathBuf::from),
                );
                dirs.extend(CYRUS_DIRS.iter().map(PathBuf::from));
            }
            Where::Nowhere => {}
        }
        let searched: Vec<PathBuf> = dirs.iter().map(|d| d.join(format!("{app}.conf"))).collect();
        let found = searched.iter().find(|p| is_file(p)).cloned();
        facts.cyrus.insert(app, CyrusConfig { searched, found });
    }
    facts
}

fn is_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
}
