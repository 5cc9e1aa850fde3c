//! A failed SFU connection recovers without a reload, with webrtc-rs peers over real UDP:
//! the server offers a receiving connection with a new number (a new connection, never a
//! renegotiation of the dead one), and tells a publisher whose sending connection failed.
//! Media is back within 5 s of the failure being noticed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, bail, ensure};
use hallway_proto::{ClientMessage, ServerMessage};
use hallway_tests::media::{Publisher, Subscriber};
use hallway_tests::udp_proxy::{Mode, UdpProxy};
use hallway_tests::{TestClient, TestServer};

/// How soon media must be back once the failure is noticed.
const RECOVERY: Duration = Duration::from_secs(5);

async fn broadcasting_host(server: &TestServer) -> Result<TestClient> {
    let mut hanna = TestClient::join_host(server, "lobby", "Hanna Host").await?;
    hanna.send(&ClientMessage::Broadcast { on: true }).await?;
    let id = hanna.id.clone();
    hanna
        .wait_for("our broadcast", |m| match m {
            ServerMessage::Broadcast { id: who, on: true } if *who == id => Some(()),
            _ => None,
        })
        .await?;
    Ok(hanna)
}

/// Sends until `listener` has `more` packets on every track than `before`, within `limit`.
async fn back_within(
    publisher: &mut Publisher,
    listener: &Subscriber,
    tracks: &[String],
    more: u64,
    limit: Duration,
) -> Result<Duration> {
    let start = Instant::now();
    let before = listener.received();
    loop {
        publisher.send_pair(200).await?;
        tokio::time::sleep(Duration::from_millis(20)).await;
        let now = listener.received();
        let back = tracks.iter().all(|t| {
            now.packets.get(t).copied().unwrap_or(0)
                >= before.packets.get(t).copied().unwrap_or(0) + more
        });
        if back {
            return Ok(start.elapsed());
        }
        if start.elapsed() > limit {
            bail!(
                "media not back after {limit:?}: {:?} (connection {}, failed: {:?})",
                now.packets,
                now.state,
                now.failed
            );
        }
    }
}

/// The client notices first (its connection failed, or it could not apply an offer) and
/// says so with `sfu_restart`: a new connection is offered and media flows again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiving_connection_the_client_restarts_carries_media_again() -> Result<()> {
    let server = TestServer::start().await?;
    let listener = Subscriber::start(TestClient::join(&server, "Lena Listener").await?);
    let mut hanna = broadcasting_host(&server).await?;
    let mut publisher = Publisher::start(&mut hanna).await?;
    let tracks = vec![
        format!("p{}/audio", hanna.id),
        format!("p{}/video", hanna.id),
    ];
    publisher
        .send_until_received(std::slice::from_ref(&listener), &tracks)
        .await?;
    let offers_before = listener.received().descriptions.len();
    listener.restart().await?;
    let took = back_within(&mut publisher, &listener, &tracks, 10, RECOVERY).await?;
    let got = listener.received();
    ensure!(
        got.descriptions.len() > offers_before,
        "no new offer after sfu_restart"
    );
    ensure!(
        !got.messages.iter().any(|m| m == "error"),
        "{:?}",
        got.messages
    );
    eprintln!("media back {took:?} after sfu_restart");
    listener.stop();
    server.stop().await
}

/// The server notices first: the listener's path goes dead, the server's end fails and
/// is replaced by a new connection (a new number), which the client takes instead of
/// renegotiating the dead one; once the path works again, media flows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiving_connection_the_server_gives_up_is_replaced() -> Result<()> {
    let server = TestServer::start().await?;
    let proxy = Arc::new(UdpProxy::start(server.media_addr()).await?);
    let listener = Subscriber::start_through(
        TestClient::join(&server, "Lena Listener").await?,
        proxy.clone(),
    );
    let mut hanna = broadcasting_host(&server).await?;
    let mut publisher = Publisher::start(&mut hanna).await?;
    let tracks = vec![
        format!("p{}/audio", hanna.id),
        format!("p{}/video", hanna.id),
    ];
    publisher
        .send_until_received(std::slice::from_ref(&listener), &tracks)
        .await?;
    proxy.set(Mode::Blackhole);
    // The server hears nothing: disconnected after 5 s, failed 10 s later.
    publisher
        .send_until(async {
            let until = tokio::time::Instant::now() + Duration::from_secs(30);
            while listener.received().connections == 0 {
                if tokio::time::Instant::now() > until {
                    bail!("the server never offered a new connection");
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Ok(())
        })
        .await?;
    // Noticed (the new connection is offered); the path works again.
    proxy.set(Mode::Pass);
    let took = back_within(&mut publisher, &listener, &tracks, 10, RECOVERY).await?;
    eprintln!("media back {took:?} after the new connection was offered");
    listener.stop();
    server.stop().await
}

/// A publisher whose sending connection fails on the server's side is told
/// (`sfu_unpublished`); it publishes again on a new connection and its listener receives
/// it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publisher_whose_connection_failed_is_told_and_publishes_again() -> Result<()> {
    let server = TestServer::start().await?;
    let listener = Subscriber::start(TestClient::join(&server, "Lena Listener").await?);
    let mut hanna = broadcasting_host(&server).await?;
    let mut publisher = Publisher::start(&mut hanna).await?;
    let tracks = vec![
        format!("p{}/audio", hanna.id),
        format!("p{}/video", hanna.id),
    ];
    publisher
        .send_until_received(std::slice::from_ref(&listener), &tracks)
        .await?;
    // The publisher's peer goes silent (closed without a word to the server).
    publisher.close().await?;
    hanna
        .wait_for_within("sfu_unpublished", Duration::from_secs(30), |m| {
            matches!(m, ServerMessage::SfuUnpublished).then_some(())
        })
        .await?;
    let noticed = Instant::now();
    hanna.send(&ClientMessage::SfuUnpublish).await?;
    let mut publisher = Publisher::start(&mut hanna).await?;
    back_within(&mut publisher, &listener, &tracks, 10, RECOVERY).await?;
    let took = noticed.elapsed();
    ensure!(took <= RECOVERY, "media back only after {took:?}");
    eprintln!("media back {took:?} after sfu_unpublished");
    listener.stop();
    server.stop().await
}
