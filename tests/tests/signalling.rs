//! The signalling relay: only within one circle, with the true sender stamped.

use anyhow::Result;
use hallway_proto::{ClientMessage, ErrorCode, ServerMessage};
use hallway_tests::{TestClient, TestServer};

/// Two clients in one circle, and a third outside it.
async fn trio(server: &TestServer) -> Result<(TestClient, TestClient, TestClient)> {
    let (a, b, _) = hallway_tests::pair(server).await?;
    let c = TestClient::join(server, "Chris").await?;
    Ok((a, b, c))
}

/// A message every participant receives after whatever `from` sent before it: the actor
/// handles one connection's messages in order and each queue is first in, first out.
async fn barrier(from: &mut TestClient, mic: bool) -> Result<()> {
    from.send(&ClientMessage::Media {
        mic,
        camera: false,
        screen: false,
    })
    .await
}

fn is_media_from(id: &str, mic: bool) -> impl FnMut(&ServerMessage) -> Option<()> + '_ {
    move |m| {
        matches!(m, ServerMessage::Media { id: who, state } if who == id && state.mic == mic)
            .then_some(())
    }
}

#[tokio::test]
async fn a_signal_inside_a_circle_arrives_with_the_true_sender() -> Result<()> {
    let server = TestServer::start().await?;
    let (mut a, mut b, _c) = trio(&server).await?;
    a.signal(&b.id, r#"{"sdp":{"type":"offer","sdp":"v=0\r\n"}}"#)
        .await?;
    let (from, payload) = b
        .wait_for("a signal", |m| match m {
            ServerMessage::Signal { from, payload } => {
                Some((from.clone(), payload.get().to_owned()))
            }
            _ => None,
        })
        .await?;
    assert_eq!(from, a.id);
    let parsed: serde_json::Value = serde_json::from_str(&payload)?;
    assert_eq!(
        parsed,
        serde_json::json!({"sdp": {"type": "offer", "sdp": "v=0\r\n"}})
    );

    // And back the other way.
    b.signal(
        &a.id,
        r#"{"candidate":"candidate:1 1 udp 1 127.0.0.1 9 typ host"}"#,
    )
    .await?;
    let from = a
        .wait_for("a signal", |m| match m {
            ServerMessage::Signal { from, .. } => Some(from.clone()),
            _ => None,
        })
        .await?;
    assert_eq!(from, b.id);
    Ok(())
}

#[tokio::test]
async fn a_signal_outside_the_circle_is_refused_and_not_delivered() -> Result<()> {
    let server = TestServer::start().await?;
    let (mut a, _b, mut c) = trio(&server).await?;
    a.signal(&c.id, r#"{"sdp":"leak"}"#).await?;
    assert_eq!(a.expect_error().await?.0, ErrorCode::NotInSameCircle);
    // Chris in no circle signals Anna: refused too.
    c.signal(&a.id, r#"{"sdp":"knock"}"#).await?;
    assert_eq!(c.expect_error().await?.0, ErrorCode::NotInCircle);
    // Unknown and malformed ids get the same answer as a stranger's.
    a.signal("00000000000000000000000000000000", "{}").await?;
    assert_eq!(a.expect_error().await?.0, ErrorCode::NotInSameCircle);
    a.signal("not-an-id", "{}").await?;
    assert_eq!(a.expect_error().await?.0, ErrorCode::NotInSameCircle);

    barrier(&mut a, true).await?;
    let a_id = a.id.clone();
    c.wait_for_without(
        "Anna's media change",
        |m| matches!(m, ServerMessage::Signal { .. }),
        is_media_from(&a_id, true),
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn a_forged_sender_is_ignored() -> Result<()> {
    let server = TestServer::start().await?;
    let (mut a, mut b, c) = trio(&server).await?;
    let forged = format!(
        r#"{{"type":"signal","to":"{}","from":"{}","payload":{{"sdp":"x"}}}}"#,
        b.id, c.id
    );
    a.send_text(&forged).await?;
    let from = b
        .wait_for("a signal", |m| match m {
            ServerMessage::Signal { from, .. } => Some(from.clone()),
            _ => None,
        })
        .await?;
    assert_eq!(from, a.id, "the server stamps the real sender");
    Ok(())
}

#[tokio::test]
async fn after_leaving_the_circle_signals_are_refused() -> Result<()> {
    let server = TestServer::start().await?;
    let (mut a, mut b, _c) = trio(&server).await?;
    b.move_to(2000.0, 1400.0).await?;
    let b_id = b.id.clone();
    a.wait_for("hang up", |m| {
        matches!(m, ServerMessage::Disconnect { peer } if *peer == b_id).then_some(())
    })
    .await?;
    a.signal(&b.id, r#"{"sdp":"late"}"#).await?;
    assert_eq!(a.expect_error().await?.0, ErrorCode::NotInCircle);
    barrier(&mut a, true).await?;
    let a_id = a.id.clone();
    b.wait_for_without(
        "Anna's media change",
        |m| matches!(m, ServerMessage::Signal { .. }),
        is_media_from(&a_id, true),
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn an_oversized_payload_is_refused() -> Result<()> {
    let server = TestServer::start().await?;
    let (mut a, _b, _c) = trio(&server).await?;
    let big = format!(
        r#""{}""#,
        "x".repeat(hallway_proto::limits::MAX_SIGNAL_PAYLOAD_BYTES)
    );
    a.signal(&_b.id, &big).await?;
    assert_eq!(a.expect_error().await?.0, ErrorCode::PayloadTooLarge);
    Ok(())
}
