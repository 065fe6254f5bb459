//! Published TLSA records, read from what a user sees when they look at what is published:
//! zone-file text (RFC 1035 master file format, with RFC 3597 generic records) and `dig`
//! output (default, `+noall +answer`, `+multiline`, `+short`; `kdig` and `drill` print
//! zone-file lines too).
//!
//! The text is tokenised once, front to back, so the work is linear in its size; records of
//! other types are read only as far as their type and then dropped.

use std::fmt;

use super::Tlsa;

/// More records than any real name set publishes; beyond it the text is not what we think.
const MAX_RECORDS: usize = 100_000;

/// One published TLSA record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Published {
    /// Owner name: lower case, absolute, with the trailing dot (`_25._tcp.mx.example.com.`); None for
    /// a line that is only record data (`dig +short` output), which applies to every name checked.
    pub name: Option<String>,
    /// The TTL when the line (or a `$TTL` directive) gives one.
    pub ttl: Option<u32>,
    /// The record data.
    pub tlsa: Tlsa,
    /// The 1-based line the record starts on.
    pub line: u32,
}

/// Why a text cannot be read as TLSA records: the line and what is wrong, in plain words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// The 1-based line the problem is on.
    pub line: u32,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

impl Published {
    /// Whether the record is at `owner` (a data-only line is at every name).
    pub fn is_at(&self, owner: &str) -> bool {
        self.name.as_deref().is_none_or(|n| n == owner)
    }
}

/// Reads every TLSA record in `text`; other record types are skipped.
pub fn parse(text: &str) -> Result<Vec<Published>, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lexer = Lexer::new(text);
    let mut state = State::default();
    let mut tokens = Vec::new();
    let mut out = Vec::new();
    while let Some(start) = lexer.next_record(&mut tokens)? {
        if let Some(record) = state.record(start, &tokens)? {
            if out.len() >= MAX_RECORDS {
                return Err(error(
                    record.line,
                    format!(
                        "more than {MAX_RECORDS} TLSA records; this is not a record set a server publishes"
                    ),
                ));
            }
            out.push(record);
        }
    }
    Ok(out)
}

fn error(line: u32, message: impl Into<String>) -> ParseError {
    ParseError {
        line,
        message: message.into(),
    }
}

/// A token quoted for a message.
fn shown(s: &str) -> String {
    format!("\"{}\"", clipped(s))
}

/// A token cut short, so a runaway token cannot flood the message.
fn clipped(s: &str) -> String {
    const MAX: usize = 60;
    match s.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", s.get(..cut).unwrap_or_default()),
        None => s.to_owned(),
    }
}

/// One word of a record, with the line it is on (records in parentheses span lines).
#[derive(Clone, Copy, Debug)]
struct Token<'a> {
    text: &'a str,
    line: u32,
}

/// Where a record starts: its line, and whether that line begins with blank space (which
/// makes the record reuse the previous owner).
#[derive(Clone, Copy, Debug)]
struct Start {
    line: u32,
    indented: bool,
}

/// Splits the text into records: one per line, or several lines joined by parentheses;
/// comments dropped, quoted strings kept whole so a `;` or `(` in them is data.
struct Lexer<'a> {
    text: &'a str,
    pos: usize,
    line: u32,
    indented: bool,
}

fn is_blank(c: u8) -> bool {
    matches!(c, b' ' | b'\t')
}

impl<'a> Lexer<'a> {
    fn new(text: &'a str) -> Self {
        Lexer {
            text,
            pos: 0,
            line: 1,
            indented: text.as_bytes().first().copied().is_some_and(is_blank),
        }
    }

    /// Fills `tokens` with the next record's words; None at the end of the text.
    fn next_record(&mut self, tokens: &mut Vec<Token<'a>>) -> Result<Option<Start>, ParseError> {
        tokens.clear();
        let bytes = self.text.as_bytes();
        let mut depth: u32 = 0;
        let mut opened = 0;
        let mut start: Option<Start> = None;
        while let Some(&c) = bytes.get(self.pos) {
            match c {
                b'\n' => {
                    self.pos += 1;
                    self.line = self.line.saturating_add(1);
                    self.indented = bytes.get(self.pos).copied().is_some_and(is_blank);
                    if depth == 0 {
                        if !tokens.is_empty() {
                            return Ok(start);
                        }
                        start = None;
                    }
                }
                b' ' | b'\t' | b'\r' => self.pos += 1,
                b';' => {
                    self.pos = match bytes
                        .get(self.pos..)
                        .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
                    {
                        Some(n) => self.pos + n,
                        None => bytes.len(),
                    };
                }
                b'(' => {
                    self.begin(&mut start);
                    if depth == 0 {
                        opened = self.line;
                    }
                    depth = depth.saturating_add(1);
                    self.pos += 1;
                }
                b')' => {
                    if depth == 0 {
                        return Err(error(self.line, "`)` without an open `(`"));
                    }
                    depth -= 1;
                    self.pos += 1;
                }
                _ => {
                    self.begin(&mut start);
                    let from = self.pos;
                    self.pos = if c == b'"' {
                        self.quoted_end()
                    } else {
                        self.word_end()
                    };
                    tokens.push(Token {
                        text: self.text.get(from..self.pos).unwrap_or_default(),
                        line: self.line,
                    });
                }
            }
        }
        if depth > 0 {
            return Err(error(opened, "`(` is never closed"));
        }
        Ok(if tokens.is_empty() { None } else { start })
    }

    fn begin(&self, start: &mut Option<Start>) {
        start.get_or_insert(Start {
            line: self.line,
            indented: self.indented,
        });
    }

    /// Where the byte after a `\` escape is, so an escaped delimiter stays in the word
    /// (a line end is never escaped: it would hide the end of the record).
    fn escaped(&self, at: usize) -> usize {
        match self.text.as_bytes().get(at + 1) {
            Some(&b) if b != b'\n' => at + 2,
            _ => at + 1,
        }
    }

    fn word_end(&self) -> usize {
        let bytes = self.text.as_bytes();
        let mut at = self.pos;
        while let Some(&c) = bytes.get(at) {
            match c {
                b' ' | b'\t' | b'\r' | b'\n' | b';' | b'(' | b')' | b'"' => break,
                b'\\' => at = self.escaped(at),
                _ => at += 1,
            }
        }
        at
    }

    /// The end of a quoted string: after its closing quote, or at the line end when it has
    /// none (only skipped record types hold strings, so being lenient loses nothing).
    fn quoted_end(&self) -> usize {
        let bytes = self.text.as_bytes();
        let mut at = self.pos + 1;
        while let Some(&c) = bytes.get(at) {
            match c {
                b'"' => return at + 1,
                b'\n' => break,
                b'\\' => at = self.escaped(at),
                _ => at += 1,
            }
        }
        at
    }
}

/// What earlier lines set for later ones.
#[derive(Default)]
struct State {
    origin: Option<String>,
    default_ttl: Option<u32>,
    last_owner: Option<String>,
}

impl State {
    fn record(
        &mut self,
        start: Start,
        tokens: &[Token<'_>],
    ) -> Result<Option<Published>, ParseError> {
        let Some((first, rest)) = tokens.split_first() else {
            return Ok(None);
        };
        if first.text.starts_with('$') {
            self.directive(first, rest)?;
            return Ok(None);
        }
        // `dig +short` prints the target of a CNAME on a line of its own before the records
        // (TLSA records are often CNAMEs to a provider's); a zone line is never only a name.
        if rest.is_empty() && is_absolute(first.text) {
            return Ok(None);
        }
        if let Some(tlsa) = short_rdata(tokens)? {
            return Ok(Some(Published {
                name: None,
                ttl: None,
                tlsa,
                line: start.line,
            }));
        }
        let (owner, rest) = if start.indented {
            match &self.last_owner {
                Some(owner) => (owner.clone(), tokens),
                None => {
                    return Err(error(
                        start.line,
                        "the line starts with blank space, which continues the previous record's owner, but there is no previous record",
                    ));
                }
            }
        } else {
            let owner = self.absolute(first)?;
            self.last_owner = Some(owner.clone());
            (owner, rest)
        };

        let mut rest = rest;
        let mut ttl = None;
        let mut class = false;
        while let Some((token, tail)) = rest.split_first() {
            if ttl.is_none() && token.text.starts_with(|c: char| c.is_ascii_digit()) {
                ttl = Some(parse_ttl(token)?);
            } else if !class && is_class(token.text) {
                class = true;
            } else {
                break;
            }
            rest = tail;
        }
        let Some((kind, rdata)) = rest.split_first() else {
            return Err(error(
                start.line,
                format!("the record for {} has no type", clipped(&owner)),
            ));
        };
        if !is_type_shaped(kind.text) {
            let hint = if start.indented {
                " (the line starts with blank space, so it continues the previous owner)"
            } else {
                ""
            };
            return Err(error(
                kind.line,
                format!(
                    "{} is where the record type should be, and is not one{hint}",
                    shown(kind.text)
                ),
            ));
        }
        if !is_tlsa_type(kind.text) {
            return Ok(None);
        }
        let tlsa = tlsa_rdata(kind, rdata)?;
        Ok(Some(Published {
            name: Some(owner),
            ttl: ttl.or(self.default_ttl),
            tlsa,
            line: start.line,
        }))
    }

    fn directive(&mut self, name: &Token<'_>, args: &[Token<'_>]) -> Result<(), ParseError> {
        let upper = name.text.to_ascii_uppercase();
        match upper.as_str() {
            "$ORIGIN" => match args {
                [origin] => {
                    self.origin = Some(self.absolute(origin)?);
                    Ok(())
                }
                [] => Err(error(name.line, "$ORIGIN without a name")),
                [_, extra, ..] => Err(error(
                    extra.line,
                    format!(
                        "$ORIGIN takes one name; {} is one too many",
                        shown(extra.text)
                    ),
                )),
            },
            "$TTL" => match args {
                [ttl] => {
                    self.default_ttl = Some(parse_ttl(ttl)?);
                    Ok(())
                }
                [] => Err(error(name.line, "$TTL without a value")),
                [_, extra, ..] => Err(error(
                    extra.line,
                    format!(
                        "$TTL takes one value; {} is one too many",
                        shown(extra.text)
                    ),
                )),
            },
            "$INCLUDE" => Err(error(
                name.line,
                "$INCLUDE is not followed (pflint reads only the text it is given); put the included file's TLSA records here instead",
            )),
            _ => Err(error(
                name.line,
                format!(
                    "the directive {} is not supported; give the records it makes, written out",
                    shown(name.text)
                ),
            )),
        }
    }

    /// `token` as an absolute, lower-case name, relative names completed with `$ORIGIN`.
    fn absolute(&self, token: &Token<'_>) -> Result<String, ParseError> {
        if token.text == "@" {
            return self
                .origin
                .clone()
                .ok_or_else(|| error(token.line, "@ with no $ORIGIN"));
        }
        if token.text.starts_with('"') {
            return Err(error(
                token.line,
                format!("the name {} is quoted", shown(token.text)),
            ));
        }
        let name = token.text.to_ascii_lowercase();
        if is_absolute(&name) {
            return Ok(name);
        }
        match self.origin.as_deref() {
            Some(".") => Ok(format!("{name}.")),
            Some(origin) => Ok(format!("{name}.{origin}")),
            None => Err(error(
                token.line,
                format!("relative name {} with no $ORIGIN", clipped(token.text)),
            )),
        }
    }
}

/// Whether a name ends in a dot that is not escaped (`a\.` is relative).
fn is_absolute(name: &str) -> bool {
    let Some(body) = name.strip_suffix('.') else {
        return false;
    };
    let backslashes = body.bytes().rev().take_while(|&b| b == b'\\').count();
    backslashes % 2 == 0
}

/// A TTL in seconds: plain digits, or BIND units (`1h30m`, `2D`, `1w`).
fn parse_ttl(token: &Token<'_>) -> Result<u32, ParseError> {
    ttl_seconds(token.text).ok_or_else(|| {
        error(
            token.line,
            format!(
                "TTL {} is not a number of seconds or a BIND duration like 1h30m (at most {} seconds)",
                shown(token.text),
                u32::MAX
            ),
        )
    })
}

fn ttl_seconds(text: &str) -> Option<u32> {
    if text.is_empty() {
        return None;
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().ok();
    }
    let mut total: u64 = 0;
    let mut number: Option<u64> = None;
    for b in text.bytes() {
        if b.is_ascii_digit() {
            let n = number
                .unwrap_or(0)
                .checked_mul(10)?
                .checked_add(u64::from(b - b'0'))?;
            number = Some(n.min(u64::from(u32::MAX) + 1));
        } else {
            let unit: u64 = match b.to_ascii_lowercase() {
                b's' => 1,
                b'm' => 60,
                b'h' => 3600,
                b'd' => 86_400,
                b'w' => 604_800,
                _ => return None,
            };
            total = total.checked_add(number.take()?.checked_mul(unit)?)?;
            if total > u64::from(u32::MAX) {
                return None;
            }
        }
    }
    // A bare number after a unit (`1h30`) is not BIND syntax.
    if number.is_some() {
        return None;
    }
    u32::try_from(total).ok()
}

fn is_class(text: &str) -> bool {
    const CLASSES: [&str; 6] = ["IN", "CH", "CHAOS", "HS", "HESIOD", "CS"];
    CLASSES.iter().any(|c| text.eq_ignore_ascii_case(c)) || numbered("CLASS", text).is_some()
}

/// `TYPE52`, `CLASS1`: the RFC 3597 spelling of a number with no mnemonic.
fn numbered(prefix: &str, text: &str) -> Option<u16> {
    let head = text.get(..prefix.len())?;
    let digits = text.get(prefix.len()..)?;
    if !head.eq_ignore_ascii_case(prefix)
        || digits.is_empty()
        || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    digits.parse().ok()
}

/// Whether a word can be a record type, so a name or data in that place is an error
/// rather than a silently skipped record of an unknown type.
fn is_type_shaped(text: &str) -> bool {
    let mut bytes = text.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn is_tlsa_type(text: &str) -> bool {
    text.eq_ignore_ascii_case("TLSA") || numbered("TYPE", text) == Some(52)
}

/// Record types a `dig +short` line must not contain, lest a zone line be read as data.
fn is_type_name(text: &str) -> bool {
    const TYPES: [&str; 30] = [
        "A",
        "NS",
        "CNAME",
        "SOA",
        "PTR",
        "HINFO",
        "MX",
        "TXT",
        "AAAA",
        "SRV",
        "NAPTR",
        "DNAME",
        "DS",
        "SSHFP",
        "RRSIG",
        "NSEC",
        "DNSKEY",
        "NSEC3",
        "NSEC3PARAM",
        "TLSA",
        "SMIMEA",
        "CDS",
        "CDNSKEY",
        "OPENPGPKEY",
        "SVCB",
        "HTTPS",
        "SPF",
        "CAA",
        "URI",
        "ZONEMD",
    ];
    TYPES.iter().any(|t| text.eq_ignore_ascii_case(t)) || numbered("TYPE", text).is_some()
}

fn is_hex(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_hexdigit())
}

fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// A byte field of the rdata: decimal digits only (`+1` and `0x1` are not presentation form).
fn byte_field(text: &str) -> Option<u8> {
    if is_digits(text) {
        text.parse().ok()
    } else {
        None
    }
}

/// The record, when the line is only TLSA rdata as `dig +short` prints it: `N N N HEX…`
/// (or the generic `\# LEN HEX…` older dig prints). A zone line cannot look like this: its
/// type comes by the fourth word and no type is a number, so the check on class and type
/// names only guards against a misreading, it never decides a valid zone line.
fn short_rdata(tokens: &[Token<'_>]) -> Result<Option<Tlsa>, ParseError> {
    let data = match tokens {
        [mark, length, data @ ..] if mark.text == "\\#" && is_digits(length.text) => data,
        [u, s, m, data @ ..]
            if byte_field(u.text).is_some()
                && byte_field(s.text).is_some()
                && byte_field(m.text).is_some() =>
        {
            data
        }
        _ => return Ok(None),
    };
    if data.is_empty()
        || !data.iter().all(|t| is_hex(t.text))
        || tokens
            .iter()
            .any(|t| is_class(t.text) || is_type_name(t.text))
    {
        return Ok(None);
    }
    let Some(first) = tokens.first() else {
        return Ok(None);
    };
    tlsa_rdata(first, tokens).map(Some)
}

/// The TLSA rdata after the type (`at`, for the line of a missing part).
fn tlsa_rdata(at: &Token<'_>, rdata: &[Token<'_>]) -> Result<Tlsa, ParseError> {
    if let Some((mark, rest)) = rdata.split_first()
        && mark.text == "\\#"
    {
        return generic_rdata(mark, rest);
    }
    let mut fields = rdata.iter();
    let mut last = at;
    let mut next = |name: &str| -> Result<u8, ParseError> {
        let Some(token) = fields.next() else {
            return Err(error(
                last.line,
                format!(
                    "the TLSA record has no {name} (it needs usage, selector, matching type, then the data)"
                ),
            ));
        };
        last = token;
        byte_field(token.text).ok_or_else(|| {
            error(
                token.line,
                format!(
                    "TLSA {name} {} is not a number from 0 to 255",
                    shown(token.text)
                ),
            )
        })
    };
    let usage = next("usage")?;
    let selector = next("selector")?;
    let matching = next("matching type")?;
    let chunks = match rdata.get(3..) {
        Some(chunks) if !chunks.is_empty() => chunks,
        _ => {
            let line = rdata.last().map_or(at.line, |t| t.line);
            return Err(error(
                line,
                "the TLSA record has no certificate association data",
            ));
        }
    };
    let mut data = Vec::new();
    decode_hex(chunks, &mut data)?;
    Ok(Tlsa {
        usage,
        selector,
        matching,
        data,
    })
}

/// RFC 3597 `\# LENGTH HEX…`: the bytes are the wire form, usage, selector, matching, data.
fn generic_rdata(mark: &Token<'_>, rest: &[Token<'_>]) -> Result<Tlsa, ParseError> {
    let Some((length, chunks)) = rest.split_first() else {
        return Err(error(mark.line, "generic data \\# without its length"));
    };
    let Some(expected) = is_digits(length.text)
        .then(|| length.text.parse::<usize>().ok())
        .flatten()
    else {
        return Err(error(
            length.line,
            format!("generic data length {} is not a number", shown(length.text)),
        ));
    };
    let mut bytes = Vec::new();
    decode_hex(chunks, &mut bytes)?;
    if bytes.len() != expected {
        return Err(error(
            length.line,
            format!("generic data says {expected} bytes but has {}", bytes.len()),
        ));
    }
    match bytes.as_slice() {
        [usage, selector, matching, data @ ..] if !data.is_empty() => Ok(Tlsa {
            usage: *usage,
            selector: *selector,
            matching: *matching,
            data: data.to_vec(),
        }),
        [_, _, _] => Err(error(
            length.line,
            "the TLSA record has no certificate association data",
        )),
        _ => Err(error(
            length.line,
            "generic TLSA data needs at least 3 bytes (usage, selector, matching type) and the data",
        )),
    }
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Hex split into chunks anywhere (RFC 6698 allows blank space in the data; dig splits every
/// 56 digits), joined into `out`.
fn decode_hex(chunks: &[Token<'_>], out: &mut Vec<u8>) -> Result<(), ParseError> {
    let mut high: Option<u8> = None;
    let mut digits = 0usize;
    for chunk in chunks {
        let not_hex = || {
            error(
                chunk.line,
                format!("TLSA data {} is not hexadecimal", shown(chunk.text)),
            )
        };
        for c in chunk.text.bytes() {
            let value = hex_value(c).ok_or_else(not_hex)?;
            match high.take() {
                Some(h) => out.push(h << 4 | value),
                None => high = Some(value),
            }
        }
        digits += chunk.text.len();
    }
    if high.is_some()
        && let Some(last) = chunks.last()
    {
        let message = match chunks {
            [only] => format!(
                "TLSA data {} has an odd number of hex digits ({digits})",
                shown(only.text)
            ),
            _ => format!(
                "TLSA data has an odd number of hex digits ({digits}, in {} chunks; the last is {})",
                chunks.len(),
                shown(last.text)
            ),
        };
        return Err(error(last.line, message));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6";

    fn bytes(hex: &str) -> Vec<u8> {
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect()
    }

    fn tlsa(usage: u8, selector: u8, matching: u8, hex: &str) -> Tlsa {
        Tlsa {
            usage,
            selector,
            matching,
            data: bytes(hex),
        }
    }

    fn one(text: &str) -> Published {
        let mut records = parse(text).unwrap();
        assert_eq!(records.len(), 1, "{records:?}");
        records.remove(0)
    }

    fn fails(text: &str) -> ParseError {
        match parse(text) {
            Ok(records) => panic!("parsed {records:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn bind_zone_fragment() {
        let text = "\
$ORIGIN example.com.
$TTL 3600
@               IN  SOA   ns1 hostmaster ( 2024010101 ; serial
                          7200 3600 1209600 300 )
                IN  MX    10 mx
mx              IN  A     192.0.2.25
_25._tcp.mx     IN  TLSA  3 1 1 ( 0C72AC70B745AC19998811B131D662C9
                                  AC69DBDBE7CB23E5B514B56664C5D3D6 ) ; current key
                300 IN TLSA 3 1 1 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
; the submission port
_587._TCP.MX.example.com. TLSA 2 0 1 abcdef01 ; absolute name, upper case
@ 60 IN TLSA 3 1 2 00ff
txt IN TXT \"a ; not a comment (\" \"b\"
";
        let records = parse(text).unwrap();
        assert_eq!(
            records,
            vec![
                Published {
                    name: Some("_25._tcp.mx.example.com.".into()),
                    ttl: Some(3600),
                    tlsa: tlsa(3, 1, 1, HEX),
                    line: 7,
                },
                Published {
                    name: Some("_25._tcp.mx.example.com.".into()),
                    ttl: Some(300),
                    tlsa: tlsa(3, 1, 1, &"a".repeat(64)),
                    line: 9,
                },
                Published {
                    name: Some("_587._tcp.mx.example.com.".into()),
                    ttl: Some(3600),
                    tlsa: tlsa(2, 0, 1, "abcdef01"),
                    line: 11,
                },
                Published {
                    name: Some("example.com.".into()),
                    ttl: Some(60),
                    tlsa: tlsa(3, 1, 2, "00ff"),
                    line: 12,
                },
            ]
        );
    }

    #[test]
    fn origin_changes_and_relative_origin() {
        let text = "\
$ORIGIN example.com.
$ORIGIN _tcp.mx
_25 TLSA 3 1 1 00
$ORIGIN .
org. IN A 192.0.2.1
other TLSA 3 1 1 01
";
        let records = parse(text).unwrap();
        assert_eq!(records[0].name.as_deref(), Some("_25._tcp.mx.example.com."));
        assert_eq!(records[0].ttl, None);
        assert_eq!(records[1].name.as_deref(), Some("other."));
        assert_eq!(records.len(), 2);
    }

    #[test]
    fn dig_default_output() {
        let text = "\
; <<>> DiG 9.18.24-1-Debian <<>> TLSA _25._tcp.mx.example.com +dnssec
;; global options: +cmd
;; Got answer:
;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 48211
;; flags: qr rd ra ad; QUERY: 1, ANSWER: 2, AUTHORITY: 0, ADDITIONAL: 1

;; OPT PSEUDOSECTION:
; EDNS: version: 0, flags: do; udp: 1232
;; QUESTION SECTION:
;_25._tcp.mx.example.com.\tIN\tTLSA

;; ANSWER SECTION:
_25._tcp.mx.example.com. 3600\tIN\tTLSA\t3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B566 64C5D3D6
_25._tcp.mx.example.com. 3600\tIN\tRRSIG\tTLSA 13 5 3600 20240301000000 20240201000000 12345 example.com. mK9s0Zl+Qx1Zk0bS2x/9Q3Yt5hX0cG1rKx0oJcI2l7k= 

;; Query time: 12 msec
;; SERVER: 127.0.0.53#53(127.0.0.53) (UDP)
;; WHEN: Mon Feb 05 10:00:00 UTC 2024
;; MSG SIZE  rcvd: 245
";
        assert_eq!(
            one(text),
            Published {
                name: Some("_25._tcp.mx.example.com.".into()),
                ttl: Some(3600),
                tlsa: tlsa(3, 1, 1, HEX),
                line: 13,
            }
        );
    }

    #[test]
    fn dig_multiline_and_answer_only() {
        let multiline = "\
_25._tcp.mx.example.com. 3600 IN TLSA 3 1 1 (
\t\t\t\t0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB
\t\t\t\t23E5B514B56664C5D3D6 )
";
        assert_eq!(one(multiline).tlsa, tlsa(3, 1, 1, HEX));
        assert_eq!(one(multiline).line, 1);
        let answer = format!(
            "_25._tcp.mx.example.com. 1h IN TLSA 3 1 1 {}\r\n",
            HEX.to_lowercase()
        );
        let record = one(&answer);
        assert_eq!(record.ttl, Some(3600));
        assert_eq!(record.tlsa, tlsa(3, 1, 1, HEX));
    }

    #[test]
    fn dig_short_output() {
        let text = "\
3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B566 64C5D3D6
2 1 1 abcdefABCDEF0123
";
        let records = parse(text).unwrap();
        assert_eq!(
            records,
            vec![
                Published {
                    name: None,
                    ttl: None,
                    tlsa: tlsa(3, 1, 1, HEX),
                    line: 1,
                },
                Published {
                    name: None,
                    ttl: None,
                    tlsa: tlsa(2, 1, 1, "abcdefabcdef0123"),
                    line: 2,
                },
            ]
        );
        // A CNAME's target comes first when the name is an alias.
        let aliased = "_25._tcp.mx.provider.example.\n3 1 1 00ff\n";
        assert_eq!(one(aliased).tlsa, tlsa(3, 1, 1, "00ff"));
        assert_eq!(one(aliased).line, 2);
        // Indented, as pasted into a settings file.
        assert_eq!(one("   3 1 1 00ff\n").name, None);
        // Older dig prints TLSA in the generic form.
        assert_eq!(one("\\# 5 030101abcd\n").tlsa, tlsa(3, 1, 1, "abcd"));
    }

    #[test]
    fn short_heuristic_leaves_zone_lines_alone() {
        // A zone line continuing an owner has TTL and class before the type.
        let text = "$ORIGIN example.com.\nmx IN A 192.0.2.1\n 255 IN TLSA 3 1 1 00\n";
        let record = one(text);
        assert_eq!(record.name.as_deref(), Some("mx.example.com."));
        assert_eq!(record.ttl, Some(255));
        // A numeric owner is a name, not data.
        let record = one("$ORIGIN example.com.\n3 1 IN TLSA 3 1 1 00\n");
        assert_eq!(record.name.as_deref(), Some("3.example.com."));
        assert_eq!(record.ttl, Some(1));
    }

    #[test]
    fn hex_case_and_chunks() {
        let upper = one("x. TLSA 3 1 1 ABCDEF\n");
        let lower = one("x. TLSA 3 1 1 abcdef\n");
        let mixed = one("x. TLSA 3 1 1 aB c DeF\n");
        assert_eq!(upper.tlsa, lower.tlsa);
        assert_eq!(mixed.tlsa, lower.tlsa);
        assert_eq!(lower.tlsa.data, vec![0xab, 0xcd, 0xef]);
    }

    #[test]
    fn generic_form() {
        let both = one("_25._tcp.mx.example.com. 300 IN TYPE52 \\# 6 030101 ABCDEF\n");
        assert_eq!(both.tlsa, tlsa(3, 1, 1, "abcdef"));
        let only_type = one("_25._tcp.mx.example.com. type52 3 1 1 abcdef\n");
        assert_eq!(only_type.tlsa, both.tlsa);
        let only_data = one("_25._tcp.mx.example.com. TLSA \\# 4 03010100\n");
        assert_eq!(only_data.tlsa, tlsa(3, 1, 1, "00"));
        // Other types in generic form are skipped.
        assert!(
            parse("x. TYPE65534 \\# 2 0102\nx. CLASS1 TYPE1 \\# 4 c0000201\n")
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn ttl_units() {
        assert_eq!(ttl_seconds("1h30m"), Some(5400));
        assert_eq!(ttl_seconds("2D"), Some(172_800));
        assert_eq!(ttl_seconds("1w30m"), Some(606_600));
        assert_eq!(ttl_seconds("45s"), Some(45));
        assert_eq!(ttl_seconds("0"), Some(0));
        assert_eq!(ttl_seconds("4294967295"), Some(u32::MAX));
        assert_eq!(ttl_seconds("4294967296"), None);
        assert_eq!(ttl_seconds("99999999999999999999999w"), None);
        assert_eq!(ttl_seconds("1h30"), None);
        assert_eq!(ttl_seconds("1x"), None);
        assert_eq!(ttl_seconds("h"), None);
        assert_eq!(ttl_seconds(""), None);
        let record = one("$TTL 1h30m\nx. IN TLSA 3 1 1 00\n");
        assert_eq!(record.ttl, Some(5400));
        // Class and TTL in either order.
        assert_eq!(one("x. IN 1H30M TLSA 3 1 1 00\n").ttl, Some(5400));
    }

    #[test]
    fn errors_name_line_and_problem() {
        let cases: &[(&str, u32, &str)] = &[
            (
                "x. IN A 1.2.3.4\n\n_25._tcp.x. TLSA 3 1 1 XYZ\n",
                3,
                "TLSA data \"XYZ\" is not hexadecimal",
            ),
            (
                "x. TLSA 3 1 1 abcdef abc\n",
                1,
                "odd number of hex digits (9",
            ),
            (
                "x. TLSA 3 1 1 abc\n",
                1,
                "TLSA data \"abc\" has an odd number",
            ),
            (
                "x. TLSA 3 1 256 00\n",
                1,
                "TLSA matching type \"256\" is not a number from 0 to 255",
            ),
            (
                "x. TLSA 3 one 1 00\n",
                1,
                "TLSA selector \"one\" is not a number",
            ),
            ("x. TLSA -3 1 1 00\n", 1, "TLSA usage \"-3\""),
            ("x. TLSA 3 1 1\n", 1, "no certificate association data"),
            ("x. TLSA 3 1\n", 1, "no matching type"),
            ("x. TLSA\n", 1, "no usage"),
            ("x. IN\n", 1, "has no type"),
            ("\n\nx. TLSA \\# 5 0301\n", 3, "says 5 bytes but has 2"),
            ("x. TLSA \\# 2 0301\n", 1, "at least 3 bytes"),
            (
                "x. TLSA \\# 3 030101\n",
                1,
                "no certificate association data",
            ),
            ("x. TLSA \\# z 030101\n", 1, "length \"z\" is not a number"),
            ("x. TLSA \\#\n", 1, "without its length"),
            ("x. 1x TLSA 3 1 1 00\n", 1, "TTL \"1x\""),
            ("$TTL soon\n", 1, "TTL \"soon\""),
            ("$TTL\n", 1, "$TTL without a value"),
            ("$ORIGIN\n", 1, "$ORIGIN without a name"),
            ("$ORIGIN a. b.\n", 1, "one too many"),
            ("\n$INCLUDE other.zone\n", 2, "$INCLUDE is not followed"),
            (
                "$GENERATE 1-10 host$ A 192.0.2.$\n",
                1,
                "directive \"$GENERATE\" is not supported",
            ),
            (
                "x. IN A 1.2.3.4\ny. TLSA ( 3 1 1\n00\n",
                2,
                "`(` is never closed",
            ),
            ("x. IN A 1.2.3.4 )\n", 1, "`)` without an open `(`"),
            (
                "\n_25._tcp.Mx TLSA 3 1 1 00\n",
                2,
                "relative name _25._tcp.Mx with no $ORIGIN",
            ),
            ("@ TLSA 3 1 1 00\n", 1, "@ with no $ORIGIN"),
            ("  IN TLSA 3 1 1 00\n", 1, "no previous record"),
            (
                "x. IN A 1.2.3.4\n  _25._tcp.x. IN TLSA 3 1 1 00\n",
                2,
                "continues the previous owner",
            ),
            (
                "x. TLSA (\n3 1 1\nabcg )\n",
                3,
                "\"abcg\" is not hexadecimal",
            ),
            ("\"x\". TLSA 3 1 1 00\n", 1, "quoted"),
        ];
        for (text, line, message) in cases {
            let e = fails(text);
            assert_eq!(e.line, *line, "{text:?}: {e}");
            assert!(e.message.contains(message), "{text:?}: {e}");
        }
        assert_eq!(
            fails("x. TLSA 3 1 1 XYZ\n").to_string(),
            "line 1: TLSA data \"XYZ\" is not hexadecimal"
        );
    }

    #[test]
    fn record_cap() {
        let at_cap = "3 1 1 00\n".repeat(MAX_RECORDS);
        assert_eq!(parse(&at_cap).unwrap().len(), MAX_RECORDS);
        let over = format!("{at_cap}3 1 1 00\n");
        let e = fails(&over);
        assert_eq!(e.line, MAX_RECORDS as u32 + 1);
        assert!(e.message.contains("more than 100000"), "{e}");
        // Skipped records do not count.
        let skipped = "x. A 192.0.2.1\n".repeat(MAX_RECORDS + 1);
        assert!(parse(&skipped).unwrap().is_empty());
    }

    #[test]
    fn huge_token_is_shown_short() {
        let text = format!("x. TLSA 3 1 1 {}z\n", "a".repeat(100_000));
        let e = fails(&text);
        assert!(e.message.len() < 200, "{e}");
    }

    #[test]
    fn no_panic_on_noise() {
        const PIECES: &[&str] = &[
            "$ORIGIN",
            "$TTL",
            "$INCLUDE",
            "$GENERATE",
            "@",
            "example.com.",
            "mx",
            "_25._tcp",
            "IN",
            "CH",
            "CLASS1",
            "TLSA",
            "tlsa",
            "TYPE52",
            "TYPE",
            "MX",
            "A",
            "AAAA",
            "\\#",
            "\\",
            "\\;",
            "3",
            "1",
            "0",
            "255",
            "256",
            "4294967296",
            "1h30m",
            "1w",
            "abcdef",
            "0C72",
            "abc",
            "xyz",
            "(",
            ")",
            ";",
            "\"",
            "\"a;b(\"",
            " ",
            " ",
            " ",
            "\t",
            "\n",
            "\n",
            "\r\n",
            "é",
            "\u{feff}",
            ".",
            "..",
            "a\\.",
        ];
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) as usize
        };
        for round in 0..4000 {
            let mut text = String::new();
            let len = next() % 40;
            if round % 4 == 0 {
                let raw: Vec<u8> = (0..len * 3).map(|_| next() as u8).collect();
                text.push_str(&String::from_utf8_lossy(&raw));
            } else {
                for _ in 0..len {
                    text.push_str(PIECES[next() % PIECES.len()]);
                    if next() % 3 != 0 {
                        text.push(' ');
                    }
                }
            }
            match parse(&text) {
                Ok(records) => {
                    for r in records {
                        assert!(r.line >= 1);
                        assert!(
                            r.name.as_deref().is_none_or(|n| n.ends_with('.')),
                            "{text:?}"
                        );
                    }
                }
                Err(e) => {
                    assert!(e.line >= 1, "{text:?}");
                    assert!(!e.message.is_empty());
                }
            }
        }
    }
}
