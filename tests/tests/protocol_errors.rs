//! WebSocket protocol errors, written byte by byte on a raw socket: each is answered with a
//! close frame (1002, or 1007 for text that is not UTF-8) carrying the code's reason from
//! `close::CODES`, before the TCP close; and the participant leaves at once (no
//! grace window), on a single node and through a node that relays to the room's owner.

use std::net::SocketAddr;

use anyhow::{Context, Result, bail};
use hallway_proto::{ServerMessage, close};
use hallway_tests::cluster::node;
use hallway_tests::raw::{RawSocket, frame};
use hallway_tests::redis::RedisServer;
use hallway_tests::{TestClient, TestServer};

/// Each protocol error, the bytes that make it and the close code it earns.
fn protocol_errors() -> Vec<(&'static str, Vec<u8>, u16)> {
    let ping = br#"{"type":"ping"}"#;
    vec![
        (
            "text that is not UTF-8",
            frame(0x81, b"{\"type\":\"\xff\xfe\"}", true),
            close::INVALID_PAYLOAD,
        ),
        (
            "an unmasked frame",
            frame(0x81, ping, false),
            close::PROTOCOL_ERROR,
        ),
        (
            "a reserved data opcode",
            frame(0x83, ping, true),
            close::PROTOCOL_ERROR,
        ),
        (
            "a reserved control opcode",
            frame(0x8b, b"", true),
            close::PROTOCOL_ERROR,
        ),
        (
            "the RSV1 bit",
            frame(0xc1, ping, true),
            close::PROTOCOL_ERROR,
        ),
        (
            "the RSV3 bit",
            frame(0x91, ping, true),
            close::PROTOCOL_ERROR,
        ),
        (
            "a ping over 125 bytes",
            frame(0x89, &[b'x'; 126], true),
            close::PROTOCOL_ERROR,
        ),
        (
            "a continuation with nothing to continue",
            frame(0x80, ping, true),
            close::PROTOCOL_ERROR,
        ),
    ]
}

/// Joins `lobby` at `addr` as `name` on a raw socket; returns it and our participant id.
async fn join_raw(addr: SocketAddr, name: &str) -> Result<(RawSocket, String)> {
    let mut raw = RawSocket::connect(addr).await?;
    let hello = format!(r#"{{"type":"hello","version":2,"room":"lobby","name":"{name}"}}"#);
    raw.send_text(&hello).await?;
    loop {
        let frame = raw.next_frame().await?.context("closed before welcome")?;
        if frame.opcode() != 0x1 {
            continue;
        }
        let msg: ServerMessage = serde_json::from_slice(&frame.payload)?;
        match msg {
            ServerMessage::Welcome { you, .. } => return Ok((raw, you)),
            other => bail!("expected welcome, got {other:?}"),
        }
    }
}

/// Sends the protocol error on a joined raw socket and checks the close frame, the TCP close
/// after it, and that `observer` sees the participant leave without reconnecting.
async fn break_protocol(
    addr: SocketAddr,
    observer: &mut TestClient,
    (what, bytes, code): (&'static str, Vec<u8>, u16),
) -> Result<()> {
    let (mut raw, id) = join_raw(addr, "Mallory").await?;
    raw.write(&bytes).await?;
    let (got, reason) = raw.close_frame().await.context(what)?;
    assert_eq!(got, code, "{what}: closed with {got} ({reason})");
    assert_eq!(reason, close::reason(code), "{what}");
    raw.ended().await.context(what)?;
    observer
        .wait_for_without(
            "the offender left",
            |m| matches!(m, ServerMessage::Reconnecting { id: r, on: true } if *r == id),
            |m| matches!(m, ServerMessage::Left { id: gone } if *gone == id).then_some(()),
        )
        .await
        .context(what)?;
    Ok(())
}

#[tokio::test]
async fn each_protocol_error_is_answered_with_its_close_code_and_the_participant_leaves()
-> Result<()> {
    let server = TestServer::start().await?;
    let mut observer = TestClient::join(&server, "Olga").await?;
    for error in protocol_errors() {
        break_protocol(server.addr(), &mut observer, error).await?;
    }
    server.stop().await
}

#[tokio::test]
async fn a_protocol_error_before_hello_is_answered_too() -> Result<()> {
    let server = TestServer::start().await?;
    for (what, bytes, code) in protocol_errors() {
        let mut raw = RawSocket::connect(server.addr()).await?;
        raw.write(&bytes).await?;
        let (got, reason) = raw.close_frame().await.context(what)?;
        assert_eq!(
            (got, reason.as_str()),
            (code, close::reason(code)),
            "{what}"
        );
        raw.ended().await.context(what)?;
    }
    server.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relayed_client_gets_the_close_frame_and_leaves_the_owners_room() -> Result<()> {
    let redis = RedisServer::start()?;
    let nodes = [node(&redis, &[])?, node(&redis, &[])?];
    // The observer's join makes the first node the room's owner; the offenders come
    // through the second.
    let mut observer = TestClient::join_at(nodes[0].addr, "lobby", "Olga", None).await?;
    for error in protocol_errors()
        .into_iter()
        .filter(|(what, ..)| ["text that is not UTF-8", "the RSV1 bit"].contains(what))
    {
        break_protocol(nodes[1].addr, &mut observer, error).await?;
    }
    Ok(())
}
