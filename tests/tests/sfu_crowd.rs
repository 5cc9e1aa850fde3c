//! A broadcast survives its crowd: listeners whose connections fail (one never completes
//! DTLS, one vanishes) cost the others nothing. webrtc-rs peers over real UDP through the
//! real SFU; the failing ones reach it through a relay the test breaks.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, bail, ensure};
use hallway_proto::{ClientMessage, ServerMessage};
use hallway_tests::media::{Publisher, Subscriber};
use hallway_tests::udp_proxy::{Mode, UdpProxy};
use hallway_tests::{TestClient, TestServer};

/// Listeners that keep receiving throughout.
const HEALTHY: usize = 50;
/// Share of the packets sent in the window each healthy listener must receive (loopback
/// loses nothing, but two cores shared by the server, 52 peers and other work may).
const MUST_RECEIVE: f64 = 0.8;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listeners_that_fail_do_not_affect_fifty_others() -> Result<()> {
    let server = TestServer::start().await?;
    let mut hanna = TestClient::join_host(&server, "lobby", "Hanna Host").await?;
    let mut healthy = Vec::new();
    for i in 0..HEALTHY {
        let client = TestClient::join(&server, &format!("Listener {i}")).await?;
        healthy.push(Subscriber::start(client));
    }
    // One whose DTLS never completes: ICE checks pass, handshake records are dropped.
    let stuck_proxy = Arc::new(UdpProxy::start(server.media_addr()).await?);
    stuck_proxy.set(Mode::DropDtls);
    let stuck = Subscriber::start_through(
        TestClient::join(&server, "Stuck Listener").await?,
        stuck_proxy.clone(),
    );
    // One that receives, then vanishes (nothing gets through either way any more).
    let gone_proxy = Arc::new(UdpProxy::start(server.media_addr()).await?);
    let gone = Subscriber::start_through(
        TestClient::join(&server, "Vanishing Listener").await?,
        gone_proxy.clone(),
    );

    hanna.send(&ClientMessage::Broadcast { on: true }).await?;
    let id = hanna.id.clone();
    hanna
        .wait_for("our broadcast", |m| match m {
            ServerMessage::Broadcast { id: who, on: true } if *who == id => Some(()),
            _ => None,
        })
        .await?;
    let mut publisher = Publisher::start(&mut hanna).await?;
    let tracks = vec![format!("p{id}/audio"), format!("p{id}/video")];
    // 51 connections come up at once on a shared machine: give them a minute.
    publisher
        .send_until(async {
            let until = tokio::time::Instant::now() + Duration::from_secs(60);
            loop {
                let waiting: Vec<_> = healthy
                    .iter()
                    .chain(std::iter::once(&gone))
                    .map(|l| l.received())
                    .filter(|got| {
                        tracks
                            .iter()
                            .any(|t| got.packets.get(t).copied().unwrap_or(0) == 0)
                    })
                    .collect();
                if waiting.is_empty() {
                    return Ok(());
                }
                if tokio::time::Instant::now() > until {
                    let why: Vec<_> = waiting
                        .iter()
                        .map(|w| (&w.state, &w.failed, w.connections))
                        .collect();
                    bail!(
                        "{} listeners receive nothing after a minute: {why:?}",
                        waiting.len()
                    );
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
        .await?;
    gone_proxy.set(Mode::Blackhole);

    // The window: until the server has given up on both broken connections (it offers
    // each a new one), the publisher sends and every healthy listener counts.
    let before: Vec<_> = healthy.iter().map(|l| l.received()).collect();
    let mut sent = 0u64;
    let window = std::time::Instant::now();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        for _ in 0..50 {
            publisher.send_pair(200).await?;
            sent += 1;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // The window covers the vanished one's failure (the server hears nothing for
        // 15 s, then offers it a new connection) and at least 20 s of the stuck one.
        if gone.received().connections >= 1 && window.elapsed() >= Duration::from_secs(20) {
            break;
        }
        if tokio::time::Instant::now() > deadline {
            bail!(
                "the server did not give up on the vanished listener: {:?}",
                gone.received().connections
            );
        }
    }
    // Let the last packets arrive (a condition: each healthy listener's count reaches
    // the bar, or the deadline passes and the assertion below says by how much).
    let want = (sent as f64 * MUST_RECEIVE) as u64;
    let settle = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let short = healthy.iter().zip(&before).any(|(l, b)| {
            let now = l.received();
            tracks.iter().any(|t| {
                now.packets.get(t).copied().unwrap_or(0) - b.packets.get(t).copied().unwrap_or(0)
                    < want
            })
        });
        if !short || tokio::time::Instant::now() > settle {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for (k, (l, b)) in healthy.iter().zip(&before).enumerate() {
        let now = l.received();
        for t in &tracks {
            let got =
                now.packets.get(t).copied().unwrap_or(0) - b.packets.get(t).copied().unwrap_or(0);
            ensure!(
                got >= want,
                "listener {k} received {got} of {sent} packets on {t} while others failed"
            );
        }
    }
    // The stuck listener never received anything; the vanished one got nothing after.
    ensure!(stuck.received().packets.values().all(|n| *n == 0));
    for l in healthy {
        l.stop();
    }
    stuck.stop();
    gone.stop();
    publisher.close().await?;
    server.stop().await
}
