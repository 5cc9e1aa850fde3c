//! The WebSocket upgrade, done here rather than with axum's extractor: sessions need the
//! raw stream underneath tungstenite to write their own frames (see `transport::conn`).

use std::future::Future;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::TokioIo;
use tokio_tungstenite::WebSocketStream;
use tungstenite::handshake::derive_accept_key;
use tungstenite::protocol::{Role, WebSocketConfig};

use crate::transport::Conn;

/// Why an upgrade request was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum UpgradeError {
    /// Not a WebSocket upgrade request (or a malformed one).
    #[error("expected a WebSocket upgrade request: {0}")]
    NotAnUpgrade(&'static str),
    /// A WebSocket version other than 13.
    #[error("unsupported WebSocket version; this server speaks 13")]
    Version,
}

impl IntoResponse for UpgradeError {
    fn into_response(self) -> Response {
        let mut response = (StatusCode::BAD_REQUEST, self.to_string()).into_response();
        if matches!(self, UpgradeError::Version) {
            *response.status_mut() = StatusCode::UPGRADE_REQUIRED;
            response.headers_mut().insert(
                header::SEC_WEBSOCKET_VERSION,
                HeaderValue::from_static("13"),
            );
        }
        response
    }
}

/// Answers an upgrade request with 101 and runs `session` on the connection once the
/// client has switched protocols.
pub(crate) fn accept<F, Fut>(
    mut request: Request<Body>,
    config: WebSocketConfig,
    session: F,
) -> Result<Response, UpgradeError>
where
    F: FnOnce(Conn) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let headers = request.headers();
    if !header_has_token(headers, header::CONNECTION, "upgrade") {
        return Err(UpgradeError::NotAnUpgrade("no `Connection: upgrade`"));
    }
    if !header_has_token(headers, header::UPGRADE, "websocket") {
        return Err(UpgradeError::NotAnUpgrade("no `Upgrade: websocket`"));
    }
    if headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .map(HeaderValue::as_bytes)
        != Some(b"13")
    {
        return Err(UpgradeError::Version);
    }
    let key = headers
        .get(header::SEC_WEBSOCKET_KEY)
        .ok_or(UpgradeError::NotAnUpgrade("no Sec-WebSocket-Key"))?;
    let accept_key = derive_accept_key(key.as_bytes());
    let on_upgrade = hyper::upgrade::on(&mut request);
    tokio::spawn(async move {
        // A client that goes away before switching protocols simply never gets a session.
        if let Ok(upgraded) = on_upgrade.await {
            // The socket goes on the heap at once (in a `Conn`), and so does the future
            // that makes it: this task lasts as long as the connection and keeps the size
            // of its largest state, which should be the session's, not the upgrade's.
            let conn = Box::pin(async move {
                Conn::new(
                    WebSocketStream::from_raw_socket(
                        TokioIo::new(upgraded),
                        Role::Server,
                        Some(config),
                    )
                    .await,
                )
            })
            .await;
            session(conn).await;
        }
    });
    let response = Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::CONNECTION, "upgrade")
        .header(header::UPGRADE, "websocket")
        .header(header::SEC_WEBSOCKET_ACCEPT, accept_key)
        .body(Body::empty())
        .map_err(|_| UpgradeError::NotAnUpgrade("unrepresentable response"))?;
    Ok(response)
}

/// Whether a comma-separated header contains `token`, ignoring case.
fn header_has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|part| part.trim().eq_ignore_ascii_case(token))
}
