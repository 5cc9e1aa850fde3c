//! Where a connection's session runs. The HTTP edge reads a connection's `hello` and hands
//! the connection to the node's [`Router`]: alone, every session runs here ([`Local`]); in
//! a cluster, a connection to a room another node owns is relayed there (the cluster is a
//! router of its own: `cluster::Cluster`). Sessions never know which.

use std::net::IpAddr;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use tungstenite::protocol::frame::Utf8Bytes;

use crate::session::{self, SessionContext};
use crate::transport::Conn;

/// Decides where the session of a connection runs, and runs it there.
pub(crate) trait Router: Send + Sync + std::fmt::Debug {
    /// Serves a connection that said `hello` (its first text frame) to its end; `client`
    /// is its address.
    fn serve(&self, conn: Conn, hello: Utf8Bytes, client: IpAddr) -> BoxFuture<'static, ()>;
}

/// One node alone: every session runs here.
#[derive(Debug)]
pub(crate) struct Local {
    ctx: Arc<SessionContext>,
}

impl Local {
    /// Runs sessions with `ctx`.
    pub(crate) fn new(ctx: SessionContext) -> Local {
        Local { ctx: Arc::new(ctx) }
    }
}

impl Router for Local {
    fn serve(&self, conn: Conn, hello: Utf8Bytes, client: IpAddr) -> BoxFuture<'static, ()> {
        Box::pin(session::run(conn, hello, self.ctx.clone(), Some(client)))
    }
}

/// Runs an accepted WebSocket: its first text frame within `hello_timeout`, then whatever
/// the router makes of it.
pub(crate) async fn run(
    mut conn: Conn,
    router: Arc<dyn Router>,
    hello_timeout: std::time::Duration,
    client: IpAddr,
) {
    // Boxed while it runs: this future lasts as long as the connection, and keeps the
    // size of its largest state (see `transport::serve`).
    if let Ok(hello) = Box::pin(conn.first_text(hello_timeout)).await {
        router.serve(conn, hello, client).await;
    }
}
