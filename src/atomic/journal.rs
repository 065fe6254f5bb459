//! The journal of one write and the names of its files. The journal
//! (`.pflint-write-<id>` in the directory written) lists each target, the temporary file
//! that replaces it (`.<name>.pflint-<id>-<suffix>` beside the target) and the length
//! and hash of the old and new contents; a last line `commit` says every temporary file
//! is complete and the renames may begin. The next run reads it to finish or undo an
//! interrupted write (see `recover`).

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;

const HEADER: &str = "pflint-write 1";
const END: &str = "end";
const COMMIT: &str = "commit";
const JOURNAL_PREFIX: &str = ".pflint-write-";

/// The line that, appended to a complete journal, allows the renames.
pub(super) const COMMIT_LINE: &[u8] = b"commit\n";

/// Contents known by their length and hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Digest {
    len: u64,
    hash: u64,
}

impl Digest {
    pub(super) fn of(bytes: &[u8]) -> Digest {
        Digest {
            len: bytes.len() as u64,
            hash: fnv1a(bytes),
        }
    }

    fn render(self) -> String {
        format!("{}:{:016x}", self.len, self.hash)
    }

    fn parse(text: &str) -> Option<Digest> {
        let (len, hash) = text.split_once(':')?;
        Some(Digest {
            len: len.parse().ok()?,
            hash: u64::from_str_radix(hash, 16).ok()?,
        })
    }
}

/// FNV-1a, 64 bits: the same in every build (std's hasher is not), and enough to tell
/// contents apart once their lengths are equal.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// One file of a write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Entry {
    /// The absolute path replaced (symbolic links resolved).
    pub target: PathBuf,
    /// The absolute path of its temporary file.
    pub temporary: PathBuf,
    /// The contents replaced; None when the target did not exist.
    pub old: Option<Digest>,
    pub new: Digest,
}

/// What a journal says.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum State {
    /// Empty or cut short: the run stopped while writing it, before any temporary file
    /// had contents.
    Incomplete,
    /// Complete without `commit`: no rename had begun.
    Prepared(Vec<Entry>),
    /// Committed: the renames may have begun.
    Committed(Vec<Entry>),
}

/// The journal's text, up to and including its `end` line.
pub(super) fn render(entries: &[Entry]) -> Vec<u8> {
    let mut text = format!(
        "{HEADER}\n# An interrupted `pflint generate --write`; the next `pflint generate -c DIR` finishes or undoes it.\n"
    );
    for entry in entries {
        let old = entry.old.map_or("absent".to_owned(), Digest::render);
        text.push_str(&format!(
            "file\t{}\t{}\t{old}\t{}\n",
            encode(entry.target.as_os_str()),
            encode(entry.temporary.as_os_str()),
            entry.new.render()
        ));
    }
    text.push_str(END);
    text.push('\n');
    text.into_bytes()
}

/// Reads a journal; None when the text is not one of pflint's.
pub(super) fn parse(text: &[u8]) -> Option<State> {
    let text = std::str::from_utf8(text).ok()?;
    if text.len() <= HEADER.len() && HEADER.starts_with(text) {
        return Some(State::Incomplete);
    }
    // The part after the last newline was being written when the run stopped.
    let complete = text.rfind('\n').map_or("", |end| &text[..end]);
    let mut lines = complete.split('\n');
    if lines.next()? != HEADER {
        return None;
    }
    let mut entries = Vec::new();
    for line in lines.by_ref() {
        if line == END {
            break;
        }
        if line.starts_with('#') {
            continue;
        }
        entries.push(parse_entry(line)?);
    }
    let ended = complete.split('\n').any(|l| l == END);
    if !ended {
        return Some(State::Incomplete);
    }
    match lines.next() {
        None => Some(State::Prepared(entries)),
        Some(COMMIT) if lines.next().is_none() => Some(State::Committed(entries)),
        Some(_) => None,
    }
}

fn parse_entry(line: &str) -> Option<Entry> {
    let fields: Vec<&str> = line.split('\t').collect();
    let ["file", target, temporary, old, new] = fields.as_slice() else {
        return None;
    };
    Some(Entry {
        target: PathBuf::from(decode(target)?),
        temporary: PathBuf::from(decode(temporary)?),
        old: match *old {
            "absent" => None,
            digest => Some(Digest::parse(digest)?),
        },
        new: Digest::parse(new)?,
    })
}

/// A path as printable ASCII without spaces: other bytes and `%` become `%XX`.
fn encode(path: &OsStr) -> String {
    path.as_bytes()
        .iter()
        .map(|&b| match b {
            b'%' => "%25".to_owned(),
            0x21..=0x7e => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn decode(text: &str) -> Option<OsString> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'%' {
            let hex = std::str::from_utf8(tail.get(..2)?).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            rest = &tail[2..];
        } else {
            bytes.push(b);
            rest = tail;
        }
    }
    Some(OsString::from_vec(bytes))
}

/// The file name of the journal of write `id`.
pub(super) fn journal_name(id: u64) -> String {
    format!("{JOURNAL_PREFIX}{id:016x}")
}

/// The write a journal's file name belongs to.
pub(super) fn journal_id(name: &OsStr) -> Option<u64> {
    let id = name.to_str()?.strip_prefix(JOURNAL_PREFIX)?;
    hex_id(id).filter(|_| id.len() == 16)
}

/// The file name of a temporary file of write `id` for the target named `target`.
pub(super) fn temporary_name(target: &OsStr, id: u64, suffix: u32) -> OsString {
    let mut name = OsString::from(".");
    name.push(target);
    name.push(format!(".pflint-{id:016x}-{suffix:08x}"));
    name
}

/// The write a temporary file of the target named `target` belongs to.
pub(super) fn temporary_id(name: &OsStr, target: &OsStr) -> Option<u64> {
    let rest = name.as_bytes().strip_prefix(b".")?;
    let rest = rest.strip_prefix(target.as_bytes())?;
    let rest = std::str::from_utf8(rest.strip_prefix(b".pflint-")?).ok()?;
    let (id, suffix) = rest.split_once('-')?;
    hex_id(suffix).filter(|_| suffix.len() == 8)?;
    hex_id(id).filter(|_| id.len() == 16)
}

fn hex_id(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 16 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(text, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(old: Option<&[u8]>) -> Entry {
        Entry {
            target: PathBuf::from("/etc/post fix/main.cf"),
            temporary: PathBuf::from("/etc/post fix/.main.cf.pflint-00000000000000ab-0000000c"),
            old: old.map(Digest::of),
            new: Digest::of(b"new\n"),
        }
    }

    #[test]
    fn a_journal_reads_back_at_every_stage() {
        let entries = vec![entry(Some(b"old\n")), entry(None)];
        let text = render(&entries);
        assert_eq!(parse(&text), Some(State::Prepared(entries.clone())));
        let mut committed = text.clone();
        committed.extend_from_slice(COMMIT_LINE);
        assert_eq!(parse(&committed), Some(State::Committed(entries)));
        // Cut anywhere before its end line, it is incomplete; after, not yet committed.
        for cut in 0..text.len() {
            assert_eq!(parse(&text[..cut]), Some(State::Incomplete), "cut at {cut}");
        }
        assert!(matches!(
            parse(&committed[..committed.len() - 3]),
            Some(State::Prepared(_))
        ));
    }

    #[test]
    fn other_files_are_not_journals() {
        assert_eq!(parse(b"my notes\n"), None);
        assert_eq!(parse(b"pflint-write 1\nrm -rf /\nend\n"), None);
        assert_eq!(parse(b"pflint-write 1\nend\ncommit\nmore\n"), None);
    }

    #[test]
    fn names_carry_the_id_of_their_write() {
        let name = temporary_name(OsStr::new("main.cf"), 0xab, 0xc);
        assert_eq!(name, ".main.cf.pflint-00000000000000ab-0000000c");
        assert_eq!(temporary_id(&name, OsStr::new("main.cf")), Some(0xab));
        assert_eq!(temporary_id(&name, OsStr::new("master.cf")), None);
        for other in [
            ".main.cf.pflint-1",
            ".main.cf.pflint-00000000000000ab",
            "main.cf",
        ] {
            assert_eq!(temporary_id(OsStr::new(other), OsStr::new("main.cf")), None);
        }
        assert_eq!(journal_id(OsStr::new(&journal_name(7))), Some(7));
        assert_eq!(journal_id(OsStr::new(".pflint-write-zz")), None);
    }
}
