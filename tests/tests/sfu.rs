//! The SFU with webrtc-rs peers over real UDP: a host broadcasts synthetic Opus and VP8
//! RTP, the server forwards it to every listener in the room.

use std::time::Duration;

use anyhow::{Context, Result};
use hallway_proto::{ClientMessage, ErrorCode, ServerMessage};
use hallway_tests::media::{Publisher, Received, Subscriber};
use hallway_tests::{TestClient, TestServer};

/// Packets the publisher sends per track in the delivery test.
const PACKETS: u64 = 200;

async fn host(server: &TestServer) -> Result<TestClient> {
    TestClient::join_host(server, "lobby", "Hanna Host").await
}

/// Joins `n` listeners and hands each to a subscriber task.
async fn listeners(server: &TestServer, n: usize) -> Result<Vec<Subscriber>> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let client = TestClient::join(server, &format!("Listener {i}")).await?;
        out.push(Subscriber::start(client));
    }
    Ok(out)
}

/// The host starts broadcasting and publishes its tracks to the SFU.
async fn broadcast(hanna: &mut TestClient) -> Result<Publisher> {
    hanna.send(&ClientMessage::Broadcast { on: true }).await?;
    let id = hanna.id.clone();
    hanna
        .wait_for("our broadcast", |m| match m {
            ServerMessage::Broadcast { id: who, on: true } if *who == id => Some(()),
            _ => None,
        })
        .await?;
    Publisher::start(hanna).await
}

fn tracks_of(id: &str) -> Vec<String> {
    vec![format!("p{id}/audio"), format!("p{id}/video")]
}

/// A host broadcasting to `n` listeners, every one of them receiving.
struct OnAir {
    hanna: TestClient,
    listeners: Vec<Subscriber>,
    publisher: Publisher,
    tracks: Vec<String>,
}

async fn on_air(server: &TestServer, n: usize) -> Result<OnAir> {
    let mut hanna = host(server).await?;
    let listeners = listeners(server, n).await?;
    let mut publisher = broadcast(&mut hanna).await?;
    let tracks = tracks_of(&hanna.id);
    // Listeners' connections come up one by one: send until every one receives.
    publisher.send_until_received(&listeners, &tracks).await?;
    Ok(OnAir {
        hanna,
        listeners,
        publisher,
        tracks,
    })
}

/// Waits until `tracks` ended for every listener, then stops them.
async fn ended_for_all(listeners: Vec<Subscriber>, tracks: &[String]) -> Result<()> {
    for l in &listeners {
        l.wait_for_ended(tracks).await?;
    }
    for l in listeners {
        l.stop();
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_reaches_twenty_listeners_through_the_sfu() -> Result<()> {
    let server = TestServer::start().await?;
    let OnAir {
        hanna,
        listeners,
        mut publisher,
        tracks,
    } = on_air(&server, 20).await?;
    // A counted run at 50 packets per second per track.
    let before: Vec<_> = listeners.iter().map(|l| l.received()).collect();
    publisher.send_pairs(PACKETS).await?;
    received_all(&listeners, &before, &tracks, PACKETS).await;

    // The broadcaster leaves: their tracks end for everyone.
    publisher.close().await?;
    hanna.close().await?;
    ended_for_all(listeners, &tracks).await?;
    server.stop().await
}

/// A listener whose application stops consuming (webrtc-rs still reads its socket, so the
/// server's queue for it does not fill: that case, a subscriber whose queue is full, is the
/// unit test `a_subscriber_that_falls_behind_loses_only_its_own_packets` in
/// `server/src/sfu/room.rs`). Here: the others' rate over the real path is unaffected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_that_stops_reading_does_not_slow_the_others() -> Result<()> {
    let server = TestServer::start().await?;
    let OnAir {
        hanna: _hanna,
        listeners,
        mut publisher,
        tracks,
    } = on_air(&server, 3).await?;
    listeners[0]
        .stalled
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let before: Vec<_> = listeners.iter().map(|l| l.received()).collect();
    for _ in 0..PACKETS {
        publisher.send_pair(1000).await?;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The others, while listener 0 stalls.
    received_all(&listeners[1..], &before[1..], &tracks, PACKETS).await;
    for l in listeners {
        l.stop();
    }
    publisher.close().await?;
    server.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_a_broadcast_ends_its_tracks_for_everyone() -> Result<()> {
    let server = TestServer::start().await?;
    let OnAir {
        mut hanna,
        listeners,
        publisher,
        tracks,
    } = on_air(&server, 2).await?;
    hanna.send(&ClientMessage::Broadcast { on: false }).await?;
    ended_for_all(listeners, &tracks).await?;
    publisher.close().await?;
    server.stop().await
}

#[tokio::test]
async fn bad_descriptions_get_typed_errors() -> Result<()> {
    let server = TestServer::start().await?;
    let mut ann = TestClient::join(&server, "Ann").await?;
    ann.send(&ClientMessage::SfuAnswer {
        sdp: "v=0".into(),
        connection: None,
    })
    .await?;
    assert_eq!(
        ann.expect_error().await.context("an answer to nothing")?.0,
        ErrorCode::InvalidDescription
    );
    ann.send(&ClientMessage::SfuOffer {
        sdp: "this is not SDP".into(),
        screen: None,
    })
    .await?;
    assert_eq!(
        ann.expect_error()
            .await
            .context("an offer that is not SDP")?
            .0,
        ErrorCode::InvalidDescription
    );
    ann.send(&ClientMessage::SfuOffer {
        sdp: "v=0\r\n".repeat(7_000),
        screen: None,
    })
    .await?;
    assert_eq!(ann.expect_error().await?.0, ErrorCode::PayloadTooLarge);
    // The connection is still fine.
    ann.send(&ClientMessage::Hand { raised: true }).await?;
    ann.wait_for("our hand", |m| {
        matches!(m, ServerMessage::Hand { .. }).then_some(())
    })
    .await?;
    server.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_circle_of_five_runs_through_the_sfu_and_everyone_receives_everyone() -> Result<()> {
    let server = TestServer::start().await?;
    let mut clients = Vec::new();
    for i in 0..5 {
        clients.push(TestClient::join(&server, &format!("Member {i}")).await?);
    }
    hallway_tests::circles::circle_of(&mut clients).await?;
    // The fifth made it an SFU circle: nobody is told to connect to anybody.
    let ids: Vec<String> = clients.iter().map(|c| c.id.clone()).collect();
    let members: Vec<Subscriber> = clients
        .into_iter()
        .map(Subscriber::start_publishing)
        .collect();
    for (i, m) in members.iter().enumerate() {
        let others: Vec<String> = ids
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .flat_map(|(_, id)| tracks_of(id))
            .collect();
        m.wait_for_packets(&others, 50).await?;
        assert!(
            !m.received().packets.keys().any(|t| t.contains(&ids[i])),
            "member {i} receives itself"
        );
    }
    for m in members {
        m.stop();
    }
    server.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_privacy_mode_nobody_receives_anybody_elses_address() -> Result<()> {
    let server = TestServer::start().await?;
    let mut settings = hallway::room::RoomSettings::new("private", "Private");
    settings.privacy = true;
    server.open_room(settings)?;
    let mut ann = TestClient::join_room(&server, "private", "Ann").await?;
    let mut ben = TestClient::join_room(&server, "private", "Ben").await?;
    let mut pair = vec![ann, ben];
    hallway_tests::circles::circle_of(&mut pair).await?;
    ben = pair.pop().context("ben")?;
    ann = pair.pop().context("ann")?;
    // A signal between them is refused: their media goes through the server.
    ben.send(&ClientMessage::Signal {
        to: ann.id.clone(),
        payload: hallway_proto::Payload::from_json(r#"{"candidate":"x"}"#)?,
    })
    .await?;
    assert_eq!(ben.expect_error().await?.0, ErrorCode::NotInCircle);
    let ids = [ann.id.clone(), ben.id.clone()];
    let members = [
        Subscriber::start_publishing(ann),
        Subscriber::start_publishing(ben),
    ];
    for (m, other) in members.iter().zip(ids.iter().rev()) {
        m.wait_for_packets(&tracks_of(other), 50).await?;
    }
    let sfu = server.media_addr();
    for m in &members {
        let got = m.received();
        assert!(
            !got.messages.iter().any(|k| k == "connect" || k == "signal"),
            "told to connect or sent a signal: {:?}",
            got.messages
        );
        for sdp in &got.descriptions {
            for candidate in sdp.lines().filter(|l| l.starts_with("a=candidate")) {
                assert!(
                    candidate.contains(&format!(" {} {} ", sfu.ip(), sfu.port())),
                    "a candidate that is not the SFU's: {candidate}"
                );
            }
        }
    }
    for m in members {
        m.stop();
    }
    server.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyframe_requests_reach_the_publisher_and_nacks_are_answered_by_the_sfu() -> Result<()> {
    use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
    use rtc::rtcp::transport_feedbacks::transport_layer_nack::{NackPair, TransportLayerNack};
    use std::sync::atomic::Ordering;

    let server = TestServer::start().await?;
    let mut hanna = host(&server).await?;
    let listener = listeners(&server, 1).await?.remove(0);
    let mut publisher = broadcast(&mut hanna).await?;
    let video = format!("p{}/video", hanna.id);
    while listener
        .received()
        .packets
        .get(&video)
        .copied()
        .unwrap_or(0)
        < 20
    {
        publisher.send_pair(200).await?;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A PLI from the listener reaches the publisher (the SFU passes it upstream).
    let before = publisher.keyframe_requests.load(Ordering::Relaxed);
    listener
        .feedback(&video, |ssrc| {
            vec![Box::new(PictureLossIndication {
                sender_ssrc: 0,
                media_ssrc: ssrc,
            })]
        })
        .await?;
    let until = tokio::time::Instant::now() + Duration::from_secs(10);
    while publisher.keyframe_requests.load(Ordering::Relaxed) == before {
        anyhow::ensure!(
            tokio::time::Instant::now() < until,
            "the publisher got no keyframe request"
        );
        publisher.send_pair(200).await?;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A NACK for packets the listener already has: the SFU's sending leg retransmits them
    // from its own buffer.
    let last = listener
        .received()
        .last_sequence
        .get(&video)
        .copied()
        .context("a sequence number")?;
    listener
        .feedback(&video, |ssrc| {
            vec![Box::new(TransportLayerNack {
                sender_ssrc: 0,
                media_ssrc: ssrc,
                nacks: vec![NackPair {
                    packet_id: last.wrapping_sub(2),
                    lost_packets: 0b11,
                }],
            })]
        })
        .await?;
    let until = tokio::time::Instant::now() + Duration::from_secs(10);
    while listener
        .received()
        .repeated
        .get(&video)
        .copied()
        .unwrap_or(0)
        == 0
    {
        anyhow::ensure!(
            tokio::time::Instant::now() < until,
            "no retransmission reached the listener"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    listener.stop();
    publisher.close().await?;
    server.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_without_udp_receives_over_ice_tcp() -> Result<()> {
    let server = TestServer::start().await?;
    let mut hanna = host(&server).await?;
    let listener = Subscriber::start_over_tcp(TestClient::join(&server, "Tom TCP").await?);
    let mut publisher = broadcast(&mut hanna).await?;
    let tracks = tracks_of(&hanna.id);
    publisher
        .send_until(listener.wait_for_packets(&tracks, 50))
        .await?;
    // The server's description offers the TCP candidate on the media port.
    let sfu = server.media_addr();
    let offered_tcp = listener.received().descriptions.iter().any(|sdp| {
        sdp.lines().any(|l| {
            l.starts_with("a=candidate")
                && l.contains(" tcp ")
                && l.contains(&format!(" {} ", sfu.port()))
                && l.contains("tcptype passive")
        })
    });
    assert!(offered_tcp, "no passive TCP candidate on the media port");
    listener.stop();
    server.stop().await
}

/// Packets each listener received on each track since `before`, checked against `sent`.
/// Waits until every listener received all `sent` packets on every track since `before`
/// (at most five seconds: a packet lost on the way is allowed), then asserts as
/// [`assert_received`] does.
async fn received_all(listeners: &[Subscriber], before: &[Received], tracks: &[String], sent: u64) {
    let until = tokio::time::Instant::now() + Duration::from_secs(5);
    while tokio::time::Instant::now() < until {
        let done = listeners.iter().zip(before).all(|(l, before)| {
            let after = l.received();
            tracks
                .iter()
                .all(|t| after.packets[t] - before.packets[t] >= sent)
        });
        if done {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_received(listeners, before, tracks, sent);
}

fn assert_received(listeners: &[Subscriber], before: &[Received], tracks: &[String], sent: u64) {
    for (i, (l, before)) in listeners.iter().zip(before).enumerate() {
        let after = l.received();
        for t in tracks {
            let got = after.packets[t] - before.packets[t];
            println!("listener {i} {t}: {got} of {sent}");
            assert!(
                got * 100 >= sent * 95,
                "listener {i} got {got} of {sent} packets on {t}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blip_in_the_broadcasters_signalling_does_not_interrupt_the_broadcast() -> Result<()> {
    let server = TestServer::start().await?;
    let OnAir {
        hanna,
        listeners,
        mut publisher,
        tracks,
    } = on_air(&server, 3).await?;

    // Her WebSocket drops; her media connection does not.
    let (id, token) = (
        hanna.id.clone(),
        hanna.resume_token().unwrap_or("").to_owned(),
    );
    drop(hanna);
    let before: Vec<_> = listeners.iter().map(Subscriber::received).collect();
    publisher.send_pairs(PACKETS).await?;
    received_all(&listeners, &before, &tracks, PACKETS).await;

    // She resumes: still on air, her media still flowing, and what she says now goes
    // through her new connection: ending the broadcast ends the tracks for everyone.
    let mut back = TestClient::resume_at(server.addr(), "lobby", "Hanna Host", &token).await?;
    assert!(back.resumed());
    assert_eq!(back.id, id);
    let Some(ServerMessage::Welcome { broadcasters, .. }) = &back.welcome else {
        anyhow::bail!("no welcome");
    };
    assert_eq!(broadcasters, &vec![id.clone()]);
    let before: Vec<_> = listeners.iter().map(Subscriber::received).collect();
    publisher.send_pairs(PACKETS / 2).await?;
    received_all(&listeners, &before, &tracks, PACKETS / 2).await;
    back.send(&ClientMessage::Broadcast { on: false }).await?;
    ended_for_all(listeners, &tracks).await?;
    server.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_that_resumes_keeps_its_media_and_gets_what_it_missed() -> Result<()> {
    let server = TestServer::start().await?;
    let OnAir {
        mut hanna,
        listeners: listener,
        publisher: mut first,
        tracks: hanna_tracks,
    } = on_air(&server, 1).await?;

    // The listener's WebSocket drops for 5 s; meanwhile a second host goes on air, so
    // the server's offer of the new tracks cannot reach the listener until it resumes.
    let blip = tokio::time::Instant::now();
    listener[0]
        .blip(server.addr(), Duration::from_secs(5))
        .await?;
    // Once the room has seen it go (everyone is told the listener is reconnecting).
    hanna
        .wait_for("the listener reconnecting", |m| {
            matches!(m, ServerMessage::Reconnecting { on: true, .. }).then_some(())
        })
        .await?;
    let mut ben = TestClient::join_host(&server, "lobby", "Ben Host").await?;
    let mut second = broadcast(&mut ben).await?;
    let ben_tracks = tracks_of(&ben.id);
    let before = listener[0].received();
    // Hanna's media goes on arriving while the listener's signalling is away; Ben's
    // tracks get published.
    for _ in 0..50 {
        first.send_pair(200).await?;
        second.send_pair(200).await?;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let during = listener[0].received();
    assert!(
        blip.elapsed() < Duration::from_secs(5) && !during.resumed,
        "the test took too long to exercise a missed offer"
    );
    for t in &hanna_tracks {
        assert!(
            during.packets[t] - before.packets[t] >= 45,
            "the listener's media stopped with its WebSocket"
        );
    }
    // Once back, the listener gets the offer it missed and receives Ben as well.
    second
        .send_until(first.send_until(listener[0].wait_for_packets(&ben_tracks, 5)))
        .await?;
    assert!(listener[0].received().resumed, "the listener resumed");
    for l in listener {
        l.stop();
    }
    server.stop().await
}
