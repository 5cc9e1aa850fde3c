//! Property test of the whole inbound path short of the socket: arbitrary text frames are
//! decoded, sorted and applied to an engine as the room's task would, from arbitrary
//! participants. Decoding never panics, every refusal is typed, and the engine's
//! invariants hold after every frame.

use proptest::prelude::*;

use super::{Incoming, classify};
use crate::room::Room;

use crate::room::model::ParticipantId;
use hallway_proto::ClientMessage;
use hallway_proto::client::CLIENT_MESSAGE_TYPES;

/// A room with six people, two of them hosts, and a circle of four.
fn room() -> Room {
    let mut room = crate::room::inbound::room_of_six();
    for n in 1..=4u128 {
        let _ = room.move_to(ParticipantId(n), 500.0 + 30.0 * n as f64, 500.0);
    }
    let _ = room.drain_events().count();
    room
}

/// JSON values of the kinds fields take, and some they do not.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("null".to_owned()),
        any::<bool>().prop_map(|b| b.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        (-3000.0f64..3000.0).prop_map(|f| f.to_string()),
        Just("1e309".to_owned()),
        Just("-1e308".to_owned()),
        (1u128..=8).prop_map(|n| format!("\"{}\"", ParticipantId(n))),
        "[a-z_ ]{0,12}".prop_map(|s| format!("\"{s}\"")),
        Just("\"room\"".to_owned()),
        Just("\"circle\"".to_owned()),
        Just("\"applause\"".to_owned()),
        Just("[]".to_owned()),
        Just("{}".to_owned()),
        Just("[{\"id\":1,\"name\":\"A\",\"x\":0,\"y\":0,\"width\":100,\"height\":100,\"stage\":false,\"quiet\":true}]".to_owned()),
    ]
}

const FIELDS: &[&str] = &[
    "x", "y", "to", "text", "payload", "locked", "raised", "on", "id", "ban", "reaction", "area",
    "areas", "mic", "camera", "screen", "sdp", "version", "room", "name", "plan",
];

/// A text frame: mostly a message of a known type with arbitrary fields, sometimes noise.
fn frame() -> impl Strategy<Value = String> {
    let message = (
        prop::sample::select(CLIENT_MESSAGE_TYPES),
        prop::collection::vec((prop::sample::select(FIELDS), value()), 0..6),
    )
        .prop_map(|(kind, fields)| {
            let mut text = format!("{{\"type\":\"{kind}\"");
            for (name, value) in fields {
                text.push_str(&format!(",\"{name}\":{value}"));
            }
            text.push('}');
            text
        });
    prop_oneof![8 => message, 1 => ".{0,40}", 1 => "[\\[\\]{}\":,0-9a-z]{0,40}"]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_frame_is_decoded_sorted_and_applied_without_breaking_the_room(
        frames in prop::collection::vec((frame(), 1u128..=6), 1..60)
    ) {
        let mut room = room();
        for (text, from) in &frames {
            let decoded = ClientMessage::decode(text);
            let Ok(msg) = decoded else {
                // A refusal names its code.
                let err = decoded.err().map(|e| e.code().as_str());
                prop_assert!(err.is_some_and(|c| !c.is_empty()));
                continue;
            };
            if let Incoming::Command(command) = classify(msg) {
                let _ = room.apply(ParticipantId(*from), command, 1_000_000);
                let _ = room.drain_events().count();
            }
            if let Err(broken) = room.check_invariants() {
                return Err(TestCaseError::fail(format!("after {text}: {broken}")));
            }
        }
    }
}

/// An `sfu_view` too long, with a stream name too long or a side too large is refused with
/// `invalid_message`, saying why; one within the limits goes to the SFU.
#[test]
fn sfu_views_beyond_the_limits_are_refused() {
    let view = |stream: &str, width: u32| {
        format!(r#"{{"stream":"{stream}","width":{width},"height":180}}"#)
    };
    let frame =
        |views: Vec<String>| format!(r#"{{"type":"sfu_view","views":[{}]}}"#, views.join(","));
    let decode = |text: String| classify(ClientMessage::decode(&text).expect("decodes"));
    let ok = decode(frame(vec![view("p7", 320), view("s7", 1280)]));
    assert!(
        matches!(&ok, Incoming::Sfu(super::SfuOrder::View(v)) if v.len() == 2 && v[0] == ("p7".to_owned(), 320, 180)),
        "{ok:?}"
    );
    for bad in [
        frame(vec![view("p7", 320); 65]),
        frame(vec![view(&"p".repeat(65), 320)]),
        frame(vec![view("p7", 16_385)]),
    ] {
        let refused = decode(bad);
        assert!(
            matches!(
                refused,
                Incoming::Refused(hallway_proto::ErrorCode::InvalidMessage, _)
            ),
            "{refused:?}"
        );
    }
}
