//! An operator's changes reach a room wherever it runs. The admin API writes a room's
//! record to Redis on whichever node it was asked; the room runs on its owner. The owner
//! reads the record every second and applies what changed since it last looked: the floor
//! plan, icebreakers and the waiting room take effect live, as on a single node; a deleted
//! room closes for everyone in it, and its written-down state goes with it (a room made
//! again under the same name starts empty). (The node that was asked also applies the
//! change at once if it is the owner; applying it again is harmless: each setting is
//! replaced, not toggled.)

use std::time::Duration;

use super::{Cluster, ClusterError, REDIS_TIMEOUT};
use crate::room::RoomHandle;
use crate::store::RoomRecord;

/// How often the owner reads a room's record.
pub(crate) const RECORD_EVERY: Duration = Duration::from_secs(1);

/// What the owner found in a room's record.
#[derive(Debug, PartialEq)]
pub(crate) enum Followed {
    /// Nothing changed that a running room applies live (or the record could not be read:
    /// tried again next time).
    Same,
    /// The room was deleted: it closes.
    Deleted,
}

/// Reads the room's record and, if an operator changed it since `seen` (a new
/// revision), applies its live settings; `seen` is then the record read.
///
/// Only an operator's change counts: a host's change reaches the record too (the room
/// keeps it), but keeps the revision, so it is never applied a second time, and a
/// record read between two quick changes of a host cannot undo the second.
pub(crate) async fn follow(
    cluster: &Cluster,
    slug: &str,
    handle: &RoomHandle,
    seen: &mut RoomRecord,
) -> Followed {
    let record = match read(cluster, slug).await {
        Ok(Some(record)) => record,
        Ok(None) => return Followed::Deleted,
        Err(err) => {
            tracing::debug!(%err, room = %slug, "cannot read a room's record");
            return Followed::Same;
        }
    };
    if record.revision != seen.revision {
        if record.floor_plan != seen.floor_plan {
            let _ = handle.set_floor_plan(record.floor_plan.clone()).await;
        }
        if record.icebreakers != seen.icebreakers
            || record.icebreaker_prompts != seen.icebreaker_prompts
        {
            let _ = handle
                .set_icebreakers(record.icebreakers, record.icebreaker_prompts.clone())
                .await;
        }
        if record.waiting_room != seen.waiting_room
            || record.waiting_message != seen.waiting_message
        {
            let _ = handle
                .set_waiting_room(record.waiting_room, Some(record.waiting_message.clone()))
                .await;
        }
    }
    *seen = record;
    Followed::Same
}

/// The room's record as Redis has it now (`None`: deleted).
async fn read(cluster: &Cluster, slug: &str) -> Result<Option<RoomRecord>, ClusterError> {
    let mut redis = cluster.redis();
    let mut get = redis::cmd("HGET");
    get.arg(super::store::ROOMS).arg(slug);
    let json = tokio::time::timeout(REDIS_TIMEOUT, get.query_async::<Option<String>>(&mut redis))
        .await
        .map_err(|_| ClusterError::TimedOut)??;
    json.map(|json| serde_json::from_str(&json))
        .transpose()
        .map_err(|err| ClusterError::Room(err.to_string()))
}
