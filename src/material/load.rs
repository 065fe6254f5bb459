//! What Postfix makes of the files it loads for one TLS engine, object by object, as
//! `tls_certkey.c` reads them: with `*_tls_chain_files` each key must come first and be
//! followed by its certificate and then its issuers, one key per algorithm; a legacy
//! certificate file gives the leaf and its chain and the key file its first key; a
//! certificate and key in one file (the key file left at its default) may have the key
//! anywhere. The first failure disables TLS for the engine.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::read::{File, Object};
use crate::model::tls_files::{Identity, NamedFile};

/// One PEM object of one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct At {
    /// The file as the configuration names it.
    pub named: String,
    /// Where it was read.
    pub path: PathBuf,
    /// The parameter that names the file.
    pub param: String,
    /// The block's index in the file (Postfix's "PEM object number" is one more).
    pub block: usize,
    /// The block's line in the file.
    pub line: u32,
}

/// A key with its certificate and issuers, as loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chain {
    /// The private key.
    pub key: At,
    /// The leaf certificate.
    pub leaf: At,
    /// The certificates after the leaf, in file order.
    pub issuers: Vec<At>,
    /// For the leaf and each issuer in turn, the index (0: the leaf) of the certificate
    /// in the chain that issued it by name and signature, itself when self-signed; filled
    /// in once the certificates are read ([`super::link`]).
    pub issued_by: Vec<Option<usize>>,
}

/// Why Postfix cannot load an engine's keys and certificates (it then disables TLS).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// A file cannot be opened.
    Unreadable { file: NamedFile, why: String },
    /// A file's PEM is broken at a line.
    Broken { at: At, why: String },
    /// A certificate comes before any key (chain files).
    KeyNotFirst { at: At },
    /// A certificate or key block cannot be decoded.
    BadObject { at: At, why: String },
    /// A key is not followed by a certificate (another key follows, or the files end).
    KeyWithoutCertificate { key: At },
    /// A file holds no PEM object at all.
    NoPemData { file: NamedFile },
    /// A certificate file holds no certificate.
    NoCertificate { file: NamedFile },
    /// No private key where one must be.
    NoPrivateKey { file: NamedFile },
    /// A key and the certificate after it are not a pair.
    Mismatch { key: At, leaf: At },
    /// A second key of an algorithm that already has one.
    SameAlgorithm {
        key: At,
        earlier: At,
        algorithm: String,
    },
}

/// The outcome of loading one engine's keys and certificates.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Load {
    /// The chains loaded (before any failure).
    pub chains: Vec<Chain>,
    /// The failure that disables TLS, if any.
    pub failure: Option<Failure>,
    /// Blocks of types Postfix skips, with their labels.
    pub skipped: Vec<(At, String)>,
}

/// The files read, by where they were read.
pub type Files = BTreeMap<PathBuf, File>;

/// The object at `at` among `files`.
pub fn object<'f>(files: &'f Files, at: &At) -> Option<&'f Object> {
    files
        .get(&at.path)?
        .contents
        .as_ref()
        .ok()?
        .objects
        .get(at.block)
}

/// The certificate at `at` among `files`, when it is one that could be read.
pub fn certificate<'f>(files: &'f Files, at: &At) -> Option<&'f super::cert::Certificate> {
    match object(files, at)? {
        Object::Certificate(Ok(c)) => Some(c),
        _ => None,
    }
}

impl Chain {
    /// Where the certificate that issued the leaf is, when the chain holds it (not
    /// for a self-signed leaf).
    pub fn issuer(&self) -> Option<&At> {
        let index = (*self.issued_by.first()?)?;
        self.issuers.get(index.checked_sub(1)?)
    }

    /// Whether the leaf is self-signed (it verifies under its own key).
    pub fn self_signed(&self) -> bool {
        self.issued_by.first() == Some(&Some(0))
    }

    /// Whether the leaf comes from a distribution's placeholder (Debian's
    /// `ssl-cert-snakeoil.pem`), made at install time for the host name of the day.
    pub fn snakeoil(&self) -> bool {
        self.leaf.named.contains("snakeoil")
    }
}

/// Where a named file was read: its entry in `files`.
pub trait Locate {
    /// The file read for `named`.
    fn file(&self, named: &NamedFile) -> Option<&File>;
}

/// What Postfix loads for `identity`.
pub fn load(identity: &Identity, files: &impl Locate) -> Load {
    let mut load = Load::default();
    match identity {
        Identity::Chain(named) => {
            let mut reader = Reader::new(false);
            for file in named {
                if !reader.read(file, files, &mut load) {
                    return load;
                }
            }
            reader.finish(&mut load);
        }
        Identity::Legacy(pairs) => {
            for pair in pairs {
                if pair.one_file() {
                    let mut reader = Reader::new(true);
                    if reader.read(&pair.cert, files, &mut load) {
                        reader.finish(&mut load);
                    }
                } else {
                    legacy(&pair.cert, &pair.key, files, &mut load);
                }
                if load.failure.is_some() {
                    return load;
                }
            }
        }
    }
    load
}

/// The state of one load, as Postfix's `pem_load_state_t`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Init,
    Key,
    Cert,
    Both,
}

struct Reader {
    mixed: bool,
    state: State,
    key: Option<(At, Object)>,
    leaf: Option<(At, Object)>,
    issuers: Vec<At>,
    last_file: Option<NamedFile>,
    loaded: Vec<(At, String)>,
}

impl Reader {
    fn new(mixed: bool) -> Reader {
        Reader {
            mixed,
            state: State::Init,
            key: None,
            leaf: None,
            issuers: Vec::new(),
            last_file: None,
            loaded: Vec::new(),
        }
    }

    /// Reads one file's objects; false after a failure.
    fn read(&mut self, named: &NamedFile, files: &impl Locate, load: &mut Load) -> bool {
        self.last_file = Some(named.clone());
        let file = files.file(named);
        let contents = match file.map(|f| &f.contents) {
            Some(Ok(contents)) => contents,
            Some(Err(why)) => {
                load.failure = Some(Failure::Unreadable {
                    file: named.clone(),
                    why: why.clone(),
                });
                return false;
            }
            None => {
                load.failure = Some(Failure::Unreadable {
                    file: named.clone(),
                    why: "not read".to_owned(),
                });
                return false;
            }
        };
        let path = file.map(|f| f.opened.clone()).unwrap_or_default();
        for (index, (block, object)) in contents.iter().enumerate() {
            let at = At {
                named: named.path.clone(),
                path: path.clone(),
                param: named.param.clone(),
                block: index,
                line: block.line,
            };
            if let Err(failure) = self.object(at, &block.label, object, load) {
                load.failure = Some(*failure);
                return false;
            }
        }
        if let Some((line, why)) = &contents.pem.broken {
            load.failure = Some(Failure::Broken {
                at: At {
                    named: named.path.clone(),
                    path,
                    param: named.param.clone(),
                    block: contents.pem.blocks.len(),
                    line: *line,
                },
                why: why.clone(),
            });
            return false;
        }
        true
    }

    fn object(
        &mut self,
        at: At,
        label: &str,
        object: &Object,
        load: &mut Load,
    ) -> Result<(), Box<Failure>> {
        match object {
            Object::Certificate(parsed) => {
                if !self.mixed && self.state == State::Init {
                    return Err(Box::new(Failure::KeyNotFirst { at }));
                }
                if let Err(why) = parsed {
                    return Err(Box::new(Failure::BadObject {
                        at,
                        why: why.clone(),
                    }));
                }
                match self.state {
                    State::Key => {
                        self.leaf = Some((at, object.clone()));
                        self.state = if self.mixed { State::Both } else { State::Cert };
                    }
                    State::Init => {
                        self.leaf = Some((at, object.clone()));
                        self.state = State::Cert;
                    }
                    State::Cert | State::Both => self.issuers.push(at),
                }
                Ok(())
            }
            Object::Key(_) | Object::EncryptedKey if label != super::key::ENCRYPTED_LABEL => {
                match self.state {
                    State::Cert | State::Init => {
                        if self.state == State::Cert && !self.mixed {
                            self.use_chain(load)?;
                        }
                        let why = match object {
                            Object::Key(Err(why)) => Some(why.clone()),
                            Object::EncryptedKey => Some("the key is encrypted".to_owned()),
                            _ => None,
                        };
                        if let Some(why) = why {
                            return Err(Box::new(Failure::BadObject { at, why }));
                        }
                        let from_cert = self.state == State::Cert;
                        self.key = Some((at, object.clone()));
                        self.state = if from_cert && self.mixed {
                            State::Both
                        } else {
                            State::Key
                        };
                        Ok(())
                    }
                    State::Key | State::Both => {
                        if self.mixed {
                            load.skipped.push((at, label.to_owned()));
                            return Ok(());
                        }
                        let key = self.key.as_ref().map_or(at, |(k, _)| k.clone());
                        Err(Box::new(Failure::KeyWithoutCertificate { key }))
                    }
                }
            }
            _ => {
                load.skipped.push((at, label.to_owned()));
                Ok(())
            }
        }
    }

    /// Completes the chain of the current key, as `use_chain()`: the key must match the
    /// leaf, and its algorithm must not have a chain already.
    fn use_chain(&mut self, load: &mut Load) -> Result<(), Box<Failure>> {
        let (Some((key_at, key)), Some((leaf_at, leaf))) = (self.key.take(), self.leaf.take())
        else {
            return Ok(());
        };
        let issuers = std::mem::take(&mut self.issuers);
        if let (Object::Key(Ok(key)), Object::Certificate(Ok(leaf))) = (&key, &leaf) {
            if key.public.as_ref().is_some_and(|p| *p != leaf.public) {
                return Err(Box::new(Failure::Mismatch {
                    key: key_at,
                    leaf: leaf_at,
                }));
            }
            let algorithm = leaf.key.slot().to_owned();
            if let Some((earlier, _)) = self.loaded.iter().find(|(_, a)| *a == algorithm) {
                return Err(Box::new(Failure::SameAlgorithm {
                    key: key_at,
                    earlier: earlier.clone(),
                    algorithm,
                }));
            }
            self.loaded.push((key_at.clone(), algorithm));
        }
        load.chains.push(Chain {
            key: key_at,
            leaf: leaf_at,
            issuers,
            issued_by: Vec::new(),
        });
        Ok(())
    }

    /// The end of the last file, as `load_pem_bio()` with `PEM_LOAD_READ_LAST`.
    fn finish(&mut self, load: &mut Load) {
        let file = self.last_file.clone().unwrap_or(NamedFile {
            param: String::new(),
            path: String::new(),
        });
        let failure = match self.state {
            State::Init => Some(Failure::NoPemData { file }),
            State::Key => self
                .key
                .as_ref()
                .map(|(key, _)| Failure::KeyWithoutCertificate { key: key.clone() }),
            State::Cert if self.mixed => Some(Failure::NoPrivateKey { file }),
            State::Cert | State::Both => self.use_chain(load).err().map(|f| *f),
        };
        load.failure = failure;
    }
}

/// A certificate file and a separate key file: `SSL_CTX_use_certificate_chain_file()`
/// takes the certificates, `SSL_CTX_use_PrivateKey_file()` the first key.
fn legacy(cert: &NamedFile, key: &NamedFile, files: &impl Locate, load: &mut Load) {
    let read = |named: &NamedFile| match files.file(named).map(|f| (&f.contents, f)) {
        Some((Ok(contents), file)) => Ok((contents, file.opened.clone())),
        Some((Err(why), _)) => Err(Box::new(Failure::Unreadable {
            file: named.clone(),
            why: why.clone(),
        })),
        None => Err(Box::new(Failure::Unreadable {
            file: named.clone(),
            why: "not read".to_owned(),
        })),
    };
    let at = |named: &NamedFile, path: &PathBuf, block: usize, line: u32| At {
        named: named.path.clone(),
        path: path.clone(),
        param: named.param.clone(),
        block,
        line,
    };
    let (certs, cert_path) = match read(cert) {
        Ok(found) => found,
        Err(failure) => {
            load.failure = Some(*failure);
            return;
        }
    };
    let mut leaf = None;
    let mut issuers = Vec::new();
    for (index, (block, object)) in certs.iter().enumerate() {
        let here = at(cert, &cert_path, index, block.line);
        match object {
            Object::Certificate(Err(why)) => {
                load.failure = Some(Failure::BadObject {
                    at: here,
                    why: why.clone(),
                });
                return;
            }
            Object::Certificate(Ok(c)) if leaf.is_none() => leaf = Some((here, c.clone())),
            Object::Certificate(Ok(_)) => issuers.push(here),
            _ => {}
        }
    }
    let Some((leaf_at, leaf_cert)) = leaf else {
        load.failure = Some(if let Some((line, why)) = &certs.pem.broken {
            Failure::Broken {
                at: at(cert, &cert_path, certs.pem.blocks.len(), *line),
                why: why.clone(),
            }
        } else {
            Failure::NoCertificate { file: cert.clone() }
        });
        return;
    };
    let (keys, key_path) = match read(key) {
        Ok(found) => found,
        Err(failure) => {
            load.failure = Some(*failure);
            return;
        }
    };
    let first_key = keys
        .iter()
        .enumerate()
        .find(|(_, (_, o))| matches!(o, Object::Key(_) | Object::EncryptedKey));
    let Some((index, (block, object))) = first_key else {
        load.failure = Some(Failure::NoPrivateKey { file: key.clone() });
        return;
    };
    let key_at = at(key, &key_path, index, block.line);
    match object {
        Object::Key(Ok(private)) => {
            if private
                .public
                .as_ref()
                .is_some_and(|p| *p != leaf_cert.public)
            {
                load.failure = Some(Failure::Mismatch {
                    key: key_at,
                    leaf: leaf_at,
                });
                return;
            }
        }
        Object::Key(Err(why)) => {
            load.failure = Some(Failure::BadObject {
                at: key_at,
                why: why.clone(),
            });
            return;
        }
        _ => {
            load.failure = Some(Failure::BadObject {
                at: key_at,
                why: "the key is encrypted".to_owned(),
            });
            return;
        }
    }
    load.chains.push(Chain {
        key: key_at,
        leaf: leaf_at,
        issuers,
        issued_by: Vec::new(),
    });
}
