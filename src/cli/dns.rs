//! `pflint dns`.

use std::path::Path;
use std::process::ExitCode;

use super::DnsArgs;
use crate::dns::records::{self, NextFile, Request};
use crate::dns::render;
use crate::input::config_dir::ConfigDir;
use crate::input::settings::Settings;
use crate::material::{Reading, Where};
use crate::model::config::Scope;
use crate::tlsa::zone;

/// Exit status when something must be fixed first (a key without a published record,
/// enforce refused, no key to publish).
const PROBLEMS: u8 = 1;
/// Exit status for usage errors and unreadable files.
const TROUBLE: u8 = 2;

pub(super) fn run(args: DnsArgs) -> ExitCode {
    match records_for(&args) {
        Ok((records, ttl)) => {
            let text = match args.format {
                DnsFormat::Zone => render::zone(&records, ttl),
                DnsFormat::Json => {
                    let mut text = serde_json::to_string_pretty(&render::json(&records, ttl))
                        .unwrap_or_default();
                    text.push('\n');
                    text
                }
            };
            let written = super::emit(text.as_bytes());
            if written != ExitCode::SUCCESS {
                return written;
            }
            for error in &records.errors {
                eprintln!("pflint: {error}");
            }
            if records.errors.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(PROBLEMS)
            }
        }
        Err(message) => {
            eprintln!("pflint: {message}");
            ExitCode::from(TROUBLE)
        }
    }
}

/// Output formats of `pflint dns`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DnsFormat {
    /// Zone-file lines; everything else is a `;` comment.
    Zone,
    /// One JSON document.
    Json,
}

/// Reads a file the command line names; `-` is standard input.
fn read_named(path: &Path) -> Result<Vec<u8>, String> {
    if path == Path::new("-") {
        crate::input::files::read_stdin().map_err(|e| format!("standard input: {e}"))
    } else {
        crate::input::files::read(path).map_err(|e| format!("{}: {e}", path.display()))
    }
}

fn records_for(args: &DnsArgs) -> Result<(records::Records, u32), String> {
    let (dir, config_directory) = super::config_dir(args.config_dir.as_deref());
    let settings = match Settings::discover(&dir) {
        Some(file) => Settings::load(&file).map_err(|e| e.to_string())?,
        None => Settings::default(),
    };
    let version = super::target(None, None)?.version;
    let loaded = ConfigDir::read(&dir).map_err(|e| e.to_string())?;
    if loaded.main.is_none() {
        return Err(format!("{}: no main.cf", dir.display()));
    }
    let host = crate::model::HostFacts::assumed();
    // Without a master.cf, Postfix's stock services decide what listens where.
    let stock = loaded
        .master
        .is_none()
        .then(crate::input::config_dir::stock_master);
    let config = loaded.model_with_master(
        stock.as_ref().or(loaded.master.as_ref()),
        version,
        &host,
        config_directory,
        false,
    );
    let reading = Reading {
        enabled: true,
        root: args.root.clone(),
        owners_matter: false,
        ..Reading::default()
    };
    let facts = crate::material::gather(&config, &Where::Live(dir.clone()), &reading);
    let tls = facts.tls.unwrap_or_default();
    let parameter = |name: &str| {
        config
            .text(Scope::Main, name)
            .map(|v| String::from_utf8_lossy(&v).into_owned())
            .unwrap_or_default()
    };
    let mx = if !args.mx.is_empty() {
        args.mx.clone()
    } else if !settings.mx_names.is_empty() {
        settings.mx_names.clone()
    } else {
        vec![parameter("myhostname")]
    };
    let domains = if args.domain.is_empty() {
        vec![parameter("mydomain")]
    } else {
        args.domain.clone()
    };
    for name in mx.iter().chain(&domains) {
        host_name(name)?;
    }
    if args.max_age > crate::dns::mta_sts::MAX_AGE_LIMIT {
        return Err(format!(
            "--max-age {} is over RFC 8461's limit of {} seconds",
            args.max_age,
            crate::dns::mta_sts::MAX_AGE_LIMIT
        ));
    }
    let rua = args
        .rua
        .iter()
        .map(|r| records::rua(r).map_err(|e| format!("--rua: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let next = args
        .next_key
        .iter()
        .map(|path| {
            Ok(NextFile {
                path: path.display().to_string(),
                bytes: read_named(path)?,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let published = match &args.check_tlsa {
        Some(path) => {
            let bytes = read_named(path)?;
            let text = String::from_utf8_lossy(&bytes);
            Some(zone::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?)
        }
        None => None,
    };
    let public_roots = match &args.ca_file {
        Some(path) => records::Roots::bundle(read_named(path)?),
        None => records::Roots::system(),
    };
    let request = Request {
        domains,
        mx,
        ttl: args.ttl,
        ports: args.ports.clone(),
        issuer: args.issuer,
        next,
        published,
        mode: args.mta_sts,
        max_age: args.max_age,
        rua,
        public_roots,
        now: crate::material::Expectations::default().now,
    };
    let mut records = records::plan(&config, &config.roles(), &tls, &request);
    records.notes.extend(outbound_dane(&dir, version, &host));
    Ok((records, args.ttl))
}

/// A DNS name a record can be for: letters, digits, hyphens and dots.
fn host_name(name: &str) -> Result<(), String> {
    let bare = name.trim_end_matches('.');
    let valid = !bare.is_empty()
        && bare.len() <= 253
        && bare.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    if valid {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a host or domain name (give --mx and --domain, or set myhostname and mydomain)"
        ))
    }
}

/// What the outbound DANE rule (PF104) says of the configuration: TLSA records of
/// others are only used with DNSSEC lookups on.
fn outbound_dane(
    dir: &Path,
    version: crate::model::Version,
    host: &crate::model::HostFacts,
) -> Vec<String> {
    // The check takes its files by value; those above are still borrowed by `config`.
    let Ok(again) = ConfigDir::read(dir) else {
        return Vec::new();
    };
    let mut options = crate::check::Options {
        host: host.clone(),
        ..crate::check::Options::default()
    };
    options.target.version = version;
    options.policy.select = vec!["PF104".to_owned()];
    crate::check::check_config(again, &options)
        .iter()
        .flat_map(|checked| {
            checked.findings.iter().map(move |f| {
                let line = checked.file.position(f.span.start).line;
                format!(
                    "outbound: {}:{line}: {} [{}]",
                    checked.file.name().display(),
                    f.message(),
                    f.code
                )
            })
        })
        .collect()
}
