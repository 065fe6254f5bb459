//! `generate -c` on fuzzed configurations: `edit` does not panic, and when it edits, the
//! result has no syntax error and a second edit changes nothing.
//!
//! Input: two bytes that choose the request, then main.cf, a NUL byte, master.cf (see
//! `pflint_fuzz::split`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use pflint::input::config_dir::{ConfigDir, Loaded};
use pflint::diagnostic::{Finding, Severity};
use pflint::generate::{self, Plan, Request, Role, Sasl, edit, profile};
use pflint::model::Version;
use pflint::source::SourceFile;
use pflint::syntax::Problem;
use pflint_fuzz::{file, split};

/// Every role combination `generate` accepts (each role once, in the order the CLI sorts
/// them; outbound and relay-client exclude each other).
const COMBINATIONS: [&[Role]; 11] = [
    &[Role::Mx],
    &[Role::Submission],
    &[Role::Outbound],
    &[Role::RelayClient],
    &[Role::Mx, Role::Submission],
    &[Role::Mx, Role::Outbound],
    &[Role::Mx, Role::RelayClient],
    &[Role::Submission, Role::Outbound],
    &[Role::Submission, Role::RelayClient],
    &[Role::Mx, Role::Submission, Role::Outbound],
    &[Role::Mx, Role::Submission, Role::RelayClient],
];

/// The release lines `generate` renders for: from its oldest, 3.3, to 3.11.
const VERSIONS: [Version; 9] = [
    Version::new(3, 3),
    Version::new(3, 4),
    Version::new(3, 5),
    Version::new(3, 6),
    Version::new(3, 7),
    Version::new(3, 8),
    Version::new(3, 9),
    Version::new(3, 10),
    Version::new(3, 11),
];

/// The request two bytes choose: roles and profile from the first; target version, SASL
/// backend and DANE (with the outbound role) from the second.
fn request(choice: [u8; 2]) -> Request<'static> {
    let profiles = profile::all();
    let roles = COMBINATIONS[usize::from(choice[0]) % COMBINATIONS.len()].to_vec();
    let profile = &profiles[usize::from(choice[0]) / COMBINATIONS.len() % profiles.len()];
    let version = VERSIONS[usize::from(choice[1]) % VERSIONS.len()];
    let rest = usize::from(choice[1]) / VERSIONS.len();
    let sasl = match rest % 3 {
        0 => None,
        1 => Some(Sasl::Dovecot("private/auth".to_owned())),
        _ => Some(Sasl::Cyrus),
    };
    Request {
        dane: roles.contains(&Role::Outbound) && rest / 3 % 2 == 1,
        relayhost: roles
            .contains(&Role::RelayClient)
            .then(|| "[smtp.example.net]:587".to_owned()),
        roles,
        profile,
        version,
        certificate: None,
        sasl,
    }
}

/// Whether a parser problem is an error, as `generate -c` and `check` rate it.
fn is_error(problem: &Problem) -> bool {
    Finding::from(problem.clone()).severity == Severity::Error
}

fn has_errors<T>(file: Option<&Loaded<T>>) -> bool {
    file.is_some_and(|f| f.problems.iter().any(is_error))
}

fn copy(file: &SourceFile) -> SourceFile {
    SourceFile::new(file.name(), file.bytes().to_vec()).expect("it was made before")
}

/// The configuration after an edit: the changed files, the others as they were.
fn edited(dir: &ConfigDir, new: &edit::Edited) -> ConfigDir {
    ConfigDir::from_files(
        match &new.main {
            Some(bytes) => Some(file("main.cf", bytes)),
            None => dir.main.as_ref().map(|m| copy(&m.file)),
        },
        match &new.master {
            Some(bytes) => Some(file("master.cf", bytes)),
            None => dir.master.as_ref().map(|m| copy(&m.file)),
        },
    )
}

/// The request and the files, for a failure message (the input alone needs decoding).
fn show(plan: &Plan, dir: &ConfigDir) -> String {
    let text = |f: Option<&SourceFile>| f.map(|f| String::from_utf8_lossy(f.bytes()).into_owned());
    format!(
        "{}\n--- main.cf:\n{:?}\n--- master.cf:\n{:?}",
        plan.title,
        text(dir.main.as_ref().map(|m| &m.file)),
        text(dir.master.as_ref().map(|m| &m.file)),
    )
}

fuzz_target!(|data: &[u8]| {
    let [a, b, rest @ ..] = data else {
        return;
    };
    let request = request([*a, *b]);
    // Every request above is one `generate` accepts, so planning cannot fail.
    let plan = generate::plan(&request).unwrap_or_else(|e| panic!("{request:?}: {e}"));
    let version = request.version;

    let (main, master) = split(rest);
    let dir = ConfigDir::from_files(
        Some(file("main.cf", main)),
        master.map(|m| file("master.cf", m)),
    );
    // `generate -c` refuses files with syntax errors, so `edit` never sees them.
    if has_errors(dir.main.as_ref()) || has_errors(dir.master.as_ref()) {
        return;
    }
    // `edit` may refuse (a result that would be weaker): that is an answer, not a bug.
    let Ok(first) = edit::edit(&dir, &plan, version) else {
        return;
    };
    let new = edited(&dir, &first);
    // What pflint writes must be accepted by Postfix as the original was: the original
    // has no syntax error, so the result must have none either.
    let files = [
        new.main.as_ref().map(|m| (&m.file, &m.problems)),
        new.master.as_ref().map(|m| (&m.file, &m.problems)),
    ];
    for (file, problems) in files.into_iter().flatten() {
        let errors: Vec<&Problem> = problems.iter().filter(|p| is_error(p)).collect();
        assert!(
            errors.is_empty(),
            "the edit wrote syntax errors into {}: {errors:?}\n{}",
            file.name().display(),
            show(&plan, &new)
        );
    }
    // The edit brings the configuration to the plan, so on its own result it has nothing
    // left to do: running `generate -c` twice changes nothing the second time.
    match edit::edit(&new, &plan, version) {
        Ok(second) => assert!(
            second.is_empty(),
            "a second edit changes the result again: main.cf {:?}, master.cf {:?}\n{}",
            second.main.as_deref().map(String::from_utf8_lossy),
            second.master.as_deref().map(String::from_utf8_lossy),
            show(&plan, &new)
        ),
        Err(e) => panic!("a second edit fails: {e}\n{}", show(&plan, &new)),
    }
});
