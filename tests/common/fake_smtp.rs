//! A scripted SMTP server on loopback for probe tests.
//!
//! Every connection replays the script from the start: the first reply is the greeting,
//! then one reply per client line. Each reply goes out in one write, verbatim but for
//! every `\n` not preceded by `\r` becoming `\r\n`, with `\r\n` added at its end. After a
//! reply starting `220` to STARTTLS the server starts TLS (rustls, ring) with the served
//! chains, picking the first whose key can sign with a scheme the client offers (none:
//! the handshake fails, as with Postfix's OpenSSL), and then answers every command itself:
//! EHLO with `250-mx.example.com` / `250 PIPELINING`, QUIT with `221 bye`, anything else
//! with `250 ok`. The connection closes after QUIT, when the script runs out, when the
//! client closes, or when no line comes within [`LINE_TIMEOUT`]. The server thread ends
//! when the [`FakeSmtp`] is dropped.
#![allow(dead_code)]

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::{ServerConfig, ServerConnection, StreamOwned};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// How long the server waits for one client line.
pub const LINE_TIMEOUT: Duration = Duration::from_secs(5);

/// How often a blocked read looks whether the server is being stopped.
const POLL: Duration = Duration::from_millis(50);

/// The longest client line read.
const MAX_LINE: usize = 4096;

/// A running scripted server; dropping it stops the thread.
pub struct FakeSmtp {
    address: SocketAddr,
    stop: Arc<AtomicBool>,
    received: Arc<Mutex<Vec<String>>>,
    connections: Arc<Mutex<usize>>,
    thread: Option<JoinHandle<()>>,
}

impl FakeSmtp {
    /// Starts a server replaying `replies`, with TLS from the chain files `serves` (each
    /// a private key and its certificates, leaf first, in PEM). Panics when a chain file
    /// cannot be read.
    pub fn start(replies: &[String], serves: &[PathBuf]) -> FakeSmtp {
        let tls = Arc::new(server_config(serves));
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let address = listener.local_addr().expect("the bound address");
        let stop = Arc::new(AtomicBool::new(false));
        let received = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(Mutex::new(0));
        let script: Vec<Vec<u8>> = replies.iter().map(|r| wire(r)).collect();
        let thread = {
            let (stop, received, connections) = (
                Arc::clone(&stop),
                Arc::clone(&received),
                Arc::clone(&connections),
            );
            std::thread::spawn(move || {
                for incoming in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(tcp) = incoming else { continue };
                    *connections.lock().unwrap() += 1;
                    let mut served = Connection {
                        stop: &stop,
                        received: &received,
                    };
                    served.serve(tcp, &script, &tls);
                }
            })
        };
        FakeSmtp {
            address,
            stop,
            received,
            connections,
            thread: Some(thread),
        }
    }

    /// The port it listens on (on 127.0.0.1).
    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// Every client line received so far, over all connections, in order (inside TLS
    /// too).
    pub fn received(&self) -> Vec<String> {
        self.received.lock().unwrap().clone()
    }

    /// How many connections were accepted so far.
    pub fn connections(&self) -> usize {
        *self.connections.lock().unwrap()
    }
}

impl Drop for FakeSmtp {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Unblocks accept; the loop sees the flag and ends.
        let _ = TcpStream::connect_timeout(&self.address, Duration::from_secs(1));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A reply as sent: bare `\n` made `\r\n`, and `\r\n` at the end.
pub fn wire(reply: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(reply.len() + 2);
    let mut previous = None;
    for &b in reply.as_bytes() {
        if b == b'\n' && previous != Some(b'\r') {
            out.push(b'\r');
        }
        out.push(b);
        previous = Some(b);
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// One connection being served.
struct Connection<'a> {
    stop: &'a AtomicBool,
    received: &'a Mutex<Vec<String>>,
}

impl Connection<'_> {
    fn serve(&mut self, tcp: TcpStream, script: &[Vec<u8>], tls: &Arc<ServerConfig>) {
        let _ = tcp.set_read_timeout(Some(POLL));
        let _ = tcp.set_write_timeout(Some(LINE_TIMEOUT));
        let mut tcp = tcp;
        let mut replies = script.iter();
        let Some(greeting) = replies.next() else {
            return;
        };
        if tcp.write_all(greeting).and_then(|()| tcp.flush()).is_err() {
            return;
        }
        // Plain text: byte by byte, so that nothing of a TLS ClientHello is read here.
        loop {
            let Some(line) = self.line(&mut tcp) else {
                return;
            };
            let Some(reply) = replies.next() else {
                return;
            };
            if tcp.write_all(reply).and_then(|()| tcp.flush()).is_err() {
                return;
            }
            let command = line.trim().to_ascii_uppercase();
            if command == "QUIT" {
                return;
            }
            if command == "STARTTLS" && reply.starts_with(b"220") {
                break;
            }
        }
        let Ok(connection) = ServerConnection::new(Arc::clone(tls)) else {
            return;
        };
        // The handshake happens within the first read.
        let mut stream = StreamOwned::new(connection, tcp);
        while let Some(line) = self.line(&mut stream) {
            let command = line.trim().to_ascii_uppercase();
            let verb = command.split_whitespace().next().unwrap_or_default();
            let reply: &[u8] = match verb {
                "EHLO" => b"250-mx.example.com\r\n250 PIPELINING\r\n",
                "QUIT" => b"221 bye\r\n",
                _ => b"250 ok\r\n",
            };
            if stream
                .write_all(reply)
                .and_then(|()| stream.flush())
                .is_err()
                || verb == "QUIT"
            {
                break;
            }
        }
        stream.conn.send_close_notify();
        let _ = stream.flush();
    }

    /// One client line without its line end; None when the client closed, the line is
    /// too long, nothing came in time, or the server is stopping.
    fn line(&mut self, stream: &mut impl Read) -> Option<String> {
        let deadline = Instant::now() + LINE_TIMEOUT;
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        loop {
            if self.stop.load(Ordering::SeqCst) || Instant::now() >= deadline {
                return None;
            }
            match stream.read(&mut byte) {
                Ok(0) => return None,
                Ok(_) if byte[0] == b'\n' => break,
                Ok(_) => {
                    line.push(byte[0]);
                    if line.len() > MAX_LINE {
                        return None;
                    }
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                    ) => {}
                Err(_) => return None,
            }
        }
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        let line = String::from_utf8_lossy(&line).into_owned();
        self.received.lock().unwrap().push(line.clone());
        Some(line)
    }
}

/// Picks the first served chain whose key can sign with a scheme the client offers.
#[derive(Debug)]
struct ByScheme(Vec<Arc<CertifiedKey>>);

impl ResolvesServerCert for ByScheme {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let offered = hello.signature_schemes();
        self.0
            .iter()
            .find(|chain| chain.key.choose_scheme(offered).is_some())
            .cloned()
    }
}

/// TLS 1.2 and 1.3 with ring, no client certificates, the chains of `serves`.
fn server_config(serves: &[PathBuf]) -> ServerConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chains = serves.iter().map(|path| chain(path)).collect();
    ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .expect("TLS 1.2 and 1.3 with ring")
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(ByScheme(chains)))
}

/// The key and certificates of one chain file.
fn chain(path: &Path) -> Arc<CertifiedKey> {
    let key = PrivateKeyDer::from_pem_file(path)
        .unwrap_or_else(|e| panic!("{}: no private key: {e}", path.display()));
    let certificates: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{}: a certificate does not parse: {e}", path.display()));
    assert!(
        !certificates.is_empty(),
        "{}: no certificate",
        path.display()
    );
    let signer = rustls::crypto::ring::sign::any_supported_type(&key)
        .unwrap_or_else(|e| panic!("{}: rustls cannot sign with the key: {e}", path.display()));
    Arc::new(CertifiedKey::new(certificates, signer))
}
