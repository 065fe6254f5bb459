//! `.pflint.yaml`: per-repository settings, found by walking up from the checked path.
//!
//! ```yaml
//! postfix-version: "3.7"        # the version the configuration runs on
//! disable: [PF205]              # rules (codes, code prefixes or names) never reported
//! severity: { PF203: info }     # severity overrides
//! roles:                        # what pflint cannot see from the files
//!   public-mx: false            # port 25 is firewalled: an internal relay, not an MX
//! mx-names: [mx1.example.com]   # names the server certificate must cover (else myhostname)
//! certificates:                 # when an expiry date is worth saying (days before it)
//!   expiry-warning-days: 14
//!   expiry-info-days: 30
//! tlsa-file: dns/tlsa.zone       # published TLSA records (zone lines or dig output) …
//! tlsa: ["_25._tcp.mx1.example.com. IN TLSA 3 1 1 …"]   # … or the records themselves
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::diagnostic::Severity;
use crate::model::Roles;

/// The file name searched for.
pub const FILE_NAME: &str = ".pflint.yaml";

/// The settings of one `.pflint.yaml`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Settings {
    /// The target Postfix version (`--postfix-version` wins).
    pub postfix_version: Option<String>,
    /// Rules never reported (added to `--ignore`).
    #[serde(default)]
    pub disable: Vec<String>,
    /// Severity overrides by rule code, code prefix or name.
    #[serde(default)]
    pub severity: BTreeMap<String, Severity>,
    /// Roles to assume instead of those read from the files.
    #[serde(default)]
    pub roles: RoleOverrides,
    /// The names server certificates must cover (default: `myhostname`).
    #[serde(default)]
    pub mx_names: Vec<String>,
    /// When certificate expiry is reported.
    #[serde(default)]
    pub certificates: CertificateSettings,
    /// This server's published TLSA records, as zone-file lines or dig output lines:
    /// `pflint check --files` says when a key smtpd uses has none.
    #[serde(default)]
    pub tlsa: Vec<String>,
    /// A zone file or saved dig output with them, relative to the settings file.
    pub tlsa_file: Option<PathBuf>,
}

/// When a certificate's expiry is reported, in days before it.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CertificateSettings {
    /// A warning (default 14).
    pub expiry_warning_days: Option<u32>,
    /// A note (default 30).
    pub expiry_info_days: Option<u32>,
}

/// Facts about the host that its files do not show.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RoleOverrides {
    /// Whether port-25 listeners are reachable from the Internet (`false`: a firewall or
    /// NAT keeps them internal, so the host is no public MX).
    pub public_mx: Option<bool>,
    /// Whether the submission listeners (587, 465) are reachable beyond the host.
    pub submission_server: Option<bool>,
    /// Whether outbound mail goes straight to other domains' MX hosts (`false`: a
    /// gateway the files do not show relays it).
    pub direct_delivery: Option<bool>,
}

impl RoleOverrides {
    /// Applies the overrides to roles read from the files.
    pub fn apply(&self, roles: &mut Roles) {
        use crate::model::ListenerKind;
        for listener in &mut roles.listeners {
            let reachable = match listener.kind {
                ListenerKind::Mx => self.public_mx,
                ListenerKind::Submission | ListenerKind::Submissions => self.submission_server,
                _ => None,
            };
            if let Some(reachable) = reachable {
                listener.loopback_only = !reachable;
            }
        }
        if let Some(direct) = self.direct_delivery {
            roles.direct_delivery = direct;
        }
    }
}

/// A settings file that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettingsError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong, with the line and column when YAML says so.
    pub message: String,
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

impl Settings {
    /// Reads one settings file.
    pub fn load(path: &Path) -> Result<Settings, SettingsError> {
        let error = |message: String| SettingsError {
            path: path.to_owned(),
            message,
        };
        let bytes = crate::input::files::read(path).map_err(error)?;
        let text =
            String::from_utf8(bytes).map_err(|_| error("it is not UTF-8 text".to_owned()))?;
        if text.trim().is_empty() {
            return Ok(Settings::default());
        }
        serde_yaml::from_str(&text).map_err(|e| error(yaml_error(&e, &text)))
    }

    /// The published TLSA records `tlsa` and `tlsa-file` give (the file read relative
    /// to `path`, the settings file); `None` when neither is set.
    pub fn published_tlsa(
        &self,
        path: &Path,
    ) -> Result<Option<Vec<crate::tlsa::zone::Published>>, SettingsError> {
        let error = |message: String| SettingsError {
            path: path.to_owned(),
            message,
        };
        if self.tlsa.is_empty() && self.tlsa_file.is_none() {
            return Ok(None);
        }
        let mut records = crate::tlsa::zone::parse(&self.tlsa.join("\n"))
            .map_err(|e| error(format!("tlsa: record {}: {}", e.line, e.message)))?;
        if let Some(file) = &self.tlsa_file {
            let at = path.parent().unwrap_or(Path::new(".")).join(file);
            let bytes = crate::input::files::read(&at)
                .map_err(|e| error(format!("tlsa-file {}: {e}", at.display())))?;
            let text = String::from_utf8_lossy(&bytes);
            records.extend(
                crate::tlsa::zone::parse(&text)
                    .map_err(|e| error(format!("tlsa-file {}: {e}", at.display())))?,
            );
        }
        Ok(Some(records))
    }

    /// The nearest `.pflint.yaml` in the checked path's directory or one above it.
    pub fn discover(checked: &Path) -> Option<PathBuf> {
        let absolute = std::path::absolute(checked).ok()?;
        let start = if absolute.is_dir() {
            absolute.as_path()
        } else {
            absolute.parent()?
        };
        let found = start
            .ancestors()
            .map(|dir| dir.join(FILE_NAME))
            .find(|candidate| candidate.is_file())?;
        // Shown in messages: relative to the working directory, as the user's own paths are.
        let cwd = std::env::current_dir().ok();
        Some(
            cwd.and_then(|cwd| found.strip_prefix(cwd).ok().map(Path::to_path_buf))
                .unwrap_or(found),
        )
    }
}

/// A YAML error in a few words: where it is and a short excerpt of that line, never the
/// whole file (serde_yaml quotes a scalar document in full).
fn yaml_error(e: &serde_yaml::Error, text: &str) -> String {
    let what = e.to_string();
    let what = match what.find(", expected") {
        // "invalid type: string \"<the whole file>\", expected struct Settings"
        Some(i) if what.starts_with("invalid type: string") => format!(
            "expected settings (postfix-version, disable, severity, roles), found plain text{}",
            &what[i + ", expected".len()..]
                .replace("struct Settings", "")
                .trim_end()
        ),
        _ => what.split(" at line ").next().unwrap_or(&what).to_owned(),
    };
    let what: String = what.chars().take(200).collect();
    match e.location() {
        Some(at) => {
            let line = text
                .lines()
                .nth(at.line().saturating_sub(1))
                .unwrap_or_default();
            let excerpt: String = line.chars().take(60).collect();
            let more = if line.chars().count() > 60 { "…" } else { "" };
            format!(
                "line {}, column {}: {what} (near `{}{more}`)",
                at.line(),
                at.column(),
                excerpt.escape_debug()
            )
        }
        None => what,
    }
}
