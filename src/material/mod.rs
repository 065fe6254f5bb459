//! Files the effective configuration names, read at the edge into facts that rules judge
//! (the model itself reads nothing): the Cyrus SASL configuration smtpd's SASL needs, and
//! the certificates, keys and CA data every TLS engine loads, with what Postfix makes of
//! them.

pub mod cert;
pub mod cyrus;
pub mod key;
pub mod load;
pub mod pem;
pub mod read;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::model::config::{Config, Scope};
use crate::model::tls_files::{self, NamedFile, SniTable, TlsFiles};
use crate::model::typed::TlsSide;
pub use cyrus::CyrusConfig;
use load::{Files, Load, Locate};

/// Where the files a configuration names are looked for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Where {
    /// Not at all: nothing is known about files.
    #[default]
    Nowhere,
    /// A configuration kept elsewhere (a repository): only beside its main.cf, where
    /// `$config_directory` (or `/etc/postfix`) is this directory.
    Repository(PathBuf),
    /// The live configuration of this host, in this directory: every path as it is.
    Live(PathBuf),
}

/// Whether and how the certificate, key and CA files are read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reading {
    /// Read them at all (`--files`; on for the live configuration).
    pub enabled: bool,
    /// The directory every absolute path is read under (`--root`).
    pub root: Option<PathBuf>,
    /// Whether owners are judged: only on the host itself, where a key owned by anyone
    /// but root can be read or changed by that user (a checkout or an unpacked image
    /// has whoever unpacked it as owner).
    pub owners_matter: bool,
    /// What the certificates are judged against.
    pub expect: Expectations,
}

/// What certificates must satisfy, from `.pflint.yaml`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expectations {
    /// Days before expiry that are a warning.
    pub expiry_warning_days: u32,
    /// Days before expiry that are worth a note.
    pub expiry_info_days: u32,
    /// The names server certificates must cover (else `myhostname`).
    pub names: Vec<String>,
    /// The time certificates are judged at, in seconds since the epoch.
    pub now: i64,
    /// This server's published TLSA records, when `.pflint.yaml` gives them.
    pub tlsa: Option<Vec<crate::tlsa::zone::Published>>,
}

impl Default for Expectations {
    fn default() -> Expectations {
        Expectations {
            expiry_warning_days: 14,
            expiry_info_days: 30,
            names: Vec::new(),
            now: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64),
            tlsa: None,
        }
    }
}

/// What found of the files a configuration names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    /// Where files were looked for.
    pub place: Where,
    /// For each Cyrus SASL application name (`smtpd_sasl_path`, `smtpd` by default): the
    /// places looked at, and the one found.
    pub cyrus: std::collections::BTreeMap<String, CyrusConfig>,
    /// The TLS material, when it was read.
    pub tls: Option<Tls>,
}

/// The TLS material of a configuration: every engine and the files they load.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tls {
    /// One entry per service whose TLS engine starts.
    pub engines: Vec<Engine>,
    /// Every file read, by where it was read.
    pub files: Files,
    /// How they were read.
    pub reading: Reading,
    /// The subjects of the CA certificates this host trusts (its system bundle): an
    /// issuer among them needs no intermediate in a chain file.
    pub roots: std::collections::BTreeSet<String>,
}

/// The system's CA bundle (Debian's ca-certificates).
const SYSTEM_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// The subjects of the certificates in the system's CA bundle.
pub fn system_roots() -> std::collections::BTreeSet<String> {
    match crate::input::files::read(Path::new(SYSTEM_BUNDLE)) {
        Ok(bytes) => roots_in(&bytes),
        Err(_) => Default::default(),
    }
}

/// The subjects of the certificates in a CA bundle's bytes.
pub fn roots_in(bytes: &[u8]) -> std::collections::BTreeSet<String> {
    read::contents(bytes)
        .objects
        .into_iter()
        .filter_map(|o| match o {
            read::Object::Certificate(Ok(c)) => Some(c.subject),
            _ => None,
        })
        .collect()
}

/// One service's TLS engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Engine {
    /// The service (its `-o` overrides apply).
    pub scope: Scope,
    /// Server or client.
    pub side: TlsSide,
    /// What it loads and what came of it (shared by services that load the same).
    pub material: Rc<Material>,
}

/// What one engine loads and what Postfix makes of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Material {
    /// The files, as the parameters name them.
    pub named: TlsFiles,
    /// The outcome of loading its keys and certificates.
    pub load: Load,
    /// Each SNI name with the outcome of loading its files.
    pub sni: Vec<(String, Load)>,
    /// Why the SNI table could not be read, if it could not.
    pub sni_trouble: Option<String>,
}

impl Material {
    /// What the engine serves a client that asks for `name` by SNI: the SNI table's
    /// entry for the name or, as Postfix looks (`tls_misc.c`), for each parent domain with
    /// its leading dot (`.example.com`, `.com`), else its own keys; with the entry's name.
    pub fn load_for(&self, name: &str) -> (&Load, Option<&str>) {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        let mut candidate = name.as_str();
        loop {
            if let Some((key, load)) = self
                .sni
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(candidate))
            {
                return (load, Some(key.as_str()));
            }
            match candidate.get(1..).and_then(|rest| rest.find('.')) {
                Some(dot) => candidate = &candidate[dot + 1..],
                None => return (&self.load, None),
            }
        }
    }
}

impl Tls {
    /// The engine of `side` in `scope`.
    pub fn engine(&self, scope: Scope, side: TlsSide) -> Option<&Engine> {
        self.engines
            .iter()
            .find(|e| e.scope == scope && e.side == side)
    }

    /// The certificate at `at`, when it could be read.
    pub fn certificate(&self, at: &load::At) -> Option<&cert::Certificate> {
        load::certificate(&self.files, at)
    }

    /// The file read for `named` by an engine whose working directory is `working`.
    pub fn file(&self, named: &str, working: &str) -> Option<&read::File> {
        self.files
            .get(&read::locate(named, working, self.reading.root.as_deref()))
    }
}

/// The files of one engine, found in what was read.
struct Found<'a> {
    files: &'a Files,
    working: &'a str,
    root: Option<&'a Path>,
}

impl Locate for Found<'_> {
    fn file(&self, named: &NamedFile) -> Option<&read::File> {
        self.files
            .get(&read::locate(&named.path, self.working, self.root))
    }
}

/// Looks for the files `config` names, in `place`, reading certificate material as
/// `reading` says.
pub fn gather(config: &Config<'_>, place: &Where, reading: &Reading) -> Facts {
    Facts {
        place: place.clone(),
        cyrus: cyrus::search(config, place),
        tls: reading.enabled.then(|| tls(config, reading)),
    }
}

/// The engines a service runs: smtpd a server, smtp and lmtp a client.
fn sides(process: &[u8], service: &[u8]) -> &'static [TlsSide] {
    match process {
        b"smtpd" => &[TlsSide::Server],
        b"smtp" if service == b"lmtp" => &[TlsSide::LmtpClient],
        b"smtp" => &[TlsSide::SmtpClient],
        b"lmtp" => &[TlsSide::LmtpClient],
        _ => &[],
    }
}

/// A `texthash:` SNI table as read: its path, each name with its files, and why it could
/// not be read.
type SniFile = (String, Vec<(String, Vec<String>)>, Option<String>);

fn tls(config: &Config<'_>, reading: &Reading) -> Tls {
    let root = reading.root.as_deref();
    let mut out = Tls {
        reading: reading.clone(),
        ..Tls::default()
    };
    let mut shared: HashMap<TlsFiles, Rc<Material>> = HashMap::new();
    let mut named_by_engine = Vec::new();
    for (index, service) in config.services().iter().enumerate() {
        for &side in sides(service.process_name(), service.name()) {
            let scope = Scope::Service(index);
            if let Some(named) = tls_files::tls_files(config, scope, side) {
                named_by_engine.push((scope, side, named));
            }
        }
    }
    // Every file first, each read once however many services name it.
    for (_, _, named) in &named_by_engine {
        let working = named.working_directory.as_str();
        for file in named.files() {
            let at = read::locate(&file.path, working, root);
            out.files
                .entry(at)
                .or_insert_with(|| read::read(&file.path, working, root, false));
        }
        if let Some(ca_path) = &named.ca_path {
            let at = read::locate(&ca_path.path, working, root);
            out.files
                .entry(at)
                .or_insert_with(|| read::read(&ca_path.path, working, root, true));
        }
    }
    let mut sni_files: Vec<SniFile> = Vec::new();
    for (_, _, named) in &named_by_engine {
        if let Some((_, SniTable::Texthash(path))) = &named.sni
            && !sni_files.iter().any(|(p, _, _)| p == path)
        {
            let at = read::locate(path, &named.working_directory, root);
            let (entries, trouble) = match read::texthash(&at) {
                Ok(entries) => (
                    entries
                        .into_iter()
                        .map(|(name, value)| {
                            let files: Vec<String> =
                                crate::model::value::elements(value.as_bytes())
                                    .into_iter()
                                    .map(|f| String::from_utf8_lossy(f).into_owned())
                                    .collect();
                            (name, files)
                        })
                        .collect(),
                    None,
                ),
                Err(why) => (Vec::new(), Some(format!("{}: {why}", at.display()))),
            };
            for (_, files) in &entries {
                for file in files.iter().map(String::as_str) {
                    let at = read::locate(file, &named.working_directory, root);
                    out.files
                        .entry(at)
                        .or_insert_with(|| read::read(file, &named.working_directory, root, false));
                }
            }
            sni_files.push((path.clone(), entries, trouble));
        }
    }
    for (scope, side, named) in named_by_engine {
        let material = shared
            .entry(named.clone())
            .or_insert_with(|| {
                let found = Found {
                    files: &out.files,
                    working: &named.working_directory,
                    root,
                };
                let mut load = load::load(&named.identity, &found);
                link(&mut load, &out.files);
                let (entries, sni_trouble) = match &named.sni {
                    Some((_, SniTable::Inline(entries))) => (entries.clone(), None),
                    Some((_, SniTable::Texthash(path))) => sni_files
                        .iter()
                        .find(|(p, _, _)| p == path)
                        .map(|(_, e, t)| (e.clone(), t.clone()))
                        .unwrap_or_default(),
                    None => (Vec::new(), None),
                };
                let param = named
                    .sni
                    .as_ref()
                    .map(|(p, _)| p.clone())
                    .unwrap_or_default();
                let sni = entries
                    .into_iter()
                    .map(|(name, files)| {
                        let identity = tls_files::Identity::Chain(
                            files
                                .into_iter()
                                .map(|path| NamedFile {
                                    param: param.clone(),
                                    path,
                                })
                                .collect(),
                        );
                        let mut load = load::load(&identity, &found);
                        link(&mut load, &out.files);
                        (name, load)
                    })
                    .collect();
                Rc::new(Material {
                    named: named.clone(),
                    load,
                    sni,
                    sni_trouble,
                })
            })
            .clone();
        out.engines.push(Engine {
            scope,
            side,
            material,
        });
    }
    // The system bundle is read only when a server's leaf has its issuer nowhere in its
    // chain: parsing ~150 CA certificates would cost more than the rest of the check.
    if out.engines.iter().any(|e| issuer_missing(&out.files, e)) {
        out.roots = system_roots();
    }
    out
}

/// Fills in which certificate of each loaded chain issued which: signatures are checked
/// once here, however many services and rules look at the chain.
pub fn link(load: &mut Load, files: &Files) {
    for chain in &mut load.chains {
        let certs: Vec<Option<&cert::Certificate>> = std::iter::once(&chain.leaf)
            .chain(&chain.issuers)
            .map(|at| load::certificate(files, at))
            .collect();
        chain.issued_by = certs
            .iter()
            .map(|child| {
                let child = (*child)?;
                certs
                    .iter()
                    .position(|parent| parent.is_some_and(|p| child.issued_by(p)))
            })
            .collect();
    }
}

/// Whether a server engine loaded a leaf that is not self-issued and whose issuer's
/// name is not among the certificates after it.
fn issuer_missing(files: &Files, engine: &Engine) -> bool {
    let certificate = |at: &load::At| load::certificate(files, at);
    engine.side == TlsSide::Server
        && std::iter::once(&engine.material.load)
            .chain(engine.material.sni.iter().map(|(_, l)| l))
            .flat_map(|l| &l.chains)
            .any(|chain| {
                certificate(&chain.leaf).is_some_and(|leaf| {
                    !leaf.self_issued
                        && !chain
                            .issuers
                            .iter()
                            .filter_map(certificate)
                            .any(|c| c.subject == leaf.issuer)
                })
            })
}
