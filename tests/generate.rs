//! `pflint generate`: the snippets for every role and profile at three Postfix versions
//! (snapshots), and the promise that what it generates passes pflint's own check and real
//! postconf without a warning.

mod common;

use pflint::check;
use pflint::diagnostic::Severity;
use pflint::generate::{self, Request, Role, profile};
use pflint::model::Version;
use pflint::source::SourceFile;

const VERSIONS: [&str; 3] = ["3.4", "3.7", "3.11"];

/// The role sets rendered for each profile and version.
fn role_sets() -> Vec<(Vec<Role>, bool, Option<&'static str>)> {
    vec![
        (vec![Role::Mx], false, None),
        (vec![Role::Submission], false, None),
        (vec![Role::Outbound], false, None),
        (vec![Role::Outbound], true, None),
        (
            vec![Role::RelayClient],
            false,
            Some("[smtp.example.net]:587"),
        ),
        (
            vec![Role::RelayClient],
            false,
            Some("[smtp.example.net]:465"),
        ),
    ]
}

fn request<'p>(
    roles: Vec<Role>,
    profile: &'p generate::Profile,
    version: Version,
    dane: bool,
    relayhost: Option<&str>,
) -> Request<'p> {
    Request {
        roles,
        profile,
        version,
        certificate: None,
        dane,
        relayhost: relayhost.map(str::to_owned),
        sasl: None,
    }
}

#[test]
fn profiles_load() {
    let profiles = profile::load(profile::embedded_files()).expect("profiles load");
    let names: Vec<&str> = profiles.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["modern", "intermediate", "legacy"]);
}

#[test]
fn snippets_for_every_role_and_profile_match_their_snapshots() {
    for profile in profile::all() {
        for version in VERSIONS {
            let version: Version = version.parse().expect("a version");
            let mut text = String::new();
            for (roles, dane, relayhost) in role_sets() {
                let plan = generate::plan(&request(roles, profile, version, dane, relayhost))
                    .expect("a plan");
                text.push_str(&generate::snippet(&plan));
                text.push_str("\n\n");
            }
            common::snapshots("generate").bind(|| {
                insta::assert_snapshot!(format!("{}-{version}", profile.name), text);
            });
        }
    }
}

/// Whole configurations made of a plain base and generated settings.
fn generated_configs(version: Version) -> Vec<(String, String, String)> {
    let compatibility = if version.at_least(Version::new(3, 6)) {
        "3.6"
    } else {
        "2"
    };
    let base = format!(
        "compatibility_level = {compatibility}\nmyhostname = mail.example.org\nmydestination = $myhostname, localhost\n"
    );
    let stock = std::fs::read_to_string(common::root().join("data/stock-master.cf"))
        .expect("the stock master.cf");
    let mut configs = Vec::new();
    let combinations: [(&[Role], bool, Option<&str>, &str); 4] = [
        (
            &[Role::Mx, Role::Submission, Role::Outbound],
            false,
            None,
            "",
        ),
        (
            &[Role::Mx, Role::Submission, Role::Outbound],
            true,
            None,
            "",
        ),
        (
            &[Role::Mx, Role::Submission, Role::RelayClient],
            false,
            Some("smtp.example.net"),
            "",
        ),
        (
            &[Role::RelayClient],
            false,
            Some("[smtp.example.net]:465"),
            "inet_interfaces = loopback-only\n",
        ),
    ];
    for profile in profile::all() {
        for (roles, dane, relayhost, extra) in combinations {
            let mut request = request(roles.to_vec(), profile, version, dane, relayhost);
            request.sasl = Some(generate::Sasl::Dovecot("private/auth".to_owned()));
            let plan = generate::plan(&request).expect("a plan");
            let name = format!("{} {:?} dane={dane} {version}", profile.name, roles);
            configs.push((
                name,
                format!("{base}{extra}{}", generate::render_main(&plan)),
                format!("{stock}{}", generate::render_master(&plan)),
            ));
        }
    }
    configs
}

#[test]
fn generated_configurations_pass_pflints_own_check() {
    for version in VERSIONS {
        let version: Version = version.parse().expect("a version");
        for (name, main, master) in generated_configs(version) {
            let options = check::Options {
                target: pflint::model::version::Target::given(version),
                ..check::Options::default()
            };
            let checked = check::check_files(
                Some(SourceFile::new("main.cf", main.clone().into_bytes()).expect("a file")),
                Some(SourceFile::new("master.cf", master.clone().into_bytes()).expect("a file")),
                &options,
            );
            let problems: Vec<String> = checked
                .iter()
                .flat_map(|c| {
                    c.findings
                        .iter()
                        .filter(|f| f.severity >= Severity::Warning)
                        .map(|f| {
                            format!(
                                "{}:{} {} {}",
                                c.file.name().display(),
                                c.file.position(f.span.start).line,
                                f.code,
                                f.message()
                            )
                        })
                        .collect::<Vec<_>>()
                })
                .collect();
            assert!(
                problems.is_empty(),
                "{name}:\n{}\n--- main.cf\n{main}",
                problems.join("\n")
            );
        }
    }
}

/// Without `--sasl` the submission services depend on a backend main.cf may not have:
/// the one warning left is PF304, which the generated comment announces.
#[test]
fn without_a_sasl_backend_the_one_warning_is_pf304() {
    let version: Version = "3.7".parse().expect("a version");
    let profile = profile::get("intermediate").expect("a profile");
    let plan = generate::plan(&request(
        vec![Role::Mx, Role::Submission, Role::Outbound],
        profile,
        version,
        false,
        None,
    ))
    .expect("a plan");
    let master = generate::render_master(&plan);
    assert!(master.contains("PF304"), "{master}");
    let main = format!(
        "compatibility_level = 3.6\n{}",
        generate::render_main(&plan)
    );
    let stock =
        std::fs::read_to_string(common::root().join("data/stock-master.cf")).expect("stock");
    let options = check::Options {
        target: pflint::model::version::Target::given(version),
        ..check::Options::default()
    };
    let codes: Vec<&str> = check::check_files(
        Some(SourceFile::new("main.cf", main.into_bytes()).expect("a file")),
        Some(
            SourceFile::new("master.cf", format!("{stock}{master}").into_bytes()).expect("a file"),
        ),
        &options,
    )
    .iter()
    .flat_map(|c| {
        c.findings
            .iter()
            .filter(|f| f.severity >= Severity::Warning)
            .map(|f| f.code.as_str())
    })
    .collect();
    assert!(
        !codes.is_empty() && codes.iter().all(|c| *c == "PF304"),
        "{codes:?}"
    );
}

#[test]
fn generated_configurations_pass_real_postconf_without_warnings() {
    let Some((postconf, version)) = common::installed_postconf() else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut checked = 0;
    for (name, main, master) in generated_configs(version) {
        std::fs::write(dir.path().join("main.cf"), &main).expect("writable");
        std::fs::write(dir.path().join("master.cf"), &master).expect("writable");
        common::age_config(dir.path());
        for flag in ["-n", "-M", "-P"] {
            let out = std::process::Command::new(&postconf)
                .args(["-c", &dir.path().display().to_string(), flag])
                .output()
                .expect("postconf runs");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                out.status.success() && stderr.is_empty(),
                "{name} {flag}: {stderr}\n--- main.cf\n{main}"
            );
            checked += 1;
        }
    }
    common::visible(&format!(
        "postconf {version}: {checked} runs on generated configurations, no warning"
    ));
}

#[test]
fn impossible_requests_are_refused_with_a_reason() {
    let profile = profile::get("intermediate").expect("a profile");
    let v = Version::new(3, 11);
    let refused = |r: Request<'_>| generate::plan(&r).expect_err("refused");
    assert!(
        refused(request(
            vec![Role::Outbound, Role::RelayClient],
            profile,
            v,
            false,
            Some("r.example")
        ))
        .contains("exclude each other")
    );
    assert!(
        refused(request(vec![Role::RelayClient], profile, v, false, None)).contains("--relayhost")
    );
    assert!(refused(request(vec![Role::Mx], profile, v, true, None)).contains("--dane"));
    assert!(
        refused(request(
            vec![Role::Mx],
            profile,
            Version::new(3, 2),
            false,
            None
        ))
        .contains("3.3")
    );
}

#[test]
fn readme_profile_table_is_the_generated_one() {
    let readme = std::fs::read_to_string(common::root().join("README.md")).expect("README.md");
    let start = readme
        .find("<!-- profiles:start")
        .expect("profiles:start marker");
    let body = start + readme[start..].find("-->\n").expect("marker end") + 4;
    let end = readme
        .find("<!-- profiles:end -->")
        .expect("profiles:end marker");
    assert_eq!(
        &readme[body..end],
        profile::markdown_table(),
        "README's profile table is stale"
    );
}

#[test]
fn readme_shows_the_generated_block() {
    let readme = std::fs::read_to_string(common::root().join("README.md")).expect("README.md");
    let out = common::pflint()
        .args([
            "generate",
            "--role",
            "mx,submission,outbound",
            "--profile",
            "intermediate",
            "--postfix-version",
            "3.11",
        ])
        .output()
        .expect("pflint runs");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    assert!(
        readme.contains(&format!("```text\n{text}```\n")),
        "README lacks the current output:\n{text}"
    );
}
