//! The rule catalog: one YAML file per rule under the repository's `rules/` folder,
//! embedded in the binary and loaded with serde (unknown keys are errors, so a typo in a
//! rule file fails the test suite instead of being ignored).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::diagnostic::Severity;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/rule_files.rs"));
}

/// How a rule finds its problems.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    /// The parser reports it while reading the file (see [`crate::syntax::ProblemKind`]).
    Parser,
    /// The model reports it while building the effective configuration (see
    /// [`crate::model::config::IssueKind`]).
    Model,
}

/// One rule, as written in its YAML file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Stable code, e.g. `PF001`. Never reused.
    pub code: String,
    /// Stable kebab-case name that reads after "allow", e.g. `missing-equals`.
    pub name: String,
    /// Default severity.
    pub severity: Severity,
    /// One sentence: what is wrong.
    pub summary: String,
    /// Why it matters, with its sources.
    pub why: String,
    /// How to fix it.
    pub help: String,
    /// Where the facts come from (RFCs, postconf(5), Postfix source files, seeds).
    pub sources: Vec<String>,
    /// How the rule finds problems.
    pub check: Check,
    /// Configurations that must and must not trigger the rule; run as tests.
    pub examples: Examples,
}

/// A rule's test cases.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Examples {
    /// Each must produce at least one finding of this rule.
    pub bad: Vec<Example>,
    /// Each must produce no finding of this rule.
    pub good: Vec<Example>,
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

/// The files of an example.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExampleFiles {
    /// main.cf text.
    #[serde(rename = "main.cf", default)]
    pub main_cf: Option<String>,
    /// master.cf text.
    #[serde(rename = "master.cf", default)]
    pub master_cf: Option<String>,
}

impl Example {
    /// The example's files, whichever way it was written.
    pub fn files(&self) -> ExampleFiles {
        match self {
            Example::MainCf(text) => ExampleFiles {
                main_cf: Some(text.clone()),
                master_cf: None,
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
    rules: BTreeMap<String, Rule>,
}

impl Catalog {
    /// Loads rule files given as (path, contents). Each file must parse, its file name must
    /// start with its code and end with its name, and codes and names must be unique.
    pub fn load(files: &[(&str, &str)]) -> Result<Catalog, Vec<CatalogError>> {
        let mut catalog = Catalog::default();
        let mut errors = Vec::new();
        let mut names = BTreeMap::new();
        for (path, text) in files {
            let error = |message: String| CatalogError {
                path: (*path).to_owned(),
                message,
            };
            let mut rule: Rule = match serde_yaml::from_str(text) {
                Ok(rule) => rule,
                Err(e) => {
                    errors.push(error(e.to_string()));
                    continue;
                }
            };
            for text in [&mut rule.summary, &mut rule.why, &mut rule.help] {
                *text = unwrap_paragraphs(text);
            }
            let expected_stem = format!("{}-{}.yaml", rule.code, rule.name);
            if !path.ends_with(&format!("/{expected_stem}")) {
                errors.push(error(format!("file name should be {expected_stem}")));
            }
            if let Some(other) = names.insert(rule.name.clone(), rule.code.clone()) {
                errors.push(error(format!("name {} is also used by {other}", rule.name)));
            }
            if let Some(other) = catalog.rules.insert(rule.code.clone(), rule) {
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
    pub fn get(&self, code: &str) -> Option<&Rule> {
        self.rules.get(code)
    }

    /// All rules, ordered by code.
    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.rules.values()
    }
}

/// Joins the lines of each paragraph with spaces, so that text wrapped for the YAML file
/// reflows in any output; blank lines still separate paragraphs.
fn unwrap_paragraphs(text: &str) -> String {
    text.split("\n\n")
        .map(|paragraph| paragraph.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|paragraph| !paragraph.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The rule files built into this binary, as (path, contents).
pub fn embedded_files() -> &'static [(&'static str, &'static str)] {
    embedded::RULE_FILES
}

/// The built-in catalog. The test suite loads every embedded file, so a broken rule file
/// cannot reach a release; should one anyway, its rules are missing rather than fatal.
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| Catalog::load(embedded_files()).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_rule_file_loads() {
        if let Err(errors) = Catalog::load(embedded_files()) {
            let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
            panic!("rule files do not load:\n{}", lines.join("\n"));
        }
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let file = "code: PF999\nname: x\nseverity: error\nsumary: typo\n";
        let errors = Catalog::load(&[("rules/x/PF999-x.yaml", file)]).unwrap_err();
        assert!(errors[0].message.contains("sumary"), "{}", errors[0]);
    }
}
