//! Hallway's load generator and benchmarks.
//!
//! Map of the crate:
//! - [`ws`]: a minimal, cheap WebSocket client (thousands on one thread);
//! - [`spawn`]: starting the servers under test (`hallway`, PeerJS) on loopback;
//! - [`procstat`]: CPU and memory of a process, from `/proc`;
//! - [`stats`]: latency samples and percentiles;
//! - [`report`]: the printed figures;
//! - [`scenario`]: `room-N`, `idle-N` and `relay` (with its PeerJS comparison).
//!
//! `docs/benchmarks.md` has the commands and the last measured values.

pub mod procstat;
pub mod report;
pub mod scenario;
pub mod spawn;
pub mod stats;
pub mod webrtc_peer;
pub mod ws;

pub use report::Report;
