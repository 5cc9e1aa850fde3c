//! What every node of a cluster must agree on, kept in Redis: the rooms (the same
//! [`RoomStore`] the single node keeps in SQLite) and the secret that signs links.
//!
//! The store's calls are synchronous, like SQLite's: rooms are read on the first visit
//! to a room not yet running and written by operators, never on a message's path.

use std::sync::Mutex;

use redis::Commands;

use super::ClusterError;
use crate::store::{RoomRecord, RoomStore, StoreError};

/// The hash of rooms: slug → the record as JSON.
const ROOMS: &str = "hallway:rooms";
/// The secret that signs links, shared by every node.
const SECRET: &str = "hallway:secret";

/// Rooms in Redis.
pub struct RedisStore {
    /// One connection; a std mutex because calls are short and never span an `.await`.
    conn: Mutex<redis::Connection>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore").finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Connects to Redis at `url`.
    pub fn open(url: &str) -> Result<RedisStore, ClusterError> {
        let conn = redis::Client::open(url)?.get_connection()?;
        Ok(RedisStore {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, redis::Connection> {
        // Every call is one command; a panic between commands leaves nothing half done.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The cluster's secret for signing links: the one already there, or `candidate`
    /// if this node is the first to ask (whoever comes first wins, atomically).
    pub fn shared_secret(&self, candidate: &str) -> Result<String, ClusterError> {
        let mut conn = self.conn();
        let _: Option<String> = redis::cmd("SET")
            .arg(SECRET)
            .arg(candidate)
            .arg("NX")
            .query(&mut *conn)?;
        Ok(conn.get(SECRET)?)
    }
}

impl From<redis::RedisError> for StoreError {
    fn from(err: redis::RedisError) -> StoreError {
        StoreError::Redis(err.to_string())
    }
}

impl RoomStore for RedisStore {
    fn list(&self) -> Result<Vec<RoomRecord>, StoreError> {
        let all: Vec<(String, String)> = self.conn().hgetall(ROOMS)?;
        let mut rooms = all
            .iter()
            .map(|(_, json)| serde_json::from_str(json))
            .collect::<Result<Vec<RoomRecord>, _>>()?;
        rooms.sort_by(|a, b| a.slug.cmp(&b.slug));
        Ok(rooms)
    }

    fn get(&self, slug: &str) -> Result<Option<RoomRecord>, StoreError> {
        let json: Option<String> = self.conn().hget(ROOMS, slug)?;
        Ok(json.map(|j| serde_json::from_str(&j)).transpose()?)
    }

    fn put(&self, room: &RoomRecord) -> Result<(), StoreError> {
        let json = serde_json::to_string(room)?;
        let _: i64 = self.conn().hset(ROOMS, &room.slug, json)?;
        Ok(())
    }

    fn delete(&self, slug: &str) -> Result<bool, StoreError> {
        let removed: i64 = self.conn().hdel(ROOMS, slug)?;
        Ok(removed > 0)
    }
}
