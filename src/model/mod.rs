//! The effective configuration: what Postfix will actually use, after defaults for the
//! target version and compatibility level, `$name` expansion, and master.cf `-o`
//! overrides per service; plus which parameters Postfix knows, uses and misses.
//!
//! The model reads no files and prints nothing: it is built from parsed trees, a target
//! version and host facts.

pub mod config;
pub mod expand;
pub mod host;
pub mod params;
pub mod roles;
pub mod sorted;
pub mod subject;
pub mod suggest;
pub mod tls;
pub mod tls_files;
pub mod typed;
pub mod value;
pub mod version;

pub use config::{Config, Input, Scope};
pub use host::HostFacts;
pub use params::{ParamInfo, ParamTable, ValueType};
pub use roles::{Listener, ListenerKind, Program, Relay, Roles};
pub use typed::{EffectiveTls, ReadError, TlsSide};
pub use value::TlsLevel;
pub use version::Version;
