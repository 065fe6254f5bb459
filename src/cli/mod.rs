//! Command-line definitions (clap) and the wiring from arguments to the library.

mod check;
mod dns;
mod generate;
mod probe;
mod rules;
mod show;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::diagnostic::Severity;
use crate::report::Format;

/// Lint Postfix main.cf and master.cf, TLS first, reading them exactly as Postfix does.
#[derive(Debug, Parser)]
#[command(name = "pflint", version, propagate_version = true)]
pub struct Cli {
    /// The largest file pflint reads: bytes, or with K, M or G (a FIFO, a device or a
    /// larger file is refused with a message).
    #[arg(long, global = true, value_name = "SIZE", default_value = "64M",
          value_parser = crate::input::files::parse_size)]
    max_file_size: u64,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check configuration directories or files and report problems.
    ///
    /// Exit status: 0 when nothing at or above --fail-on was found, 1 when something
    /// was, 2 for usage errors and unreadable paths.
    Check(CheckArgs),
    /// Print the configuration as postconf prints it (same flags, same bytes).
    ///
    /// Exit status: 0, or 1 when postconf would stop with a fatal error, 2 for usage
    /// errors and unreadable files.
    #[command(disable_help_flag = true)]
    Show(ShowArgs),
    /// Print recommended TLS settings for the host's roles at a profile: main.cf
    /// settings and master.cf services, rendered for the target Postfix version.
    ///
    /// Exit status: 0 (also when nothing needs to change), 1 when the existing files have
    /// syntax errors or --write is refused,
    /// 2 for usage errors (a role combination that cannot work, a version older than 3.3)
    /// and unreadable files.
    Generate(GenerateArgs),
    /// Print the DNS records the TLS setup needs: TLSA for every key smtpd uses (with a
    /// rollover to the next key), MTA-STS and TLS-RPT; or check published TLSA records.
    ///
    /// Exit status: 0, or 1 when a key smtpd uses (or the next key) has no published
    /// record (--check-tlsa), MTA-STS enforce is refused, or smtpd serves no key; 2 for
    /// usage errors and unreadable files.
    Dns(DnsArgs),
    /// Probe the running server: banner, EHLO, STARTTLS or implicit TLS, one handshake
    /// per key algorithm, and what it serves against the configuration's files.
    ///
    /// Only the targets named (or the configuration's own ports, on loopback) are reached.
    /// Exit status as for check: 0, 1 for findings at --fail-on or above, 2 for usage
    /// errors and unreadable files.
    Probe(ProbeArgs),
    /// Explain a rule: what it finds, why it matters, how to fix it, with examples.
    Explain(ExplainArgs),
    /// List every rule: code, severity, name and summary.
    Rules(RulesArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(CompletionsArgs),
    /// Print the manual page (roff), e.g. `pflint man > /usr/local/share/man/man1/pflint.1`.
    Man,
}

#[derive(Debug, clap::Args)]
struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

#[derive(Debug, clap::Args)]
struct ShowArgs {
    /// Configuration directory (default: $MAIL_CONFIG, or /etc/postfix).
    #[arg(short = 'c', value_name = "DIR")]
    config_dir: Option<PathBuf>,
    /// Show only parameters that main.cf sets.
    #[arg(short = 'n')]
    non_default: bool,
    /// Show default values.
    #[arg(short = 'd')]
    defaults: bool,
    /// Expand $name in values.
    #[arg(short = 'x')]
    expand: bool,
    /// Fold long lines.
    #[arg(short = 'f')]
    fold: bool,
    /// Show values without names.
    #[arg(short = 'h')]
    hide_name: bool,
    /// Show names without values.
    #[arg(short = 'H')]
    hide_value: bool,
    /// Show master.cf entries.
    #[arg(short = 'M')]
    master_entries: bool,
    /// Show master.cf -o parameters (service/type/name = value).
    #[arg(short = 'P')]
    master_params: bool,
    /// Target Postfix version (default: the installed postconf's, else the newest stable).
    #[arg(long, value_name = "X.Y")]
    postfix_version: Option<String>,
    /// Print help.
    #[arg(long, action = clap::ArgAction::Help)]
    help: Option<bool>,
    /// Parameter names, or service[/type[/name]] patterns with -M or -P.
    #[arg(value_name = "NAME")]
    names: Vec<String>,
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// Configuration directories (main.cf, and master.cf when present) or single files
    /// (a file named master.cf is read as master.cf, any other as main.cf).
    /// Default: $MAIL_CONFIG, or /etc/postfix.
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,

    /// Lowest severity that makes the check exit with status 1.
    #[arg(long, value_enum, default_value_t = Severity::Warning, value_name = "SEVERITY")]
    fail_on: Severity,

    /// Target Postfix version (default: `postfix-version` of .pflint.yaml, else the
    /// installed postconf's, else the newest stable release).
    #[arg(long, value_name = "X.Y")]
    postfix_version: Option<String>,

    /// Report only these rules: codes, code prefixes (`PF2`) or names, comma-separated or
    /// repeated (`--select PF2,PF301`); the next word after the list is a path again.
    #[arg(long, value_name = "CODE", value_delimiter = ',')]
    select: Vec<String>,

    /// Never report these rules (wins over --select and adds to `disable` of
    /// .pflint.yaml); comma-separated or repeated.
    #[arg(long, value_name = "CODE", value_delimiter = ',')]
    ignore: Vec<String>,

    /// Settings file to use instead of the nearest .pflint.yaml above each path.
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    config: Option<PathBuf>,

    /// Ignore .pflint.yaml files.
    #[arg(long)]
    no_config: bool,

    /// Apply the safe fixes, write the files (atomically, mode and owner kept) and report
    /// what remains; nothing is written when the result would have a new error.
    #[arg(long)]
    fix: bool,

    /// With --fix or --diff: also apply the fixes marked "review before applying" (they
    /// change what mail is accepted or delivered).
    #[arg(long)]
    unsafe_fixes: bool,

    /// Print the fixes as a unified diff instead of writing them (exit 1 when there is
    /// one).
    #[arg(long)]
    diff: bool,

    /// Read the certificate, key and CA files the configuration names and check them
    /// (on by default for the live configuration: no PATH, $MAIL_CONFIG or /etc/postfix).
    #[arg(long, conflicts_with = "no_files")]
    files: bool,

    /// Do not read the certificate, key and CA files.
    #[arg(long)]
    no_files: bool,

    /// Read every absolute path the configuration names under DIR (a repository that
    /// mirrors `/`, an unpacked container image); implies --files.
    #[arg(long, value_name = "DIR", conflicts_with = "no_files")]
    root: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct GenerateArgs {
    /// What the host does: mx, submission, outbound, relay-client (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',', required = true, num_args = 1..)]
    role: Vec<crate::generate::Role>,

    /// How strict mandatory TLS is: modern, intermediate or legacy (see README).
    #[arg(long, default_value = "intermediate")]
    profile: String,

    /// Target Postfix version (default: the installed postconf's, else the newest stable).
    #[arg(long, value_name = "X.Y")]
    postfix_version: Option<String>,

    /// PEM file with the server's private key, certificate and chain (repeat for an
    /// RSA and an ECDSA one); Postfix 3.4 and later.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["cert", "key"])]
    chain: Vec<String>,

    /// Server certificate file (with its chain); goes with --key.
    #[arg(long, value_name = "FILE", requires = "key")]
    cert: Option<String>,

    /// Server private key file; goes with --cert.
    #[arg(long, value_name = "FILE", requires = "cert")]
    key: Option<String>,

    /// Outbound: DANE with DNSSEC lookups (needs a DNSSEC-validating resolver).
    #[arg(long)]
    dane: bool,

    /// relay-client: the relay host, `[host]:port` (port 587 when omitted).
    #[arg(long, value_name = "HOST")]
    relayhost: Option<String>,

    /// submission: the SASL backend that checks passwords, `dovecot` (socket
    /// `private/auth`), `dovecot:SOCKET` or `cyrus`; without it the configured one is kept.
    #[arg(long, value_name = "BACKEND")]
    sasl: Option<crate::generate::Sasl>,

    /// An existing configuration directory: compute the edits that bring its main.cf and
    /// master.cf to the plan (shown as a diff unless --write is given).
    #[arg(short = 'c', value_name = "DIR")]
    config_dir: Option<PathBuf>,

    /// With -c: print the edits as a unified diff (`git apply`, `patch -p1` in DIR).
    #[arg(long, requires = "config_dir", conflicts_with = "write")]
    diff: bool,

    /// With -c: replace the files atomically (mode, owner, ACLs and extended attributes
    /// kept); refused, with nothing changed, when the result would not parse or would have
    /// new error findings, or when a file changed since it was read.
    #[arg(long, requires = "config_dir")]
    write: bool,
}

#[derive(Debug, clap::Args)]
struct ProbeArgs {
    /// HOST, HOST:PORT or [IPv6]:PORT (port 25 by default; 465 is implicit TLS). Without
    /// one, every inet smtpd service of the configuration, on its address (loopback where
    /// it listens on all).
    #[arg(value_name = "TARGET")]
    targets: Vec<String>,

    /// Configuration directory to compare with (default: $MAIL_CONFIG, or /etc/postfix,
    /// when no TARGET is given).
    #[arg(short = 'c', value_name = "DIR")]
    config_dir: Option<PathBuf>,

    /// The name to send as SNI and check the certificate for (default: the host given,
    /// or myhostname).
    #[arg(long, value_name = "NAME")]
    server_name: Option<String>,

    /// Seconds to wait for the connection, and for each reply or handshake.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    timeout: u64,

    /// Published TLSA records (zone-file lines or dig output) to match the served keys
    /// against (default: tlsa / tlsa-file of .pflint.yaml).
    #[arg(long, value_name = "FILE")]
    tlsa: Option<PathBuf>,

    /// Read every absolute path the configuration names under DIR.
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,

    /// Lowest severity that makes the probe exit with status 1.
    #[arg(long, value_enum, default_value_t = Severity::Warning, value_name = "SEVERITY")]
    fail_on: Severity,
}

#[derive(Debug, clap::Args)]
struct DnsArgs {
    /// Configuration directory (default: $MAIL_CONFIG, or /etc/postfix).
    #[arg(short = 'c', value_name = "DIR")]
    config_dir: Option<PathBuf>,

    /// Mail domain for the MTA-STS and TLS-RPT records (default: mydomain); repeatable.
    #[arg(long, value_name = "DOMAIN")]
    domain: Vec<String>,

    /// MX host name this server answers as (default: mx-names of .pflint.yaml, else
    /// myhostname); repeatable.
    #[arg(long, value_name = "HOST")]
    mx: Vec<String>,

    /// TTL of the records, in seconds (the rollover waits twice as long).
    #[arg(long, value_name = "SECONDS", default_value_t = 3600)]
    ttl: u32,

    /// TCP ports to publish TLSA records for (465 and 587 for submission), comma-separated.
    #[arg(long, value_name = "PORT", value_delimiter = ',', default_value = "25")]
    ports: Vec<u16>,

    /// Also a 2 1 1 record for the CA that issued each certificate (it breaks when the CA
    /// changes its intermediate).
    #[arg(long)]
    issuer: bool,

    /// The key (or certificate, or chain file) that will replace the current one: print
    /// its records beside the current ones, with the rollover steps; repeatable.
    #[arg(long, value_name = "FILE", visible_alias = "next-chain")]
    next_key: Vec<PathBuf>,

    /// Published TLSA records (zone-file lines or dig output; `-` reads standard input):
    /// report whether each key smtpd uses, and each --next-key, has a matching record.
    #[arg(long, value_name = "FILE")]
    check_tlsa: Option<PathBuf>,

    /// MTA-STS mode; enforce is refused when the MX would fail the policy.
    #[arg(long, value_enum, value_name = "MODE", default_value = "testing")]
    mta_sts: crate::dns::mta_sts::Mode,

    /// MTA-STS max_age, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 604_800)]
    max_age: u32,

    /// TLS-RPT report address (mailto:ADDRESS or https://…); repeatable.
    #[arg(long, value_name = "URI")]
    rua: Vec<String>,

    /// Read every absolute path the configuration names under DIR.
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,

    /// The CA certificates senders trust, for the MTA-STS check (default: the system
    /// bundle, /etc/ssl/certs/ca-certificates.crt).
    #[arg(long, value_name = "FILE")]
    ca_file: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value = "zone")]
    format: dns::DnsFormat,
}

#[derive(Debug, clap::Args)]
struct ExplainArgs {
    /// A rule code (PF201) or name (mandatory-tls-on-public-mx).
    #[arg(value_name = "CODE")]
    rule: String,
}

#[derive(Debug, clap::Args)]
struct RulesArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = rules::TableFormat::Table)]
    format: rules::TableFormat,
}

/// Runs the command line and returns the exit status.
pub fn run(cli: Cli) -> ExitCode {
    crate::input::files::set_limit(cli.max_file_size);
    match cli.command {
        Command::Check(args) => check::run(args),
        Command::Show(args) => show::run(args),
        Command::Generate(args) => generate::run(args),
        Command::Dns(args) => dns::run(args),
        Command::Probe(args) => probe::run(args),
        Command::Explain(args) => rules::explain(&args.rule),
        Command::Rules(args) => rules::list(args.format),
        Command::Completions(args) => {
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(args.shell, &mut command, "pflint", &mut script);
            emit(&script)
        }
        Command::Man => {
            let command = <Cli as clap::CommandFactory>::command();
            let mut page = Vec::new();
            match clap_mangen::Man::new(command).render(&mut page) {
                Ok(()) => emit(&page),
                Err(e) => {
                    eprintln!("pflint: cannot render the manual page: {e}");
                    ExitCode::from(2)
                }
            }
        }
    }
}

/// The configuration directory Postfix would read (`-c DIR`, else `$MAIL_CONFIG`, else
/// /etc/postfix), and the value of config_directory that makes: the directory given, or
/// none for Postfix's compiled-in default.
fn config_dir(given: Option<&std::path::Path>) -> (PathBuf, Option<Vec<u8>>) {
    match given {
        Some(dir) => (
            dir.to_owned(),
            Some(dir.as_os_str().as_encoded_bytes().to_vec()),
        ),
        None => match std::env::var_os("MAIL_CONFIG").filter(|d| !d.is_empty()) {
            Some(dir) => {
                let bytes = dir.as_encoded_bytes().to_vec();
                (PathBuf::from(dir), Some(bytes))
            }
            None => (PathBuf::from("/etc/postfix"), None),
        },
    }
}

/// Writes generated text to stdout; a closed pipe is the reader's choice.
/// Why an edit of `what` is refused, for stderr: the errors its result would have (the
/// first few: a large file's result may have one for each of its settings).
fn refusal(verb: &str, what: &str, introduced: &[String]) -> String {
    const SHOWN: usize = 20;
    let mut text = format!("pflint: not {verb} {what}: the result would have these errors:\n");
    for line in introduced.iter().take(SHOWN) {
        text.push_str(&format!("  {line}\n"));
    }
    if introduced.len() > SHOWN {
        text.push_str(&format!("  … and {} more\n", introduced.len() - SHOWN));
    }
    text
}

fn emit(bytes: &[u8]) -> ExitCode {
    use std::io::Write as _;
    match std::io::stdout().lock().write_all(bytes) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            eprintln!("pflint: cannot write: {e}");
            ExitCode::from(2)
        }
        _ => ExitCode::SUCCESS,
    }
}

/// The Postfix version to judge against, and where it came from: the one given
/// (`--postfix-version`, else `postfix-version` of the settings file), else the installed
/// postconf's, else the newest stable release the parameter table knows. A given version
/// must be a release line Postfix has had; the installed one is taken as it is (a Postfix
/// newer than pflint is judged with everything pflint knows).
fn target(
    flag: Option<&str>,
    settings: Option<(&str, &std::path::Path)>,
) -> Result<crate::model::version::Target, String> {
    use crate::model::version::{Target, VersionSource};
    let releases = crate::model::params::table().releases;
    let given = match (flag, settings) {
        (Some(text), _) => Some((text, VersionSource::Flag)),
        (None, Some((text, file))) => Some((text, VersionSource::Settings(file.to_owned()))),
        (None, None) => None,
    };
    if let Some((text, source)) = given {
        let located = |e: String| match &source {
            VersionSource::Settings(file) => format!("{}: postfix-version: {e}", file.display()),
            _ => format!("--postfix-version: {e}"),
        };
        let version: crate::model::Version = text
            .parse()
            .map_err(|e: crate::model::version::BadVersion| located(e.to_string()))?;
        let note = releases
            .check(version)
            .map_err(|e| located(e.to_string()))?;
        return Ok(Target {
            version,
            source,
            note,
        });
    }
    if let Some((path, version)) = crate::host::installed::postconf() {
        let note = releases
            .check(*version)
            .unwrap_or_else(|e| Some(format!("{e}; judged with everything pflint knows")));
        return Ok(Target {
            version: *version,
            source: VersionSource::Installed(path.clone()),
            note,
        });
    }
    Ok(Target {
        version: crate::model::params::table().latest_stable,
        source: VersionSource::NewestKnown,
        note: None,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_refusal_names_the_first_errors_and_counts_the_rest() {
        let errors: Vec<String> = (1..=25).map(|n| format!("main.cf: error {n}")).collect();
        let text = super::refusal("writing", "/etc/postfix", &errors);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 22);
        assert_eq!(
            lines[0],
            "pflint: not writing /etc/postfix: the result would have these errors:"
        );
        assert_eq!(lines[20], "  main.cf: error 20");
        assert_eq!(lines[21], "  … and 5 more");
        assert_eq!(
            super::refusal("fixing", "main.cf", &errors[..2])
                .lines()
                .count(),
            3
        );
    }
}
