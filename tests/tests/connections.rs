//! Connection limits and liveness: the Origin allow-list, the cap per address, pings that
//! find dead peers, and a restart that tells everyone to come back (close 1012).

use std::time::{Duration, Instant};

use anyhow::Result;
use hallway_proto::{ClientMessage, ServerMessage, close};
use hallway_tests::{TestClient, TestServer};

fn refusal(result: Result<TestClient>) -> String {
    match result {
        Ok(_) => "accepted".into(),
        Err(err) => err.to_string(),
    }
}

/// Asserts that a page at each of `origins` is refused the WebSocket with 403.
async fn forbidden(server: &TestServer, origins: &[&str]) {
    for origin in origins {
        assert_eq!(
            refusal(TestClient::connect_from(server, origin).await),
            "refused with 403",
            "{origin}"
        );
    }
}

#[tokio::test]
async fn by_default_only_the_servers_own_pages_may_connect() -> Result<()> {
    let server = TestServer::start().await?;
    let own = format!("http://{}", server.addr());
    let mut ann = TestClient::connect_from(&server, &own).await?;
    ann.hello("lobby", "Ann").await?;
    assert!(matches!(ann.recv().await?, ServerMessage::Welcome { .. }));
    // Behind a TLS proxy the page is https with the same host.
    TestClient::connect_from(&server, &format!("https://{}", server.addr())).await?;
    let lookalike = format!("http://{}.evil.example", server.addr());
    forbidden(&server, &["http://evil.example", &lookalike, "null"]).await;
    server.stop().await
}

#[tokio::test]
async fn a_configured_allow_list_matches_exactly() -> Result<()> {
    let server = TestServer::start_with(|c| {
        c.allowed_origins = vec!["https://events.example.org".into()];
    })
    .await?;
    TestClient::connect_from(&server, "https://events.example.org").await?;
    let own = format!("http://{}", server.addr());
    let others = [
        "https://events.example.org.evil.example",
        "http://events.example.org",
        "https://events.example.or",
        &own,
    ];
    forbidden(&server, &others).await;
    server.stop().await
}

#[tokio::test]
async fn one_address_gets_at_most_its_share_of_connections() -> Result<()> {
    let server = TestServer::start_with(|c| c.max_connections_per_ip = 3).await?;
    let mut held = Vec::new();
    for name in ["A", "B", "C"] {
        held.push(TestClient::join(&server, name).await?);
    }
    let own = format!("http://{}", server.addr());
    assert_eq!(
        refusal(TestClient::connect_from(&server, &own).await),
        "refused with 429"
    );
    // One leaves: there is room again.
    if let Some(c) = held.pop() {
        c.close().await?;
    }
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        match TestClient::connect_from(&server, &own).await {
            Ok(_) => break,
            Err(_) if Instant::now() < until => tokio::time::sleep(Duration::from_millis(50)).await,
            Err(err) => return Err(err),
        }
    }
    server.stop().await
}

#[tokio::test]
async fn a_client_that_answers_no_ping_is_closed_and_a_live_one_is_not() -> Result<()> {
    let server = TestServer::start_with(|c| {
        c.ping_interval = 1;
        c.ping_timeout = 1;
    })
    .await?;
    let mut dead = TestClient::join(&server, "Dora").await?;
    let mut alive = TestClient::join(&server, "Alex").await?;
    let started = Instant::now();
    // Alex keeps reading (so answers pings); Dora reads nothing for 3 s.
    let reading = async {
        while started.elapsed() < Duration::from_secs(3) {
            let _ = tokio::time::timeout(Duration::from_millis(200), alive.recv()).await;
        }
    };
    reading.await;
    let closed = dead.wait_closed().await?;
    assert_eq!(closed.code, Some(close::UNRESPONSIVE), "{closed:?}");
    alive.send(&ClientMessage::Hand { raised: true }).await?;
    alive
        .wait_for("our hand", |m| {
            matches!(m, ServerMessage::Hand { raised: true, .. }).then_some(())
        })
        .await?;
    server.stop().await
}

#[tokio::test]
async fn stopping_tells_every_session_to_come_back() -> Result<()> {
    let server = TestServer::start_with(|c| c.drain_seconds = 1).await?;
    let mut ann = TestClient::join(&server, "Ann").await?;
    let mut ben = TestClient::join(&server, "Ben").await?;
    let stopping = tokio::spawn(server.stop());
    for client in [&mut ann, &mut ben] {
        let closed = client.wait_closed().await?;
        assert_eq!(closed.code, Some(close::SERVICE_RESTART), "{closed:?}");
    }
    stopping.await??;
    Ok(())
}

/// Reads until the server closes the connection; how long that took, or `None` if it
/// still held the connection after `limit`.
async fn closed_within(stream: &mut tokio::net::TcpStream, limit: Duration) -> Option<Duration> {
    use tokio::io::AsyncReadExt;
    let start = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout_at((start + limit).into(), stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return Some(start.elapsed()),
            Ok(Ok(_)) => {}
            Err(_) => return None,
        }
    }
}

#[tokio::test]
async fn a_client_that_sends_no_headers_or_trickles_them_is_closed() -> Result<()> {
    use tokio::io::AsyncWriteExt;
    let server = TestServer::start_with(|c| c.header_timeout = 2).await?;

    // Connects and says nothing.
    let mut silent = tokio::net::TcpStream::connect(server.addr()).await?;
    let took = closed_within(&mut silent, Duration::from_secs(10)).await;
    assert!(took.is_some(), "a silent connection was held for 10 s");

    // Slowloris: a header line every half second, never the blank line that ends them.
    let mut trickle = tokio::net::TcpStream::connect(server.addr()).await?;
    trickle.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").await?;
    let writer = tokio::spawn(async move {
        for i in 0..40 {
            tokio::time::sleep(Duration::from_millis(500)).await;
            if trickle
                .write_all(format!("X-{i}: y\r\n").as_bytes())
                .await
                .is_err()
            {
                return true;
            }
        }
        false
    });
    assert!(writer.await?, "a trickling client was held for 20 s");

    // A WebSocket session lives on well past the header deadline.
    let mut anna = TestClient::join(&server, "Anna").await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    anna.send(&ClientMessage::Ping).await?;
    anna.wait_for("pong", |m| matches!(m, ServerMessage::Pong).then_some(()))
        .await?;
    Ok(())
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_cap_counts_the_forwarded_client_address() -> Result<()> {
    let server = TestServer::start_with(|c| {
        c.max_connections_per_ip = 2;
        c.trusted_proxies = vec!["127.0.0.1".parse().expect("an address")];
    })
    .await?;
    let from = |client: &'static str| [("X-Forwarded-For", client)];
    let mut held = Vec::new();
    for _ in 0..2 {
        held.push(TestClient::connect_with(&server, &from("203.0.113.5")).await?);
    }
    assert_eq!(
        refusal(TestClient::connect_with(&server, &from("203.0.113.5")).await),
        "refused with 429"
    );
    // Another client behind the same proxy has a share of its own.
    held.push(TestClient::connect_with(&server, &from("203.0.113.6")).await?);
    server.stop().await?;

    // Without trusting the proxy, the header is ignored: everyone is 127.0.0.1.
    let server = TestServer::start_with(|c| c.max_connections_per_ip = 2).await?;
    let mut held = Vec::new();
    for client in ["203.0.113.5", "203.0.113.6"] {
        held.push(TestClient::connect_with(&server, &from(client)).await?);
    }
    assert_eq!(
        refusal(TestClient::connect_with(&server, &from("203.0.113.7")).await),
        "refused with 429"
    );
    server.stop().await
}
