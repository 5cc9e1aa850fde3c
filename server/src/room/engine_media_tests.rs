//! Engine tests of how circles' media travels: mesh below the threshold, SFU above it with
//! hysteresis, SFU always in privacy mode.

use super::*;

fn join_participant(room: &mut Room, n: u128) {
    join(room, n, Role::Participant);
}

/// Walks people 1..=n into one circle around (500, 500), one at a time.
fn gather_circle(room: &mut Room, n: u128) -> CircleId {
    for k in 1..=n {
        let angle = k as f64 * 1.1;
        walk(
            room,
            k,
            500.0 + 40.0 * angle.cos(),
            500.0 + 40.0 * angle.sin(),
        );
    }
    circle_of(room, 1).expect("circle")
}

fn connects(evs: &[Event]) -> usize {
    evs.iter()
        .filter(|e| matches!(e, Event::Connect { .. }))
        .count()
}

fn disconnects(evs: &[Event]) -> usize {
    evs.iter()
        .filter(|e| matches!(e, Event::Disconnect { .. }))
        .count()
}

#[test]
fn a_circle_above_the_mesh_threshold_moves_to_the_sfu_and_back_with_hysteresis() {
    let mut room = room();
    assert_eq!(room.settings().mesh_threshold, 4);
    for n in 1..=6 {
        join_participant(&mut room, n);
    }
    let cid = gather_circle(&mut room, 4);
    assert_eq!(
        room.circle(cid).map(|c| (c.members.len(), c.routed)),
        Some((4, false))
    );
    events(&mut room);
    // A fifth: the four hang up their six mesh connections, nobody connects.
    gather_circle(&mut room, 5);
    let evs = events(&mut room);
    assert_eq!(
        room.circle(cid).map(|c| (c.members.len(), c.routed)),
        Some((5, true))
    );
    assert_eq!((connects(&evs), disconnects(&evs)), (0, 6));
    // Back to four: still through the SFU (no flapping at the threshold).
    walk(&mut room, 5, 1500.0, 1200.0);
    let evs = events(&mut room);
    assert_eq!(room.circle(cid).map(|c| c.routed), Some(true));
    assert_eq!((connects(&evs), disconnects(&evs)), (0, 0));
    // In again and out again at the threshold: no media events either way.
    gather_circle(&mut room, 5);
    walk(&mut room, 5, 1500.0, 1200.0);
    let evs = events(&mut room);
    assert_eq!((connects(&evs), disconnects(&evs)), (0, 0));
    // Three: a mesh again, every pair connects.
    walk(&mut room, 4, 100.0, 1200.0);
    let evs = events(&mut room);
    assert_eq!(
        room.circle(cid).map(|c| (c.members.len(), c.routed)),
        Some((3, false))
    );
    assert_eq!((connects(&evs), disconnects(&evs)), (3, 0));
    room.check_invariants().expect("invariants");
}

#[test]
fn in_privacy_mode_no_one_is_ever_told_to_connect() {
    let mut settings = RoomSettings::new("private", "Private");
    settings.privacy = true;
    let mut room = room_with(settings);
    for n in 1..=6 {
        join_participant(&mut room, n);
    }
    let cid = gather_circle(&mut room, 6);
    walk(&mut room, 6, 1500.0, 1200.0);
    walk(&mut room, 5, 100.0, 1200.0);
    walk(&mut room, 4, 100.0, 100.0);
    walk(&mut room, 3, 1500.0, 100.0);
    let evs = events(&mut room);
    assert_eq!(room.circle(cid).map(|c| c.routed), Some(true));
    assert_eq!((connects(&evs), disconnects(&evs)), (0, 0));
    room.check_invariants().expect("invariants");
}
