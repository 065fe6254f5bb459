//! `pflint show` against real postconf 3.7.11 output stored in the corpus: `-n`, `-nx`,
//! `-M`, `-Mf` and `-P` must be byte-equal, with the same exit status.

mod common;

use pflint::input::config_dir::ConfigDir;
use pflint::model::{HostFacts, Version};
use pflint::show;

/// The postconf flags of each oracle file.
const VIEWS: [(&str, &str); 5] = [
    ("-n", "postconf.n.txt"),
    ("-nx", "postconf.nx.txt"),
    ("-M", "postconf.M.txt"),
    ("-Mf", "postconf.Mf.txt"),
    ("-P", "postconf.P.txt"),
];

#[test]
fn show_is_byte_equal_to_postconf_on_the_corpus() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let host = HostFacts::corpus();
    let version: Version = "3.7.11".parse().unwrap();
    let mut compared = 0;
    let mut equal_sets = 0;
    let sets = common::corpus_sets(&corpus);
    let mut failures = Vec::new();
    for set in &sets {
        let dir = ConfigDir::read(&set.dir).expect("corpus set is readable");
        let config = dir.model(version, &host, Some(b".".to_vec()), false);
        let rc = set.oracle("postconf.rc.txt");
        let mut set_ok = true;
        for (flags, file) in VIEWS {
            let Ok(expected) = std::fs::read(set.dir.join(file)) else {
                continue; // no master.cf: postconf was not run with -M/-P
            };
            compared += 1;
            let expected_status = rc
                .lines()
                .find(|l| l.starts_with(&format!("postconf -c . {flags}:")))
                .and_then(|l| l.rsplit(' ').next())
                .unwrap_or("0")
                .to_owned();
            let output = show::show(&config, &common::show_options(flags));
            let status = if output.error.is_some() { "1" } else { "0" };
            if output.stdout != expected || status != expected_status {
                set_ok = false;
                let diff = similar::TextDiff::from_lines(
                    &*String::from_utf8_lossy(&expected),
                    &*String::from_utf8_lossy(&output.stdout),
                )
                .unified_diff()
                .context_radius(1)
                .header("postconf", "pflint")
                .to_string();
                failures.push(format!(
                    "{} {flags}: status postconf {expected_status}, pflint {status} ({:?})\n{}",
                    set.name,
                    output.error,
                    diff.lines().take(30).collect::<Vec<_>>().join("\n")
                ));
            }
        }
        if set_ok {
            equal_sets += 1;
        }
    }
    common::visible(&format!(
        "pflint show vs postconf: {} of {compared} outputs byte-equal; {equal_sets} of {} sets equal in every view",
        compared - failures.len(),
        sets.len()
    ));
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
