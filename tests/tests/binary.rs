//! The `hallway` binary as operators run it: configured by environment variables, healthy,
//! serving the demo room, and stopping cleanly on SIGTERM.

use anyhow::Result;
use hallway_tests::process::{ServerProcess, http_get};
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn the_binary_serves_the_demo_room_and_stops_on_sigterm() -> Result<()> {
    let server = ServerProcess::start(
        &[],
        &[
            ("HALLWAY_ROOMS", "foyer,coffee-corner"),
            ("HALLWAY_TICK_HZ", "20"),
        ],
    )?;
    assert!(
        server
            .banner
            .iter()
            .any(|l| l.contains("Rooms: foyer, coffee-corner")),
        "{:?}",
        server.banner
    );
    assert_eq!(
        http_get(server.addr, "/healthz").await?,
        (200, "ok".to_owned())
    );
    assert_eq!(
        http_get(server.addr, "/readyz").await?,
        (200, "ready".to_owned())
    );

    // The demo room named by the environment exists and says its tick rate.
    use futures_util::{SinkExt, StreamExt};
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", server.addr)).await?;
    ws.send(Message::text(
        r#"{"type":"hello","version":1,"room":"foyer","name":"Ops"}"#,
    ))
    .await?;
    let Some(Ok(Message::Text(welcome))) = ws.next().await else {
        panic!("no welcome")
    };
    let welcome: serde_json::Value = serde_json::from_str(&welcome)?;
    assert_eq!(welcome["type"], "welcome");
    assert_eq!(welcome["room"]["slug"], "foyer");
    assert_eq!(welcome["room"]["tick_hz"], 20);

    let status = server.terminate()?;
    assert!(status.success(), "exit status {status}");
    Ok(())
}

#[test]
fn bad_configuration_is_refused_with_a_clear_message() -> Result<()> {
    let output = std::process::Command::new(hallway_tests::process::binary_path()?)
        .env("HALLWAY_TICK_HZ", "0")
        .output()?;
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("tick-hz") || stderr.contains("TICK_HZ"),
        "{stderr}"
    );
    Ok(())
}
