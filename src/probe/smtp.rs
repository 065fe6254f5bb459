//! The SMTP side of a probe: replies read strictly (RFC 5321 section 4.2: `DDD-text` lines
//! continue a reply, `DDD text` or `DDD` ends it, every line ends in CR LF, one code per
//! reply) from a stream with every read bounded in size and time.

use std::fmt;
use std::io::{ErrorKind, Read, Write};
use std::time::{Duration, Instant};

use super::socket::Bounded;
use super::transcript::Transcript;
use crate::source::Span;

/// The bounds every read of a server's bytes keeps.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// How long connecting may take.
    pub connect: Duration,
    /// How long one whole reply (or one TLS handshake) may take, however slowly it drips.
    pub reply: Duration,
    /// The longest reply line accepted, CR LF included. RFC 5321 section 4.5.3.1.5 allows
    /// 512; servers with long EHLO keywords go past it, none by this much.
    pub line: usize,
    /// The most lines one reply may have.
    pub lines: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            connect: Duration::from_secs(10),
            reply: Duration::from_secs(10),
            line: 4096,
            lines: 128,
        }
    }
}

/// One SMTP reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// The three-digit code.
    pub code: u16,
    /// The text of each line, after the code and its separator.
    pub lines: Vec<String>,
    /// Where the reply is in the transcript.
    pub span: Span,
    /// Where each of its lines is.
    pub line_spans: Vec<Span>,
}

impl Reply {
    /// The EHLO keywords (the first word of every line but the greeting line), upper case.
    pub fn keywords(&self) -> Vec<String> {
        self.lines
            .iter()
            .skip(1)
            .filter_map(|l| l.split_whitespace().next())
            .map(str::to_ascii_uppercase)
            .collect()
    }

    /// The line offering `keyword`, with its parameters (`AUTH PLAIN LOGIN`).
    pub fn offer(&self, keyword: &str) -> Option<&str> {
        self.offered(keyword).map(|(line, _)| line)
    }

    /// [`Reply::offer`] with the line's place in the transcript.
    pub fn offered(&self, keyword: &str) -> Option<(&str, Span)> {
        self.lines
            .iter()
            .zip(&self.line_spans)
            .skip(1)
            .find(|(l, _)| {
                l.split_whitespace()
                    .next()
                    .is_some_and(|k| k.eq_ignore_ascii_case(keyword))
            })
            .map(|(l, span)| (l.as_str(), *span))
    }
}

/// Why a session could not go on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Broken {
    /// The server did not answer in time.
    Timeout(Duration),
    /// The server closed the connection.
    Closed,
    /// A reply line longer than the limit.
    LineTooLong(usize),
    /// A reply with more lines than the limit.
    TooManyLines(usize),
    /// A line that is not an SMTP reply line.
    Malformed(String),
    /// A read or write failed.
    Io(String),
}

impl fmt::Display for Broken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Broken::Timeout(limit) => write!(
                f,
                "no complete reply within {} s",
                limit.as_secs_f64().round()
            ),
            Broken::Closed => write!(f, "the server closed the connection"),
            Broken::LineTooLong(limit) => {
                write!(f, "a reply line is longer than {limit} bytes")
            }
            Broken::TooManyLines(limit) => {
                write!(f, "a reply has more than {limit} lines")
            }
            Broken::Malformed(why) => write!(f, "{why}"),
            Broken::Io(why) => write!(f, "{why}"),
        }
    }
}

/// A stream whose reads and writes all end by a deadline (see [`super::socket`]): a
/// timeout per read would not do, a server dripping a byte per read never reaches it.
pub trait Timed: Read + Write {
    /// Sets the deadline of every read and write from now on.
    fn deadline(&mut self, deadline: Instant);
}

impl Timed for Bounded {
    fn deadline(&mut self, deadline: Instant) {
        self.set_deadline(deadline);
    }
}

impl Timed for rustls::StreamOwned<rustls::ClientConnection, Bounded> {
    fn deadline(&mut self, deadline: Instant) {
        // rustls reads and writes only through the socket, so its deadline bounds them.
        self.sock.set_deadline(deadline);
    }
}

/// Reads replies from `stream`, writes commands, and logs both in a transcript.
pub struct Session<S> {
    /// The connection.
    pub stream: S,
    /// Bytes received and not yet part of a reply.
    buffer: Vec<u8>,
    /// Bytes received in all (a greeting that broke after some bytes is not silence).
    received: usize,
    limits: Limits,
}

impl<S: Timed> Session<S> {
    /// A session on a connected stream.
    pub fn new(stream: S, limits: Limits) -> Session<S> {
        Session {
            stream,
            buffer: Vec::new(),
            received: 0,
            limits,
        }
    }

    /// How many bytes the server sent in this session so far.
    pub fn received(&self) -> usize {
        self.received
    }

    /// The bytes the server sent beyond the last reply (after STARTTLS's 220 these would
    /// be read as TLS: a man in the middle's injection, or a broken server).
    pub fn unread(&self) -> &[u8] {
        &self.buffer
    }

    /// Takes the stream back (to start TLS on it), with the bytes not yet read.
    pub fn into_parts(self) -> (S, Vec<u8>) {
        (self.stream, self.buffer)
    }

    /// Sends one command line.
    pub fn send(&mut self, transcript: &mut Transcript, command: &str) -> Result<Span, Broken> {
        let span = transcript.push("C", command);
        self.stream.deadline(Instant::now() + self.limits.reply);
        self.stream
            .write_all(format!("{command}\r\n").as_bytes())
            .and_then(|()| self.stream.flush())
            .map_err(|e| match e.kind() {
                ErrorKind::BrokenPipe | ErrorKind::ConnectionReset => Broken::Closed,
                _ => Broken::Io(format!("cannot send {command}: {e}")),
            })?;
        Ok(span)
    }

    /// Sends a command and reads its reply.
    pub fn command(&mut self, transcript: &mut Transcript, command: &str) -> Result<Reply, Broken> {
        self.send(transcript, command)?;
        self.reply(transcript)
    }

    /// Reads one whole reply within the reply time limit.
    pub fn reply(&mut self, transcript: &mut Transcript) -> Result<Reply, Broken> {
        let deadline = Instant::now() + self.limits.reply;
        self.stream.deadline(deadline);
        let mut code = None;
        let mut lines = Vec::new();
        let mut line_spans = Vec::new();
        let mut first: Option<Span> = None;
        loop {
            let line = self.line(deadline)?;
            let span = transcript.server(&line);
            let start = *first.get_or_insert(span);
            let (this, last, text) = parse_line(&line)?;
            if *code.get_or_insert(this) != this {
                return Err(Broken::Malformed(format!(
                    "a reply line has code {this} in a reply that began with {}",
                    code.unwrap_or(this)
                )));
            }
            lines.push(text);
            line_spans.push(span);
            if last {
                return Ok(Reply {
                    code: this,
                    lines,
                    span: Transcript::join(start, span),
                    line_spans,
                });
            }
            if lines.len() >= self.limits.lines {
                return Err(Broken::TooManyLines(self.limits.lines));
            }
        }
    }

    /// One line without its CR LF.
    fn line(&mut self, deadline: Instant) -> Result<Vec<u8>, Broken> {
        let mut scanned = 0;
        loop {
            if let Some(at) = self.buffer[scanned..].iter().position(|&b| b == b'\n') {
                let end = scanned + at;
                let mut line: Vec<u8> = self.buffer.drain(..=end).collect();
                line.pop();
                if line.pop() != Some(b'\r') {
                    return Err(Broken::Malformed(
                        "a reply line ends in LF without CR (RFC 5321 section 2.3.8)".to_owned(),
                    ));
                }
                return Ok(line);
            }
            scanned = self.buffer.len();
            if self.buffer.len() >= self.limits.line {
                return Err(Broken::LineTooLong(self.limits.line));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Broken::Timeout(self.limits.reply));
            }
            let mut chunk = [0u8; 4096];
            let room = (self.limits.line - self.buffer.len()).min(chunk.len());
            match self.stream.read(&mut chunk[..room]) {
                Ok(0) => return Err(Broken::Closed),
                Ok(n) => {
                    self.received = self.received.saturating_add(n);
                    self.buffer.extend_from_slice(&chunk[..n]);
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Err(Broken::Timeout(self.limits.reply));
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                // rustls says UnexpectedEof when the TCP connection ends without close_notify.
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::ConnectionReset | ErrorKind::UnexpectedEof
                    ) =>
                {
                    return Err(Broken::Closed);
                }
                Err(e) => return Err(Broken::Io(format!("cannot read: {e}"))),
            }
        }
    }
}

/// A reply line: its code, whether it is the last line, and its text.
fn parse_line(line: &[u8]) -> Result<(u16, bool, String), Broken> {
    let shown = || String::from_utf8_lossy(&line[..line.len().min(40)]).into_owned();
    let digits = line.get(..3).filter(|d| {
        (b'2'..=b'5').contains(&d[0]) && d[1].is_ascii_digit() && d[2].is_ascii_digit()
    });
    let Some(digits) = digits else {
        return Err(Broken::Malformed(format!(
            "`{}` is not an SMTP reply line (three digits, 2xx to 5xx, first)",
            shown()
        )));
    };
    let code = u16::from(digits[0] - b'0') * 100
        + u16::from(digits[1] - b'0') * 10
        + u16::from(digits[2] - b'0');
    let last = match line.get(3) {
        None | Some(b' ') => true,
        Some(b'-') => false,
        Some(_) => {
            return Err(Broken::Malformed(format!(
                "`{}`: the code is followed by neither a space nor a hyphen",
                shown()
            )));
        }
    };
    let text = String::from_utf8_lossy(line.get(4..).unwrap_or_default()).into_owned();
    Ok((code, last, text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    struct Fake(Cursor<Vec<u8>>, Vec<u8>);

    impl Read for Fake {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.0.read(buf)
        }
    }
    impl Write for Fake {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.1.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    impl Timed for Fake {
        fn deadline(&mut self, _: Instant) {}
    }

    fn replies(bytes: &[u8]) -> (Vec<Result<Reply, Broken>>, Transcript) {
        let mut session = Session::new(
            Fake(Cursor::new(bytes.to_vec()), Vec::new()),
            Limits::default(),
        );
        let mut t = Transcript::default();
        let mut out = Vec::new();
        loop {
            let r = session.reply(&mut t);
            let stop = r.is_err();
            out.push(r);
            if stop {
                return (out, t);
            }
        }
    }

    #[test]
    fn multi_line_replies_and_keywords() {
        let (r, _) = replies(
            b"220 mx ESMTP\r\n250-mx\r\n250-PIPELINING\r\n250-AUTH PLAIN LOGIN\r\n250 STARTTLS\r\n",
        );
        let ehlo = r[1].as_ref().unwrap();
        assert_eq!(ehlo.code, 250);
        assert_eq!(ehlo.keywords(), ["PIPELINING", "AUTH", "STARTTLS"]);
        assert_eq!(ehlo.offer("auth"), Some("AUTH PLAIN LOGIN"));
        assert_eq!(r[2], Err(Broken::Closed));
    }

    #[test]
    fn strict_lines() {
        for (bytes, why) in [
            (&b"220 ok\n"[..], "without CR"),
            (b"220-a\r\n250 b\r\n", "code 250"),
            (b"hello\r\n", "not an SMTP reply line"),
            (b"220x\r\n", "neither a space"),
            (b"199 low\r\n", "not an SMTP reply line"),
        ] {
            let (r, _) = replies(bytes);
            let err = r[0].clone().unwrap_err().to_string();
            assert!(err.contains(why), "{bytes:?}: {err}");
        }
        let (r, _) = replies(b"220\r\n");
        assert_eq!(r[0].as_ref().unwrap().lines, [""]);
    }

    #[test]
    fn bounds() {
        let long = vec![b'2'; 10_000];
        let (r, _) = replies(&long);
        assert_eq!(r[0], Err(Broken::LineTooLong(4096)));
        let many = "250-x\r\n".repeat(200);
        let (r, _) = replies(many.as_bytes());
        assert_eq!(r[0], Err(Broken::TooManyLines(128)));
    }
}
