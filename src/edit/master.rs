//! Edits of a master.cf service's `-o` options, made against its tree.

use super::Replacement;
use crate::source::Span;
use crate::syntax::master_cf::{Arg, Field, Override, Service, leaves_brace_open};

/// The service's own `-o` options that set `name`, in order.
pub fn options_setting<'n>(node: &'n Service, src: &[u8], name: &str) -> Vec<&'n Override> {
    node.overrides()
        .filter(|o| {
            o.name
                .as_ref()
                .is_some_and(|n| *node.text(src, n.clone()) == *name.as_bytes())
        })
        .collect()
}

/// What setting `-o name=value` on a service takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OptionEdit {
    /// The service already sets it so.
    Same,
    /// Its own option gets the new value.
    Replace(Replacement),
    /// A new option is needed (see [`add_options`]).
    Add,
}

/// Sets `-o name=value` on a service: its own (last) option changed, or a new one needed.
/// A value with blanks goes in the `{ name = value }` form, where the word it replaces
/// was not braced already.
pub fn set_option(node: &Service, src: &[u8], name: &str, value: &str) -> OptionEdit {
    let Some(own) = options_setting(node, src, name).into_iter().next_back() else {
        return OptionEdit::Add;
    };
    let (Some(range), Some(argument)) = (own.value.clone(), own.argument.clone()) else {
        return OptionEdit::Add;
    };
    if *node.text(src, range.clone()) == *value.as_bytes() {
        return OptionEdit::Same;
    }
    if has_blank(value) && !own.braced {
        return OptionEdit::Replace(Replacement {
            span: node.source_span(argument),
            text: format!("{{ {name} = {value} }}"),
        });
    }
    OptionEdit::Replace(Replacement {
        span: node.source_span(range),
        text: value.to_owned(),
    })
}

fn has_blank(value: &str) -> bool {
    value.bytes().any(crate::syntax::lexical::is_blank)
}

/// New `-o` options for a service, each on a line of its own after its last option. The
/// daemon stops reading options at the first other argument, so an option after that
/// would be ignored. A value with blanks is written in the `{ name = value }` form.
pub fn add_options(node: &Service, src: &[u8], options: &[(String, String)]) -> Replacement {
    let text: String = options
        .iter()
        .map(|(name, value)| {
            if has_blank(value) {
                format!("\n  -o {{ {name} = {value} }}")
            } else {
                format!("\n  -o {name}={value}")
            }
        })
        .collect();
    Replacement::insert(options_end(node, src), text)
}

/// Where options added to a service go: right after its last option, else its command.
/// A word with an unclosed `{` runs to the end of the entry, so what follows it would
/// become part of that word: options then go before it.
fn options_end(node: &Service, src: &[u8]) -> u32 {
    let open_from = node
        .words()
        .iter()
        .skip(Field::Command as usize + 1)
        .find(|w| leaves_brace_open(&node.text(src, (*w).clone())))
        .map_or(u32::MAX, |w| w.start);
    // The whole last word is mapped, not an empty range at its end, which could land
    // after the line break that follows it.
    let last_option = node
        .args()
        .iter()
        .filter_map(|arg| match arg {
            Arg::Flag(range) => Some(range.clone()),
            Arg::Override(o) => Some(o.argument.clone().unwrap_or(o.option.clone())),
            Arg::Positional { .. } => None,
        })
        .filter(|range| range.end <= open_from)
        .max_by_key(|range| range.end);
    last_option
        .or_else(|| node.field(Field::Command))
        .map_or(0, |range| node.source_span(range).end)
}

/// Removes one `-o` option: its whole line when it stands alone on it.
pub fn remove_option(node: &Service, o: &Override, src: &[u8]) -> Replacement {
    let end_range = o.argument.as_ref().map_or(o.option.end, |a| a.end);
    let mut span = node.source_span(o.option.start..end_range);
    let line_start = super::line_start(src, span.start) as usize;
    let line_end = src[span.end as usize..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(src.len(), |i| span.end as usize + i + 1);
    let alone = src[line_start..span.start as usize]
        .iter()
        .all(|b| b.is_ascii_whitespace())
        && src[span.end as usize..line_end]
            .iter()
            .all(|b| b.is_ascii_whitespace());
    if alone && line_start > 0 {
        span = Span {
            start: line_start as u32,
            end: line_end as u32,
        };
    }
    Replacement {
        span,
        text: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::master_cf;

    fn edited(src: &str, edit: impl Fn(&Service, &[u8]) -> Replacement) -> String {
        let tree = master_cf::parse(src.as_bytes()).tree;
        let node = tree.entries().next().unwrap();
        let r = edit(node, src.as_bytes());
        let out = super::super::apply(src.as_bytes(), vec![r])
            .unwrap()
            .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn options_are_added_after_the_last_option_not_after_the_arguments() {
        let src = "pipe unix - n n - - pipe\n  -o a=b flags=R user=x argv=/bin/x\n";
        let out = edited(src, |n, _| {
            add_options(
                n,
                src.as_bytes(),
                &[("c".into(), "d".into()), ("e".into(), "f g".into())],
            )
        });
        assert_eq!(
            out,
            "pipe unix - n n - - pipe\n  -o a=b\n  -o c=d\n  -o { e = f g } flags=R user=x argv=/bin/x\n"
        );
    }

    #[test]
    fn options_go_before_a_word_whose_brace_is_never_closed() {
        for src in [
            "s inet n - y - - smtpd\n  -o a=b\n  -o x{y=z\n",
            "s inet n - y - - smtpd\n  -o a=b\n  -o { x = y\n",
        ] {
            let out = edited(src, |n, s| add_options(n, s, &[("c".into(), "d".into())]));
            let (head, tail) = src.split_at(src.find("\n  -o").unwrap() + "\n  -o a=b".len());
            assert_eq!(out, format!("{head}\n  -o c=d{tail}"));
            let tree = master_cf::parse(out.as_bytes()).tree;
            let node = tree.entries().next().unwrap();
            assert_eq!(options_setting(node, out.as_bytes(), "c").len(), 1, "{out}");
        }
    }

    #[test]
    fn an_option_alone_on_its_line_goes_with_its_line() {
        let src = "smtp inet n - y - - smtpd\n  -o a=b\n  -o c=d\n";
        let tree = master_cf::parse(src.as_bytes()).tree;
        let node = tree.entries().next().unwrap();
        let o = &options_setting(node, src.as_bytes(), "a")[0];
        let out = edited(src, |n, s| remove_option(n, o, s));
        assert_eq!(out, "smtp inet n - y - - smtpd\n  -o c=d\n");
    }

    #[test]
    fn a_value_with_blanks_is_braced() {
        let src = "smtp inet n - y - - smtpd\n  -o a=b\n";
        let out = edited(src, |n, s| match set_option(n, s, "a", "c, d") {
            OptionEdit::Replace(r) => r,
            other => panic!("{other:?}"),
        });
        assert_eq!(out, "smtp inet n - y - - smtpd\n  -o { a = c, d }\n");
    }
}
