//! A Postfix configuration directory, read and parsed: the input of the model.

use std::path::Path;

use crate::check::{Input, InputError, read};
use crate::model::config::{Input as ModelInput, Parsed};
use crate::model::{Config, HostFacts, Version};
use crate::source::SourceFile;
use crate::syntax::{FileKind, MainCf, MasterCf, Problem, main_cf, master_cf};

/// A parsed file with what its parser found.
pub struct Loaded<T> {
    /// The file.
    pub file: SourceFile,
    /// Its tree.
    pub tree: T,
    /// Parser problems.
    pub problems: Vec<Problem>,
}

/// main.cf and master.cf of one directory, each if present.
pub struct ConfigDir {
    /// main.cf.
    pub main: Option<Loaded<MainCf>>,
    /// master.cf.
    pub master: Option<Loaded<MasterCf>>,
}

impl ConfigDir {
    /// Reads `dir/main.cf` and `dir/master.cf`; a missing file is left out, an unreadable
    /// one is an error.
    pub fn read(dir: &Path) -> Result<ConfigDir, InputError> {
        let load = |name: &str, kind: FileKind| -> Result<Option<SourceFile>, InputError> {
            let path = dir.join(name);
            match crate::files::kind(&path) {
                Ok(None) => Ok(None),
                Ok(Some(_)) => read(&Input { path, kind }).map(Some),
                Err(reason) => Err(InputError { path, reason }),
            }
        };
        Ok(ConfigDir::from_files(
            load("main.cf", FileKind::Main)?,
            load("master.cf", FileKind::Master)?,
        ))
    }

    /// Parses files already read.
    pub fn from_files(main: Option<SourceFile>, master: Option<SourceFile>) -> ConfigDir {
        ConfigDir {
            main: main.map(|file| {
                let parsed = main_cf::parse(file.bytes());
                Loaded {
                    file,
                    tree: parsed.tree,
                    problems: parsed.problems,
                }
            }),
            master: master.map(|file| {
                let parsed = master_cf::parse(file.bytes());
                Loaded {
                    file,
                    tree: parsed.tree,
                    problems: parsed.problems,
                }
            }),
        }
    }

    /// Builds the model of this directory.
    pub fn model<'a>(
        &'a self,
        version: Version,
        host: &'a HostFacts,
        config_directory: Option<Vec<u8>>,
        defaults_only: bool,
    ) -> Config<'a> {
        self.model_with_master(
            self.master.as_ref(),
            version,
            host,
            config_directory,
            defaults_only,
        )
    }

    /// Builds the model of this directory's main.cf with another master.cf.
    pub fn model_with_master<'a>(
        &'a self,
        master: Option<&'a Loaded<MasterCf>>,
        version: Version,
        host: &'a HostFacts,
        config_directory: Option<Vec<u8>>,
        defaults_only: bool,
    ) -> Config<'a> {
        Config::build(ModelInput {
            main: self.main.as_ref().map(|m| Parsed {
                file: &m.file,
                tree: &m.tree,
            }),
            master: master.map(|m| Parsed {
                file: &m.file,
                tree: &m.tree,
            }),
            version,
            host,
            config_directory,
            defaults_only,
        })
    }
}

/// Postfix's stock master.cf services (`data/stock-master.cf`), for a main.cf checked
/// without its master.cf.
pub fn stock_master() -> Loaded<MasterCf> {
    const STOCK: &str = include_str!("../data/stock-master.cf");
    let parsed = master_cf::parse(STOCK.as_bytes());
    Loaded {
        file: SourceFile::new("master.cf (Postfix's stock)", STOCK.as_bytes().to_vec())
            .unwrap_or_else(|_| unreachable!("the stock master.cf is small")),
        tree: parsed.tree,
        problems: parsed.problems,
    }
}
