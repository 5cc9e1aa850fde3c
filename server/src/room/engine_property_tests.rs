//! Property tests of the room engine: random sessions of joins, walks, locks, leaves,
//! reconnections and resumes, reloads, hands, gatherings, areas, broadcasts and removals;
//! the invariants hold after every step, and the outcome does not depend on hash order.

use proptest::prelude::*;

use super::*;

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
