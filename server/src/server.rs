//! Starting and stopping a server: bind, open the configured rooms, serve, shut down in
//! order.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::access::Tokens;
use crate::cluster::{Cluster, ClusterConfig, RedisStore};
use crate::config::Config;
use crate::http::{self, AppState};
use crate::rooms::{Rooms, RoomsError};
use crate::router::{Local, Router};
use crate::session::SessionContext;
use crate::sfu::{Sfu, SfuConfig};
use crate::store::{RoomStore, SqliteStore};
use crate::transport::Keepalive;
use crate::turn::{EmbeddedTurn, IceServers, TurnConfig};

/// A server running on the current tokio runtime.
#[derive(Debug)]
pub struct RunningServer {
    /// Where it listens (with the real port when 0 was asked for).
    pub local_addr: SocketAddr,
    /// Where `/metrics` has a listener of its own (`--metrics-bind`), if it has one.
    pub metrics_addr: Option<SocketAddr>,
    /// The rooms it serves.
    pub rooms: Rooms,
    /// Mints and verifies signed links with this server's secret.
    pub tokens: Tokens,
    /// The SFU (its UDP address, for the banner and tests).
    pub sfu: Sfu,
    /// The embedded TURN server, unless an external one is configured or it is off.
    pub turn: Option<EmbeddedTurn>,
    /// Set to `true` to shut down: sessions drain, `/readyz` says `draining`.
    shutdown: watch::Sender<bool>,
    /// Set to `true` to close the listeners, once sessions have drained.
    stop_listening: watch::Sender<bool>,
    /// The accept loop.
    task: JoinHandle<std::io::Result<()>>,
    /// What the handlers share (the count of open connections, for draining).
    state: Arc<AppState>,
    /// How long sessions get to go.
    drain: Duration,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The room store could not be opened or read.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The secret that signs links could not be had.
    #[error(transparent)]
    Secret(#[from] crate::access::SecretError),
    /// The SFU's media port could not be bound.
    #[error(transparent)]
    Media(#[from] crate::sfu::SfuError),
    /// The embedded TURN server could not start.
    #[error(transparent)]
    Turn(#[from] crate::turn::TurnError),
    /// TURN over TLS is configured incompletely.
    #[error("{0}")]
    TurnTls(String),
    /// Redis (cluster mode) could not be reached.
    #[error("cannot join the cluster: {0}")]
    Cluster(#[from] crate::cluster::ClusterError),
    /// The feedback settings cannot be used.
    #[error(transparent)]
    Feedback(#[from] crate::feedback::FeedbackSetupError),
    /// The host sign-in settings cannot be used.
    #[error(transparent)]
    Oidc(#[from] crate::oidc::OidcConfigError),
    /// The HTTP client for the identity provider could not be made.
    #[error("host sign-in: {0}")]
    OidcClient(#[from] crate::oidc::SignInError),
    /// A room named in the configuration could not be opened.
    #[error("cannot open a configured room: {0}")]
    Room(#[from] RoomsError),
}

/// What a node shares with the other nodes of its cluster, or keeps in its data folder
/// when it runs alone: the rooms and the secret that signs links.
pub struct Shared {
    /// Signs and verifies links.
    pub tokens: Tokens,
    /// The rooms.
    pub store: Arc<dyn RoomStore>,
    /// Redis, in a cluster.
    pub redis: Option<Arc<RedisStore>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("clustered", &self.redis.is_some())
            .finish_non_exhaustive()
    }
}

/// Opens the rooms and the link secret: from Redis with `--redis-url` (the secret is the
/// first node's, or `--secret`'s if that node was given one), else from the data folder.
/// The server and the `room`, `link` and `invite` commands use the same.
pub fn shared(config: &Config) -> Result<Shared, StartError> {
    let Some(url) = &config.redis_url else {
        return Ok(Shared {
            tokens: Tokens::load(config.secret.as_deref(), &config.data_dir)?,
            store: Arc::new(SqliteStore::open(&config.data_dir)?),
            redis: None,
        });
    };
    let redis = Arc::new(RedisStore::open(url)?);
    let candidate = match config.secret.as_deref() {
        Some(secret) => secret.to_owned(),
        None => format!(
            "{:032x}{:032x}",
            rand::random::<u128>(),
            rand::random::<u128>()
        ),
    };
    let secret = redis.shared_secret(&candidate)?;
    Ok(Shared {
        tokens: Tokens::new(secret.as_bytes()),
        store: redis.clone(),
        redis: Some(redis),
    })
}

/// Listens on `addr`; returns the listener and where it listens (the real port when 0
/// was asked for).
async fn bind(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), StartError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| StartError::Bind { addr, source })?;
    Ok((listener, local))
}

/// Binds, opens the configured rooms and starts serving.
pub async fn start(config: Config) -> Result<RunningServer, StartError> {
    crate::metrics::install();
    let (listener, local_addr) = bind(SocketAddr::new(config.bind, config.port)).await?;
    let metrics_listener = match config.metrics_bind {
        Some(addr) => Some(bind(addr).await?),
        None => None,
    };
    let metrics_addr = metrics_listener.as_ref().map(|(_, addr)| *addr);

    let Shared {
        tokens,
        store,
        redis: redis_store,
    } = shared(&config)?;
    // The configured rooms exist; stored rooms keep what operators set for them. The
    // first is the demo room: it starts in the built-in hall, with its stage as an area.
    for (i, slug) in config.rooms.iter().enumerate() {
        if !crate::rooms::is_valid_slug(slug) {
            return Err(StartError::Room(RoomsError::InvalidSlug));
        }
        if store.get(slug)?.is_none() {
            let mut record = config.room_defaults(slug);
            if i == 0 {
                furnish_demo_room(&mut record);
            }
            store.put(&record)?;
        }
    }
    let (ice, turn) = ice_servers(&config).await?;
    let sfu = Sfu::start(
        SfuConfig {
            bind: SocketAddr::new(config.bind, config.media_port),
            announce: config.media_announce,
            tcp: config.media_tcp,
            codecs: crate::sfu::Codecs::with_extra(&config.sfu_extra_codecs),
        },
        ice,
    )
    .await?;
    if let Some(turn) = &turn {
        // Relayed participants reach the SFU through the relay, even on a private address.
        for addr in sfu.announced_all() {
            turn.allow_own(*addr);
        }
        if !sfu.local_addr().ip().is_unspecified() {
            turn.allow_own(sfu.local_addr());
        }
    }
    let rooms = Rooms::with_store(store.clone(), config.tick_hz, Some(sfu.clone()))
        .with_grace(Duration::from_secs(config.resume_grace))
        .with_welcome_roster(config.welcome_roster)
        .with_summary(
            Duration::from_secs(config.summary_every),
            config.keep_summary,
        );
    let (shutdown, shutdown_rx) = watch::channel(false);
    // The listeners stay open while sessions drain, so that health checks see `draining`.
    let (stop_listening, listening_rx) = watch::channel(false);
    let session = |rooms: &Rooms| SessionContext {
        rooms: rooms.clone(),
        send_queue: config.send_queue as usize,
        signal_rate: config.signal_rate,
        tokens: tokens.clone(),
        hello_timeout: Duration::from_secs(config.hello_timeout),
        keepalive: Keepalive {
            ping_interval: Duration::from_secs(config.ping_interval),
            ping_timeout: Duration::from_secs(config.ping_timeout),
            drain: Duration::from_secs(config.drain_seconds),
            shutdown: shutdown_rx.clone(),
        },
        attempts: Default::default(),
    };
    // Alone, this node runs every room, and every session; in a cluster, the rooms it
    // owns, and the sessions of their people.
    let (rooms, router): (Rooms, Arc<dyn Router>) = match (&config.redis_url, redis_store) {
        (Some(url), Some(redis)) => {
            let rooms = rooms.clustered();
            let cluster = Cluster::start(
                ClusterConfig {
                    url: url.clone(),
                    lease: Duration::from_secs(config.room_lease),
                    tick_hz: config.tick_hz,
                    grace: Duration::from_secs(config.resume_grace),
                },
                redis,
                session(&rooms),
            )
            .await?;
            (rooms, Arc::new(cluster))
        }
        _ => {
            for record in store.list()? {
                rooms.open_record(&record, config.tick_hz)?;
            }
            let local = Local::new(session(&rooms));
            (rooms, Arc::new(local))
        }
    };

    let state = Arc::new(AppState {
        router,
        hello_timeout: Duration::from_secs(config.hello_timeout),
        shutdown: shutdown_rx.clone(),
        hosts: Arc::new(allowed_hosts(&config)),
        connections: AtomicUsize::new(0),
        max_connections: config.max_connections,
        per_ip: dashmap::DashMap::new(),
        max_per_ip: config.max_connections_per_ip,
        origins: http::Origins::new(&config.allowed_origins),
        echo: config.conformance_echo,
        trusted_proxies: config.trusted_proxies.clone(),
        metrics: if metrics_addr.is_some() {
            http::MetricsOnMainPort::No
        } else {
            http::MetricsOnMainPort::LocalOnly
        },
    });
    let drain = Duration::from_secs(config.drain_seconds);
    let admin = http::admin::Admin {
        key: config.admin_key.as_deref().map(Into::into),
        store: store.clone(),
        rooms: rooms.clone(),
        tokens: tokens.clone(),
        public_base: config.public_base(local_addr.port()),
        catalogue: crate::catalogue::Catalogue::new(store.clone(), config.room_defaults("")),
        tick_hz: config.tick_hz,
    };
    let statement = http::statement::StatementPages {
        statement: Arc::new(crate::statement::Statement::from(&config.statement)),
        feedback: crate::feedback::FeedbackBox::new(&config.feedback, store.clone())?,
        public_origin: config
            .public_url
            .as_deref()
            .map(crate::statement::origin_of),
        trusted_proxies: config.trusted_proxies.clone(),
    };
    if config.statement.statement_body.is_some()
        && config.statement.statement_enforcement_name.is_none()
        && config.statement.statement_enforcement_url == crate::statement::DEFAULT_ENFORCEMENT_URL
    {
        tracing::warn!(
            "the accessibility statement names the federal conciliation body (Schlichtungsstelle \
             nach § 16 BGG), which serves federal bodies only: a Land's or a municipality's \
             statement names its Land's body (--statement-enforcement-url, \
             --statement-enforcement-name)"
        );
    }
    crate::feedback::spawn_purge(store.clone());
    let oidc = match config.oidc.config()? {
        Some(oidc) => {
            tracing::info!(issuer = %oidc.issuer, "host sign-in at /r/<room>/host through the identity provider");
            Some(Arc::new(crate::oidc::Provider::new(oidc)?))
        }
        None => None,
    };
    let app = http::router(
        state.clone(),
        http::client::ClientFiles {
            dir: config.client_dir.clone(),
        },
        admin,
        statement,
        oidc,
    );
    let header_timeout = Duration::from_secs(config.header_timeout);
    if let Some((listener, _)) = metrics_listener {
        // Stops with the main listener; what it serves needs nothing else.
        tokio::spawn(http::serve::serve(
            listener,
            http::metrics_router(),
            header_timeout,
            listening_rx.clone(),
        ));
    }
    let task = tokio::spawn(async move {
        http::serve::serve(listener, app, header_timeout, listening_rx).await;
        Ok(())
    });
    Ok(RunningServer {
        local_addr,
        metrics_addr,
        rooms,
        tokens,
        sfu,
        turn,
        shutdown,
        stop_listening,
        task,
        state,
        drain,
    })
}

impl RunningServer {
    /// Drains: `/readyz` answers 503 `draining` and new WebSocket upgrades are refused
    /// (503) while every session is told to reconnect (close 1012, spread over the drain
    /// window); once they are gone or the window has passed, the listeners close.
    pub async fn shutdown(self) -> std::io::Result<()> {
        let _ = self.shutdown.send(true);
        let deadline = tokio::time::Instant::now() + self.drain + Duration::from_secs(1);
        while self.state.connections.load(Ordering::Acquire) > 0
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = self.stop_listening.send(true);
        match self.task.await {
            Ok(result) => result,
            Err(err) => Err(std::io::Error::other(err)),
        }
    }

    /// Waits until the server stops by itself (it does not, short of an I/O error).
    pub async fn wait(&mut self) -> std::io::Result<()> {
        match (&mut self.task).await {
            Ok(result) => result,
            Err(err) => Err(std::io::Error::other(err)),
        }
    }
}

/// The ICE servers clients are given: an external TURN server, the embedded one (started
/// here), or none.
async fn ice_servers(config: &Config) -> Result<(IceServers, Option<EmbeddedTurn>), StartError> {
    let secret = config.turn_secret.as_deref().map(str::as_bytes);
    if !config.turn_urls.is_empty() {
        if secret.is_none() {
            tracing::warn!("--turn-url without --turn-secret: clients get no TURN credentials");
        }
        return Ok((IceServers::new(config.turn_urls.clone(), secret), None));
    }
    if !config.turn {
        return Ok((IceServers::none(), None));
    }
    // Only this process checks the credentials it hands out, so a secret of its own will do.
    let made_up: [u8; 32] = rand::random();
    let secret = secret.unwrap_or(&made_up);
    // The SFU's first address (on every interface: this machine's LAN address before
    // loopback, which Firefox ignores as a TURN server).
    let announce = crate::sfu::addresses::announced(
        config.bind,
        config.media_announce,
        &crate::sfu::addresses::interface_addresses(),
    )
    .first()
    .copied()
    .unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]));
    let turn = EmbeddedTurn::start(
        &TurnConfig {
            bind: SocketAddr::new(config.bind, config.turn_port),
            announce,
            relay_ports: config.turn_relay_ports,
            allowed_peers: config.turn_allow_peers.clone(),
            tcp: config.turn_tcp,
            tls: turn_tls(config)?,
        },
        secret,
    )
    .await?;
    Ok((IceServers::new(turn.urls(), Some(secret)), Some(turn)))
}

/// TURN over TLS as configured: none without `--turn-tls-bind`; with it, a certificate, a
/// key and a host name (`--turn-tls-public`, or the public URL's host) are needed.
fn turn_tls(config: &Config) -> Result<Option<crate::turn::TlsConfig>, StartError> {
    let Some(bind) = config.turn_tls_bind else {
        return Ok(None);
    };
    let missing = |what: &str| StartError::TurnTls(format!("--turn-tls-bind needs {what}"));
    let cert = config
        .turn_tls_cert
        .clone()
        .ok_or_else(|| missing("--turn-tls-cert"))?;
    let key = config
        .turn_tls_key
        .clone()
        .ok_or_else(|| missing("--turn-tls-key"))?;
    let (host, port) = match &config.turn_tls_public {
        Some(public) => split_host_port(public).ok_or_else(|| {
            StartError::TurnTls(format!(
                "--turn-tls-public {public:?} is not HOST or HOST:PORT"
            ))
        })?,
        None => {
            let authority = config
                .public_url
                .as_deref()
                .and_then(|url| url.split_once("://"))
                .map(|(_, rest)| rest.split('/').next().unwrap_or_default());
            let host = authority.and_then(split_host_port).map(|(host, _)| host);
            (
                host.ok_or_else(|| {
                    missing("--turn-tls-public (or --public-url, for its host name)")
                })?,
                None,
            )
        }
    };
    Ok(Some(crate::turn::TlsConfig {
        bind,
        cert,
        key,
        host,
        port,
    }))
}

/// `host`, `host:port`, `[v6]` or `[v6]:port` as the host (brackets kept) and the port.
fn split_host_port(text: &str) -> Option<(String, Option<u16>)> {
    let (host, port) = match text.strip_prefix('[') {
        Some(rest) => {
            let (v6, after) = rest.split_once(']')?;
            (format!("[{v6}]"), after.strip_prefix(':'))
        }
        None => match text.split_once(':') {
            Some((host, port)) => (host.to_owned(), Some(port)),
            None => (text.to_owned(), None),
        },
    };
    let port = port.map(str::parse::<u16>).transpose().ok()?;
    (!host.is_empty() && !host.contains(['/', '@', ' '])).then_some((host, port))
}

/// The demo room's floor: the built-in hall, and an area where its stage is drawn
/// (scaled to the floor when the floor is not the default 2400 × 1600).
fn furnish_demo_room(record: &mut crate::store::RoomRecord) {
    use crate::floor_plan::{Builtin, FloorPlan};
    let (sx, sy) = (record.width / 2400.0, record.height / 1600.0);
    record.floor_plan = Some(FloorPlan::Builtin(Builtin::Hall));
    record.areas = vec![crate::store::AreaRecord {
        id: 1,
        name: "Bühne / Stage".to_owned(),
        x: STAGE.0 * sx,
        y: STAGE.1 * sy,
        width: STAGE.2 * sx,
        height: STAGE.3 * sy,
        stage: true,
        quiet: false,
        max_people: None,
    }];
}

/// Where `server/plans/hall.svg` draws its stage: x, y, width, height.
const STAGE: (f32, f32, f32, f32) = (800.0, 60.0, 800.0, 320.0);

/// The names requests may carry in `Host`; says so in the log when that is any name.
fn allowed_hosts(config: &Config) -> http::hosts::AllowedHosts {
    let hosts = http::hosts::AllowedHosts::new(
        config.public_url.as_deref(),
        &config.allowed_origins,
        config.bind.is_loopback(),
    );
    if matches!(hosts, http::hosts::AllowedHosts::Any) {
        tracing::warn!(
            "requests are served whatever host name they carry (no --public-url, or --allowed-origin '*'): set --public-url against DNS rebinding"
        );
    }
    hosts
}

#[cfg(test)]
mod tests {
    use super::split_host_port;

    #[test]
    fn turn_tls_addresses_are_host_names_with_or_without_a_port() {
        let split = |text| split_host_port(text);
        assert_eq!(
            split("turn.example.org"),
            Some(("turn.example.org".into(), None))
        );
        assert_eq!(
            split("turn.example.org:443"),
            Some(("turn.example.org".into(), Some(443)))
        );
        assert_eq!(
            split("[2001:db8::1]:443"),
            Some(("[2001:db8::1]".into(), Some(443)))
        );
        assert_eq!(split("[2001:db8::1]"), Some(("[2001:db8::1]".into(), None)));
        assert_eq!(split("turn.example.org:https"), None);
        assert_eq!(split(":443"), None);
        assert_eq!(split("user@turn.example.org"), None);
    }
}
