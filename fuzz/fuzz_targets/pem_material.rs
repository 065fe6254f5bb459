//! Any bytes as a certificate or key file → the PEM scan, every block read as what its
//! label says, and Postfix's load of it as a chain file and as a cert-and-key file: no
//! panic, every block's line inside the file, and a load either loads or says why not.

#![no_main]

use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;
use pflint::material::load::{self, Locate};
use pflint::material::read::{self, File};
use pflint::model::tls_files::{Identity, NamedFile, Pair};

struct One(File);

impl Locate for One {
    fn file(&self, _: &NamedFile) -> Option<&File> {
        Some(&self.0)
    }
}

fuzz_target!(|data: &[u8]| {
    let contents = read::contents(data);
    let lines = data.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
    for block in &contents.pem.blocks {
        assert!(block.line >= 1 && block.line <= lines, "line {}", block.line);
    }
    assert_eq!(contents.pem.blocks.len(), contents.objects.len());
    let named = NamedFile {
        param: "smtpd_tls_chain_files".to_owned(),
        path: "/x.pem".to_owned(),
    };
    let file = One(File {
        named: named.path.clone(),
        opened: PathBuf::from("/x.pem"),
        target: None,
        mode: Some(0o600),
        uid: Some(0),
        contents: Ok(contents),
        directory: None,
    });
    for identity in [
        Identity::Chain(vec![named.clone(), named.clone()]),
        Identity::Legacy(vec![Pair {
            algorithm: "RSA",
            cert: named.clone(),
            key: named.clone(),
        }]),
    ] {
        let loaded = load::load(&identity, &file);
        assert!(loaded.failure.is_some() || !loaded.chains.is_empty());
    }
});
