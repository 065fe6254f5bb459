//! The architecture, kept: the top-level modules of `src/` import each other without a
//! circle, each `$` expression is parsed only by the syntax layer, and the layers that
//! must not do I/O or know the pipeline do not name it.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .expect("src is readable")
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without its tests and comments.
fn code(path: &Path) -> String {
    let text = fs::read_to_string(path).expect("source is UTF-8");
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level module a file belongs to (`src/model/config.rs` → `model`).
fn module(src: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(src).expect("under src");
    let first = relative.components().next().expect("a component");
    first
        .as_os_str()
        .to_string_lossy()
        .trim_end_matches(".rs")
        .to_owned()
}

/// Which top-level modules each one names with `crate::`.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let from = module(&src, &file);
        if from == "lib" || from == "main" {
            continue;
        }
        let text = code(&file);
        let entry = graph.entry(from.clone()).or_default();
        for (at, _) in text.match_indices("crate::") {
            let name: String = text[at + 7..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            if !name.is_empty() && name != from {
                entry.insert(name);
            }
        }
    }
    graph
}

/// A circle of imports, if there is one.
fn circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut found = path[at..].to_vec();
            found.push(node.to_owned());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_top_level_modules_import_each_other_without_a_circle() {
    let graph = imports();
    assert!(graph.len() > 10, "modules found: {graph:?}");
    if let Some(found) = circle(&graph) {
        panic!("import circle: {}", found.join(" -> "));
    }
}

#[test]
fn the_layers_keep_to_their_part() {
    let graph = imports();
    let must_not = [
        // The parsers know no parameter, no finding and no pipeline.
        (
            "syntax",
            &["model", "rules", "check", "diagnostic", "edit", "input"][..],
        ),
        // The model reads nothing itself and judges nothing.
        (
            "model",
            &[
                "host", "input", "material", "rules", "check", "report", "edit",
            ][..],
        ),
        // The files the configuration names become facts; judging them is the rules'.
        (
            "material",
            &["rules", "check", "report", "edit", "generate"][..],
        ),
        // Reports format findings; they do not decide or edit.
        ("report", &["check", "rules", "edit", "input"][..]),
        // The generator plans edits; it does not run rules.
        ("generate", &["rules"][..]),
        // A probe talks to a server and judges what it saw; it edits nothing.
        (
            "probe",
            &["rules", "check", "report", "edit", "generate", "input"][..],
        ),
        // DNS records are derived from file facts; they are not findings or edits.
        (
            "dns",
            &["rules", "check", "report", "edit", "generate", "input"][..],
        ),
    ];
    for (module, forbidden) in must_not {
        let names = graph.get(module).cloned().unwrap_or_default();
        for f in forbidden {
            assert!(!names.contains(*f), "{module} imports crate::{f}");
        }
    }
}

#[test]
fn tlsa_records_stand_alone() {
    // Settings, material, rules and `pflint dns` all read TLSA records: the code that
    // knows them must depend on none of them.
    let graph = imports();
    let names = graph.get("tlsa").cloned().unwrap_or_default();
    assert!(names.is_empty(), "tlsa imports {names:?}");
}

#[test]
fn only_the_syntax_layer_parses_expressions() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let outside: Vec<String> = files
        .iter()
        .filter(|f| module(&src, f) != "syntax")
        .filter(|f| {
            fs::read_to_string(f)
                .expect("source is UTF-8")
                .contains("expr::parse")
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(
        outside.is_empty(),
        "expr::parse outside src/syntax: {outside:?}"
    );
}
