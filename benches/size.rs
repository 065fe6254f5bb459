//! Time and peak memory per megabyte of input, for every command and format, on
//! generated configurations of 1, 10 and 100 MB: many parameters, many master.cf
//! services, many public listeners that each give findings, as many postscreen listeners
//! each handing clients to its own `pass` service, one long list value, deeply nested
//! `${name?{…}}` expressions, and shapes that were once superlinear: one service with
//! many `-o` lines, reference chains past Postfix's nesting limit, restriction classes
//! that name each other, a suppression above every entry, one finding merged across
//! every listener, and one long restriction list that every listener inherits.
//!
//! `cargo bench --bench size` prints one row per (input, command) with the wall time and
//! the peak resident memory of the `pflint` process (from `wait4`), each per MB of input,
//! and the growth from the smallest to the largest size: 1.0 is linear.
//! `PFLINT_BENCH_SIZES=1,10` chooses the sizes (MB); `PFLINT_BENCH_KINDS=params,services`
//! the inputs. The goal: at most 100 ms and at most 3× the input plus 10 MB per MB. The
//! peak includes the few MB this process holds when it starts each run (Linux counts them
//! in the child's `ru_maxrss`).

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const MB: usize = 1 << 20;

/// The kinds of input, each written as main.cf (and master.cf) of about `size` bytes.
const KINDS: [&str; 13] = [
    "params",
    "services",
    "listeners",
    "postscreen",
    "long-line",
    "long-list",
    "nesting",
    "options",
    "chains",
    "classes",
    "suppressed",
    "merged",
    "inherited",
];

/// The commands, each run on every input.
const COMMANDS: [&[&str]; 10] = [
    &["check", "--format", "human"],
    &["check", "--format", "short"],
    &["check", "--format", "json"],
    &["check", "--format", "sarif"],
    &["check", "--format", "github"],
    &["show", "-n"],
    &["show", "-nx"],
    &["show", "-M"],
    &["show", "-P"],
    &["generate", "--role", "mx,submission,outbound", "--diff"],
];

fn main() {
    let sizes: Vec<usize> = std::env::var("PFLINT_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 10, 100]);
    let kinds: Vec<String> = std::env::var("PFLINT_BENCH_KINDS")
        .ok()
        .map(|s| s.split(',').map(|k| k.trim().to_owned()).collect())
        .unwrap_or_else(|| KINDS.iter().map(|k| (*k).to_owned()).collect());
    let binary = pflint();
    let work = std::env::temp_dir().join(format!("pflint-size-bench-{}", std::process::id()));
    let mut report = String::new();
    let _ = writeln!(
        report,
        "{:<10} {:>5} {:<48} {:>9} {:>9} {:>9} {:>9} {:>7} {:>7}",
        "input", "MB", "command", "seconds", "s/MB", "peak MB", "MB/MB", "time×", "mem×"
    );
    for kind in &kinds {
        let mut first: Vec<Option<(f64, f64)>> = vec![None; COMMANDS.len()];
        for &size in &sizes {
            let dir = work.join(format!("{kind}-{size}"));
            let bytes = write_input(kind, size * MB, &dir);
            let megabytes = bytes as f64 / MB as f64;
            for (c, command) in COMMANDS.iter().enumerate() {
                let (seconds, peak) = run(&binary, command, &dir);
                let per = (seconds / megabytes, peak / megabytes);
                let growth = match first[c] {
                    None => {
                        first[c] = Some(per);
                        (1.0, 1.0)
                    }
                    Some((t, m)) => (per.0 / t, per.1 / m),
                };
                let _ = writeln!(
                    report,
                    "{kind:<10} {size:>5} {:<48} {seconds:>9.3} {:>9.4} {peak:>9.1} {:>9.2} {:>7.2} {:>7.2}",
                    command.join(" "),
                    per.0,
                    per.1,
                    growth.0,
                    growth.1
                );
            }
            let _ = std::fs::remove_dir_all(&dir);
        }
        println!("{report}");
        report.clear();
    }
    let _ = std::fs::remove_dir_all(&work);
}

/// The release binary beside the bench's own executable (cargo builds it for benches).
fn pflint() -> PathBuf {
    let exe = std::env::current_exe().expect("the bench knows its path");
    let deps = exe.parent().expect("target/release/deps");
    let binary = deps.parent().expect("target/release").join("pflint");
    assert!(
        binary.is_file(),
        "build it first: cargo build --release ({})",
        binary.display()
    );
    binary
}

/// Runs one command on `dir`; its wall time and peak resident memory in MB.
#[expect(
    clippy::zombie_processes,
    reason = "wait4 reaps the child, and gives its peak memory too"
)]
fn run(binary: &Path, command: &[&str], dir: &Path) -> (f64, f64) {
    let mut args: Vec<String> = vec!["--max-file-size".into(), "1G".into()];
    args.extend(command.iter().map(|s| (*s).to_owned()));
    match command[0] {
        "check" => args.extend(["--postfix-version".into(), "3.7".into(), dir_arg(dir)]),
        "show" => args.extend([
            "--postfix-version".into(),
            "3.7".into(),
            "-c".into(),
            dir_arg(dir),
        ]),
        _ => args.extend([
            "--postfix-version".into(),
            "3.7".into(),
            "-c".into(),
            dir_arg(dir),
        ]),
    }
    let start = Instant::now();
    let child = Command::new(binary)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("pflint starts");
    let peak_kb = wait_peak(child.id() as libc::pid_t);
    (start.elapsed().as_secs_f64(), peak_kb as f64 / 1024.0)
}

fn dir_arg(dir: &Path) -> String {
    dir.display().to_string()
}

/// Waits for the child and returns its peak resident set, in KiB.
fn wait_peak(pid: libc::pid_t) -> i64 {
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child; the pointers are to live locals.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4 failed");
    usage.ru_maxrss
}

/// Writes the input of `kind` of about `size` bytes into `dir`; returns its size. The
/// text is written as it is made: the peak memory `wait4` reports for a child includes
/// what this process held when it started the child, so this process stays small.
fn write_input(kind: &str, size: usize, dir: &Path) -> usize {
    std::fs::create_dir_all(dir).expect("a directory");
    let stock = stock_master();
    let (main, master) = match kind {
        "params" => (
            write_lines(&dir.join("main.cf"), size, params),
            write_text(&dir.join("master.cf"), &stock),
        ),
        "services" => (
            write_text(&dir.join("main.cf"), "compatibility_level = 3.6\n"),
            write_lines(&dir.join("master.cf"), size, services),
        ),
        "listeners" => (
            write_text(&dir.join("main.cf"), "compatibility_level = 3.6\n"),
            write_lines(&dir.join("master.cf"), size, listeners),
        ),
        "postscreen" => (
            write_text(&dir.join("main.cf"), "compatibility_level = 3.6\n"),
            write_lines(&dir.join("master.cf"), size, postscreen),
        ),
        "long-line" => (
            write_long_line(&dir.join("main.cf"), size),
            write_text(&dir.join("master.cf"), &stock),
        ),
        "long-list" => (
            write_long_list(&dir.join("main.cf"), size),
            write_text(&dir.join("master.cf"), &stock),
        ),
        "nesting" => (
            write_lines(&dir.join("main.cf"), size, nesting),
            write_text(&dir.join("master.cf"), &stock),
        ),
        "options" => (
            write_text(&dir.join("main.cf"), "compatibility_level = 3.6\n"),
            write_lines_after(
                &dir.join("master.cf"),
                size,
                &format!("{stock}relay2 unix - - n - - smtp\n"),
                option,
            ),
        ),
        "chains" => (
            write_lines_after(&dir.join("main.cf"), size, "myorigin = $link_0\n", link),
            write_text(&dir.join("master.cf"), &stock),
        ),
        "classes" => (
            write_classes(&dir.join("main.cf"), size),
            write_text(&dir.join("master.cf"), &stock),
        ),
        "suppressed" => (
            write_text(&dir.join("main.cf"), "compatibility_level = 3.6\n"),
            write_lines(&dir.join("master.cf"), size, suppressed),
        ),
        "merged" => (
            write_text(
                &dir.join("main.cf"),
                "compatibility_level = 3.6\nsmtpd_tls_security_level = none\n",
            ),
            write_lines(&dir.join("master.cf"), size, submission),
        ),
        "inherited" => (
            write_one_line(
                &dir.join("main.cf"),
                size / 2,
                "smtpd_recipient_restrictions = permit_mynetworks",
                |n| format!(", check_recipient_access hash:/etc/postfix/r{n}"),
            ),
            write_lines(&dir.join("master.cf"), size / 2, plain_mx),
        ),
        other => panic!("no input kind {other}"),
    };
    main + master
}

fn write_text(path: &Path, text: &str) -> usize {
    std::fs::write(path, text).expect("written");
    text.len()
}

fn write_lines(path: &Path, size: usize, line: fn(usize) -> String) -> usize {
    write_lines_after(path, size, "", line)
}

/// `head`, then lines up to about `size` bytes in all.
fn write_lines_after(path: &Path, size: usize, head: &str, line: fn(usize) -> String) -> usize {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("created"));
    out.write_all(head.as_bytes()).expect("written");
    let mut written = head.len();
    let mut n = 0;
    while written < size {
        let text = line(n);
        out.write_all(text.as_bytes()).expect("written");
        written += text.len();
        n += 1;
    }
    out.flush().expect("written");
    written
}

/// A user-defined parameter, used by a second one that nothing uses (postconf's "unused
/// parameter", pflint's PF601).
fn params(n: usize) -> String {
    format!("custom_{n} = value_{n} $myhostname\nuse_{n} = ${{custom_{n}}} ESMTP\n")
}

/// A delivery service with two `-o` options.
fn services(n: usize) -> String {
    format!(
        "svc{n} unix - - n - - smtp\n  -o smtp_tls_security_level=may\n  -o syslog_name=postfix/svc{n}\n"
    )
}

/// A port 25 listener on its own address that requires TLS: a finding or two for each
/// (public MX hosts must not require it), which the rules merge across subjects.
fn listeners(n: usize) -> String {
    format!(
        "{}:25 inet n - n - - smtpd\n  -o smtpd_tls_security_level=encrypt\n",
        address(n)
    )
}

/// A postscreen listener on its own address that hands clients to its own `pass`
/// service (the handoff was once found by a search of every service for each listener).
fn postscreen(n: usize) -> String {
    format!(
        "{}:25 inet n - n - 1 postscreen\n  -o smtpd_service_name=smtpd{n}\nsmtpd{n} pass - - n - - smtpd\n",
        address(n)
    )
}

/// The `n`th address of 10/8, one per listener.
fn address(n: usize) -> String {
    format!("10.{}.{}.{}", (n >> 16) & 255, (n >> 8) & 255, n & 255)
}

/// 50 nested conditionals in one value, used by a known parameter.
fn nesting(n: usize) -> String {
    let depth = 50;
    format!(
        "nested_{n} = {}x{}\nmyorigin = $nested_{n}\n",
        "${myhostname?{".repeat(depth),
        "}}".repeat(depth)
    )
}

/// An `-o` line of one service: a parameter Postfix does not know, so a finding and a
/// suggestion for each.
fn option(n: usize) -> String {
    format!("  -o smtp_x{n}=v{n}\n")
}

/// A link of one reference chain, far longer than the 100 levels Postfix expands: each
/// parameter's expansion fails at the limit.
fn link(n: usize) -> String {
    format!("link_{n} = $link_{}\n", n + 1)
}

/// A listener that requires TLS on port 25, under a suppression of another rule (which
/// then silences nothing).
fn suppressed(n: usize) -> String {
    format!("# pflint: disable=PF408 -- reason {n}\n{}", listeners(n))
}

/// A submission listener without options, where main.cf turns TLS off: one finding,
/// merged across every listener, with an `-o` edit for each.
fn submission(n: usize) -> String {
    format!("{}:587 inet n - n - - smtpd\n", address(n))
}

/// A port 25 listener on its own address without options: it inherits main.cf's
/// values, which each rule judges once for all such listeners.
fn plain_mx(n: usize) -> String {
    format!("{}:25 inet n - n - - smtpd\n", address(n))
}

/// `k` restriction classes, each naming every class, so that about `size` bytes hold
/// `k` squared names; the recipient restrictions name them all.
fn write_classes(path: &Path, size: usize) -> usize {
    let k = ((size / 8) as f64).sqrt().max(1.0) as usize;
    let names: Vec<String> = (0..k).map(|i| format!("cls{i}")).collect();
    let all = names.join(", ");
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("created"));
    let mut written = 0;
    let mut put = |text: &str| {
        out.write_all(text.as_bytes()).expect("written");
        written += text.len();
    };
    put(&format!("smtpd_restriction_classes = {all}\n"));
    for name in &names {
        put(&format!("{name} = {all}\n"));
    }
    put(&format!(
        "smtpd_recipient_restrictions = permit_mynetworks, {all}, reject_unauth_destination\n"
    ));
    out.flush().expect("written");
    written
}

/// One `mynetworks` list of `size` bytes.
fn write_long_line(path: &Path, size: usize) -> usize {
    write_one_line(path, size, "mynetworks = 127.0.0.0/8", |n| {
        format!(", 10.{}.{}.{}/32", (n >> 16) & 255, (n >> 8) & 255, n & 255)
    })
}

/// One list of `$name` references of `size` bytes, none of them defined: a finding for
/// each element of one line.
fn write_long_list(path: &Path, size: usize) -> usize {
    write_one_line(path, size, "mydestination = $undefined_0", |n| {
        format!(", $undefined_{}", n + 1)
    })
}

/// One line of `size` bytes: `head`, then `item(0)`, `item(1)`, … and a newline.
fn write_one_line(path: &Path, size: usize, head: &str, item: fn(usize) -> String) -> usize {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("created"));
    out.write_all(head.as_bytes()).expect("written");
    let mut written = head.len();
    let mut n = 0;
    while written < size {
        let text = item(n);
        out.write_all(text.as_bytes()).expect("written");
        written += text.len();
        n += 1;
    }
    out.write_all(b"\n").expect("written");
    out.flush().expect("written");
    written + 1
}

fn stock_master() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/stock-master.cf"))
        .expect("data/stock-master.cf")
}
