//! The embedded TURN server relays to the internet, not to the server's own machine or
//! private networks: a participant's relay asking for a peer on loopback, a private
//! network or the metadata address is refused with 403 and a UDP listener there receives
//! nothing; `--turn-allow-peer` lets a range in, but never the server's own address.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result};
use hallway_tests::{DEADLINE, TestClient, TestServer};
use tokio::net::UdpSocket;
use webrtc_util::Conn;

/// Allocates a relay and asks it to send to `target`; returns the error, if any.
async fn relay_to(client: &TestClient, target: SocketAddr) -> Result<Option<String>> {
    let turn = hallway_tests::turn::client(client.welcome.as_ref(), None).await?;
    let relay = turn.allocate().await.context("allocating a relay")?;
    let sent = tokio::time::timeout(DEADLINE, relay.send_to(b"knock knock", target))
        .await
        .context("the relay did not answer")?;
    Ok(sent.err().map(|e| e.to_string()))
}

/// Whether `victim` receives a datagram within `within`.
async fn receives(victim: &UdpSocket, within: Duration) -> bool {
    let mut buf = [0u8; 1500];
    tokio::time::timeout(within, victim.recv_from(&mut buf))
        .await
        .is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_to_the_servers_loopback_is_refused_and_nothing_arrives() -> Result<()> {
    let victim = UdpSocket::bind("127.0.0.1:0").await?;
    let target = victim.local_addr()?;
    let server = TestServer::start().await?;
    let client = TestClient::join(&server, "Mallory").await?;
    let refused = relay_to(&client, target).await?;
    let error = refused.context("the permission for a loopback peer was granted")?;
    assert!(error.contains("403"), "refused with 403 Forbidden: {error}");
    // The same steps with the range allowed deliver within this window (below), so
    // silence here is the refusal, not a slow relay.
    assert!(
        !receives(&victim, Duration::from_secs(2)).await,
        "a service on the server's loopback received a relayed datagram"
    );
    // Private networks and the cloud metadata address: refused the same way.
    for peer in [
        "10.0.0.1:53",
        "192.168.1.1:80",
        "169.254.169.254:80",
        "[fd00::1]:80",
    ] {
        let refused = relay_to(&client, peer.parse()?).await?;
        let error = refused.with_context(|| format!("a permission for {peer} was granted"))?;
        assert!(error.contains("403"), "{peer}: refused with 403: {error}");
    }
    server.stop().await?;

    // The operator allows loopback (a LAN-only event): the same relay now delivers to
    // another address in the range (127.0.0.2), but never to the server's own address
    // (127.0.0.1 here), whose other services stay out of reach.
    let neighbour = UdpSocket::bind("127.0.0.2:0").await?;
    let server = TestServer::start_with(|c| {
        c.turn_allow_peers =
            vec![hallway::turn::peers::PeerRange::parse("127.0.0.0/8").expect("a range")];
    })
    .await?;
    let client = TestClient::join(&server, "Lena").await?;
    assert_eq!(relay_to(&client, neighbour.local_addr()?).await?, None);
    assert!(
        receives(&neighbour, DEADLINE).await,
        "an allowed peer received nothing"
    );
    let refused = relay_to(&client, target).await?;
    let error = refused.context("a permission for the server's own address was granted")?;
    assert!(error.contains("403"), "refused with 403 Forbidden: {error}");
    assert!(
        !receives(&victim, Duration::from_secs(2)).await,
        "a service on the server's own address received a relayed datagram"
    );
    server.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_relays_meet_relay_to_relay_on_the_servers_own_address() -> Result<()> {
    // Both relays are on 127.0.0.1, an address refused as a peer: open relays are the
    // exception (two participants who both need a relay talk through both).
    let server = TestServer::start().await?;
    let anna = TestClient::join(&server, "Anna").await?;
    let ben = TestClient::join(&server, "Ben").await?;
    let anna_turn = hallway_tests::turn::client(anna.welcome.as_ref(), None).await?;
    let ben_turn = hallway_tests::turn::client(ben.welcome.as_ref(), None).await?;
    let anna_relay = anna_turn.allocate().await.context("Anna's relay")?;
    let ben_relay = ben_turn.allocate().await.context("Ben's relay")?;
    let (anna_at, ben_at) = (anna_relay.local_addr()?, ben_relay.local_addr()?);
    assert_eq!(anna_at.ip(), ben_at.ip());
    // Each gives the other permission by sending first (as ICE checks do).
    let first = tokio::time::timeout(DEADLINE, ben_relay.send_to(b"hello Anna", anna_at))
        .await
        .context("Ben's relay did not answer")?;
    assert!(first.is_ok(), "relay to relay refused: {first:?}");
    tokio::time::timeout(DEADLINE, anna_relay.send_to(b"hello Ben", ben_at))
        .await
        .context("Anna's relay did not answer")??;
    let mut buf = [0u8; 1500];
    let (n, from) = tokio::time::timeout(DEADLINE, ben_relay.recv_from(&mut buf))
        .await
        .context("nothing came relay to relay")??;
    assert_eq!((&buf[..n], from), (&b"hello Ben"[..], anna_at));
    // A port of the same address that is no relay stays out of reach.
    let victim = UdpSocket::bind(SocketAddr::new(anna_at.ip(), 0)).await?;
    let refused = relay_to(&anna, victim.local_addr()?).await?;
    assert!(
        refused.is_some_and(|e| e.contains("403")),
        "a non-relay port was reachable"
    );
    server.stop().await
}
