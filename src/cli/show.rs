//! `pflint show`.

use std::io::{self, Write};
use std::process::ExitCode;

use super::ShowArgs;
use crate::input::config_dir::ConfigDir;
use crate::show::{self, Options};

pub(super) fn run(args: ShowArgs) -> ExitCode {
    let (dir, config_directory) = super::config_dir(args.config_dir.as_deref());
    let version = match super::target(args.postfix_version.as_deref(), None) {
        Ok(target) => {
            // stdout is postconf's format; a remark on the version goes to stderr.
            if let Some(note) = &target.note {
                eprintln!("pflint: note: {note}");
            }
            target.version
        }
        Err(message) => {
            eprintln!("pflint: {message}");
            return ExitCode::from(2);
        }
    };
    let loaded = match ConfigDir::read(&dir) {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("pflint: {e}");
            return ExitCode::from(2);
        }
    };
    let options = Options {
        non_default: args.non_default,
        defaults: args.defaults,
        expand: args.expand,
        fold: args.fold,
        hide_name: args.hide_name,
        hide_value: args.hide_value,
        master_entries: args.master_entries,
        master_params: args.master_params,
        names: args.names,
    };
    if let Err(refusal) = options.check_flags() {
        eprintln!("pflint: fatal: {refusal}");
        return ExitCode::from(1);
    }
    if loaded.main.is_none()
        && !options.defaults
        && !options.master_entries
        && !options.master_params
    {
        eprintln!(
            "pflint: cannot read {}: no main.cf",
            dir.join("main.cf").display()
        );
        return ExitCode::from(2);
    }
    let host = crate::host::local();
    let config = loaded.model(version, &host, config_directory, options.defaults);
    let output = show::show(&config, &options);
    for warning in &output.warnings {
        eprintln!("pflint: warning: {warning}");
    }
    let mut stdout = io::stdout().lock();
    if let Err(e) = stdout
        .write_all(&output.stdout)
        .and_then(|()| stdout.flush())
        && e.kind() != io::ErrorKind::BrokenPipe
    {
        eprintln!("pflint: cannot write: {e}");
        return ExitCode::from(2);
    }
    match output.error {
        Some(error) => {
            eprintln!("pflint: fatal: {error}");
            ExitCode::from(1)
        }
        None => ExitCode::SUCCESS,
    }
}
