//! What every node of a cluster must agree on, kept in Redis: the rooms (the same
//! [`RoomStore`] the single node keeps in SQLite) and the secret that signs links.
//!
//! The store's calls are synchronous, like SQLite's: rooms are read on the first visit
//! to a room not yet running and written by operators, never on a message's path.

use std::sync::Mutex;

use redis::Commands;

use super::{ClusterError, REDIS_TIMEOUT};
use crate::feedback::{Feedback, KeptFeedback, MAX_KEPT};
use crate::room::summary::Summary;
use crate::store::{RoomRecord, RoomStore, StoreError, feedback_cutoff};

/// The hash of rooms: slug → the record as JSON.
pub(super) const ROOMS: &str = "hallway:rooms";
/// The secret that signs links, shared by every node.
const SECRET: &str = "hallway:secret";
/// The hash of uploaded floor plan images: slug → the image's bytes (at most 5 MB each).
const FLOOR_PLANS: &str = "hallway:floor-plans";

/// The hash of kept organiser summaries (`--keep-summary`): slug → the figures as JSON.
const SUMMARIES: &str = "hallway:summaries";

/// Kept accessibility feedback: a sorted set, scored by number, of the messages as JSON
/// (`{"id", "received", …}`); the counter that numbers them.
const FEEDBACK: &str = "hallway:feedback";
const FEEDBACK_IDS: &str = "hallway:feedback:ids";

/// Rooms in Redis.
pub struct RedisStore {
    client: redis::Client,
    /// One connection, made again after any failure (a reply that timed out could
    /// otherwise arrive as the answer to the next request); a std mutex because calls
    /// are short, bounded by [`REDIS_TIMEOUT`], and never span an `.await`.
    conn: Mutex<Option<redis::Connection>>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore").finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Connects to Redis at `url`.
    pub fn open(url: &str) -> Result<RedisStore, ClusterError> {
        let store = RedisStore {
            client: redis::Client::open(url)?,
            conn: Mutex::new(None),
        };
        // Fails now, at start, if Redis cannot be reached.
        store.with(|conn| redis::cmd("PING").query::<String>(conn))?;
        Ok(store)
    }

    /// Runs `call` on the connection (connecting first if need be); any failure drops
    /// the connection.
    fn with<T>(
        &self,
        call: impl FnOnce(&mut redis::Connection) -> redis::RedisResult<T>,
    ) -> redis::RedisResult<T> {
        // Every call is one command; a panic between commands leaves nothing half done.
        let mut slot = self
            .conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if slot.is_none() {
            let conn = self.client.get_connection_with_timeout(REDIS_TIMEOUT)?;
            conn.set_read_timeout(Some(REDIS_TIMEOUT))?;
            conn.set_write_timeout(Some(REDIS_TIMEOUT))?;
            *slot = Some(conn);
        }
        let Some(conn) = slot.as_mut() else {
            return Err(redis::RedisError::from(std::io::Error::other(
                "no connection",
            )));
        };
        let result = call(conn);
        if result.is_err() {
            *slot = None;
        }
        result
    }

    /// The cluster's secret for signing links: the one already there, or `candidate`
    /// if this node is the first to ask (whoever comes first wins, atomically).
    pub fn shared_secret(&self, candidate: &str) -> Result<String, ClusterError> {
        let _: Option<String> = self.with(|conn| {
            redis::cmd("SET")
                .arg(SECRET)
                .arg(candidate)
                .arg("NX")
                .query(conn)
        })?;
        Ok(self.with(|conn| conn.get(SECRET))?)
    }
}

impl From<redis::RedisError> for StoreError {
    fn from(err: redis::RedisError) -> StoreError {
        StoreError::Redis(err.to_string())
    }
}

impl RoomStore for RedisStore {
    fn list(&self) -> Result<Vec<RoomRecord>, StoreError> {
        let all: Vec<(String, String)> = self.with(|conn| conn.hgetall(ROOMS))?;
        let mut rooms = all
            .iter()
            .map(|(_, json)| serde_json::from_str(json))
            .collect::<Result<Vec<RoomRecord>, _>>()?;
        rooms.sort_by(|a, b| a.slug.cmp(&b.slug));
        Ok(rooms)
    }

    fn get(&self, slug: &str) -> Result<Option<RoomRecord>, StoreError> {
        let json: Option<String> = self.with(|conn| conn.hget(ROOMS, slug))?;
        Ok(json.map(|j| serde_json::from_str(&j)).transpose()?)
    }

    fn put(&self, room: &RoomRecord) -> Result<(), StoreError> {
        let json = serde_json::to_string(room)?;
        let _: i64 = self.with(|conn| conn.hset(ROOMS, &room.slug, json))?;
        Ok(())
    }

    fn delete(&self, slug: &str) -> Result<bool, StoreError> {
        let _: i64 = self.with(|conn| conn.hdel(FLOOR_PLANS, slug))?;
        let _: i64 = self.with(|conn| conn.hdel(SUMMARIES, slug))?;
        // Its written-down state too: a room made again under its name starts empty (the
        // owner, if it wrote once more meanwhile, deletes it again when it sees the room
        // gone: see settings.rs).
        let _: i64 = self.with(|conn| conn.del(super::state_key(slug)))?;
        let removed: i64 = self.with(|conn| conn.hdel(ROOMS, slug))?;
        Ok(removed > 0)
    }

    fn floor_plan_image(&self, slug: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.with(|conn| conn.hget(FLOOR_PLANS, slug))?)
    }

    fn put_floor_plan_image(&self, slug: &str, image: &[u8]) -> Result<(), StoreError> {
        let _: i64 = self.with(|conn| conn.hset(FLOOR_PLANS, slug, image))?;
        Ok(())
    }

    fn add_feedback(&self, feedback: &Feedback, received: u64) -> Result<u64, StoreError> {
        let id: u64 = self.with(|conn| conn.incr(FEEDBACK_IDS, 1))?;
        let json = serde_json::to_string(&KeptFeedback {
            id,
            received,
            feedback: feedback.clone(),
        })?;
        let _: i64 = self.with(|conn| conn.zadd(FEEDBACK, json, id))?;
        // The oldest beyond MAX_KEPT go (ranks 0 … -(MAX_KEPT+1)), then those past
        // their time.
        let keep = isize::try_from(MAX_KEPT).unwrap_or(isize::MAX);
        let _: i64 = self.with(|conn| conn.zremrangebyrank(FEEDBACK, 0, -(keep + 1)))?;
        self.feedback(received)?;
        Ok(id)
    }

    /// Reads every kept message (at most [`MAX_KEPT`]) and deletes those past their time.
    fn feedback(&self, now: u64) -> Result<Vec<KeptFeedback>, StoreError> {
        let all: Vec<String> = self.with(|conn| conn.zrange(FEEDBACK, 0, -1))?;
        let cutoff = feedback_cutoff(now);
        let mut kept = Vec::new();
        for json in all {
            let one: KeptFeedback = serde_json::from_str(&json)?;
            if one.received < cutoff {
                let _: i64 = self.with(|conn| conn.zrem(FEEDBACK, &json))?;
            } else {
                kept.push(one);
            }
        }
        Ok(kept)
    }

    fn delete_feedback(&self, id: u64) -> Result<bool, StoreError> {
        let removed: i64 = self.with(|conn| conn.zrembyscore(FEEDBACK, id, id))?;
        Ok(removed > 0)
    }

    fn summary(&self, slug: &str) -> Result<Option<Summary>, StoreError> {
        let json: Option<String> = self.with(|conn| conn.hget(SUMMARIES, slug))?;
        Ok(json.map(|j| serde_json::from_str(&j)).transpose()?)
    }

    fn put_summary(&self, slug: &str, summary: &Summary) -> Result<(), StoreError> {
        let json = serde_json::to_string(summary)?;
        let _: i64 = self.with(|conn| conn.hset(SUMMARIES, slug, json))?;
        Ok(())
    }

    fn delete_summary(&self, slug: &str) -> Result<bool, StoreError> {
        let removed: i64 = self.with(|conn| conn.hdel(SUMMARIES, slug))?;
        Ok(removed > 0)
    }
}
