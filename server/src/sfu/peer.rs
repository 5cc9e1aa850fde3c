//! One WebRTC connection between the SFU and a participant, driven by its own task.
//!
//! The connection is the sans-I/O `rtc` peer connection: this task feeds it the datagrams
//! the socket loop routes here, its timers and its signalling, and writes what it wants
//! sent onto the shared socket. A *sending* connection (the participant publishes) hands
//! every RTP packet it receives to the subscribers of that track; a *receiving*
//! connection (the participant subscribes) writes forwarded packets out under its own
//! SSRCs and turns keyframe requests into requests to the publisher. A camera sent in
//! simulcast layers is one track with one SSRC per layer; each receiving connection gets
//! the layer its allocation chose (see [`super::allocation`]), re-chosen every
//! [`ALLOCATION_INTERVAL`] from its bandwidth estimate and what its participant shows.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use hallway_proto::{ErrorCode, ServerMessage};
use rtc::peer_connection::RTCPeerConnection;
use rtc::peer_connection::event::{RTCPeerConnectionEvent, RTCTrackEvent};
use rtc::peer_connection::message::{RTCMessage, TaggedRTCMessage};
use rtc::peer_connection::state::RTCPeerConnectionState;
use rtc::rtp_transceiver::{RTCRtpReceiverId, RTCRtpSenderId};
use rtc::sansio::Protocol;
use rtc::shared::{TaggedBytesMut, TransportContext, TransportProtocol};
use tokio::sync::mpsc;
use tracing::debug;
use tungstenite::protocol::frame::Utf8Bytes;

mod connection;
mod control;
mod receiving;

use connection::{build, random_token};

use super::layers::{self, Choice, Layer, LayerStats, MAX_LAYERS, Rewriter};
use super::pausing::Pausing;
use super::rates::LayerRates;
use super::tracks::MediaIn;
use super::tracks::{Forwards, TrackInfo, TrackKey};
use super::upswitch::UpSwitches;
use super::{Datagram, Sfu};
use crate::room::model::ParticipantId;
use crate::transport::outbox::OutboxSender;

/// Control messages a connection's queue holds.
const CONTROL_QUEUE: usize = 256;
/// Datagrams and forwarded packets a connection's queue holds; beyond that they are
/// dropped, as the network would (a subscriber that falls behind loses its own packets
/// and slows nobody else).
pub(crate) const MEDIA_QUEUE: usize = 1024;
/// Keyframe requests from one subscriber for one track are passed on at most this often.
const KEYFRAME_INTERVAL: Duration = Duration::from_millis(500);
/// A connection silent this long after being disconnected has failed.
const FAILED_AFTER: Duration = Duration::from_secs(10);
/// A connection whose ICE never completes is given up after this long.
const CONNECT_DEADLINE: Duration = Duration::from_secs(30);
/// How often a receiving connection chooses the layers it receives again, and a sending
/// one which of its camera's layers anyone calls for ([`super::pausing`]).
const ALLOCATION_INTERVAL: Duration = Duration::from_millis(500);
/// A layer asked for and not yet received is asked for again (with a keyframe request)
/// this often.
const SWITCH_RETRY: Duration = Duration::from_secs(1);
/// Keyframe requests for one layer are passed to its publisher at most this often.
const PLI_INTERVAL: Duration = Duration::from_millis(500);

/// Which way media flows on a connection, seen from the participant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// The participant sends media to the SFU.
    Sending,
    /// The SFU sends media to the participant.
    Receiving,
}

/// Signalling and routing orders for a connection.
#[derive(Debug)]
pub(crate) enum Control {
    /// The participant's offer (sending connection), with the `mid` of its screen share.
    Offer(String, Option<String>),
    /// The participant's answer (receiving connection).
    Answer(String),
    /// Start forwarding a track, in the layer the choice says (receiving connection).
    AddTrack(Arc<TrackInfo>, Arc<Choice>),
    /// Stop forwarding a track (receiving connection).
    RemoveTrack(TrackKey),
    /// The sizes at which the participant shows publishers' cameras (`false`) and
    /// screens (`true`), in device pixels (receiving connection).
    View(Vec<(ParticipantId, bool, u32, u32)>),
    /// A subscriber needs a keyframe of this track, of one layer or of all (sending
    /// connection).
    Keyframe(TrackKey, Option<Layer>),
    /// The participant resumed on a new WebSocket: tell them from now on through this
    /// queue, and repeat what did not reach them.
    Relink(OutboxSender),
}

/// The owner's end of a connection's task: dropping it ends the task.
#[derive(Debug)]
pub(crate) struct PeerHandle {
    pub control: mpsc::Sender<Control>,
    pub media: mpsc::Sender<MediaIn>,
    /// The connection's local ICE username fragment (its routing key on the socket).
    pub ufrag: String,
    /// A receiving connection's number (`connection` of `sfu_offer`); 0 for sending.
    pub connection: u64,
    /// Set when the handle is dropped (see [`Peer::retired`]).
    retired: Arc<AtomicBool>,
}

impl Drop for PeerHandle {
    fn drop(&mut self) {
        self.retired.store(true, Ordering::Release);
    }
}

/// A track this connection receives from its participant.
struct Incoming {
    key: TrackKey,
    receiver: RTCRtpReceiverId,
    /// The SSRC of each layer (a track without layers: layer 0 only).
    ssrcs: [Option<u32>; MAX_LAYERS],
    video: bool,
    mime_type: String,
    forwards: Arc<Forwards>,
    stats: Arc<LayerStats>,
    /// When each layer's publisher was last asked for a keyframe.
    last_pli: [Option<Instant>; MAX_LAYERS],
    /// Sent in simulcast layers: which of them the publisher is told to send.
    pausing: Option<Pausing>,
}

impl Incoming {
    fn layer_of(&self, ssrc: u32) -> Option<Layer> {
        self.ssrcs
            .iter()
            .position(|s| *s == Some(ssrc))
            .map(|i| i as Layer)
    }
}

/// A track this connection sends to its participant.
struct Outgoing {
    sender: RTCRtpSenderId,
    ssrc: u32,
    info: Arc<TrackInfo>,
    /// Negotiated payload type, known once the participant answered.
    payload_type: Option<u8>,
    last_keyframe_request: Option<Instant>,
    /// The layer this connection receives (simulcast) and how its numbering is kept
    /// continuous.
    choice: Arc<Choice>,
    rewriter: Rewriter,
    /// The size the participant shows it at, if they said.
    view: Option<(u32, u32)>,
    /// Each layer's rate as this receiver's allocation sees it.
    rates: LayerRates,
    /// When a higher layer may be taken ([`upswitch`](super::upswitch)).
    ups: UpSwitches,
    /// When a layer switch last asked for a keyframe.
    switch_asked: Option<Instant>,
}

/// What a connection's task tells its room's routes (`room::RoomMedia`): the tracks it
/// receives from its participant, the keyframes its receivers ask for, its end.
pub(crate) trait Routes: Send + Sync {
    /// A sending connection receives a new track (`layered`: in simulcast layers): its
    /// key, where its packets go, and the counts of its layers.
    fn publish(
        &self,
        publisher: ParticipantId,
        kind: rtc::rtp_transceiver::rtp_sender::RtpCodecKind,
        codec: rtc::rtp_transceiver::rtp_sender::RTCRtpCodec,
        screen: bool,
        layered: bool,
    ) -> (TrackKey, Arc<Forwards>, Arc<LayerStats>);

    /// A sending connection's track ended.
    fn unpublish(&self, key: TrackKey);

    /// A receiver asked for a keyframe of `key` (of one simulcast layer, or of all).
    fn request_keyframe(&self, key: TrackKey, layer: Option<Layer>);

    /// A connection's task ended (`session_gone`: its participant's session could not
    /// take its messages).
    fn peer_ended(&self, id: ParticipantId, direction: Direction, ufrag: &str, session_gone: bool);
}

/// The task's state.
struct Peer {
    pc: RTCPeerConnection,
    direction: Direction,
    participant: ParticipantId,
    room: Weak<dyn Routes>,
    link: OutboxSender,
    sfu: Sfu,
    ufrag: String,
    /// Receiving connection: its number, told with every offer.
    connection: u64,
    /// Sending connection: the `mid` of the media section carrying the screen share.
    screen_mid: Option<String>,
    /// Sending connection: tracks by the participant's track id.
    incoming: HashMap<String, Incoming>,
    /// Receiving connection: tracks by key, and keys by our track id.
    outgoing: HashMap<TrackKey, Outgoing>,
    outgoing_ids: HashMap<String, TrackKey>,
    /// Receiving connection: the bandwidth estimate from the participant's congestion
    /// control feedback (bits per second, 0 until the first).
    estimate: Option<Arc<AtomicU64>>,
    /// Receiving connection: the sizes the participant shows streams at.
    views: HashMap<(ParticipantId, bool), (u32, u32)>,
    last_allocation: Instant,
    /// Receiving connection: an offer is out and unanswered.
    awaiting_answer: bool,
    /// Receiving connection: tracks changed while an offer was out.
    renegotiate: bool,
    /// Our last description did not reach the participant (their connection had
    /// dropped): it goes out again when they resume.
    untold: bool,
    connected: bool,
    /// The room retired this connection (dropped its handle: a new connection replaces
    /// it, the participant unpublished or left). The task stops rather than working
    /// through the orders still queued: a receiving connection's renegotiation would reach
    /// the participant after its successor's first offer, under the old number. This
    /// narrows that window, it cannot close it (the task may pass its check just before
    /// the retirement and send just after); the client ignores an offer numbered below
    /// the newest it has seen, which is the guarantee.
    retired: Arc<AtomicBool>,
}

/// Why a connection's task ended.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PeerError {
    #[error("webrtc: {0}")]
    Rtc(#[from] rtc::shared::error::Error),
    #[error("the participant's session has gone")]
    SessionGone,
    #[error("ICE did not connect in time")]
    ConnectTimeout,
    #[error("the connection failed or closed")]
    Closed,
}

/// Builds a connection and starts its task.
pub(crate) fn spawn(
    sfu: &Sfu,
    room: Weak<dyn Routes>,
    participant: ParticipantId,
    direction: Direction,
    connection: u64,
    link: OutboxSender,
) -> Result<PeerHandle, PeerError> {
    let ufrag = random_token(16);
    let (pc, estimate) = build(sfu, &ufrag, direction)?;
    let (control_tx, control_rx) = mpsc::channel(CONTROL_QUEUE);
    let (media_tx, media_rx) = mpsc::channel(MEDIA_QUEUE);
    let retired = Arc::new(AtomicBool::new(false));
    sfu.register(ufrag.clone(), media_tx.clone());
    let peer = Peer {
        pc,
        direction,
        participant,
        room,
        link,
        sfu: sfu.clone(),
        ufrag: ufrag.clone(),
        connection,
        screen_mid: None,
        incoming: HashMap::new(),
        outgoing: HashMap::new(),
        outgoing_ids: HashMap::new(),
        estimate,
        views: HashMap::new(),
        last_allocation: Instant::now(),
        awaiting_answer: false,
        renegotiate: false,
        untold: false,
        connected: false,
        retired: retired.clone(),
    };
    tokio::spawn(async move {
        let mut peer = peer;
        let result = peer.run(control_rx, media_rx).await;
        if let Err(err) = &result {
            debug!(?direction, "media connection ended: {err}");
        }
        let session_gone = matches!(result, Err(PeerError::SessionGone));
        peer.finish(session_gone);
        peer.sfu.unregister(&peer.ufrag);
        // The connection failed on its own (not closed by the room): a publisher is told,
        // so that it publishes again on a new connection. A receiver is offered a new
        // connection by the room. (`finish` has retired the connection by now: this is
        // said all the same, and must not be gated on `retired`.)
        if result.is_err() && !session_gone && direction == Direction::Sending {
            let _ = peer.tell(&ServerMessage::SfuUnpublished);
        }
    });
    Ok(PeerHandle {
        control: control_tx,
        media: media_tx,
        ufrag,
        connection,
        retired,
    })
}

impl Peer {
    async fn run(
        &mut self,
        mut control: mpsc::Receiver<Control>,
        mut media: mpsc::Receiver<MediaIn>,
    ) -> Result<(), PeerError> {
        let deadline = tokio::time::Instant::now() + CONNECT_DEADLINE;
        let mut allocation = tokio::time::interval(ALLOCATION_INTERVAL);
        allocation.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let receiving = self.direction == Direction::Receiving;
        loop {
            if self.is_retired() {
                return Ok(());
            }
            self.flush()?;
            let now = Instant::now();
            let wake = self
                .pc
                .poll_timeout()
                .map(|at| at.saturating_duration_since(now))
                .unwrap_or(Duration::from_secs(1));
            if wake.is_zero() {
                self.pc.handle_timeout(now)?;
                continue;
            }
            tokio::select! {
                order = control.recv() => match order {
                    // An order taken after the retirement is not carried out either.
                    Some(_) if self.is_retired() => return Ok(()),
                    Some(order) => self.on_control(order)?,
                    None => return Ok(()),
                },
                input = media.recv() => match input {
                    Some(MediaIn::Datagram(d)) => self.on_datagram(d)?,
                    Some(MediaIn::Forwarded(key, layer, packet)) => self.forward(key, layer, packet),
                    None => return Ok(()),
                },
                () = tokio::time::sleep(wake) => self.pc.handle_timeout(Instant::now())?,
                _ = allocation.tick(), if self.allocates() => {
                    if receiving {
                        self.allocate(Instant::now());
                    } else {
                        self.pause_layers(Instant::now())?;
                    }
                }
                () = tokio::time::sleep_until(deadline), if !self.connected => {
                    return Err(PeerError::ConnectTimeout);
                }
            }
        }
    }

    /// Whether the room dropped this connection (see `retired`).
    fn is_retired(&self) -> bool {
        self.retired.load(Ordering::Acquire)
    }

    /// Writes out what the connection wants sent and handles what it produced.
    fn flush(&mut self) -> Result<(), PeerError> {
        while let Some(out) = self.pc.poll_write() {
            self.sfu.send(
                &out.message,
                out.transport.peer_addr,
                out.transport.transport_protocol == TransportProtocol::TCP,
            );
        }
        while let Some(event) = self.pc.poll_event() {
            self.on_event(event)?;
        }
        while let Some(TaggedRTCMessage { message, .. }) = self.pc.poll_read() {
            match message {
                RTCMessage::RtpPacket(track_id, packet) => {
                    if let Some(track) = self.incoming.get(&track_id) {
                        let Some(layer) = track.layer_of(packet.header.ssrc) else {
                            continue;
                        };
                        let keyframe = if track.video {
                            layers::keyframe_start(&track.mime_type, &packet.payload)
                        } else {
                            None
                        };
                        track
                            .stats
                            .record(layer, packet.payload.len(), keyframe, Instant::now());
                        track
                            .forwards
                            .send(track.key, layer, keyframe.is_some(), &packet);
                    }
                }
                RTCMessage::RtcpPacket(track_id, packets) => self.on_rtcp(&track_id, &packets),
                _ => {}
            }
        }
        // Writes produced while handling events and reads.
        while let Some(out) = self.pc.poll_write() {
            self.sfu.send(
                &out.message,
                out.transport.peer_addr,
                out.transport.transport_protocol == TransportProtocol::TCP,
            );
        }
        Ok(())
    }

    fn on_event(&mut self, event: RTCPeerConnectionEvent) -> Result<(), PeerError> {
        match event {
            RTCPeerConnectionEvent::OnConnectionStateChangeEvent(state) => match state {
                RTCPeerConnectionState::Connected => {
                    self.connected = true;
                    // What was forwarded before the transport was up is lost: start every
                    // video track from a keyframe.
                    self.request_keyframes(self.outgoing.keys().copied().collect());
                }
                RTCPeerConnectionState::Failed | RTCPeerConnectionState::Closed => {
                    return Err(PeerError::Closed);
                }
                _ => {}
            },
            RTCPeerConnectionEvent::OnTrack(RTCTrackEvent::OnOpen(init)) => {
                let Some(receiver) = self.pc.rtp_receiver(init.receiver_id) else {
                    return Ok(());
                };
                let track = receiver.track();
                let kind = track.kind();
                let Some(codec) = track.codec(init.ssrc).cloned() else {
                    return Ok(());
                };
                // A simulcast layer: one more SSRC of a track already published (or its
                // first). A rid that names no layer is not forwarded.
                let layer = match &init.rid {
                    Some(rid) => match layers::layer_of_rid(rid) {
                        Some(layer) => Some(layer),
                        None => return Ok(()),
                    },
                    None => None,
                };
                if let (Some(layer), Some(known)) = (layer, self.incoming.get_mut(&init.track_id)) {
                    known.ssrcs[usize::from(layer)] = Some(init.ssrc);
                    return Ok(());
                }
                let Some(room) = self.room.upgrade() else {
                    return Err(PeerError::SessionGone);
                };
                let screen = self.screen_mid.is_some()
                    && mid_of(&mut self.pc, init.receiver_id) == self.screen_mid;
                let video = kind == rtc::rtp_transceiver::rtp_sender::RtpCodecKind::Video;
                let mime_type = codec.mime_type.clone();
                let (key, forwards, stats) =
                    room.publish(self.participant, kind, codec, screen, layer.is_some());
                let mut ssrcs = [None; MAX_LAYERS];
                ssrcs[usize::from(layer.unwrap_or(0))] = Some(init.ssrc);
                self.incoming.insert(
                    init.track_id,
                    Incoming {
                        key,
                        receiver: init.receiver_id,
                        ssrcs,
                        video,
                        mime_type,
                        forwards,
                        stats,
                        last_pli: [None; MAX_LAYERS],
                        pausing: layer.map(|_| Pausing::default()),
                    },
                );
            }
            RTCPeerConnectionEvent::OnTrack(RTCTrackEvent::OnClose(track_id)) => {
                if let Some(track) = self.incoming.remove(&track_id)
                    && let Some(room) = self.room.upgrade()
                {
                    room.unpublish(track.key);
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn on_datagram(&mut self, datagram: Datagram) -> Result<(), PeerError> {
        self.pc.handle_read(TaggedBytesMut {
            now: Instant::now(),
            transport: TransportContext {
                local_addr: self.sfu.local_addr(),
                peer_addr: datagram.from,
                ecn: None,
                transport_protocol: if datagram.tcp {
                    TransportProtocol::TCP
                } else {
                    TransportProtocol::UDP
                },
            },
            message: datagram.data,
        })?;
        Ok(())
    }

    fn local_sdp(&self) -> String {
        self.pc
            .local_description()
            .map(|d| d.sdp)
            .unwrap_or_default()
    }

    /// Whether the allocation interval has work: a receiving connection with tracks (their
    /// layers), a sending one with a layered track (which of its layers to send).
    fn allocates(&self) -> bool {
        match self.direction {
            Direction::Receiving => !self.outgoing.is_empty(),
            Direction::Sending => self.incoming.values().any(|t| t.pausing.is_some()),
        }
    }

    /// Sending connection: tells the participant the highest layer of their camera that
    /// anyone receives, when it changed ([`super::pausing`]).
    fn pause_layers(&mut self, now: Instant) -> Result<(), PeerError> {
        let mut told = Vec::new();
        for track in self.incoming.values_mut() {
            let calls = track.forwards.calls();
            if let Some(top) = track.pausing.as_mut().and_then(|p| p.decide(calls, now)) {
                told.push(top);
            }
        }
        for top in told {
            debug!(participant = self.participant.0, top, "sfu layers told");
            self.tell_layers(top)?;
        }
        Ok(())
    }

    /// Tells the participant the highest layer to send. Unlike a description, one lost
    /// with a dropped connection is not remembered as untold: the current one is told
    /// again when they resume (see `Control::Relink`).
    fn tell_layers(&mut self, top: Layer) -> Result<(), PeerError> {
        let msg = ServerMessage::SfuLayers { top };
        match self.link.try_send(Utf8Bytes::from(msg.encode())) {
            Ok(()) | Err(crate::transport::outbox::SendError::Closed) => Ok(()),
            Err(crate::transport::outbox::SendError::Full) => Err(PeerError::SessionGone),
        }
    }

    /// Sends a message to the participant. If their session has gone, the message is
    /// remembered as untold (they may resume within the grace window; the room drops
    /// this connection if they do not); a full queue is the session's to deal with.
    fn tell(&mut self, msg: &ServerMessage) -> Result<(), PeerError> {
        match self.link.try_send(Utf8Bytes::from(msg.encode())) {
            Ok(()) => Ok(()),
            Err(crate::transport::outbox::SendError::Closed) => {
                self.untold = true;
                Ok(())
            }
            Err(crate::transport::outbox::SendError::Full) => Err(PeerError::SessionGone),
        }
    }

    fn refuse(&mut self, err: &rtc::shared::error::Error) -> Result<(), PeerError> {
        self.tell(&ServerMessage::Error {
            code: ErrorCode::InvalidDescription,
            message: format!("the SFU could not apply that description: {err}"),
            circle: None,
            retry_after: None,
        })
    }

    /// Ends what this connection published.
    fn finish(&mut self, session_gone: bool) {
        if let Some(room) = self.room.upgrade() {
            for track in self.incoming.values() {
                room.unpublish(track.key);
            }
            room.peer_ended(self.participant, self.direction, &self.ufrag, session_gone);
        }
        let _ = self.pc.close();
    }
}

/// The `mid` of the media section a receiver belongs to.
fn mid_of(pc: &mut RTCPeerConnection, receiver: RTCRtpReceiverId) -> Option<String> {
    let ids: Vec<_> = pc.get_transceivers().collect();
    ids.into_iter().find_map(|id| {
        let transceiver = pc.rtp_transceiver(id)?;
        (transceiver.receiver() == Some(receiver))
            .then(|| transceiver.mid().clone())
            .flatten()
    })
}
