//! The organiser summary through the real protocol: hosts, and only hosts, get aggregate
//! figures of the room since it opened (no names, no ids); the operator may keep them on
//! disk across a restart (`--keep-summary`), and without that a restart starts afresh; in
//! a cluster the figures go with the room to the node that takes it over.

use std::time::Duration;

use anyhow::{Context, Result};
use hallway_proto::server::SummaryInfo;
use hallway_proto::{ClientMessage, ErrorCode, ServerMessage, close};
use hallway_tests::cluster::{form_circle, node, resume_through};
use hallway_tests::redis::RedisServer;
use hallway_tests::{TestClient, TestServer};
use tokio::time::Instant;

/// Asks for the summary until `want` holds of it (the room notes itself once a second).
async fn summary_where(
    host: &mut TestClient,
    what: &str,
    want: impl Fn(&SummaryInfo) -> bool,
) -> Result<SummaryInfo> {
    let until = Instant::now() + Duration::from_secs(15);
    loop {
        host.send(&ClientMessage::Summary).await?;
        let got = host
            .wait_for("a summary", |m| match m {
                ServerMessage::Summary(info) => Some(info.clone()),
                _ => None,
            })
            .await?;
        if want(&got) {
            return Ok(got);
        }
        anyhow::ensure!(Instant::now() < until, "no summary with {what}: {got:?}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// A server that takes a sample every second.
async fn server(keep: bool, data_dir: Option<&std::path::Path>) -> Result<TestServer> {
    TestServer::start_with(|c| {
        c.summary_every = 1;
        c.keep_summary = keep;
        if let Some(dir) = data_dir {
            c.data_dir = dir.to_owned();
        }
    })
    .await
}

#[tokio::test]
async fn hosts_get_the_days_figures_and_participants_are_refused() -> Result<()> {
    let server = server(false, None).await?;
    let mut hanna = TestClient::join_host(&server, "lobby", "Hanna").await?;
    let anna = TestClient::join(&server, "Anna").await?;
    let ben = TestClient::join(&server, "Ben").await?;
    let _carl = TestClient::join(&server, "Carl").await?;
    let mut pair = [anna, ben];
    hallway_tests::circles::circle_of(&mut pair).await?;
    let [anna, mut ben] = pair;
    // Four came; Anna and Ben formed a circle; Carl stands apart.
    let got = summary_where(&mut hanna, "a circle and four people", |s| {
        s.circles_formed == 1 && s.arrived == 4 && s.circled == 2
    })
    .await?;
    assert_eq!(got.participants, 4);
    assert_eq!(got.peak, 4);
    assert_eq!(got.in_circles, 2);
    assert_eq!(got.circles, 1);
    assert_eq!(got.median_circle_size, Some(2));
    assert!(got.median_circle_s.is_some());
    assert_eq!(got.every_s, 1);
    assert!(got.since <= got.at && got.peak_at <= got.at);
    assert!(!got.samples.is_empty() && got.samples.len() <= 360);
    assert!(got.samples.windows(2).all(|w| w[0].at < w[1].at));
    // Aggregates only: nobody's name or id is in it.
    let frame = ServerMessage::Summary(got.clone()).encode();
    for word in ["Hanna", "Anna", "Ben", "Carl", &hanna.id, &ben.id, &anna.id] {
        assert!(!frame.contains(word), "{word} in {frame}");
    }
    // A participant who asks is refused, with a typed error, and the room carries on.
    ben.send(&ClientMessage::Summary).await?;
    assert_eq!(ben.expect_error().await?.0, ErrorCode::Forbidden);
    ben.move_to(2000.0, 1400.0).await?;
    Ok(())
}

#[tokio::test]
async fn a_kept_summary_survives_a_restart_and_an_unkept_one_starts_afresh() -> Result<()> {
    let dir = std::env::temp_dir().join(format!(
        "hallway-test-summary-{}",
        hallway_tests::process::rand_suffix()
    ));
    // Kept: two people meet, the server stops and starts again.
    let first = server(true, Some(&dir)).await?;
    let mut hanna = TestClient::join_host(&first, "lobby", "Hanna").await?;
    let anna = TestClient::join(&first, "Anna").await?;
    let ben = TestClient::join(&first, "Ben").await?;
    hallway_tests::circles::circle_of(&mut [anna, ben]).await?;
    let before = summary_where(&mut hanna, "a circle", |s| s.circles_formed == 1).await?;
    // A sample a second writes the figures down; one more to be sure it is on disk.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    first.stop().await?;
    let again = server(true, Some(&dir)).await?;
    let mut hanna = TestClient::join_host(&again, "lobby", "Hanna").await?;
    let after = summary_where(&mut hanna, "the kept figures", |s| s.arrived >= 4).await?;
    assert_eq!(
        after.since, before.since,
        "the day runs on from its opening"
    );
    assert_eq!(after.circles_formed, 1);
    assert_eq!(after.peak, 3);
    assert_eq!(
        after.arrived, 4,
        "three before the restart, Hanna again after"
    );
    assert!(after.samples.len() > before.samples.len());
    again.stop().await?;
    // Not kept: the same data folder, but the figures start with the room.
    let plain = server(false, Some(&dir)).await?;
    let mut hanna = TestClient::join_host(&plain, "lobby", "Hanna").await?;
    let fresh = summary_where(&mut hanna, "fresh figures", |s| s.arrived == 1).await?;
    assert_eq!(fresh.circles_formed, 0);
    assert!(fresh.since > before.since);
    plain.stop().await?;
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}

/// A cluster's owner writes the figures down with the room's state: the node that takes
/// the room over goes on counting from them (nobody counted twice, no circle formed twice).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_figures_go_with_the_room_when_another_node_takes_it_over() -> Result<()> {
    let redis = RedisServer::start()?;
    let extra = [("HALLWAY_SUMMARY_EVERY", "1")];
    let owner = node(&redis, &extra)?;
    let other = node(&redis, &extra)?;
    let out = std::process::Command::new(hallway_tests::process::binary_path()?)
        .args(["link", "--room", "lobby", "--role", "host"])
        .env("HALLWAY_REDIS_URL", redis.url())
        .output()?;
    anyhow::ensure!(out.status.success(), "{out:?}");
    let link = String::from_utf8(out.stdout)?;
    let token = link.trim().split("#token=").nth(1).context("a token")?;
    // The host on the owner, two people through the other node.
    let mut hanna = TestClient::join_at(owner.addr, "lobby", "Hanna", Some(token)).await?;
    let mut anna = TestClient::join_at(other.addr, "lobby", "Anna", None).await?;
    let mut ben = TestClient::join_at(other.addr, "lobby", "Ben", None).await?;
    form_circle(&mut anna, &mut ben).await?;
    let before = summary_where(&mut hanna, "a circle through the other node", |s| {
        s.circles_formed == 1 && s.circled == 2 && s.arrived == 3
    })
    .await?;
    let tokens = [
        hanna.resume_token().context("a token")?.to_owned(),
        anna.resume_token().context("a token")?.to_owned(),
        ben.resume_token().context("a token")?.to_owned(),
    ];
    // Written down with the state every second.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    drop(owner); // SIGKILL
    drop(hanna);
    assert_eq!(anna.wait_closed().await?.code, Some(close::SERVICE_RESTART));
    drop((anna, ben));
    let nodes = [other.addr];
    let mut hanna = resume_through(&nodes, "Hanna", &tokens[0], Duration::from_secs(20)).await?;
    let _anna = resume_through(&nodes, "Anna", &tokens[1], Duration::from_secs(10)).await?;
    let _ben = resume_through(&nodes, "Ben", &tokens[2], Duration::from_secs(10)).await?;
    let after = summary_where(&mut hanna, "the figures taken over", |s| {
        s.participants == 3 && s.in_circles == 2
    })
    .await?;
    assert_eq!(after.since, before.since);
    assert_eq!(after.arrived, 3, "nobody counted twice");
    assert_eq!(after.circled, 2);
    assert_eq!(
        after.circles_formed, 1,
        "the circle formed again is the same one"
    );
    Ok(())
}
