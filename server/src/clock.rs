//! The wall clock, read in one place: what is judged against it (a token's expiry, a
//! TURN credential's, when a record was written) takes `now` from here at the edge.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch, now.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
