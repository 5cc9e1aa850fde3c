//! What `/metrics` reports, in the Prometheus text format: the names in one place, and the
//! recorder (one per process; servers started in one process share it).
//!
//! Counters count events; gauges are set by whoever knows the value (the room's task sets
//! its own participant and circle counts on every tick). Labels are message types, error
//! codes and room slugs, never anything about a person.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Open WebSocket connections (gauge).
pub const CONNECTIONS: &str = "hallway_connections";
/// Rooms running on this node (gauge).
pub const ROOMS: &str = "hallway_rooms";
/// Participants per room (gauge, label `room`).
pub const PARTICIPANTS: &str = "hallway_participants";
/// Circles per room (gauge, label `room`).
pub const CIRCLES: &str = "hallway_circles";
/// Messages received from clients (counter, label `type`).
pub const MESSAGES_IN: &str = "hallway_messages_in_total";
/// Messages queued for clients (counter, label `type`), one per recipient.
pub const MESSAGES_OUT: &str = "hallway_messages_out_total";
/// Position ticks a session could not take and will get coalesced later (counter).
pub const DROPPED_POSITIONS: &str = "hallway_dropped_position_updates_total";
/// Sessions closed as slow consumers (counter).
pub const SLOW_CONSUMERS: &str = "hallway_slow_consumer_disconnects_total";
/// `error` messages sent (counter, label `code`).
pub const ERRORS: &str = "hallway_errors_total";
/// Tracks published to the SFU (gauge).
pub const SFU_TRACKS: &str = "hallway_sfu_tracks";
/// Bytes of RTP the SFU forwarded, counted once per subscriber (counter; its rate is the
/// forwarded bit rate).
pub const SFU_FORWARDED_BYTES: &str = "hallway_sfu_forwarded_bytes_total";

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process's recorder (once) and returns what renders it.
pub fn install() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| PrometheusBuilder::new().install_recorder().ok())
        .clone()
}
