//! The engine's part of the waiting room: the setting, and whether someone could come in
//! now. The queue itself, with its sessions, is the room task's (`actor/waiting.rs`):
//! someone waiting is not in the room, so the engine knows nothing of them.

use super::Room;
use crate::room::model::{DisplayName, EngineError, ParticipantId, Role};
use crate::room::moderation::LinkIdentity;

/// Most characters of a room's message to people waiting, or of a host's to those turned
/// away.
pub(crate) const MAX_WAITING_MESSAGE_CHARS: usize = 200;

/// A message for people waiting or turned away: one line of plain text, trimmed; `None`
/// when blank.
pub(crate) fn clean_waiting_message(text: &str) -> Result<Option<String>, EngineError> {
    let text = text.trim();
    if text.chars().count() > MAX_WAITING_MESSAGE_CHARS
        || text.chars().any(crate::room::text::refused_in_label)
    {
        return Err(EngineError::InvalidWaitingMessage);
    }
    Ok((!text.is_empty()).then(|| text.to_owned()))
}

impl Room {
    /// Whether newcomers wait until a host admits them.
    pub fn has_waiting_room(&self) -> bool {
        self.settings.waiting_room
    }

    /// Turns the waiting room on or off (a host's or an operator's change, checked by the
    /// caller), and replaces the room's message to people waiting if one is given.
    pub fn replace_waiting_room(&mut self, on: bool, message: Option<String>) {
        self.settings.waiting_room = on;
        if let Some(message) = message {
            self.settings.waiting_message = message;
        }
    }

    /// A host may change the waiting room, admit and turn away: `Forbidden` otherwise.
    pub fn may_manage_waiting_room(&self, id: ParticipantId) -> Result<(), EngineError> {
        self.require_host(id)
    }

    /// Whether `id` could come in now as `name` with `role`: what [`Room::admit`] checks,
    /// without entering. Someone who would be refused is refused before they wait.
    pub fn may_join(
        &self,
        id: ParticipantId,
        name: &DisplayName,
        role: Role,
        link: Option<&LinkIdentity>,
    ) -> Result<(), EngineError> {
        self.may_enter(id, link)?;
        if self.locked && role != Role::Host {
            return Err(EngineError::RoomLocked);
        }
        if self.participants.len() >= self.settings.max_participants as usize && role != Role::Host
        {
            return Err(EngineError::RoomFull);
        }
        // Nobody passes for a host: a participant may not take a host's name. A name an
        // invitation fixes was chosen by whoever minted it, and cannot be changed.
        let fixed = link.is_some_and(|l| l.fixed_name.is_some());
        if role != Role::Host && !fixed {
            let key = crate::room::text::name_key(name.as_str());
            let host = |p: &crate::room::model::Participant| {
                p.role == Role::Host && crate::room::text::name_key(p.name.as_str()) == key
            };
            if self.participants.values().any(host) {
                return Err(EngineError::NameTaken);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_one_trimmed_line() {
        assert_eq!(clean_waiting_message("  "), Ok(None));
        assert_eq!(
            clean_waiting_message(" Bitte kommen Sie um 14 Uhr wieder. "),
            Ok(Some("Bitte kommen Sie um 14 Uhr wieder.".to_owned()))
        );
        assert_eq!(
            clean_waiting_message("a\nb"),
            Err(EngineError::InvalidWaitingMessage)
        );
        assert_eq!(
            clean_waiting_message(&"x".repeat(201)),
            Err(EngineError::InvalidWaitingMessage)
        );
    }
}
