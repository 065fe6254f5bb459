//! Which rules report, and how seriously: `--select`, `--ignore` and the `disable` and
//! `severity` keys of `.pflint.yaml`.

use std::collections::BTreeMap;

use crate::diagnostic::{Code, Finding, Severity};

/// Rule selection and severity overrides, applied to findings after inline suppressions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    /// Only rules matching one of these report (all, when empty).
    pub select: Vec<String>,
    /// Rules matching one of these never report; wins over `select`.
    pub ignore: Vec<String>,
    /// Severity by rule (code or name), replacing the rule's default.
    pub severity: BTreeMap<String, Severity>,
}

/// Whether `pattern` names the rule with `code`: a code prefix (`PF2` for every inbound
/// rule, `PF201` for one) or the rule's exact name.
fn matches(pattern: &str, code: Code) -> bool {
    code.as_str().starts_with(&pattern.to_ascii_uppercase()) || code.name() == pattern
}

impl Policy {
    /// Checks that every pattern names at least one rule, so that a typo is an error
    /// rather than a silently ignored setting.
    pub fn validate(&self) -> Result<(), String> {
        let patterns = self
            .select
            .iter()
            .chain(&self.ignore)
            .chain(self.severity.keys());
        for pattern in patterns {
            if pattern.is_empty() || !Code::ALL.iter().any(|&c| matches(pattern, c)) {
                return Err(format!(
                    "`{pattern}` names no rule (see `pflint rules` for codes and names)"
                ));
            }
        }
        Ok(())
    }

    /// Whether findings of the rule with `code` are reported.
    pub fn reports(&self, code: Code) -> bool {
        let selected = self.select.is_empty() || self.select.iter().any(|p| matches(p, code));
        selected && !self.ignore.iter().any(|p| matches(p, code))
    }

    /// Drops findings of rules that do not report and applies severity overrides.
    pub fn apply(&self, findings: &mut Vec<Finding>) {
        findings.retain(|f| self.reports(f.code));
        if self.severity.is_empty() {
            return;
        }
        for finding in findings {
            // The most specific pattern wins: an exact code over a family prefix.
            let chosen = self
                .severity
                .iter()
                .filter(|(pattern, _)| matches(pattern, finding.code))
                .max_by_key(|(pattern, _)| pattern.len());
            if let Some((_, severity)) = chosen {
                finding.severity = *severity;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_and_names_select_rules() {
        let policy = Policy {
            select: vec!["PF2".to_owned()],
            ignore: vec!["sasl-on-port-25".to_owned()],
            ..Policy::default()
        };
        assert!(policy.validate().is_ok());
        assert!(policy.reports(Code::PF201));
        assert!(!policy.reports(Code::PF205));
        assert!(!policy.reports(Code::PF101));
        // Every family PF0 to PF9 has rules (PF9 since the probe's), so a typo is a
        // longer prefix.
        let family = Policy {
            ignore: vec!["PF9".to_owned()],
            ..Policy::default()
        };
        assert!(family.validate().is_ok());
        let typo = Policy {
            ignore: vec!["PF99".to_owned()],
            ..Policy::default()
        };
        assert!(typo.validate().is_err());
    }
}
