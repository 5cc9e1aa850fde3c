//! Tests of how the room's domain types become wire types (`views.rs`).

use super::*;
use crate::room::engine::ChatTarget;
use crate::room::model::{DisplayName, RoomSettings};

fn pid(n: u128) -> ParticipantId {
    ParticipantId(n)
}

/// A room with a host (1) and two participants (2, 3) in a circle, events drained.
fn room() -> Room {
    let mut room = Room::new(RoomSettings::new("t", "T")).expect("valid settings");
    for (n, role) in [
        (1, Role::Host),
        (2, Role::Participant),
        (3, Role::Participant),
    ] {
        let name = DisplayName::parse(&format!("P{n}")).expect("name");
        room.join(pid(n), name, role).expect("joins");
    }
    room.move_to(pid(2), 500.0, 500.0).expect("moves");
    room.move_to(pid(3), 540.0, 500.0).expect("moves");
    let _ = room.drain_events().count();
    room
}

fn audiences(room: &Room, event: &Event) -> Vec<(To, &'static str)> {
    news(room, event)
        .into_iter()
        .map(|(to, msg)| (to, msg.kind()))
        .collect()
}

#[test]
fn a_circle_is_sent_in_whole_units_and_without_its_defaults() {
    let mut room = room();
    // A third member puts the centre at a third of a unit.
    let name = DisplayName::parse("P4").expect("name");
    room.join(pid(4), name, Role::Participant).expect("joins");
    room.move_to(pid(4), 521.0, 531.0).expect("moves");
    let c = room.circles().next().expect("a circle").clone();
    assert_eq!(c.members.len(), 3);
    assert_ne!(c.centre.x.fract(), 0.0, "{:?}", c.centre);
    let text = serde_json::to_string(&circle(&c)).expect("encodes");
    let sent: serde_json::Value = serde_json::from_str(&text).expect("json");
    for field in ["x", "y", "radius"] {
        assert!(sent[field].is_i64(), "{field} in {text}");
    }
    assert!(
        !text.contains("locked") && !text.contains("media"),
        "{text}"
    );
}

#[test]
fn room_state_goes_to_everyone_and_what_is_meant_for_people_to_them() {
    let room = room();
    assert_eq!(
        audiences(&room, &Event::Joined(pid(2))),
        vec![(
            To::Everyone {
                except: Some(pid(2))
            },
            "joined"
        )]
    );
    assert_eq!(
        audiences(&room, &Event::Hand(pid(3))),
        vec![(To::EVERYONE, "hand")]
    );
    // The responder hears first: the initiator offers at once.
    assert_eq!(
        audiences(
            &room,
            &Event::Connect {
                initiator: pid(2),
                responder: pid(3)
            }
        ),
        vec![(To::one(pid(3)), "connect"), (To::one(pid(2)), "connect")]
    );
    assert_eq!(
        audiences(&room, &Event::IcebreakersChanged),
        vec![(To::Each(vec![pid(1)]), "icebreakers")],
        "only hosts see the room's icebreaker settings"
    );
    // The room's task's business alone.
    assert!(audiences(&room, &Event::Summary(pid(1))).is_empty());
    assert!(
        audiences(
            &room,
            &Event::Removed {
                target: pid(2),
                ban: false
            }
        )
        .is_empty()
    );
    // About someone gone by now: nothing to tell.
    assert!(audiences(&room, &Event::Hand(pid(9))).is_empty());
}

#[test]
fn chat_goes_where_it_was_addressed() {
    let mut room = room();
    room.chat(pid(2), ChatTarget::MyCircle, "hi", 1)
        .expect("sent");
    room.chat(pid(1), ChatTarget::Direct(pid(3)), "psst", 2)
        .expect("sent");
    room.chat(pid(3), ChatTarget::Room, "all", 3).expect("sent");
    let events: Vec<Event> = room.drain_events().collect();
    let to: Vec<To> = events
        .iter()
        .flat_map(|e| news(&room, e))
        .map(|(to, _)| to)
        .collect();
    let circle = room
        .participant(pid(2))
        .and_then(|p| p.circle)
        .and_then(|c| room.circle(c))
        .map(|c| c.members.clone())
        .expect("a circle");
    let mut members = circle.clone();
    members.sort();
    assert_eq!(members, vec![pid(2), pid(3)]);
    assert_eq!(
        to,
        vec![
            To::Each(circle),
            To::Each(vec![pid(3), pid(1)]),
            To::EVERYONE
        ]
    );
}
