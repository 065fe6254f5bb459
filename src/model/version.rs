//! Postfix versions, and the version points of the parameter table.
//!
//! A version given without a patch level (`3.7`) means the newest release of that line:
//! someone who says "3.7" runs an up-to-date 3.7.x, so every backport to 3.7 applies.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// A Postfix release, `major.minor` or `major.minor.patch`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Version {
    /// Major number (3).
    pub major: u32,
    /// Minor number (7).
    pub minor: u32,
    /// Patch level (11); `None` stands for the newest patch of the line.
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

    fn key(self) -> (u32, u32, u32) {
        (self.major, self.minor, self.patch.unwrap_or(u32::MAX))
    }

    /// Whether this version is in the same release line (`major.minor`) as `other`.
    pub fn same_line(self, other: Version) -> bool {
        (self.major, self.minor) == (other.major, other.minor)
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
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
/// `Always` is the table's `"0"`. A point without a patch level starts a release line and
/// holds for every later release; a point with a patch level (a backport) holds only
/// within its own line, from that patch on.
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
                Some(0) | None => target >= v,
                Some(_) => v.same_line(target) && target >= v,
            },
        }
    }

    /// Orders points so that the most specific one that holds can be chosen.
    pub fn order_key(self) -> (u32, u32, u32) {
        match self {
            Since::Always => (0, 0, 0),
            Since::Version(v) => (v.major, v.minor, v.patch.unwrap_or(0)),
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
    fn parses_and_orders_versions() {
        assert_eq!(v("3.7.11"), Version::with_patch(3, 7, 11));
        assert!(v("3.10") > v("3.9"));
        assert!(v("3.7") > v("3.7.11"), "a bare line means its newest patch");
        assert!(v("3.7.11") < v("3.8.0"));
        for bad in ["", "3", "3.x", "3.7.1.1", "3..7", "v3.7"] {
            assert!(bad.parse::<Version>().is_err(), "{bad}");
        }
    }

    #[test]
    fn backports_hold_only_in_their_line() {
        assert!(since("3.7.9").holds_at(v("3.7.11")));
        assert!(!since("3.7.9").holds_at(v("3.7.8")));
        assert!(!since("3.7.9").holds_at(v("3.8.0")));
        assert!(since("3.9").holds_at(v("3.10.1")));
        assert!(since("3.7.9").holds_at(v("3.7")));
        assert!(since("0").holds_at(v("2.2")));
    }
}
