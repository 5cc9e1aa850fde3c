//! `/metrics` in the Prometheus text format: connections, rooms, participants, messages by
//! type, errors by code.

use std::time::Duration;

use anyhow::Result;
use hallway_proto::{ClientMessage, ServerMessage};
use hallway_tests::process::http_get;
use hallway_tests::{TestClient, TestServer};

/// The value of the first sample line that starts with `series`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test]
async fn metrics_count_connections_messages_and_errors() -> Result<()> {
    let server = TestServer::start().await?;
    let mut ann = TestClient::join(&server, "Ann").await?;
    ann.send(&ClientMessage::Hand { raised: true }).await?;
    ann.wait_for("our hand", |m| {
        matches!(m, ServerMessage::Hand { .. }).then_some(())
    })
    .await?;
    ann.send_text("{not json").await?;
    ann.expect_error().await?;
    // Gauges of the room are set on its next tick.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, text) = http_get(server.addr(), "/metrics").await?;
    assert_eq!(status, 200);
    for series in [
        "hallway_connections",
        "hallway_rooms",
        "hallway_participants{room=\"lobby\"}",
        "hallway_messages_in_total{type=\"hello\"}",
        "hallway_messages_in_total{type=\"hand\"}",
        "hallway_messages_out_total{type=\"hand\"}",
        "hallway_errors_total{code=\"bad_json\"}",
    ] {
        let value = sample(&text, series);
        assert!(
            value.is_some_and(|v| v >= 1.0),
            "{series} = {value:?} in\n{text}"
        );
    }
    assert_eq!(sample(&text, "hallway_circles{room=\"lobby\"}"), Some(0.0));
    // Nothing about a person: no names, no addresses.
    assert!(!text.contains("Ann"));
    assert!(!text.contains("127.0.0.1"));
    server.stop().await
}
