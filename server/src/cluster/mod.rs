//! Cluster mode over Redis: many nodes behind a load balancer serve the same rooms.
//!
//! Each room runs on one owner node, which holds the room's [`lease::Lease`] and runs its
//! actor and the sessions of everyone in it. A client may connect to any node: if the
//! room is owned elsewhere, its node (the *entry* node) relays the connection to the
//! owner through Redis pub/sub (`relay.rs`), and the owner runs the client's session as
//! if it were local, over a tunnel (`owner.rs`). The room's engine, its rules, its flow
//! control, resume and circle-scoped signalling therefore work as on a single node.
//!
//! - Up: entry nodes publish what their relayed connections do to the room's channel
//!   `hallway:room:<slug>:in`, batched, with a heartbeat every second.
//! - Down: the owner publishes what its sessions write to each entry node's channel
//!   `hallway:node:<id>`, batched per node, each distinct frame once (a tick is encoded
//!   once per room and crosses Redis once per node).
//! - The owner writes the room's state to Redis every second; when it dies, its lease
//!   runs out, clients reconnect through any node, and the node that takes the lease
//!   starts the room from that state: everyone resumes with their token.
//!
//! Rooms and the link secret live in Redis too (`store.rs`), so every node agrees.

pub(crate) mod lease;
pub(crate) mod owner;
pub(crate) mod relay;
pub(crate) mod settings;
mod sight;
pub(crate) mod store;
pub mod wire;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use dashmap::DashMap;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{PushInfo, PushKind, Value};
use tokio::sync::mpsc;

pub use lease::{ClusterError, Lease};
pub use store::RedisStore;

use crate::room::ParticipantId;
use crate::room::movers::{self, View};
use crate::router::Router;
use crate::session::SessionContext;
use crate::transport::{Conn, Down, OutboxSender};
use wire::{Gaps, Up};

/// How long a Redis request may take before it counts as failed: Redis answers in well
/// under a millisecond, so anything this slow means it is unreachable.
pub const REDIS_TIMEOUT: Duration = Duration::from_secs(1);

/// How often entry nodes say they are alive, per room they relay to.
pub const HEARTBEAT: Duration = Duration::from_secs(1);

/// An entry node not heard from for this long is taken for dead by a room's owner: its
/// participants are lost (and may resume through another node).
pub const NODE_SILENCE: Duration = Duration::from_secs(3);

/// Up events waiting for the node's publisher before relayed sessions wait.
const UPLINK_QUEUE: usize = 8192;

/// Where a connection's session runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Here: this node owns the room (or the `hello` is for no room, and the handshake
    /// will say so).
    Here,
    /// On the owner of this room, another node: relay the connection there.
    Elsewhere(String),
    /// Redis cannot be reached: refuse with `unavailable`.
    Unavailable,
}

/// The cluster settings of a node.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// Redis, e.g. `redis://127.0.0.1:6379/`.
    pub url: String,
    /// A room owner's lease: another node takes a room over at most this long after its
    /// owner died.
    pub lease: Duration,
    /// Position ticks per second of the rooms this node opens.
    pub tick_hz: u32,
    /// How long a lost participant may take to resume (a room's state is kept in Redis
    /// for twice that, at least a minute).
    pub grace: Duration,
}

/// This node's part in the cluster. Cheap to clone.
#[derive(Clone)]
pub struct Cluster {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("node", &self.inner.node)
            .finish_non_exhaustive()
    }
}

struct Inner {
    /// This node's id, new at every start.
    node: String,
    config: ClusterConfig,
    /// Commands and publishing.
    redis: ConnectionManager,
    /// Subscriptions (RESP3 pushes, re-subscribed by itself after a reconnect).
    subscriber: ConnectionManager,
    /// Rooms, as every node sees them.
    store: Arc<RedisStore>,
    /// What sessions need, the rooms this node runs among it.
    ctx: Arc<SessionContext>,
    /// Where pushed messages go.
    routing: Arc<Routing>,
    /// Numbers this node's relayed connections.
    next_conn: AtomicU64,
    /// To the node's publisher of up events.
    uplink: mpsc::Sender<(Arc<str>, u64, Up)>,
    /// Per other node: the forwarder of what this node's sessions write to its clients.
    forwarders: DashMap<String, mpsc::Sender<(u64, Down)>>,
    /// Taking and giving up rooms, one at a time.
    owning: tokio::sync::Mutex<()>,
}

/// Where messages pushed by Redis go: shared with the subscriber connection's callback,
/// which must not block (it runs on the connection's task).
struct Routing {
    /// This node's down channel.
    node_channel: String,
    /// Relayed connections on this node, by number.
    endpoints: DashMap<u64, Endpoint>,
    /// Rooms this node owns: their bridge's inbox of up batches.
    bridges: DashMap<String, mpsc::Sender<Bytes>>,
    /// Relayed rooms: who owned each when this node last looked.
    owners: DashMap<String, String>,
    /// Down batches missed, per owner node (held only to check a batch's number).
    gaps: std::sync::Mutex<Gaps<String>>,
    /// Per relayed room: its last tick's movers, which this node cuts its pages' ticks
    /// out of (kept to reuse their memory).
    movers: std::sync::Mutex<std::collections::HashMap<String, movers::Movers>>,
    /// To the node's publisher of up events (for pages that missed news).
    uplink: mpsc::Sender<(Arc<str>, u64, Up)>,
}

/// A relayed connection, as the node's down dispatch reaches it.
struct Endpoint {
    slug: Arc<str>,
    outbox: OutboxSender,
    /// Who the page is and what it shows, once its room told (its ticks are cut here).
    sight: Option<(ParticipantId, View)>,
    /// The room has written to it (its welcome first): ticks may follow.
    welcomed: bool,
    /// What its queue holds of the room's frames and of this node's own.
    ledger: Arc<std::sync::Mutex<sight::Ledger>>,
}

/// The key of a room's owner lease.
fn owner_key(slug: &str) -> String {
    format!("hallway:room:{slug}:owner")
}

/// The key of a room's written-down state.
fn state_key(slug: &str) -> String {
    format!("hallway:room:{slug}:state")
}

/// A room's up channel.
fn room_channel(slug: &str) -> String {
    format!("hallway:room:{slug}:in")
}

/// A node's down channel.
fn node_channel(node: &str) -> String {
    format!("hallway:node:{node}")
}

/// Connects to Redis at `url`, reconnecting by itself when the connection drops. Requests
/// have no timeout of their own: every caller bounds its own (a large publish takes
/// longer than a lease's renewal may).
pub async fn connect(url: &str) -> Result<ConnectionManager, ClusterError> {
    let client = redis::Client::open(url)?;
    let config = ConnectionManagerConfig::new()
        .set_response_timeout(None)
        .set_connection_timeout(Some(REDIS_TIMEOUT))
        .set_max_delay(Duration::from_millis(500));
    Ok(client.get_connection_manager_with_config(config).await?)
}

impl Cluster {
    /// Joins the cluster at `config.url`: connects, subscribes to this node's channel
    /// and starts the node's publisher and watcher. Sessions run with `ctx`, whose rooms
    /// are those this node runs (`Rooms::clustered`).
    pub async fn start(
        config: ClusterConfig,
        store: Arc<RedisStore>,
        ctx: SessionContext,
    ) -> Result<Cluster, ClusterError> {
        let node = format!("{:016x}", rand::random::<u64>());
        let (uplink, up_rx) = mpsc::channel(UPLINK_QUEUE);
        let routing = Arc::new(Routing {
            node_channel: node_channel(&node),
            endpoints: DashMap::new(),
            bridges: DashMap::new(),
            owners: DashMap::new(),
            gaps: std::sync::Mutex::new(Gaps::new()),
            movers: std::sync::Mutex::new(std::collections::HashMap::new()),
            uplink: uplink.clone(),
        });
        let redis = connect(&config.url).await?;
        let pushes = routing.clone();
        let info = redis::IntoConnectionInfo::into_connection_info(config.url.as_str())?;
        let settings = info
            .redis_settings()
            .clone()
            .set_protocol(redis::ProtocolVersion::RESP3);
        let client = redis::Client::open(info.set_redis_settings(settings))?;
        let subscriber = client
            .get_connection_manager_with_config(
                ConnectionManagerConfig::new()
                    .set_response_timeout(Some(REDIS_TIMEOUT))
                    .set_connection_timeout(Some(REDIS_TIMEOUT))
                    .set_max_delay(Duration::from_millis(500))
                    .set_automatic_resubscription()
                    .set_push_sender(move |push: PushInfo| {
                        pushes.dispatch(push);
                        Ok::<(), std::convert::Infallible>(())
                    }),
            )
            .await?;
        let cluster = Cluster {
            inner: Arc::new(Inner {
                node,
                config,
                redis,
                subscriber,
                store,
                ctx: Arc::new(ctx),
                routing,
                next_conn: AtomicU64::new(1),
                uplink,
                forwarders: DashMap::new(),
                owning: tokio::sync::Mutex::new(()),
            }),
        };
        cluster
            .inner
            .subscriber
            .clone()
            .subscribe(&cluster.inner.routing.node_channel)
            .await?;
        tokio::spawn(relay::publish(cluster.clone(), up_rx));
        tokio::spawn(relay::watch_owners(cluster.clone()));
        Ok(cluster)
    }

    /// This node's id.
    pub fn node(&self) -> &str {
        &self.inner.node
    }

    fn redis(&self) -> ConnectionManager {
        self.inner.redis.clone()
    }

    /// Publishes `payload` on `channel` (at most once: a message nobody hears is lost).
    async fn publish(&self, channel: &str, payload: Vec<u8>) -> Result<(), ClusterError> {
        let mut redis = self.redis();
        let len = payload.len();
        let mut publish = redis::cmd("PUBLISH");
        publish.arg(channel).arg(payload);
        let publish = publish.query_async::<i64>(&mut redis);
        // Large batches (welcomes to a big room) take their time: 50 MB/s at the least.
        let allowed = REDIS_TIMEOUT + Duration::from_millis(len as u64 / 50_000);
        match tokio::time::timeout(allowed, publish).await {
            Ok(result) => result.map(|_| ()).map_err(ClusterError::from),
            Err(_) => Err(ClusterError::TimedOut),
        }
    }

    /// The forwarder to `node`'s clients, started on first use.
    fn forwarder(&self, node: &str) -> mpsc::Sender<(u64, Down)> {
        if let Some(tx) = self.inner.forwarders.get(node) {
            if !tx.is_closed() {
                return tx.clone();
            }
        }
        let (tx, rx) = mpsc::channel(owner::FORWARD_QUEUE);
        self.inner.forwarders.insert(node.to_owned(), tx.clone());
        tokio::spawn(owner::forward(self.clone(), node.to_owned(), rx));
        tx
    }

    fn next_conn(&self) -> u64 {
        self.inner.next_conn.fetch_add(1, Ordering::Relaxed)
    }
}

impl Router for Cluster {
    /// Runs the session here if this node owns the room (or takes it now), relays the
    /// connection to the room's owner otherwise, and refuses it with `unavailable` when
    /// Redis cannot be reached.
    fn serve(
        &self,
        mut conn: Conn,
        hello: tungstenite::protocol::frame::Utf8Bytes,
        client: std::net::IpAddr,
    ) -> futures_util::future::BoxFuture<'static, ()> {
        let cluster = self.clone();
        Box::pin(async move {
            let ctx = cluster.inner.ctx.clone();
            match cluster.route(&hello).await {
                Route::Here => crate::session::run(conn, hello, ctx, Some(client)).await,
                Route::Elsewhere(slug) => relay::run(conn, hello, slug, &ctx, &cluster).await,
                Route::Unavailable => {
                    let refused = conn
                        .reply(
                            hallway_proto::ErrorCode::Unavailable,
                            "the server cannot reach its cluster; try again in a moment",
                        )
                        .await;
                    if refused.is_ok() {
                        conn.close(hallway_proto::close::TRY_AGAIN_LATER).await;
                    }
                }
            }
        })
    }
}

impl Routing {
    /// Hands a message Redis pushed to whoever it is for, without waiting.
    fn dispatch(&self, push: PushInfo) {
        if push.kind != PushKind::Message {
            return;
        }
        let [channel, payload] = &push.data[..] else {
            return;
        };
        let (Value::BulkString(channel), Value::BulkString(payload)) = (channel, payload) else {
            return;
        };
        let Ok(channel) = std::str::from_utf8(channel) else {
            return;
        };
        if channel == self.node_channel {
            self.deliver(Bytes::copy_from_slice(payload));
        } else if let Some(slug) = channel
            .strip_prefix("hallway:room:")
            .and_then(|rest| rest.strip_suffix(":in"))
        {
            if let Some(bridge) = self.bridges.get(slug) {
                if bridge.try_send(Bytes::copy_from_slice(payload)).is_err() {
                    metrics::counter!(crate::metrics::CLUSTER_DROPPED).increment(1);
                }
            }
        }
    }

    /// Queues what owners sent for this node's relayed connections.
    fn deliver(&self, batch: Bytes) {
        let wire::Batch { node, at, items } = match wire::decode_down(batch) {
            Ok(batch) => batch,
            Err(err) => {
                tracing::warn!(%err, "dropping a batch from a room's owner");
                return;
            }
        };
        // A poisoned lock only means a panic elsewhere while checking a number; the
        // numbers themselves are still sound.
        let missed = self
            .gaps
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .missed(&node, at);
        if missed {
            // Frames from that owner are lost: its rooms' clients here reconnect and get
            // their rooms again as a whole.
            metrics::counter!(crate::metrics::CLUSTER_GAPS).increment(1);
            tracing::warn!("batches from a room's owner were lost; its clients here reconnect");
            for endpoint in self.endpoints.iter() {
                let owned = self
                    .owners
                    .get(&*endpoint.slug)
                    .is_none_or(|owner| *owner == node);
                if owned {
                    endpoint.outbox.kick(hallway_proto::close::SERVICE_RESTART);
                }
            }
        }
        for (conn, down) in items {
            // A room's movers and news count only from its owner as this node knows it
            // (an owner that lost the room may still be sending for a moment).
            let from_owner = |room: &str| self.owners.get(room).is_none_or(|owner| *owner == node);
            match &down {
                Down::Movers(movers) => {
                    if from_owner(&movers.room) {
                        self.cut_ticks(movers);
                    }
                    continue;
                }
                Down::News(news) => {
                    if from_owner(&news.room) {
                        self.pass_news(news);
                    }
                    continue;
                }
                _ => {}
            }
            let Some(mut endpoint) = self.endpoints.get_mut(&conn) else {
                continue;
            };
            match down {
                Down::Frames(frames) => {
                    endpoint.welcomed = true;
                    let mut ledger = sight::lock(&endpoint.ledger);
                    let (mut sent, mut missed) = (0, 0);
                    for frame in frames {
                        // (A clone shares the bytes: for the held news behind a snapshot.)
                        if !ledger.queue_rooms(&endpoint.outbox, frame.clone()) {
                            // The client does not read what its room sends it.
                            endpoint.outbox.kick(hallway_proto::close::SLOW_CONSUMER);
                            break;
                        }
                        let (released, short) = ledger.passed(&endpoint.outbox, &frame);
                        sent += released;
                        missed += short;
                    }
                    drop(ledger);
                    if sent > 0 {
                        metrics::counter!(crate::metrics::MESSAGES_OUT, "type" => "news")
                            .increment(sent);
                    }
                    if missed > 0 {
                        metrics::counter!(crate::metrics::MISSED_NEWS).increment(missed);
                        self.ask_snapshot(&endpoint.slug, conn, &endpoint.outbox);
                    }
                }
                Down::SnapshotAhead => sight::lock(&endpoint.ledger).snapshot_ahead(),
                Down::Close(code) => {
                    // Nothing of this node's own after the room's last word: the queue must
                    // run dry for the close to be written.
                    endpoint.sight = None;
                    endpoint.outbox.close_after(code);
                }
                Down::View {
                    me,
                    edges: [left, top, right, bottom],
                    circles,
                } => {
                    endpoint.sight = Some((
                        ParticipantId(me),
                        View::from_edges((left, top, right, bottom)),
                    ));
                    sight::queue_circles(&endpoint, circles);
                }
                Down::Movers(_) | Down::News(_) => {}
            }
        }
    }
}
