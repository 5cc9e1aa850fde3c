//! The actor with real channels and tokio's paused clock: what a session that stops
//! reading gets, and when it is let go.

use std::time::Duration;

use crate::transport::outbox::{OutboxReceiver, Outgoing, outbox};
use hallway_proto::{ServerMessage, close};

use super::*;
use crate::room::model::RoomSettings;

/// A session as the actor sees it, whose queue the test reads (or not).
struct FakeSession {
    id: ParticipantId,
    seat: Seat,
    outbox: OutboxReceiver,
}

impl FakeSession {
    /// The close code, once kicked, without reading anything from the queue (a reader
    /// would no longer be stuck).
    async fn kicked(&self) -> Option<u16> {
        loop {
            if let Some(code) = self.outbox.kicked() {
                return Some(code);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

async fn join(room: &RoomHandle, name: &str, queue: usize) -> FakeSession {
    connect(room, name, queue, None).await
}

async fn connect(
    room: &RoomHandle,
    name: &str,
    queue: usize,
    resume: Option<String>,
) -> FakeSession {
    let (tx, outbox) = outbox(queue);
    let name = DisplayName::parse(name).expect("name");
    let seat = room
        .join(name, None, Role::Participant, None, tx, resume)
        .await
        .expect("joins");
    FakeSession {
        id: seat.id,
        seat,
        outbox,
    }
}

fn decode(frame: &Utf8Bytes) -> ServerMessage {
    serde_json::from_str(frame.as_str()).expect("valid message")
}

/// Reads `session` again until the room sends it a snapshot (ticking meanwhile); the
/// snapshot. Panics if it was let go, or if no snapshot comes within 20 s.
async fn caught_up(session: &mut FakeSession) -> ServerMessage {
    for _ in 0..200 {
        while let Some(next) = session.outbox.recv_now() {
            let Outgoing::Frame(frame) = next else {
                panic!("disconnected for a burst")
            };
            let message = decode(&frame);
            if matches!(message, ServerMessage::Snapshot { .. }) {
                return message;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no snapshot arrived")
}

fn room() -> RoomHandle {
    RoomHandle::spawn(
        Room::new(RoomSettings::new("test", "Test")).expect("room"),
        10,
    )
}

#[tokio::test(start_paused = true)]
async fn a_reader_that_falls_behind_gets_a_snapshot_instead_of_a_disconnect() {
    let room = room();
    let mut slow = join(&room, "Slow", 64).await;
    // A burst of arrivals: far more announcements than the slow queue holds.
    let mut others = Vec::new();
    for i in 0..100 {
        others.push(join(&room, &format!("Guest {i}"), 256).await);
    }
    for other in others.drain(..50) {
        room.leave(other.seat, Departure::Left).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;

    // Reading again, the slow session catches up with one snapshot of the room as it is.
    let ServerMessage::Snapshot { participants, .. } = caught_up(&mut slow).await else {
        unreachable!("caught_up returns a snapshot")
    };
    assert_eq!(participants.len(), 51, "the slow one and the 50 who stayed");
    assert!(participants.iter().any(|p| p.id == slow.id.to_string()));
}

#[tokio::test(start_paused = true)]
async fn a_reader_that_stays_stuck_is_disconnected() {
    let room = room();
    let stuck = join(&room, "Stuck", 64).await;
    let mover = join(&room, "Mover", 4096).await;
    let _burst: Vec<FakeSession> = {
        let mut v = Vec::new();
        for i in 0..80 {
            v.push(join(&room, &format!("Guest {i}"), 256).await);
        }
        v
    };
    // The mover keeps moving, so there is a tick for everyone every 100 ms.
    let moving = tokio::spawn({
        let room = room.clone();
        async move {
            for step in 0..200u32 {
                let x = 100.0 + f64::from(step % 50) * 10.0;
                let _ = room
                    .command(
                        mover.id,
                        Command::Move {
                            x,
                            y: 100.0,
                            walking: false,
                        },
                    )
                    .await;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    });
    let code = tokio::time::timeout(Duration::from_secs(15), stuck.kicked())
        .await
        .expect("disconnected within the stall limit")
        .expect("with a close code");
    assert_eq!(code, close::SLOW_CONSUMER);
    moving.abort();
}

#[tokio::test(start_paused = true)]
async fn signals_that_do_not_fit_disconnect_the_recipient() {
    let room = room();
    let deaf = join(&room, "Deaf", 64).await;
    let mut talker = join(&room, "Talker", 4096).await;
    room.command(
        deaf.id,
        Command::Move {
            x: 500.0,
            y: 500.0,
            walking: false,
        },
    )
    .await
    .expect("sent");
    room.command(
        talker.id,
        Command::Move {
            x: 550.0,
            y: 500.0,
            walking: false,
        },
    )
    .await
    .expect("sent");
    // Once the talker is told to connect, the directory has them both in one circle.
    loop {
        let Some(Outgoing::Frame(frame)) = talker.outbox.recv().await else {
            panic!("talker let go")
        };
        if matches!(decode(&frame), ServerMessage::Connect { .. }) {
            break;
        }
    }
    let payload = hallway_proto::Payload::from_json("{}").expect("json");
    for _ in 0..100 {
        room.relay(talker.id, deaf.id, &payload)
            .expect("same circle");
    }
    let code = tokio::time::timeout(Duration::from_secs(1), deaf.kicked())
        .await
        .expect("disconnected at once")
        .expect("with a close code");
    assert_eq!(code, close::SLOW_CONSUMER);
}

/// Every message queued for a session so far.
fn drain(session: &mut FakeSession) -> Vec<ServerMessage> {
    let mut out = Vec::new();
    while let Some(next) = session.outbox.recv_now() {
        match next {
            Outgoing::Frame(frame) => out.push(decode(&frame)),
            Outgoing::Kicked(code) => panic!("kicked with {code}"),
        }
    }
    out
}

/// The resume token of the session's welcome.
fn token(messages: &[ServerMessage]) -> String {
    messages
        .iter()
        .find_map(|m| match m {
            ServerMessage::Welcome { resume, .. } => Some(resume.clone()),
            _ => None,
        })
        .expect("a welcome")
}

/// Two people in one circle, their welcomes read.
async fn circle_of_two(room: &RoomHandle) -> (FakeSession, FakeSession, String) {
    let mut anna = join(room, "Anna", 256).await;
    let mut ben = join(room, "Ben", 256).await;
    room.command(
        anna.id,
        Command::Move {
            x: 500.0,
            y: 500.0,
            walking: false,
        },
    )
    .await
    .expect("sent");
    room.command(
        ben.id,
        Command::Move {
            x: 550.0,
            y: 500.0,
            walking: false,
        },
    )
    .await
    .expect("sent");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let token = token(&drain(&mut anna));
    drain(&mut ben);
    (anna, ben, token)
}

#[tokio::test(start_paused = true)]
async fn a_lost_participant_resumes_with_everything_and_others_see_reconnecting() {
    let room = room();
    let (anna, mut ben, token) = circle_of_two(&room).await;
    room.leave(anna.seat, Departure::Reconnecting).await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    let seen = drain(&mut ben);
    assert!(
        seen.iter().any(|m| matches!(m, ServerMessage::Reconnecting { id, on: true } if *id == anna.id.to_string())),
        "ben saw anna reconnecting: {seen:?}"
    );

    let mut back = connect(&room, "Anna", 256, Some(token.clone())).await;
    assert_eq!(back.id, anna.id, "the same participant");
    assert!(back.seat.resumed);
    let welcome = drain(&mut back);
    let Some(ServerMessage::Welcome {
        participants,
        resumed,
        resume,
        ..
    }) = welcome.first()
    else {
        panic!("no welcome first: {welcome:?}")
    };
    assert!(resumed);
    assert_ne!(*resume, token, "a new token with every welcome");
    let me = participants
        .iter()
        .find(|p| p.id == anna.id.to_string())
        .expect("in the room");
    assert_eq!((me.x, me.y), (500.0, 500.0), "where she stood");
    assert!(me.circle.is_some(), "in her circle");
    assert!(!me.reconnecting);
    assert!(
        welcome.iter().any(|m| matches!(
            m,
            ServerMessage::Connect {
                restart: true,
                initiator: true,
                ..
            }
        )),
        "she restarts ICE with her circle: {welcome:?}"
    );

    tokio::time::sleep(Duration::from_millis(200)).await;
    let seen = drain(&mut ben);
    assert!(
        seen.iter()
            .any(|m| matches!(m, ServerMessage::Reconnecting { on: false, .. }))
    );
    assert!(seen.iter().any(|m| matches!(
        m,
        ServerMessage::Connect {
            restart: true,
            initiator: false,
            ..
        }
    )));
    assert!(
        !seen
            .iter()
            .any(|m| matches!(m, ServerMessage::Left { .. } | ServerMessage::Joined { .. })),
        "no leave and join: {seen:?}"
    );
    // A welcome that never arrived (the new connection died first): the token she came
    // back with still brings her back, as herself...
    let mut again = connect(&room, "Anna", 256, Some(token.clone())).await;
    assert_eq!(again.id, anna.id, "still the same participant");
    assert!(again.seat.resumed);
    let newest = self::token(&drain(&mut again));
    // ...until she comes back with the newer one: then the old one is spent and joins
    // someone new.
    let last = connect(&room, "Anna", 256, Some(newest)).await;
    assert_eq!(last.id, anna.id);
    let stranger = connect(&room, "Anna", 256, Some(token)).await;
    assert_ne!(stranger.id, anna.id);
    assert!(!stranger.seat.resumed);
}

#[tokio::test(start_paused = true)]
async fn after_the_grace_window_a_lost_participant_is_removed_exactly_once() {
    let room = room();
    let (anna, mut ben, token) = circle_of_two(&room).await;
    room.leave(anna.seat, Departure::Reconnecting).await;
    // A second report of the same loss changes nothing.
    room.leave(anna.seat, Departure::Reconnecting).await;
    tokio::time::sleep(DEFAULT_GRACE - Duration::from_secs(1)).await;
    let before = drain(&mut ben);
    assert!(
        !before
            .iter()
            .any(|m| matches!(m, ServerMessage::Left { .. }))
    );
    tokio::time::sleep(Duration::from_secs(5)).await;
    let after = drain(&mut ben);
    let lefts = after
        .iter()
        .filter(|m| matches!(m, ServerMessage::Left { id } if *id == anna.id.to_string()))
        .count();
    assert_eq!(lefts, 1, "removed exactly once: {after:?}");
    // Late reports and the old token change nothing now.
    room.leave(anna.seat, Departure::Left).await;
    let late = connect(&room, "Anna", 256, Some(token)).await;
    assert_ne!(late.id, anna.id);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !drain(&mut ben)
            .iter()
            .any(|m| matches!(m, ServerMessage::Left { .. }))
    );
}

#[tokio::test(start_paused = true)]
async fn resuming_replaces_a_connection_the_server_still_thought_alive() {
    let room = room();
    let (anna, mut ben, token) = circle_of_two(&room).await;
    let back = connect(&room, "Anna", 256, Some(token)).await;
    assert_eq!(back.id, anna.id);
    assert_eq!(anna.outbox.kicked(), Some(close::REPLACED));
    // The old session's end, reported late, does not touch the new one.
    room.leave(anna.seat, Departure::Reconnecting).await;
    tokio::time::sleep(Duration::from_secs(60)).await;
    let seen = drain(&mut ben);
    assert!(
        !seen.iter().any(|m| matches!(
            m,
            ServerMessage::Left { .. } | ServerMessage::Reconnecting { on: true, .. }
        )),
        "{seen:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn leaving_on_purpose_removes_at_once() {
    let room = room();
    let (anna, mut ben, _) = circle_of_two(&room).await;
    room.leave(anna.seat, Departure::Left).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let seen = drain(&mut ben);
    assert!(seen.iter().any(|m| matches!(m, ServerMessage::Left { .. })));
    assert!(
        !seen
            .iter()
            .any(|m| matches!(m, ServerMessage::Reconnecting { .. }))
    );
}

#[tokio::test(start_paused = true)]
async fn the_room_tells_when_it_changed_in_a_way_worth_writing_down() {
    let room = room();
    // Whether the room stays quiet for half a second.
    async fn quiet(room: &RoomHandle) -> bool {
        tokio::time::timeout(Duration::from_millis(500), room.changed())
            .await
            .is_err()
    }
    async fn told(room: &RoomHandle) -> bool {
        !quiet(room).await
    }
    assert!(quiet(&room).await, "nothing happened yet");
    let anna = join(&room, "Anna", 256).await;
    assert!(
        told(&room).await,
        "someone arrived (with a new resume token)"
    );
    assert!(quiet(&room).await, "told once");
    // Walking alone changes only a position: that waits for the regular write.
    room.command(
        anna.id,
        Command::Move {
            x: 100.0,
            y: 100.0,
            walking: false,
        },
    )
    .await
    .expect("sent");
    assert!(quiet(&room).await, "a position alone");
    let ben = join(&room, "Ben", 256).await;
    assert!(told(&room).await);
    // Walking up to someone: a circle forms.
    room.command(
        anna.id,
        Command::Move {
            x: 500.0,
            y: 500.0,
            walking: false,
        },
    )
    .await
    .expect("sent");
    room.command(
        ben.id,
        Command::Move {
            x: 550.0,
            y: 500.0,
            walking: false,
        },
    )
    .await
    .expect("sent");
    assert!(told(&room).await, "a circle formed");
    room.leave(ben.seat, Departure::Left).await;
    assert!(told(&room).await, "someone left");
}

/// In a big room (more people than the welcome roster), a page that has not said what it
/// shows (a newcomer whose `view` is on its way) and fell behind catches up with those
/// near where it stands, as its light welcome listed, not with the whole room.
#[tokio::test(start_paused = true)]
async fn a_newcomer_in_a_big_room_who_falls_behind_catches_up_with_those_near() {
    let room = RoomHandle::spawn_restored(
        Room::new(RoomSettings::new("test", "Test")).expect("room"),
        10,
        RoomOptions {
            welcome_roster: 10,
            ..RoomOptions::default()
        },
    );
    let mut others = Vec::new();
    for i in 0..20 {
        others.push(join(&room, &format!("Early {i}"), 256).await);
    }
    let mut slow = join(&room, "Slow", 64).await;
    // A burst of arrivals: far more announcements than the slow queue holds.
    for i in 0..100 {
        others.push(join(&room, &format!("Guest {i}"), 256).await);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;

    let ServerMessage::Snapshot { in_room, .. } = caught_up(&mut slow).await else {
        unreachable!("caught_up returns a snapshot")
    };
    assert_eq!(
        in_room,
        Some(121),
        "a light snapshot (near where it stands, with how many are in the room)"
    );
}

/// A move to (x, y).
fn to(x: f64, y: f64) -> Command {
    Command::Move {
        x,
        y,
        walking: false,
    }
}

/// The part of the floor from (x, y), `width` × `height`.
fn view(x: f32, y: f32, width: f32, height: f32) -> Command {
    Command::View(crate::room::model::Rect {
        x,
        y,
        width,
        height,
    })
}

/// A big room (a welcome roster of 2) and a page in it that shows its top left corner and
/// has fallen behind: someone walked there until its queue of 64 frames was full (all but
/// the reserve), so it is owed the positions in its view; with the walker.
async fn behind_in_a_big_room() -> (RoomHandle, FakeSession, FakeSession) {
    let queue = 64;
    let room = RoomHandle::spawn_restored(
        Room::new(RoomSettings::new("test", "Test")).expect("room"),
        10,
        RoomOptions {
            welcome_roster: 2,
            ..RoomOptions::default()
        },
    );
    let mut slow = join(&room, "Slow", queue).await;
    let walker = join(&room, "Walker", 256).await;
    room.command(slow.id, view(0.0, 0.0, 300.0, 200.0))
        .await
        .expect("sent");
    room.command(slow.id, to(100.0, 100.0)).await.expect("sent");
    tokio::time::sleep(Duration::from_millis(300)).await;
    drain(&mut slow);
    // A frame a tick until the queue has only its reserve left, and a second more (it is
    // let go after five seconds more).
    for i in 0..queue - 32 + 10 {
        let x = if i % 2 == 0 { 150.0 } else { 200.0 };
        room.command(walker.id, to(x, 120.0)).await.expect("sent");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (room, slow, walker)
}

/// Anna and Ben, in a circle at (1500, 1000), far from the corner.
async fn far_circle(room: &RoomHandle) -> (FakeSession, FakeSession) {
    let anna = join(room, "Anna", 256).await;
    let ben = join(room, "Ben", 256).await;
    room.command(anna.id, to(1500.0, 1000.0))
        .await
        .expect("sent");
    room.command(ben.id, to(1550.0, 1000.0))
        .await
        .expect("sent");
    tokio::time::sleep(Duration::from_millis(300)).await;
    (anna, ben)
}

/// A page of a big room that shows part of the floor, has fallen behind (owed the
/// positions in its view) and has no room for a round that names a circle that dissolved
/// out of its sight is owed a snapshot: the news is not lost with the positions.
#[tokio::test(start_paused = true)]
async fn a_page_with_no_room_for_a_round_naming_circles_catches_up_with_a_snapshot() {
    // The walker stays: someone leaving would be news that costs the page a snapshot too.
    let (room, mut slow, _walker) = behind_in_a_big_room().await;
    // Far from it, a circle forms and dissolves; a round passes.
    let (_anna, ben) = far_circle(&room).await;
    room.command(ben.id, to(1550.0, 1300.0))
        .await
        .expect("sent");
    tokio::time::sleep(Duration::from_millis(1100)).await;

    // Reading again, it catches up with a snapshot, not only positions.
    caught_up(&mut slow).await;
}
