//! An entry node's side of a relayed connection: the client is connected here, its room
//! runs on another node. What the client sends goes up to the owner, as it comes; what
//! the owner sends comes down into the connection's bounded queue and is written here.
//! This node keeps the connection alive (pings) and lets go of a client that does not
//! read (its queue overflows); everything else is the owner's session's business.
//!
//! When the room's owner changes (it died, or gave the room up), relayed clients are told
//! to reconnect (1012): they resume, through any node, with whoever owns the room now.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::ControlFlow;
use std::sync::Arc;

use hallway_proto::close;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tungstenite::protocol::frame::Utf8Bytes;

use super::wire::{self, Numbering, Up};
use super::{Cluster, Endpoint, HEARTBEAT, REDIS_TIMEOUT, owner_key, room_channel, sight};
use crate::session::SessionContext;
use crate::transport::{self, Conn, End, Frame, Handler, Served, outbox};

/// Most up events in one published batch.
const UP_BATCH: usize = 1024;

/// Relays one connection to the owner of room `slug`, until it ends.
pub(crate) async fn run(
    mut conn: Conn,
    hello: Utf8Bytes,
    slug: String,
    ctx: &SessionContext,
    cluster: &Cluster,
) {
    let id = cluster.next_conn();
    let slug: Arc<str> = slug.into();
    // Room for everything the owner may send before it waits for our acks, a little for
    // the close that may follow, and this node's own (ticks cut and news passed here).
    let room_slots = super::owner::window(ctx) + 16;
    let (link, mut outbox) = outbox::outbox(room_slots + sight::NODE_SLOTS);
    let ledger = Arc::new(std::sync::Mutex::new(sight::Ledger::default()));
    cluster.inner.routing.endpoints.insert(
        id,
        Endpoint {
            slug: slug.clone(),
            outbox: link,
            sight: None,
            welcomed: false,
            ledger: ledger.clone(),
        },
    );
    metrics::gauge!(crate::metrics::RELAYED).increment(1.0);
    let uplink = Uplink {
        slug: slug.clone(),
        id,
        cluster,
    };
    if uplink.send(Up::Open).await && uplink.send(Up::Text(hello)).await {
        let mut relay = Relay {
            uplink: &uplink,
            // Acked in quarters of the owner's window.
            ack_every: (super::owner::window(ctx) as u64 / 4).max(1),
            due: 0,
            ledger,
        };
        let served = transport::serve(&mut conn, &mut outbox, &ctx.keepalive, &mut relay).await;
        let last = match served {
            Served::Handled(last) => last,
            Served::Ended(End::Closed(code)) => Some(Up::Dropped(code)),
            Served::Ended(_) => Some(Up::End),
            Served::Kicked(code) => {
                if code == close::SLOW_CONSUMER {
                    metrics::counter!(crate::metrics::SLOW_CONSUMERS).increment(1);
                }
                Some(Up::Dropped(code))
            }
            Served::Abandoned => None,
        };
        if let Some(last) = last {
            uplink.send(last).await;
        }
    }
    cluster.inner.routing.endpoints.remove(&id);
    metrics::gauge!(crate::metrics::RELAYED).decrement(1.0);
}

/// One relayed connection's way up to its room's owner.
struct Uplink<'a> {
    slug: Arc<str>,
    id: u64,
    cluster: &'a Cluster,
}

impl Uplink<'_> {
    /// Queues `what` for the node's publisher; `false` once it is gone.
    async fn send(&self, what: Up) -> bool {
        let item = (self.slug.clone(), self.id, what);
        self.cluster.inner.uplink.send(item).await.is_ok()
    }
}

/// A relayed connection as it is served here: every frame goes up; what the owner sent
/// is written, and acked.
struct Relay<'a> {
    uplink: &'a Uplink<'a>,
    ack_every: u64,
    /// The owner's frames written since it was last told.
    due: u64,
    /// What the connection's queue holds of the owner's frames and of this node's own.
    ledger: Arc<std::sync::Mutex<sight::Ledger>>,
}

impl Handler for Relay<'_> {
    /// What to tell the owner about the connection's end, if anything.
    type Output = Option<Up>;

    async fn frame(&mut self, conn: &mut Conn, frame: Frame) -> ControlFlow<Option<Up>> {
        let what = match frame {
            Frame::Text(text) => Up::Text(text),
            Frame::Binary(_) => Up::Binary,
            Frame::Control => Up::Control,
            Frame::TooBig => {
                conn.close(close::TOO_BIG).await;
                return ControlFlow::Break(Some(Up::TooBig));
            }
            // The owner's session ends as if it had closed the connection itself.
            Frame::ProtocolError(code) => {
                conn.close(code).await;
                return ControlFlow::Break(Some(Up::Dropped(code)));
            }
            Frame::Closed(code) => {
                conn.finish().await;
                return ControlFlow::Break(Some(Up::Closed(code)));
            }
            Frame::End | Frame::Dropped(_) => return ControlFlow::Break(Some(Up::End)),
            // Only a tunnel's frame (on the room's owner); not read from a socket.
            Frame::Missed => return ControlFlow::Continue(()),
        };
        if self.uplink.send(what).await {
            ControlFlow::Continue(())
        } else {
            conn.close(close::SERVICE_RESTART).await;
            ControlFlow::Break(None)
        }
    }

    /// Credits the owner with the frames of its own that were written (not the ticks
    /// cut and news passed here: see `sight.rs`).
    async fn written(&mut self, count: usize) -> ControlFlow<Option<Up>> {
        self.due += sight::lock(&self.ledger).written(count);
        if self.due >= self.ack_every {
            let acked = u32::try_from(self.due).unwrap_or(u32::MAX);
            if !self.uplink.send(Up::Ack(acked)).await {
                return ControlFlow::Break(None);
            }
            self.due -= u64::from(acked);
        }
        ControlFlow::Continue(())
    }
}

/// The node's publisher of up events: batches what relayed connections did, per room,
/// in order; and says every second, to each room it relays to, that this node is alive.
/// Each room's batches are numbered (a stream per room), so that its owner can tell when
/// one was lost.
pub(super) async fn publish(cluster: Cluster, mut rx: mpsc::Receiver<(Arc<str>, u64, Up)>) {
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    let mut batches: BTreeMap<Arc<str>, Vec<(u64, Up)>> = BTreeMap::new();
    let mut streams: HashMap<Arc<str>, Numbering> = HashMap::new();
    loop {
        tokio::select! {
            item = rx.recv() => {
                let Some((slug, conn, what)) = item else { return };
                batches.entry(slug).or_default().push((conn, what));
                let mut taken = 1;
                while taken < UP_BATCH {
                    let Ok((slug, conn, what)) = rx.try_recv() else { break };
                    batches.entry(slug).or_default().push((conn, what));
                    taken += 1;
                }
                for (slug, items) in std::mem::take(&mut batches) {
                    let numbering = streams.entry(slug.clone()).or_default();
                    let payload = wire::encode_up(cluster.node(), numbering.upcoming(), &items);
                    match cluster.publish(&room_channel(&slug), payload).await {
                        Ok(()) => numbering.published(),
                        Err(err) => {
                            // What these clients sent (or the credit for them) may be
                            // lost: they reconnect and resume.
                            metrics::counter!(crate::metrics::CLUSTER_DROPPED).increment(1);
                            tracing::debug!(%err, "cannot publish to a room's owner");
                            for (conn, _) in &items {
                                if let Some(endpoint) = cluster.inner.routing.endpoints.get(conn) {
                                    endpoint.outbox.kick(close::SERVICE_RESTART);
                                }
                            }
                        }
                    }
                }
            }
            _ = heartbeat.tick() => {
                let rooms = relayed_rooms(&cluster);
                // A room relayed to again later starts a new stream.
                streams.retain(|slug, _| rooms.contains(slug));
                for slug in rooms {
                    let numbering = streams.entry(slug.clone()).or_default();
                    let payload = wire::encode_up(cluster.node(), numbering.upcoming(), &[]);
                    if cluster.publish(&room_channel(&slug), payload).await.is_ok() {
                        numbering.published();
                    }
                }
            }
        }
    }
}

/// The rooms this node relays connections to.
fn relayed_rooms(cluster: &Cluster) -> HashSet<Arc<str>> {
    cluster
        .inner
        .routing
        .endpoints
        .iter()
        .map(|e| e.slug.clone())
        .collect()
}

/// Tells the clients relayed to `slug` to reconnect.
fn let_go(cluster: &Cluster, slug: &str) {
    for endpoint in cluster.inner.routing.endpoints.iter() {
        if &*endpoint.slug == slug {
            endpoint.outbox.kick(close::SERVICE_RESTART);
        }
    }
}

/// Watches the owners of the rooms this node relays to, every second: when a room's
/// owner changed, or its lease ran out (the owner died), or Redis has not answered for
/// as long as a lease lasts, its relayed clients are told to reconnect.
pub(super) async fn watch_owners(cluster: Cluster) {
    let mut every = tokio::time::interval(HEARTBEAT);
    let mut answered: HashMap<Arc<str>, Instant> = HashMap::new();
    loop {
        every.tick().await;
        let rooms = relayed_rooms(&cluster);
        answered.retain(|slug, _| rooms.contains(slug));
        cluster
            .inner
            .routing
            .movers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .retain(|slug, _| rooms.iter().any(|r| **r == **slug));
        cluster
            .inner
            .routing
            .owners
            .retain(|slug, _| rooms.iter().any(|r| **r == **slug));
        for slug in rooms {
            let mut redis = cluster.redis();
            let mut get = redis::cmd("GET");
            get.arg(owner_key(&slug));
            let get = get.query_async::<Option<String>>(&mut redis);
            let now = Instant::now();
            match tokio::time::timeout(REDIS_TIMEOUT, get).await {
                Ok(Ok(holder)) => {
                    answered.insert(slug.clone(), now);
                    let known = cluster.inner.routing.owners.get(&*slug).map(|o| o.clone());
                    match (holder, known) {
                        (Some(holder), Some(known)) if holder == known => {}
                        (Some(holder), None) => {
                            cluster
                                .inner
                                .routing
                                .owners
                                .insert(slug.to_string(), holder);
                        }
                        (holder, _) => {
                            tracing::info!(room = %slug, "a room's owner changed; its relayed clients reconnect");
                            match holder {
                                Some(holder) => {
                                    cluster
                                        .inner
                                        .routing
                                        .owners
                                        .insert(slug.to_string(), holder);
                                }
                                None => {
                                    cluster.inner.routing.owners.remove(&*slug);
                                }
                            }
                            let_go(&cluster, &slug);
                        }
                    }
                }
                Ok(Err(_)) | Err(_) => {
                    let since = *answered.entry(slug.clone()).or_insert(now);
                    if now.duration_since(since) > cluster.inner.config.lease {
                        let_go(&cluster, &slug);
                        answered.insert(slug, now);
                    }
                }
            }
        }
    }
}
