//! The probe's TCP connection with a deadline: every read and write, whoever makes it (the
//! SMTP reader, rustls during the handshake, rustls under a TLS session), gets only the
//! time left until the deadline. A socket timeout alone bounds one read, and a server
//! that drips one byte per read never reaches it; rustls reads on until a whole record
//! arrives, so only a bound on the sum of the reads keeps a phase within its limit.

use std::io::{self, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// A TCP stream whose reads and writes all end by one deadline.
#[derive(Debug)]
pub struct Bounded {
    tcp: TcpStream,
    deadline: Instant,
}

impl Bounded {
    /// `tcp`, with reads and writes allowed until `deadline`.
    pub fn new(tcp: TcpStream, deadline: Instant) -> Bounded {
        Bounded { tcp, deadline }
    }

    /// Moves the deadline (each reply, each handshake gets its own).
    pub fn set_deadline(&mut self, deadline: Instant) {
        self.deadline = deadline;
    }

    /// The time left, or `TimedOut` once there is none.
    fn left(&self) -> io::Result<Duration> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            Err(io::Error::new(
                ErrorKind::TimedOut,
                "the deadline has passed",
            ))
        } else {
            Ok(left)
        }
    }
}

impl Read for Bounded {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.left()?;
        self.tcp.set_read_timeout(Some(left))?;
        self.tcp.read(buf)
    }
}

impl Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let left = self.left()?;
        self.tcp.set_write_timeout(Some(left))?;
        self.tcp.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.tcp.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A peer that sends one byte every 50 ms never lets a read time out; the deadline
    /// still ends the reads.
    #[test]
    fn a_drip_ends_at_the_deadline() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let dripper = std::thread::spawn(move || {
            let (mut peer, _) = listener.accept().unwrap();
            for _ in 0..40 {
                if peer.write_all(b"x").is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        let started = Instant::now();
        let tcp = TcpStream::connect(address).unwrap();
        let mut bounded = Bounded::new(tcp, started + Duration::from_millis(300));
        let mut byte = [0u8; 1];
        let error = loop {
            match bounded.read(&mut byte) {
                Ok(0) => panic!("the peer closed before the deadline"),
                Ok(_) => {}
                Err(e) => break e,
            }
        };
        assert!(
            matches!(error.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock),
            "{error}"
        );
        assert!(started.elapsed() < Duration::from_millis(1000));
        drop(bounded);
        let _ = dripper.join();
    }
}
