//! Hallway's server: the `hallway` binary's library, so that tests and benchmarks can run
//! the real thing in-process.
//!
//! Map of the crate:
//! - [`access`]: signed links (tokens) and the secret that signs them;
//! - [`catalogue`]: the rooms an operator keeps (create, list, change, delete), for
//!   the command line and the admin API alike;
//! - [`cli`]: `hallway room …`, the operator's commands for rooms;
//! - [`clock`]: the wall clock, read at the edge;
//! - [`cluster`]: cluster mode over Redis: room ownership leases, relaying connections
//!   to a room's owner, taking rooms over from the state written down;
//! - [`config`]: flags and `HALLWAY_*` variables;
//! - [`floor_plan`]: the pictures under a room's floor: built-in plans, uploads and their checks;
//! - [`room`]: one room — the pure engine ([`room::engine`]) and the actor that runs it;
//! - [`rooms`]: the rooms this node serves, by slug (the seam for cluster mode);
//! - [`router`]: where a connection's session runs: here, or (in a cluster) on the
//!   room's owner;
//! - [`session`]: one task per participant's connection — handshake, checks, limits;
//! - [`transport`]: connections — WebSocket framing, the bounded outgoing queue,
//!   keepalive and drain, the tunnels of a cluster;
//! - [`sfu`]: the media server (selective forwarding of WebRTC media) and [`turn`]: the
//!   built-in TURN relay;
//! - [`http`]: the axum routes;
//! - [`invitations`]: personal links for every row of an attendee list (CSV);
//! - [`oidc`]: signing in hosts with the organisation's identity provider;
//! - [`feedback`]: reports of barriers (the accessibility feedback form);
//! - [`statement`]: the accessibility statement;
//! - [`metrics`]: what `/metrics` reports (Prometheus);
//! - [`store`]: rooms kept between restarts (SQLite);
//! - [`server`]: starting and stopping the whole thing.

// Every public item is documented, and nothing is `pub` that nothing outside can reach: a
// module is `pub(crate)` unless the binary, the tests or the benchmarks use it.
// The crate's map links to modules that only the crate uses: read it with
// `cargo doc --document-private-items`.
#![allow(rustdoc::private_intra_doc_links)]
#![warn(missing_docs, unreachable_pub)]

pub mod access;
pub mod catalogue;
pub mod cli;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod feedback;
pub mod floor_plan;
pub(crate) mod http;
pub mod invitations;
pub(crate) mod metrics;
pub(crate) mod oidc;
mod ports;
pub mod room;
pub mod rooms;
pub(crate) mod router;
pub mod server;
pub(crate) mod session;
pub mod sfu;
pub mod statement;
pub mod store;
pub(crate) mod transport;
pub mod turn;

pub use config::Config;
pub use server::{RunningServer, StartError, start};
