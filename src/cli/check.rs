//! `pflint check`.

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::CheckArgs;
use crate::check::{self, Checked, InputError, Options};
use crate::config_dir::ConfigDir;
use crate::model::HostFacts;
use crate::report::{self, Style};
use crate::syntax::FileKind;

/// Exit status when nothing at or above `--fail-on` was found.
const CLEAN: u8 = 0;
/// Exit status when something was.
const FINDINGS: u8 = 1;
/// Exit status for usage errors and paths that cannot be read.
const TROUBLE: u8 = 2;

pub(super) fn run(args: CheckArgs) -> ExitCode {
    let version = match super::target_version(args.postfix_version.as_deref()) {
        Ok(version) => version,
        Err(message) => {
            eprintln!("pflint: {message}");
            return ExitCode::from(TROUBLE);
        }
    };
    // Host-dependent defaults describe this machine only when its own configuration is
    // checked; a configuration kept elsewhere is judged without them.
    let live = args.paths.is_empty();
    let paths = if live {
        vec![default_config_dir()]
    } else {
        args.paths
    };
    let options = Options {
        version,
        host: if live {
            HostFacts::local()
        } else {
            HostFacts::assumed()
        },
    };
    let mut trouble = false;
    let mut checked: Vec<Checked> = Vec::new();
    for path in &paths {
        match read_config(path) {
            Ok(config) => checked.extend(check::check_config(config, &options)),
            Err(e) => {
                eprintln!("pflint: {e}");
                trouble = true;
            }
        }
    }

    let stdout = io::stdout();
    let style = if stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none() {
        Style::Color
    } else {
        Style::Plain
    };
    let mut out = stdout.lock();
    let written = report::write(args.format, style, &checked, &mut out).and_then(|()| out.flush());
    if let Err(e) = written {
        // A closed pipe (`pflint check | head`) is the reader's choice, not an error.
        if e.kind() != io::ErrorKind::BrokenPipe {
            eprintln!("pflint: cannot write the report: {e}");
            return ExitCode::from(TROUBLE);
        }
    }
    if trouble {
        ExitCode::from(TROUBLE)
    } else if report::fails(&checked, args.fail_on) {
        ExitCode::from(FINDINGS)
    } else {
        ExitCode::from(CLEAN)
    }
}

/// A directory gives its main.cf and master.cf; a file is one configuration file alone.
fn read_config(path: &Path) -> Result<ConfigDir, InputError> {
    let mut main = None;
    let mut master = None;
    for input in check::inputs(path)? {
        let file = check::read(&input)?;
        match input.kind {
            FileKind::Main => main = Some(file),
            FileKind::Master => master = Some(file),
        }
    }
    Ok(ConfigDir::from_files(main, master))
}

/// Where Postfix itself looks when no directory is given.
fn default_config_dir() -> PathBuf {
    std::env::var_os("MAIL_CONFIG")
        .filter(|dir| !dir.is_empty())
        .map_or_else(|| PathBuf::from("/etc/postfix"), PathBuf::from)
}
