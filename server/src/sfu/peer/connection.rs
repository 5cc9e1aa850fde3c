//! How a connection between the SFU and a participant is made: ICE-lite with the SFU's
//! host candidates, the codecs it allows, and the interceptors each direction needs.
//!
//! Every RTP packet a receiving connection forwards walks its interceptor chain, so the
//! chain holds only what that direction uses: a listener's connection costs the server
//! per packet what its interceptors do, times the listeners.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use rtc::interceptor::{
    CongestionControlBuilder, NackGeneratorBuilder, NackResponderBuilder, ReceiverReportBuilder,
    Registry, SenderReportBuilder, Slot, TwccReceiverBuilder, TwccSenderBuilder,
};
use rtc::peer_connection::RTCPeerConnection;
use rtc::peer_connection::RTCPeerConnectionBuilder;
use rtc::peer_connection::configuration::RTCConfigurationBuilder;
use rtc::peer_connection::configuration::interceptor_registry::{
    configure_nack, configure_simulcast_extension_headers, configure_twcc_receiver_only,
    configure_twcc_sender_only,
};
use rtc::peer_connection::configuration::media_engine::MediaEngine;
use rtc::peer_connection::configuration::setting_engine::SettingEngineBuilder;
use rtc::peer_connection::transport::{CandidateConfig, CandidateHostConfig, RTCIceCandidate};

use super::super::Sfu;
use super::super::feedback::{self, KeyframeRequests, SharedEstimate};
use super::{Direction, FAILED_AFTER, PeerError};

/// The estimate of a receiving connection, where its task reads it.
pub(super) type Estimate = Option<Arc<AtomicU64>>;

/// A peer connection answering as ICE-lite with the SFU's one host candidate. A
/// receiving connection also numbers what it sends for transport-wide congestion control
/// and estimates the participant's bandwidth from their feedback.
pub(super) fn build(
    sfu: &Sfu,
    ufrag: &str,
    direction: Direction,
) -> Result<(RTCPeerConnection, Estimate), PeerError> {
    let setting_engine = SettingEngineBuilder::new()
        .with_lite(true)
        // Without a word from the participant for 5 s the connection is disconnected, and
        // after 10 s more it has failed and is replaced (the default waits 25 s more).
        .with_ice_timeouts(Some(Duration::from_secs(5)), Some(FAILED_AFTER), None)
        // ICE-lite learns addresses from the checks it receives: it never needs to resolve
        // a browser's `.local` candidate (they are taken out of descriptions, too).
        .with_multicast_dns_mode(rtc::ice::mdns::MulticastDnsMode::Disabled)
        .with_ice_credentials(ufrag.to_owned(), random_token(24))
        .build();
    let mut media_engine = MediaEngine::default();
    sfu.codecs().register(&mut media_engine)?;
    advertise_feedback(&mut media_engine)?;
    let (registry, estimate) = interceptors(direction);
    let config = RTCConfigurationBuilder::new().build();
    let mut pc = RTCPeerConnectionBuilder::new()
        .with_configuration(config)
        .with_setting_engine(setting_engine)
        .with_media_engine(media_engine)
        .with_interceptor_registry(registry)
        .build(Instant::now())?;
    let host = |announced: std::net::SocketAddr, network: &str, tcp_type| {
        let candidate = CandidateHostConfig {
            base_config: CandidateConfig {
                network: network.to_owned(),
                address: announced.ip().to_string(),
                port: announced.port(),
                component: 1,
                ..Default::default()
            },
            tcp_type,
        }
        .new_candidate_host()?;
        RTCIceCandidate::from(&candidate).to_json()
    };
    for &announced in sfu.announced_all() {
        pc.add_local_candidate(host(announced, "udp", Default::default())?)?;
        if sfu.tcp() {
            pc.add_local_candidate(host(
                announced,
                "tcp",
                rtc::ice::tcp_type::TcpType::Passive,
            )?)?;
        }
    }
    Ok((pc, estimate))
}

/// A description without its mDNS (`.local`) candidates: the ICE-lite SFU learns
/// addresses from the checks it receives and never resolves names.
pub(super) fn without_mdns_candidates(sdp: &str) -> String {
    let mut out = String::with_capacity(sdp.len());
    for line in sdp.split_inclusive('\n') {
        let mdns = line.starts_with("a=candidate:")
            && line
                .split_whitespace()
                .nth(4)
                .is_some_and(|address| address.ends_with(".local"));
        if !mdns {
            out.push_str(line);
        }
    }
    out
}

/// A random alphanumeric token (ICE ufrag and password).
pub(super) fn random_token(len: usize) -> String {
    use rand::Rng;
    use rand::distr::Alphanumeric;
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// What both directions say in their descriptions, whichever side uses it: NACK and PLI
/// for video, transport-wide congestion control (the sequence number's header extension
/// and the feedback) for audio and video, and the header extensions simulcast needs (mid,
/// rid, repaired rid). A publisher's browser estimates its bandwidth from the SFU's
/// transport-cc feedback; the SFU estimates a listener's from theirs.
fn advertise_feedback(media_engine: &mut MediaEngine) -> Result<(), PeerError> {
    // These only register feedback and header extensions with the media engine here; the
    // registries they return are left unused (the interceptors are chosen below).
    configure_nack(Registry::new(), media_engine);
    configure_twcc_receiver_only(Registry::new(), media_engine)?;
    configure_twcc_sender_only(Registry::new(), media_engine)?;
    configure_simulcast_extension_headers(media_engine)?;
    Ok(())
}

/// The interceptors of one direction, and a receiving connection's bandwidth estimate.
///
/// Both: keyframe requests (a listener's PLI goes to the publisher; the SFU asks a
/// publisher for a keyframe). A *sending* connection receives media: it asks for what was
/// lost (NACK generator), reports reception (receiver reports) and gives transport-wide
/// feedback for the publisher's own estimate. A *receiving* connection sends media: it
/// serves retransmissions from its own buffer so they never reach the publisher (NACK
/// responder), sends sender reports (listeners sync audio and video by them), numbers what
/// it sends for transport-wide feedback and estimates the listener's bandwidth from it
/// (no pacer: what is forwarded leaves as it comes; the estimate only chooses layers).
/// Neither direction carries what only the other needs: each packet forwarded to a
/// listener would walk those interceptors for nothing.
fn interceptors(direction: Direction) -> (Registry, Estimate) {
    let registry = Registry::new().with(Slot::Custom(feedback::SLOT), KeyframeRequests::default());
    match direction {
        Direction::Sending => (
            registry
                .with(Slot::NackGenerator, NackGeneratorBuilder::new().build())
                .with(Slot::ReceiverReport, ReceiverReportBuilder::new().build())
                .with(Slot::TwccReceiver, TwccReceiverBuilder::new().build()),
            None,
        ),
        Direction::Receiving => {
            let (estimator, shared) = SharedEstimate::new();
            let registry = registry
                .with(Slot::NackResponder, NackResponderBuilder::new().build())
                .with(Slot::SenderReport, SenderReportBuilder::new().build())
                .with(Slot::TwccSender, TwccSenderBuilder::new().build())
                .with(
                    Slot::CongestionControl,
                    CongestionControlBuilder::new(estimator).build(),
                );
            (registry, Some(shared))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtc::peer_connection::sdp::RTCSessionDescription;
    use rtc::sansio::Protocol;

    /// Each direction's chain holds what that direction does and nothing of the other's:
    /// a packet forwarded to a listener walks only the interceptors a sender needs.
    #[test]
    fn each_direction_carries_only_its_own_interceptors() {
        let slots = |direction| -> Vec<Slot> {
            let (registry, _) = interceptors(direction);
            registry.slots().into_iter().map(|(slot, _)| slot).collect()
        };
        assert_eq!(
            slots(Direction::Receiving),
            vec![
                Slot::CongestionControl,
                Slot::TwccSender,
                Slot::NackResponder,
                Slot::SenderReport,
                Slot::Custom(feedback::SLOT),
            ]
        );
        assert_eq!(
            slots(Direction::Sending),
            vec![
                Slot::NackGenerator,
                Slot::TwccReceiver,
                Slot::ReceiverReport,
                Slot::Custom(feedback::SLOT),
            ]
        );
        assert!(interceptors(Direction::Receiving).1.is_some());
        assert!(interceptors(Direction::Sending).1.is_none());
    }

    /// A browser's offer (one audio section) whose only candidate is an mDNS name.
    const OFFER: &str = "v=0\r\n\
        o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n\
        s=-\r\n\
        t=0 0\r\n\
        a=group:BUNDLE 0\r\n\
        a=msid-semantic: WMS\r\n\
        m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n\
        c=IN IP4 0.0.0.0\r\n\
        a=rtcp:9 IN IP4 0.0.0.0\r\n\
        a=candidate:1 1 udp 2122260223 4b1c2d3e-1111-4222-8333-944455556666.local 54321 typ host\r\n\
        a=ice-ufrag:abcd\r\n\
        a=ice-pwd:abcdefghijklmnopqrstuvwx\r\n\
        a=fingerprint:sha-256 AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99\r\n\
        a=setup:actpass\r\n\
        a=mid:0\r\n\
        a=sendonly\r\n\
        a=msid:s t\r\n\
        a=rtcp-mux\r\n\
        a=rtpmap:111 opus/48000/2\r\n\
        a=fmtp:111 minptime=10;useinbandfec=1\r\n\
        a=ssrc:1 cname:c\r\n";

    /// Nothing the connection writes goes to the mDNS port: it never asks the network
    /// what a `.local` name is.
    #[tokio::test]
    async fn a_description_with_mdns_candidates_starts_no_lookup() {
        let sfu = Sfu::on_loopback().await;
        let (mut pc, _) = build(&sfu, "localufrag", Direction::Sending).expect("build");
        // As it comes, `.local` candidate and all (the task takes them out, too).
        let offer = RTCSessionDescription::offer(OFFER.to_owned()).expect("offer");
        pc.set_remote_description(Instant::now(), offer)
            .expect("apply");
        let answer = pc.create_answer(None).expect("answer");
        pc.set_local_description(Instant::now(), answer)
            .expect("local");
        let start = Instant::now();
        let mut writes = 0;
        for step in 0..50 {
            let now = start + Duration::from_millis(step * 200);
            pc.handle_timeout(now).expect("timeout");
            while let Some(out) = pc.poll_write() {
                writes += 1;
                assert_ne!(
                    out.transport.peer_addr.port(),
                    5353,
                    "an mDNS query went out"
                );
            }
        }
        assert_eq!(
            writes, 0,
            "an ICE-lite endpoint sends nothing before it is checked"
        );
    }

    #[test]
    fn mdns_candidates_are_taken_out_of_descriptions() {
        let sdp = "a=mid:0\r\na=candidate:1 1 udp 1 x.local 5 typ host\r\na=candidate:2 1 udp 1 192.0.2.1 5 typ host\r\n";
        assert_eq!(
            without_mdns_candidates(sdp),
            "a=mid:0\r\na=candidate:2 1 udp 1 192.0.2.1 5 typ host\r\n"
        );
    }
}
