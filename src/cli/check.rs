//! `pflint check`.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use super::CheckArgs;
use crate::check::{self, Checked};
use crate::report::{self, Style};

/// Exit status when nothing at or above `--fail-on` was found.
const CLEAN: u8 = 0;
/// Exit status when something was.
const FINDINGS: u8 = 1;
/// Exit status for usage errors and paths that cannot be read.
const TROUBLE: u8 = 2;

pub(super) fn run(args: CheckArgs) -> ExitCode {
    let paths = if args.paths.is_empty() {
        vec![default_config_dir()]
    } else {
        args.paths
    };
    let mut trouble = false;
    let mut checked: Vec<Checked> = Vec::new();
    for path in &paths {
        let inputs = match check::inputs(path) {
            Ok(inputs) => inputs,
            Err(e) => {
                eprintln!("pflint: {e}");
                trouble = true;
                continue;
            }
        };
        for input in inputs {
            match check::read(&input) {
                Ok(file) => checked.push(check::check(file, input.kind)),
                Err(e) => {
                    eprintln!("pflint: {e}");
                    trouble = true;
                }
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

/// Where Postfix itself looks when no directory is given.
fn default_config_dir() -> PathBuf {
    std::env::var_os("MAIL_CONFIG")
        .filter(|dir| !dir.is_empty())
        .map_or_else(|| PathBuf::from("/etc/postfix"), PathBuf::from)
}
