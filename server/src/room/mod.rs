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
//! - [`actor`]: the task that owns an engine, serialises commands, ticks and fans out;
//! - [`directory`]: a concurrent mirror of circle membership for relaying signals.

pub mod access;
pub mod actor;
pub mod chat;
pub mod directory;
pub mod engine;
pub mod error;
pub mod grid;
pub mod icebreakers;
pub mod media;
pub mod model;
pub mod moderation;
pub mod rtt;
pub mod summary;
pub mod text;
pub mod views;

pub use actor::{Departure, JoinError, RoomAbout, RoomHandle, Seat};
pub use engine::{Event, Room};
pub use model::{ParticipantId, RoomSettings};
