//! Findings: what pflint reports, where, and how to fix it.

use std::borrow::Cow;
use std::fmt;

use miette::{LabeledSpan, MietteSpanContents, SourceCode, SpanContents};
use serde::{Deserialize, Serialize};

use crate::model::version::Target;
use crate::source::{FileKind, SourceFile, Span};

pub use crate::code::{Code, Severity};
use crate::syntax::Problem;
use crate::text::Text;

/// One problem found in one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The rule's stable code.
    pub code: Code,
    /// How serious it is.
    pub severity: Severity,
    /// Where it is.
    pub span: Span,
    /// What is wrong here, in one line: the message without its context and note (see
    /// [`Finding::message`]).
    pub headline: Text,
    /// A short note shown at the span (most are the same few words for every finding
    /// of a rule, so they are not copied).
    pub label: Text,
    /// The service and role the finding concerns, when a rule judged one service. The
    /// message ends with it, but it is kept once: a large report's findings are mostly
    /// their texts.
    pub context: Option<Box<str>>,
    /// What it was found under, when not the files as they are.
    pub notes: Notes,
    /// Parameter edits that fix it, when the rule knows them.
    pub fix: Option<Box<Fix>>,
}

/// A checked file: its source and what was found in it.
#[derive(Debug)]
pub struct Checked {
    /// The file.
    pub file: SourceFile,
    /// The grammar it was read with.
    pub kind: FileKind,
    /// Findings, ordered by position.
    pub findings: Vec<Finding>,
    /// The Postfix version it was judged for.
    pub target: Target,
}

/// One replacement in a file's bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replacement {
    /// The bytes replaced (empty for an insertion).
    pub span: Span,
    /// The new text.
    pub text: String,
}

impl Replacement {
    /// Inserts `text` at `at`.
    pub fn insert(at: u32, text: String) -> Replacement {
        Replacement {
            span: Span { start: at, end: at },
            text,
        }
    }

    /// Whether two replacements touch the same bytes (two insertions at one place do: their
    /// order would be a guess).
    pub fn overlaps(&self, other: &Replacement) -> bool {
        self.span.start < other.span.end && other.span.start < self.span.end
            || self.span.start == other.span.start
    }
}

/// The replacements that make a fix in one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileChange {
    /// Which file.
    pub file: FileKind,
    /// The replacements, their text in the file's own line ending.
    pub replacements: Vec<Replacement>,
}

/// Parameter edits that fix a finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Fix {
    /// Whether applying the edits can change what mail Postfix accepts or delivers (then
    /// a person should decide).
    pub safety: Safety,
    /// The edits.
    pub edits: Vec<Edit>,
    /// The edits as text replacements, when they were planned against the files
    /// ([`crate::edit::fix::plan_changes`]) and every one can be made: what SARIF shows.
    #[serde(skip)]
    pub changes: Option<Vec<FileChange>>,
}

/// Whether a fix may be applied without a person looking.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Safety {
    /// Keeps mail flowing as before.
    Safe,
    /// Changes behaviour; review first.
    Unsafe,
}

/// One parameter edit.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Edit {
    /// `main.cf`, or `master.cf` for a `-o` of a service.
    pub file: &'static str,
    /// The master.cf service (`name/type`) for a `-o` edit.
    pub service: Option<Text>,
    /// The parameter (most are the rule's own text, not copied for each finding).
    pub parameter: Cow<'static, str>,
    /// The new value; `None` removes the setting.
    pub value: Option<Cow<'static, str>>,
}

impl fmt::Display for Fix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let edits: Vec<String> = self
            .edits
            .iter()
            .map(|e| {
                let place = match &e.service {
                    Some(service) => format!("as `-o` of {service} in master.cf"),
                    None => format!("in {}", e.file),
                };
                match &e.value {
                    Some(value) => format!("set `{} = {value}` {place}", e.parameter),
                    None => format!("remove `{}` {place}", e.parameter),
                }
            })
            .collect();
        let safety = match self.safety {
            Safety::Safe => "safe",
            Safety::Unsafe => "review before applying",
        };
        write!(f, "{} ({safety})", edits.join("; "))
    }
}

/// The assumptions a finding was made under, said at the end of its message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Notes {
    /// Found in Postfix's stock master.cf, used because the directory has none.
    pub stock_master: bool,
    /// Found in a value read without the text after a `#` that Postfix keeps in it.
    pub without_comment: bool,
}

impl Notes {
    /// Each note as the message ends with it, in order.
    fn texts(self) -> impl Iterator<Item = &'static str> {
        [
            (self.stock_master, "Postfix's stock master.cf assumed"),
            (
                self.without_comment,
                "if the text after `#` is removed from the value",
            ),
        ]
        .into_iter()
        .filter_map(|(on, text)| on.then_some(text))
    }
}

/// A finding's whole message: its headline, its context and its note, each in
/// parentheses.
#[derive(Clone, Copy, Debug)]
pub struct Message<'a>(&'a Finding);

impl fmt::Display for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let finding = self.0;
        f.write_str(&finding.headline)?;
        if let Some(context) = &finding.context {
            write!(f, " ({context})")?;
        }
        for note in finding.notes.texts() {
            write!(f, " ({note})")?;
        }
        Ok(())
    }
}

impl Serialize for Message<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl From<Problem> for Finding {
    fn from(problem: Problem) -> Finding {
        Finding::new(
            problem.kind.code(),
            problem.span,
            problem.message,
            problem.label,
        )
    }
}

impl Finding {
    /// A finding of the rule `code`, at the rule's default severity.
    pub fn new(
        code: Code,
        span: Span,
        message: impl Into<Text>,
        label: impl Into<Text>,
    ) -> Finding {
        Finding {
            code,
            severity: code.severity(),
            span,
            headline: message.into(),
            label: label.into(),
            context: None,
            notes: Notes::default(),
            fix: None,
        }
    }

    /// What is wrong here, in one line, with the service it concerns and the
    /// assumption it was found under.
    pub fn message(&self) -> Message<'_> {
        Message(self)
    }

    /// The rule's stable name.
    pub fn name(&self) -> &'static str {
        self.code.name()
    }

    /// How to fix it: the rule's help text, shared by all its findings.
    pub fn help(&self) -> &'static str {
        self.code.help()
    }
}

/// A finding together with its file, ready for miette to render.
pub struct Report<'a> {
    /// The finding.
    pub finding: &'a Finding,
    /// The file it is in.
    pub file: &'a SourceFile,
}

impl Report<'_> {
    /// The help shown below the snippet: the rule's advice, then the fix.
    pub fn help(&self) -> Option<String> {
        let f = self.finding;
        let mut help = f.help().to_owned();
        if let Some(fix) = &f.fix {
            if !help.is_empty() {
                help.push('\n');
            }
            help.push_str(&format!("Fix: {fix}"));
        }
        (!help.is_empty()).then_some(help)
    }
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.finding, f)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.finding.message(), f)
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        let f = self.finding;
        Some(Box::new(format!("{}({})", f.code, f.name())))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.finding.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Info => miette::Severity::Advice,
        })
    }

    // No `help`: the human report renders it (a large report repeats a few texts, and
    // wrapping them once each is most of its time).

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(self.file)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let label = LabeledSpan::new_primary_with_span(
            Some(self.finding.label.to_string()).filter(|l| !l.is_empty()),
            shown_span(self.file, self.finding.span),
        );
        Some(Box::new(std::iter::once(label)))
    }
}

/// A snippet shows at most this many bytes of a span: its start (a finding on a value of
/// a megabyte would otherwise print the megabyte).
const SHOWN_SPAN: usize = 8192;

/// A snippet with a line longer than this shows only the span's own lines, each long one
/// cut to [`EXCERPT_CONTEXT`] around the span: a one-line list of 100 000 elements with
/// a finding for each would otherwise print the line 100 000 times.
const LONG_LINE: usize = 1024;

/// The bytes shown on each side of a span cut out of a long line.
const EXCERPT_CONTEXT: usize = 60;

/// `span` as the snippet shows it: at most [`SHOWN_SPAN`] bytes, ending between two
/// characters.
fn shown_span(file: &SourceFile, span: Span) -> Span {
    if span.len() <= SHOWN_SPAN {
        return span;
    }
    let text = file.display_text();
    let mut end = span.start as usize + SHOWN_SPAN;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Span {
        start: span.start,
        end: u32::try_from(end).unwrap_or(span.end),
    }
}

impl SourceCode for SourceFile {
    /// miette's own reading scans the text from its start for every snippet, which makes
    /// a report quadratic; this hands it only the lines around the span, found in the
    /// file's line index, and shifts what it reads back to file offsets and lines. Long
    /// lines are cut to the part around the span (see [`LONG_LINE`]).
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, miette::MietteError> {
        let text = self.display_text().as_bytes();
        let (from, to) = self.line_window(
            span.offset(),
            span.offset() + span.len(),
            context_lines_before,
            context_lines_after,
        );
        if self.longest_line(from.offset, to) > LONG_LINE {
            return Ok(Box::new(self.excerpt(
                span,
                context_lines_before,
                context_lines_after,
            )));
        }
        let window = &text[from.offset..to];
        let local = miette::SourceSpan::new((span.offset() - from.offset).into(), span.len());
        let inner = window.read_span(&local, context_lines_before, context_lines_after)?;
        let data: &'a [u8] = inner.data();
        Ok(Box::new(MietteSpanContents::new_named(
            self.name().display().to_string(),
            data,
            miette::SourceSpan::new(
                (inner.span().offset() + from.offset).into(),
                inner.span().len(),
            ),
            inner.line() + from.line,
            inner.column(),
            inner.line_count() + from.line,
        )))
    }
}

impl SourceFile {
    /// The part of the span's lines around it, without the lines before and after: what
    /// miette reads for a span on a long line. Its line and column are as miette's own
    /// reading gives them: the column, in bytes, only when no line before is asked for.
    fn excerpt(
        &self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> MietteSpanContents<'_> {
        let text = self.display_text();
        let (start, end) = (span.offset(), span.offset() + span.len());
        let (line_start, _) = self.line_bounds(start);
        let (_, line_end) = self.line_bounds(end.saturating_sub(1).max(start));
        let mut from = if context_lines_before == 0 {
            start
        } else {
            start.saturating_sub(EXCERPT_CONTEXT).max(line_start)
        };
        while !text.is_char_boundary(from) {
            from += 1;
        }
        let mut to = if context_lines_after == 0 {
            end.max(from)
        } else {
            (end + EXCERPT_CONTEXT).min(line_end)
        };
        while !text.is_char_boundary(to) {
            to -= 1;
        }
        let to = to.max(from);
        // Cut between words where the line allows.
        let bytes = text.as_bytes();
        if from > line_start
            && let Some(space) = memchr::memchr(b' ', &bytes[from..start.max(from)])
        {
            from += space + 1;
        }
        let to = match memchr::memrchr(b' ', &bytes[end.min(to)..to]) {
            Some(space) if to < line_end => end.min(to) + space,
            _ => to,
        };
        let line = self.position(u32::try_from(from).unwrap_or(u32::MAX)).line as usize - 1;
        let data = &text.as_bytes()[from..to];
        let newlines = data.iter().filter(|&&b| b == b'\n').count();
        MietteSpanContents::new_named(
            self.name().display().to_string(),
            data,
            miette::SourceSpan::new(from.into(), to - from),
            line,
            if context_lines_before == 0 {
                from - line_start
            } else {
                0
            },
            line + newlines,
        )
    }
}
