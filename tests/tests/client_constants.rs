//! The browser client's copy of the protocol's constants — message types, error codes,
//! close codes, limits, reactions — is generated from the Rust crates into
//! `client-web/js/wire.js`, which is checked in. This test fails when the file and the
//! crates differ; after a change to the protocol, write the file anew with
//! `HALLWAY_BLESS=1 cargo test -p hallway-tests --test client_constants`.

use std::fmt::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use hallway::room::model::Reaction;
use hallway_proto::client::CLIENT_MESSAGE_TYPES;
use hallway_proto::server::SERVER_MESSAGE_TYPES;
use hallway_proto::{ErrorCode, close, limits};

fn wire_js() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../client-web/js/wire.js")
}

/// A JavaScript array of strings, one per line.
fn strings<'a>(out: &mut String, name: &str, items: impl IntoIterator<Item = &'a str>) {
    let _ = writeln!(out, "export const {name} = [");
    for item in items {
        let _ = writeln!(out, "  {item:?},");
    }
    out.push_str("];\n\n");
}

/// The module as the crates say it should be.
fn generated() -> String {
    let mut out = String::from(
        "// Generated from the protocol crate (proto/) by tests/tests/client_constants.rs: do not\n\
         // edit. After changing the protocol, write it anew with\n\
         // HALLWAY_BLESS=1 cargo test -p hallway-tests --test client_constants\n\n",
    );
    let _ = writeln!(
        out,
        "export const PROTOCOL_VERSION = {};\n",
        limits::PROTOCOL_VERSION
    );
    out.push_str("// Every `type` a client may send, and every one the server sends.\n");
    strings(
        &mut out,
        "CLIENT_TYPES",
        CLIENT_MESSAGE_TYPES.iter().copied(),
    );
    strings(
        &mut out,
        "SERVER_TYPES",
        SERVER_MESSAGE_TYPES.iter().copied(),
    );
    out.push_str("// Every code an `error` message can carry.\n");
    strings(
        &mut out,
        "ERROR_CODES",
        ErrorCode::ALL.iter().map(|c| c.as_str()),
    );
    out.push_str("// WebSocket close codes (docs/protocol.md says what each means).\n");
    out.push_str("export const CLOSE = {\n");
    for code in close::CODES {
        let _ = writeln!(out, "  {}: {},", code.name, code.code);
    }
    out.push_str("};\n\n");
    out.push_str("// What the server enforces (proto/src/limits.rs).\n");
    out.push_str("export const WIRE_LIMITS = {\n");
    let numbers: [(&str, f64); 23] = [
        ("maxFrameBytes", limits::MAX_FRAME_BYTES as f64),
        (
            "maxSignalPayloadBytes",
            limits::MAX_SIGNAL_PAYLOAD_BYTES as f64,
        ),
        ("maxNameChars", limits::MAX_NAME_CHARS as f64),
        ("maxProfileChars", limits::MAX_PROFILE_CHARS as f64),
        ("maxIcebreakers", limits::MAX_ICEBREAKERS as f64),
        ("maxIcebreakerChars", limits::MAX_ICEBREAKER_CHARS as f64),
        ("maxRoomSlugChars", limits::MAX_ROOM_SLUG_CHARS as f64),
        ("maxCoordinate", limits::MAX_COORDINATE),
        ("movesPerSecond", f64::from(limits::MOVES_PER_SECOND)),
        ("moveBurst", f64::from(limits::MOVE_BURST)),
        ("signalsPerSecond", f64::from(limits::SIGNALS_PER_SECOND)),
        ("signalBurst", f64::from(limits::SIGNAL_BURST)),
        ("otherPerSecond", f64::from(limits::OTHER_PER_SECOND)),
        ("otherBurst", f64::from(limits::OTHER_BURST)),
        ("helloTimeoutSecs", limits::HELLO_TIMEOUT_SECS as f64),
        ("maxChatChars", limits::MAX_CHAT_CHARS as f64),
        ("chatHistory", limits::CHAT_HISTORY as f64),
        ("chatPerSecond", f64::from(limits::CHAT_PER_SECOND)),
        ("chatBurst", f64::from(limits::CHAT_BURST)),
        ("maxSfuViews", limits::MAX_SFU_VIEWS as f64),
        ("maxViewPixels", f64::from(limits::MAX_VIEW_PIXELS)),
        ("maxRttChars", limits::MAX_RTT_CHARS as f64),
        ("rttPerSecond", f64::from(limits::RTT_PER_SECOND)),
    ];
    for (name, value) in numbers {
        let _ = writeln!(out, "  {name}: {value},");
    }
    out.push_str("};\n\n");
    out.push_str(
        "// The reactions the server knows; the page draws each with the icon of the same name.\n",
    );
    strings(
        &mut out,
        "REACTIONS",
        Reaction::ALL.iter().map(|r| r.name()),
    );
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

#[test]
fn the_clients_copy_of_the_protocol_constants_is_generated_from_the_crates() -> Result<()> {
    let want = generated();
    let path = wire_js();
    if std::env::var_os("HALLWAY_BLESS").is_some() {
        std::fs::write(&path, &want).with_context(|| format!("writing {}", path.display()))?;
    }
    let have =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    assert!(
        have == want,
        "client-web/js/wire.js differs from the protocol crate; write it anew with \
         HALLWAY_BLESS=1 cargo test -p hallway-tests --test client_constants\n--- expected:\n{want}"
    );
    Ok(())
}

#[test]
fn every_error_code_is_in_the_list_the_client_gets() -> Result<()> {
    // `as_str` matches every variant (the compiler sees to that); `ALL` is written by hand.
    let source = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../proto/src/error.rs"),
    )?;
    let arms = source
        .lines()
        .filter(|line| line.trim_start().starts_with("ErrorCode::") && line.contains("=> \""))
        .count();
    assert_eq!(arms, ErrorCode::ALL.len(), "ErrorCode::ALL misses a code");
    let mut names: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), ErrorCode::ALL.len(), "a code is listed twice");
    Ok(())
}
