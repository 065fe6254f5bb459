//! SARIF 2.1.0, for code-scanning services: one run whose driver lists every rule, and a
//! result per finding with its physical location and, for a safe fix pflint can express
//! as text, the replacement.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::{Value, json};

use crate::diagnostic::{Checked, Code, Finding, Message, Safety, Severity};
use crate::source::{SourceFile, Span};
use crate::syntax::FileKind;

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn descriptor(code: Code) -> Value {
    json!({
        "id": code,
        "name": code.name(),
        "shortDescription": { "text": code.summary() },
        "fullDescription": { "text": code.why() },
        "help": { "text": code.help() },
        "defaultConfiguration": { "level": level(code.severity()) },
        "properties": { "sources": code.sources() },
    })
}

/// A result's parts as SARIF names them, each struct's fields in the order serde_json
/// writes a map's keys (sorted), which is what the `json!` values of the driver get.
#[derive(Serialize)]
struct Region {
    #[serde(rename = "endColumn")]
    end_column: u32,
    #[serde(rename = "endLine")]
    end_line: u32,
    #[serde(rename = "startColumn")]
    start_column: u32,
    #[serde(rename = "startLine")]
    start_line: u32,
}

fn region(file: &SourceFile, span: Span) -> Region {
    let start = file.position(span.start);
    let end = file.position(span.end);
    Region {
        end_column: end.column,
        end_line: end.line,
        start_column: start.column,
        start_line: start.line,
    }
}

#[derive(Serialize)]
struct Text<T> {
    text: T,
}

#[derive(Serialize)]
struct ArtifactLocation<'a> {
    uri: &'a str,
}

#[derive(Serialize)]
struct SarifResult<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    fixes: Option<[SarifFix<'a>; 1]>,
    level: &'static str,
    locations: [Location<'a>; 1],
    message: Text<Message<'a>>,
    #[serde(rename = "ruleId")]
    rule_id: Code,
    #[serde(rename = "ruleIndex", skip_serializing_if = "Option::is_none")]
    rule_index: Option<usize>,
}

#[derive(Serialize)]
struct Location<'a> {
    #[serde(rename = "physicalLocation")]
    physical_location: PhysicalLocation<'a>,
}

#[derive(Serialize)]
struct PhysicalLocation<'a> {
    #[serde(rename = "artifactLocation")]
    artifact_location: ArtifactLocation<'a>,
    region: Region,
}

#[derive(Serialize)]
struct SarifFix<'a> {
    #[serde(rename = "artifactChanges")]
    artifact_changes: Vec<ArtifactChange<'a>>,
    description: Description,
}

#[derive(Serialize)]
struct Description {
    text: String,
}

#[derive(Serialize)]
struct ArtifactChange<'a> {
    #[serde(rename = "artifactLocation")]
    artifact_location: ArtifactLocation<'a>,
    replacements: Vec<SarifReplacement<'a>>,
}

#[derive(Serialize)]
struct SarifReplacement<'a> {
    #[serde(rename = "deletedRegion")]
    deleted_region: Region,
    #[serde(rename = "insertedContent")]
    inserted_content: Text<&'a str>,
}

/// The SARIF `fixes` of a finding: only safe fixes, only when every edit was planned
/// (the edit path plans them, [`crate::edit::fix::plan_changes`]).
fn fixes<'a>(
    finding: &'a Finding,
    files: &'a [Checked],
    names: &'a [String],
) -> Option<[SarifFix<'a>; 1]> {
    let fix = finding.fix.as_ref().filter(|f| f.safety == Safety::Safe)?;
    let changes = fix.changes.as_ref().filter(|c| !c.is_empty())?;
    let file = |kind: FileKind| files.iter().position(|c| c.kind == kind);
    let artifact_changes = changes
        .iter()
        .map(|change| {
            let at = file(change.file)?;
            let source = &files[at].file;
            Some(ArtifactChange {
                artifact_location: ArtifactLocation { uri: &names[at] },
                replacements: change
                    .replacements
                    .iter()
                    .map(|r| SarifReplacement {
                        deleted_region: region(source, r.span),
                        inserted_content: Text { text: &r.text },
                    })
                    .collect(),
            })
        })
        .collect::<Option<_>>()?;
    Some([SarifFix {
        artifact_changes,
        description: Description {
            text: fix.to_string(),
        },
    }])
}

fn uri(file: &SourceFile) -> String {
    file.name().display().to_string()
}

/// The results, made one at a time while they are written: a report of many findings
/// never holds more than one result in memory.
struct Results<'a> {
    files: &'a [Checked],
    /// Each file's URI.
    names: Vec<String>,
}

impl Serialize for Results<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq as _;
        let (files, names) = (self.files, &self.names[..]);
        let mut seq = serializer.serialize_seq(None)?;
        for (checked, uri) in files.iter().zip(names) {
            for finding in &checked.findings {
                seq.serialize_element(&SarifResult {
                    fixes: fixes(finding, files, names),
                    level: level(finding.severity),
                    locations: [Location {
                        physical_location: PhysicalLocation {
                            artifact_location: ArtifactLocation { uri },
                            region: region(&checked.file, finding.span),
                        },
                    }],
                    message: Text {
                        text: finding.message(),
                    },
                    rule_id: finding.code,
                    rule_index: Code::ALL.iter().position(|c| *c == finding.code),
                })?;
            }
        }
        seq.end()
    }
}

/// The document, its keys in the order serde_json writes a map's (sorted).
#[derive(Serialize)]
struct Document<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    runs: [Run<'a>; 1],
    version: &'static str,
}

#[derive(Serialize)]
struct Run<'a> {
    #[serde(rename = "columnKind")]
    column_kind: &'static str,
    results: Results<'a>,
    tool: Value,
}

pub(super) fn write(files: &[Checked], out: &mut dyn Write) -> io::Result<()> {
    let tool = json!({
        "driver": {
            "name": "pflint",
            "version": env!("CARGO_PKG_VERSION"),
            "informationUri": "https://www.postfix.org/postconf.5.html",
            "rules": Code::ALL.iter().map(|c| descriptor(*c)).collect::<Vec<_>>(),
        }
    });
    let document = Document {
        schema: "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
        runs: [Run {
            column_kind: "unicodeCodePoints",
            results: Results {
                files,
                names: files.iter().map(|c| uri(&c.file)).collect(),
            },
            tool,
        }],
        version: "2.1.0",
    };
    serde_json::to_writer_pretty(&mut *out, &document).map_err(super::io_error)?;
    writeln!(out)
}
