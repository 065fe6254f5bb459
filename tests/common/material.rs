//! Certificate, key and CA files made at test time from short recipes, so that rule
//! examples and scenario tests can say what a file holds without committing any key.
//!
//! A recipe is a `;`-separated list of items, written into the file in order:
//!
//! * `key NAME [pkcs1]`: NAME's private key as PKCS#8 (`pkcs1`: OpenSSL's traditional
//!   form). NAME's prefix picks the kind: `rsa…` RSA (2048 bits; `rsa1024`, `rsa3072`
//!   for other sizes), `ec…` ECDSA P-256, `dsa…` DSA.
//! * `encrypted NAME`: NAME's key as an `ENCRYPTED PRIVATE KEY` (passphrase `secret`).
//! * `cert NAME [for A,B] [by CA] [days N] [from N] [ca] [eku client] [sha1]`: a
//!   certificate for NAME's key: for DNS names A, B (default `mail.example.com`), issued
//!   by CA (default: self-signed), expiring N days from now (default 90; negative:
//!   expired), valid from N days from now (default -1), with CA:TRUE, with clientAuth as
//!   its only extended key usage, signed with SHA-1.
//! * `ca NAME [by CA]`: a CA certificate NAME (self-signed, or issued by CA).
//! * `text WORDS`: the words as a line of text.
//! * `block LABEL`: a PEM block with that label.
//! * `mode OCTAL`: the file's mode (default 600).
//!
//! One item always gives the same bytes within one [`Material`], so a CA named in two
//! files is one certificate.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    SubjectPublicKeyInfo,
};

/// `openssl`, when installed; else `None` after a visible message (a failure under
/// `PFLINT_REQUIRE_POSTFIX=1`, where CI installs it).
pub fn openssl() -> Option<PathBuf> {
    let found = ["/usr/bin/openssl", "/usr/local/bin/openssl", "/bin/openssl"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file());
    if found.is_none() {
        assert!(
            std::env::var_os("PFLINT_REQUIRE_POSTFIX").is_none_or(|v| v != "1"),
            "PFLINT_REQUIRE_POSTFIX=1 but there is no openssl to make test keys with"
        );
        super::visible("SKIPPED: certificate examples need openssl (package openssl)");
    }
    found
}

/// A private key made for a test.
struct Key {
    /// PKCS#8 PEM.
    pem: String,
    /// The SubjectPublicKeyInfo, DER.
    spki: Vec<u8>,
    /// Whether rcgen (ring) can sign with it.
    signs: bool,
}

/// A CA: its parameters, key and certificate.
struct Ca {
    params: CertificateParams,
    key: KeyPair,
    pem: String,
}

/// Files made from recipes under one directory.
pub struct Material {
    root: PathBuf,
    openssl: PathBuf,
    keys: HashMap<String, Key>,
    cas: HashMap<String, Ca>,
    items: HashMap<String, String>,
    /// Each CA's issuer as the recipes declare it (`ca int by root`), so that a
    /// certificate issued by `int` before `int` is written still has `root` above it.
    declared: HashMap<String, String>,
}

impl Material {
    /// Material whose files go under `root` (an absolute recipe path `/etc/x` is written
    /// to `root/etc/x`).
    pub fn new(root: &Path, openssl: &Path) -> Material {
        Material {
            root: root.to_owned(),
            openssl: openssl.to_owned(),
            keys: HashMap::new(),
            cas: HashMap::new(),
            items: HashMap::new(),
            declared: HashMap::new(),
        }
    }

    /// Writes every file of `files` (path → recipe).
    pub fn write_all(&mut self, files: &BTreeMap<String, String>) {
        for recipe in files.values() {
            for item in recipe.split(';') {
                if let ["ca", name, "by", issuer] = item.split_whitespace().collect::<Vec<_>>()[..]
                {
                    self.declared.insert(name.to_owned(), issuer.to_owned());
                }
            }
        }
        for (path, recipe) in files {
            self.write(path, recipe);
        }
    }

    /// Writes one file from its recipe.
    pub fn write(&mut self, path: &str, recipe: &str) -> PathBuf {
        let target = self.root.join(path.trim_start_matches('/'));
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).expect("a directory for the test file");
        }
        let mut text = String::new();
        let mut mode = 0o600;
        for item in recipe.split(';').map(str::trim).filter(|i| !i.is_empty()) {
            if let Some(octal) = item.strip_prefix("mode ") {
                mode = u32::from_str_radix(octal.trim(), 8).expect("an octal mode");
                continue;
            }
            text.push_str(&self.item(item));
        }
        std::fs::write(&target, text).expect("the test file is written");
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(mode))
            .expect("the test file's mode is set");
        target
    }

    /// The PEM text of one item.
    pub fn item(&mut self, item: &str) -> String {
        if let Some(made) = self.items.get(item) {
            return made.clone();
        }
        let words: Vec<&str> = item.split_whitespace().collect();
        let made = match words.as_slice() {
            ["key", name] => self.key(name).pem.clone(),
            ["key", name, "pkcs1"] => {
                let pem = self.key(name).pem.clone();
                self.openssl_with_input(&["pkey", "-traditional"], &pem)
            }
            ["encrypted", name] => {
                let pem = self.key(name).pem.clone();
                self.openssl_with_input(
                    &[
                        "pkcs8",
                        "-topk8",
                        "-v2",
                        "aes-256-cbc",
                        "-passout",
                        "pass:secret",
                    ],
                    &pem,
                )
            }
            ["cert", name, options @ ..] => self.cert(name, options),
            ["ca", name] => self.ca(name, None),
            ["ca", name, "by", issuer] => self.ca(name, Some(issuer)),
            ["text", ..] => format!("{}\n", words[1..].join(" ")),
            ["block", label @ ..] => {
                let label = label.join(" ");
                format!("-----BEGIN {label}-----\nMAYCAQI=\n-----END {label}-----\n")
            }
            _ => panic!("unknown recipe item `{item}`"),
        };
        self.items.insert(item.to_owned(), made.clone());
        made
    }

    fn openssl(&self, args: &[&str]) -> Vec<u8> {
        let out = Command::new(&self.openssl)
            .args(args)
            .output()
            .expect("openssl runs");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    fn openssl_with_input(&self, args: &[&str], input: &str) -> String {
        let file = self.scratch(input);
        let mut all = args.to_vec();
        let path = file.display().to_string();
        all.extend(["-in", &path]);
        String::from_utf8(self.openssl(&all)).expect("openssl writes PEM")
    }

    /// A scratch file outside the tree the checks read.
    fn scratch(&self, text: &str) -> PathBuf {
        let dir = self.root.join(".scratch");
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        let path = dir.join(format!("{}.pem", self.items.len() + self.keys.len() * 1000));
        std::fs::write(&path, text).expect("a scratch file");
        path
    }

    fn key(&mut self, name: &str) -> &Key {
        if !self.keys.contains_key(name) {
            let key = self.make_key(name);
            self.keys.insert(name.to_owned(), key);
        }
        &self.keys[name]
    }

    fn make_key(&self, name: &str) -> Key {
        if name.starts_with("ec") {
            let pair = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("an EC key");
            return Key {
                pem: pair.serialize_pem(),
                spki: rcgen::PublicKeyData::subject_public_key_info(&pair),
                signs: true,
            };
        }
        let (pem, signs) = if name.starts_with("dsa") {
            let params = self.openssl(&[
                "genpkey",
                "-genparam",
                "-algorithm",
                "DSA",
                "-pkeyopt",
                "dsa_paramgen_bits:2048",
            ]);
            let file = self.scratch(&String::from_utf8_lossy(&params));
            let path = file.display().to_string();
            (self.openssl(&["genpkey", "-paramfile", &path]), false)
        } else {
            let digits: String = name.chars().filter(char::is_ascii_digit).collect();
            let bits = digits
                .parse::<u32>()
                .ok()
                .filter(|b| *b >= 512)
                .unwrap_or(2048);
            let option = format!("rsa_keygen_bits:{bits}");
            (
                self.openssl(&["genpkey", "-algorithm", "RSA", "-pkeyopt", &option]),
                bits >= 2048,
            )
        };
        let pem = String::from_utf8(pem).expect("openssl writes PEM");
        let file = self.scratch(&pem);
        let path = file.display().to_string();
        let spki = self.openssl(&["pkey", "-in", &path, "-pubout", "-outform", "DER"]);
        Key { pem, spki, signs }
    }

    /// A CA certificate, made once per name.
    fn ca(&mut self, name: &str, issuer: Option<&str>) -> String {
        if let Some(ca) = self.cas.get(name) {
            return ca.pem.clone();
        }
        let declared = self.declared.get(name).cloned();
        let issuer = issuer.or(declared.as_deref());
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("an EC key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params
            .distinguished_name
            .push(DnType::CommonName, format!("Test CA {name}"));
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(3650);
        let cert = match issuer {
            None => params.self_signed(&key).expect("a self-signed CA"),
            Some(issuer) => {
                self.ca(issuer, None);
                let parent = &self.cas[issuer];
                let signer = Issuer::from_params(&parent.params, &parent.key);
                params.signed_by(&key, &signer).expect("an intermediate CA")
            }
        };
        let pem = cert.pem();
        self.cas.insert(
            name.to_owned(),
            Ca {
                params,
                key,
                pem: pem.clone(),
            },
        );
        pem
    }

    /// A certificate for `name`'s key.
    fn cert(&mut self, name: &str, options: &[&str]) -> String {
        let mut names = vec!["mail.example.com".to_owned()];
        let mut issuer = None;
        let mut days = 90i64;
        let mut from = -1i64;
        let mut is_ca = false;
        let mut client_only = false;
        let mut sha1 = false;
        let mut i = 0;
        while i < options.len() {
            let value = options.get(i + 1).copied().unwrap_or_default();
            match options[i] {
                "for" => {
                    names = value.split(',').map(str::to_owned).collect();
                    i += 1;
                }
                "by" => {
                    issuer = Some(value.to_owned());
                    i += 1;
                }
                "days" => {
                    days = value.parse().expect("a number of days");
                    i += 1;
                }
                "from" => {
                    from = value.parse().expect("a number of days");
                    i += 1;
                }
                "ca" => is_ca = true,
                "eku" => {
                    client_only = value == "client";
                    i += 1;
                }
                "sha1" => sha1 = true,
                other => panic!("unknown certificate option `{other}`"),
            }
            i += 1;
        }
        let (signs, key_pem, spki) = {
            let key = self.key(name);
            (key.signs, key.pem.clone(), key.spki.clone())
        };
        if sha1 || (!signs && issuer.is_none()) {
            return self.openssl_cert(&key_pem, &names, days, sha1);
        }
        let mut params = CertificateParams::new(names.clone()).expect("certificate parameters");
        params
            .distinguished_name
            .push(DnType::CommonName, names[0].clone());
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now + time::Duration::days(from);
        params.not_after = now + time::Duration::days(days);
        if is_ca {
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        }
        params.extended_key_usages = if client_only {
            vec![ExtendedKeyUsagePurpose::ClientAuth]
        } else {
            vec![ExtendedKeyUsagePurpose::ServerAuth]
        };
        let cert = match &issuer {
            None => {
                let pair = KeyPair::from_pem(&key_pem).expect("rcgen reads the key");
                params
                    .self_signed(&pair)
                    .expect("a self-signed certificate")
            }
            Some(ca) => {
                self.ca(ca, None);
                let parent = &self.cas[ca];
                let signer = Issuer::from_params(&parent.params, &parent.key);
                let public = SubjectPublicKeyInfo::from_der(&spki).expect("the key's SPKI");
                params
                    .signed_by(&public, &signer)
                    .expect("an issued certificate")
            }
        };
        cert.pem()
    }

    /// A self-signed certificate made by `openssl req` (for what ring cannot sign: DSA,
    /// RSA below 2048 bits, SHA-1).
    fn openssl_cert(&self, key_pem: &str, names: &[String], days: i64, sha1: bool) -> String {
        let key = self.scratch(key_pem);
        let key = key.display().to_string();
        let subject = format!("/CN={}", names[0]);
        let san = format!(
            "subjectAltName={}",
            names
                .iter()
                .map(|n| format!("DNS:{n}"))
                .collect::<Vec<_>>()
                .join(",")
        );
        let days = days.max(1).to_string();
        let mut args = vec![
            "req", "-x509", "-new", "-key", &key, "-subj", &subject, "-addext", &san, "-days",
            &days,
        ];
        if sha1 {
            args.push("-sha1");
        }
        String::from_utf8(self.openssl(&args)).expect("openssl writes PEM")
    }
}

/// The lower-case hex SHA-256 of the public key of the first certificate in `pem`, by
/// the openssl recipe for TLSA `3 1 1` records:
/// `openssl x509 -pubkey -noout | openssl pkey -pubin -outform DER | sha256`.
pub fn openssl_spki_sha256(openssl: &Path, pem: &Path) -> String {
    let public = run_openssl(
        openssl,
        &["x509", "-in", &pem.to_string_lossy(), "-pubkey", "-noout"],
        None,
    );
    let der = run_openssl(
        openssl,
        &["pkey", "-pubin", "-outform", "DER"],
        Some(&public),
    );
    openssl_sha256(openssl, &der)
}

/// The same recipe from a private key: `openssl pkey -in KEY -pubout -outform DER | sha256`.
pub fn openssl_key_sha256(openssl: &Path, key: &Path) -> String {
    let key = key.to_string_lossy();
    let der = run_openssl(
        openssl,
        &["pkey", "-in", &key, "-pubout", "-outform", "DER"],
        None,
    );
    openssl_sha256(openssl, &der)
}

/// `openssl dgst -sha256` of `bytes`, lower-case hex.
fn openssl_sha256(openssl: &Path, bytes: &[u8]) -> String {
    let digest = run_openssl(openssl, &["dgst", "-sha256", "-r"], Some(bytes));
    String::from_utf8_lossy(&digest)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Runs openssl with `input` on its standard input; its standard output.
pub fn run_openssl(openssl: &Path, args: &[&str], input: Option<&[u8]>) -> Vec<u8> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(openssl)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("openssl runs");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.unwrap_or_default().to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("openssl output");
    let _ = feeder.join();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}
