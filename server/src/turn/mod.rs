//! TURN: a relay for clients whose network lets no direct WebRTC traffic through.
//!
//! By default the server runs an embedded TURN server on one UDP port. Each participant
//! gets credentials of their own in the welcome, in the TURN REST API format that coturn's
//! `use-auth-secret` understands: the user name is `<expiry>:<participant id>` and the
//! password is the base64 HMAC-SHA1 of the user name under a shared secret. So pointing
//! Hallway at an external coturn is configuration only (`--turn-url`, `--turn-secret`).
//!
//! Besides UDP it serves TURN over TCP on the same port number and, with a certificate,
//! TURN over TLS on an address of its own (port 443 for networks that let only HTTPS out).
//!
//! - `peers`: which peer addresses relays may reach (not the server's own network).
//! - `gate`: the sockets handed to the `turn` crate, wrapped to enforce that policy.
//! - `stream`: TCP and TLS connections as one such socket, and how TURN messages go on
//!   a stream (for clients too: the tests' client uses it).

mod gate;
pub mod peers;
pub mod stream;

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::prelude::BASE64_STANDARD;
use hallway_proto::IceServer;
use ring::hmac;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tracing::warn;

use crate::room::model::ParticipantId;

/// Realm of the embedded server.
const REALM: &str = "hallway";

/// How long credentials stay valid: a long event day (an allocation is checked when it is
/// made and refreshed, so a participant who stays longer reconnects with new ones).
pub const CREDENTIAL_LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// The ICE servers the welcome hands out, and the secret their credentials are made with.
#[derive(Clone)]
pub struct IceServers {
    urls: Vec<String>,
    secret: Option<Arc<hmac::Key>>,
}

impl std::fmt::Debug for IceServers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IceServers")
            .field("urls", &self.urls)
            .field("secret", &self.secret.as_ref().map(|_| "…"))
            .finish()
    }
}

impl IceServers {
    /// TURN (and STUN) at `urls`, with credentials under `secret`; without a secret the
    /// servers are handed out without credentials (STUN only).
    pub fn new(urls: Vec<String>, secret: Option<&[u8]>) -> IceServers {
        IceServers {
            urls,
            secret: secret
                .map(|s| Arc::new(hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, s))),
        }
    }

    /// No ICE servers (host candidates only).
    pub fn none() -> IceServers {
        IceServers::new(Vec::new(), None)
    }

    /// What one participant is told, at `now` (Unix seconds).
    pub fn for_participant(&self, id: ParticipantId, now: u64) -> Vec<IceServer> {
        if self.urls.is_empty() {
            return Vec::new();
        }
        let (username, credential) = match &self.secret {
            Some(key) => {
                let username = format!("{}:{id}", now + CREDENTIAL_LIFETIME.as_secs());
                let credential = password(key, &username);
                (Some(username), Some(credential))
            }
            None => (None, None),
        };
        vec![IceServer {
            urls: self.urls.clone(),
            username,
            credential,
        }]
    }
}

/// The REST API password of `username`.
fn password(key: &hmac::Key, username: &str) -> String {
    BASE64_STANDARD.encode(hmac::sign(key, username.as_bytes()).as_ref())
}

/// Checks REST API user names for the embedded server: unexpired, and the password the
/// shared secret gives.
struct RestAuth {
    key: hmac::Key,
}

impl turn::auth::AuthHandler for RestAuth {
    fn auth_handle(
        &self,
        username: &str,
        realm: &str,
        _src_addr: SocketAddr,
    ) -> Result<Vec<u8>, turn::Error> {
        let expiry = username
            .split(':')
            .next()
            .and_then(|t| t.parse::<u64>().ok())
            .ok_or_else(|| turn::Error::Other("not a REST API user name".into()))?;
        if expiry < crate::clock::now_secs() {
            return Err(turn::Error::Other("expired credentials".into()));
        }
        let password = password(&self.key, username);
        Ok(turn::auth::generate_auth_key(username, realm, &password))
    }
}

/// Where the embedded server listens and relays.
#[derive(Debug, Clone)]
pub struct TurnConfig {
    /// UDP address to listen on (port 0: any free port).
    pub bind: SocketAddr,
    /// The address clients reach it at, and relayed traffic leaves from.
    pub announce: IpAddr,
    /// Ports for relayed traffic.
    pub relay_ports: (u16, u16),
    /// Peer ranges allowed besides the public internet (`--turn-allow-peer`).
    pub allowed_peers: Vec<peers::PeerRange>,
    /// Also TURN over TCP, on the UDP port's number.
    pub tcp: bool,
    /// TURN over TLS.
    pub tls: Option<TlsConfig>,
}

/// TURN over TLS: where it listens, its certificate, and where clients reach it.
#[derive(Debug, Clone)]
pub struct TlsConfig {
    /// The TCP address to listen on (port 0: any free port).
    pub bind: SocketAddr,
    /// The certificate chain, PEM.
    pub cert: PathBuf,
    /// Its private key, PEM.
    pub key: PathBuf,
    /// The host name clients connect to, the certificate's.
    pub host: String,
    /// The port clients connect to (behind a proxy that routes by SNI, the proxy's); the
    /// bound one if none.
    pub port: Option<u16>,
}

/// Why the embedded server did not start.
#[derive(Debug, thiserror::Error)]
pub enum TurnError {
    /// The UDP port could not be bound.
    #[error("cannot bind the TURN port {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The TURN server refused its configuration.
    #[error("cannot start the TURN server: {0}")]
    Start(String),
    /// The certificate or key of TURN over TLS cannot be used.
    #[error("TURN over TLS: {path}: {reason}")]
    Tls {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

/// The embedded TURN server; it stops when dropped.
pub struct EmbeddedTurn {
    server: Option<turn::server::Server>,
    /// Who relays may reach; the SFU's address is added once it is known.
    policy: Arc<peers::PeerPolicy>,
    /// The bound UDP address.
    pub local_addr: SocketAddr,
    /// The address clients are told.
    pub announced: SocketAddr,
    /// Whether TURN over TCP is served (on `local_addr`'s port).
    tcp: bool,
    /// The bound address of TURN over TLS and the `host:port` clients are told.
    pub tls: Option<(SocketAddr, String)>,
}

impl std::fmt::Debug for EmbeddedTurn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedTurn")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

impl EmbeddedTurn {
    /// Starts the embedded server with credentials under `secret`.
    pub async fn start(config: &TurnConfig, secret: &[u8]) -> Result<EmbeddedTurn, TurnError> {
        let (socket, local_addr, tcp) = crate::ports::bind_udp_and_tcp(config.bind, config.tcp)
            .await
            .map_err(|(addr, source)| TurnError::Bind { addr, source })?;
        let (min_port, max_port) = config.relay_ports;
        let policy = Arc::new(peers::PeerPolicy::new(config.allowed_peers.clone()));
        policy.relay_host(config.announce);
        policy.relay_host(config.bind.ip());
        // One listener per transport, each behind the gate; all relay over UDP.
        let mut listeners: Vec<Arc<dyn webrtc_util::Conn + Send + Sync>> = vec![Arc::new(socket)];
        if let Some(listener) = tcp {
            let stream =
                stream::StreamConn::new(listener, None).map_err(|source| TurnError::Bind {
                    addr: local_addr,
                    source,
                })?;
            listeners.push(Arc::new(stream));
        }
        let mut tls = None;
        if let Some(tls_config) = &config.tls {
            let acceptor = tls_acceptor(&tls_config.cert, &tls_config.key)?;
            let addr = tls_config.bind;
            let listener = TcpListener::bind(addr)
                .await
                .map_err(|source| TurnError::Bind { addr, source })?;
            let stream = stream::StreamConn::new(listener, Some(acceptor))
                .map_err(|source| TurnError::Bind { addr, source })?;
            let port = tls_config.port.unwrap_or(stream.local.port());
            tls = Some((stream.local, format!("{}:{port}", tls_config.host)));
            listeners.push(Arc::new(stream));
        }
        let conn_configs = listeners
            .into_iter()
            .map(|listener| turn::server::config::ConnConfig {
                conn: Arc::new(gate::Gate::new(listener, policy.clone(), secret, REALM)),
                relay_addr_generator: Box::new(gate::GuardedRelays {
                    inner: turn::relay::relay_range::RelayAddressGeneratorRanges {
                        relay_address: config.announce,
                        min_port,
                        max_port,
                        max_retries: 20,
                        address: config.bind.ip().to_string(),
                        net: Arc::new(webrtc_util::vnet::net::Net::new(None)),
                    },
                    policy: policy.clone(),
                }),
            })
            .collect();
        let server = turn::server::Server::new(turn::server::config::ServerConfig {
            conn_configs,
            realm: REALM.to_owned(),
            auth_handler: Arc::new(RestAuth {
                key: hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret),
            }),
            channel_bind_timeout: Duration::ZERO,
            alloc_close_notify: None,
        })
        .await
        .map_err(|e| TurnError::Start(e.to_string()))?;
        Ok(EmbeddedTurn {
            server: Some(server),
            policy,
            local_addr,
            announced: SocketAddr::new(config.announce, local_addr.port()),
            tcp: config.tcp,
            tls,
        })
    }

    /// Lets relays reach `addr`, a media address of this server (the SFU's).
    pub fn allow_own(&self, addr: SocketAddr) {
        self.policy.allow_own(addr);
    }

    /// The URLs clients are given: UDP, TCP, TLS.
    pub fn urls(&self) -> Vec<String> {
        let mut urls = vec![format!("turn:{}?transport=udp", self.announced)];
        if self.tcp {
            urls.push(format!("turn:{}?transport=tcp", self.announced));
        }
        if let Some((_, public)) = &self.tls {
            urls.push(format!("turns:{public}?transport=tcp"));
        }
        urls
    }
}

/// The TLS side of TURN over TLS, from a PEM certificate chain and key.
fn tls_acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, TurnError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let problem = |path: &Path, reason: String| TurnError::Tls {
        path: path.to_owned(),
        reason,
    };
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| problem(cert, e.to_string()))?;
    if chain.is_empty() {
        return Err(problem(cert, "no certificate in it".into()));
    }
    let private = PrivateKeyDer::from_pem_file(key).map_err(|e| problem(key, e.to_string()))?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| problem(cert, e.to_string()))?
    .with_no_client_auth()
    .with_single_cert(chain, private)
    .map_err(|e| problem(key, format!("does not go with the certificate: {e}")))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

impl Drop for EmbeddedTurn {
    fn drop(&mut self) {
        if let Some(server) = self.server.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(async move {
                if let Err(err) = server.close().await {
                    warn!("closing the TURN server: {err}");
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_follow_the_rest_api_format() {
        let ice = IceServers::new(vec!["turn:192.0.2.1:3478".into()], Some(b"s3cret"));
        let id = ParticipantId(0x1234);
        let servers = ice.for_participant(id, 1_000);
        let server = &servers[0];
        let username = server.username.clone().unwrap_or_default();
        assert_eq!(
            username,
            format!("{}:{id}", 1_000 + CREDENTIAL_LIFETIME.as_secs())
        );
        // The password coturn computes for `use-auth-secret`: base64(HMAC-SHA1(secret, user)).
        let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, b"s3cret");
        let expected = BASE64_STANDARD.encode(hmac::sign(&key, username.as_bytes()).as_ref());
        assert_eq!(server.credential.as_deref(), Some(expected.as_str()));
        assert!(IceServers::none().for_participant(id, 1_000).is_empty());
    }

    #[test]
    fn the_embedded_server_refuses_expired_and_forged_user_names() {
        use turn::auth::AuthHandler;
        let auth = RestAuth {
            key: hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, b"s3cret"),
        };
        let addr: SocketAddr = "127.0.0.1:1".parse().expect("addr");
        assert!(auth.auth_handle("1:someone", REALM, addr).is_err());
        assert!(auth.auth_handle("someone", REALM, addr).is_err());
        let fresh = format!("{}:someone", crate::clock::now_secs() + 60);
        assert!(auth.auth_handle(&fresh, REALM, addr).is_ok());
    }
}
