//! Configuration: command-line flags, each with a `HALLWAY_*` environment variable, and
//! defaults that make `cargo run --release` serve a demo room on port 8080.

use std::net::IpAddr;

use clap::{Parser, ValueEnum};

/// Hallway: a self-hosted virtual networking room.
#[derive(Debug, Clone, Parser)]
#[command(name = "hallway", version, about)]
pub struct Config {
    /// Address to listen on. Use 0.0.0.0 (as the container does) to accept connections
    /// from other machines.
    #[arg(long, env = "HALLWAY_BIND", default_value = "127.0.0.1")]
    pub bind: IpAddr,

    /// TCP port for HTTP and WebSocket; 0 picks a free one.
    #[arg(long, env = "HALLWAY_PORT", default_value_t = 8080)]
    pub port: u16,

    /// Position updates sent per second (coalesced to the latest per participant).
    #[arg(long, env = "HALLWAY_TICK_HZ", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=60))]
    pub tick_hz: u32,

    /// Most participants in one room.
    #[arg(long, env = "HALLWAY_MAX_PARTICIPANTS", default_value_t = 1500, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_participants: u32,

    /// Most members in one circle.
    #[arg(long, env = "HALLWAY_MAX_CIRCLE_SIZE", default_value_t = 15, value_parser = clap::value_parser!(u32).range(2..=64))]
    pub max_circle_size: u32,

    /// Rooms opened at start, by slug (comma-separated in the variable). The first is the
    /// demo room.
    #[arg(
        long = "room",
        env = "HALLWAY_ROOMS",
        value_delimiter = ',',
        default_value = "lobby"
    )]
    pub rooms: Vec<String>,

    /// Floor width of the rooms opened at start, in floor units.
    #[arg(long, env = "HALLWAY_FLOOR_WIDTH", default_value_t = 2400.0)]
    pub floor_width: f32,

    /// Floor height of the rooms opened at start, in floor units.
    #[arg(long, env = "HALLWAY_FLOOR_HEIGHT", default_value_t = 1600.0)]
    pub floor_height: f32,

    /// Sustained `signal` messages per second one connection may send (bursts of four
    /// times as many). WebRTC needs a few dozen per connection set-up.
    #[arg(long, env = "HALLWAY_SIGNAL_RATE", default_value_t = hallway_proto::limits::SIGNALS_PER_SECOND, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub signal_rate: u32,

    /// Most WebSocket connections this node holds at once; more are answered 503.
    #[arg(long, env = "HALLWAY_MAX_CONNECTIONS", default_value_t = 25_000)]
    pub max_connections: usize,

    /// UDP port of the SFU: every media connection the server carries (broadcasts) uses
    /// this one port, on the address given by `--bind`; 0 picks a free one.
    #[arg(long, env = "HALLWAY_MEDIA_PORT", default_value_t = 8081)]
    pub media_port: u16,

    /// Also accept media over TCP (ICE-TCP) on the same port number, for networks that
    /// block UDP.
    #[arg(long, env = "HALLWAY_MEDIA_TCP", default_value_t = true, action = clap::ArgAction::Set)]
    pub media_tcp: bool,

    /// The address clients send media to, when it is not the bound one (behind NAT, in a
    /// container): the server's public IP address. Bound to 0.0.0.0 without it, the
    /// machine's own IPv4 addresses and 127.0.0.1 are offered.
    #[arg(long, env = "HALLWAY_MEDIA_ANNOUNCE")]
    pub media_announce: Option<IpAddr>,

    /// Video codecs the SFU allows besides VP8 (comma-separated: vp9, h264, av1). Opus and
    /// VP8 are always allowed; add others only when every client decodes them, since
    /// the SFU forwards a publisher's codec unchanged to everyone.
    #[arg(long, env = "HALLWAY_SFU_EXTRA_CODECS", value_delimiter = ',')]
    pub sfu_extra_codecs: Vec<crate::sfu::ExtraCodec>,

    /// Run the embedded TURN server (a relay for clients behind restrictive networks).
    #[arg(long, env = "HALLWAY_TURN", default_value_t = true, action = clap::ArgAction::Set)]
    pub turn: bool,

    /// UDP port of the embedded TURN server, on the `--bind` address; 0 picks a free one.
    #[arg(long, env = "HALLWAY_TURN_PORT", default_value_t = 3478)]
    pub turn_port: u16,

    /// Also serve TURN over TCP on the same port number (for networks that block UDP).
    #[arg(long, env = "HALLWAY_TURN_TCP", default_value_t = true, action = clap::ArgAction::Set)]
    pub turn_tcp: bool,

    /// Serve TURN over TLS (`turns:`) on this address, e.g. `0.0.0.0:5349`, with
    /// `--turn-tls-cert` and `--turn-tls-key`: media for networks that let only HTTPS
    /// (TCP 443) out. See the operator guide for sharing port 443 with the web server.
    #[arg(long, env = "HALLWAY_TURN_TLS_BIND")]
    pub turn_tls_bind: Option<std::net::SocketAddr>,

    /// The certificate chain (PEM) of TURN over TLS, for the host name in
    /// `--turn-tls-public`.
    #[arg(long, env = "HALLWAY_TURN_TLS_CERT")]
    pub turn_tls_cert: Option<std::path::PathBuf>,

    /// The private key (PEM) of that certificate.
    #[arg(long, env = "HALLWAY_TURN_TLS_KEY")]
    pub turn_tls_key: Option<std::path::PathBuf>,

    /// Where clients reach TURN over TLS, as `host:port` with the host name of the
    /// certificate, e.g. `turn.example.org:443` behind a proxy that routes by SNI (default:
    /// the host of `--public-url` and the port of `--turn-tls-bind`).
    #[arg(long, env = "HALLWAY_TURN_TLS_PUBLIC")]
    pub turn_tls_public: Option<String>,

    /// Ports the embedded TURN server relays through, as `MIN-MAX`.
    #[arg(long, env = "HALLWAY_TURN_RELAY_PORTS", default_value = "49152-65535", value_parser = parse_port_range)]
    pub turn_relay_ports: (u16, u16),

    /// Peer addresses the embedded TURN server may relay to although they are loopback,
    /// private, link-local or otherwise internal (refused by default, with 403): CIDR ranges
    /// such as `192.168.10.0/24`, for an event on a LAN; repeat or separate by commas.
    #[arg(long = "turn-allow-peer", env = "HALLWAY_TURN_ALLOW_PEERS", value_delimiter = ',', value_parser = crate::turn::peers::PeerRange::parse)]
    pub turn_allow_peers: Vec<crate::turn::peers::PeerRange>,

    /// Use this external TURN server (e.g. coturn with `use-auth-secret`) instead of the
    /// embedded one, e.g. `turn:turn.example.org:3478?transport=udp`; repeat for more URLs.
    #[arg(long = "turn-url", env = "HALLWAY_TURN_URLS", value_delimiter = ',')]
    pub turn_urls: Vec<String>,

    /// Shared secret of the TURN REST API credentials (coturn's `static-auth-secret`).
    /// Needed with `--turn-url`; the embedded server makes one up at each start without it.
    #[arg(long, env = "HALLWAY_TURN_SECRET", hide_env_values = true)]
    pub turn_secret: Option<String>,

    /// Frames queued for one connection before position updates are skipped and, if it
    /// stays stuck, the connection is closed as a slow consumer.
    #[arg(long, env = "HALLWAY_SEND_QUEUE", default_value_t = 256, value_parser = clap::value_parser!(u32).range(64..=65_536))]
    pub send_queue: u32,

    /// Seconds without a word from a client before the server pings it; a client that
    /// then stays silent for `--ping-timeout` more seconds is closed as dead.
    #[arg(long, env = "HALLWAY_PING_INTERVAL", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub ping_interval: u64,

    /// Seconds a pinged client has to answer.
    #[arg(long, env = "HALLWAY_PING_TIMEOUT", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub ping_timeout: u64,

    /// Seconds a participant whose connection was lost keeps their place (shown to
    /// others as reconnecting) for their client to resume; 0 removes them at once.
    #[arg(long, env = "HALLWAY_RESUME_GRACE", default_value_t = 30, value_parser = clap::value_parser!(u64).range(0..=600))]
    pub resume_grace: u64,

    /// Rooms with more people than this welcome a newcomer with the people near where they
    /// appear (and whoever is on air) only, not with everyone; their page learns of the
    /// others as they come into sight and finds anyone by name through the server.
    #[arg(long, env = "HALLWAY_WELCOME_ROSTER", default_value_t = crate::room::roster::DEFAULT_WELCOME_ROSTER)]
    pub welcome_roster: usize,

    /// Keep each room's organiser summary (aggregate figures only: no names, no ids) in
    /// the store, so that it survives a restart; off: it lives in memory only.
    #[arg(long, env = "HALLWAY_KEEP_SUMMARY", default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub keep_summary: bool,

    /// Seconds between two points of the organiser summary's chart (it doubles as the
    /// day grows long, keeping at most 360 points).
    #[arg(long, env = "HALLWAY_SUMMARY_EVERY", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub summary_every: u64,

    /// Redis (`redis://host:6379/`) shared by the nodes of a cluster: rooms, the link
    /// secret and room ownership live there, and any node serves any room. Without it
    /// the server runs alone with its data directory.
    #[arg(long, env = "HALLWAY_REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,

    /// In a cluster: seconds a room's owner holds its lease without renewing it; another
    /// node takes the room over at most this long after its owner died.
    #[arg(long, env = "HALLWAY_ROOM_LEASE", default_value_t = 5, value_parser = clap::value_parser!(u64).range(2..=60))]
    pub room_lease: u64,

    /// Seconds over which sessions are told to reconnect (close 1012, each at a random
    /// moment) when the server stops; the server exits when all are gone or this ends.
    #[arg(long, env = "HALLWAY_DRAIN_SECONDS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(0..=300))]
    pub drain_seconds: u64,

    /// Origins (`https://events.example.org`, exact match) whose pages may open the
    /// WebSocket; `*` allows any. Default: the page's own origin (Origin's host equals
    /// the Host header). Requests without Origin (not from a browser) are allowed.
    #[arg(
        long = "allowed-origin",
        env = "HALLWAY_ALLOWED_ORIGINS",
        value_delimiter = ','
    )]
    pub allowed_origins: Vec<String>,

    /// Addresses of reverse proxies in front of Hallway. For a connection from one of
    /// them, the client's address (for `--max-connections-per-ip`) is the last address
    /// in `X-Forwarded-For` that is not itself a trusted proxy; from anyone else the
    /// header is ignored, so that clients cannot pick their own address.
    #[arg(
        long = "trusted-proxy",
        env = "HALLWAY_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<std::net::IpAddr>,

    /// Address and port of a listener of its own for `/metrics` (e.g. `0.0.0.0:9090` in a
    /// container, scraped over the container network; `127.0.0.1:0` picks a free port).
    /// Without it, `/metrics` is served on the main port to local requests only: from a
    /// loopback address and not through a reverse proxy.
    #[arg(long, env = "HALLWAY_METRICS_BIND")]
    pub metrics_bind: Option<std::net::SocketAddr>,

    /// Most WebSocket connections from one IP address. Offices and public-sector networks
    /// often share one address for hundreds of people: keep this generous.
    #[arg(long, env = "HALLWAY_MAX_CONNECTIONS_PER_IP", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections_per_ip: u32,

    /// Seconds a new connection has to send `hello` before it is closed.
    #[arg(long, env = "HALLWAY_HELLO_TIMEOUT", default_value_t = hallway_proto::limits::HELLO_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub hello_timeout: u64,

    /// Seconds a connection has to send a request's headers (a client that trickles
    /// them, or sends nothing, is closed).
    #[arg(long, env = "HALLWAY_HEADER_TIMEOUT", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub header_timeout: u64,

    /// Also serve `/ws-echo`, a WebSocket that echoes every message through the same
    /// stack as `/ws`: for the Autobahn conformance cases only, never in production.
    #[arg(long, env = "HALLWAY_CONFORMANCE_ECHO", hide = true)]
    pub conformance_echo: bool,

    /// Serve the browser client from this folder (re-read on every request) instead of the
    /// copy built into the binary: for working on `client-web/`.
    #[arg(long, env = "HALLWAY_CLIENT_DIR")]
    pub client_dir: Option<std::path::PathBuf>,

    /// Folder for data the server keeps: the secret that signs links.
    #[arg(long, env = "HALLWAY_DATA_DIR", default_value = "data", global = true)]
    pub data_dir: std::path::PathBuf,

    /// Secret that signs links (at least 32 characters). Without it, one is created in
    /// the data folder on first start.
    #[arg(long, env = "HALLWAY_SECRET", hide_env_values = true, global = true)]
    pub secret: Option<String>,

    /// Bearer key of the admin HTTP API (`/api/…`); without it the API is off.
    #[arg(long, env = "HALLWAY_ADMIN_KEY", hide_env_values = true)]
    pub admin_key: Option<String>,

    /// The address people use to reach this server, for the links it prints (default:
    /// http://localhost:PORT). Set it when behind a reverse proxy.
    #[arg(long, env = "HALLWAY_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Log format.
    #[arg(long, env = "HALLWAY_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Whether the start-up banner shows each room's host link (it carries a host token):
    /// `auto` only when standard output is an interactive terminal and logs are text, so
    /// that a container's log never holds one; `always`; `never`.
    #[arg(long, env = "HALLWAY_PRINT_LINKS", value_enum, default_value_t = PrintLinks::Auto)]
    pub print_links: PrintLinks,

    /// The accessibility statement at `/accessibility`.
    #[command(flatten, next_help_heading = "Accessibility statement")]
    pub statement: crate::statement::StatementArgs,

    /// Where feedback from the statement's form goes.
    #[command(flatten, next_help_heading = "Accessibility feedback")]
    pub feedback: crate::feedback::FeedbackArgs,

    /// Host sign-in at an OpenID Connect provider.
    #[command(flatten, next_help_heading = "Host sign-in (OpenID Connect)")]
    pub oidc: crate::oidc::OidcArgs,

    /// What to do; without a command, serve.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Commands besides serving.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Print a signed link into a room (for a host, or a personal invitation).
    Link(LinkArgs),
    /// Write a personal invitation link for every attendee of a CSV list.
    Invite(InviteArgs),
    /// Create, list, update and delete rooms (kept in the data folder).
    #[command(subcommand)]
    Room(RoomCommand),
    /// Ask the server on this machine (`--bind`, `--port`) whether it is alive
    /// (`/healthz`); exits 0 if so, 1 if not. The container's HEALTHCHECK.
    Health,
}

/// `hallway room …`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum RoomCommand {
    /// Create a room.
    Create(RoomArgs),
    /// List the rooms.
    List,
    /// Change a room's settings (those given).
    Update(RoomArgs),
    /// Delete a room.
    Delete {
        /// The room's slug.
        slug: String,
    },
}

/// A room's settings on the command line; what is not given keeps its value (or the
/// default, when creating).
#[derive(Debug, Clone, clap::Args)]
pub struct RoomArgs {
    /// The room's slug: 1 to 64 characters of a-z, 0-9 and -.
    pub slug: String,
    /// The title people see.
    #[arg(long)]
    pub title: Option<String>,
    /// Floor width.
    #[arg(long)]
    pub width: Option<f32>,
    /// Floor height.
    #[arg(long)]
    pub height: Option<f32>,
    /// Most participants.
    #[arg(long)]
    pub max_participants: Option<u32>,
    /// Most members in a circle.
    #[arg(long)]
    pub max_circle_size: Option<u32>,
    /// Who may enter without a signed link.
    #[arg(long, value_enum)]
    pub access: Option<crate::access::AccessMode>,
    /// The passcode, for `--access passcode` (kept only as a salted hash).
    #[arg(long)]
    pub passcode: Option<String>,
    /// Circles larger than this go through the server's SFU.
    #[arg(long)]
    pub mesh_threshold: Option<u32>,
    /// Privacy mode: all media through the SFU.
    #[arg(long)]
    pub privacy: Option<bool>,
    /// How fast people walk, in floor units per second (50 to 2000; default 400).
    #[arg(long)]
    pub walk_speed: Option<f32>,
    /// Hosts see who has been outside any circle for longer than this many minutes (1 to
    /// 120; default 3).
    #[arg(long)]
    pub alone_minutes: Option<u32>,
    /// Whether a new circle gets an icebreaker, a conversation prompt (default true).
    #[arg(long)]
    pub icebreakers: Option<bool>,
    /// The room's own icebreakers: a UTF-8 text file with one prompt per line (at most 50
    /// of at most 200 characters; blank lines are left out), or `builtin` for the built-in
    /// ones in German and English.
    #[arg(long, value_name = "FILE|builtin")]
    pub icebreaker_prompts: Option<String>,
    /// Whether newcomers wait in a waiting room until a host admits them (default false).
    #[arg(long)]
    pub waiting_room: Option<bool>,
    /// What people in the waiting room read besides the room's title (one line of at
    /// most 200 characters; empty: the page's own words).
    #[arg(long)]
    pub waiting_message: Option<String>,
    /// The picture under the floor: `builtin:foyer`, `builtin:hall`, `builtin:garden`,
    /// the path of a PNG, JPEG or SVG file of at most 5 MB (kept in the data folder), or
    /// `none`.
    #[arg(long)]
    pub floor_plan: Option<String>,
}

/// What `hallway invite` reads and writes.
#[derive(Debug, Clone, clap::Args)]
pub struct InviteArgs {
    /// The room's slug.
    #[arg(long, default_value = "lobby")]
    pub room: String,
    /// The attendee list: a CSV with a name (or first and last name) and an e-mail column.
    #[arg(long)]
    pub csv: std::path::PathBuf,
    /// Where to write `name, email, link` (default: standard output); with profile lines
    /// `name, email, profile, link`.
    #[arg(long)]
    pub out: Option<std::path::PathBuf>,
    /// A column (by its heading) whose text becomes the profile line shown beside the name;
    /// give it again for more columns, joined with " · ". Without it, columns headed like
    /// "Organisation"/"Behörde" and "Topics"/"Themen" are used if the list has them.
    #[arg(long = "profile-column", value_name = "HEADING")]
    pub profile_columns: Vec<String>,
    /// How long the links are valid, in hours.
    #[arg(long, default_value_t = 24 * 30)]
    pub valid_hours: u64,
}

/// What `hallway link` mints.
#[derive(Debug, Clone, clap::Args)]
pub struct LinkArgs {
    /// The room's slug.
    #[arg(long, default_value = "lobby")]
    pub room: String,
    /// The role the link grants.
    #[arg(long, value_enum, default_value_t = crate::access::TokenRole::Participant)]
    pub role: crate::access::TokenRole,
    /// A fixed display name (a personal invitation).
    #[arg(long)]
    pub name: Option<String>,
    /// A fixed profile line beside the name (organisation and topics).
    #[arg(long)]
    pub profile: Option<String>,
    /// How long the link is valid, in hours.
    #[arg(long, default_value_t = 24 * 30)]
    pub valid_hours: u64,
}

/// When the banner shows host links.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PrintLinks {
    /// Only to an interactive terminal, with text logs.
    Auto,
    /// Always (e.g. a script that reads the banner).
    Always,
    /// Never.
    Never,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

impl Config {
    /// The defaults, as if no flag or variable were given; for tests and embedding.
    pub fn defaults() -> Config {
        Config::parse_from(["hallway"])
    }

    /// A new room's settings as this configuration gives them (floor, limits), for the
    /// configured rooms, `hallway room create` and `POST /api/rooms`.
    pub fn room_defaults(&self, slug: &str) -> crate::store::RoomRecord {
        crate::store::RoomRecord {
            slug: slug.to_owned(),
            title: crate::catalogue::title_of(slug),
            width: self.floor_width,
            height: self.floor_height,
            max_participants: self.max_participants,
            max_circle_size: self.max_circle_size,
            ..Default::default()
        }
    }

    /// The base URL for printed links, given the port actually bound: `--public-url`, or
    /// `http://localhost:<port>` for a server on loopback or all interfaces, or the bound
    /// address. The server's banner and `hallway link` both use it, so they agree.
    pub fn public_base(&self, port: u16) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None if self.bind.is_loopback() || self.bind.is_unspecified() => {
                format!("http://localhost:{port}")
            }
            None => format!("http://{}", std::net::SocketAddr::new(self.bind, port)),
        }
    }
}

/// `MIN-MAX`, with MIN ≤ MAX.
fn parse_port_range(text: &str) -> Result<(u16, u16), String> {
    let (min, max) = text
        .split_once('-')
        .ok_or_else(|| format!("{text:?} is not MIN-MAX"))?;
    let min: u16 = min.trim().parse().map_err(|e| format!("{min:?}: {e}"))?;
    let max: u16 = max.trim().parse().map_err(|e| format!("{max:?}: {e}"))?;
    if min == 0 || min > max {
        return Err(format!("{text:?}: need 1 <= MIN <= MAX"));
    }
    Ok((min, max))
}
