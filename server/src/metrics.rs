//! What `/metrics` reports, in the Prometheus text format: the names in one place, and the
//! recorder (one per process; servers started in one process share it).
//!
//! Counters count events; gauges are set by whoever knows the value (the room's task sets
//! its own participant and circle counts on every tick). Labels are message types, error
//! codes and room slugs, never anything about a person.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Open WebSocket connections (gauge).
pub(crate) const CONNECTIONS: &str = "hallway_connections";
/// Rooms running on this node (gauge).
pub(crate) const ROOMS: &str = "hallway_rooms";
/// Participants per room (gauge, label `room`).
pub(crate) const PARTICIPANTS: &str = "hallway_participants";
/// Circles per room (gauge, label `room`).
pub(crate) const CIRCLES: &str = "hallway_circles";
/// Messages received from clients (counter, label `type`).
pub(crate) const MESSAGES_IN: &str = "hallway_messages_in_total";
/// Messages queued for clients (counter, label `type`), one per recipient.
pub(crate) const MESSAGES_OUT: &str = "hallway_messages_out_total";
/// Position ticks a session could not take and will get coalesced later (counter).
pub(crate) const DROPPED_POSITIONS: &str = "hallway_dropped_position_updates_total";
/// News of a circle a node could not pass to a relayed page of a room owned elsewhere
/// (its slots for the node's own frames were full): the room is asked to send that page a
/// snapshot instead (counter).
pub(crate) const MISSED_NEWS: &str = "hallway_missed_news_total";
/// Sessions closed as slow consumers, by the room or by a write timeout (counter).
pub(crate) const SLOW_CONSUMERS: &str = "hallway_slow_consumer_disconnects_total";
/// Participants whose connection was lost, waiting to resume (gauge, label `room`).
pub(crate) const RECONNECTING: &str = "hallway_reconnecting";
/// Participants who came back on a new connection within the grace window (counter).
pub(crate) const RESUMES: &str = "hallway_resumes_total";
/// `error` messages sent (counter, label `code`).
pub(crate) const ERRORS: &str = "hallway_errors_total";
/// Seconds from a join's request to its admission by the room, the welcome queued, for
/// joins the room admits at once (not through the waiting room): the wait in the room's
/// inbox and the room's own work (summary over the last 40–60 s).
pub(crate) const JOIN_SECONDS: &str = "hallway_join_seconds";
/// Seconds the room's task spends building and queuing the welcome of a join admitted at
/// once; the session's task encodes it, outside this figure (summary over the last
/// 40–60 s).
pub(crate) const WELCOME_SECONDS: &str = "hallway_welcome_seconds";
/// Tracks published to the SFU (gauge).
pub(crate) const SFU_TRACKS: &str = "hallway_sfu_tracks";
/// Bytes of RTP the SFU forwarded, counted once per subscriber (counter; its rate is the
/// forwarded bit rate).
pub(crate) const SFU_FORWARDED_BYTES: &str = "hallway_sfu_forwarded_bytes_total";

/// Connections this node relays to rooms owned by other nodes of its cluster (gauge).
pub(crate) const RELAYED: &str = "hallway_cluster_relayed_connections";
/// Cluster messages lost: not published (Redis unreachable) or dropped on arrival (a
/// room's bridge full) (counter).
pub(crate) const CLUSTER_DROPPED: &str = "hallway_cluster_dropped_total";
/// Batches found missing between two from the same node (lost in Redis, or dropped on
/// arrival); the connections concerned reconnect (counter).
pub(crate) const CLUSTER_GAPS: &str = "hallway_cluster_gaps_total";
/// Rooms this node took over from a previous owner's written-down state (counter).
pub(crate) const TAKEOVERS: &str = "hallway_cluster_takeovers_total";

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Counters on the per-message and per-packet paths, looked up once (a counter is
/// otherwise a registry lookup per use): received messages by type, relayed signals,
/// forwarded media.
struct Hot {
    messages_in: Vec<(&'static str, metrics::Counter)>,
    signals_out: metrics::Counter,
    sfu_forwarded: metrics::Counter,
}

static HOT: OnceLock<Hot> = OnceLock::new();

fn hot() -> &'static Hot {
    HOT.get_or_init(|| Hot {
        messages_in: hallway_proto::client::CLIENT_MESSAGE_TYPES
            .iter()
            .map(|kind| (*kind, metrics::counter!(MESSAGES_IN, "type" => *kind)))
            .collect(),
        signals_out: metrics::counter!(MESSAGES_OUT, "type" => "signal"),
        sfu_forwarded: metrics::counter!(SFU_FORWARDED_BYTES),
    })
}

/// Counts one message received from a client.
pub(crate) fn message_in(kind: &'static str) {
    match hot().messages_in.iter().find(|(k, _)| *k == kind) {
        Some((_, counter)) => counter.increment(1),
        None => metrics::counter!(MESSAGES_IN, "type" => kind).increment(1),
    }
}

/// Counts bytes the SFU forwarded (once per subscriber).
pub(crate) fn sfu_forwarded(bytes: u64) {
    hot().sfu_forwarded.increment(bytes);
}

/// Counts one relayed signal.
pub(crate) fn signal_out() {
    hot().signals_out.increment(1);
}

/// Installs the process's recorder (once) and returns what renders it.
pub(crate) fn install() -> Option<PrometheusHandle> {
    let handle = HANDLE
        .get_or_init(|| PrometheusBuilder::new().install_recorder().ok())
        .clone();
    // The hot counters are resolved against the recorder, so only after it exists.
    hot();
    handle
}
