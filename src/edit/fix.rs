//! `check --fix`: the rules' fixes as replacements, applied round by round.
//!
//! A fix is a list of parameter edits ([`Edit`]); here each becomes replacements of the
//! trees' byte ranges:
//!
//! - a main.cf setting changes its value in place (the last one, which Postfix uses), or
//!   is added at the end of the file;
//! - a removed main.cf setting is commented out, every time it is written, under a line
//!   that names the rule (the admin's text stays, and so does the reason);
//! - a master.cf option changes its value, or is added after the service's last option;
//!   a removed one goes with its line, and a comment above the service says which.
//!
//! Fixes whose replacements overlap one already taken wait for the next round: after each
//! round the result is checked again, and what is still found is fixed then.

use std::path::PathBuf;

use foldhash::{HashMap, HashMapExt as _, HashSet, HashSetExt as _};

use super::{Replacement, apply, at_end, line_start, master};
use crate::check::{self, Checked, Options};
use crate::diagnostic::{Code, Edit, FileChange, Finding, Fix, Safety};
use crate::input::config_dir::ConfigDir;
use crate::source::SourceFile;
use crate::syntax::document::Entry as _;
use crate::syntax::main_cf::Parameter;
use crate::syntax::master_cf::{Field, Service};
use crate::syntax::{FileKind, MainCf, MasterCf, main_cf, master_cf};

/// How many check → fix rounds a run makes at most: every fix the rules have settles in
/// two, so more means two fixes undo each other.
pub const MAX_ROUNDS: usize = 10;

/// The replacements of one fix, per file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Planned {
    /// main.cf's.
    pub main: Vec<Replacement>,
    /// master.cf's.
    pub master: Vec<Replacement>,
}

impl Planned {
    fn overlaps(&self, other: &Planned) -> bool {
        let any = |a: &[Replacement], b: &[Replacement]| {
            a.iter().any(|x| b.iter().any(|y| x.overlaps(y) && x != y))
        };
        any(&self.main, &other.main) || any(&self.master, &other.master)
    }

    fn is_empty(&self) -> bool {
        self.main.is_empty() && self.master.is_empty()
    }
}

/// The trees a fix is planned against, each with its bytes.
#[derive(Clone, Copy)]
pub struct Trees<'a> {
    /// main.cf.
    pub main: Option<(&'a MainCf, &'a [u8])>,
    /// master.cf.
    pub master: Option<(&'a MasterCf, &'a [u8])>,
}

/// The entries that the edits of some fixes concern, found in one pass over each tree: a
/// file of many findings would otherwise be walked once for each.
pub struct Targets<'a> {
    trees: Trees<'a>,
    settings: HashMap<&'a [u8], Vec<&'a Parameter>>,
    /// By the name and type as the edits write them (`smtp/inet`).
    services: HashMap<String, Vec<&'a Service>>,
}

impl<'a> Targets<'a> {
    /// The entries in `trees` that the edits of `fixes` name.
    pub fn of<'f>(trees: Trees<'a>, fixes: impl IntoIterator<Item = &'f Fix>) -> Targets<'a> {
        let mut names: HashSet<&[u8]> = HashSet::new();
        let mut keys: HashMap<(&[u8], &[u8]), &str> = HashMap::new();
        for edit in fixes.into_iter().flat_map(|f| &f.edits) {
            match &edit.service {
                None => {
                    names.insert(edit.parameter.as_bytes());
                }
                Some(service) => {
                    let (name, kind) = service.rsplit_once('/').unwrap_or((service, ""));
                    keys.insert((name.as_bytes(), kind.as_bytes()), service);
                }
            }
        }
        let mut settings: HashMap<&'a [u8], Vec<&'a Parameter>> = HashMap::new();
        if let Some((tree, src)) = trees.main.filter(|_| !names.is_empty()) {
            for p in tree.entries() {
                let name = p.name(src);
                if names.contains(name) {
                    settings.entry(name).or_default().push(p);
                }
            }
        }
        let mut services: HashMap<String, Vec<&'a Service>> = HashMap::new();
        if let Some((tree, src)) = trees.master.filter(|_| !keys.is_empty()) {
            for node in tree.entries() {
                let field = |f: Field| node.field(f).map(|r| node.text(src, r));
                let (Some(name), Some(kind)) = (field(Field::Service), field(Field::Type)) else {
                    continue;
                };
                if let Some(&written) = keys.get(&(&name[..], &kind[..])) {
                    services.entry(written.to_owned()).or_default().push(node);
                }
            }
        }
        Targets {
            trees,
            settings,
            services,
        }
    }

    /// The main.cf settings of `name`, in file order.
    fn settings(&self, name: &str) -> &[&'a Parameter] {
        self.settings
            .get(name.as_bytes())
            .map_or(&[], Vec::as_slice)
    }

    /// The master.cf entries written `name/type`, in file order.
    fn services(&self, name_type: &str) -> &[&'a Service] {
        self.services.get(name_type).map_or(&[], Vec::as_slice)
    }
}

/// The replacements that make `fix` (of a finding of rule `code`); `None` when an edit
/// cannot be made (a master.cf option without a master.cf, or without that service).
/// `targets` holds the entries of (at least) this fix's edits.
pub fn plan(code: Code, fix: &Fix, targets: &Targets<'_>) -> Option<Planned> {
    let mut planned = Planned::default();
    for edit in &fix.edits {
        match &edit.service {
            None => {
                let (_, src) = targets.trees.main?;
                let written = targets.settings(&edit.parameter);
                planned.main.extend(main_edit(code, edit, written, src));
            }
            Some(service) => {
                let (_, src) = targets.trees.master?;
                let nodes = targets.services(service);
                planned.master.extend(option_edit(code, edit, nodes, src)?);
            }
        }
    }
    Some(planned)
}

/// A main.cf setting set or commented out; `written` are its settings in the file.
fn main_edit(code: Code, edit: &Edit, written: &[&Parameter], src: &[u8]) -> Vec<Replacement> {
    match (&edit.value, written.last()) {
        (Some(value), Some(p)) if *p.value(src) == *value.as_bytes() => Vec::new(),
        (Some(value), Some(p)) => {
            let span = p.value_span();
            // `name =` with nothing after it: keep a blank between `=` and the value.
            let blank = span.is_empty() && src.get(span.start as usize - 1) == Some(&b'=');
            vec![Replacement {
                span,
                text: if blank {
                    format!(" {value}")
                } else {
                    value.to_string()
                },
            }]
        }
        (Some(value), None) => vec![at_end(src, &format!("{} = {value}\n", edit.parameter))],
        (None, _) => written
            .iter()
            .map(|p| {
                let span = p.span();
                let lines = String::from_utf8_lossy(&src[span.range()]);
                let mut text = format!("# pflint --fix ({code} {}):\n", code.name());
                for line in lines.split_inclusive('\n') {
                    text.push('#');
                    text.push_str(line);
                }
                if !text.ends_with('\n') {
                    text.push('\n');
                }
                Replacement { span, text }
            })
            .collect(),
    }
}

/// A master.cf `-o` option set or removed on every service written `name/type` (the
/// `nodes`).
fn option_edit(
    code: Code,
    edit: &Edit,
    nodes: &[&Service],
    src: &[u8],
) -> Option<Vec<Replacement>> {
    let mut out = Vec::new();
    let found = !nodes.is_empty();
    for &node in nodes {
        match &edit.value {
            Some(value) => match master::set_option(node, src, &edit.parameter, value) {
                master::OptionEdit::Same => {}
                master::OptionEdit::Replace(r) => out.push(r),
                master::OptionEdit::Add => out.push(master::add_options(
                    node,
                    src,
                    &[(edit.parameter.to_string(), value.to_string())],
                )),
            },
            None => {
                let options = master::options_setting(node, src, &edit.parameter);
                if options.is_empty() {
                    continue;
                }
                out.extend(options.iter().map(|o| master::remove_option(node, o, src)));
                out.push(Replacement::insert(
                    line_start(src, node.span().start),
                    format!(
                        "# pflint --fix ({code} {}): removed -o {}\n",
                        code.name(),
                        edit.parameter
                    ),
                ));
            }
        }
    }
    found.then_some(out)
}

/// Which fixes a run applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Allowed {
    /// Only those that keep mail flowing as before.
    Safe,
    /// Also those that change what mail is accepted or delivered.
    Unsafe,
}

impl Allowed {
    fn allows(self, safety: Safety) -> bool {
        safety == Safety::Safe || self == Allowed::Unsafe
    }
}

/// A configuration's files as the fixing works on them.
#[derive(Clone, Debug)]
pub struct Files {
    /// main.cf: its path and bytes.
    pub main: Option<(PathBuf, Vec<u8>)>,
    /// master.cf: its path and bytes.
    pub master: Option<(PathBuf, Vec<u8>)>,
}

impl Files {
    fn sources(&self) -> Result<(Option<SourceFile>, Option<SourceFile>), String> {
        let source = |file: &Option<(PathBuf, Vec<u8>)>| {
            file.as_ref()
                .map(|(path, bytes)| {
                    SourceFile::new(path.clone(), bytes.clone())
                        .map_err(|e| format!("{}: {e}", path.display()))
                })
                .transpose()
        };
        Ok((source(&self.main)?, source(&self.master)?))
    }
}

/// What fixing a configuration did.
#[derive(Debug)]
pub struct Fixed {
    /// The files after the fixes (bytes equal to the input's when nothing changed).
    pub files: Files,
    /// The findings whose fix was applied, as they were found, with their file.
    pub applied: Vec<(FileKind, Finding)>,
    /// What the check finds in the result.
    pub remaining: Vec<Checked>,
    /// Whether the last round found nothing left to fix (else [`MAX_ROUNDS`] ran out).
    pub settled: bool,
}

/// Plans every finding's fix against the files checked (each parsed once), so that a
/// report can show the fixes as text without knowing the files' grammar. A fix with an
/// edit that cannot be made gets no changes.
pub fn plan_changes(checked: &mut [Checked]) {
    let changes = planned_changes(checked);
    let findings = checked.iter_mut().flat_map(|c| c.findings.iter_mut());
    for (finding, changes) in findings.zip(changes) {
        if let Some(fix) = finding.fix.as_mut() {
            fix.changes = changes;
        }
    }
}

/// Each finding's planned changes, in the order of the findings.
fn planned_changes(checked: &[Checked]) -> Vec<Option<Vec<FileChange>>> {
    let source = |kind| checked.iter().find(|c| c.kind == kind).map(|c| &c.file);
    let (main, master) = (source(FileKind::Main), source(FileKind::Master));
    let main_tree = main.map(|f| main_cf::parse(f.bytes()).tree);
    let master_tree = master.map(|f| master_cf::parse(f.bytes()).tree);
    let trees = Trees {
        main: main_tree.as_ref().zip(main.map(|f| f.bytes())),
        master: master_tree.as_ref().zip(master.map(|f| f.bytes())),
    };
    let fixes = checked
        .iter()
        .flat_map(|c| &c.findings)
        .filter_map(|f| f.fix.as_deref());
    let targets = Targets::of(trees, fixes);
    let in_file = |kind: FileKind, file: Option<&SourceFile>, replacements: Vec<Replacement>| {
        let bytes = file.map_or(&[][..], |f| f.bytes());
        let replacements: Vec<Replacement> = replacements
            .into_iter()
            .map(|r| Replacement {
                text: String::from_utf8_lossy(&super::line_endings(bytes, r.text.into_bytes()))
                    .into_owned(),
                span: r.span,
            })
            .collect();
        (!replacements.is_empty()).then_some(FileChange {
            file: kind,
            replacements,
        })
    };
    checked
        .iter()
        .flat_map(|c| &c.findings)
        .map(|finding| {
            let planned = plan(finding.code, finding.fix.as_ref()?, &targets)?;
            Some(
                [
                    in_file(FileKind::Main, main, planned.main),
                    in_file(FileKind::Master, master, planned.master),
                ]
                .into_iter()
                .flatten()
                .collect(),
            )
        })
        .collect()
}

/// Checks `files`, applies the fixes `allowed`, and repeats until nothing changes (at
/// most [`MAX_ROUNDS`] times).
pub fn fix(mut files: Files, options: &Options, allowed: Allowed) -> Result<Fixed, String> {
    let mut applied = Vec::new();
    for _ in 0..MAX_ROUNDS {
        let (main, master) = files.sources()?;
        let checked = check::check_files(main, master, options);
        let main_tree = files.main.as_ref().map(|(_, b)| main_cf::parse(b).tree);
        let master_tree = files.master.as_ref().map(|(_, b)| master_cf::parse(b).tree);
        let trees = Trees {
            main: main_tree
                .as_ref()
                .zip(files.main.as_ref().map(|(_, b)| &b[..])),
            master: master_tree
                .as_ref()
                .zip(files.master.as_ref().map(|(_, b)| &b[..])),
        };
        let fixes = checked
            .iter()
            .flat_map(|c| &c.findings)
            .filter_map(|f| f.fix.as_deref())
            .filter(|f| allowed.allows(f.safety));
        let targets = Targets::of(trees, fixes);
        let mut taken = Planned::default();
        let mut round = Vec::new();
        for c in &checked {
            for finding in &c.findings {
                let Some(fix) = finding.fix.as_ref().filter(|f| allowed.allows(f.safety)) else {
                    continue;
                };
                let Some(planned) = plan(finding.code, fix, &targets) else {
                    continue;
                };
                if planned.is_empty() || planned.overlaps(&taken) {
                    continue;
                }
                taken.main.extend(planned.main);
                taken.master.extend(planned.master);
                round.push((c.kind, finding.clone()));
            }
        }
        if taken.is_empty() {
            return Ok(Fixed {
                files,
                applied,
                remaining: checked,
                settled: true,
            });
        }
        drop(checked);
        for (file, edits) in [
            (&mut files.main, taken.main),
            (&mut files.master, taken.master),
        ] {
            if let Some((_, bytes)) = file
                && let Some(new) = apply(bytes, edits)?
            {
                *bytes = new;
            }
        }
        applied.extend(round);
    }
    let (main, master) = files.sources()?;
    let remaining = check::check_files(main, master, options);
    Ok(Fixed {
        files,
        applied,
        remaining,
        settled: false,
    })
}

/// Reads a configuration's files for fixing.
pub fn files_of(dir: &ConfigDir) -> Files {
    let file = |f: &SourceFile| (f.name().to_path_buf(), f.bytes().to_vec());
    Files {
        main: dir.main.as_ref().map(|m| file(&m.file)),
        master: dir.master.as_ref().map(|m| file(&m.file)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_the_entries_the_edits_name() {
        let main = b"a = 1\nb = 2\na = 3\n";
        let master =
            b"smtp inet n - y - - smtpd\nsmtp unix - - y - - smtp\nsmtp inet n - y - - smtpd\n";
        let (main_tree, master_tree) = (main_cf::parse(main).tree, master_cf::parse(master).tree);
        let edit = |service: Option<&str>, parameter: &str| Edit {
            file: if service.is_some() {
                "master.cf"
            } else {
                "main.cf"
            },
            service: service.map(|s| s.to_owned().into()),
            parameter: parameter.to_owned().into(),
            value: None,
        };
        let fix = Fix {
            safety: Safety::Safe,
            edits: vec![
                edit(None, "a"),
                edit(Some("smtp/inet"), "x"),
                edit(Some("smtp/fifo"), "x"),
            ],
            changes: None,
        };
        let targets = Targets::of(
            Trees {
                main: Some((&main_tree, main)),
                master: Some((&master_tree, master)),
            },
            [&fix],
        );
        let starts = |ps: &[&Parameter]| ps.iter().map(|p| p.span().start).collect::<Vec<_>>();
        assert_eq!(starts(targets.settings("a")), [0, 12]);
        assert!(targets.settings("b").is_empty(), "no edit names b");
        let lines = |ss: &[&Service]| ss.iter().map(|s| s.span().start).collect::<Vec<_>>();
        assert_eq!(lines(targets.services("smtp/inet")), [0, 51]);
        assert!(
            targets.services("smtp/unix").is_empty(),
            "no edit names smtp/unix"
        );
        assert!(targets.services("smtp/fifo").is_empty());
    }

    fn fixed(src: &str, edits: Vec<Edit>) -> String {
        let tree = main_cf::parse(src.as_bytes()).tree;
        let fix = Fix {
            safety: Safety::Safe,
            edits,
            changes: None,
        };
        let trees = Trees {
            main: Some((&tree, src.as_bytes())),
            master: None,
        };
        let planned = plan(Code::PF406, &fix, &Targets::of(trees, [&fix])).unwrap();
        let out = apply(src.as_bytes(), planned.main).unwrap();
        String::from_utf8(out.unwrap_or_else(|| src.as_bytes().to_vec())).unwrap()
    }

    fn set(name: &str, value: Option<&str>) -> Edit {
        Edit {
            file: "main.cf",
            service: None,
            parameter: name.to_owned().into(),
            value: value.map(|v| v.to_owned().into()),
        }
    }

    #[test]
    fn the_setting_postfix_uses_changes_in_place() {
        let src = "a = 1\n# note\na = 2 # not a comment\nb = 3\n";
        assert_eq!(
            fixed(src, vec![set("a", Some("x"))]),
            "a = 1\n# note\na = x\nb = 3\n"
        );
    }

    #[test]
    fn an_empty_value_gets_its_blank() {
        assert_eq!(fixed("a =\n", vec![set("a", Some("x"))]), "a = x\n");
    }

    #[test]
    fn a_new_setting_goes_at_the_end_on_its_own_line() {
        assert_eq!(fixed("a = 1", vec![set("b", Some("2"))]), "a = 1\nb = 2\n");
    }

    #[test]
    fn a_removed_setting_is_commented_out_every_time_with_its_continuation() {
        let src = "a = 1\nb = x,\n  y\na = 2\n";
        assert_eq!(
            fixed(src, vec![set("a", None), set("b", None)]),
            "# pflint --fix (PF406 opportunistic-high-ciphers-inbound):\n#a = 1\n\
             # pflint --fix (PF406 opportunistic-high-ciphers-inbound):\n#b = x,\n#  y\n\
             # pflint --fix (PF406 opportunistic-high-ciphers-inbound):\n#a = 2\n"
        );
    }

    #[test]
    fn a_master_cf_edit_without_master_cf_cannot_be_made() {
        let tree = main_cf::parse(b"").tree;
        let fix = Fix {
            safety: Safety::Safe,
            changes: None,
            edits: vec![Edit {
                file: "master.cf",
                service: Some("smtp/inet".into()),
                parameter: "a".into(),
                value: None,
            }],
        };
        let trees = Trees {
            main: Some((&tree, b"")),
            master: None,
        };
        assert_eq!(plan(Code::PF406, &fix, &Targets::of(trees, [&fix])), None);
    }
}
