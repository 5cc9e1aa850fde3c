//! TURN over TCP and over TLS, for networks that let only TCP out — in many
//! administrations only port 443. A client may reach its TURN server over a stream
//! (RFC 5766 §2.1, `turns:` in RFC 7065); what is relayed to peers stays UDP.
//!
//! The `turn` crate serves packet sockets only. [`StreamConn`] is such a socket for many
//! streams: the messages of each accepted connection are read whole and handed to the
//! crate with the connection's remote address, and what the crate sends to that address
//! goes out on that connection. On a stream, STUN messages follow one another as they are;
//! ChannelData messages are padded to a multiple of four bytes (RFC 5766 §11.5).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tracing::debug;
use webrtc_util::Conn;

/// Streams open at once; further connections wait to be accepted.
const MAX_STREAMS: usize = 4096;
/// How long a TLS handshake may take, and how long a new stream may wait before its first
/// message (a client allocates at once): idle connections do not hold the slots.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// A stream on which nothing arrives for this long is closed. A client in use sends ICE
/// consent checks every few seconds and refreshes its allocation every few minutes.
const IDLE_TIMEOUT: Duration = Duration::from_secs(11 * 60);
/// Messages waiting to go out on one stream; beyond that they are dropped, as a full UDP
/// socket would drop them (media copes with loss better than with delay).
const OUTBOUND_QUEUE: usize = 512;
/// Messages from all streams waiting for the TURN server.
const INBOUND_QUEUE: usize = 1024;
/// The longest message taken: the `turn` crate reads datagrams of up to 1,500 bytes.
const MAX_MESSAGE: usize = 1500;

/// The remote addresses of the open streams: each one's number (see [`NEXT_STREAM`]) and
/// where its outbound messages go. The table holds the only sender, so that clearing it
/// ends every stream.
type Streams = Arc<Mutex<HashMap<SocketAddr, (u64, mpsc::Sender<Vec<u8>>)>>>;

/// Numbers streams, so that one that ends removes its own entry and not a newer one's.
static NEXT_STREAM: AtomicU64 = AtomicU64::new(0);

/// A packet socket for the `turn` crate over TCP or TLS streams.
pub(super) struct StreamConn {
    /// The listening address.
    pub(super) local: SocketAddr,
    /// Whole messages from every stream, with the stream's remote address.
    inbound: tokio::sync::Mutex<mpsc::Receiver<(Vec<u8>, SocketAddr)>>,
    /// The open streams.
    streams: Streams,
    /// Accepts connections; aborted when closed.
    accept: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for StreamConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamConn")
            .field("local", &self.local)
            .finish_non_exhaustive()
    }
}

impl StreamConn {
    /// Serves the connections `listener` accepts: over TLS with `tls`, plain TCP without.
    pub(super) fn new(
        listener: TcpListener,
        tls: Option<TlsAcceptor>,
    ) -> std::io::Result<StreamConn> {
        let local = listener.local_addr()?;
        let (inbound_tx, inbound) = mpsc::channel(INBOUND_QUEUE);
        let streams: Streams = Arc::default();
        let accept = tokio::spawn(accept_loop(listener, tls, inbound_tx, streams.clone()));
        Ok(StreamConn {
            local,
            inbound: tokio::sync::Mutex::new(inbound),
            streams,
            accept: Mutex::new(Some(accept)),
        })
    }

    fn stop(&self) {
        if let Some(accept) = self.accept.lock().unwrap_or_else(|e| e.into_inner()).take() {
            accept.abort();
        }
        // Dropping the senders (the table holds the only ones) ends every stream's writer,
        // and with it the stream.
        self.streams
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

impl Drop for StreamConn {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn accept_loop(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    inbound: mpsc::Sender<(Vec<u8>, SocketAddr)>,
    streams: Streams,
) {
    let slots = Arc::new(Semaphore::new(MAX_STREAMS));
    loop {
        // A slot before accepting: beyond MAX_STREAMS, connections wait in the backlog.
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let (socket, remote) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(err) => {
                // Out of file descriptors and the like: wait a moment rather than spin.
                debug!("TURN: accepting a stream: {err}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = socket.set_nodelay(true);
        let inbound = inbound.clone();
        let streams = streams.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let _slot = slot;
            serve_socket(socket, remote, tls, inbound, streams).await;
        });
    }
}

async fn serve_socket(
    socket: TcpStream,
    remote: SocketAddr,
    tls: Option<TlsAcceptor>,
    inbound: mpsc::Sender<(Vec<u8>, SocketAddr)>,
    streams: Streams,
) {
    match tls {
        None => serve(socket, remote, inbound, streams).await,
        Some(tls) => match tokio::time::timeout(HANDSHAKE_TIMEOUT, tls.accept(socket)).await {
            Ok(Ok(stream)) => serve(stream, remote, inbound, streams).await,
            Ok(Err(err)) => debug!("TURN: a TLS handshake failed: {err}"),
            Err(_) => debug!("TURN: a TLS handshake timed out"),
        },
    }
}

/// Reads `stream`'s messages into `inbound` and writes what is sent to `remote` until
/// either side ends, the stream idles or it sends something that is not TURN.
async fn serve<S>(
    stream: S,
    remote: SocketAddr,
    inbound: mpsc::Sender<(Vec<u8>, SocketAddr)>,
    streams: Streams,
) where
    S: AsyncRead + AsyncWrite + Send + Unpin,
{
    let (mut reader, mut writer) = tokio::io::split(stream);
    let (outbound_tx, mut outbound) = mpsc::channel::<Vec<u8>>(OUTBOUND_QUEUE);
    let number = NEXT_STREAM.fetch_add(1, Ordering::Relaxed);
    streams
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(remote, (number, outbound_tx));
    let write = async {
        while let Some(message) = outbound.recv().await {
            if writer.write_all(&message).await.is_err() {
                return;
            }
            // TLS keeps what it wrote until flushed: flush once the queue is empty.
            if outbound.is_empty() && writer.flush().await.is_err() {
                return;
            }
        }
    };
    let read = async {
        let mut wait = HANDSHAKE_TIMEOUT;
        loop {
            match tokio::time::timeout(wait, read_message(&mut reader)).await {
                Ok(Ok(Some(message))) => {
                    wait = IDLE_TIMEOUT;
                    if inbound.send((message, remote)).await.is_err() {
                        return;
                    }
                }
                Ok(Ok(None)) => return,
                Ok(Err(err)) => {
                    debug!("TURN: closing a stream: {err}");
                    return;
                }
                Err(_) => {
                    debug!("TURN: closing an idle stream");
                    return;
                }
            }
        }
    };
    tokio::select! {
        () = write => {}
        () = read => {}
    }
    // Only this stream's entry: the address may not have been reused yet, but be exact.
    let mut open = streams.lock().unwrap_or_else(|e| e.into_inner());
    if open.get(&remote).is_some_and(|(n, _)| *n == number) {
        open.remove(&remote);
    }
}

/// Why a stream was closed.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The bytes are neither STUN nor ChannelData.
    #[error("not a TURN message (first byte {0:#04x})")]
    NotTurn(u8),
    /// A STUN message whose length is not a multiple of four.
    #[error("a STUN message of a length that is not a multiple of four")]
    BadLength,
    /// Longer than a TURN server takes over UDP (and than any client sends).
    #[error("a message of {0} bytes")]
    TooLong(usize),
    /// The stream broke (or ended inside a message).
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Reads one whole message (without a ChannelData message's padding); `None` when the
/// stream ends between messages.
pub async fn read_message<R: AsyncRead + Unpin>(
    reader: &mut R,
) -> Result<Option<Vec<u8>>, FrameError> {
    let mut header = [0u8; 4];
    let first = reader.read(&mut header[..1]).await?;
    if first == 0 {
        return Ok(None);
    }
    reader.read_exact(&mut header[1..]).await?;
    let length = usize::from(u16::from_be_bytes([header[2], header[3]]));
    let (whole, padded) = match header[0] >> 6 {
        // STUN: a 20-byte header, then `length` bytes of attributes.
        0 if length % 4 == 0 => (20 + length, 20 + length),
        0 => return Err(FrameError::BadLength),
        // ChannelData: a 4-byte header, `length` bytes of data, padding to four bytes.
        1 => (4 + length, (4 + length).next_multiple_of(4)),
        _ => return Err(FrameError::NotTurn(header[0])),
    };
    if whole > MAX_MESSAGE {
        return Err(FrameError::TooLong(whole));
    }
    let mut message = vec![0u8; padded];
    message[..4].copy_from_slice(&header);
    reader.read_exact(&mut message[4..]).await?;
    // STUN carries its magic cookie (RFC 5389): a TLS ClientHello on the plain port, say,
    // is not taken for one.
    if header[0] >> 6 == 0 && message[4..8] != [0x21, 0x12, 0xa4, 0x42] {
        return Err(FrameError::NotTurn(header[0]));
    }
    message.truncate(whole);
    Ok(Some(message))
}

/// `message` as it goes on a stream: ChannelData padded to a multiple of four bytes.
pub fn framed(message: &[u8]) -> Vec<u8> {
    let mut out = message.to_vec();
    if message.first().is_some_and(|b| b >> 6 == 1) {
        out.resize(message.len().next_multiple_of(4), 0);
    }
    out
}

#[async_trait]
impl Conn for StreamConn {
    async fn connect(&self, _addr: SocketAddr) -> webrtc_util::Result<()> {
        Err(webrtc_util::Error::Other(
            "a TURN stream listener does not connect".into(),
        ))
    }

    async fn recv(&self, buf: &mut [u8]) -> webrtc_util::Result<usize> {
        Ok(self.recv_from(buf).await?.0)
    }

    async fn recv_from(&self, buf: &mut [u8]) -> webrtc_util::Result<(usize, SocketAddr)> {
        let mut inbound = self.inbound.lock().await;
        loop {
            let Some((message, from)) = inbound.recv().await else {
                return Err(webrtc_util::Error::Other("closed".into()));
            };
            // Messages are at most MAX_MESSAGE long, the crate's own buffer's length.
            if message.len() <= buf.len() {
                buf[..message.len()].copy_from_slice(&message);
                return Ok((message.len(), from));
            }
        }
    }

    async fn send(&self, _buf: &[u8]) -> webrtc_util::Result<usize> {
        Err(webrtc_util::Error::Other(
            "a TURN stream listener sends to an address".into(),
        ))
    }

    async fn send_to(&self, buf: &[u8], target: SocketAddr) -> webrtc_util::Result<usize> {
        let stream = self
            .streams
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&target)
            .map(|(_, tx)| tx.clone());
        // A stream that has ended: its relay may outlive it for a while (the crate keeps
        // an allocation until it expires); what comes for it goes nowhere, as a UDP
        // datagram to a vanished client would.
        let Some(stream) = stream else {
            return Ok(buf.len());
        };
        // A full queue drops the message, as a full UDP socket would.
        let _ = stream.try_send(framed(buf));
        Ok(buf.len())
    }

    fn local_addr(&self) -> webrtc_util::Result<SocketAddr> {
        Ok(self.local)
    }

    fn remote_addr(&self) -> Option<SocketAddr> {
        None
    }

    async fn close(&self) -> webrtc_util::Result<()> {
        // The crate closes its listening socket with every allocation that ends (a no-op
        // for UDP): the listener stays until it is dropped with the server.
        Ok(())
    }

    fn as_any(&self) -> &(dyn std::any::Any + Send + Sync) {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn messages_are_read_whole_and_channel_data_without_its_padding() {
        // A STUN binding request (no attributes), then ChannelData of 5 bytes padded to 8.
        let mut bytes = vec![0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42];
        bytes.extend_from_slice(&[7u8; 12]);
        bytes.extend_from_slice(&[0x40, 0x00, 0x00, 0x05, 1, 2, 3, 4, 5, 0, 0, 0]);
        let mut reader = &bytes[..];
        let stun = read_message(&mut reader)
            .await
            .expect("read")
            .expect("a message");
        assert_eq!(stun.len(), 20);
        let data = read_message(&mut reader)
            .await
            .expect("read")
            .expect("a message");
        assert_eq!(data, vec![0x40, 0x00, 0x00, 0x05, 1, 2, 3, 4, 5]);
        assert!(read_message(&mut reader).await.expect("read").is_none());
    }

    #[tokio::test]
    async fn what_is_not_turn_ends_the_stream_with_a_reason() {
        // "GET " reads as ChannelData of 21,536 bytes; a TLS ClientHello as STUN without
        // its cookie.
        let mut http = &b"GET / HTTP/1.1\r\n\r\n"[..];
        assert!(matches!(
            read_message(&mut http).await,
            Err(FrameError::TooLong(21540))
        ));
        // (A ClientHello's record header read as STUN: 276 bytes, without the magic cookie.)
        let mut hello = vec![0x16u8, 0x03, 0x01, 0x00, 0xf8];
        hello.resize(300, 1);
        assert!(matches!(
            read_message(&mut &hello[..]).await,
            Err(FrameError::NotTurn(0x16))
        ));
        let mut garbage = &[0xffu8, 0x03, 0x01, 0x02, 0x00][..];
        assert!(matches!(
            read_message(&mut garbage).await,
            Err(FrameError::NotTurn(0xff))
        ));
        let mut odd = &[0x00u8, 0x01, 0x00, 0x03][..];
        assert!(matches!(
            read_message(&mut odd).await,
            Err(FrameError::BadLength)
        ));
        // Cut off inside a message.
        let mut short = &[0x40u8, 0x00, 0x00, 0x08, 1, 2][..];
        assert!(matches!(
            read_message(&mut short).await,
            Err(FrameError::Io(_))
        ));
    }

    #[test]
    fn channel_data_is_padded_on_the_way_out_and_stun_is_not() {
        assert_eq!(
            framed(&[0x40, 0x01, 0x00, 0x01, 9]),
            vec![0x40, 0x01, 0x00, 0x01, 9, 0, 0, 0]
        );
        let stun = [0u8; 24];
        assert_eq!(framed(&stun).len(), 24);
    }
}
