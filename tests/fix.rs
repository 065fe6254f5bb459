//! `check --fix`: every rule's fix removes its finding from the rule's bad examples and
//! adds none; over the corpus the fixes settle, the result parses, postconf has no new
//! warning and `show -n` changes only where a fix said; the command line writes, shows a
//! diff and refuses as a user would see it.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use pflint::check;
use pflint::diagnostic::Code;
use pflint::edit::fix::{self, Allowed, Files};
use pflint::model::Version;
use pflint::model::version::Target;
use pflint::rules::{self, Example};
use pflint::source::SourceFile;

fn options(version: Option<Version>, select: &[String]) -> check::Options {
    let mut options = check::Options::default();
    options.policy.select = select.to_vec();
    if let Some(version) = version {
        options.target = Target::given(version);
    }
    options
}

fn example_files(example: &Example) -> (Files, Option<Version>) {
    let files = example.files();
    let version = files
        .postfix_version
        .as_ref()
        .map(|v| v.parse().expect("an example's version parses"));
    let file = |name: &str, text: Option<String>| text.map(|t| (PathBuf::from(name), t.into()));
    (
        Files {
            main: file("main.cf", files.main_cf),
            master: file("master.cf", files.master_cf),
        },
        version,
    )
}

/// The codes every rule finds in `files`, with repeats.
fn codes(files: &Files, options: &check::Options) -> Vec<Code> {
    let source = |f: &Option<(PathBuf, Vec<u8>)>| {
        f.as_ref()
            .map(|(p, b)| SourceFile::new(p.clone(), b.clone()).expect("small"))
    };
    check::check_files(source(&files.main), source(&files.master), options)
        .iter()
        .flat_map(|c| c.findings.iter().map(|f| f.code))
        .collect()
}

/// The findings of `files`, as check reports them.
fn findings(files: &Files, options: &check::Options) -> Vec<pflint::diagnostic::Finding> {
    let source = |f: &Option<(PathBuf, Vec<u8>)>| {
        f.as_ref()
            .map(|(p, b)| SourceFile::new(p.clone(), b.clone()).expect("small"))
    };
    check::check_files(source(&files.main), source(&files.master), options)
        .into_iter()
        .flat_map(|c| c.findings)
        .collect()
}

/// Whether every file a fix edits is there (a fix of a master.cf option needs master.cf).
fn can_apply(fix: &pflint::diagnostic::Fix, files: &Files) -> bool {
    fix.edits.iter().all(|e| match e.service {
        Some(_) => files.master.is_some(),
        None => files.main.is_some(),
    })
}

/// Each rule's fix, applied to each of the rule's bad examples and followed by what
/// `--fix --unsafe-fixes` fixes after it: the rule's finding goes, and nothing is found that was not found before. A fix the
/// rule does not offer (it would break something else) or that needs a file the example
/// does not have is counted, and each rule must be fixed in at least one example.
#[test]
fn each_rules_fix_removes_its_finding_from_its_bad_examples_and_adds_none() {
    let mut failures = Vec::new();
    let (mut rules_with_fixes, mut fixed_examples, mut not_offered) = (0, 0, 0);
    for rule in rules::full_catalog().rules() {
        if rule.fix.is_none() {
            continue;
        }
        rules_with_fixes += 1;
        let mut fixed_here = 0;
        for (i, example) in rule.examples.bad.iter().enumerate() {
            let (files, version) = example_files(example);
            let all = options(version, &[]);
            let before = findings(&files, &all);
            let offered = before
                .iter()
                .filter(|f| f.code == rule.code)
                .any(|f| f.fix.as_ref().is_some_and(|fix| can_apply(fix, &files)));
            if !offered {
                not_offered += 1;
                continue;
            }
            // The rule's own fix first, then whatever the others fix after it.
            let only = options(version, &[rule.code.as_str().to_owned()]);
            let own = fix::fix(files, &only, Allowed::Unsafe).expect("the fix runs");
            let fixed = fix::fix(own.files.clone(), &all, Allowed::Unsafe).expect("the fix runs");
            let after = codes(&fixed.files, &all);
            let mut left: Vec<Code> = before.iter().map(|f| f.code).collect();
            let added: Vec<Code> = after
                .iter()
                .filter(|c| match left.iter().position(|b| b == *c) {
                    Some(at) => {
                        left.remove(at);
                        false
                    }
                    None => true,
                })
                .copied()
                .collect();
            if !own.applied.iter().any(|(_, f)| f.code == rule.code) {
                failures.push(format!(
                    "{} bad example {i}: its fix was not applied",
                    rule.code
                ));
            } else if after.contains(&rule.code) {
                failures.push(format!("{} bad example {i}: still found", rule.code));
            } else if !added.is_empty() {
                failures.push(format!(
                    "{} bad example {i}: the fixes add {added:?}",
                    rule.code
                ));
            } else {
                fixed_here += 1;
            }
        }
        if fixed_here == 0 {
            failures.push(format!("{}: no bad example is fixed", rule.code));
        }
        fixed_examples += fixed_here;
    }
    common::visible(&format!(
        "fix convergence: {rules_with_fixes} rules with a fix, {fixed_examples} bad examples fixed, {not_offered} where the fix is not offered, {} failing",
        failures.len()
    ));
    assert!(rules_with_fixes >= 20, "{rules_with_fixes}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `pflint show -n` of a directory, as its lines.
fn show_n(dir: &Path) -> BTreeSet<String> {
    let out = common::pflint()
        .args(["show", "--postfix-version", "3.7", "-c"])
        .arg(dir)
        .arg("-n")
        .output()
        .expect("pflint runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

fn postconf_warnings(postconf: &Path, dir: &Path) -> BTreeSet<String> {
    common::postconf_warnings(postconf, dir)
        .into_iter()
        .map(|l| l.replace(&dir.display().to_string(), "DIR"))
        .collect()
}

fn write(dir: &Path, files: &Files) {
    for (name, file) in [("main.cf", &files.main), ("master.cf", &files.master)] {
        let path = dir.join(name);
        match file {
            Some((_, bytes)) => std::fs::write(&path, bytes).expect("writable"),
            None => {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
}

#[test]
fn every_fix_over_the_corpus_settles_and_changes_only_what_it_says() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let postconf = common::installed_postconf().map(|(path, _)| path);
    let version = Version::new(3, 7);
    let before_dir = tempfile::tempdir().expect("a temporary directory");
    let after_dir = tempfile::tempdir().expect("a temporary directory");
    let (mut sets, mut changed, mut applied) = (0, 0, 0);
    let mut failures = Vec::new();
    for set in common::corpus_sets(&corpus) {
        let read = |name: &str| {
            let path = set.dir.join(name);
            std::fs::read(&path).ok().map(|b| (path, b))
        };
        let files = Files {
            main: read("main.cf"),
            master: read("master.cf"),
        };
        if files.main.is_none() {
            continue;
        }
        sets += 1;
        let options = options(Some(version), &[]);
        let fixed = fix::fix(files.clone(), &options, Allowed::Unsafe).expect("the fix runs");
        if !fixed.settled {
            failures.push(format!("{}: the fixes did not settle", set.name));
            continue;
        }
        if fixed.applied.is_empty() {
            continue;
        }
        changed += 1;
        applied += fixed.applied.len();
        // The result parses as well as the input did.
        let problems = |f: &Files| {
            let (main, master) = (f.main.as_ref(), f.master.as_ref());
            main.map_or(0, |(_, b)| pflint::syntax::main_cf::parse(b).problems.len())
                + master.map_or(0, |(_, b)| {
                    pflint::syntax::master_cf::parse(b).problems.len()
                })
        };
        if problems(&fixed.files) > problems(&files) {
            failures.push(format!("{}: the result has new syntax problems", set.name));
        }
        write(before_dir.path(), &files);
        write(after_dir.path(), &fixed.files);
        // show -n changes only in the parameters the applied fixes edit in main.cf.
        let edited: BTreeSet<&str> = fixed
            .applied
            .iter()
            .filter_map(|(_, f)| f.fix.as_ref())
            .flat_map(|fix| &fix.edits)
            .filter(|e| e.service.is_none())
            .map(|e| e.parameter.as_ref())
            .collect();
        let (old, new) = (show_n(before_dir.path()), show_n(after_dir.path()));
        for line in old
            .symmetric_difference(&new)
            .filter(|l| !l.starts_with("config_directory = "))
        {
            let name = line.split(" = ").next().unwrap_or_default().trim();
            if !edited.contains(name) {
                failures.push(format!(
                    "{}: show -n changed `{line}`, which no fix edits",
                    set.name
                ));
            }
        }
        if let Some(postconf) = &postconf {
            let old = postconf_warnings(postconf, before_dir.path());
            let new = postconf_warnings(postconf, after_dir.path());
            for warning in new.difference(&old) {
                failures.push(format!("{}: postconf now warns: {warning}", set.name));
            }
        }
        // Fixed once, nothing is left to fix: the result is a fixed point.
        let again = fix::fix(fixed.files.clone(), &options, Allowed::Unsafe).expect("runs");
        if !again.applied.is_empty() {
            failures.push(format!("{}: a second run fixes more", set.name));
        }
    }
    common::visible(&format!(
        "fix over the corpus: {sets} sets, {changed} changed by {applied} fixes, {} failing",
        failures.len()
    ));
    assert!(changed >= 10, "only {changed} sets changed");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A copy of a fixture configuration in a temporary directory.
fn scenario(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for file in ["main.cf", "master.cf"] {
        let from = common::fixture(&format!("scenarios/{name}/{file}"));
        if from.is_file() {
            std::fs::copy(&from, dir.path().join(file)).expect("copied");
        }
    }
    dir
}

fn check(dir: &Path, flags: &[&str]) -> std::process::Output {
    common::pflint()
        .args(["check", "--format", "short", "--postfix-version", "3.11"])
        .args(flags)
        .arg(dir)
        .output()
        .expect("pflint runs")
}

#[test]
fn fix_writes_the_safe_fixes_keeps_the_mode_and_reports_what_remains() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scenario("too-much-tls");
    let main = dir.path().join("main.cf");
    std::fs::set_permissions(&main, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    let original = std::fs::read_to_string(&main).expect("readable");
    // A typo no fix can correct stays to be reported.
    std::fs::write(&main, format!("{original}smtpd_tls_auth_onyl = yes\n")).expect("writable");
    let original = std::fs::read_to_string(&main).expect("readable");
    // The safe fixes first: none applies while the levels are mandatory.
    let out = check(dir.path(), &["--fix"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(&main).expect("readable"), original);
    // With the unsafe ones, the levels become opportunistic and the ciphers Postfix's.
    let out = check(dir.path(), &["--fix", "--unsafe-fixes"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stderr.contains("fixed 4 problems (PF101 mandatory-tls-to-public-mx, PF201"),
        "{stderr}"
    );
    let fixed = std::fs::read_to_string(&main).expect("readable");
    assert!(
        fixed.contains("\nsmtpd_tls_security_level = may\n"),
        "{fixed}"
    );
    assert!(fixed.contains("\n#smtp_tls_ciphers = high\n"), "{fixed}");
    assert!(fixed.contains("\n#smtp_enforce_tls = no\n"), "{fixed}");
    let mode = std::fs::metadata(&main).expect("stat").permissions().mode() & 0o7777;
    assert_eq!(mode, 0o640);
    // What remains is reported, and decides the exit status.
    assert!(
        !stdout.contains("PF201") && stdout.contains("PF601"),
        "{stdout}"
    );
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    // A second run has nothing to fix.
    let again = check(dir.path(), &["--fix", "--unsafe-fixes"]);
    assert!(
        !String::from_utf8_lossy(&again.stderr).contains("fixed"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(std::fs::read_to_string(&main).expect("readable"), fixed);
}

#[test]
fn diff_shows_the_fixes_and_writes_nothing() {
    let dir = scenario("too-much-tls");
    let main = dir.path().join("main.cf");
    let original = std::fs::read(&main).expect("readable");
    let out = common::pflint()
        .current_dir(dir.path())
        .args([
            "check",
            "--postfix-version",
            "3.11",
            "--diff",
            "--unsafe-fixes",
            ".",
        ])
        .output()
        .expect("pflint runs");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read(&main).expect("readable"), original);
    let diff = String::from_utf8_lossy(&out.stdout).into_owned();
    common::snapshots("fix").bind(|| insta::assert_snapshot!("too-much-tls-diff", diff));
    // The diff applies with patch -p1 and gives what --fix writes.
    let patched = scenario("too-much-tls");
    let status = Command::new("patch")
        .args(["-s", "-p1"])
        .current_dir(patched.path())
        .stdin(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .expect("a pipe")
                .write_all(diff.as_bytes())?;
            child.wait()
        });
    if let Ok(status) = status {
        assert!(status.success());
        let written = check(dir.path(), &["--fix", "--unsafe-fixes"]);
        assert!(written.status.code().is_some());
        assert_eq!(
            std::fs::read(patched.path().join("main.cf")).expect("readable"),
            std::fs::read(&main).expect("readable")
        );
    }
}

#[test]
fn nothing_to_fix_gives_an_empty_diff_and_status_zero() {
    let dir = scenario("too-much-tls");
    let out = check(dir.path(), &["--diff"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
}

#[test]
fn unsafe_fixes_alone_is_a_usage_error() {
    let dir = scenario("too-much-tls");
    let out = check(dir.path(), &["--unsafe-fixes"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--fix or --diff"));
}

#[test]
fn master_cf_options_are_fixed_in_place() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(
        dir.path().join("main.cf"),
        "smtpd_tls_security_level = may\nsmtpd_tls_chain_files = /etc/ssl/private/mx.pem\n",
    )
    .expect("writable");
    let master = "smtp inet n - y - - smtpd\n  -o smtpd_tls_security_level=encrypt\n  -o smtpd_tls_dcert_file=/etc/ssl/dsa.pem\nsmtp unix - - y - - smtp\n";
    std::fs::write(dir.path().join("master.cf"), master).expect("writable");
    let out = check(
        dir.path(),
        &["--fix", "--unsafe-fixes", "--select", "PF201,PF210"],
    );
    let written = std::fs::read_to_string(dir.path().join("master.cf")).expect("readable");
    assert_eq!(
        written,
        "# pflint --fix (PF210 dsa-certificate): removed -o smtpd_tls_dcert_file\nsmtp inet n - y - - smtpd\n  -o smtpd_tls_security_level=may\nsmtp unix - - y - - smtp\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
