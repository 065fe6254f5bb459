//! `pflint probe`.

use std::io::{self, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use super::ProbeArgs;
use crate::diagnostic::Checked;
use crate::input::config_dir::ConfigDir;
use crate::input::settings::Settings;
use crate::material::{Reading, Where};
use crate::probe::judge::{self, Against};
use crate::probe::smtp::Limits;
use crate::probe::{Target, targets};
use crate::report::{self, Style};
use crate::source::{FileKind, SourceFile};
use crate::tlsa::zone::{self, Published};

/// Exit status for usage errors and unreadable files.
const TROUBLE: u8 = 2;

pub(super) fn run(args: ProbeArgs) -> ExitCode {
    match probe_all(&args) {
        Ok(checked) => {
            let stdout = io::stdout();
            let style = if stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none() {
                Style::Color
            } else {
                Style::Plain
            };
            let mut out = io::BufWriter::new(stdout.lock());
            let seen = if args.format == report::Format::Human {
                seen(&checked, &mut out)
            } else {
                Ok(())
            };
            let written = seen
                .and_then(|()| report::write(args.format, style, &checked, &mut out))
                .and_then(|()| out.flush());
            if let Err(e) = written
                && e.kind() != io::ErrorKind::BrokenPipe
            {
                eprintln!("pflint: cannot write the report: {e}");
                return ExitCode::from(TROUBLE);
            }
            ExitCode::from(u8::from(report::fails(&checked, args.fail_on)))
        }
        Err(message) => {
            eprintln!("pflint: {message}");
            ExitCode::from(TROUBLE)
        }
    }
}

/// What each probe saw of TLS, for people: the transcript's `TLS:` lines under the
/// target's name (the findings point into the same transcript).
fn seen(checked: &[Checked], out: &mut dyn Write) -> io::Result<()> {
    for c in checked {
        writeln!(out, "{}", c.file.name().display())?;
        let text = String::from_utf8_lossy(c.file.bytes());
        let mut any = false;
        for line in text.lines().filter_map(|l| l.strip_prefix("TLS: ")) {
            any = true;
            writeln!(out, "  {line}")?;
        }
        if !any {
            writeln!(out, "  no TLS")?;
        }
    }
    writeln!(out)
}

fn probe_all(args: &ProbeArgs) -> Result<Vec<Checked>, String> {
    let limits = Limits {
        connect: Duration::from_secs(args.timeout.max(1)),
        reply: Duration::from_secs(args.timeout.max(1)),
        ..Limits::default()
    };
    let version = super::target(None, None)?;
    // A configuration is read when one is named, or when no target is: then its ports
    // are the targets.
    let use_config = args.config_dir.is_some() || args.targets.is_empty();
    let loaded = if use_config {
        let (dir, config_directory) = super::config_dir(args.config_dir.as_deref());
        let loaded = ConfigDir::read(&dir).map_err(|e| e.to_string())?;
        if loaded.main.is_none() {
            return Err(format!("{}: no main.cf", dir.display()));
        }
        Some((dir, config_directory, loaded))
    } else {
        None
    };
    let stock = loaded
        .as_ref()
        .filter(|(_, _, l)| l.master.is_none())
        .map(|_| crate::input::config_dir::stock_master());
    let host = crate::model::HostFacts::assumed();
    let config = loaded.as_ref().map(|(_, config_directory, l)| {
        l.model_with_master(
            stock.as_ref().or(l.master.as_ref()),
            version.version,
            &host,
            config_directory.clone(),
            false,
        )
    });
    let tls = match (&config, &loaded) {
        (Some(config), Some((dir, _, _))) => {
            let reading = Reading {
                enabled: true,
                root: args.root.clone(),
                owners_matter: false,
                ..Reading::default()
            };
            crate::material::gather(config, &Where::Live(dir.clone()), &reading).tls
        }
        _ => None,
    };
    let published = published_tlsa(args, loaded.as_ref().map(|(dir, _, _)| dir.as_path()))?;
    let mut wanted: Vec<Target> = Vec::new();
    for given in &args.targets {
        let mut target = targets::parse(given, args.server_name.as_deref())?;
        if let Some(config) = &config {
            // The configuration's service on that port decides what to expect.
            let from = targets::from_config(config);
            if let Some(known) = from.iter().find(|t| t.port == target.port) {
                target.service = known.service;
                target.implicit_tls = known.implicit_tls;
                if args.server_name.is_none() && target.host.parse::<std::net::IpAddr>().is_ok() {
                    target.server_name.clone_from(&known.server_name);
                }
            }
        }
        wanted.push(target);
    }
    if args.targets.is_empty() {
        if let Some(config) = &config {
            wanted = targets::from_config(config);
            if let Some(name) = &args.server_name {
                for t in &mut wanted {
                    t.server_name.clone_from(name);
                }
            }
        }
        if wanted.is_empty() {
            return Err(
                "the configuration has no inet smtpd service with a port to probe; name a TARGET"
                    .to_owned(),
            );
        }
    }
    let against = Against {
        tls: tls.as_ref(),
        tlsa: published.as_deref(),
        now: crate::material::Expectations::default().now,
    };
    let mut checked = Vec::new();
    for target in &wanted {
        let algorithms = judge::algorithms(&against, target);
        let probe = crate::probe::probe(target, &algorithms, &limits);
        let mut findings = judge::judge(&probe, target, &against);
        if let (Some(config), Some(service)) = (&config, target.service) {
            let name = String::from_utf8_lossy(config.services()[service].name()).into_owned();
            for f in &mut findings {
                f.context = Some(format!("service `{name}`").into());
            }
        }
        let file = SourceFile::new(
            format!("probe {}", target.address()),
            probe.transcript.text().as_bytes().to_vec(),
        )
        .map_err(|e| e.to_string())?;
        checked.push(Checked {
            file,
            kind: FileKind::Main,
            findings,
            target: version.clone(),
        });
    }
    Ok(checked)
}

/// `--tlsa FILE`, else `tlsa`/`tlsa-file` of the settings file beside the configuration.
fn published_tlsa(args: &ProbeArgs, dir: Option<&Path>) -> Result<Option<Vec<Published>>, String> {
    if let Some(path) = &args.tlsa {
        let bytes =
            crate::input::files::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let text = String::from_utf8_lossy(&bytes);
        return zone::parse(&text)
            .map(Some)
            .map_err(|e| format!("{}: {e}", path.display()));
    }
    let Some(file) = dir.and_then(Settings::discover) else {
        return Ok(None);
    };
    let settings = Settings::load(&file).map_err(|e| e.to_string())?;
    settings.published_tlsa(&file).map_err(|e| e.to_string())
}
