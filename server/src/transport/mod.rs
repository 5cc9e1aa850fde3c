//! Connections, below everything that gives them meaning: a client's WebSocket (or, on a
//! room's owner in a cluster, the tunnel to a WebSocket on another node), its framing, its
//! bounded outgoing queue, and the loop that keeps it alive, writes what is queued and
//! drains it when the server stops. Sessions (`session`) and the cluster's relays
//! (`cluster::relay`) both serve their connections with [`serve`]; what a frame means is
//! theirs to say, through a [`Handler`].
//!
//! Nothing here knows rooms, the protocol's messages beyond `error`, or the cluster.

pub(crate) mod conn;
pub(crate) mod echo;
pub(crate) mod outbox;

use std::ops::ControlFlow;
use std::time::Duration;

use hallway_proto::close;
use tokio::sync::watch;
use tokio_tungstenite::WebSocketStream;
use tungstenite::protocol::frame::Utf8Bytes;

pub(crate) use conn::{Conn, Frame, Tunnel};
// Public: the cluster's wire format (`cluster::wire`) names it for the tests that speak it.
pub(crate) use conn::Relayed;
pub use conn::{Down, Movers, News, Place};
pub(crate) use outbox::{OutboxReceiver, OutboxSender, Outgoing, outbox};

/// An accepted WebSocket connection (upgraded by `http::upgrade`).
pub(crate) type Socket = WebSocketStream<hyper_util::rt::TokioIo<hyper::upgrade::Upgraded>>;

/// Most frames written to the socket before one flush.
const WRITE_BATCH: usize = 64;

/// How a connection ended.
#[derive(Debug)]
pub(crate) enum End {
    /// The client left on purpose: said `leave`, or closed the connection.
    Left,
    /// The connection dropped or failed, or the client gave it up to resume on another.
    Lost,
    /// The client's page went away (close code 1001: a reload or a closed tab).
    Unloaded,
    /// We closed with this code.
    Closed(u16),
}

/// How a connection is kept alive, and let go of when the server stops.
#[derive(Debug, Clone)]
pub struct Keepalive {
    /// Silence from a client after which it is pinged.
    pub ping_interval: Duration,
    /// How long a pinged client has to answer before it is closed as dead.
    pub ping_timeout: Duration,
    /// The window over which connections are told to reconnect when the server stops.
    pub drain: Duration,
    /// Flips to `true` when the server shuts down.
    pub shutdown: watch::Receiver<bool>,
}

/// What gives a served connection its meaning: what to do with each frame the client
/// sends, and with each batch written to it.
pub(crate) trait Handler {
    /// What serving the connection comes to, when the handler ends it.
    type Output: Send;

    /// A frame from the client; `Break` ends the serving.
    fn frame(
        &mut self,
        conn: &mut Conn,
        frame: Frame,
    ) -> impl Future<Output = ControlFlow<Self::Output>> + Send;

    /// `count` queued frames were written to the client.
    fn written(&mut self, count: usize) -> impl Future<Output = ControlFlow<Self::Output>> + Send {
        let _ = count;
        std::future::ready(ControlFlow::Continue(()))
    }
}

/// How serving a connection ended.
#[derive(Debug)]
pub(crate) enum Served<T> {
    /// The handler ended it.
    Handled(T),
    /// The connection ended: it failed, went silent (closed with
    /// [`close::UNRESPONSIVE`]), or the server stopped (closed with
    /// [`close::SERVICE_RESTART`] after a random part of the drain window).
    Ended(End),
    /// Whoever fills the queue told the connection to close with this code (it was, once
    /// every frame before was written).
    Kicked(u16),
    /// Whoever fills the queue let go of it.
    Abandoned,
}

/// Serves a connection: writes what is queued for it (in batches), pings it after
/// silence and closes it if it does not answer, hands every frame from the client to
/// `handler`, and closes it when the server stops.
///
/// This future lives as long as the connection and is as large as its largest state, so
/// whatever it awaits only for a moment (handling a frame, writing a batch, a ping, a
/// close) is boxed for that moment: an idle connection then keeps only the waiting below
/// (about 0.4 KiB) instead of the largest handler's state (1.9 KiB for a session's frame,
/// 0.8 KiB for a write; measured with `size_of_val`). One allocation per frame or batch
/// costs less than that memory kept by every idle connection (issue #19, idle-20k).
pub(crate) async fn serve<H: Handler>(
    conn: &mut Conn,
    outbox: &mut OutboxReceiver,
    keepalive: &Keepalive,
    handler: &mut H,
) -> Served<H::Output> {
    let mut shutdown = keepalive.shutdown.clone();
    let mut pinged = false;
    let alive = tokio::time::sleep(keepalive.ping_interval);
    tokio::pin!(alive);
    loop {
        tokio::select! {
            biased;
            () = stopping(&mut shutdown) => {
                // Spread the reconnections of a restart over the drain window.
                let wait = keepalive.drain.mul_f64(rand::random::<f64>());
                return Served::Ended(
                    Box::pin(async {
                        tokio::time::sleep(wait).await;
                        conn.close(close::SERVICE_RESTART).await
                    })
                    .await,
                );
            }
            () = &mut alive => {
                if pinged {
                    return Served::Ended(conn.close(close::UNRESPONSIVE).await);
                }
                if let Err(err) = Box::pin(conn.ping()).await {
                    return Served::Ended(conn::ended_by(&err));
                }
                pinged = true;
                alive.as_mut().reset(tokio::time::Instant::now() + keepalive.ping_timeout);
            }
            next = outbox.recv() => match next {
                Some(Outgoing::Frame(frame)) => {
                    match Box::pin(write_batch(conn, outbox, frame)).await {
                        Ok(count) => {
                            if let ControlFlow::Break(out) = handler.written(count).await {
                                return Served::Handled(out);
                            }
                        }
                        Err(err) => return Served::Ended(conn::ended_by(&err)),
                    }
                }
                Some(Outgoing::Kicked(code)) => {
                    conn.close(code).await;
                    return Served::Kicked(code);
                }
                None => return Served::Abandoned,
            },
            frame = conn.next() => {
                // Any frame, a pong included, shows the client is alive.
                pinged = false;
                alive.as_mut().reset(tokio::time::Instant::now() + keepalive.ping_interval);
                if let ControlFlow::Break(out) = Box::pin(handler.frame(conn, frame)).await {
                    return Served::Handled(out);
                }
            }
        }
    }
}

/// Resolves once the server starts shutting down.
pub(crate) async fn stopping(shutdown: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is not `Send`; drop it here rather than in `select!`.
    let _ = shutdown.wait_for(|stopping| *stopping).await;
}

/// Writes `first` and whatever else is queued (up to [`WRITE_BATCH`]) in one write;
/// returns how many frames it wrote.
async fn write_batch(
    conn: &mut Conn,
    outbox: &mut OutboxReceiver,
    first: Utf8Bytes,
) -> std::io::Result<usize> {
    let mut batch = Vec::with_capacity(8);
    batch.push(first);
    while batch.len() < WRITE_BATCH {
        match outbox.try_recv() {
            Some(frame) => batch.push(frame),
            None => break,
        }
    }
    conn.send(&batch).await.map(|()| batch.len())
}
