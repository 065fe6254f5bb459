//! List values: elements separated by commas and whitespace, where `{ … }` keeps an
//! element that contains separators together (Postfix's `mail_parm_split()`).
//!
//! ```text
//! list    := sep* (element sep*)*          sep := "," | " " | "\t" | "\r" | "\n"
//! element := (group | [^sep])+             group := "{" … matching "}"   (or to the end)
//! ```
//!
//! An element that starts with `{` loses its outer braces and the whitespace inside them;
//! an unclosed `{` or text after the closing `}` is an error Postfix treats as fatal when
//! it uses the list.

use std::ops::Range;

use super::lexical::{BraceTrouble, is_list_separator, unwrap_braces};

/// One list element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Element {
    /// The element as written.
    pub span: Range<u32>,
    /// The element's text: `span` without outer braces and the whitespace inside them.
    pub text: Range<u32>,
}

/// A malformed braced element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListError {
    /// Where the problem is.
    pub span: Range<u32>,
    /// What is wrong.
    pub message: &'static str,
}

/// Splits a list value into its elements, with the errors of malformed braced elements.
pub fn split(text: &[u8]) -> (Vec<Element>, Vec<ListError>) {
    let mut elements = Vec::new();
    let mut errors = Vec::new();
    let mut i = 0usize;
    while i < text.len() {
        if is_list_separator(text[i]) {
            i += 1;
            continue;
        }
        let start = i;
        let mut depth = 0usize;
        while i < text.len() {
            match text[i] {
                b'{' => depth += 1,
                b'}' if depth > 0 => depth -= 1,
                b if depth == 0 && is_list_separator(b) => break,
                _ => {}
            }
            i += 1;
        }
        let span = start as u32..i as u32;
        let inner = if text[start] == b'{' {
            strip_braces(text, span.clone(), &mut errors)
        } else {
            span.clone()
        };
        elements.push(Element { span, text: inner });
    }
    (elements, errors)
}

fn strip_braces(text: &[u8], span: Range<u32>, errors: &mut Vec<ListError>) -> Range<u32> {
    let (inner, trouble) = unwrap_braces(text, span.clone());
    match trouble {
        Some(BraceTrouble::Unclosed) => errors.push(ListError {
            span,
            message: "missing `}` in a braced list element",
        }),
        Some(BraceTrouble::TextAfter(after)) => errors.push(ListError {
            span: after,
            message: "text after the closing `}` of a list element",
        }),
        None => {}
    }
    inner
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(value: &str) -> Vec<&str> {
        let (elements, errors) = split(value.as_bytes());
        assert!(errors.is_empty(), "{errors:?}");
        elements
            .iter()
            .map(|e| &value[e.text.start as usize..e.text.end as usize])
            .collect()
    }

    #[test]
    fn splits_at_commas_and_whitespace() {
        assert_eq!(
            texts(" permit_mynetworks,reject_unauth_destination ,\n x"),
            ["permit_mynetworks", "reject_unauth_destination", "x"]
        );
    }

    #[test]
    fn braces_keep_separators_inside_an_element() {
        assert_eq!(
            texts("check_sender_access inline:{ a@example.org=OK, b=REJECT }, { x y }"),
            [
                "check_sender_access",
                "inline:{ a@example.org=OK, b=REJECT }",
                "x y"
            ]
        );
    }

    #[test]
    fn reports_unbalanced_braces() {
        let (elements, errors) = split(b"a {b c");
        assert_eq!(elements.len(), 2);
        assert_eq!(errors[0].span, 2..6);
        let (_, errors) = split(b"{a}b");
        assert_eq!(errors[0].span, 3..4);
    }
}
