//! A big room (more people than the server's welcome roster) welcomes a newcomer with the
//! people near where they appear, whoever is on air and the circles near; the page asks
//! for others by id (`who`) and finds anyone by name (`find`). Through real sockets.

use anyhow::{Result, bail};
use hallway_proto::{ClientMessage, ErrorCode, ServerMessage};
use hallway_tests::{TestClient, TestServer};

/// A floor of 8000 × 6000 whose rooms welcome with everyone up to `roster` people.
async fn big_floor(roster: usize) -> Result<TestServer> {
    TestServer::start_with(|c| {
        c.floor_width = 8000.0;
        c.floor_height = 6000.0;
        c.welcome_roster = roster;
    })
    .await
}

/// Joins `name` and walks them to (x, y); waits until `watcher` sees it.
async fn placed(
    server: &TestServer,
    watcher: &mut TestClient,
    name: &str,
    (x, y): (f64, f64),
) -> Result<TestClient> {
    let mut client = TestClient::join(server, name).await?;
    client.move_to(x, y).await?;
    let id = client.id.clone();
    watcher
        .wait_for(&format!("{name} at {x}"), |m| match m {
            ServerMessage::Tick { positions, .. } => positions
                .iter()
                .any(|(p, px, _)| *p == id && f64::from(*px) == x)
                .then_some(()),
            _ => None,
        })
        .await?;
    Ok(client)
}

/// The ids and `in_room` of a welcome.
fn listed(client: &TestClient) -> Result<(Vec<String>, Vec<u64>, Option<u32>)> {
    let Some(ServerMessage::Welcome {
        participants,
        circles,
        in_room,
        ..
    }) = &client.welcome
    else {
        bail!("no welcome");
    };
    Ok((
        participants.iter().map(|p| p.id.clone()).collect(),
        circles.iter().map(|c| c.id).collect(),
        *in_room,
    ))
}

#[tokio::test]
async fn a_big_room_welcomes_with_those_near_and_on_air() -> Result<()> {
    let server = big_floor(4).await?;
    let mut host = TestClient::join_host(&server, "lobby", "Hanna Host").await?;
    host.move_to(7500.0, 500.0).await?;
    host.send(&ClientMessage::Broadcast { on: true }).await?;
    host.wait_for("on air", |m| {
        matches!(m, ServerMessage::Broadcast { on: true, .. }).then_some(())
    })
    .await?;
    // Newcomers appear near the middle (4000, 3000).
    let near = placed(&server, &mut host, "Nora Near", (4300.0, 3200.0)).await?;
    let far = placed(&server, &mut host, "Jürgen Müller", (7000.0, 5200.0)).await?;
    let mut far_b = TestClient::join(&server, "Fritz Far").await?;
    far_b.move_to(7050.0, 5200.0).await?;
    let far_circle = host
        .wait_for("the far circle", |m| match m {
            ServerMessage::CircleChanged { circle } if circle.members.len() == 2 => Some(circle.id),
            _ => None,
        })
        .await?;
    let mut near_a = placed(&server, &mut host, "Ada Near", (3800.0, 2900.0)).await?;
    near_a.move_to(3850.0, 2900.0).await?;
    let mut near_b = TestClient::join(&server, "Bert Near").await?;
    near_b.move_to(3820.0, 2950.0).await?;
    let near_circle = host
        .wait_for("the near circle", |m| match m {
            ServerMessage::CircleChanged { circle } if circle.members.contains(&near_b.id) => {
                Some(circle.id)
            }
            _ => None,
        })
        .await?;

    // Six in the room, more than four: the seventh is welcomed with those near.
    let newcomer = TestClient::join(&server, "Neu Ankömmling").await?;
    let (ids, circles, in_room) = listed(&newcomer)?;
    assert_eq!(
        in_room,
        Some(7),
        "the welcome says how many are in the room"
    );
    for (who, id) in [
        ("oneself", &newcomer.id),
        ("someone near", &near.id),
        ("the near circle's members", &near_a.id),
        ("whoever is on air", &host.id),
    ] {
        assert!(ids.contains(id), "the welcome lists {who}");
    }
    for (who, id) in [("someone far", &far.id), ("the far circle", &far_b.id)] {
        assert!(!ids.contains(id), "the welcome leaves out {who}");
    }
    assert_eq!(circles, vec![near_circle], "only the circle near");
    assert_ne!(near_circle, far_circle);

    // A room of at most four welcomes with everyone, and says nothing of how many.
    let small = big_floor(100).await?;
    let a = TestClient::join(&small, "Anna").await?;
    let b = TestClient::join(&small, "Ben").await?;
    let (ids, _, in_room) = listed(&b)?;
    assert_eq!((ids.len(), in_room), (2, None));
    drop(a);
    Ok(())
}

#[tokio::test]
async fn who_and_find_answer_the_one_who_asked() -> Result<()> {
    let server = big_floor(2).await?;
    let mut watcher = TestClient::join(&server, "Wanda").await?;
    let far = placed(&server, &mut watcher, "Jürgen Müller", (7000.0, 5200.0)).await?;
    let _other = placed(&server, &mut watcher, "Anna Berg", (1000.0, 1000.0)).await?;
    let mut newcomer = TestClient::join(&server, "Neu").await?;
    let (ids, _, _) = listed(&newcomer)?;
    assert!(!ids.contains(&far.id));

    // By id: those here, not the id of no one.
    newcomer
        .send(&ClientMessage::Who {
            ids: vec![far.id.clone(), "z".repeat(11), "nonsense".into()],
        })
        .await?;
    let got = newcomer
        .wait_for("participants", |m| match m {
            ServerMessage::Participants { participants } => Some(participants.clone()),
            _ => None,
        })
        .await?;
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].id.as_str(), got[0].name.as_str(), got[0].x),
        (far.id.as_str(), "Jürgen Müller", 7000.0)
    );

    // By name, ignoring case and accents.
    newcomer
        .send(&ClientMessage::Find {
            query: "  MULLER jur".into(),
        })
        .await?;
    let (query, found, total) = newcomer
        .wait_for("found", |m| match m {
            ServerMessage::Found {
                query,
                participants,
                total,
            } => Some((query.clone(), participants.clone(), *total)),
            _ => None,
        })
        .await?;
    assert_eq!(query, "  MULLER jur", "the query comes back as it was sent");
    assert_eq!(total, 1);
    assert_eq!(
        (found[0].id.as_str(), found[0].x, found[0].y),
        (far.id.as_str(), 7000.0, 5200.0),
        "where they stand: go to works for anyone"
    );

    // Bad input: a clear error, and the connection goes on.
    for bad in [String::new(), " ".into(), "x".repeat(65)] {
        newcomer.send(&ClientMessage::Find { query: bad }).await?;
        assert_eq!(newcomer.expect_error().await?.0, ErrorCode::InvalidMessage);
    }
    newcomer
        .send(&ClientMessage::Who {
            ids: vec![far.id.clone(); 101],
        })
        .await?;
    assert_eq!(newcomer.expect_error().await?.0, ErrorCode::InvalidMessage);
    newcomer
        .send(&ClientMessage::Find {
            query: "berg".into(),
        })
        .await?;
    let total = newcomer
        .wait_for("found again", |m| match m {
            ServerMessage::Found { total, .. } => Some(*total),
            _ => None,
        })
        .await?;
    assert_eq!(total, 1);
    Ok(())
}

#[tokio::test]
async fn find_lists_at_most_twenty_best_first() -> Result<()> {
    let server = big_floor(2).await?;
    let mut people = Vec::new();
    for k in 0..25 {
        people.push(TestClient::join(&server, &format!("Schmidt {k:02}")).await?);
    }
    people.push(TestClient::join(&server, "Anna Schmidt").await?);
    let asker = people.last_mut().expect("someone");
    asker
        .send(&ClientMessage::Find {
            query: "schmidt".into(),
        })
        .await?;
    let (found, total) = asker
        .wait_for("found", |m| match m {
            ServerMessage::Found {
                participants,
                total,
                ..
            } => Some((participants.clone(), *total)),
            _ => None,
        })
        .await?;
    assert_eq!(total, 26);
    assert_eq!(found.len(), 20);
    assert_eq!(
        found[0].name, "Schmidt 00",
        "names that start with it first"
    );
    assert!(
        found.iter().all(|p| p.name != "Anna Schmidt"),
        "the one whose name only has it comes after"
    );
    Ok(())
}

#[tokio::test]
async fn in_a_big_room_comings_and_goings_out_of_sight_come_with_the_round() -> Result<()> {
    let server = big_floor(2).await?;
    let mut all = TestClient::join(&server, "Sees everything").await?;
    let mut part = TestClient::join(&server, "Looks at a corner").await?;
    part.send(&ClientMessage::View {
        x: 0.0,
        y: 0.0,
        width: 600.0,
        height: 400.0,
    })
    .await?;
    // The view is in place once the page's own chat message comes back.
    part.send(&ClientMessage::Chat {
        to: "room".into(),
        text: "looking".into(),
    })
    .await?;
    part.wait_for("the view in place", |m| match m {
        ServerMessage::Chat { message } if message.text == "looking" => Some(()),
        _ => None,
    })
    .await?;
    // Three in the room, more than two: comings and goings out of sight wait for the round.
    let mut far = TestClient::join(&server, "Far").await?;
    let far_id = far.id.clone();
    all.wait_for("Far joined", |m| match m {
        ServerMessage::Joined { participant } if participant.id == far_id => Some(()),
        _ => None,
    })
    .await?;
    let mut near = TestClient::join(&server, "Near").await?;
    near.move_to(300.0, 200.0).await?;
    far.send(&ClientMessage::Leave).await?;
    all.wait_for("Far left", |m| match m {
        ServerMessage::Left { id } if *id == far_id => Some(()),
        _ => None,
    })
    .await?;
    all.send(&ClientMessage::Chat {
        to: "room".into(),
        text: "barrier".into(),
    })
    .await?;
    let mut told_at_once = Vec::new();
    part.wait_for("the barrier", |m| match m {
        ServerMessage::Chat { message } if message.text == "barrier" => Some(()),
        ServerMessage::Joined { participant } => {
            told_at_once.push(format!("joined {}", participant.name));
            None
        }
        ServerMessage::Left { id } => {
            told_at_once.push(format!("left {id}"));
            None
        }
        _ => None,
    })
    .await?;
    assert!(
        !told_at_once.contains(&"joined Far".to_owned()),
        "a newcomer out of sight is not announced at once: {told_at_once:?}"
    );
    assert!(
        !told_at_once.contains(&format!("left {far_id}")),
        "a departure out of sight waits for the round: {told_at_once:?}"
    );
    // The round says who left and how many are here.
    let (count, left) = part
        .wait_for("the round", |m| match m {
            ServerMessage::Tick {
                in_room: Some(n),
                left,
                ..
            } if left.contains(&far_id) => Some((*n, left.clone())),
            _ => None,
        })
        .await?;
    assert_eq!(count, 3, "Sees everything, Looks at a corner and Near");
    assert_eq!(left, vec![far_id]);
    Ok(())
}

#[tokio::test]
async fn in_a_big_room_panning_brings_the_circles_there() -> Result<()> {
    let server = big_floor(2).await?;
    let mut watcher = TestClient::join(&server, "Wanda").await?;
    let _a = placed(&server, &mut watcher, "Anna", (7000.0, 5200.0)).await?;
    let mut b = TestClient::join(&server, "Ben").await?;
    b.move_to(7050.0, 5200.0).await?;
    let far_circle = watcher
        .wait_for("the far circle", |m| match m {
            ServerMessage::CircleChanged { circle } if circle.members.len() == 2 => Some(circle.id),
            _ => None,
        })
        .await?;
    let mut newcomer = TestClient::join(&server, "Neu").await?;
    let (_, circles, in_room) = listed(&newcomer)?;
    assert_eq!(in_room, Some(4));
    assert!(!circles.contains(&far_circle), "too far for the welcome");
    newcomer
        .send(&ClientMessage::View {
            x: 6500.0,
            y: 4800.0,
            width: 1200.0,
            height: 800.0,
        })
        .await?;
    newcomer
        .wait_for("the far circle, once the page shows it", |m| match m {
            ServerMessage::CircleChanged { circle } if circle.id == far_circle => Some(()),
            _ => None,
        })
        .await?;
    Ok(())
}
