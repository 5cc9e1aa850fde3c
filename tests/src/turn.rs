//! A TURN client with the credentials a welcome hands out (or a wrong password, for
//! tests of what the server does with bad ones), over UDP, TCP or TLS.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use async_trait::async_trait;
use hallway::turn::stream::{framed, read_message};
use hallway_proto::ServerMessage;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::net::{TcpStream, UdpSocket};
use tokio_rustls::rustls;
use webrtc_util::Conn;

/// The first ICE server a welcome names.
fn first_ice_server(welcome: Option<&ServerMessage>) -> Result<&hallway_proto::IceServer> {
    let Some(ServerMessage::Welcome { ice_servers, .. }) = welcome else {
        bail!("no welcome");
    };
    ice_servers.first().context("no ICE server in the welcome")
}

/// A listening TURN client for the first ICE server of `welcome`, with its credential or,
/// if given, `password` instead.
pub async fn client(
    welcome: Option<&ServerMessage>,
    password: Option<&str>,
) -> Result<turn::client::Client> {
    let server = first_ice_server(welcome)?;
    let url = server.urls.first().context("an ICE server without a URL")?;
    let addr = url
        .trim_start_matches("turn:")
        .split('?')
        .next()
        .context("a TURN URL")?
        .to_owned();
    let conn = UdpSocket::bind("127.0.0.1:0").await?;
    let password = password
        .map(str::to_owned)
        .unwrap_or_else(|| server.credential.clone().unwrap_or_default());
    let turn = turn::client::Client::new(turn::client::ClientConfig {
        stun_serv_addr: addr.clone(),
        turn_serv_addr: addr,
        username: server.username.clone().unwrap_or_default(),
        password,
        realm: "hallway".into(),
        software: String::new(),
        rto_in_ms: 0,
        conn: Arc::new(conn),
        vnet: None,
    })
    .await?;
    turn.listen().await?;
    Ok(turn)
}

/// How a stream client reaches the server.
#[derive(Debug, Clone)]
pub enum Transport {
    /// `turn:…?transport=tcp`.
    Tcp,
    /// `turns:…?transport=tcp`, trusting `root` for the server's certificate.
    Tls(rustls::pki_types::CertificateDer<'static>),
}

/// A listening TURN client over TCP or TLS, for the URL of `welcome` with that scheme; the
/// host name of a `turns:` URL is resolved to `connect_to` (the certificate's name stays
/// the one checked).
pub async fn stream_client(
    welcome: Option<&ServerMessage>,
    transport: Transport,
    connect_to: std::net::IpAddr,
) -> Result<turn::client::Client> {
    let server = first_ice_server(welcome)?;
    let scheme = match transport {
        Transport::Tcp => "turn:",
        Transport::Tls(_) => "turns:",
    };
    let url = server
        .urls
        .iter()
        .find(|u| u.starts_with(scheme) && u.ends_with("?transport=tcp"))
        .with_context(|| format!("no {scheme} TCP URL among {:?}", server.urls))?;
    let authority = url
        .trim_start_matches(scheme)
        .split('?')
        .next()
        .context("a TURN URL")?;
    let (host, port) = authority
        .rsplit_once(':')
        .context("a TURN URL with a port")?;
    let addr = SocketAddr::new(connect_to, port.parse()?);
    let tcp = TcpStream::connect(addr).await?;
    let conn: Arc<dyn Conn + Send + Sync> = match transport {
        Transport::Tcp => Arc::new(StreamConn::new(tcp, addr)),
        Transport::Tls(root) => {
            let mut roots = rustls::RootCertStore::empty();
            roots.add(root)?;
            let config = rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
            let name = rustls::pki_types::ServerName::try_from(host.to_owned())?;
            let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
                .connect(name, tcp)
                .await
                .context("the TLS handshake")?;
            Arc::new(StreamConn::new(tls, addr))
        }
    };
    let turn = turn::client::Client::new(turn::client::ClientConfig {
        stun_serv_addr: addr.to_string(),
        turn_serv_addr: addr.to_string(),
        username: server.username.clone().unwrap_or_default(),
        password: server.credential.clone().unwrap_or_default(),
        realm: "hallway".into(),
        software: String::new(),
        rto_in_ms: 0,
        conn,
        vnet: None,
    })
    .await?;
    turn.listen().await?;
    Ok(turn)
}

/// One stream to the TURN server as the packet socket the `turn` crate's client takes.
struct StreamConn<S> {
    server: SocketAddr,
    reader: tokio::sync::Mutex<ReadHalf<S>>,
    writer: tokio::sync::Mutex<WriteHalf<S>>,
}

impl<S: AsyncRead + AsyncWrite> StreamConn<S> {
    fn new(stream: S, server: SocketAddr) -> StreamConn<S> {
        let (reader, writer) = tokio::io::split(stream);
        StreamConn {
            server,
            reader: tokio::sync::Mutex::new(reader),
            writer: tokio::sync::Mutex::new(writer),
        }
    }
}

fn io_error(err: impl std::fmt::Display) -> webrtc_util::Error {
    webrtc_util::Error::Other(err.to_string())
}

#[async_trait]
impl<S: AsyncRead + AsyncWrite + Send + Sync + 'static> Conn for StreamConn<S> {
    async fn connect(&self, _addr: SocketAddr) -> webrtc_util::Result<()> {
        Ok(())
    }

    async fn recv(&self, buf: &mut [u8]) -> webrtc_util::Result<usize> {
        Ok(self.recv_from(buf).await?.0)
    }

    async fn recv_from(&self, buf: &mut [u8]) -> webrtc_util::Result<(usize, SocketAddr)> {
        let message = read_message(&mut *self.reader.lock().await)
            .await
            .map_err(io_error)?
            .ok_or_else(|| io_error("the server closed the stream"))?;
        let n = message.len().min(buf.len());
        buf[..n].copy_from_slice(&message[..n]);
        Ok((n, self.server))
    }

    async fn send(&self, buf: &[u8]) -> webrtc_util::Result<usize> {
        let mut writer = self.writer.lock().await;
        writer.write_all(&framed(buf)).await.map_err(io_error)?;
        writer.flush().await.map_err(io_error)?;
        Ok(buf.len())
    }

    async fn send_to(&self, buf: &[u8], _target: SocketAddr) -> webrtc_util::Result<usize> {
        self.send(buf).await
    }

    fn local_addr(&self) -> webrtc_util::Result<SocketAddr> {
        Ok(SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    fn remote_addr(&self) -> Option<SocketAddr> {
        Some(self.server)
    }

    async fn close(&self) -> webrtc_util::Result<()> {
        let _ = self.writer.lock().await.shutdown().await;
        Ok(())
    }

    fn as_any(&self) -> &(dyn std::any::Any + Send + Sync) {
        self
    }
}
