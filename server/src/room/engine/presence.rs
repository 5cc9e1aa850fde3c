//! Connections that drop and come back: a participant whose connection dropped keeps
//! their place, circle, role, hand and media while the server waits for them; everyone
//! sees them as reconnecting. When they resume, the members of their mesh circle restart
//! ICE with them. (Whether and when they are given up is the room's task's business: it
//! calls [`Room::leave`] once the grace window has passed.)
//!
//! A participant whose page went away (a reload, or a closed tab) has left: everyone sees
//! them go at once. If it was a reload, [`Room::readmit`] brings them back as they were.

use super::{Event, Room};
use crate::room::model::{EngineError, Participant, ParticipantId};

impl Room {
    /// Marks a participant as reconnecting (their connection dropped). Idempotent.
    pub fn start_reconnecting(&mut self, id: ParticipantId) -> Result<(), EngineError> {
        let p = self
            .participants
            .get_mut(&id)
            .ok_or(EngineError::UnknownParticipant)?;
        if !p.reconnecting {
            p.reconnecting = true;
            self.events.push(Event::Reconnecting { id, on: true });
        }
        Ok(())
    }

    /// A participant who left with their page (a reload) is back: under the same id, name,
    /// role and link, with their hand (and its place in the queue) and media, walking back
    /// to where they stood — which forms their circle again if the others are still there.
    /// A room locked or full since lets them back in (they were inside); a ban does not.
    /// Someone who was invited to broadcast, or on air, is invited again (they go on air
    /// again with one click).
    pub fn readmit(&mut self, was: &Participant, invited: bool) -> Result<(), EngineError> {
        self.may_enter(was.id, was.link.as_ref())?;
        self.enter(
            was.id,
            was.name.clone(),
            was.profile.clone(),
            was.role,
            was.link.clone(),
        );
        if invited {
            self.broadcast_invites.insert(was.id);
        }
        if let Some(p) = self.participants.get_mut(&was.id) {
            p.media = was.media;
            p.hand = was.hand;
            // A reload does not make a lonely wait start over.
            p.alone_since = was.alone_since;
            // Nor does it make them a newcomer in the summary.
            p.counted = was.counted;
            p.circled = was.circled;
        }
        // A spot no longer allowed (an area full) leaves them where they came in.
        let _ = self.move_to(was.id, f64::from(was.position.x), f64::from(was.position.y));
        Ok(())
    }

    /// A participant is back on a new connection: no longer reconnecting, and the
    /// members of a mesh circle restart ICE with them. The room's state of them is
    /// unchanged otherwise. Also for a participant the server had not yet seen drop (a
    /// client that gave up on its connection first): their peers restart ICE all the same.
    pub fn resume(&mut self, id: ParticipantId) -> Result<(), EngineError> {
        let p = self
            .participants
            .get_mut(&id)
            .ok_or(EngineError::UnknownParticipant)?;
        if p.reconnecting {
            p.reconnecting = false;
            self.events.push(Event::Reconnecting { id, on: false });
        }
        let Some(cid) = p.circle else {
            return Ok(());
        };
        let Some(circle) = self.circles.get(&cid) else {
            return Ok(());
        };
        if circle.routed {
            // Media goes through the SFU: there is no connection between members.
            return Ok(());
        }
        for &other in circle.members.iter().filter(|m| **m != id) {
            self.events.push(Event::RestartIce {
                initiator: id,
                responder: other,
            });
        }
        Ok(())
    }
}
