//! A UDP socket and a TCP listener on the same port number, as the SFU (ICE-TCP) and the
//! embedded TURN server (TURN over TCP) both want.

use std::net::SocketAddr;

use tokio::net::{TcpListener, UdpSocket};

/// Binds UDP on `addr` and, with `tcp`, TCP on the port number UDP got. With port 0 the
/// system picks the UDP port, which may be taken for TCP: then another is tried (up to 50).
/// On failure, the address that could not be bound and why.
pub(crate) async fn bind_udp_and_tcp(
    addr: SocketAddr,
    tcp: bool,
) -> Result<(UdpSocket, SocketAddr, Option<TcpListener>), (SocketAddr, std::io::Error)> {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let socket = UdpSocket::bind(addr).await.map_err(|e| (addr, e))?;
        let local = socket.local_addr().map_err(|e| (addr, e))?;
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
