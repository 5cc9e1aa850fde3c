//! The inbound path short of the socket, under the fuzzer: the input is split into text
//! frames, each decoded and, if it is a command for the room, applied to a room from one
//! of six participants, as the room's task would. A panic, or a broken engine invariant,
//! is a finding.
#![no_main]

use hallway::room::model::{DisplayName, ParticipantId, Role, RoomSettings};
use hallway::room::{Command, Decoded, Room};
use hallway_proto::ClientMessage;
use libfuzzer_sys::fuzz_target;

fn room() -> Room {
    let mut settings = RoomSettings::new("fuzz", "Fuzz");
    settings.mesh_threshold = 3;
    let mut room = Room::new(settings).expect("valid settings");
    for n in 1..=6u128 {
        let role = if n <= 2 { Role::Host } else { Role::Participant };
        let name = DisplayName::parse(&format!("P{n}")).expect("name");
        room.join(ParticipantId(n), name, role).expect("joins");
    }
    room
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut room = room();
    for (i, frame) in text.split('\n').take(64).enumerate() {
        let Ok(msg) = ClientMessage::decode(frame) else {
            continue;
        };
        if let Decoded::Command(command) = Command::decode(msg) {
            let from = ParticipantId((i % 6) as u128 + 1);
            let _ = room.apply(from, command, 1_000_000);
            let _ = room.drain_events().count();
        }
        if let Err(broken) = room.check_invariants() {
            panic!("after {frame:?}: {broken}");
        }
    }
});
