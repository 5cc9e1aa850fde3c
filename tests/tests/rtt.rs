//! Real-time text through the real server: a line reaches the other members of the
//! writer's circle as it is typed, stamped with the writer (a forged `from` is ignored), and
//! nobody outside; a listener's question reaches whoever is on air; bad lines, lines to
//! nowhere and floods are refused with their codes.

use anyhow::{Context, Result};
use hallway_proto::{ClientMessage, ErrorCode, ServerMessage, limits};
use hallway_tests::{TestClient, TestServer, pair};

async fn type_line(client: &mut TestClient, to: &str, text: &str, done: bool) -> Result<()> {
    client
        .send(&ClientMessage::Rtt {
            to: to.into(),
            circle: None,
            text: text.into(),
            done,
        })
        .await
}

/// The next `rtt` (from, to, text, done), failing if something else of the kind comes.
async fn read_line(client: &mut TestClient) -> Result<(String, String, String, bool)> {
    client
        .wait_for("a real-time text line", |m| match m {
            ServerMessage::Rtt {
                from,
                to,
                text,
                done,
            } => Some((from.clone(), to.clone(), text.clone(), *done)),
            _ => None,
        })
        .await
}

/// `client` walks to (x, y) and sees itself there (everything queued for it before has
/// arrived by then), with no `rtt` among what came.
async fn reads_no_line(client: &mut TestClient, x: f64, y: f64) -> Result<()> {
    client.move_to(x, y).await?;
    let me = client.id.clone();
    client
        .wait_for_without(
            "its own step",
            |m| matches!(m, ServerMessage::Rtt { .. }),
            |m| match m {
                ServerMessage::Tick { positions, .. } => positions
                    .iter()
                    .any(|(id, px, _)| *id == me && f64::from(*px) == x)
                    .then_some(()),
                _ => None,
            },
        )
        .await
}

#[tokio::test]
async fn a_line_reaches_the_circle_as_it_is_typed_and_nobody_else() -> Result<()> {
    let server = TestServer::start().await?;
    let (mut anna, mut ben, _) = pair(&server).await?;
    let mut carla = TestClient::join(&server, "Carla").await?;
    carla.move_to(1500.0, 1200.0).await?;
    for so_far in ["H", "Ha", "Hal"] {
        type_line(&mut anna, "circle", so_far, false).await?;
        assert_eq!(
            read_line(&mut ben).await?,
            (anna.id.clone(), "circle".into(), so_far.into(), false)
        );
    }
    // The writer is stamped by the server: a `from` in the message is ignored.
    anna.send_text(&format!(
        r#"{{"type":"rtt","to":"circle","text":"Hallo","done":true,"from":"{}"}}"#,
        carla.id
    ))
    .await?;
    assert_eq!(
        read_line(&mut ben).await?,
        (anna.id.clone(), "circle".into(), "Hallo".into(), true)
    );
    // Carla, in no circle, read none of it, and cannot write to a circle.
    type_line(&mut carla, "circle", "Hallo?", false).await?;
    assert_eq!(carla.expect_error().await?.0, ErrorCode::NotInCircle);
    reads_no_line(&mut carla, 1520.0, 1200.0).await?;
    // Ben answers; Anna reads it.
    type_line(&mut ben, "circle", "Hallo Anna", false).await?;
    assert_eq!(read_line(&mut anna).await?.2, "Hallo Anna");
    Ok(())
}

#[tokio::test]
async fn bad_lines_and_floods_are_refused_with_their_codes() -> Result<()> {
    let server = TestServer::start().await?;
    let (mut anna, _ben, _) = pair(&server).await?;
    let too_long = "ä".repeat(limits::MAX_RTT_CHARS + 1);
    for (to, text) in [
        ("circle", too_long.as_str()),
        ("circle", "zwei\nZeilen"),
        ("circle", "\u{202E}verkehrt"),
        ("room", "an alle"),
    ] {
        type_line(&mut anna, to, text, false).await?;
        assert_eq!(
            anna.expect_error().await?.0,
            ErrorCode::InvalidRtt,
            "{to} {text:?}"
        );
    }
    // Faster than 15 a second beyond the burst of 30: dropped and told.
    for i in 0..(limits::RTT_BURST + 10) {
        type_line(&mut anna, "circle", &"x".repeat(i as usize % 50), false).await?;
    }
    assert_eq!(anna.expect_error().await?.0, ErrorCode::RateLimited);
    Ok(())
}

#[tokio::test]
async fn a_listener_asks_the_stage_in_real_time_text() -> Result<()> {
    let server = TestServer::start().await?;
    let mut hanna = TestClient::join_host(&server, "lobby", "Hanna Host").await?;
    let mut listener = TestClient::join(&server, "Lena").await?;
    let mut other = TestClient::join(&server, "Olaf").await?;
    type_line(&mut listener, "on_air", "Eine Frage", false).await?;
    assert_eq!(listener.expect_error().await?.0, ErrorCode::NobodyOnAir);
    hanna.send(&ClientMessage::Broadcast { on: true }).await?;
    let h = hanna.id.clone();
    listener
        .wait_for("Hanna on air", |m| {
            matches!(m, ServerMessage::Broadcast { id, on: true } if *id == h).then_some(())
        })
        .await?;
    type_line(&mut listener, "on_air", "Wie geht es weiter?", true).await?;
    assert_eq!(
        read_line(&mut hanna).await?,
        (
            listener.id.clone(),
            "on_air".into(),
            "Wie geht es weiter?".into(),
            true
        )
    );
    // Off air, nobody reads questions any more; the other listener never did.
    hanna.send(&ClientMessage::Broadcast { on: false }).await?;
    listener
        .wait_for("Hanna off air", |m| {
            matches!(m, ServerMessage::Broadcast { id, on: false } if *id == h).then_some(())
        })
        .await?;
    type_line(&mut listener, "on_air", "Noch da?", false).await?;
    assert_eq!(listener.expect_error().await?.0, ErrorCode::NobodyOnAir);
    reads_no_line(&mut other, 100.0, 100.0).await?;
    Ok(())
}

#[tokio::test]
async fn in_a_privacy_room_lines_follow_the_routed_circle_as_people_come_and_go() -> Result<()> {
    let server = TestServer::start().await?;
    let mut settings = hallway::room::RoomSettings::new("private", "Private");
    settings.privacy = true;
    server.open_room(settings)?;
    let ann = TestClient::join_room(&server, "private", "Ann").await?;
    let ben = TestClient::join_room(&server, "private", "Ben").await?;
    let mut pair = vec![ann, ben];
    hallway_tests::circles::circle_of(&mut pair).await?;
    let mut ben = pair.pop().context("ben")?;
    let mut ann = pair.pop().context("ann")?;
    // Routed through the SFU: no connect pairs, yet the line reaches the circle.
    type_line(&mut ann, "circle", "Hallo Ben", false).await?;
    assert_eq!(read_line(&mut ben).await?.2, "Hallo Ben");
    // Ben walks away: he reads nothing more of Ann's, and she cannot write to a circle.
    ben.move_to(1900.0, 1400.0).await?;
    let b = ben.id.clone();
    ann.wait_for("Ben out of the circle", |m| match m {
        ServerMessage::CircleDissolved { .. } => Some(()),
        ServerMessage::CircleChanged { circle } if !circle.members.contains(&b) => Some(()),
        _ => None,
    })
    .await?;
    type_line(&mut ann, "circle", "Noch da?", false).await?;
    assert_eq!(ann.expect_error().await?.0, ErrorCode::NotInCircle);
    reads_no_line(&mut ben, 1920.0, 1400.0).await?;
    Ok(())
}

#[tokio::test]
async fn a_broadcaster_who_comes_back_still_reads_the_questions() -> Result<()> {
    let server = TestServer::start().await?;
    let hanna = TestClient::join_host(&server, "lobby", "Hanna Host").await?;
    let mut listener = TestClient::join(&server, "Lena").await?;
    let mut hanna = hanna;
    hanna.send(&ClientMessage::Broadcast { on: true }).await?;
    let h = hanna.id.clone();
    listener
        .wait_for("Hanna on air", |m| {
            matches!(m, ServerMessage::Broadcast { id, on: true } if *id == h).then_some(())
        })
        .await?;
    let token = hanna.resume_token().unwrap_or("").to_owned();
    drop(hanna); // the connection drops without a close frame
    let mut back = TestClient::resume_at(server.addr(), "lobby", "Hanna Host", &token).await?;
    assert!(back.resumed());
    type_line(&mut listener, "on_air", "Hören Sie mich?", true).await?;
    assert_eq!(read_line(&mut back).await?.2, "Hören Sie mich?");
    Ok(())
}
