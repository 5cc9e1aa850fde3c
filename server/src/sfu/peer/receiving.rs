//! The receiving half of a connection: what the SFU forwards to a participant. Tracks come
//! and go by renegotiation (the server offers, the participant answers), each forwarded
//! packet is rewritten to this connection's SSRC, payload type and continuous numbering,
//! keyframe requests from the participant go to the publisher, and the simulcast layer of
//! each track is chosen again every half second.

use std::sync::atomic::Ordering;
use std::time::Instant;

use hallway_proto::ServerMessage;
use rtc::rtp;

use super::super::allocation::{self, Demand};
use super::super::feedback;
use super::super::layers::{Layer, NO_LAYER};
use super::super::tracks::TrackKey;
use super::{ALLOCATION_INTERVAL, Direction, KEYFRAME_INTERVAL, Peer, PeerError, SWITCH_RETRY};

impl Peer {
    /// Sends the participant a new offer, or notes that one is due once the current one
    /// is answered.
    pub(super) fn offer(&mut self) -> Result<(), PeerError> {
        // A retired connection offers nothing: its number is no longer the participant's.
        if self.is_retired() {
            return Ok(());
        }
        if self.awaiting_answer {
            self.renegotiate = true;
            return Ok(());
        }
        let offer = self.pc.create_offer(None)?;
        self.pc.set_local_description(Instant::now(), offer)?;
        self.awaiting_answer = true;
        let sdp = self.local_sdp();
        self.tell(&ServerMessage::SfuOffer {
            sdp,
            connection: self.connection,
        })
    }

    /// Asks the publishers of these tracks for keyframes.
    pub(super) fn request_keyframes(&self, keys: Vec<TrackKey>) {
        if keys.is_empty() {
            return;
        }
        if let Some(room) = self.room.upgrade() {
            for key in keys {
                room.request_keyframe(key, None);
            }
        }
    }

    /// After an answer: which payload type each outgoing track's codec got. Tracks that
    /// just got one start from a keyframe (packets before it were not sent).
    pub(super) fn learn_payload_types(&mut self) {
        let mut fresh = Vec::new();
        for (key, track) in self.outgoing.iter_mut() {
            if track.payload_type.is_none() {
                fresh.push(*key);
            }
            let Some(mut sender) = self.pc.rtp_sender(track.sender) else {
                continue;
            };
            track.payload_type = sender
                .get_parameters()
                .rtp_parameters
                .codecs
                .iter()
                .find(|c| {
                    c.rtp_codec
                        .mime_type
                        .eq_ignore_ascii_case(&track.info.codec.mime_type)
                })
                .map(|c| c.payload_type);
        }
        if self.connected {
            self.request_keyframes(fresh);
        }
    }

    /// Writes a forwarded packet (of simulcast layer `layer`) under this connection's SSRC,
    /// payload type and numbering. Header extensions are dropped: their ids were
    /// negotiated with the publisher, not here.
    pub(super) fn forward(&mut self, key: TrackKey, layer: Layer, mut packet: rtp::Packet) {
        let Some(track) = self.outgoing.get_mut(&key) else {
            return;
        };
        let Some(payload_type) = track.payload_type else {
            return;
        };
        if !track
            .rewriter
            .rewrite(layer, &mut packet.header, Instant::now())
        {
            return;
        }
        packet.header.ssrc = track.ssrc;
        packet.header.payload_type = payload_type;
        // (The congestion control interceptor then adds this hop's transport-wide sequence
        // number, so the padding of the publisher's extensions must go too.)
        packet.header.extension = false;
        packet.header.extensions.clear();
        packet.header.extensions_padding = 0;
        let sender = track.sender;
        if let Some(mut sender) = self.pc.rtp_sender(sender) {
            // A write before the transport is up fails; the packet is simply not sent.
            let _ = sender.write_rtp(Instant::now(), packet);
        }
    }

    /// RTCP from the participant about a track we send them: keyframe requests go to the
    /// publisher (NACKs are answered by this hop's interceptors).
    pub(super) fn on_rtcp(&mut self, track_id: &str, packets: &[Box<dyn rtc::rtcp::Packet>]) {
        if self.direction != Direction::Receiving {
            return;
        }
        if !feedback::asks_for_keyframe(packets) {
            return;
        }
        let Some(&key) = self.outgoing_ids.get(track_id) else {
            return;
        };
        let now = Instant::now();
        if let Some(track) = self.outgoing.get_mut(&key) {
            if track
                .last_keyframe_request
                .is_some_and(|at| now.duration_since(at) < KEYFRAME_INTERVAL)
            {
                return;
            }
            track.last_keyframe_request = Some(now);
        }
        let layer = self
            .outgoing
            .get(&key)
            .map(|t| t.choice.current())
            .filter(|&l| l != NO_LAYER);
        if let Some(room) = self.room.upgrade() {
            room.request_keyframe(key, layer);
        }
    }

    /// Chooses the layer of every layered track again: from the bit rate each layer is
    /// sent at (measured since the last time), the sizes the participant shows them at
    /// and the bandwidth estimate. A lower layer is taken at once, a higher one once it
    /// has been the choice for a while ([`UpSwitches`](super::super::upswitch::UpSwitches): longer after a lowering for lack of
    /// bandwidth); the publisher is asked for a keyframe of the
    /// layer switched to (the switch happens there).
    pub(super) fn allocate(&mut self, now: Instant) {
        if now.saturating_duration_since(self.last_allocation) < ALLOCATION_INTERVAL / 4 {
            return;
        }
        self.last_allocation = now;
        let mut keys = Vec::with_capacity(self.outgoing.len());
        let mut demands = Vec::with_capacity(self.outgoing.len());
        for (key, track) in self.outgoing.iter_mut() {
            let snapshot = track.info.stats.snapshot(now);
            // Each track's rates are measured from when it was last looked at (or added).
            let rates = track.rates.measure(&snapshot, now);
            keys.push(*key);
            demands.push(Demand {
                layered: track.info.layered,
                rates,
                snapshot,
                view: track.view,
            });
        }
        let estimate = self
            .estimate
            .as_ref()
            .map(|e| e.load(Ordering::Relaxed))
            .filter(|&e| e > 0)
            .map(|e| e as f64);
        let chosen = allocation::allocate(estimate, &demands);
        // What this receiver calls for of each track, told to the publisher's task (which
        // pauses the layers nobody calls for): what its view and estimate want, a higher
        // layer than it gets only once it may rise to it, never less than it keeps now.
        let wants = allocation::wants(estimate, &demands);
        for ((key, want), &keeps) in keys.iter().zip(wants).zip(&chosen) {
            if let Some(track) = self.outgoing.get_mut(key) {
                let target = track.choice.target();
                let call = track.ups.call(now, want, target, keeps.min(target));
                track.choice.set_called_for(call);
            }
        }
        // What the views alone would choose: a layer below it is held down by the estimate.
        let viewed = allocation::allocate(None, &demands);
        tracing::debug!(
            participant = self.participant.0,
            estimate = estimate.unwrap_or(0.0) as u64,
            rates = ?demands.iter().map(|d| d.rates.map(|r| r as u64)).collect::<Vec<_>>(),
            ?chosen,
            ?viewed,
            "sfu allocation"
        );
        let mut asks = Vec::new();
        for ((key, layer), viewed) in keys.into_iter().zip(chosen).zip(viewed) {
            let Some(track) = self.outgoing.get_mut(&key) else {
                continue;
            };
            if !track.info.layered || layer == NO_LAYER {
                continue;
            }
            let target = track.choice.target();
            let current = track.choice.current();
            let switch = track
                .ups
                .decide(now, layer, target, current != NO_LAYER, layer < viewed);
            if current != target || switch {
                tracing::debug!(current, target, layer, switch, "sfu layer switch");
            }
            if switch {
                track.choice.set_target(layer);
                track.switch_asked = Some(now);
                asks.push((key, layer));
            } else if current != target
                && track
                    .switch_asked
                    .is_none_or(|at| now.saturating_duration_since(at) >= SWITCH_RETRY)
            {
                // Still waiting for the layer's first keyframe: ask again.
                track.switch_asked = Some(now);
                asks.push((key, target));
            }
        }
        if asks.is_empty() {
            return;
        }
        if let Some(room) = self.room.upgrade() {
            for (key, layer) in asks {
                room.request_keyframe(key, Some(layer));
            }
        }
    }
}
