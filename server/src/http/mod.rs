//! The HTTP edge: routes, the WebSocket upgrade with its limits, and health endpoints.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use dashmap::DashMap;

pub(crate) mod admin;
pub(crate) mod client;
pub(crate) mod floor_plan;
pub(crate) mod hosts;
pub(crate) mod oidc;
pub(crate) mod room_page;
pub(crate) mod serve;
pub(crate) mod statement;
pub(crate) mod upgrade;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hallway_proto::limits::MAX_FRAME_BYTES;
use tungstenite::protocol::WebSocketConfig;

use crate::router as routing;
use crate::transport;

/// Bytes read from the socket at a time. tungstenite's default (128 KiB) is allocated per
/// connection; client frames are mostly under 1 KiB and capped at 64 KiB. Measured with
/// `hallway-bench idle`: every buffer kilobyte here is a kilobyte per connection.
const READ_BUFFER: usize = 1024;

/// tungstenite writes only pongs and close replies (sessions write their messages
/// themselves, see `transport::conn`): write those out at once.
const WRITE_BUFFER: usize = 0;

/// What every request handler shares.
#[derive(Debug)]
pub(crate) struct AppState {
    /// Where the sessions of connections run.
    pub router: Arc<dyn routing::Router>,
    /// How long a connection may take to say hello.
    pub hello_timeout: std::time::Duration,
    /// Flips to `true` when the server shuts down.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    /// The names a request's `Host` may carry (against DNS rebinding).
    pub hosts: Arc<hosts::AllowedHosts>,
    /// Open WebSocket connections on this node.
    pub connections: AtomicUsize,
    /// Cap on `connections`.
    pub max_connections: usize,
    /// Open WebSocket connections per client IP address.
    pub per_ip: DashMap<IpAddr, u32>,
    /// Cap on each entry of `per_ip`.
    pub max_per_ip: u32,
    /// Whose pages may open the WebSocket.
    pub origins: Origins,
    /// Serve the conformance echo at `/ws-echo`.
    pub echo: bool,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<IpAddr>,
    /// Where `/metrics` is served besides its own listener (`--metrics-bind`).
    pub metrics: MetricsOnMainPort,
}

/// Whether the main port serves `/metrics`. The metrics name rooms and count people: they
/// are for the operator, not for the public behind the reverse proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MetricsOnMainPort {
    /// To requests from a loopback address that did not come through a proxy.
    LocalOnly,
    /// Not at all: they have a listener of their own.
    No,
}

/// Headers a reverse proxy adds to say whom it forwards for.
const FORWARDING_HEADERS: [&str; 3] = ["x-forwarded-for", "forwarded", "x-real-ip"];

impl MetricsOnMainPort {
    /// Whether a request from `peer` with these headers is served `/metrics`. A request
    /// forwarded by a proxy is not local, whoever the proxy says it came from: a proxy on
    /// the same machine connects from loopback.
    pub(crate) fn serves(self, peer: IpAddr, headers: &axum::http::HeaderMap) -> bool {
        self == MetricsOnMainPort::LocalOnly
            && peer.is_loopback()
            && !FORWARDING_HEADERS.iter().any(|h| headers.contains_key(*h))
    }
}

/// The client's address: the connection's, unless that is a trusted reverse proxy; then
/// the last address in `X-Forwarded-For` that is not a trusted proxy itself (proxies
/// append, so what comes before that is whatever the client claimed).
pub(crate) fn client_ip(
    peer: IpAddr,
    headers: &axum::http::HeaderMap,
    trusted: &[IpAddr],
) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in forwarded.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) if trusted.contains(&ip) => continue,
            Ok(ip) => return ip,
            // Garbage where an address should be: trust nothing further left.
            Err(_) => return peer,
        }
    }
    peer
}

/// The Origin allow-list of the WebSocket endpoint.
#[derive(Debug, Clone)]
pub(crate) enum Origins {
    /// The page's own origin only: Origin's host (and port) equals the Host header.
    SameOrigin,
    /// Exactly these origins (`scheme://host[:port]`).
    Listed(Vec<String>),
    /// Any origin.
    Any,
}

impl Origins {
    /// From `--allowed-origin` values: none means same origin; `*` means any.
    pub(crate) fn new(list: &[String]) -> Origins {
        if list.iter().any(|o| o == "*") {
            Origins::Any
        } else if list.is_empty() {
            Origins::SameOrigin
        } else {
            Origins::Listed(
                list.iter()
                    .map(|o| o.trim_end_matches('/').to_owned())
                    .collect(),
            )
        }
    }

    /// Whether a request with these headers may upgrade. Requests without Origin do not
    /// come from a browser page (which always sends it) and are allowed.
    pub(crate) fn allow(&self, headers: &axum::http::HeaderMap) -> bool {
        let Some(origin) = headers.get(axum::http::header::ORIGIN) else {
            return true;
        };
        let Ok(origin) = origin.to_str() else {
            return false;
        };
        match self {
            Origins::Any => true,
            Origins::Listed(list) => list.iter().any(|o| o == origin),
            Origins::SameOrigin => {
                let host = headers
                    .get(axum::http::header::HOST)
                    .and_then(|h| h.to_str().ok());
                let own = origin
                    .strip_prefix("https://")
                    .or_else(|| origin.strip_prefix("http://"));
                matches!((own, host), (Some(own), Some(host)) if own == host)
            }
        }
    }
}

/// The application's routes.
pub(crate) fn router(
    state: Arc<AppState>,
    files: client::ClientFiles,
    admin: admin::Admin,
    statement: statement::StatementPages,
    oidc: Option<Arc<crate::oidc::Provider>>,
) -> Router {
    let mut sockets = Router::new().route("/ws", get(websocket));
    if state.echo {
        sockets = sockets.route("/ws-echo", get(echo));
    }
    let room_pages = room_page::RoomPages {
        files: files.clone(),
        store: admin.store.clone(),
        rooms: admin.rooms.clone(),
        tokens: admin.tokens.clone(),
        host_sign_in: oidc.is_some(),
    };
    let sign_in = Router::new()
        .route("/r/{room}/host", get(oidc::start))
        .route(crate::oidc::CALLBACK_PATH, get(oidc::callback))
        .with_state(oidc::OidcPages {
            provider: oidc,
            tokens: admin.tokens.clone(),
            rooms: room_pages.clone(),
            public_base: admin.public_base.clone(),
        });
    let rooms = Router::new()
        .route("/r/{room}", get(room_page::page))
        .route("/r/{room}/about", get(room_page::about))
        .route(
            "/r/{room}/floor-plan",
            get(floor_plan::get)
                .put(floor_plan::put)
                .layer(DefaultBodyLimit::max(
                    crate::floor_plan::MAX_FLOOR_PLAN_BYTES,
                )),
        )
        .route("/plans/{file}", get(floor_plan::builtin))
        .with_state(room_pages);
    let pages = Router::new()
        .route("/", get(client::landing))
        .route("/help", get(client::help))
        .route("/assets/{*path}", get(client::asset))
        .with_state(files);
    let statement = Router::new()
        .route("/accessibility", get(statement::page))
        .route(
            "/accessibility/feedback",
            axum::routing::post(statement::post)
                .layer(DefaultBodyLimit::max(statement::MAX_FORM_BYTES)),
        )
        .with_state(statement);
    let hosts = state.hosts.clone();
    sockets
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(local_metrics))
        .with_state(state)
        .merge(pages)
        .merge(rooms)
        .merge(statement)
        .merge(sign_in)
        .merge(admin::router(admin))
        .layer(axum::middleware::from_fn_with_state(hosts, hosts::check))
}

async fn websocket(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request<Body>,
) -> Response {
    let router = state.router.clone();
    let hello_timeout = state.hello_timeout;
    let client = client_ip(peer.ip(), request.headers(), &state.trusted_proxies);
    upgrade_with(&state, peer, request, MAX_FRAME_BYTES, move |conn| {
        routing::run(conn, router, hello_timeout, client)
    })
}

/// Largest message the conformance echo takes: Autobahn's cases 9.1 to 9.6 send messages
/// of up to 16 MiB, which `/ws` refuses (1009) by design.
const ECHO_MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024 + 1024;

/// The conformance echo (`--conformance-echo`): the same checks, limits and upgrade as
/// `/ws`, then every message back.
async fn echo(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request<Body>,
) -> Response {
    upgrade_with(
        &state,
        peer,
        request,
        ECHO_MAX_MESSAGE_BYTES,
        transport::echo::run,
    )
}

/// Checks the Origin and the connection caps, then upgrades (taking messages of up to
/// `max_message` bytes) and runs `session` on the WebSocket.
fn upgrade_with<F, Fut>(
    state: &Arc<AppState>,
    peer: SocketAddr,
    request: Request<Body>,
    max_message: usize,
    session: F,
) -> Response
where
    F: FnOnce(crate::transport::Conn) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    if *state.shutdown.borrow() {
        // Draining: a load balancer sends this client to another node.
        return (StatusCode::SERVICE_UNAVAILABLE, "draining").into_response();
    }
    if !state.origins.allow(request.headers()) {
        return (StatusCode::FORBIDDEN, "this origin may not connect").into_response();
    }
    let client = client_ip(peer.ip(), request.headers(), &state.trusted_proxies);
    let guard = match ConnectionGuard::acquire(state, client) {
        Ok(guard) => guard,
        Err(Full::Node) => {
            return (StatusCode::SERVICE_UNAVAILABLE, "too many connections").into_response();
        }
        Err(Full::Address) => {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                "too many connections from your address",
            )
                .into_response();
        }
    };
    let config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        // Backpressure comes from the session's own bounded queue; this only bounds what
        // one flush may hold.
        .max_write_buffer_size(4 * max_message + 1024 * 1024)
        .max_message_size(Some(max_message))
        .max_frame_size(Some(max_message));
    let accepted = upgrade::accept(request, config, move |conn| async move {
        session(conn).await;
        drop(guard);
    });
    match accepted {
        Ok(response) => response,
        Err(err) => err.into_response(),
    }
}

/// The routes of the metrics listener (`--metrics-bind`): `/metrics` to whoever reaches it.
pub(crate) fn metrics_router() -> Router {
    Router::new().route("/metrics", get(metrics))
}

/// `/metrics` on the main port: to local requests only, or to none (see
/// [`MetricsOnMainPort`]); others get 404, as if there were nothing here.
async fn local_metrics(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: axum::http::HeaderMap,
) -> Response {
    if state.metrics.serves(peer.ip(), &headers) {
        metrics().await
    } else {
        StatusCode::NOT_FOUND.into_response()
    }
}

async fn metrics() -> Response {
    match crate::metrics::install() {
        Some(handle) => (
            [(
                axum::http::header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            handle.render(),
        )
            .into_response(),
        None => (StatusCode::SERVICE_UNAVAILABLE, "metrics are unavailable").into_response(),
    }
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    if *state.shutdown.borrow() {
        (StatusCode::SERVICE_UNAVAILABLE, "draining").into_response()
    } else {
        "ready".into_response()
    }
}

/// Which cap a connection hit.
enum Full {
    Node,
    Address,
}

/// Counts one open connection (on the node and for its address) for as long as it lives.
struct ConnectionGuard(Arc<AppState>, IpAddr);

impl ConnectionGuard {
    fn acquire(state: &Arc<AppState>, ip: IpAddr) -> Result<ConnectionGuard, Full> {
        let previous = state.connections.fetch_add(1, Ordering::AcqRel);
        if previous >= state.max_connections {
            state.connections.fetch_sub(1, Ordering::AcqRel);
            return Err(Full::Node);
        }
        let mut count = state.per_ip.entry(ip).or_insert(0);
        if *count >= state.max_per_ip {
            drop(count);
            state.connections.fetch_sub(1, Ordering::AcqRel);
            return Err(Full::Address);
        }
        *count += 1;
        drop(count);
        ::metrics::gauge!(crate::metrics::CONNECTIONS).increment(1.0);
        Ok(ConnectionGuard(state.clone(), ip))
    }
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.0.connections.fetch_sub(1, Ordering::AcqRel);
        ::metrics::gauge!(crate::metrics::CONNECTIONS).decrement(1.0);
        // The last connection of an address removes its entry.
        self.0.per_ip.remove_if_mut(&self.1, |_, count| {
            *count = count.saturating_sub(1);
            *count == 0
        });
    }
}

/// An error as JSON: `{"error": "..."}`.
pub(crate) fn json_error(status: StatusCode, message: &str) -> Response {
    #[derive(serde::Serialize)]
    struct Body<'a> {
        error: &'a str,
    }
    let mut response = (status, axum::Json(Body { error: message })).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            axum::http::header::WWW_AUTHENTICATE,
            axum::http::HeaderValue::from_static("Bearer"),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::{MetricsOnMainPort, client_ip};
    use axum::http::HeaderMap;
    use std::net::IpAddr;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    fn forwarded(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", value.parse().expect("a header value"));
        headers
    }

    #[test]
    fn only_a_trusted_proxy_names_the_client() {
        let proxy = ip("10.0.0.2");
        let trusted = [proxy, ip("10.0.0.3")];
        let headers = forwarded("198.51.100.7, 203.0.113.9, 10.0.0.3");
        // Through two trusted proxies: the last untrusted hop is the client.
        assert_eq!(client_ip(proxy, &headers, &trusted), ip("203.0.113.9"));
        // Straight from a client, the header is its own claim and ignored.
        assert_eq!(
            client_ip(ip("192.0.2.1"), &headers, &trusted),
            ip("192.0.2.1")
        );
        // Nothing forwarded, or garbage: the proxy's own address.
        assert_eq!(client_ip(proxy, &HeaderMap::new(), &trusted), proxy);
        assert_eq!(client_ip(proxy, &forwarded("not-an-ip"), &trusted), proxy);
        assert_eq!(client_ip(proxy, &forwarded("10.0.0.3"), &trusted), proxy);
    }

    #[test]
    fn the_main_port_serves_metrics_to_local_unproxied_requests_only() {
        let local = MetricsOnMainPort::LocalOnly;
        assert!(local.serves(ip("127.0.0.1"), &HeaderMap::new()));
        assert!(local.serves(ip("::1"), &HeaderMap::new()));
        // Another machine, even one on the same network.
        assert!(!local.serves(ip("10.0.0.2"), &HeaderMap::new()));
        assert!(!local.serves(ip("203.0.113.9"), &HeaderMap::new()));
        // Through a proxy on this machine: from loopback, but for someone else.
        assert!(!local.serves(ip("127.0.0.1"), &forwarded("203.0.113.9")));
        assert!(!local.serves(ip("127.0.0.1"), &forwarded("127.0.0.1")));
        for header in ["forwarded", "x-real-ip"] {
            let mut headers = HeaderMap::new();
            headers.insert(header, "for=203.0.113.9".parse().expect("a header value"));
            assert!(!local.serves(ip("127.0.0.1"), &headers), "{header}");
        }
        // With a listener of their own, never on the main port.
        assert!(!MetricsOnMainPort::No.serves(ip("127.0.0.1"), &HeaderMap::new()));
    }
}
