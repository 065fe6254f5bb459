//! Inline suppressions: a comment line `# pflint: disable=CODE[,CODE] -- reason` right
//! before a main.cf parameter or a master.cf service silences those rules there.
//!
//! Postfix treats `#` as a comment only at the start of a line, so a suppression cannot
//! share the line of the entry it concerns; it must sit in the block of comment lines
//! directly above it (no blank line between). A suppression that silences nothing is
//! itself reported, so stale ones do not pile up.

use crate::diagnostic::{Code, Finding};
use crate::source::Span;
use crate::syntax::document::{Document, Entry, Item};

/// The code of the finding for a suppression that silences nothing.
const UNUSED: Code = Code::PF020;
/// The code of the finding for a `# pflint:` comment pflint cannot read.
const MALFORMED: Code = Code::PF021;

/// One rule silenced for one entry.
#[derive(Clone, Debug)]
struct Suppression {
    /// The comment line.
    comment: Span,
    /// The rule's code, as written (a code or a rule name).
    code: String,
    /// The entry it covers (the whole logical line).
    target: Option<Span>,
    /// Whether it silenced a finding.
    used: bool,
}

/// What a `# pflint:` comment says.
enum Directive {
    /// Not a pflint comment at all.
    None,
    /// `disable=` with these codes.
    Disable(Vec<String>),
    /// A pflint comment that does not read as a directive.
    Malformed(String),
}

fn directive(line: &[u8]) -> Directive {
    let text = String::from_utf8_lossy(line);
    let text = text.trim().trim_start_matches('#').trim();
    let Some(rest) = text.strip_prefix("pflint:") else {
        return Directive::None;
    };
    let rest = rest.trim();
    let Some(list) = rest.strip_prefix("disable=") else {
        return Directive::Malformed(
            "expected `# pflint: disable=CODE[,CODE] -- reason`".to_owned(),
        );
    };
    let codes_text = list.split_once("--").map_or(list, |(codes, _reason)| codes);
    let codes: Vec<String> = codes_text
        .split(',')
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .collect();
    if codes.is_empty() {
        return Directive::Malformed("`disable=` names no rule".to_owned());
    }
    if let Some(unknown) = codes.iter().find(|c| rule_code(c).is_none()) {
        return Directive::Malformed(format!("no rule is called `{unknown}`"));
    }
    Directive::Disable(codes)
}

/// The code of the rule a suppression names by code or by name.
fn rule_code(written: &str) -> Option<Code> {
    Code::named(written)
}

/// Applies the suppressions written in one file to its findings: removes what they
/// silence and adds findings for suppressions that silence nothing or cannot be read.
pub fn apply<E: Entry>(tree: &Document<E>, src: &[u8], findings: &mut Vec<Finding>) {
    let mut suppressions: Vec<Suppression> = Vec::new();
    let mut pending: Vec<Suppression> = Vec::new();
    let mut malformed = Vec::new();
    for item in &tree.items {
        match item {
            Item::Comment(span) => {
                let line = &src[span.start as usize..span.end as usize];
                match directive(line) {
                    Directive::None => {}
                    Directive::Disable(codes) => {
                        pending.extend(codes.into_iter().map(|code| Suppression {
                            comment: trimmed(*span, line),
                            code,
                            target: None,
                            used: false,
                        }));
                    }
                    Directive::Malformed(why) => malformed.push(Finding::new(
                        MALFORMED,
                        trimmed(*span, line),
                        format!("pflint cannot read this suppression: {why}"),
                        "this comment silences nothing",
                    )),
                }
            }
            Item::Blank(_) => suppressions.append(&mut pending),
            Item::Entry(_) | Item::Rejected(_) => {
                let target = item.span();
                suppressions.extend(pending.drain(..).map(|s| Suppression {
                    target: Some(target),
                    ..s
                }));
            }
        }
    }
    suppressions.append(&mut pending);

    // The entries are in file order and do not overlap, so the suppressions of the one
    // a finding starts in are found by binary search: a file may hold a suppression
    // above each of a hundred thousand entries.
    let targeted: Vec<(Span, usize)> = suppressions
        .iter()
        .enumerate()
        .filter_map(|(i, s)| Some((s.target?, i)))
        .collect();
    findings.retain(|finding| {
        let at = finding.span.start;
        let Some(&(target, _)) = targeted[..targeted.partition_point(|(t, _)| t.start <= at)]
            .last()
            .filter(|(t, _)| at < t.end)
        else {
            return true;
        };
        let first = targeted.partition_point(|(t, _)| t.start < target.start);
        let silencing = targeted[first..]
            .iter()
            .take_while(|(t, _)| *t == target)
            .map(|&(_, i)| i)
            .find(|&i| rule_code(&suppressions[i].code) == Some(finding.code));
        match silencing {
            Some(i) => {
                suppressions[i].used = true;
                false
            }
            None => true,
        }
    });
    for s in suppressions.iter().filter(|s| !s.used) {
        let message = match s.target {
            Some(_) => format!(
                "this suppression of {} silences nothing: the entry below has no such finding",
                s.code
            ),
            None => format!(
                "this suppression of {} silences nothing: no entry follows it directly",
                s.code
            ),
        };
        findings.push(Finding::new(
            UNUSED,
            s.comment,
            message,
            "remove it, or move it right above the entry",
        ));
    }
    findings.extend(malformed);
}

/// A comment line's span without its newline.
fn trimmed(span: Span, line: &[u8]) -> Span {
    let content = line.strip_suffix(b"\n").unwrap_or(line);
    let content = content.strip_suffix(b"\r").unwrap_or(content);
    Span {
        start: span.start,
        end: span.start + content.len() as u32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_codes_names_and_reasons() {
        let Directive::Disable(codes) =
            directive(b"# pflint: disable=PF203, sasl-on-port-25 -- internal relay\n")
        else {
            panic!("not read as a directive");
        };
        assert_eq!(codes, ["PF203", "sasl-on-port-25"]);
        assert!(matches!(directive(b"# plain comment\n"), Directive::None));
        assert!(matches!(
            directive(b"# pflint: disabel=PF203\n"),
            Directive::Malformed(_)
        ));
        assert!(matches!(
            directive(b"# pflint: disable=PF999\n"),
            Directive::Malformed(_)
        ));
    }

    #[test]
    fn a_suppression_silences_its_own_entry_only() {
        let src = b"# pflint: disable=PF408\na = 1\nb = 2\n# pflint: disable=PF408,PF201\nc = 3\n";
        let tree = crate::syntax::main_cf::parse(src).tree;
        let at = |line: &[u8]| {
            let start = src
                .windows(line.len())
                .position(|w| w == line)
                .expect("the line is in the file");
            Span::new(start, start + 1)
        };
        let code = |c: &str| Code::parse(c).expect("a rule code");
        let finding = |c: &str, line: &[u8]| Finding::new(code(c), at(line), "m", "l");
        let mut findings = vec![
            finding("PF408", b"a = 1"),
            finding("PF408", b"b = 2"),
            finding("PF201", b"c = 3"),
            finding("PF201", b"a = 1"),
        ];
        apply(&tree, src, &mut findings);
        let left: Vec<(Code, u32)> = findings.iter().map(|f| (f.code, f.span.start)).collect();
        assert_eq!(
            left,
            [
                (code("PF408"), at(b"b = 2").start),
                (code("PF201"), at(b"a = 1").start),
                (UNUSED, at(b"# pflint: disable=PF408,PF201").start),
            ],
            "{findings:?}"
        );
    }
}
