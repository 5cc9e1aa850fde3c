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

#[tokio::test]
async fn metrics_count_participants_waiting_to_resume_and_resumes() -> Result<()> {
    // A room of its own (and no lobby): the metrics recorder is shared by the tests of
    // this file, and the room gauges are labelled by room.
    let server = TestServer::start_with(|c| c.rooms = vec!["foyer".into()]).await?;
    let ann = TestClient::join_room(&server, "foyer", "Ann").await?;
    let token = ann.resume_token().unwrap_or_default().to_owned();
    drop(ann);
    let gauge = "hallway_reconnecting{room=\"foyer\"}";
    let until = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let (_, text) = http_get(server.addr(), "/metrics").await?;
        if sample(&text, gauge) == Some(1.0) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < until,
            "{gauge} never 1 in\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let back = TestClient::resume_at(server.addr(), "foyer", "Ann", &token).await?;
    assert!(back.resumed());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, text) = http_get(server.addr(), "/metrics").await?;
    assert_eq!(sample(&text, gauge), Some(0.0));
    assert!(sample(&text, "hallway_resumes_total").is_some_and(|n| n >= 1.0));
    server.stop().await
}
