//! The inbound path short of the socket, as the fuzz target (`fuzz/`) drives it: text
//! frames, each decoded and, if it is a command for the room, applied to a room of six
//! participants (two hosts) as the room's task would, the engine's invariants checked
//! after each. Kept here so that the test suite replays the protocol fixtures through the
//! same path on every run (the fuzzer itself needs `cargo fuzz`, which CI does not
//! install).

use hallway_proto::ClientMessage;

use super::engine::{Command, Decoded, Room};
use super::model::{DisplayName, ParticipantId, Role, RoomSettings};

/// The most frames one input is split into: a fuzzer's long input stays quick to run.
const MAX_FRAMES: usize = 64;

/// Splits `data` (UTF-8; anything else is skipped) into lines, decodes each and applies
/// the commands among them, frame `i` from participant `i % 6 + 1`. Returns how many
/// commands were applied (refused ones included), or what broke: an engine invariant,
/// named with the frame after which it broke.
pub fn decode_apply(data: &[u8]) -> Result<usize, String> {
    let Ok(text) = std::str::from_utf8(data) else {
        return Ok(0);
    };
    let mut room = room_of_six();
    let mut applied = 0;
    for (i, frame) in text.split('\n').take(MAX_FRAMES).enumerate() {
        let Ok(msg) = ClientMessage::decode(frame) else {
            continue;
        };
        if let Decoded::Command(command) = Command::decode(msg) {
            let from = ParticipantId((i % 6) as u128 + 1);
            // Refused commands are part of what is tried: their errors are not findings.
            let _ = room.apply(from, command, 1_000_000);
            let _ = room.drain_events().count();
            applied += 1;
        }
        room.check_invariants()
            .map_err(|broken| format!("after {frame:?}: {broken}"))?;
    }
    Ok(applied)
}

/// A room of six participants, two of them hosts, whose circles of three already go
/// through the SFU (also the classify property test's room).
pub(crate) fn room_of_six() -> Room {
    let mut settings = RoomSettings::new("fuzz", "Fuzz");
    // Small circles switch to the SFU early: that path is tried too.
    settings.mesh_threshold = 3;
    // (Valid settings, names and joins: a failure here is a bug in this file, not input.)
    let mut room = Room::new(settings).expect("valid settings");
    for n in 1..=6u128 {
        let role = if n <= 2 {
            Role::Host
        } else {
            Role::Participant
        };
        let name = DisplayName::parse(&format!("P{n}")).expect("a valid name");
        room.join(ParticipantId(n), name, role)
            .expect("joins an open room");
    }
    room
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The protocol's client fixtures, one message per file (the fuzzer's seed corpus).
    fn fixtures() -> Vec<String> {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/protocol/client"
        );
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .expect("the fixtures directory")
            .map(|entry| entry.expect("a directory entry").path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|path| {
                // One frame per fixture: a pretty-printed file becomes one line.
                let text = std::fs::read_to_string(path).expect("a readable fixture");
                let value: serde_json::Value = serde_json::from_str(&text).expect("JSON");
                value.to_string()
            })
            .collect()
    }

    #[test]
    fn the_fixture_corpus_runs_through_decode_and_apply_without_breaking_the_room() {
        let frames = fixtures();
        assert!(frames.len() >= 20, "the corpus: {} fixtures", frames.len());
        // Each alone, then all in one input (and again in reverse), as the fuzzer's seeds.
        let mut applied = 0;
        for frame in &frames {
            applied += decode_apply(frame.as_bytes()).unwrap_or_else(|broken| panic!("{broken}"));
        }
        assert!(
            applied >= frames.len() / 2,
            "most fixtures are commands for the room: {applied} of {}",
            frames.len()
        );
        let all = frames.join("\n");
        assert!(decode_apply(all.as_bytes()).unwrap_or_else(|broken| panic!("{broken}")) > 0);
        let reversed: Vec<_> = frames.iter().rev().cloned().collect();
        assert!(
            decode_apply(reversed.join("\n").as_bytes())
                .unwrap_or_else(|broken| panic!("{broken}"))
                > 0
        );
    }

    #[test]
    fn frames_that_are_not_messages_are_skipped() {
        assert_eq!(decode_apply(b"\xff\xfe"), Ok(0));
        assert_eq!(decode_apply(b"not json\n{\"type\":\"nope\"}\n{}"), Ok(0));
    }
}
