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
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_local::{TrackLocal, TrackLocalEvent};
use webrtc::media_stream::track_remote::TrackRemote;
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCConfigurationBuilder, RTCIceCandidateInit, RTCIceGatheringState, RTCIceServer,
    RTCIceTransportPolicy, RTCPeerConnectionState, RTCSessionDescription, Registry,
    SettingEngineBuilder, register_default_interceptors,
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
    route: Route,
}

/// The codecs a test peer supports, in its order of preference.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PeerCodecs {
    /// webrtc-rs's defaults (Opus first; VP8, VP9, H264, AV1, …).
    #[default]
    Default,
    /// Opus only: a receiver that decodes no video rejects every video section.
    OpusOnly,
}

impl PeerCodecs {
    fn register(self, engine: &mut MediaEngine) -> Result<()> {
        use rtc::rtp_transceiver::rtp_sender::RTCRtpCodecParameters;
        if self == PeerCodecs::Default {
            engine.register_default_codecs()?;
            return Ok(());
        }
        let codec =
            |mime: &str, clock_rate, channels, fmtp: &str, payload_type| RTCRtpCodecParameters {
                rtp_codec: RTCRtpCodec {
                    mime_type: mime.into(),
                    clock_rate,
                    channels,
                    sdp_fmtp_line: fmtp.into(),
                    rtcp_feedback: vec![],
                },
                payload_type,
            };
        engine.register_codec(
            codec(
                "audio/opus",
                48_000,
                2,
                "minptime=10;useinbandfec=1",
                OPUS_PT,
            ),
            RtpCodecKind::Audio,
        )?;
        Ok(())
    }
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
        Peer::with(route, PeerCodecs::Default).await
    }

    /// A connection that reaches the SFU by `route` and supports `codecs`.
    pub async fn with(route: &Route, codecs: PeerCodecs) -> Result<Peer> {
        Peer::build(route, codecs, false).await
    }

    /// A connection that reaches the SFU by `route` and supports `codecs`; `layered`: it
    /// also offers the header extensions that name a simulcast layer's media section and
    /// `rid` (as browsers do), so that it can send a camera in layers.
    async fn build(route: &Route, codecs: PeerCodecs, layered: bool) -> Result<Peer> {
        let (gathered_tx, gathered) = watch::channel(false);
        let (state_tx, state) = watch::channel(RTCPeerConnectionState::New);
        let (tracks_tx, tracks) = mpsc::unbounded_channel();
        let handler = Arc::new(Events {
            gathered: gathered_tx,
            state: state_tx,
            tracks: tracks_tx,
        });
        let mut media_engine = MediaEngine::default();
        codecs.register(&mut media_engine)?;
        if layered {
            rtc::peer_connection::configuration::interceptor_registry::configure_simulcast_extension_headers(
                &mut media_engine,
            )?;
        }
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
            route: route.clone(),
        })
    }

    /// Applies an offer of the SFU's (`sfu_offer`) and returns the answer to send.
    pub async fn answer(&mut self, offer: String) -> Result<String> {
        self.pc
            .set_remote_description(RTCSessionDescription::offer(offer.clone())?)
            .await?;
        if matches!(self.route, Route::Tcp) {
            // webrtc-rs dials a passive TCP candidate only when it is added as a candidate,
            // not when it comes in the description (browsers dial both).
            for line in offer.lines().filter(|l| l.contains(" tcp ")) {
                if let Some(candidate) = line.strip_prefix("a=") {
                    let init = RTCIceCandidateInit {
                        candidate: candidate.to_owned(),
                        sdp_mid: Some("0".into()),
                        sdp_mline_index: Some(0),
                        ..Default::default()
                    };
                    let _ = self.pc.add_ice_candidate(init).await;
                }
            }
        }
        let answer = self.pc.create_answer(None).await?;
        self.pc.set_local_description(answer).await?;
        self.gathered_sdp().await
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

    /// The connection's state now.
    pub fn state(&self) -> RTCPeerConnectionState {
        *self.state.borrow()
    }

    /// The connection's state as it changes.
    pub fn watch_state(&self) -> watch::Receiver<RTCPeerConnectionState> {
        self.state.clone()
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
pub const SCREEN_SSRC: u32 = 0x000C_5C2E;

/// The `rid`s of a camera sent in layers, lowest first (the client's names), and the SSRC
/// of each: [`VIDEO_SSRC`] and the next two.
pub const LAYER_RIDS: [&str; 3] = ["l", "m", "h"];

/// The SSRC of layer `i` of a camera sent in layers.
pub fn layer_ssrc(i: usize) -> u32 {
    VIDEO_SSRC + i as u32
}

/// A VP8 camera track sent in the three layers of [`LAYER_RIDS`].
fn layered_track() -> Arc<TrackLocalStaticRTP> {
    let encodings = LAYER_RIDS
        .iter()
        .enumerate()
        .map(|(i, rid)| RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters {
                rid: (*rid).to_owned(),
                ssrc: Some(layer_ssrc(i)),
                ..Default::default()
            },
            codec: RTCRtpCodec {
                mime_type: "video/VP8".into(),
                clock_rate: 90_000,
                channels: 0,
                sdp_fmtp_line: String::new(),
                rtcp_feedback: vec![],
            },
            ..Default::default()
        })
        .collect();
    Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
        "publisher".into(),
        "camera".into(),
        "camera".into(),
        RtpCodecKind::Video,
        encodings,
    )))
}

/// What a layered camera's packets carry to name their layer: the ids the SFU's answer
/// gave the header extensions, and the video section's `mid`.
#[derive(Debug, Clone)]
pub struct LayerNames {
    /// The id of `urn:ietf:params:rtp-hdrext:sdes:mid`.
    pub mid_id: u8,
    /// The id of `urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id`.
    pub rid_id: u8,
    /// The video section's `mid`.
    pub mid: String,
}

impl LayerNames {
    /// Reads them from the SFU's answer; `None` if it did not take the extensions.
    pub fn from_answer(sdp: &str) -> Option<LayerNames> {
        let ext = |uri: &str| {
            sdp.lines().find_map(|line| {
                let rest = line.strip_prefix("a=extmap:")?;
                let (id, name) = rest.split_once(' ')?;
                (name.trim() == uri).then(|| id.split('/').next()?.parse().ok())?
            })
        };
        // The camera's section: the first video section.
        let mid = sdp
            .split("\nm=")
            .skip(1)
            .find(|section| section.starts_with("video"))?
            .lines()
            .find_map(|l| l.strip_prefix("a=mid:"))?
            .trim()
            .to_owned();
        Some(LayerNames {
            mid_id: ext("urn:ietf:params:rtp-hdrext:sdes:mid")?,
            rid_id: ext("urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id")?,
            mid,
        })
    }
}

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

/// A connection that sends one Opus and one VP8 track to the SFU.
pub struct Sending {
    /// The connection.
    pub peer: Peer,
    /// The audio track.
    pub audio: Arc<TrackLocalStaticRTP>,
    /// The video track.
    pub video: Arc<TrackLocalStaticRTP>,
    /// The screen share, if it sends one (a second video track).
    pub screen: Option<Arc<TrackLocalStaticRTP>>,
    /// Keyframe requests (PLI, FIR) that reached the video track.
    pub keyframe_requests: Arc<std::sync::atomic::AtomicU64>,
    /// For a camera sent in layers ([`Sending::offer_layered`]), what names each
    /// packet's layer, once the SFU answered.
    pub layers: Option<LayerNames>,
    layered: bool,
}

impl Sending {
    /// A connection with both tracks, and its offer to send as `sfu_offer`.
    pub async fn offer() -> Result<(Sending, String)> {
        Sending::offer_tracks(PeerCodecs::Default, false, false).await
    }

    /// A connection whose camera goes in three layers ([`LAYER_RIDS`]), and its offer.
    pub async fn offer_layered() -> Result<(Sending, String)> {
        Sending::offer_tracks(PeerCodecs::Default, false, true).await
    }

    /// A connection with both tracks and a third, a screen share (its media section is
    /// the third: `mid` "2"), and its offer.
    pub async fn offer_with_screen() -> Result<(Sending, String)> {
        Sending::offer_tracks(PeerCodecs::Default, true, false).await
    }

    async fn offer_tracks(
        codecs: PeerCodecs,
        with_screen: bool,
        layered: bool,
    ) -> Result<(Sending, String)> {
        let mut peer = Peer::build(&Route::Direct, codecs, layered).await?;
        let audio = track(RtpCodecKind::Audio, "mic", AUDIO_SSRC);
        let video = if layered {
            layered_track()
        } else {
            track(RtpCodecKind::Video, "camera", VIDEO_SSRC)
        };
        peer.pc
            .add_track(audio.clone() as Arc<dyn TrackLocal>)
            .await?;
        peer.pc
            .add_track(video.clone() as Arc<dyn TrackLocal>)
            .await?;
        let screen = if with_screen {
            let screen = track(RtpCodecKind::Video, "screen", SCREEN_SSRC);
            peer.pc
                .add_track(screen.clone() as Arc<dyn TrackLocal>)
                .await?;
            Some(screen)
        } else {
            None
        };
        let offer = peer.pc.create_offer(None).await?;
        peer.pc.set_local_description(offer).await?;
        let sdp = peer.gathered_sdp().await?;
        let keyframe_requests = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let requests = keyframe_requests.clone();
        let watched = video.clone();
        tokio::spawn(async move {
            while let Some(event) = watched.poll().await {
                if let TrackLocalEvent::OnRtcpPacket(packets) = event
                    && hallway::sfu::feedback::asks_for_keyframe(&packets)
                {
                    requests.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
        });
        let sending = Sending {
            peer,
            audio,
            video,
            screen,
            keyframe_requests,
            layers: None,
            layered,
        };
        Ok((sending, sdp))
    }

    /// Applies the SFU's answer (`sfu_answer`) and waits until connected.
    pub async fn accept(&mut self, answer: String) -> Result<()> {
        if self.layered {
            self.layers = Some(
                LayerNames::from_answer(&answer)
                    .context("the SFU's answer names no layers (mid and rid extensions)")?,
            );
        }
        self.peer
            .pc
            .set_remote_description(RTCSessionDescription::answer(answer)?)
            .await?;
        self.peer.connected().await
    }
}

impl std::fmt::Debug for Sending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sending")
            .field("peer", &self.peer)
            .finish_non_exhaustive()
    }
}
