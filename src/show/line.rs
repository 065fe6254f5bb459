//! postconf's line printer (`pcf_print_line`): whitespace runs become one space, and with
//! folding, lines longer than 80 columns continue on lines indented by four spaces.

use crate::syntax::lexical::is_blank;

/// Lines longer than this are folded.
pub const LINE_LIMIT: usize = 80;
/// The indentation of a folded line.
pub const INDENT: &[u8] = b"    ";

/// Appends `text` normalised (and folded when `fold`), followed by a newline.
pub fn print_line(out: &mut Vec<u8>, text: &[u8], fold: bool) {
    let mut line_len = 0usize;
    for word in text.split(|&b| is_blank(b)).filter(|w| !w.is_empty()) {
        if line_len > 0 {
            if !fold || line_len + word.len() < LINE_LIMIT {
                out.push(b' ');
                line_len += 1;
            } else {
                out.push(b'\n');
                out.extend_from_slice(INDENT);
                line_len = INDENT.len();
            }
        }
        out.extend_from_slice(word);
        line_len += word.len();
    }
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn printed(text: &str, fold: bool) -> String {
        let mut out = Vec::new();
        print_line(&mut out, text.as_bytes(), fold);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn normalises_whitespace() {
        assert_eq!(printed("a =  b\t\tc  \r", false), "a = b c\n");
        assert_eq!(printed("mydestination = ", false), "mydestination =\n");
    }

    #[test]
    fn folds_long_lines() {
        let long = format!("name = {}", "word ".repeat(20));
        let folded = printed(&long, true);
        assert!(folded.lines().all(|l| l.len() < 80), "{folded}");
        assert!(folded.lines().nth(1).unwrap().starts_with("    word"));
    }
}
