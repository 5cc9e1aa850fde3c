//! Hallway's wire protocol, version 2: the single source of truth for what travels over
//! the WebSocket between the browser (or any client) and the server.
//!
//! Map of the crate:
//! - [`limits`]: the protocol version and every size and rate limit both sides respect;
//! - [`client`]: messages a client sends ([`ClientMessage`]) and how they are decoded,
//!   with a typed [`DecodeError`] for each way a frame can be wrong;
//! - [`server`]: messages the server sends ([`ServerMessage`]);
//! - [`views`]: the views of room, participants, circles and areas they carry;
//! - [`error`]: the [`ErrorCode`]s of the `error` message, and the WebSocket close codes
//!   with the one table of their reasons;
//! - [`payload`]: the opaque signalling [`Payload`] the server forwards untouched.
//!
//! Every message is a JSON text frame with a `type` tag. `docs/protocol.md` shows each one
//! with an example; `tests/fixtures/protocol/` holds the same examples as files that the
//! tests decode, so that the documentation cannot drift from these types.
//!
//! This crate describes bytes on the wire only. The room engine has its own domain types;
//! the server converts at the session boundary.

// Every public item is documented, and nothing is `pub` that nothing outside can reach.
#![warn(missing_docs, unreachable_pub)]

pub mod client;
pub mod error;
pub mod limits;
pub mod payload;
pub mod server;
pub mod views;

pub use client::{ClientMessage, DecodeError};
pub use error::{ErrorCode, close};
pub use limits::PROTOCOL_VERSION;
pub use payload::Payload;
pub use server::{
    AreaInfo, ChatInfo, CircleInfo, CircleMedia, IceServer, MediaState, ParticipantInfo, Position,
    PositionOut, Role, RoomInfo, ServerMessage,
};
