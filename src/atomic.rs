//! Replacing a file so that a reader sees either the old or the new contents, never half
//! of one: a temporary file in the same directory, written and synced, given the old
//! file's mode and owner, then renamed over it.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Replaces several files together: every new file is written and synced first, and only
/// when all are ready are they renamed into place, so a failure leaves every file as it
/// was.
pub fn replace_all(files: &[(&Path, &[u8])]) -> io::Result<()> {
    let mut prepared: Vec<(PathBuf, PathBuf, PathBuf)> = Vec::new();
    for (path, bytes) in files {
        match prepare(path, bytes) {
            Ok(ready) => prepared.push(ready),
            Err(e) => {
                for (_, temporary, _) in &prepared {
                    let _ = fs::remove_file(temporary);
                }
                return Err(e);
            }
        }
    }
    for (target, temporary, dir) in &prepared {
        fs::rename(temporary, target)?;
        // The rename itself is durable once the directory is synced.
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Replaces (or creates) `path` with `bytes`. A symbolic link is followed, so the file it
/// points to is replaced and the link stays. On any error the original is untouched and
/// the temporary file is removed.
pub fn replace(path: &Path, bytes: &[u8]) -> io::Result<()> {
    replace_all(&[(path, bytes)])
}

/// Writes the temporary file beside `path`: (target, temporary, directory).
fn prepare(path: &Path, bytes: &[u8]) -> io::Result<(PathBuf, PathBuf, PathBuf)> {
    let target = match fs::canonicalize(path) {
        Ok(real) => real,
        Err(e) if e.kind() == io::ErrorKind::NotFound => path.to_owned(),
        Err(e) => return Err(e),
    };
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_owned();
    let name = target
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file path"))?;
    let temporary = dir.join(format!(
        ".{}.pflint-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    match write_temporary(&target, &temporary, bytes) {
        Ok(()) => Ok((target, temporary, dir)),
        Err(e) => {
            let _ = fs::remove_file(&temporary);
            Err(e)
        }
    }
}

fn write_temporary(target: &Path, temporary: &Path, bytes: &[u8]) -> io::Result<()> {
    let old = match fs::metadata(target) {
        Ok(meta) => Some(meta),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(temporary)?;
    file.write_all(bytes)?;
    match &old {
        Some(meta) => {
            let created = file.metadata()?;
            if meta.uid() != created.uid() || meta.gid() != created.gid() {
                std::os::unix::fs::fchown(&file, Some(meta.uid()), Some(meta.gid()))?;
            }
            file.set_permissions(fs::Permissions::from_mode(meta.mode() & 0o7777))?;
        }
        None => file.set_permissions(fs::Permissions::from_mode(0o644))?,
    }
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_mode_and_replaces_the_contents() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("main.cf");
        fs::write(&path, "old\n").expect("writable");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).expect("chmod");
        replace(&path, b"new\n").expect("replaced");
        assert_eq!(fs::read(&path).expect("readable"), b"new\n");
        let mode = fs::metadata(&path).expect("metadata").mode() & 0o777;
        assert_eq!(mode, 0o640);
        let leftovers: Vec<_> = fs::read_dir(dir.path())
            .expect("readable")
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().contains("pflint"))
            .collect();
        assert!(leftovers.is_empty());
    }
}
