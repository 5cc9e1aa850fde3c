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
    let (socket, local, listener) = loop {
        attempts += 1;
        let socket = UdpSocket::bind(addr).await.map_err(|e| (addr, e))?;
        let local = socket.local_addr().map_err(|e| (addr, e))?;
        if !tcp {
            break (socket, local, None);
        }
        match TcpListener::bind(local).await {
            Ok(listener) => break (socket, local, Some(listener)),
            Err(e)
                if addr.port() == 0
                    && e.kind() == std::io::ErrorKind::AddrInUse
                    && attempts < 50 => {}
            Err(e) => return Err((local, e)),
        }
    };
    enlarge_buffers(&socket, local);
    Ok((socket, local, listener))
}

/// Makes the socket's receive and send buffers at least `MEDIA_BUFFER_BYTES` (a system
/// whose default is larger keeps its own); the system may grant less (its limit), which
/// is logged. Not fatal: the socket works with smaller buffers, only less well on a busy
/// machine.
fn enlarge_buffers(socket: &UdpSocket, local: SocketAddr) {
    let sock = socket2::SockRef::from(socket);
    if sock
        .recv_buffer_size()
        .is_ok_and(|now| now < MEDIA_BUFFER_BYTES)
        && let Err(err) = sock.set_recv_buffer_size(MEDIA_BUFFER_BYTES)
    {
        tracing::warn!(%local, %err, "cannot set the media socket's receive buffer");
    }
    if sock
        .send_buffer_size()
        .is_ok_and(|now| now < MEDIA_BUFFER_BYTES)
        && let Err(err) = sock.set_send_buffer_size(MEDIA_BUFFER_BYTES)
    {
        tracing::warn!(%local, %err, "cannot set the media socket's send buffer");
    }
    if let Ok(reported) = sock.recv_buffer_size()
        && granted(reported) < MEDIA_BUFFER_BYTES
    {
        tracing::info!(
            %local,
            granted_kib = granted(reported) / 1024,
            wanted_kib = MEDIA_BUFFER_BYTES / 1024,
            "the media socket's receive buffer is smaller than wanted: raise net.core.rmem_max"
        );
    }
}

/// The buffer the system granted, from what it reports: Linux reports twice what was
/// asked (the other half is its own bookkeeping).
fn granted(reported: usize) -> usize {
    if cfg!(target_os = "linux") {
        reported / 2
    } else {
        reported
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The media socket gets the receive and send buffers a socket gets when it asks for
    /// `MEDIA_BUFFER_BYTES` (what the system grants depends on its limits), and more than
    /// a socket that does not ask, unless the system's limit or default rules it out.
    #[tokio::test]
    async fn a_media_socket_asks_for_larger_buffers() {
        let (socket, _, _) = bind_udp_and_tcp("127.0.0.1:0".parse().expect("an address"), false)
            .await
            .expect("a socket on loopback");
        let media = socket2::SockRef::from(&socket);
        // A socket that asks for the same, itself (and keeps a larger default).
        let control = std::net::UdpSocket::bind("127.0.0.1:0").expect("a socket on loopback");
        let control = socket2::SockRef::from(&control);
        let default = control.recv_buffer_size().expect("its buffer size");
        if default < MEDIA_BUFFER_BYTES {
            control
                .set_recv_buffer_size(MEDIA_BUFFER_BYTES)
                .expect("asking for a buffer");
        }
        if control.send_buffer_size().expect("its buffer size") < MEDIA_BUFFER_BYTES {
            control
                .set_send_buffer_size(MEDIA_BUFFER_BYTES)
                .expect("asking for a buffer");
        }
        let sizes = |sock: &socket2::SockRef<'_>| {
            (
                sock.recv_buffer_size().expect("its buffer size"),
                sock.send_buffer_size().expect("its buffer size"),
            )
        };
        assert_eq!(
            sizes(&media),
            sizes(&control),
            "receive and send buffers (the default receive buffer: {default})"
        );
    }
}
