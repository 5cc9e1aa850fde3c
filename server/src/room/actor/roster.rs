//! What a page of a big room asks of who is here: participants by id (`who`, for those
//! its light welcome left out) and by name (`find`). Answered to the one who asked only.

use hallway_proto::ServerMessage;
use tungstenite::protocol::frame::Utf8Bytes;

use super::Actor;
use crate::room::model::ParticipantId;
use crate::room::{roster, views};

impl Actor {
    /// Tells `from` about the participants `ids` names (those still here).
    pub(super) fn who(&mut self, from: ParticipantId, ids: &[ParticipantId]) {
        let participants = ids
            .iter()
            .filter_map(|id| self.room.participant(*id).map(views::participant))
            .collect();
        let msg = ServerMessage::Participants { participants };
        self.send(from, Utf8Bytes::from(msg.encode()));
    }

    /// Answers `from`'s search for `query`.
    pub(super) fn find(&mut self, from: ParticipantId, query: String) {
        let (participants, total) = roster::find(&self.room, &query);
        let msg = ServerMessage::Found {
            query,
            participants,
            total,
        };
        self.send(from, Utf8Bytes::from(msg.encode()));
    }

    /// Whether a welcome lists only those near the newcomer: the room holds more people
    /// than the welcome roster.
    pub(super) fn light_welcomes(&self) -> bool {
        self.room.len() > self.roster
    }
}
