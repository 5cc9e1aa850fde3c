//! TURN over TCP and over TLS, for networks that let only TCP out: the welcome lists both
//! URLs; a client over each allocates a relay, and datagrams go through it to a peer and
//! back (real TCP, real TLS with a certificate for `localhost`), again after the first
//! relay ended. A stream that sends something other than TURN, or nothing, is closed and
//! costs the others nothing; a certificate that cannot be read stops the start with an
//! error that names the file.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use anyhow::{Context, Result};
use hallway::turn::peers::PeerRange;
use hallway_proto::ServerMessage;
use hallway_tests::turn::{Transport, stream_client};
use hallway_tests::{DEADLINE, TestClient, TestServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio_rustls::rustls::pki_types::CertificateDer;
use webrtc_util::Conn;

const LOOPBACK: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

/// A certificate for `localhost`, written to a folder of the test's own.
struct Certificate {
    dir: std::path::PathBuf,
    der: CertificateDer<'static>,
}

impl Certificate {
    fn new() -> Result<Certificate> {
        let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])?;
        let dir = std::env::temp_dir().join(format!(
            "hallway-turn-tls-{}-{}",
            std::process::id(),
            rand_suffix()
        ));
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("cert.pem"), made.cert.pem())?;
        std::fs::write(dir.join("key.pem"), made.signing_key.serialize_pem())?;
        Ok(Certificate {
            dir,
            der: made.cert.der().clone(),
        })
    }
}

impl Drop for Certificate {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}

/// A server with TURN over TCP (the default) and over TLS for `localhost`, relaying to the
/// test's peer on 127.0.0.2 (loopback is refused but for the ranges allowed).
async fn server(certificate: &Certificate) -> Result<TestServer> {
    let dir = certificate.dir.clone();
    TestServer::start_with(move |config| {
        config.turn_tls_bind = Some(SocketAddr::new(LOOPBACK, 0));
        config.turn_tls_cert = Some(dir.join("cert.pem"));
        config.turn_tls_key = Some(dir.join("key.pem"));
        config.turn_tls_public = Some("localhost".into());
        config.turn_allow_peers = vec![PeerRange::parse("127.0.0.2/32").expect("a range")];
    })
    .await
}

/// Through a relay over `transport`: a datagram to a peer on 127.0.0.2, and its answer back.
async fn round_trip(client: &TestClient, transport: Transport) -> Result<()> {
    let peer = UdpSocket::bind("127.0.0.2:0").await?;
    let turn = stream_client(client.welcome.as_ref(), transport, LOOPBACK).await?;
    let relay = turn.allocate().await.context("allocating a relay")?;
    let relayed = relay.local_addr()?;
    tokio::time::timeout(DEADLINE, relay.send_to(b"Guten Tag", peer.local_addr()?))
        .await
        .context("the relay did not answer")??;
    let mut buf = [0u8; 1500];
    let (n, from) = tokio::time::timeout(DEADLINE, peer.recv_from(&mut buf))
        .await
        .context("nothing reached the peer")??;
    assert_eq!(&buf[..n], b"Guten Tag");
    assert_eq!(from.port(), relayed.port(), "it came from the relay");
    // The answer goes back over the stream (the crate's client reads it as a Data
    // indication or ChannelData).
    peer.send_to(b"Hallo zurueck", from).await?;
    let (n, _) = tokio::time::timeout(DEADLINE, relay.recv_from(&mut buf))
        .await
        .context("the answer did not come back through the relay")??;
    assert_eq!(&buf[..n], b"Hallo zurueck");
    relay.close().await?;
    turn.close().await?;
    Ok(())
}

fn urls(client: &TestClient) -> Vec<String> {
    match &client.welcome {
        Some(ServerMessage::Welcome { ice_servers, .. }) => {
            ice_servers.iter().flat_map(|s| s.urls.clone()).collect()
        }
        _ => Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relays_work_over_tcp_and_over_tls() -> Result<()> {
    let certificate = Certificate::new()?;
    let server = server(&certificate).await?;
    let client = TestClient::join(&server, "Tara Tunnel").await?;
    let urls = urls(&client);
    assert!(
        urls.iter()
            .any(|u| u.starts_with("turn:") && u.ends_with("?transport=udp")),
        "{urls:?}"
    );
    assert!(
        urls.iter()
            .any(|u| u.starts_with("turn:") && u.ends_with("?transport=tcp")),
        "{urls:?}"
    );
    assert!(
        urls.iter()
            .any(|u| u.starts_with("turns:localhost:") && u.ends_with("?transport=tcp")),
        "TURN over TLS under the certificate's name: {urls:?}"
    );
    // Twice each: a relay that ends (the client deallocates) leaves the listener serving.
    for _ in 0..2 {
        round_trip(&client, Transport::Tcp).await?;
        round_trip(&client, Transport::Tls(certificate.der.clone())).await?;
    }
    server.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_that_is_not_turn_is_closed_and_the_others_keep_working() -> Result<()> {
    let certificate = Certificate::new()?;
    let server = server(&certificate).await?;
    let client = TestClient::join(&server, "Tara Tunnel").await?;
    let tcp_url = urls(&client)
        .into_iter()
        .find(|u| u.starts_with("turn:") && u.ends_with("?transport=tcp"))
        .context("a TCP URL")?;
    let port: u16 = tcp_url
        .trim_end_matches("?transport=tcp")
        .rsplit(':')
        .next()
        .context("a port")?
        .parse()?;
    // An HTTP request on the TURN port: the server closes the stream.
    let mut stray = TcpStream::connect(SocketAddr::new(LOOPBACK, port)).await?;
    stray
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await?;
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(DEADLINE, stray.read(&mut buf))
        .await
        .context("the stray stream was left open")?;
    assert!(
        matches!(read, Ok(0) | Err(_)),
        "closed without an answer: {read:?}"
    );
    // A TLS client that never finishes its handshake does not hold up another.
    let tls_port: u16 = urls(&client)
        .into_iter()
        .find(|u| u.starts_with("turns:"))
        .and_then(|u| {
            u.trim_end_matches("?transport=tcp")
                .rsplit(':')
                .next()?
                .parse()
                .ok()
        })
        .context("a TLS URL")?;
    let mut silent_tls = TcpStream::connect(SocketAddr::new(LOOPBACK, tls_port)).await?;
    // Nor does a TCP client that never says anything; both are let go after 10 s.
    let mut silent = TcpStream::connect(SocketAddr::new(LOOPBACK, port)).await?;
    tokio::time::sleep(Duration::from_millis(100)).await;
    round_trip(&client, Transport::Tcp).await?;
    round_trip(&client, Transport::Tls(certificate.der.clone())).await?;
    for stream in [&mut silent, &mut silent_tls] {
        let read = tokio::time::timeout(Duration::from_secs(15), stream.read(&mut buf))
            .await
            .context("a silent stream was kept open")?;
        assert!(matches!(read, Ok(0) | Err(_)), "closed: {read:?}");
    }
    server.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_that_cannot_be_read_stops_the_start_and_names_the_file() -> Result<()> {
    let certificate = Certificate::new()?;
    let missing = certificate.dir.join("nonexistent.pem");
    let bad = missing.clone();
    let started = TestServer::start_with(move |config| {
        config.turn_tls_bind = Some(SocketAddr::new(LOOPBACK, 0));
        config.turn_tls_cert = Some(bad);
        config.turn_tls_key = Some(std::path::PathBuf::from("/nonexistent-key.pem"));
        config.turn_tls_public = Some("localhost".into());
    })
    .await;
    let error = format!(
        "{:#}",
        started
            .err()
            .context("the server started without its certificate")?
    );
    assert!(
        error.contains("TURN over TLS") && error.contains("nonexistent.pem"),
        "{error}"
    );
    // Without a key, the start says which setting is missing.
    let dir = certificate.dir.clone();
    let started = TestServer::start_with(move |config| {
        config.turn_tls_bind = Some(SocketAddr::new(LOOPBACK, 0));
        config.turn_tls_cert = Some(dir.join("cert.pem"));
    })
    .await;
    let error = format!(
        "{:#}",
        started.err().context("the server started without a key")?
    );
    assert!(error.contains("--turn-tls-key"), "{error}");
    Ok(())
}
