//! A room's published tracks as its connections share them: a track's key and what a
//! receiving connection needs to know of it, and who its packets are copied to.

use std::sync::{Arc, RwLock};

use rtc::rtp;
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodec, RtpCodecKind};
use tokio::sync::mpsc;

use super::Datagram;
use super::layers::{Choice, Layer, LayerStats, NO_LAYER};
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

/// What the subscribers of a layered track call for ([`Forwards::calls`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Calls {
    /// The highest layer called for.
    pub top: Layer,
    /// Every subscriber has said (one not allocated yet has not).
    pub settled: bool,
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

    /// What the subscribers call for: the highest layer any of them does (the
    /// lowest, 0, with nobody subscribed), and whether every one of them has said yet.
    pub(crate) fn calls(&self) -> Calls {
        let mut calls = Calls {
            top: 0,
            settled: true,
        };
        let Ok(subscribers) = self.subscribers.read() else {
            calls.settled = false;
            return calls;
        };
        for subscriber in subscribers.iter() {
            match subscriber.choice.called_for() {
                NO_LAYER => calls.settled = false,
                layer => calls.top = calls.top.max(layer),
            }
        }
        calls
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_top_layer_called_for_is_the_highest_any_subscriber_calls_for() {
        let forwards = Forwards::default();
        let calls = |top, settled| Calls { top, settled };
        // Nobody subscribed: the lowest layer.
        assert_eq!(forwards.calls(), calls(0, true));
        let (queue, _rx) = mpsc::channel(1);
        let [ann, ben] = [Arc::new(Choice::layered(1)), Arc::new(Choice::layered(1))];
        forwards.set(ParticipantId(1), Some((queue.clone(), ann.clone())));
        forwards.set(ParticipantId(2), Some((queue, ben.clone())));
        // A subscriber not allocated yet has not said.
        ann.set_called_for(0);
        assert_eq!(forwards.calls(), calls(0, false));
        ben.set_called_for(2);
        assert_eq!(forwards.calls(), calls(2, true));
        ben.set_called_for(1);
        assert_eq!(forwards.calls(), calls(1, true));
        // Ben leaves: Ann's call alone counts.
        forwards.set(ParticipantId(2), None);
        assert_eq!(forwards.calls(), calls(0, true));
    }
}
