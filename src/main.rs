use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    pflint::cli::run(pflint::cli::Cli::parse())
}
