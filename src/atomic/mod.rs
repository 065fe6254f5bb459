//! Replacing files so that a reader sees either the old or the new contents, and so that
//! nothing is lost or loosened on the way.
//!
//! [`prepare`] reads each target again and refuses when it is not what the edit was
//! based on; it writes each new file to a temporary file beside its target (a symbolic
//! link is followed: its target is replaced and the link stays), gives it the old file's
//! owner, mode and every extended attribute (ACLs included), syncs it, and lists the
//! write in a journal in the directory. [`Prepared::commit`] marks the journal committed,
//! checks each target once more and renames the temporary files into place, then removes
//! the journal. A run stopped at any point leaves a journal that [`recover`] uses on the
//! next run: before the commit it removes the temporary files, after it it finishes the
//! renames.

mod journal;
mod recover;
mod sys;

use std::ffi::CString;
use std::fmt;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

pub use recover::recover;

use journal::{Digest, Entry};

/// One file to write: its path, the contents the edit was based on (None: the file did
/// not exist and must not exist now) and the new contents.
#[derive(Clone, Copy, Debug)]
pub struct Change<'a> {
    pub path: &'a Path,
    pub old: Option<&'a [u8]>,
    pub new: &'a [u8],
}

/// A failed write: which files were replaced before it failed, which were not, and why.
#[derive(Debug)]
pub struct Error {
    committed: Vec<PathBuf>,
    pending: Vec<PathBuf>,
    reason: String,
}

impl Error {
    /// The files replaced before the failure (their new contents are in place).
    pub fn committed(&self) -> &[PathBuf] {
        &self.committed
    }

    /// The files left as they were.
    pub fn pending(&self) -> &[PathBuf] {
        &self.pending
    }

    /// What failed, with the path it concerns.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

fn names(paths: &[PathBuf]) -> String {
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    names.join(" and ")
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.committed.is_empty(), self.pending.is_empty()) {
            (true, _) => write!(f, "{} (no file was changed)", self.reason),
            (false, true) => write!(
                f,
                "{} replaced, but {}",
                names(&self.committed),
                self.reason
            ),
            (false, false) => write!(
                f,
                "{} was replaced; {} was not: {}",
                names(&self.committed),
                names(&self.pending),
                self.reason
            ),
        }
    }
}

impl std::error::Error for Error {}

/// The file as it was read again just before the write, to copy its attributes from and
/// to tell whether anyone changed it since.
struct Original {
    bytes: Vec<u8>,
    stamp: Stamp,
    mode: u32,
    uid: u32,
    gid: u32,
    links: u64,
    xattrs: Vec<(CString, Vec<u8>)>,
}

/// What changes when anyone writes, replaces or re-permits a file.
#[derive(Debug, PartialEq, Eq)]
struct Stamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Stamp {
    fn of(meta: &fs::Metadata) -> Stamp {
        Stamp {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ctime: (meta.ctime(), meta.ctime_nsec()),
        }
    }
}

/// One file of a prepared write.
struct Target {
    /// As the caller named it (for messages).
    given: PathBuf,
    /// Symbolic links resolved: the file replaced.
    path: PathBuf,
    dir: PathBuf,
    old: Option<Original>,
    new: Vec<u8>,
    /// This run's temporary file, until it is renamed or removed.
    temporary: Option<(PathBuf, File)>,
    renamed: bool,
}

struct Journal {
    id: u64,
    path: PathBuf,
    /// Open, and locked so that another run's recovery leaves this write alone.
    file: File,
}

/// A write whose temporary files are complete; nothing is replaced until [`commit`]. If it
/// is dropped uncommitted, its temporary files and journal are removed.
///
/// [`commit`]: Prepared::commit
pub struct Prepared {
    dir: PathBuf,
    targets: Vec<Target>,
    journal: Option<Journal>,
    warnings: Vec<String>,
}

/// Prepares a write of `changes`, with its journal in `dir` (where [`recover`] looks).
/// Refused when a file is not what its change was based on, or when the new file cannot
/// have every permission and attribute the old one has.
pub fn prepare(dir: &Path, changes: &[Change]) -> Result<Prepared, Error> {
    let mut prepared = Prepared {
        // Resolved, so that it is synced once when a target's directory is the same.
        dir: fs::canonicalize(dir).unwrap_or_else(|_| dir.to_owned()),
        targets: Vec::new(),
        journal: None,
        warnings: Vec::new(),
    };
    let result = (|| {
        for change in changes {
            let target = read_target(change)?;
            prepared.warnings.extend(hard_link_warning(&target));
            prepared.targets.push(target);
        }
        prepared.create_journal()?;
        prepared.create_temporaries()?;
        prepared.write_journal()?;
        prepared.fill_temporaries()
    })();
    match result {
        Ok(()) => Ok(prepared),
        Err(reason) => Err(Error {
            committed: Vec::new(),
            pending: changes.iter().map(|c| c.path.to_owned()).collect(),
            reason,
        }),
    }
}

fn read_target(change: &Change) -> Result<Target, String> {
    let given = change.path.to_owned();
    let path = sys::resolve(&given).map_err(|e| format!("cannot find {}: {e}", given.display()))?;
    let old = match change.old {
        None => {
            absent(&given)?;
            absent(&path)?;
            None
        }
        Some(expected) => Some(read_original(&given, &path, expected)?),
    };
    Ok(Target {
        dir: sys::parent(&path),
        given,
        path,
        old,
        new: change.new.to_vec(),
        temporary: None,
        renamed: false,
    })
}

/// A file the edit assumed absent must still be absent.
fn absent(path: &Path) -> Result<(), String> {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Ok(meta) if meta.is_symlink() => Err(format!(
            "{} is a symbolic link to a file that does not exist; pflint does not create it",
            path.display()
        )),
        Ok(_) => Err(format!(
            "{} exists now but did not when pflint read the directory; not overwriting it",
            path.display()
        )),
        Err(e) => Err(format!("cannot look at {}: {e}", path.display())),
    }
}

/// Reads the file to replace, which must still have the contents the edit is based on.
fn read_original(given: &Path, path: &Path, expected: &[u8]) -> Result<Original, String> {
    let context = |e: std::io::Error| format!("cannot read {}: {e}", path.display());
    let mut file = File::open(path).map_err(context)?;
    let meta = file.metadata().map_err(context)?;
    if !meta.is_file() {
        return Err(format!("{} is not a regular file", path.display()));
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(context)?;
    if bytes != expected {
        return Err(changed(given));
    }
    Ok(Original {
        xattrs: read_xattrs(&file, path)?,
        bytes,
        stamp: Stamp::of(&meta),
        mode: meta.mode() & 0o7777,
        uid: meta.uid(),
        gid: meta.gid(),
        links: meta.nlink(),
    })
}

fn changed(given: &Path) -> String {
    format!(
        "{} changed since pflint read it; not overwriting that change (run pflint generate again)",
        given.display()
    )
}

/// Every extended attribute of `file` this process can list; one it lists but cannot
/// read could not be copied, so that refuses the write.
fn read_xattrs(file: &File, path: &Path) -> Result<Vec<(CString, Vec<u8>)>, String> {
    let names = sys::xattr_names(file).map_err(|e| {
        format!(
            "cannot list the extended attributes of {}: {e}",
            path.display()
        )
    })?;
    let mut xattrs = Vec::new();
    for name in names {
        match sys::xattr_get(file, &name) {
            Ok(Some(value)) => xattrs.push((name, value)),
            Ok(None) => {} // removed since it was listed
            Err(e) => {
                return Err(format!(
                    "cannot read the extended attribute {} of {}: {e}; not writing a copy without it",
                    name.to_string_lossy(),
                    path.display()
                ));
            }
        }
    }
    Ok(xattrs)
}

/// A rename gives the new contents to one name only.
fn hard_link_warning(target: &Target) -> Option<String> {
    let links = target.old.as_ref()?.links;
    (links > 1).then(|| {
        format!(
            "{} has {links} hard links: only this name gets the new contents; the other links keep the old ones",
            target.given.display()
        )
    })
}

impl Prepared {
    /// Things the caller should tell the user before committing (hard links).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Replaces every target with its temporary file, each checked just before its rename
    /// to be unchanged since it was read (same file, size, times and contents). On an
    /// error the [`Error`] tells which files were replaced and which were not; the
    /// temporary files left are removed.
    pub fn commit(mut self) -> Result<(), Error> {
        let result = (|| {
            for target in &self.targets {
                target.check_unchanged()?;
            }
            self.mark_committed()?;
            for index in 0..self.targets.len() {
                self.rename(index)?;
            }
            Ok(())
        })();
        result.and_then(|()| self.finish()).map_err(|reason| Error {
            committed: self.given(true),
            pending: self.given(false),
            reason,
        })
    }

    fn given(&self, renamed: bool) -> Vec<PathBuf> {
        self.targets
            .iter()
            .filter(|t| t.renamed == renamed)
            .map(|t| t.given.clone())
            .collect()
    }

    fn create_journal(&mut self) -> Result<(), String> {
        let context =
            |e: std::io::Error| format!("cannot create a journal in {}: {e}", self.dir.display());
        let mut id = 0;
        let (path, file) = sys::create_unique(|| {
            id = sys::random_u64();
            self.dir.join(journal::journal_name(id))
        })
        .map_err(context)?;
        let journal = Journal { id, path, file };
        let locked = journal.file.try_lock().is_ok();
        // Another run's recovery may have taken the unlocked, empty file for a dead one's.
        let ours = sys::is_same_file(&journal.path, &journal.file);
        self.journal = Some(journal);
        if locked && ours {
            Ok(())
        } else {
            Err(format!(
                "another pflint is writing {} at the same time",
                self.dir.display()
            ))
        }
    }

    fn journal_id(&self) -> u64 {
        self.journal.as_ref().map_or(0, |j| j.id)
    }

    /// Creates every temporary file, empty, before the journal lists them: a file the
    /// journal lists is always this write's own.
    fn create_temporaries(&mut self) -> Result<(), String> {
        let id = self.journal_id();
        for target in &mut self.targets {
            let name = target
                .path
                .file_name()
                .ok_or_else(|| format!("{} is not the path of a file", target.path.display()))?
                .to_owned();
            let created = sys::create_unique(|| {
                // The low 32 bits suffice: the id already makes the name unpredictable.
                let suffix = sys::random_u64() as u32;
                target.dir.join(journal::temporary_name(&name, id, suffix))
            })
            .map_err(|e| {
                format!(
                    "cannot create a temporary file in {}: {e}",
                    target.dir.display()
                )
            })?;
            target.temporary = Some(created);
        }
        Ok(())
    }

    fn entries(&self) -> Vec<Entry> {
        self.targets
            .iter()
            .filter_map(|t| {
                Some(Entry {
                    target: t.path.clone(),
                    temporary: t.temporary.as_ref()?.0.clone(),
                    old: t.old.as_ref().map(|o| Digest::of(&o.bytes)),
                    new: Digest::of(&t.new),
                })
            })
            .collect()
    }

    fn write_journal(&mut self) -> Result<(), String> {
        let text = journal::render(&self.entries());
        let Some(journal) = &mut self.journal else {
            return Err("no journal".to_owned());
        };
        let context = |e: std::io::Error| format!("cannot write {}: {e}", journal.path.display());
        // One write, so that a run stopped here leaves the journal empty or whole.
        journal.file.write_all(&text).map_err(context)?;
        journal.file.sync_all().map_err(context)?;
        self.sync_dirs()
    }

    /// Syncs the journal's directory and every temporary file's.
    fn sync_dirs(&self) -> Result<(), String> {
        let mut dirs: Vec<&Path> = vec![&self.dir];
        dirs.extend(self.targets.iter().map(|t| t.dir.as_path()));
        dirs.sort();
        dirs.dedup();
        for dir in dirs {
            sys::sync_dir(dir).map_err(|e| format!("cannot sync {}: {e}", dir.display()))?;
        }
        Ok(())
    }

    fn fill_temporaries(&mut self) -> Result<(), String> {
        for target in &self.targets {
            target.fill()?;
        }
        self.sync_dirs()
    }

    /// The journal's last line: from here on, the next run finishes the renames.
    fn mark_committed(&mut self) -> Result<(), String> {
        let Some(journal) = &mut self.journal else {
            return Err("no journal".to_owned());
        };
        let context = |e: std::io::Error| format!("cannot write {}: {e}", journal.path.display());
        journal
            .file
            .write_all(journal::COMMIT_LINE)
            .map_err(context)?;
        journal.file.sync_all().map_err(context)
    }

    fn rename(&mut self, index: usize) -> Result<(), String> {
        let target = &mut self.targets[index];
        target.check_unchanged()?;
        let Some((temporary, file)) = target.temporary.take() else {
            return Err(format!("no temporary file for {}", target.path.display()));
        };
        let renamed = match target.old {
            None => sys::rename_no_replace(&temporary, &target.path),
            Some(_) => fs::rename(&temporary, &target.path),
        };
        if let Err(e) = renamed {
            let reason = format!(
                "cannot rename {} to {}: {e}",
                temporary.display(),
                target.path.display()
            );
            target.temporary = Some((temporary, file));
            return Err(reason);
        }
        target.renamed = true;
        sys::sync_dir(&target.dir).map_err(|e| format!("cannot sync {}: {e}", target.dir.display()))
    }

    /// Removes the journal once every rename is done.
    fn finish(&mut self) -> Result<(), String> {
        let Some(journal) = self.journal.take() else {
            return Ok(());
        };
        fs::remove_file(&journal.path)
            .and_then(|()| sys::sync_dir(&self.dir))
            .map_err(|e| {
                format!(
                    "the journal {} is left: {e} (the next pflint generate removes it)",
                    journal.path.display()
                )
            })
    }
}

impl Drop for Prepared {
    /// An uncommitted or failed write leaves no file behind: its temporary files first,
    /// then the journal that lists them.
    fn drop(&mut self) {
        for target in &mut self.targets {
            if let Some((path, file)) = target.temporary.take() {
                sys::remove_own(&path, &file);
            }
        }
        if let Some(journal) = self.journal.take() {
            sys::remove_own(&journal.path, &journal.file);
            let _ = sys::sync_dir(&self.dir);
        }
    }
}

impl Target {
    /// The target is still the file, with the contents, that the write is based on.
    fn check_unchanged(&self) -> Result<(), String> {
        let Some(original) = &self.old else {
            return absent(&self.path);
        };
        if sys::resolve(&self.given).ok().as_deref() != Some(self.path.as_path()) {
            return Err(format!(
                "{} no longer leads to {}; not writing",
                self.given.display(),
                self.path.display()
            ));
        }
        let context = |e: std::io::Error| format!("cannot read {}: {e}", self.path.display());
        let mut file = File::open(&self.path).map_err(context)?;
        let meta = file.metadata().map_err(context)?;
        let mut bytes = Vec::with_capacity(original.bytes.len());
        file.read_to_end(&mut bytes).map_err(context)?;
        if Stamp::of(&meta) != original.stamp || bytes != original.bytes {
            return Err(changed(&self.given));
        }
        Ok(())
    }

    /// Writes the new contents into the temporary file and gives it the old file's owner,
    /// mode and extended attributes, then syncs it.
    fn fill(&self) -> Result<(), String> {
        let Some((path, file)) = &self.temporary else {
            return Err(format!("no temporary file for {}", self.path.display()));
        };
        let context = |what: &str, e: std::io::Error| {
            format!("cannot {what} the temporary file {}: {e}", path.display())
        };
        (&*file)
            .write_all(&self.new)
            .map_err(|e| context("write", e))?;
        match &self.old {
            None => file
                .set_permissions(fs::Permissions::from_mode(0o644))
                .map_err(|e| context("set the mode of", e))?,
            Some(original) => self.copy_attributes(original, file, path)?,
        }
        file.sync_all().map_err(|e| context("sync", e))
    }

    /// Owner, then mode, then the extended attributes: an ACL's mask and the mode's group
    /// bits are one, so the ACL is set after the mode.
    fn copy_attributes(&self, original: &Original, file: &File, path: &Path) -> Result<(), String> {
        let meta = file
            .metadata()
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if (meta.uid(), meta.gid()) != (original.uid, original.gid) {
            std::os::unix::fs::fchown(file, Some(original.uid), Some(original.gid)).map_err(
                |e| {
                    format!(
                        "cannot give the new {} the owner {}:{} of the old one: {e}",
                        self.given.display(),
                        original.uid,
                        original.gid
                    )
                },
            )?;
        }
        // What the temporary file inherited (a directory's default ACL) and the old file
        // does not have must go.
        let inherited = sys::xattr_names(file).map_err(|e| {
            format!(
                "cannot list the extended attributes of {}: {e}",
                path.display()
            )
        })?;
        for name in inherited {
            if !original.xattrs.iter().any(|(n, _)| *n == name) {
                sys::xattr_remove(file, &name)
                    .map_err(|e| self.refusal("remove the inherited", &name, e))?;
            }
        }
        file.set_permissions(fs::Permissions::from_mode(original.mode))
            .map_err(|e| format!("cannot set the mode of {}: {e}", path.display()))?;
        for (name, value) in &original.xattrs {
            let current = sys::xattr_get(file, name).ok().flatten();
            if current.as_deref() != Some(value.as_slice()) {
                sys::xattr_set(file, name, value).map_err(|e| self.refusal("copy", name, e))?;
            }
        }
        let mode = file
            .metadata()
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?
            .mode()
            & 0o7777;
        if mode != original.mode {
            return Err(format!(
                "the new {} would have mode {mode:o} instead of {:o}; not writing it",
                self.given.display(),
                original.mode
            ));
        }
        Ok(())
    }

    fn refusal(&self, what: &str, name: &CString, e: std::io::Error) -> String {
        format!(
            "cannot {what} extended attribute {} on the new {}: {e}; not writing a file whose permissions could differ",
            name.to_string_lossy(),
            self.given.display()
        )
    }
}

#[cfg(test)]
mod tests;
