//! Draining is visible: after SIGTERM (here: the server's shutdown) `/readyz` answers 503
//! `draining` and new WebSocket upgrades 503 for as long as sessions drain, so that a
//! load balancer takes the node out; the listener does not vanish at once.

use anyhow::{Context, Result, bail};
use hallway_tests::process::http_get;
use hallway_tests::{DEADLINE, TestClient, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_says_draining_while_sessions_drain() -> Result<()> {
    let server = TestServer::start_with(|c| c.drain_seconds = 5).await?;
    let addr = server.addr();
    assert_eq!(http_get(addr, "/readyz").await?.0, 200);
    // Ten sessions, each told to reconnect at a random moment of the five seconds.
    let mut clients = Vec::new();
    for i in 0..10 {
        clients.push(TestClient::join(&server, &format!("P{i}")).await?);
    }
    let stopping = tokio::spawn(server.stop());
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let (status, body) = http_get(addr, "/readyz")
            .await
            .context("the listener closed while sessions were draining")?;
        if status == 503 {
            assert!(body.contains("draining"), "{body}");
            break;
        }
        if tokio::time::Instant::now() > deadline {
            bail!("/readyz never said draining");
        }
        tokio::task::yield_now().await;
    }
    let first = tokio::time::Instant::now();
    let refused = TestClient::connect_to(addr).await;
    let error = refused
        .err()
        .context("a new session was accepted while draining")?;
    let error = format!("{error:#}");
    assert!(error.contains("503"), "{error}");
    // And it goes on saying so until the listener closes: never 200 again, never a
    // bare drop while the sessions (told to reconnect at random moments of the five
    // seconds) are still there.
    let mut last = first;
    while let Ok((status, body)) = http_get(addr, "/readyz").await {
        assert_eq!(status, 503, "{body}");
        assert!(body.contains("draining"), "{body}");
        last = tokio::time::Instant::now();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    stopping.await??;
    // Ten sessions each ending at a random moment of five seconds: the last one almost
    // surely after the first second (1 - 0.2^10).
    assert!(
        last - first >= std::time::Duration::from_secs(1),
        "the listener closed {:?} after draining began, before its sessions had gone",
        last - first
    );
    drop(clients);
    Ok(())
}
