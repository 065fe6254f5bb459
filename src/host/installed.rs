//! The version of the Postfix installed on this machine, if there is one.
//!
//! Every Postfix program embeds the string `mail_version=X.Y.Z` (see `MAIL_VERSION_STAMP`
//! in Postfix's `src/global/mail_version.h`, meant for `strings | grep mail_version=`).
//! Reading it from the postconf binary takes well under a millisecond, where running
//! `postconf -d mail_version` would take longer than a whole pflint run.

use std::path::PathBuf;

use crate::model::Version;

const STAMP: &[u8] = b"mail_version=";

/// The installed postconf's version: the first `postconf` on `$PATH`, else `/usr/sbin`.
/// Read once per process (it means reading a binary).
pub fn postfix_version() -> Option<Version> {
    postconf().map(|(_, version)| *version)
}

/// The installed postconf and its version.
pub fn postconf() -> Option<&'static (PathBuf, Version)> {
    static FOUND: std::sync::OnceLock<Option<(PathBuf, Version)>> = std::sync::OnceLock::new();
    FOUND.get_or_init(find_postconf).as_ref()
}

fn find_postconf() -> Option<(PathBuf, Version)> {
    let candidates = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/sbin")])
        .map(|dir| dir.join("postconf"));
    candidates.filter(|path| path.is_file()).find_map(|path| {
        let version = std::fs::read(&path)
            .ok()
            .and_then(|binary| stamped_version(&binary))?;
        Some((path, version))
    })
}

/// The version in a `mail_version=X.Y.Z` stamp inside a binary.
pub fn stamped_version(binary: &[u8]) -> Option<Version> {
    let start = memchr::memmem::find(binary, STAMP)? + STAMP.len();
    let rest = &binary[start..];
    let end = rest
        .iter()
        .position(|&b| !(b.is_ascii_digit() || b == b'.'))
        .unwrap_or(rest.len());
    std::str::from_utf8(&rest[..end]).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_stamp() {
        let binary = b"\x00junk\x00mail_version=3.7.11\x00/dev/null";
        assert_eq!(stamped_version(binary), Some(Version::with_patch(3, 7, 11)));
        assert_eq!(stamped_version(b"mail_version=\x00"), None);
        assert_eq!(stamped_version(b"nothing"), None);
    }
}
