//! Postfix versions: the release a configuration is judged for (the target), the points
//! of the parameter table where something starts, and where the target came from.
//!
//! Two questions are asked of a version, and they are kept apart:
//!
//! - *Does the target have what starts at a point?* ([`Version::at_least`]). A point
//!   written without a patch level (`3.7`) starts a release line, so it holds for every
//!   `3.7.z`, `3.7.0` and `3.7.11` included. A point with one (`3.7.9`, a backport) holds
//!   from that patch on.
//! - *Which patch is a target?* A target written without a patch level (`3.7`) means the
//!   newest release of that line: someone who says "3.7" runs an up-to-date 3.7.x, so
//!   every backport to 3.7 applies, and every feature of 3.7 exists.
//!
//! `Version` deliberately has no ordering: `target >= point` would have to pick one of the
//! two meanings for a bare `3.7`, and picking the wrong one made every 3.7 parameter
//! unknown at 3.7.11.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// A Postfix release, `major.minor` or `major.minor.patch`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Version {
    /// Major number (3).
    pub major: u32,
    /// Minor number (7).
    pub minor: u32,
    /// Patch level (11); as a target, `None` stands for the newest patch of the line; as
    /// a point, for the line's first release.
    pub patch: Option<u32>,
}

impl Version {
    /// `major.minor` with no patch level.
    pub const fn new(major: u32, minor: u32) -> Version {
        Version {
            major,
            minor,
            patch: None,
        }
    }

    /// `major.minor.patch`.
    pub const fn with_patch(major: u32, minor: u32, patch: u32) -> Version {
        Version {
            major,
            minor,
            patch: Some(patch),
        }
    }

    /// This version read as a target: a bare line is its newest patch.
    fn as_target(self) -> (u32, u32, u32) {
        (self.major, self.minor, self.patch.unwrap_or(u32::MAX))
    }

    /// This version read as the point where something starts: a bare line is its first
    /// release.
    pub fn as_point(self) -> (u32, u32, u32) {
        (self.major, self.minor, self.patch.unwrap_or(0))
    }

    /// Whether a release at this target has what starts at `point` (a feature "since
    /// X.Y" holds for every X.Y.z).
    pub fn at_least(self, point: Version) -> bool {
        self.as_target() >= point.as_point()
    }

    /// Whether this target is not later than `until`: `until` without a patch level
    /// takes in its whole line.
    pub fn at_most(self, until: Version) -> bool {
        self.as_target() <= until.as_target()
    }

    /// Whether this target is `point`: the same line, and the same patch when `point`
    /// names one.
    pub fn is(self, point: Version) -> bool {
        self.same_line(point) && point.patch.is_none_or(|p| self.patch == Some(p))
    }

    /// Whether this version is in the same release line (`major.minor`) as `other`.
    pub fn same_line(self, other: Version) -> bool {
        (self.major, self.minor) == (other.major, other.minor)
    }

    /// The release line, `major.minor`, without a patch level.
    pub fn line(self) -> Version {
        Version::new(self.major, self.minor)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.patch {
            Some(patch) => write!(f, "{}.{}.{patch}", self.major, self.minor),
            None => write!(f, "{}.{}", self.major, self.minor),
        }
    }
}

/// A string that is not a Postfix version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadVersion(pub String);

impl fmt::Display for BadVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a Postfix version (expected X.Y or X.Y.Z, e.g. 3.7 or 3.7.11)",
            self.0
        )
    }
}

impl std::error::Error for BadVersion {}

impl FromStr for Version {
    type Err = BadVersion;

    fn from_str(s: &str) -> Result<Version, BadVersion> {
        let bad = || BadVersion(s.to_owned());
        let mut parts = s.split('.');
        let mut number = || -> Result<Option<u32>, BadVersion> {
            match parts.next() {
                None => Ok(None),
                Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                    p.parse().map(Some).map_err(|_| bad())
                }
                Some(_) => Err(bad()),
            }
        };
        let major = number()?.ok_or_else(bad)?;
        let minor = number()?.ok_or_else(bad)?;
        let patch = number()?;
        if number()?.is_some() {
            return Err(bad());
        }
        Ok(Version {
            major,
            minor,
            patch,
        })
    }
}

/// A point in the parameter table: where a parameter or a default value starts.
///
/// `Always` is the table's `"0"`. A point without a patch level (or with patch 0) starts
/// a release line and holds for every later release; a point with a patch level (a
/// backport) holds only within its own line, from that patch on: the table lists one
/// point per line that has the backport.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Since {
    /// Since before any version the table distinguishes.
    Always,
    /// From this version on (see the type's documentation for backports).
    Version(Version),
}

impl Since {
    /// Whether a release at `target` has what starts at this point.
    pub fn holds_at(self, target: Version) -> bool {
        match self {
            Since::Always => true,
            Since::Version(v) => match v.patch {
                Some(0) | None => target.at_least(v),
                Some(_) => v.same_line(target) && target.at_least(v),
            },
        }
    }

    /// Orders points so that the most specific one that holds can be chosen.
    pub fn order_key(self) -> (u32, u32, u32) {
        match self {
            Since::Always => (0, 0, 0),
            Since::Version(v) => v.as_point(),
        }
    }
}

impl FromStr for Since {
    type Err = BadVersion;

    fn from_str(s: &str) -> Result<Since, BadVersion> {
        if s == "0" {
            Ok(Since::Always)
        } else {
            s.parse().map(Since::Version)
        }
    }
}

/// The release lines Postfix has had, each with the newest patch level pflint knows
/// (0: a line known only from development snapshots).
#[derive(Clone, Copy, Debug)]
pub struct Releases(pub &'static [(u32, u32, u32)]);

/// A version no Postfix release has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownRelease {
    /// The version as given.
    pub version: Version,
    /// The oldest and newest lines known, for the message.
    pub known: (Version, Version),
}

impl fmt::Display for UnknownRelease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Postfix has no release {}: known release lines are {} to {}",
            self.version.line(),
            self.known.0,
            self.known.1
        )
    }
}

impl std::error::Error for UnknownRelease {}

impl Releases {
    /// Checks that `version`'s line exists; the answer is a note to show when the version
    /// is beyond what pflint knows of its line (a newer patch, or a development line).
    pub fn check(self, version: Version) -> Result<Option<String>, UnknownRelease> {
        let line = self
            .0
            .iter()
            .find(|(major, minor, _)| (*major, *minor) == (version.major, version.minor));
        let Some(&(_, _, newest)) = line else {
            let first = self.0.first().copied().unwrap_or_default();
            let last = self.0.last().copied().unwrap_or_default();
            return Err(UnknownRelease {
                version,
                known: (Version::new(first.0, first.1), Version::new(last.0, last.1)),
            });
        };
        let line = version.line();
        Ok(match version.patch {
            _ if newest == 0 => Some(format!(
                "Postfix {line} is known only from development snapshots"
            )),
            Some(patch) if patch > newest => Some(format!(
                "{version} is newer than the newest {line} release pflint knows ({line}.{newest}); judged as {line}.{newest} with the same features"
            )),
            _ => None,
        })
    }
}

/// Where the target version came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VersionSource {
    /// `--postfix-version`.
    Flag,
    /// `postfix-version` of a settings file.
    Settings(PathBuf),
    /// The `mail_version` stamp of the installed postconf.
    Installed(PathBuf),
    /// Nothing said otherwise: the newest stable release line pflint knows.
    NewestKnown,
}

impl VersionSource {
    /// A short stable name, for machine formats.
    pub fn key(&self) -> &'static str {
        match self {
            VersionSource::Flag => "flag",
            VersionSource::Settings(_) => "settings",
            VersionSource::Installed(_) => "installed",
            VersionSource::NewestKnown => "newest-known",
        }
    }
}

impl fmt::Display for VersionSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VersionSource::Flag => f.write_str("from --postfix-version"),
            VersionSource::Settings(file) => write!(f, "from {}", file.display()),
            VersionSource::Installed(binary) => {
                write!(f, "from the installed {}", binary.display())
            }
            VersionSource::NewestKnown => f.write_str("the newest stable release pflint knows"),
        }
    }
}

/// The version a configuration is judged for, why, and what to tell the user about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The version.
    pub version: Version,
    /// Where it came from.
    pub source: VersionSource,
    /// A remark on it (a patch level newer than pflint knows), if any.
    pub note: Option<String>,
}

impl Target {
    /// A target given directly, with no remark (library use and tests).
    pub fn given(version: Version) -> Target {
        Target {
            version,
            source: VersionSource::Flag,
            note: None,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Postfix {} ({})", self.version, self.source)?;
        if let Some(note) = &self.note {
            write!(f, "; {note}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        s.parse().unwrap()
    }

    fn since(s: &str) -> Since {
        s.parse().unwrap()
    }

    #[test]
    fn parses_versions() {
        assert_eq!(v("3.7.11"), Version::with_patch(3, 7, 11));
        for bad in [
            "", "3", "3.x", "2.x", "3.7.1.1", "3..7", "v3.7", "3.7.", "-3.7",
        ] {
            assert!(bad.parse::<Version>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_feature_of_a_line_holds_at_every_patch_of_it() {
        for target in ["3.7", "3.7.0", "3.7.11", "3.8", "3.8.1", "3.10"] {
            assert!(v(target).at_least(v("3.7")), "{target}");
            assert!(v(target).at_least(v("3.7.0")), "{target}");
        }
        for target in ["3.6", "3.6.20", "2.11"] {
            assert!(!v(target).at_least(v("3.7")), "{target}");
        }
        assert!(v("3.10").at_least(v("3.9")), "lines compare as numbers");
        assert!(
            v("3.7").at_least(v("3.7.13")),
            "a bare target is its newest patch"
        );
        assert!(!v("3.7.11").at_least(v("3.7.13")));
    }

    #[test]
    fn upper_bounds_and_equality() {
        assert!(v("3.5.9").at_most(v("3.5")));
        assert!(v("3.5").at_most(v("3.5")));
        assert!(!v("3.6.0").at_most(v("3.5")));
        assert!(!v("3.7").at_most(v("3.7.5")));
        assert!(v("3.7.11").is(v("3.7")) && v("3.7").is(v("3.7")));
        assert!(!v("3.7").is(v("3.7.11")) && !v("3.8.0").is(v("3.7")));
    }

    #[test]
    fn backports_hold_only_in_their_line() {
        assert!(since("3.7.9").holds_at(v("3.7.11")));
        assert!(!since("3.7.9").holds_at(v("3.7.8")));
        assert!(!since("3.7.9").holds_at(v("3.8.0")));
        assert!(since("3.9").holds_at(v("3.10.1")));
        assert!(since("3.9").holds_at(v("3.9.0")) && since("3.9").holds_at(v("3.9.14")));
        assert!(since("3.7.9").holds_at(v("3.7")));
        assert!(since("0").holds_at(v("2.2")));
    }

    #[test]
    fn releases_refuse_lines_postfix_never_had() {
        let releases = Releases(&[(2, 11, 11), (3, 0, 15), (3, 7, 22), (3, 12, 0)]);
        assert_eq!(releases.check(v("3.7.11")), Ok(None));
        assert_eq!(releases.check(v("3.7")), Ok(None));
        assert!(releases.check(v("3.7.30")).is_ok_and(|n| n.is_some()));
        assert!(releases.check(v("3.12")).is_ok_and(|n| n.is_some()));
        for bad in ["9.9", "0.0", "3.13", "3.1", "2.12"] {
            let error = releases.check(v(bad)).unwrap_err();
            assert!(error.to_string().contains("2.11 to 3.12"), "{error}");
        }
    }
}
