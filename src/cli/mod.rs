//! Command-line definitions (clap) and the wiring from arguments to the library.

mod check;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::diagnostic::Severity;
use crate::report::Format;

/// Lint Postfix main.cf and master.cf, TLS first, reading them exactly as Postfix does.
#[derive(Debug, Parser)]
#[command(name = "pflint", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check configuration directories or files and report problems.
    ///
    /// Exit status: 0 when nothing at or above --fail-on was found, 1 when something
    /// was, 2 for usage errors and unreadable paths.
    Check(CheckArgs),
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// Configuration directories (main.cf, and master.cf when present) or single files
    /// (a file named master.cf is read as master.cf, any other as main.cf).
    /// Default: $MAIL_CONFIG, or /etc/postfix.
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,

    /// Lowest severity that makes the check exit with status 1.
    #[arg(long, value_enum, default_value_t = Severity::Warning, value_name = "SEVERITY")]
    fail_on: Severity,
}

/// Runs the command line and returns the exit status.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Check(args) => check::run(args),
    }
}
