//! DNS rebinding: a request naming a foreign `Host` is refused (421) on every route, the
//! WebSocket and `/metrics` included; the server's own address, `localhost` and the
//! public URL's host are served; every response carries a Permissions-Policy that gives
//! camera, microphone and screen capture to the page's own origin only.

use anyhow::{Context, Result};
use hallway_tests::{TestClient, TestServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// `GET path` with this Host; the status and the response head.
async fn get(server: &TestServer, path: &str, host: &str) -> Result<(u16, String)> {
    let mut stream = tokio::net::TcpStream::connect(server.addr()).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    tokio::time::timeout(hallway_tests::DEADLINE, stream.read_to_end(&mut response)).await??;
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("no status in {text:?}"))?;
    let head = text
        .split("\r\n\r\n")
        .next()
        .unwrap_or_default()
        .to_lowercase();
    Ok((status, head))
}

#[tokio::test]
async fn a_foreign_host_is_refused_on_a_local_server() -> Result<()> {
    let server = TestServer::start().await?;
    let evil = [("Host", "evil.example"), ("Origin", "http://evil.example")];
    let refused = TestClient::connect_with(&server, &evil).await;
    let error = refused
        .err()
        .context("the rebinding upgrade was accepted")?;
    assert!(error.to_string().contains("421"), "{error}");
    assert_eq!(get(&server, "/metrics", "evil.example").await?.0, 421);
    assert_eq!(get(&server, "/r/lobby", "evil.example:8080").await?.0, 421);
    // Its own address and localhost are served, with the permissions policy.
    let own = server.addr().to_string();
    let port = server.addr().port();
    for host in [own.as_str(), &format!("localhost:{port}")] {
        let (status, head) = get(&server, "/r/lobby", host).await?;
        assert_eq!(status, 200, "{host}");
        assert!(
            head.contains(
                "permissions-policy: camera=(self), microphone=(self), display-capture=(self)"
            ),
            "{head}"
        );
    }
    assert_eq!(get(&server, "/metrics", &own).await?.0, 200);
    TestClient::join(&server, "Anna").await?;
    server.stop().await
}

#[tokio::test]
async fn with_a_public_url_its_host_is_served_and_others_are_not() -> Result<()> {
    let server = TestServer::start_with(|c| {
        c.public_url = Some("https://events.example.org".into());
    })
    .await?;
    let ours = [
        ("Host", "events.example.org"),
        ("Origin", "https://events.example.org"),
    ];
    TestClient::connect_with(&server, &ours).await?;
    assert_eq!(get(&server, "/r/lobby", "events.example.org").await?.0, 200);
    assert_eq!(get(&server, "/healthz", "other.example.org").await?.0, 421);
    server.stop().await
}
