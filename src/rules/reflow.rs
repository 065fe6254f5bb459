//! Rule texts are wrapped for the YAML file; this joins the lines of each paragraph with
//! spaces so that they reflow in any output. Shared with `build.rs`, which applies it
//! when it turns the rule files into the JSON that `check` loads.

/// Joins the lines of each paragraph; blank lines still separate paragraphs.
pub fn unwrap_paragraphs(text: &str) -> String {
    text.split("\n\n")
        .map(|paragraph| paragraph.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|paragraph| !paragraph.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}
