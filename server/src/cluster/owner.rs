//! A room's owner: taking a room (its lease), starting it (from the state its previous
//! owner wrote down, if any), keeping it (renewing the lease, writing the state down
//! every second), giving it up; and running the sessions of clients connected to other
//! nodes, whose frames arrive on the room's channel (the *bridge*) and whose writes go
//! back to their nodes in batches (the *forwarders*).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hallway_proto::{ClientMessage, close};
use redis::Script;
use tokio::sync::{Semaphore, mpsc};
use tokio::time::Instant;
use tungstenite::protocol::frame::Utf8Bytes;

use super::settings::{self, Followed};
use super::wire::{self, Gaps, Numbering, Up};
use super::{
    Cluster, ClusterError, Lease, NODE_SILENCE, REDIS_TIMEOUT, Route, owner_key, room_channel,
    state_key,
};
use crate::room::RoomHandle;
use crate::room::engine::snapshot::WrittenState;
use crate::store::{RoomRecord, RoomStore};
use crate::transport::{Down, Frame, Tunnel};

/// Frames for one node's clients waiting to be published before sessions wait.
pub(crate) const FORWARD_QUEUE: usize = 65_536;

/// Most frames (per connection) in one published batch.
const FORWARD_BATCH: usize = 8192;

/// Most bytes of distinct frames in one published batch.
const FORWARD_BYTES: usize = 4 << 20;

/// Up batches for one room waiting for its bridge; beyond this they are dropped (and
/// counted): Redis pub/sub is at-most-once anyway, and a client that lost a message
/// resumes.
const BRIDGE_QUEUE: usize = 4096;

/// Frames from one relayed client waiting for its session (a hundred seconds of walking
/// at the highest rate a browser sends).
const TUNNEL_QUEUE: usize = 1024;

/// How often the owner writes a room's state down.
const STATE_EVERY: Duration = Duration::from_secs(1);

/// The least time between two writes of a room's state after changes worth writing at
/// once: a room of thousands that fills up is not written more often than this.
const STATE_SOON: Duration = Duration::from_millis(200);

/// Writes a room's state if this node still holds the room's lease (so that an owner
/// that lost its lease cannot overwrite its successor's state).
const WRITE_STATE: &str = r"
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('set', KEYS[2], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0";

impl Cluster {
    /// Where the session of a connection that said `hello` runs: here if this node owns
    /// the room or takes it now, on its owner otherwise.
    pub async fn route(&self, hello: &Utf8Bytes) -> Route {
        let Ok(ClientMessage::Hello { room: slug, .. }) = ClientMessage::decode(hello) else {
            // Not a hello: the handshake refuses it here.
            return Route::Here;
        };
        if self.inner.ctx.rooms.running(&slug) || !crate::rooms::is_valid_slug(&slug) {
            return Route::Here;
        }
        let store = self.inner.store.clone();
        let looked_up = slug.clone();
        let record = match tokio::task::spawn_blocking(move || store.get(&looked_up)).await {
            Ok(Ok(record)) => record,
            Ok(Err(err)) => {
                tracing::warn!(%err, "cannot read the rooms from Redis");
                return Route::Unavailable;
            }
            Err(_) => return Route::Unavailable,
        };
        match record {
            Some(record) => self.claim(record).await,
            // No such room: the handshake says so.
            None => Route::Here,
        }
    }

    /// Takes the room's lease if nobody holds it.
    async fn claim(&self, record: RoomRecord) -> Route {
        let _owning = self.inner.owning.lock().await;
        let slug = record.slug.clone();
        if self.inner.ctx.rooms.running(&slug) {
            return Route::Here;
        }
        let mut lease = Lease::new(
            self.redis(),
            owner_key(&slug),
            self.inner.node.clone(),
            self.inner.config.lease,
        );
        match tokio::time::timeout(REDIS_TIMEOUT, lease.holder()).await {
            Ok(Ok(Some(holder))) => {
                // Owned elsewhere (this node's id is new at every start, so not ours).
                self.inner.routing.owners.insert(slug.clone(), holder);
                return Route::Elsewhere(slug);
            }
            Ok(Ok(None)) => {}
            Ok(Err(err)) => {
                tracing::warn!(%err, "cannot reach Redis for a room's lease");
                return Route::Unavailable;
            }
            Err(_) => return Route::Unavailable,
        }
        // Nobody owns it: listen on the room's channel before taking the lease, so that
        // nothing a node says once it sees the lease taken is missed.
        let inbox = match self.listen(&slug).await {
            Ok(inbox) => inbox,
            Err(err) => {
                tracing::warn!(%err, "cannot subscribe to a room's channel");
                return Route::Unavailable;
            }
        };
        let asked = Instant::now();
        let held = tokio::time::timeout(REDIS_TIMEOUT, lease.hold()).await;
        if !matches!(held, Ok(Ok(true))) {
            self.unlisten(&slug).await;
        }
        match held {
            Ok(Ok(true)) => match self.take(&record, lease.clone(), asked, inbox).await {
                Ok(()) => Route::Here,
                Err(err) => {
                    tracing::warn!(%err, "cannot start a room this node took");
                    self.unlisten(&slug).await;
                    let _ = tokio::time::timeout(REDIS_TIMEOUT, lease.release()).await;
                    Route::Unavailable
                }
            },
            Ok(Ok(false)) => {
                if let Ok(Ok(Some(holder))) =
                    tokio::time::timeout(REDIS_TIMEOUT, lease.holder()).await
                {
                    self.inner.routing.owners.insert(slug.clone(), holder);
                }
                Route::Elsewhere(slug)
            }
            Ok(Err(err)) => {
                tracing::warn!(%err, "cannot reach Redis for a room's lease");
                Route::Unavailable
            }
            Err(_) => Route::Unavailable,
        }
    }

    /// Subscribes to a room's up channel; what arrives waits in the returned inbox until
    /// the room's bridge runs.
    async fn listen(&self, slug: &str) -> Result<mpsc::Receiver<Bytes>, ClusterError> {
        let (tx, inbox) = mpsc::channel(BRIDGE_QUEUE);
        self.inner.routing.bridges.insert(slug.to_owned(), tx);
        let mut subscriber = self.inner.subscriber.clone();
        let subscribe = subscriber.subscribe(room_channel(slug));
        let subscribed = match tokio::time::timeout(REDIS_TIMEOUT, subscribe).await {
            Ok(result) => result.map_err(ClusterError::from),
            Err(_) => Err(ClusterError::TimedOut),
        };
        if subscribed.is_err() {
            self.inner.routing.bridges.remove(slug);
        }
        subscribed.map(|()| inbox)
    }

    /// Stops listening on a room's up channel.
    async fn unlisten(&self, slug: &str) {
        self.inner.routing.bridges.remove(slug);
        let mut subscriber = self.inner.subscriber.clone();
        let unsubscribe = subscriber.unsubscribe(room_channel(slug));
        let _ = tokio::time::timeout(REDIS_TIMEOUT, unsubscribe).await;
    }

    /// Starts a room this node has just taken, from its written-down state if there is
    /// one, and keeps it.
    async fn take(
        &self,
        record: &RoomRecord,
        lease: Lease,
        taken: Instant,
        inbox: mpsc::Receiver<Bytes>,
    ) -> Result<(), ClusterError> {
        let slug = record.slug.clone();
        let mut redis = self.redis();
        let mut get = redis::cmd("GET");
        get.arg(state_key(&slug));
        let get = get.query_async::<Option<String>>(&mut redis);
        let json = tokio::time::timeout(REDIS_TIMEOUT, get)
            .await
            .map_err(|_| ClusterError::TimedOut)??;
        let state = json.and_then(|json| match serde_json::from_str::<WrittenState>(&json) {
            Ok(state) => Some(state),
            Err(err) => {
                tracing::warn!(%err, "a room's written-down state does not read; starting it empty");
                None
            }
        });
        if state.is_some() {
            metrics::counter!(crate::metrics::TAKEOVERS).increment(1);
            tracing::info!(room = %slug, "taking a room over");
        }
        let handle = self
            .inner
            .ctx
            .rooms
            .open_restored(record, self.inner.config.tick_hz, state.as_ref())
            .map_err(|err| ClusterError::Room(err.to_string()))?;
        tokio::spawn(bridge(self.clone(), inbox));
        tokio::spawn(keep(self.clone(), record.clone(), handle, lease, taken));
        Ok(())
    }

    /// Writes a room's state if this node holds its lease.
    async fn write_state(&self, slug: &str, state: &WrittenState) -> Result<(), ClusterError> {
        let json = serde_json::to_string(state).map_err(|e| ClusterError::Room(e.to_string()))?;
        // Useful for as long as the people in it may resume.
        let keep_ms = (self.inner.config.grace.as_millis() as u64)
            .saturating_mul(2)
            .max(60_000);
        let mut redis = self.redis();
        let script = Script::new(WRITE_STATE);
        let mut invocation = script.key(owner_key(slug));
        invocation
            .key(state_key(slug))
            .arg(&self.inner.node)
            .arg(json)
            .arg(keep_ms);
        let write = invocation.invoke_async::<i64>(&mut redis);
        tokio::time::timeout(REDIS_TIMEOUT, write)
            .await
            .map_err(|_| ClusterError::TimedOut)??;
        Ok(())
    }

    /// Deletes a deleted room's written-down state (while this node still holds its lease),
    /// so that a room made again under its name does not bring back its people.
    async fn forget_state(&self, slug: &str) {
        let mut redis = self.redis();
        let mut del = redis::cmd("DEL");
        del.arg(state_key(slug));
        let _ = tokio::time::timeout(REDIS_TIMEOUT, del.query_async::<i64>(&mut redis)).await;
    }

    /// Stops a room this node no longer owns: its sessions are told to reconnect (their
    /// clients come back, through any node, to whoever owns it now).
    async fn give_up(&self, slug: &str) {
        let _owning = self.inner.owning.lock().await;
        self.unlisten(slug).await;
        self.inner.ctx.rooms.stop(slug).await;
    }
}

/// Keeps a room this node owns: renews its lease and writes its state down every second,
/// and soon after a change worth writing at once (someone arrived or came back, a circle
/// formed: see [`Event::worth_writing`](crate::room::engine::Event::worth_writing)), at most
/// every [`STATE_SOON`]; gives it up when the lease is lost or the server stops (then at
/// once, so that another node takes it over without waiting for the lease to run out).
async fn keep(
    cluster: Cluster,
    mut record: RoomRecord,
    handle: RoomHandle,
    lease: Lease,
    taken: Instant,
) {
    let slug = record.slug.clone();
    let mut releasing = lease.clone();
    // An operator's changes, made through any node (see settings.rs). A read that waits
    // for a Redis that does not answer is not made up for with a burst of reads after.
    let mut follow = tokio::time::interval(settings::RECORD_EVERY);
    follow.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let (mut held, keeper) = lease.keep_taken(taken);
    let mut every = tokio::time::interval(STATE_EVERY);
    let mut written = Instant::now();
    // How long the last successful write took.
    let mut cost = Duration::ZERO;
    // When to write the changes the room told of, if it told of any since the last write.
    let mut due: Option<Instant> = None;
    let mut shutdown = cluster.inner.ctx.keepalive.shutdown.clone();
    loop {
        let soon = due.unwrap_or_else(|| Instant::now() + STATE_EVERY);
        tokio::select! {
            // A lost lease and stopping come first: with Redis away, reading the record and
            // writing the state are ready every second, each waiting up to REDIS_TIMEOUT,
            // and a random pick could keep the room from being given up (and its people from
            // being told to reconnect) for many seconds.
            biased;
            changed = held.changed() => {
                let lost = changed.is_err() || !*held.borrow();
                if lost {
                    tracing::warn!(room = %slug, "this node lost a room's lease; giving the room up");
                    break;
                }
                continue;
            }
            () = crate::transport::stopping(&mut shutdown) => {
                if let Some(state) = handle.state().await {
                    let _ = cluster.write_state(&slug, &state).await;
                }
                let _ = tokio::time::timeout(REDIS_TIMEOUT, releasing.release()).await;
                break;
            }
            () = handle.changed(), if due.is_none() => {
                // Changes coming in a burst (a crowd arriving) are written together, and
                // a big room's writes take at most a tenth of the time.
                due = Some(written + STATE_SOON.max(cost * 10));
                continue;
            }
            _ = follow.tick() => {
                if settings::follow(&cluster, &slug, &handle, &mut record).await == Followed::Deleted {
                    tracing::info!(room = %slug, "the room was deleted; closing it");
                    cluster.inner.ctx.rooms.close(&slug).await;
                    cluster.forget_state(&slug).await;
                    let _ = tokio::time::timeout(REDIS_TIMEOUT, releasing.release()).await;
                    break;
                }
                continue;
            }
            _ = tokio::time::sleep_until(soon), if due.is_some() => every.reset(),
            _ = every.tick() => {}
        }
        // Time to write: changes are due, or the regular second has come.
        due = None;
        written = Instant::now();
        match write_down(&cluster, &slug, &handle).await {
            Some(Ok(took)) => cost = took,
            Some(Err(err)) => {
                tracing::debug!(%err, room = %slug, "cannot write a room's state");
            }
            None => break,
        }
    }
    keeper.abort();
    cluster.give_up(&slug).await;
}

/// Asks the room for its state and writes it down: how long that took (the room's
/// task's part included), or why the write failed (left to the next one); `None` if the
/// room has stopped.
async fn write_down(
    cluster: &Cluster,
    slug: &str,
    handle: &RoomHandle,
) -> Option<Result<Duration, ClusterError>> {
    let started = Instant::now();
    let state = handle.state().await?;
    Some(
        cluster
            .write_state(slug, &state)
            .await
            .map(|()| started.elapsed()),
    )
}

/// A relayed client's session as the bridge reaches it: what its client sent, and the
/// credit its node gives back.
type Remote = (mpsc::Sender<Frame>, Arc<Semaphore>);

/// Runs the sessions of a room's clients on other nodes: starts one per connection that
/// opens, hands each what its client sent, and ends those of a node gone silent.
async fn bridge(cluster: Cluster, mut inbox: mpsc::Receiver<Bytes>) {
    let ctx = cluster.inner.ctx.clone();
    let mut sessions: HashMap<(Arc<str>, u64), Remote> = HashMap::new();
    let mut heard: HashMap<Arc<str>, Instant> = HashMap::new();
    let mut gaps: Gaps<Arc<str>> = Gaps::new();
    let mut check = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            batch = inbox.recv() => {
                let Some(batch) = batch else { break };
                let wire::Batch { node, at, items } = match wire::decode_up(batch) {
                    Ok(decoded) => decoded,
                    Err(err) => {
                        tracing::warn!(%err, "dropping a batch from another node");
                        continue;
                    }
                };
                let node: Arc<str> = heard
                    .keys()
                    .find(|known| ***known == *node)
                    .cloned()
                    .unwrap_or_else(|| node.into());
                heard.insert(node.clone(), Instant::now());
                if gaps.missed(&node, at) {
                    // What that node's clients sent (or the credit it gave back) is lost:
                    // their sessions cannot go on as if nothing happened. They are lost
                    // here (the room shows them reconnecting) and told to reconnect.
                    metrics::counter!(crate::metrics::CLUSTER_GAPS).increment(1);
                    tracing::warn!("batches from a node were lost; its clients in this room reconnect");
                    let forwarder = cluster.forwarder(&node);
                    sessions.retain(|(from, conn), (tx, _)| {
                        if *from != node {
                            return true;
                        }
                        let _ = tx.try_send(Frame::End);
                        let _ = forwarder.try_send((*conn, Down::Close(close::SERVICE_RESTART)));
                        false
                    });
                }
                for (conn, up) in items {
                    let key = (node.clone(), conn);
                    let frame = match up {
                        Up::Open => {
                            if let std::collections::hash_map::Entry::Vacant(slot) =
                                sessions.entry(key)
                            {
                                let (tx, events) = mpsc::channel(TUNNEL_QUEUE);
                                let credit = Arc::new(Semaphore::new(window(&ctx)));
                                let tunnel = Tunnel {
                                    conn,
                                    events,
                                    down: cluster.forwarder(&node),
                                    credit: credit.clone(),
                                    closed: false,
                                    node: node.clone(),
                                };
                                slot.insert((tx, credit));
                                tokio::spawn(crate::session::run_tunnel(tunnel, ctx.clone()));
                            }
                            continue;
                        }
                        Up::Text(text) => Frame::Text(text),
                        Up::Binary => Frame::Binary(tungstenite::Bytes::new()),
                        Up::Control => Frame::Control,
                        Up::TooBig => Frame::TooBig,
                        Up::Closed(code) => Frame::Closed(code),
                        Up::End => Frame::End,
                        Up::Dropped(code) => Frame::Dropped(code),
                        Up::Missed => Frame::Missed,
                        Up::Ack(count) => {
                            if let Some((_, credit)) = sessions.get(&key) {
                                credit.add_permits(count as usize);
                            }
                            continue;
                        }
                    };
                    let last = matches!(frame, Frame::Closed(_) | Frame::End | Frame::Dropped(_));
                    let Some((tx, _)) = sessions.get(&key) else { continue };
                    match tx.try_send(frame) {
                        Ok(()) if !last => {}
                        Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => {
                            sessions.remove(&key);
                        }
                        Err(mpsc::error::TrySendError::Full(_)) => {
                            // The bridge never waits for one session: the others' frames
                            // and every node's acks go through it. A session this far
                            // behind its client (stuck writing to it, or its room
                            // overloaded) ends, as a local one would stop being read.
                            sessions.remove(&key);
                            let _ = cluster
                                .forwarder(&node)
                                .try_send((conn, Down::Close(hallway_proto::close::SLOW_CONSUMER)));
                        }
                    }
                }
            }
            _ = check.tick() => {
                let now = Instant::now();
                let silent: Vec<Arc<str>> = heard
                    .iter()
                    .filter(|(_, at)| now.duration_since(**at) > NODE_SILENCE)
                    .map(|(node, _)| node.clone())
                    .collect();
                for node in &silent {
                    tracing::warn!("a node went silent; its clients in this room are lost");
                    heard.remove(node);
                    gaps.forget(node);
                    cluster.inner.forwarders.remove(&**node);
                }
                sessions.retain(|(node, _), (tx, _)| {
                    if silent.contains(node) {
                        let _ = tx.try_send(Frame::End);
                        return false;
                    }
                    !tx.is_closed()
                });
            }
        }
    }
}

/// Frames a relayed client's node may hold for it before its session on the owner waits:
/// the session's queue size, which the node's queue for the client has room for.
pub(crate) fn window(ctx: &crate::session::SessionContext) -> usize {
    ctx.send_queue.max(64)
}

/// Publishes what this node's sessions write to the clients of `node`, in batches: what
/// is queued when the forwarder wakes (a tick's fan-out to every client of the node, as
/// the sessions take their turns), each distinct frame once.
pub(super) async fn forward(cluster: Cluster, node: String, mut rx: mpsc::Receiver<(u64, Down)>) {
    let channel = super::node_channel(&node);
    // This forwarder's batches are a stream of their own: the node tells a lost one by
    // the next one's number.
    let mut numbering = Numbering::new();
    let mut batch: Vec<(u64, Down)> = Vec::new();
    // A batch that could not be published: its connections missed frames, and are told
    // to reconnect (they resume and get the whole room again).
    let mut lost: Vec<u64> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    while let Some(first) = rx.recv().await {
        batch.extend(
            lost.drain(..)
                .map(|conn| (conn, Down::Close(close::SERVICE_RESTART))),
        );
        batch.push(first);
        // Let the other sessions of this tick's fan-out queue theirs first.
        tokio::task::yield_now().await;
        // Up to a number of frames and of bytes (each distinct frame counted once): a
        // welcome to a room of 5,000 is a megabyte, and joins come in bursts.
        seen.clear();
        let mut bytes = 0;
        let mut count = |down: &Down, bytes: &mut usize| match down {
            Down::Frames(frames) => {
                for frame in frames {
                    if seen.insert((frame.as_bytes().as_ptr() as usize, frame.len())) {
                        *bytes += frame.len();
                    }
                }
            }
            // A tick's movers of a big room and circles' news are carried once each.
            other => *bytes += wire::size_apart(other),
        };
        for (_, down) in &batch {
            count(down, &mut bytes);
        }
        while batch.len() < FORWARD_BATCH && bytes < FORWARD_BYTES {
            match rx.try_recv() {
                Ok(item) => {
                    count(&item.1, &mut bytes);
                    batch.push(item);
                }
                Err(_) => break,
            }
        }
        let payload = wire::encode_down(cluster.node(), numbering.upcoming(), &batch);
        match cluster.publish(&channel, payload).await {
            Ok(()) => numbering.published(),
            Err(err) => {
                metrics::counter!(crate::metrics::CLUSTER_DROPPED).increment(1);
                tracing::debug!(%err, "cannot publish to another node");
                if batch.iter().any(|(_, down)| matches!(down, Down::News(_))) {
                    // News for the node as a whole, whose pages cannot be told apart
                    // here: the node finds this batch's number skipped and has this
                    // owner's pages reconnect, as for any batch lost on the way.
                    numbering.published();
                }
                lost.extend(batch.iter().map(|(conn, _)| *conn));
                lost.sort_unstable();
                lost.dedup();
            }
        }
        batch.clear();
    }
}
