//! The rule catalog: one YAML file per rule under the repository's `rules/` folder,
//! embedded in the binary and loaded with serde (unknown keys are errors, so a typo in a
//! rule file fails the test suite instead of being ignored).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::diagnostic::{Code, Safety, Severity};

pub mod builtin;
pub mod condition;
pub mod engine;
pub mod issues;
pub mod policy;
mod reflow;
pub mod suppress;

pub use crate::model::subject::SubjectKind;
pub use condition::Condition;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/rule_files.rs"));
}

/// How a rule finds its problems.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(from = "String")]
pub enum Check {
    /// The parser reports it while reading the file (see [`crate::syntax::ProblemKind`]).
    Parser,
    /// The model reports it while building the effective configuration (see
    /// [`crate::model::config::IssueKind`]).
    Model,
    /// The rule's `when:` condition, for each subject it applies to.
    Condition,
    /// Inline suppressions report it (see [`crate::rules::suppress`]).
    Suppression,
    /// `pflint probe` reports it from a running server (see [`crate::probe::judge`]).
    Probe,
    /// A named check written in Rust ([`builtin`]), for what a condition cannot say.
    Builtin(String),
}

impl From<String> for Check {
    fn from(name: String) -> Check {
        match name.as_str() {
            "parser" => Check::Parser,
            "model" => Check::Model,
            "when" => Check::Condition,
            "suppression" => Check::Suppression,
            "probe" => Check::Probe,
            _ => Check::Builtin(name),
        }
    }
}

/// What a rule applies to.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Applies {
    /// The subjects it is checked against: one kind or a list.
    #[serde(default, deserialize_with = "one_or_many")]
    pub to: Vec<SubjectKind>,
    /// The target Postfix versions it concerns (`>= 3.6`).
    pub postfix: Option<String>,
}

/// The edits that fix what a rule finds, written in the rule file.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FixSpec {
    /// Parameters to set, with their new values.
    #[serde(default)]
    pub set: BTreeMap<String, String>,
    /// Parameters to set only where the configuration leaves them at Postfix's default
    /// (a floor that goes with the change, never over what the admin wrote).
    #[serde(default)]
    pub default: BTreeMap<String, String>,
    /// Parameters to remove.
    #[serde(default)]
    pub remove: Vec<String>,
    /// Where this holds, the fix is not offered: it would leave the configuration broken
    /// in another way (TLS turned on without a certificate).
    pub unless: Option<Condition>,
    /// Whether the edits can be applied without review.
    pub safety: Safety,
    /// Where the edits go.
    #[serde(default)]
    pub on: FixTarget,
}

/// Where a fix's edits go.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum FixTarget {
    /// Where the parameter that causes the finding is written: its `-o`, else main.cf.
    #[default]
    Written,
    /// As `-o` options of the service the finding concerns: the setting must not change
    /// the other services (wrappermode for port 465, mandatory TLS for 587).
    Service,
}

/// One rule, as written in its YAML file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Stable code, e.g. `PF001`. Never reused.
    pub code: Code,
    /// Stable kebab-case name that reads after "allow", e.g. `missing-equals`.
    pub name: String,
    /// Default severity.
    pub severity: Severity,
    /// One sentence: what is wrong.
    pub summary: String,
    /// Why it matters, with its sources. (Like `sources` and `examples`, absent from
    /// the catalog `check` loads; see [`full_catalog`].)
    #[serde(default)]
    pub why: String,
    /// How to fix it.
    pub help: String,
    /// Where the facts come from (RFCs, postconf(5), Postfix source files, seeds).
    #[serde(default)]
    pub sources: Vec<String>,
    /// How the rule finds problems: `parser`, `model`, a built-in check's name, or (the
    /// default) its `when` condition.
    #[serde(default = "condition_check")]
    pub check: Check,
    /// What it applies to.
    #[serde(default)]
    pub applies: Applies,
    /// The condition, for `check: when`.
    pub when: Option<Condition>,
    /// The finding's message; `{param}` and `{value}` stand for the parameter that causes
    /// it and its effective value. Default: the summary.
    pub message: Option<String>,
    /// The label at the finding's place (same placeholders).
    pub label: Option<String>,
    /// The edits that fix it.
    pub fix: Option<FixSpec>,
    /// Configurations that must and must not trigger the rule; run as tests.
    #[serde(default)]
    pub examples: Examples,
}

/// A rule's test cases.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Examples {
    /// Each must produce at least one finding of this rule.
    pub bad: Vec<Example>,
    /// Each must produce no finding of this rule.
    pub good: Vec<Example>,
}

/// A scripted SMTP server on loopback that a probe rule's example is run against.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExampleServer {
    /// The replies, in order: the greeting, then one per command the probe sends
    /// (`\n` between the lines of a multi-line reply). After a 220 to STARTTLS the
    /// server starts TLS with `serves`, then answers EHLO and QUIT itself.
    pub replies: Vec<String>,
    /// The chain files (paths among the example's `files`, each a key then its
    /// certificates) the server's TLS picks from by the client's signature schemes.
    #[serde(default)]
    pub serves: Vec<String>,
}

/// A configuration for an example: main.cf text, or main.cf and master.cf texts.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum Example {
    /// Just a main.cf.
    MainCf(String),
    /// Files by name.
    Files(ExampleFiles),
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<SubjectKind>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(SubjectKind),
        Many(Vec<SubjectKind>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(kind) => vec![kind],
        OneOrMany::Many(kinds) => kinds,
    })
}

fn condition_check() -> Check {
    Check::Condition
}

/// The files of an example.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ExampleFiles {
    /// main.cf text.
    #[serde(rename = "main.cf", default)]
    pub main_cf: Option<String>,
    /// master.cf text.
    #[serde(rename = "master.cf", default)]
    pub master_cf: Option<String>,
    /// The Postfix version to judge the example against (default: the newest stable).
    pub postfix_version: Option<String>,
    /// Where a bad example's finding must be, as `main.cf:LINE` or `master.cf:LINE`, when
    /// the place matters (the later of two settings, the `-o` rather than main.cf).
    pub at: Option<String>,
    /// Certificate, key and CA files the example's settings name, by absolute path, each
    /// as a recipe the tests build it from at test time (`key rsa; cert rsa by int`; see
    /// tests/common/material.rs). With it the example is checked with `--files`, every
    /// path read under a temporary root.
    pub files: Option<std::collections::BTreeMap<String, String>>,
    /// For a rule of `pflint probe`: the server the example runs against.
    pub server: Option<ExampleServer>,
    /// Published TLSA records (`tlsa` of `.pflint.yaml`); `{spki-sha256 PATH}` stands for
    /// the SHA-256 of the public key of the first certificate in the file made for PATH,
    /// which the tests compute with openssl.
    pub tlsa: Option<Vec<String>>,
}

impl Example {
    /// The example's files, whichever way it was written.
    pub fn files(&self) -> ExampleFiles {
        match self {
            Example::MainCf(text) => ExampleFiles {
                main_cf: Some(text.clone()),
                ..ExampleFiles::default()
            },
            Example::Files(files) => files.clone(),
        }
    }
}

/// A rule file that could not be loaded.
#[derive(Debug)]
pub struct CatalogError {
    /// The file, relative to the repository.
    pub path: String,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// All rules, by code.
#[derive(Debug, Default)]
pub struct Catalog {
    rules: BTreeMap<Code, Rule>,
}

impl Catalog {
    /// Loads rule files given as (path, YAML contents). Each file must parse, its file
    /// name must start with its code and end with its name, and codes and names must be
    /// unique.
    pub fn load(files: &[(&str, &str)]) -> Result<Catalog, Vec<CatalogError>> {
        Catalog::load_with(files, |text| {
            let mut rule: Rule = serde_yaml::from_str(text).map_err(|e| e.to_string())?;
            if rule.why.trim().is_empty() || rule.sources.is_empty() {
                return Err("a rule needs `why:` and `sources:`".to_owned());
            }
            for text in [&mut rule.summary, &mut rule.why, &mut rule.help] {
                *text = reflow::unwrap_paragraphs(text);
            }
            Ok(rule)
        })
    }

    fn load_with(
        files: &[(&str, &str)],
        parse: impl Fn(&str) -> Result<Rule, String>,
    ) -> Result<Catalog, Vec<CatalogError>> {
        let mut catalog = Catalog::default();
        let mut errors = Vec::new();
        let mut names = BTreeMap::new();
        for (path, text) in files {
            let error = |message: String| CatalogError {
                path: (*path).to_owned(),
                message,
            };
            let rule: Rule = match parse(text) {
                Ok(rule) => rule,
                Err(e) => {
                    errors.push(error(e));
                    continue;
                }
            };
            if let Err(message) = validate(&rule) {
                errors.push(error(message));
            }
            let expected_stem = format!("{}-{}.yaml", rule.code, rule.name);
            if !path.ends_with(&format!("/{expected_stem}")) {
                errors.push(error(format!("file name should be {expected_stem}")));
            }
            if let Some(other) = names.insert(rule.name.clone(), rule.code) {
                errors.push(error(format!("name {} is also used by {other}", rule.name)));
            }
            if let Some(other) = catalog.rules.insert(rule.code, rule) {
                errors.push(error(format!("code {} is used twice", other.code)));
            }
        }
        if errors.is_empty() {
            Ok(catalog)
        } else {
            Err(errors)
        }
    }

    /// The rule with this code.
    pub fn get(&self, code: Code) -> Option<&Rule> {
        self.rules.get(&code)
    }

    /// All rules, ordered by code.
    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.rules.values()
    }
}

/// Checks what serde cannot: the check and the condition fit together, a built-in check
/// exists, versions parse.
fn validate(rule: &Rule) -> Result<(), String> {
    match (&rule.check, &rule.when) {
        (Check::Condition, None) => return Err("a rule needs `when:` or `check:`".to_owned()),
        (Check::Condition, Some(condition)) => condition.validate()?,
        (_, Some(_)) => return Err("`when:` goes with `check: when` only".to_owned()),
        (Check::Builtin(name), None) if builtin::lookup(name).is_none() => {
            return Err(format!("no built-in check is named `{name}`"));
        }
        _ => {}
    }
    if let Some(range) = &rule.applies.postfix {
        condition::VersionTest::parse(range)?;
    }
    if let Some(unless) = rule.fix.as_ref().and_then(|f| f.unless.as_ref()) {
        unless.validate().map_err(|e| format!("fix.unless: {e}"))?;
    }
    let engine = matches!(rule.check, Check::Condition | Check::Builtin(_));
    if !engine && (rule.applies != Applies::default() || rule.fix.is_some()) {
        return Err("`applies` and `fix` belong to condition and built-in rules".to_owned());
    }
    Ok(())
}

/// What a rule looks at, in words: the subjects of an engine rule, or the stage that
/// reports it.
pub fn applies_to(rule: &Rule) -> Vec<String> {
    match rule.check {
        Check::Parser => vec!["main.cf and master.cf syntax".to_owned()],
        Check::Model => vec!["the effective configuration".to_owned()],
        Check::Suppression => vec!["pflint suppression comments".to_owned()],
        Check::Probe => vec!["the running server (pflint probe)".to_owned()],
        Check::Condition | Check::Builtin(_) if rule.applies.to.is_empty() => {
            vec![SubjectKind::Main.describe().to_owned()]
        }
        Check::Condition | Check::Builtin(_) => rule
            .applies
            .to
            .iter()
            .map(|kind| kind.describe().to_owned())
            .collect(),
    }
}

/// The catalog as a Markdown table (README.md holds a copy, kept equal by a test).
pub fn markdown_table() -> String {
    let mut text =
        String::from("| Code | Name | Severity | Applies to | Summary |\n|---|---|---|---|---|\n");
    for rule in catalog().rules() {
        text.push_str(&format!(
            "| {} | `{}` | {} | {} | {} |\n",
            rule.code,
            rule.name,
            rule.severity.as_str(),
            applies_to(rule).join(", "),
            rule.summary.replace('|', "\\|")
        ));
    }
    text
}

/// An empty catalog, said loudly: the embedded rule files did not load. The test suite
/// loads every one of them, so this is a defect of the build, never of the user's input.
fn not_loaded(errors: &[CatalogError]) -> Catalog {
    for error in errors {
        eprintln!("pflint: internal error: the built-in rule {error}");
    }
    Catalog::default()
}

/// The rule files built into this binary, as (path, YAML contents).
pub fn embedded_files() -> Vec<(&'static str, &'static str)> {
    embedded::RULE_FILES
        .iter()
        .map(|(path, yaml, _)| (*path, *yaml))
        .collect()
}

/// The built-in catalog with every rule's reasons, sources and examples, read from the
/// YAML files (slower than [`catalog`]; for `pflint explain` and the tests).
pub fn full_catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| Catalog::load(&embedded_files()).unwrap_or_else(|e| not_loaded(&e)))
}

/// The built-in catalog without reasons, sources and examples, read from the JSON form of the rule files that the build made
/// (the same data; reading YAML would cost each run milliseconds). The test suite loads
/// every embedded YAML file, so a broken rule file cannot reach a release; should one
/// anyway, its rules are missing rather than fatal.
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let files: Vec<(&str, &str)> = embedded::RULE_FILES
            .iter()
            .map(|(path, _, json)| (*path, *json))
            .collect();
        Catalog::load_with(&files, |text| {
            serde_json::from_str(text).map_err(|e| e.to_string())
        })
        .unwrap_or_else(|errors| not_loaded(&errors))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_rule_file_loads() {
        if let Err(errors) = Catalog::load(&embedded_files()) {
            let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
            panic!("rule files do not load:\n{}", lines.join("\n"));
        }
    }

    #[test]
    fn the_json_form_is_the_same_catalog_without_examples_and_reasons() {
        let rules = |c: &Catalog| {
            c.rules()
                .map(|r| {
                    let mut r = r.clone();
                    r.examples = Examples::default();
                    r.why = String::new();
                    r.sources = Vec::new();
                    format!("{r:?}")
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(rules(full_catalog()), rules(catalog()));
        assert!(catalog().rules().all(|r| r.examples.bad.is_empty()));
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let file = "code: PF001\nname: x\nseverity: error\nsumary: typo\n";
        let errors = Catalog::load(&[("rules/x/PF001-x.yaml", file)]).unwrap_err();
        assert!(errors[0].message.contains("sumary"), "{}", errors[0]);
    }

    #[test]
    fn a_code_no_rule_file_declares_is_rejected() {
        let file = "code: PF999\nname: x\nseverity: error\nsummary: s\n";
        let errors = Catalog::load(&[("rules/x/PF999-x.yaml", file)]).unwrap_err();
        assert!(
            errors[0].message.contains("no rule has the code `PF999`"),
            "{}",
            errors[0]
        );
        assert_eq!(Code::parse("PF999"), None);
        assert_eq!(Code::parse("PF601"), Some(Code::PF601));
        assert_eq!(Code::named("unknown-parameter"), Some(Code::PF601));
    }
}
