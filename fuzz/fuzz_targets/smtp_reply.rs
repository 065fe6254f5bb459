//! Any bytes as what a server sends a probe: replies are read without a panic, within the
//! line and reply-size limits, from no more bytes than were sent, and reading ends (a
//! reply or a reason) for every input.

#![no_main]

use std::io::{Cursor, Read, Write};
use std::time::Instant;

use libfuzzer_sys::fuzz_target;
use pflint::probe::smtp::{Limits, Session, Timed};
use pflint::probe::transcript::Transcript;

/// A server that sent `data` and then closed; what the probe writes is dropped.
struct Sent(Cursor<Vec<u8>>);

impl Read for Sent {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for Sent {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Timed for Sent {
    fn deadline(&mut self, _: Instant) {}
}

fuzz_target!(|data: &[u8]| {
    // Small limits, so that inputs libFuzzer can make reach them.
    let limits = Limits {
        line: 64,
        lines: 8,
        ..Limits::default()
    };
    let mut session = Session::new(Sent(Cursor::new(data.to_vec())), limits);
    let mut transcript = Transcript::default();
    // Every reply takes at least one byte, so this many reads always end the input.
    for _ in 0..=data.len() {
        let Ok(reply) = session.command(&mut transcript, "EHLO pflint.invalid") else {
            break;
        };
        assert!((200..600).contains(&reply.code), "{}", reply.code);
        assert!(!reply.lines.is_empty() && reply.lines.len() <= limits.lines);
        assert_eq!(reply.lines.len(), reply.line_spans.len());
        assert!(reply.lines.iter().all(|l| l.len() <= 4 * limits.line));
        let _ = reply.keywords();
    }
    assert!(session.received() <= data.len());
});
