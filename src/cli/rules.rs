//! `pflint explain` and `pflint rules`: the catalog, for people.

use std::io::{self, Write};
use std::process::ExitCode;

use crate::rules::{self, Example, Rule};

/// How `pflint rules` prints the catalog.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TableFormat {
    /// Aligned columns for a terminal.
    Table,
    /// A Markdown table (the one in README.md).
    Markdown,
    /// A JSON array of rules.
    Json,
}

pub(super) fn list(format: TableFormat) -> ExitCode {
    let mut out = io::stdout().lock();
    let text = match format {
        TableFormat::Table => table(),
        TableFormat::Markdown => rules::markdown_table(),
        TableFormat::Json => json(),
    };
    finish(out.write_all(text.as_bytes()))
}

pub(super) fn explain(wanted: &str) -> ExitCode {
    let catalog = rules::full_catalog();
    let found = catalog
        .rules()
        .find(|r| r.code.as_str().eq_ignore_ascii_case(wanted) || r.name == wanted);
    let Some(rule) = found else {
        eprintln!("pflint: no rule is called `{wanted}` (`pflint rules` lists them)");
        return ExitCode::from(2);
    };
    let mut out = io::stdout().lock();
    finish(out.write_all(explanation(rule).as_bytes()))
}

fn finish(written: io::Result<()>) -> ExitCode {
    match written {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            eprintln!("pflint: cannot write: {e}");
            ExitCode::from(2)
        }
        _ => ExitCode::SUCCESS,
    }
}

fn table() -> String {
    let rules: Vec<&Rule> = rules::catalog().rules().collect();
    let name_width = rules.iter().map(|r| r.name.len()).max().unwrap_or(0);
    let mut text = format!(
        "{:<6} {:<8} {:<name_width$} SUMMARY\n",
        "CODE", "SEVERITY", "NAME"
    );
    for rule in rules {
        text.push_str(&format!(
            "{:<6} {:<8} {:<name_width$} {}\n",
            rule.code,
            rule.severity.as_str(),
            rule.name,
            rule.summary
        ));
    }
    text
}

fn json() -> String {
    #[derive(serde::Serialize)]
    struct Row<'a> {
        code: &'a str,
        name: &'a str,
        severity: &'a str,
        summary: &'a str,
        applies_to: Vec<String>,
    }
    let rows: Vec<Row<'_>> = rules::catalog()
        .rules()
        .map(|r| Row {
            code: r.code.as_str(),
            name: &r.name,
            severity: r.severity.as_str(),
            summary: &r.summary,
            applies_to: rules::applies_to(r),
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&rows).unwrap_or_default();
    text.push('\n');
    text
}

/// The text of `pflint explain`.
fn explanation(rule: &Rule) -> String {
    let mut text = format!(
        "{} {} ({})\n\n{}\n\nApplies to: {}",
        rule.code,
        rule.name,
        rule.severity.as_str(),
        rule.summary,
        rules::applies_to(rule).join(", ")
    );
    if let Some(range) = &rule.applies.postfix {
        text.push_str(&format!(" (Postfix {range})"));
    }
    text.push_str(&format!(
        "\n\nWhy:\n{}\n\nFix:\n{}\n",
        indent(&rule.why),
        indent(&rule.help)
    ));
    if let Some(fix) = &rule.fix {
        let mut edits: Vec<String> = fix
            .set
            .iter()
            .map(|(name, value)| format!("  set {name} = {value}"))
            .collect();
        edits.extend(fix.remove.iter().map(|name| format!("  remove {name}")));
        let safety = match fix.safety {
            crate::diagnostic::Safety::Safe => "safe: mail keeps flowing as before",
            crate::diagnostic::Safety::Unsafe => "unsafe: review before applying",
        };
        text.push_str(&format!("\nEdits ({safety}):\n{}\n", edits.join("\n")));
    }
    text.push_str(&format!("\nSources:\n{}\n", list_lines(&rule.sources)));
    for (title, examples) in [
        ("Reported", &rule.examples.bad),
        ("Not reported", &rule.examples.good),
    ] {
        text.push_str(&format!("\n{title}:\n"));
        for example in examples {
            text.push_str(&example_text(example));
        }
    }
    text
}

/// Indents each paragraph by two spaces, wrapped to fit 80 columns.
fn indent(paragraphs: &str) -> String {
    paragraphs
        .split("\n\n")
        .map(|paragraph| {
            let mut lines = vec![String::from(" ")];
            for word in paragraph.split_whitespace() {
                let line = lines.last_mut().map_or(0, |l| l.len());
                if line + 1 + word.len() > 80 && line > 1 {
                    lines.push(String::from(" "));
                }
                if let Some(last) = lines.last_mut() {
                    last.push(' ');
                    last.push_str(word);
                }
            }
            lines.join("\n")
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn list_lines(items: &[String]) -> String {
    items
        .iter()
        .map(|s| format!("  - {s}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn example_text(example: &Example) -> String {
    let files = example.files();
    let mut text = String::new();
    let version = files
        .postfix_version
        .as_deref()
        .map(|v| format!(" (Postfix {v})"))
        .unwrap_or_default();
    for (name, content) in [("main.cf", &files.main_cf), ("master.cf", &files.master_cf)] {
        if let Some(content) = content {
            text.push_str(&format!("  # {name}{version}\n"));
            for line in content.lines() {
                text.push_str(&format!("  {line}\n"));
            }
        }
    }
    if let Some(server) = &files.server {
        text.push_str("  # the server says\n");
        for reply in &server.replies {
            for line in reply.split('\n') {
                text.push_str(&format!("  S: {}\n", line.trim_end_matches('\r')));
            }
        }
        if !server.serves.is_empty() {
            text.push_str(&format!(
                "  # and after STARTTLS serves {}\n",
                server.serves.join(", ")
            ));
        }
    }
    text.push('\n');
    text
}
