//! Reading one file a TLS parameter names: where it is (a relative path is read from the
//! queue directory; `--root` puts every absolute path, symbolic link targets included,
//! under a directory), what it is (mode, owner, the file a link leads to) and its PEM
//! contents, each block read as what it claims to be.

use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use super::cert::Certificate;
use super::key::{self, PrivateKey};
use super::pem::{self, Pem};

/// What a PEM block turned out to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Object {
    /// A certificate (`CERTIFICATE`, `X509 CERTIFICATE`), or why it is not one.
    Certificate(Result<Box<Certificate>, String>),
    /// An unencrypted private key, or why it cannot be read.
    Key(Result<PrivateKey, String>),
    /// An encrypted private key (PKCS#8 `ENCRYPTED PRIVATE KEY`, or a legacy key with a
    /// `Proc-Type: 4,ENCRYPTED` header).
    EncryptedKey,
    /// A type Postfix skips (`TRUSTED CERTIFICATE`, `DH PARAMETERS`, …).
    Other,
}

/// A file's PEM contents, each block read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Contents {
    /// The blocks.
    pub pem: Pem,
    /// What each block is, index by index.
    pub objects: Vec<Object>,
}

impl Contents {
    /// The blocks with what they are.
    pub fn iter(&self) -> impl Iterator<Item = (&pem::Block, &Object)> {
        self.pem.blocks.iter().zip(&self.objects)
    }
}

/// What a CA directory (`*_tls_CApath`) holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CaDirectory {
    /// Entries named as OpenSSL looks them up (`c_rehash`, `openssl rehash`:
    /// eight hex digits, a dot, a number).
    pub hashed: usize,
    /// All entries.
    pub entries: usize,
}

/// One file as found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct File {
    /// The path as the configuration gives it.
    pub named: String,
    /// Where it was looked for (under the root, from the queue directory).
    pub opened: PathBuf,
    /// The file a symbolic link leads to, when the path goes through one.
    pub target: Option<PathBuf>,
    /// Mode bits and owner of the file itself (the link's target), when it exists.
    pub mode: Option<u32>,
    /// See `mode`.
    pub uid: Option<u32>,
    /// Its contents, or why it cannot be read.
    pub contents: Result<Contents, String>,
    /// For a directory named as a CA path: what it holds.
    pub directory: Option<CaDirectory>,
}

/// The most symbolic links followed for one path (Linux's own limit).
const MAX_LINKS: usize = 40;

/// Where `named` is: relative paths from `working`, everything under `root` when given.
pub fn locate(named: &str, working: &str, root: Option<&Path>) -> PathBuf {
    let path = Path::new(named);
    let absolute = if path.is_absolute() {
        path.to_owned()
    } else {
        Path::new(working).join(path)
    };
    match root {
        Some(root) => root.join(absolute.strip_prefix("/").unwrap_or(&absolute)),
        None => absolute,
    }
}

/// Follows the symbolic links of `path` (an absolute path inside `root`) as the kernel
/// would if `root` were `/`: the real path, and whether a link was followed.
fn resolve_under(root: &Path, path: &Path) -> Result<(PathBuf, bool), String> {
    let mut pending: Vec<PathBuf> = path
        .components()
        .rev()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(PathBuf::from(n)),
            Component::ParentDir => Some(PathBuf::from("..")),
            _ => None,
        })
        .collect();
    let mut current: Vec<PathBuf> = Vec::new();
    let mut links = 0;
    let mut followed = false;
    while let Some(part) = pending.pop() {
        if part.as_os_str() == ".." {
            current.pop();
            continue;
        }
        current.push(part);
        let here: PathBuf = std::iter::once(root.to_owned())
            .chain(current.iter().cloned())
            .collect();
        let Ok(meta) = std::fs::symlink_metadata(&here) else {
            // What does not exist is reported when it is opened.
            continue;
        };
        if !meta.file_type().is_symlink() {
            continue;
        }
        links += 1;
        if links > MAX_LINKS {
            return Err("too many levels of symbolic links (a symlink loop?)".to_owned());
        }
        followed = true;
        let target = std::fs::read_link(&here).map_err(|e| crate::input::files::reason(&e))?;
        current.pop();
        if target.is_absolute() {
            current.clear();
        }
        for c in target.components().rev() {
            match c {
                Component::Normal(n) => pending.push(PathBuf::from(n)),
                Component::ParentDir => pending.push(PathBuf::from("..")),
                _ => {}
            }
        }
    }
    let real = std::iter::once(root.to_owned()).chain(current).collect();
    Ok((real, followed))
}

/// Reads the file `named` names.
pub fn read(named: &str, working: &str, root: Option<&Path>, directory_wanted: bool) -> File {
    let opened = locate(named, working, root);
    let mut file = File {
        named: named.to_owned(),
        opened: opened.clone(),
        target: None,
        mode: None,
        uid: None,
        contents: Err(String::new()),
        directory: None,
    };
    let real = match root {
        Some(root) => {
            let inside = opened.strip_prefix(root).unwrap_or(&opened);
            match resolve_under(root, &Path::new("/").join(inside)) {
                Ok((real, followed)) => {
                    if followed {
                        file.target = Some(real.clone());
                    }
                    real
                }
                Err(why) => {
                    file.contents = Err(why);
                    return file;
                }
            }
        }
        None => {
            if let Ok(real) = std::fs::canonicalize(&opened)
                && real != opened
            {
                file.target = Some(real);
            }
            opened.clone()
        }
    };
    match std::fs::metadata(&real) {
        Ok(meta) => {
            file.mode = Some(meta.mode() & 0o7777);
            file.uid = Some(meta.uid());
            if meta.is_dir() {
                file.contents = Err("it is a directory".to_owned());
                if directory_wanted {
                    file.directory = Some(ca_directory(&real));
                }
                return file;
            }
        }
        Err(e) => {
            file.contents = Err(crate::input::files::reason(&e));
            return file;
        }
    }
    if directory_wanted {
        file.contents = Err("it is not a directory".to_owned());
        return file;
    }
    file.contents = crate::input::files::read(&real).map(|bytes| contents(&bytes));
    file
}

/// Each block of a PEM text read as what its label says.
pub fn contents(bytes: &[u8]) -> Contents {
    let pem = pem::scan(bytes);
    let objects = pem
        .blocks
        .iter()
        .map(|block| {
            let label = block.label.as_str();
            if label == key::ENCRYPTED_LABEL
                || (block.encrypted && key::KEY_LABELS.contains(&label))
            {
                return Object::EncryptedKey;
            }
            match (label, &block.der) {
                ("CERTIFICATE" | "X509 CERTIFICATE", Ok(der)) => {
                    Object::Certificate(Certificate::parse(der).map(Box::new))
                }
                ("CERTIFICATE" | "X509 CERTIFICATE", Err(why)) => {
                    Object::Certificate(Err(why.clone()))
                }
                (label, Ok(der)) if key::KEY_LABELS.contains(&label) => {
                    Object::Key(key::parse(label, der))
                }
                (label, Err(why)) if key::KEY_LABELS.contains(&label) => {
                    Object::Key(Err(why.clone()))
                }
                _ => Object::Other,
            }
        })
        .collect();
    Contents { pem, objects }
}

/// Counts the entries of a CA directory, and those OpenSSL can find by hash.
fn ca_directory(dir: &Path) -> CaDirectory {
    let mut out = CaDirectory::default();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten().take(1_000_000) {
        out.entries += 1;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let hashed = name.split_once('.').is_some_and(|(hash, n)| {
            hash.len() == 8
                && hash.bytes().all(|b| b.is_ascii_hexdigit())
                && !n.is_empty()
                && n.bytes().all(|b| b.is_ascii_digit())
        });
        if hashed {
            out.hashed += 1;
        }
    }
    out
}

/// Reads a `texthash:` table: `name value…` lines, `#` comments, continuation lines
/// starting with whitespace (as postmap reads them).
pub fn texthash(path: &Path) -> Result<Vec<(String, String)>, String> {
    let bytes = crate::input::files::read(path)?;
    let text = String::from_utf8_lossy(&bytes);
    let mut entries: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = entries.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
            continue;
        }
        let (name, value) = line
            .split_once(|c: char| c.is_ascii_whitespace())
            .unwrap_or((line, ""));
        entries.push((name.to_owned(), value.trim().to_owned()));
    }
    Ok(entries)
}
