//! Rendered diagnostics: a source snippet with the span labelled, and the fix as help.

use std::collections::HashMap;
use std::fmt;
use std::io::{self, Write};

use miette::{GraphicalReportHandler, GraphicalTheme};

use super::{Style, Summary, plural};
use crate::diagnostic::{Checked, Finding, Report};
use crate::source::SourceFile;

/// The width the report is laid out for.
const WIDTH: usize = 100;

/// Words break at spaces only: the Unicode line-break search is most of the time a large
/// report takes, and the texts are ASCII prose with paths and parameter names.
const WORDS: textwrap::WordSeparator = textwrap::WordSeparator::AsciiSpace;

pub(super) fn write(style: Style, files: &[Checked], out: &mut dyn Write) -> io::Result<()> {
    let theme = match style {
        Style::Color => GraphicalTheme::unicode(),
        Style::Plain => GraphicalTheme::unicode_nocolor(),
    };
    let handler = GraphicalReportHandler::new_themed(theme.clone())
        .with_width(WIDTH)
        .with_word_separator(WORDS);
    // Rendering a snippet is most of a large report's time, and each finding's is its
    // own: a batch is shared among the cores and written in order.
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    let mut footers: Vec<Footers> = (0..workers).map(|_| Footers::new(&theme)).collect();
    for checked in files {
        for batch in checked.findings.chunks(BATCH) {
            let share = batch.len().div_ceil(workers).max(1);
            let render = |findings: &[Finding], footers: &mut Footers| {
                render_all(&handler, footers, &checked.file, findings)
            };
            let rendered: Vec<Result<String, fmt::Error>> = if batch.len() < PARALLEL_FROM {
                vec![render(batch, &mut footers[0])]
            } else {
                std::thread::scope(|scope| {
                    let running: Vec<_> = batch
                        .chunks(share)
                        .zip(footers.iter_mut())
                        .map(|(part, footers)| scope.spawn(move || render(part, footers)))
                        .collect();
                    running
                        .into_iter()
                        .map(|r| r.join().unwrap_or(Err(fmt::Error)))
                        .collect()
                })
            };
            for text in rendered {
                out.write_all(text.map_err(io::Error::other)?.as_bytes())?;
            }
        }
    }
    let summary = Summary::of(files);
    if summary.files == 0 {
        return Ok(());
    }
    let files_checked = plural(summary.files, "file");
    let judged: Vec<String> = summary
        .targets
        .iter()
        .map(|t| {
            let note = t
                .note
                .as_ref()
                .map(|n| format!("; {n}"))
                .unwrap_or_default();
            format!("Postfix {}, {}{note}", t.postfix_version, t.reason)
        })
        .collect();
    let judged = judged.join("; ");
    if summary.errors + summary.warnings + summary.infos == 0 {
        writeln!(
            out,
            "pflint: no problems found in {files_checked} ({judged})"
        )
    } else {
        writeln!(
            out,
            "pflint: {}, {} and {} in {files_checked} ({judged})",
            plural(summary.errors, "error"),
            plural(summary.warnings, "warning"),
            plural(summary.infos, "info")
        )
    }
}

/// How many findings are rendered before their text is written.
const BATCH: usize = 4096;

/// Below this many findings in a batch, one thread renders them.
const PARALLEL_FROM: usize = 256;

/// The text of `findings`, each finding followed by a blank line.
fn render_all(
    handler: &GraphicalReportHandler,
    footers: &mut Footers,
    file: &SourceFile,
    findings: &[Finding],
) -> Result<String, fmt::Error> {
    let mut rendered = String::new();
    for finding in findings {
        let report = Report { finding, file };
        handler.render_report(&mut rendered, &report)?;
        if let Some(help) = report.help() {
            rendered.push_str(footers.get(help));
        }
        rendered.push('\n');
    }
    Ok(rendered)
}

/// The help footers, laid out as miette lays out a diagnostic's help, each wrapped once:
/// findings of one rule share their help text.
struct Footers {
    indent: String,
    wrapped: HashMap<String, String>,
}

impl Footers {
    /// At most this many texts are kept; a report with more distinct ones wraps the rest
    /// each time.
    const KEPT: usize = 4096;

    fn new(theme: &GraphicalTheme) -> Footers {
        Footers {
            indent: theme.styles.help.style("  help: ").to_string(),
            wrapped: HashMap::new(),
        }
    }

    fn get(&mut self, help: String) -> &str {
        if !self.wrapped.contains_key(&help) {
            let options = textwrap::Options::new(WIDTH - 2)
                .initial_indent(&self.indent)
                .subsequent_indent("        ")
                .word_separator(WORDS);
            let mut text = textwrap::fill(&help, options);
            text.push('\n');
            if self.wrapped.len() >= Self::KEPT {
                self.wrapped.clear();
            }
            self.wrapped.insert(help.clone(), text);
        }
        self.wrapped.get(&help).map_or("", String::as_str)
    }
}
