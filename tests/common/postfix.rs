//! Machinery for the tests that start the real Postfix: finding the programs, running
//! commands with a time limit, a private network namespace per scenario thread, an
//! instance whose files all live in a temporary directory, a started instance that is
//! stopped when dropped, and plain SMTP dialogues.
//!
//! Each scenario runs in a thread of its own that first enters a new network namespace
//! ([`enter_network_namespace`]): on Linux namespaces belong to threads, and the processes
//! the thread spawns and the sockets it opens inherit its namespace. An instance therefore
//! listens on the standard ports of a loopback nothing else shares, and whatever runs in
//! that namespace was started by the scenario ([`processes_in_namespace`]).

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// The instances' `myhostname`, and the name their certificates are made for.
pub const HOSTNAME: &str = "mail.example.test";
/// How long a reply, a handshake or a helper command may take before the test gives up.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// Debian's stock master.cf (its postinst installs it as /etc/postfix/master.cf).
pub const DEBIAN_MASTER: &str = "/usr/share/postfix/master.cf.dist";
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

// ---- requirements -------------------------------------------------------------------

/// The programs a test runs, by absolute path: those every Postfix test needs, and the
/// test's own further ones ([`Tools::program`]).
#[derive(Clone, Debug)]
pub struct Tools {
    pub postfix: PathBuf,
    pub postconf: PathBuf,
    pub postalias: PathBuf,
    pub openssl: PathBuf,
    pub ip: PathBuf,
    further: Vec<(String, PathBuf)>,
}

impl Tools {
    /// Root, Postfix, openssl, ip, the further `programs` (name and package) and `files`
    /// the test named `test` needs, or `None` (after a visible message) when something is
    /// missing; `PFLINT_REQUIRE_POSTFIX=1` turns that into a failure.
    pub fn find(test: &str, programs: &[(&str, &str)], files: &[&str]) -> Option<Tools> {
        let (postconf, _version) = super::installed_postconf()?;
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
        let mut tools = Tools {
            postfix: find("postfix", "postfix"),
            postalias: find("postalias", "postfix"),
            openssl: find("openssl", "openssl"),
            ip: find("ip", "iproute2"),
            postconf,
            further: Vec::new(),
        };
        for (name, package) in programs {
            let path = find(name, package);
            tools.further.push(((*name).to_owned(), path));
        }
        for file in files {
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
            "PFLINT_REQUIRE_POSTFIX=1 but the {test} cannot run: {reason}"
        );
        super::visible(&format!(
            "SKIPPED: {test}: {reason} (PFLINT_REQUIRE_POSTFIX=1 makes this a failure)"
        ));
        None
    }

    /// One of the further programs [`Tools::find`] was asked for.
    pub fn program(&self, name: &str) -> &Path {
        self.further
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, path)| path.as_path())
            .unwrap_or_else(|| panic!("Tools::find was not asked for `{name}`"))
    }
}

/// `name` in `$PATH`, in Postfix's command directory or in the usual system directories.
pub fn on_path(name: &str, sbin: &Path) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([sbin.to_owned()])
        .chain(["/usr/sbin", "/usr/bin", "/sbin", "/bin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

// ---- scenarios ----------------------------------------------------------------------

/// Runs every scenario in a thread of its own, one after the other, and fails the test
/// after the last when any of them panicked, with each one's name and message.
pub fn run_scenarios<S: Send + 'static>(
    tools: &Tools,
    scenarios: Vec<S>,
    name: fn(&S) -> String,
    run: fn(&Tools, &S),
) {
    let count = scenarios.len();
    let mut failures = Vec::new();
    for scenario in scenarios {
        let name = name(&scenario);
        let tools = tools.clone();
        let outcome = std::thread::Builder::new()
            .name(name.clone())
            .spawn(move || run(&tools, &scenario))
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

/// Failed expectations of one scenario, reported together.
#[derive(Default)]
pub struct Checks(pub Vec<String>);

impl Checks {
    /// Records `what` unless `ok`.
    pub fn expect(&mut self, ok: bool, what: impl Into<String>) {
        if !ok {
            self.0.push(what.into());
        }
    }
}

/// `text` with every line indented by four spaces.
pub fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

// ---- running commands ---------------------------------------------------------------

/// What a finished command printed.
pub struct Ran {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    /// Its stdout, then its stderr.
    pub fn text(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs a command with `input` on its stdin (none: /dev/null), killed after `limit`.
/// Output goes to files, not pipes, so a daemon that keeps them open (the Postfix master
/// started by `postfix start`) cannot make the test wait.
pub fn try_run(command: &mut Command, input: Option<&str>, limit: Duration) -> Result<Ran, String> {
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
pub fn wait_for(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
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
pub fn run(command: &mut Command, input: Option<&str>) -> Ran {
    try_run(command, input, 3 * TIMEOUT).unwrap_or_else(|e| panic!("{e}"))
}

/// [`run`], failing the test unless the command succeeds.
pub fn run_ok(command: &mut Command, input: Option<&str>) -> Ran {
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

/// Whether `done` becomes true within `limit`, asked every 50 ms.
pub fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while !done() {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    true
}

// ---- files --------------------------------------------------------------------------

/// Writes a file, failing the test when it cannot.
pub fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// A file's text (invalid UTF-8 replaced), or "" when it cannot be read.
pub fn read(path: &Path) -> String {
    std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// Creates a directory and its parents, mode 0755.
pub fn mkdir(path: &Path) {
    std::fs::create_dir_all(path).unwrap_or_else(|e| panic!("mkdir {}: {e}", path.display()));
    chmod(path, 0o755);
}

/// Sets a file's permission bits.
pub fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

/// Copies a file and gives the copy `mode`.
pub fn copy(from: &Path, to: &Path, mode: u32) {
    std::fs::copy(from, to)
        .unwrap_or_else(|e| panic!("copy {} to {}: {e}", from.display(), to.display()));
    chmod(to, mode);
}

/// A new private key (`newkey`: `openssl req -newkey`'s argument, `rsa:2048`, `ec`, …)
/// in `key`, mode 0600, unencrypted PKCS#8, and a certificate for it in `cert`,
/// self-signed for [`HOSTNAME`] with that name as subjectAltName, valid for `days`;
/// `options` go to `openssl req` too (`-pkeyopt ec_paramgen_curve:prime256v1`,
/// `-addext …`).
pub fn self_signed(
    tools: &Tools,
    newkey: &str,
    options: &[&str],
    days: u32,
    key: &Path,
    cert: &Path,
) {
    let subject = format!("/CN={HOSTNAME}");
    let san = format!("subjectAltName=DNS:{HOSTNAME}");
    run_ok(
        Command::new(&tools.openssl)
            .args(["req", "-x509", "-newkey", newkey])
            .args(options)
            .args(["-nodes", "-days", &days.to_string()])
            .args(["-subj", &subject, "-addext", &san, "-keyout"])
            .arg(key)
            .arg("-out")
            .arg(cert),
        None,
    );
    chmod(key, 0o600);
}

// ---- the instance -------------------------------------------------------------------

/// A Postfix instance's files, all in one temporary directory (removed when dropped).
pub struct Instance {
    /// The temporary directory.
    pub root: PathBuf,
    /// `<root>/config`: main.cf, master.cf; Postfix's `-c`.
    pub config: PathBuf,
    /// `<root>/queue`: queue_directory, and the chroot of the chrooted services.
    pub queue: PathBuf,
    /// `<root>/maillog`: maillog_file.
    pub maillog: PathBuf,
    _tmp: TempDir,
}

impl Instance {
    /// The directories `config`, `queue` and `dirs` (relative to the root) and the
    /// chroot's files; no main.cf yet. data_directory is left to `postfix start`, which
    /// creates it owned by postfix.
    pub fn new(dirs: &[&str]) -> Instance {
        let tmp = TempDir::new().expect("a temporary directory");
        // The postfix user must reach the queue and the maps (and a test's own files).
        chmod(tmp.path(), 0o755);
        let root = tmp.path().to_owned();
        let instance = Instance {
            config: root.join("config"),
            queue: root.join("queue"),
            maillog: root.join("maillog"),
            root,
            _tmp: tmp,
        };
        for dir in ["config", "queue"].iter().chain(dirs) {
            mkdir(&instance.root.join(dir));
        }
        instance.populate_chroot();
        instance
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

    /// The main.cf lines that keep the instance in its directory: queue, data and log.
    /// postlogd writes maillog_file only under a maillog_file_prefixes entry, and needs
    /// master.cf's `postlog unix-dgram` service (Debian's stock master.cf has it).
    pub fn own_settings(&self) -> String {
        let root = self.root.display();
        format!(
            "\n# The test instance's own paths.\n\
             queue_directory = {queue}\n\
             data_directory = {root}/data\n\
             maillog_file = {maillog}\n\
             maillog_file_prefixes = {root}\n",
            queue = self.queue.display(),
            maillog = self.maillog.display(),
        )
    }

    /// Cyrus SASL for this instance: a sasldb holding `login` (`user@realm`) with
    /// `password`, and the smtpd.conf that points smtpd at it.
    pub fn make_sasl(&self, tools: &Tools, login: &str, password: &str) {
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
        let config = &self.config;
        mkdir(&config.join("sasl"));
        write(&config.join("sasl/smtpd.conf"), &conf);
        let (user, realm) = login.split_once('@').unwrap_or((login, ""));
        run_ok(
            Command::new(tools.program("saslpasswd2"))
                .args(["-p", "-c", "-f"])
                .arg(&db)
                .args(["-u", realm, user]),
            Some(&format!("{password}\n")),
        );
        let chgrp = tools.program("chgrp");
        run_ok(Command::new(chgrp).arg("postfix").arg(&db), None);
        chmod(&db, 0o640);
        // A chrooted smtpd opens the database inside the queue directory: a copy at the
        // same absolute path there.
        let queue = &self.queue;
        let jailed = queue.join(db.strip_prefix("/").unwrap_or(&db));
        mkdir(jailed.parent().unwrap_or(queue));
        copy(&db, &jailed, 0o640);
        run_ok(Command::new(chgrp).arg("postfix").arg(&jailed), None);
    }

    /// The alias file main.cf names as `hash:` alias_maps and alias_database.
    pub fn aliases(&self) -> PathBuf {
        self.root.join("aliases")
    }

    /// After main.cf and master.cf are written: the alias database (`postmaster: root`,
    /// built by postalias), and both files aged so that Postfix does not wait on them
    /// ([`super::age_config`]).
    pub fn finish_config(&self, tools: &Tools) {
        write(&self.aliases(), "postmaster: root\n");
        run_ok(
            Command::new(&tools.postalias)
                .arg("-c")
                .arg(&self.config)
                .arg(self.aliases()),
            None,
        );
        super::age_config(&self.config);
    }

    /// What `postconf -c <config> ARGS` prints; fails the test unless it succeeds.
    pub fn postconf(&self, tools: &Tools, args: &[&str]) -> String {
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

// ---- the running Postfix ------------------------------------------------------------

/// A started Postfix instance, stopped when dropped: also when the test panics (after
/// printing the maillog).
pub struct Running<'a> {
    tools: &'a Tools,
    instance: &'a Instance,
    stopped: bool,
}

impl<'a> Running<'a> {
    /// `postfix start`, then waits until something listens on each of `ports`. The guard
    /// exists before the start, so that a half-started instance is stopped too.
    pub fn start(tools: &'a Tools, instance: &'a Instance, ports: &[u16]) -> Running<'a> {
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
            if ports.iter().all(|p| listening.contains(p)) {
                break running;
            }
            assert!(
                Instant::now() < deadline,
                "Postfix listens on {listening:?}, not on {ports:?}\nmaillog:\n{}",
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
    /// children on their way out) is waited for, and killed when it lingers. Only the
    /// first call does anything.
    pub fn stop(&mut self) {
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
            super::visible(&format!(
                "WARNING: processes of the test's Postfix did not stop: {:?}",
                processes_in_namespace()
            ));
        }
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() && !self.stopped {
            super::visible(&format!(
                "maillog of the failed scenario:\n{}",
                read(&self.instance.maillog)
            ));
        }
        self.stop();
    }
}

/// Waits until the maillog has not grown for a moment (postlogd writes asynchronously),
/// three seconds at most.
pub fn wait_for_quiet_log(path: &Path) {
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

// ---- the network namespace ----------------------------------------------------------

/// Moves this thread into a new network namespace with nothing but a loopback that is up.
pub fn enter_network_namespace(tools: &Tools) {
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

/// The processes in this thread's network namespace: only what the scenario started
/// (Postfix, openssl) can be there. Exited processes (zombies) no longer have one.
pub fn processes_in_namespace() -> Vec<i32> {
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

/// The TCP ports with a listening socket in this thread's network namespace.
pub fn listening_ports() -> Vec<u16> {
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

// ---- SMTP dialogues -----------------------------------------------------------------

/// One SMTP reply: its code and its lines, CR LF removed.
#[derive(Clone, Debug, Default)]
pub struct Reply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl Reply {
    /// The EHLO keywords (upper case), the greeting line left out.
    pub fn keywords(&self) -> Vec<String> {
        self.lines
            .iter()
            .skip(1)
            .filter_map(|l| l.get(4..))
            .filter_map(|t| t.split_whitespace().next())
            .map(str::to_ascii_uppercase)
            .collect()
    }

    /// Whether an EHLO reply offers `keyword` (upper case).
    pub fn offers(&self, keyword: &str) -> bool {
        self.keywords().iter().any(|k| k == keyword)
    }
}

/// Whether a reply line is the last of its reply (`NNN text` or `NNN`).
pub fn is_final(line: &str) -> bool {
    let bytes = line.as_bytes();
    bytes.len() >= 3
        && bytes[..3].iter().all(u8::is_ascii_digit)
        && bytes.get(3).is_none_or(|b| *b == b' ')
}

/// A reply from its lines; its code is the last line's (0 when that has none).
pub fn parse_reply(lines: Vec<String>) -> Reply {
    let code = lines
        .last()
        .and_then(|l| l.get(..3))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    Reply { code, lines }
}

/// An SMTP client that sends one command and waits for its whole reply before the next.
pub trait Smtp {
    /// Sends one command line (without line ending).
    fn send(&mut self, line: &str);
    /// The next reply; fails the test after [`TIMEOUT`] or when the server hangs up.
    fn reply(&mut self) -> Reply;

    /// Sends a command and returns its reply.
    fn command(&mut self, line: &str) -> Reply {
        self.send(line);
        self.reply()
    }

    /// `EHLO client.example.org`.
    fn ehlo(&mut self) -> Reply {
        self.command("EHLO client.example.org")
    }

    /// `QUIT`, and its reply read (whatever it is).
    fn quit(&mut self) {
        self.send("QUIT");
        let _ = self.reply();
    }
}

/// SMTP over a plain TCP connection to 127.0.0.1.
pub struct PlainSmtp {
    reader: BufReader<TcpStream>,
    port: u16,
}

impl PlainSmtp {
    /// Connects to 127.0.0.1 at `port`, with [`TIMEOUT`] for reads and writes.
    pub fn connect(port: u16) -> PlainSmtp {
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

// ---- openssl s_client's report ------------------------------------------------------

/// The negotiated version in s_client's report: "New, (NONE), …" when refused; else the
/// session's "Protocol :" line, or for TLS 1.3 (whose session s_client reports later)
/// the "New, TLSv1.3" line.
pub fn negotiated(report: &str) -> Option<String> {
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
pub fn first_certificate(text: &str) -> Option<String> {
    let start = text.find("-----BEGIN CERTIFICATE-----")?;
    let body = &text[start + "-----BEGIN CERTIFICATE-----".len()..];
    let end = body.find("-----END CERTIFICATE-----")?;
    Some(body[..end].split_whitespace().collect())
}
