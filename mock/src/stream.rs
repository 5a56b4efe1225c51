//! One connection stream type for plain TCP and TLS, so that request reading
//! and (fault) delivery have a single code path.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::{ServerConfig, ServerConnection, StreamOwned};

/// A TLS handshake must complete within this, or the connection is closed.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A client connection: plain TCP, or TLS over TCP (after a completed handshake).
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ServerConnection, TcpStream>>),
}

impl Stream {
    /// The underlying socket (timeouts, shutdown, SO_LINGER).
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => &s.sock,
        }
    }

    /// TLS: queues a `close_notify` alert and sends it. Plain: nothing.
    pub fn close_notify(&mut self) {
        if let Stream::Tls(s) = self {
            s.conn.send_close_notify();
            let _ = s.flush();
        }
    }

    /// Performs the server side of a TLS handshake on `tcp`, bounded by
    /// [`HANDSHAKE_TIMEOUT`] in total (a client trickling bytes cannot hold the
    /// thread longer). On error the socket is dropped, i.e. closed (rustls
    /// has already tried to send an alert). Nothing is read as HTTP before
    /// the handshake has completed.
    pub fn accept_tls(mut tcp: TcpStream, config: &Arc<ServerConfig>) -> Result<Stream, String> {
        let mut conn = ServerConnection::new(Arc::clone(config))
            .map_err(|e| format!("cannot start a TLS session: {e}"))?;
        let deadline = Instant::now() + HANDSHAKE_TIMEOUT;
        while conn.is_handshaking() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err("handshake timed out".into());
            }
            let _ = tcp.set_read_timeout(Some(left));
            let _ = tcp.set_write_timeout(Some(left));
            match conn.complete_io(&mut tcp) {
                Ok((0, 0)) if conn.is_handshaking() => {
                    return Err("connection closed during the handshake".into())
                }
                Ok(_) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err("handshake timed out".into())
                }
                Err(e) => return Err(e.to_string()),
            }
        }
        Ok(Stream::Tls(Box::new(StreamOwned::new(conn, tcp))))
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}
