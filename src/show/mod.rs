//! `pflint show`: postconf's views of a configuration, byte for byte (`-n`, `-d`, `-x`,
//! `-f`, `-h`, `-H`, `-M`, `-P`, parameter names).
//!
//! Like postconf, nothing is printed when the configuration cannot be read or a value
//! cannot be expanded: postconf's buffered output is lost when it stops with a fatal
//! error, and the exit status is 1.

pub mod line;
pub mod master;

use std::borrow::Cow;

use crate::model::config::{Class, Fatal, IssueKind, ServiceEntry};
use crate::model::expand::ExpandError;
use crate::model::{Config, Scope};
use crate::syntax::Value;
use line::print_line;

/// What to show, as postconf's flags say it.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// `-n`: only parameters main.cf sets.
    pub non_default: bool,
    /// `-d`: default values.
    pub defaults: bool,
    /// `-x`: expand `$name`.
    pub expand: bool,
    /// `-f`: fold long lines.
    pub fold: bool,
    /// `-h`: values without names.
    pub hide_name: bool,
    /// `-H`: names without values.
    pub hide_value: bool,
    /// `-M`: master.cf entries.
    pub master_entries: bool,
    /// `-P`: master.cf `-o` parameters.
    pub master_params: bool,
    /// Parameter names, or service patterns with `-M`/`-P`.
    pub names: Vec<String>,
}

impl Options {
    /// The flags as postconf combines them, or postconf's refusal
    /// (`pcf_check_exclusive_options()` and `pcf_check_compat_options()` in postconf.c,
    /// for the flags pflint shows).
    pub fn check_flags(&self) -> Result<(), String> {
        let named = |flags: &[(&'static str, bool)]| -> Vec<&'static str> {
            flags
                .iter()
                .filter(|(_, on)| *on)
                .map(|(n, _)| *n)
                .collect()
        };
        let exclusive: [&[(&str, bool)]; 3] = [
            &[("-M", self.master_entries), ("-P", self.master_params)],
            &[("-d", self.defaults), ("-n", self.non_default)],
            &[("-h", self.hide_name), ("-H", self.hide_value)],
        ];
        for group in exclusive {
            let on = named(group);
            if on.len() > 1 {
                return Err(format!("specify one of {}", on.join(" ")));
            }
        }
        let (mode, allowed): (&str, &[&str]) = if self.master_entries {
            ("-M", &["-f", "-x"])
        } else if self.master_params {
            ("-P", &["-f", "-h", "-x", "-H"])
        } else {
            return Ok(());
        };
        let given = named(&[
            ("-d", self.defaults),
            ("-f", self.fold),
            ("-h", self.hide_name),
            ("-H", self.hide_value),
            ("-n", self.non_default),
            ("-x", self.expand),
        ]);
        let excess: Vec<&str> = given.into_iter().filter(|f| !allowed.contains(f)).collect();
        if excess.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "with option {mode}, do not specify {}",
                excess.join(" ")
            ))
        }
    }
}

/// Why postconf would stop with status 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShowError {
    /// The configuration cannot be read (`Config::fatal`).
    Fatal(Fatal),
    /// A value cannot be expanded ("macro processing error").
    Expansion(ExpandError),
    /// A `-M`/`-P` pattern postconf refuses.
    BadPattern(String),
}

impl std::fmt::Display for ShowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ShowError::Fatal(Fatal::Syntax(kind)) => {
                write!(
                    f,
                    "the configuration has an error postconf cannot read past ({})",
                    kind.code()
                )
            }
            ShowError::Fatal(Fatal::HostDefault(message)) => write!(f, "{message}"),
            ShowError::Fatal(Fatal::Expansion { name, error }) => {
                write!(
                    f,
                    "macro processing error in `{}`: {error}",
                    name.escape_ascii()
                )
            }
            ShowError::Expansion(error) => write!(f, "macro processing error: {error}"),
            ShowError::BadPattern(p) => write!(f, "invalid service pattern `{p}`"),
        }
    }
}

/// What `show` produced.
#[derive(Debug, Default)]
pub struct Output {
    /// Standard output: empty when there is an error.
    pub stdout: Vec<u8>,
    /// Warnings for standard error, postconf's warnings with line numbers added.
    pub warnings: Vec<String>,
    /// The error that makes the exit status 1, if any.
    pub error: Option<ShowError>,
}

/// Produces postconf's output for `options`.
pub fn show(config: &Config<'_>, options: &Options) -> Output {
    let mut output = Output {
        warnings: warnings(config, options),
        ..Output::default()
    };
    if let Some(fatal) = &config.fatal {
        output.error = Some(ShowError::Fatal(fatal.clone()));
        return output;
    }
    let result = if options.master_entries || options.master_params {
        Patterns::parse(&options.names, if options.master_params { 3 } else { 2 }).and_then(|p| {
            if options.master_params {
                master::params(config, options, &p, &mut output.stdout)
            } else {
                master::entries(config, options, &p, &mut output.stdout)
            }
        })
    } else {
        parameters(config, options, &mut output.stdout, &mut output.warnings)
    };
    if let Err(error) = result {
        output.stdout.clear();
        output.error = Some(error);
    }
    output
}

/// `postconf [-n|-d] [-x] [name…]`.
fn parameters(
    config: &Config<'_>,
    options: &Options,
    out: &mut Vec<u8>,
    warnings: &mut Vec<String>,
) -> Result<(), ShowError> {
    // Borrowed from the model where they can be: a large main.cf has hundreds of
    // thousands of names.
    let names: Vec<Cow<'_, [u8]>> =
        if options.names.is_empty() && options.non_default && !options.defaults {
            // Only names set in main.cf can show: the known names of a large master.cf are
            // millions (every service's own parameters).
            config
                .main_settings()
                .filter(|(name, _)| config.class(name).is_some_and(|c| c != Class::Legacy))
                .map(|(name, _)| Cow::Borrowed(name))
                .collect()
        } else if options.names.is_empty() {
            let mut names: Vec<Cow<'_, [u8]>> = config
                .known_names()
                .into_iter()
                .filter(|(_, class)| *class != Class::Legacy)
                .map(|(name, _)| name)
                .collect();
            names.sort_unstable();
            names
        } else {
            options
                .names
                .iter()
                .filter(|name| {
                    let known = config.class(name.as_bytes()).is_some();
                    if !known {
                        warnings.push(format!("{name}: unknown parameter"));
                    }
                    known
                })
                .map(|name| Cow::Borrowed(name.as_bytes()))
                .collect()
        };
    for name in names {
        let Some(value) = value_to_show(config, options, &name) else {
            continue;
        };
        let raw = std::str::from_utf8(&name)
            .ok()
            .and_then(|n| config.info(n))
            .is_some_and(|i| i.raw);
        let value = if options.expand && !raw {
            if options.defaults {
                config.expand_default(&value)
            } else {
                config.expand_value(Scope::Main, &value)
            }
            .map(Cow::Owned)
            .map_err(ShowError::Expansion)?
        } else {
            match value {
                Cow::Borrowed(v) => Cow::Borrowed(v.text()),
                Cow::Owned(v) => v.into_text(),
            }
        };
        let line = if options.hide_value {
            name
        } else if options.hide_name {
            value
        } else {
            Cow::Owned([&name[..], b" = ", &value].concat())
        };
        print_line(out, &line, options.fold);
    }
    Ok(())
}

fn value_to_show<'c>(
    config: &'c Config<'_>,
    options: &Options,
    name: &[u8],
) -> Option<Cow<'c, Value<'c>>> {
    let main = || {
        std::str::from_utf8(name)
            .ok()
            .and_then(|n| config.main_setting(n))
            .map(|s| Cow::Borrowed(&s.value))
    };
    let default = || {
        config
            .default_value(name)
            .map(|v| Cow::Owned(Value::new(v)))
    };
    if options.defaults {
        default()
    } else if options.non_default {
        main()
    } else {
        main().or_else(default)
    }
}

/// The model's issues as postconf words its warnings, with the line added.
fn warnings(config: &Config<'_>, options: &Options) -> Vec<String> {
    if options.defaults {
        return Vec::new();
    }
    config
        .warnings_in_order()
        .filter(|issue| !matches!(issue.kind, IssueKind::InvalidValue { .. }))
        .map(|issue| {
            let (file, name) = match issue.location.file {
                crate::model::config::FileRole::Main => (config.main_file(), "main.cf"),
                crate::model::config::FileRole::Master => (config.master_file(), "master.cf"),
            };
            let line = file.map_or(0, |f| f.position(issue.location.span.start).line);
            let what = match &issue.kind {
                // postconf's words; `pflint check` suggests the name meant.
                IssueKind::Unknown { name } => {
                    format!("unused parameter: {}", name.escape_ascii())
                }
                IssueKind::Undefined { name } => {
                    format!("undefined parameter: {}", name.escape_ascii())
                }
                IssueKind::ReadOnly { name } => {
                    format!("read-only parameter assignment: {}", name.escape_ascii())
                }
                IssueKind::Duplicate { name, .. } => {
                    format!("overriding earlier entry: {}", name.escape_ascii())
                }
                IssueKind::Expansion { name, error } => {
                    format!("{}: {error}", name.escape_ascii())
                }
                IssueKind::InvalidValue { name, message } => {
                    format!("{}: {message}", name.escape_ascii())
                }
            };
            format!("{name}, line {line}: {what}")
        })
        .collect()
}

/// `-M` and `-P` patterns: `service[/type[/parameter]]`, each part exact or `*`.
#[derive(Debug, Default)]
pub struct Patterns {
    patterns: Vec<Vec<String>>,
}

impl Patterns {
    /// Parses postconf's patterns with at most `fields` parts.
    pub fn parse(names: &[String], fields: usize) -> Result<Patterns, ShowError> {
        let mut patterns = Vec::new();
        for name in names {
            let mut parts: Vec<String> = name
                .split('/')
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect();
            let valid = !name.starts_with('/')
                && !parts.is_empty()
                && parts.len() <= fields
                && parts.iter().all(|p| p == "*" || !p.contains('*'));
            if !valid {
                return Err(ShowError::BadPattern(name.clone()));
            }
            parts.resize(fields, "*".to_owned());
            patterns.push(parts);
        }
        Ok(Patterns { patterns })
    }

    fn part_matches(pattern: &str, value: &[u8]) -> bool {
        pattern == "*" || pattern.as_bytes() == value
    }

    /// Whether the service is selected (every service when there are no patterns).
    pub fn matches_service(&self, entry: &ServiceEntry<'_>) -> bool {
        self.patterns.is_empty()
            || self.patterns.iter().any(|p| {
                Self::part_matches(&p[0], entry.name()) && Self::part_matches(&p[1], entry.kind())
            })
    }

    /// Whether a service's parameter is selected.
    pub fn matches_param(&self, entry: &ServiceEntry<'_>, name: &[u8]) -> bool {
        self.patterns.is_empty()
            || self.patterns.iter().any(|p| {
                Self::part_matches(&p[0], entry.name())
                    && Self::part_matches(&p[1], entry.kind())
                    && p.get(2).is_none_or(|param| Self::part_matches(param, name))
            })
    }
}
