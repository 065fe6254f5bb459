//! A Postfix configuration: the files a command-line path names, read and parsed (the
//! input of the model).

use std::fmt;
use std::path::{Path, PathBuf};

use crate::input::files;
use crate::model::config::{Input as ModelInput, Parsed};
use crate::model::{Config, HostFacts, Version, params};
use crate::source::SourceFile;
use crate::syntax::{FileKind, MainCf, MasterCf, Problem, main_cf, master_cf};

/// A file to check and the grammar to read it with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    /// The path, as derived from the argument the user gave.
    pub path: PathBuf,
    /// main.cf or master.cf grammar.
    pub kind: FileKind,
}

/// A path that cannot be checked, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    /// The path as the user gave it (or as derived from it).
    pub path: PathBuf,
    /// Why it cannot be read, in plain words.
    pub reason: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot read {}: {}", self.path.display(), self.reason)
    }
}

/// Turns one command-line path into the files to check: a directory gives its `main.cf`
/// and, when there is one, its `master.cf`; a file is read with the grammar its name
/// implies (`master.cf`, or main.cf for any other name).
pub fn inputs(path: &Path) -> Result<Vec<Input>, InputError> {
    let error = |path: &Path, reason: String| InputError {
        path: path.to_owned(),
        reason,
    };
    match files::kind(path).map_err(|why| error(path, why))? {
        None => return Err(error(path, "no such file or directory".to_owned())),
        Some(files::Kind::Directory) => {}
        Some(_) => {
            return Ok(vec![Input {
                path: path.to_owned(),
                kind: FileKind::for_path(path),
            }]);
        }
    }
    let main = path.join("main.cf");
    if files::kind(&main)
        .map_err(|why| error(&main, why))?
        .is_none()
    {
        return Err(error(
            path,
            "the directory has no main.cf (give a Postfix configuration directory or a file)"
                .to_owned(),
        ));
    }
    let mut found = vec![Input {
        path: main,
        kind: FileKind::Main,
    }];
    let master = path.join("master.cf");
    if files::kind(&master)
        .map_err(|why| error(&master, why))?
        .is_some()
    {
        found.push(Input {
            path: master,
            kind: FileKind::Master,
        });
    }
    Ok(found)
}

/// Reads an input's bytes.
pub fn read(input: &Input) -> Result<SourceFile, InputError> {
    let error = |reason: String| InputError {
        path: input.path.clone(),
        reason,
    };
    let bytes = files::read(&input.path).map_err(error)?;
    if let Some(why) = files::binary(&bytes) {
        return Err(error(why));
    }
    SourceFile::new(input.path.clone(), bytes).map_err(|e| error(e.to_string()))
}

/// A parsed file with what its parser found.
pub struct Loaded<T> {
    /// The file.
    pub file: SourceFile,
    /// Its tree.
    pub tree: T,
    /// Parser problems.
    pub problems: Vec<Problem>,
}

/// A parser that takes the raw-value names (`main_cf::parse_with`, `master_cf::parse_with`).
type Grammar<T> = fn(&[u8], fn(&[u8]) -> bool) -> crate::syntax::Parsed<T>;

impl<T> Loaded<T> {
    /// Parses `file` with `parse`, the values of raw parameters not read as expressions.
    fn parse(file: SourceFile, parse: Grammar<T>) -> Loaded<T> {
        let parsed = parse(file.bytes(), params::is_raw);
        Loaded {
            file,
            tree: parsed.tree,
            problems: parsed.problems,
        }
    }
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
            match crate::input::files::kind(&path) {
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
            main: main.map(|file| Loaded::parse(file, main_cf::parse_with)),
            master: master.map(|file| Loaded::parse(file, master_cf::parse_with)),
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
    const STOCK: &str = include_str!("../../data/stock-master.cf");
    let file = SourceFile::new("master.cf (Postfix's stock)", STOCK.as_bytes().to_vec())
        .unwrap_or_else(|_| unreachable!("the stock master.cf is small"));
    Loaded::parse(file, master_cf::parse_with)
}
