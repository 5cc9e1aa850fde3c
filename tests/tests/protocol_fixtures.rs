//! The protocol's examples, kept in `tests/fixtures/protocol/`, against the `proto` types
//! and against `docs/protocol.md`: a message cannot change without its fixture, and a
//! fixture cannot change without the documentation.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use hallway_proto::client::CLIENT_MESSAGE_TYPES;
use hallway_proto::server::SERVER_MESSAGE_TYPES;
use hallway_proto::{ClientMessage, ServerMessage};
use serde_json::Value;

fn fixtures(side: &str) -> Result<Vec<(String, String)>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/protocol")
        .join(side);
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .context("file name")?
            .to_owned();
        out.push((stem, std::fs::read_to_string(&path)?));
    }
    out.sort();
    Ok(out)
}

/// Numbers compare by value: `640` and `640.0` are the same coordinate.
fn normalize(value: Value) -> Value {
    match value {
        Value::Number(n) => n
            .as_f64()
            .map_or(Value::Number(n), |f| serde_json::json!(f)),
        Value::Array(items) => Value::Array(items.into_iter().map(normalize).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, normalize(v))).collect())
        }
        other => other,
    }
}

fn same_json(a: &str, b: &str) -> Result<bool> {
    Ok(normalize(serde_json::from_str(a)?) == normalize(serde_json::from_str(b)?))
}

#[test]
fn every_client_fixture_decodes_to_its_type_and_round_trips() -> Result<()> {
    let all = fixtures("client")?;
    let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
    let mut expected = CLIENT_MESSAGE_TYPES.to_vec();
    expected.sort_unstable();
    assert_eq!(names, expected, "one fixture per client message type");
    for (name, text) in &all {
        let msg = ClientMessage::decode(text).with_context(|| format!("decoding {name}"))?;
        ensure!(msg.kind() == name, "{name} decoded as {}", msg.kind());
        ensure!(
            same_json(&serde_json::to_string(&msg)?, text)?,
            "{name} does not round-trip"
        );
    }
    Ok(())
}

#[test]
fn every_server_fixture_decodes_to_its_type_and_round_trips() -> Result<()> {
    let all = fixtures("server")?;
    let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
    let mut expected = SERVER_MESSAGE_TYPES.to_vec();
    expected.sort_unstable();
    assert_eq!(names, expected, "one fixture per server message type");
    for (name, text) in &all {
        let msg: ServerMessage =
            serde_json::from_str(text).with_context(|| format!("decoding {name}"))?;
        ensure!(msg.kind() == name, "{name} decoded as {}", msg.kind());
        ensure!(
            same_json(&msg.encode(), text)?,
            "{name} does not round-trip"
        );
    }
    Ok(())
}

/// The ```json blocks of the protocol reference.
fn documented_examples() -> Result<Vec<String>> {
    let doc: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/protocol.md");
    let text =
        std::fs::read_to_string(&doc).with_context(|| format!("reading {}", doc.display()))?;
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        match (&mut current, line.trim_start()) {
            (None, "```json") => current = Some(String::new()),
            (Some(block), "```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    if current.is_some() {
        bail!("unterminated code block in docs/protocol.md");
    }
    Ok(blocks)
}

#[test]
fn the_protocol_reference_shows_every_fixture() -> Result<()> {
    let examples = documented_examples()?;
    for side in ["client", "server"] {
        for (name, text) in fixtures(side)? {
            let shown = examples
                .iter()
                .any(|e| same_json(e, &text).unwrap_or(false));
            ensure!(
                shown,
                "docs/protocol.md lacks the {side} example {name}.json (or shows an outdated one)"
            );
        }
    }
    for example in &examples {
        let value: Value =
            serde_json::from_str(example).with_context(|| format!("docs example {example}"))?;
        let kind = value
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let decodes = ClientMessage::decode(example).is_ok()
            || serde_json::from_str::<ServerMessage>(example).is_ok();
        ensure!(decodes, "docs example of {kind:?} is not a valid message");
    }
    Ok(())
}
