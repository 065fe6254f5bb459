//! The check pipeline: command-line paths → files → trees → findings.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::diagnostic::Finding;
use crate::model::params;
use crate::source::{SourceFile, Span};
use crate::syntax::{self, FileKind, Tree, expr};

/// A file to check and the grammar to read it with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    /// The path, as derived from the argument the user gave.
    pub path: PathBuf,
    /// main.cf or master.cf grammar.
    pub kind: FileKind,
}

/// A path that cannot be checked, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    /// The path as the user gave it (or as derived from it).
    pub path: PathBuf,
    /// Why it cannot be read, in plain words.
    pub reason: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot check {}: {}", self.path.display(), self.reason)
    }
}

/// Turns one command-line path into the files to check: a directory gives its `main.cf`
/// and, when there is one, its `master.cf`; a file is read with the grammar its name
/// implies (`master.cf`, or main.cf for any other name).
pub fn inputs(path: &Path) -> Result<Vec<Input>, InputError> {
    let error = |path: &Path, reason: String| InputError {
        path: path.to_owned(),
        reason,
    };
    let metadata = std::fs::metadata(path).map_err(|e| error(path, io_reason(&e)))?;
    if !metadata.is_dir() {
        return Ok(vec![Input {
            path: path.to_owned(),
            kind: FileKind::for_path(path),
        }]);
    }
    let main = path.join("main.cf");
    if !main.exists() {
        return Err(error(
            path,
            "the directory has no main.cf (give a Postfix configuration directory or a file)"
                .to_owned(),
        ));
    }
    let mut files = vec![Input {
        path: main,
        kind: FileKind::Main,
    }];
    let master = path.join("master.cf");
    if master.exists() {
        files.push(Input {
            path: master,
            kind: FileKind::Master,
        });
    }
    Ok(files)
}

/// Reads an input's bytes.
pub fn read(input: &Input) -> Result<SourceFile, InputError> {
    let error = |reason: String| InputError {
        path: input.path.clone(),
        reason,
    };
    let bytes = std::fs::read(&input.path).map_err(|e| error(io_reason(&e)))?;
    SourceFile::new(input.path.clone(), bytes).map_err(|e| error(e.to_string()))
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => e.to_string(),
    }
}

/// A checked file: its source, its tree and what was found in it.
#[derive(Debug)]
pub struct Checked {
    /// The file.
    pub file: SourceFile,
    /// The grammar it was read with.
    pub kind: FileKind,
    /// Its lossless tree.
    pub tree: Tree,
    /// Findings, ordered by position.
    pub findings: Vec<Finding>,
}

/// Parses a file and collects its findings.
pub fn check(file: SourceFile, kind: FileKind) -> Checked {
    let (tree, problems) = syntax::parse(kind, file.bytes());
    let mut findings: Vec<Finding> = problems.into_iter().map(Finding::from_problem).collect();
    findings.extend(expression_findings(&tree, file.bytes()));
    findings.sort_by_key(|f| (f.span.start, f.span.end, f.code));
    Checked {
        file,
        kind,
        tree,
        findings,
    }
}

/// Malformed `$` expressions in the values Postfix expands: every main.cf value and every
/// master.cf `-o` value, except raw parameters (postconf scans exactly these).
fn expression_findings(tree: &Tree, src: &[u8]) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut check = |name: &[u8], value: Cow<'_, [u8]>, to_file: &dyn Fn(Range<u32>) -> Span| {
        if params::is_raw(name) {
            return;
        }
        if let (_, Some(error)) = expr::parse(&value) {
            findings.push(Finding::new(
                syntax::ProblemKind::BadExpression.code(),
                to_file(error.span),
                format!(
                    "malformed `$` expression in the value of `{}`",
                    String::from_utf8_lossy(name)
                ),
                error.message,
            ));
        }
    };
    match tree {
        Tree::Main(main) => {
            for p in main.entries() {
                let base = p.value_range().start;
                check(p.name(src), p.value(src), &|r| {
                    p.source_span(base + r.start..base + r.end)
                });
            }
        }
        Tree::Master(master) => {
            for s in master.entries() {
                for o in s.overrides(src) {
                    let (Some(name), Some(value)) = (&o.name, &o.value) else {
                        continue;
                    };
                    let base = value.start;
                    check(
                        &s.text(src, name.clone()),
                        s.text(src, value.clone()),
                        &|r| s.source_span(base + r.start..base + r.end),
                    );
                }
            }
        }
    }
    findings
}
