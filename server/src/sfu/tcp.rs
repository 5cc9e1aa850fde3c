//! ICE-TCP: the SFU's connections over one TCP port (the same number as the UDP one), for
//! networks that let no UDP through. Each TCP connection carries RFC 4571 frames (a 2-byte
//! length, then a STUN, DTLS, SRTP or SRTCP packet). Its first frame is a connectivity check
//! whose USERNAME names our end, exactly as on UDP; from then on the connection's remote
//! address routes to that peer, and what the peer sends to that address is framed onto it.

use std::net::SocketAddr;
use std::sync::Weak;

use bytes::BytesMut;
use rtc::shared::tcp_framing::{TcpFrameDecoder, frame_packet};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tracing::debug;

use super::{Datagram, Inner, route};

/// Frames queued for one TCP connection before more are dropped (as UDP would lose them).
const WRITE_QUEUE: usize = 512;
/// Largest frame a client may send: a media packet, not a file.
const MAX_FRAME: usize = 1600;

/// Accepts TCP connections until the SFU is dropped.
pub(super) async fn accept(listener: TcpListener, inner: Weak<Inner>) {
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            () = tokio::time::sleep(std::time::Duration::from_secs(1)) => {
                if inner.strong_count() == 0 {
                    return;
                }
                continue;
            }
        };
        match accepted {
            Ok((stream, from)) => {
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve(stream, from, inner.clone()));
            }
            Err(err) => debug!("media TCP accept failed: {err}"),
        }
    }
}

/// Reads frames from one connection and routes them; writes what peers send to it.
async fn serve(stream: TcpStream, from: SocketAddr, inner: Weak<Inner>) {
    let (mut reader, mut writer) = stream.into_split();
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(WRITE_QUEUE);
    if let Some(strong) = inner.upgrade() {
        strong.tcp_writers.insert(from, tx);
    }
    let writing = tokio::spawn(async move {
        while let Some(frame) = rx.recv().await {
            if writer.write_all(&frame).await.is_err() {
                break;
            }
        }
    });
    let mut decoder = TcpFrameDecoder::new();
    let mut buf = vec![0u8; 4096];
    loop {
        let n = match reader.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        decoder.extend_from_slice(&buf[..n]);
        let Some(strong) = inner.upgrade() else {
            break;
        };
        while let Some(packet) = decoder.next_packet() {
            if packet.len() > MAX_FRAME {
                continue;
            }
            route(
                &strong,
                Datagram {
                    from,
                    data: BytesMut::from(&packet[..]),
                    tcp: true,
                },
            );
        }
    }
    writing.abort();
    if let Some(strong) = inner.upgrade() {
        strong.tcp_writers.remove(&from);
        strong.by_addr.remove(&from);
    }
}

/// Queues `data` as one frame on the connection from `to`, if there is one.
pub(super) fn send(inner: &Inner, data: &[u8], to: SocketAddr) {
    if let Some(writer) = inner.tcp_writers.get(&to) {
        // A connection that does not keep up loses frames, as UDP would.
        let _ = writer.try_send(frame_packet(data));
    }
}
