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
    let loaded = match read_as_postconf(&dir, &options) {
        Ok(loaded) => loaded,
        Err(Unusable::Fatal(message)) => {
            // postconf's own status for a file it cannot use.
            eprintln!("pflint: fatal: {message}");
            return ExitCode::from(1);
        }
        Err(Unusable::Refused(message)) => {
            eprintln!("pflint: {message}");
            return ExitCode::from(2);
        }
    };
    let host = crate::host::local();
    let config = loaded.model(version, &host, config_directory, options.defaults);
    let output = show::show(&config, &options);
    // Buffered: a large file may have a warning for each of its names, and stderr is not.
    // (A stderr that cannot be written loses the warnings, not the output.)
    let mut stderr = io::BufWriter::new(io::stderr().lock());
    for warning in &output.warnings {
        if writeln!(stderr, "pflint: warning: {warning}").is_err() {
            break;
        }
    }
    let _ = stderr.flush();
    drop(stderr);
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

/// Why `show` cannot go on: a file postconf stops at (exit 1), or one pflint does not
/// read at all, such as a FIFO (exit 2, as for every command).
enum Unusable {
    Fatal(String),
    Refused(String),
}

/// Reads main.cf and master.cf as postconf does: main.cf must be there, except for
/// `-d`; master.cf only for `-M` and `-P`; a main.cf that is a directory stops
/// postconf, a master.cf that is one reads as empty (its read() fails, which postconf
/// takes for the end of the file).
fn read_as_postconf(dir: &std::path::Path, options: &Options) -> Result<ConfigDir, Unusable> {
    use crate::input::config_dir::{Input, read};
    use crate::input::files::{Kind, kind};
    use crate::source::SourceFile;
    use crate::syntax::FileKind;
    let load = |name: &str, file_kind: FileKind| -> Result<Option<SourceFile>, Unusable> {
        let path = dir.join(name);
        match kind(&path) {
            Ok(None) => Ok(None),
            Ok(Some(Kind::Directory)) if file_kind == FileKind::Master => {
                SourceFile::new(&path, Vec::new())
                    .map(Some)
                    .map_err(|e| Unusable::Refused(e.to_string()))
            }
            Ok(Some(Kind::Directory)) => Err(Unusable::Fatal(format!(
                "read {}: Is a directory",
                path.display()
            ))),
            Ok(Some(_)) => read(&Input {
                path,
                kind: file_kind,
            })
            .map(Some)
            .map_err(|e| Unusable::Refused(e.to_string())),
            Err(reason) => Err(Unusable::Refused(format!(
                "cannot read {}: {reason}",
                path.display()
            ))),
        }
    };
    // `-d` reads no main.cf.
    let main = if options.defaults {
        load("main.cf", FileKind::Main).unwrap_or(None)
    } else {
        load("main.cf", FileKind::Main)?
    };
    let master = load("master.cf", FileKind::Master)?;
    let missing = |name: &str| {
        Unusable::Fatal(format!(
            "open {}: No such file or directory",
            dir.join(name).display()
        ))
    };
    if main.is_none() && !options.defaults {
        return Err(missing("main.cf"));
    }
    if master.is_none() && (options.master_entries || options.master_params) {
        return Err(missing("master.cf"));
    }
    Ok(ConfigDir::from_files(main, master))
}
