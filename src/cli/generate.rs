//! `pflint generate`.

use std::io::{self, Write};
use std::process::ExitCode;

use super::GenerateArgs;
use crate::generate::{self, Certificate, Request, profile};

pub(super) fn run(args: GenerateArgs) -> ExitCode {
    match plan(&args) {
        Ok(plan) => {
            let written = io::stdout()
                .lock()
                .write_all(generate::snippet(&plan).as_bytes());
            match written {
                Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
                    eprintln!("pflint: cannot write: {e}");
                    ExitCode::from(2)
                }
                _ => ExitCode::SUCCESS,
            }
        }
        Err(message) => {
            eprintln!("pflint: {message}");
            ExitCode::from(2)
        }
    }
}

fn plan(args: &GenerateArgs) -> Result<generate::Plan, String> {
    let version = super::target_version(args.postfix_version.as_deref())?;
    let profile = profile::get(&args.profile).ok_or_else(|| {
        let names: Vec<&str> = profile::all().iter().map(|p| p.name.as_str()).collect();
        format!(
            "no profile is called `{}` (choose {})",
            args.profile,
            names.join(", ")
        )
    })?;
    let certificate = match (&args.cert, &args.key) {
        (Some(cert), Some(key)) => Some(Certificate::Pair {
            cert: cert.clone(),
            key: key.clone(),
        }),
        _ if !args.chain.is_empty() => Some(Certificate::Chain(args.chain.clone())),
        _ => None,
    };
    let mut roles = args.role.clone();
    roles.sort();
    roles.dedup();
    generate::plan(&Request {
        roles,
        profile,
        version,
        certificate,
        dane: args.dane,
        relayhost: args.relayhost.clone(),
    })
}
