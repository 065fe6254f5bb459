//! Postfix's lexical rules, one copy each: which bytes are whitespace where, how a
//! `name = value` is split (`split_nameval()`), and how a `{ … }` is unwrapped
//! (`extpar()`). The parsers, the list grammar and postconf's views all use these.

use std::ops::Range;

/// `ISSPACE`: ASCII space, tab, newline, vertical tab, form feed and CR (main.cf lines,
/// `split_nameval()`, `extpar()`'s trimming).
pub fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// `CHARS_SPACE`: space, tab, CR and newline; unlike [`is_space`], no VT or FF (master.cf
/// words, `mac_expand()`, postconf's line printer).
pub fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// `CHARS_COMMA_SP`: what separates the elements of a list value.
pub fn is_list_separator(b: u8) -> bool {
    b == b',' || is_blank(b)
}

/// `range` of `text` without [`is_space`] bytes at either end.
pub fn trim(text: &[u8], mut range: Range<u32>) -> Range<u32> {
    while range.start < range.end && is_space(text[range.start as usize]) {
        range.start += 1;
    }
    while range.end > range.start && is_space(text[range.end as usize - 1]) {
        range.end -= 1;
    }
    range
}

/// `text` without [`is_space`] bytes at either end.
pub fn trimmed(text: &[u8]) -> &[u8] {
    let range = trim(text, 0..len(text));
    &text[range.start as usize..range.end as usize]
}

/// Postfix's `split_nameval()` on `range` of `text`: `name space* "=" space* value`,
/// with the name up to whitespace or `=` and the value trimmed; `None` without a name or
/// an `=`.
pub fn split_nameval(text: &[u8], range: Range<u32>) -> Option<(Range<u32>, Range<u32>)> {
    let range = trim(text, range);
    let bytes = &text[range.start as usize..range.end as usize];
    let name_len = bytes
        .iter()
        .position(|&b| is_space(b) || b == b'=')
        .unwrap_or(bytes.len());
    if name_len == 0 {
        return None;
    }
    let after_name = &bytes[name_len..];
    let equals = after_name.iter().position(|&b| !is_space(b))?;
    if after_name[equals] != b'=' {
        return None;
    }
    let value_start = range.start + (name_len + equals + 1) as u32;
    let name = range.start..range.start + name_len as u32;
    Some((name, trim(text, value_start..range.end)))
}

/// What is wrong with a braced text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BraceTrouble {
    /// The `{` is never closed (the rest of the text is kept).
    Unclosed,
    /// Text follows the closing `}` (Postfix drops it).
    TextAfter(Range<u32>),
}

/// Where the `}` that closes a text's opening `{` is (braces nest), if it is closed.
pub fn outer_brace_end(bytes: &[u8]) -> Option<usize> {
    let mut depth = 0usize;
    bytes.iter().position(|&b| {
        match b {
            b'{' => depth += 1,
            b'}' => {
                depth = depth.saturating_sub(1);
                return depth == 0;
            }
            _ => {}
        }
        false
    })
}

/// Postfix's `extpar(…, EXTPAR_FLAG_STRIP)` on `range` of `text`, which starts with `{`:
/// the text inside the outer braces, trimmed, and what is wrong with it.
pub fn unwrap_braces(text: &[u8], range: Range<u32>) -> (Range<u32>, Option<BraceTrouble>) {
    let bytes = &text[range.start as usize..range.end as usize];
    match outer_brace_end(bytes) {
        None => (
            trim(text, range.start + 1..range.end),
            Some(BraceTrouble::Unclosed),
        ),
        Some(close) => {
            let close = range.start + close as u32;
            let trouble =
                (close + 1 < range.end).then(|| BraceTrouble::TextAfter(close + 1..range.end));
            (trim(text, range.start + 1..close), trouble)
        }
    }
}

/// [`unwrap_braces`] on a whole text: its inside, whatever is wrong with it.
pub fn unwrapped(text: &[u8]) -> &[u8] {
    let (inner, _) = unwrap_braces(text, 0..len(text));
    &text[inner.start as usize..inner.end as usize]
}

fn len(text: &[u8]) -> u32 {
    u32::try_from(text.len()).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_nameval_reads_as_postfix_does() {
        let text = b"  name = = x  ";
        let (name, value) = split_nameval(text, 0..14).unwrap();
        assert_eq!(&text[name.start as usize..name.end as usize], b"name");
        assert_eq!(&text[value.start as usize..value.end as usize], b"= x");
        assert!(split_nameval(b"=x", 0..2).is_none());
        assert!(split_nameval(b"name x", 0..6).is_none());
    }

    #[test]
    fn braces_nest_and_their_trouble_is_told() {
        assert_eq!(unwrapped(b"{ a {b} }"), b"a {b}");
        assert_eq!(
            unwrap_braces(b"{a}b", 0..4),
            (1..2, Some(BraceTrouble::TextAfter(3..4)))
        );
        assert_eq!(
            unwrap_braces(b"{ a", 0..3),
            (2..3, Some(BraceTrouble::Unclosed))
        );
    }
}
