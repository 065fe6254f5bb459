//! `pflint generate`.

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use super::GenerateArgs;
use crate::atomic;
use crate::diagnostic::{Finding, Severity};
use crate::generate::{self, Certificate, Request, edit, profile};
use crate::input::config_dir::ConfigDir;
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
    print_all([text]);
}

/// Writes `texts` in order to standard output, as [`print`] does one.
fn print_all<'a>(texts: impl IntoIterator<Item = &'a str>) {
    let mut out = io::stdout().lock();
    if let Err(e) = texts
        .into_iter()
        .try_for_each(|text| out.write_all(text.as_bytes()))
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
    if config.main.is_none() {
        return Err(format!("{} has no main.cf", dir.display()));
    }
    let broken: Vec<String> = [
        config.main.as_ref().map(|m| (&m.file, &m.problems)),
        config.master.as_ref().map(|m| (&m.file, &m.problems)),
    ]
    .into_iter()
    .flatten()
    .flat_map(|(file, problems)| {
        problems
            .iter()
            .filter(|p| !p.kind.inside_a_value())
            .map(|p| Finding::from(p.clone()))
            .filter(|f| f.severity == Severity::Error)
            .map(|f| {
                let at = file.position(f.span.start);
                format!(
                    "{}:{}:{}: {}",
                    file.name().display(),
                    at.line,
                    at.column,
                    f.message()
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
    // Only the files' bytes are needed from here on, not their trees.
    let ConfigDir { main, master } = config;
    let (main, master) = (main.map(|m| m.file), master.map(|m| m.file));
    let old_main = main.as_ref().map_or(&[][..], SourceFile::bytes);
    let old_master = master.as_ref().map(SourceFile::bytes);
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
    if !write {
        // Both diffs are made before either is printed: a file that cannot be shown
        // stops the command without printing half of it.
        let main_diff = edited
            .main
            .as_deref()
            .map(|new| crate::edit::diff("main.cf", Some(old_main), new))
            .transpose()
            .map_err(use_write)?;
        let master_diff = edited
            .master
            .as_deref()
            .map(|new| crate::edit::diff("master.cf", old_master, new))
            .transpose()
            .map_err(use_write)?;
        print_all(
            [&main_diff, &master_diff]
                .into_iter()
                .flatten()
                .map(String::as_str),
        );
        return Ok(ExitCode::SUCCESS);
    }
    let new_main = edited.main.as_deref().unwrap_or(old_main);
    let new_master = edited.master.as_deref().or(old_master);
    let introduced =
        crate::edit::new_errors((old_main, old_master), (new_main, new_master), version);
    if !introduced.is_empty() {
        eprint!(
            "{}",
            crate::cli::refusal("writing", &dir.display().to_string(), &introduced)
        );
        return Ok(ExitCode::from(1));
    }
    let main_path = dir.join("main.cf");
    let master_path = dir.join("master.cf");
    let changes: Vec<atomic::Change> = [
        (&main_path, Some(old_main), &edited.main),
        (&master_path, old_master, &edited.master),
    ]
    .into_iter()
    .filter_map(|(path, old, new)| new.as_ref().map(|new| atomic::Change { path, old, new }))
    .collect();
    let names: Vec<String> = changes
        .iter()
        .map(|c| c.path.display().to_string())
        .collect();
    crate::edit::write(dir, &changes, "pflint generate")?;
    print(&format!("pflint: wrote {}\n", names.join(" and ")));
    Ok(ExitCode::SUCCESS)
}

/// A diff that cannot be shown, with what can be done instead.
fn use_write(e: String) -> String {
    format!("{e}; use --write")
}
