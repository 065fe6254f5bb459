//! `pflint generate`.

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use super::GenerateArgs;
use crate::atomic;
use crate::check;
use crate::config_dir::ConfigDir;
use crate::diagnostic::{Finding, Severity};
use crate::generate::{self, Certificate, Request, edit, profile};
use crate::model::Version;
use crate::source::SourceFile;

pub(super) fn run(args: GenerateArgs) -> ExitCode {
    let result = plan(&args).and_then(|(plan, version)| match &args.config_dir {
        None => {
            print(&generate::snippet(&plan));
            Ok(ExitCode::SUCCESS)
        }
        Some(dir) => against(dir, &plan, version, args.write),
    });
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("pflint: {message}");
            ExitCode::from(2)
        }
    }
}

fn print(text: &str) {
    if let Err(e) = io::stdout().lock().write_all(text.as_bytes())
        && e.kind() != io::ErrorKind::BrokenPipe
    {
        eprintln!("pflint: cannot write: {e}");
    }
}

fn plan(args: &GenerateArgs) -> Result<(generate::Plan, Version), String> {
    let target = super::target(args.postfix_version.as_deref(), None)?;
    if let Some(note) = &target.note {
        eprintln!("pflint: note: {note}");
    }
    let version = target.version;
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
    let plan = generate::plan(&Request {
        roles,
        profile,
        version,
        certificate,
        dane: args.dane,
        relayhost: args.relayhost.clone(),
        sasl: args.sasl.clone(),
    })?;
    Ok((plan, version))
}

/// The plan against an existing directory: a diff, or the files written.
fn against(
    dir: &Path,
    plan: &generate::Plan,
    version: Version,
    write: bool,
) -> Result<ExitCode, String> {
    // A write an earlier run did not complete is finished or undone before anything reads
    // the files.
    for line in atomic::recover(dir, &[&dir.join("main.cf"), &dir.join("master.cf")]) {
        eprintln!("pflint: {line}");
    }
    let config = ConfigDir::read(dir).map_err(|e| e.to_string())?;
    let old_main = config
        .main
        .as_ref()
        .map(|m| m.file.bytes().to_vec())
        .ok_or_else(|| format!("{} has no main.cf", dir.display()))?;
    let old_master = config.master.as_ref().map(|m| m.file.bytes().to_vec());
    let broken: Vec<String> = [
        config.main.as_ref().map(|m| (&m.file, &m.problems)),
        config.master.as_ref().map(|m| (&m.file, &m.problems)),
    ]
    .into_iter()
    .flatten()
    .flat_map(|(file, problems)| {
        problems
            .iter()
            .map(|p| Finding::from_problem(p.clone()))
            .filter(|f| f.severity == Severity::Error)
            .map(|f| {
                let at = file.position(f.span.start);
                format!(
                    "{}:{}:{}: {}",
                    file.name().display(),
                    at.line,
                    at.column,
                    f.message
                )
            })
            .collect::<Vec<_>>()
    })
    .collect();
    if !broken.is_empty() {
        eprintln!(
            "pflint: not editing {}: fix these syntax errors first:",
            dir.display()
        );
        for line in broken {
            eprintln!("  {line}");
        }
        return Ok(ExitCode::from(1));
    }
    let edited = edit::edit(&config, plan, version)?;
    for note in &edited.notes {
        eprintln!("pflint: note: {note}");
    }
    if edited.is_empty() {
        print(&format!(
            "pflint: nothing to change in {}: it already has these settings\n",
            dir.display()
        ));
        return Ok(ExitCode::SUCCESS);
    }
    let new_main = edited.main.clone().unwrap_or_else(|| old_main.clone());
    let new_master = edited.master.clone().or_else(|| old_master.clone());
    if !write {
        let mut text = String::new();
        if let Some(new) = &edited.main {
            text.push_str(&diff("main.cf", Some(&old_main), new)?);
        }
        if let Some(new) = &edited.master {
            text.push_str(&diff("master.cf", old_master.as_deref(), new)?);
        }
        print(&text);
        return Ok(ExitCode::SUCCESS);
    }
    let introduced = new_errors(
        (&old_main, old_master.as_deref()),
        (&new_main, new_master.as_deref()),
        version,
    );
    if !introduced.is_empty() {
        eprintln!(
            "pflint: not writing {}: the result would have these errors:",
            dir.display()
        );
        for line in introduced {
            eprintln!("  {line}");
        }
        return Ok(ExitCode::from(1));
    }
    let main_path = dir.join("main.cf");
    let master_path = dir.join("master.cf");
    let changes: Vec<atomic::Change> = [
        (&main_path, Some(old_main.as_slice()), &edited.main),
        (&master_path, old_master.as_deref(), &edited.master),
    ]
    .into_iter()
    .filter_map(|(path, old, new)| new.as_ref().map(|new| atomic::Change { path, old, new }))
    .collect();
    let names: Vec<String> = changes
        .iter()
        .map(|c| c.path.display().to_string())
        .collect();
    write_files(dir, &changes)?;
    print(&format!("pflint: wrote {}\n", names.join(" and ")));
    Ok(ExitCode::SUCCESS)
}

/// Writes the changed files together, after the warnings the write has for the user.
fn write_files(dir: &Path, changes: &[atomic::Change]) -> Result<(), String> {
    let prepared = atomic::prepare(dir, changes).map_err(|e| cannot_write(changes, &e))?;
    for warning in prepared.warnings() {
        eprintln!("pflint: warning: {warning}");
    }
    prepared.commit().map_err(|e| cannot_write(changes, &e))
}

/// What a failed write changed and what it did not, and how to go on.
fn cannot_write(changes: &[atomic::Change], e: &atomic::Error) -> String {
    if e.committed().is_empty() {
        let names: Vec<String> = changes
            .iter()
            .map(|c| c.path.display().to_string())
            .collect();
        return format!("cannot write {}: {e}", names.join(" and "));
    }
    if e.pending().is_empty() {
        return e.to_string();
    }
    let replaced: Vec<String> = e
        .committed()
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    format!(
        "{e}. The files may not fit together now: run pflint generate again to finish (it makes only the edits left), or restore {} from a backup (pflint keeps no copy)",
        replaced.join(" and ")
    )
}

/// A unified diff of one file, with `a/` and `b/` headers for `git apply` and
/// `patch -p1` run in the configuration directory.
fn diff(name: &str, old: Option<&[u8]>, new: &[u8]) -> Result<String, String> {
    let text = |bytes: &[u8]| {
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| format!("{name} is not UTF-8, so no diff can show it; use --write"))
    };
    let old_text = old.map(text).transpose()?.unwrap_or_default();
    let new_text = text(new)?;
    let old_header = if old.is_some() {
        format!("a/{name}")
    } else {
        "/dev/null".to_owned()
    };
    Ok(similar::TextDiff::from_lines(&old_text, &new_text)
        .unified_diff()
        .context_radius(3)
        .header(&old_header, &format!("b/{name}"))
        .to_string())
}

/// Errors (parse problems included) the new files have and the old ones do not.
fn new_errors(
    old: (&[u8], Option<&[u8]>),
    new: (&[u8], Option<&[u8]>),
    version: Version,
) -> Vec<String> {
    let errors = |(main, master): (&[u8], Option<&[u8]>)| -> Vec<String> {
        let file = |name: &str, bytes: &[u8]| SourceFile::new(name, bytes.to_vec()).ok();
        let options = check::Options {
            target: crate::model::version::Target::given(version),
            ..check::Options::default()
        };
        check::check_files(
            file("main.cf", main),
            master.and_then(|m| file("master.cf", m)),
            &options,
        )
        .iter()
        .flat_map(|c| {
            c.findings
                .iter()
                .filter(|f| f.severity == Severity::Error)
                .map(|f| {
                    format!(
                        "{}: {}[{}] {}",
                        c.file.name().display(),
                        f.severity,
                        f.code,
                        f.message
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect()
    };
    let mut before = errors(old);
    errors(new)
        .into_iter()
        .filter(|e| match before.iter().position(|b| b == e) {
            Some(i) => {
                before.remove(i);
                false
            }
            None => true,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_result_with_a_new_error_is_found_before_anything_is_written() {
        let version = Version::new(3, 11);
        let old = b"smtpd_tls_security_level = may\n".as_slice();
        let broken = b"smtpd_tls_security_level = may\npermit_mynetworks,\n".as_slice();
        assert!(new_errors((old, None), (old, None), version).is_empty());
        let found = new_errors((old, None), (broken, None), version);
        assert!(found.iter().any(|e| e.contains("PF001")), "{found:?}");
    }
}
