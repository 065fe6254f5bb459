//! A readable dump of a tree, for snapshot tests and debugging: one line per node and
//! leaf with its position, plus the values and expressions the parser derived.

use std::fmt::Write;

use super::document::{Entry, Item, Rejected};
use super::expr::{self, Body, Delimiter, Expr, Part, Subject};
use super::list;
use super::master_cf::{Arg, Service};
use super::token::Token;
use super::{Parameter, Tree};
use crate::source::{SourceFile, Span};

/// Renders `tree`, parsed from `file`, as indented text.
pub fn tree(tree: &Tree, file: &SourceFile) -> String {
    let mut out = String::new();
    match tree {
        Tree::Main(main) => {
            for item in &main.items {
                main_item(&mut out, item, file);
            }
        }
        Tree::Master(master) => {
            for item in &master.items {
                master_item(&mut out, item, file);
            }
        }
    }
    out
}

fn quoted(bytes: &[u8]) -> String {
    format!("\"{}\"", bytes.escape_ascii())
}

fn at(file: &SourceFile, span: Span) -> String {
    format!("{}-{}", file.position(span.start), file.position(span.end))
}

fn whole_line(out: &mut String, kind: &str, span: Span, file: &SourceFile) {
    let _ = writeln!(
        out,
        "{kind} {} {}",
        at(file, span),
        quoted(file.slice(span))
    );
}

fn tokens(out: &mut String, tokens: &[Token], file: &SourceFile) {
    for token in tokens {
        let _ = writeln!(
            out,
            "  {:?} {} {}",
            token.kind,
            file.position(token.span.start),
            quoted(file.slice(token.span))
        );
    }
}

fn main_item(out: &mut String, item: &Item<Parameter>, file: &SourceFile) {
    match item {
        Item::Blank(span) => whole_line(out, "Blank", *span, file),
        Item::Comment(span) => whole_line(out, "Comment", *span, file),
        Item::Entry(p) => parameter(out, p, file),
        Item::Rejected(r) => rejected(out, r, file),
    }
}

fn master_item(out: &mut String, item: &Item<Service>, file: &SourceFile) {
    match item {
        Item::Blank(span) => whole_line(out, "Blank", *span, file),
        Item::Comment(span) => whole_line(out, "Comment", *span, file),
        Item::Entry(s) => service(out, s, file),
        Item::Rejected(r) => rejected(out, r, file),
    }
}

fn rejected(out: &mut String, r: &Rejected, file: &SourceFile) {
    let _ = writeln!(out, "Rejected {:?} {}", r.reason(), at(file, r.span()));
    tokens(out, &r.tokens(file.bytes()), file);
}

fn parameter(out: &mut String, p: &Parameter, file: &SourceFile) {
    let src = file.bytes();
    let _ = writeln!(
        out,
        "Parameter {} {}",
        String::from_utf8_lossy(p.name(src)),
        at(file, p.span())
    );
    tokens(out, &p.tokens(), file);
    let value = p.value(src);
    let _ = writeln!(out, "  = {}", quoted(&value));
    expression(out, &value);
}

fn service(out: &mut String, s: &Service, file: &SourceFile) {
    let src = file.bytes();
    let text = |r: &std::ops::Range<u32>| quoted(&s.text(src, r.clone()));
    let _ = writeln!(out, "Service {}", at(file, s.span()));
    tokens(out, &s.tokens(), file);
    let fields: Vec<String> = s.words().iter().take(8).map(text).collect();
    let _ = writeln!(out, "  fields: {}", fields.join(" "));
    for arg in s.args() {
        match arg {
            Arg::Flag(r) => {
                let _ = writeln!(out, "  flag {}", text(r));
            }
            Arg::Override(o) => {
                let shown = |r: &Option<std::ops::Range<u32>>| r.as_ref().map_or("-".into(), text);
                let _ = writeln!(
                    out,
                    "  -o{} name={} value={}",
                    if o.braced { " (braced)" } else { "" },
                    shown(&o.name),
                    shown(&o.value)
                );
                if let Some(value) = &o.value {
                    expression(out, &s.text(src, value.clone()));
                }
            }
            Arg::Positional { text: inner, .. } => {
                let _ = writeln!(out, "  arg {}", text(inner));
            }
        }
    }
}

fn expression(out: &mut String, value: &[u8]) {
    let (elements, errors) = list::split(value);
    if elements.iter().any(|e| e.text != e.span) || !errors.is_empty() {
        let shown: Vec<String> = elements
            .iter()
            .map(|e| quoted(&value[e.text.start as usize..e.text.end as usize]))
            .collect();
        let _ = writeln!(out, "  list: {}", shown.join(" "));
        for e in errors {
            let _ = writeln!(out, "  list error at {:?}: {}", e.span, e.message);
        }
    }
    let (parsed, error) = expr::parse(value);
    if parsed.parts.iter().any(|p| matches!(p, Part::Macro(_))) || error.is_some() {
        let _ = writeln!(out, "  expr: {}", render(&parsed, value));
    }
    if let Some(e) = error {
        let _ = writeln!(out, "  expr error at {:?}: {}", e.span, e.message);
    }
}

/// A compact rendering of an expression: literals quoted, references in brackets.
pub fn render(expr: &Expr, text: &[u8]) -> String {
    let slice = |r: &std::ops::Range<u32>| &text[r.start as usize..r.end as usize];
    let name = |r: &std::ops::Range<u32>| String::from_utf8_lossy(slice(r)).into_owned();
    let operand = |o: &expr::Operand| {
        format!(
            "{}{}",
            if o.braced { "braced " } else { "" },
            render(&o.expr, text)
        )
    };
    let parts: Vec<String> = expr
        .parts
        .iter()
        .map(|part| match part {
            Part::Literal(r) => quoted(slice(r)),
            Part::Invalid(invalid) => format!("invalid {}", quoted(slice(&invalid.span))),
            Part::Macro(m) => {
                let delimiter = match m.delimiter {
                    Delimiter::Bare => "$",
                    Delimiter::Braces => "${}",
                    Delimiter::Parens => "$()",
                };
                let body = match &m.body {
                    Body::Name(r) => name(r),
                    Body::Test {
                        subject,
                        if_true,
                        if_false,
                    } => {
                        let subject = match subject {
                            Subject::Name(r) => name(r),
                            Subject::Comparison(c) => format!(
                                "{} {:?}{} {}",
                                operand(&c.left),
                                c.operator,
                                if c.level { "(level)" } else { "" },
                                operand(&c.right)
                            ),
                        };
                        let mut s = subject;
                        if let Some(t) = if_true {
                            let _ = write!(s, " ? {}", operand(t));
                        }
                        if let Some(f) = if_false {
                            let _ = write!(s, " : {}", operand(f));
                        }
                        s
                    }
                    Body::Function { name: n, argument } => {
                        format!("{}({})", name(n), operand(argument))
                    }
                };
                format!("[{delimiter} {body}]")
            }
        })
        .collect();
    if parts.is_empty() {
        "(empty)".to_owned()
    } else {
        parts.join(" ")
    }
}
