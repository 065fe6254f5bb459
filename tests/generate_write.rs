//! `pflint generate -c DIR --write` as a user runs it: the new files keep the old ones'
//! ACLs and extended attributes (or the write is refused), a run killed at any moment
//! leaves, after the next run, both files old or both new and no stray file, files that
//! merely look like pflint's are never removed, symbolic links are written through and
//! hard links are warned about.

mod common;

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const NAMES: [&str; 2] = ["main.cf", "master.cf"];

fn args(dir: &Path, write: bool) -> Vec<String> {
    let mut args: Vec<String> = [
        "generate",
        "-c",
        &dir.display().to_string(),
        "--role",
        "mx,submission,outbound",
        "--postfix-version",
        "3.7",
        "--sasl",
        "dovecot",
    ]
    .map(str::to_owned)
    .to_vec();
    if write {
        args.push("--write".to_owned());
    }
    args
}

fn generate(dir: &Path, write: bool) -> Output {
    common::pflint()
        .args(args(dir, write))
        .output()
        .expect("pflint runs")
}

fn assert_ok(out: &Output) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A copy of the legacy scenario's main.cf and master.cf in `dir`.
fn legacy(dir: &Path) {
    for name in NAMES {
        std::fs::copy(
            common::fixture("scenarios/legacy").join(name),
            dir.join(name),
        )
        .expect("copied");
    }
}

type Pair = (Vec<u8>, Vec<u8>);

fn pair(dir: &Path) -> Pair {
    let read = |name| std::fs::read(dir.join(name)).unwrap_or_default();
    (read("main.cf"), read("master.cf"))
}

/// The legacy scenario's files before and after an uninterrupted write.
fn old_and_new() -> (Pair, Pair) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    legacy(dir.path());
    let old = pair(dir.path());
    assert_ok(&generate(dir.path(), true));
    let new = pair(dir.path());
    assert_ne!(old.0, new.0);
    assert_ne!(old.1, new.1);
    (old, new)
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("readable")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).expect("metadata").mode() & 0o7777
}

/// `getfacl`'s numeric listing of a file's ACL (or of a directory's default ACL).
fn acl(path: &Path) -> String {
    let out = Command::new("getfacl")
        .args(["-n", "--omit-header", "--absolute-names"])
        .arg(path)
        .output()
        .expect("getfacl runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs setfacl; false (with a visible message) when the tool or the filesystem's ACL
/// support is missing.
fn setfacl(args: &[&str], path: &Path) -> bool {
    match Command::new("setfacl").args(args).arg(path).output() {
        Ok(out) if out.status.success() => true,
        Ok(out) => {
            common::visible(&format!(
                "SKIPPED: setfacl fails here (no ACL support on this filesystem?): {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
            false
        }
        Err(_) => {
            common::visible("SKIPPED: setfacl is not installed (package acl)");
            false
        }
    }
}

fn c_path(path: &Path) -> CString {
    CString::new(path.as_os_str().as_bytes()).expect("no NUL in a temporary path")
}

fn set_xattr(path: &Path, name: &str, value: &[u8]) -> std::io::Result<()> {
    let (path, name) = (
        c_path(path),
        CString::new(name).expect("no NUL in the name"),
    );
    // SAFETY: NUL-terminated path and name, and a value valid for its length.
    let rc = unsafe {
        libc::setxattr(
            path.as_ptr(),
            name.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

fn get_xattr(path: &Path, name: &str) -> Option<Vec<u8>> {
    let (path, name) = (
        c_path(path),
        CString::new(name).expect("no NUL in the name"),
    );
    let mut value = vec![0u8; 4096];
    // SAFETY: NUL-terminated path and name, and a buffer valid for its length.
    let got = unsafe {
        libc::getxattr(
            path.as_ptr(),
            name.as_ptr(),
            value.as_mut_ptr().cast(),
            value.len(),
        )
    };
    value.truncate(usize::try_from(got).ok()?);
    Some(value)
}

#[test]
fn acls_and_extended_attributes_are_kept_exactly() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    legacy(dir.path());
    let main = dir.path().join("main.cf");
    let master = dir.path().join("master.cf");
    std::fs::set_permissions(&main, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    // A named user may write main.cf while the owning group only reads it: the mask is
    // rw-, so a copy that only takes the mode bits would give the group write.
    if !setfacl(&["-m", "u:nobody:rw,g::r"], &main) {
        return;
    }
    set_xattr(&main, "user.pflint-test", b"kept").expect("a user attribute");
    setfacl(&["-m", "u:nobody:r"], &master);
    let before = (mode(&main), acl(&main), mode(&master), acl(&master));
    assert!(before.1.contains("user:65534:rw-"), "{}", before.1);

    assert_ok(&generate(dir.path(), true));
    let after = (mode(&main), acl(&main), mode(&master), acl(&master));
    assert_eq!(after, before);
    assert_eq!(
        get_xattr(&main, "user.pflint-test").as_deref(),
        Some(&b"kept"[..])
    );
    assert_eq!(names_in(dir.path()), NAMES);
}

#[test]
fn a_directory_default_acl_is_not_added_to_a_file_without_one() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    legacy(dir.path());
    // New files in the directory inherit this ACL; the temporary file must not keep it.
    if !setfacl(&["-d", "-m", "u:nobody:rwx"], dir.path()) {
        return;
    }
    let main = dir.path().join("main.cf");
    let before = (mode(&main), acl(&main));
    assert!(!before.1.contains("65534"), "{}", before.1);
    assert_ok(&generate(dir.path(), true));
    assert_eq!((mode(&main), acl(&main)), before);
}

#[test]
fn an_attribute_that_cannot_be_copied_refuses_the_write() {
    if !is_root() {
        common::visible("SKIPPED: setting a security.* attribute needs root");
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    legacy(dir.path());
    let before = pair(dir.path());
    let main = dir.path().join("main.cf");
    if let Err(e) = set_xattr(&main, "security.pflint-test", b"label") {
        common::visible(&format!("SKIPPED: no security.* attributes here: {e}"));
        return;
    }
    // nobody owns the files and may write the directory, but may not set security.*
    // attributes: the copy would lack one.
    for path in [dir.path(), &main, &dir.path().join("master.cf")] {
        std::os::unix::fs::chown(path, Some(65534), Some(65534)).expect("chown");
    }
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_pflint"))
        .args(args(dir.path(), true))
        .output()
        .expect("setpriv runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("security.pflint-test") && stderr.contains("no file was changed"),
        "{stderr}"
    );
    assert_eq!(pair(dir.path()), before);
    assert_eq!(names_in(dir.path()), NAMES);
}

/// A small xorshift generator: the test's delays need no quality, only variety.
struct Random(u64);

impl Random {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Where a kill landed, from what it left: a committed journal means during the renames.
fn phase(dir: &Path, new: &Pair) -> &'static str {
    let committed = names_in(dir).iter().any(|name| {
        name.starts_with(".pflint-write-")
            && std::fs::read(dir.join(name)).is_ok_and(|text| text.ends_with(b"commit\n"))
    });
    if committed {
        "during"
    } else if names_in(dir) == NAMES && pair(dir) == *new {
        "after"
    } else {
        "before"
    }
}

#[test]
fn a_killed_write_is_finished_or_undone_by_the_next_run() {
    let (old, new) = old_and_new();
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1)
        | 1;
    let mut random = Random(seed);
    // Kills spread over the whole run: up to twice as long as an uninterrupted write
    // takes here (20-60 ms for a debug build, varying with the load), at most 120 ms.
    let mut times: Vec<Duration> = (0..5)
        .map(|_| {
            let dir = tempfile::tempdir().expect("a temporary directory");
            legacy(dir.path());
            let start = Instant::now();
            assert_ok(&generate(dir.path(), true));
            start.elapsed()
        })
        .collect();
    times.sort();
    let longest = (times[2] * 2).min(Duration::from_millis(120));
    let mut aim = times[2].as_micros() as u64;
    let (runs, budget) = (150, Duration::from_secs(20));
    let started = Instant::now();
    let mut phases = std::collections::BTreeMap::<&str, usize>::new();
    let (mut recoveries, mut done) = (0, 0);
    while done < runs && started.elapsed() < budget {
        let dir = tempfile::tempdir().expect("a temporary directory");
        legacy(dir.path());
        let mut child = common::pflint()
            .args(args(dir.path(), true))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("pflint starts");
        // Every other kill aims at the renames, near the end of the run: the aim moves
        // earlier after a kill that came too late and later after one too early.
        let aimed = done % 2 == 1;
        let delay = if aimed {
            aim * 9 / 10 + random.below(aim / 5 + 1)
        } else {
            random.below(longest.as_micros() as u64 + 1)
        };
        std::thread::sleep(Duration::from_micros(delay));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let landed = phase(dir.path(), &new);
        *phases.entry(landed).or_default() += 1;
        if aimed {
            aim = match landed {
                "after" => aim * 19 / 20,
                "before" => aim * 21 / 20,
                _ => aim,
            };
        }

        let next = generate(dir.path(), false);
        assert_ok(&next);
        let stderr = String::from_utf8_lossy(&next.stderr);
        if stderr.contains("recovery:") {
            recoveries += 1;
        }
        assert_eq!(names_in(dir.path()), NAMES, "seed {seed}: {stderr}");
        let now = pair(dir.path());
        assert!(
            now == old || now == new,
            "seed {seed}: main.cf {} and master.cf {}\n{stderr}",
            if now.0 == new.0 { "new" } else { "not new" },
            if now.1 == new.1 { "new" } else { "not new" },
        );
        done += 1;
    }
    common::visible(&format!(
        "killed writes: {done} runs in {:.1} s (seed {seed}, kills 0-{} ms after the start); kills before the renames {}, during {}, after {}; {recoveries} recoveries; no stray file, no mixed pair",
        started.elapsed().as_secs_f64(),
        longest.as_millis(),
        phases.get("before").unwrap_or(&0),
        phases.get("during").unwrap_or(&0),
        phases.get("after").unwrap_or(&0),
    ));
    assert!(done >= 50, "only {done} runs in {budget:?}");
}

#[test]
fn files_named_like_temporary_files_survive() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    legacy(dir.path());
    // The names an older pflint gave its temporary files (`.main.cf.pflint-<pid>`, the
    // pid being 1 in a container and close to this one's elsewhere) and guesses at this
    // one's.
    let pid = std::process::id();
    let mut others: Vec<String> = [1]
        .into_iter()
        .chain(pid..pid + 200)
        .flat_map(|p| NAMES.map(|name| format!(".{name}.pflint-{p}")))
        .collect();
    others.extend(
        [
            ".main.cf.pflint-0000000000000000-00000000",
            ".master.cf.pflint-ffffffffffffffff-ffffffff",
            ".pflint-write-0000000000000000",
            ".main.cf.tmp",
            "main.cf~",
        ]
        .map(str::to_owned),
    );
    for name in &others {
        std::fs::write(dir.path().join(name), "someone else's\n").expect("writable");
    }
    // An empty one too: only a journal proves an empty file is pflint's.
    std::fs::write(
        dir.path().join(".main.cf.pflint-0123456789abcdef-01234567"),
        "",
    )
    .expect("writable");
    let blocker = dir.path().join(format!(".main.cf.pflint-{}", pid + 200));
    std::fs::create_dir(&blocker).expect("a directory");

    let (_, new) = old_and_new();
    assert_ok(&generate(dir.path(), true));
    let again = generate(dir.path(), false);
    assert_ok(&again);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("no journal shows"), "{stderr}");
    assert_eq!(pair(dir.path()), new);
    for name in &others {
        assert_eq!(
            std::fs::read(dir.path().join(name)).expect("still there"),
            b"someone else's\n",
            "{name}"
        );
    }
    assert!(
        dir.path()
            .join(".main.cf.pflint-0123456789abcdef-01234567")
            .is_file()
    );
    assert!(blocker.is_dir());
    assert_eq!(names_in(dir.path()).len(), others.len() + 4);
}

#[test]
fn a_symbolic_link_is_written_through_to_its_target() {
    let root = tempfile::tempdir().expect("a temporary directory");
    let (conf, store) = (root.path().join("conf"), root.path().join("store"));
    std::fs::create_dir(&conf).expect("a directory");
    std::fs::create_dir(&store).expect("a directory");
    legacy(&conf);
    let real: PathBuf = store.join("main.cf.real");
    std::fs::rename(conf.join("main.cf"), &real).expect("moved");
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    let link = Path::new("../store/main.cf.real");
    std::os::unix::fs::symlink(link, conf.join("main.cf")).expect("linked");

    let (_, new) = old_and_new();
    assert_ok(&generate(&conf, true));
    assert_eq!(
        std::fs::read_link(conf.join("main.cf")).expect("a link"),
        link
    );
    assert_eq!(std::fs::read(&real).expect("readable"), new.0);
    assert_eq!(mode(&real), 0o640);
    assert_eq!(
        std::fs::read(conf.join("master.cf")).expect("readable"),
        new.1
    );
    assert_eq!(names_in(&conf), NAMES);
    assert_eq!(names_in(&store), ["main.cf.real"]);
}

#[test]
fn a_hard_link_keeps_the_old_contents_and_is_warned_about() {
    let root = tempfile::tempdir().expect("a temporary directory");
    let conf = root.path().join("conf");
    std::fs::create_dir(&conf).expect("a directory");
    legacy(&conf);
    let (old, new) = old_and_new();
    let alias = root.path().join("main.cf.backup");
    std::fs::hard_link(conf.join("main.cf"), &alias).expect("linked");

    let out = generate(&conf, true);
    assert_ok(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: ")
            && stderr.contains("main.cf has 2 hard links")
            && stderr.contains("the other links keep the old ones"),
        "{stderr}"
    );
    assert_eq!(pair(&conf), new);
    assert_eq!(std::fs::read(&alias).expect("readable"), old.0);
}

/// Clears the immutable flag again, also when the test fails, so the directory can go.
struct Immutable<'a>(&'a Path);

impl Drop for Immutable<'_> {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(self.0).status();
    }
}

#[test]
fn a_failed_second_rename_says_what_was_replaced_and_a_second_run_finishes() {
    if !is_root() {
        common::visible("SKIPPED: making master.cf immutable needs root");
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    legacy(dir.path());
    let old = pair(dir.path());
    let master = dir.path().join("master.cf");
    // Readable and unchanged, but its name cannot be replaced: the second rename fails.
    match Command::new("chattr").arg("+i").arg(&master).output() {
        Ok(out) if out.status.success() => {}
        _ => {
            common::visible("SKIPPED: chattr +i does not work here");
            return;
        }
    }
    let immutable = Immutable(&master);
    let out = generate(dir.path(), true);
    drop(immutable);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("main.cf was replaced; ")
            && stderr.contains("master.cf was not: cannot rename")
            && stderr.contains("run pflint generate again to finish"),
        "{stderr}"
    );
    assert!(!stderr.contains("no file was changed"), "{stderr}");
    let (_, new) = old_and_new();
    assert_eq!(pair(dir.path()), (new.0.clone(), old.1));
    assert_eq!(names_in(dir.path()), NAMES);
    assert_ok(&generate(dir.path(), true));
    assert_eq!(pair(dir.path()), new);
}
