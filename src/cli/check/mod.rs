//! `pflint check`.

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::CheckArgs;
use crate::check::{self, Checked, Options};
use crate::input::config_dir::ConfigDir;
use crate::input::config_dir::{self, Input, InputError};
use crate::input::settings::Settings;
use crate::material::{Expectations, Reading};
use crate::model::HostFacts;
use crate::report::{self, Style};
use crate::rules::policy::Policy;
use crate::syntax::FileKind;

mod fixing;

/// Exit status when nothing at or above `--fail-on` was found.
const CLEAN: u8 = 0;
/// Exit status when something was.
const FINDINGS: u8 = 1;
/// Exit status for usage errors and paths that cannot be read.
const TROUBLE: u8 = 2;

pub(super) fn run(args: CheckArgs) -> ExitCode {
    // Host-dependent defaults describe this machine only when its own configuration is
    // checked; a configuration kept elsewhere is judged without them.
    let live = args.paths.is_empty();
    let paths = if live {
        vec![default_config_dir()]
    } else {
        args.paths.clone()
    };
    if args.unsafe_fixes && !args.fix && !args.diff {
        eprintln!("pflint: --unsafe-fixes goes with --fix or --diff");
        return ExitCode::from(TROUBLE);
    }
    if args.fix || args.diff {
        return fixing::run(&args, &paths, live);
    }
    let mut trouble = false;
    let mut checked: Vec<Checked> = Vec::new();
    for (path, files) in configurations(&paths) {
        let options = match options_for(&path, &args, live) {
            Ok(options) => options,
            Err(message) => {
                eprintln!("pflint: {message}");
                return ExitCode::from(TROUBLE);
            }
        };
        match files.and_then(|files| read_config(&files)) {
            Ok(config) => checked.extend(check::check_config(config, &options)),
            Err(e) => {
                eprintln!("pflint: {e}");
                trouble = true;
            }
        }
    }

    report_and_exit(&args, &mut checked, trouble)
}

/// Prints the report; the exit status from it: trouble (including a report that cannot
/// be written), findings at or above `--fail-on`, or clean.
fn report_and_exit(args: &CheckArgs, checked: &mut [Checked], trouble: bool) -> ExitCode {
    if !print_report(args, checked) || trouble {
        ExitCode::from(TROUBLE)
    } else if report::fails(checked, args.fail_on) {
        ExitCode::from(FINDINGS)
    } else {
        ExitCode::from(CLEAN)
    }
}

/// Writes the report to stdout; false when it cannot be written.
fn print_report(args: &CheckArgs, checked: &mut [Checked]) -> bool {
    if args.format == crate::report::Format::Sarif {
        crate::edit::fix::plan_changes(checked);
    }
    let stdout = io::stdout();
    let style = if stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none() {
        Style::Color
    } else {
        Style::Plain
    };
    // Buffered: stdout is line-buffered, and a report is many small writes.
    let mut out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let written = report::write(args.format, style, checked, &mut out).and_then(|()| out.flush());
    match written {
        // A closed pipe (`pflint check | head`) is the reader's choice, not an error.
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            eprintln!("pflint: cannot write the report: {e}");
            false
        }
        _ => true,
    }
}

/// The options for checking `path`: the command line over its `.pflint.yaml` (the file
/// given with `--config`, else the nearest one above the path).
fn options_for(path: &Path, args: &CheckArgs, live: bool) -> Result<Options, String> {
    let settings_file = if args.no_config {
        None
    } else {
        args.config.clone().or_else(|| Settings::discover(path))
    };
    let settings = match &settings_file {
        Some(file) => Settings::load(file).map_err(|e| e.to_string())?,
        None => Settings::default(),
    };
    let from_settings = settings
        .postfix_version
        .as_deref()
        .zip(settings_file.as_deref());
    let target = super::target(args.postfix_version.as_deref(), from_settings)?;
    let policy = Policy {
        select: args.select.clone(),
        ignore: settings
            .disable
            .iter()
            .chain(&args.ignore)
            .cloned()
            .collect(),
        severity: settings.severity.clone(),
    };
    let reading = reading(path, args, live, &settings);
    policy.validate().map_err(|e| match &settings_file {
        Some(file) => format!("{e} (command line or {})", file.display()),
        None => e,
    })?;
    Ok(Options {
        target,
        host: if live {
            crate::host::local()
        } else {
            HostFacts::assumed()
        },
        policy,
        roles: settings.roles,
        live,
        reading: Reading {
            expect: Expectations {
                tlsa: match &settings_file {
                    Some(file) => settings.published_tlsa(file).map_err(|e| e.to_string())?,
                    None => None,
                },
                ..reading.expect
            },
            ..reading
        },
    })
}

/// Whether and how the files the configuration names are read: on for the live
/// configuration (no PATH, `$MAIL_CONFIG`, /etc/postfix) and with --files or --root; off
/// with --no-files.
fn reading(path: &Path, args: &CheckArgs, live: bool, settings: &Settings) -> Reading {
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_owned());
    let here = canonical(path);
    let host_config =
        live || here == canonical(&default_config_dir()) || here == Path::new("/etc/postfix");
    let defaults = Expectations::default();
    Reading {
        enabled: !args.no_files && (args.files || args.root.is_some() || host_config),
        root: args.root.clone(),
        owners_matter: host_config && args.root.is_none(),
        expect: Expectations {
            expiry_warning_days: settings
                .certificates
                .expiry_warning_days
                .unwrap_or(defaults.expiry_warning_days),
            expiry_info_days: settings
                .certificates
                .expiry_info_days
                .unwrap_or(defaults.expiry_info_days),
            names: settings.mx_names.clone(),
            now: defaults.now,
            tlsa: None,
        },
    }
}

/// The configurations the paths name, each as (the path settings are found from, its
/// files): a directory gives its main.cf and master.cf; files named main.cf and master.cf
/// in one directory form one configuration, joined by the other one on disk when only
/// one is given (pre-commit passes the changed files only, and a master.cf `-o` means
/// nothing without its main.cf); any other file stands alone, read as main.cf.
fn configurations(paths: &[PathBuf]) -> Vec<(PathBuf, Result<Vec<Input>, InputError>)> {
    let mut out: Vec<(PathBuf, Result<Vec<Input>, InputError>)> = Vec::new();
    let mut paired: Vec<PathBuf> = Vec::new();
    for path in paths {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let is_dir = matches!(
            crate::input::files::kind(path),
            Ok(Some(crate::input::files::Kind::Directory))
        );
        if is_dir || !matches!(name, "main.cf" | "master.cf") {
            out.push((path.clone(), config_dir::inputs(path)));
            continue;
        }
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        if paired.contains(&dir) {
            continue;
        }
        paired.push(dir.clone());
        let mut inputs = Vec::new();
        for (file, kind) in [("main.cf", FileKind::Main), ("master.cf", FileKind::Master)] {
            let candidate = dir.join(file);
            // The sibling is read when it is there; an unreadable one is an error then.
            let present = !matches!(crate::input::files::kind(&candidate), Ok(None));
            if present || candidate == *path {
                inputs.push(Input {
                    path: candidate,
                    kind,
                });
            }
        }
        out.push((path.clone(), Ok(inputs)));
    }
    out
}

/// Reads and parses the files of one configuration.
fn read_config(inputs: &[Input]) -> Result<ConfigDir, InputError> {
    let mut main = None;
    let mut master = None;
    for input in inputs {
        let file = config_dir::read(input)?;
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
