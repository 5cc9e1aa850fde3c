//! The conformance echo: every message a client sends comes back, through the sessions'
//! own WebSocket reader and writer (the same upgrade, limits and framing as `/ws`). Served
//! at `/ws-echo` only with `--conformance-echo`, for the Autobahn test cases; never in
//! production.

use hallway_proto::close;

use super::conn::{Conn, Frame};

/// Echoes until the client closes or the connection fails.
pub(crate) async fn run(mut conn: Conn) {
    loop {
        let sent = match conn.next().await {
            Frame::Text(text) => conn.send(&[text]).await,
            Frame::Binary(data) => conn.send_binary(&data).await,
            Frame::Control | Frame::Missed => Ok(()),
            Frame::TooBig => {
                conn.close(close::TOO_BIG).await;
                return;
            }
            Frame::ProtocolError(code) => {
                conn.close(code).await;
                return;
            }
            Frame::Closed(_) => {
                conn.finish().await;
                return;
            }
            Frame::End | Frame::Dropped(_) => return,
        };
        if sent.is_err() {
            return;
        }
    }
}
