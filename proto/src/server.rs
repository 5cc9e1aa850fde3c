//! Messages from the server to a client. The views of the room they carry (a
//! participant, a circle, an area …) live in [`crate::views`] and are named here too.

use crate::error::ErrorCode;
use crate::payload::Payload;
use crate::views::coordinate;
pub use crate::views::{
    AloneInfo, AreaInfo, ChatInfo, CircleInfo, CircleMedia, IceServer, IcebreakerPrompt,
    MediaState, ParticipantInfo, Role, RoomInfo, SummaryInfo, SummarySample, WaitingInfo,
};
use serde::ser::SerializeTuple;
use serde::{Deserialize, Serialize, Serializer};

/// Everything the server sends.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// The answer to a successful `hello`: who you are and the whole room as it is now.
    Welcome {
        /// The protocol version the server speaks.
        version: u32,
        /// Your participant id.
        you: String,
        /// The room's settings.
        room: RoomInfo,
        /// Everyone in the room, you included; in a room of more than the server's
        /// welcome roster (`in_room` present), only those near where you appear, those
        /// on air and the members of the circles listed.
        participants: Vec<ParticipantInfo>,
        /// Every circle; with `in_room`, those near where you appear.
        circles: Vec<CircleInfo>,
        /// Present when `participants` lists only some: how many are in the room. Ask
        /// for others by id (`who`, e.g. for an id a `tick` names) or by name (`find`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        in_room: Option<u32>,
        /// Every area.
        areas: Vec<AreaInfo>,
        /// The room's recent chat messages to everyone, oldest first.
        chat: Vec<ChatInfo>,
        /// Whether the room is locked against newcomers.
        locked: bool,
        /// Who broadcasts to the whole room, in the order they started.
        #[serde(default)]
        broadcasters: Vec<String>,
        /// The hosts' announcement, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        announcement: Option<String>,
        /// STUN and TURN servers for every WebRTC connection, with credentials of your
        /// own that expire (`RTCConfiguration.iceServers`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        ice_servers: Vec<IceServer>,
        /// Give this back in `hello` after a dropped connection to resume as the same
        /// participant (a new token comes with every welcome; keep it secret).
        resume: String,
        /// `true`: this welcome resumes the participant named by the `hello`'s token;
        /// WebRTC connections to the circle may be kept (`connect` with `restart`
        /// follows for each circle member). `false`: a new participant.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        resumed: bool,
        /// `true` (only with `resumed`): the server no longer holds this participant's
        /// connections to the SFU (the room moved to another server of a cluster): close
        /// them and set up what is needed again (`sfu_offer` to broadcast; the server
        /// offers the receiving connection).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        sfu_reset: bool,
    },
    /// The whole room again, for a client that fell behind and missed changes: replaces
    /// everything the client knew of participants, circles and areas.
    Snapshot {
        /// Everyone in the room, you included; in a big room (`in_room` present), those
        /// near what your page shows, as in `welcome`.
        participants: Vec<ParticipantInfo>,
        /// Every circle; with `in_room`, those near.
        circles: Vec<CircleInfo>,
        /// As in `welcome`: present when `participants` lists only some.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        in_room: Option<u32>,
        /// Every area.
        areas: Vec<AreaInfo>,
        /// The room's recent chat messages to everyone, oldest first.
        chat: Vec<ChatInfo>,
        /// Whether the room is locked against newcomers.
        locked: bool,
        /// Who broadcasts to the whole room, in the order they started.
        #[serde(default)]
        broadcasters: Vec<String>,
        /// The hosts' announcement, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        announcement: Option<String>,
        /// The room's floor plan: where to fetch the picture drawn under the floor
        /// (same origin), or `null` for none.
        #[serde(default)]
        floor_plan: Option<String>,
    },
    /// Something the client sent was refused. The connection stays open unless it was the
    /// handshake.
    Error {
        /// What went wrong, for the program.
        code: ErrorCode,
        /// What went wrong, in English, for people reading logs.
        message: String,
        /// The circle concerned, when a circle refused entry.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        circle: Option<u64>,
        /// Seconds to wait before trying again (`too_many_attempts`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after: Option<u64>,
    },
    /// Someone entered the room.
    Joined {
        /// The newcomer.
        participant: ParticipantInfo,
    },
    /// The participants a `who` asked for (those still in the room).
    Participants {
        /// As in `welcome`.
        participants: Vec<ParticipantInfo>,
    },
    /// The answer to `find`: the participants whose name or profile line has every word
    /// of the query, best first (names that start with it first, then by name).
    Found {
        /// The query, as it was sent.
        query: String,
        /// At most [`crate::limits::MAX_FOUND`] of them.
        participants: Vec<ParticipantInfo>,
        /// How many matched in all.
        total: u32,
    },
    /// Someone left the room (or was disconnected).
    Left {
        /// Their participant id.
        id: String,
    },
    /// The latest positions of everyone who moved since the last tick; one per participant
    /// (for a page that sent `view`: see there).
    Tick {
        /// `[id, x, y]` triples.
        #[serde(serialize_with = "serialize_positions")]
        positions: Vec<Position>,
        /// In a big room (more people than the welcome roster), on the once-a-second
        /// round: how many are in the room.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        in_room: Option<u32>,
        /// In a big room, on the round: who left since the last round (a page whose view
        /// does not show where they stood is told of it here, not with `left`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        left: Vec<String>,
        /// On the round, for a page that sent `view`: the circles that changed out of its
        /// sight since the last round, as they are now (instead of a `circle_changed` each).
        /// Never in a big room: a page there is sent the circles where it looks.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        circles: Vec<CircleInfo>,
        /// On the round, for a page that sent `view`: the circles that dissolved out of
        /// its sight since the last round (instead of a `circle_dissolved` each).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        dissolved: Vec<u64>,
    },
    /// A circle formed or changed (members, centre, radius or lock).
    CircleChanged {
        /// The circle as it is now.
        circle: CircleInfo,
    },
    /// A circle dissolved: it had fewer than two members left.
    CircleDissolved {
        /// The circle's id.
        id: u64,
    },
    /// Open a WebRTC connection to a member of your circle.
    Connect {
        /// The member to connect to.
        peer: String,
        /// `true`: you make the offer; `false`: wait for theirs. Exactly one side of each
        /// pair is the initiator, so offers never collide.
        initiator: bool,
        /// `true`: one of you came back after a dropped connection. Keep an existing
        /// connection to this peer and restart its ICE (the initiator offers); without
        /// one, connect as usual.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        restart: bool,
    },
    /// Close the WebRTC connection to this participant: one of you left the circle.
    Disconnect {
        /// The participant whose connection to close.
        peer: String,
    },
    /// A signalling payload from a member of your circle.
    Signal {
        /// The true sender, stamped by the server.
        from: String,
        /// The payload as the sender sent it.
        payload: Payload,
    },
    /// A chat message for you: to the room, to your circle, or to you (or from you) alone.
    Chat {
        /// The message.
        message: ChatInfo,
    },
    /// Real-time text: someone's line as it stands now (it replaces their line before).
    Rtt {
        /// The writer, stamped by the server.
        from: String,
        /// `"circle"` (your circle) or `"on_air"` (a question to you on air).
        to: String,
        /// The line so far; empty when they cleared it.
        text: String,
        /// The line is finished: keep it; their next one starts empty.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        done: bool,
    },
    /// Someone's connection dropped and the server waits for them to come back (`on`),
    /// or they are back (`off`). Show them as reconnecting; if they do not come back
    /// within the grace window, `left` follows.
    Reconnecting {
        /// Whose.
        id: String,
        /// Reconnecting now.
        on: bool,
    },
    /// The answer to `ping`.
    Pong,
    /// Someone raised or lowered their hand.
    Hand {
        /// Whose.
        id: String,
        /// Raised now.
        raised: bool,
        /// When it went up (milliseconds since the Unix epoch, the server's clock), so
        /// that hosts answer hands oldest first; absent when lowered.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<u64>,
    },
    /// Someone reacted: show it briefly.
    Reaction {
        /// Who.
        id: String,
        /// `applause`, `thumbs_up`, `heart`, `laugh`, `party` or `thinking`.
        reaction: String,
    },
    /// Someone started or stopped broadcasting to the whole room.
    Broadcast {
        /// Who.
        id: String,
        /// Broadcasting now.
        on: bool,
    },
    /// A host invited you to broadcast: you may go on air.
    BroadcastInvite {
        /// The host.
        by: String,
    },
    /// A host asks you over to their circle (or to them): walking there is up to you.
    CircleInvite {
        /// The host.
        by: String,
    },
    /// You are in a circle that has an icebreaker: a conversation prompt, the same for
    /// every member, chosen by the server when the circle formed. Sent once as one
    /// enters the circle; show it once per circle, dismissibly.
    Icebreaker {
        /// The circle's id.
        circle: u64,
        /// The prompt.
        prompt: IcebreakerPrompt,
    },
    /// To hosts only, after `welcome` and whenever they change: the room's icebreaker
    /// settings, to edit them.
    Icebreakers {
        /// Whether new circles get a prompt.
        on: bool,
        /// The room's own prompts; empty: the built-in ones.
        prompts: Vec<String>,
    },
    /// To hosts only, every few seconds: who has not been in a circle for longer than the
    /// room's `after_s`, longest first (at most 30 of them). Nothing of it is kept.
    Alone {
        /// How long someone must be outside any circle to be listed, in seconds.
        after_s: u64,
        /// How many people are alone that long (`people` lists the longest 30).
        count: u64,
        /// The people, longest alone first.
        people: Vec<AloneInfo>,
    },
    /// To a host who asked (`summary`): aggregate figures of the room since it opened,
    /// for the organiser. Aggregates only: no names, no ids, no pairs.
    Summary(SummaryInfo),
    /// You are in the room's waiting room: a host lets you in (`welcome` follows) or turns
    /// you away (`turned_away`). Until then you see no one and nobody sees you.
    Waiting {
        /// The room's title.
        title: String,
        /// The room's message to people waiting, if it has one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
        /// Keeps one's place: a `hello` with it as `resume` (after a dropped connection or
        /// a reload, within the grace window) waits on where one was. Once admitted, it
        /// resumes one in the room until the `welcome`'s token replaces it.
        resume: String,
    },
    /// A host turned you away from the waiting room; the connection closes with
    /// `TURNED_AWAY` next.
    TurnedAway {
        /// The host's message to you, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    /// To hosts only, after `welcome` and whenever it changes: whether the room has a
    /// waiting room, and who waits in it, longest first.
    WaitingRoom {
        /// Whether newcomers wait until a host admits them.
        on: bool,
        /// The people waiting, longest first.
        people: Vec<WaitingInfo>,
    },
    /// A host turned your microphone off.
    Muted {
        /// The host.
        by: String,
    },
    /// A host locked or unlocked the room against newcomers.
    RoomLocked {
        /// Locked now.
        locked: bool,
    },
    /// A host gathered everyone around a point; the new positions follow in a `tick`.
    Gathered {
        /// The host.
        by: String,
        /// Where (whole when it is, as every coordinate).
        #[serde(serialize_with = "coordinate")]
        x: f32,
        /// Where.
        #[serde(serialize_with = "coordinate")]
        y: f32,
    },
    /// A host changed the room's areas.
    Areas {
        /// Every area now.
        areas: Vec<AreaInfo>,
    },
    /// A host or an operator changed the room's floor plan: draw this picture under the
    /// floor from now on (`null`: none).
    FloorPlan {
        /// Where to fetch the picture (same origin; the URL changes with the picture), or
        /// `null` for none.
        url: Option<String>,
    },
    /// The hosts' announcement changed.
    Announcement {
        /// The text; absent when cleared.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
    },
    /// Someone switched microphone, camera or screen share.
    Media {
        /// Whose media changed.
        id: String,
        /// The new state.
        #[serde(flatten)]
        state: MediaState,
    },
    /// The SFU's answer to the client's `sfu_offer`.
    SfuAnswer {
        /// Session description (SDP).
        sdp: String,
    },
    /// The SFU offers (or renegotiates) the connection that carries media to this client;
    /// each incoming stream's id is `p<participant id>` (camera and microphone) or
    /// `s<participant id>` (screen share). Answer with `sfu_answer`.
    SfuOffer {
        /// Session description (SDP).
        sdp: String,
        /// Which connection this offer is for. Numbers only grow within a room on one
        /// server. The same number as the last offer's: a renegotiation of that
        /// connection. A higher one: a new connection (the old one is gone on the server's
        /// side): close the old one and answer on a new one. A lower one: a late offer of
        /// a connection since retired: ignore it. Numbering starts over after a welcome
        /// that does not resume, or one with `sfu_reset`.
        #[serde(default)]
        connection: u64,
    },
    /// The server's end of the connection that sends one's media ended (it failed or
    /// timed out); one's tracks have ended for everyone. To go on publishing, close that
    /// connection and send an `sfu_offer` for a new one.
    SfuUnpublished,
    /// How much of its camera's simulcast the client should send: layers up to `top`
    /// (0 the lowest, `l`; 1 `m`; 2 `h`), the highest any receiver's view calls for now.
    /// The others are paused (`active: false`), so that no browser encodes a picture
    /// nobody is sent; a camera keeps at least its lowest layer. Sent when it changes;
    /// until the first, all.
    SfuLayers {
        /// The highest layer to send.
        top: u8,
    },
}

/// Every `type` the server may send.
pub const SERVER_MESSAGE_TYPES: &[&str] = &[
    "welcome",
    "snapshot",
    "error",
    "joined",
    "participants",
    "found",
    "left",
    "tick",
    "circle_changed",
    "circle_dissolved",
    "connect",
    "disconnect",
    "signal",
    "chat",
    "rtt",
    "reconnecting",
    "pong",
    "hand",
    "reaction",
    "broadcast",
    "broadcast_invite",
    "circle_invite",
    "icebreaker",
    "icebreakers",
    "alone",
    "summary",
    "waiting",
    "turned_away",
    "waiting_room",
    "muted",
    "room_locked",
    "gathered",
    "areas",
    "floor_plan",
    "announcement",
    "media",
    "sfu_answer",
    "sfu_offer",
    "sfu_unpublished",
    "sfu_layers",
];

impl ServerMessage {
    /// The message's `type` tag.
    pub fn kind(&self) -> &'static str {
        match self {
            ServerMessage::Welcome { .. } => "welcome",
            ServerMessage::Snapshot { .. } => "snapshot",
            ServerMessage::Error { .. } => "error",
            ServerMessage::Joined { .. } => "joined",
            ServerMessage::Participants { .. } => "participants",
            ServerMessage::Found { .. } => "found",
            ServerMessage::Left { .. } => "left",
            ServerMessage::Tick { .. } => "tick",
            ServerMessage::CircleChanged { .. } => "circle_changed",
            ServerMessage::CircleDissolved { .. } => "circle_dissolved",
            ServerMessage::Connect { .. } => "connect",
            ServerMessage::Disconnect { .. } => "disconnect",
            ServerMessage::Signal { .. } => "signal",
            ServerMessage::Chat { .. } => "chat",
            ServerMessage::Rtt { .. } => "rtt",
            ServerMessage::Reconnecting { .. } => "reconnecting",
            ServerMessage::Pong => "pong",
            ServerMessage::Broadcast { .. } => "broadcast",
            ServerMessage::BroadcastInvite { .. } => "broadcast_invite",
            ServerMessage::CircleInvite { .. } => "circle_invite",
            ServerMessage::Icebreaker { .. } => "icebreaker",
            ServerMessage::Icebreakers { .. } => "icebreakers",
            ServerMessage::Alone { .. } => "alone",
            ServerMessage::Summary(_) => "summary",
            ServerMessage::Waiting { .. } => "waiting",
            ServerMessage::TurnedAway { .. } => "turned_away",
            ServerMessage::WaitingRoom { .. } => "waiting_room",
            ServerMessage::Muted { .. } => "muted",
            ServerMessage::Hand { .. } => "hand",
            ServerMessage::Reaction { .. } => "reaction",
            ServerMessage::RoomLocked { .. } => "room_locked",
            ServerMessage::Gathered { .. } => "gathered",
            ServerMessage::Areas { .. } => "areas",
            ServerMessage::FloorPlan { .. } => "floor_plan",
            ServerMessage::Announcement { .. } => "announcement",
            ServerMessage::Media { .. } => "media",
            ServerMessage::SfuAnswer { .. } => "sfu_answer",
            ServerMessage::SfuOffer { .. } => "sfu_offer",
            ServerMessage::SfuUnpublished => "sfu_unpublished",
            ServerMessage::SfuLayers { .. } => "sfu_layers",
        }
    }

    /// Encodes the message as a JSON text frame.
    pub fn encode(&self) -> String {
        // Serialising these types cannot fail: every map key is a string and every number
        // finite (the engine refuses non-finite coordinates before they get here).
        serde_json::to_string(self).unwrap_or_else(|err| {
            format!(r#"{{"type":"error","code":"internal","message":"encode: {err}"}}"#)
        })
    }
}

/// `[id, x, y]`: one participant's position in a `tick`.
pub type Position = (String, f32, f32);

/// A position as the protocol writes it: whole coordinates without a fraction (`512`,
/// not `512.0`; ticks are most of what a page receives, and the browser walks in whole
/// units).
#[derive(Debug)]
pub struct PositionOut<'a>(pub &'a str, pub f32, pub f32);

impl Serialize for PositionOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut triple = s.serialize_tuple(3)?;
        triple.serialize_element(self.0)?;
        triple.serialize_element(&Coordinate(self.1))?;
        triple.serialize_element(&Coordinate(self.2))?;
        triple.end()
    }
}

/// A coordinate, written whole when it is.
struct Coordinate(f32);

impl Serialize for Coordinate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        coordinate(&self.0, s)
    }
}

/// Writes a tick's positions as [`PositionOut`] does.
fn serialize_positions<S: Serializer>(positions: &[Position], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(positions.iter().map(|(id, x, y)| PositionOut(id, *x, *y)))
}

/// Encodes a `signal` message without serde: the relay's hot path. The same bytes as
/// `ServerMessage::Signal { from, payload }.encode()` (a test checks).
pub fn encode_signal(from: &str, payload: &Payload) -> String {
    let raw = payload.get();
    let mut out = String::with_capacity(40 + from.len() + raw.len());
    out.push_str(r#"{"type":"signal","from":"#);
    // Ids are letters and digits; quoting through serde keeps any other string correct too.
    out.push_str(&serde_json::to_string(from).unwrap_or_else(|_| String::from("\"\"")));
    out.push_str(r#","payload":"#);
    out.push_str(raw);
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_coordinates_are_written_without_a_fraction_and_read_back() {
        let tick = ServerMessage::Tick {
            positions: vec![
                ("a".into(), 512.0, 0.25),
                ("b".into(), -0.0, 3e9),
                ("c".into(), 1e30, f32::MAX),
            ],
            in_room: None,
            left: Vec::new(),
            circles: Vec::new(),
            dissolved: Vec::new(),
        }
        .encode();
        assert_eq!(
            tick,
            r#"{"type":"tick","positions":[["a",512,0.25],["b",0,3000000000.0],["c",1e+30,3.4028235e+38]]}"#
        );
        let ServerMessage::Tick { positions, .. } =
            serde_json::from_str(&tick).expect("a tick reads back")
        else {
            panic!("not a tick")
        };
        assert_eq!(positions[0], ("a".into(), 512.0, 0.25));
        let circle = CircleInfo {
            id: 3,
            x: 521.25,
            y: 625.0,
            radius: 81.0,
            members: Vec::new(),
            locked: false,
            media: CircleMedia::default(),
        };
        let text = serde_json::to_string(&circle).expect("encodes");
        assert!(
            text.contains(r#""x":521.25,"y":625,"radius":81,"#),
            "{text}"
        );
    }

    #[test]
    fn the_fast_signal_encoding_matches_serde() {
        let payload =
            Payload::from_json(r#"{"candidate":"a \"quoted\" one","n":[1,2.5]}"#).expect("json");
        let fast = encode_signal("0123456789abcdef0123456789abcdef", &payload);
        let slow = ServerMessage::Signal {
            from: "0123456789abcdef0123456789abcdef".into(),
            payload,
        }
        .encode();
        assert_eq!(fast, slow);
    }
}
