//! The SFU: media that the server forwards (broadcasts to the whole room).
//!
//! Every media connection of every room shares one UDP socket. The server is an ICE-lite
//! endpoint with a host candidate per announced address ([`addresses`]), so the first datagram from a new address is always a
//! connectivity check whose USERNAME names our end of the connection ([`stun`]); from then
//! on the address does. Each connection runs in a task of its own ([`peer`]); a room's
//! routes say which tracks each participant receives ([`room`]).
//!
//! - [`addresses`]: which addresses clients are told to send media to;
//! - [`codecs`]: which codecs publishers are answered with;
//! - [`layers`]: simulcast layers, packet by packet (keyframes, numbering, choices);
//! - [`allocation`]: which layer each receiver gets;
//! - [`stun`]: the little STUN parsing routing needs;
//! - [`feedback`]: which RTCP reaches the SFU (keyframe requests, bandwidth estimates);
//! - [`tcp`]: the same over one TCP port (ICE-TCP), for networks without UDP;
//! - [`peer`]: one connection, driving the sans-I/O `rtc` core;
//! - [`room`]: one room's publications, subscriptions and routes;
//! - [`tracks`]: the published tracks its connections share (keys, subscribers).

pub(crate) mod addresses;
pub(crate) mod allocation;
pub(crate) mod codecs;
pub mod feedback;
pub(crate) mod layers;
mod pausing;
pub(crate) mod peer;
pub(crate) mod rates;
pub(crate) mod room;
pub(crate) mod stun;
mod tcp;
mod tracks;
pub(crate) mod upswitch;

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Weak};

use bytes::BytesMut;
use dashmap::DashMap;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use crate::turn::IceServers;
pub use codecs::{Codecs, ExtraCodec};
pub use room::{MediaError, RoomMedia};
use tracks::MediaIn;

/// Largest datagram read; anything longer is not WebRTC media.
const MAX_DATAGRAM: usize = 1600;
/// Datagrams are read into one buffer of this size and split off it, so that receiving
/// allocates once per ten packets or so rather than once per packet. Small, because a
/// queued datagram keeps its whole chunk alive.
const RECEIVE_BUFFER: usize = 16 * 1024;

/// Where the SFU listens and what it tells clients.
#[derive(Debug, Clone, Copy)]
pub struct SfuConfig {
    /// The UDP address to bind (port 0: any free port).
    pub bind: SocketAddr,
    /// The address clients reach that socket at (its port is the bound one), for
    /// deployments behind NAT or in a container.
    pub announce: Option<IpAddr>,
    /// Also accept ICE-TCP on the same port number.
    pub tcp: bool,
    /// The codecs negotiated.
    pub codecs: Codecs,
}

/// One datagram from a participant.
#[derive(Debug)]
pub struct Datagram {
    /// Who sent it.
    pub from: SocketAddr,
    /// What they sent.
    pub data: BytesMut,
    /// It came over a TCP connection (ICE-TCP), not UDP.
    pub tcp: bool,
}

/// The server's SFU: its socket and the routing of datagrams to connections.
#[derive(Debug, Clone)]
pub struct Sfu {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    socket: UdpSocket,
    local: SocketAddr,
    /// The addresses clients are told (host candidates), the first foremost.
    announced: Vec<SocketAddr>,
    /// What clients are told to use besides the SFU's own address.
    ice: IceServers,
    /// Connections by their local ICE ufrag.
    by_ufrag: DashMap<String, mpsc::Sender<MediaIn>>,
    /// Connections by the remote address they were last reached from, with their ufrag.
    by_addr: DashMap<SocketAddr, (String, mpsc::Sender<MediaIn>)>,
    /// ICE-TCP connections by their remote address: where frames for them are queued.
    tcp_writers: DashMap<SocketAddr, mpsc::Sender<Vec<u8>>>,
    /// Whether ICE-TCP is on.
    tcp: bool,
    /// The codecs negotiated.
    codecs: Codecs,
}

/// Why the SFU did not start.
#[derive(Debug, thiserror::Error)]
pub enum SfuError {
    /// The UDP port could not be bound.
    #[error("cannot bind the media port {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

impl Sfu {
    /// Binds the media socket and starts routing datagrams.
    pub async fn start(config: SfuConfig, ice: IceServers) -> Result<Sfu, SfuError> {
        let (socket, local, tcp_listener) = crate::ports::bind_udp_and_tcp(config.bind, config.tcp)
            .await
            .map_err(|(addr, source)| SfuError::Bind { addr, source })?;
        let ips = addresses::announced(
            local.ip(),
            config.announce,
            &addresses::interface_addresses(),
        );
        let told = ips
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        if local.ip().is_unspecified() && config.announce.is_none() {
            if ips.len() == 1 {
                warn!(
                    "the media port is bound to every interface, no address to announce is set \
                     (--media-announce) and the machine has no other address: clients are \
                     told 127.0.0.1"
                );
            } else {
                info!(
                    addresses = %told,
                    "media: bound to every interface; clients are told this machine's addresses \
                     (behind NAT or in a container, set --media-announce)"
                );
            }
        }
        let inner = Arc::new(Inner {
            socket,
            local,
            announced: ips
                .iter()
                .map(|ip| SocketAddr::new(*ip, local.port()))
                .collect(),
            ice,
            by_ufrag: DashMap::new(),
            by_addr: DashMap::new(),
            tcp_writers: DashMap::new(),
            tcp: config.tcp,
            codecs: config.codecs,
        });
        if let Some(listener) = tcp_listener {
            tokio::spawn(tcp::accept(listener, Arc::downgrade(&inner)));
        }
        tokio::spawn(receive(Arc::downgrade(&inner)));
        Ok(Sfu { inner })
    }

    /// An SFU on a free loopback port, without TURN, for unit tests.
    #[cfg(test)]
    pub(crate) async fn on_loopback() -> Sfu {
        let config = SfuConfig {
            bind: ([127, 0, 0, 1], 0).into(),
            announce: None,
            tcp: false,
            codecs: Default::default(),
        };
        Sfu::start(config, crate::turn::IceServers::none())
            .await
            .expect("binds a loopback port")
    }

    /// The bound UDP address.
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.local
    }

    /// The STUN and TURN servers clients are given.
    pub fn ice(&self) -> &IceServers {
        &self.inner.ice
    }

    /// The address clients are told to send media to first.
    pub fn announced(&self) -> SocketAddr {
        // `addresses::announced` always gives at least one.
        self.inner
            .announced
            .first()
            .copied()
            .unwrap_or(self.inner.local)
    }

    /// Every address clients are told to send media to.
    pub fn announced_all(&self) -> &[SocketAddr] {
        &self.inner.announced
    }

    pub(crate) fn register(&self, ufrag: String, queue: mpsc::Sender<MediaIn>) {
        self.inner.by_ufrag.insert(ufrag, queue);
    }

    pub(crate) fn unregister(&self, ufrag: &str) {
        self.inner.by_ufrag.remove(ufrag);
        self.inner.by_addr.retain(|_, (u, _)| u != ufrag);
    }

    /// The codecs negotiated.
    pub fn codecs(&self) -> Codecs {
        self.inner.codecs
    }

    /// Whether ICE-TCP is on (the connections then offer a passive TCP candidate).
    pub fn tcp(&self) -> bool {
        self.inner.tcp
    }

    /// Sends a packet over UDP or, to an ICE-TCP connection, as a frame on it; a full
    /// buffer loses it, as the network would.
    pub(crate) fn send(&self, data: &[u8], to: SocketAddr, tcp: bool) {
        if tcp {
            tcp::send(&self.inner, data, to);
            return;
        }
        if let Err(err) = self.inner.socket.try_send_to(data, to)
            && err.kind() != std::io::ErrorKind::WouldBlock
        {
            debug!("media send failed: {err}");
        }
    }
}

/// Reads datagrams until the SFU is dropped and hands each to its connection.
async fn receive(inner: Weak<Inner>) {
    let mut buf = BytesMut::with_capacity(RECEIVE_BUFFER);
    // Look now and then whether the SFU is still wanted (one timer, not one per packet).
    let mut check = tokio::time::interval(std::time::Duration::from_secs(1));
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let Some(strong) = inner.upgrade() else {
            return;
        };
        if buf.capacity() < MAX_DATAGRAM {
            buf.reserve(RECEIVE_BUFFER);
        }
        buf.resize(MAX_DATAGRAM, 0);
        let received = tokio::select! {
            r = strong.socket.recv_from(&mut buf) => r,
            _ = check.tick() => continue,
        };
        let (len, from) = match received {
            Ok(r) => r,
            Err(err) => {
                // ICMP errors from earlier sends surface here on some systems.
                debug!("media receive failed: {err}");
                continue;
            }
        };
        let data = buf.split_to(len);
        buf.clear();
        route(
            &strong,
            Datagram {
                from,
                data,
                tcp: false,
            },
        );
    }
}

/// Hands a packet to its connection: by the check's USERNAME, else by its sender's address.
fn route(inner: &Inner, datagram: Datagram) {
    let from = datagram.from;
    let queue = match stun::local_ufrag(&datagram.data) {
        // A check names its connection; it also (re)binds the address, which is how a
        // client that changed network is followed.
        Some(ufrag) => {
            let Some(queue) = inner.by_ufrag.get(ufrag).map(|q| q.clone()) else {
                return;
            };
            let ufrag = ufrag.to_owned();
            inner.by_addr.insert(from, (ufrag, queue.clone()));
            queue
        }
        None => match inner.by_addr.get(&from) {
            Some(entry) => entry.1.clone(),
            None => return,
        },
    };
    // A connection that cannot keep up loses datagrams, as it would on the network.
    let _ = queue.try_send(MediaIn::Datagram(datagram));
}
