//! What a connection's task does with the orders its queue brings (see [`Control`]): the
//! participant's offer or answer, tracks to start or stop forwarding, the sizes at which
//! the participant shows others, keyframe requests, and a new WebSocket to tell them on.

use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::sdp::RTCSessionDescription;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodingParameters, RTCRtpEncodingParameters};

use super::connection::without_mdns_candidates;
use super::*;

impl Peer {
    pub(super) fn on_control(&mut self, order: Control) -> Result<(), PeerError> {
        match order {
            Control::Offer(sdp, screen) => {
                self.screen_mid = screen;
                let applied = RTCSessionDescription::offer(without_mdns_candidates(&sdp))
                    .and_then(|offer| self.pc.set_remote_description(Instant::now(), offer))
                    .and_then(|()| self.pc.create_answer(None))
                    .and_then(|answer| self.pc.set_local_description(Instant::now(), answer));
                match applied {
                    Ok(()) => {
                        let sdp = self.local_sdp();
                        self.tell(&ServerMessage::SfuAnswer { sdp })?;
                    }
                    Err(err) => self.refuse(&err)?,
                }
            }
            Control::Answer(sdp) => {
                if !self.awaiting_answer {
                    return self.tell(&ServerMessage::Error {
                        code: ErrorCode::InvalidDescription,
                        message: "no offer of the server's is waiting for an answer".into(),
                        circle: None,
                        retry_after: None,
                    });
                }
                let applied = RTCSessionDescription::answer(without_mdns_candidates(&sdp))
                    .and_then(|answer| self.pc.set_remote_description(Instant::now(), answer));
                match applied {
                    Ok(()) => {
                        self.awaiting_answer = false;
                        self.learn_payload_types();
                        if std::mem::take(&mut self.renegotiate) {
                            self.offer()?;
                        }
                    }
                    Err(err) => self.refuse(&err)?,
                }
            }
            Control::AddTrack(info, choice) => {
                let ssrc = rand::random::<u32>();
                let stream = if info.screen { 's' } else { 'p' };
                let track = MediaStreamTrack::new(
                    format!("{stream}{}", info.publisher),
                    format!("t{}", info.key.0),
                    format!("t{}", info.key.0),
                    info.kind,
                    vec![RTCRtpEncodingParameters {
                        rtp_coding_parameters: RTCRtpCodingParameters {
                            ssrc: Some(ssrc),
                            ..Default::default()
                        },
                        codec: info.codec.clone(),
                        ..Default::default()
                    }],
                );
                let sender = self.pc.add_track(track)?;
                self.outgoing_ids
                    .insert(format!("t{}", info.key.0), info.key);
                let view = self.views.get(&(info.publisher, info.screen)).copied();
                // What the publisher sent before this track was added is not this
                // receiver's rate.
                let now = Instant::now();
                let bytes = info.stats.snapshot(now).map(|l| l.bytes);
                self.outgoing.insert(
                    info.key,
                    Outgoing {
                        sender,
                        ssrc,
                        rewriter: Rewriter::new(info.codec.clock_rate),
                        info,
                        payload_type: None,
                        last_keyframe_request: None,
                        choice,
                        view,
                        rates: LayerRates::new(bytes, now),
                        ups: UpSwitches::default(),
                        switch_asked: None,
                    },
                );
                self.offer()?;
            }
            Control::RemoveTrack(key) => {
                if let Some(track) = self.outgoing.remove(&key) {
                    self.outgoing_ids.retain(|_, k| *k != key);
                    self.pc.remove_track(track.sender)?;
                    self.offer()?;
                }
            }
            Control::Relink(link) => {
                self.link = link;
                // An offer still unanswered may have been lost with the old connection
                // (or its answer was): offered again, it is answered again.
                let untold = std::mem::take(&mut self.untold);
                if untold || self.awaiting_answer {
                    let sdp = self.local_sdp();
                    let msg = match self.direction {
                        Direction::Sending => ServerMessage::SfuAnswer { sdp },
                        Direction::Receiving => ServerMessage::SfuOffer {
                            sdp,
                            connection: self.connection,
                        },
                    };
                    self.tell(&msg)?;
                }
                // A layer told while they were away may not have arrived: the pauses in
                // force are told again (a page that never heard of one sends every layer).
                let paused: Vec<Layer> = self
                    .incoming
                    .values()
                    .filter_map(|t| t.pausing.as_ref()?.paused_above())
                    .collect();
                for top in paused {
                    self.tell_layers(top)?;
                }
            }
            Control::View(views) => {
                self.views = views
                    .into_iter()
                    .map(|(publisher, screen, w, h)| ((publisher, screen), (w, h)))
                    .collect();
                for track in self.outgoing.values_mut() {
                    track.view = self
                        .views
                        .get(&(track.info.publisher, track.info.screen))
                        .copied();
                }
                self.allocate(Instant::now());
            }
            Control::Keyframe(key, layer) => {
                let now = Instant::now();
                let Some(track) = self.incoming.values_mut().find(|t| t.key == key) else {
                    return Ok(());
                };
                let mut packets: Vec<Box<dyn rtc::rtcp::Packet>> = Vec::new();
                for (i, ssrc) in track.ssrcs.iter().enumerate() {
                    let Some(ssrc) = *ssrc else { continue };
                    if layer.is_some_and(|l| usize::from(l) != i)
                        || track.last_pli[i].is_some_and(|at| now.duration_since(at) < PLI_INTERVAL)
                    {
                        continue;
                    }
                    track.last_pli[i] = Some(now);
                    packets.push(Box::new(PictureLossIndication {
                        sender_ssrc: 0,
                        media_ssrc: ssrc,
                    }));
                }
                tracing::debug!(
                    ?layer,
                    requests = packets.len(),
                    "sfu keyframe asked of the publisher"
                );
                let receiver = track.receiver;
                if !packets.is_empty()
                    && let Some(mut receiver) = self.pc.rtp_receiver(receiver)
                {
                    receiver.write_rtcp(now, packets)?;
                }
            }
        }
        Ok(())
    }
}
