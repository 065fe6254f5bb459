//! The certificate, key and CA files a TLS engine loads, read as the daemon of a service
//! reads its parameters: the one home of which parameters name files, when they are
//! loaded at all, and which of them win (Postfix's `tls_set_my_certificate_key_info()`,
//! `tls_set_ca_certificate_info()` and smtpd's `pre_jail_init()`).

use super::config::{Config, Scope};
use super::typed::TlsSide;
use super::value::{self, TlsLevel};

/// A file as a parameter names it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NamedFile {
    /// The parameter that names it (where a finding about the file goes).
    pub param: String,
    /// The path as the expanded value gives it (relative paths are read from the queue
    /// directory, the daemon's working directory).
    pub path: String,
}

/// A legacy certificate and key pair (`*_tls_cert_file` and `*_tls_key_file`, …).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Pair {
    /// The algorithm slot, as Postfix's messages name it: `RSA`, `DSA` or `ECDSA`.
    pub algorithm: &'static str,
    /// The certificate file (with its chain after the certificate).
    pub cert: NamedFile,
    /// The key file.
    pub key: NamedFile,
}

impl Pair {
    /// Whether key and certificate are one file: Postfix then reads it in one pass, and
    /// the key may stand anywhere in it (its "mixed" mode).
    pub fn one_file(&self) -> bool {
        self.cert.path == self.key.path
    }
}

/// Where the engine's own keys and certificates come from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Identity {
    /// `*_tls_chain_files`, in load order: each key followed by its certificate and then
    /// its issuers; every legacy parameter is ignored.
    Chain(Vec<NamedFile>),
    /// The legacy pairs that are set, in Postfix's load order (RSA, DSA, ECDSA); empty
    /// for none (a client without a certificate; a server with `cert_file = none`).
    Legacy(Vec<Pair>),
}

/// Where `tls_server_sni_maps` takes the chain files for SNI names from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SniTable {
    /// `inline:{ name = files, … }`: each name with its chain files.
    Inline(Vec<(String, Vec<String>)>),
    /// `texthash:/path`: a file of `name files…` lines, read by whoever looks at files.
    Texthash(String),
}

/// What one TLS engine of one service loads.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TlsFiles {
    /// The engine.
    pub side: TlsSide,
    /// Its own keys and certificates.
    pub identity: Identity,
    /// `*_tls_CAfile`, when set.
    pub ca_file: Option<NamedFile>,
    /// `*_tls_CApath`, when set.
    pub ca_path: Option<NamedFile>,
    /// The parameter and value that make the peer's certificate verified against the CA
    /// data (`smtp_tls_security_level = secure`, `smtpd_tls_req_ccert = yes`), if any.
    pub verifies: Option<(String, String)>,
    /// The SNI table (server side), when it is of a kind whose entries name files.
    pub sni: Option<(String, SniTable)>,
    /// Where relative paths are read from: `queue_directory`.
    pub working_directory: String,
}

impl TlsFiles {
    /// Every file named, with the parameter naming it, in load order (SNI files last).
    pub fn files(&self) -> Vec<NamedFile> {
        let mut out = Vec::new();
        if let Some(ca) = &self.ca_file {
            out.push(ca.clone());
        }
        match &self.identity {
            Identity::Chain(files) => out.extend(files.iter().cloned()),
            Identity::Legacy(pairs) => {
                for pair in pairs {
                    out.push(pair.cert.clone());
                    if !pair.one_file() {
                        out.push(pair.key.clone());
                    }
                }
            }
        }
        if let Some((param, SniTable::Inline(entries))) = &self.sni {
            for (_, files) in entries {
                out.extend(files.iter().map(|path| NamedFile {
                    param: param.clone(),
                    path: path.clone(),
                }));
            }
        }
        out
    }
}

/// The files `side` loads in `scope`; `None` when that engine does not start TLS there
/// (so it reads no file).
pub fn tls_files(config: &Config<'_>, scope: Scope, side: TlsSide) -> Option<TlsFiles> {
    let prefix = side.prefix();
    let text = |name: &str| {
        config
            .text(scope, name)
            .map(|v| String::from_utf8_lossy(&v).trim().to_owned())
            .unwrap_or_default()
    };
    let level = config.tls_level(scope, side).ok()?.level;
    let started = match side {
        TlsSide::Server => level != TlsLevel::None,
        // The client also starts TLS for per-site policies when its level is none.
        TlsSide::SmtpClient | TlsSide::LmtpClient => {
            level != TlsLevel::None
                || !text(&format!("{prefix}_tls_policy_maps")).is_empty()
                || !text(&format!("{prefix}_tls_per_site")).is_empty()
        }
    };
    if !started {
        return None;
    }
    let named = |name: String| {
        let path = text(&name);
        (!path.is_empty()).then_some(NamedFile { param: name, path })
    };
    let chain_files = text(&format!("{prefix}_tls_chain_files"));
    let identity = if chain_files.is_empty() {
        let mut pairs = Vec::new();
        for (algorithm, cert, key) in [
            ("RSA", "cert_file", "key_file"),
            ("DSA", "dcert_file", "dkey_file"),
            ("ECDSA", "eccert_file", "eckey_file"),
        ] {
            let Some(cert) = named(format!("{prefix}_tls_{cert}")) else {
                continue;
            };
            // smtpd's `cert_file = none`: no certificate, on purpose.
            if side == TlsSide::Server
                && algorithm == "RSA"
                && cert.path.eq_ignore_ascii_case("none")
            {
                continue;
            }
            let key_name = format!("{prefix}_tls_{key}");
            let key = NamedFile {
                path: text(&key_name),
                param: key_name,
            };
            pairs.push(Pair {
                algorithm,
                cert,
                key,
            });
        }
        Identity::Legacy(pairs)
    } else {
        let param = format!("{prefix}_tls_chain_files");
        Identity::Chain(
            value::elements(chain_files.as_bytes())
                .into_iter()
                .map(|path| NamedFile {
                    param: param.clone(),
                    path: String::from_utf8_lossy(path).into_owned(),
                })
                .collect(),
        )
    };
    let verifies = match side {
        TlsSide::Server => {
            let required = config
                .boolean(scope, "smtpd_tls_req_ccert")
                .unwrap_or(false);
            (required && level == TlsLevel::Encrypt)
                .then(|| ("smtpd_tls_req_ccert".to_owned(), "yes".to_owned()))
        }
        _ => matches!(level, TlsLevel::Verify | TlsLevel::Secure).then(|| {
            (
                format!("{prefix}_tls_security_level"),
                level.name().to_owned(),
            )
        }),
    };
    let sni = match side {
        TlsSide::Server => sni_table(&text("tls_server_sni_maps")),
        _ => None,
    }
    .map(|table| ("tls_server_sni_maps".to_owned(), table));
    Some(TlsFiles {
        side,
        identity,
        ca_file: named(format!("{prefix}_tls_CAfile")),
        ca_path: named(format!("{prefix}_tls_CApath")),
        verifies,
        sni,
        working_directory: text("queue_directory"),
    })
}

/// The SNI table a `tls_server_sni_maps` value names, when it is one whose right-hand
/// sides are file names pflint can read (`inline:`, `texthash:`); the first such table.
fn sni_table(value: &str) -> Option<SniTable> {
    value::elements(value.as_bytes())
        .into_iter()
        .find_map(|table| {
            let table = String::from_utf8_lossy(table);
            if let Some(inside) = table.strip_prefix("inline:") {
                let inside = if inside.starts_with('{') {
                    crate::syntax::lexical::unwrapped(inside.as_bytes())
                } else {
                    inside.as_bytes()
                };
                let entries = value::elements(inside)
                    .into_iter()
                    .filter_map(|entry| {
                        let entry = if entry.starts_with(b"{") {
                            crate::syntax::lexical::unwrapped(entry)
                        } else {
                            entry
                        };
                        let text = String::from_utf8_lossy(entry);
                        // Each element is `name=value` or `{ name = value }`; anything else
                        // is a syntax error to Postfix, and names no file.
                        let (name, files) =
                            text.split_once('=').filter(|(n, _)| !n.trim().is_empty())?;
                        let files = value::elements(files.trim().as_bytes())
                            .into_iter()
                            .map(|f| String::from_utf8_lossy(f).into_owned())
                            .collect();
                        Some((name.trim().to_owned(), files))
                    })
                    .collect();
                Some(SniTable::Inline(entries))
            } else {
                table
                    .strip_prefix("texthash:")
                    .map(|path| SniTable::Texthash(path.to_owned()))
            }
        })
}
