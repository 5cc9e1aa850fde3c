//! The WebSocket endpoint's conformance: the Autobahn test cases, run by `kosoku`
//! (PyPI), against `/ws-echo` — the same upgrade, limits, reader and writer as `/ws`,
//! echoing every message back (served only with `--conformance-echo`).

use anyhow::Result;
use futures_util::{SinkExt, StreamExt};
use hallway_tests::process::ServerProcess;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn the_echo_completes_the_closing_handshake() -> Result<()> {
    let server = ServerProcess::start(&[], &[("HALLWAY_CONFORMANCE_ECHO", "true")])?;
    let (mut ws, _) =
        tokio_tungstenite::connect_async(format!("ws://{}/ws-echo", server.addr)).await?;
    ws.send(Message::text("hello")).await?;
    assert_eq!(ws.next().await.transpose()?, Some(Message::text("hello")));
    ws.send(Message::Close(None)).await?;
    let reply = ws.next().await.transpose()?;
    assert!(matches!(reply, Some(Message::Close(_))), "{reply:?}");
    Ok(())
}

/// Verdicts that fail a case.
const FAILING: &[&str] = &["FAILED", "FAILED_BY_CLIENT", "UNCLEAN", "WRONG_CODE"];

#[tokio::test]
async fn the_websocket_stack_passes_the_autobahn_cases() -> Result<()> {
    let kosoku = std::env::var_os("KOSOKU").map_or_else(
        || repo_root().join("target/kosoku/bin/kosoku"),
        std::path::PathBuf::from,
    );
    anyhow::ensure!(
        kosoku.exists(),
        "{} is missing: ./scripts/test installs kosoku (PyPI) there",
        kosoku.display()
    );
    let server = ServerProcess::start(&[], &[("HALLWAY_CONFORMANCE_ECHO", "true")])?;
    let reports = std::env::temp_dir().join(format!(
        "hallway-autobahn-{}",
        hallway_tests::process::rand_suffix()
    ));
    let run = std::process::Command::new(&kosoku)
        .arg(format!("ws://{}/ws-echo", server.addr))
        .args(["-p", "2", "-o"])
        .arg(&reports)
        .output()?;
    // kosoku exits non-zero for unimplemented cases too; the verdicts are judged here.
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    let mut failed = Vec::new();
    for entry in std::fs::read_dir(&reports)? {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&path)?)?;
        // The index is not a case.
        let Some(id) = report["id"].as_str().map(str::to_owned) else {
            continue;
        };
        let behavior = report["behavior"].as_str().unwrap_or("?").to_owned();
        let close = report["behaviorClose"].as_str().unwrap_or("?").to_owned();
        *counts.entry(behavior.clone()).or_default() += 1;
        // Compression (permessage-deflate, cases 12 and 13) is not offered.
        let compression = id.starts_with("12.") || id.starts_with("13.");
        let unimplemented_ok = behavior == "UNIMPLEMENTED" && compression;
        if (FAILING.contains(&behavior.as_str()) || behavior == "UNIMPLEMENTED")
            && !unimplemented_ok
            || FAILING.contains(&close.as_str())
        {
            failed.push(format!("{id}: {behavior}/{close}"));
        }
    }
    println!("Autobahn verdicts: {counts:?}");
    let total: usize = counts.values().sum();
    anyhow::ensure!(
        total > 500,
        "only {total} case reports; kosoku said: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let _ = std::fs::remove_dir_all(&reports);
    assert!(failed.is_empty(), "failed cases: {failed:#?}");
    Ok(())
}

fn repo_root() -> std::path::PathBuf {
    hallway_tests::process::repo_root()
}

#[tokio::test]
async fn the_echo_is_not_served_unless_asked_for() -> Result<()> {
    let server = hallway_tests::TestServer::start().await?;
    let (status, _) = hallway_tests::process::http_get(server.addr(), "/ws-echo").await?;
    assert_eq!(status, 404);
    Ok(())
}
