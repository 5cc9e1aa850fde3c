//! Hallway's server: the `hallway` binary's library, so that tests and benchmarks can run
//! the real thing in-process.
//!
//! Map of the crate:
//! - [`access`]: signed links (tokens) and the secret that signs them;
//! - [`cli`]: `hallway room …`, the operator's commands for rooms;
//! - [`cluster`]: cluster mode over Redis (being built: room ownership leases);
//! - [`config`]: flags and `HALLWAY_*` variables;
//! - [`floor_plan`]: the pictures under a room's floor: built-in plans, uploads and their checks;
//! - [`room`]: one room — the pure engine ([`room::engine`]) and the actor that runs it;
//! - [`rooms`]: the rooms this node serves, by slug (the seam for cluster mode);
//! - [`session`]: one task per WebSocket — handshake, checks, limits, send queue;
//! - [`http`]: the axum routes;
//! - [`invitations`]: personal links for every row of an attendee list (CSV);
//! - [`store`]: rooms kept between restarts (SQLite);
//! - [`server`]: starting and stopping the whole thing.

// Every public item is documented, and nothing is `pub` that nothing outside can reach.
#![warn(missing_docs, unreachable_pub)]

pub mod access;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod feedback;
pub mod floor_plan;
pub mod http;
pub mod invitations;
pub mod metrics;
pub mod oidc;
mod ports;
pub mod room;
pub mod rooms;
pub mod server;
pub mod session;
pub mod sfu;
pub mod statement;
pub mod store;
pub mod turn;

pub use config::Config;
pub use server::{RunningServer, StartError, start};
