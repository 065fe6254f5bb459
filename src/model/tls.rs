//! TLS protocol lists and cipher grades as Postfix reads them: the one home of that
//! knowledge for the rules that judge them and the generator that writes them.

use super::version::Version;

/// The protocol versions Postfix names, oldest first.
pub const VERSIONS: [&str; 6] = ["SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];

/// Which protocol versions a `*_tls_protocols` value enables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Protocols([bool; 6]);

impl Protocols {
    /// Reads a protocol list as `tls_proto_mask_lims()` does: names to include, `!name` to
    /// exclude, `>=name` and `<=name` bounds (Postfix 3.6+); separators are commas, blanks
    /// and colons. Unknown names are ignored (Postfix warns about them).
    pub fn parse(value: &str) -> Protocols {
        let index = |name: &str| VERSIONS.iter().position(|v| v.eq_ignore_ascii_case(name));
        let mut include = [false; 6];
        let mut exclude = [false; 6];
        let mut floor = 0;
        let mut ceiling = VERSIONS.len() - 1;
        let mut any_included = false;
        for token in value
            .split(|c: char| c == ',' || c == ':' || c.is_ascii_whitespace())
            .filter(|t| !t.is_empty())
        {
            if let Some(name) = token.strip_prefix(">=") {
                if let Some(i) = index(name) {
                    floor = i;
                }
            } else if let Some(name) = token.strip_prefix("<=") {
                if let Some(i) = index(name) {
                    ceiling = i;
                }
            } else if let Some(name) = token.strip_prefix('!') {
                if let Some(i) = index(name) {
                    exclude[i] = true;
                }
            } else if let Some(i) = index(token) {
                include[i] = true;
                any_included = true;
            }
        }
        let mut enabled = [false; 6];
        for (i, on) in enabled.iter_mut().enumerate() {
            *on = (!any_included || include[i]) && !exclude[i] && i >= floor && i <= ceiling;
        }
        Protocols(enabled)
    }

    /// `floor` (`TLSv1.2`) and every newer version; every version when `floor` is not a
    /// protocol name.
    pub fn from(floor: &str) -> Protocols {
        let start = VERSIONS.iter().position(|v| *v == floor).unwrap_or(0);
        let mut enabled = [false; 6];
        for on in &mut enabled[start..] {
            *on = true;
        }
        Protocols(enabled)
    }

    /// Whether `version` (`TLSv1.2`, …) is enabled.
    pub fn allows(self, version: &str) -> bool {
        VERSIONS
            .iter()
            .position(|v| *v == version)
            .is_some_and(|i| self.0[i])
    }

    /// The enabled versions older than TLS 1.2.
    pub fn weak(self) -> Vec<&'static str> {
        VERSIONS[..4]
            .iter()
            .zip(self.0)
            .filter(|(_, on)| *on)
            .map(|(v, _)| *v)
            .collect()
    }

    /// The enabled versions, oldest first.
    pub fn enabled(self) -> Vec<&'static str> {
        VERSIONS
            .iter()
            .zip(self.0)
            .filter(|(_, on)| *on)
            .map(|(v, _)| *v)
            .collect()
    }

    /// Whether every version this enables, `other` enables too.
    pub fn within(self, other: Protocols) -> bool {
        self.0
            .iter()
            .zip(other.0)
            .all(|(mine, theirs)| !mine || theirs)
    }

    /// The versions both enable.
    pub fn and(self, other: Protocols) -> Protocols {
        let mut enabled = self.0;
        for (on, theirs) in enabled.iter_mut().zip(other.0) {
            *on = *on && theirs;
        }
        Protocols(enabled)
    }

    /// The list in the syntax `version` reads: `>=TLSv1.2` from 3.6 when the set runs from
    /// a floor to the newest version, else the exclusions `!SSLv2, !SSLv3, …`.
    pub fn render(self, version: Version) -> String {
        let first = self.0.iter().position(|on| *on).unwrap_or(0);
        let contiguous_to_top = self.0[first..].iter().all(|on| *on);
        if contiguous_to_top && version.at_least(Version::new(3, 6)) {
            return format!(">={}", VERSIONS[first]);
        }
        VERSIONS
            .iter()
            .zip(self.0)
            .filter(|(_, on)| !on)
            .map(|(v, _)| format!("!{v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A cipher grade of `*_tls_ciphers` and `*_tls_mandatory_ciphers`, weakest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum CipherGrade {
    /// `null`: authentication without encryption.
    Null,
    /// `export`: export-grade ciphers (read as `medium` from Postfix 3.8).
    Export,
    /// `low`: low-grade ciphers (read as `medium` from Postfix 3.8).
    Low,
    /// `medium`: Postfix's default.
    Medium,
    /// `high`.
    High,
}

impl CipherGrade {
    /// Reads a grade name (`tls_cipher_grade_table`, case-insensitive).
    pub fn parse(value: &str) -> Option<CipherGrade> {
        match value.trim().to_ascii_lowercase().as_str() {
            "null" => Some(CipherGrade::Null),
            "export" => Some(CipherGrade::Export),
            "low" => Some(CipherGrade::Low),
            "medium" => Some(CipherGrade::Medium),
            "high" => Some(CipherGrade::High),
            _ => None,
        }
    }

    /// The grade's name as Postfix writes it.
    pub fn name(self) -> &'static str {
        match self {
            CipherGrade::Null => "null",
            CipherGrade::Export => "export",
            CipherGrade::Low => "low",
            CipherGrade::Medium => "medium",
            CipherGrade::High => "high",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enabled(value: &str) -> Vec<&'static str> {
        Protocols::parse(value).enabled()
    }

    #[test]
    fn protocol_lists_like_postfix() {
        assert_eq!(
            enabled("!SSLv2, !SSLv3"),
            ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]
        );
        assert_eq!(enabled(">=TLSv1.2"), ["TLSv1.2", "TLSv1.3"]);
        assert_eq!(
            enabled(">=TLSv1, <=TLSv1.2"),
            ["TLSv1", "TLSv1.1", "TLSv1.2"]
        );
        assert_eq!(enabled("TLSv1.3"), ["TLSv1.3"]);
        assert_eq!(enabled("SSLv3:TLSv1"), ["SSLv3", "TLSv1"]);
        assert_eq!(
            enabled("!SSLv2 !SSLv3 !TLSv1 !TLSv1.1"),
            ["TLSv1.2", "TLSv1.3"]
        );
        assert_eq!(enabled("").len(), 6);
        assert!(!Protocols::parse(">=TLSv1.3").allows("TLSv1.2"));
    }

    #[test]
    fn sets_compare_and_render_per_version() {
        let v36 = Version::new(3, 6);
        let v35 = Version::new(3, 5);
        let modern = Protocols::from("TLSv1.3");
        let intermediate = Protocols::from("TLSv1.2");
        assert!(modern.within(intermediate) && !intermediate.within(modern));
        assert_eq!(intermediate.render(v36), ">=TLSv1.2");
        assert_eq!(intermediate.render(v35), "!SSLv2, !SSLv3, !TLSv1, !TLSv1.1");
        assert_eq!(
            Protocols::from("TLSv1").render(Version::new(3, 4)),
            "!SSLv2, !SSLv3"
        );
        let odd = Protocols::parse("!SSLv2, !SSLv3, !TLSv1.1");
        assert_eq!(odd.render(v36), "!SSLv2, !SSLv3, !TLSv1.1");
        assert_eq!(odd.and(intermediate), intermediate);
        assert_eq!(Protocols::parse(odd.render(v35).as_str()), odd);
    }

    #[test]
    fn cipher_grades_order_weakest_first() {
        assert!(CipherGrade::parse("HIGH") > CipherGrade::parse("medium"));
        assert!(CipherGrade::Export < CipherGrade::Low);
        assert_eq!(CipherGrade::parse("strong"), None);
    }
}
