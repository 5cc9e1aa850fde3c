//! Bad input gets a clear, typed error; the connection stays where it can, and nobody else
//! in the room notices.

use anyhow::Result;
use hallway_proto::{ClientMessage, ErrorCode, ServerMessage, close, limits};
use hallway_tests::{TestClient, TestServer};
use tokio_tungstenite::tungstenite::Message;

/// Asserts that `watcher` sees `sender`'s next media change with nothing from the bad
/// input before it: no error, no leave, no join.
async fn nobody_else_noticed(sender: &mut TestClient, watcher: &mut TestClient) -> Result<()> {
    sender
        .send(&ClientMessage::Media {
            mic: true,
            camera: true,
            screen: false,
        })
        .await?;
    let sender_id = sender.id.clone();
    watcher
        .wait_for_without(
            "the sender's media change",
            |m| matches!(m, ServerMessage::Error { .. } | ServerMessage::Left { .. }),
            |m| {
                matches!(m, ServerMessage::Media { id, state } if *id == sender_id && state.camera)
                    .then_some(())
            },
        )
        .await
}

#[tokio::test]
async fn malformed_messages_get_typed_errors_and_the_connection_stays() -> Result<()> {
    let server = TestServer::start().await?;
    let mut a = TestClient::join(&server, "Anna").await?;
    let mut watcher = TestClient::join(&server, "Wendy").await?;
    let cases: &[(&str, ErrorCode)] = &[
        ("{not json", ErrorCode::BadJson),
        ("", ErrorCode::BadJson),
        ("[1,2]", ErrorCode::MissingType),
        (r#"{"x":1}"#, ErrorCode::MissingType),
        (r#"{"type":7}"#, ErrorCode::MissingType),
        (r#"{"type":"teleport","x":1}"#, ErrorCode::UnknownType),
        (
            r#"{"type":"move","x":"left","y":1}"#,
            ErrorCode::InvalidMessage,
        ),
        (r#"{"type":"move","x":1}"#, ErrorCode::InvalidMessage),
        (
            r#"{"type":"lock_circle","locked":"yes"}"#,
            ErrorCode::InvalidMessage,
        ),
        (
            r#"{"type":"signal","to":5,"payload":{}}"#,
            ErrorCode::InvalidMessage,
        ),
        (r#"{"type":"move","x":NaN,"y":1}"#, ErrorCode::BadJson),
        (
            r#"{"type":"move","x":1e999,"y":1}"#,
            ErrorCode::InvalidMessage,
        ),
        (
            r#"{"type":"move","x":2000000,"y":1}"#,
            ErrorCode::InvalidPosition,
        ),
        (
            r#"{"type":"move","x":-1e300,"y":1}"#,
            ErrorCode::InvalidPosition,
        ),
        (
            r#"{"type":"hello","version":2,"room":"lobby","name":"Again"}"#,
            ErrorCode::AlreadyJoined,
        ),
        (
            r#"{"type":"lock_circle","locked":true}"#,
            ErrorCode::NotInCircle,
        ),
    ];
    for (text, code) in cases {
        a.send_text(text).await?;
        let (got, _) = a.expect_error().await?;
        assert_eq!(got, *code, "for {text:?}");
    }
    a.send_frame(Message::binary(vec![1, 2, 3])).await?;
    assert_eq!(a.expect_error().await?.0, ErrorCode::BinaryNotSupported);

    // Still connected and working: a valid move is applied.
    a.move_to(-50.0, 40.0).await?;
    let a_id = a.id.clone();
    a.wait_for("own clamped position", |m| match m {
        ServerMessage::Tick { positions, .. } => positions
            .iter()
            .any(|(id, x, y)| *id == a_id && *x == 0.0 && *y == 40.0)
            .then_some(()),
        _ => None,
    })
    .await?;
    nobody_else_noticed(&mut a, &mut watcher).await
}

#[tokio::test]
async fn an_oversized_frame_closes_with_1009() -> Result<()> {
    let server = TestServer::start().await?;
    let mut watcher = TestClient::join(&server, "Wendy").await?;
    let mut a = TestClient::join(&server, "Anna").await?;
    let huge = format!(
        r#"{{"type":"move","x":1,"y":1,"pad":"{}"}}"#,
        "x".repeat(limits::MAX_FRAME_BYTES)
    );
    a.send_text(&huge).await?;
    assert_eq!(a.wait_closed().await?.code, Some(close::TOO_BIG));
    let a_id = a.id.clone();
    watcher
        .wait_for("Anna left", |m| {
            matches!(m, ServerMessage::Left { id } if *id == a_id).then_some(())
        })
        .await?;

    // Just under the limit is fine.
    let mut b = TestClient::join(&server, "Ben").await?;
    let pad = limits::MAX_FRAME_BYTES - 100;
    b.send_text(&format!(
        r#"{{"type":"move","x":1,"y":1,"pad":"{}"}}"#,
        "x".repeat(pad)
    ))
    .await?;
    let mut c = TestClient::join(&server, "Chris").await?;
    nobody_else_noticed(&mut b, &mut c).await
}

#[tokio::test]
async fn bad_names_are_refused_at_the_handshake() -> Result<()> {
    let server = TestServer::start().await?;
    let long = "ä".repeat(limits::MAX_NAME_CHARS + 1);
    for name in [
        "",
        "   ",
        long.as_str(),
        "Anna\nBen",
        "Null\u{0}Byte",
        "Anna\u{202E}neB",
    ] {
        let mut client = TestClient::connect(&server).await?;
        client.hello("lobby", name).await?;
        assert_eq!(
            client.expect_error().await?.0,
            ErrorCode::InvalidName,
            "for {name:?}"
        );
        assert_eq!(client.wait_closed().await?.code, Some(close::REFUSED));
    }
    // 64 characters with umlauts fit.
    TestClient::join(&server, &"ü".repeat(limits::MAX_NAME_CHARS)).await?;
    Ok(())
}

#[tokio::test]
async fn a_version_mismatch_is_refused() -> Result<()> {
    let server = TestServer::start().await?;
    let mut client = TestClient::connect(&server).await?;
    client
        .send(&ClientMessage::Hello {
            version: limits::PROTOCOL_VERSION + 1,
            room: "lobby".into(),
            name: "Future".into(),
            profile: None,
            token: None,
            passcode: None,
            resume: None,
        })
        .await?;
    assert_eq!(client.expect_error().await?.0, ErrorCode::VersionMismatch);
    assert_eq!(client.wait_closed().await?.code, Some(close::REFUSED));
    Ok(())
}

#[tokio::test]
async fn the_handshake_refuses_everything_but_a_good_hello() -> Result<()> {
    let server = TestServer::start().await?;
    let cases: &[(&str, ErrorCode)] = &[
        (r#"{"type":"move","x":1,"y":1}"#, ErrorCode::HelloRequired),
        ("nonsense", ErrorCode::BadJson),
        (
            r#"{"type":"hello","version":2,"room":"nowhere","name":"Anna"}"#,
            ErrorCode::RoomNotFound,
        ),
        (
            r#"{"type":"hello","version":"1","room":"lobby","name":"Anna"}"#,
            ErrorCode::InvalidMessage,
        ),
    ];
    for (text, code) in cases {
        let mut client = TestClient::connect(&server).await?;
        client.send_text(text).await?;
        assert_eq!(client.expect_error().await?.0, *code, "for {text}");
        assert_eq!(client.wait_closed().await?.code, Some(close::REFUSED));
    }
    Ok(())
}

#[tokio::test]
async fn a_silent_connection_is_closed_after_the_hello_timeout() -> Result<()> {
    let server = TestServer::start_with(|c| c.hello_timeout = 1).await?;
    let mut client = TestClient::connect(&server).await?;
    assert_eq!(client.wait_closed().await?.code, Some(close::HELLO_TIMEOUT));
    Ok(())
}

#[tokio::test]
async fn a_full_room_refuses_newcomers() -> Result<()> {
    let server = TestServer::start_with(|c| c.max_participants = 2).await?;
    let _a = TestClient::join(&server, "Anna").await?;
    let _b = TestClient::join(&server, "Ben").await?;
    let mut c = TestClient::connect(&server).await?;
    c.hello("lobby", "Chris").await?;
    assert_eq!(c.expect_error().await?.0, ErrorCode::RoomFull);
    assert_eq!(c.wait_closed().await?.code, Some(close::REFUSED));
    Ok(())
}

#[tokio::test]
async fn floods_are_rate_limited_without_disturbing_the_room() -> Result<()> {
    let server = TestServer::start().await?;
    let mut a = TestClient::join(&server, "Anna").await?;
    let mut b = TestClient::join(&server, "Ben").await?;
    let mut watcher = TestClient::join(&server, "Wendy").await?;

    // Moves: far more than the burst at once.
    for i in 0..(limits::MOVE_BURST * 3) {
        a.move_to(100.0 + f64::from(i), 100.0).await?;
    }
    assert_eq!(a.expect_error().await?.0, ErrorCode::RateLimited);

    // Signals: same, even though each would be refused anyway.
    for _ in 0..(limits::SIGNAL_BURST * 2) {
        b.signal(&a.id, "{}").await?;
    }
    b.wait_for("rate limited", |m| {
        matches!(
            m,
            ServerMessage::Error {
                code: ErrorCode::RateLimited,
                ..
            }
        )
        .then_some(())
    })
    .await?;

    // Garbage counts too (from a third client: each connection is told at most once a
    // second).
    let mut c = TestClient::join(&server, "Chris").await?;
    for _ in 0..(limits::OTHER_BURST * 3) {
        c.send_text("garbage").await?;
    }
    c.wait_for("rate limited", |m| {
        matches!(
            m,
            ServerMessage::Error {
                code: ErrorCode::RateLimited,
                ..
            }
        )
        .then_some(())
    })
    .await?;

    // Both still connected; the room carried on. Wait for the buckets to refill a little.
    let a_id = a.id.clone();
    watcher
        .wait_for("Anna's position", |m| match m {
            ServerMessage::Tick { positions, .. } => {
                positions.iter().any(|(id, ..)| *id == a_id).then_some(())
            }
            _ => None,
        })
        .await?;
    nobody_else_noticed(&mut a, &mut watcher).await
}

#[tokio::test]
async fn forged_ids_cannot_act_for_others() -> Result<()> {
    let server = TestServer::start().await?;
    let mut a = TestClient::join(&server, "Anna").await?;
    let mut watcher = TestClient::join(&server, "Wendy").await?;
    // A move claiming someone else's id moves only the sender: ids in client messages are
    // never believed.
    let forged = format!(r#"{{"type":"move","id":"{}","x":300,"y":300}}"#, watcher.id);
    a.send_text(&forged).await?;
    let (a_id, w_id) = (a.id.clone(), watcher.id.clone());
    let moved = watcher
        .wait_for("a tick", |m| match m {
            ServerMessage::Tick { positions, .. } => Some(
                positions
                    .iter()
                    .map(|(id, ..)| id.clone())
                    .collect::<Vec<_>>(),
            ),
            _ => None,
        })
        .await?;
    assert!(moved.contains(&a_id) && !moved.contains(&w_id));
    Ok(())
}

#[tokio::test]
async fn pings_are_answered_between_messages() -> Result<()> {
    let server = TestServer::start().await?;
    let mut a = TestClient::join(&server, "Anna").await?;
    let mut b = TestClient::join(&server, "Ben").await?;
    a.ping(b"are you there").await?;
    // And the connection still carries messages both ways afterwards.
    b.move_to(300.0, 300.0).await?;
    let b_id = b.id.clone();
    a.wait_for("Ben's move", |m| match m {
        ServerMessage::Tick { positions, .. } => {
            positions.iter().any(|(id, ..)| *id == b_id).then_some(())
        }
        _ => None,
    })
    .await?;
    a.ping(b"still?").await
}
