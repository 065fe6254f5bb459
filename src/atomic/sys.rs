//! The system calls std does not wrap: extended attributes on an open file and a rename
//! that never replaces; and the little filesystem helpers the write and the recovery
//! share.

use std::collections::hash_map::RandomState;
use std::ffi::{CStr, CString};
use std::fs::{self, File, OpenOptions};
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// How often a fresh random name is tried before giving up.
const ATTEMPTS: usize = 32;

/// A number nobody can predict: std's `RandomState` keys come from the operating
/// system's random source; the time, process and a counter make each call different.
pub(super) fn random_u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    hasher.write_u128(now);
    hasher.write_u32(std::process::id());
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.finish()
}

/// Creates a new file (mode 0600) under the first name from `next` that is free; a name
/// that exists is someone else's file and is left alone.
pub(super) fn create_unique(mut next: impl FnMut() -> PathBuf) -> io::Result<(PathBuf, File)> {
    for _ in 0..ATTEMPTS {
        let path = next();
        match OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(file) => return Ok((path, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("{ATTEMPTS} random names were all taken"),
    ))
}

/// Whether `path` is still the file `file` has open (it may have been removed or
/// replaced by someone else since).
pub(super) fn is_same_file(path: &Path, file: &File) -> bool {
    match (fs::symlink_metadata(path), file.metadata()) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Removes `path` only while it is the file `file` has open, so that a name someone else
/// took over is never removed.
pub(super) fn remove_own(path: &Path, file: &File) {
    if is_same_file(path, file) {
        let _ = fs::remove_file(path);
    }
}

/// Makes the names in `dir` (created, renamed, removed) durable.
pub(super) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// The directory a file is in ("." for a bare name).
pub(super) fn parent(path: &Path) -> PathBuf {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_owned()
}

/// The absolute path of the file `path` names, symbolic links followed; for a file that
/// does not exist, its absolute directory joined with its name.
pub(super) fn resolve(path: &Path) -> io::Result<PathBuf> {
    match fs::canonicalize(path) {
        Ok(real) => Ok(real),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let name = path.file_name().ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidInput, "not the path of a file")
            })?;
            Ok(fs::canonicalize(parent(path))?.join(name))
        }
        Err(e) => Err(e),
    }
}

fn c_path(path: &Path) -> io::Result<CString> {
    Ok(CString::new(path.as_os_str().as_bytes())?)
}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Renames `from` to `to` unless `to` exists (then EEXIST), atomically where the
/// filesystem supports RENAME_NOREPLACE.
pub(super) fn rename_no_replace(from: &Path, to: &Path) -> io::Result<()> {
    let (from_c, to_c) = (c_path(from)?, c_path(to)?);
    // SAFETY: both are NUL-terminated paths that outlive the call.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            from_c.as_ptr(),
            libc::AT_FDCWD,
            to_c.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    match check(rc) {
        Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) => {
            // A filesystem without the flag: check, then rename (a narrow race).
            match fs::symlink_metadata(to) {
                Err(missing) if missing.kind() == io::ErrorKind::NotFound => fs::rename(from, to),
                _ => Err(io::Error::from_raw_os_error(libc::EEXIST)),
            }
        }
        other => other,
    }
}

/// The names of `file`'s extended attributes; none on a filesystem without them.
pub(super) fn xattr_names(file: &File) -> io::Result<Vec<CString>> {
    let fd = file.as_raw_fd();
    loop {
        // SAFETY: a null buffer of size 0 asks only for the size of the list.
        let size = unsafe { libc::flistxattr(fd, std::ptr::null_mut(), 0) };
        if size < 0 {
            let e = io::Error::last_os_error();
            return match e.raw_os_error() {
                Some(libc::ENOTSUP) => Ok(Vec::new()),
                _ => Err(e),
            };
        }
        let mut list = vec![0u8; size.unsigned_abs()];
        // SAFETY: the buffer is valid for `list.len()` bytes.
        let got = unsafe { libc::flistxattr(fd, list.as_mut_ptr().cast(), list.len()) };
        if got < 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::ERANGE) {
                continue; // an attribute was added since the size was asked
            }
            return Err(e);
        }
        list.truncate(got.unsigned_abs());
        return Ok(list
            .split(|b| *b == 0)
            .filter(|name| !name.is_empty())
            .filter_map(|name| CString::new(name).ok())
            .collect());
    }
}

/// The value of one extended attribute, or None when `file` does not have it.
pub(super) fn xattr_get(file: &File, name: &CStr) -> io::Result<Option<Vec<u8>>> {
    let fd = file.as_raw_fd();
    loop {
        // SAFETY: a null buffer of size 0 asks only for the size of the value.
        let size = unsafe { libc::fgetxattr(fd, name.as_ptr(), std::ptr::null_mut(), 0) };
        if size < 0 {
            let e = io::Error::last_os_error();
            return match e.raw_os_error() {
                Some(libc::ENODATA) => Ok(None),
                _ => Err(e),
            };
        }
        let mut value = vec![0u8; size.unsigned_abs()];
        // SAFETY: the buffer is valid for `value.len()` bytes.
        let got =
            unsafe { libc::fgetxattr(fd, name.as_ptr(), value.as_mut_ptr().cast(), value.len()) };
        if got < 0 {
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::ERANGE) => continue, // the value grew since the size was asked
                Some(libc::ENODATA) => return Ok(None),
                _ => return Err(e),
            }
        }
        value.truncate(got.unsigned_abs());
        return Ok(Some(value));
    }
}

/// Sets one extended attribute on `file`.
pub(super) fn xattr_set(file: &File, name: &CStr, value: &[u8]) -> io::Result<()> {
    // SAFETY: the name is NUL-terminated and the value valid for its length.
    check(unsafe {
        libc::fsetxattr(
            file.as_raw_fd(),
            name.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    })
}

/// Removes one extended attribute from `file`.
pub(super) fn xattr_remove(file: &File, name: &CStr) -> io::Result<()> {
    // SAFETY: the name is NUL-terminated.
    check(unsafe { libc::fremovexattr(file.as_raw_fd(), name.as_ptr()) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_name_is_skipped_and_left_alone() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let taken = dir.path().join("taken");
        fs::write(&taken, "someone else's").expect("writable");
        let mut names = vec![dir.path().join("free"), taken.clone()];
        let (path, _) = create_unique(|| names.pop().unwrap_or_default()).expect("created");
        assert_eq!(path, dir.path().join("free"));
        assert_eq!(fs::read(&taken).expect("readable"), b"someone else's");
    }

    #[test]
    fn a_rename_without_replace_refuses_an_existing_target() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let (from, to) = (dir.path().join("from"), dir.path().join("to"));
        fs::write(&from, "new").expect("writable");
        fs::write(&to, "there").expect("writable");
        let e = rename_no_replace(&from, &to).expect_err("refused");
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&to).expect("readable"), b"there");
        fs::remove_file(&to).expect("removable");
        rename_no_replace(&from, &to).expect("renamed");
        assert_eq!(fs::read(&to).expect("readable"), b"new");
    }

    #[test]
    fn extended_attributes_are_read_set_and_removed() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let file = File::create(dir.path().join("f")).expect("created");
        let name = c"user.pflint-test";
        if let Err(e) = xattr_set(&file, name, b"value") {
            // A filesystem without user attributes (tmpfs before Linux 6.6).
            eprintln!("SKIPPED: no user extended attributes here: {e}");
            return;
        }
        assert!(
            xattr_names(&file)
                .expect("listed")
                .iter()
                .any(|n| n.as_c_str() == name)
        );
        assert_eq!(
            xattr_get(&file, name).expect("read"),
            Some(b"value".to_vec())
        );
        xattr_remove(&file, name).expect("removed");
        assert_eq!(xattr_get(&file, name).expect("read"), None);
    }
}
