//! pflint reads Postfix's `main.cf` and `master.cf` exactly as Postfix does and reports
//! what would break mail or weaken its protection, TLS first.
//!
//! Data flows one way:
//!
//! ```text
//! bytes ──syntax──▶ Tree (lossless, spans) ──check──▶ Findings ──report──▶ human / short / json
//! ```
//!
//! ```
//! use pflint::syntax::{self, FileKind};
//!
//! let src = b"myhostname = mail.example.com\n# comment\nmydestination = $myhostname,\n  localhost\n";
//! let (tree, problems) = syntax::parse(FileKind::Main, src);
//! assert!(problems.is_empty());
//! assert_eq!(tree.print(src), src); // lossless
//! ```
//!
//! Limitations: values are kept as Postfix stores them (lines joined, ends trimmed); how
//! Postfix *uses* a value (expansion, defaults, per-service overrides) is the model's job,
//! not the parser's.

pub mod atomic;
pub mod check;
pub mod cli;
pub mod code;
pub mod diagnostic;
pub mod dns;
pub mod edit;
pub mod generate;
pub mod host;
pub mod input;
pub mod material;
pub mod model;
pub mod probe;
pub mod report;
pub mod rules;
pub mod show;
pub mod source;
pub mod syntax;
pub mod text;
pub mod tlsa;
