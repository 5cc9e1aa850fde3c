//! A UDP socket and a TCP listener on the same port number, as the SFU (ICE-TCP) and the
//! embedded TURN server (TURN over TCP) both want.

use std::net::SocketAddr;

use tokio::net::{TcpListener, UdpSocket};

/// The receive and send buffers asked for a media socket. One socket carries every
/// participant's media: at the system's default (about 208 KiB, some 150 full-size
/// packets) a few milliseconds in which the server's task does not run (a busy machine, a
/// burst of key frames) overflow it, and the kernel drops what comes in; publishers read
/// the loss as congestion and lower their sending rate (their top simulcast layer goes
/// first). The system grants at most `net.core.rmem_max` / `wmem_max` (the operator guide
/// says how to raise them).
const MEDIA_BUFFER_BYTES: usize = 4 * 1024 * 1024;

/// Binds UDP on `addr` and, with `tcp`, TCP on the port number UDP got. With port 0 the
/// system picks the UDP port, which may be taken for TCP: then another is tried (up to 50).
/// The UDP socket's buffers are made as large as the system allows up to
/// `MEDIA_BUFFER_BYTES`. On failure, the address that could not be bound and why.
pub(crate) async fn bind_udp_and_tcp(
    addr: SocketAddr,
    tcp: bool,
) -> Result<(UdpSocket, SocketAddr, Option<TcpListener>), (SocketAddr, std::io::Error)> {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let socket = UdpSocket::bind(addr).await.map_err(|e| (addr, e))?;
        let local = socket.local_addr().map_err(|e| (addr, e))?;
        enlarge_buffers(&socket, local);
        if !tcp {
            return Ok((socket, local, None));
        }
        match TcpListener::bind(local).await {
            Ok(listener) => return Ok((socket, local, Some(listener))),
            Err(e)
                if addr.port() == 0
                    && e.kind() == std::io::ErrorKind::AddrInUse
                    && attempts < 50 => {}
            Err(e) => return Err((local, e)),
        }
    }
}

/// Asks for `MEDIA_BUFFER_BYTES` of receive and send buffer; the system may grant less
/// (its limit), which is logged once per socket. Not fatal: the socket works with the
/// default buffers, only less well on a busy machine.
fn enlarge_buffers(socket: &UdpSocket, local: SocketAddr) {
    let sock = socket2::SockRef::from(socket);
    if let Err(err) = sock.set_recv_buffer_size(MEDIA_BUFFER_BYTES) {
        tracing::warn!(%local, %err, "cannot set the media socket's receive buffer");
    }
    if let Err(err) = sock.set_send_buffer_size(MEDIA_BUFFER_BYTES) {
        tracing::warn!(%local, %err, "cannot set the media socket's send buffer");
    }
    // Linux reports twice what it grants (the other half is its own bookkeeping).
    if let Ok(granted) = sock.recv_buffer_size()
        && granted / 2 < MEDIA_BUFFER_BYTES
    {
        tracing::info!(
            %local,
            granted_kib = granted / 2 / 1024,
            wanted_kib = MEDIA_BUFFER_BYTES / 1024,
            "the media socket's receive buffer is smaller than wanted: raise net.core.rmem_max"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The media socket gets more receive buffer than the system's default (about
    /// 208 KiB), up to what the system allows.
    #[tokio::test]
    async fn a_media_socket_gets_a_larger_receive_buffer() {
        let (socket, _, _) = bind_udp_and_tcp("127.0.0.1:0".parse().expect("an address"), false)
            .await
            .expect("a socket on loopback");
        let plain = std::net::UdpSocket::bind("127.0.0.1:0").expect("a socket on loopback");
        let default = socket2::SockRef::from(&plain)
            .recv_buffer_size()
            .expect("its buffer size");
        let max = std::fs::read_to_string("/proc/sys/net/core/rmem_max")
            .ok()
            .and_then(|s| s.trim().parse::<usize>().ok())
            .unwrap_or(MEDIA_BUFFER_BYTES);
        let granted = socket2::SockRef::from(&socket)
            .recv_buffer_size()
            .expect("its buffer size");
        assert_eq!(
            granted,
            2 * max.min(MEDIA_BUFFER_BYTES),
            "default {default}"
        );
        assert!(max <= default / 2 || granted > default);
    }
}
