//! News a relayed page had no room for (issue #19, item 4) is not lost: the page's node,
//! with its slots in the page's queue full, counts it (`hallway_missed_news_total`) and
//! asks the room's owner for a snapshot (`Up::Missed`); the page, reading again, is sent
//! one with the circles as they are, and hears of their changes from its node again
//! afterwards. Against a real `redis-server` and two `hallway` processes, through real
//! sockets.
//!
//! On loopback the kernel buffers megabytes for a socket that is not read, so walkers in
//! the page's view fill them with ticks first (as in `fell_behind.rs`); meanwhile pairs
//! meet and part in the view, and their news is what the node then has no room for.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Result, bail};
use hallway_proto::ServerMessage;
use hallway_tests::TestClient;
use hallway_tests::cluster::node;
use hallway_tests::process::{metric, metric_reaches};
use hallway_tests::redis::RedisServer;
use hallway_tests::sight::{barrier, until_barrier, view};

/// Walkers in the watcher's view, whose ticks fill what the kernel buffers for it.
const WALKERS: usize = 120;
/// Pairs who meet and part in the watcher's view, each at a spot of its own.
const PAIRS: usize = 6;
const MISSED_NEWS: &str = "hallway_missed_news_total";
const NEWS_OUT: &str = r#"hallway_messages_out_total{type="news"}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn news_a_relayed_page_had_no_room_for_is_made_good_with_a_snapshot() -> Result<()> {
    let redis = RedisServer::start()?;
    // No pings: a page that stops reading would otherwise also be let go as silent. The
    // smallest queue the server allows on the watcher's node, so that it is short of room
    // soon once the kernel's buffers are full.
    let owner = node(&redis, &[("HALLWAY_PING_INTERVAL", "300")])?;
    let entry = node(
        &redis,
        &[
            ("HALLWAY_PING_INTERVAL", "300"),
            ("HALLWAY_SEND_QUEUE", "64"),
        ],
    )?;
    // The first to join makes the owner the room's owner.
    let mut first = TestClient::join_at(owner.addr, "lobby", "First", None).await?;
    first.move_to(2300.0, 1500.0).await?;

    // Walkers along the bottom of the floor, each pacing its own spot (walking: no circles
    // form), reading everything sent to them.
    let running = Arc::new(AtomicBool::new(true));
    let mut walkers = Vec::new();
    for i in 0..WALKERS {
        let running = running.clone();
        let (x, y) = (100.0 + 17.0 * i as f64, 1200.0 + 150.0 * (i % 2) as f64);
        let mut client =
            TestClient::join_at(owner.addr, "lobby", &format!("Walker {i}"), None).await?;
        walkers.push(tokio::spawn(async move {
            let mut step = 0u32;
            while running.load(Ordering::Relaxed) {
                step += 1;
                client.walk_step(x, y + f64::from(step % 10) * 3.0).await?;
                let until = tokio::time::Instant::now() + Duration::from_millis(100);
                while tokio::time::timeout_at(until, client.recv()).await.is_ok() {}
            }
            client.close().await
        }));
    }

    // The pairs, apart, in the top part of the floor, far enough apart that no two pairs'
    // circles ever touch.
    let mut pairs = Vec::new();
    for k in 0..PAIRS {
        let (x, y) = (
            150.0 + 700.0 * (k % 3) as f64,
            200.0 + 450.0 * (k / 3) as f64,
        );
        let mut a = TestClient::join_at(owner.addr, "lobby", &format!("A{k}"), None).await?;
        let mut b = TestClient::join_at(owner.addr, "lobby", &format!("B{k}"), None).await?;
        a.move_to(x, y).await?;
        b.move_to(x + 170.0, y).await?;
        pairs.push((a, b, x, y));
    }

    // The watcher: relayed by the entry node, with a small receive window, looking at the
    // whole floor.
    let mut watcher = TestClient::connect_small_window(entry.addr, 4096).await?;
    watcher.hello("lobby", "Watcher").await?;
    watcher.welcomed().await?;
    view(&mut watcher, 0.0, 0.0, 2400.0, 1600.0).await?;
    barrier(&mut watcher, "looking").await?;
    until_barrier(&mut watcher, "looking", |_| {}).await?;

    // It stops reading; the pairs meet and part (about seven moves a second each, a third
    // of the limit) until its node has had news it could not pass on, and they stop once
    // they have met again. Its node lets the page go if a write takes nothing for ten
    // seconds: the news is missed long before. Everyone else reads what comes (the owner
    // would let them go too).
    let before = metric(entry.addr, MISSED_NEWS).await?.unwrap_or(0.0);
    let give_up = tokio::time::Instant::now() + Duration::from_secs(150);
    let mut apart = true;
    let mut steps = 0u32;
    loop {
        apart = !apart;
        for (a, b, x, y) in &mut pairs {
            b.move_to(*x + if apart { 170.0 } else { 30.0 }, *y).await?;
            drain(a).await;
            drain(b).await;
        }
        drain(&mut first).await;
        tokio::time::sleep(Duration::from_millis(150)).await;
        steps += 1;
        if !apart && metric(entry.addr, MISSED_NEWS).await?.unwrap_or(0.0) > before {
            break;
        }
        if tokio::time::Instant::now() > give_up {
            bail!("the node passed every change of {steps} steps to a page that reads nothing");
        }
    }
    // Nothing changes any more: each pair stands in a circle of its own.
    let expected: BTreeSet<BTreeSet<String>> = pairs
        .iter()
        .map(|(a, b, _, _)| BTreeSet::from([a.id.clone(), b.id.clone()]))
        .collect();

    // The watcher reads again: a snapshot makes good what it missed (the room sends it on
    // a tick, and may send more than one); what the page shows, the last snapshot's
    // circles and the news since, comes to be the circles as they are. Without the
    // snapshot the circles whose news was missed would never show: nothing changes.
    let mut shown = Shown::default();
    watcher
        .wait_for("the circles as they are", |m| {
            shown.follow(m);
            (shown.snapshots > 0 && shown.circles == expected).then_some(())
        })
        .await?;

    // From now on its node passes it news again: the first pair parts, and the watcher
    // hears of it from its node.
    let passed = metric(entry.addr, NEWS_OUT).await?.unwrap_or(0.0);
    let (a, b, x, y) = &mut pairs[0];
    let met = BTreeSet::from([a.id.clone(), b.id.clone()]);
    b.move_to(*x + 170.0, *y).await?;
    watcher
        .wait_for("the first pair parted", |m| {
            shown.follow(m);
            (!shown.circles.contains(&met)).then_some(())
        })
        .await?;
    metric_reaches(entry.addr, NEWS_OUT, passed + 1.0, Duration::from_secs(5)).await?;

    running.store(false, Ordering::Relaxed);
    for walker in walkers {
        walker.await??;
    }
    Ok(())
}

/// Reads whatever `client` was sent, without waiting for more.
async fn drain(client: &mut TestClient) {
    while let Ok(Ok(_)) = tokio::time::timeout(Duration::from_millis(1), client.recv()).await {}
}

/// The circles a page shows (by their members): the last snapshot's, and the news since.
#[derive(Default)]
struct Shown {
    snapshots: u32,
    circles: BTreeSet<BTreeSet<String>>,
    ids: std::collections::BTreeMap<u64, BTreeSet<String>>,
}

impl Shown {
    fn follow(&mut self, m: &ServerMessage) {
        match m {
            ServerMessage::Snapshot { circles, .. } => {
                self.snapshots += 1;
                self.ids = circles
                    .iter()
                    .map(|c| (c.id, c.members.iter().cloned().collect()))
                    .collect();
            }
            ServerMessage::CircleChanged { circle } => {
                self.ids
                    .insert(circle.id, circle.members.iter().cloned().collect());
            }
            ServerMessage::CircleDissolved { id } => {
                self.ids.remove(id);
            }
            _ => return,
        }
        self.circles = self.ids.values().cloned().collect();
    }
}
