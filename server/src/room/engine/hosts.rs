//! What only hosts may do: mute, remove (and ban), lock the room, post an announcement.
//! Each checks that the one asking is a host; otherwise `Forbidden` and nothing changes.

use super::{Event, Room};
use crate::room::model::{EngineError, ParticipantId, Role};
use crate::room::moderation::clean_announcement;

impl Room {
    fn require_host(&self, id: ParticipantId) -> Result<(), EngineError> {
        match self.participants.get(&id) {
            Some(p) if p.role == Role::Host => Ok(()),
            Some(_) => Err(EngineError::Forbidden),
            None => Err(EngineError::UnknownParticipant),
        }
    }

    /// Whether the room is locked against newcomers.
    pub fn locked(&self) -> bool {
        self.locked
    }

    /// The current announcement, if any.
    pub fn announcement(&self) -> Option<&str> {
        self.announcement.as_deref()
    }

    /// A host turns a participant's microphone off (they may turn it on again).
    pub fn mute(&mut self, host: ParticipantId, target: ParticipantId) -> Result<(), EngineError> {
        self.require_host(host)?;
        let p = self
            .participants
            .get_mut(&target)
            .ok_or(EngineError::UnknownParticipant)?;
        if p.media.mic {
            p.media.mic = false;
            self.events.push(Event::MediaChanged(target));
        }
        self.events.push(Event::Muted { target, by: host });
        Ok(())
    }

    /// A host removes a participant, and with `ban` bars their link (and, for a personal
    /// invitation, the name's links minted up to `now`) for the room's lifetime.
    pub fn remove(
        &mut self,
        host: ParticipantId,
        target: ParticipantId,
        ban: bool,
        now: u64,
    ) -> Result<(), EngineError> {
        self.require_host(host)?;
        if target == host {
            return Err(EngineError::Forbidden);
        }
        let p = self
            .participants
            .get(&target)
            .ok_or(EngineError::UnknownParticipant)?;
        if ban {
            if let Some(link) = p.link.clone() {
                self.bans.ban(&link, now);
            }
        }
        self.events.push(Event::Removed { target, ban });
        self.leave(target)
    }

    /// A host locks or unlocks the room against newcomers.
    pub fn lock_room(&mut self, host: ParticipantId, locked: bool) -> Result<(), EngineError> {
        self.require_host(host)?;
        if self.locked != locked {
            self.locked = locked;
            self.events.push(Event::RoomLocked(locked));
        }
        Ok(())
    }

    /// A host posts an announcement for everyone; an empty one clears it.
    pub fn announce(&mut self, host: ParticipantId, text: &str) -> Result<(), EngineError> {
        self.require_host(host)?;
        self.announcement = clean_announcement(text)?;
        self.events.push(Event::Announcement);
        Ok(())
    }
}
