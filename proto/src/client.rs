//! Messages from a client to the server, and their decoding.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::payload::Payload;

use crate::error::ErrorCode;

/// Everything a client may send. The first message on a connection must be `hello`.
///
/// Unknown fields are ignored (so a `from` field on `signal` is simply dropped: the server
/// stamps the true sender); unknown `type`s are refused with `unknown_type`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// Join a room. Answered by `welcome`, or by `error` and a close.
    Hello {
        /// Must equal [`crate::PROTOCOL_VERSION`].
        version: u32,
        /// The room's slug, as in `/r/<room>`.
        room: String,
        /// Display name; trimmed, 1..=64 characters, no control characters.
        name: String,
        /// An optional profile line beside the name (organisation and topics): trimmed,
        /// at most 80 characters, the characters a name may have; empty means none. A
        /// personal invitation that fixes one overrides it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        profile: Option<String>,
        /// A signed link's token: a host's role, or a personal invitation. Without one
        /// the open-room path admits a participant.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token: Option<String>,
        /// The room's passcode, for rooms that ask for one (`passcode_required`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        passcode: Option<String>,
        /// The `resume` token of the last `welcome`, after a dropped connection: within
        /// the room's grace window the server gives back the same participant (id,
        /// place, circle, role, hand, media) and says `resumed` in the welcome.
        /// Otherwise (unknown or expired) it is an ordinary join.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resume: Option<String>,
    },
    /// Walk to a point on the floor. Circles form, are joined and left as a result.
    Move {
        /// Floor units from the left edge.
        x: f64,
        /// Floor units from the top edge.
        y: f64,
        /// A step of a walk that goes on: the participant may leave their circle on the
        /// way, but forms and joins circles only where the walk ends (a move without it).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        walking: bool,
    },
    /// The part of the floor the page shows, in floor units, sent as the person pans and
    /// zooms (at most a few times a second). From then on, positions of people in it (and a
    /// margin around it) come on every `tick`, the others about once a second; news of a
    /// circle comes at once if the circle is in it or one is (or was) a member, otherwise
    /// with that once-a-second round. A page that never sends `view` receives everything.
    View {
        /// Left edge, floor units.
        x: f64,
        /// Top edge, floor units.
        y: f64,
        /// Width, floor units (not negative).
        width: f64,
        /// Height, floor units (not negative).
        height: f64,
    },
    /// Asks for participants by id (those a `tick` or a circle names that the page does not
    /// know: a big room's `welcome` lists only those near). Answered by `participants`.
    Who {
        /// At most [`crate::limits::MAX_WHO`] ids; ids of no one here are left out of the
        /// answer.
        ids: Vec<String>,
    },
    /// Finds participants by name or profile line (every word, ignoring case and
    /// accents). Answered by `found`.
    Find {
        /// 1..=[`crate::limits::MAX_FIND_CHARS`] characters.
        query: String,
    },
    /// Forward an opaque WebRTC payload (SDP or ICE candidate) to a member of one's circle.
    Signal {
        /// The recipient's participant id.
        to: String,
        /// Any JSON value; the server forwards it untouched.
        payload: Payload,
    },
    /// Lock or unlock one's own circle against newcomers.
    LockCircle {
        /// `true` to lock, `false` to unlock.
        locked: bool,
    },
    /// Tell the room whether one's microphone, camera and screen share are on.
    Media {
        /// Microphone on.
        mic: bool,
        /// Camera on.
        camera: bool,
        /// Screen share on.
        screen: bool,
    },
    /// Send a chat message.
    Chat {
        /// `"room"`, `"circle"` (one's own), or a participant id (a direct message).
        to: String,
        /// 1..=1000 characters.
        text: String,
    },
    /// Real-time text: the line one is typing, as it stands now, for the members of
    /// one's circle (or the people on air) to read while it is typed.
    Rtt {
        /// `"circle"` (one's own) or `"on_air"` (a question to whoever broadcasts).
        to: String,
        /// With `"circle"`: the circle the page typed for. When one has been moved to
        /// another circle meanwhile, the line is refused (`not_in_circle`) rather than
        /// shown to the new one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        circle: Option<u64>,
        /// The whole line so far (it replaces the one before): at most 200 characters,
        /// no line breaks or other control characters, no bidirectional overrides;
        /// empty clears it.
        text: String,
        /// The line is finished (Enter): the readers keep it and the next one starts.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        done: bool,
    },
    /// Raise or lower one's hand.
    Hand {
        /// `true` to raise.
        raised: bool,
    },
    /// React: `applause`, `thumbs_up`, `heart`, `laugh`, `party` or `thinking`.
    React {
        /// The reaction's name.
        reaction: String,
    },
    /// Start or stop broadcasting to the whole room (hosts, and those a host invited).
    Broadcast {
        /// `true` to start.
        on: bool,
    },
    /// Host: invite a participant to broadcast.
    InviteToBroadcast {
        /// The participant.
        id: String,
    },
    /// Host: invite someone (typically someone alone for a while) to come over to the
    /// host's circle, or to the host: they get a `circle_invite` and choose.
    InviteToCircle {
        /// The participant.
        id: String,
    },
    /// Host: turn a participant's microphone off (they may turn it on again).
    Mute {
        /// The participant.
        id: String,
    },
    /// Host: remove a participant, and with `ban` bar their link for the room's lifetime.
    Remove {
        /// The participant.
        id: String,
        /// Ban too.
        #[serde(default)]
        ban: bool,
    },
    /// Host: lock or unlock the room against newcomers.
    LockRoom {
        /// `true` to lock.
        locked: bool,
    },
    /// Host: gather everyone else around a point, or the middle of an area.
    Gather {
        /// The point (with `y`), if no area is given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        x: Option<f64>,
        /// The point (with `x`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        y: Option<f64>,
        /// An area's id instead of a point.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        area: Option<u32>,
    },
    /// Host: replace the room's areas.
    SetAreas {
        /// The new areas (at most 32).
        areas: Vec<crate::server::AreaInfo>,
    },
    /// Host: show a built-in floor plan under the room's floor (`builtin:foyer`,
    /// `builtin:hall`, `builtin:garden`), or none (`null`). Uploading an image of one's
    /// own is an HTTP request (`PUT /r/<room>/floor-plan`).
    SetFloorPlan {
        /// `builtin:<name>`, or `null` to remove the plan.
        plan: Option<String>,
    },
    /// Host: turn the room's icebreakers on or off and replace its own prompts (empty:
    /// the built-in ones, in German and English). The hosts get `icebreakers` back.
    SetIcebreakers {
        /// Whether a new circle gets a prompt.
        on: bool,
        /// The room's own prompts, at most 50 of at most 200 characters each; blank ones
        /// are dropped.
        #[serde(default)]
        prompts: Vec<String>,
    },
    /// Host: ask for the organiser summary (aggregate figures of the room since it
    /// opened); answered by `summary`, to a non-host by the error `forbidden`.
    Summary,
    /// Host: turn the room's waiting room on or off. Turning it off admits everyone
    /// waiting. The hosts get `waiting_room` back.
    SetWaitingRoom {
        /// Whether newcomers wait until a host admits them.
        on: bool,
    },
    /// Host: let people in from the waiting room: those named, or everyone waiting.
    Admit {
        /// The people waiting (ids from `waiting_room`), at most 500.
        #[serde(default)]
        ids: Vec<String>,
        /// Everyone waiting now, whatever `ids` says.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        all: bool,
    },
    /// Host: turn people in the waiting room away, with an optional message to them.
    TurnAway {
        /// The people waiting (ids from `waiting_room`), at most 500.
        ids: Vec<String>,
        /// Shown to them, at most 200 characters on one line.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    /// Host: post an announcement for everyone (empty text clears it).
    Announce {
        /// At most 500 characters.
        text: String,
    },
    /// Offer of the connection that sends one's media to the server's SFU (broadcasts,
    /// circles routed through the server); the server answers with `sfu_answer`. A new
    /// offer while that connection exists renegotiates it; to publish on a new connection,
    /// send `sfu_unpublish` first.
    SfuOffer {
        /// Session description (SDP), at most 32 KiB.
        sdp: String,
        /// The `mid` of the media section that carries one's screen share, sent besides
        /// the camera; receivers get it in a stream of its own (`s<participant id>`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        screen: Option<String>,
    },
    /// Answer to the server's `sfu_offer` for the connection that receives media from it.
    SfuAnswer {
        /// Session description (SDP), at most 32 KiB.
        sdp: String,
        /// The `connection` of the offer answered; an answer for a connection the server
        /// has since replaced is ignored.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        connection: Option<u64>,
    },
    /// The sizes at which one shows what the SFU forwards: the server sends each camera in
    /// the simulcast layer that fits (and that one's bandwidth allows). Replaces the last
    /// `sfu_view`; a stream not listed gets the layer the bandwidth allows.
    SfuView {
        /// At most [`crate::limits::MAX_SFU_VIEWS`].
        views: Vec<SfuView>,
    },
    /// Closes the connection that sends media to the SFU; one's tracks end for everyone.
    SfuUnpublish,
    /// The connection that receives media from the SFU failed, or the client could not
    /// apply the server's offer: the server closes it and offers a new one (a new
    /// `connection` number) if there is anything to receive.
    SfuRestart,
    /// Are you there? Answered by `pong`. Browsers cannot see WebSocket pings, so the
    /// client sends this every few seconds to notice a dead connection quickly.
    Ping,
    /// Leave the room; the server answers with a normal close.
    Leave,
}

/// One stream shown by a client (`sfu_view`), at its largest on the page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SfuView {
    /// The stream: `p<participant id>` (camera) or `s<participant id>` (screen share), as
    /// received from the SFU.
    pub stream: String,
    /// Width in device pixels (CSS pixels × device pixel ratio); 0 when not shown.
    pub width: u32,
    /// Height in device pixels; 0 when not shown.
    pub height: u32,
}

/// Every `type` a client may send, in protocol order.
pub const CLIENT_MESSAGE_TYPES: &[&str] = &[
    "hello",
    "move",
    "view",
    "who",
    "find",
    "signal",
    "lock_circle",
    "media",
    "chat",
    "rtt",
    "hand",
    "react",
    "broadcast",
    "invite_to_broadcast",
    "invite_to_circle",
    "mute",
    "remove",
    "lock_room",
    "gather",
    "set_areas",
    "set_floor_plan",
    "set_icebreakers",
    "summary",
    "set_waiting_room",
    "admit",
    "turn_away",
    "announce",
    "sfu_offer",
    "sfu_answer",
    "sfu_view",
    "sfu_unpublish",
    "sfu_restart",
    "ping",
    "leave",
];

impl ClientMessage {
    /// The message's `type` tag.
    pub fn kind(&self) -> &'static str {
        match self {
            ClientMessage::Hello { .. } => "hello",
            ClientMessage::Move { .. } => "move",
            ClientMessage::View { .. } => "view",
            ClientMessage::Who { .. } => "who",
            ClientMessage::Find { .. } => "find",
            ClientMessage::Signal { .. } => "signal",
            ClientMessage::LockCircle { .. } => "lock_circle",
            ClientMessage::Media { .. } => "media",
            ClientMessage::Chat { .. } => "chat",
            ClientMessage::Rtt { .. } => "rtt",
            ClientMessage::Hand { .. } => "hand",
            ClientMessage::React { .. } => "react",
            ClientMessage::Broadcast { .. } => "broadcast",
            ClientMessage::InviteToBroadcast { .. } => "invite_to_broadcast",
            ClientMessage::InviteToCircle { .. } => "invite_to_circle",
            ClientMessage::Mute { .. } => "mute",
            ClientMessage::Remove { .. } => "remove",
            ClientMessage::LockRoom { .. } => "lock_room",
            ClientMessage::Gather { .. } => "gather",
            ClientMessage::SetAreas { .. } => "set_areas",
            ClientMessage::SetFloorPlan { .. } => "set_floor_plan",
            ClientMessage::SetIcebreakers { .. } => "set_icebreakers",
            ClientMessage::Summary => "summary",
            ClientMessage::SetWaitingRoom { .. } => "set_waiting_room",
            ClientMessage::Admit { .. } => "admit",
            ClientMessage::TurnAway { .. } => "turn_away",
            ClientMessage::Announce { .. } => "announce",
            ClientMessage::SfuOffer { .. } => "sfu_offer",
            ClientMessage::SfuAnswer { .. } => "sfu_answer",
            ClientMessage::SfuView { .. } => "sfu_view",
            ClientMessage::SfuUnpublish => "sfu_unpublish",
            ClientMessage::SfuRestart => "sfu_restart",
            ClientMessage::Ping => "ping",
            ClientMessage::Leave => "leave",
        }
    }

    /// Decodes one text frame, telling apart the ways it can be wrong.
    pub fn decode(text: &str) -> Result<ClientMessage, DecodeError> {
        // First look only at the tag, so that "unknown type" and "wrong fields" are
        // distinguishable; the tag is borrowed unless it contains escapes.
        #[derive(Deserialize)]
        struct Envelope<'a> {
            #[serde(rename = "type", borrow)]
            kind: Option<Cow<'a, str>>,
        }
        let envelope: Envelope<'_> = match serde_json::from_str(text) {
            Ok(envelope) => envelope,
            Err(err) if err.is_data() => return Err(DecodeError::MissingType),
            Err(err) => return Err(DecodeError::BadJson(err.to_string())),
        };
        let Some(kind) = envelope.kind else {
            return Err(DecodeError::MissingType);
        };
        if !CLIENT_MESSAGE_TYPES.contains(&kind.as_ref()) {
            return Err(DecodeError::UnknownType(truncate(&kind, 64)));
        }
        let invalid = |err: serde_json::Error| DecodeError::InvalidMessage {
            kind: truncate(&kind, 64),
            detail: err.to_string(),
        };
        if kind == "signal" {
            // Decoded outside the tagged enum, which would buffer the payload and lose
            // its exact bytes: the server forwards them as they came.
            #[derive(Deserialize)]
            struct SignalFields {
                to: String,
                payload: Box<RawValue>,
            }
            let fields: SignalFields = serde_json::from_str(text).map_err(invalid)?;
            return Ok(ClientMessage::Signal {
                to: fields.to,
                payload: Payload(fields.payload),
            });
        }
        serde_json::from_str(text).map_err(invalid)
    }
}

/// Why a text frame could not be decoded into a [`ClientMessage`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Not JSON, or not a JSON object.
    BadJson(String),
    /// No string `type` field.
    MissingType,
    /// A `type` this protocol does not have (the name, truncated).
    UnknownType(String),
    /// A known type whose fields are missing or of the wrong type.
    InvalidMessage {
        /// The message type.
        kind: String,
        /// serde's description of the problem.
        detail: String,
    },
}

impl DecodeError {
    /// The error code the server answers with.
    pub fn code(&self) -> ErrorCode {
        match self {
            DecodeError::BadJson(_) => ErrorCode::BadJson,
            DecodeError::MissingType => ErrorCode::MissingType,
            DecodeError::UnknownType(_) => ErrorCode::UnknownType,
            DecodeError::InvalidMessage { .. } => ErrorCode::InvalidMessage,
        }
    }
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::BadJson(detail) => write!(f, "not a JSON object: {detail}"),
            DecodeError::MissingType => f.write_str("the message has no string \"type\" field"),
            DecodeError::UnknownType(kind) => write!(f, "unknown message type {kind:?}"),
            DecodeError::InvalidMessage { kind, detail } => {
                write!(f, "invalid {kind:?} message: {detail}")
            }
        }
    }
}

impl std::error::Error for DecodeError {}

fn truncate(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_each_kind_of_error() {
        assert!(matches!(
            ClientMessage::decode("{"),
            Err(DecodeError::BadJson(_))
        ));
        assert!(matches!(
            ClientMessage::decode("[1]"),
            Err(DecodeError::MissingType)
        ));
        assert!(matches!(
            ClientMessage::decode("{}"),
            Err(DecodeError::MissingType)
        ));
        assert!(matches!(
            ClientMessage::decode(r#"{"type":"fly"}"#),
            Err(DecodeError::UnknownType(kind)) if kind == "fly"
        ));
        assert!(matches!(
            ClientMessage::decode(r#"{"type":"move","x":"left","y":1}"#),
            Err(DecodeError::InvalidMessage { kind, .. }) if kind == "move"
        ));
    }

    #[test]
    fn escaped_type_is_understood() {
        let msg = ClientMessage::decode(r#"{"type":"mov\u0065","x":1,"y":2}"#).expect("decodes");
        assert_eq!(msg.kind(), "move");
    }

    #[test]
    fn forged_sender_field_is_ignored() {
        let msg = ClientMessage::decode(
            r#"{"type":"signal","to":"a","from":"b","payload":{"z":1, "a":[2]}}"#,
        )
        .expect("decodes");
        let ClientMessage::Signal { to, payload } = msg else {
            panic!("not a signal")
        };
        assert_eq!(to, "a");
        assert_eq!(
            payload.get(),
            r#"{"z":1, "a":[2]}"#,
            "the payload's bytes are kept"
        );
    }
}
