//! A plan applied to an existing configuration through the lossless trees: each change is
//! a replacement of a byte range of the original file, so everything else stays byte for
//! byte as it was.
//!
//! The plan's values are first weighed against what the configuration already has
//! ([`resolve`]): a stronger existing setting (DANE, stricter mandatory protocols, a higher
//! cipher grade, a verified relay) is kept; an error the rules report (mandatory TLS on a
//! public port 25 or towards other domains' MX hosts) is corrected, with a comment that
//! says so. Then:
//!
//! - a main.cf parameter the plan sets is changed in place (its comments and position
//!   kept); one it replaces (a deprecated alias, a legacy certificate parameter that
//!   `smtpd_tls_chain_files` makes Postfix ignore, a deprecated TLS parameter) becomes a
//!   comment saying why; the rest goes into one marked block at the end;
//! - a master.cf `-o` that overrides a planned value on a service of that role (port 25,
//!   the delivery transports) is updated or removed; the submission services are updated
//!   option by option, or added; without a master.cf, Postfix's stock one (which pflint
//!   assumes) is written with them.
//!
//! Last, the result's TLS posture is compared with the original's, service by service
//! ([`super::strength`]): a service that inherited a main.cf value the plan changes keeps
//! its old value through a `-o` of its own; anything else that would be weaker makes the
//! edit fail, so nothing is written.

use std::collections::{BTreeMap, BTreeSet};

use super::strength::{self, Weakening};
use super::{Plan, Role, Service as PlannedService, Setting, suppressions};
use crate::diagnostic::Code;
use crate::edit::master::{self as option, OptionEdit};
use crate::edit::{Replacement, apply, comment_lines, line_start};
use crate::input::config_dir::{ConfigDir, Loaded};
use crate::model::config::Daemon;
use crate::model::subject::{SubjectKind, subjects};
use crate::model::tls::{CipherGrade, Protocols};
use crate::model::{Config, HostFacts, ListenerKind, Roles, Scope, TlsLevel, TlsSide, Version};
use crate::source::{SourceFile, Span};
use crate::syntax::document::{Document, Entry, Item};
use crate::syntax::master_cf::MasterCf;

/// The new contents of main.cf and master.cf, when they change.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Edited {
    /// main.cf's new bytes, if it changes.
    pub main: Option<Vec<u8>>,
    /// master.cf's new bytes, if it changes (or is created).
    pub master: Option<Vec<u8>>,
    /// What the user should know about choices made (for standard error).
    pub notes: Vec<String>,
}

impl Edited {
    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        self.main.is_none() && self.master.is_none()
    }
}

/// Parameters a planned one makes obsolete: Postfix ignores them, or they say the same in
/// a deprecated way.
fn replaced_by(name: &str) -> &'static [&'static str] {
    match name {
        "smtpd_tls_security_level" => &["smtpd_use_tls", "smtpd_enforce_tls"],
        "smtp_tls_security_level" => &[
            "smtp_use_tls",
            "smtp_enforce_tls",
            "smtp_tls_enforce_peername",
        ],
        "smtpd_tls_chain_files" => LEGACY_CERTIFICATES,
        _ => &[],
    }
}

/// The certificate and key parameters `smtpd_tls_chain_files` makes Postfix ignore.
const LEGACY_CERTIFICATES: &[&str] = &[
    "smtpd_tls_cert_file",
    "smtpd_tls_key_file",
    "smtpd_tls_eccert_file",
    "smtpd_tls_eckey_file",
    "smtpd_tls_dcert_file",
    "smtpd_tls_dkey_file",
];

/// The parameters that give smtpd a certificate.
const CERTIFICATE_PARAMETERS: [&str; 4] = [
    "smtpd_tls_chain_files",
    "smtpd_tls_cert_file",
    "smtpd_tls_eccert_file",
    "smtpd_tls_dcert_file",
];

/// The subjects whose `-o` overrides of a planned main.cf setting would defeat it.
fn overridden_on(role: Role) -> &'static [SubjectKind] {
    match role {
        Role::Mx => &[SubjectKind::Mx],
        Role::Outbound => &[SubjectKind::DirectDelivery],
        Role::RelayClient => &[SubjectKind::RelayClient],
        Role::Submission => &[],
    }
}

/// A planned setting weighed against the configuration.
#[derive(Clone, Debug)]
struct Decided {
    /// The setting, with the value to write and the suppressions that value needs.
    setting: Setting,
    /// Leave the configuration's own value as it is.
    keep: bool,
}

/// A `-o` a service gets so that it keeps what it had.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Pin {
    service: usize,
    name: String,
    value: String,
}

/// What one run of the edit works on.
struct Context<'a> {
    main_src: &'a [u8],
    main_tree: &'a crate::syntax::MainCf,
    master: Option<&'a Loaded<MasterCf>>,
    /// Whether master.cf is Postfix's stock one, assumed because there is none.
    assumed_master: bool,
    config: &'a Config<'a>,
    roles: &'a Roles,
    plan: &'a Plan,
    version: Version,
}

/// What every run of the edit shares: the files and the plan. A [`Context`] adds a model
/// of the files, built for the run.
struct Files<'a> {
    main: &'a Loaded<crate::syntax::MainCf>,
    master: Option<&'a Loaded<MasterCf>>,
    assumed_master: bool,
    plan: &'a Plan,
    version: Version,
}

impl Files<'_> {
    /// Runs `f` on the context of `config`, a model of these files.
    fn with<R>(&self, config: &Config<'_>, f: impl FnOnce(&Context<'_>) -> R) -> R {
        let roles = config.roles();
        f(&Context {
            main_src: self.main.file.bytes(),
            main_tree: &self.main.tree,
            master: self.master,
            assumed_master: self.assumed_master,
            config,
            roles: &roles,
            plan: self.plan,
            version: self.version,
        })
    }
}

/// The edits that bring `dir` to `plan`, for the target `version`.
pub fn edit(dir: &ConfigDir, plan: &Plan, version: Version) -> Result<Edited, String> {
    let main = dir
        .main
        .as_ref()
        .ok_or("the configuration directory has no main.cf")?;
    let stock = dir
        .master
        .is_none()
        .then(crate::input::config_dir::stock_master);
    let master = dir.master.as_ref().or(stock.as_ref());
    let host = HostFacts::assumed();
    // The configuration's model is dropped before the result's is built, and built again
    // in the rare round that needs it: a large configuration's two models would be most
    // of what generate holds.
    let model = || dir.model_with_master(master, version, &host, None, false);
    let files = Files {
        main,
        master,
        assumed_master: dir.master.is_none(),
        plan,
        version,
    };
    let mut notes = Vec::new();
    let first = model();
    let (before, mut decided) = files.with(&first, |cx| {
        (
            strength::postures(cx.config, cx.roles),
            resolve(cx, &mut notes),
        )
    });
    let mut config = Some(first);
    let mut pins: Vec<Pin> = Vec::new();
    let mut by_name: Option<std::collections::HashMap<String, usize>> = None;
    let mut unused_checked = false;
    loop {
        let edited = files.with(&config.take().unwrap_or_else(model), |cx| {
            render(cx, &decided, &pins)
        })?;
        let (changes_main, changes_master) = (edited.main.is_some(), edited.master.is_some());
        let result = reread(dir, edited.main, edited.master)?;
        // The result's model is dropped before the next one is built: a large
        // configuration's models are most of what generate holds.
        let weaker: Vec<Weakening> = {
            let stock_after = result
                .master
                .is_none()
                .then(crate::input::config_dir::stock_master);
            let after_config = result.model_with_master(
                result.master.as_ref().or(stock_after.as_ref()),
                version,
                &host,
                None,
                false,
            );
            let after = strength::postures(&after_config, &after_config.roles());
            // Postures hold no part of the model: the model goes before they are compared.
            drop(after_config);
            strength::weakenings(&before, &after)
                .into_iter()
                .filter(|w| w.correction.is_none())
                .collect()
        };
        if weaker.is_empty() {
            // A suppression the profile asks for is written only where its finding
            // would otherwise appear (a loopback-only submission service has none).
            if !unused_checked && drop_unused_suppressions(&result, version, &mut decided) {
                unused_checked = true;
                continue;
            }
            // The new bytes are the result's own, given back rather than copied.
            let ConfigDir { main, master } = result;
            return Ok(Edited {
                main: main.filter(|_| changes_main).map(|m| m.file.into_bytes()),
                master: master
                    .filter(|_| changes_master)
                    .map(|m| m.file.into_bytes()),
                notes,
            });
        }
        let config = config.insert(model());
        // The last service of each name/type (the one Postfix uses), indexed the first
        // time a weakening needs it and kept for the next rounds.
        let by_name = by_name.get_or_insert_with(|| {
            config
                .services()
                .iter()
                .enumerate()
                .map(|(i, s)| (s.name_type(), i))
                .collect()
        });
        let new_pins: Vec<Pin> = weaker
            .iter()
            .filter_map(|w| pin_for(w, config, by_name.get(&w.service).copied()?))
            .filter(|p| !pins.contains(p))
            .collect();
        if new_pins.is_empty() || pins.len() > 64 {
            let list: Vec<String> = weaker.iter().map(ToString::to_string).collect();
            return Err(format!(
                "not editing: the result would be weaker than the configuration ({}); please report this",
                list.join("; ")
            ));
        }
        pins.extend(new_pins);
    }
}

/// The directory as it would be with the new bytes of main.cf and master.cf, where they
/// change.
fn reread(
    dir: &ConfigDir,
    main: Option<Vec<u8>>,
    master: Option<Vec<u8>>,
) -> Result<ConfigDir, String> {
    let file = |name: &str, bytes: Vec<u8>| {
        SourceFile::new(name, bytes).map_err(|e| format!("{name}: {e}"))
    };
    let main = match (main, &dir.main) {
        (Some(bytes), _) => Some(file("main.cf", bytes)?),
        (None, Some(m)) => Some(file("main.cf", m.file.bytes().to_vec())?),
        (None, None) => None,
    };
    let master = match (master, &dir.master) {
        (Some(bytes), _) => Some(file("master.cf", bytes)?),
        (None, Some(m)) => Some(file("master.cf", m.file.bytes().to_vec())?),
        (None, None) => None,
    };
    Ok(ConfigDir::from_files(main, master))
}

/// Removes the suppressions that would silence nothing in the result; whether any was.
fn drop_unused_suppressions(result: &ConfigDir, version: Version, decided: &mut [Decided]) -> bool {
    // Only the suppressions written here may be dropped: without any, no check is due.
    let Some(main) = result
        .main
        .as_ref()
        .filter(|_| decided.iter().any(|d| !d.setting.suppress.is_empty()))
    else {
        return false;
    };
    let copy = ConfigDir::from_files(
        SourceFile::new("main.cf", main.file.bytes().to_vec()).ok(),
        result
            .master
            .as_ref()
            .and_then(|m| SourceFile::new("master.cf", m.file.bytes().to_vec()).ok()),
    );
    let options = crate::check::Options {
        target: crate::model::version::Target::given(version),
        ..crate::check::Options::default()
    };
    let src = main.file.bytes();
    let mut dropped = false;
    for checked in crate::check::check_config(copy, &options) {
        if checked.kind != crate::syntax::FileKind::Main {
            continue;
        }
        // Findings come in file order, so the entries are walked once for all of them.
        let mut entries = main.tree.entries().peekable();
        for finding in checked.findings.iter().filter(|f| f.code == Code::PF020) {
            let line = String::from_utf8_lossy(
                &src[finding.span.start as usize..finding.span.end as usize],
            )
            .trim()
            .trim_start_matches('#')
            .trim()
            .to_owned();
            while entries
                .next_if(|e| e.span().start <= finding.span.start)
                .is_some()
            {}
            let Some(entry) = entries.peek() else {
                continue;
            };
            let name = entry.name(src);
            for d in decided.iter_mut() {
                if d.setting.name.as_bytes() == name && d.setting.suppress.contains(&line) {
                    d.setting.suppress.retain(|s| *s != line);
                    dropped = true;
                }
            }
        }
    }
    dropped
}

/// The `-o` that keeps the old value of the service at `index`, for a weakening that
/// comes from a main.cf value the service inherited.
fn pin_for(w: &Weakening, config: &Config<'_>, index: usize) -> Option<Pin> {
    let service = &config.services()[index];
    let prefix = match service.daemon() {
        Daemon::Smtpd => "smtpd",
        Daemon::Lmtp => "lmtp",
        _ => "smtp",
    };
    let (name, value) = match w.property {
        "TLS level" | "DANE" if prefix != "smtpd" => {
            let level = config
                .tls_level(Scope::Service(index), side_of(prefix))
                .ok()?
                .level;
            (format!("{prefix}_tls_security_level"), level.to_string())
        }
        "TLS level" => ("smtpd_tls_security_level".to_owned(), w.before.clone()),
        "AUTH only after TLS" => ("smtpd_tls_auth_only".to_owned(), "yes".to_owned()),
        _ => return None,
    };
    // A service with its own `-o` of the parameter does not inherit it.
    if config.overrides(index).contains_key(name.as_bytes()) {
        return None;
    }
    Some(Pin {
        service: index,
        name,
        value,
    })
}

fn side_of(prefix: &str) -> TlsSide {
    match prefix {
        "lmtp" => TlsSide::LmtpClient,
        "smtpd" => TlsSide::Server,
        _ => TlsSide::SmtpClient,
    }
}

/// The last main.cf entry of each name: the one Postfix uses.
fn last_entries<'t>(
    tree: &'t crate::syntax::MainCf,
    src: &[u8],
) -> BTreeMap<Vec<u8>, &'t crate::syntax::main_cf::Parameter> {
    let mut last = BTreeMap::new();
    for item in &tree.items {
        if let Item::Entry(p) = item {
            last.insert(p.name(src).to_vec(), &**p);
        }
    }
    last
}

/// The level of the first service of a kind of subject, or of main.cf without one.
fn subject_level(cx: &Context<'_>, kind: SubjectKind, side: TlsSide) -> Option<TlsLevel> {
    let scope = subjects(kind, cx.config, cx.roles)
        .next()
        .map_or(Scope::Main, |s| s.scope);
    cx.config.tls_level(scope, side).ok().map(|t| t.level)
}

/// The plan's settings weighed against the configuration.
fn resolve(cx: &Context<'_>, notes: &mut Vec<String>) -> Vec<Decided> {
    let last = last_entries(cx.main_tree, cx.main_src);
    let has_certificate = CERTIFICATE_PARAMETERS
        .iter()
        .any(|name| last.contains_key(name.as_bytes()));
    let mut decided = Vec::new();
    for setting in &cx.plan.main {
        let certificate = CERTIFICATE_PARAMETERS.contains(&setting.name.as_str())
            || setting.name == "smtpd_tls_key_file";
        let keep = setting.keep_existing
            && if certificate {
                has_certificate
            } else {
                last.contains_key(setting.name.as_bytes())
            };
        let mut d = Decided {
            setting: setting.clone(),
            keep,
        };
        if !keep {
            weigh(cx, &mut d, notes);
        } else if setting.name == "smtpd_tls_chain_files"
            && let Some(files) = chain_of_legacy(cx, &last)
        {
            // The existing key and certificate, in the form the target version prefers.
            d.keep = false;
            d.setting.value = files;
            d.setting.comment = vec![
                "Server private key, then its certificate and chain (the files of the".to_owned(),
                "smtpd_tls_cert_file and smtpd_tls_key_file this replaces).".to_owned(),
            ];
        }
        decided.push(d);
    }
    // A relay level that verifies certificates, kept or joined, needs trust anchors.
    let verifies = decided.iter().any(|d| {
        d.setting.name == "smtp_tls_security_level"
            && d.setting.role == Some(Role::RelayClient)
            && matches!(d.setting.value.as_str(), "secure" | "verify")
    });
    let anchors = decided.iter().any(|d| d.setting.name == "smtp_tls_CAfile")
        || ["smtp_tls_CAfile", "smtp_tls_CApath"]
            .iter()
            .any(|n| last.contains_key(n.as_bytes()));
    if verifies && !anchors {
        let mut setting = super::setting(
            &["The relay's certificate is verified against the system CAs."],
            "smtp_tls_CAfile",
            super::SYSTEM_CA_FILE,
        );
        setting.role = Some(Role::RelayClient);
        decided.push(Decided {
            setting,
            keep: false,
        });
    }
    // DANE, kept or asked for, needs DNSSEC lookups.
    let dane = decided.iter().any(|d| {
        d.setting.name == "smtp_tls_security_level"
            && d.setting.role == Some(Role::Outbound)
            && !d.keep
            && d.setting.value == "dane"
    });
    if dane
        && !decided
            .iter()
            .any(|d| d.setting.name == "smtp_dns_support_level")
    {
        let mut setting = super::setting(
            &["DANE (kept) needs DNSSEC lookups and a DNSSEC-validating resolver."],
            "smtp_dns_support_level",
            "dnssec",
        );
        setting.role = Some(Role::Outbound);
        decided.push(Decided {
            setting,
            keep: false,
        });
    }
    for d in &mut decided {
        d.setting.suppress = suppressions(
            &d.setting.name,
            &d.setting.value,
            d.setting.role,
            &cx.plan.profile,
        );
    }
    decided
}

/// The existing legacy certificate settings as `smtpd_tls_chain_files` (each key, then its
/// certificate), when that says the same for certain: from Postfix 3.4, no chain files
/// yet, every key in a file of its own (a combined file might hold the certificate before
/// the key, which chain files do not read), no DSA pair, and no service with a certificate
/// of its own (it would lose it to main.cf's chain files).
fn chain_of_legacy(
    cx: &Context<'_>,
    last: &BTreeMap<Vec<u8>, &crate::syntax::main_cf::Parameter>,
) -> Option<String> {
    if !cx.version.at_least(Version::new(3, 4))
        || last.contains_key(b"smtpd_tls_chain_files".as_slice())
    {
        return None;
    }
    let value = |name: &str| {
        last.get(name.as_bytes())
            .map(|p| {
                String::from_utf8_lossy(&p.value(cx.main_src))
                    .trim()
                    .to_owned()
            })
            .filter(|v| !v.is_empty())
    };
    if value("smtpd_tls_dcert_file").is_some() || value("smtpd_tls_dkey_file").is_some() {
        return None;
    }
    let own_certificate = (0..cx.config.services().len()).any(|i| {
        LEGACY_CERTIFICATES
            .iter()
            .chain(["smtpd_tls_chain_files"].iter())
            .any(|n| cx.config.overrides(i).contains_key(n.as_bytes()))
    });
    if own_certificate {
        return None;
    }
    let mut files = Vec::new();
    for (cert, key) in [
        ("smtpd_tls_cert_file", "smtpd_tls_key_file"),
        ("smtpd_tls_eccert_file", "smtpd_tls_eckey_file"),
    ] {
        match (value(cert), value(key)) {
            (None, None) => {}
            (Some(cert), Some(key)) if cert != key && cert != "none" => {
                files.push(key);
                files.push(cert);
            }
            _ => return None,
        }
    }
    (!files.is_empty()).then(|| files.join(", "))
}

/// Decides one setting's value against the configuration: what is stronger stays.
fn weigh(cx: &Context<'_>, d: &mut Decided, notes: &mut Vec<String>) {
    let main_text = |name: &str| {
        cx.config
            .text(Scope::Main, name)
            .ok()
            .map(|v| String::from_utf8_lossy(&v).into_owned())
    };
    let name = d.setting.name.clone();
    match (name.as_str(), d.setting.role) {
        ("smtp_tls_security_level", Some(Role::Outbound)) => {
            if !cx.roles.direct_delivery {
                d.keep = true;
                notes.push(
                    "outbound: this configuration sends mail through a relay, not straight to MX hosts, so smtp_tls_security_level is left as it is".to_owned(),
                );
                return;
            }
            // DANE stays (dane-only, mandatory for every destination, becomes dane).
            let level = subject_level(cx, SubjectKind::DirectDelivery, TlsSide::SmtpClient);
            if let Some(TlsLevel::Dane | TlsLevel::DaneOnly) = level {
                d.setting.value = "dane".to_owned();
            }
        }
        ("smtp_tls_security_level", Some(Role::RelayClient)) => {
            let planned = TlsLevel::parse(d.setting.value.as_bytes());
            let current = subject_level(cx, SubjectKind::RelayClient, TlsSide::SmtpClient)
                .or_else(|| subject_level(cx, SubjectKind::SmtpClient, TlsSide::SmtpClient));
            if let (Some(current), Some(planned)) = (current, planned) {
                let level = strength::client_join(current, planned);
                d.setting.value = level.to_string();
                d.keep = level == current && main_text(&name).is_some_and(|v| v == d.setting.value);
            }
        }
        (n, _) if n.ends_with("_tls_mandatory_protocols") => {
            let Some(current) = main_text(n) else { return };
            let current = Protocols::parse(&current);
            let planned = Protocols::parse(&d.setting.value);
            if planned.within(current) {
                return;
            }
            if current.within(planned) {
                d.keep = true;
            } else {
                d.setting.value = current.and(planned).render(cx.version);
            }
        }
        (n, _) if n.ends_with("_tls_mandatory_ciphers") => {
            let current = main_text(n).and_then(|v| CipherGrade::parse(&v));
            let planned = CipherGrade::parse(&d.setting.value);
            if let (Some(current), Some(planned)) = (current, planned)
                && current > planned
            {
                d.keep = true;
            }
        }
        _ => {}
    }
}

/// The comment that says why a level changed, when the change corrects an error the rules
/// report.
fn correction_note(name: &str, role: Option<Role>, old: TlsLevel, new: &str) -> Option<String> {
    let new_level = TlsLevel::parse(new.as_bytes())?;
    match (name, role) {
        ("smtpd_tls_security_level", Some(Role::Mx))
            if old.is_mandatory() && new_level == TlsLevel::May =>
        {
            Some(format!(
                "pflint generate: was {old}; a public MX must offer STARTTLS, not require it (RFC 3207; PF201)"
            ))
        }
        ("smtp_tls_security_level", Some(Role::Outbound))
            if old.is_mandatory() && !new_level.is_mandatory() =>
        {
            Some(format!(
                "pflint generate: was {old}; mandatory TLS for delivery to other domains' MX hosts bounces mail to servers without it (PF101)"
            ))
        }
        _ => None,
    }
}

/// The level a value of a level parameter (or a legacy switch) stands for.
fn level_of(name: &str, value: &[u8]) -> Option<TlsLevel> {
    if name.ends_with("_enforce_tls") {
        return value
            .eq_ignore_ascii_case(b"yes")
            .then_some(TlsLevel::Encrypt);
    }
    TlsLevel::parse(value)
}

/// The text of the comment lines right above an entry (the block a suppression must be in).
fn comments_above<E: Entry>(tree: &Document<E>, entry: Span, src: &[u8]) -> Vec<String> {
    // The items are in file order: the entry is found by its start, not by a walk from
    // the top (an edit of every service of a large master.cf asks for each).
    let at = tree
        .items
        .partition_point(|item| item.span().start < entry.start);
    if tree.items.get(at).is_none_or(|item| item.span() != entry) {
        return Vec::new();
    }
    let mut block: Vec<String> = tree.items[..at]
        .iter()
        .rev()
        .map_while(|item| match item {
            Item::Comment(span) => Some(
                String::from_utf8_lossy(&src[span.start as usize..span.end as usize])
                    .trim()
                    .trim_start_matches('#')
                    .trim()
                    .to_owned(),
            ),
            _ => None,
        })
        .collect();
    block.reverse();
    block
}

/// The comment lines to insert right above a main.cf entry: `notes`, and the setting's
/// suppressions that are not there yet.
fn comments_before(
    tree: &crate::syntax::MainCf,
    entry: Span,
    src: &[u8],
    mut lines: Vec<String>,
    setting: &Setting,
) -> Option<Replacement> {
    let above = comments_above(tree, entry, src);
    lines.extend(
        setting
            .suppress
            .iter()
            .filter(|s| !above.contains(s))
            .cloned(),
    );
    (!lines.is_empty()).then(|| Replacement {
        span: Span {
            start: entry.start,
            end: entry.start,
        },
        text: comment_lines(&lines),
    })
}

/// The edits for the decided settings and the pins.
fn render(cx: &Context<'_>, decided: &[Decided], pins: &[Pin]) -> Result<Edited, String> {
    let src = cx.main_src;
    let table = crate::model::params::table();
    let last = last_entries(cx.main_tree, src);
    let mut main_edits = Vec::new();
    let mut appended: Vec<(&Setting, Vec<String>)> = Vec::new();
    let mut obsolete: Vec<(String, String)> = cx
        .plan
        .reset
        .iter()
        .map(|r| (r.name.clone(), r.reason.clone()))
        .collect();
    let written: BTreeSet<&str> = decided
        .iter()
        .filter(|d| !d.keep)
        .map(|d| d.setting.name.as_str())
        .collect();
    let server_roles =
        cx.plan.roles.contains(&Role::Mx) || cx.plan.roles.contains(&Role::Submission);
    let chain_files = decided.iter().any(|d| {
        d.setting.name == "smtpd_tls_chain_files"
            && (!d.keep || last.contains_key(b"smtpd_tls_chain_files".as_slice()))
    }) && cx.version.at_least(Version::new(3, 4));
    if server_roles && chain_files {
        for old in LEGACY_CERTIFICATES {
            obsolete.push((
                (*old).to_owned(),
                "Postfix ignores it while smtpd_tls_chain_files is set (PF208)".to_owned(),
            ));
        }
    }
    for d in decided.iter().filter(|d| d.keep) {
        // A kept value the profile accepts on purpose still gets its suppression.
        if let Some(p) = last.get(d.setting.name.as_bytes())
            && *p.value(src) == *d.setting.value.as_bytes()
        {
            main_edits.extend(comments_before(
                cx.main_tree,
                p.span(),
                src,
                Vec::new(),
                &d.setting,
            ));
        }
    }
    for d in decided.iter().filter(|d| !d.keep) {
        let setting = &d.setting;
        match last.get(setting.name.as_bytes()) {
            Some(p) => {
                let old_value = p.value(src);
                let mut notes: Vec<String> = Vec::new();
                if *old_value != *setting.value.as_bytes() {
                    main_edits.push(Replacement {
                        span: p.value_span(),
                        text: setting.value.clone(),
                    });
                    if let Some(old) = level_of(&setting.name, &old_value)
                        && let Some(note) =
                            correction_note(&setting.name, setting.role, old, &setting.value)
                    {
                        notes.push(note);
                    }
                }
                main_edits.extend(comments_before(cx.main_tree, p.span(), src, notes, setting));
            }
            None => {
                // The level a legacy switch gave is corrected too: say so in the block.
                let notes = replaced_by(&setting.name)
                    .iter()
                    .filter_map(|old| {
                        let p = last.get(old.as_bytes())?;
                        let level = level_of(old, &p.value(src))?;
                        correction_note(&setting.name, setting.role, level, &setting.value)
                    })
                    .collect();
                appended.push((setting, notes));
            }
        }
        for old in replaced_by(&setting.name) {
            obsolete.push(((*old).to_owned(), format!("{} replaces it", setting.name)));
        }
    }
    for item in &cx.main_tree.items {
        let Item::Entry(p) = item else { continue };
        let name = String::from_utf8_lossy(p.name(src)).into_owned();
        if written.contains(name.as_str()) {
            continue;
        }
        let reason = obsolete
            .iter()
            .find(|(old, _)| *old == name)
            .map(|(_, why)| why.clone())
            .or_else(|| {
                let info = table.get(&name)?;
                if name.contains("tls")
                    && let Some(since) = info.ignored.filter(|v| cx.version.at_least(*v))
                {
                    return Some(format!("no effect since Postfix {since}"));
                }
                // A per-site table carries policy no replacement says the same way.
                (name.contains("tls")
                    && !name.ends_with("_per_site")
                    && info.deprecated_in(cx.version))
                .then(|| format!("deprecated in Postfix {}", cx.version))
            });
        if let Some(reason) = reason {
            let value = String::from_utf8_lossy(&p.value(src)).into_owned();
            main_edits.push(Replacement {
                span: p.span(),
                text: format!("# pflint generate removed `{name} = {value}`: {reason}\n"),
            });
        }
    }
    if !appended.is_empty() {
        let mut block = String::new();
        if !src.is_empty() && !src.ends_with(b"\n") {
            block.push('\n');
        }
        block.push_str(&format!("\n# BEGIN {}\n", cx.plan.title));
        for (s, notes) in appended {
            block.push_str(&comment_lines(&s.comment));
            block.push_str(&comment_lines(&notes));
            block.push_str(&comment_lines(&s.suppress));
            block.push_str(&format!("{} = {}\n", s.name, s.value));
        }
        block.push_str("# END pflint generate\n");
        let end = src.len() as u32;
        main_edits.push(Replacement {
            span: Span { start: end, end },
            text: block,
        });
    }

    let master_edits = master_edits(cx, decided, pins);
    let master_src = cx.master.map(|m| m.file.bytes()).unwrap_or_default();
    let master = match apply(master_src, master_edits)? {
        Some(mut bytes) if cx.assumed_master => {
            let mut created = b"# Postfix's stock master.cf, which pflint assumed as there was none, with the\n# services pflint generate adds.\n".to_vec();
            created.append(&mut bytes);
            Some(created)
        }
        other => other,
    };
    Ok(Edited {
        main: apply(src, main_edits)?,
        master,
        notes: Vec::new(),
    })
}

/// Changes to one master.cf service.
#[derive(Default)]
struct ServiceChanges {
    replace: Vec<Replacement>,
    add: Vec<(String, String)>,
    notes: Vec<String>,
}

/// The master.cf edits: overrides that defeat a planned value, port 25 without AUTH, the
/// submission services, and the pins.
fn master_edits(cx: &Context<'_>, decided: &[Decided], pins: &[Pin]) -> Vec<Replacement> {
    let Some(master) = cx.master else {
        return Vec::new();
    };
    let src = master.file.bytes();
    let config = cx.config;
    let mut edits = Vec::new();
    let mut changes: BTreeMap<usize, ServiceChanges> = BTreeMap::new();
    for reset in &cx.plan.reset {
        let Some(role) = reset.role else { continue };
        for index in role_services(cx, role) {
            let node = config.services()[index].node;
            for o in node.overrides() {
                if o.name
                    .as_ref()
                    .is_some_and(|n| *node.text(src, n.clone()) == *reset.name.as_bytes())
                {
                    edits.push(option::remove_option(node, o, src));
                }
            }
        }
    }
    for d in decided.iter().filter(|d| !d.keep) {
        let setting = &d.setting;
        let Some(role) = setting.role else { continue };
        for index in role_services(cx, role) {
            let node = config.services()[index].node;
            for o in node.overrides() {
                let (Some(name), Some(value)) = (&o.name, &o.value) else {
                    continue;
                };
                let name = node.text(src, name.clone());
                if *name == *setting.name.as_bytes() {
                    let old = node.text(src, value.clone());
                    if *old != *setting.value.as_bytes() {
                        let entry = changes.entry(index).or_default();
                        entry.replace.push(Replacement {
                            span: node.source_span(value.clone()),
                            text: setting.value.clone(),
                        });
                        if let Some(level) = level_of(&setting.name, &old)
                            && let Some(note) =
                                correction_note(&setting.name, setting.role, level, &setting.value)
                        {
                            entry.notes.push(note);
                        }
                    }
                } else if replaced_by(&setting.name)
                    .iter()
                    .any(|old| *name == *old.as_bytes())
                {
                    edits.push(option::remove_option(node, o, src));
                }
            }
        }
    }
    // Port 25 takes mail from other servers; AUTH belongs on the submission ports.
    if cx.plan.roles.contains(&Role::Mx) {
        for index in role_services(cx, Role::Mx) {
            let scope = Scope::Service(index);
            if !config
                .boolean(scope, "smtpd_sasl_auth_enable")
                .unwrap_or(false)
            {
                continue;
            }
            // A sender-login check works only with SASL on (smtpd skips it otherwise):
            // turning AUTH off would silently drop it, which is weaker.
            if let Some((list, item)) = config.sasl_restrictions(scope).into_iter().next() {
                changes.entry(index).or_default().notes.push(format!(
                    "pflint generate: AUTH stays on here (PF205): `{item}` in {list} works only with SASL on"
                ));
                continue;
            }
            {
                set_option(
                    config,
                    src,
                    index,
                    "smtpd_sasl_auth_enable",
                    "no",
                    changes.entry(index).or_default(),
                );
                changes.entry(index).or_default().notes.push(
                    "pflint generate: no AUTH on port 25, where other servers deliver; users log in on the submission ports (PF205)".to_owned(),
                );
            }
        }
    }
    let mut added = String::new();
    for planned in &cx.plan.services {
        match find_service(cx, planned) {
            Some(index) => update_service(
                config,
                src,
                index,
                planned,
                changes.entry(index).or_default(),
            ),
            None => added.push_str(&render_service(planned)),
        }
    }
    for pin in pins {
        let entry = changes.entry(pin.service).or_default();
        entry.add.push((pin.name.clone(), pin.value.clone()));
        entry.notes.push(format!(
            "pflint generate: {} = {} kept for this service (main.cf changed for another role)",
            pin.name, pin.value
        ));
    }
    for (index, change) in changes {
        let node = config.services()[index].node;
        edits.extend(change.replace);
        if !change.add.is_empty() {
            edits.push(option::add_options(node, src, &change.add));
        }
        // A note already above the entry (from an earlier run) is not written again.
        let mut notes = change.notes;
        notes.dedup();
        if !notes.is_empty() {
            let above = comments_above(&master.tree, node.span(), src);
            notes.retain(|n| !above.contains(n));
        }
        if !notes.is_empty() {
            let start = line_start(src, node.span().start);
            edits.push(Replacement::insert(start, comment_lines(&notes)));
        }
    }
    if !added.is_empty() {
        let mut block = String::new();
        if !src.is_empty() && !src.ends_with(b"\n") {
            block.push('\n');
        }
        block.push_str(&format!(
            "\n# BEGIN {}\n{added}# END pflint generate\n",
            cx.plan.title
        ));
        let end = src.len() as u32;
        edits.push(Replacement {
            span: Span { start: end, end },
            text: block,
        });
    }
    edits
}

/// Sets `-o name=value` on a service: its own option changed, or a new one added.
fn set_option(
    config: &Config<'_>,
    src: &[u8],
    index: usize,
    name: &str,
    value: &str,
    change: &mut ServiceChanges,
) {
    match option::set_option(config.services()[index].node, src, name, value) {
        OptionEdit::Same => {}
        OptionEdit::Replace(r) => change.replace.push(r),
        OptionEdit::Add => change.add.push((name.to_owned(), value.to_owned())),
    }
}

/// The master.cf services (indexes) whose `-o` options concern a role's settings.
fn role_services(cx: &Context<'_>, role: Role) -> BTreeSet<usize> {
    overridden_on(role)
        .iter()
        .flat_map(|kind| subjects(*kind, cx.config, cx.roles))
        .filter_map(|subject| match subject.scope {
            Scope::Service(index) => Some(index),
            Scope::Main => None,
        })
        .collect()
}

/// The existing master.cf service that listens where a planned one would: the same
/// port, whatever its name (`smtps` and `submissions`, `587` and `submission`), as two
/// services cannot share a port. The master daemon uses the last of duplicates.
fn find_service(cx: &Context<'_>, planned: &PlannedService) -> Option<usize> {
    let kind = match planned.name.as_str() {
        "submission" => ListenerKind::Submission,
        _ => ListenerKind::Submissions,
    };
    cx.roles
        .listeners
        .iter()
        .rfind(|l| l.kind == kind)
        .map(|l| l.service)
}

/// Updates an existing service's `-o` options to the planned values. An existing service
/// keeps its log name and milter macros (they are not TLS), and its own restrictions
/// where it has them (they may name the site's classes).
fn update_service(
    config: &Config<'_>,
    src: &[u8],
    index: usize,
    planned: &PlannedService,
    change: &mut ServiceChanges,
) {
    let node = config.services()[index].node;
    let options: Vec<_> = node.overrides().collect();
    let own = ["syslog_name", "milter_macro_daemon_name"];
    let kept_if_set = ["smtpd_client_restrictions", "smtpd_relay_restrictions"];
    for (name, value) in planned
        .options
        .iter()
        .filter(|(n, _)| !own.contains(&n.as_str()))
    {
        let set = options.iter().any(|o| {
            o.name
                .as_ref()
                .is_some_and(|n| *node.text(src, n.clone()) == *name.as_bytes())
        });
        if set && kept_if_set.contains(&name.as_str()) {
            continue;
        }
        set_option(config, src, index, name, value, change);
    }
}

fn render_service(service: &PlannedService) -> String {
    super::render_master(&Plan {
        title: String::new(),
        profile: String::new(),
        roles: Vec::new(),
        main: Vec::new(),
        services: vec![service.clone()],
        reset: Vec::new(),
    })
}
