//! A room's owner holds a lease in Redis: a key naming the owner node, with a time to
//! live. The owner renews it well before it runs out; when the owner dies the key expires
//! and another node takes the room over. Only the holder can renew or release it (compare
//! and set, in Lua on the Redis side), so a node that lost its lease — paused too long, or
//! cut off from Redis — cannot take it back from the node that took over. A holder that
//! cannot reach Redis counts its lease as lost once the time to live has passed since its
//! last renewal: by then another node may hold it.

use std::time::Duration;

use redis::Script;
use redis::aio::ConnectionManager;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Extends the lease if we hold it: 1, else 0.
const RENEW: &str = r"
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0";

/// Deletes the lease if we hold it: 1, else 0.
const RELEASE: &str = r"
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0";

/// Why a cluster operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// Redis refused, failed or could not be reached.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// Redis did not answer in time.
    #[error("redis did not answer in time")]
    TimedOut,
    /// A room this node took could not be started.
    #[error("cannot start a room: {0}")]
    Room(String),
}

/// One node's claim on one key.
#[derive(Clone)]
pub struct Lease {
    conn: ConnectionManager,
    key: String,
    holder: String,
    ttl: Duration,
}

impl std::fmt::Debug for Lease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lease")
            .field("key", &self.key)
            .field("holder", &self.holder)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl Lease {
    /// A claim on `key` by `holder` (a node id), lasting `ttl` from each renewal.
    pub fn new(conn: ConnectionManager, key: String, holder: String, ttl: Duration) -> Lease {
        Lease {
            conn,
            key,
            holder,
            ttl,
        }
    }

    fn ttl_ms(&self) -> u64 {
        u64::try_from(self.ttl.as_millis())
            .unwrap_or(u64::MAX)
            .max(1)
    }

    /// Renews the lease if we hold it, takes it if nobody does; whether we hold it now.
    pub async fn hold(&mut self) -> Result<bool, ClusterError> {
        let ttl = self.ttl_ms();
        let renewed: i64 = Script::new(RENEW)
            .key(&self.key)
            .arg(&self.holder)
            .arg(ttl)
            .invoke_async(&mut self.conn)
            .await?;
        if renewed == 1 {
            return Ok(true);
        }
        let taken: Option<String> = redis::cmd("SET")
            .arg(&self.key)
            .arg(&self.holder)
            .arg("NX")
            .arg("PX")
            .arg(ttl)
            .query_async(&mut self.conn)
            .await?;
        Ok(taken.is_some())
    }

    /// Gives the lease up, if we hold it (on a clean shutdown, so that another node takes
    /// over at once rather than when it expires); whether we held it.
    pub async fn release(&mut self) -> Result<bool, ClusterError> {
        let released: i64 = Script::new(RELEASE)
            .key(&self.key)
            .arg(&self.holder)
            .invoke_async(&mut self.conn)
            .await?;
        Ok(released == 1)
    }

    /// Who holds the lease now, if anyone.
    pub async fn holder(&mut self) -> Result<Option<String>, ClusterError> {
        Ok(redis::cmd("GET")
            .arg(&self.key)
            .query_async(&mut self.conn)
            .await?)
    }

    /// Keeps trying to hold the lease, every third of its time to live, until the
    /// returned handle is aborted or the receiver dropped. The receiver says whether this
    /// node holds it: `true` after a successful renewal, `false` once a renewal failed
    /// or Redis stayed unreachable for the time to live.
    pub fn keep(self) -> (watch::Receiver<bool>, JoinHandle<()>) {
        self.keep_from(None)
    }

    /// [`Lease::keep`] for a lease just taken at `taken` (before the request): it counts
    /// as held from the start, until its time to live has passed without a renewal.
    pub fn keep_taken(self, taken: Instant) -> (watch::Receiver<bool>, JoinHandle<()>) {
        let until = taken + self.ttl;
        self.keep_from(Some(until))
    }

    fn keep_from(
        mut self,
        mut valid_until: Option<Instant>,
    ) -> (watch::Receiver<bool>, JoinHandle<()>) {
        let (tx, rx) = watch::channel(valid_until.is_some());
        let every = self.ttl / 3;
        let task = tokio::spawn(async move {
            let mut ticker = tokio::time::interval(every);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                let started = Instant::now();
                let holds = match tokio::time::timeout(every, self.hold()).await {
                    Ok(Ok(true)) => {
                        // Counted from before the request: Redis may have set the
                        // expiry a little later, never earlier.
                        valid_until = Some(started + self.ttl);
                        true
                    }
                    Ok(Ok(false)) => {
                        valid_until = None;
                        false
                    }
                    // Unreachable: still ours until it would have run out.
                    Ok(Err(_)) | Err(_) => valid_until.is_some_and(|until| Instant::now() < until),
                };
                if tx.send_replace(holds) != holds {
                    tracing::debug!(key = %self.key, holds, "lease changed hands");
                }
                if tx.is_closed() {
                    return;
                }
            }
        });
        (rx, task)
    }
}
