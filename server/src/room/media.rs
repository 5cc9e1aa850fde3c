//! What a room's task tells the media server that forwards its media (the SFU:
//! `sfu::RoomMedia`): who is in the room, who broadcasts, which circles go through it.
//! The room does not know the media server; the media server knows rooms.

use super::model::{CircleId, ParticipantId};
use crate::transport::OutboxSender;

/// A room's media routes, as its task keeps them up to date.
pub trait MediaRoutes: Send + Sync {
    /// The ICE servers a participant's media connections use (TURN credentials of
    /// their own).
    fn ice_servers(&self, id: ParticipantId) -> Vec<hallway_proto::IceServer>;

    /// Whether the participant is a member (joined and not left).
    fn has(&self, id: ParticipantId) -> bool;

    /// A participant joined the room, or resumed on a new connection: `link` is where to
    /// tell them of their media (a participant who resumed keeps their media connections).
    fn join(&self, id: ParticipantId, link: OutboxSender);

    /// A participant left: their media connections close and their tracks end for everyone.
    fn leave(&self, id: ParticipantId);

    /// Who broadcasts to the whole room now.
    fn set_broadcasters(&self, broadcasters: &[ParticipantId]);

    /// A circle's members and whether its media goes through the media server (on every
    /// change of a circle; a dissolved circle has no members).
    fn set_circle(&self, id: CircleId, members: &[ParticipantId], routed: bool);
}
