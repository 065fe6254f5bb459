//! The inputs pflint reads, at the edge: files (bounded, regular files only), the
//! configuration directories and files named on the command line, parsed once, and the
//! project settings in `.pflint.yaml`.

pub mod config_dir;
pub mod files;
pub mod settings;
