//! A page of a big room that falls behind while people arrive in its view: it skips the
//! news of them (`joined`) and catches up with the positions in its view, where it finds
//! each newcomer's id and asks who they are (`who`), not with a snapshot of the room. (A
//! snapshot per page that fell behind is what kept the pages near the middle of a filling
//! room of 10,000 behind: every newcomer appears there.) Through real sockets, with the
//! server as a process of its own so that its metrics are its own.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Result, bail};
use hallway_proto::{ClientMessage, ServerMessage};
use hallway_tests::TestClient;
use hallway_tests::process::{ServerProcess, metric, metric_reaches};

/// Walkers in the watcher's view, whose ticks fill its queue while it does not read.
const WALKERS: usize = 120;
/// People who arrive while the watcher is behind.
const NEWCOMERS: usize = 5;
const DROPPED: &str = "hallway_dropped_position_updates_total";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_behind_finds_newcomers_in_its_view_without_a_snapshot() -> Result<()> {
    // A big room: more people than the welcome roster (2). The smallest queue the server
    // allows, so that a page that stops reading is short of room soon.
    let server = ServerProcess::start(
        &[],
        &[
            ("HALLWAY_FLOOR_WIDTH", "8000"),
            ("HALLWAY_FLOOR_HEIGHT", "6000"),
            ("HALLWAY_WELCOME_ROSTER", "2"),
            ("HALLWAY_SEND_QUEUE", "64"),
            ("HALLWAY_PING_INTERVAL", "300"),
        ],
    )?;
    let addr = server.addr;
    let (cx, cy) = (4000.0, 3000.0);

    // Walkers on a ring around the middle, each pacing up and down its own spot (walking:
    // no circles form), reading everything sent to them.
    let running = Arc::new(AtomicBool::new(true));
    let mut walkers = Vec::new();
    for i in 0..WALKERS {
        let running = running.clone();
        let angle = i as f64 / WALKERS as f64 * std::f64::consts::TAU;
        let (x, y) = (cx + 900.0 * angle.cos(), cy + 600.0 * angle.sin());
        let mut client = TestClient::join_at(addr, "lobby", &format!("Walker {i}"), None).await?;
        walkers.push(tokio::spawn(async move {
            let mut step = 0u32;
            while running.load(Ordering::Relaxed) {
                step += 1;
                client.walk_step(x + f64::from(step % 20) * 3.0, y).await?;
                let until = tokio::time::Instant::now() + Duration::from_millis(100);
                while tokio::time::timeout_at(until, client.recv()).await.is_ok() {}
            }
            client.close().await
        }));
    }

    // The watcher's page shows the middle of the floor, walkers and newcomers in it.
    let mut watcher = TestClient::connect_small_window(addr, 4096).await?;
    watcher.hello("lobby", "Watcher").await?;
    watcher.welcomed().await?;
    watcher
        .send(&ClientMessage::View {
            x: cx - 1200.0,
            y: cy - 800.0,
            width: 2400.0,
            height: 1600.0,
        })
        .await?;
    // It stops reading until the server skips a tick for it: its queue is short of room.
    let dropped = metric(addr, DROPPED).await?.unwrap_or(0.0);
    metric_reaches(addr, DROPPED, dropped + 1.0, Duration::from_secs(60)).await?;

    // Newcomers arrive near the middle, in the watcher's view, and stand still.
    let mut newcomers = Vec::new();
    for i in 0..NEWCOMERS {
        newcomers.push(TestClient::join_at(addr, "lobby", &format!("Newcomer {i}"), None).await?);
    }
    let wanted: BTreeSet<String> = newcomers.iter().map(|c| c.id.clone()).collect();

    // The watcher reads again (well within the five seconds after which a page that takes
    // nothing is let go): each newcomer comes as news or in the positions of its view.
    let mut met = BTreeSet::new();
    let mut snapshots = 0;
    // Newcomers first met in the positions: the news of them was skipped.
    let mut from_ticks = 0;
    let until = tokio::time::Instant::now() + Duration::from_secs(30);
    while !wanted.is_subset(&met) {
        let Ok(msg) = tokio::time::timeout_at(until, watcher.recv()).await else {
            bail!(
                "the watcher never learned of {} of {NEWCOMERS} newcomers ({snapshots} snapshots)",
                wanted.difference(&met).count()
            );
        };
        match msg? {
            ServerMessage::Joined { participant } => {
                met.insert(participant.id);
            }
            ServerMessage::Tick { positions, .. } => {
                for (id, _, _) in positions {
                    if wanted.contains(&id) && !met.contains(&id) {
                        from_ticks += 1;
                    }
                    met.insert(id);
                }
            }
            ServerMessage::Snapshot { participants, .. } => {
                snapshots += 1;
                met.extend(participants.into_iter().map(|p| p.id));
            }
            _ => {}
        }
    }
    assert_eq!(snapshots, 0, "caught up with a snapshot");
    assert!(
        from_ticks > 0,
        "no newcomer's news was skipped: the test proves nothing"
    );
    // Asked who they are, the server says.
    watcher
        .send(&ClientMessage::Who {
            ids: wanted.iter().cloned().collect(),
        })
        .await?;
    let named = watcher
        .wait_for("who the newcomers are", |m| match m {
            ServerMessage::Participants { participants } => Some(
                participants
                    .iter()
                    .filter(|p| wanted.contains(&p.id))
                    .map(|p| p.name.clone())
                    .collect::<BTreeSet<_>>(),
            ),
            _ => None,
        })
        .await?;
    let names: BTreeSet<String> = (0..NEWCOMERS).map(|i| format!("Newcomer {i}")).collect();
    if named != names {
        bail!("the server named {named:?}, wanted {names:?}");
    }

    running.store(false, Ordering::Relaxed);
    for w in walkers {
        w.await??;
    }
    // Gone before the server stops, which would otherwise wait for them to read its close.
    drop((watcher, newcomers));
    drop(server);
    Ok(())
}
