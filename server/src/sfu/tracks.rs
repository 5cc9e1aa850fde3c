//! A room's published tracks as its connections share them: a track's key and what a
//! receiving connection needs to know of it, and who its packets are copied to.

use std::sync::{Arc, RwLock};

use rtc::rtp;
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodec, RtpCodecKind};
use tokio::sync::mpsc;

use super::Datagram;
use super::layers::{Choice, Layer, LayerStats};
use crate::room::model::ParticipantId;

/// What arrives on a connection's media queue.
#[derive(Debug)]
pub(crate) enum MediaIn {
    /// A datagram from the participant.
    Datagram(Datagram),
    /// A packet of a track this connection forwards, and the layer it is of.
    Forwarded(TrackKey, Layer, rtp::Packet),
}

/// Names one published track within a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct TrackKey(pub u64);

/// What a subscriber's connection needs to know of a track.
#[derive(Debug)]
pub(crate) struct TrackInfo {
    pub key: TrackKey,
    pub publisher: ParticipantId,
    pub kind: RtpCodecKind,
    pub codec: RTCRtpCodec,
    /// The publisher's screen share (forwarded in a stream of its own).
    pub screen: bool,
    /// Sent in simulcast layers (`rid`s), of which each receiver gets one.
    pub layered: bool,
    /// What the publisher sends of each layer (a track without layers: layer 0).
    pub stats: Arc<LayerStats>,
}

/// One subscriber of a track: where its packets go, and which layer.
#[derive(Debug)]
struct Subscriber {
    id: ParticipantId,
    queue: mpsc::Sender<MediaIn>,
    choice: Arc<Choice>,
}

/// The subscribers one track's packets are copied to.
#[derive(Debug, Default)]
pub(crate) struct Forwards {
    subscribers: RwLock<Vec<Subscriber>>,
}

impl Forwards {
    /// Queues a copy of `packet` (of simulcast layer `layer`; 0 for a track without
    /// layers) for every subscriber that receives that layer; a full queue loses this
    /// packet for that subscriber alone.
    pub(crate) fn send(&self, key: TrackKey, layer: Layer, keyframe: bool, packet: &rtp::Packet) {
        let Ok(subscribers) = self.subscribers.read() else {
            return;
        };
        let mut copies = 0u64;
        for subscriber in subscribers.iter() {
            if !subscriber.choice.admit(layer, keyframe) {
                continue;
            }
            copies += 1;
            // Cloning a packet shares its payload bytes.
            let _ = subscriber
                .queue
                .try_send(MediaIn::Forwarded(key, layer, packet.clone()));
        }
        if copies > 0 {
            crate::metrics::sfu_forwarded((packet.payload.len() + 12) as u64 * copies);
        }
    }

    pub(super) fn set(&self, id: ParticipantId, to: Option<(mpsc::Sender<MediaIn>, Arc<Choice>)>) {
        if let Ok(mut subscribers) = self.subscribers.write() {
            subscribers.retain(|s| s.id != id);
            if let Some((queue, choice)) = to {
                subscribers.push(Subscriber { id, queue, choice });
            }
        }
    }
}
