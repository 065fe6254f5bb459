//! Reading the files pflint is given: regular files only, up to a size limit checked
//! while reading, and the real reason in plain words when a path cannot be read. The one
//! place that words those reasons.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// The largest file read unless `--max-file-size` says otherwise: far above any real
/// Postfix configuration, far below what would exhaust memory.
pub const DEFAULT_LIMIT: u64 = 64 * 1024 * 1024;

static LIMIT: AtomicU64 = AtomicU64::new(DEFAULT_LIMIT);

/// Sets the largest file any later read accepts (the command line's `--max-file-size`).
pub fn set_limit(bytes: u64) {
    LIMIT.store(bytes, Ordering::Relaxed);
}

/// The largest file a read accepts.
pub fn limit() -> u64 {
    LIMIT.load(Ordering::Relaxed)
}

/// Reads a size such as `64M`, `512K`, `1G` or a number of bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (digits, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => text.split_at(i),
        None => (text, ""),
    };
    let factor: u64 = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        _ => {
            return Err(format!(
                "`{text}` is not a size (write e.g. 64M, 512K or 1000000)"
            ));
        }
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(factor))
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("`{text}` is not a size (write e.g. 64M, 512K or 1000000)"))
}

/// Why an operation on a path failed, in plain words.
pub fn reason(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::ENOENT) => "no such file or directory".to_owned(),
        Some(libc::EACCES) | Some(libc::EPERM) => "permission denied".to_owned(),
        Some(libc::ELOOP) => "too many levels of symbolic links (a symlink loop?)".to_owned(),
        Some(libc::ENOTDIR) => "a component of the path is not a directory".to_owned(),
        Some(libc::EISDIR) => "it is a directory".to_owned(),
        Some(libc::ENAMETOOLONG) => "the name is too long".to_owned(),
        _ => e.to_string(),
    }
}

/// What a path is, when it exists and can be looked at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A regular file (or a symbolic link to one).
    File,
    /// A directory (or a link to one).
    Directory,
    /// Something pflint does not read: a FIFO, a socket, a device.
    Other(&'static str),
}

/// What `path` is (following symbolic links); `None` when it does not exist; the reason
/// when it cannot be looked at (permission, a loop, a file where a directory should be).
pub fn kind(path: &Path) -> Result<Option<Kind>, String> {
    match std::fs::metadata(path) {
        Ok(m) => Ok(Some(kind_of(&m))),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(None),
        Err(e) => Err(reason(&e)),
    }
}

fn kind_of(m: &Metadata) -> Kind {
    let t = m.file_type();
    if t.is_file() {
        Kind::File
    } else if t.is_dir() {
        Kind::Directory
    } else if t.is_fifo() {
        Kind::Other("a FIFO (named pipe)")
    } else if t.is_socket() {
        Kind::Other("a socket")
    } else if t.is_char_device() {
        Kind::Other("a character device")
    } else if t.is_block_device() {
        Kind::Other("a block device")
    } else {
        Kind::Other("not a regular file")
    }
}

/// Reads a regular file of at most [`limit`] bytes. Opening does not block (a FIFO
/// opened for reading would wait for a writer), and the limit is checked while reading,
/// so a file that grows, or lies about its size, cannot exhaust memory.
pub fn read(path: &Path) -> Result<Vec<u8>, String> {
    let mut file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| reason(&e))?;
    let metadata = file.metadata().map_err(|e| reason(&e))?;
    match kind_of(&metadata) {
        Kind::File => {}
        Kind::Directory => return Err("it is a directory".to_owned()),
        Kind::Other(what) => return Err(format!("it is {what}, not a regular file")),
    }
    let limit = limit();
    if metadata.len() > limit {
        return Err(too_large(metadata.len(), limit));
    }
    read_at_most(&mut file, limit, metadata.len())
}

/// Reads standard input (`-` for a file a command reads), within the same limit as files.
pub fn read_stdin() -> Result<Vec<u8>, String> {
    let limit = limit();
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| reason(&e))?;
    if bytes.len() as u64 > limit {
        return Err(too_large(bytes.len() as u64, limit));
    }
    Ok(bytes)
}

/// Reads at most `limit` bytes; `expected` (the size the file says it has, within the
/// limit) sizes the buffer once, so a large file is not held twice while it grows.
fn read_at_most(file: &mut File, limit: u64, expected: u64) -> Result<Vec<u8>, String> {
    let capacity = usize::try_from(expected.min(limit))
        .unwrap_or(0)
        .saturating_add(1);
    let mut bytes = Vec::with_capacity(capacity);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| reason(&e))?;
    if bytes.len() as u64 > limit {
        return Err(too_large(bytes.len() as u64, limit));
    }
    Ok(bytes)
}

fn too_large(size: u64, limit: u64) -> String {
    format!("it is {size} bytes or more, over the limit of {limit} (see --max-file-size)")
}

/// Why bytes are not a text file pflint should read as a configuration, if they are not:
/// NUL bytes beside many other control bytes, or mostly control bytes. A stray NUL or
/// control byte in a text file is left to the parser, which reports it where it is.
pub fn binary(bytes: &[u8]) -> Option<String> {
    let sample = &bytes[..bytes.len().min(64 * 1024)];
    if sample.is_empty() {
        return None;
    }
    let control = sample
        .iter()
        .filter(|&&b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c)) || b == 0x7f)
        .count();
    let nul = memchr::memchr(0, sample);
    let share = control * 100 / sample.len();
    match nul {
        Some(at) if share >= 10 => Some(format!(
            "it looks like a binary file (a NUL byte at offset {at}, {share}% control bytes), not a Postfix configuration"
        )),
        _ if share >= 30 => Some(format!(
            "it looks like a binary file ({share}% control bytes), not a Postfix configuration"
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("512k"), Ok(512 << 10));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("0").is_err() && parse_size("lots").is_err());
    }

    #[test]
    fn binary_files_are_told_from_text() {
        assert!(binary(b"myhostname = a\n\x01\n").is_none());
        assert!(binary(b"myhostname = a\0b\n").is_none());
        assert!(binary(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0>\0\x01\0\0\0").is_some());
        assert!(binary(&[0u8; 100]).is_some());
        assert!(binary(b"").is_none());
    }
}
