//! Interest management across a cluster (issue #19, item 4): the ticks of a page relayed
//! to its room's owner are cut on the node the page is connected to, out of the movers
//! the owner sends that node once per tick. What such a page gets is what a page on the
//! owner gets (what moves in its view on every tick, the rest once a second, its own move
//! wherever it looks; news of a circle at once where it is seen or the page is in it,
//! otherwise with the round), and the cutting is done by its node: that node counts the
//! ticks and news it sent. Against a real `redis-server` and two `hallway` processes, through real sockets.
//!
//! No timing is asserted. "At once" is checked with a room chat message as the barrier: the
//! owner sends a tick's movers to the node before anything it handles later, on the same
//! ordered way; "once a second" by the number of rounds the measured time allows.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use hallway_proto::ServerMessage;
use hallway_tests::TestClient;
use hallway_tests::cluster::{node, sees_at};
use hallway_tests::process::metric_reaches;
use hallway_tests::redis::RedisServer;
use hallway_tests::sight::{barrier, circles_in, sees_circle, until_barrier, view};

/// Ticks a node sent its clients, as its `/metrics` counts them.
const TICKS_OUT: &str = r#"hallway_messages_out_total{type="tick"}"#;

/// News a node passed to its clients, as its `/metrics` counts it.
const NEWS_OUT: &str = r#"hallway_messages_out_total{type="news"}"#;

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
    let cut = STEPS.saturating_sub(rounds).max(1);
    metric_reaches(
        entry.addr,
        TICKS_OUT,
        f64::from(cut),
        Duration::from_secs(5),
    )
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relayed_page_hears_of_circles_it_sees_or_is_in_at_once_and_of_others_with_the_round()
-> Result<()> {
    let redis = RedisServer::start()?;
    let owner = node(&redis, &[])?;
    let entry = node(&redis, &[])?;
    let mut all = TestClient::join_at(owner.addr, "lobby", "Sees everything", None).await?;
    let join = |name: &'static str| TestClient::join_at(entry.addr, "lobby", name, None);
    let mut part = join("Sees a corner").await?;
    let mut a = join("Anna").await?;
    let mut b = join("Ben").await?;
    let mut c = join("Carla").await?;
    let mut d = join("Dana, who watches").await?;
    for (client, x, y) in [
        (&mut part, 300.0, 200.0),
        (&mut a, 2000.0, 1300.0),
        (&mut c, 1700.0, 1500.0),
        (&mut d, 1200.0, 300.0),
    ] {
        client.move_to(x, y).await?;
        sees_at(&mut all, &client.id, x as f32).await?;
    }
    view(&mut part, 0.0, 0.0, 600.0, 400.0).await?;
    view(&mut c, 1800.0, 1200.0, 600.0, 400.0).await?;
    view(&mut d, 1800.0, 1200.0, 600.0, 400.0).await?;
    barrier(&mut d, "watching").await?;
    until_barrier(&mut d, "watching", |_| {}).await?;
    barrier(&mut part, "looking").await?;
    until_barrier(&mut part, "looking", |_| {}).await?;

    // A circle far from the corner, out of its page's sight.
    let started = Instant::now();
    b.move_to(2050.0, 1300.0).await?;
    let cid = sees_circle(&mut all, &[&a.id, &b.id]).await?;
    // Anna and Ben look elsewhere: news of their own circle still comes at once.
    view(&mut a, 0.0, 0.0, 600.0, 400.0).await?;
    view(&mut b, 0.0, 0.0, 600.0, 400.0).await?;
    barrier(&mut a, "looking away").await?;
    until_barrier(&mut b, "looking away", |_| {}).await?;

    // Carla joins and leaves the far circle, again and again.
    const TIMES: u32 = 3;
    for _ in 0..TIMES {
        c.move_to(2025.0, 1340.0).await?;
        sees_circle(&mut all, &[&a.id, &b.id, &c.id]).await?;
        barrier(&mut all, "joined").await?;
        for (who, client) in [("Anna", &mut a), ("Carla", &mut c), ("Dana", &mut d)] {
            let mut heard = 0;
            until_barrier(client, "joined", |m| {
                if let ServerMessage::CircleChanged { circle } = m {
                    heard += u32::from(circle.id == cid && circle.members.len() == 3);
                }
            })
            .await?;
            assert_eq!(heard, 1, "{who} hears at once, and once, that Carla joined");
        }
        c.move_to(1700.0, 1500.0).await?;
        sees_circle(&mut all, &[&a.id, &b.id]).await?;
        barrier(&mut all, "left").await?;
        for (who, client) in [("Ben", &mut b), ("Carla", &mut c), ("Dana", &mut d)] {
            let mut heard = 0;
            until_barrier(client, "left", |m| {
                if let ServerMessage::CircleChanged { circle } = m {
                    heard += u32::from(circle.id == cid && circle.members.len() == 2);
                }
            })
            .await?;
            assert_eq!(heard, 1, "{who} hears at once, and once, that Carla left");
        }
    }
    barrier(&mut all, "changed").await?;
    let mut heard = 0u32;
    until_barrier(&mut part, "changed", |m| {
        assert!(
            !matches!(m, ServerMessage::CircleChanged { circle } if circle.id == cid),
            "news of a circle out of sight comes in the round's tick, not a message each"
        );
        if circles_in(m).iter().any(|circle| circle.id == cid) {
            heard += 1;
        }
    })
    .await?;
    let rounds = started.elapsed().as_secs() as u32 + 1;
    assert!(
        heard <= rounds,
        "{} changes, {heard} heard in {rounds} round(s): at most one a round",
        2 * TIMES + 1
    );
    // The circle as it is comes with the next round.
    sees_circle(&mut part, &[&a.id, &b.id]).await?;

    // Dana, who watches the circle from outside it, heard of it from her node, not from
    // the room's owner (before, the owner sent every page its news, and entry nodes
    // counted none); those in it heard from the room (exactly once, as checked above).
    metric_reaches(
        entry.addr,
        NEWS_OUT,
        f64::from(2 * TIMES),
        Duration::from_secs(5),
    )
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relayed_page_of_a_big_room_that_pans_gets_the_circles_there_and_then_their_news()
-> Result<()> {
    let redis = RedisServer::start()?;
    // A big room from three people on: welcomes list those near, and a page hears of the
    // circles where it looks when it looks there.
    let big = [("HALLWAY_WELCOME_ROSTER", "2")];
    let owner = node(&redis, &big)?;
    let entry = node(&redis, &big)?;
    let mut all = TestClient::join_at(owner.addr, "lobby", "Sees everything", None).await?;
    let join = |name: &'static str| TestClient::join_at(entry.addr, "lobby", name, None);
    let mut part = join("Pans").await?;
    let mut a = join("Anna").await?;
    let mut b = join("Ben").await?;
    for (client, x, y) in [(&mut part, 300.0, 200.0), (&mut a, 2000.0, 1300.0)] {
        client.move_to(x, y).await?;
        sees_at(&mut all, &client.id, x as f32).await?;
    }
    view(&mut part, 0.0, 0.0, 600.0, 400.0).await?;
    b.move_to(2050.0, 1300.0).await?;
    let cid = sees_circle(&mut all, &[&a.id, &b.id]).await?;

    // The page pans to the circle: it hears of it before its own chat message comes back.
    view(&mut part, 1800.0, 1200.0, 600.0, 400.0).await?;
    barrier(&mut part, "panned").await?;
    let mut told = false;
    until_barrier(&mut part, "panned", |m| {
        if let ServerMessage::CircleChanged { circle } = m {
            told |= circle.id == cid && circle.members.len() == 2;
        }
    })
    .await?;
    assert!(told, "the circle where the page now looks, at once");
    // And its news from then on, the latest last.
    let mut c = join("Carla").await?;
    c.move_to(2025.0, 1340.0).await?;
    sees_circle(&mut all, &[&a.id, &b.id, &c.id]).await?;
    barrier(&mut all, "joined").await?;
    let mut last = 0;
    until_barrier(&mut part, "joined", |m| {
        if let ServerMessage::CircleChanged { circle } = m
            && circle.id == cid
        {
            last = circle.members.len();
        }
    })
    .await?;
    assert_eq!(last, 3, "the circle as it is now, at once");
    Ok(())
}
