//! The embedded TURN server's gate: the sockets it is given, wrapped so that the peer
//! policy holds and so that clients' mistakes are logged at debug level, rate-limited.
//!
//! The `turn` crate has no hook for refusing peers, so the listening socket answers a
//! CreatePermission or ChannelBind for a refused peer itself (403 Forbidden, as coturn
//! does) and the crate never sees it; every relay socket also drops datagrams to and from
//! refused peers, should a permission ever exist for one.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use ring::hmac;
use stun::attributes::{ATTR_MESSAGE_INTEGRITY, ATTR_USERNAME, ATTR_XOR_PEER_ADDRESS};
use stun::error_code::{CODE_FORBIDDEN, ErrorCodeAttribute};
use stun::fingerprint::FINGERPRINT;
use stun::integrity::MessageIntegrity;
use stun::message::{
    CLASS_ERROR_RESPONSE, CLASS_REQUEST, Getter, MAGIC_COOKIE, METHOD_CHANNEL_BIND,
    METHOD_CREATE_PERMISSION, Message, MessageType, Setter,
};
use stun::textattrs::TextAttribute;
use tracing::debug;
use webrtc_util::Conn;

use super::peers::PeerPolicy;

/// How often one kind of client mistake is logged at most.
const LOG_EVERY: Duration = Duration::from_secs(10);

/// Logs one kind of event at most every [`LOG_EVERY`], with how many were not logged.
#[derive(Debug, Default)]
struct Throttle {
    /// When it was last logged, and how many happened since.
    state: Mutex<(Option<Instant>, u64)>,
}

impl Throttle {
    /// `Some(skipped since the last log)` when this one is to be logged.
    fn admit(&self) -> Option<u64> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        match state.0 {
            Some(last) if now.duration_since(last) < LOG_EVERY => {
                state.1 += 1;
                None
            }
            _ => {
                let skipped = state.1;
                *state = (Some(now), 0);
                Some(skipped)
            }
        }
    }
}

/// What the gate logs, each kind throttled on its own.
#[derive(Debug, Default)]
struct GateLog {
    /// Requests whose MESSAGE-INTEGRITY does not match their user name.
    bad_integrity: Throttle,
    /// Permissions and channels refused by the peer policy.
    refused: Throttle,
    /// Error responses the TURN server sent (401 before authentication is normal; 437 when
    /// a client repeats an Allocate whose answer it lost).
    errors: Throttle,
}

/// The listening socket of the embedded TURN server.
pub(super) struct Gate {
    /// The UDP socket.
    inner: Arc<dyn Conn + Send + Sync>,
    /// Who may be relayed to.
    policy: Arc<PeerPolicy>,
    /// The REST API secret, to check requests' integrity before answering them.
    key: hmac::Key,
    /// The realm the credentials are for.
    realm: String,
    /// Throttled logs.
    log: GateLog,
}

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gate").finish_non_exhaustive()
    }
}

impl Gate {
    /// Wraps `inner`.
    pub(super) fn new(
        inner: Arc<dyn Conn + Send + Sync>,
        policy: Arc<PeerPolicy>,
        secret: &[u8],
        realm: &str,
    ) -> Gate {
        Gate {
            inner,
            policy,
            key: hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret),
            realm: realm.to_owned(),
            log: GateLog::default(),
        }
    }

    /// The answer to send instead of passing `datagram` on, if it asks for a refused peer.
    fn inspect(&self, datagram: &[u8], from: SocketAddr) -> Option<Vec<u8>> {
        // ChannelData (first two bits 01) goes to a channel that was bound, so checked.
        if datagram.first().is_some_and(|b| b & 0xc0 == 0x40) {
            return None;
        }
        let mut message = Message {
            raw: datagram.to_vec(),
            ..Default::default()
        };
        message.decode().ok()?;
        if message.typ.class != CLASS_REQUEST {
            return None;
        }
        let integrity = self.integrity(&message, from);
        let method = message.typ.method;
        if method != METHOD_CREATE_PERMISSION && method != METHOD_CHANNEL_BIND {
            return None;
        }
        let refused = peer_addresses(&message)
            .into_iter()
            .find(|peer| !self.policy.permits(*peer))?;
        // Unauthenticated requests go on: the TURN server answers them 401 and adds nothing.
        let integrity = integrity?;
        if let Some(skipped) = self.log.refused.admit() {
            // No addresses in the log (privacy by default): the kind of event is what matters.
            let _ = (from, refused);
            debug!(skipped, "TURN: refused a relay to a denied peer address");
        }
        let mut answer = Message::new();
        let setters: Vec<Box<dyn Setter>> = vec![
            Box::new(Message {
                transaction_id: message.transaction_id,
                ..Default::default()
            }),
            Box::new(MessageType::new(method, CLASS_ERROR_RESPONSE)),
            Box::new(ErrorCodeAttribute {
                code: CODE_FORBIDDEN,
                reason: b"Forbidden".to_vec(),
            }),
            Box::new(integrity),
            Box::new(FINGERPRINT),
        ];
        answer.build(&setters).ok()?;
        Some(answer.raw)
    }

    /// The request's integrity if it carries a valid one; logs (throttled) one that is bad.
    fn integrity(&self, message: &Message, from: SocketAddr) -> Option<MessageIntegrity> {
        if !message.contains(ATTR_MESSAGE_INTEGRITY) {
            return None;
        }
        let username = TextAttribute::get_from_as(message, ATTR_USERNAME).ok()?;
        let username = username.to_string();
        let password = super::password(&self.key, &username);
        let integrity =
            MessageIntegrity::new_long_term_integrity(username, self.realm.clone(), password);
        if integrity.check(&mut message.clone()).is_ok() {
            Some(integrity)
        } else {
            if let Some(skipped) = self.log.bad_integrity.admit() {
                let _ = from;
                debug!(
                    skipped,
                    "TURN: a request with a bad integrity check (wrong or expired credentials)"
                );
            }
            None
        }
    }

    /// Logs (throttled) an error response the TURN server sends.
    fn observe_answer(&self, datagram: &[u8], to: SocketAddr) {
        let mut message = Message {
            raw: datagram.to_vec(),
            ..Default::default()
        };
        if message.decode().is_err() || message.typ.class != CLASS_ERROR_RESPONSE {
            return;
        }
        let mut code = ErrorCodeAttribute::default();
        if code.get_from(&message).is_ok()
            && let Some(skipped) = self.log.errors.admit()
        {
            let _ = to;
            debug!(code = code.code.0, method = %message.typ.method, skipped, "TURN: answered a request with an error");
        }
    }
}

/// Every XOR-PEER-ADDRESS of a request (CreatePermission may carry several).
fn peer_addresses(message: &Message) -> Vec<SocketAddr> {
    let cookie = MAGIC_COOKIE.to_be_bytes();
    let mut mask = [0u8; 16];
    mask[..4].copy_from_slice(&cookie);
    mask[4..].copy_from_slice(&message.transaction_id.0);
    message
        .attributes
        .0
        .iter()
        .filter(|a| a.typ == ATTR_XOR_PEER_ADDRESS)
        .filter_map(|a| {
            let v = &a.value;
            let port = u16::from_be_bytes([*v.get(2)?, *v.get(3)?]) ^ (MAGIC_COOKIE >> 16) as u16;
            let ip = match v.get(1)? {
                1 => {
                    let b = v.get(4..8)?;
                    IpAddr::V4(Ipv4Addr::new(
                        b[0] ^ mask[0],
                        b[1] ^ mask[1],
                        b[2] ^ mask[2],
                        b[3] ^ mask[3],
                    ))
                }
                2 => {
                    let b = v.get(4..20)?;
                    let mut octets = [0u8; 16];
                    for (i, o) in octets.iter_mut().enumerate() {
                        *o = b[i] ^ mask[i];
                    }
                    IpAddr::V6(Ipv6Addr::from(octets))
                }
                _ => return None,
            };
            Some(SocketAddr::new(ip, port))
        })
        .collect()
}

#[async_trait]
impl Conn for Gate {
    async fn connect(&self, addr: SocketAddr) -> webrtc_util::Result<()> {
        self.inner.connect(addr).await
    }

    async fn recv(&self, buf: &mut [u8]) -> webrtc_util::Result<usize> {
        self.inner.recv(buf).await
    }

    async fn recv_from(&self, buf: &mut [u8]) -> webrtc_util::Result<(usize, SocketAddr)> {
        loop {
            let (n, from) = self.inner.recv_from(buf).await?;
            match self.inspect(&buf[..n], from) {
                None => return Ok((n, from)),
                Some(answer) => {
                    // A lost answer is the client's to retry, as for any UDP answer.
                    let _ = self.inner.send_to(&answer, from).await;
                }
            }
        }
    }

    async fn send(&self, buf: &[u8]) -> webrtc_util::Result<usize> {
        self.inner.send(buf).await
    }

    async fn send_to(&self, buf: &[u8], target: SocketAddr) -> webrtc_util::Result<usize> {
        self.observe_answer(buf, target);
        self.inner.send_to(buf, target).await
    }

    fn local_addr(&self) -> webrtc_util::Result<SocketAddr> {
        self.inner.local_addr()
    }

    fn remote_addr(&self) -> Option<SocketAddr> {
        self.inner.remote_addr()
    }

    async fn close(&self) -> webrtc_util::Result<()> {
        self.inner.close().await
    }

    fn as_any(&self) -> &(dyn std::any::Any + Send + Sync) {
        self
    }
}

/// Makes relay sockets that exchange datagrams with permitted peers only.
pub(super) struct GuardedRelays {
    /// Binds the sockets.
    pub(super) inner: turn::relay::relay_range::RelayAddressGeneratorRanges,
    /// Who may be relayed to.
    pub(super) policy: Arc<PeerPolicy>,
}

#[async_trait]
impl turn::relay::RelayAddressGenerator for GuardedRelays {
    fn validate(&self) -> Result<(), turn::Error> {
        self.inner.validate()
    }

    async fn allocate_conn(
        &self,
        use_ipv4: bool,
        requested_port: u16,
    ) -> Result<(Arc<dyn Conn + Send + Sync>, SocketAddr), turn::Error> {
        let (conn, addr) = self.inner.allocate_conn(use_ipv4, requested_port).await?;
        self.policy.relay_opened(addr.port());
        let guarded = GuardedRelay {
            inner: conn,
            policy: self.policy.clone(),
            port: addr.port(),
            open: AtomicBool::new(true),
        };
        Ok((Arc::new(guarded), addr))
    }
}

/// One relay socket behind the peer policy; known to it as a relay while open.
struct GuardedRelay {
    /// The relay's UDP socket.
    inner: Arc<dyn Conn + Send + Sync>,
    /// Who may be relayed to.
    policy: Arc<PeerPolicy>,
    /// Its port.
    port: u16,
    /// Until closed (or dropped, whichever comes first).
    open: AtomicBool,
}

impl GuardedRelay {
    fn closed(&self) {
        if self.open.swap(false, Ordering::AcqRel) {
            self.policy.relay_closed(self.port);
        }
    }
}

impl Drop for GuardedRelay {
    fn drop(&mut self) {
        self.closed();
    }
}

#[async_trait]
impl Conn for GuardedRelay {
    async fn connect(&self, addr: SocketAddr) -> webrtc_util::Result<()> {
        self.inner.connect(addr).await
    }

    async fn recv(&self, buf: &mut [u8]) -> webrtc_util::Result<usize> {
        self.inner.recv(buf).await
    }

    async fn recv_from(&self, buf: &mut [u8]) -> webrtc_util::Result<(usize, SocketAddr)> {
        loop {
            let (n, from) = self.inner.recv_from(buf).await?;
            if self.policy.permits(from) {
                return Ok((n, from));
            }
        }
    }

    async fn send(&self, buf: &[u8]) -> webrtc_util::Result<usize> {
        self.inner.send(buf).await
    }

    async fn send_to(&self, buf: &[u8], target: SocketAddr) -> webrtc_util::Result<usize> {
        if !self.policy.permits(target) {
            return Err(webrtc_util::Error::Other(format!(
                "relaying to {target} is not allowed"
            )));
        }
        self.inner.send_to(buf, target).await
    }

    fn local_addr(&self) -> webrtc_util::Result<SocketAddr> {
        self.inner.local_addr()
    }

    fn remote_addr(&self) -> Option<SocketAddr> {
        self.inner.remote_addr()
    }

    async fn close(&self) -> webrtc_util::Result<()> {
        self.closed();
        self.inner.close().await
    }

    fn as_any(&self) -> &(dyn std::any::Any + Send + Sync) {
        self
    }
}
