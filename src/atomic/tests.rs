use super::*;

use std::os::unix::fs::PermissionsExt;

const OLD_MAIN: &[u8] = b"old main\n";
const OLD_MASTER: &[u8] = b"old master\n";
const NEW_MAIN: &[u8] = b"new main\n";
const NEW_MASTER: &[u8] = b"new master\n";

/// A directory with main.cf and master.cf holding the old contents.
fn config() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let main = dir.path().join("main.cf");
    let master = dir.path().join("master.cf");
    fs::write(&main, OLD_MAIN).expect("writable");
    fs::write(&master, OLD_MASTER).expect("writable");
    (dir, main, master)
}

fn both<'a>(main: &'a Path, master: &'a Path) -> [Change<'a>; 2] {
    [
        Change {
            path: main,
            old: Some(OLD_MAIN),
            new: NEW_MAIN,
        },
        Change {
            path: master,
            old: Some(OLD_MASTER),
            new: NEW_MASTER,
        },
    ]
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("readable")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn contents(main: &Path, master: &Path) -> (Vec<u8>, Vec<u8>) {
    (
        fs::read(main).expect("readable"),
        fs::read(master).expect("readable"),
    )
}

/// What a SIGKILL does to a prepared write: its files are closed (the lock released),
/// nothing is cleaned up.
fn abandon(mut prepared: Prepared) {
    for target in &mut prepared.targets {
        target.temporary = None;
    }
    prepared.journal = None;
}

fn recover_config(dir: &Path) -> Vec<String> {
    recover(dir, &[&dir.join("main.cf"), &dir.join("master.cf")])
}

#[test]
fn keeps_the_mode_and_replaces_the_contents() {
    let (dir, main, master) = config();
    fs::set_permissions(&main, fs::Permissions::from_mode(0o640)).expect("chmod");
    prepare(dir.path(), &both(&main, &master))
        .and_then(Prepared::commit)
        .expect("written");
    assert_eq!(
        contents(&main, &master),
        (NEW_MAIN.into(), NEW_MASTER.into())
    );
    assert_eq!(
        fs::metadata(&main).expect("metadata").mode() & 0o7777,
        0o640
    );
    assert_eq!(names_in(dir.path()), ["main.cf", "master.cf"]);
}

#[test]
fn an_absent_file_is_created_and_one_that_appeared_is_not_overwritten() {
    let (dir, main, _) = config();
    let new = dir.path().join("new.cf");
    let change = [Change {
        path: &new,
        old: None,
        new: NEW_MASTER,
    }];
    let prepared = prepare(dir.path(), &change).expect("prepared");
    fs::write(&new, "someone else's\n").expect("writable");
    let e = prepared.commit().expect_err("refused");
    assert!(
        e.committed().is_empty() && e.reason().contains("exists now"),
        "{e}"
    );
    assert_eq!(fs::read(&new).expect("readable"), b"someone else's\n");
    fs::remove_file(&new).expect("removable");
    prepare(dir.path(), &change)
        .and_then(Prepared::commit)
        .expect("written");
    assert_eq!(fs::read(&new).expect("readable"), NEW_MASTER);
    assert_eq!(fs::metadata(&new).expect("metadata").mode() & 0o777, 0o644);
    assert!(fs::read(&main).is_ok());
}

#[test]
fn a_file_changed_before_the_write_is_refused() {
    let (dir, main, master) = config();
    fs::write(&main, "edited meanwhile\n").expect("writable");
    let Err(e) = prepare(dir.path(), &both(&main, &master)) else {
        panic!("prepared a write over a changed file");
    };
    assert!(
        e.reason().contains("main.cf changed since pflint read it"),
        "{e}"
    );
    assert!(e.to_string().contains("no file was changed"), "{e}");
    assert_eq!(fs::read(&main).expect("readable"), b"edited meanwhile\n");
    assert_eq!(names_in(dir.path()), ["main.cf", "master.cf"]);
}

/// Each way of changing master.cf between prepare and commit: nothing is renamed, the
/// change is kept, no temporary file or journal is left.
#[test]
fn a_file_changed_between_prepare_and_commit_is_not_overwritten() {
    type Meddle = fn(&Path);
    let meddles: [(&str, Meddle); 4] = [
        ("appended", |p| {
            let mut f = File::options().append(true).open(p).expect("open");
            f.write_all(b"more\n").expect("written");
        }),
        ("rewritten alike", |p| {
            // Same length, other contents, same second.
            fs::write(p, b"OLD MASTER\n").expect("written");
        }),
        ("touched", |p| {
            let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
            File::options()
                .write(true)
                .open(p)
                .and_then(|f| f.set_modified(later))
                .expect("touched");
        }),
        ("replaced by a copy", |p| {
            let copy = p.with_extension("copy");
            fs::write(&copy, OLD_MASTER).expect("written");
            fs::rename(&copy, p).expect("renamed");
        }),
    ];
    for (how, meddle) in meddles {
        let (dir, main, master) = config();
        let prepared = prepare(dir.path(), &both(&main, &master)).expect("prepared");
        meddle(&master);
        let after = fs::read(&master).expect("readable");
        let e = prepared.commit().expect_err(how);
        assert!(e.committed().is_empty(), "{how}: {e}");
        assert!(
            e.reason()
                .contains("master.cf changed since pflint read it"),
            "{how}: {e}"
        );
        assert_eq!(fs::read(&main).expect("readable"), OLD_MAIN, "{how}");
        assert_eq!(fs::read(&master).expect("readable"), after, "{how}");
        assert_eq!(names_in(dir.path()), ["main.cf", "master.cf"], "{how}");
    }
}

#[test]
fn a_failed_second_rename_reports_what_was_replaced() {
    let (dir, main, master) = config();
    let prepared = prepare(dir.path(), &both(&main, &master)).expect("prepared");
    // The second rename fails: its temporary file is gone.
    let master_temporary = prepared.targets[1]
        .temporary
        .as_ref()
        .map(|(p, _)| p.clone())
        .expect("a temporary file");
    fs::remove_file(&master_temporary).expect("removable");
    let e = prepared.commit().expect_err("the second rename fails");
    assert_eq!(e.committed(), std::slice::from_ref(&main));
    assert_eq!(e.pending(), std::slice::from_ref(&master));
    let text = e.to_string();
    assert!(
        text.contains("main.cf was replaced; ")
            && text.contains("master.cf was not: cannot rename"),
        "{text}"
    );
    assert!(!text.contains("no file was changed"), "{text}");
    assert_eq!(
        contents(&main, &master),
        (NEW_MAIN.into(), OLD_MASTER.into())
    );
    assert_eq!(names_in(dir.path()), ["main.cf", "master.cf"]);
}

#[test]
fn a_taken_temporary_name_is_never_removed() {
    let (dir, main, master) = config();
    // Names an older pflint used, and ones that look like this one's.
    let others = [
        format!(".main.cf.pflint-{}", std::process::id()),
        ".main.cf.pflint-1".to_owned(),
        ".main.cf.pflint-0000000000000000-00000000".to_owned(),
        ".pflint-write-0000000000000000".to_owned(),
    ];
    for name in &others {
        fs::write(dir.path().join(name), "not pflint's\n").expect("writable");
    }
    prepare(dir.path(), &both(&main, &master))
        .and_then(Prepared::commit)
        .expect("written");
    let report = recover_config(dir.path());
    for name in &others {
        assert_eq!(
            fs::read(dir.path().join(name)).expect("still there"),
            b"not pflint's\n"
        );
    }
    assert!(
        report.iter().any(|l| l.contains("is not one"))
            && report.iter().any(|l| l.contains("no journal shows")),
        "{report:?}"
    );
}

#[test]
fn a_write_stopped_before_its_commit_is_undone() {
    let (dir, main, master) = config();
    abandon(prepare(dir.path(), &both(&main, &master)).expect("prepared"));
    assert_eq!(names_in(dir.path()).len(), 5, "{:?}", names_in(dir.path()));
    let report = recover_config(dir.path());
    assert_eq!(report.len(), 2, "{report:?}");
    assert!(
        report.iter().all(|l| l.contains("before its renames")),
        "{report:?}"
    );
    assert_eq!(
        contents(&main, &master),
        (OLD_MAIN.into(), OLD_MASTER.into())
    );
    assert_eq!(names_in(dir.path()), ["main.cf", "master.cf"]);
    assert!(recover_config(dir.path()).is_empty());
}

#[test]
fn a_write_stopped_between_its_renames_is_finished() {
    let (dir, main, master) = config();
    let mut prepared = prepare(dir.path(), &both(&main, &master)).expect("prepared");
    prepared.mark_committed().expect("committed");
    prepared.rename(0).expect("renamed");
    abandon(prepared);
    assert_eq!(
        contents(&main, &master),
        (NEW_MAIN.into(), OLD_MASTER.into())
    );
    let report = recover_config(dir.path());
    assert_eq!(report.len(), 1, "{report:?}");
    assert!(
        report[0].contains("master.cf now has its new contents"),
        "{report:?}"
    );
    assert_eq!(
        contents(&main, &master),
        (NEW_MAIN.into(), NEW_MASTER.into())
    );
    assert_eq!(names_in(dir.path()), ["main.cf", "master.cf"]);
}

#[test]
fn a_committed_write_does_not_overwrite_a_later_change() {
    let (dir, main, master) = config();
    let mut prepared = prepare(dir.path(), &both(&main, &master)).expect("prepared");
    prepared.mark_committed().expect("committed");
    abandon(prepared);
    fs::write(&master, "edited after the interruption\n").expect("writable");
    let report = recover_config(dir.path());
    assert!(
        report.iter().any(|l| l.contains("master.cf changed since")),
        "{report:?}"
    );
    assert_eq!(fs::read(&main).expect("readable"), NEW_MAIN);
    assert_eq!(
        fs::read(&master).expect("readable"),
        b"edited after the interruption\n"
    );
    // The journal is gone; the temporary file is left for the user to compare.
    let names = names_in(dir.path());
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(names[0].starts_with(".master.cf.pflint-"), "{names:?}");
}

#[test]
fn a_write_stopped_while_writing_its_journal_leaves_nothing() {
    let (dir, _, _) = config();
    let id = 0x1234_5678_9abc_def0;
    fs::write(dir.path().join(journal::journal_name(id)), "pflint-wri").expect("writable");
    let empty = journal::temporary_name("main.cf".as_ref(), id, 7);
    fs::write(dir.path().join(&empty), "").expect("writable");
    let full = journal::temporary_name("master.cf".as_ref(), id, 8);
    fs::write(dir.path().join(&full), "not empty\n").expect("writable");
    let report = recover_config(dir.path());
    assert!(
        report
            .iter()
            .any(|l| l.contains("before it changed anything")),
        "{report:?}"
    );
    assert!(
        report.iter().any(|l| l.contains("but not empty")),
        "{report:?}"
    );
    let names = names_in(dir.path());
    assert_eq!(
        names,
        [full.to_string_lossy().as_ref(), "main.cf", "master.cf"]
    );
}

#[test]
fn a_live_write_is_left_alone() {
    let (dir, main, master) = config();
    let prepared = prepare(dir.path(), &both(&main, &master)).expect("prepared");
    let report = recover_config(dir.path());
    assert!(
        report.iter().any(|l| l.contains("another pflint")),
        "{report:?}"
    );
    prepared.commit().expect("written");
    assert_eq!(
        contents(&main, &master),
        (NEW_MAIN.into(), NEW_MASTER.into())
    );
}

#[test]
fn extended_attributes_are_copied() {
    let (dir, main, master) = config();
    let name = c"user.pflint-test";
    if let Err(e) = File::open(&main).and_then(|f| sys::xattr_set(&f, name, b"kept")) {
        eprintln!("SKIPPED: no user extended attributes here: {e}");
        return;
    }
    prepare(dir.path(), &both(&main, &master))
        .and_then(Prepared::commit)
        .expect("written");
    let file = File::open(&main).expect("readable");
    assert_eq!(
        sys::xattr_get(&file, name).expect("read"),
        Some(b"kept".to_vec())
    );
}

#[test]
fn a_symbolic_link_is_written_through() {
    let (dir, main, master) = config();
    let elsewhere = tempfile::tempdir().expect("a temporary directory");
    let real = elsewhere.path().join("real.cf");
    fs::rename(&main, &real).expect("moved");
    std::os::unix::fs::symlink(&real, &main).expect("linked");
    prepare(dir.path(), &both(&main, &master))
        .and_then(Prepared::commit)
        .expect("written");
    assert_eq!(fs::read_link(&main).expect("a link"), real);
    assert_eq!(fs::read(&real).expect("readable"), NEW_MAIN);
    assert_eq!(names_in(elsewhere.path()), ["real.cf"]);
}
