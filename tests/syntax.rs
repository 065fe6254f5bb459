//! Snapshots of the lossless tree for tricky inputs, and of rendered diagnostics for
//! malformed ones. Fixtures live in `tests/fixtures/{syntax,invalid}/<case>/`.

mod common;

use std::path::{Path, PathBuf};

use pflint::check;
use pflint::report::{self, Format, Style};
use pflint::source::SourceFile;
use pflint::syntax::{self, FileKind, dump};

fn cases(group: &str) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(common::fixture(group))
        .expect("fixture directory exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty(), "no fixtures in {group}");
    dirs
}

fn files(dir: &Path) -> Vec<(PathBuf, FileKind)> {
    ["main.cf", "master.cf"]
        .into_iter()
        .map(|name| dir.join(name))
        .filter(|p| p.is_file())
        .map(|p| {
            let kind = FileKind::for_path(&p);
            (p, kind)
        })
        .collect()
}

fn case_name(dir: &Path) -> String {
    dir.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn trees_of_tricky_files() {
    for dir in cases("syntax") {
        for (path, kind) in files(&dir) {
            let bytes = std::fs::read(&path).unwrap();
            let (tree, problems) = syntax::parse(kind, &bytes);
            assert_eq!(tree.print(&bytes), bytes, "{} round trip", path.display());
            let file = SourceFile::new(path.file_name().unwrap(), bytes).unwrap();
            let mut text = dump::tree(&tree, &file);
            for problem in problems {
                text.push_str(&format!(
                    "problem {:?} at {}: {}\n",
                    problem.kind,
                    file.position(problem.span.start),
                    problem.message
                ));
            }
            let name = format!(
                "{}-{}",
                case_name(&dir),
                path.file_name().unwrap().to_string_lossy()
            );
            common::snapshots("syntax").bind(|| insta::assert_snapshot!(name, text));
        }
    }
}

#[test]
fn diagnostics_for_malformed_files() {
    for dir in cases("invalid") {
        let mut main = None;
        let mut master = None;
        for (path, kind) in files(&dir) {
            let bytes = std::fs::read(&path).unwrap();
            // A short display name keeps the snapshots independent of the checkout path.
            let name = Path::new(&case_name(&dir)).join(path.file_name().unwrap());
            let file = Some(SourceFile::new(name, bytes).unwrap());
            match kind {
                FileKind::Main => main = file,
                FileKind::Master => master = file,
            }
        }
        // The syntax rules only (PF0xx): the fixtures are malformed files, not configurations
        // whose TLS setup means anything; tests/scenarios.rs covers the other rules.
        let options = check::Options {
            policy: pflint::rules::policy::Policy {
                select: vec!["PF0".to_owned()],
                ..Default::default()
            },
            ..check::Options::default()
        };
        let checked = check::check_files(main, master, &options);
        assert!(
            checked.iter().any(|c| !c.findings.is_empty()),
            "{} should have findings",
            dir.display()
        );
        let mut out = Vec::new();
        report::write(Format::Human, Style::Plain, &checked, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        common::snapshots("diagnostics").bind(|| insta::assert_snapshot!(case_name(&dir), text));
    }
}
