//! `pflint show` against the installed `postconf`, on generated and mutated configurations:
//! tricky expansions, conditionals and comparisons, loops, long continued values, comments
//! inside continuations, CR LF, duplicates, unknown names, and master.cf overrides in every
//! spelling. Skipped with a message when postconf is absent; `PFLINT_REQUIRE_POSTFIX=1`
//! makes that a failure.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use pflint::input::config_dir::ConfigDir;
use pflint::model::Version;
use pflint::show;

fn postconf() -> Option<(PathBuf, Version)> {
    common::installed_postconf()
}

/// A small deterministic generator (xorshift), so that failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const KNOWN: &[&str] = &[
    "myhostname",
    "mydomain",
    "myorigin",
    "mydestination",
    "relayhost",
    "smtpd_banner",
    "smtpd_tls_security_level",
    "smtp_tls_security_level",
    "smtpd_relay_restrictions",
    "smtpd_recipient_restrictions",
    "alias_maps",
    "mynetworks_style",
    "inet_protocols",
    "compatibility_level",
    "smtpd_tls_cert_file",
    "recipient_delimiter",
    "message_size_limit",
    "virtual_alias_maps",
    "smtpd_client_restrictions",
];
const USER: &[&str] = &["u1", "u2", "u3", "u4", "mua_restrictions"];
const WORDS: &[&str] = &[
    "example.org",
    "permit_mynetworks",
    "reject",
    "hash:/etc/postfix/x",
    "may",
    "encrypt",
    "yes",
    "3.6",
    "2",
    "a,b",
    "{x y}",
    "=",
    "#x",
    "\\",
];
const REFERENCED: &[&str] = &[
    "myhostname",
    "mydomain",
    "mynetworks",
    "compatibility_level",
    "config_directory",
    "mail_name",
    "data_directory",
    "u1",
    "u2",
    "u3",
    "undefined_name",
    "stress",
];

fn expression(rng: &mut Rng, depth: usize) -> String {
    let name = rng.pick(REFERENCED);
    let inner = |rng: &mut Rng| {
        if depth < 2 && rng.chance(30) {
            expression(rng, depth + 1)
        } else {
            rng.pick(WORDS).replace(['{', '}'], "")
        }
    };
    match rng.below(12) {
        0 => format!("${name}"),
        1 => format!("${{{name}}}"),
        2 => format!("$({name})"),
        3 => format!("${{{name}?{}}}", inner(rng)),
        4 => format!("${{{name}:{}}}", inner(rng)),
        5 => format!("${{{name}?{{{}}}:{{{}}}}}", inner(rng), inner(rng)),
        6 => format!(
            "${{{{${name}}} {} {{{}}} ? {{{}}} : {{{}}}}}",
            rng.pick(&["==", "!=", "<", ">="]),
            rng.pick(&["yes", "2", "10", "", "example.org"]),
            inner(rng),
            inner(rng)
        ),
        7 => format!(
            "${{{{$compatibility_level}} {} {{{}}} ? {{old}} : {{new}}}}",
            rng.pick(&["<level", ">=level", "==level"]),
            rng.pick(&["1", "2", "3.6", "3.10"])
        ),
        8 => "$$".to_owned(),
        9 => format!("${name}.suffix"),
        10 => rng.pick(&["${ }", "$( ? x)", "${:y}"]).to_owned(),
        _ => format!("${{ {name} }}"),
    }
}

fn value(rng: &mut Rng) -> String {
    let parts = 1 + rng.below(4);
    let mut out = Vec::new();
    for _ in 0..parts {
        out.push(if rng.chance(50) {
            expression(rng, 0)
        } else {
            rng.pick(WORDS).to_owned()
        });
    }
    out.join(rng.pick(&[" ", ", ", ","]))
}

/// Writes `name = value` with the value spread over continuation lines, comments and
/// blank lines inside, as people (and Postfix's own files) write them.
fn setting(rng: &mut Rng, name: &str, value: &str, newline: &str) -> String {
    let equals = rng.pick(&[" = ", "=", " =", "= ", "\t=\t"]);
    let words: Vec<&str> = value.split(' ').collect();
    let mut out = format!("{name}{equals}");
    for (i, word) in words.iter().enumerate() {
        if i > 0 {
            if rng.chance(30) {
                if rng.chance(20) {
                    out.push_str(&format!("{newline}# comment inside{newline}"));
                } else if rng.chance(10) {
                    out.push_str(newline);
                    out.push_str(newline);
                } else {
                    out.push_str(newline);
                }
                out.push_str(rng.pick(&[" ", "\t", "    "]));
            } else {
                out.push(' ');
            }
        }
        out.push_str(word);
    }
    if rng.chance(10) {
        out.push_str("   ");
    }
    out.push_str(newline);
    out
}

fn main_cf(rng: &mut Rng) -> String {
    let newline = if rng.chance(10) { "\r\n" } else { "\n" };
    let mut out = String::from("# generated\n");
    for _ in 0..(3 + rng.below(10)) {
        let name = if rng.chance(75) {
            rng.pick(KNOWN)
        } else {
            rng.pick(USER)
        };
        let mut v = value(rng);
        if rng.chance(3) {
            // A long value over many lines.
            v = (0..300)
                .map(|i| format!("item{i}"))
                .collect::<Vec<_>>()
                .join(" ");
        }
        out.push_str(&setting(rng, name, &v, newline));
        if rng.chance(10) {
            out.push_str(newline);
        }
    }
    if rng.chance(12) {
        // Host names would make postconf resolve them (and wait on DNS); pflint does not.
        // An address of no local interface, a word that is no host, a keyword inside a
        // list, and `localhost` (what the resolver says) make postconf stop when it
        // computes the default mynetworks.
        let interfaces = rng.pick(&[
            "all",
            "loopback-only",
            "127.0.0.1",
            "127.0.0.1, [::1]",
            "198.51.100.7",
            ":",
            "localhost",
            "all, 127.0.0.1",
        ]);
        out.push_str(&format!("inet_interfaces = {interfaces}\n"));
        if rng.chance(3) {
            let protocols = rng.pick(&["ipv4", "ipv6", "all"]);
            out.push_str(&format!("inet_protocols = {protocols}\n"));
        }
        if rng.chance(3) {
            out.push_str("mynetworks = 127.0.0.0/8\n");
        }
    }
    if rng.chance(12) {
        // compat_level_from_string(): strtol() fields, minor and patch below 1024.
        let level = rng.pick(&[
            "+3", "-0", "3.+6", "3. 6", "3.1024", "3.2.1024", "3.6", "-1",
        ]);
        out.push_str(&format!(
            "compatibility_level = {level}\nmyorigin = ${{{{$compatibility_level}} <level {{3.5}} ? {{old}} : {{new}}}}\n"
        ));
    }
    if rng.chance(12) {
        // A number a C long cannot hold stops postconf in a comparison.
        let number = rng.pick(&["99999999999999999999", "9223372036854775807", "12"]);
        out.push_str(&format!(
            "u2 = ${{{{{number}}} == {{1}} ? {{a}} : {{b}}}}\nsmtpd_banner = $u2\n"
        ));
    }
    if rng.chance(8) {
        out.push_str("u1 = $u2\nu2 = ${u1}\n");
    }
    if rng.chance(10) {
        // Read-only names assigned: postconf warns, and expands them as its own values.
        // (Not with a `$name` in the assigned value: whether postconf's scan reads it
        // then depends on its hash table's order.)
        out.push_str(
            "process_name = renamed\nmail_version = 9\nmyorigin = $mail_version $process_name\n",
        );
    }
    if rng.chance(10) {
        // A table name inside braces with text after them: which `_backup` names are known.
        out.push_str(
            "virtual_alias_maps = proxy:{ldap:/etc/postfix/x.cf}y\nx_backup = 1\ny_backup = 2\n",
        );
    }
    if rng.chance(8) {
        out.push_str("smtpd_tls_security_levle = may\n");
    }
    if rng.chance(8) {
        out.push_str("smtpd_restriction_classes = u3, u4\nu3 = reject\n");
    }
    out
}

fn master_cf(rng: &mut Rng) -> String {
    let mut out = String::from(
        "smtp      inet  n       -       y       -       -       smtpd\n\
         pickup    unix  n       -       y       60      1       pickup\n\
         cleanup   unix  n       -       y       -       0       cleanup\n\
         smtp      unix  -       -       y       -       -       smtp\n\
         relay     unix  -       -       y       -       -       smtp\n\
         \x20       -o syslog_name=postfix/$service_name\n\
         local     unix  -       n       n       -       -       local\n\
         dovecot   unix  -       n       n       -       -       pipe\n\
         \x20 flags=DRhu user=vmail:vmail argv=/usr/lib/dovecot/deliver -f ${sender} -d ${recipient}\n",
    );
    if rng.chance(10) {
        // A name and type twice, the first entry without `-o`: postconf -P shows the
        // shared settings for the second entry only.
        out.push_str("dup unix - - n - - smtp\ndup unix - - n - - smtp -o smtp_helo_name=x\n");
    }
    for service in ["submission", "submissions", "10025"] {
        if !rng.chance(70) {
            continue;
        }
        out.push_str(&format!("{service} inet n - y - - smtpd\n"));
        for _ in 0..rng.below(5) {
            let name = if rng.chance(70) {
                rng.pick(KNOWN)
            } else {
                rng.pick(USER)
            };
            let v = value(rng);
            let line = match rng.below(5) {
                0 if !v.contains(' ') && !v.contains('{') => format!("  -o {name}={v}\n"),
                // Attached: postconf cuts the word before each further `o`.
                3 if !v.contains(' ') && !v.contains('{') => format!("  -o{name}={v}\n"),
                1 => format!("  -o {{ {name} = {v} }}\n"),
                2 => format!("  -o {{{name}={v}}}\n"),
                _ => format!("  -o {{ {name} =\n    {v} }}\n"),
            };
            out.push_str(&line);
            if rng.chance(10) {
                out.push_str("# a comment between options\n");
            }
        }
        if rng.chance(20) {
            out.push_str("  -o smtpd_client_restrictions=$mua_restrictions\n");
        }
        if rng.chance(15) {
            // A service's own restriction classes, expanded in its scope.
            out.push_str("  -o smtpd_restriction_classes=$u4\n  -o u4=u3\n  -o u3=reject\n");
        }
        if rng.chance(15) {
            // postconf cuts the word into `-o` and `-o=x`: a setting named `-o`.
            out.push_str("  -oo=x\n");
        }
        if rng.chance(5) {
            // A lone `-` takes the next word as its value in postconf.
            out.push_str("  - { smtpd_banner = x } -o u1=y\n");
        }
    }
    out
}

/// Flips a few bytes to characters with meaning in the grammars.
fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for _ in 0..(1 + rng.below(3)) {
        let at = rng.below(bytes.len().max(1));
        let piece = rng.pick(&["$", "{", "}", "\n ", "\n#", "=", " ", "\n", ":", "?", "$$"]);
        bytes.splice(at..at, piece.bytes());
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn write_old(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    // postconf re-reads a main.cf modified in the last second until it "cools down".
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(SystemTime::now() - Duration::from_secs(60))
        .unwrap();
}

const VIEWS: [&str; 5] = ["-n", "-nx", "-M", "-Mf", "-P"];

/// postconf's unknown/undefined warnings as (file, kind, name).
fn warnings(stderr: &str) -> BTreeSet<(String, String, String)> {
    let mut out = BTreeSet::new();
    for line in stderr.lines() {
        for (marker, kind) in [
            ("unused parameter: ", "unknown"),
            ("undefined parameter: ", "undefined"),
        ] {
            if let Some((head, tail)) = line.split_once(marker) {
                let file = if head.contains("master.cf") {
                    "master.cf"
                } else {
                    "main.cf"
                };
                let name = tail.split(['=', ' ']).next().unwrap_or(tail);
                out.insert((file.to_owned(), kind.to_owned(), name.to_owned()));
            }
        }
    }
    out
}

/// One generated configuration and postconf's output for each view.
struct Case {
    number: usize,
    mutated: bool,
    main: String,
    master: String,
    dir: tempfile::TempDir,
    postconf: Vec<std::process::Output>,
}

fn run_postconf(postconf: &Path, dir: &Path, flags: &str) -> std::process::Output {
    Command::new(postconf)
        .arg("-c")
        .arg(dir)
        .arg(flags)
        .env("LC_ALL", "C")
        .env_remove("MAIL_CONFIG")
        .output()
        .unwrap()
}

#[test]
fn show_matches_the_installed_postconf() {
    let Some((postconf, version)) = postconf() else {
        return;
    };
    let host = pflint::host::local();
    let count: usize = std::env::var("PFLINT_LIVE_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(150);
    // PFLINT_LIVE_SEED and PFLINT_LIVE_CASES explore further than the default run.
    let seed: u64 = std::env::var("PFLINT_LIVE_SEED")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0x5eed_cafe_f00d_1234);
    let mut rng = Rng(seed | 1);
    let mut cases: Vec<Case> = (0..count)
        .map(|number| {
            let (mut main, mut master) = (main_cf(&mut rng), master_cf(&mut rng));
            let mutated = number % 3 == 2;
            if mutated {
                main = mutate(&mut rng, &main);
                master = mutate(&mut rng, &master);
            }
            let dir = tempfile::tempdir().unwrap();
            write_old(&dir.path().join("main.cf"), &main);
            write_old(&dir.path().join("master.cf"), &master);
            Case {
                number,
                mutated,
                main,
                master,
                dir,
                postconf: Vec::new(),
            }
        })
        .collect();
    // postconf sleeps a second after a fatal error, so most of its time is spent asleep:
    // run the (case, view) pairs from a pool of workers.
    let jobs: Vec<(usize, usize)> = (0..cases.len())
        .flat_map(|c| (0..VIEWS.len()).map(move |v| (c, v)))
        .collect();
    let outputs = common::par_map(&jobs, 32, |&(c, v)| {
        run_postconf(&postconf, cases[c].dir.path(), VIEWS[v])
    });
    let mut outputs = outputs.into_iter();
    for case in &mut cases {
        case.postconf = (0..VIEWS.len())
            .map(|_| outputs.next().expect("every job ran"))
            .collect();
    }

    let mut failures = Vec::new();
    let mut compared = 0;
    let mut unresolved = 0;
    for case in &cases {
        // postconf resolves host names in inet_interfaces (a mutation may make one);
        // pflint does not look names up, so such cases say nothing about it. A word no
        // resolver has (an address of a disabled protocol, `:`, a keyword in a list) or
        // `localhost` is judged.
        let needs_dns = |o: &std::process::Output| {
            let stderr = String::from_utf8_lossy(&o.stderr);
            stderr.lines().any(|line| {
                line.split_once("host not found: ")
                    .is_some_and(|(_, name)| {
                        let name = name.trim();
                        pflint::model::value::is_host_name(name.as_bytes())
                            && !["localhost", "all", "loopback-only"]
                                .iter()
                                .any(|k| k.eq_ignore_ascii_case(name))
                    })
            })
        };
        if case.postconf.iter().any(needs_dns) {
            unresolved += 1;
            continue;
        }
        if std::env::var_os("PFLINT_LIVE_DUMP").is_some() {
            std::fs::write("/tmp/live-case-main.cf", &case.main).unwrap();
            std::fs::write("/tmp/live-case-master.cf", &case.master).unwrap();
        }
        let dir_arg = case.dir.path().as_os_str().as_encoded_bytes().to_vec();
        let loaded = ConfigDir::read(case.dir.path()).unwrap();
        let config = loaded.model(version, &host, Some(dir_arg), false);
        for (flags, real) in VIEWS.iter().zip(&case.postconf) {
            let ours = show::show(&config, &common::show_options(flags));
            compared += 1;
            // Killed by a signal: postconf recursed until it crashed, where pflint stops
            // with an error (its nesting bound); both fail with nothing printed.
            let real_status = real.status.code().unwrap_or(1);
            let our_status = i32::from(ours.error.is_some());
            let mut problem = None;
            if real.stdout != ours.stdout || real_status != our_status {
                problem = Some(format!(
                    "stdout or status differs (postconf {real_status} {}, pflint {our_status} {})\n{}",
                    String::from_utf8_lossy(&real.stderr)
                        .lines()
                        .last()
                        .unwrap_or(""),
                    ours.error
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                    similar::TextDiff::from_lines(
                        &*String::from_utf8_lossy(&real.stdout),
                        &*String::from_utf8_lossy(&ours.stdout)
                    )
                    .unified_diff()
                    .context_radius(1)
                    .header("postconf", "pflint")
                ));
            } else if *flags == "-n" && real_status == 0 {
                let theirs = warnings(&String::from_utf8_lossy(&real.stderr));
                let mine = warnings(
                    &ours
                        .warnings
                        .iter()
                        .map(|w| {
                            let file = w.split(',').next().unwrap_or("");
                            format!("{file}: {}", w.split_once(": ").map_or("", |(_, r)| r))
                        })
                        .collect::<Vec<_>>()
                        .join("\n"),
                );
                if theirs != mine {
                    problem = Some(format!(
                        "warnings differ\n  only postconf: {:?}\n  only pflint: {:?}",
                        theirs.difference(&mine).collect::<Vec<_>>(),
                        mine.difference(&theirs).collect::<Vec<_>>()
                    ));
                }
            }
            if let Some(problem) = problem {
                failures.push(format!(
                    "case {}{} {flags}: {problem}\n--- main.cf\n{}--- master.cf\n{}",
                    case.number,
                    if case.mutated { " (mutated)" } else { "" },
                    case.main,
                    case.master
                ));
            }
        }
    }
    common::visible(&format!(
        "live: pflint show vs postconf {version}: {} of {compared} outputs equal over {count} generated configurations ({unresolved} skipped: postconf resolved a host name)",
        compared - failures.len()
    ));
    if let Ok(wanted) = std::env::var("PFLINT_LIVE_SHOW") {
        for failure in failures
            .iter()
            .filter(|f| f.starts_with(&format!("case {wanted} ")))
        {
            common::visible(failure);
        }
    }
    let summary: Vec<String> = failures
        .iter()
        .map(|f| f.lines().next().unwrap_or("").to_owned())
        .collect();
    assert!(
        failures.is_empty(),
        "{} differences:\n{}\n\nfirst in full:\n{}",
        failures.len(),
        summary.join("\n"),
        failures
            .iter()
            .take(2)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n\n")
    );
}

/// `pflint show -d` prints what the installed `postconf -d` prints: every parameter of the
/// installed release (3.7.11 is not "before 3.7"), with its default value on this host.
/// `mail_release_date` is the installed release's date (pflint's table of releases);
/// `process_id` is a fact of the process.
#[test]
fn show_d_equals_the_installed_postconf_d() {
    let Some((postconf, version)) = postconf() else {
        return;
    };
    // A Debian host as installed: the package's master.cf, no main.cf yet. (Without a
    // master.cf postconf registers no per-service parameters: a case of its own.)
    let dir = tempfile::tempdir().expect("a temporary directory");
    let debian = Path::new("/usr/share/postfix/master.cf.dist");
    let master = if debian.is_file() {
        debian.to_path_buf()
    } else {
        common::root().join("data/stock-master.cf")
    };
    std::fs::copy(&master, dir.path().join("master.cf")).expect("copied");
    common::age_config(dir.path());
    let run = |command: &mut Command| -> String {
        let output = command
            .env("MAIL_CONFIG", dir.path())
            .env("LC_ALL", "C")
            .output()
            .expect("runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let relevant = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| !l.starts_with("process_id ="))
            .map(str::to_owned)
            .collect()
    };
    let theirs = relevant(&run(Command::new(&postconf).arg("-d")));
    let ours = relevant(&run(common::pflint().args(["show", "-d"])));
    let missing: Vec<&String> = theirs.iter().filter(|l| !ours.contains(l)).collect();
    let extra: Vec<&String> = ours.iter().filter(|l| !theirs.contains(l)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "postconf {version} -d and pflint show -d differ\nonly postconf:\n{}\nonly pflint:\n{}",
        missing
            .iter()
            .map(|l| l.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        extra
            .iter()
            .map(|l| l.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_eq!(theirs, ours, "same lines, same order");
    common::visible(&format!(
        "postconf {version} -d: {} parameters, pflint show -d prints the same",
        theirs.len()
    ));
}

/// pflint show refuses the flag combinations postconf refuses, with postconf's words:
/// every subset of the flags pflint shows (`-M -P`, `-M -d`, `-d -n`, `-h -H`, …).
#[test]
fn show_refuses_the_flag_combinations_postconf_refuses() {
    let Some((postconf, _)) = postconf() else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(
        dir.path().join("main.cf"),
        "myhostname = mail.example.test\n",
    )
    .expect("written");
    std::fs::copy(
        common::root().join("data/stock-master.cf"),
        dir.path().join("master.cf"),
    )
    .expect("copied");
    common::age_config(dir.path());
    let flags = ["-n", "-d", "-x", "-f", "-h", "-H", "-M", "-P"];
    let fatal = |output: &std::process::Output, program: &str| -> Option<String> {
        let stderr = String::from_utf8_lossy(&output.stderr);
        stderr.lines().find_map(|l| {
            // postconf names itself by the path it was run as.
            let (who, message) = l.split_once(": fatal: ")?;
            who.ends_with(program).then(|| message.to_owned())
        })
    };
    let combinations: Vec<Vec<&str>> = (0u32..(1 << flags.len()))
        .map(|bits| {
            flags
                .iter()
                .enumerate()
                .filter(|(i, _)| bits & (1 << i) != 0)
                .map(|(_, f)| *f)
                .collect()
        })
        .collect();
    // postconf sleeps a second after a fatal error: run the combinations side by side.
    let results = common::par_map(&combinations, 32, |chosen| {
        let theirs = Command::new(&postconf)
            .arg("-c")
            .arg(dir.path())
            .args(chosen)
            .output()
            .expect("postconf runs");
        let ours = common::pflint()
            .args(["show", "-c"])
            .arg(dir.path())
            .args(chosen)
            .output()
            .expect("pflint runs");
        (chosen.clone(), theirs, ours)
    });
    let mut refused = 0;
    for (chosen, theirs, ours) in results {
        let expected = fatal(&theirs, "postconf");
        assert_eq!(
            fatal(&ours, "pflint"),
            expected,
            "{chosen:?}: postconf said {:?}",
            String::from_utf8_lossy(&theirs.stderr)
        );
        if expected.is_some() {
            refused += 1;
            assert_eq!(ours.status.code(), Some(1), "{chosen:?}");
            assert!(ours.stdout.is_empty(), "{chosen:?}");
        }
    }
    common::visible(&format!(
        "show: {} flag combinations, {refused} refused as postconf refuses them",
        1 << flags.len()
    ));
}

/// Nested `${name?{…}}` expands to 100 levels and fails at 101, as in postconf, and both
/// say why.
#[test]
fn nested_conditionals_stop_where_postconf_stops() {
    let Some((postconf, _)) = postconf() else {
        return;
    };
    for (levels, fails) in [(100, false), (101, true), (200, true)] {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let value = format!(
            "{}x{}",
            "${myhostname?{".repeat(levels),
            "}}".repeat(levels)
        );
        write_old(
            &dir.path().join("main.cf"),
            &format!("myorigin = {value}\n"),
        );
        write_old(
            &dir.path().join("master.cf"),
            &std::fs::read_to_string(common::root().join("data/stock-master.cf")).expect("stock"),
        );
        let theirs = run_postconf(&postconf, dir.path(), "-nx");
        let ours = common::pflint()
            .args(["show", "-nx", "-c"])
            .arg(dir.path())
            .output()
            .expect("pflint runs");
        assert_eq!(ours.status.success(), theirs.status.success(), "{levels}");
        assert_eq!(!ours.status.success(), fails, "{levels}");
        assert_eq!(ours.stdout, theirs.stdout, "{levels}");
        if fails {
            let message = String::from_utf8_lossy(&ours.stderr);
            assert!(
                message.contains("nested more than 100 levels deep"),
                "{message}"
            );
        }
    }
}

/// Entries of one name and type share their `-o` settings, and postconf warns about each
/// unknown one once per entry; pflint lists them once and repeats them when it prints,
/// so the warnings must come as often as postconf's (entries with restriction classes
/// of their own and a lone shared setting, whose repeats follow each other, included).
#[test]
fn shared_entries_warn_as_often_as_postconf() {
    let Some((postconf, _)) = postconf() else {
        return;
    };
    let mut master = String::new();
    for n in 0..40 {
        master.push_str(&format!("smtp inet n - y - - smtpd\n  -o x_{n}=v\n"));
        if n % 7 == 0 {
            master.push_str("  -o smtpd_restriction_classes=x_3\n");
        }
        master.push_str("relay unix - - y - - smtp\n  -o only_one=v\n");
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    write_old(&dir.path().join("main.cf"), "compatibility_level = 3.6\n");
    write_old(&dir.path().join("master.cf"), &master);
    let count = |stderr: &[u8]| {
        let mut counts = std::collections::BTreeMap::new();
        for line in String::from_utf8_lossy(stderr).lines() {
            if let Some((_, tail)) = line.split_once("unused parameter: ") {
                let name = tail.split(['=', ' ']).next().unwrap_or(tail).to_owned();
                *counts.entry(name).or_insert(0usize) += 1;
            }
        }
        counts
    };
    let theirs = run_postconf(&postconf, dir.path(), "-n");
    let ours = common::pflint()
        .args(["show", "-n", "-c"])
        .arg(dir.path())
        .output()
        .expect("pflint runs");
    let (theirs, ours) = (count(&theirs.stderr), count(&ours.stderr));
    assert!(theirs.values().sum::<usize>() > 1000, "{theirs:?}");
    assert_eq!(ours, theirs);
}

/// `show` exits as postconf does when a file is missing or is a directory: main.cf is
/// needed except for `-d`, master.cf for `-M` and `-P`, and a master.cf that is a
/// directory reads as empty.
#[test]
fn show_exits_as_postconf_for_missing_and_odd_files() {
    let Some((postconf, _)) = postconf() else {
        return;
    };
    let stock = common::root().join("data/stock-master.cf");
    // (what main.cf is, what master.cf is)
    let layouts = [
        ("file", "missing"),
        ("missing", "file"),
        ("file", "directory"),
        ("directory", "file"),
    ];
    let mut compared = 0;
    for (main, master) in layouts {
        let dir = tempfile::tempdir().expect("a temporary directory");
        match main {
            "file" => std::fs::write(dir.path().join("main.cf"), "myhostname = h.example\n")
                .expect("written"),
            "directory" => std::fs::create_dir(dir.path().join("main.cf")).expect("made"),
            _ => {}
        }
        match master {
            "file" => {
                std::fs::copy(&stock, dir.path().join("master.cf")).expect("copied");
            }
            "directory" => std::fs::create_dir(dir.path().join("master.cf")).expect("made"),
            _ => {}
        }
        common::age_config(dir.path());
        for flags in ["-n", "-M", "-Mf", "-P", "-d"] {
            let real = run_postconf(&postconf, dir.path(), flags);
            let ours = common::pflint()
                .args(["show", flags, "-c"])
                .arg(dir.path())
                .output()
                .expect("pflint runs");
            let strip = |out: &[u8]| -> String {
                String::from_utf8_lossy(out)
                    .lines()
                    .filter(|l| {
                        !l.starts_with("process_id =") && !l.starts_with("config_directory =")
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            assert_eq!(
                (real.status.code(), strip(&real.stdout)),
                (ours.status.code(), strip(&ours.stdout)),
                "main.cf {main}, master.cf {master}, {flags}: {}",
                String::from_utf8_lossy(&ours.stderr)
            );
            compared += 1;
        }
    }
    common::visible(&format!(
        "show vs postconf on missing files and directories: {compared} (layout, view) pairs equal in exit status and output"
    ));
}
