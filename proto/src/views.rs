//! The views of the room that server messages ([`crate::ServerMessage`]) carry: the
//! room's settings, a participant, a circle, an area, a chat line, an ICE server, and the
//! summaries a host sees.

use serde::{Deserialize, Serialize, Serializer};

/// Writes a coordinate whole when it is (below 2^24 every whole `f32` is exact as `i32`).
pub(crate) fn coordinate<S: Serializer>(value: &f32, s: S) -> Result<S::Ok, S::Error> {
    if value.fract() == 0.0 && value.abs() <= 16_777_216.0 {
        s.serialize_i32(*value as i32)
    } else {
        s.serialize_f32(*value)
    }
}

/// A room's settings, as a client needs them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoomInfo {
    /// URL slug.
    pub slug: String,
    /// Title shown to people.
    pub title: String,
    /// Floor width in units (whole when it is, as every coordinate).
    #[serde(serialize_with = "coordinate")]
    pub width: f32,
    /// Floor height in units.
    #[serde(serialize_with = "coordinate")]
    pub height: f32,
    /// Most participants the room admits.
    pub max_participants: u32,
    /// Most members a circle admits.
    pub max_circle_size: u32,
    /// Two free participants closer than this form a circle.
    pub forming_distance: f32,
    /// Position ticks per second.
    pub tick_hz: u32,
    /// How fast people walk here, in floor units per second: a client glides at this
    /// pace and sends its steps on the way (`move` with `walking`).
    #[serde(default = "default_walk_speed")]
    pub walk_speed: f32,
    /// Where to fetch the picture drawn under the floor (same origin; the URL changes
    /// with the picture), or `null` for none.
    #[serde(default)]
    pub floor_plan: Option<String>,
}

/// The walking pace of rooms that do not say.
fn default_walk_speed() -> f32 {
    400.0
}

/// An icebreaker's text: a room's own prompt as the host typed it (`text`), or a
/// built-in one in English and German (`en`, `de`: show the reader's language).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IcebreakerPrompt {
    /// A room's own prompt, shown as typed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// A built-in prompt in English.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub en: Option<String>,
    /// The same built-in prompt in German.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub de: Option<String>,
}

/// The organiser summary: what `summary` carries. Times are milliseconds since the Unix
/// epoch; "people" counts everyone in the room, hosts included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryInfo {
    /// Since when the figures run: the room's opening (or, with the summary kept on disk,
    /// its first opening).
    pub since: u64,
    /// When the figures were taken.
    pub at: u64,
    /// People in the room now.
    pub participants: u32,
    /// The most people in the room at once.
    pub peak: u32,
    /// When the peak was first reached.
    pub peak_at: u64,
    /// People in a circle now.
    pub in_circles: u32,
    /// Circles open now.
    pub circles: u32,
    /// People who came into the room (each once, however often they reload).
    pub arrived: u32,
    /// Of them, how many were in at least one circle.
    pub circled: u32,
    /// Circles formed.
    pub circles_formed: u32,
    /// Median size of the circles formed (the most members each had at once); `null`
    /// before the first circle.
    pub median_circle_size: Option<u32>,
    /// Median time the circles lasted, in seconds (an open circle counts with its time so
    /// far); `null` before the first circle.
    pub median_circle_s: Option<u64>,
    /// Seconds between two samples (it doubles whenever the samples would exceed their
    /// cap, so that the whole day fits).
    pub every_s: u64,
    /// People and people in circles over time, oldest first (at most 360).
    pub samples: Vec<SummarySample>,
}

/// One point of the summary's chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummarySample {
    /// When (milliseconds since the Unix epoch).
    pub at: u64,
    /// People in the room.
    pub participants: u32,
    /// People in a circle.
    pub in_circles: u32,
}

/// Someone outside any circle, as hosts see them in `alone`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AloneInfo {
    /// The participant.
    pub id: String,
    /// How long they have been outside any circle, in seconds.
    pub for_s: u64,
}

/// Someone in the waiting room, as hosts see them in `waiting_room`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitingInfo {
    /// Their id while they wait; the same id once admitted.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Their profile line, if they gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// How long they had waited when this was sent, in seconds (a client counts on from
    /// there: clocks need not agree).
    pub waited_s: u64,
}

/// A participant as others see them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParticipantInfo {
    /// Unguessable id assigned by the server.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Their profile line (organisation and topics), if they gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Participant or host; left out for a participant.
    #[serde(default, skip_serializing_if = "Role::is_participant")]
    pub role: Role,
    /// Position on the floor (whole when it is, as in `tick`).
    #[serde(serialize_with = "coordinate")]
    pub x: f32,
    /// Position on the floor.
    #[serde(serialize_with = "coordinate")]
    pub y: f32,
    /// The circle they are in; left out when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub circle: Option<u64>,
    /// Microphone, camera and screen share.
    #[serde(flatten)]
    pub media: MediaState,
    /// Hand raised; left out when it is down.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hand: bool,
    /// When the hand went up (milliseconds since the Unix epoch); absent when it is down.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hand_at: Option<u64>,
    /// Their connection dropped and the server waits for them to come back.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reconnecting: bool,
}

/// What a participant may do in a room.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everyone who enters by the room link.
    #[default]
    Participant,
    /// Hosts run the event (host powers arrive with signed host links).
    Host,
}

impl Role {
    /// Everyone who is not a host (the role a listing leaves out).
    pub fn is_participant(&self) -> bool {
        *self == Role::Participant
    }
}

/// Whether microphone, camera and screen share are on; each is left out when it is off (a
/// welcome to a big room lists about a thousand people, most with something off).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaState {
    /// Microphone on.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mic: bool,
    /// Camera on.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub camera: bool,
    /// Screen share on.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub screen: bool,
}

/// A circle as everyone sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CircleInfo {
    /// Circle id, unique within the room.
    pub id: u64,
    /// Centre on the floor (whole when it is, as in `tick`).
    #[serde(serialize_with = "coordinate")]
    pub x: f32,
    /// Centre on the floor.
    #[serde(serialize_with = "coordinate")]
    pub y: f32,
    /// Walking closer than this to the centre joins the circle.
    #[serde(serialize_with = "coordinate")]
    pub radius: f32,
    /// Member ids, in the order they joined.
    pub members: Vec<String>,
    /// Locked circles admit no newcomers (hosts excepted); left out when not.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub locked: bool,
    /// How the members' media travels: `mesh` (browser to browser, after `connect`) or
    /// `sfu` (through the server: publish with `sfu_offer`, no `connect` is sent).
    #[serde(default, skip_serializing_if = "CircleMedia::is_mesh")]
    pub media: CircleMedia,
}

/// A STUN or TURN server, as `RTCIceServer`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceServer {
    /// `turn:host:port?transport=udp`, `stun:host:port`, ...
    pub urls: Vec<String>,
    /// TURN user name: `<expiry, Unix seconds>:<participant id>` (the TURN REST API format).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// TURN password: base64 of HMAC-SHA1 of the user name with the shared secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// How a circle's media travels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CircleMedia {
    /// Directly between the members' browsers (small circles).
    #[default]
    Mesh,
    /// Through the server's SFU (large circles, rooms in privacy mode).
    Sfu,
}

impl CircleMedia {
    /// Whether this is the default, `mesh` (omitted on the wire).
    pub fn is_mesh(&self) -> bool {
        *self == CircleMedia::Mesh
    }
}

/// A chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatInfo {
    /// Unique within the room, increasing.
    pub id: u64,
    /// The sender's id.
    pub from: String,
    /// The sender's name when they sent it.
    pub name: String,
    /// `"room"`, `"circle"`, or the recipient's id for a direct message.
    pub to: String,
    /// The text.
    pub text: String,
    /// When, in milliseconds since the Unix epoch.
    pub at: u64,
}

/// A named rectangle of the floor with optional rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AreaInfo {
    /// Area id, unique within the room.
    pub id: u32,
    /// Label shown on the floor.
    pub name: String,
    /// Left edge (whole when it is, as every coordinate).
    #[serde(serialize_with = "coordinate")]
    pub x: f32,
    /// Top edge.
    #[serde(serialize_with = "coordinate")]
    pub y: f32,
    /// Width.
    #[serde(serialize_with = "coordinate")]
    pub width: f32,
    /// Height.
    #[serde(serialize_with = "coordinate")]
    pub height: f32,
    /// Broadcasters stand here.
    pub stage: bool,
    /// No circles form here.
    pub quiet: bool,
    /// Most people allowed inside, if limited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_people: Option<u32>,
}
