//! Whole-process wall time: `pflint show -n` and `pflint check` against `postconf -n` on
//! the same real configurations, in the same run; on a configuration with two chain
//! files also `pflint check --files` and `pflint dns`.
//!
//! `cargo bench --bench process` runs each command many times per configuration,
//! interleaved so that drift in machine load hits all three alike, and prints the median
//! and best wall time of each and the ratio to postconf's median. `PFLINT_BENCH_RUNS`
//! sets the repetitions (default 200). It uses the corpus beside the repository
//! (`../shared/corpus`) and the installed `postconf`; without them it times pflint on
//! the bundled example alone.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Real sets of different sizes: a large containerised server, a mid-size personal
/// server and Postfix's own author's configuration.
const SETS: [&str; 3] = [
    "mailcow-mailcow-dockerized-1",
    "docker-mailserver-docker-mailserver-1",
    "vdukhovni-postfix-2",
];

struct Timed {
    label: &'static str,
    program: PathBuf,
    args: Vec<String>,
    samples: Vec<Duration>,
}

impl Timed {
    fn run_once(&mut self) {
        let start = Instant::now();
        let status = Command::new(&self.program)
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let elapsed = start.elapsed();
        match status {
            Ok(_) => self.samples.push(elapsed),
            Err(e) => panic!("cannot run {}: {e}", self.program.display()),
        }
    }

    fn median(&self) -> Duration {
        let mut sorted = self.samples.clone();
        sorted.sort();
        sorted[sorted.len() / 2]
    }

    fn best(&self) -> Duration {
        self.samples.iter().copied().min().unwrap_or_default()
    }
}

fn postconf() -> Option<PathBuf> {
    ["/usr/sbin/postconf", "/usr/local/sbin/postconf"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

/// The bundled example with two chain files (RSA 2048 and ECDSA P-256, made by openssl)
/// under a root of its own, and the arguments of `pflint check --files` on it; `None`
/// without openssl.
fn certificate_setup(root: &Path) -> Option<(tempfile::TempDir, Vec<String>)> {
    let openssl = Path::new("/usr/bin/openssl");
    if !openssl.is_file() {
        println!("no openssl: the --files case is not timed");
        return None;
    }
    let tmp = tempfile::TempDir::new().ok()?;
    let config = tmp.path().join("config");
    let private = tmp.path().join("root/etc/ssl/private");
    std::fs::create_dir_all(&config).ok()?;
    std::fs::create_dir_all(&private).ok()?;
    for (name, key) in [("rsa", "rsa:2048"), ("ec", "ec")] {
        let key_file = private.join(format!("{name}.key"));
        let cert_file = private.join(format!("{name}.crt"));
        let mut command = Command::new(openssl);
        command.args([
            "req",
            "-x509",
            "-nodes",
            "-days",
            "90",
            "-subj",
            "/CN=mail.example.com",
        ]);
        if key == "ec" {
            command.args(["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]);
        } else {
            command.args(["-newkey", key]);
        }
        let ok = command
            .arg("-keyout")
            .arg(&key_file)
            .arg("-out")
            .arg(&cert_file)
            .stderr(Stdio::null())
            .status()
            .ok()?
            .success();
        if !ok {
            return None;
        }
        let both = [
            std::fs::read(&key_file).ok()?,
            std::fs::read(&cert_file).ok()?,
        ]
        .concat();
        std::fs::write(private.join(format!("{name}.pem")), both).ok()?;
    }
    let example = std::fs::read_to_string(root.join("examples/mail/main.cf")).ok()?;
    std::fs::write(
        config.join("main.cf"),
        format!(
            "{example}\nsmtpd_tls_chain_files = /etc/ssl/private/rsa.pem, /etc/ssl/private/ec.pem\n"
        ),
    )
    .ok()?;
    if let Ok(master) = std::fs::read(root.join("examples/mail/master.cf")) {
        std::fs::write(config.join("master.cf"), master).ok()?;
    }
    let args = vec![
        "check".to_owned(),
        "--root".to_owned(),
        tmp.path().join("root").display().to_string(),
        config.display().to_string(),
    ];
    Some((tmp, args))
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let runs: usize = std::env::var("PFLINT_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let pflint = PathBuf::from(env!("CARGO_BIN_EXE_pflint"));
    let corpus = root.join("../shared/corpus");
    let mut dirs: Vec<PathBuf> = SETS
        .iter()
        .map(|s| corpus.join(s))
        .filter(|d| d.join("main.cf").is_file())
        .collect();
    if dirs.is_empty() {
        println!(
            "no corpus at {}: timing the bundled example",
            corpus.display()
        );
        dirs.push(root.join("examples/mail"));
    }
    let postconf = postconf();
    if postconf.is_none() {
        println!("no postconf installed: timing pflint alone");
    }
    println!("{runs} runs of each command per configuration, interleaved\n");
    let certificates = certificate_setup(root);
    if let Some((dir, _)) = &certificates {
        dirs.push(dir.path().join("config"));
    }
    for dir in dirs {
        let dir_arg = dir.display().to_string();
        let with_files = certificates
            .as_ref()
            .filter(|(tmp, _)| dir.starts_with(tmp.path()))
            .map(|(_, args)| args.clone());
        let mut commands = vec![
            Timed {
                label: "pflint show -n",
                program: pflint.clone(),
                args: vec!["show".into(), "-c".into(), dir_arg.clone(), "-n".into()],
                samples: Vec::new(),
            },
            Timed {
                label: "pflint check",
                program: pflint.clone(),
                args: vec!["check".into(), dir_arg.clone()],
                samples: Vec::new(),
            },
        ];
        if let Some(args) = with_files {
            // The same files into DNS records: TLSA per key, MTA-STS judged against the
            // system's CA roots.
            let dns = vec![
                "dns".to_owned(),
                "--root".to_owned(),
                args[2].clone(),
                "-c".to_owned(),
                dir_arg.clone(),
                "--mx".to_owned(),
                "mail.example.com".to_owned(),
                "--domain".to_owned(),
                "example.com".to_owned(),
            ];
            commands.push(Timed {
                label: "pflint check --files",
                program: pflint.clone(),
                args,
                samples: Vec::new(),
            });
            commands.push(Timed {
                label: "pflint dns",
                program: pflint.clone(),
                args: dns,
                samples: Vec::new(),
            });
        }
        if let Some(postconf) = &postconf {
            commands.insert(
                0,
                Timed {
                    label: "postconf -n",
                    program: postconf.clone(),
                    args: vec!["-c".into(), dir_arg.clone(), "-n".into()],
                    samples: Vec::new(),
                },
            );
        }
        // Warm the page cache and the binaries.
        for command in &mut commands {
            for _ in 0..5 {
                command.run_once();
            }
            command.samples.clear();
        }
        for _ in 0..runs {
            for command in &mut commands {
                command.run_once();
            }
        }
        let size: u64 = ["main.cf", "master.cf"]
            .iter()
            .filter_map(|f| std::fs::metadata(dir.join(f)).ok())
            .map(|m| m.len())
            .sum();
        let name = dir
            .file_name()
            .map_or(dir_arg.clone(), |n| n.to_string_lossy().into_owned());
        println!("{name} ({size} bytes of main.cf + master.cf)");
        let reference = postconf.as_ref().map(|_| commands[0].median());
        for command in &commands {
            let ratio = reference.map_or(String::new(), |r| {
                format!(
                    "  {:.2}x postconf",
                    command.median().as_secs_f64() / r.as_secs_f64()
                )
            });
            println!(
                "  {:<16} median {:>9}  best {:>9}{ratio}",
                command.label,
                ms(command.median()),
                ms(command.best())
            );
        }
        println!();
    }
}
