//! `postconf -M` and `postconf -P`: master.cf entries and their `-o` parameters.

use super::line::{INDENT, LINE_LIMIT, print_line};
use super::{Options, Patterns, ShowError};
use crate::model::config::ServiceEntry;
use crate::model::{Config, Scope};
use crate::syntax::master_cf::takes_value;
use crate::syntax::{Value, lexical};

/// Whether a word holds master.cf's word separators.
fn has_blank(word: &[u8]) -> bool {
    word.iter().any(|&b| lexical::is_blank(b))
}

/// The words of an accepted service, as postconf shows them.
fn entry_argv(config: &Config<'_>, entry: &ServiceEntry<'_>) -> Vec<Vec<u8>> {
    let src = config.master_file().map_or(&[][..], |f| f.bytes());
    entry.node.postconf_words(src)
}

/// Column positions of the eight fields in `postconf -M` output.
const COLUMNS: [usize; 8] = [0, 11, 17, 25, 33, 41, 49, 57];

/// `postconf -M [-f] [-x] [service[/type]…]`.
pub fn entries(
    config: &Config<'_>,
    options: &Options,
    patterns: &Patterns,
    out: &mut Vec<u8>,
) -> Result<(), ShowError> {
    for (index, entry) in config.services().iter().enumerate() {
        if !patterns.matches_service(entry) {
            continue;
        }
        let argv = entry_argv(config, entry);
        print_entry(config, options, index, &argv, out)?;
    }
    Ok(())
}

fn print_entry(
    config: &Config<'_>,
    options: &Options,
    index: usize,
    argv: &[Vec<u8>],
    out: &mut Vec<u8>,
) -> Result<(), ShowError> {
    let mut line_len = 0usize;
    for (field, goal) in COLUMNS.iter().enumerate() {
        if line_len > 0 {
            loop {
                out.push(b' ');
                line_len += 1;
                if line_len >= *goal {
                    break;
                }
            }
        }
        out.extend_from_slice(&argv[field]);
        line_len += argv[field].len();
    }
    let mut in_options = true;
    let mut field = COLUMNS.len();
    while field < argv.len() {
        let arg = &argv[field];
        let mut arg_len = arg.len();
        let mut value: Option<Vec<u8>> = None;
        let mut parens = false;
        if in_options {
            if arg.first() != Some(&b'-') || arg == b"--" {
                in_options = false;
            } else if takes_value(arg) && field + 1 < argv.len() {
                line_len = LINE_LIMIT;
                let mut aval = argv[field + 1].clone();
                if arg == b"-o" && options.expand {
                    aval = expand_override(config, index, &aval)?;
                }
                arg_len += aval.len() + 3;
                parens = has_blank(&aval);
                if parens {
                    arg_len += 2;
                }
                value = Some(aval);
            }
        } else {
            parens = has_blank(arg);
        }
        if line_len > INDENT.len() {
            if !options.fold || line_len + 1 + arg_len < LINE_LIMIT {
                out.push(b' ');
                line_len += 1;
            } else {
                out.push(b'\n');
                out.extend_from_slice(INDENT);
                line_len = INDENT.len();
            }
        }
        let brace_arg = !in_options && parens;
        if brace_arg {
            out.push(b'{');
        }
        out.extend_from_slice(arg);
        line_len += arg.len() + 2 * usize::from(brace_arg);
        if brace_arg {
            out.push(b'}');
        }
        if let Some(aval) = value {
            out.push(b' ');
            if parens {
                out.push(b'{');
            }
            out.extend_from_slice(&aval);
            if parens {
                out.push(b'}');
            }
            field += 1;
            line_len = LINE_LIMIT;
        }
        field += 1;
    }
    out.push(b'\n');
    Ok(())
}

/// Expands the value part of a `name=value` option argument in the service's scope.
fn expand_override(
    config: &Config<'_>,
    index: usize,
    argument: &[u8],
) -> Result<Vec<u8>, ShowError> {
    config
        .expand_value(Scope::Service(index), &Value::new(argument))
        .map_err(ShowError::Expansion)
}

/// `postconf -P [-x] [service[/type[/parameter]]…]`.
pub fn params(
    config: &Config<'_>,
    options: &Options,
    patterns: &Patterns,
    out: &mut Vec<u8>,
) -> Result<(), ShowError> {
    for (index, entry) in config.services().iter().enumerate() {
        // An entry without `-o` has no settings of its own to show, even where a later
        // entry of its name and type adds some to the ones they share.
        if !patterns.matches_service(entry) || !entry.node.has_postconf_options() {
            continue;
        }
        let settings = config.overrides(index);
        let namespace = [entry.name(), b"/", entry.kind()].concat();
        for (name, setting) in settings {
            if !patterns.matches_param(entry, name) {
                continue;
            }
            let value = if options.expand {
                config
                    .expand_value(Scope::Service(index), &setting.value)
                    .map_err(ShowError::Expansion)?
            } else {
                setting.value.to_vec()
            };
            let line = if options.hide_value {
                [&namespace[..], b"/", name].concat()
            } else if options.hide_name {
                value
            } else {
                [&namespace[..], b"/", name, b" = ", &value].concat()
            };
            print_line(out, &line, options.fold);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    fn argv(words: &[&str]) -> Vec<String> {
        let line = format!("{}\n", words.join(" "));
        let parsed = crate::syntax::master_cf::parse(line.as_bytes());
        let service = parsed.tree.entries().next().expect("a service");
        service
            .postconf_words(line.as_bytes())
            .into_iter()
            .map(|w| String::from_utf8(w).unwrap())
            .collect()
    }

    #[test]
    fn normalises_like_postconf() {
        let fields = ["s", "inet", "n", "-", "y", "-", "-", "smtpd"];
        let with = |rest: &[&str]| {
            let mut all: Vec<&str> = fields.to_vec();
            all.extend_from_slice(rest);
            argv(&all)[8..].to_vec()
        };
        assert_eq!(with(&["-o", "{ a = b c }"]), ["-o", "a=b c"]);
        assert_eq!(with(&["-oname=x"]), ["-o", "name=x"]);
        assert_eq!(with(&["-vo", "a=b"]), ["-v", "-o", "a=b"]);
        assert_eq!(with(&["-o", "{ a = b"]), ["-o", "a=b"]);
        // A lone `-` takes a value, which is not a name=value pair.
        assert_eq!(
            with(&["-", "{ a = b }", "-o", "{x = 1}"]),
            ["-", "a = b", "-o", "x=1"]
        );
        assert_eq!(with(&["-", "o", "{ a = b }"]), ["-", "o", "a = b"]);
        assert_eq!(
            with(&["-o", "{x}", "flags", "{a b}"]),
            ["-o", "x", "flags", "a b"]
        );
    }
}
