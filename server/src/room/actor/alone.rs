//! Who is alone, told to the room's hosts every [`ALONE_EVERY`]: the room notes who is
//! outside a circle, and each host's session gets the list of those outside one for longer
//! than the room's setting. A host whose queue is short of room skips a report (the next
//! one has it all).

use std::time::Duration;

use hallway_proto::ServerMessage;
use hallway_proto::server::AloneInfo;
use tungstenite::protocol::frame::Utf8Bytes;

use super::{Actor, EVENT_RESERVE, now_ms};
use crate::room::model::Role;

/// How often hosts hear who is alone.
pub(super) const ALONE_EVERY: Duration = Duration::from_secs(2);

impl Actor {
    pub(super) fn report_alone(&mut self) {
        let now = now_ms();
        self.room.note_alone(now);
        let room = &self.room;
        let hosts: Vec<_> = self
            .links
            .iter()
            .filter(|(id, _)| room.participant(**id).is_some_and(|p| p.role == Role::Host))
            .map(|(_, link)| link)
            .collect();
        if hosts.is_empty() {
            return;
        }
        let after_s = u64::from(room.settings().alone_after_s);
        let people = room
            .alone(now, after_s * 1000)
            .into_iter()
            .map(|(id, for_s)| AloneInfo {
                id: id.to_string(),
                for_s,
            })
            .collect();
        let frame = Utf8Bytes::from(ServerMessage::Alone { after_s, people }.encode());
        for link in hosts {
            if link.outbox.capacity() > EVENT_RESERVE {
                let _ = link.outbox.try_send(frame.clone());
            }
        }
    }
}
