//! The parameter table: every Postfix parameter with its availability, default values by
//! version, type and flags. `scripts/gen-params.py` generates `data/params.json`; the build
//! turns that file into static data (see `build.rs`).

use super::version::{Releases, Since, Version};

/// The type of a parameter's value, as far as rules need it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueType {
    /// `yes` or `no`.
    Bool,
    /// A number with an optional unit (`s`, `m`, `h`, `d`, `w`).
    Time,
    /// An integer.
    Int,
    /// A list of elements separated by commas or whitespace.
    List,
    /// One of the values in [`ParamInfo::values`].
    Enum,
    /// A compatibility level such as `3.6`.
    Version,
    /// Anything else.
    String,
}

/// How a parameter is deprecated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deprecation {
    /// The version from which Postfix warns (`"0"`: long obsolete).
    pub since: &'static str,
    /// The parameter to use instead, when there is one.
    pub replacement: Option<&'static str>,
    /// What the documentation says to do.
    pub note: &'static str,
}

/// One parameter.
#[derive(Clone, Debug)]
pub struct ParamInfo {
    /// Its name.
    pub name: &'static str,
    /// First releases that have it, per line; empty when it predates Postfix 2.0.
    pub since: &'static [Since],
    /// The release that no longer has it.
    pub removed: Option<Version>,
    /// Its deprecation, if any.
    pub deprecated: Option<Deprecation>,
    /// A `transport_*` template that master.cf services instantiate, not a parameter.
    pub template: bool,
    /// Default expressions by version, oldest first.
    pub defaults: &'static [(Since, &'static str)],
    /// The value's type.
    pub value_type: ValueType,
    /// The allowed values of an enum.
    pub values: &'static [&'static str],
    /// Postfix reads the value without `$name` expansion.
    pub raw: bool,
    /// Set by Postfix itself; main.cf may not set it.
    pub readonly: bool,
    /// From this version on the name is only a migration alias for a renamed parameter.
    pub legacy: Option<Version>,
    /// From this version on Postfix still accepts the parameter but nothing reads it.
    pub ignored: Option<Version>,
    /// The default is computed from facts of the host or the build.
    pub host: Option<&'static str>,
}

impl ParamInfo {
    /// Whether a release at `version` knows the parameter.
    pub fn available_in(&self, version: Version) -> bool {
        let introduced = self.since.is_empty() || self.since.iter().any(|s| s.holds_at(version));
        introduced && self.removed.is_none_or(|r| !version.at_least(r)) && !self.template
    }

    /// Whether at `version` the name is kept only as an alias of a renamed parameter.
    pub fn is_legacy_in(&self, version: Version) -> bool {
        self.legacy.is_some_and(|l| version.at_least(l))
    }

    /// The default expression at `version` (the most specific entry that holds).
    pub fn default_at(&self, version: Version) -> &'static str {
        self.defaults
            .iter()
            .filter(|(since, _)| since.holds_at(version))
            .max_by_key(|(since, _)| since.order_key())
            .map_or("", |(_, value)| value)
    }

    /// Whether `version` is at or after the version from which Postfix warns that this
    /// parameter is deprecated.
    pub fn deprecated_in(&self, version: Version) -> bool {
        self.deprecated.as_ref().is_some_and(|d| {
            d.since == "0"
                || d.since
                    .parse::<Version>()
                    .is_ok_and(|since| version.at_least(since))
        })
    }
}

mod generated {
    use super::{Deprecation, ParamInfo, Since, ValueType, Version};
    include!(concat!(env!("OUT_DIR"), "/params_table.rs"));
}

/// What a bound of [`Limit`] measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitKind {
    /// The length of the expanded string.
    Length,
    /// The number.
    Int,
    /// The time, in seconds.
    Time,
}

/// Bounds a Postfix program enforces when it reads a parameter (`CONFIG_*_TABLE` in its
/// source): a value outside them stops the program with a fatal error. 0: no bound.
#[derive(Debug)]
pub struct Limit {
    /// What is bounded.
    pub kind: LimitKind,
    /// The least allowed, or 0.
    pub min: i64,
    /// The most allowed, or 0.
    pub max: i64,
    /// The programs that read the parameter with these bounds (`every program` for
    /// mail_params.c's, read by all).
    pub programs: &'static [&'static str],
}

mod limits {
    use super::{Limit, LimitKind};
    include!(concat!(env!("OUT_DIR"), "/param_limits.rs"));
}

/// `mail_release_date`'s default at `version`: the release date of that release (of the
/// line's newest release known, for a target without a patch level), from
/// `data/release-dates.tsv`; `None` for a release not listed.
pub fn release_date(version: Version) -> Option<&'static str> {
    let mut found = None;
    for line in include_str!("../../data/release-dates.tsv").lines() {
        let Some((release, date)) = line.split_once('\t') else {
            continue;
        };
        let Ok(release) = release.parse::<Version>() else {
            continue;
        };
        let same_line = (release.major, release.minor) == (version.major, version.minor);
        if same_line && version.patch.is_none_or(|p| release.patch == Some(p)) {
            found = Some(date);
        }
    }
    found
}

/// The bounds Postfix 3.7's programs enforce on `name` (from `data/param-limits.json`).
pub fn limits(name: &str) -> &'static [Limit] {
    limits::LIMITS
        .binary_search_by(|(n, _)| (*n).cmp(name))
        .map_or(&[], |i| limits::LIMITS[i].1)
}

/// All parameters, built into the binary from `data/params.json` at build time.
#[derive(Debug)]
pub struct ParamTable {
    /// The newest stable release line, the target when nothing else says.
    pub latest_stable: Version,
    /// Every release line and the newest patch of it pflint knows.
    pub releases: Releases,
    dbms_suffixes: &'static [(&'static str, &'static [&'static str])],
    params: &'static [ParamInfo],
    /// Position by name, made on first use: every name of a configuration is looked up
    /// several times.
    by_name: std::sync::OnceLock<foldhash::HashMap<&'static str, usize>>,
}

impl ParamTable {
    /// The parameter with this name, whatever the version.
    pub fn get(&self, name: &str) -> Option<&'static ParamInfo> {
        let params = self.params;
        let by_name = self.by_name.get_or_init(|| {
            params
                .iter()
                .enumerate()
                .map(|(i, p)| (p.name, i))
                .collect()
        });
        by_name.get(name).map(|&i| &params[i])
    }

    /// The parameter with this name if a release at `version` knows it.
    pub fn get_in(&self, name: &str, version: Version) -> Option<&'static ParamInfo> {
        self.get(name).filter(|p| p.available_in(version))
    }

    /// All parameters (and templates), sorted by name.
    pub fn all(&self) -> &'static [ParamInfo] {
        self.params
    }

    /// Name suffixes of the legacy database client parameters of a table type.
    pub fn dbms_suffixes(&self, db_type: &str) -> Option<&'static [&'static str]> {
        self.dbms_suffixes
            .iter()
            .find(|(t, _)| *t == db_type)
            .map(|(_, s)| *s)
    }
}

/// The table built into pflint.
pub fn table() -> &'static ParamTable {
    static TABLE: ParamTable = ParamTable {
        latest_stable: generated::LATEST_STABLE,
        releases: Releases(generated::RELEASES),
        dbms_suffixes: generated::DBMS_SUFFIXES,
        params: generated::PARAMS,
        by_name: std::sync::OnceLock::new(),
    };
    &TABLE
}

/// True when Postfix does not expand `$name` in this parameter's value.
pub fn is_raw(name: &[u8]) -> bool {
    std::str::from_utf8(name)
        .ok()
        .and_then(|n| table().get(n))
        .is_some_and(|p| p.raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bounded_name_is_a_parameter_of_the_table() {
        let unknown: Vec<&str> = limits::LIMITS
            .iter()
            .map(|(name, _)| *name)
            .filter(|name| table().get(name).is_none())
            .collect();
        assert!(unknown.is_empty(), "not in data/params.json: {unknown:?}");
        assert!(limits::LIMITS.windows(2).all(|w| w[0].0 < w[1].0), "sorted");
        assert_eq!(limits("setgid_group")[0].min, 1);
        assert!(limits("no_such_parameter").is_empty());
    }

    fn v(s: &str) -> Version {
        s.parse().unwrap()
    }

    #[test]
    fn embedded_table_is_complete_and_sorted() {
        let table = table();
        assert!(table.all().len() > 900);
        assert!(table.all().windows(2).all(|w| w[0].name < w[1].name));
        assert_eq!(table.latest_stable, v("3.11"));
        assert!(
            table
                .dbms_suffixes("mysql")
                .is_some_and(|s| s.contains(&"query"))
        );
    }

    #[test]
    fn defaults_follow_versions_and_backports() {
        let t = table();
        let dane = t.get("smtp_tls_dane_insecure_mx_policy").unwrap();
        assert_eq!(dane.default_at(v("3.5")), "dane");
        assert!(
            dane.default_at(v("3.7.11"))
                .starts_with("${{$smtp_tls_security_level}")
        );
        assert_eq!(dane.default_at(v("3.7.13")), "dane");
        assert!(dane.default_at(v("3.8.0")).starts_with("${{"));
        assert_eq!(dane.default_at(v("3.10")), "dane");
        let level = t.get("smtp_tls_security_level").unwrap();
        assert_eq!(level.default_at(v("3.10")), "");
        assert!(level.default_at(v("3.11")).contains("{may}"));
    }

    #[test]
    fn availability_knows_patch_level_backports() {
        let t = table();
        let bare_newline = t.get("smtpd_forbid_bare_newline").unwrap();
        assert!(bare_newline.available_in(v("3.7.11")));
        assert!(!bare_newline.available_in(v("3.7.8")));
        assert!(!bare_newline.available_in(v("3.8.0")));
        assert!(t.get_in("smtpd_tls_chain_files", v("3.3")).is_none());
        assert!(t.get_in("smtpd_tls_chain_files", v("3.4")).is_some());
        assert!(t.get_in("smtp_skip_4xx_greeting", v("3.7")).is_none());
    }

    /// postconf scans default values for `$name` to mark user-defined names as used; the
    /// model skips that scan because every name a default mentions is a parameter of the
    /// same version. This keeps that true for every version the table covers.
    #[test]
    fn defaults_mention_only_parameters_of_their_version() {
        let t = table();
        let mut problems = Vec::new();
        for minor in 3..=12 {
            let version = Version::new(3, minor);
            for p in t.all().iter().filter(|p| p.available_in(version) && !p.raw) {
                let default = p.default_at(version);
                let value = crate::syntax::Value::new(default.as_bytes());
                for name in value.names() {
                    let name = String::from_utf8_lossy(name);
                    if t.get_in(&name, version).is_none() {
                        problems.push(format!("{version}: {} mentions ${name}", p.name));
                    }
                }
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    #[test]
    fn raw_parameters_are_flagged() {
        assert!(is_raw(b"mailbox_command"));
        assert!(!is_raw(b"smtpd_banner"));
    }
}
