//! Make before break when a circle goes back from the SFU to a mesh (issue #16, item 2):
//! the server keeps forwarding among those who stay until each unpublishes (its direct
//! connections are up) or a minute has passed; those who left stop at once. Five
//! webrtc-rs members publishing over real UDP.

use std::time::Duration;

use anyhow::{Result, bail};
use hallway_proto::ClientMessage;
use hallway_tests::media::Subscriber;
use hallway_tests::{TestClient, TestServer};

fn tracks_of(id: &str) -> Vec<String> {
    vec![format!("p{id}/audio"), format!("p{id}/video")]
}

fn walk(x: f64, y: f64) -> ClientMessage {
    ClientMessage::Move {
        x,
        y,
        walking: false,
    }
}

/// Waits until `member` has received `more` packets more on each of `tracks` than `before`.
async fn grows(member: &Subscriber, tracks: &[String], more: u64) -> Result<()> {
    let before = member.received().packets;
    let want: Vec<(String, u64)> = tracks
        .iter()
        .map(|t| (t.clone(), before.get(t).copied().unwrap_or(0) + more))
        .collect();
    let until = tokio::time::Instant::now() + Duration::from_secs(4);
    loop {
        let got = member.received();
        if want
            .iter()
            .all(|(t, n)| got.packets.get(t).copied().unwrap_or(0) >= *n)
        {
            return Ok(());
        }
        if tokio::time::Instant::now() > until {
            bail!(
                "wanted {want:?}, got {:?}; ended {:?}",
                got.packets,
                got.ended
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_circle_back_to_a_mesh_keeps_its_routes_until_its_members_unpublish() -> Result<()> {
    let server = TestServer::start().await?;
    let mut clients = Vec::new();
    for i in 0..5 {
        clients.push(TestClient::join(&server, &format!("Member {i}")).await?);
    }
    let ids: Vec<String> = clients.iter().map(|c| c.id.clone()).collect();
    hallway_tests::circles::circle_of(&mut clients).await?;
    let members: Vec<Subscriber> = clients
        .into_iter()
        .map(Subscriber::start_publishing)
        .collect();
    let others = |i: usize| -> Vec<String> {
        (0..5)
            .filter(|j| *j != i)
            .flat_map(|j| tracks_of(&ids[j]))
            .collect()
    };
    for (i, m) in members.iter().enumerate() {
        m.wait_for_packets(&others(i), 20).await?;
    }
    // Two walk away: three stay, and the circle goes back to a mesh (the stayers are told
    // to `connect`).
    members[3].say(walk(1500.0, 600.0)).await?;
    members[4].say(walk(1500.0, 1000.0)).await?;
    let until = tokio::time::Instant::now() + Duration::from_secs(10);
    while members[0]
        .received()
        .messages
        .iter()
        .all(|k| k != "connect")
    {
        if tokio::time::Instant::now() > until {
            bail!("the circle never went back to a mesh");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let switched = tokio::time::Instant::now();
    // Those who stay go on receiving each other through the SFU…
    let stayers: Vec<String> = (0..3).flat_map(|j| tracks_of(&ids[j])).collect();
    for (i, m) in members.iter().take(3).enumerate() {
        let from: Vec<String> = stayers
            .iter()
            .filter(|t| !t.starts_with(&format!("p{}", ids[i])))
            .cloned()
            .collect();
        grows(m, &from, 10).await?;
    }
    // …while those who left stop receiving them at once.
    for m in &members[3..] {
        m.wait_for_ended(&stayers).await?;
    }
    // One who stays unpublishes (its direct connections are up): its tracks end for the
    // others, who still receive each other until the circle's routes end.
    members[0].say(ClientMessage::SfuUnpublish).await?;
    for m in &members[1..3] {
        m.wait_for_ended(&tracks_of(&ids[0])).await?;
    }
    grows(&members[1], &tracks_of(&ids[2]), 10).await?;
    // Nobody unpublishes any more (their direct connections are slow to come up): the
    // routes stay, also past the ten seconds they used to be cut at (that a lingering
    // ends after `LINGER` at most is a unit test in the server's sfu/room_tests.rs).
    tokio::time::sleep_until(switched + Duration::from_secs(12)).await;
    grows(&members[1], &tracks_of(&ids[2]), 10).await?;
    grows(&members[2], &tracks_of(&ids[1]), 10).await?;
    for m in members {
        m.stop();
    }
    server.stop().await
}
