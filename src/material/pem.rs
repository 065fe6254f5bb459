//! PEM files as OpenSSL's `PEM_read_bio()` reads them: every `-----BEGIN …-----` block
//! with its label and line, whatever the label (Postfix skips some labels and refuses
//! others, and a finding must name the line). The base64 body is decoded by
//! `rustls-pki-types`.

use rustls_pki_types::pem::{PemObject, SectionKind};

/// One PEM block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// The label: `CERTIFICATE`, `PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`, …
    pub label: String,
    /// The line of its `BEGIN` (1-based).
    pub line: u32,
    /// Whether its headers say it is encrypted (`Proc-Type: 4,ENCRYPTED`, the legacy
    /// OpenSSL encryption of `RSA PRIVATE KEY` and `EC PRIVATE KEY`).
    pub encrypted: bool,
    /// The decoded body, or why it cannot be decoded.
    pub der: Result<Vec<u8>, String>,
}

/// A PEM file: its blocks and, if reading stopped early, where and why (OpenSSL stops at
/// a block without its `END` line and reports an error for the whole file).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pem {
    /// The blocks, in file order.
    pub blocks: Vec<Block>,
    /// A syntax error that ends the reading: its line and what is wrong.
    pub broken: Option<(u32, String)>,
}

/// The most blocks read from one file: a bound on work for a file that is all headers.
const MAX_BLOCKS: usize = 10_000;

/// Scans `bytes` for PEM blocks.
pub fn scan(bytes: &[u8]) -> Pem {
    let mut pem = Pem::default();
    let mut lines = bytes
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .zip(1u32..);
    while let Some((line, number)) = lines.next() {
        let Some(label) = begin_label(line) else {
            continue;
        };
        if pem.blocks.len() >= MAX_BLOCKS {
            pem.broken = Some((number, format!("more than {MAX_BLOCKS} PEM blocks")));
            return pem;
        }
        let end = format!("-----END {label}-----");
        let mut body = Vec::new();
        let mut headers = false;
        let mut encrypted = false;
        let mut closed = false;
        let mut first = true;
        for (line, at) in lines.by_ref() {
            let trimmed = line.trim_ascii_end();
            if trimmed == end.as_bytes() {
                closed = true;
                break;
            }
            if trimmed.starts_with(b"-----END ") {
                pem.broken = Some((
                    at,
                    format!(
                        "`{}` ends the block `{label}` begun at line {number}",
                        String::from_utf8_lossy(trimmed)
                    ),
                ));
                return pem;
            }
            // RFC 1421 headers: `Name: value` lines right after BEGIN, up to a blank line.
            if (first || headers) && trimmed.contains(&b':') {
                headers = true;
                if trimmed.starts_with(b"Proc-Type:") && trimmed.ends_with(b"ENCRYPTED") {
                    encrypted = true;
                }
                first = false;
                continue;
            }
            if headers && trimmed.is_empty() {
                headers = false;
                continue;
            }
            first = false;
            body.extend_from_slice(trimmed.trim_ascii_start());
            body.push(b'\n');
        }
        if !closed {
            pem.broken = Some((
                number,
                format!("the block `{label}` has no `-----END {label}-----` line"),
            ));
            return pem;
        }
        pem.blocks.push(Block {
            der: decode(&body),
            label,
            line: number,
            encrypted,
        });
    }
    pem
}

/// The label of a `-----BEGIN label-----` line.
fn begin_label(line: &[u8]) -> Option<String> {
    let rest = line.trim_ascii_end().strip_prefix(b"-----BEGIN ")?;
    let label = rest.strip_suffix(b"-----")?;
    Some(String::from_utf8_lossy(label).into_owned())
}

/// The base64 body decoded: handed to `rustls-pki-types` under a label it knows (it
/// skips labels it does not, and the label does not change the decoding).
fn decode(body: &[u8]) -> Result<Vec<u8>, String> {
    let mut text = Vec::with_capacity(body.len() + 64);
    text.extend_from_slice(b"-----BEGIN CERTIFICATE-----\n");
    text.extend_from_slice(body);
    text.extend_from_slice(b"-----END CERTIFICATE-----\n");
    match <(SectionKind, Vec<u8>)>::from_pem_slice(&text) {
        Ok((_, der)) if der.is_empty() => Err("the block is empty".to_owned()),
        Ok((_, der)) => Ok(der),
        Err(e) => Err(format!("its base64 cannot be decoded ({e})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PEM block of `label` around `body` (three bytes of base64 here: no key).
    fn block(label: &str, body: &str) -> String {
        format!("-----BEGIN {label}-----\n{body}-----END {label}-----\n")
    }

    #[test]
    fn blocks_keep_their_label_line_and_encryption() {
        let text = format!(
            "junk\n{}{}",
            block("PRIVATE KEY", "AAEC\n"),
            block(
                "RSA PRIVATE KEY",
                "Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAEC\n"
            )
        );
        let pem = scan(text.as_bytes());
        assert_eq!(pem.broken, None);
        assert_eq!(pem.blocks.len(), 2);
        assert_eq!(pem.blocks[0].label, "PRIVATE KEY");
        assert_eq!(pem.blocks[0].line, 2);
        assert_eq!(pem.blocks[0].der, Ok(vec![0, 1, 2]));
        assert!(!pem.blocks[0].encrypted);
        assert_eq!(pem.blocks[1].line, 5);
        assert!(pem.blocks[1].encrypted);
        assert_eq!(pem.blocks[1].der, Ok(vec![0, 1, 2]));
    }

    #[test]
    fn a_block_without_its_end_breaks_the_file() {
        let pem = scan(b"-----BEGIN CERTIFICATE-----\nAAEC\n");
        assert!(pem.blocks.is_empty());
        assert_eq!(pem.broken.map(|b| b.0), Some(1));
        let mismatched = format!(
            "-----BEGIN CERTIFICATE-----\nAAEC\n-----END {}-----\n",
            "OTHER"
        );
        let pem = scan(mismatched.as_bytes());
        assert_eq!(pem.broken.map(|b| b.0), Some(3));
    }

    #[test]
    fn bad_base64_is_said() {
        let pem = scan(b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n");
        assert!(pem.blocks[0].der.is_err());
    }
}
