//! Error codes carried by the `error` message, and WebSocket close codes.

use serde::{Deserialize, Serialize};

/// Why the server refused something. Clients translate the code; `message` is English text
/// for logs and developers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The frame is not valid JSON (or not a JSON object).
    BadJson,
    /// The JSON object has no `type` field or it is not a string.
    MissingType,
    /// The `type` names no message of this protocol version.
    UnknownType,
    /// A known message with missing fields or fields of the wrong type.
    InvalidMessage,
    /// Binary frames are not part of the protocol.
    BinaryNotSupported,
    /// `hello` named a protocol version this server does not speak.
    VersionMismatch,
    /// The first message must be `hello`.
    HelloRequired,
    /// `hello` was sent twice on one connection.
    AlreadyJoined,
    /// No room with this slug exists.
    RoomNotFound,
    /// The room is locked against newcomers.
    RoomLocked,
    /// The room takes a passcode: send `hello` again with it.
    PasscodeRequired,
    /// The passcode was wrong.
    WrongPasscode,
    /// The room admits only people with a signed link.
    InviteOnly,
    /// Too many wrong passcodes or invalid links from this address (or for this room):
    /// wait `retry_after` seconds before trying again.
    TooManyAttempts,
    /// A host of this room already goes by this name (compared without case and after
    /// Unicode compatibility normalisation): choose another.
    NameTaken,
    /// This link is banned from the room.
    Banned,
    /// Only hosts may do this.
    Forbidden,
    /// An announcement over 500 characters or with control characters.
    InvalidAnnouncement,
    /// The link's token is malformed, forged, or for another room.
    InvalidToken,
    /// The link's token has expired.
    TokenExpired,
    /// The room has reached its participant limit.
    RoomFull,
    /// The display name is empty, too long or contains control characters.
    InvalidName,
    /// The profile line is too long or has control, bidirectional or invisible characters.
    InvalidProfile,
    /// A room's icebreakers: more than 50, one over 200 characters, or one with control or
    /// bidirectional characters.
    InvalidIcebreakers,
    /// You are in the waiting room: nothing but `leave` and `ping` until a host admits you.
    Waiting,
    /// The waiting room holds as many people as it can (500): try again later.
    WaitingRoomFull,
    /// Nobody with that id is waiting (admitted, turned away or gone meanwhile).
    NotWaiting,
    /// A message to people turned away over 200 characters, or with control characters.
    InvalidWaitingMessage,
    /// Coordinates are not finite or beyond the protocol's range.
    InvalidPosition,
    /// The connection sends faster than its limit; the message was dropped.
    RateLimited,
    /// The action needs the sender to be in a circle.
    NotInCircle,
    /// No participant with that id is in the room.
    UnknownParticipant,
    /// An empty or over-long chat message, or one with control characters.
    InvalidChat,
    /// A real-time text line over 200 characters, or with line breaks, control characters
    /// or bidirectional overrides, or to neither `circle` nor `on_air`.
    InvalidRtt,
    /// Real-time text to whoever is on air while nobody is.
    NobodyOnAir,
    /// No area with that id.
    UnknownArea,
    /// A reaction this server does not show.
    UnknownReaction,
    /// Already as many broadcasters as a room allows (16).
    OnAirFull,
    /// Areas outside the floor, with bad names or duplicate ids, or more than 32.
    InvalidAreas,
    /// The signal's recipient is not in the sender's circle (or does not exist).
    NotInSameCircle,
    /// The circle the participant walked into is full.
    CircleFull,
    /// The circle the participant walked into is locked.
    CircleLocked,
    /// The area the participant walked into is at its `max_people`.
    AreaFull,
    /// No built-in floor plan has that name (`builtin:foyer`, `builtin:hall`,
    /// `builtin:garden`).
    UnknownFloorPlan,
    /// A signalling payload over the size limit.
    PayloadTooLarge,
    /// The server has no SFU, or it could not take this media connection now.
    MediaUnavailable,
    /// A session description the SFU could not apply.
    InvalidDescription,
    /// Something failed inside the server; the message was not applied.
    Internal,
    /// The server cannot reach what it shares with the other servers of its cluster (its
    /// Redis); try again in a moment.
    Unavailable,
}

impl ErrorCode {
    /// Every code, in the order of the protocol reference (the client's list of codes is
    /// generated from it; a test checks that none is missing).
    pub const ALL: &[ErrorCode] = &[
        ErrorCode::BadJson,
        ErrorCode::MissingType,
        ErrorCode::UnknownType,
        ErrorCode::InvalidMessage,
        ErrorCode::BinaryNotSupported,
        ErrorCode::VersionMismatch,
        ErrorCode::HelloRequired,
        ErrorCode::AlreadyJoined,
        ErrorCode::RoomNotFound,
        ErrorCode::RoomLocked,
        ErrorCode::PasscodeRequired,
        ErrorCode::WrongPasscode,
        ErrorCode::InviteOnly,
        ErrorCode::TooManyAttempts,
        ErrorCode::NameTaken,
        ErrorCode::Banned,
        ErrorCode::Forbidden,
        ErrorCode::InvalidAnnouncement,
        ErrorCode::InvalidToken,
        ErrorCode::TokenExpired,
        ErrorCode::RoomFull,
        ErrorCode::InvalidName,
        ErrorCode::InvalidProfile,
        ErrorCode::InvalidIcebreakers,
        ErrorCode::Waiting,
        ErrorCode::WaitingRoomFull,
        ErrorCode::NotWaiting,
        ErrorCode::InvalidWaitingMessage,
        ErrorCode::InvalidPosition,
        ErrorCode::RateLimited,
        ErrorCode::NotInCircle,
        ErrorCode::UnknownParticipant,
        ErrorCode::InvalidChat,
        ErrorCode::InvalidRtt,
        ErrorCode::NobodyOnAir,
        ErrorCode::UnknownArea,
        ErrorCode::UnknownReaction,
        ErrorCode::OnAirFull,
        ErrorCode::InvalidAreas,
        ErrorCode::NotInSameCircle,
        ErrorCode::CircleFull,
        ErrorCode::CircleLocked,
        ErrorCode::AreaFull,
        ErrorCode::UnknownFloorPlan,
        ErrorCode::PayloadTooLarge,
        ErrorCode::MediaUnavailable,
        ErrorCode::InvalidDescription,
        ErrorCode::Internal,
        ErrorCode::Unavailable,
    ];

    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadJson => "bad_json",
            ErrorCode::MissingType => "missing_type",
            ErrorCode::UnknownType => "unknown_type",
            ErrorCode::InvalidMessage => "invalid_message",
            ErrorCode::BinaryNotSupported => "binary_not_supported",
            ErrorCode::VersionMismatch => "version_mismatch",
            ErrorCode::HelloRequired => "hello_required",
            ErrorCode::AlreadyJoined => "already_joined",
            ErrorCode::RoomNotFound => "room_not_found",
            ErrorCode::RoomLocked => "room_locked",
            ErrorCode::PasscodeRequired => "passcode_required",
            ErrorCode::WrongPasscode => "wrong_passcode",
            ErrorCode::InviteOnly => "invite_only",
            ErrorCode::TooManyAttempts => "too_many_attempts",
            ErrorCode::NameTaken => "name_taken",
            ErrorCode::Banned => "banned",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::InvalidAnnouncement => "invalid_announcement",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::TokenExpired => "token_expired",
            ErrorCode::RoomFull => "room_full",
            ErrorCode::InvalidName => "invalid_name",
            ErrorCode::InvalidProfile => "invalid_profile",
            ErrorCode::InvalidIcebreakers => "invalid_icebreakers",
            ErrorCode::Waiting => "waiting",
            ErrorCode::WaitingRoomFull => "waiting_room_full",
            ErrorCode::NotWaiting => "not_waiting",
            ErrorCode::InvalidWaitingMessage => "invalid_waiting_message",
            ErrorCode::InvalidPosition => "invalid_position",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::NotInCircle => "not_in_circle",
            ErrorCode::UnknownParticipant => "unknown_participant",
            ErrorCode::InvalidChat => "invalid_chat",
            ErrorCode::InvalidRtt => "invalid_rtt",
            ErrorCode::NobodyOnAir => "nobody_on_air",
            ErrorCode::UnknownArea => "unknown_area",
            ErrorCode::UnknownReaction => "unknown_reaction",
            ErrorCode::OnAirFull => "on_air_full",
            ErrorCode::InvalidAreas => "invalid_areas",
            ErrorCode::NotInSameCircle => "not_in_same_circle",
            ErrorCode::CircleFull => "circle_full",
            ErrorCode::CircleLocked => "circle_locked",
            ErrorCode::AreaFull => "area_full",
            ErrorCode::UnknownFloorPlan => "unknown_floor_plan",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::MediaUnavailable => "media_unavailable",
            ErrorCode::InvalidDescription => "invalid_description",
            ErrorCode::Internal => "internal",
            ErrorCode::Unavailable => "unavailable",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// WebSocket close codes, and the reason each one's close frame carries. 1xxx are RFC
/// 6455's; 4xxx are Hallway's own. [`close::CODES`] is the one table of them:
/// `docs/protocol.md` lists the same codes with the same reasons (a test compares them).
pub mod close {
    /// The participant left, or the server closed normally.
    pub const NORMAL: u16 = 1000;
    /// From the server: the room closed under the session. From a client: its page went
    /// away (a reload or a closed tab).
    pub const GOING_AWAY: u16 = 1001;
    /// The client broke the WebSocket protocol (an unmasked frame, a reserved opcode or
    /// reserved bits, a control frame over 125 bytes or fragmented, a continuation with
    /// nothing to continue, a malformed close frame).
    pub const PROTOCOL_ERROR: u16 = 1002;
    /// A text frame (or a close frame's reason) that is not valid UTF-8.
    pub const INVALID_PAYLOAD: u16 = 1007;
    /// A frame or message exceeded [`crate::limits::MAX_FRAME_BYTES`].
    pub const TOO_BIG: u16 = 1009;
    /// The server is restarting or shutting down, or (in a cluster) the room moved to
    /// another node: reconnect after a short random wait (the server spreads these closes
    /// over a few seconds, too).
    pub const SERVICE_RESTART: u16 = 1012;
    /// The server cannot serve you right now (in a cluster: Redis is unreachable); an
    /// `error` with code `unavailable` came just before. Try again in a moment.
    pub const TRY_AGAIN_LATER: u16 = 1013;
    /// The handshake was refused; an `error` message with the reason came just before.
    pub const REFUSED: u16 = 4001;
    /// No `hello` arrived within [`crate::limits::HELLO_TIMEOUT_SECS`].
    pub const HELLO_TIMEOUT: u16 = 4002;
    /// A host removed you from the room.
    pub const REMOVED: u16 = 4003;
    /// A host removed you and banned your link.
    pub const BANNED: u16 = 4004;
    /// The client did not read its messages fast enough and its send queue overflowed.
    pub const SLOW_CONSUMER: u16 = 4008;
    /// The client answered no ping (nor sent anything) within the ping interval plus
    /// the ping timeout: its connection is dead.
    pub const UNRESPONSIVE: u16 = 4009;
    /// The participant resumed on a newer connection; this one is no longer used.
    pub const REPLACED: u16 = 4010;
    /// Sent by a client that gives up on a connection it believes dead and resumes on a
    /// new one: the server keeps the participant for the grace window, as for a
    /// connection that dropped. (Any other close from the client means it left.)
    pub const ABANDONED: u16 = 4011;
    /// A host turned you away from the waiting room (`turned_away` came just before).
    pub const TURNED_AWAY: u16 = 4012;

    /// A close code: its number, its constant's name (the client's copy is generated from
    /// these) and the reason its close frame carries.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Close {
        /// The code.
        pub code: u16,
        /// The name of its constant here.
        pub name: &'static str,
        /// Short, English, for logs and developers (clients act on the code).
        pub reason: &'static str,
    }

    /// Every close code with the reason its close frame carries: short, English, for logs
    /// and developers (clients act on the code). Each code has its own.
    pub const CODES: &[Close] = &[
        Close {
            code: NORMAL,
            name: "NORMAL",
            reason: "goodbye",
        },
        Close {
            code: GOING_AWAY,
            name: "GOING_AWAY",
            reason: "room closed",
        },
        Close {
            code: PROTOCOL_ERROR,
            name: "PROTOCOL_ERROR",
            reason: "protocol error",
        },
        Close {
            code: INVALID_PAYLOAD,
            name: "INVALID_PAYLOAD",
            reason: "invalid utf-8",
        },
        Close {
            code: TOO_BIG,
            name: "TOO_BIG",
            reason: "frame too large",
        },
        Close {
            code: SERVICE_RESTART,
            name: "SERVICE_RESTART",
            reason: "server restarting or room moved; reconnect",
        },
        Close {
            code: TRY_AGAIN_LATER,
            name: "TRY_AGAIN_LATER",
            reason: "try again later",
        },
        Close {
            code: REFUSED,
            name: "REFUSED",
            reason: "handshake refused",
        },
        Close {
            code: HELLO_TIMEOUT,
            name: "HELLO_TIMEOUT",
            reason: "no hello in time",
        },
        Close {
            code: REMOVED,
            name: "REMOVED",
            reason: "removed by a host",
        },
        Close {
            code: BANNED,
            name: "BANNED",
            reason: "banned",
        },
        Close {
            code: SLOW_CONSUMER,
            name: "SLOW_CONSUMER",
            reason: "fell too far behind; reconnect",
        },
        Close {
            code: UNRESPONSIVE,
            name: "UNRESPONSIVE",
            reason: "no answer to ping",
        },
        Close {
            code: REPLACED,
            name: "REPLACED",
            reason: "replaced by a newer connection",
        },
        Close {
            code: ABANDONED,
            name: "ABANDONED",
            reason: "reconnecting",
        },
        Close {
            code: TURNED_AWAY,
            name: "TURNED_AWAY",
            reason: "turned away by a host",
        },
    ];

    /// The reason a close frame with `code` carries (the table's, or a generic one for a
    /// code that is not in it).
    pub fn reason(code: u16) -> &'static str {
        CODES
            .iter()
            .find(|known| known.code == code)
            .map_or("closed", |known| known.reason)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn every_code_has_its_own_short_reason() {
            let mut codes: Vec<u16> = CODES.iter().map(|c| c.code).collect();
            codes.sort_unstable();
            codes.dedup();
            assert_eq!(codes.len(), CODES.len(), "a code is listed twice");
            let mut reasons: Vec<&str> = CODES.iter().map(|c| c.reason).collect();
            reasons.sort_unstable();
            reasons.dedup();
            assert_eq!(reasons.len(), CODES.len(), "two codes share a reason");
            let mut names: Vec<&str> = CODES.iter().map(|c| c.name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), CODES.len(), "two codes share a name");
            for Close { code, reason, .. } in CODES {
                // A close frame's payload is at most 125 bytes: the code's two and 123.
                assert!(
                    !reason.is_empty() && reason.len() <= 123,
                    "{code}: {reason:?}"
                );
                assert!(
                    !reason.contains('|') && !reason.contains('`'),
                    "{code}: {reason:?}"
                );
            }
            assert_eq!(reason(REMOVED), "removed by a host");
            assert_eq!(reason(4999), "closed");
        }
    }
}
