//! A WebRTC peer for the load generator and the tests, built on webrtc-rs: it sends
//! synthetic Opus and VP8 RTP or receives what the SFU forwards, over real UDP on loopback
//! (directly, or relay-only through TURN). Signalling is the caller's: these connections
//! only make and take session descriptions.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use rtc::ice::network_type::NetworkType;
use rtc::interceptor::Slot;
use rtc::media_stream::MediaStreamTrack;
use rtc::rtp;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use tokio::sync::{mpsc, watch};
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_remote::TrackRemote;
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCConfigurationBuilder, RTCIceGatheringState, RTCIceServer, RTCIceTransportPolicy,
    RTCPeerConnectionState, Registry, SettingEngineBuilder, register_default_interceptors,
};

/// How long negotiation and connection may take.
pub const DEADLINE: Duration = Duration::from_secs(20);
/// Payload types of the webrtc-rs default codecs.
pub const OPUS_PT: u8 = 111;
pub const VP8_PT: u8 = 96;

/// Events of one peer connection, as channels a test can wait on.
#[derive(Clone)]
struct Events {
    gathered: watch::Sender<bool>,
    state: watch::Sender<RTCPeerConnectionState>,
    tracks: mpsc::UnboundedSender<Arc<dyn TrackRemote>>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Events {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            let _ = self.gathered.send(true);
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        let _ = self.state.send(state);
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let _ = self.tracks.send(track);
    }
}

/// A webrtc-rs peer connection on loopback, with its event channels.
pub struct Peer {
    /// The connection.
    pub pc: Arc<dyn PeerConnection>,
    gathered: watch::Receiver<bool>,
    state: watch::Receiver<RTCPeerConnectionState>,
    /// Remote tracks as they open.
    pub tracks: mpsc::UnboundedReceiver<Arc<dyn TrackRemote>>,
}

/// How a test peer reaches the SFU.
#[derive(Debug, Clone, Default)]
pub enum Route {
    /// Host candidates on loopback.
    #[default]
    Direct,
    /// Only through the TURN servers the welcome named (relay candidates only).
    Relay(Vec<hallway_proto::IceServer>),
    /// Over TCP only (ICE-TCP, active candidates), as behind a firewall without UDP.
    Tcp,
}

impl Peer {
    /// A connection with host candidates on loopback.
    pub async fn new() -> Result<Peer> {
        Peer::with_route(&Route::Direct).await
    }

    /// A connection that reaches the SFU by `route`.
    pub async fn with_route(route: &Route) -> Result<Peer> {
        let (gathered_tx, gathered) = watch::channel(false);
        let (state_tx, state) = watch::channel(RTCPeerConnectionState::New);
        let (tracks_tx, tracks) = mpsc::unbounded_channel();
        let handler = Arc::new(Events {
            gathered: gathered_tx,
            state: state_tx,
            tracks: tracks_tx,
        });
        let mut media_engine = MediaEngine::default();
        media_engine.register_default_codecs()?;
        // Keyframe requests reach the application (the publisher counts them).
        let registry = register_default_interceptors(
            Registry::new().with(
                Slot::Custom(hallway::sfu::feedback::SLOT),
                hallway::sfu::feedback::KeyframeRequests::default(),
            ),
            &mut media_engine,
        )?;
        let configuration = match route {
            Route::Direct | Route::Tcp => RTCConfigurationBuilder::new().build(),
            Route::Relay(servers) => RTCConfigurationBuilder::new()
                .with_ice_servers(
                    servers
                        .iter()
                        .map(|s| RTCIceServer {
                            urls: s.urls.clone(),
                            username: s.username.clone().unwrap_or_default(),
                            credential: s.credential.clone().unwrap_or_default(),
                        })
                        .collect(),
                )
                .with_ice_transport_policy(RTCIceTransportPolicy::Relay)
                .build(),
        };
        let builder = PeerConnectionBuilder::new()
            .with_configuration(configuration)
            .with_media_engine(media_engine)
            .with_interceptor_registry(registry)
            .with_handler(handler);
        let builder = match route {
            Route::Tcp => builder
                .with_setting_engine(
                    SettingEngineBuilder::new()
                        .with_network_types(vec![NetworkType::Tcp4])
                        .build(),
                )
                .with_tcp_addrs(vec!["127.0.0.1:0".to_string()])
                .with_udp_addrs(Vec::<String>::new()),
            _ => builder.with_udp_addrs(vec!["127.0.0.1:0".to_string()]),
        };
        let pc = builder.build().await?;
        Ok(Peer {
            pc: Arc::new(pc),
            gathered,
            state,
            tracks,
        })
    }

    /// The local description once every candidate is in it (no trickling to the SFU).
    pub async fn gathered_sdp(&mut self) -> Result<String> {
        tokio::time::timeout(DEADLINE, self.gathered.wait_for(|done| *done))
            .await
            .context("ICE gathering did not complete")??;
        Ok(self
            .pc
            .local_description()
            .await
            .ok_or_else(|| anyhow!("no local description"))?
            .sdp)
    }

    /// Waits until the connection is up.
    pub async fn connected(&mut self) -> Result<()> {
        tokio::time::timeout(
            DEADLINE,
            self.state
                .wait_for(|s| *s == RTCPeerConnectionState::Connected),
        )
        .await
        .context("the media connection did not connect")??;
        Ok(())
    }
}

pub fn track(kind: RtpCodecKind, name: &str, ssrc: u32) -> Arc<TrackLocalStaticRTP> {
    let codec = match kind {
        RtpCodecKind::Audio => RTCRtpCodec {
            mime_type: "audio/opus".into(),
            clock_rate: 48_000,
            channels: 2,
            sdp_fmtp_line: "minptime=10;useinbandfec=1".into(),
            rtcp_feedback: vec![],
        },
        _ => RTCRtpCodec {
            mime_type: "video/VP8".into(),
            clock_rate: 90_000,
            channels: 0,
            sdp_fmtp_line: String::new(),
            rtcp_feedback: vec![],
        },
    };
    Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
        "publisher".into(),
        name.into(),
        name.into(),
        kind,
        vec![RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters {
                ssrc: Some(ssrc),
                ..Default::default()
            },
            codec,
            ..Default::default()
        }],
    )))
}

pub const AUDIO_SSRC: u32 = 0x000A_0D10;
pub const VIDEO_SSRC: u32 = 0x000B_1DE0;

/// Sends packet number `n` of each track.
pub async fn send_pair(
    audio: &TrackLocalStaticRTP,
    video: &TrackLocalStaticRTP,
    n: u16,
    payload_bytes: usize,
) -> Result<()> {
    {
        for (track, ssrc, pt, clock) in [
            (audio, AUDIO_SSRC, OPUS_PT, 960u32),
            (video, VIDEO_SSRC, VP8_PT, 3000u32),
        ] {
            let mut payload = vec![0u8; payload_bytes.max(4)];
            payload[..2].copy_from_slice(&n.to_be_bytes());
            let packet = rtp::Packet {
                header: rtp::header::Header {
                    version: 2,
                    marker: true,
                    payload_type: pt,
                    sequence_number: n,
                    timestamp: u32::from(n).wrapping_mul(clock),
                    ssrc,
                    ..Default::default()
                },
                payload: payload.into(),
            };
            track.write_rtp(packet).await?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peer")
            .field("state", &*self.state.borrow())
            .finish_non_exhaustive()
    }
}
