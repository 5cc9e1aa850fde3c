//! `/metrics` in the Prometheus text format: connections, rooms, participants, messages by
//! type, errors by code; served to the operator only (locally, or on a listener of its
//! own), never to the public behind the reverse proxy.

use std::time::Duration;

use anyhow::Result;
use hallway_proto::{ClientMessage, ServerMessage};
use hallway_tests::process::{http_get, http_request};
use hallway_tests::{TestClient, TestServer};

/// The value of the first sample line that starts with `series`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// Reads `/metrics` until `ready` holds for its text (gauges are set on the room's next
/// tick); fails after five seconds with the last text.
async fn metrics_once(
    server: &TestServer,
    what: &str,
    ready: impl Fn(&str) -> bool,
) -> Result<String> {
    let until = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let (status, text) = http_get(server.addr(), "/metrics").await?;
        assert_eq!(status, 200);
        if ready(&text) {
            return Ok(text);
        }
        assert!(
            tokio::time::Instant::now() < until,
            "{what} never in\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
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
    let text = metrics_once(&server, "the room's gauges", |text| {
        sample(text, "hallway_participants{room=\"lobby\"}").is_some_and(|n| n >= 1.0)
            && sample(text, "hallway_circles{room=\"lobby\"}").is_some()
    })
    .await?;
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
    // How long joins took, and the room's part of it: Ann's join is counted, its time is
    // a positive number of seconds (under the test's own minute), and the room's part of
    // a join is no longer than the join.
    for summary in ["hallway_join_seconds", "hallway_welcome_seconds"] {
        let count = sample(&text, &format!("{summary}_count"));
        assert!(
            count.is_some_and(|n| n >= 1.0),
            "{summary}_count = {count:?}"
        );
        let longest = sample(&text, &format!("{summary}{{quantile=\"1\"}}"));
        assert!(
            longest.is_some_and(|s| s > 0.0 && s < 60.0),
            "{summary} longest = {longest:?} in\n{text}"
        );
    }
    let welcome = sample(&text, "hallway_welcome_seconds_sum").unwrap_or(f64::MAX);
    let join = sample(&text, "hallway_join_seconds_sum").unwrap_or(0.0);
    assert!(welcome <= join, "welcome {welcome} s of a join of {join} s");
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
    metrics_once(&server, "one reconnecting", |text| {
        sample(text, gauge) == Some(1.0)
    })
    .await?;
    let back = TestClient::resume_at(server.addr(), "foyer", "Ann", &token).await?;
    assert!(back.resumed());
    let text = metrics_once(&server, "nobody reconnecting", |text| {
        sample(text, gauge) == Some(0.0)
    })
    .await?;
    assert!(sample(&text, "hallway_resumes_total").is_some_and(|n| n >= 1.0));
    server.stop().await
}

#[tokio::test]
async fn the_main_port_serves_metrics_only_to_local_requests_not_through_a_proxy() -> Result<()> {
    let server =
        TestServer::start_with(|c| c.trusted_proxies = vec![[127, 0, 0, 1].into()]).await?;
    // Prometheus on this machine.
    let (status, text) = http_get(server.addr(), "/metrics").await?;
    assert_eq!(status, 200);
    assert!(text.contains("hallway_connections"));
    // A visitor through the reverse proxy on this machine: from loopback, for someone
    // else. Nothing is there for them, whichever header their proxy uses.
    for header in [
        ("X-Forwarded-For", "203.0.113.9"),
        ("X-Real-IP", "203.0.113.9"),
        ("Forwarded", "for=203.0.113.9;proto=https"),
    ] {
        let (status, text) = http_request(server.addr(), "GET", "/metrics", &[header], b"").await?;
        assert_eq!(status, 404, "{header:?}");
        assert!(!text.contains("hallway_"), "{header:?}");
    }
    // The rest of the site is served to them as before.
    let (status, _) = http_request(
        server.addr(),
        "GET",
        "/healthz",
        &[("X-Forwarded-For", "203.0.113.9")],
        b"",
    )
    .await?;
    assert_eq!(status, 200);
    server.stop().await
}

#[tokio::test]
async fn with_a_listener_of_their_own_metrics_are_served_there_and_not_on_the_main_port()
-> Result<()> {
    let server =
        TestServer::start_with(|c| c.metrics_bind = Some(([127, 0, 0, 1], 0).into())).await?;
    let metrics = server.metrics_addr().expect("a metrics listener");
    assert_ne!(metrics, server.addr());
    let _ann = TestClient::join(&server, "Ann").await?;
    let (status, text) = http_get(metrics, "/metrics").await?;
    assert_eq!(status, 200);
    // (The recorder is the process's: other tests' connections count too.)
    assert!(
        sample(&text, "hallway_connections").is_some_and(|n| n >= 1.0),
        "{text}"
    );
    // Whoever can reach that listener may scrape it (the operator keeps it off the public
    // network), through a proxy too; it serves nothing else.
    let (status, _) = http_request(
        metrics,
        "GET",
        "/metrics",
        &[("X-Forwarded-For", "10.0.0.7")],
        b"",
    )
    .await?;
    assert_eq!(status, 200);
    assert_eq!(http_get(metrics, "/healthz").await?.0, 404);
    assert_eq!(http_get(metrics, "/r/lobby").await?.0, 404);
    // The main port has none, even for a local request.
    assert_eq!(http_get(server.addr(), "/metrics").await?.0, 404);
    server.stop().await
}
