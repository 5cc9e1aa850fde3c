//! Engine tests of what hosts and the room do for everyone: chat by scope, gathering,
//! raised hands and the stage.

use super::*;

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
