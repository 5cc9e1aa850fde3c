//! One room's media routes: who publishes which tracks, who receives them, and the
//! connections that carry them.
//!
//! The room's actor says who broadcasts and which circles go through the SFU; sessions hand
//! over their participants' descriptions; connections report the tracks they receive.
//! After every change the routes are reconciled: each member should receive exactly the
//! tracks of everyone who broadcasts and of the other members of their circle if it goes
//! through the SFU, never their own. The per-packet path takes no lock of this struct: a
//! published track's [`Forwards`] is the list its connection sends each packet to.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, Weak};

use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodec, RtpCodecKind};
use tracing::warn;

use super::Sfu;
use super::layers::{Choice, Layer, LayerStats};
use super::peer::{self, Control, Direction, PeerHandle, Routes};
use super::tracks::{Forwards, TrackInfo, TrackKey};
use crate::room::media::MediaRoutes;
use crate::room::model::{CircleId, ParticipantId};
use crate::transport::outbox::OutboxSender;

/// How long a circle that went back to a mesh keeps its routes through the SFU at most,
/// while its members' direct connections come up. The clients unpublish as soon as
/// those connections are up, and give up after the same time (`HANDOVER_LIMIT_MS` in
/// the client's peers.js): on a busy machine a connection has taken far longer than the
/// usual fraction of a second, and until it is up the SFU is the only way its two
/// members hear each other. This bound is for a page that never says.
pub(crate) const LINGER: std::time::Duration = std::time::Duration::from_secs(60);

/// How often a member whose session's queue was full is looked at again.
const STALLED_RETRY: std::time::Duration = std::time::Duration::from_millis(500);

/// Free slots a stalled member's session queue needs before a new receiving connection
/// is offered to them: beyond the room's reserve for one-off messages, room for an offer
/// and a few renegotiations.
const STALLED_ROOM: usize = crate::transport::outbox::EVENT_RESERVE + 16;

/// Why the SFU did not take a participant's description.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    /// The participant is not (or no longer) in the room.
    #[error("you are not in this room")]
    NotJoined,
    /// No connection of the server's waits for an answer.
    #[error("no offer of the server's is waiting for an answer")]
    NothingToAnswer,
    /// The connection could not be created or its queue is full.
    #[error("the SFU cannot take this media connection now: {0}")]
    Unavailable(String),
}

/// One participant as the routes know them.
#[derive(Debug)]
struct Member {
    link: OutboxSender,
    sending: Option<PeerHandle>,
    receiving: Option<PeerHandle>,
    /// Tracks this member's receiving connection has been told to forward.
    receives: BTreeSet<TrackKey>,
    /// Their session's queue was full when their receiving connection spoke: no new one
    /// is opened (it would fail the same way, at once) until they resume or their queue
    /// has room again (looked at every [`STALLED_RETRY`]).
    stalled: bool,
}

#[derive(Debug)]
struct Published {
    info: Arc<TrackInfo>,
    forwards: Arc<Forwards>,
}

#[derive(Debug, Default)]
struct State {
    members: HashMap<ParticipantId, Member>,
    broadcasters: Vec<ParticipantId>,
    /// Circles whose media goes through the SFU, with their members.
    circles: HashMap<CircleId, Vec<ParticipantId>>,
    /// Circles that just went back to a mesh, with the members who were there before and
    /// still are, and the number of their lingering: make before break, their members go
    /// on receiving each other's published tracks until they unpublish (once their direct
    /// connections carry media) or [`LINGER`] has passed.
    lingering: HashMap<CircleId, (Vec<ParticipantId>, u64)>,
    next_linger: u64,
    tracks: BTreeMap<TrackKey, Published>,
    next_key: u64,
    /// The number of the last receiving connection opened (`connection` of `sfu_offer`).
    last_connection: u64,
    /// Members whose receiving connection forwards anything: with no tracks and nobody
    /// receiving, reconciling has nothing to do (the usual case: no broadcast, no large
    /// circle), and joins, leaves and circle changes cost no walk over the room.
    receiving: usize,
}

/// A room's media routes.
#[derive(Debug)]
pub struct RoomMedia {
    sfu: Sfu,
    this: Weak<RoomMedia>,
    state: Mutex<State>,
}

impl RoomMedia {
    /// Routes for a new room on `sfu`.
    pub fn new(sfu: Sfu) -> Arc<RoomMedia> {
        Arc::new_cyclic(|this| RoomMedia {
            sfu,
            this: this.clone(),
            state: Mutex::new(State::default()),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves routes that are still consistent enough
        // to tear down; keep serving rather than poison every later call.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The STUN and TURN servers for a participant's connections, with their credentials.
    pub fn ice_servers(&self, id: ParticipantId) -> Vec<hallway_proto::IceServer> {
        self.sfu.ice().for_participant(id, crate::clock::now_secs())
    }

    /// Whether the participant is a member (joined and not left).
    pub fn has(&self, id: ParticipantId) -> bool {
        self.state().members.contains_key(&id)
    }

    /// A participant joined the room, or resumed on a new WebSocket (called by the room's
    /// task). A participant who resumed keeps their connections and tracks: media went on
    /// flowing while their signalling was away; only where to tell them changes.
    pub fn join(&self, id: ParticipantId, link: OutboxSender) {
        let mut state = self.state();
        if let Some(member) = state.members.get_mut(&id) {
            member.link = link.clone();
            for handle in [&member.sending, &member.receiving].into_iter().flatten() {
                let _ = handle.control.try_send(Control::Relink(link.clone()));
            }
            if std::mem::take(&mut member.stalled) {
                self.reconcile(&mut state);
            }
            return;
        }
        state.members.insert(
            id,
            Member {
                link,
                sending: None,
                receiving: None,
                receives: BTreeSet::new(),
                stalled: false,
            },
        );
        self.reconcile(&mut state);
    }

    /// A participant left: their connections close and their tracks end for everyone.
    pub fn leave(&self, id: ParticipantId) {
        let mut state = self.state();
        state.members.remove(&id);
        let theirs: Vec<TrackKey> = state
            .tracks
            .iter()
            .filter(|(_, t)| t.info.publisher == id)
            .map(|(k, _)| *k)
            .collect();
        for key in theirs {
            if state.tracks.remove(&key).is_some() {
                metrics::gauge!(crate::metrics::SFU_TRACKS).decrement(1.0);
            }
        }
        for track in state.tracks.values() {
            track.forwards.set(id, None);
        }
        self.reconcile(&mut state);
    }

    /// Who broadcasts to the whole room now (called by the room's task).
    pub fn set_broadcasters(&self, broadcasters: &[ParticipantId]) {
        let mut state = self.state();
        if state.broadcasters == broadcasters {
            return;
        }
        state.broadcasters = broadcasters.to_vec();
        self.reconcile(&mut state);
    }

    /// A circle's members and whether its media goes through the SFU (called by the room's
    /// task on every change of a circle; a dissolved circle has no members).
    pub fn set_circle(&self, id: CircleId, members: &[ParticipantId], routed: bool) {
        let mut state = self.state();
        let mut changed = false;
        if routed && !members.is_empty() {
            changed |= state.lingering.remove(&id).is_some();
            changed |= state.circles.insert(id, members.to_vec()).as_deref() != Some(members);
        } else if let Some(was) = state.circles.remove(&id) {
            changed = true;
            // Back to a mesh: the routes linger among those who stay (see `lingering`).
            let stay: Vec<ParticipantId> =
                was.into_iter().filter(|m| members.contains(m)).collect();
            if stay.len() >= 2 {
                state.next_linger += 1;
                let number = state.next_linger;
                state.lingering.insert(id, (stay, number));
                self.end_lingering_later(id, number);
            }
        } else if let Some((was, _)) = state.lingering.get_mut(&id) {
            // Someone left a lingering circle: they stop receiving its members at once.
            let before = was.len();
            was.retain(|m| members.contains(m));
            if was.len() < 2 {
                state.lingering.remove(&id);
            }
            changed = state
                .lingering
                .get(&id)
                .is_none_or(|(w, _)| w.len() != before);
        }
        if changed {
            self.reconcile(&mut state);
        }
    }

    /// Ends lingering number `number` of circle `id` after [`LINGER`], unless it ended or
    /// lingers anew by then.
    fn end_lingering_later(&self, id: CircleId, number: u64) {
        let this = self.this.clone();
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(async move {
            tokio::time::sleep(LINGER).await;
            let Some(media) = this.upgrade() else {
                return;
            };
            let mut state = media.state();
            if state.lingering.get(&id).is_some_and(|(_, n)| *n == number) {
                state.lingering.remove(&id);
                media.reconcile(&mut state);
            }
        });
    }

    /// A participant's offer for their sending connection, with the `mid` of the media
    /// section that carries their screen share.
    pub fn offer(
        &self,
        id: ParticipantId,
        sdp: String,
        screen: Option<String>,
    ) -> Result<(), MediaError> {
        let mut state = self.state();
        let member = state.members.get_mut(&id).ok_or(MediaError::NotJoined)?;
        if member.sending.is_none() {
            let handle = peer::spawn(
                &self.sfu,
                self.this.clone(),
                id,
                Direction::Sending,
                0,
                member.link.clone(),
            )
            .map_err(|e| MediaError::Unavailable(e.to_string()))?;
            member.sending = Some(handle);
        }
        let Some(sending) = &member.sending else {
            return Err(MediaError::Unavailable("no connection".into()));
        };
        sending
            .control
            .try_send(Control::Offer(sdp, screen))
            .map_err(|e| MediaError::Unavailable(e.to_string()))
    }

    /// A participant's answer for their receiving connection (`connection`: the one it
    /// answers; an answer for a connection since replaced is ignored).
    pub fn answer(
        &self,
        id: ParticipantId,
        sdp: String,
        connection: Option<u64>,
    ) -> Result<(), MediaError> {
        let state = self.state();
        let member = state.members.get(&id).ok_or(MediaError::NotJoined)?;
        let receiving = member
            .receiving
            .as_ref()
            .ok_or(MediaError::NothingToAnswer)?;
        if connection.is_some_and(|n| n != receiving.connection) {
            return Ok(());
        }
        receiving
            .control
            .try_send(Control::Answer(sdp))
            .map_err(|e| MediaError::Unavailable(e.to_string()))
    }

    /// A participant's receiving connection failed, or they could not apply its offer:
    /// it closes, and a new one (with a new number) is offered if they are to receive
    /// anything.
    pub fn restart(&self, id: ParticipantId) {
        let mut state = self.state();
        let Some(member) = state.members.get_mut(&id) else {
            return;
        };
        member.stalled = false;
        if member.receiving.take().is_some() {
            member.receives.clear();
            for track in state.tracks.values() {
                track.forwards.set(id, None);
            }
        }
        self.reconcile(&mut state);
    }

    /// A participant closes their sending connection: their tracks end for everyone.
    pub fn unpublish_all(&self, id: ParticipantId) {
        let mut state = self.state();
        if let Some(member) = state.members.get_mut(&id) {
            member.sending = None;
        }
        let before = state.tracks.len();
        state.tracks.retain(|_, t| t.info.publisher != id);
        let ended = before - state.tracks.len();
        metrics::gauge!(crate::metrics::SFU_TRACKS).decrement(ended as f64);
        self.reconcile(&mut state);
    }

    /// A participant's receiving connection shows these streams (`p`/`s` and the
    /// publisher's id, see `sfu_view`) at these sizes (device pixels): the layers they
    /// get follow.
    pub fn view(&self, id: ParticipantId, views: &[(String, u32, u32)]) {
        let parsed: Vec<(ParticipantId, bool, u32, u32)> = views
            .iter()
            .filter_map(|(stream, w, h)| {
                let screen = match stream.as_bytes().first()? {
                    b'p' => false,
                    b's' => true,
                    _ => return None,
                };
                let publisher = stream.get(1..)?.parse().ok()?;
                Some((publisher, screen, *w, *h))
            })
            .collect();
        let state = self.state();
        if let Some(receiving) = state.members.get(&id).and_then(|m| m.receiving.as_ref()) {
            let _ = receiving.control.try_send(Control::View(parsed));
        }
    }

    /// A sending connection receives a new track (`layered`: in simulcast layers).
    pub(crate) fn publish(
        &self,
        publisher: ParticipantId,
        kind: RtpCodecKind,
        codec: RTCRtpCodec,
        screen: bool,
        layered: bool,
    ) -> (TrackKey, Arc<Forwards>, Arc<LayerStats>) {
        let mut state = self.state();
        state.next_key += 1;
        let key = TrackKey(state.next_key);
        let forwards = Arc::new(Forwards::default());
        let stats = Arc::new(LayerStats::default());
        let info = Arc::new(TrackInfo {
            key,
            publisher,
            kind,
            codec,
            screen,
            layered,
            stats: stats.clone(),
        });
        state.tracks.insert(
            key,
            Published {
                info,
                forwards: forwards.clone(),
            },
        );
        metrics::gauge!(crate::metrics::SFU_TRACKS).increment(1.0);
        self.reconcile(&mut state);
        (key, forwards, stats)
    }

    /// A sending connection's track ended.
    pub(crate) fn unpublish(&self, key: TrackKey) {
        let mut state = self.state();
        if state.tracks.remove(&key).is_some() {
            self.reconcile(&mut state);
        }
    }

    /// A subscriber asked for a keyframe of `key` (of one simulcast layer, or of all):
    /// ask its publisher.
    pub(crate) fn request_keyframe(&self, key: TrackKey, layer: Option<Layer>) {
        let state = self.state();
        Self::keyframe(&state, key, layer);
    }

    fn keyframe(state: &State, key: TrackKey, layer: Option<Layer>) {
        let publisher = state.tracks.get(&key).map(|t| t.info.publisher);
        if let Some(sending) = publisher
            .and_then(|p| state.members.get(&p))
            .and_then(|m| m.sending.as_ref())
        {
            let _ = sending.control.try_send(Control::Keyframe(key, layer));
        }
    }

    /// A connection's task ended; forget it unless a newer one replaced it. A receiving
    /// connection that failed is replaced by a new one (a new `connection` number) if
    /// there is anything to receive, unless it ended because the participant's session
    /// could not take its messages (`session_gone`).
    pub(crate) fn peer_ended(
        &self,
        id: ParticipantId,
        direction: Direction,
        ufrag: &str,
        session_gone: bool,
    ) {
        let mut state = self.state();
        let Some(member) = state.members.get_mut(&id) else {
            return;
        };
        let slot = match direction {
            Direction::Sending => &mut member.sending,
            Direction::Receiving => &mut member.receiving,
        };
        if slot.as_ref().is_some_and(|h| h.ufrag == ufrag) {
            *slot = None;
            if direction == Direction::Receiving {
                member.stalled = session_gone;
                member.receives.clear();
                for track in state.tracks.values() {
                    track.forwards.set(id, None);
                }
                if session_gone {
                    self.unstall_later(id);
                }
            }
            self.reconcile(&mut state);
        }
    }

    /// Offers a stalled member a new receiving connection once their session's queue has
    /// room again. A session that stays stuck is closed as a slow consumer, and one that
    /// ended waits for its resume (see [`RoomMedia::join`]): either way the retries stop.
    fn unstall_later(&self, id: ParticipantId) {
        let this = self.this.clone();
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(async move {
            loop {
                tokio::time::sleep(STALLED_RETRY).await;
                let Some(media) = this.upgrade() else {
                    return;
                };
                let mut state = media.state();
                let Some(member) = state.members.get_mut(&id) else {
                    return;
                };
                if !member.stalled || member.link.is_closed() {
                    return;
                }
                if member.link.capacity() >= STALLED_ROOM {
                    member.stalled = false;
                    media.reconcile(&mut state);
                    return;
                }
            }
        });
    }

    /// Brings every member's receiving connection in line with the routes.
    fn reconcile(&self, state: &mut State) {
        if state.tracks.is_empty() && state.receiving == 0 {
            return;
        }
        let State {
            members,
            broadcasters,
            circles,
            lingering,
            tracks,
            receiving,
            last_connection,
            ..
        } = state;
        let circle_of: HashMap<ParticipantId, CircleId> = circles
            .iter()
            .chain(lingering.iter().map(|(cid, (ms, _))| (cid, ms)))
            .flat_map(|(cid, ms)| ms.iter().map(move |m| (*m, *cid)))
            .collect();
        let mut keyframes = Vec::new();
        for (&id, member) in members.iter_mut() {
            let mine = circle_of.get(&id);
            let wanted: BTreeSet<TrackKey> = tracks
                .iter()
                .filter(|(_, t)| {
                    let from = t.info.publisher;
                    from != id
                        && (broadcasters.contains(&from)
                            || (mine.is_some() && circle_of.get(&from) == mine))
                })
                .map(|(k, _)| *k)
                .collect();
            if wanted == member.receives || member.stalled {
                continue;
            }
            if member.receiving.is_none() {
                *last_connection += 1;
                match peer::spawn(
                    &self.sfu,
                    self.this.clone(),
                    id,
                    Direction::Receiving,
                    *last_connection,
                    member.link.clone(),
                ) {
                    Ok(handle) => member.receiving = Some(handle),
                    Err(err) => {
                        warn!("could not open a receiving media connection: {err}");
                        continue;
                    }
                }
            }
            let Some(receiving) = &member.receiving else {
                continue;
            };
            for key in member.receives.difference(&wanted) {
                if let Some(track) = tracks.get(key) {
                    track.forwards.set(id, None);
                }
                let _ = receiving.control.try_send(Control::RemoveTrack(*key));
            }
            for key in wanted.difference(&member.receives) {
                if let Some(track) = tracks.get(key) {
                    let choice = Arc::new(if track.info.layered {
                        Choice::layered(super::allocation::first_layer(
                            &track.info.stats.snapshot(std::time::Instant::now()),
                        ))
                    } else {
                        Choice::single()
                    });
                    let _ = receiving
                        .control
                        .try_send(Control::AddTrack(track.info.clone(), choice.clone()));
                    track
                        .forwards
                        .set(id, Some((receiving.media.clone(), choice)));
                    keyframes.push(*key);
                }
            }
            member.receives = wanted;
        }
        *receiving = members.values().filter(|m| !m.receives.is_empty()).count();
        keyframes.sort_unstable();
        keyframes.dedup();
        for key in keyframes {
            Self::keyframe(state, key, None);
        }
    }
}

impl Routes for RoomMedia {
    fn publish(
        &self,
        publisher: ParticipantId,
        kind: RtpCodecKind,
        codec: RTCRtpCodec,
        screen: bool,
        layered: bool,
    ) -> (TrackKey, Arc<Forwards>, Arc<LayerStats>) {
        RoomMedia::publish(self, publisher, kind, codec, screen, layered)
    }

    fn unpublish(&self, key: TrackKey) {
        RoomMedia::unpublish(self, key);
    }

    fn request_keyframe(&self, key: TrackKey, layer: Option<Layer>) {
        RoomMedia::request_keyframe(self, key, layer);
    }

    fn peer_ended(&self, id: ParticipantId, direction: Direction, ufrag: &str, session_gone: bool) {
        RoomMedia::peer_ended(self, id, direction, ufrag, session_gone);
    }
}

impl MediaRoutes for RoomMedia {
    fn ice_servers(&self, id: ParticipantId) -> Vec<hallway_proto::IceServer> {
        RoomMedia::ice_servers(self, id)
    }

    fn has(&self, id: ParticipantId) -> bool {
        RoomMedia::has(self, id)
    }

    fn join(&self, id: ParticipantId, link: OutboxSender) {
        RoomMedia::join(self, id, link);
    }

    fn leave(&self, id: ParticipantId) {
        RoomMedia::leave(self, id);
    }

    fn set_broadcasters(&self, broadcasters: &[ParticipantId]) {
        RoomMedia::set_broadcasters(self, broadcasters);
    }

    fn set_circle(&self, id: CircleId, members: &[ParticipantId], routed: bool) {
        RoomMedia::set_circle(self, id, members, routed);
    }
}

#[cfg(test)]
#[path = "room_tests.rs"]
mod tests;
