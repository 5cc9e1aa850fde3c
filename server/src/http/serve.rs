//! The accept loop: the router served by hyper, one task per connection, with a deadline
//! for each request's headers. axum's own `serve` sets no timer, so hyper's header
//! deadline never fires there: a client that trickles its headers a byte at a time
//! (slowloris), or connects and sends nothing, would hold its connection for ever.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// The kernel's send buffer of every connection (Linux reserves twice this). Without a
/// fixed size it grows up to 4 MiB for a client that stops reading, per connection; this
/// still holds a 1,500-person welcome (300 KB) at once, and a stuck client fills it
/// within seconds, so that its writes time out and it is let go.
const SEND_BUFFER_BYTES: usize = 256 * 1024;

/// Serves `app` on `listener` until `stop` turns `true`; then stops accepting, lets each
/// connection finish the request it is on, and returns once they are done. (Upgraded
/// connections are the sessions' business by then.)
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    header_timeout: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let for_connections = stop.clone();
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            () = stopping(&mut stop) => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    connections.spawn(connection(
                        stream,
                        peer,
                        app.clone(),
                        header_timeout,
                        for_connections.clone(),
                    ));
                }
                Err(err) => {
                    // Out of file descriptors, most likely: wait for some to be freed
                    // rather than spin.
                    tracing::warn!(%err, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    while connections.join_next().await.is_some() {}
}

/// Serves one connection: HTTP/1.1 with upgrades (the WebSocket), the peer's address for
/// the handlers, and a deadline for every request's headers (the first one included: the
/// deadline runs from the moment the connection waits for a request).
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    header_timeout: Duration,
    mut stop: watch::Receiver<bool>,
) {
    if let Err(err) = stream.set_nodelay(true) {
        tracing::debug!(%err, "cannot set TCP_NODELAY");
    }
    if let Err(err) = socket2::SockRef::from(&stream).set_send_buffer_size(SEND_BUFFER_BYTES) {
        tracing::debug!(%err, "cannot set the send buffer size");
    }
    let service = TowerToHyperService::new(app.layer(axum::Extension(ConnectInfo(peer))));
    // HTTP/1.1 only: the WebSocket upgrade is HTTP/1.1, and the reverse proxy in front
    // speaks it to us. (A version-detecting builder would read the first bytes itself,
    // before any deadline applies.)
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => return,
        () = stopping(&mut stop) => conn.as_mut().graceful_shutdown(),
    }
    let _ = conn.await;
}

/// Resolves once the server starts shutting down.
async fn stopping(stop: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is not `Send`; drop it here rather than in `select!`.
    let _ = stop.wait_for(|stopping| *stopping).await;
}
