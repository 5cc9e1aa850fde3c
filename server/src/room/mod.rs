//! One room: its pure engine and the actor that runs it.
//!
//! - [`access`]: who may enter without a signed link (open, passcode, invitation only);
//! - [`error`]: why the engine refuses a command;
//! - [`model`]: domain types (ids, geometry, participants, circles, areas, settings);
//! - [`grid`]: the spatial index;
//! - [`moderation`]: bans and the link identity they attach to;
//! - [`chat`]: chat messages, their scope and the room's recent history;
//! - [`icebreakers`]: the built-in conversation prompts and what a room's own may be;
//! - [`summary`]: the organiser summary's aggregates (no names, no ids, bounded);
//! - [`media`]: what the room tells the media server (the SFU) that forwards its media;
//! - [`engine`]: the rules, synchronous and deterministic;
//! - [`inbound`]: text frames decoded and applied to a room, as the fuzz target drives it;
//! - [`actor`]: the task that owns an engine, serialises commands, ticks and fans out;
//! - [`directory`]: a concurrent mirror of circle membership for relaying signals.

pub(crate) mod access;
pub(crate) mod actor;
pub(crate) mod chat;
pub(crate) mod directory;
pub(crate) mod engine;
pub(crate) mod error;
pub(crate) mod grid;
pub(crate) mod icebreakers;
pub mod inbound;
pub(crate) mod media;
pub mod model;
pub(crate) mod moderation;
pub(crate) mod movers;
pub(crate) mod roster;
pub(crate) mod rtt;
pub(crate) mod summary;
pub(crate) mod text;
pub(crate) mod views;

pub(crate) use actor::{Departure, Seat};
pub use actor::{JoinError, RoomAbout, RoomHandle};
// The engine's input: a client message decoded, applied (see `inbound`, which the fuzz
// target drives).
pub use engine::{Command, Decoded, Room};
pub use model::{ParticipantId, RoomSettings};
