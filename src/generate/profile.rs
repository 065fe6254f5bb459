//! TLS profiles (`data/profiles/*.yaml`): what a profile asks of *mandatory* TLS.
//! Opportunistic TLS is not a profile's business: it keeps Postfix's broad defaults,
//! because a peer refused for its TLS version sends its mail in plaintext instead.

use std::sync::OnceLock;

use serde::Deserialize;

use crate::model::TlsLevel;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/profile_files.rs"));
}

/// The oldest protocol version accepted and the cipher grade, where TLS is mandatory.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Mandatory {
    /// The floor: `TLSv1`, `TLSv1.2` or `TLSv1.3`.
    pub protocols: String,
    /// The Postfix cipher grade: `medium` or `high`.
    pub ciphers: String,
}

/// One profile.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Profile {
    /// `modern`, `intermediate` or `legacy`.
    pub name: String,
    /// One sentence.
    pub summary: String,
    /// Whom it is for.
    pub why: String,
    /// Floors for submission and for the relay client.
    pub mandatory: Mandatory,
    /// The relay client's TLS level: `secure` (verified) or `encrypt`.
    pub relay_level: String,
}

impl Profile {
    /// The relay client's level, as the model names it.
    pub fn relay_tls_level(&self) -> TlsLevel {
        TlsLevel::parse(self.relay_level.as_bytes()).unwrap_or(TlsLevel::Secure)
    }
}

/// Loads profiles from (path, YAML) pairs; every field must be known and valid.
pub fn load(files: &[(&str, &str)]) -> Result<Vec<Profile>, String> {
    let mut profiles = Vec::new();
    for (path, text) in files {
        let profile: Profile = serde_yaml::from_str(text).map_err(|e| format!("{path}: {e}"))?;
        if !path.ends_with(&format!("/{}.yaml", profile.name)) {
            return Err(format!("{path}: file name should be {}.yaml", profile.name));
        }
        if !["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]
            .contains(&profile.mandatory.protocols.as_str())
        {
            return Err(format!(
                "{path}: unknown protocol floor {}",
                profile.mandatory.protocols
            ));
        }
        if !["medium", "high"].contains(&profile.mandatory.ciphers.as_str()) {
            return Err(format!("{path}: cipher grade must be medium or high"));
        }
        if !["secure", "encrypt"].contains(&profile.relay_level.as_str()) {
            return Err(format!("{path}: relay-level must be secure or encrypt"));
        }
        profiles.push(profile);
    }
    // Strictest first, as people read a table of them.
    let rank = |p: &Profile| {
        ["modern", "intermediate", "legacy"]
            .iter()
            .position(|n| *n == p.name)
    };
    profiles.sort_by_key(rank);
    Ok(profiles)
}

/// The built-in profiles (the tests load them strictly; a broken file leaves none).
pub fn all() -> &'static [Profile] {
    static PROFILES: OnceLock<Vec<Profile>> = OnceLock::new();
    PROFILES.get_or_init(|| load(embedded::PROFILE_FILES).unwrap_or_default())
}

/// The embedded profile files, as (path, YAML).
pub fn embedded_files() -> &'static [(&'static str, &'static str)] {
    embedded::PROFILE_FILES
}

/// The profile called `name`.
pub fn get(name: &str) -> Option<&'static Profile> {
    all().iter().find(|p| p.name == name)
}

/// The profiles as a Markdown table (README.md holds a copy, kept equal by a test).
pub fn markdown_table() -> String {
    let mut text = String::from(
        "| Profile | Mandatory TLS: protocols | Mandatory TLS: ciphers | Relay client | Opportunistic TLS (port 25, outbound) | For |\n|---|---|---|---|---|---|\n",
    );
    for p in all() {
        text.push_str(&format!(
            "| `{}` | {} or newer | `{}` | `{}` | Postfix defaults | {} |\n",
            p.name,
            p.mandatory.protocols,
            p.mandatory.ciphers,
            p.relay_level,
            p.summary.replace('|', "\\|")
        ));
    }
    text
}
