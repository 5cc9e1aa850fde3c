//! The HTTP edge: routes, the WebSocket upgrade with its limits, and health endpoints.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

pub mod admin;
pub mod client;
pub mod upgrade;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hallway_proto::limits::MAX_FRAME_BYTES;
use tungstenite::protocol::WebSocketConfig;

use crate::session::{self, SessionContext};

/// Bytes read from the socket at a time. tungstenite's default (128 KiB) is allocated per
/// connection; client frames are mostly under 1 KiB and capped at 64 KiB. Measured with
/// `hallway-bench idle`: every buffer kilobyte here is a kilobyte per connection.
const READ_BUFFER: usize = 1024;

/// tungstenite writes only pongs and close replies (sessions write their messages
/// themselves, see `session::conn`): write those out at once.
const WRITE_BUFFER: usize = 0;

/// What every request handler shares.
#[derive(Debug)]
pub struct AppState {
    /// What sessions need.
    pub session: SessionContext,
    /// Open WebSocket connections on this node.
    pub connections: AtomicUsize,
    /// Cap on `connections`.
    pub max_connections: usize,
}

/// The application's routes.
pub fn router(state: Arc<AppState>, files: client::ClientFiles, admin: admin::Admin) -> Router {
    let pages = Router::new()
        .route("/", get(client::landing))
        .route("/r/{room}", get(client::room))
        .route("/assets/{*path}", get(client::asset))
        .with_state(files);
    Router::new()
        .route("/ws", get(websocket))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(state)
        .merge(pages)
        .merge(admin::router(admin))
}

async fn websocket(State(state): State<Arc<AppState>>, request: Request<Body>) -> Response {
    let Some(guard) = ConnectionGuard::acquire(&state) else {
        return (StatusCode::SERVICE_UNAVAILABLE, "too many connections").into_response();
    };
    let ctx = state.session.clone();
    let config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        // Backpressure comes from the session's own bounded queue; this only bounds what
        // one flush may hold.
        .max_write_buffer_size(4 * MAX_FRAME_BYTES + 1024 * 1024)
        .max_message_size(Some(MAX_FRAME_BYTES))
        .max_frame_size(Some(MAX_FRAME_BYTES));
    let accepted = upgrade::accept(request, config, move |socket| async move {
        session::run(socket, ctx).await;
        drop(guard);
    });
    match accepted {
        Ok(response) => response,
        Err(err) => err.into_response(),
    }
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    if *state.session.shutdown.borrow() {
        (StatusCode::SERVICE_UNAVAILABLE, "draining").into_response()
    } else {
        "ready".into_response()
    }
}

/// Counts one open connection for as long as it lives.
struct ConnectionGuard(Arc<AppState>);

impl ConnectionGuard {
    fn acquire(state: &Arc<AppState>) -> Option<ConnectionGuard> {
        let previous = state.connections.fetch_add(1, Ordering::AcqRel);
        if previous >= state.max_connections {
            state.connections.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(ConnectionGuard(state.clone()))
    }
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.0.connections.fetch_sub(1, Ordering::AcqRel);
    }
}
