//! The receiving half of a connection: what the SFU forwards to a participant. Tracks come
//! and go by renegotiation (the server offers, the participant answers), each forwarded
//! packet is rewritten to this connection's SSRC and payload type, and keyframe requests
//! from the participant go to the publisher.

use std::time::Instant;

use hallway_proto::ServerMessage;
use rtc::rtp;

use super::super::feedback;
use super::super::room::TrackKey;
use super::{Direction, KEYFRAME_INTERVAL, Peer, PeerError};

impl Peer {
    /// Sends the participant a new offer, or notes that one is due once the current one
    /// is answered.
    pub(super) fn offer(&mut self) -> Result<(), PeerError> {
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
                room.request_keyframe(key);
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
                .find(|c| c.rtp_codec.mime_type.eq_ignore_ascii_case(&track.mime_type))
                .map(|c| c.payload_type);
        }
        if self.connected {
            self.request_keyframes(fresh);
        }
    }

    /// Writes a forwarded packet under this connection's SSRC and payload type. Header
    /// extensions are dropped: their ids were negotiated with the publisher, not here.
    pub(super) fn forward(&mut self, key: TrackKey, mut packet: rtp::Packet) {
        let Some(track) = self.outgoing.get(&key) else {
            return;
        };
        let Some(payload_type) = track.payload_type else {
            return;
        };
        packet.header.ssrc = track.ssrc;
        packet.header.payload_type = payload_type;
        packet.header.extension = false;
        packet.header.extensions.clear();
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
        if let Some(room) = self.room.upgrade() {
            room.request_keyframe(key);
        }
    }
}
