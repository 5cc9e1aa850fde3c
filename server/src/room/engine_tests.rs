//! Unit and property tests of the room engine.

use proptest::prelude::*;

use super::*;
use crate::room::model::Rect;

#[path = "engine_media_tests.rs"]
mod media;

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

// --- property tests

/// One step of a random session.
#[derive(Debug, Clone)]
enum Op {
    Join(u8, bool),
    Move(u8, f32, f32),
    /// A step of a walk that goes on: may leave a circle, never forms or joins one.
    Step(u8, f32, f32),
    /// Walk close to another participant: exercises forming and joining far more often
    /// than uniform moves would.
    Approach(u8, u8, f32, f32),
    Lock(u8, bool),
    Leave(u8),
    /// The connection dropped (reconnecting), and came back.
    Reconnect(u8),
    Resume(u8),
    /// The page reloaded: out of the room, and back as they were.
    Reload(u8),
    Hand(u8, bool),
    /// A host gathers everyone at a point, or at an area (by id).
    Gather(u8, f32, f32),
    GatherAt(u8, u32),
    /// A host replaces the areas with one of a few sets (see [`area_set`]).
    SetAreas(u8, u8),
    /// A host invites someone to broadcast; someone starts or stops broadcasting.
    InviteToBroadcast(u8, u8),
    Broadcast(u8, bool),
    /// A host removes someone (and bans them).
    Remove(u8, u8, bool),
}

fn op() -> impl Strategy<Value = Op> {
    let who = 0u8..24;
    prop_oneof![
        2 => (who.clone(), prop::bool::weighted(0.15)).prop_map(|(w, host)| Op::Join(w, host)),
        3 => (who.clone(), -100.0f32..2500.0, -100.0f32..1700.0).prop_map(|(w, x, y)| Op::Move(w, x, y)),
        2 => (who.clone(), -100.0f32..2500.0, -100.0f32..1700.0).prop_map(|(w, x, y)| Op::Step(w, x, y)),
        6 => (who.clone(), who.clone(), -120.0f32..120.0, -120.0f32..120.0)
            .prop_map(|(w, t, dx, dy)| Op::Approach(w, t, dx, dy)),
        1 => (who.clone(), any::<bool>()).prop_map(|(w, l)| Op::Lock(w, l)),
        1 => who.clone().prop_map(Op::Leave),
        1 => who.clone().prop_map(Op::Reconnect),
        1 => who.clone().prop_map(Op::Resume),
        1 => who.clone().prop_map(Op::Reload),
        1 => (who.clone(), any::<bool>()).prop_map(|(w, on)| Op::Hand(w, on)),
        1 => (who.clone(), -100.0f32..2500.0, -100.0f32..1700.0).prop_map(|(w, x, y)| Op::Gather(w, x, y)),
        1 => (who.clone(), 0u32..4).prop_map(|(w, a)| Op::GatherAt(w, a)),
        1 => (who.clone(), 0u8..3).prop_map(|(w, k)| Op::SetAreas(w, k)),
        1 => (who.clone(), who.clone()).prop_map(|(w, t)| Op::InviteToBroadcast(w, t)),
        2 => (who.clone(), any::<bool>()).prop_map(|(w, on)| Op::Broadcast(w, on)),
        1 => (who.clone(), who, any::<bool>()).prop_map(|(w, t, ban)| Op::Remove(w, t, ban)),
    ]
}

/// The areas a host may set in the property tests: none, the starting quiet room and booth,
/// or a stage area with a booth of two.
fn area_set(k: u8) -> Vec<Area> {
    let area = |id, x, y, stage, quiet, max_people| Area {
        id,
        name: format!("Area {id}"),
        rect: Rect {
            x,
            y,
            width: 500.0,
            height: 400.0,
        },
        stage,
        quiet,
        max_people,
    };
    match k {
        0 => Vec::new(),
        1 => vec![
            area(1, 1800.0, 0.0, false, true, None),
            area(2, 0.0, 1200.0, false, false, Some(3)),
        ],
        _ => vec![
            area(3, 900.0, 0.0, true, false, None),
            area(2, 0.0, 1200.0, false, false, Some(2)),
        ],
    }
}

fn small_room() -> Room {
    let mut settings = RoomSettings::new("prop", "Prop");
    settings.max_circle_size = 5;
    // Circles cross the mesh threshold both ways (invariants check the hysteresis).
    settings.mesh_threshold = 3;
    settings.areas.push(Area {
        id: 1,
        name: "Quiet".into(),
        rect: Rect {
            x: 1800.0,
            y: 0.0,
            width: 600.0,
            height: 600.0,
        },
        stage: false,
        quiet: true,
        max_people: None,
    });
    settings.areas.push(Area {
        id: 2,
        name: "Booth".into(),
        rect: Rect {
            x: 0.0,
            y: 1200.0,
            width: 400.0,
            height: 400.0,
        },
        stage: false,
        quiet: false,
        max_people: Some(3),
    });
    room_with(settings)
}

/// Applies one op; refusals are expected outcomes, not failures.
fn apply(room: &mut Room, op: &Op) {
    let id = |w: &u8| pid(u128::from(*w) + 1);
    let _ = match op {
        Op::Join(w, host) => {
            let role = if *host { Role::Host } else { Role::Participant };
            room.join(id(w), name(&format!("P{w}")), role)
        }
        Op::Move(w, x, y) => room.move_to(id(w), f64::from(*x), f64::from(*y)),
        Op::Step(w, x, y) => room.walk_step(id(w), f64::from(*x), f64::from(*y)),
        Op::Approach(w, t, dx, dy) => match room.participant(id(t)).map(|p| p.position) {
            Some(at) => room.move_to(id(w), f64::from(at.x + dx), f64::from(at.y + dy)),
            None => Ok(()),
        },
        Op::Lock(w, locked) => room.set_locked(id(w), *locked),
        Op::Leave(w) => room.leave(id(w)),
        Op::Reconnect(w) => room.start_reconnecting(id(w)),
        Op::Resume(w) => room.resume(id(w)),
        Op::Reload(w) => match room.participant(id(w)).cloned() {
            Some(was) => {
                let invited = room.on_air_or_invited(was.id);
                let _ = room.step_out(was.id);
                room.readmit(&was, invited)
            }
            None => Ok(()),
        },
        Op::Hand(w, raised) => room.set_hand(id(w), *raised, 1_000),
        Op::Gather(w, x, y) => room.gather(id(w), GatherTarget::Point(*x, *y)).map(|_| ()),
        Op::GatherAt(w, area) => room.gather(id(w), GatherTarget::Area(*area)).map(|_| ()),
        Op::SetAreas(w, k) => room.set_areas(id(w), area_set(*k)),
        Op::InviteToBroadcast(w, t) => room.invite_to_broadcast(id(w), id(t)),
        Op::Broadcast(w, on) => room.set_broadcast(id(w), *on),
        Op::Remove(w, t, ban) => room.remove(id(w), id(t), *ban, 100),
    };
}

/// The observable state, in a canonical order.
fn canonical(room: &Room) -> (Vec<String>, Vec<String>) {
    let mut people: Vec<String> = room
        .participants()
        .map(|p| format!("{} {:?} {:?} {:?}", p.id, p.position, p.circle, p.role))
        .collect();
    people.sort();
    let circles = room.circles().map(|c| format!("{c:?}")).collect();
    (people, circles)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn invariants_hold_after_every_step(ops in prop::collection::vec(op(), 1..300)) {
        let mut room = small_room();
        for op in &ops {
            apply(&mut room, op);
            let _ = room.drain_events().count();
            if let Err(broken) = room.check_invariants() {
                return Err(TestCaseError::fail(format!("after {op:?}: {broken}")));
            }
        }
    }

    #[test]
    fn outcome_does_not_depend_on_hash_order(ops in prop::collection::vec(op(), 1..200)) {
        // Two rooms have differently seeded hash maps; same commands, same result.
        let (mut a, mut b) = (small_room(), small_room());
        for op in &ops {
            apply(&mut a, op);
            apply(&mut b, op);
            let ea: Vec<Event> = a.drain_events().collect();
            let eb: Vec<Event> = b.drain_events().collect();
            prop_assert_eq!(ea, eb);
        }
        prop_assert_eq!(canonical(&a), canonical(&b));
    }
}

#[test]
fn chat_is_scoped_and_forgotten_when_the_room_empties() {
    use crate::room::chat::ChatScope;
    let mut room = room();
    join(&mut room, 1, Role::Participant);
    join(&mut room, 2, Role::Participant);
    assert_eq!(
        room.chat(pid(1), ChatTarget::MyCircle, "hi", 5),
        Err(EngineError::NotInCircle)
    );
    assert_eq!(
        room.chat(pid(1), ChatTarget::Direct(pid(9)), "hi", 5),
        Err(EngineError::UnknownParticipant)
    );
    assert_eq!(
        room.chat(pid(1), ChatTarget::Room, " ", 5),
        Err(EngineError::InvalidChat)
    );
    events(&mut room);
    room.chat(pid(1), ChatTarget::Room, " hello ", 5)
        .expect("sent");
    room.chat(pid(2), ChatTarget::Direct(pid(1)), "psst", 6)
        .expect("sent");
    let evs = events(&mut room);
    assert!(matches!(&evs[..], [Event::Chat(a), Event::Chat(b)]
        if a.text == "hello" && a.scope == ChatScope::Room && a.at == 5 && b.scope == ChatScope::Direct(pid(1))));
    assert_eq!(
        room.chat_history().count(),
        1,
        "only room messages are kept"
    );
    room.leave(pid(1)).expect("leaves");
    assert_eq!(
        room.chat_history().count(),
        1,
        "kept while anyone is in the room"
    );
    room.leave(pid(2)).expect("leaves");
    assert_eq!(room.chat_history().count(), 0, "gone when the room empties");
}

#[test]
fn a_host_gathers_everyone_else_apart_and_out_of_circles() {
    let mut room = room();
    for n in 1..=8 {
        join(&mut room, n, Role::Participant);
    }
    join(&mut room, 9, Role::Host);
    walk(&mut room, 1, 500.0, 500.0);
    walk(&mut room, 2, 550.0, 500.0);
    assert!(circle_of(&room, 1).is_some());
    assert_eq!(
        room.gather(pid(1), GatherTarget::Point(1200.0, 300.0)),
        Err(EngineError::Forbidden)
    );
    let host_at = room.participant(pid(9)).expect("host").position;
    events(&mut room);
    room.gather(pid(9), GatherTarget::Point(1200.0, 300.0))
        .expect("gathered");
    assert_eq!(room.circles().count(), 0);
    let people: Vec<Point> = (1..=8)
        .map(|n| room.participant(pid(n)).expect("p").position)
        .collect();
    for (i, a) in people.iter().enumerate() {
        assert!(
            a.distance(Point::new(1200.0, 300.0)) < 400.0,
            "{a:?} is near the point"
        );
        for b in &people[i + 1..] {
            assert!(
                a.distance(*b) > room.settings().forming_distance,
                "{a:?} and {b:?} too close"
            );
        }
    }
    assert_eq!(
        room.participant(pid(9)).expect("host").position,
        host_at,
        "the host stays"
    );
    assert!(
        events(&mut room)
            .iter()
            .any(|e| matches!(e, Event::Gathered { by, .. } if *by == pid(9)))
    );
    assert_eq!(
        room.gather(pid(9), GatherTarget::Area(77)),
        Err(EngineError::UnknownArea)
    );
    // An absurd point is refused like an absurd `move`, not clamped to the edge.
    assert_eq!(
        room.gather(pid(9), GatherTarget::Point(1.0e30, 300.0)),
        Err(EngineError::InvalidPosition)
    );
    room.check_invariants().expect("invariants");
}

#[test]
fn hands_keep_the_time_they_went_up_and_going_on_stage_lowers_one() {
    let mut room = room();
    join(&mut room, 1, Role::Host);
    join(&mut room, 2, Role::Participant);
    join(&mut room, 3, Role::Participant);
    room.set_hand(pid(3), true, 1_000).expect("raised");
    room.set_hand(pid(2), true, 2_000).expect("raised");
    // Raised again while up: the place in the queue holds.
    room.set_hand(pid(3), true, 5_000).expect("raised");
    let hand = |room: &Room, n| room.participant(pid(n)).expect("here").hand;
    assert_eq!((hand(&room, 3), hand(&room, 2)), (Some(1_000), Some(2_000)));
    events(&mut room);
    // The host calls on the oldest hand; she goes on air and her hand goes down.
    room.invite_to_broadcast(pid(1), pid(3)).expect("invited");
    assert_eq!(
        hand(&room, 3),
        Some(1_000),
        "an invitation alone answers nothing"
    );
    room.set_broadcast(pid(3), true).expect("on air");
    assert_eq!(hand(&room, 3), None);
    assert!(
        events(&mut room)
            .iter()
            .any(|e| matches!(e, Event::Hand(id) if *id == pid(3)))
    );
    // Lowered and raised again: to the back of the queue.
    room.set_hand(pid(2), false, 6_000).expect("lowered");
    room.set_hand(pid(2), true, 7_000).expect("raised");
    assert_eq!(hand(&room, 2), Some(7_000));
    room.check_invariants().expect("invariants");
}

#[test]
fn a_host_on_stage_gathers_an_audience_in_rows_in_front_of_it() {
    let mut settings = RoomSettings::new("test", "Test");
    settings.areas = vec![crate::room::model::Area {
        id: 1,
        name: "Bühne".into(),
        rect: Rect {
            x: 800.0,
            y: 60.0,
            width: 800.0,
            height: 320.0,
        },
        stage: true,
        quiet: false,
        max_people: None,
    }];
    let mut room = room_with(settings);
    join(&mut room, 100, Role::Host);
    walk(&mut room, 100, 1200.0, 200.0);
    for n in 1..=40 {
        join(&mut room, n, Role::Participant);
    }
    // Two of them talking; they are gathered too.
    walk(&mut room, 1, 300.0, 1300.0);
    walk(&mut room, 2, 340.0, 1300.0);
    assert!(circle_of(&room, 1).is_some());
    let host_at = room.participant(pid(100)).expect("host").position;
    room.gather(pid(100), GatherTarget::Point(host_at.x, host_at.y))
        .expect("gathered");
    assert_eq!(room.circles().count(), 0, "nobody stands in a circle");
    let stage = room.settings().areas[0].rect;
    let people: Vec<Point> = (1..=40)
        .map(|n| room.participant(pid(n)).expect("p").position)
        .collect();
    for (i, a) in people.iter().enumerate() {
        assert!(!stage.contains(*a), "{a:?} stands on the stage");
        assert!(
            a.y > stage.y + stage.height,
            "{a:?} is not in front of the stage"
        );
        assert!(
            a.y < stage.y + stage.height + 500.0,
            "{a:?} is too far to see the stage"
        );
        for b in &people[i + 1..] {
            assert!(
                a.distance(*b) > room.settings().forming_distance,
                "{a:?} and {b:?} too close"
            );
        }
    }
    // The middle seats of the first row are taken first.
    let front = people
        .iter()
        .filter(|p| p.y < stage.y + stage.height + 120.0)
        .count();
    assert!(front >= 15, "a full first row: {front}");
    room.check_invariants().expect("invariants");
}

#[test]
fn gathering_more_people_than_the_floor_holds_apart_moves_everyone() {
    let mut settings = RoomSettings::new("test", "Test");
    settings.width = 600.0;
    settings.height = 400.0;
    let mut room = room_with(settings);
    join(&mut room, 100, Role::Host);
    for n in 1..=60 {
        join(&mut room, n, Role::Participant);
    }
    room.gather(pid(100), GatherTarget::Point(300.0, 200.0))
        .expect("gathered");
    for n in 1..=60 {
        let p = room.participant(pid(n)).expect("here").position;
        assert!((0.0..=600.0).contains(&p.x) && (0.0..=400.0).contains(&p.y));
    }
    room.check_invariants().expect("invariants");
}
