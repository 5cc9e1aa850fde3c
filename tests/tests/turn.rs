//! TURN: a listener that may only use relay candidates receives a broadcast through the
//! embedded TURN server, and through a real coturn configured with the same shared secret
//! (the TURN REST API credentials of the welcome).

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use hallway_proto::{ClientMessage, ServerMessage};
use hallway_tests::media::{Publisher, Subscriber};
use hallway_tests::{TestClient, TestServer};

/// A host broadcasts; one listener receives through TURN only.
async fn relayed_broadcast(server: &TestServer) -> Result<()> {
    let mut hanna = TestClient::join_host(server, "lobby", "Hanna Host").await?;
    let listener = TestClient::join(server, "Lena Listener").await?;
    let Some(ServerMessage::Welcome { ice_servers, .. }) = &listener.welcome else {
        bail!("no welcome");
    };
    let username = ice_servers[0].username.clone().unwrap_or_default();
    assert!(
        username.ends_with(&format!(":{}", listener.id)),
        "credentials are the participant's own: {username}"
    );
    let listener = Subscriber::start_relayed(listener)?;
    hanna.send(&ClientMessage::Broadcast { on: true }).await?;
    let mut publisher = Publisher::start(&mut hanna).await?;
    let tracks = [
        format!("p{}/audio", hanna.id),
        format!("p{}/video", hanna.id),
    ];
    publisher
        .send_until(listener.wait_for_packets(&tracks, 50))
        .await?;
    listener.stop();
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_only_listener_receives_through_the_embedded_turn() -> Result<()> {
    let server = TestServer::start().await?;
    relayed_broadcast(&server).await?;
    server.stop().await
}

/// coturn on a free loopback port, with the REST API shared secret; killed when dropped.
struct Coturn {
    child: Child,
    port: u16,
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Drop for Coturn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_coturn(secret: &str) -> Result<Coturn> {
    let port = std::net::UdpSocket::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut child = Command::new("turnserver")
        .args([
            // Not Debian's /etc/turnserver.conf (it logs to syslog).
            "-c",
            "/dev/null",
            "--listening-ip=127.0.0.1",
            "--relay-ip=127.0.0.1",
            &format!("--listening-port={port}"),
            "--min-port=40000",
            "--max-port=45000",
            "--use-auth-secret",
            &format!("--static-auth-secret={secret}"),
            "--realm=hallway.test",
            "--allow-loopback-peers",
            "--no-cli",
            "--no-tls",
            "--no-dtls",
            "--no-tcp",
            "--fingerprint",
            "--log-file=stdout",
            "--verbose",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("starting turnserver (Debian package coturn; scripts/test installs it)")?;
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let stdout = child.stdout.take().context("no stdout")?;
    let lines = log.clone();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if let Ok(mut l) = lines.lock() {
                l.push(line);
            }
        }
    });
    Ok(Coturn { child, port, log })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_only_listener_receives_through_an_external_coturn() -> Result<()> {
    let secret = "coturn-shared-secret-for-the-test";
    let coturn = start_coturn(secret)?;
    // Give it a moment to bind.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let url = format!("turn:127.0.0.1:{}?transport=udp", coturn.port);
    let server = TestServer::start_with(|c| {
        c.turn_urls = vec![url.clone()];
        c.turn_secret = Some(secret.into());
    })
    .await?;
    relayed_broadcast(&server).await?;
    server.stop().await?;
    // The media went through coturn: it granted an allocation to our credentials.
    let log = coturn.log.lock().map(|l| l.clone()).unwrap_or_default();
    assert!(
        log.iter()
            .any(|l| l.contains("ALLOCATE") && l.contains("success")),
        "coturn granted no allocation: {log:#?}"
    );
    drop(coturn);
    Ok(())
}
