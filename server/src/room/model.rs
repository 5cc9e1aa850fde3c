//! The room's domain types: ids, geometry, participants, circles, areas and settings.
//!
//! These are not the wire types of `hallway-proto`; the session converts between the two.

use std::fmt;

// Refusals have a file of their own: the modules the types here are made of (icebreakers,
// moderation) refuse with them too.
pub use super::error::EngineError;

/// A participant's id: 64 random bits drawn by the room actor, so that nobody can guess
/// another's id and signal or address them. Its text is [`ID_LEN`] letters and digits
/// (base 62): every `tick` names each mover by it, so its length is most of a position's
/// bytes (see docs/decisions.md). Ids restored from a cluster snapshot written before
/// (128 bits) are longer; [`ParticipantId::from_stored`] reads their old form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ParticipantId(pub u128);

/// The characters of a drawn id's text.
pub const ID_LEN: usize = 11;

/// The characters of the longest id text (a 128-bit id).
const ID_MAX_LEN: usize = 22;

/// The digits of an id's text, by value.
const ID_DIGITS: &[u8; 62] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

impl ParticipantId {
    /// An id no participant ever has (the room never draws it): what malformed ids map to.
    pub const NOBODY: ParticipantId = ParticipantId(0);

    /// Draws a new id: 64 random bits (never [`Self::NOBODY`]).
    pub fn draw() -> ParticipantId {
        loop {
            let bits = rand::random::<u64>();
            if bits != 0 {
                return ParticipantId(u128::from(bits));
            }
        }
    }

    /// An id as a snapshot stores it: the text [`Display`](fmt::Display) writes, or the
    /// 32 hex digits ids were written as before they became shorter.
    pub fn from_stored(text: &str) -> Result<Self, EngineError> {
        if text.len() == 32 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return u128::from_str_radix(text, 16)
                .map(ParticipantId)
                .map_err(|_| EngineError::UnknownParticipant);
        }
        text.parse()
    }
}

impl fmt::Display for ParticipantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = [b'0'; ID_MAX_LEN];
        let mut at = ID_MAX_LEN;
        let mut rest = self.0;
        // A drawn id fits 64 bits, whose division by 62 is a multiplication (128-bit
        // division is a call): ids are written for every position of every tick.
        while rest > u128::from(u64::MAX) {
            at -= 1;
            // `rest % 62` is below 62: a valid index.
            text[at] = ID_DIGITS[(rest % 62) as usize];
            rest /= 62;
        }
        let mut rest = rest as u64;
        while rest > 0 {
            at -= 1;
            text[at] = ID_DIGITS[(rest % 62) as usize];
            rest /= 62;
        }
        let start = at.min(ID_MAX_LEN - ID_LEN);
        // Every byte is one of the ASCII `ID_DIGITS` (or the padding '0').
        f.write_str(std::str::from_utf8(&text[start..]).map_err(|_| fmt::Error)?)
    }
}

impl std::str::FromStr for ParticipantId {
    type Err = EngineError;

    /// Parses the form [`Display`](fmt::Display) writes; nothing else (one text per id).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let canonical = text.len() == ID_LEN
            || (text.len() > ID_LEN && text.len() <= ID_MAX_LEN && !text.starts_with('0'));
        if !canonical {
            return Err(EngineError::UnknownParticipant);
        }
        let mut value: u128 = 0;
        for b in text.bytes() {
            let digit = match b {
                b'0'..=b'9' => b - b'0',
                b'a'..=b'z' => b - b'a' + 10,
                b'A'..=b'Z' => b - b'A' + 36,
                _ => return Err(EngineError::UnknownParticipant),
            };
            value = value
                .checked_mul(62)
                .and_then(|v| v.checked_add(u128::from(digit)))
                .ok_or(EngineError::UnknownParticipant)?;
        }
        Ok(ParticipantId(value))
    }
}

/// A circle's id, unique within its room; ids are not reused while the room lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CircleId(pub u64);

/// A point on the floor, in floor units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// From the left edge.
    pub x: f32,
    /// From the top edge.
    pub y: f32,
}

impl Point {
    /// A point.
    pub fn new(x: f32, y: f32) -> Self {
        Point { x, y }
    }

    /// Squared distance, for comparisons without a square root.
    pub fn distance_sq(self, other: Point) -> f32 {
        let (dx, dy) = (self.x - other.x, self.y - other.y);
        dx * dx + dy * dy
    }

    /// Euclidean distance.
    pub fn distance(self, other: Point) -> f32 {
        self.distance_sq(other).sqrt()
    }
}

/// An axis-aligned rectangle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    /// Left edge.
    pub x: f32,
    /// Top edge.
    pub y: f32,
    /// Width.
    pub width: f32,
    /// Height.
    pub height: f32,
}

impl Rect {
    /// Whether the point lies inside (edges included).
    pub fn contains(&self, p: Point) -> bool {
        p.x >= self.x && p.x <= self.x + self.width && p.y >= self.y && p.y <= self.y + self.height
    }
}

/// A named rectangle of the floor with optional rules.
#[derive(Debug, Clone, PartialEq)]
pub struct Area {
    /// Unique within the room.
    pub id: u32,
    /// Label.
    pub name: String,
    /// Where it is.
    pub rect: Rect,
    /// Broadcasters stand here.
    pub stage: bool,
    /// No circles form here.
    pub quiet: bool,
    /// Most people inside at once, if limited.
    pub max_people: Option<u32>,
}

/// What a participant may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Anyone who entered by the room link.
    Participant,
    /// Runs the event: may, among other things, enter locked circles.
    Host,
}

/// Whether microphone, camera and screen share are on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Media {
    /// Microphone on.
    pub mic: bool,
    /// Camera on.
    pub camera: bool,
    /// Screen share on.
    pub screen: bool,
}

/// Someone in the room.
#[derive(Debug, Clone, PartialEq)]
pub struct Participant {
    /// Server-assigned, unguessable.
    pub id: ParticipantId,
    /// Validated display name.
    pub name: DisplayName,
    /// Organisation and topics, shown beside the name, if they gave a line.
    pub profile: Option<ProfileLine>,
    /// Participant or host.
    pub role: Role,
    /// Where they stand.
    pub position: Point,
    /// The circle they are in, if any; at most one.
    pub circle: Option<CircleId>,
    /// Microphone, camera, screen.
    pub media: Media,
    /// Hand raised (to ask a question during a talk): since when, in milliseconds since
    /// the Unix epoch, so that hosts answer hands oldest first.
    pub hand: Option<u64>,
    /// Their connection dropped; they keep their place while the server waits for them
    /// to resume.
    pub reconnecting: bool,
    /// Since when (milliseconds on the room's own clock) they have been outside any circle,
    /// as last noted ([`super::engine::Room::note_alone`]); `None` in a circle.
    pub alone_since: Option<u64>,
    /// Their arrival is counted in the organiser summary (once per participant).
    pub counted: bool,
    /// They have been in a circle (the summary's share counts each participant once).
    pub circled: bool,
    /// The signed link they came in with, if any (what a ban attaches to).
    pub link: Option<super::moderation::LinkIdentity>,
    /// Moved since the last tick: positions are coalesced per tick through this flag.
    pub(crate) moved: bool,
}

/// A conversation: 2..=max members around a centre.
#[derive(Debug, Clone, PartialEq)]
pub struct Circle {
    /// Unique within the room.
    pub id: CircleId,
    /// The members' centroid at the last membership change; it does not wander while
    /// members shuffle, so that leaving is decided against a fixed point.
    pub centre: Point,
    /// Join radius; grows with the member count.
    pub radius: f32,
    /// In the order they joined.
    pub members: Vec<ParticipantId>,
    /// Locked circles admit no newcomers except hosts.
    pub locked: bool,
    /// The members' media goes through the SFU rather than browser to browser.
    pub routed: bool,
    /// The conversation prompt chosen when it formed, if the room had icebreakers on.
    pub icebreaker: Option<super::icebreakers::Icebreaker>,
}

/// A trimmed display name of 1..=64 characters with a visible letter or digit and no
/// control, bidirectional or invisible characters (see `text.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    /// Validates and trims a name.
    pub fn parse(raw: &str) -> Result<DisplayName, EngineError> {
        let name = raw.trim();
        let chars = name.chars().count();
        if chars == 0 || chars > hallway_proto::limits::MAX_NAME_CHARS {
            return Err(EngineError::InvalidName);
        }
        // Control characters (newlines, bidi overrides) let one name spoof others' in
        // lists and logs; invisible ones make a name that shows as nothing.
        if name.chars().any(super::text::refused_in_label) || !super::text::has_visible_letter(name)
        {
            return Err(EngineError::InvalidName);
        }
        Ok(DisplayName(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An optional line beside a name (organisation and topics, e.g. "Stadt Bamberg · Smart
/// City"): trimmed, 1..=80 characters, with the characters a name may have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileLine(String);

impl ProfileLine {
    /// Validates and trims a line; an empty (or blank) one is no line.
    pub fn parse(raw: &str) -> Result<Option<ProfileLine>, EngineError> {
        let line = raw.trim();
        if line.is_empty() {
            return Ok(None);
        }
        if line.chars().count() > hallway_proto::limits::MAX_PROFILE_CHARS
            || line.chars().any(super::text::refused_in_label)
            || !super::text::has_visible_letter(line)
        {
            return Err(EngineError::InvalidProfile);
        }
        Ok(Some(ProfileLine(line.to_owned())))
    }

    /// The line.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A room's settings: what the engine needs to apply the rules.
#[derive(Debug, Clone, PartialEq)]
pub struct RoomSettings {
    /// URL slug.
    pub slug: String,
    /// Title.
    pub title: String,
    /// Floor width.
    pub width: f32,
    /// Floor height.
    pub height: f32,
    /// Most participants admitted.
    pub max_participants: u32,
    /// Most members per circle (at least 2).
    pub max_circle_size: u32,
    /// Two free participants closer than this form a circle.
    pub forming_distance: f32,
    /// A member leaves when farther than radius plus this margin from the centre, so that
    /// standing on the edge does not flap in and out.
    pub hysteresis: f32,
    /// Named rectangles with rules; at most [`MAX_AREAS`].
    pub areas: Vec<Area>,
    /// Circles larger than this send their media through the SFU (at least 2); they go
    /// back to a mesh only below it, so that one person stepping in and out of a circle
    /// of this size does not switch everyone's media back and forth.
    pub mesh_threshold: u32,
    /// Privacy mode: every circle's media goes through the SFU, so that no participant
    /// ever learns another's network address.
    pub privacy: bool,
    /// The picture drawn under the floor, if any.
    pub floor_plan: Option<crate::floor_plan::FloorPlan>,
    /// How fast people walk, in floor units per second: clients glide at this pace and
    /// send their steps on the way. Between [`MIN_WALK_SPEED`] and [`MAX_WALK_SPEED`].
    pub walk_speed: f32,
    /// Hosts see who has been outside any circle for longer than this many seconds
    /// (operators set it in minutes, 1 to [`MAX_ALONE_MINUTES`]).
    pub alone_after_s: u32,
    /// Whether a new circle gets an icebreaker (a conversation prompt).
    pub icebreakers: bool,
    /// The room's own icebreakers (checked by `icebreakers::parse_prompts`); empty: the
    /// built-in ones.
    pub icebreaker_prompts: Vec<String>,
    /// Newcomers wait until a host admits them (hosts never wait).
    pub waiting_room: bool,
    /// Shown to people in the waiting room (checked like a title, at most 200
    /// characters); empty: the client's own words.
    pub waiting_message: String,
}

/// The default wait before hosts see someone as alone, in minutes.
pub const DEFAULT_ALONE_MINUTES: u32 = 3;
/// The longest wait before hosts see someone as alone a room may set, in minutes.
pub const MAX_ALONE_MINUTES: u32 = 120;

/// The slowest walking pace a room may set (floor units per second).
pub const MIN_WALK_SPEED: f32 = 50.0;
/// The fastest walking pace: at ten steps a second (the client's rate, half of what the
/// server allows), a step stays under a circle's join radius.
pub const MAX_WALK_SPEED: f32 = 2000.0;
/// The default pace: a room of 2400 units is crossed in six seconds.
pub const DEFAULT_WALK_SPEED: f32 = 400.0;

/// Most areas a room may have.
pub const MAX_AREAS: usize = 32;

impl RoomSettings {
    /// Defaults for a room: 2400 × 1600 floor, 1500 people, circles of up to 15.
    pub fn new(slug: &str, title: &str) -> Self {
        RoomSettings {
            slug: slug.to_owned(),
            title: title.to_owned(),
            width: 2400.0,
            height: 1600.0,
            max_participants: 1500,
            max_circle_size: 15,
            forming_distance: 90.0,
            hysteresis: 40.0,
            areas: Vec::new(),
            mesh_threshold: 4,
            privacy: false,
            floor_plan: None,
            walk_speed: DEFAULT_WALK_SPEED,
            alone_after_s: DEFAULT_ALONE_MINUTES * 60,
            icebreakers: true,
            icebreaker_prompts: Vec::new(),
            waiting_room: false,
            waiting_message: String::new(),
        }
    }

    /// The join radius of a circle with `members` members: room for one more avatar per
    /// member around the rim.
    pub fn circle_radius(&self, members: usize) -> f32 {
        self.forming_distance * 0.5 + 18.0 * members as f32
    }

    /// Checks the settings make sense; the engine relies on these.
    pub fn validate(&self) -> Result<(), EngineError> {
        let sane = self.width.is_finite()
            && self.height.is_finite()
            && self.width >= 100.0
            && self.height >= 100.0
            && self.width <= 100_000.0
            && self.height <= 100_000.0
            && self.max_circle_size >= 2
            && self.mesh_threshold >= 2
            && self.max_participants >= 1
            && self.forming_distance.is_finite()
            && self.forming_distance > 0.0
            && self.hysteresis.is_finite()
            && self.hysteresis >= 0.0
            && (MIN_WALK_SPEED..=MAX_WALK_SPEED).contains(&self.walk_speed)
            && (1..=MAX_ALONE_MINUTES * 60).contains(&self.alone_after_s)
            && self.areas.len() <= MAX_AREAS;
        if sane {
            Ok(())
        } else {
            Err(EngineError::InvalidSettings)
        }
    }
}

/// Why walking into a circle did not make one a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// At the room's maximum circle size.
    Full,
    /// Locked by a member.
    Locked,
}

/// The reactions people can send: a fixed set, so that nothing else can be shown to a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reaction {
    /// 👏
    Applause,
    /// 👍
    ThumbsUp,
    /// ❤️
    Heart,
    /// 😂
    Laugh,
    /// 🎉
    Party,
    /// 🤔
    Thinking,
}

impl Reaction {
    /// Every reaction, in the order the client shows them.
    pub const ALL: [Reaction; 6] = [
        Reaction::Applause,
        Reaction::ThumbsUp,
        Reaction::Heart,
        Reaction::Laugh,
        Reaction::Party,
        Reaction::Thinking,
    ];

    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            Reaction::Applause => "applause",
            Reaction::ThumbsUp => "thumbs_up",
            Reaction::Heart => "heart",
            Reaction::Laugh => "laugh",
            Reaction::Party => "party",
            Reaction::Thinking => "thinking",
        }
    }

    /// The reaction with this wire name.
    pub fn from_name(name: &str) -> Option<Reaction> {
        Reaction::ALL.into_iter().find(|r| r.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drawn_id_is_eleven_letters_and_digits_and_reads_back() {
        for _ in 0..1000 {
            let id = ParticipantId::draw();
            let text = id.to_string();
            assert_eq!(text.len(), ID_LEN, "{text}");
            assert!(text.bytes().all(|b| b.is_ascii_alphanumeric()), "{text}");
            assert_eq!(text.parse::<ParticipantId>(), Ok(id));
        }
        for id in [
            1,
            61,
            62,
            u128::from(u64::MAX),
            u128::from(u64::MAX) + 1,
            u128::MAX,
        ] {
            let text = ParticipantId(id).to_string();
            assert_eq!(
                text.parse::<ParticipantId>(),
                Ok(ParticipantId(id)),
                "{text}"
            );
        }
        assert_eq!(ParticipantId(61).to_string(), "0000000000Z");
        assert_eq!(ParticipantId(u128::MAX).to_string().len(), 22);
    }

    #[test]
    fn an_id_has_one_text() {
        for text in [
            "",
            "0000000000",                       // too short
            "0000000000Z0",                     // padded beyond eleven
            "000000000-Z",                      // not a digit
            "0000000000é",                      // not ASCII
            "zzzzzzzzzzzzzzzzzzzzzz",           // beyond 128 bits
            "ZZZZZZZZZZZZZZZZZZZZZZZ",          // too long
            "0123456789abcdef0123456789abcdef", // the old form, from a client
        ] {
            assert_eq!(
                text.parse::<ParticipantId>(),
                Err(EngineError::UnknownParticipant),
                "{text}"
            );
        }
    }

    #[test]
    fn a_snapshot_written_with_the_old_ids_reads_back() {
        let old = ParticipantId::from_stored("0123456789abcdef0123456789abcdef");
        assert_eq!(old, Ok(ParticipantId(0x0123456789abcdef0123456789abcdef)));
        let now = ParticipantId::draw();
        assert_eq!(ParticipantId::from_stored(&now.to_string()), Ok(now));
    }
}
