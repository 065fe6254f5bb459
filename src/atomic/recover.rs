//! Finishing or undoing a write an earlier run did not complete, from its journal.
//!
//! A journal is only acted on when no live run holds its lock. What it proves: a journal
//! cut short was being written before any temporary file had contents, so the write's
//! temporary files (named with its id) are empty and go; a complete journal lists this
//! write's own temporary files: without `commit` they go, with it each replaces its
//! target, provided the temporary file has the new contents the journal recorded and the
//! target still has the old. Nothing else is removed or replaced: a file named like a
//! temporary file that no journal accounts for is left and reported.

use std::fs::{self, OpenOptions, TryLockError};
use std::io::Read;
use std::path::{Path, PathBuf};

use super::journal::{self, Digest, Entry, State};
use super::sys;

/// Looks in `dir` for the journals of interrupted writes of `targets` (the files a write
/// there may replace) and finishes or undoes each; returns one line per thing done or
/// left alone, for the user. Nothing found, nothing said.
pub fn recover(dir: &Path, targets: &[&Path]) -> Vec<String> {
    let targets: Vec<PathBuf> = targets
        .iter()
        .filter_map(|t| sys::resolve(t).ok())
        .collect();
    let journals = match journals_in(dir) {
        Ok(found) => found,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => {
            return vec![format!(
                "cannot look for an interrupted write in {}: {e}",
                dir.display()
            )];
        }
    };
    let mut recovery = Recovery {
        dir: dir.to_owned(),
        targets,
        report: Vec::new(),
        accounted: Vec::new(),
        busy: false,
    };
    for (path, id) in journals {
        recovery.journal(&path, id);
    }
    if !recovery.busy {
        recovery.strays();
    }
    recovery.report
}

fn journals_in(dir: &Path) -> std::io::Result<Vec<(PathBuf, u64)>> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if let Some(id) = journal::journal_id(&entry.file_name()) {
            found.push((entry.path(), id));
        }
    }
    found.sort();
    Ok(found)
}

struct Recovery {
    dir: PathBuf,
    targets: Vec<PathBuf>,
    report: Vec<String>,
    /// Temporary files a journal listed (reported there, not again as strays).
    accounted: Vec<PathBuf>,
    /// A live run is writing: its temporary files are not strays.
    busy: bool,
}

impl Recovery {
    fn say(&mut self, line: String) {
        self.report.push(format!("recovery: {line}"));
    }

    /// Acts on one journal, and removes it when that is done.
    fn journal(&mut self, path: &Path, id: u64) {
        let shown = path.display().to_string();
        let mut file = match OpenOptions::new().read(true).write(true).open(path) {
            Ok(file) => file,
            Err(e) => {
                return self.say(format!(
                    "found {shown}, the journal of an interrupted write, but cannot open it: {e}"
                ));
            }
        };
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                self.busy = true;
                return self.say(format!(
                    "another pflint is writing now ({shown}); its files are left alone"
                ));
            }
            Err(TryLockError::Error(e)) => return self.say(format!("cannot lock {shown}: {e}")),
        }
        if !sys::is_same_file(path, &file) {
            return; // its writer finished and removed it meanwhile
        }
        let mut text = Vec::new();
        if let Err(e) = file.read_to_end(&mut text) {
            return self.say(format!("cannot read {shown}: {e}"));
        }
        let done = match journal::parse(&text) {
            None => {
                return self.say(format!(
                    "left {shown} alone: it has the name of a pflint journal but is not one"
                ));
            }
            Some(State::Incomplete) => self.undo_unlisted(id),
            Some(State::Prepared(entries)) => self.undo(&entries, id),
            Some(State::Committed(entries)) => self.finish(&entries, id),
        };
        // Kept when something could not be done (say, for want of permission), so that a
        // later run can finish.
        if done {
            match fs::remove_file(path) {
                Ok(()) => {
                    let _ = sys::sync_dir(&self.dir);
                }
                Err(e) => self.say(format!("cannot remove {shown}: {e}")),
            }
        }
    }

    /// The journal was cut short: no temporary file had contents yet.
    fn undo_unlisted(&mut self, id: u64) -> bool {
        let mut done = true;
        let mut removed = Vec::new();
        for (path, target) in self.temporaries(|found| found == id) {
            self.accounted.push(path.clone());
            let empty = fs::symlink_metadata(&path).is_ok_and(|m| m.is_file() && m.len() == 0);
            if !empty {
                self.say(format!(
                    "left {} alone: named like a temporary file of an interrupted write, but not empty",
                    path.display()
                ));
                continue;
            }
            match fs::remove_file(&path) {
                Ok(()) => removed.push(format!("{} (for {})", path.display(), target.display())),
                Err(e) => {
                    done = false;
                    self.say(format!("cannot remove {}: {e}", path.display()));
                }
            }
        }
        self.say(format!(
            "a write was interrupted before it changed anything: removing its unfinished journal{}",
            removed
                .iter()
                .map(|r| format!(" and {r}"))
                .collect::<String>()
        ));
        done
    }

    /// The write had not begun its renames: its temporary files go, the targets are as
    /// they were.
    fn undo(&mut self, entries: &[Entry], id: u64) -> bool {
        let mut done = true;
        for entry in entries {
            if !self.is_valid(entry, id) {
                continue;
            }
            let (temporary, target) = (entry.temporary.display(), entry.target.display());
            match fs::remove_file(&entry.temporary) {
                Ok(()) => self.say(format!(
                    "a write was interrupted before its renames: removed {temporary}; {target} is unchanged"
                )),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    done = false;
                    self.say(format!("cannot remove {temporary}: {e}"));
                }
            }
        }
        done
    }

    /// The write was committed: the renames it did not get to are done now, where the
    /// target still has the old contents and the temporary file the new.
    fn finish(&mut self, entries: &[Entry], id: u64) -> bool {
        let mut done = true;
        for entry in entries {
            if self.is_valid(entry, id) {
                done &= self.finish_one(entry);
            }
        }
        done
    }

    fn finish_one(&mut self, entry: &Entry) -> bool {
        let (temporary, target) = (entry.temporary.display(), entry.target.display());
        let target_now = digest(&entry.target);
        if !entry.temporary.is_file() {
            if target_now != Some(entry.new) {
                self.say(format!(
                    "an interrupted write left {target} without its new contents and its temporary file is gone; {target} is left as it is"
                ));
            }
            return true; // renamed before the interruption
        }
        if digest(&entry.temporary) != Some(entry.new) {
            self.say(format!(
                "left {temporary} alone: it does not have the contents the journal of an interrupted write recorded"
            ));
            return true;
        }
        if target_now != entry.old {
            self.say(format!(
                "left {temporary} alone: an interrupted write was to replace {target} with it, but {target} changed since; compare the two and keep one"
            ));
            return true;
        }
        let renamed = match entry.old {
            None => sys::rename_no_replace(&entry.temporary, &entry.target),
            Some(_) => fs::rename(&entry.temporary, &entry.target),
        };
        match renamed.and_then(|()| sys::sync_dir(&sys::parent(&entry.target))) {
            Ok(()) => {
                self.say(format!(
                    "finished an interrupted write: {target} now has its new contents"
                ));
                true
            }
            Err(e) => {
                self.say(format!(
                    "cannot finish an interrupted write: renaming {temporary} to {target}: {e}"
                ));
                false
            }
        }
    }

    /// An entry names one of the targets and a temporary file of this write beside it;
    /// anything else in a journal is not acted on.
    fn is_valid(&mut self, entry: &Entry, id: u64) -> bool {
        self.accounted.push(entry.temporary.clone());
        let named = match (entry.target.file_name(), entry.temporary.file_name()) {
            (Some(target), Some(temporary)) => journal::temporary_id(temporary, target) == Some(id),
            _ => false,
        };
        let valid = named
            && self.targets.contains(&entry.target)
            && entry.temporary.parent() == entry.target.parent();
        if !valid {
            self.say(format!(
                "left {} alone: a journal lists it for {}, which this run does not write",
                entry.temporary.display(),
                entry.target.display()
            ));
        }
        valid
    }

    /// The files beside the targets named like their temporary files, with an id `keep`
    /// accepts, and the target each is for.
    fn temporaries(&self, keep: impl Fn(u64) -> bool) -> Vec<(PathBuf, PathBuf)> {
        let mut found = Vec::new();
        for target in &self.targets {
            let Some(name) = target.file_name() else {
                continue;
            };
            let Ok(entries) = fs::read_dir(sys::parent(target)) else {
                continue;
            };
            for entry in entries.flatten() {
                if journal::temporary_id(&entry.file_name(), name).is_some_and(&keep) {
                    found.push((entry.path(), target.clone()));
                }
            }
        }
        found.sort();
        found.dedup();
        found
    }

    /// Files named like temporary files that no journal accounts for: reported, never
    /// removed.
    fn strays(&mut self) {
        for (path, _) in self.temporaries(|_| true) {
            if !self.accounted.contains(&path) {
                self.say(format!(
                    "left {} alone: it is named like a pflint temporary file, but no journal shows it is one",
                    path.display()
                ));
            }
        }
    }
}

fn digest(path: &Path) -> Option<Digest> {
    fs::read(path).ok().map(|bytes| Digest::of(&bytes))
}
