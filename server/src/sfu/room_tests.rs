//! Tests of a room's media routes (`sfu/room.rs`).

use super::*;
use crate::sfu::tracks::MediaIn;
use crate::transport::outbox::outbox;
use rtc::rtp;
use tokio::sync::mpsc;

fn packet(n: u16) -> rtp::Packet {
    rtp::Packet {
        header: rtp::header::Header {
            sequence_number: n,
            ..Default::default()
        },
        payload: vec![0u8; 100].into(),
    }
}

/// Participant 1 (on `listener`) joins; participant 2 joins, broadcasts and publishes an
/// Opus track, which opens participant 1's receiving connection. What it returns (the
/// host's queue and the track) is kept for as long as the test runs.
fn listen_to_a_broadcast(media: &RoomMedia, listener: OutboxSender) -> (impl Sized, impl Sized) {
    let (host, host_queue) = outbox(64);
    media.join(ParticipantId(1), listener);
    media.join(ParticipantId(2), host);
    media.set_broadcasters(&[ParticipantId(2)]);
    let opus = RTCRtpCodec {
        mime_type: "audio/opus".into(),
        clock_rate: 48_000,
        channels: 2,
        ..Default::default()
    };
    let track = media.publish(ParticipantId(2), RtpCodecKind::Audio, opus, false, false);
    (host_queue, track)
}

/// A subscriber whose connection stopped taking packets (its queue is full) loses its
/// own packets; the others get every one, and the publisher's send never waits.
#[test]
fn a_subscriber_that_falls_behind_loses_only_its_own_packets() {
    let forwards = Forwards::default();
    let (stuck_tx, _stuck_rx) = mpsc::channel(4);
    let (a_tx, mut a_rx) = mpsc::channel(200);
    let (b_tx, mut b_rx) = mpsc::channel(200);
    let single = || Arc::new(Choice::single());
    forwards.set(ParticipantId(1), Some((stuck_tx.clone(), single())));
    forwards.set(ParticipantId(2), Some((a_tx, single())));
    forwards.set(ParticipantId(3), Some((b_tx, single())));
    for n in 0..100 {
        forwards.send(TrackKey(7), 0, false, &packet(n));
    }
    for rx in [&mut a_rx, &mut b_rx] {
        let mut got = 0;
        while let Ok(MediaIn::Forwarded(key, _, p)) = rx.try_recv() {
            assert_eq!((key, p.header.sequence_number), (TrackKey(7), got));
            got += 1;
        }
        assert_eq!(got, 100);
    }
    assert_eq!(
        stuck_tx.capacity(),
        0,
        "the stuck queue holds its 4 and no more"
    );
    // Unsubscribed: nothing more is queued for it.
    forwards.set(ParticipantId(2), None);
    forwards.send(TrackKey(7), 0, false, &packet(100));
    assert!(a_rx.try_recv().is_err());
    assert!(b_rx.try_recv().is_ok());
}

/// A member whose session's queue was full when their receiving connection had to
/// tell them its offer loses that connection; once their queue has room again (the
/// session caught up without being let go), they are offered a new one, with a new
/// number, rather than left without media until they reconnect.
#[tokio::test]
async fn a_member_whose_queue_was_full_is_offered_a_new_connection_once_it_has_room() {
    let sfu = Sfu::on_loopback().await;
    let media = RoomMedia::new(sfu);
    let (listener, mut queue) = outbox(STALLED_ROOM);
    for _ in 0..STALLED_ROOM {
        listener
            .try_send("backlog".into())
            .expect("room in the queue");
    }
    let _host = listen_to_a_broadcast(&media, listener);

    // The offer of the listener's first connection finds the queue full.
    let stalled = || {
        media
            .state()
            .members
            .get(&ParticipantId(1))
            .is_some_and(|m| m.stalled)
    };
    let until = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while !stalled() {
        assert!(tokio::time::Instant::now() < until, "never stalled");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(media.state().members[&ParticipantId(1)].receiving.is_none());

    // The session catches up: a new connection (number 2) is offered.
    while queue.try_recv().is_some() {}
    let until = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        if let Some(frame) = queue.try_recv() {
            let msg: serde_json::Value = serde_json::from_str(frame.as_str()).expect("json");
            if msg["type"] == "sfu_offer" {
                assert_eq!(msg["connection"], 2, "a new connection: {msg}");
                break;
            }
            continue;
        }
        assert!(
            tokio::time::Instant::now() < until,
            "no new offer once the queue had room"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(!stalled());
}

/// A circle that goes back to a mesh keeps its routes among those who stay while their
/// direct connections come up, for [`LINGER`] at most (the pages unpublish sooner), also
/// past the ten seconds it used to be cut at; a circle routed again, or one that ends
/// lingering anew, is not cut by an earlier lingering's end.
#[tokio::test(start_paused = true)]
async fn a_circle_back_in_a_mesh_keeps_its_routes_for_linger_at_most() {
    let sfu = Sfu::on_loopback().await;
    let media = RoomMedia::new(sfu);
    let ids = [1, 2, 3].map(ParticipantId);
    let mut queues = Vec::new();
    for id in ids {
        let (tx, rx) = outbox(64);
        media.join(id, tx);
        queues.push(rx);
    }
    let circle = CircleId(7);
    let lingers = || media.state().lingering.contains_key(&circle);
    media.set_circle(circle, &ids, true);
    media.set_circle(circle, &ids, false);
    assert!(lingers());
    tokio::time::sleep(std::time::Duration::from_secs(30)).await;
    assert!(lingers(), "30 s after going back to a mesh");
    // Routed again and back to a mesh: lingering anew, for LINGER from now.
    media.set_circle(circle, &ids, true);
    media.set_circle(circle, &ids, false);
    tokio::time::sleep(LINGER - std::time::Duration::from_secs(20)).await;
    assert!(
        lingers(),
        "the first lingering's end does not cut the second"
    );
    tokio::time::sleep(std::time::Duration::from_secs(21)).await;
    assert!(!lingers(), "LINGER after the second, the routes end");
}

/// A receiving connection replaced while orders were still queued for it (here: a track
/// to add) carries none of them out: its participant gets no offer under the old number
/// once the new connection exists (seen in a browser test: the old connection's
/// renegotiation came after the new one's first offer, and the page, taking it for the
/// current connection, left the new one and received nothing).
#[tokio::test]
async fn a_replaced_receiving_connection_offers_nothing_more() {
    let sfu = Sfu::on_loopback().await;
    let media = RoomMedia::new(sfu);
    let (listener, mut queue) = outbox(64);
    // The track opens the listener's connection 1 and queues its order to add the track;
    // before that connection's task has run (one thread: not until this test waits), the
    // listener restarts it.
    let _host = listen_to_a_broadcast(&media, listener);
    assert_eq!(
        media.state().members[&ParticipantId(1)]
            .receiving
            .as_ref()
            .map(|r| r.connection),
        Some(1)
    );
    media.restart(ParticipantId(1));
    let mut offers = Vec::new();
    let until = tokio::time::Instant::now() + std::time::Duration::from_secs(2);
    while tokio::time::Instant::now() < until {
        while let Some(frame) = queue.try_recv() {
            let msg: serde_json::Value = serde_json::from_str(frame.as_str()).expect("json");
            if msg["type"] == "sfu_offer" {
                offers.push(msg["connection"].as_u64().expect("a number"));
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(offers, [2], "only the new connection offers");
}
