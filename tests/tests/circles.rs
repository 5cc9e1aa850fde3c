//! Joining a room, forming, joining, refusing and leaving circles, through real sockets.

use anyhow::Result;
use hallway_proto::{ErrorCode, ServerMessage};
use hallway_tests::{TestClient, TestServer, pair, walk_up};

#[tokio::test]
async fn join_gets_a_snapshot_and_others_are_told() -> Result<()> {
    let server = TestServer::start().await?;
    let mut a = TestClient::join(&server, "  Anna Schmidt  ").await?;
    let b = TestClient::join(&server, "Ben").await?;
    let Some(ServerMessage::Welcome {
        version,
        you,
        room,
        participants,
        circles,
        ..
    }) = &b.welcome
    else {
        panic!("no welcome");
    };
    assert_eq!(*version, hallway_proto::PROTOCOL_VERSION);
    assert_eq!(*you, b.id);
    assert_eq!(room.slug, "lobby");
    assert_eq!(
        (room.width, room.height, room.max_circle_size, room.tick_hz),
        (2400.0, 1600.0, 15, 10)
    );
    assert_eq!(participants.len(), 2);
    let anna = participants
        .iter()
        .find(|p| p.id == a.id)
        .expect("Anna is in the snapshot");
    assert_eq!(anna.name, "Anna Schmidt", "names are trimmed");
    assert!(circles.is_empty());
    assert_ne!(a.id, b.id);
    assert_eq!(a.id.len(), 11, "ids are eleven letters and digits");
    assert!(a.id.bytes().all(|b| b.is_ascii_alphanumeric()), "{}", a.id);

    let joined = a
        .wait_for("Ben joined", |m| match m {
            ServerMessage::Joined { participant } => Some(participant.clone()),
            _ => None,
        })
        .await?;
    assert_eq!(
        (joined.id.as_str(), joined.name.as_str()),
        (b.id.as_str(), "Ben")
    );
    Ok(())
}

#[tokio::test]
async fn two_people_form_a_circle_and_exactly_one_offers() -> Result<()> {
    let server = TestServer::start().await?;
    let (mut a, mut b) = walk_up(&server).await?;
    let connect = |m: &ServerMessage| match m {
        ServerMessage::Connect {
            peer, initiator, ..
        } => Some((peer.clone(), *initiator)),
        // `connect` comes before the news of the circle (pages start connecting first).
        ServerMessage::CircleChanged { .. } => panic!("the circle's news came before `connect`"),
        _ => None,
    };
    let (a_peer, a_offers) = a.wait_for("connect", connect).await?;
    let (b_peer, b_offers) = b.wait_for("connect", connect).await?;
    assert_eq!((a_peer, b_peer), (b.id.clone(), a.id.clone()));
    assert!(a_offers ^ b_offers, "exactly one side makes the offer");
    assert!(b_offers, "the one who walked up makes the offer");
    let members = [a.id.clone(), b.id.clone()];
    assert_eq!(
        a.wait_for_circle_with(&members).await?,
        b.wait_for_circle_with(&members).await?
    );
    Ok(())
}

#[tokio::test]
async fn a_third_joins_and_connects_to_both() -> Result<()> {
    let server = TestServer::start().await?;
    let (mut a, mut b, circle) = pair(&server).await?;
    let mut c = TestClient::join(&server, "Chris").await?;
    c.move_to(525.0, 540.0).await?;
    let members = [a.id.clone(), b.id.clone(), c.id.clone()];
    // Chris's two `connect`s come first, then the news of the circle.
    let mut offers = Vec::new();
    for _ in 0..2 {
        offers.push(
            c.wait_for("connect", |m| match m {
                ServerMessage::Connect {
                    peer,
                    initiator: true,
                    ..
                } => Some(peer.clone()),
                _ => None,
            })
            .await?,
        );
    }
    offers.sort();
    let mut expected = vec![a.id.clone(), b.id.clone()];
    expected.sort();
    assert_eq!(offers, expected);
    assert_eq!(c.wait_for_circle_with(&members).await?, circle);
    let c_id = c.id.clone();
    a.wait_for("connect from Chris", |m| {
        matches!(m, ServerMessage::Connect { peer, initiator: false, .. } if *peer == c_id)
            .then_some(())
    })
    .await?;
    assert_eq!(a.wait_for_circle_with(&members).await?, circle);
    assert_eq!(b.wait_for_circle_with(&members).await?, circle);
    Ok(())
}

#[tokio::test]
async fn a_locked_circle_refuses_and_says_why() -> Result<()> {
    let server = TestServer::start().await?;
    let (mut a, _b, circle) = pair(&server).await?;
    a.send(&hallway_proto::ClientMessage::LockCircle { locked: true })
        .await?;
    a.wait_for("the circle locked", |m| {
        matches!(m, ServerMessage::CircleChanged { circle: c } if c.id == circle && c.locked)
            .then_some(())
    })
    .await?;
    let mut c = TestClient::join(&server, "Chris").await?;
    c.move_to(525.0, 510.0).await?;
    assert_eq!(
        c.expect_error().await?,
        (ErrorCode::CircleLocked, Some(circle))
    );
    // Chris stands outside the circle's join radius.
    let c_id = c.id.clone();
    let (x, y) = c
        .wait_for("Chris's position", |m| match m {
            ServerMessage::Tick { positions, .. } => positions
                .iter()
                .find(|(id, ..)| *id == c_id)
                .map(|(_, x, y)| (*x, *y)),
            _ => None,
        })
        .await?;
    let distance = ((x - 525.0).powi(2) + (y - 500.0).powi(2)).sqrt();
    assert!(distance > 81.0, "stands {distance} from the centre");
    Ok(())
}

#[tokio::test]
async fn a_full_circle_refuses() -> Result<()> {
    let server = TestServer::start_with(|c| c.max_circle_size = 2).await?;
    let (_a, _b, circle) = pair(&server).await?;
    let mut c = TestClient::join(&server, "Chris").await?;
    c.move_to(525.0, 530.0).await?;
    assert_eq!(
        c.expect_error().await?,
        (ErrorCode::CircleFull, Some(circle))
    );
    Ok(())
}

#[tokio::test]
async fn walking_away_leaves_and_the_last_pair_dissolves() -> Result<()> {
    let server = TestServer::start().await?;
    let (mut a, mut b, circle) = pair(&server).await?;
    let mut c = TestClient::join(&server, "Chris").await?;
    c.move_to(525.0, 540.0).await?;
    c.wait_for_circle_with(&[a.id.clone(), b.id.clone(), c.id.clone()])
        .await?;

    c.move_to(1500.0, 1200.0).await?;
    let c_id = c.id.clone();
    a.wait_for("hang up on Chris", |m| {
        matches!(m, ServerMessage::Disconnect { peer } if *peer == c_id).then_some(())
    })
    .await?;
    assert_eq!(
        a.wait_for_circle_with(&[a.id.clone(), b.id.clone()])
            .await?,
        circle
    );
    c.wait_for("Chris hangs up", |m| {
        matches!(m, ServerMessage::Disconnect { .. }).then_some(())
    })
    .await?;

    b.move_to(100.0, 100.0).await?;
    a.wait_for("dissolved", |m| {
        matches!(m, ServerMessage::CircleDissolved { id } if *id == circle).then_some(())
    })
    .await?;
    Ok(())
}

#[tokio::test]
async fn a_lost_connection_is_cleaned_up_everywhere_after_the_grace_window() -> Result<()> {
    let server = TestServer::start_with(|c| c.resume_grace = 1).await?;
    let (mut a, b, circle) = pair(&server).await?;
    let b_id = b.id.clone();
    drop(b); // the socket goes away without a goodbye
    a.wait_for("Ben reconnecting", |m| {
        matches!(m, ServerMessage::Reconnecting { id, on: true } if *id == b_id).then_some(())
    })
    .await?;
    a.wait_for("hang up on Ben", |m| {
        matches!(m, ServerMessage::Disconnect { peer } if *peer == b_id).then_some(())
    })
    .await?;
    a.wait_for("dissolved", |m| {
        matches!(m, ServerMessage::CircleDissolved { id } if *id == circle).then_some(())
    })
    .await?;
    a.wait_for("Ben left", |m| {
        matches!(m, ServerMessage::Left { id } if *id == b_id).then_some(())
    })
    .await?;

    // A newcomer's snapshot no longer has Ben or the circle.
    let c = TestClient::join(&server, "Chris").await?;
    let Some(ServerMessage::Welcome {
        participants,
        circles,
        ..
    }) = &c.welcome
    else {
        panic!("no welcome")
    };
    assert_eq!(participants.len(), 2);
    assert!(circles.is_empty());
    Ok(())
}

#[tokio::test]
async fn leave_closes_normally_and_the_room_is_told() -> Result<()> {
    let server = TestServer::start().await?;
    let mut a = TestClient::join(&server, "Anna").await?;
    let mut b = TestClient::join(&server, "Ben").await?;
    b.send(&hallway_proto::ClientMessage::Leave).await?;
    assert_eq!(
        b.wait_closed().await?.code,
        Some(hallway_proto::close::NORMAL)
    );
    let b_id = b.id.clone();
    a.wait_for("Ben left", |m| {
        matches!(m, ServerMessage::Left { id } if *id == b_id).then_some(())
    })
    .await?;
    Ok(())
}

#[tokio::test]
async fn positions_arrive_on_ticks() -> Result<()> {
    let server = TestServer::start().await?;
    let mut a = TestClient::join(&server, "Anna").await?;
    let mut b = TestClient::join(&server, "Ben").await?;
    for x in [300.0, 310.0, 320.0] {
        a.move_to(x, 400.0).await?;
    }
    let a_id = a.id.clone();
    b.wait_for("Anna at 320", |m| match m {
        ServerMessage::Tick { positions, .. } => {
            let mine: Vec<_> = positions.iter().filter(|(id, ..)| *id == a_id).collect();
            assert!(mine.len() <= 1, "one position per participant per tick");
            mine.first()
                .is_some_and(|(_, x, y)| *x == 320.0 && *y == 400.0)
                .then_some(())
        }
        _ => None,
    })
    .await?;
    Ok(())
}

#[tokio::test]
async fn a_large_welcome_arrives_whole() -> Result<()> {
    // Forty people make a welcome of several kilobytes, larger than any socket buffer the
    // server keeps: it goes out straight from the shared message bytes.
    let server = TestServer::start().await?;
    let mut clients = Vec::new();
    for i in 0..40 {
        clients.push(
            TestClient::join(
                &server,
                &format!("Teilnehmerin mit langem Namen Nummer {i}"),
            )
            .await?,
        );
    }
    let last = TestClient::join(&server, "Zoe").await?;
    let Some(ServerMessage::Welcome { participants, .. }) = &last.welcome else {
        panic!("no welcome")
    };
    assert_eq!(participants.len(), 41);
    let size = serde_json::to_string(&last.welcome)?.len();
    assert!(size > 4096, "a welcome of only {size} bytes");
    Ok(())
}
