//! End to end: the real Postfix, started with configurations `pflint generate` wrote,
//! answers on ports 25, 587 and 465 as the generated TLS setup promises (opportunistic
//! STARTTLS on 25, mandatory TLS with the profile's floor and SASL on 587 and 465).
//!
//! Each scenario runs in a thread of its own that first enters a new network namespace:
//! on Linux namespaces belong to threads, and the processes the thread spawns and the
//! sockets it opens inherit its namespace. The instance therefore listens on the standard
//! ports of a loopback nothing else shares. Every file lives in a temporary directory;
//! the host's /etc/postfix is only read (postfix-files, dynamicmaps.cf).
//!
//! Needs root, Postfix (Debian's package: its stock main.cf and master.cf are the base),
//! openssl, saslpasswd2 and ip. Skipped with a message when any is missing, a failure under
//! `PFLINT_REQUIRE_POSTFIX=1`.

mod common;

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tempfile::TempDir;

const HOSTNAME: &str = "mail.example.test";
const LOGIN: &str = "alice@example.test";
const PASSWORD: &str = "secret";
const ROLES: &str = "mx,submission,outbound";
/// How long a reply, a handshake or a helper command may take before the test gives up.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Debian's stock configuration, as its postinst installs it for "Internet Site".
const DEBIAN_MAIN: &str = "/usr/share/postfix/main.cf.debian";
const DEBIAN_TLS: &str = "/usr/share/postfix/main.cf.tls";
const DEBIAN_MASTER: &str = "/usr/share/postfix/master.cf.dist";
/// The files Debian's configure-instance.sh copies into the chroot (queue directory).
const CHROOT_FILES: [&str; 7] = [
    "localtime",
    "services",
    "resolv.conf",
    "hosts",
    "host.conf",
    "nsswitch.conf",
    "nss_mdns.config",
];
/// The protocol versions tried on every port, oldest first, with s_client's option.
const VERSIONS: [(&str, &str); 4] = [
    ("TLSv1", "-tls1"),
    ("TLSv1.1", "-tls1_1"),
    ("TLSv1.2", "-tls1_2"),
    ("TLSv1.3", "-tls1_3"),
];
/// The smtpd log tags of the three listeners.
const SMTPD_TAGS: [&str; 3] = [
    "postfix/smtpd[",
    "postfix/submission/smtpd[",
    "postfix/submissions/smtpd[",
];

#[test]
fn generated_tls_works_in_a_running_postfix() {
    let Some(tools) = Tools::find() else { return };
    let scenarios = [
        Scenario::edited("modern"),
        Scenario::edited("intermediate"),
        Scenario::edited("legacy"),
        Scenario {
            profile: "intermediate",
            base: Base::MinimalPlusSnippet,
        },
    ];
    let count = scenarios.len();
    let mut failures = Vec::new();
    for scenario in scenarios {
        let name = scenario.name();
        let tools = tools.clone();
        let outcome = std::thread::Builder::new()
            .name(name.clone())
            .spawn(move || run_scenario(&tools, &scenario))
            .expect("a scenario thread starts")
            .join();
        if let Err(panic) = outcome {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            failures.push(format!("{name}: {message}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} scenarios failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ---- requirements -------------------------------------------------------------------

/// The programs the test runs, by absolute path.
#[derive(Clone, Debug)]
struct Tools {
    postfix: PathBuf,
    postconf: PathBuf,
    postalias: PathBuf,
    openssl: PathBuf,
    saslpasswd2: PathBuf,
    ip: PathBuf,
    chgrp: PathBuf,
}

impl Tools {
    /// Everything the test needs, or `None` (after a visible message) when something is
    /// missing; `PFLINT_REQUIRE_POSTFIX=1` turns that into a failure.
    fn find() -> Option<Tools> {
        let (postconf, _version) = common::installed_postconf()?;
        let sbin = postconf
            .parent()
            .unwrap_or(Path::new("/usr/sbin"))
            .to_owned();
        let mut missing = Vec::new();
        // SAFETY: geteuid has no preconditions and cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            missing.push(
                "not running as root (needed for a network namespace and for Postfix)".to_owned(),
            );
        }
        let mut find = |name: &str, package: &str| {
            let found = on_path(name, &sbin);
            if found.is_none() {
                missing.push(format!("no `{name}` ({package})"));
            }
            found.unwrap_or_default()
        };
        let tools = Tools {
            postfix: find("postfix", "postfix"),
            postalias: find("postalias", "postfix"),
            openssl: find("openssl", "openssl"),
            saslpasswd2: find("saslpasswd2", "sasl2-bin"),
            ip: find("ip", "iproute2"),
            chgrp: find("chgrp", "coreutils"),
            postconf,
        };
        for file in [DEBIAN_MAIN, DEBIAN_TLS, DEBIAN_MASTER] {
            if !Path::new(file).is_file() {
                missing.push(format!("no {file} (Debian's postfix package)"));
            }
        }
        if missing.is_empty() {
            return Some(tools);
        }
        let reason = missing.join("; ");
        assert!(
            std::env::var_os("PFLINT_REQUIRE_POSTFIX").is_none_or(|v| v != "1"),
            "PFLINT_REQUIRE_POSTFIX=1 but the end-to-end test cannot run: {reason}"
        );
        common::visible(&format!(
            "SKIPPED: end-to-end Postfix test: {reason} (PFLINT_REQUIRE_POSTFIX=1 makes this a failure)"
        ));
        None
    }
}

/// `name` in `$PATH`, in Postfix's command directory or in the usual system directories.
fn on_path(name: &str, sbin: &Path) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([sbin.to_owned()])
        .chain(["/usr/sbin", "/usr/bin", "/sbin", "/bin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

// ---- running commands ---------------------------------------------------------------

/// What a finished command printed.
struct Ran {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Ran {
    fn text(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs a command with `input` on its stdin (none: /dev/null), killed after `limit`.
/// Output goes to files, not pipes, so a daemon that keeps them open (the Postfix master
/// started by `postfix start`) cannot make the test wait.
fn try_run(command: &mut Command, input: Option<&str>, limit: Duration) -> Result<Ran, String> {
    let shown = format!("{command:?}");
    let out = tempfile::tempfile().map_err(|e| e.to_string())?;
    let err = tempfile::tempfile().map_err(|e| e.to_string())?;
    let stdin = if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    };
    let mut child = command
        .stdin(stdin)
        .stdout(out.try_clone().map_err(|e| e.to_string())?)
        .stderr(err.try_clone().map_err(|e| e.to_string())?)
        .spawn()
        .map_err(|e| format!("{shown}: {e}"))?;
    if let (Some(mut pipe), Some(text)) = (child.stdin.take(), input) {
        // Dropping the pipe afterwards gives the command its end of input.
        let _ = pipe.write_all(text.as_bytes());
    }
    let status = wait_for(&mut child, limit);
    let read = |mut file: File| {
        let mut text = String::new();
        let _ = file.rewind();
        let _ = file.read_to_string(&mut text);
        text
    };
    let (stdout, stderr) = (read(out), read(err));
    match status {
        Some(status) => Ok(Ran {
            status,
            stdout,
            stderr,
        }),
        None => Err(format!(
            "{shown} took longer than {limit:?} and was killed\n{stdout}{stderr}"
        )),
    }
}

/// Waits for a child at most `limit`; kills it and returns `None` after that.
fn wait_for(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}

/// [`try_run`], failing the test when the command cannot run or hangs.
fn run(command: &mut Command, input: Option<&str>) -> Ran {
    try_run(command, input, 3 * TIMEOUT).unwrap_or_else(|e| panic!("{e}"))
}

/// [`run`], failing the test unless the command succeeds.
fn run_ok(command: &mut Command, input: Option<&str>) -> Ran {
    let shown = format!("{command:?}");
    let ran = run(command, input);
    assert!(
        ran.status.success(),
        "{shown} failed ({}):\n{}",
        ran.status,
        ran.text()
    );
    ran
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

fn read(path: &Path) -> String {
    std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

fn mkdir(path: &Path) {
    std::fs::create_dir_all(path).unwrap_or_else(|e| panic!("mkdir {}: {e}", path.display()));
    chmod(path, 0o755);
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

fn copy(from: &Path, to: &Path, mode: u32) {
    std::fs::copy(from, to)
        .unwrap_or_else(|e| panic!("copy {} to {}: {e}", from.display(), to.display()));
    chmod(to, mode);
}

// ---- the instance -------------------------------------------------------------------

/// Which configuration `pflint generate` works on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Base {
    /// Debian's stock "Internet Site" configuration, edited in place (`-c DIR --write`).
    DebianEdited,
    /// A minimal main.cf and the stock master.cf, with the printed snippet appended.
    MinimalPlusSnippet,
}

#[derive(Clone, Debug)]
struct Scenario {
    profile: &'static str,
    base: Base,
}

impl Scenario {
    fn edited(profile: &'static str) -> Scenario {
        Scenario {
            profile,
            base: Base::DebianEdited,
        }
    }

    fn name(&self) -> String {
        let base = match self.base {
            Base::DebianEdited => "debian-stock --write",
            Base::MinimalPlusSnippet => "minimal + snippet",
        };
        format!("{base}, profile {}", self.profile)
    }

    /// The oldest version mandatory TLS (587, 465) must accept: an index into [`VERSIONS`].
    /// Written down here rather than read from the profiles, so that the test checks them.
    fn floor(&self) -> usize {
        match self.profile {
            "modern" => 3,
            "intermediate" => 2,
            _ => 0,
        }
    }
}

/// A Postfix instance's files, all in one temporary directory.
struct Instance {
    root: PathBuf,
    config: PathBuf,
    queue: PathBuf,
    maillog: PathBuf,
    cert: PathBuf,
    chain: PathBuf,
    _tmp: TempDir,
}

impl Instance {
    /// Directories, certificate, SASL database and chroot files; no main.cf yet.
    fn new(tools: &Tools) -> Instance {
        let tmp = TempDir::new().expect("a temporary directory");
        // The postfix user must reach the queue, the SASL database and the maps.
        chmod(tmp.path(), 0o755);
        let root = tmp.path().to_owned();
        let instance = Instance {
            config: root.join("config"),
            queue: root.join("queue"),
            maillog: root.join("maillog"),
            cert: root.join("tls/cert.pem"),
            chain: root.join("tls/server.pem"),
            root,
            _tmp: tmp,
        };
        // data_directory is left to `postfix start`, which creates it owned by postfix.
        for dir in ["config", "queue", "tls", "sasl"] {
            mkdir(&instance.root.join(dir));
        }
        instance.make_certificate(tools);
        instance.make_sasl(tools);
        instance.populate_chroot();
        instance
    }

    /// A self-signed certificate, and the chain file smtpd_tls_chain_files reads: the key
    /// first, then the certificate.
    fn make_certificate(&self, tools: &Tools) {
        let key = self.root.join("tls/key.pem");
        let subject = format!("/CN={HOSTNAME}");
        let san = format!("subjectAltName=DNS:{HOSTNAME}");
        run_ok(
            Command::new(&tools.openssl)
                .args([
                    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                ])
                .args(["-subj", &subject, "-addext", &san, "-keyout"])
                .arg(&key)
                .arg("-out")
                .arg(&self.cert),
            None,
        );
        chmod(&key, 0o600);
        write(&self.chain, &format!("{}{}", read(&key), read(&self.cert)));
        chmod(&self.chain, 0o600);
    }

    /// Cyrus SASL with a sasldb holding alice@example.test.
    fn make_sasl(&self, tools: &Tools) {
        let sasl = self.root.join("sasl");
        let db = sasl.join("sasldb2");
        let conf = format!(
            "pwcheck_method: auxprop\nauxprop_plugin: sasldb\nmech_list: PLAIN LOGIN\nsasldb_path: {}\n",
            db.display()
        );
        write(&sasl.join("smtpd.conf"), &conf);
        // Debian's build does not use cyrus_sasl_config_path: it reads smtpd.conf from
        // $config_directory/sasl, then /usr/lib/sasl (its patch 07_sasl_config; seen with
        // strace on 3.7.11). The same file goes there too, so either build finds it.
        mkdir(&self.config.join("sasl"));
        write(&self.config.join("sasl/smtpd.conf"), &conf);
        let (user, realm) = LOGIN.split_once('@').unwrap_or((LOGIN, ""));
        run_ok(
            Command::new(&tools.saslpasswd2)
                .args(["-p", "-c", "-f"])
                .arg(&db)
                .args(["-u", realm, user]),
            Some(&format!("{PASSWORD}\n")),
        );
        run_ok(Command::new(&tools.chgrp).arg("postfix").arg(&db), None);
        chmod(&db, 0o640);
        // A chrooted smtpd opens the database inside the queue directory: a copy at the
        // same absolute path there.
        let jailed = self.queue.join(db.strip_prefix("/").unwrap_or(&db));
        mkdir(jailed.parent().unwrap_or(&self.queue));
        copy(&db, &jailed, 0o640);
        run_ok(Command::new(&tools.chgrp).arg("postfix").arg(&jailed), None);
    }

    /// The files Debian's configure-instance.sh copies into `<queue>/etc` for chrooted
    /// services (its CA directory copy concerns only the smtp client, not tested here).
    fn populate_chroot(&self) {
        let etc = self.queue.join("etc");
        mkdir(&etc);
        for name in CHROOT_FILES {
            let host = Path::new("/etc").join(name);
            if host.is_file() {
                copy(&host, &etc.join(name), 0o644);
            }
        }
    }

    /// The instance's own settings, the same in every scenario.
    fn own_settings(&self) -> String {
        let root = self.root.display();
        format!(
            "\n# The test instance's own paths.\n\
             queue_directory = {queue}\n\
             data_directory = {root}/data\n\
             maillog_file = {maillog}\n\
             maillog_file_prefixes = {root}\n\
             cyrus_sasl_config_path = {root}/sasl\n",
            queue = self.queue.display(),
            maillog = self.maillog.display(),
        )
    }

    /// The settings Debian's postinst writes (postconf -e) for "Internet Site", with the
    /// alias database moved into the temporary directory.
    fn debian_postinst_settings(&self) -> String {
        let aliases = self.root.join("aliases");
        format!(
            "smtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated defer_unauth_destination\n\
             myhostname = {HOSTNAME}\n\
             alias_maps = hash:{aliases}\n\
             alias_database = hash:{aliases}\n\
             mydestination = $myhostname, localhost\n\
             relayhost =\n\
             mynetworks = 127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128\n\
             mailbox_size_limit = 0\n\
             recipient_delimiter = +\n\
             inet_interfaces = all\n\
             inet_protocols = all\n",
            aliases = aliases.display()
        )
    }

    /// Writes main.cf and master.cf for the scenario and lets `pflint generate` add TLS.
    fn configure(&self, scenario: &Scenario, tools: &Tools) {
        let main = self.config.join("main.cf");
        let master = self.config.join("master.cf");
        match scenario.base {
            Base::DebianEdited => {
                // The postinst appends main.cf.tls when the snakeoil key exists; always
                // here, as the edit must deal with its cert_file and key_file lines.
                let text = format!(
                    "{}{}{}{}# The existing SASL backend, which pflint generate must keep.\nsmtpd_sasl_type = cyrus\n",
                    read(Path::new(DEBIAN_MAIN)),
                    read(Path::new(DEBIAN_TLS)),
                    self.debian_postinst_settings(),
                    self.own_settings()
                );
                write(&main, &text);
                copy(Path::new(DEBIAN_MASTER), &master, 0o644);
                let ran = run_ok(
                    common::pflint()
                        .arg("generate")
                        .arg("-c")
                        .arg(&self.config)
                        .args(["--role", ROLES, "--profile", scenario.profile, "--chain"])
                        .arg(&self.chain)
                        .arg("--write"),
                    None,
                );
                common::visible(&format!("  pflint generate --write: {}", ran.text().trim()));
            }
            Base::MinimalPlusSnippet => {
                let ran = run_ok(
                    common::pflint()
                        .arg("generate")
                        .args(["--role", ROLES, "--profile", scenario.profile])
                        .args(["--sasl", "cyrus", "--chain"])
                        .arg(&self.chain),
                    None,
                );
                let (main_part, master_part) = split_snippet(&ran.stdout);
                // Without a compatibility_level Postfix 3.7 runs at level 0, where the
                // default smtpd_relay_restrictions is empty and the port 25 smtpd refuses
                // to start; that is a property of this bare base, not of the snippet.
                let aliases = self.root.join("aliases");
                let text = format!(
                    "compatibility_level = 3.6\n\
                     myhostname = {HOSTNAME}\n\
                     mydestination = $myhostname, localhost\n\
                     alias_maps = hash:{aliases}\n\
                     alias_database = hash:{aliases}\n{own}\n{main_part}",
                    aliases = aliases.display(),
                    own = self.own_settings()
                );
                write(&main, &text);
                write(
                    &master,
                    &format!("{}\n{master_part}", read(Path::new(DEBIAN_MASTER))),
                );
            }
        }
        write(&self.root.join("aliases"), "postmaster: root\n");
        run_ok(
            Command::new(&tools.postalias)
                .arg("-c")
                .arg(&self.config)
                .arg(self.root.join("aliases")),
            None,
        );
        common::age_config(&self.config);
    }

    fn postconf(&self, tools: &Tools, args: &[&str]) -> String {
        run_ok(
            Command::new(&tools.postconf)
                .arg("-c")
                .arg(&self.config)
                .args(args),
            None,
        )
        .stdout
    }
}

/// The main.cf and master.cf parts of `pflint generate`'s printed snippet.
fn split_snippet(snippet: &str) -> (String, String) {
    let main_at = snippet.find("# ---- main.cf ----\n");
    let master_at = snippet.find("# ---- master.cf ----\n");
    let (Some(main_at), Some(master_at)) = (main_at, master_at) else {
        panic!("the snippet has no main.cf and master.cf parts:\n{snippet}");
    };
    (
        snippet[main_at..master_at].to_owned(),
        snippet[master_at..].to_owned(),
    )
}

// ---- the running Postfix ------------------------------------------------------------

/// A started Postfix instance, stopped when dropped: also when the test panics.
struct Running<'a> {
    tools: &'a Tools,
    instance: &'a Instance,
    stopped: bool,
}

impl<'a> Running<'a> {
    /// `postfix start`, then waits until the three listeners are there. The guard exists
    /// before the start, so that a half-started instance is stopped too.
    fn start(tools: &'a Tools, instance: &'a Instance) -> Running<'a> {
        let running = Running {
            tools,
            instance,
            stopped: false,
        };
        let ran = run(&mut running.postfix("start"), None);
        assert!(
            ran.status.success(),
            "postfix start failed ({}):\n{}\nmaillog:\n{}",
            ran.status,
            ran.text(),
            read(&instance.maillog)
        );
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let listening = listening_ports();
            if [25, 587, 465].iter().all(|p| listening.contains(p)) {
                break running;
            }
            assert!(
                Instant::now() < deadline,
                "Postfix listens on {listening:?}, not on 25, 587 and 465\nmaillog:\n{}",
                read(&instance.maillog)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn postfix(&self, action: &str) -> Command {
        let mut command = Command::new(&self.tools.postfix);
        command.arg("-c").arg(&self.instance.config).arg(action);
        command
    }

    /// The master's pid, from `<queue>/pid/master.pid`, if it is still a running master.
    fn master_pid(&self) -> Option<i32> {
        let pid: i32 = read(&self.instance.queue.join("pid/master.pid"))
            .trim()
            .parse()
            .ok()?;
        let stat = read(Path::new(&format!("/proc/{pid}/stat")));
        // "pid (comm) state …": gone, a zombie, or a recycled pid all count as stopped.
        let after = stat.split_once(") ")?.1;
        (stat.contains("(master)") && !after.starts_with('Z')).then_some(pid)
    }

    /// Whether the master has gone within `limit`.
    fn wait_gone(&self, limit: Duration) -> bool {
        wait_until(limit, || self.master_pid().is_none())
    }

    /// `postfix stop`, then `postfix abort` and SIGKILL for the master when it does not
    /// go; last, whatever still runs in the test's network namespace (the master's
    /// children on their way out) is waited for, and killed when it lingers.
    fn stop(&mut self) {
        if std::mem::replace(&mut self.stopped, true) {
            return;
        }
        let _ = try_run(&mut self.postfix("stop"), None, 3 * TIMEOUT);
        if !self.wait_gone(TIMEOUT) {
            let _ = try_run(&mut self.postfix("abort"), None, TIMEOUT);
        }
        if !self.wait_gone(TIMEOUT)
            && let Some(pid) = self.master_pid()
        {
            // SAFETY: kill has no memory effects; the pid was just checked to be a master.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        if wait_until(TIMEOUT, || processes_in_namespace().is_empty()) {
            return;
        }
        for pid in processes_in_namespace() {
            // SAFETY: as above; only the test's own children live in its namespace.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        if !wait_until(TIMEOUT, || processes_in_namespace().is_empty()) {
            common::visible(&format!(
                "WARNING: processes of the test's Postfix did not stop: {:?}",
                processes_in_namespace()
            ));
        }
    }
}

/// Whether `done` becomes true within `limit`, asked every 50 ms.
fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while !done() {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    true
}

/// The processes in this thread's network namespace: only what the scenario started
/// (Postfix, openssl) can be there. Exited processes (zombies) no longer have one.
fn processes_in_namespace() -> Vec<i32> {
    let Ok(ours) = std::fs::read_link("/proc/thread-self/ns/net") else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| std::fs::read_link(format!("/proc/{pid}/ns/net")).is_ok_and(|ns| ns == ours))
        .collect()
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() && !self.stopped {
            common::visible(&format!(
                "maillog of the failed scenario:\n{}",
                read(&self.instance.maillog)
            ));
        }
        self.stop();
    }
}

/// The TCP ports with a listening socket in this thread's network namespace.
fn listening_ports() -> Vec<u16> {
    let mut ports = Vec::new();
    for table in ["tcp", "tcp6"] {
        // thread-self, not self: the namespace is this thread's, not the process's.
        let text = read(Path::new(&format!("/proc/thread-self/net/{table}")));
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let port = fields.get(1).and_then(|a| a.rsplit_once(':'));
            if let (Some((_, port)), Some(&"0A")) = (port, fields.get(3))
                && let Ok(port) = u16::from_str_radix(port, 16)
            {
                ports.push(port);
            }
        }
    }
    ports
}

/// Moves this thread into a new network namespace with nothing but a loopback that is up.
fn enter_network_namespace(tools: &Tools) {
    // SAFETY: unshare changes only this thread's namespaces; no memory is involved.
    let rc = unsafe { libc::unshare(libc::CLONE_NEWNET) };
    assert_eq!(
        rc,
        0,
        "unshare(CLONE_NEWNET): {}",
        std::io::Error::last_os_error()
    );
    run_ok(
        Command::new(&tools.ip).args(["link", "set", "lo", "up"]),
        None,
    );
    let links = run_ok(Command::new(&tools.ip).args(["-o", "link", "show"]), None).stdout;
    assert!(
        links.lines().count() == 1 && links.contains(": lo:"),
        "the new network namespace should hold only lo:\n{links}"
    );
}

// ---- SMTP dialogues -----------------------------------------------------------------

/// One SMTP reply: its code and its lines, CR LF removed.
#[derive(Clone, Debug, Default)]
struct Reply {
    code: u16,
    lines: Vec<String>,
}

impl Reply {
    /// The EHLO keywords (upper case), the greeting line left out.
    fn keywords(&self) -> Vec<String> {
        self.lines
            .iter()
            .skip(1)
            .filter_map(|l| l.get(4..))
            .filter_map(|t| t.split_whitespace().next())
            .map(str::to_ascii_uppercase)
            .collect()
    }

    fn offers(&self, keyword: &str) -> bool {
        self.keywords().iter().any(|k| k == keyword)
    }

    /// `AUTH PLAIN LOGIN`-style summary for the table: STARTTLS and AUTH, if offered.
    fn summary(&self) -> String {
        let mut parts = Vec::new();
        if self.offers("STARTTLS") {
            parts.push("STARTTLS".to_owned());
        }
        let auth = self
            .lines
            .iter()
            .skip(1)
            .filter_map(|l| l.get(4..))
            .find(|t| {
                t.split_whitespace()
                    .next()
                    .is_some_and(|k| k.eq_ignore_ascii_case("AUTH"))
            });
        parts.push(auth.map_or("no AUTH".to_owned(), str::to_owned));
        parts.join(", ")
    }
}

/// Whether a reply line is the last of its reply (`NNN text` or `NNN`).
fn is_final(line: &str) -> bool {
    let bytes = line.as_bytes();
    bytes.len() >= 3
        && bytes[..3].iter().all(u8::is_ascii_digit)
        && bytes.get(3).is_none_or(|b| *b == b' ')
}

fn parse_reply(lines: Vec<String>) -> Reply {
    let code = lines
        .last()
        .and_then(|l| l.get(..3))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    Reply { code, lines }
}

/// An SMTP client that sends one command and waits for its whole reply before the next.
trait Smtp {
    /// Sends one command line (without line ending).
    fn send(&mut self, line: &str);
    /// The next reply; fails the test after [`TIMEOUT`] or when the server hangs up.
    fn reply(&mut self) -> Reply;

    fn command(&mut self, line: &str) -> Reply {
        self.send(line);
        self.reply()
    }

    fn ehlo(&mut self) -> Reply {
        self.command("EHLO client.example.org")
    }

    fn quit(&mut self) {
        self.send("QUIT");
        let _ = self.reply();
    }
}

/// SMTP over a plain TCP connection to 127.0.0.1.
struct PlainSmtp {
    reader: BufReader<TcpStream>,
    port: u16,
}

impl PlainSmtp {
    fn connect(port: u16) -> PlainSmtp {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let stream = TcpStream::connect_timeout(&address, TIMEOUT)
            .unwrap_or_else(|e| panic!("connect to {address}: {e}"));
        stream
            .set_read_timeout(Some(TIMEOUT))
            .and_then(|()| stream.set_write_timeout(Some(TIMEOUT)))
            .expect("socket timeouts");
        PlainSmtp {
            reader: BufReader::new(stream),
            port,
        }
    }
}

impl Smtp for PlainSmtp {
    fn send(&mut self, line: &str) {
        let port = self.port;
        self.reader
            .get_mut()
            .write_all(format!("{line}\r\n").as_bytes())
            .unwrap_or_else(|e| panic!("port {port}: sending {line:?}: {e}"));
    }

    fn reply(&mut self) -> Reply {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            match self.reader.read_line(&mut line) {
                Ok(0) => panic!("port {}: connection closed after {lines:?}", self.port),
                Ok(_) => {}
                Err(e) => panic!("port {}: no reply ({e}) after {lines:?}", self.port),
            }
            let line = line.trim_end().to_owned();
            let last = is_final(&line);
            lines.push(line);
            if last {
                return parse_reply(lines);
            }
        }
    }
}

/// SMTP inside TLS, through `openssl s_client -quiet`: TLS from the first byte, or after
/// STARTTLS (which s_client negotiates itself).
struct TlsSmtp {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
    stderr: File,
    port: u16,
}

impl TlsSmtp {
    fn connect(tools: &Tools, port: u16, starttls: bool) -> TlsSmtp {
        let stderr = tempfile::tempfile().expect("a temporary file");
        let mut command = Command::new(&tools.openssl);
        command
            .args(["s_client", "-quiet", "-crlf", "-servername", HOSTNAME])
            .arg("-connect")
            .arg(format!("127.0.0.1:{port}"));
        if starttls {
            command.args(["-starttls", "smtp"]);
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr.try_clone().expect("a file handle"))
            .spawn()
            .unwrap_or_else(|e| panic!("openssl s_client: {e}"));
        let stdin = child.stdin.take().expect("a stdin pipe");
        let stdout = child.stdout.take().expect("a stdout pipe");
        let (sender, lines) = mpsc::channel();
        // A reader thread, so that waiting for a line can time out; it ends when the
        // child's output closes.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line.trim_end().to_owned()).is_err() {
                    break;
                }
            }
        });
        TlsSmtp {
            child,
            stdin,
            lines,
            stderr,
            port,
        }
    }

    fn diagnostics(&mut self) -> String {
        let mut text = String::new();
        let _ = self.stderr.rewind();
        let _ = self.stderr.read_to_string(&mut text);
        text
    }
}

impl Smtp for TlsSmtp {
    fn send(&mut self, line: &str) {
        // -crlf turns the newline into CR LF.
        if let Err(e) = writeln!(self.stdin, "{line}").and_then(|()| self.stdin.flush()) {
            let stderr = self.diagnostics();
            panic!("port {} (TLS): sending {line:?}: {e}\n{stderr}", self.port);
        }
    }

    fn reply(&mut self) -> Reply {
        let deadline = Instant::now() + TIMEOUT;
        let mut lines = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let last = is_final(&line);
                    lines.push(line);
                    if last {
                        return parse_reply(lines);
                    }
                }
                Err(e) => {
                    let stderr = self.diagnostics();
                    panic!(
                        "port {} (TLS): no reply ({e}) after {lines:?}\nopenssl:\n{stderr}",
                        self.port
                    );
                }
            }
        }
    }
}

impl Drop for TlsSmtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `AUTH PLAIN` with the initial response, as RFC 4616 writes it.
fn auth_plain(smtp: &mut impl Smtp, password: &str) -> u16 {
    let response = base64(format!("\0{LOGIN}\0{password}").as_bytes());
    smtp.command(&format!("AUTH PLAIN {response}")).code
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut text = String::new();
    for chunk in bytes.chunks(3) {
        let byte = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (byte(0) << 16) | (byte(1) << 8) | byte(2);
        for i in 0..4 {
            if i <= chunk.len() {
                text.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                text.push('=');
            }
        }
    }
    text
}

// ---- TLS handshakes -----------------------------------------------------------------

/// One `openssl s_client` handshake at one protocol version.
#[derive(Clone, Debug)]
struct Handshake {
    /// The version asked for (the client offers only that one).
    version: &'static str,
    /// The version negotiated, `None` when the server refused.
    negotiated: Option<String>,
    /// The leaf certificate the server sent, base64 without line breaks.
    leaf: Option<String>,
}

/// Tries every version in [`VERSIONS`] on a port. Below TLS 1.2 the client is made willing
/// (`@SECLEVEL=0`), so that a refusal is the server's.
fn handshakes(tools: &Tools, port: u16, starttls: bool) -> Vec<Handshake> {
    VERSIONS
        .iter()
        .enumerate()
        .map(|(index, (version, option))| {
            let mut command = Command::new(&tools.openssl);
            command
                .args(["s_client", "-showcerts", "-servername", HOSTNAME, option])
                .arg("-connect")
                .arg(format!("127.0.0.1:{port}"));
            if starttls {
                command.args(["-starttls", "smtp"]);
            }
            if index < 2 {
                command.args(["-cipher", "DEFAULT@SECLEVEL=0"]);
            }
            let ran = try_run(&mut command, None, TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
            Handshake {
                version,
                negotiated: negotiated(&ran.stdout),
                leaf: first_certificate(&ran.stdout),
            }
        })
        .collect()
}

/// The negotiated version in s_client's report: "New, (NONE), …" when refused; else the
/// session's "Protocol :" line, or for TLS 1.3 (whose session s_client reports later)
/// the "New, TLSv1.3" line.
fn negotiated(report: &str) -> Option<String> {
    let new = report.lines().find_map(|l| l.strip_prefix("New, "))?;
    let from_new = new.split(',').next()?.trim();
    if from_new == "(NONE)" {
        return None;
    }
    let protocol = report
        .lines()
        .find_map(|l| l.trim().strip_prefix("Protocol  :"))
        .map(str::trim);
    Some(protocol.unwrap_or(from_new).to_owned())
}

/// The first PEM certificate in a text, as base64 without line breaks.
fn first_certificate(text: &str) -> Option<String> {
    let start = text.find("-----BEGIN CERTIFICATE-----")?;
    let body = &text[start + "-----BEGIN CERTIFICATE-----".len()..];
    let end = body.find("-----END CERTIFICATE-----")?;
    Some(body[..end].split_whitespace().collect())
}

// ---- the probes ---------------------------------------------------------------------

/// What one port answered.
#[derive(Clone, Debug, Default)]
struct PortReport {
    port: u16,
    greeting: String,
    /// EHLO before TLS (none on 465).
    ehlo_plain: Option<Reply>,
    /// EHLO inside TLS.
    ehlo_tls: Reply,
    /// `MAIL FROM` before TLS.
    mail_plain: Option<u16>,
    auth_right: Option<u16>,
    auth_wrong: Option<u16>,
    handshakes: Vec<Handshake>,
}

impl PortReport {
    fn accepts(&self, version: &str) -> bool {
        self.handshakes
            .iter()
            .any(|h| h.version == version && h.negotiated.is_some())
    }

    fn refused(&self) -> usize {
        self.handshakes
            .iter()
            .filter(|h| h.negotiated.is_none())
            .count()
    }
}

/// Port 25: the greeting, EHLO and MAIL before TLS, EHLO after STARTTLS, the handshakes.
fn probe_mx(tools: &Tools) -> PortReport {
    let mut plain = PlainSmtp::connect(25);
    let greeting = plain.reply();
    let ehlo_plain = plain.ehlo();
    let mail = plain.command("MAIL FROM:<a@example.org>");
    plain.quit();
    let mut tls = TlsSmtp::connect(tools, 25, true);
    let ehlo_tls = tls.ehlo();
    tls.quit();
    PortReport {
        port: 25,
        greeting: greeting.lines.join(" / "),
        ehlo_plain: Some(ehlo_plain),
        ehlo_tls,
        mail_plain: Some(mail.code),
        auth_right: None,
        auth_wrong: None,
        handshakes: handshakes(tools, 25, true),
    }
}

/// Port 587: EHLO and MAIL before STARTTLS; after it EHLO and AUTH with the right and,
/// on a second connection, a wrong password.
fn probe_submission(tools: &Tools) -> PortReport {
    let mut plain = PlainSmtp::connect(587);
    let greeting = plain.reply();
    let ehlo_plain = plain.ehlo();
    let mail = plain.command("MAIL FROM:<a@example.org>");
    plain.quit();
    let mut tls = TlsSmtp::connect(tools, 587, true);
    let ehlo_tls = tls.ehlo();
    let right = auth_plain(&mut tls, PASSWORD);
    tls.quit();
    let mut tls = TlsSmtp::connect(tools, 587, true);
    tls.ehlo();
    let wrong = auth_plain(&mut tls, "wrong-password");
    tls.quit();
    PortReport {
        port: 587,
        greeting: greeting.lines.join(" / "),
        ehlo_plain: Some(ehlo_plain),
        ehlo_tls,
        mail_plain: Some(mail.code),
        auth_right: Some(right),
        auth_wrong: Some(wrong),
        handshakes: handshakes(tools, 587, true),
    }
}

/// Port 465: TLS from the first byte, then the greeting, EHLO and AUTH inside it.
fn probe_submissions(tools: &Tools) -> PortReport {
    let mut tls = TlsSmtp::connect(tools, 465, false);
    let greeting = tls.reply();
    let ehlo_tls = tls.ehlo();
    let right = auth_plain(&mut tls, PASSWORD);
    tls.quit();
    PortReport {
        port: 465,
        greeting: greeting.lines.join(" / "),
        ehlo_plain: None,
        ehlo_tls,
        mail_plain: None,
        auth_right: Some(right),
        auth_wrong: None,
        handshakes: handshakes(tools, 465, false),
    }
}

// ---- expectations -------------------------------------------------------------------

/// Failed expectations of one scenario, reported together.
#[derive(Default)]
struct Checks(Vec<String>);

impl Checks {
    fn expect(&mut self, ok: bool, what: impl Into<String>) {
        if !ok {
            self.0.push(what.into());
        }
    }
}

/// What every port must answer, for the scenario's profile.
fn check_ports(checks: &mut Checks, scenario: &Scenario, reports: &[PortReport], cert: &str) {
    for r in reports {
        let port = r.port;
        checks.expect(
            r.greeting.starts_with("220 "),
            format!("port {port}: greeting {:?}, not 220", r.greeting),
        );
        if let Some(ehlo) = &r.ehlo_plain {
            checks.expect(
                ehlo.code == 250 && ehlo.offers("STARTTLS"),
                format!("port {port}: EHLO before TLS does not offer STARTTLS: {ehlo:?}"),
            );
            checks.expect(
                !ehlo.offers("AUTH"),
                format!("port {port}: EHLO before TLS offers AUTH: {ehlo:?}"),
            );
        }
        let auth_after_tls = port != 25;
        checks.expect(
            r.ehlo_tls.code == 250 && r.ehlo_tls.offers("AUTH") == auth_after_tls,
            format!(
                "port {port}: EHLO inside TLS should {}offer AUTH: {:?}",
                if auth_after_tls { "" } else { "not " },
                r.ehlo_tls
            ),
        );
        let (mail, right, wrong) = match port {
            25 => (Some(250), None, None),
            587 => (Some(530), Some(235), Some(535)),
            _ => (None, Some(235), None),
        };
        checks.expect(
            r.mail_plain == mail,
            format!(
                "port {port}: MAIL FROM before TLS got {:?}, expected {mail:?}",
                r.mail_plain
            ),
        );
        checks.expect(
            r.auth_right == right && r.auth_wrong == wrong,
            format!(
                "port {port}: AUTH PLAIN right/wrong password got {:?}/{:?}, expected {right:?}/{wrong:?}",
                r.auth_right, r.auth_wrong
            ),
        );
        check_versions(checks, scenario, r);
        let served: Vec<&Handshake> = r
            .handshakes
            .iter()
            .filter(|h| h.negotiated.is_some())
            .collect();
        checks.expect(
            !served.is_empty() && served.iter().all(|h| h.leaf.as_deref() == Some(cert)),
            format!("port {port}: the certificate served is not the generated one"),
        );
    }
}

/// Port 25 accepts TLS 1.2 and 1.3 (older ones are recorded only: it keeps Postfix's
/// defaults); 587 and 465 refuse every version below the profile's floor and accept the
/// floor and newer. Legacy's TLS 1.0 and 1.1 are recorded only: the system's OpenSSL
/// policy may refuse them on its own.
fn check_versions(checks: &mut Checks, scenario: &Scenario, r: &PortReport) {
    for (index, h) in r.handshakes.iter().enumerate() {
        if let Some(negotiated) = &h.negotiated {
            checks.expect(
                negotiated == h.version,
                format!(
                    "port {}: asked for {} and got {negotiated}",
                    r.port, h.version
                ),
            );
        }
        let below_floor = r.port != 25 && index < scenario.floor();
        let required = if below_floor {
            Some(false)
        } else {
            (index >= 2).then_some(true)
        };
        if let Some(accepted) = required {
            checks.expect(
                h.negotiated.is_some() == accepted,
                format!(
                    "port {}: a {} handshake should be {}",
                    r.port,
                    h.version,
                    if accepted { "accepted" } else { "refused" }
                ),
            );
        }
    }
}

/// The log lines that show a problem: every fatal and panic, and every warning except
/// those the test provokes itself, and no more of those than it provoked.
fn log_problems(log: &str, provoked: &[(&[&str], &str, usize)]) -> Vec<String> {
    let mut used = vec![0; provoked.len()];
    let mut problems = Vec::new();
    for line in log.lines() {
        if line.contains("fatal:") || line.contains("panic:") {
            problems.push(line.to_owned());
            continue;
        }
        if !line.contains("warning:") {
            continue;
        }
        let allowed = provoked.iter().position(|(tags, text, _)| {
            tags.iter().any(|t| line.contains(t)) && line.contains(text)
        });
        match allowed {
            Some(i) if used[i] < provoked[i].2 => used[i] += 1,
            _ => problems.push(line.to_owned()),
        }
    }
    problems
}

/// Checks the maillog against what the test did: refused handshakes and one wrong password.
fn check_log(checks: &mut Checks, log: &str, reports: &[PortReport]) {
    let refused: usize = reports.iter().map(PortReport::refused).sum();
    let wrong = reports.iter().filter(|r| r.auth_wrong.is_some()).count();
    let submission: &[&str] = &["postfix/submission/smtpd["];
    let provoked: [(&[&str], &str, usize); 3] = [
        // A handshake below the floor, refused by OpenSSL inside smtpd.
        (
            &SMTPD_TAGS,
            "warning: TLS library problem: error:0A000102:SSL routines::unsupported protocol:",
            refused,
        ),
        // The wrong password on 587: Cyrus SASL's line, then smtpd's.
        (
            submission,
            "warning: SASL authentication failure: Password verification failed",
            wrong,
        ),
        (
            submission,
            "warning: localhost[127.0.0.1]: SASL PLAIN authentication failed: authentication failure",
            wrong,
        ),
    ];
    for line in log_problems(log, &provoked) {
        checks.0.push(format!("maillog: {line}"));
    }
}

/// Files the effective smtpd certificate settings name that do not exist (the snakeoil
/// lines of Debian's main.cf.tls must not survive the edit).
fn missing_certificate_files(instance: &Instance, tools: &Tools) -> Vec<String> {
    let names = [
        "smtpd_tls_chain_files",
        "smtpd_tls_cert_file",
        "smtpd_tls_key_file",
        "smtpd_tls_eccert_file",
        "smtpd_tls_eckey_file",
        "smtpd_tls_dcert_file",
        "smtpd_tls_dkey_file",
    ];
    let mut args = vec!["-x"];
    args.extend(names);
    let values = instance.postconf(tools, &args);
    let mut missing = Vec::new();
    for line in values.lines() {
        let Some((name, value)) = line.split_once(" = ") else {
            continue;
        };
        for file in value.split([',', ' ', '\t']).filter(|f| f.starts_with('/')) {
            if !Path::new(file).exists() {
                missing.push(format!("{name} names a missing file: {file}"));
            }
        }
    }
    missing
}

/// Waits until the maillog has not grown for a moment (postlogd writes asynchronously).
fn wait_for_quiet_log(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut size = 0;
    let mut since = Instant::now();
    while Instant::now() < deadline {
        let now = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        if now != size {
            size = now;
            since = Instant::now();
        } else if since.elapsed() >= Duration::from_millis(300) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

// ---- the scenario -------------------------------------------------------------------

/// One scenario, from an empty temporary directory to a stopped Postfix; panics (after
/// printing the maillog) when an expectation fails.
fn run_scenario(tools: &Tools, scenario: &Scenario) {
    let name = scenario.name();
    common::visible(&format!("== {name}"));
    enter_network_namespace(tools);
    let instance = Instance::new(tools);
    instance.configure(scenario, tools);
    let mut checks = Checks::default();

    // What pflint generated, pflint's own check finds clean.
    let lint = run(
        common::pflint()
            .args(["check", "--fail-on", "info"])
            .arg(&instance.config),
        None,
    );
    common::visible(&format!(
        "  pflint check ({}):\n{}",
        lint.status,
        indent(lint.text().trim_end())
    ));
    if !lint.status.success() || !lint.stdout.contains("no problems found") {
        checks
            .0
            .push(format!("pflint check is not clean:\n{}", lint.text()));
    }
    let tls_settings: Vec<String> = instance
        .postconf(tools, &["-n"])
        .lines()
        .filter(|l| l.contains("tls") || l.contains("sasl"))
        .map(str::to_owned)
        .collect();
    common::visible(&format!(
        "  postconf -n (TLS, SASL):\n{}",
        indent(&tls_settings.join("\n"))
    ));
    for missing in missing_certificate_files(&instance, tools) {
        checks.0.push(missing);
    }

    // `postfix check` reports to its output and, as root, to the maillog.
    let before = read(&instance.maillog).len();
    let check = run(
        Command::new(&tools.postfix)
            .arg("-c")
            .arg(&instance.config)
            .arg("check"),
        None,
    );
    let logged = read(&instance.maillog)
        .get(before..)
        .unwrap_or("")
        .to_owned();
    let said = format!("{}{logged}", check.text());
    checks.expect(
        check.status.success() && !said.contains("fatal") && !said.contains("warning"),
        format!("postfix check ({}): {said}", check.status),
    );

    let mut running = Running::start(tools, &instance);
    let reports = [
        probe_mx(tools),
        probe_submission(tools),
        probe_submissions(tools),
    ];
    wait_for_quiet_log(&instance.maillog);
    running.stop();
    let log = read(&instance.maillog);

    let cert = first_certificate(&read(&instance.cert)).unwrap_or_default();
    common::visible(&table(&reports, &cert));
    check_ports(&mut checks, scenario, &reports, &cert);
    check_log(&mut checks, &log, &reports);
    if !checks.0.is_empty() {
        common::visible(&format!("maillog of {name}:\n{log}"));
        panic!(
            "{} failed expectations:\n- {}",
            checks.0.len(),
            checks.0.join("\n- ")
        );
    }
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A compact table of what each port answered.
fn table(reports: &[PortReport], cert: &str) -> String {
    let code = |c: Option<u16>| c.map_or("-".to_owned(), |c| c.to_string());
    let mut rows = vec![
        [
            "port",
            "EHLO before TLS",
            "EHLO inside TLS",
            "MAIL",
            "AUTH ok",
            "AUTH bad",
            "TLSv1",
            "TLSv1.1",
            "TLSv1.2",
            "TLSv1.3",
            "certificate",
        ]
        .map(str::to_owned)
        .to_vec(),
    ];
    for r in reports {
        let mut row = vec![
            r.port.to_string(),
            r.ehlo_plain.as_ref().map_or("-".to_owned(), Reply::summary),
            r.ehlo_tls.summary(),
            code(r.mail_plain),
            code(r.auth_right),
            code(r.auth_wrong),
        ];
        for (version, _) in VERSIONS {
            row.push(if r.accepts(version) { "ok" } else { "refused" }.to_owned());
        }
        let leaves: Vec<&str> = r
            .handshakes
            .iter()
            .filter_map(|h| h.leaf.as_deref())
            .collect();
        let served = if leaves.is_empty() {
            "none"
        } else if leaves.iter().all(|l| *l == cert) {
            "generated"
        } else {
            "OTHER"
        };
        row.push(served.to_owned());
        rows.push(row);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0))
        .collect();
    let mut text = String::new();
    for r in reports {
        let _ = writeln!(text, "  greeting on {}: {}", r.port, r.greeting);
    }
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        let _ = writeln!(text, "  {}", cells.join("  ").trim_end());
    }
    text
}
