//! Chat: messages to the room, to one's circle, or to one person; and the room's recent
//! history, kept in memory only and forgotten when the room empties.

use std::collections::VecDeque;

use super::model::{CircleId, EngineError, ParticipantId};

/// Longest message, in characters after trimming.
pub(crate) const MAX_CHAT_CHARS: usize = hallway_proto::limits::MAX_CHAT_CHARS;

/// Room messages a late joiner is shown.
pub(crate) const HISTORY: usize = hallway_proto::limits::CHAT_HISTORY;

/// Whom a message is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatScope {
    /// Everyone in the room.
    Room,
    /// The members of this circle.
    Circle(CircleId),
    /// One person (the sender sees it too).
    Direct(ParticipantId),
}

/// One message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    /// Unique within the room, increasing.
    pub id: u64,
    /// The sender.
    pub from: ParticipantId,
    /// The sender's name when they sent it (they may have left since).
    pub name: String,
    /// Whom it is for.
    pub scope: ChatScope,
    /// The text, trimmed.
    pub text: String,
    /// When, in milliseconds since the Unix epoch (passed in by the caller).
    pub at: u64,
}

/// Checks and trims a message: 1..=[`MAX_CHAT_CHARS`] characters; line breaks (CR and
/// CRLF become `\n`) and tabs allowed, other control characters and bidirectional
/// overrides (`text.rs`) not.
pub(crate) fn clean_text(raw: &str) -> Result<String, EngineError> {
    let text = raw.replace("\r\n", "\n").replace('\r', "\n");
    let text = text.trim();
    let chars = text.chars().count();
    if chars == 0 || chars > MAX_CHAT_CHARS || text.chars().any(super::text::refused_in_text) {
        return Err(EngineError::InvalidChat);
    }
    Ok(text.to_owned())
}

/// The room's recent messages to everyone.
#[derive(Debug, Default)]
pub(crate) struct ChatLog {
    recent: VecDeque<ChatMessage>,
    next_id: u64,
}

impl ChatLog {
    /// The next message id.
    pub(crate) fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Keeps a room message for late joiners (only the last [`HISTORY`]).
    pub(crate) fn remember(&mut self, message: &ChatMessage) {
        if message.scope == ChatScope::Room {
            if self.recent.len() == HISTORY {
                self.recent.pop_front();
            }
            self.recent.push_back(message.clone());
        }
    }

    /// The remembered room messages, oldest first.
    pub(crate) fn recent(&self) -> impl Iterator<Item = &ChatMessage> {
        self.recent.iter()
    }

    /// Forgets everything: the room has emptied.
    pub(crate) fn clear(&mut self) {
        self.recent = VecDeque::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_checked() {
        assert_eq!(
            clean_text("  Hallo zusammen!\nWie geht's?  "),
            Ok("Hallo zusammen!\nWie geht's?".into())
        );
        assert_eq!(clean_text("   "), Err(EngineError::InvalidChat));
        assert_eq!(
            clean_text(&"x".repeat(MAX_CHAT_CHARS + 1)),
            Err(EngineError::InvalidChat)
        );
        assert_eq!(clean_text("bell\u{7}"), Err(EngineError::InvalidChat));
        assert!(clean_text(&"ü".repeat(MAX_CHAT_CHARS)).is_ok());
    }

    #[test]
    fn only_the_last_room_messages_are_kept() {
        let mut log = ChatLog::default();
        for i in 0..(HISTORY as u64 + 5) {
            let id = log.next_id();
            let scope = if i % 2 == 0 {
                ChatScope::Room
            } else {
                ChatScope::Direct(ParticipantId(2))
            };
            log.remember(&ChatMessage {
                id,
                from: ParticipantId(1),
                name: "A".into(),
                scope,
                text: i.to_string(),
                at: i,
            });
        }
        let kept: Vec<_> = log.recent().collect();
        assert!(kept.len() <= HISTORY);
        assert!(kept.iter().all(|m| m.scope == ChatScope::Room));
        log.clear();
        assert_eq!(log.recent().count(), 0);
    }
}
