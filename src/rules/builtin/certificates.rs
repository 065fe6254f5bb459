//! Certificate, key and CA file checks (PF8xx): they judge what `material` found of the
//! files each service's TLS engine loads. Every finding goes to the line of the parameter
//! that names the file, and names the line in the PEM file where the problem is.

use std::collections::BTreeSet;

use super::Hit;
use crate::material::cert::{Certificate, KeyKind, date};
use crate::material::load::{At, Chain, Failure, Load};
use crate::material::read::{File, Object};
use crate::material::{Engine, Tls};
use crate::model::subject::Subject;
use crate::model::typed::TlsSide;
use crate::rules::condition::Context;

/// Seconds in a day.
const DAY: i64 = 86_400;

/// The TLS material, when files were read.
fn tls<'c>(cx: &Context<'c, '_>) -> Option<&'c Tls> {
    cx.facts.tls.as_ref()
}

/// The engines of the subject's service.
fn engines<'c>(cx: &Context<'c, '_>) -> Vec<&'c Engine> {
    tls(cx).map_or_else(Vec::new, |t| {
        t.engines.iter().filter(|e| e.scope == cx.scope).collect()
    })
}

/// The server engine of the subject's service.
fn server<'c>(cx: &Context<'c, '_>) -> Option<&'c Engine> {
    tls(cx).and_then(|t| t.engine(cx.scope, TlsSide::Server))
}

/// Who runs the engine, for messages.
fn who(engine: &Engine) -> &'static str {
    match engine.side {
        TlsSide::Server => "smtpd",
        TlsSide::SmtpClient => "the SMTP client",
        TlsSide::LmtpClient => "the LMTP client",
    }
}

/// A hit at the parameter `param` of the subject's service.
fn hit(param: &str, message: String, label: impl Into<String>) -> Hit {
    Hit {
        cause: Some(param.to_owned()),
        message,
        label: label.into(),
        ..Hit::default()
    }
}

/// The parameter a finding about a file `param` names goes to: `param` itself, or, for
/// a key file left at its default (the certificate file), the certificate's parameter.
fn param_for(cx: &Context<'_, '_>, param: &str) -> String {
    let fallback = param.replace("key_file", "cert_file");
    if cx.config.setting_location(cx.scope, param).is_none()
        && cx.config.setting_location(cx.scope, &fallback).is_some()
    {
        fallback
    } else {
        param.to_owned()
    }
}

/// `path line N` for a PEM object.
fn place(at: &At) -> String {
    format!("{} line {}", at.named, at.line)
}

/// The certificate at `at`.
fn certificate<'c>(tls: &'c Tls, at: &At) -> Option<&'c Certificate> {
    tls.certificate(at)
}

/// Every load of an engine: its own keys, then each SNI name's.
fn loads(engine: &Engine) -> impl Iterator<Item = (Option<&str>, &Load)> {
    std::iter::once((None, &engine.material.load)).chain(
        engine
            .material
            .sni
            .iter()
            .map(|(name, load)| (Some(name.as_str()), load)),
    )
}

/// Every load of every engine of the subject's service, with its engine and SNI name.
fn all_loads<'c>(cx: &Context<'c, '_>) -> Vec<(&'c Engine, Option<&'c str>, &'c Load)> {
    engines(cx)
        .into_iter()
        .flat_map(|engine| loads(engine).map(move |(sni, load)| (engine, sni, load)))
        .collect()
}

/// Who a certificate is for, for messages: its first DNS name, else its subject.
fn shown(cert: &Certificate) -> String {
    cert.dns_names
        .first()
        .cloned()
        .or_else(|| cert.common_names.first().cloned())
        .unwrap_or_else(|| cert.subject.clone())
}

/// PF801: a named file cannot be read.
pub fn unreadable(cx: &Context<'_, '_>, _: &Subject) -> Vec<Hit> {
    let Some(tls) = tls(cx) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for engine in engines(cx) {
        let named = &engine.material.named;
        let working = named.working_directory.as_str();
        let mut files = named.files();
        files.extend(named.ca_path.clone());
        for file in files {
            if !seen.insert(file.path.clone()) {
                continue;
            }
            let Some(found) = tls.file(&file.path, working) else {
                continue;
            };
            let is_ca_path = named.ca_path.as_ref() == Some(&file);
            let why = match (&found.contents, &found.directory) {
                (_, Some(_)) if is_ca_path => continue,
                (Ok(_), _) => continue,
                (Err(why), _) => why.clone(),
            };
            let mut message = format!(
                "`{}` names {}, which cannot be read: {why}",
                file.param, file.path
            );
            if !std::path::Path::new(&file.path).is_absolute() {
                message.push_str(&format!(
                    " (a relative path: Postfix reads it from the queue directory, as {})",
                    found.opened.display()
                ));
            } else if tls.reading.root.is_some() {
                message.push_str(&format!(" (looked for at {})", found.opened.display()));
            }
            let consequence = if file.param.ends_with("_CAfile") || file.param.ends_with("_CApath")
            {
                format!("; {} cannot load its CA data and disables TLS", who(engine))
            } else if file.param.ends_with("_chain_files") {
                // load_chain_files() stops at the file without failing: the engine keeps
                // TLS on with no certificate at all.
                format!(
                    "; {} loads no certificate at all, still offers TLS, and every handshake fails",
                    who(engine)
                )
            } else {
                format!("; {} disables TLS", who(engine))
            };
            message.push_str(&consequence);
            out.push(hit(
                &param_for(cx, &file.param),
                message,
                "file cannot be read",
            ));
        }
    }
    out
}

/// The files of an engine that hold a private key (encrypted or not), with the
/// parameter naming each.
fn key_files<'c>(tls: &'c Tls, engine: &Engine) -> Vec<(String, &'c File)> {
    let named = &engine.material.named;
    let mut out: Vec<(String, &File)> = Vec::new();
    let sni_files = engine.material.sni.iter().flat_map(|(_, load)| {
        load.chains
            .iter()
            .map(|c| (c.key.param.clone(), c.key.named.clone()))
    });
    let own = named
        .files()
        .into_iter()
        .filter(|f| !f.param.ends_with("_CAfile"))
        .map(|f| (f.param, f.path));
    for (param, path) in own.chain(sni_files) {
        let Some(file) = tls.file(&path, &named.working_directory) else {
            continue;
        };
        let has_key = file.contents.as_ref().is_ok_and(|c| {
            c.objects
                .iter()
                .any(|o| matches!(o, Object::Key(_) | Object::EncryptedKey))
        });
        if has_key && !out.iter().any(|(_, f)| f.opened == file.opened) {
            out.push((param, file));
        }
    }
    out
}

/// The key files of every engine of the subject's service, with their engine.
fn all_key_files<'c>(cx: &Context<'c, '_>, tls: &'c Tls) -> Vec<(&'c Engine, String, &'c File)> {
    engines(cx)
        .into_iter()
        .flat_map(|engine| {
            key_files(tls, engine)
                .into_iter()
                .map(move |(param, file)| (engine, param, file))
        })
        .collect()
}

/// PF802: a private key others can read or change.
pub fn key_exposed(cx: &Context<'_, '_>, _: &Subject) -> Vec<Hit> {
    let Some(tls) = tls(cx) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (_, param, file) in all_key_files(cx, tls) {
        let Some(mode) = file.mode else { continue };
        let mut problems = Vec::new();
        if mode & 0o077 != 0 {
            let who = match (mode & 0o070 != 0, mode & 0o007 != 0) {
                (true, true) => "its group and everyone",
                (false, true) => "everyone",
                _ => "its group",
            };
            problems.push(format!("mode {mode:04o} lets {who} at it"));
        }
        if tls.reading.owners_matter
            && let Some(uid) = file.uid
            && uid != 0
        {
            problems.push(format!("it is owned by uid {uid}, not root"));
        }
        if problems.is_empty() {
            continue;
        }
        let target = match &file.target {
            Some(real) => format!(" (a link to {})", real.display()),
            None => String::new(),
        };
        out.push(hit(
            &param_for(cx, &param),
            format!(
                "the private key in {}{target} is not private: {}",
                file.named,
                problems.join(", ")
            ),
            "private key readable by others",
        ));
    }
    out
}

/// PF803: an encrypted private key.
pub fn encrypted_key(cx: &Context<'_, '_>, _: &Subject) -> Vec<Hit> {
    let Some(tls) = tls(cx) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (engine, param, file) in all_key_files(cx, tls) {
        let Ok(contents) = &file.contents else {
            continue;
        };
        for (block, _) in contents
            .iter()
            .filter(|(_, o)| matches!(o, Object::EncryptedKey))
        {
            out.push(hit(
                    &param_for(cx, &param),
                    format!(
                        "the private key at {} line {} is encrypted (`{}`): Postfix has no passphrase to give, cannot load it and {} disables TLS",
                        file.named, block.line, block.label, who(engine)
                    ),
                    "encrypted private key",
                ));
        }
    }
    out
}

/// Whether an engine's files hold an encrypted key (PF803 then says why loading fails).
fn has_encrypted_key(tls: &Tls, engine: &Engine) -> bool {
    key_files(tls, engine).iter().any(|(_, f)| {
        f.contents
            .as_ref()
            .is_ok_and(|c| c.objects.iter().any(|o| matches!(o, Object::EncryptedKey)))
    })
}

/// PF804: the files cannot be loaded as Postfix reads them (order, missing parts, broken
/// PEM).
pub fn chain_structure(cx: &Context<'_, '_>, _: &Subject) -> Vec<Hit> {
    let Some(tls) = tls(cx) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for engine in engines(cx) {
        if has_encrypted_key(tls, engine) {
            continue;
        }
        for (sni, load) in loads(engine) {
            let Some(failure) = &load.failure else {
                continue;
            };
            let (param, what) = match failure {
                Failure::KeyNotFirst { at } => (
                    param_for(cx, &at.param),
                    format!(
                        "the certificate at {} comes before any private key: in chain files each key comes first, followed by its certificate and then its issuers",
                        place(at)
                    ),
                ),
                Failure::KeyWithoutCertificate { key } => (
                    param_for(cx, &key.param),
                    format!(
                        "the private key at {} is not followed by its certificate",
                        place(key)
                    ),
                ),
                Failure::BadObject { at, why } => (
                    param_for(cx, &at.param),
                    format!("the PEM object at {} cannot be used: {why}", place(at)),
                ),
                Failure::Broken { at, why } => (
                    param_for(cx, &at.param),
                    format!("{} is not valid PEM at line {}: {why}", at.named, at.line),
                ),
                Failure::NoPemData { file } => (
                    param_for(cx, &file.param),
                    format!("{} holds no PEM certificate or key", file.path),
                ),
                Failure::NoCertificate { file } => (
                    param_for(cx, &file.param),
                    format!("{} holds no certificate", file.path),
                ),
                Failure::NoPrivateKey { file } => (
                    param_for(cx, &file.param),
                    format!("{} holds no private key", file.path),
                ),
                Failure::SameAlgorithm {
                    key,
                    earlier,
                    algorithm,
                } => (
                    param_for(cx, &key.param),
                    format!(
                        "the {algorithm} key at {} comes after another {algorithm} key at {}: one key per algorithm",
                        place(key),
                        place(earlier)
                    ),
                ),
                Failure::Mismatch { .. } | Failure::Unreadable { .. } => continue,
            };
            let whose = sni.map_or_else(String::new, |name| format!(" (SNI name {name})"));
            out.push(hit(
                &param,
                format!("{what}{whose}; {} disables TLS", who(engine)),
                "Postfix cannot load this",
            ));
        }
    }
    out
}

/// PF805: a key and the certificate after it are not a pair.
pub fn key_mismatch(cx: &Context<'_, '_>, _: &Subject) -> Vec<Hit> {
    let mut out = Vec::new();
    for (engine, sni, load) in all_loads(cx) {
        let Some(Failure::Mismatch { key, leaf }) = &load.failure else {
            continue;
        };
        let whose = sni.map_or_else(String::new, |name| format!(" (SNI name {name})"));
        out.push(hit(
                &param_for(cx, &key.param),
                format!(
                    "the private key at {} does not belong to the certificate at {}{whose}; {} disables TLS",
                    place(key),
                    place(leaf),
                    who(engine)
                ),
                "key and certificate do not match",
            ));
    }
    out
}

/// The certificates of a loaded chain, leaf first, with where each is; `None` when one
/// cannot be found.
fn chain_certs<'c>(tls: &'c Tls, chain: &Chain) -> Option<Vec<(&'c Certificate, At)>> {
    std::iter::once(&chain.leaf)
        .chain(&chain.issuers)
        .map(|at| certificate(tls, at).map(|c| (c, at.clone())))
        .collect()
}

/// Every loaded chain of the subject's engines, with the SNI name it is for.
fn chains<'c>(cx: &Context<'c, '_>) -> Vec<(&'c Engine, Option<&'c str>, &'c Chain)> {
    all_loads(cx)
        .into_iter()
        .flat_map(|(engine, sni, load)| load.chains.iter().map(move |c| (engine, sni, c)))
        .collect()
}

/// PF806: the leaf's issuer is missing from the chain.
pub fn missing_intermediate(cx: &Context<'_, '_>, _: &Subject) -> Vec<Hit> {
    let Some(tls) = tls(cx) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (engine, _, chain) in chains(cx) {
        if engine.side != TlsSide::Server {
            continue;
        }
        let Some(certs) = chain_certs(tls, chain) else {
            continue;
        };
        let (leaf, at) = &certs[0];
        if leaf.self_issued
            || chain.issued_by.first().is_some_and(Option::is_some)
            || tls.roots.contains(&leaf.issuer)
        {
            continue;
        }
        out.push(hit(
            &param_for(cx, &at.param),
            format!(
                "the certificate for {} at {} is issued by `{}`, which is not in the file: clients that do not have that intermediate cannot verify it",
                shown(leaf),
                place(at),
                leaf.issuer
            ),
            "intermediate certificate missing",
        ));
    }
    out
}

/// PF807: issuers out of order, or a certificate that issues nothing in the chain.
pub fn chain_disorder(cx: &Context<'_, '_>, _: &Subject) -> Vec<Hit> {
    let Some(tls) = tls(cx) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (_, _, chain) in chains(cx) {
        let Some(certs) = chain_certs(tls, chain) else {
            continue;
        };
        let issued = &chain.issued_by;
        for k in 1..certs.len() {
            if issued[k - 1] == Some(k) {
                continue;
            }
            let (cert, at) = &certs[k];
            let issues_something = issued
                .iter()
                .enumerate()
                .any(|(i, by)| i != k && *by == Some(k));
            let message = if issues_something {
                format!(
                    "the certificate `{}` at {} is out of order: each certificate must be followed by the one that issued it",
                    cert.subject,
                    place(at)
                )
            } else {
                format!(
                    "the certificate `{}` at {} issued no certificate before it: it does not belong in this chain",
                    cert.subject,
                    place(at)
                )
            };
            out.push(hit(
                &param_for(cx, &at.param),
                message,
                "chain out of order",
            ));
            break;
        }
    }
    out
}

/// The certificates of the subject's chains whose expiry falls in `(from, to]` days from
/// now (`from` may be negative infinity: `None`), with a message for each.
fn expiring(
    cx: &Context<'_, '_>,
    window: impl Fn(i64, &crate::material::Expectations) -> bool,
    says: &str,
) -> Vec<Hit> {
    let Some(tls) = tls(cx) else {
        return Vec::new();
    };
    let expect = &tls.reading.expect;
    let mut out = Vec::new();
    for (_, _, chain) in chains(cx) {
        let Some(certs) = chain_certs(tls, chain) else {
            continue;
        };
        for (cert, at) in certs {
            if cert.not_after < expect.now || cert.not_before > expect.now {
                continue;
            }
            let left = (cert.not_after - expect.now) / DAY;
            if !window(left, expect) {
                continue;
            }
            out.push(hit(
                &param_for(cx, &at.param),
                format!(
                    "the certificate for {} at {} expires on {} ({left} days from now){says}",
                    shown(cert),
                    place(&at),
                    date(cert.not_after)
                ),
                format!("expires in {left} days"),
            ));
        }
    }
    out
}

/// PF808: a certificate that is expired or not yet valid.
pub fn expired(cx: &Context<'_, '_>, _: &Subject) -> Vec<Hit> {
    let Some(tls) = tls(cx) else {
        return Vec::new();
    };
    let now = tls.reading.expect.now;
    let mut out = Vec::new();
    for (_, _, chain) in chains(cx) {
        let Some(certs) = chain_certs(tls, chain) else {
            continue;
        };
        for (cert, at) in certs {
            let message = if cert.not_after < now {
                format!(
                    "the certificate for {} at {} expired on {}",
                    shown(cert),
                    place(&at),
                    date(cert.not_after)
                )
            } else if cert.not_before > now {
                format!(
                    "the certificate for {} at {} is not valid before {}",
                    shown(cert),
                    place(&at),
                    date(cert.not_before)
                )
            } else {
                continue;
            };
            out.push(hit(
                &param_for(cx, &at.param),
                message,
                "certificate not valid now",
            ));
        }
    }
    out
}

/// PF809: a certificate that expires within the warning threshold.
pub fn expires_soon(cx: &Context<'_, '_>, _: &Subject) -> Vec<Hit> {
    expiring(
        cx,
        |left, e| left < i64::from(e.expiry_warning_days),
        ": renew it now",
    )
}

/// The names clients use for the server: `mx-names` of `.pflint.yaml`, else the
/// service's `myhostname` (none when it is empty).
fn server_names(cx: &Context<'_, '_>, tls: &Tls) -> Vec<String> {
    if !tls.reading.expect.names.is_empty() {
        return tls.reading.expect.names.clone();
    }
    let host = cx
        .config
        .text(cx.scope, "myhostname")
        .map(|v| String::from_utf8_lossy(&v).trim().to_ascii_lowercase())
        .unwrap_or_default();
    if host.is_empty() {
        Vec::new()
    } else {
        vec![host]
    }
}

/// PF820: a key smtpd serves on port 25 that no published TLSA record matches.
pub fn tlsa_record_missing(cx: &Context<'_, '_>, _: &Subject) -> Vec<Hit> {
    use crate::tlsa::{self, Evidence, Tlsa};
    let (Some(tls), Some(engine)) = (tls(cx), server(cx)) else {
        return Vec::new();
    };
    let Some(published) = &tls.reading.expect.tlsa else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for name in server_names(cx, tls) {
        let owner = tlsa::owner(25, &name);
        let here: Vec<&Tlsa> = published
            .iter()
            .filter(|p| p.is_at(&owner))
            .map(|p| &p.tlsa)
            .collect();
        if here.is_empty() {
            continue;
        }
        // DANE clients send the TLSA base domain as SNI (RFC 7672 section 8.1).
        let (load, _) = engine.material.load_for(&name);
        for chain in &load.chains {
            let Some(leaf) = certificate(tls, &chain.leaf) else {
                continue;
            };
            let issuer = chain
                .issuer()
                .and_then(|at| certificate(tls, at))
                .map(|ca| Evidence {
                    certificate: Some(&ca.der),
                    spki: &ca.spki,
                });
            let evidence = Evidence {
                certificate: Some(&leaf.der),
                spki: &leaf.spki,
            };
            if here.iter().any(|r| r.covers(&evidence, issuer.as_ref())) {
                continue;
            }
            let wanted = Tlsa::of_public_key(tlsa::DANE_EE, &leaf.spki);
            out.push(hit(
                &param_for(cx, &chain.key.param),
                format!(
                    "no published TLSA record at {owner} matches the {} key at {}: senders doing DANE cannot verify this server and defer its mail; publish `{owner} IN TLSA {}` and wait twice its TTL before the key goes into service",
                    leaf.key.describe(),
                    place(&chain.key),
                    wanted.rdata()
                ),
                "no TLSA record for this key",
            ));
        }
    }
    out
}

/// PF810: a certificate that expires within the note threshold.
pub fn expires(cx: &Context<'_, '_>, _: &Subject) -> Vec<Hit> {
    expiring(
        cx,
        |left, e| left >= i64::from(e.expiry_warning_days) && left < i64::from(e.expiry_info_days),
        "",
    )
}

/// PF811: the server certificate does not cover the names clients connect to.
pub fn name_mismatch(cx: &Context<'_, '_>, _: &Subject) -> Vec<Hit> {
    let Some(tls) = tls(cx) else {
        return Vec::new();
    };
    let from_settings = !tls.reading.expect.names.is_empty();
    let names = server_names(cx, tls);
    if names.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (sni, leaf, chain) in server_leaves(cx) {
        let at = &chain.leaf;
        let wanted: Vec<String> = match sni {
            Some(name) => vec![name.trim_start_matches('.').to_ascii_lowercase()],
            None => names.clone(),
        };
        for name in wanted.iter().filter(|name| !leaf.covers(name)) {
            let source = match sni {
                Some(_) => "its SNI name",
                None if from_settings => "mx-names in .pflint.yaml",
                None => "myhostname",
            };
            out.push(hit(
                &param_for(cx, &at.param),
                format!(
                    "the certificate at {} does not cover {name} ({source}): {}",
                    place(at),
                    leaf.why_not_covering(name)
                ),
                format!("does not cover {name}"),
            ));
        }
    }
    out
}

/// The leaf certificates of the subject's chains.
fn leaves<'c>(cx: &Context<'c, '_>) -> Vec<(&'c Certificate, At)> {
    let Some(tls) = tls(cx) else {
        return Vec::new();
    };
    chains(cx)
        .into_iter()
        .filter_map(|(_, _, chain)| certificate(tls, &chain.leaf).map(|c| (c, chain.leaf.clone())))
        .collect()
}

/// The leaf keys of a given kind, each as a hit with `says` about it.
fn leaf_keys(
    cx: &Context<'_, '_>,
    wanted: impl Fn(&KeyKind) -> Option<String>,
    label: &str,
) -> Vec<Hit> {
    leaves(cx)
        .into_iter()
        .filter_map(|(cert, at)| {
            let says = wanted(&cert.key)?;
            Some(hit(
                &param_for(cx, &at.param),
                format!(
                    "the certificate for {} at {} has {}: {says}",
                    shown(cert),
                    place(&at),
                    cert.key.describe()
                ),
                label.to_owned(),
            ))
        })
        .collect()
}

/// PF812: an RSA key below 2048 bits.
pub fn weak_rsa(cx: &Context<'_, '_>, _: &Subject) -> Vec<Hit> {
    leaf_keys(
        cx,
        |kind| {
            match kind {
            KeyKind::Rsa(bits) if *bits < 2048 => Some(
                "OpenSSL's default security level refuses RSA keys below 2048 bits, so peers cannot use it"
                    .to_owned(),
            ),
            _ => None,
        }
        },
        "RSA key below 2048 bits",
    )
}

/// PF813: an RSA key below 3072 bits.
pub fn rsa_below_3072(cx: &Context<'_, '_>, _: &Subject) -> Vec<Hit> {
    leaf_keys(
        cx,
        |kind| match kind {
            KeyKind::Rsa(bits) if (2048..3072).contains(bits) => {
                Some("enough today; NIST and BSI advise 3072 bits for use beyond 2030".to_owned())
            }
            _ => None,
        },
        "RSA key below 3072 bits",
    )
}

/// PF814: a DSA key.
pub fn dsa(cx: &Context<'_, '_>, _: &Subject) -> Vec<Hit> {
    leaf_keys(
        cx,
        |kind| {
            matches!(kind, KeyKind::Dsa(_)).then(|| {
                "DSA is deprecated, TLS 1.3 does not allow it and most peers no longer offer it"
                    .to_owned()
            })
        },
        "DSA key",
    )
}

/// PF815: a certificate signed with SHA-1 (or MD5).
pub fn weak_signature(cx: &Context<'_, '_>, _: &Subject) -> Vec<Hit> {
    let Some(tls) = tls(cx) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (_, _, chain) in chains(cx) {
        let Some(certs) = chain_certs(tls, chain) else {
            continue;
        };
        for (index, (cert, at)) in certs.into_iter().enumerate() {
            // A root's signature on itself is never checked.
            if index > 0 && cert.self_issued {
                continue;
            }
            let Some(algorithm) = cert.weak_signature else {
                continue;
            };
            out.push(hit(
                &param_for(cx, &at.param),
                format!(
                    "the certificate for {} at {} is signed with {algorithm}: clients at OpenSSL's default security level reject it",
                    shown(cert),
                    place(&at)
                ),
                "SHA-1 signature",
            ));
        }
    }
    out
}

/// The leaf certificates the subject's server engine loaded, each with the SNI name it
/// is for (`None`: the engine's own) and its chain.
fn server_leaves<'c>(cx: &Context<'c, '_>) -> Vec<(Option<&'c str>, &'c Certificate, &'c Chain)> {
    let (Some(tls), Some(engine)) = (tls(cx), server(cx)) else {
        return Vec::new();
    };
    loads(engine)
        .flat_map(|(sni, load)| {
            load.chains
                .iter()
                .filter_map(move |c| certificate(tls, &c.leaf).map(|leaf| (sni, leaf, c)))
        })
        .collect()
}

/// PF816: a server's leaf that is a CA, or whose extended key usage excludes TLS servers.
pub fn not_server_cert(cx: &Context<'_, '_>, _: &Subject) -> Vec<Hit> {
    let mut out = Vec::new();
    for (_, leaf, chain) in server_leaves(cx) {
        let at = &chain.leaf;
        let why = if leaf.is_ca {
            "it is a CA certificate (basicConstraints CA:TRUE), which clients refuse as a server's"
        } else if leaf.server_auth == Some(false) {
            "its extended key usage does not include serverAuth, so verifying clients refuse it"
        } else {
            continue;
        };
        out.push(hit(
            &param_for(cx, &at.param),
            format!(
                "the certificate for {} at {} is not a server certificate: {why}",
                shown(leaf),
                place(at)
            ),
            "not a server certificate",
        ));
    }
    out
}

/// PF817: a self-signed (or snakeoil) certificate where mail clients verify it.
pub fn self_signed_submission(cx: &Context<'_, '_>, _: &Subject) -> Vec<Hit> {
    let mut out = Vec::new();
    for (_, leaf, chain) in server_leaves(cx)
        .into_iter()
        .filter(|(sni, _, _)| sni.is_none())
    {
        let at = &chain.leaf;
        let snakeoil = chain.snakeoil();
        let self_signed = chain.self_signed();
        if !(snakeoil || self_signed) {
            continue;
        }
        let what = if snakeoil {
            "the distribution's snakeoil certificate"
        } else {
            "self-signed"
        };
        out.push(hit(
            &param_for(cx, &at.param),
            format!(
                "the certificate for {} at {} is {what}: mail clients verify the server's certificate and refuse it or ask users to accept it",
                shown(leaf),
                place(at)
            ),
            "self-signed certificate",
        ));
    }
    out
}

/// PF818: verification is required, but the CA data names no certificate to verify with.
pub fn verification_without_ca_data(cx: &Context<'_, '_>, _: &Subject) -> Vec<Hit> {
    let Some(tls) = tls(cx) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for engine in engines(cx) {
        let named = &engine.material.named;
        let Some((param, level)) = &named.verifies else {
            continue;
        };
        let working = named.working_directory.as_str();
        let file_certs = named.ca_file.as_ref().and_then(|f| {
            let file = tls.file(&f.path, working)?;
            let contents = file.contents.as_ref().ok()?;
            Some(
                contents
                    .objects
                    .iter()
                    .filter(|o| matches!(o, Object::Certificate(Ok(_))))
                    .count(),
            )
        });
        let dir_certs = named.ca_path.as_ref().and_then(|f| {
            let file = tls.file(&f.path, working)?;
            file.directory.as_ref().map(|d| d.hashed)
        });
        // Unreadable files are PF801's; not set at all is PF105's.
        let empty_file = file_certs == Some(0);
        let empty_dir = dir_certs == Some(0);
        let usable = file_certs.is_some_and(|n| n > 0) || dir_certs.is_some_and(|n| n > 0);
        if usable || !(empty_file || empty_dir) {
            continue;
        }
        let (cause, what) = if empty_file {
            let file = named
                .ca_file
                .as_ref()
                .map(|f| f.path.clone())
                .unwrap_or_default();
            (
                named
                    .ca_file
                    .as_ref()
                    .map_or(param.clone(), |f| f.param.clone()),
                format!("{file} holds no CA certificate"),
            )
        } else {
            let dir = named
                .ca_path
                .as_ref()
                .map(|f| f.path.clone())
                .unwrap_or_default();
            (
                named
                    .ca_path
                    .as_ref()
                    .map_or(param.clone(), |f| f.param.clone()),
                format!(
                    "{dir} has no certificate under a hashed name (run `openssl rehash {dir}`)"
                ),
            )
        };
        out.push(hit(
            &cause,
            format!("`{param} = {level}` verifies certificates against CA data, but {what}: every verification fails"),
            "no CA certificates",
        ));
    }
    out
}

/// PF819: PEM blocks of a type Postfix skips.
pub fn skipped_objects(cx: &Context<'_, '_>, _: &Subject) -> Vec<Hit> {
    let mut out = Vec::new();
    for (_, _, load) in all_loads(cx) {
        for (at, label) in &load.skipped {
            if label == crate::material::key::ENCRYPTED_LABEL {
                continue;
            }
            out.push(hit(
                &param_for(cx, &at.param),
                format!(
                    "Postfix skips the `{label}` block at {}: it is not a certificate or private key it uses",
                    place(at)
                ),
                "PEM block skipped",
            ));
        }
    }
    out
}
