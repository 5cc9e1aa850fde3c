//! A minimal WebSocket client for load generation: one small fixed buffer per connection,
//! frames parsed in place, payloads skipped unless the caller wants them. Thousands of
//! these run on one thread without stealing the server's cores.
//!
//! It speaks just enough of RFC 6455 for our servers (text frames, possibly fragmented):
//! client frames are masked with a zero key (legal, and it saves a pass over the payload),
//! pings are answered, a close ends the stream.

use std::io;
use std::net::SocketAddr;
use std::rc::Rc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

/// Bytes read from the socket at a time.
const BUFFER: usize = 8 * 1024;

/// One client connection: the reading side, and a handle to the writing side that other
/// tasks on the same thread may share (a walker's timer, say).
#[derive(Debug)]
pub struct RawWs {
    reader: OwnedReadHalf,
    buf: Box<[u8]>,
    /// Unconsumed bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    writer: Writer,
}

/// The writing side of a connection. Single-threaded load generation: `Rc`, not `Arc`.
#[derive(Debug, Clone)]
pub struct Writer {
    inner: Rc<tokio::sync::Mutex<WriteSide>>,
}

#[derive(Debug)]
struct WriteSide {
    stream: OwnedWriteHalf,
    /// Scratch for outgoing frames.
    out: Vec<u8>,
}

impl Writer {
    /// Sends one text frame.
    pub async fn send_text(&self, payload: &[u8]) -> io::Result<()> {
        let mut side = self.inner.lock().await;
        let WriteSide { stream, out } = &mut *side;
        frame(out, 0x81, payload);
        stream.write_all(out).await
    }

    /// Sends frames already encoded with [`append_text_frame`], in one write.
    pub async fn send_encoded(&self, frames: &[u8]) -> io::Result<()> {
        let mut side = self.inner.lock().await;
        side.stream.write_all(frames).await
    }

    /// Sends a close frame and shuts the writing side down.
    pub async fn close(&self) -> io::Result<()> {
        let mut side = self.inner.lock().await;
        side.stream.write_all(&[0x88, 0x80, 0, 0, 0, 0]).await?;
        side.stream.shutdown().await
    }

    async fn send_control(&self, first: u8, payload: &[u8]) -> io::Result<()> {
        let mut side = self.inner.lock().await;
        let WriteSide { stream, out } = &mut *side;
        frame(out, first, &payload[..payload.len().min(125)]);
        stream.write_all(out).await
    }
}

/// Appends a masked client text frame to `out`, for [`Writer::send_encoded`]: many
/// replies, one system call.
pub fn append_text_frame(out: &mut Vec<u8>, payload: &[u8]) {
    append_frame(out, 0x81, payload);
}

/// Encodes a masked client frame into `out`.
fn frame(out: &mut Vec<u8>, first: u8, payload: &[u8]) {
    out.clear();
    append_frame(out, first, payload);
}

fn append_frame(out: &mut Vec<u8>, first: u8, payload: &[u8]) {
    out.push(first);
    let len = payload.len();
    if len < 126 {
        out.push(0x80 | len as u8);
    } else if len <= usize::from(u16::MAX) {
        out.push(0x80 | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(&[0, 0, 0, 0]); // zero mask key: payload unchanged
    out.extend_from_slice(payload);
}

/// What to keep of a message's payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Nothing: count it and move on.
    Nothing,
    /// The first bytes (to see its type, or an id near the start).
    Prefix(usize),
    /// All of it.
    All,
}

/// A received data message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    /// Payload length in bytes.
    pub len: usize,
}

impl RawWs {
    /// Opens a TCP connection and performs the WebSocket upgrade for `path`.
    pub async fn connect(addr: SocketAddr, path: &str) -> io::Result<RawWs> {
        RawWs::connect_with_buffer(addr, path, BUFFER).await
    }

    /// Like [`RawWs::connect`], reading `buffer` bytes at a time: a newcomer's browser reads
    /// its large welcome in big chunks, not 8 KiB ones.
    pub async fn connect_with_buffer(
        addr: SocketAddr,
        path: &str,
        buffer: usize,
    ) -> io::Result<RawWs> {
        let stream = TcpStream::connect(addr).await?;
        RawWs::upgrade(stream, addr, path, buffer).await
    }

    /// Like [`RawWs::connect`], with a kernel receive buffer of `window` bytes: a client
    /// that stops reading then stalls the server's writes quickly, as a stuck browser on
    /// a real network does.
    pub async fn connect_with_window(
        addr: SocketAddr,
        path: &str,
        window: u32,
    ) -> io::Result<RawWs> {
        let socket = match addr {
            SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
            SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
        };
        socket.set_recv_buffer_size(window)?;
        let stream = socket.connect(addr).await?;
        RawWs::upgrade(stream, addr, path, BUFFER).await
    }

    async fn upgrade(
        mut stream: TcpStream,
        addr: SocketAddr,
        path: &str,
        buffer: usize,
    ) -> io::Result<RawWs> {
        stream.set_nodelay(true)?;
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await?;
        let mut buf = vec![0; buffer.max(1024)].into_boxed_slice();
        let mut end = 0;
        loop {
            if let Some(at) = find(&buf[..end], b"\r\n\r\n") {
                if !buf.starts_with(b"HTTP/1.1 101") {
                    let head = String::from_utf8_lossy(&buf[..at]).into_owned();
                    return Err(io::Error::other(format!("upgrade refused: {head}")));
                }
                let (reader, writer) = stream.into_split();
                let writer = Writer {
                    inner: Rc::new(tokio::sync::Mutex::new(WriteSide {
                        stream: writer,
                        out: Vec::new(),
                    })),
                };
                return Ok(RawWs {
                    reader,
                    buf,
                    start: at + 4,
                    end,
                    writer,
                });
            }
            if end == buf.len() {
                return Err(io::Error::other("upgrade response too large"));
            }
            let n = stream.read(&mut buf[end..]).await?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            end += n;
        }
    }

    /// Whether a whole frame is already buffered, so that the next [`RawWs::recv`] will
    /// not wait for the network (callers batch their replies until it would).
    pub fn frame_buffered(&self) -> bool {
        let data = &self.buf[self.start..self.end];
        if data.len() < 2 {
            return false;
        }
        let masked = if data[1] & 0x80 != 0 { 4 } else { 0 };
        let (header, len) = match data[1] & 0x7f {
            126 if data.len() >= 4 => (4, usize::from(u16::from_be_bytes([data[2], data[3]]))),
            127 if data.len() >= 10 => {
                let mut bytes = [0u8; 8];
                bytes.copy_from_slice(&data[2..10]);
                (10, u64::from_be_bytes(bytes) as usize)
            }
            126 | 127 => return false,
            short => (2, usize::from(short)),
        };
        data.len() >= header + masked + len
    }

    /// A handle to the writing side.
    pub fn writer(&self) -> Writer {
        self.writer.clone()
    }

    /// Sends one text frame.
    pub async fn send_text(&self, payload: &[u8]) -> io::Result<()> {
        self.writer.send_text(payload).await
    }

    /// Reads the next text or binary message, answering pings on the way. `into` receives
    /// what `keep` asks for. `Ok(None)`: the server closed.
    pub async fn recv(&mut self, keep: Keep, into: &mut Vec<u8>) -> io::Result<Option<Received>> {
        into.clear();
        // A message may come in fragments: a text frame without FIN, then continuations.
        let mut total = 0;
        loop {
            self.fill_to(2).await?;
            let (b0, b1) = (self.buf[self.start], self.buf[self.start + 1]);
            let (fin, opcode) = (b0 & 0x80 != 0, b0 & 0x0f);
            let masked = b1 & 0x80 != 0;
            let (header, len) = match b1 & 0x7f {
                126 => {
                    self.fill_to(4).await?;
                    let s = self.start;
                    (
                        4,
                        usize::from(u16::from_be_bytes([self.buf[s + 2], self.buf[s + 3]])),
                    )
                }
                127 => {
                    self.fill_to(10).await?;
                    let s = self.start;
                    let mut bytes = [0u8; 8];
                    bytes.copy_from_slice(&self.buf[s + 2..s + 10]);
                    (10, u64::from_be_bytes(bytes) as usize)
                }
                short => (2, usize::from(short)),
            };
            let header = header + if masked { 4 } else { 0 };
            self.fill_to(header).await?;
            self.start += header;
            match opcode {
                0x8 => return Ok(None),
                0x9 => {
                    let mut ping = Vec::new();
                    self.take(len, Keep::All, &mut ping).await?;
                    self.writer.send_control(0x8a, &ping).await?;
                }
                0xa => self.take(len, Keep::Nothing, &mut Vec::new()).await?,
                _ => {
                    self.take(len, keep, into).await?;
                    total += len;
                    if fin {
                        return Ok(Some(Received { len: total }));
                    }
                }
            }
        }
    }

    /// Consumes `len` payload bytes, keeping what `keep` asks for.
    async fn take(&mut self, mut len: usize, keep: Keep, into: &mut Vec<u8>) -> io::Result<()> {
        let limit = match keep {
            Keep::Nothing => 0,
            Keep::Prefix(n) => n,
            Keep::All => usize::MAX,
        };
        while len > 0 {
            if self.start == self.end {
                self.read_more().await?;
            }
            let n = len.min(self.end - self.start);
            let room = limit.saturating_sub(into.len()).min(n);
            into.extend_from_slice(&self.buf[self.start..self.start + room]);
            self.start += n;
            len -= n;
        }
        Ok(())
    }

    /// Makes sure at least `n` unconsumed bytes are buffered.
    async fn fill_to(&mut self, n: usize) -> io::Result<()> {
        while self.end - self.start < n {
            self.read_more().await?;
        }
        Ok(())
    }

    async fn read_more(&mut self) -> io::Result<()> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.end == self.buf.len() {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let n = self.reader.read(&mut self.buf[self.end..]).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.end += n;
        Ok(())
    }
}

/// Position of `needle` in `haystack`.
pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
