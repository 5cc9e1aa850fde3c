//! Unit tests of the room engine: joining, circles forming and dissolving, locks, limits,
//! quiet and full areas, coordinates, names. Property tests, media and what hosts do are
//! in files of their own.

use super::*;
use crate::room::model::Rect;

#[path = "engine_host_tests.rs"]
mod hosts;
#[path = "engine_media_tests.rs"]
mod media;
#[path = "engine_property_tests.rs"]
mod property;

fn pid(n: u128) -> ParticipantId {
    ParticipantId(n)
}

fn name(text: &str) -> DisplayName {
    DisplayName::parse(text).expect("valid name")
}

fn room_with(settings: RoomSettings) -> Room {
    Room::new(settings).expect("valid settings")
}

fn room() -> Room {
    room_with(RoomSettings::new("test", "Test"))
}

fn join(room: &mut Room, n: u128, role: Role) {
    room.join(pid(n), name(&format!("P{n}")), role)
        .expect("joins");
}

fn walk(room: &mut Room, n: u128, x: f64, y: f64) {
    room.move_to(pid(n), x, y).expect("moves");
}

fn circle_of(room: &Room, n: u128) -> Option<CircleId> {
    room.participant(pid(n)).and_then(|p| p.circle)
}

fn events(room: &mut Room) -> Vec<Event> {
    room.drain_events().collect()
}

#[test]
fn joining_places_people_apart_and_outside_circles() {
    let mut room = room();
    for n in 1..=50 {
        join(&mut room, n, Role::Participant);
    }
    room.check_invariants().expect("invariants");
    assert_eq!(room.circles().count(), 0);
    let people: Vec<_> = room.participants().map(|p| p.position).collect();
    for (i, a) in people.iter().enumerate() {
        for b in &people[i + 1..] {
            assert!(
                a.distance(*b) > room.settings().forming_distance,
                "{a:?} too close to {b:?}"
            );
        }
    }
}

#[test]
fn two_people_walking_together_form_a_circle() {
    let mut room = room();
    join(&mut room, 1, Role::Participant);
    join(&mut room, 2, Role::Participant);
    events(&mut room);
    walk(&mut room, 1, 500.0, 500.0);
    assert_eq!(circle_of(&room, 1), None);
    walk(&mut room, 2, 550.0, 500.0);
    let cid = circle_of(&room, 1).expect("formed");
    assert_eq!(circle_of(&room, 2), Some(cid));
    let evs = events(&mut room);
    assert!(evs.contains(&Event::CircleChanged(cid)));
    assert!(evs.contains(&Event::Connect {
        initiator: pid(2),
        responder: pid(1)
    }));
    let circle = room.circle(cid).expect("circle");
    assert_eq!(circle.centre, Point::new(525.0, 500.0));
}

#[test]
fn circles_form_where_a_walk_ends_not_where_it_passes() {
    let mut room = room();
    for n in 1..=3 {
        join(&mut room, n, Role::Participant);
    }
    walk(&mut room, 1, 500.0, 500.0);
    events(&mut room);
    // 2 walks past 1 in steps: no circle forms on the way.
    for x in (300..=700).step_by(40) {
        room.walk_step(pid(2), f64::from(x), 520.0).expect("steps");
        assert_eq!(circle_of(&room, 2), None, "passing at x = {x}");
    }
    assert!(
        events(&mut room)
            .iter()
            .all(|e| !matches!(e, Event::CircleChanged(_)))
    );
    // 2 walks back and stops next to 1: the walk's end forms the circle.
    room.walk_step(pid(2), 580.0, 500.0).expect("steps");
    assert_eq!(circle_of(&room, 2), None);
    walk(&mut room, 2, 550.0, 500.0);
    let cid = circle_of(&room, 1).expect("formed on arrival");
    assert_eq!(circle_of(&room, 2), Some(cid));
    // A member walking away in steps leaves on the way (rule 3 still holds), and a step
    // through a circle joins nothing.
    walk(&mut room, 3, 1500.0, 500.0);
    room.walk_step(pid(1), 1000.0, 500.0).expect("steps");
    assert_eq!(circle_of(&room, 1), None);
    assert!(
        room.circle(cid).is_none(),
        "a circle left with one member dissolves"
    );
    walk(&mut room, 1, 500.0, 500.0);
    let cid = circle_of(&room, 1).expect("formed again");
    room.walk_step(pid(3), 525.0, 500.0).expect("steps");
    assert_eq!(circle_of(&room, 3), None);
    assert_eq!(room.circle(cid).map(|c| c.members.len()), Some(2));
    room.check_invariants().expect("invariants");
    // Steps are validated like moves.
    assert_eq!(
        room.walk_step(pid(3), f64::NAN, 1.0),
        Err(EngineError::InvalidPosition)
    );
}

#[test]
fn a_third_walks_in_and_connects_to_both() {
    let mut room = room();
    for n in 1..=3 {
        join(&mut room, n, Role::Participant);
    }
    walk(&mut room, 1, 500.0, 500.0);
    walk(&mut room, 2, 550.0, 500.0);
    events(&mut room);
    walk(&mut room, 3, 525.0, 540.0);
    let cid = circle_of(&room, 1).expect("circle");
    assert_eq!(circle_of(&room, 3), Some(cid));
    let evs = events(&mut room);
    assert!(evs.contains(&Event::Connect {
        initiator: pid(3),
        responder: pid(1)
    }));
    assert!(evs.contains(&Event::Connect {
        initiator: pid(3),
        responder: pid(2)
    }));
    assert_eq!(room.circle(cid).map(|c| c.members.len()), Some(3));
}

#[test]
fn a_locked_circle_refuses_and_keeps_the_newcomer_outside() {
    let mut room = room();
    for n in 1..=3 {
        join(&mut room, n, Role::Participant);
    }
    walk(&mut room, 1, 500.0, 500.0);
    walk(&mut room, 2, 550.0, 500.0);
    room.set_locked(pid(1), true).expect("locks");
    let cid = circle_of(&room, 1).expect("circle");
    events(&mut room);
    walk(&mut room, 3, 525.0, 520.0);
    assert_eq!(circle_of(&room, 3), None);
    let evs = events(&mut room);
    assert!(evs.contains(&Event::Refused {
        participant: pid(3),
        circle: cid,
        reason: Refusal::Locked
    }));
    let circle = room.circle(cid).expect("circle");
    let at = room.participant(pid(3)).expect("p3").position;
    assert!(at.distance(circle.centre) > circle.radius, "stands outside");
    room.check_invariants().expect("invariants");
}

#[test]
fn a_host_enters_a_locked_circle() {
    let mut room = room();
    join(&mut room, 1, Role::Participant);
    join(&mut room, 2, Role::Participant);
    join(&mut room, 3, Role::Host);
    walk(&mut room, 1, 500.0, 500.0);
    walk(&mut room, 2, 550.0, 500.0);
    room.set_locked(pid(2), true).expect("locks");
    walk(&mut room, 3, 525.0, 520.0);
    assert_eq!(circle_of(&room, 3), circle_of(&room, 1));
}

#[test]
fn a_full_circle_refuses() {
    let mut settings = RoomSettings::new("test", "Test");
    settings.max_circle_size = 3;
    let mut room = room_with(settings);
    for n in 1..=4 {
        join(&mut room, n, Role::Participant);
    }
    walk(&mut room, 1, 500.0, 500.0);
    walk(&mut room, 2, 550.0, 500.0);
    walk(&mut room, 3, 525.0, 540.0);
    let cid = circle_of(&room, 1).expect("circle");
    events(&mut room);
    walk(&mut room, 4, 525.0, 480.0);
    assert_eq!(circle_of(&room, 4), None);
    let evs = events(&mut room);
    assert!(evs.contains(&Event::Refused {
        participant: pid(4),
        circle: cid,
        reason: Refusal::Full
    }));
}

#[test]
fn walking_away_leaves_with_hysteresis_and_dissolves() {
    let mut room = room();
    for n in 1..=3 {
        join(&mut room, n, Role::Participant);
    }
    walk(&mut room, 1, 500.0, 500.0);
    walk(&mut room, 2, 550.0, 500.0);
    walk(&mut room, 3, 525.0, 540.0);
    let cid = circle_of(&room, 1).expect("circle");
    let circle = room.circle(cid).expect("circle").clone();
    // Just beyond the radius but within the margin: still a member.
    let edge = circle.centre.x + circle.radius + room.settings().hysteresis - 5.0;
    walk(&mut room, 3, f64::from(edge), f64::from(circle.centre.y));
    assert_eq!(circle_of(&room, 3), Some(cid));
    events(&mut room);
    walk(&mut room, 3, 1500.0, 1200.0);
    assert_eq!(circle_of(&room, 3), None);
    let evs = events(&mut room);
    assert!(evs.contains(&Event::Disconnect {
        leaver: pid(3),
        stayer: pid(1)
    }));
    assert!(evs.contains(&Event::Disconnect {
        leaver: pid(3),
        stayer: pid(2)
    }));
    assert!(evs.contains(&Event::CircleChanged(cid)));
    walk(&mut room, 2, 100.0, 100.0);
    assert_eq!(room.circle(cid), None);
    assert_eq!(circle_of(&room, 1), None);
    assert!(events(&mut room).contains(&Event::CircleDissolved(cid)));
    room.check_invariants().expect("invariants");
}

#[test]
fn leaving_the_room_dissolves_a_pair() {
    let mut room = room();
    join(&mut room, 1, Role::Participant);
    join(&mut room, 2, Role::Participant);
    walk(&mut room, 1, 500.0, 500.0);
    walk(&mut room, 2, 550.0, 500.0);
    let cid = circle_of(&room, 1).expect("circle");
    events(&mut room);
    room.leave(pid(2)).expect("leaves");
    let evs = events(&mut room);
    assert_eq!(
        evs,
        vec![
            Event::Disconnect {
                leaver: pid(2),
                stayer: pid(1)
            },
            Event::CircleDissolved(cid),
            Event::Left(pid(2)),
        ]
    );
    assert_eq!(circle_of(&room, 1), None);
    assert_eq!(room.leave(pid(2)), Err(EngineError::UnknownParticipant));
}

#[test]
fn no_circles_form_in_a_quiet_area() {
    let mut settings = RoomSettings::new("test", "Test");
    settings.areas.push(Area {
        id: 1,
        name: "Library".into(),
        rect: Rect {
            x: 0.0,
            y: 0.0,
            width: 800.0,
            height: 800.0,
        },
        stage: false,
        quiet: true,
        max_people: None,
    });
    let mut room = room_with(settings);
    join(&mut room, 1, Role::Participant);
    join(&mut room, 2, Role::Participant);
    walk(&mut room, 1, 500.0, 500.0);
    walk(&mut room, 2, 550.0, 500.0);
    assert_eq!(circle_of(&room, 1), None);
    // Just outside the quiet area, a circle forms.
    walk(&mut room, 1, 900.0, 500.0);
    walk(&mut room, 2, 950.0, 500.0);
    assert!(circle_of(&room, 1).is_some());
}

#[test]
fn an_area_at_its_limit_refuses_more_people() {
    let mut settings = RoomSettings::new("test", "Test");
    settings.areas.push(Area {
        id: 1,
        name: "Booth".into(),
        rect: Rect {
            x: 0.0,
            y: 0.0,
            width: 300.0,
            height: 300.0,
        },
        stage: false,
        quiet: false,
        max_people: Some(1),
    });
    let mut room = room_with(settings);
    for n in 1..=3 {
        join(&mut room, n, Role::Participant);
    }
    join(&mut room, 4, Role::Host);
    walk(&mut room, 1, 100.0, 100.0);
    assert_eq!(
        room.move_to(pid(2), 250.0, 250.0),
        Err(EngineError::AreaFull)
    );
    // Moving within the area is fine for the one inside; a host may always enter.
    walk(&mut room, 1, 120.0, 100.0);
    walk(&mut room, 4, 250.0, 250.0);
    assert_eq!(
        room.move_to(pid(3), 200.0, 50.0),
        Err(EngineError::AreaFull)
    );
    walk(&mut room, 4, 1000.0, 1000.0);
    assert_eq!(
        room.move_to(pid(3), 200.0, 50.0),
        Err(EngineError::AreaFull)
    );
    walk(&mut room, 1, 1000.0, 300.0);
    walk(&mut room, 3, 200.0, 50.0);
}

#[test]
fn coordinates_are_clamped_or_refused() {
    let mut room = room();
    join(&mut room, 1, Role::Participant);
    walk(&mut room, 1, -50.0, 99_999.0);
    let at = room.participant(pid(1)).expect("p1").position;
    assert_eq!(at, Point::new(0.0, 1600.0));
    for (x, y) in [
        (f64::NAN, 1.0),
        (1.0, f64::INFINITY),
        (2e6, 0.0),
        (0.0, -2e6),
    ] {
        assert_eq!(
            room.move_to(pid(1), x, y),
            Err(EngineError::InvalidPosition)
        );
    }
    assert_eq!(room.participant(pid(1)).expect("p1").position, at);
}

#[test]
fn positions_are_coalesced_per_tick() {
    let mut room = room();
    join(&mut room, 1, Role::Participant);
    join(&mut room, 2, Role::Participant);
    walk(&mut room, 1, 100.0, 100.0);
    walk(&mut room, 2, 1000.0, 1000.0);
    walk(&mut room, 1, 200.0, 200.0);
    let mut out = Vec::new();
    room.take_moved(&mut out);
    assert_eq!(
        out,
        vec![
            (pid(1), Point::new(200.0, 200.0)),
            (pid(2), Point::new(1000.0, 1000.0))
        ]
    );
    out.clear();
    room.take_moved(&mut out);
    assert!(out.is_empty());
}

#[test]
fn the_room_refuses_past_its_limit_except_hosts() {
    let mut settings = RoomSettings::new("test", "Test");
    settings.max_participants = 2;
    let mut room = room_with(settings);
    join(&mut room, 1, Role::Participant);
    join(&mut room, 2, Role::Participant);
    assert_eq!(
        room.join(pid(3), name("C"), Role::Participant),
        Err(EngineError::RoomFull)
    );
    join(&mut room, 4, Role::Host);
    assert_eq!(
        room.join(pid(1), name("A"), Role::Participant),
        Err(EngineError::AlreadyInRoom)
    );
}

#[test]
fn names_are_trimmed_and_checked() {
    assert_eq!(
        name("  Dr. Anna-Lena Müller-Lüdenscheidt  ").as_str(),
        "Dr. Anna-Lena Müller-Lüdenscheidt"
    );
    assert_eq!(DisplayName::parse("   "), Err(EngineError::InvalidName));
    assert_eq!(
        DisplayName::parse(&"ä".repeat(65)),
        Err(EngineError::InvalidName)
    );
    assert!(DisplayName::parse(&"ä".repeat(64)).is_ok());
    assert_eq!(
        DisplayName::parse("Anna\nBen"),
        Err(EngineError::InvalidName)
    );
    assert_eq!(
        DisplayName::parse("Anna\u{202E}neB"),
        Err(EngineError::InvalidName)
    );
}
