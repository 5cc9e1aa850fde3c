//! A WebSocket written by hand over a plain TCP socket, for tests of what the server does
//! with frames no library would send: unmasked, with reserved bits or opcodes, oversized
//! control frames, stray continuations, text that is not UTF-8.

use std::net::SocketAddr;

use anyhow::{Context, Result, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::DEADLINE;

/// The mask of every masked frame sent here (any key will do; not zero, so that a
/// server that forgot to unmask would read garbage).
const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// One frame as the server sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawFrame {
    /// The first byte: FIN, RSV bits and opcode.
    pub first: u8,
    /// The payload.
    pub payload: Vec<u8>,
}

impl RawFrame {
    /// The opcode.
    pub fn opcode(&self) -> u8 {
        self.first & 0x0f
    }
}

/// A frame as a client would write it: `first` is the first byte (FIN, RSV bits,
/// opcode); masked with [`MASK`] unless `masked` is false.
pub fn frame(first: u8, payload: &[u8], masked: bool) -> Vec<u8> {
    let mask_bit = if masked { 0x80 } else { 0 };
    let mut out = vec![first];
    match payload.len() {
        len @ 0..=125 => out.push(mask_bit | len as u8),
        len @ 126..=0xffff => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        len => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    if masked {
        out.extend_from_slice(&MASK);
        out.extend(payload.iter().zip(MASK.iter().cycle()).map(|(b, m)| b ^ m));
    } else {
        out.extend_from_slice(payload);
    }
    out
}

/// A WebSocket connection with no library in between.
#[derive(Debug)]
pub struct RawSocket {
    stream: TcpStream,
    /// Bytes read but not yet parsed into frames.
    buffered: Vec<u8>,
}

impl RawSocket {
    /// Connects to `/ws` at `addr` and completes the upgrade.
    pub async fn connect(addr: SocketAddr) -> Result<RawSocket> {
        let mut stream = TcpStream::connect(addr).await?;
        let request = format!(
            "GET /ws HTTP/1.1\r\nHost: {addr}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
             Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await?;
        let mut buffered = Vec::new();
        let end = loop {
            if let Some(at) = buffered.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            let mut chunk = [0u8; 1024];
            let n = tokio::time::timeout(DEADLINE, stream.read(&mut chunk))
                .await
                .context("no upgrade response in time")??;
            if n == 0 {
                bail!("the server closed before the upgrade");
            }
            buffered.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buffered[..end]).into_owned();
        if !head.starts_with("HTTP/1.1 101") {
            bail!("upgrade refused: {head}");
        }
        buffered.drain(..end);
        Ok(RawSocket { stream, buffered })
    }

    /// Writes bytes as they are.
    pub async fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.stream.write_all(bytes).await.context("writing")
    }

    /// Sends a well-formed, masked text frame.
    pub async fn send_text(&mut self, text: &str) -> Result<()> {
        self.write(&frame(0x81, text.as_bytes(), true)).await
    }

    /// The next frame from the server; `None` once the server closed the TCP connection.
    pub async fn next_frame(&mut self) -> Result<Option<RawFrame>> {
        loop {
            if let Some((frame, used)) = parse(&self.buffered)? {
                self.buffered.drain(..used);
                return Ok(Some(frame));
            }
            let mut chunk = [0u8; 4096];
            let n = tokio::time::timeout(DEADLINE, self.stream.read(&mut chunk))
                .await
                .context("no frame in time")?
                .context("reading")?;
            if n == 0 {
                if self.buffered.is_empty() {
                    return Ok(None);
                }
                bail!("the connection ended inside a frame");
            }
            self.buffered.extend_from_slice(&chunk[..n]);
        }
    }

    /// Reads past other frames to the server's close frame: its code and reason. Fails
    /// if the connection ends without one.
    pub async fn close_frame(&mut self) -> Result<(u16, String)> {
        loop {
            let frame = self
                .next_frame()
                .await?
                .context("the server closed the TCP connection without a close frame")?;
            if frame.opcode() != 0x8 {
                continue;
            }
            let [high, low, reason @ ..] = frame.payload.as_slice() else {
                bail!("a close frame without a code: {frame:?}");
            };
            let reason = String::from_utf8(reason.to_vec()).context("the close reason")?;
            return Ok((u16::from_be_bytes([*high, *low]), reason));
        }
    }

    /// Waits until the server closes the TCP connection, reading past anything it sends.
    pub async fn ended(&mut self) -> Result<()> {
        let mut chunk = [0u8; 4096];
        loop {
            match tokio::time::timeout(DEADLINE, self.stream.read(&mut chunk))
                .await
                .context("the server kept the connection open")?
            {
                Ok(0) | Err(_) => return Ok(()),
                Ok(_) => {}
            }
        }
    }
}

/// One server frame (unmasked) from the front of `bytes`, and how many bytes it took.
fn parse(bytes: &[u8]) -> Result<Option<(RawFrame, usize)>> {
    let [first, second, rest @ ..] = bytes else {
        return Ok(None);
    };
    if second & 0x80 != 0 {
        bail!("the server sent a masked frame");
    }
    let (len, header) = match second & 0x7f {
        126 if rest.len() >= 2 => (usize::from(u16::from_be_bytes([rest[0], rest[1]])), 4),
        127 if rest.len() >= 8 => {
            let mut len = [0u8; 8];
            len.copy_from_slice(&rest[..8]);
            (usize::try_from(u64::from_be_bytes(len))?, 10)
        }
        126 | 127 => return Ok(None),
        len => (usize::from(len), 2),
    };
    if bytes.len() < header + len {
        return Ok(None);
    }
    let frame = RawFrame {
        first: *first,
        payload: bytes[header..header + len].to_vec(),
    };
    Ok(Some((frame, header + len)))
}
