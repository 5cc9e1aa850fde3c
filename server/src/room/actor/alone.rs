//! Who is alone, told to the room's hosts every [`ALONE_EVERY`]: the room notes who is
//! outside a circle, and each host's session gets the longest [`ALONE_LISTED`] of those
//! outside one for longer than the room's setting, and how many there are. A host whose
//! queue is short of room skips a report (the next one has it all).

use std::time::Duration;

use hallway_proto::ServerMessage;
use hallway_proto::server::AloneInfo;
use tungstenite::protocol::frame::Utf8Bytes;

use super::{Actor, EVENT_RESERVE};
use crate::room::model::Role;

/// How often hosts hear who is alone.
pub(super) const ALONE_EVERY: Duration = Duration::from_secs(2);

/// The most people one report lists (after a keynote everyone is alone at once: a host
/// works through the longest waits first, and sees how many there are).
const ALONE_LISTED: usize = 30;

impl Actor {
    pub(super) fn report_alone(&mut self) {
        // Milliseconds on the room's own monotonic clock.
        let now = u64::try_from(self.now.saturating_duration_since(self.started).as_millis())
            .unwrap_or(u64::MAX);
        self.room.note_alone(now);
        let room = &self.room;
        let hosts: Vec<_> = self
            .sessions
            .iter()
            .filter(|(id, _)| room.participant(**id).is_some_and(|p| p.role == Role::Host))
            .map(|(_, session)| session)
            .collect();
        if hosts.is_empty() {
            return;
        }
        let after_s = u64::from(room.settings().alone_after_s);
        let alone = room.alone(now, after_s * 1000);
        let count = alone.len() as u64;
        let people = alone
            .into_iter()
            .take(ALONE_LISTED)
            .map(|(id, for_s)| AloneInfo {
                id: id.to_string(),
                for_s,
            })
            .collect();
        let frame = Utf8Bytes::from(
            ServerMessage::Alone {
                after_s,
                count,
                people,
            }
            .encode(),
        );
        for session in hosts {
            if session.outbox.capacity() > EVENT_RESERVE {
                let _ = session.outbox.try_send(frame.clone());
            }
        }
    }
}
