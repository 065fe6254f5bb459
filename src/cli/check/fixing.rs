//! `pflint check --fix` and `--diff`: the fixes applied to each configuration, written
//! or shown, and what remains reported as `check` reports it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{CLEAN, FINDINGS, TROUBLE, configurations, options_for, report_and_exit};
use crate::atomic;
use crate::check::Checked;
use crate::cli::CheckArgs;
use crate::diagnostic::{Code, Safety};
use crate::edit::{self, fix};
use crate::input::config_dir::{self, Input};
use crate::syntax::FileKind;

pub(super) fn run(args: &CheckArgs, paths: &[PathBuf], live: bool) -> ExitCode {
    let allowed = if args.unsafe_fixes {
        fix::Allowed::Unsafe
    } else {
        fix::Allowed::Safe
    };
    let mut trouble = false;
    let mut changed = false;
    let mut remaining: Vec<Checked> = Vec::new();
    let mut diffs = String::new();
    for (path, inputs) in configurations(paths) {
        let options = match options_for(&path, args, live) {
            Ok(options) => options,
            Err(message) => {
                eprintln!("pflint: {message}");
                return ExitCode::from(TROUBLE);
            }
        };
        let inputs = match inputs {
            Ok(inputs) => inputs,
            Err(e) => {
                eprintln!("pflint: {e}");
                trouble = true;
                continue;
            }
        };
        if args.fix && !args.diff {
            // A write an earlier run did not finish is finished or undone first.
            let targets: Vec<&Path> = inputs.iter().map(|i| i.path.as_path()).collect();
            if let Some(dir) = directory(&inputs) {
                for line in atomic::recover(&dir, &targets) {
                    eprintln!("pflint: {line}");
                }
            }
        }
        let files = match read(&inputs) {
            Ok(files) => files,
            Err(e) => {
                eprintln!("pflint: {e}");
                trouble = true;
                continue;
            }
        };
        let fixed = match fix::fix(files.clone(), &options, allowed) {
            Ok(fixed) => fixed,
            Err(e) => {
                eprintln!("pflint: {e}");
                trouble = true;
                continue;
            }
        };
        let changes = changed_files(&files, &fixed.files);
        if changes.is_empty() {
            remaining.extend(fixed.remaining);
            continue;
        }
        if !fixed.settled {
            eprintln!(
                "pflint: not fixing {}: the fixes did not settle in {} rounds (two rules undo each other's fix; please report it)",
                path.display(),
                fix::MAX_ROUNDS
            );
            trouble = true;
            continue;
        }
        changed = true;
        let verb = if args.diff { "would fix" } else { "fixed" };
        eprintln!(
            "pflint: {verb} {} in {}",
            summary(&fixed.applied),
            names(&changes)
        );
        if args.diff {
            for (path, old, new) in &changes {
                match edit::diff(&diff_name(path), Some(old), new) {
                    Ok(text) => diffs.push_str(&text),
                    Err(e) => {
                        eprintln!("pflint: {e}");
                        trouble = true;
                    }
                }
            }
            remaining.extend(fixed.remaining);
            continue;
        }
        let bytes = |file: &Option<(PathBuf, Vec<u8>)>| file.as_ref().map(|(_, b)| b.clone());
        let (old_main, old_master) = (bytes(&files.main), bytes(&files.master));
        let (new_main, new_master) = (bytes(&fixed.files.main), bytes(&fixed.files.master));
        let introduced = edit::new_errors(
            (
                old_main.as_deref().unwrap_or_default(),
                old_master.as_deref(),
            ),
            (
                new_main.as_deref().unwrap_or_default(),
                new_master.as_deref(),
            ),
            options.target.version,
        );
        if !introduced.is_empty() {
            eprint!(
                "{}",
                crate::cli::refusal("fixing", &names(&changes), &introduced)
            );
            trouble = true;
            continue;
        }
        let dir = directory(&inputs).unwrap_or_default();
        let atomic_changes: Vec<atomic::Change> = changes
            .iter()
            .map(|(path, old, new)| atomic::Change {
                path,
                old: Some(old),
                new,
            })
            .collect();
        if let Err(e) = edit::write(&dir, &atomic_changes, "pflint check --fix") {
            eprintln!("pflint: {e}");
            trouble = true;
            continue;
        }
        remaining.extend(fixed.remaining);
    }
    if !changed {
        eprintln!("pflint: nothing to fix");
    }
    let held_back = remaining
        .iter()
        .flat_map(|c| &c.findings)
        .filter(|f| f.fix.as_ref().is_some_and(|f| f.safety == Safety::Unsafe))
        .count();
    if held_back > 0 && !args.unsafe_fixes {
        eprintln!(
            "pflint: {held_back} more can be fixed with --unsafe-fixes (they change what mail is accepted or delivered: look at --diff first)"
        );
    }
    if args.diff {
        print!("{diffs}");
        return if trouble {
            ExitCode::from(TROUBLE)
        } else if changed {
            ExitCode::from(FINDINGS)
        } else {
            ExitCode::from(CLEAN)
        };
    }
    report_and_exit(args, &mut remaining, trouble)
}

/// The directory a configuration's write journal goes in: that of its main.cf (else of
/// its master.cf).
fn directory(inputs: &[Input]) -> Option<PathBuf> {
    inputs
        .iter()
        .min_by_key(|i| i.kind != FileKind::Main)
        .map(|i| {
            i.path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
        })
}

/// Reads a configuration's files.
fn read(inputs: &[Input]) -> Result<fix::Files, config_dir::InputError> {
    let mut files = fix::Files {
        main: None,
        master: None,
    };
    for input in inputs {
        let file = config_dir::read(input)?;
        let read = Some((input.path.clone(), file.bytes().to_vec()));
        match input.kind {
            FileKind::Main => files.main = read,
            FileKind::Master => files.master = read,
        }
    }
    Ok(files)
}

/// The files whose bytes the fixes changed: path, old bytes, new bytes.
fn changed_files(old: &fix::Files, new: &fix::Files) -> Vec<(PathBuf, Vec<u8>, Vec<u8>)> {
    [(&old.main, &new.main), (&old.master, &new.master)]
        .into_iter()
        .filter_map(|(old, new)| match (old, new) {
            (Some((path, old)), Some((_, new))) if old != new => {
                Some((path.clone(), old.clone(), new.clone()))
            }
            _ => None,
        })
        .collect()
}

/// "3 problems (PF204 auth-without-tls, PF406 ×2 opportunistic-high-ciphers-inbound)".
fn summary(applied: &[(FileKind, crate::diagnostic::Finding)]) -> String {
    let mut counts: BTreeMap<Code, usize> = BTreeMap::new();
    for (_, finding) in applied {
        *counts.entry(finding.code).or_default() += 1;
    }
    let rules: Vec<String> = counts
        .iter()
        .map(|(code, n)| match n {
            1 => format!("{code} {}", code.name()),
            n => format!("{code} ×{n} {}", code.name()),
        })
        .collect();
    let problems = match applied.len() {
        1 => "1 problem".to_owned(),
        n => format!("{n} problems"),
    };
    format!("{problems} ({})", rules.join(", "))
}

fn names(changes: &[(PathBuf, Vec<u8>, Vec<u8>)]) -> String {
    changes
        .iter()
        .map(|(p, _, _)| p.display().to_string())
        .collect::<Vec<_>>()
        .join(" and ")
}

/// The name a diff gives a file: its path as given, without a leading `/` or `./`, so
/// that `git apply` or `patch -p1` in the directory the paths start from applies it.
fn diff_name(path: &Path) -> String {
    let shown = path.display().to_string();
    shown
        .trim_start_matches("./")
        .trim_start_matches('/')
        .to_owned()
}
