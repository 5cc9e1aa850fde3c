//! The actor with real channels and tokio's paused clock: what a session that stops
//! reading gets, and when it is let go.

use std::time::Duration;

use crate::session::outbox::{OutboxReceiver, Outgoing, outbox};
use hallway_proto::{ServerMessage, close};

use super::*;
use crate::room::model::RoomSettings;

/// A session as the actor sees it, whose queue the test reads (or not).
struct FakeSession {
    id: ParticipantId,
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
    let (tx, outbox) = outbox(queue);
    let name = DisplayName::parse(name).expect("name");
    let id = room
        .join(name, Role::Participant, None, tx)
        .await
        .expect("joins");
    FakeSession { id, outbox }
}

fn decode(frame: &Utf8Bytes) -> ServerMessage {
    serde_json::from_str(frame.as_str()).expect("valid message")
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
        room.leave(other.id).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;

    // Reading again, the slow session catches up with one snapshot of the room as it is.
    let mut snapshot = None;
    for _ in 0..200 {
        while let Some(next) = slow.outbox.recv_now() {
            let Outgoing::Frame(frame) = next else {
                panic!("disconnected for a burst")
            };
            if let ServerMessage::Snapshot { participants, .. } = decode(&frame) {
                snapshot = Some(participants);
            }
        }
        if snapshot.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let participants = snapshot.expect("a snapshot arrived");
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
                let _ = room.command(mover.id, Command::Move { x, y: 100.0 }).await;
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
    room.command(deaf.id, Command::Move { x: 500.0, y: 500.0 })
        .await
        .expect("sent");
    room.command(talker.id, Command::Move { x: 550.0, y: 500.0 })
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
