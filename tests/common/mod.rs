//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test crate uses a different subset

pub mod fake_smtp;
pub mod material;

use std::io::Write;
use std::path::{Path, PathBuf};

pub mod postfix;

/// The repository root.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A file or directory under `tests/fixtures`.
pub fn fixture(path: &str) -> PathBuf {
    root().join("tests/fixtures").join(path)
}

/// Insta settings that store snapshots under `snapshots/<group>/` at the repository root.
pub fn snapshots(group: &str) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root().join("snapshots").join(group));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings
}

/// Prints a line that `cargo test` shows even for passing tests (the harness captures
/// only the print macros, not writes to the stderr handle).
pub fn visible(message: &str) {
    let _ = writeln!(std::io::stderr(), "{message}");
}

fn required(variable: &str) -> bool {
    std::env::var_os(variable).is_some_and(|v| v == "1")
}

/// The corpus of real configurations beside the repository, `../shared/corpus`. When it
/// is absent the calling test is skipped with a visible message, unless
/// `PFLINT_REQUIRE_CORPUS=1` makes that a failure.
pub fn corpus() -> Option<PathBuf> {
    let dir = root().join("../shared/corpus");
    if dir.join("README.md").is_file() {
        return Some(dir);
    }
    assert!(
        !required("PFLINT_REQUIRE_CORPUS"),
        "PFLINT_REQUIRE_CORPUS=1 but the corpus is missing at {}",
        dir.display()
    );
    visible(&format!(
        "SKIPPED: no corpus at {} (PFLINT_REQUIRE_CORPUS=1 makes this a failure)",
        dir.display()
    ));
    None
}

/// One set of the corpus: a directory with main.cf, maybe master.cf, and postconf's
/// output beside them.
pub struct CorpusSet {
    pub name: String,
    pub dir: PathBuf,
}

impl CorpusSet {
    /// The text of an oracle file (`postconf.n.txt`, …), or "" when it does not exist.
    pub fn oracle(&self, file: &str) -> String {
        std::fs::read(self.dir.join(file))
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// Whether the set's name marks it as hand-made rather than real.
    pub fn is_synthetic(&self) -> bool {
        self.name.starts_with("synthetic-")
    }
}

/// Every set of the corpus, sorted by name.
pub fn corpus_sets(corpus: &Path) -> Vec<CorpusSet> {
    let mut sets: Vec<CorpusSet> = std::fs::read_dir(corpus)
        .expect("the corpus directory is readable")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("main.cf").is_file())
        .map(|dir| CorpusSet {
            name: dir.file_name().unwrap().to_string_lossy().into_owned(),
            dir,
        })
        .collect();
    sets.sort_by(|a, b| a.name.cmp(&b.name));
    sets
}

/// Path to the built `pflint` binary.
pub fn pflint() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_pflint"))
}

/// `pflint show` options for postconf flags such as `-nx` or `-Mf`.
pub fn show_options(flags: &str) -> pflint::show::Options {
    pflint::show::Options {
        non_default: flags.contains('n'),
        expand: flags.contains('x'),
        fold: flags.contains('f'),
        master_entries: flags.contains('M'),
        master_params: flags.contains('P'),
        ..pflint::show::Options::default()
    }
}

/// The installed `postconf` and its version. When there is none the calling test is
/// skipped with a visible message, unless `PFLINT_REQUIRE_POSTFIX=1` makes that a failure.
pub fn installed_postconf() -> Option<(PathBuf, pflint::model::Version)> {
    let found = ["/usr/sbin/postconf", "/usr/local/sbin/postconf"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.is_file());
    let version = pflint::host::installed::postfix_version();
    if let (Some(path), Some(version)) = (found, version) {
        return Some((path, version));
    }
    assert!(
        !required("PFLINT_REQUIRE_POSTFIX"),
        "PFLINT_REQUIRE_POSTFIX=1 but no postconf is installed"
    );
    visible("SKIPPED: no postconf installed (PFLINT_REQUIRE_POSTFIX=1 makes this a failure)");
    None
}

/// Moves the modification time of `dir`'s main.cf and master.cf a minute into the past.
/// Postfix re-reads a file whose time is the current second, 300 ms at a time (so that it
/// never reads one in the middle of an edit); files just written would make every
/// postconf run wait.
pub fn age_config(dir: &Path) {
    let past = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
    for name in ["main.cf", "master.cf"] {
        if let Ok(file) = std::fs::File::options().write(true).open(dir.join(name)) {
            let _ = file.set_modified(past);
        }
    }
}

/// What `postconf -c DIR -n` writes to stderr (its warnings on both files), a line each.
pub fn postconf_warnings(postconf: &Path, dir: &Path) -> Vec<String> {
    age_config(dir);
    let out = std::process::Command::new(postconf)
        .args(["-c", &dir.display().to_string(), "-n"])
        .output()
        .expect("postconf runs");
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The `pre-commit` executable: `$PFLINT_PRECOMMIT`, else the first on `$PATH`. When there
/// is none the calling test is skipped with a visible message, unless
/// `PFLINT_REQUIRE_PRECOMMIT=1` makes that a failure.
pub fn pre_commit() -> Option<PathBuf> {
    let given = std::env::var_os("PFLINT_PRECOMMIT").map(PathBuf::from);
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("pre-commit"))
            .find(|p| p.is_file())
    });
    if let Some(found) = given.filter(|p| p.is_file()).or(on_path) {
        return Some(found);
    }
    assert!(
        !required("PFLINT_REQUIRE_PRECOMMIT"),
        "PFLINT_REQUIRE_PRECOMMIT=1 but pre-commit is not installed"
    );
    visible("SKIPPED: no pre-commit installed (PFLINT_REQUIRE_PRECOMMIT=1 makes this a failure)");
    None
}

/// `f` applied to every item on `workers` threads, the results in the items' order (for
/// tests whose time goes to other processes: postconf sleeps a second after an error).
pub fn par_map<T: Sync, R: Send>(
    items: &[T],
    workers: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: std::sync::Mutex<Vec<Option<R>>> =
        std::sync::Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..workers.max(1) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let result = f(item);
                    results.lock().expect("no worker panicked")[i] = Some(result);
                }
            });
        }
    });
    results
        .into_inner()
        .expect("no worker panicked")
        .into_iter()
        .map(|r| r.expect("every item ran"))
        .collect()
}
