//! The admin API as the tests use it: rooms created with a key.

use std::net::SocketAddr;

use anyhow::Result;

use crate::process::http_request;

/// `POST /api/rooms` with `body` (JSON) and the admin `key`; the status and the answer.
pub async fn create_room(addr: SocketAddr, key: &str, body: &str) -> Result<(u16, String)> {
    let auth = format!("Bearer {key}");
    let headers = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    http_request(addr, "POST", "/api/rooms", &headers, body.as_bytes()).await
}
