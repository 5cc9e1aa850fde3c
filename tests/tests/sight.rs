//! A page that shows part of the floor (`view`) gets what moves there on every tick and
//! the rest once a second; news of a circle at once when it shows the circle or is (or
//! was) in it, otherwise with that once-a-second round. Through real sockets.
//!
//! No timing is asserted. Where "at once" is checked, a message certain to come later (a
//! room chat message, queued after everything before it) is the barrier. Where "once a
//! second" is checked, the bound is the number of rounds the measured time allows.

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

use anyhow::Result;
use hallway_proto::{ErrorCode, ServerMessage};
use hallway_tests::cluster::sees_at;
use hallway_tests::sight::{barrier, circles_in, sees_circle, until_barrier, view};
use hallway_tests::{TestClient, TestServer};

/// A big room (more people than its welcome roster of 2) on a floor of 6000 × 4000.
async fn big_room() -> Result<TestServer> {
    TestServer::start_with(|config| {
        config.welcome_roster = 2;
        config.floor_width = 6000.0;
        config.floor_height = 4000.0;
    })
    .await
}

/// Joins `name` and walks them to (x, y); `watcher` (who sees everything) waits to see it.
async fn placed(
    server: &TestServer,
    watcher: &mut TestClient,
    name: &str,
    x: f64,
    y: f64,
) -> Result<TestClient> {
    let mut client = TestClient::join(server, name).await?;
    client.move_to(x, y).await?;
    sees_at(watcher, &client.id, x as f32).await?;
    Ok(client)
}

#[tokio::test]
async fn what_moves_in_view_comes_every_tick_and_the_rest_once_a_second() -> Result<()> {
    let server = TestServer::start().await?;
    let mut all = TestClient::join(&server, "Sees everything").await?;
    let mut part = placed(&server, &mut all, "Sees a corner", 300.0, 200.0).await?;
    // The corner, 600 × 400: with the margin, x up to 900 and y up to 700.
    view(&mut part, 0.0, 0.0, 600.0, 400.0).await?;
    let mut near = placed(&server, &mut all, "Near", 100.0, 100.0).await?;
    let mut far = placed(&server, &mut all, "Far", 2000.0, 1400.0).await?;

    const STEPS: u32 = 20;
    let started = Instant::now();
    for k in 1..=STEPS {
        let dx = f64::from(k) * 5.0;
        near.walk_step(100.0 + dx, 100.0).await?;
        far.walk_step(2000.0 + dx, 1400.0).await?;
        // One tick at a time: each step is in a tick of its own.
        let (mut near_there, mut far_there) = (false, false);
        all.wait_for("both steps", |m| {
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
    barrier(&mut all, "walked").await?;
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
    sees_at(&mut part, &far.id, 2000.0 + STEPS as f32 * 5.0).await?;
    Ok(())
}

#[tokio::test]
async fn panning_brings_where_everyone_there_stands_at_once() -> Result<()> {
    let server = TestServer::start().await?;
    let mut all = TestClient::join(&server, "Sees everything").await?;
    let mut part = placed(&server, &mut all, "Pans", 300.0, 200.0).await?;
    view(&mut part, 0.0, 0.0, 600.0, 400.0).await?;
    let mut far = placed(&server, &mut all, "Far", 2000.0, 1400.0).await?;
    far.walk_step(2111.0, 1400.0).await?;
    sees_at(&mut all, &far.id, 2111.0).await?;
    // Now the page shows the far corner: where Far stands comes before the page's own
    // chat message comes back.
    view(&mut part, 1800.0, 1200.0, 600.0, 400.0).await?;
    barrier(&mut part, "panned").await?;
    let mut there = false;
    until_barrier(&mut part, "panned", |m| {
        if let ServerMessage::Tick { positions, .. } = m {
            there |= positions
                .iter()
                .any(|(id, x, _)| *id == far.id && *x == 2111.0);
        }
    })
    .await?;
    assert!(there, "where Far stands, as soon as the page shows it");
    Ok(())
}

#[tokio::test]
async fn news_of_a_circle_out_of_view_comes_with_the_round() -> Result<()> {
    let server = TestServer::start().await?;
    let mut all = TestClient::join(&server, "Sees everything").await?;
    let mut part = placed(&server, &mut all, "Sees a corner", 300.0, 200.0).await?;
    view(&mut part, 0.0, 0.0, 600.0, 400.0).await?;
    let a = placed(&server, &mut all, "Anna", 2000.0, 1300.0).await?;
    let mut c = placed(&server, &mut all, "Carla", 1700.0, 1500.0).await?;
    // Everything the corner's page hears of the circle is counted from before it forms.
    let started = Instant::now();
    let mut b = TestClient::join(&server, "Ben").await?;
    b.move_to(2050.0, 1300.0).await?;
    let cid = sees_circle(&mut all, &[&a.id, &b.id]).await?;

    // Carla joins and leaves the far circle, again and again.
    const TIMES: u32 = 4;
    for _ in 0..TIMES {
        c.move_to(2025.0, 1340.0).await?;
        sees_circle(&mut all, &[&a.id, &b.id, &c.id]).await?;
        c.move_to(1700.0, 1500.0).await?;
        sees_circle(&mut all, &[&a.id, &b.id]).await?;
    }
    barrier(&mut all, "changed").await?;
    let mut heard = 0u32;
    until_barrier(&mut part, "changed", |m| {
        assert!(
            !matches!(m, ServerMessage::CircleChanged { .. }),
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
        2 * TIMES
    );
    // The circle as it is comes with the next round, even if no round fell in the loop.
    sees_circle(&mut part, &[&a.id, &b.id]).await?;
    Ok(())
}

#[tokio::test]
async fn news_of_ones_own_circle_comes_at_once_wherever_one_looks() -> Result<()> {
    let server = TestServer::start().await?;
    let mut all = TestClient::join(&server, "Sees everything").await?;
    let mut a = placed(&server, &mut all, "Anna", 300.0, 300.0).await?;
    let mut b = TestClient::join(&server, "Ben").await?;
    b.move_to(350.0, 300.0).await?;
    let members = [a.id.clone(), b.id.clone()];
    sees_circle(&mut all, &[&members[0], &members[1]]).await?;
    sees_circle(&mut a, &[&members[0], &members[1]]).await?;
    // Anna looks at the far corner of the floor, away from her circle.
    view(&mut a, 1800.0, 1200.0, 600.0, 400.0).await?;
    let mut c = placed(&server, &mut all, "Carla", 1200.0, 1300.0).await?;
    view(&mut c, 1800.0, 1200.0, 600.0, 400.0).await?;

    // Carla joins: Anna hears of it before the barrier.
    c.move_to(325.0, 340.0).await?;
    sees_circle(&mut all, &[&members[0], &members[1], &c.id]).await?;
    barrier(&mut all, "joined").await?;
    let mut joined = false;
    until_barrier(&mut a, "joined", |m| {
        if let ServerMessage::CircleChanged { circle } = m {
            joined |= circle.members.contains(&c.id);
        }
    })
    .await?;
    assert!(
        joined,
        "a member hears at once who joins, wherever she looks"
    );

    // Carla leaves again, towards where she looks: she and Anna hear it at once.
    c.move_to(2300.0, 1500.0).await?;
    sees_circle(&mut all, &[&members[0], &members[1]]).await?;
    barrier(&mut all, "left").await?;
    for (who, client) in [("Anna", &mut a), ("Carla", &mut c)] {
        let mut left = false;
        until_barrier(client, "left", |m| {
            if let ServerMessage::CircleChanged { circle } = m {
                left = circle.members.len() == 2;
            }
        })
        .await?;
        assert!(left, "{who} hears at once that Carla left");
    }
    Ok(())
}

#[tokio::test]
async fn a_view_out_of_range_is_refused_and_nothing_else_changes() -> Result<()> {
    let server = TestServer::start().await?;
    let mut all = TestClient::join(&server, "Sees everything").await?;
    let mut part = placed(&server, &mut all, "Sends nonsense", 300.0, 200.0).await?;
    view(&mut part, 0.0, 0.0, -5.0, 400.0).await?;
    assert_eq!(part.expect_error().await?.0, ErrorCode::InvalidPosition);
    part.send_text(r#"{"type":"view","x":0,"y":0,"width":1e300,"height":10}"#)
        .await?;
    assert_eq!(part.expect_error().await?.0, ErrorCode::InvalidPosition);
    part.send_text(r#"{"type":"view","x":0,"y":0}"#).await?;
    assert_eq!(part.expect_error().await?.0, ErrorCode::InvalidMessage);
    // Still sees everything: a refused view changes nothing.
    let mut far = placed(&server, &mut all, "Far", 2000.0, 1400.0).await?;
    far.walk_step(2222.0, 1400.0).await?;
    sees_at(&mut part, &far.id, 2222.0).await?;
    Ok(())
}

#[tokio::test]
async fn ones_own_move_comes_back_wherever_one_looks() -> Result<()> {
    let server = TestServer::start().await?;
    let mut all = TestClient::join(&server, "Sees everything").await?;
    let mut part = placed(&server, &mut all, "Looks away", 300.0, 200.0).await?;
    view(&mut part, 1800.0, 1200.0, 600.0, 400.0).await?;
    part.walk_step(333.0, 200.0).await?;
    sees_at(&mut all, &part.id, 333.0).await?;
    barrier(&mut all, "stepped").await?;
    let id = part.id.clone();
    let mut back = false;
    until_barrier(&mut part, "stepped", |m| {
        if let ServerMessage::Tick { positions, .. } = m {
            back |= positions.iter().any(|(p, x, _)| *p == id && *x == 333.0);
        }
    })
    .await?;
    assert!(back, "one's own step, though out of view, on the next tick");
    Ok(())
}

/// Seventy circles dissolve out of a page's sight at once, on a server that queues 64
/// frames per connection (the least it may be given): the page hears of them in the
/// round's tick, not as a message each. A message each overflowed a page's queue on every
/// round in a room of thousands (hundreds of circles change each second), and every page
/// that overflowed was owed a snapshot: the page here must get none.
#[tokio::test]
async fn many_circles_out_of_sight_come_in_the_round_without_a_snapshot() -> Result<()> {
    const CIRCLES: usize = 70;
    let server = TestServer::start_with(|config| {
        config.send_queue = 64;
        config.floor_width = 6000.0;
        config.floor_height = 4000.0;
    })
    .await?;
    let mut all = TestClient::join(&server, "Sees everything").await?;
    let mut part = placed(&server, &mut all, "Sees a corner", 300.0, 200.0).await?;
    view(&mut part, 0.0, 0.0, 600.0, 400.0).await?;
    // Pairs far from the corner, 400 units apart (circles form within 90).
    let mut pairs = Vec::new();
    for i in 0..CIRCLES {
        let (x, y) = (
            1500.0 + (i % 10) as f64 * 400.0,
            1000.0 + (i / 10) as f64 * 400.0,
        );
        let mut a = TestClient::join(&server, &format!("Anna {i}")).await?;
        let mut b = TestClient::join(&server, &format!("Ben {i}")).await?;
        for (client, at) in [(&mut a, x), (&mut b, x + 50.0)] {
            // Each shows only the floor around them (and reads little meanwhile).
            view(client, at - 100.0, y - 100.0, 200.0, 200.0).await?;
            client.move_to(at, y).await?;
        }
        pairs.push((a, b, x, y));
    }
    // The pairs' circles, as the page that sees everything tells them apart (by members:
    // someone walking to their place may stand in a circle with a stranger for a moment).
    let wanted: BTreeSet<BTreeSet<String>> = pairs
        .iter()
        .map(|(a, b, ..)| BTreeSet::from([a.id.clone(), b.id.clone()]))
        .collect();
    let mut current: HashMap<u64, BTreeSet<String>> = HashMap::new();
    let ours: BTreeSet<u64> = all
        .wait_for("every pair's circle", |m| {
            match m {
                ServerMessage::CircleChanged { circle } => {
                    current.insert(circle.id, circle.members.iter().cloned().collect());
                }
                ServerMessage::CircleDissolved { id } => {
                    current.remove(id);
                }
                // It has no view and, not reading meanwhile, may fall behind: a snapshot
                // then says which circles there are.
                ServerMessage::Snapshot { circles, .. } => {
                    current = circles
                        .iter()
                        .map(|c| (c.id, c.members.iter().cloned().collect()))
                        .collect();
                }
                _ => {}
            }
            let ours: BTreeSet<u64> = current
                .iter()
                .filter(|(_, members)| wanted.contains(*members))
                .map(|(id, _)| *id)
                .collect();
            (ours.len() == CIRCLES).then_some(ours)
        })
        .await?;

    // Every Ben walks away at once: every circle dissolves.
    let started = Instant::now();
    for (_, b, x, y) in &mut pairs {
        b.move_to(*x + 50.0, *y + 200.0).await?;
    }
    let mut dissolved = BTreeSet::new();
    all.wait_for("every pair's circle dissolved", |m| {
        match m {
            ServerMessage::CircleDissolved { id } if ours.contains(id) => {
                dissolved.insert(*id);
            }
            ServerMessage::Snapshot { circles, .. } => {
                let left: BTreeSet<u64> = circles.iter().map(|c| c.id).collect();
                dissolved = ours.difference(&left).copied().collect();
            }
            _ => {}
        }
        (dissolved == ours).then_some(())
    })
    .await?;
    let (mut heard, mut rounds) = (BTreeSet::new(), 0);
    part.wait_for("the rounds that bring every dissolved circle", |m| {
        match m {
            ServerMessage::Snapshot { .. } => panic!("the page was sent a snapshot"),
            ServerMessage::CircleChanged { .. } | ServerMessage::CircleDissolved { .. } => {
                panic!("news of a circle out of sight came as a message of its own")
            }
            ServerMessage::Tick {
                dissolved: some, ..
            } if some.iter().any(|id| ours.contains(id)) => {
                rounds += 1;
                heard.extend(some.iter().copied());
            }
            _ => {}
        }
        ours.is_subset(&heard).then_some(())
    })
    .await?;
    // At most one round a second (and one more begun before the first Ben walked).
    let bound = started.elapsed().as_secs() as u32 + 2;
    assert!(
        rounds <= bound,
        "{CIRCLES} dissolved circles came in {rounds} rounds, more than the {bound} the time allows"
    );
    Ok(())
}

/// In a big room (more people than the welcome roster), a page knows the circles near it:
/// the round does not carry a circle that changed out of its sight (it is sent the
/// circles where it looks when it looks there), only the ids of those that dissolved, so
/// that one it may still show goes.
#[tokio::test]
async fn a_big_rooms_round_names_only_the_circles_that_dissolved_out_of_sight() -> Result<()> {
    let server = TestServer::start_with(|config| config.welcome_roster = 2).await?;
    let mut all = TestClient::join(&server, "Sees everything").await?;
    let mut part = placed(&server, &mut all, "Sees a corner", 300.0, 200.0).await?;
    view(&mut part, 0.0, 0.0, 600.0, 400.0).await?;
    let a = placed(&server, &mut all, "Anna", 2000.0, 1300.0).await?;
    let mut b = TestClient::join(&server, "Ben").await?;
    b.move_to(2050.0, 1300.0).await?;
    let cid = sees_circle(&mut all, &[&a.id, &b.id]).await?;
    let mut c = placed(&server, &mut all, "Carla", 1700.0, 1500.0).await?;
    c.move_to(2025.0, 1340.0).await?;
    sees_circle(&mut all, &[&a.id, &b.id, &c.id]).await?;
    c.move_to(1700.0, 1500.0).await?;
    sees_circle(&mut all, &[&a.id, &b.id]).await?;
    // The first round after Carla came and went, and everything before it.
    let out_of_sight = |m: &ServerMessage| {
        assert!(
            circles_in(m).iter().all(|circle| circle.id != cid),
            "a circle out of sight of a big room's page came as it was: {m:?}"
        );
    };
    barrier(&mut all, "changed").await?;
    until_barrier(&mut part, "changed", out_of_sight).await?;
    part.wait_for("the next round", |m| {
        out_of_sight(m);
        matches!(
            m,
            ServerMessage::Tick {
                in_room: Some(_),
                ..
            }
        )
        .then_some(())
    })
    .await?;
    // Ben walks away: the circle dissolves.
    b.move_to(2050.0, 1000.0).await?;
    all.wait_for("the circle dissolved", |m| {
        matches!(m, ServerMessage::CircleDissolved { id } if *id == cid).then_some(())
    })
    .await?;
    part.wait_for("a round that names the dissolved circle", |m| {
        out_of_sight(m);
        assert!(
            !matches!(m, ServerMessage::CircleDissolved { .. }),
            "a dissolved circle out of sight came as a message of its own"
        );
        match m {
            ServerMessage::Tick { dissolved, .. } if dissolved.contains(&cid) => Some(()),
            _ => None,
        }
    })
    .await?;
    Ok(())
}

#[tokio::test]
async fn a_big_rooms_round_carries_who_moved_near_and_everyone_every_fifth_round() -> Result<()> {
    let server = big_room().await?;
    let mut all = TestClient::join(&server, "Sees everything").await?;
    let mut part = placed(&server, &mut all, "Sees a corner", 300.0, 200.0).await?;
    // The corner, 600 × 400: with the margin, x up to 900; near it, x up to 1700.
    view(&mut part, 0.0, 0.0, 600.0, 400.0).await?;
    let mut near = placed(&server, &mut all, "Near", 1500.0, 300.0).await?;
    let mut far = placed(&server, &mut all, "Far", 5000.0, 3000.0).await?;
    // Rounds went out unread meanwhile: read up to now.
    barrier(&mut all, "placed").await?;
    until_barrier(&mut part, "placed", |_| {}).await?;

    const ROUNDS: u32 = 7;
    let (mut near_rounds, mut far_rounds) = (0u32, 0u32);
    for k in 1..=ROUNDS {
        // Both walk a step before every round (back and forth: no circle forms).
        let dx = f64::from(k % 2) * 10.0;
        near.walk_step(1500.0 + dx, 300.0).await?;
        far.walk_step(5000.0 + dx, 3000.0).await?;
        let (has_near, has_far) = part
            .wait_for("a round", |m| match m {
                ServerMessage::Tick {
                    positions,
                    in_room: Some(_),
                    ..
                } => Some((
                    positions.iter().any(|(id, ..)| *id == near.id),
                    positions.iter().any(|(id, ..)| *id == far.id),
                )),
                _ => None,
            })
            .await?;
        near_rounds += u32::from(has_near);
        far_rounds += u32::from(has_far);
    }
    // A round may go out between a step and its reading (the first, or one read late on
    // a busy machine).
    assert!(
        near_rounds >= ROUNDS - 2,
        "who moves near the view comes with every round: {near_rounds} of {ROUNDS}"
    );
    // Seven rounds in a row hold one or two of every fifth.
    assert!(
        (1..=2).contains(&far_rounds),
        "who moves far away comes with every fifth round only: {far_rounds} of {ROUNDS}"
    );
    Ok(())
}

#[tokio::test]
async fn a_big_room_tells_of_a_dropped_connection_where_it_is_seen_and_of_its_return_everywhere()
-> Result<()> {
    let server = big_room().await?;
    let mut all = TestClient::join(&server, "Sees everything").await?;
    let mut part = placed(&server, &mut all, "Sees a corner", 300.0, 200.0).await?;
    view(&mut part, 0.0, 0.0, 600.0, 400.0).await?;
    let near = placed(&server, &mut all, "Near", 500.0, 300.0).await?;
    let far = placed(&server, &mut all, "Far", 5000.0, 3000.0).await?;
    // Far's circle partner looks at the corner too: news of one's circle comes anyway.
    let mut friend = TestClient::join(&server, "Friend").await?;
    friend.move_to(5050.0, 3000.0).await?;
    sees_circle(&mut all, &[&far.id, &friend.id]).await?;
    view(&mut friend, 0.0, 0.0, 600.0, 400.0).await?;
    let reconnecting = |who: String, on: bool| {
        move |m: &ServerMessage| {
            matches!(m, ServerMessage::Reconnecting { id, on: o } if *id == who && *o == on)
                .then_some(())
        }
    };

    let (far_id, far_token) = (far.id.clone(), far.resume_token().unwrap_or("").to_owned());
    drop(far); // the socket goes away without a close frame
    all.wait_for("Far reconnecting", reconnecting(far_id.clone(), true))
        .await?;
    friend
        .wait_for(
            "Far reconnecting, in Friend's circle",
            reconnecting(far_id.clone(), true),
        )
        .await?;
    barrier(&mut all, "Far dropped").await?;
    until_barrier(&mut part, "Far dropped", |m| {
        assert!(
            reconnecting(far_id.clone(), true)(m).is_none(),
            "a drop far out of sight came to a big room's page"
        );
    })
    .await?;

    let near_id = near.id.clone();
    drop(near);
    part.wait_for("Near reconnecting, in view", reconnecting(near_id, true))
        .await?;

    let back = TestClient::resume_at(server.addr(), "lobby", "Far", &far_token).await?;
    assert!(back.resumed(), "Far resumed");
    part.wait_for("Far back, out of sight", reconnecting(far_id, false))
        .await?;
    Ok(())
}

#[tokio::test]
async fn ones_own_move_comes_back_on_a_big_rooms_round_tick_too() -> Result<()> {
    let server = big_room().await?;
    let mut all = TestClient::join(&server, "Sees everything").await?;
    let _other = TestClient::join(&server, "Someone").await?;
    // Stands far from where the page looks (a host's gather brings people there).
    let mut me = placed(&server, &mut all, "Elsewhere", 5000.0, 3000.0).await?;
    view(&mut me, 0.0, 0.0, 600.0, 400.0).await?;
    let my_id = me.id.clone();
    // Steps over more than two seconds: some land on a round's tick.
    for k in 1..=25u32 {
        let x = 5000.0 + f64::from(k) * 4.0;
        me.move_to(x, 3000.0).await?;
        let mut rounds = 0u32;
        me.wait_for("my step back", |m| match m {
            ServerMessage::Tick {
                positions, in_room, ..
            } => {
                let back = positions
                    .iter()
                    .any(|(id, px, _)| *id == my_id && f64::from(*px) == x);
                rounds += u32::from(in_room.is_some() && !back);
                assert!(
                    rounds <= 1,
                    "step {k} did not come back with the tick after it, nor with the next round"
                );
                back.then_some(())
            }
            _ => None,
        })
        .await?;
    }
    Ok(())
}
