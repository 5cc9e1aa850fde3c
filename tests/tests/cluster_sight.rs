//! Interest management across a cluster (issue #19, item 4): the ticks of a page relayed
//! to its room's owner are cut on the node the page is connected to, out of the movers
//! the owner sends that node once per tick. What such a page gets is what a page on the
//! owner gets (what moves in its view on every tick, the rest once a second, its own move
//! wherever it looks), and the cutting is done by its node: that node counts the ticks it
//! sent. Against a real `redis-server` and two `hallway` processes, through real sockets.
//!
//! No timing is asserted. "At once" is checked with a room chat message as the barrier: the
//! owner sends a tick's movers to the node before anything it handles later, on the same
//! ordered way; "once a second" by the number of rounds the measured time allows.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use hallway_proto::{ClientMessage, ServerMessage};
use hallway_tests::TestClient;
use hallway_tests::cluster::{node, sees_at};
use hallway_tests::process::metric_reaches;
use hallway_tests::redis::RedisServer;

/// Ticks a node sent its clients, as its `/metrics` counts them.
const TICKS_OUT: &str = r#"hallway_messages_out_total{type="tick"}"#;

/// Tells the room what `client`'s page shows.
async fn view(client: &mut TestClient, x: f64, y: f64, width: f64, height: f64) -> Result<()> {
    client
        .send(&ClientMessage::View {
            x,
            y,
            width,
            height,
        })
        .await
}

/// Sends a room chat message: everything queued for anyone before it reaches them first.
async fn barrier(from: &mut TestClient, text: &str) -> Result<()> {
    from.send(&ClientMessage::Chat {
        to: "room".into(),
        text: text.into(),
    })
    .await
}

/// Reads until the barrier `text`, handing every message before it to `each`.
async fn until_barrier(
    client: &mut TestClient,
    text: &str,
    mut each: impl FnMut(&ServerMessage),
) -> Result<()> {
    client
        .wait_for(&format!("the barrier {text:?}"), |m| match m {
            ServerMessage::Chat { message } if message.text == text => Some(()),
            other => {
                each(other);
                None
            }
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relayed_pages_ticks_are_cut_on_its_own_node() -> Result<()> {
    let redis = RedisServer::start()?;
    let owner = node(&redis, &[])?;
    let entry = node(&redis, &[])?;
    // Anna's node takes the room; everyone else is relayed to it.
    let mut anna = TestClient::join_at(owner.addr, "lobby", "Anna", None).await?;
    let mut part = TestClient::join_at(entry.addr, "lobby", "Sees a corner", None).await?;
    let mut near = TestClient::join_at(entry.addr, "lobby", "Near", None).await?;
    let mut far = TestClient::join_at(entry.addr, "lobby", "Far", None).await?;
    part.move_to(300.0, 200.0).await?;
    sees_at(&mut anna, &part.id, 300.0)
        .await
        .context("Anna sees the corner's page")?;
    near.move_to(100.0, 100.0).await?;
    sees_at(&mut anna, &near.id, 100.0)
        .await
        .context("Anna sees Near")?;
    far.move_to(2000.0, 1400.0).await?;
    sees_at(&mut anna, &far.id, 2000.0)
        .await
        .context("Anna sees Far")?;
    // The corner, 600 × 400: with the margin, x up to 900 and y up to 700.
    view(&mut part, 0.0, 0.0, 600.0, 400.0).await?;
    barrier(&mut part, "looking").await?;
    until_barrier(&mut part, "looking", |_| {}).await?;

    const STEPS: u32 = 20;
    let started = Instant::now();
    for k in 1..=STEPS {
        let dx = f64::from(k) * 5.0;
        near.walk_step(100.0 + dx, 100.0).await?;
        far.walk_step(2000.0 + dx, 1400.0).await?;
        // One tick at a time: each step is in a tick of its own (Anna sees everything).
        let (mut near_there, mut far_there) = (false, false);
        anna.wait_for("both steps", |m| {
            if let ServerMessage::Tick { positions, .. } = m {
                for (id, x, _) in positions {
                    near_there |= *id == near.id && f64::from(*x) == 100.0 + dx;
                    far_there |= *id == far.id && f64::from(*x) == 2000.0 + dx;
                }
            }
            (near_there && far_there).then_some(())
        })
        .await?;
    }
    barrier(&mut anna, "walked").await?;
    let (mut near_seen, mut far_seen) = (BTreeSet::new(), 0u32);
    until_barrier(&mut part, "walked", |m| {
        if let ServerMessage::Tick { positions, .. } = m {
            for (id, x, _) in positions {
                if *id == near.id {
                    near_seen.insert(*x as u32);
                } else if *id == far.id && *x > 2000.0 {
                    far_seen += 1;
                }
            }
        }
    })
    .await?;
    let rounds = started.elapsed().as_secs() as u32 + 1;
    let every: BTreeSet<u32> = (1..=STEPS).map(|k| 100 + k * 5).collect();
    assert!(
        every.is_subset(&near_seen),
        "every step in view, on every tick: {near_seen:?}"
    );
    assert!(
        far_seen <= rounds,
        "out of view at most once a second: {far_seen} positions in {rounds} round(s)"
    );
    // ... and the last of them with the next round.
    sees_at(&mut part, &far.id, 2000.0 + STEPS as f32 * 5.0)
        .await
        .context("Far's last step with the round")?;

    // One's own step, though out of view, comes back on the next tick.
    view(&mut part, 1800.0, 1200.0, 600.0, 400.0).await?;
    part.walk_step(333.0, 200.0).await?;
    sees_at(&mut anna, &part.id, 333.0)
        .await
        .context("Anna sees the step")?;
    barrier(&mut anna, "stepped").await?;
    let id = part.id.clone();
    let mut back = false;
    until_barrier(&mut part, "stepped", |m| {
        if let ServerMessage::Tick { positions, .. } = m {
            back |= positions.iter().any(|(p, x, _)| *p == id && *x == 333.0);
        }
    })
    .await?;
    assert!(back, "one's own step on the next tick, wherever one looks");

    // The relayed pages' ticks were sent by their node: every step of Near's went to
    // the page in the corner from there, but those on the round's tick (the owner sends
    // the round). Before, the owner sent every tick, and entry nodes counted none.
    let cut = STEPS.saturating_sub(rounds);
    metric_reaches(
        entry.addr,
        TICKS_OUT,
        f64::from(cut),
        Duration::from_secs(5),
    )
    .await?;
    Ok(())
}
