//! 10,000 malformed frames from 50 connections against the binary: no panic, the server
//! stays up, and a participant in the same room keeps being served throughout.

use std::time::Duration;

use anyhow::{Context, Result};
use futures_util::{SinkExt, StreamExt};
use hallway_proto::{ClientMessage, ServerMessage};
use hallway_tests::TestClient;
use hallway_tests::process::{ServerProcess, http_get, rand_suffix};
use tokio_tungstenite::tungstenite::Message;

const CONNECTIONS: usize = 50;
const FRAMES_EACH: usize = 200;

/// A deterministic stream of malformed frames: broken JSON, wrong field types, unknown
/// types, absurd numbers, deep nesting, binary frames, messages out of order.
fn malformed(seed: u64) -> impl Iterator<Item = Message> {
    let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    std::iter::repeat_with(move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let n = (state >> 33) as usize;
        const ALPHABET: &[u8] = b"{}[]\":,\\0aZ\x7f ";
        let noise: String = (0..(n % 40))
            .map(|i| char::from(ALPHABET[(n >> (i % 20)) % ALPHABET.len()]))
            .collect();
        let text = match n % 14 {
            0 => noise,
            1 => format!("{{\"type\":\"move\",\"x\":\"{n}\",\"y\":[]}}"),
            2 => format!("{{\"type\":\"move\",\"x\":1e{},\"y\":-1e308}}", n % 400),
            3 => format!("{{\"type\":\"{}\"}}", "x".repeat(n % 300)),
            4 => "[".repeat(n % 5000 + 1),
            5 => format!("{{\"type\":\"signal\",\"to\":{n},\"payload\":{{}}}}"),
            6 => format!("{{\"type\":\"chat\",\"to\":\"room\",\"text\":{n}}}"),
            7 => {
                "{\"type\":\"hello\",\"version\":1,\"room\":\"lobby\",\"name\":\"\\u0000\"}".into()
            }
            8 => format!("{{\"type\":\"set_areas\",\"areas\":[{{\"id\":{n}}}]}}"),
            9 => "{\"type\":\"sfu_offer\",\"sdp\":\"v=0\\r\\nm=audio 9 UDP\\r\\na=\\r\\n\"}".into(),
            10 => format!("{{\"type\":\"gather\",\"area\":{n},\"x\":null}}"),
            11 => {
                "{\"type\":\"remove\",\"id\":\"00000000000000000000000000000000\",\"ban\":\"yes\"}"
                    .into()
            }
            12 => format!(
                "{{\"type\":\"react\",\"reaction\":\"{}\"}}",
                "🎉".repeat(n % 50)
            ),
            _ => return Message::binary(vec![(n % 256) as u8; n % 2000]),
        };
        Message::text(text)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_malformed_frames_break_nothing() -> Result<()> {
    let log_path = std::env::temp_dir().join(format!("hallway-flood-{}.txt", rand_suffix()));
    let server = ServerProcess::start_with_log(&[], &[], std::fs::File::create(&log_path)?)?;
    let addr = server.addr;
    let mut control = TestClient::join_at(addr, "lobby", "Control", None).await?;

    let mut floods = Vec::new();
    for c in 0..CONNECTIONS {
        floods.push(tokio::spawn(async move {
            let mut frames = malformed(c as u64).take(FRAMES_EACH).peekable();
            let mut sent = 0;
            // A connection the server closes (a refused handshake, an oversized frame) is
            // opened again, until this connection's share has been sent.
            while frames.peek().is_some() {
                let (mut ws, _) =
                    tokio_tungstenite::connect_async(format!("ws://{addr}/ws")).await?;
                // Half of them join first, the rest flood the handshake.
                if c % 2 == 0 {
                    let hello = r#"{"type":"hello","version":2,"room":"lobby","name":"Flood"}"#;
                    ws.send(Message::text(hello)).await?;
                }
                for frame in frames.by_ref() {
                    if ws.send(frame).await.is_err() {
                        break;
                    }
                    sent += 1;
                }
                let _ = tokio::time::timeout(Duration::from_millis(100), async {
                    while ws.next().await.is_some() {}
                })
                .await;
            }
            anyhow::Ok(sent)
        }));
    }
    // The control participant is served while the flood runs.
    for round in 0..5 {
        control
            .send(&ClientMessage::Hand {
                raised: round % 2 == 0,
            })
            .await?;
        control
            .wait_for("our own hand", |m| {
                matches!(m, ServerMessage::Hand { raised, .. } if *raised == (round % 2 == 0))
                    .then_some(())
            })
            .await?;
    }
    let mut total = 0;
    for f in floods {
        total += f.await??;
    }
    println!("{total} malformed frames sent");
    assert!(
        total >= CONNECTIONS * FRAMES_EACH * 9 / 10,
        "only {total} frames went out"
    );
    assert_eq!(http_get(addr, "/healthz").await?.0, 200);
    control.move_to(300.0, 300.0).await?;
    let me = control.id.clone();
    control
        .wait_for("our move in a tick", |m| match m {
            ServerMessage::Tick { positions, .. } => {
                positions.iter().any(|p| p.0 == me).then_some(())
            }
            _ => None,
        })
        .await?;
    server.terminate()?;
    let log = std::fs::read_to_string(&log_path).context("the server's log")?;
    assert!(!log.contains("panicked"), "the server panicked:\n{log}");
    let _ = std::fs::remove_file(&log_path);
    Ok(())
}
