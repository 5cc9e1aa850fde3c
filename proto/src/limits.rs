//! The protocol version and the limits every client and server must respect.
//!
//! They live in the protocol crate so that the server enforces, the client respects and the
//! documentation quotes one set of numbers.

/// The protocol version a client names in `hello`. A different number is refused with
/// `version_mismatch`, so that old clients fail loudly instead of misreading new messages.
pub const PROTOCOL_VERSION: u32 = 2;

/// Largest WebSocket frame or message the server accepts; larger ones close with 1009.
/// An SDP offer with many candidates stays well below this.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

/// Largest signalling payload (SDP or ICE candidate) once encoded as JSON.
pub const MAX_SIGNAL_PAYLOAD_BYTES: usize = 32 * 1024;

/// Display names are 1..=64 characters after trimming: long German names and titles fit.
pub const MAX_NAME_CHARS: usize = 64;

/// A profile line (organisation and topics, shown beside the name) is at most 80
/// characters after trimming.
pub const MAX_PROFILE_CHARS: usize = 80;

/// A room's own icebreakers: at most this many prompts, each at most
/// [`MAX_ICEBREAKER_CHARS`] characters after trimming.
pub const MAX_ICEBREAKERS: usize = 50;
/// Longest icebreaker prompt, in characters after trimming.
pub const MAX_ICEBREAKER_CHARS: usize = 200;

/// Room slugs are short, lowercase and URL-safe: `a-z`, `0-9` and `-`.
pub const MAX_ROOM_SLUG_CHARS: usize = 64;

/// Coordinates beyond this magnitude are refused as out of range; coordinates between the
/// floor's edge and this bound are clamped to the floor. Non-finite ones are always refused.
pub const MAX_COORDINATE: f64 = 1_000_000.0;

/// Sustained `move` messages a connection may send per second, and the burst above it.
/// The browser client sends at most one every 100 ms while walking.
pub const MOVES_PER_SECOND: u32 = 20;
/// Burst allowance for `move`.
pub const MOVE_BURST: u32 = 40;

/// Sustained `signal` messages per second and their burst: ICE gathering sends candidates
/// in quick bursts when a circle forms.
pub const SIGNALS_PER_SECOND: u32 = 50;
/// Burst allowance for `signal`.
pub const SIGNAL_BURST: u32 = 200;

/// Sustained rate of every other message (lock, media, ...) and its burst.
pub const OTHER_PER_SECOND: u32 = 10;
/// Burst allowance for other messages.
pub const OTHER_BURST: u32 = 20;

/// A connection that does not complete `hello` within this time is closed (the default;
/// operators may change it).
pub const HELLO_TIMEOUT_SECS: u64 = 10;

/// Longest chat message, in characters after trimming.
pub const MAX_CHAT_CHARS: usize = 1000;

/// Room chat messages a late joiner receives in `welcome`.
pub const CHAT_HISTORY: usize = 100;

/// Sustained chat messages per second per connection, and the burst above it.
pub const CHAT_PER_SECOND: u32 = 2;
/// Burst allowance for `chat`.
pub const CHAT_BURST: u32 = 10;

/// Longest real-time text line (`rtt`), in characters.
pub const MAX_RTT_CHARS: usize = 200;

/// Sustained `rtt` messages per second per connection (a page sends at most one every
/// 100 ms while someone types), and the burst above it.
pub const RTT_PER_SECOND: u32 = 15;
/// Burst allowance for `rtt`.
pub const RTT_BURST: u32 = 30;

/// Most ids one `who` may ask for.
pub const MAX_WHO: usize = 100;

/// Longest `find` query, in characters.
pub const MAX_FIND_CHARS: usize = 64;

/// Most participants one `found` lists.
pub const MAX_FOUND: usize = 20;

/// Most streams one `sfu_view` may list.
pub const MAX_SFU_VIEWS: usize = 64;

/// Largest width or height an `sfu_view` may give, in device pixels.
pub const MAX_VIEW_PIXELS: u32 = 16_384;
