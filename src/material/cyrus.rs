//! The Cyrus SASL application configuration (`smtpd.conf`) smtpd's SASL needs: where
//! libsasl2 looks for it, and whether it is there.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::Where;
use crate::model::{Config, Scope};

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

/// For each Cyrus application name the configuration uses, where its file was looked
/// for in `place`, and the one found.
pub fn search(config: &Config<'_>, place: &Where) -> BTreeMap<String, CyrusConfig> {
    let mut found_by_app = BTreeMap::new();
    if *place == Where::Nowhere {
        return found_by_app;
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
        if app.is_empty() || found_by_app.contains_key(&app) {
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
        found_by_app.insert(app, CyrusConfig { searched, found });
    }
    found_by_app
}

fn is_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
}
