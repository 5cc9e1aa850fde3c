//! A screen share through the SFU is a track of its own, beside the camera: the publisher
//! names its media section in `sfu_offer`'s `screen`, and receivers get it in the stream
//! `s<participant id>` while camera and microphone stay in `p<participant id>`.
//! webrtc-rs peers over real UDP.

use anyhow::{Result, ensure};
use hallway_proto::{ClientMessage, ServerMessage};
use hallway_tests::media::{Publisher, Subscriber};
use hallway_tests::{TestClient, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_screen_share_reaches_receivers_as_a_stream_of_its_own() -> Result<()> {
    let server = TestServer::start().await?;
    let listener = Subscriber::start(TestClient::join(&server, "Lena Listener").await?);
    let mut hanna = TestClient::join_host(&server, "lobby", "Hanna Host").await?;
    hanna.send(&ClientMessage::Broadcast { on: true }).await?;
    let id = hanna.id.clone();
    hanna
        .wait_for("our broadcast", |m| match m {
            ServerMessage::Broadcast { id: who, on: true } if *who == id => Some(()),
            _ => None,
        })
        .await?;
    let mut publisher = Publisher::start_with_screen(&mut hanna).await?;
    let tracks = vec![
        format!("p{id}/audio"),
        format!("p{id}/video"),
        format!("s{id}/video"),
    ];
    publisher
        .send_until(listener.wait_for_packets(&tracks, 20))
        .await?;
    let got = listener.received();
    ensure!(
        got.packets.len() == 3,
        "exactly camera, microphone and screen: {:?}",
        got.packets
    );
    ensure!(
        got.offered.iter().filter(|t| t.starts_with('s')).count() == 1,
        "one screen track offered: {:?}",
        got.offered
    );
    listener.stop();
    publisher.close().await?;
    server.stop().await
}
