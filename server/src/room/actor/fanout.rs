//! The actor's way out: turning engine events into messages for the right sessions,
//! broadcasting encoded once, the per-tick positions, and letting go of sessions that
//! cannot keep up.

use hallway_proto::{ErrorCode, ServerMessage, close};
use tracing::warn;
use tungstenite::protocol::frame::Utf8Bytes;

use super::{Actor, EVENT_RESERVE, KeptSetting, Owed, Removal, RoomAbout};
use crate::room::chat::ChatScope;
use crate::room::engine::Event;
use crate::room::engine::snapshot::worth_writing;
use crate::room::model::{ParticipantId, Point, Refusal, Role};
use crate::room::views;

impl Actor {
    /// Sends every queued engine event to the people concerned, then disconnects whoever
    /// could not take them (which may queue more events, hence the loop).
    pub(super) fn dispatch(&mut self) {
        loop {
            let events: Vec<Event> = self.room.drain_events().collect();
            if events.iter().any(worth_writing) {
                self.changed.notify_one();
            }
            // The directory learns of every change of membership before anyone is told
            // of it, so that a signal sent on the news is relayed.
            for event in &events {
                self.update_directory(event);
            }
            for event in events {
                self.dispatch_one(event);
            }
            if self.pending_kicks.is_empty() {
                break;
            }
            for (id, why) in std::mem::take(&mut self.pending_kicks) {
                let Some(link) = self.links.get(&id) else {
                    continue;
                };
                if why == Removal::SlowConsumer {
                    warn!(room = %self.room.settings().slug, "disconnecting a slow consumer");
                    link.outbox.kick(close::SLOW_CONSUMER);
                }
                // Lost, not gone: the client may resume (a slow one gets a fresh welcome).
                // A session that ended on purpose says so in its own leave, on the way.
                self.detach(id, self.grace);
            }
        }
    }

    pub(super) fn update_directory(&mut self, event: &Event) {
        let circle_of = |id: &ParticipantId| self.room.participant(*id).and_then(|p| p.circle);
        match event {
            Event::Connect {
                initiator: a,
                responder: b,
            }
            | Event::Disconnect {
                leaver: a,
                stayer: b,
            } => {
                self.directory.set_circle(*a, circle_of(a));
                self.directory.set_circle(*b, circle_of(b));
            }
            Event::Left(id) => {
                self.directory.remove(*id);
                if let Some(media) = &self.media {
                    media.leave(*id);
                }
                self.forget(*id);
            }
            Event::Broadcast { .. } => {
                self.directory.set_stage(self.room.broadcasters());
                if let Some(media) = &self.media {
                    media.set_broadcasters(self.room.broadcasters());
                }
            }
            Event::CircleChanged(cid) => {
                if let Some(c) = self.room.circle(*cid) {
                    self.directory
                        .sync_circle(*cid, &c.members, |id| circle_of(&id));
                }
                if let (Some(media), Some(c)) = (&self.media, self.room.circle(*cid)) {
                    media.set_circle(*cid, &c.members, c.routed);
                }
            }
            Event::CircleDissolved(cid) => {
                self.directory.sync_circle(*cid, &[], |id| circle_of(&id));
                if let Some(media) = &self.media {
                    media.set_circle(*cid, &[], false);
                }
            }
            _ => {}
        }
    }

    pub(super) fn dispatch_one(&mut self, event: Event) {
        match event {
            Event::Joined(id) => {
                if let Some(p) = self.room.participant(id) {
                    let msg = ServerMessage::Joined {
                        participant: views::participant(p),
                    };
                    self.broadcast(&msg, Some(id));
                }
            }
            Event::Left(id) => self.broadcast(&ServerMessage::Left { id: id.to_string() }, None),
            Event::CircleChanged(cid) => {
                if let Some(c) = self.room.circle(cid) {
                    let msg = ServerMessage::CircleChanged {
                        circle: views::circle(c),
                    };
                    self.broadcast(&msg, None);
                }
            }
            Event::CircleDissolved(cid) => {
                self.broadcast(&ServerMessage::CircleDissolved { id: cid.0 }, None)
            }
            Event::Connect {
                initiator,
                responder,
            } => self.connect(initiator, responder, false),
            Event::RestartIce {
                initiator,
                responder,
            } => self.connect(initiator, responder, true),
            Event::Reconnecting { id, on } => self.broadcast(
                &ServerMessage::Reconnecting {
                    id: id.to_string(),
                    on,
                },
                Some(id),
            ),
            Event::Disconnect { leaver, stayer } => {
                self.send(
                    leaver,
                    Utf8Bytes::from(
                        ServerMessage::Disconnect {
                            peer: stayer.to_string(),
                        }
                        .encode(),
                    ),
                );
                self.send(
                    stayer,
                    Utf8Bytes::from(
                        ServerMessage::Disconnect {
                            peer: leaver.to_string(),
                        }
                        .encode(),
                    ),
                );
            }
            Event::Refused {
                participant,
                circle,
                reason,
            } => {
                let (code, message) = match reason {
                    Refusal::Full => (ErrorCode::CircleFull, "that circle is full"),
                    Refusal::Locked => (ErrorCode::CircleLocked, "that circle is locked"),
                };
                let msg = ServerMessage::Error {
                    code,
                    message: message.to_owned(),
                    circle: Some(circle.0),
                    retry_after: None,
                };
                self.send(participant, Utf8Bytes::from(msg.encode()));
            }
            Event::Chat(message) => {
                let msg = Utf8Bytes::from(
                    ServerMessage::Chat {
                        message: views::chat(&message),
                    }
                    .encode(),
                );
                match message.scope {
                    // Like other room state, a skipped room message is caught up with by
                    // the snapshot, which carries the recent chat.
                    ChatScope::Room => {
                        let sent = self.broadcast_bytes(msg, None);
                        metrics::counter!(crate::metrics::MESSAGES_OUT, "type" => "chat")
                            .increment(sent);
                    }
                    ChatScope::Circle(cid) => {
                        let members = self
                            .room
                            .circle(cid)
                            .map(|c| c.members.clone())
                            .unwrap_or_default();
                        for member in members {
                            self.send(member, msg.clone());
                        }
                    }
                    ChatScope::Direct(to) => {
                        self.send(to, msg.clone());
                        self.send(message.from, msg);
                    }
                }
            }
            Event::Hand(id) => {
                if let Some(p) = self.room.participant(id) {
                    self.broadcast(
                        &ServerMessage::Hand {
                            id: id.to_string(),
                            raised: p.hand.is_some(),
                            at: p.hand,
                        },
                        None,
                    );
                }
            }
            Event::Reaction { id, reaction } => {
                let msg = ServerMessage::Reaction {
                    id: id.to_string(),
                    reaction: reaction.name().to_owned(),
                };
                self.broadcast(&msg, None);
            }
            Event::Broadcast { id, on } => self.broadcast(
                &ServerMessage::Broadcast {
                    id: id.to_string(),
                    on,
                },
                None,
            ),
            Event::StageInvite { target, by } => {
                let msg = ServerMessage::StageInvite { by: by.to_string() };
                self.send(target, Utf8Bytes::from(msg.encode()));
            }
            Event::Summary(host) => self.send_summary(host),
            Event::CircleInvite { target, by } => {
                let msg = ServerMessage::CircleInvite { by: by.to_string() };
                self.send(target, Utf8Bytes::from(msg.encode()));
            }
            Event::Muted { target, by } => {
                let msg = ServerMessage::Muted { by: by.to_string() };
                self.send(target, Utf8Bytes::from(msg.encode()));
            }
            Event::Removed { target, ban } => {
                if let Some(link) = self.links.remove(&target) {
                    link.outbox
                        .kick(if ban { close::BANNED } else { close::REMOVED });
                }
            }
            Event::RoomLocked(locked) => {
                self.about.send_replace(RoomAbout::of(&self.room));
                self.broadcast(&ServerMessage::RoomLocked { locked }, None)
            }
            Event::AreasChanged => {
                let areas = self.room.areas().iter().map(views::area).collect();
                self.broadcast(&ServerMessage::Areas { areas }, None);
                if let Some(keep) = &self.keep_settings {
                    keep(KeptSetting::Areas(self.room.areas().to_vec()));
                }
            }
            Event::FloorPlanChanged => {
                self.about.send_replace(RoomAbout::of(&self.room));
                let url = views::floor_plan_url(&self.room);
                self.broadcast(&ServerMessage::FloorPlan { url }, None);
                if let Some(keep) = &self.keep_settings {
                    keep(KeptSetting::FloorPlan(self.room.floor_plan().cloned()));
                }
            }
            Event::Icebreaker {
                participant,
                circle,
            } => {
                if let Some(icebreaker) =
                    self.room.circle(circle).and_then(|c| c.icebreaker.as_ref())
                {
                    let msg = ServerMessage::Icebreaker {
                        circle: circle.0,
                        prompt: views::icebreaker(icebreaker),
                    };
                    self.send(participant, Utf8Bytes::from(msg.encode()));
                }
            }
            Event::IcebreakersChanged => {
                let frame = Utf8Bytes::from(views::icebreakers(&self.room).encode());
                let hosts: Vec<ParticipantId> = self
                    .links
                    .keys()
                    .copied()
                    .filter(|id| {
                        self.room
                            .participant(*id)
                            .is_some_and(|p| p.role == Role::Host)
                    })
                    .collect();
                for host in hosts {
                    self.send(host, frame.clone());
                }
                if let Some(keep) = &self.keep_settings {
                    let settings = self.room.settings();
                    keep(KeptSetting::Icebreakers {
                        on: settings.icebreakers,
                        prompts: settings.icebreaker_prompts.clone(),
                    });
                }
            }
            Event::Gathered { by, at } => {
                self.broadcast(
                    &ServerMessage::Gathered {
                        by: by.to_string(),
                        x: at.x,
                        y: at.y,
                    },
                    None,
                );
            }
            Event::Announcement => {
                let text = self.room.announcement().map(str::to_owned);
                self.broadcast(&ServerMessage::Announcement { text }, None);
            }
            Event::MediaChanged(id) => {
                if let Some(p) = self.room.participant(id) {
                    let msg = ServerMessage::Media {
                        id: id.to_string(),
                        state: views::media(p.media),
                    };
                    self.broadcast(&msg, None);
                }
            }
        }
    }

    /// Tells two members of a circle to connect (or to restart ICE on the connection
    /// they have): the responder first, since the initiator answers with an offer at once.
    fn connect(&mut self, initiator: ParticipantId, responder: ParticipantId, restart: bool) {
        let to_responder = ServerMessage::Connect {
            peer: initiator.to_string(),
            initiator: false,
            restart,
        };
        let to_initiator = ServerMessage::Connect {
            peer: responder.to_string(),
            initiator: true,
            restart,
        };
        self.send(responder, Utf8Bytes::from(to_responder.encode()));
        self.send(initiator, Utf8Bytes::from(to_initiator.encode()));
    }

    /// Encodes once and queues for everyone (but `except`).
    /// Queues a change of room state for everyone (but `except`), encoded once. Whoever
    /// is short of room skips it and is owed a snapshot instead: state can be caught up
    /// with, so a burst (hundreds of people arriving at once) does not disconnect anyone.
    pub(super) fn broadcast(&mut self, msg: &ServerMessage, except: Option<ParticipantId>) {
        let sent = self.broadcast_bytes(Utf8Bytes::from(msg.encode()), except);
        metrics::counter!(crate::metrics::MESSAGES_OUT, "type" => msg.kind()).increment(sent);
    }

    /// [`Actor::broadcast`] of an encoded message; returns to how many it was queued.
    pub(super) fn broadcast_bytes(
        &mut self,
        bytes: Utf8Bytes,
        except: Option<ParticipantId>,
    ) -> u64 {
        let mut sent = 0;
        for (id, link) in &mut self.links {
            if Some(*id) == except || link.owes == Owed::Snapshot {
                continue;
            }
            if link.outbox.is_closed() {
                self.pending_kicks.push((*id, Removal::Gone));
            } else if link.outbox.capacity() <= EVENT_RESERVE
                || link.outbox.try_send(bytes.clone()).is_err()
            {
                link.owes = Owed::Snapshot;
            } else {
                sent += 1;
            }
        }
        sent
    }

    /// Queues a frame meant for one participant (a signal, an instruction to connect, an
    /// error): these cannot be caught up with later, so one who has no room left even in
    /// the reserve is disconnected.
    pub(super) fn send(&mut self, to: ParticipantId, bytes: Utf8Bytes) {
        if let Some(link) = self.links.get(&to) {
            if let Err(err) = link.outbox.try_send(bytes) {
                self.pending_kicks.push((to, Removal::after(&err)));
            }
        }
    }

    /// Sends everyone the positions that changed since the last tick, encoded once; and
    /// whoever is owed more, the full positions or a snapshot, as soon as they have room.
    pub(super) fn tick(&mut self) {
        self.positions.clear();
        self.room.take_moved(&mut self.positions);
        let delta =
            (!self.positions.is_empty()).then(|| encode_tick(self.positions.iter().copied()));
        let (mut full, mut snapshot): (Option<Utf8Bytes>, Option<Utf8Bytes>) = (None, None);
        let (mut sent, mut skipped) = (0u64, 0u64);
        for (id, link) in &mut self.links {
            let frame = match link.owes {
                Owed::Snapshot => snapshot
                    .get_or_insert_with(|| Utf8Bytes::from(views::snapshot(&self.room).encode()))
                    .clone(),
                Owed::Positions => full
                    .get_or_insert_with(|| {
                        encode_tick(self.room.participants().map(|p| (p.id, p.position)))
                    })
                    .clone(),
                Owed::Nothing => match &delta {
                    Some(delta) => delta.clone(),
                    None => continue,
                },
            };
            if link.outbox.capacity() > EVENT_RESERVE && link.outbox.try_send(frame).is_ok() {
                link.owes = Owed::Nothing;
                link.stalled_ticks = 0;
                sent += 1;
            } else {
                skipped += 1;
                link.owes = link.owes.max(Owed::Positions);
                link.stalled_ticks += 1;
                if link.outbox.is_closed() {
                    self.pending_kicks.push((*id, Removal::Gone));
                } else if link.stalled_ticks >= self.stall_limit {
                    self.pending_kicks.push((*id, Removal::SlowConsumer));
                }
            }
        }
        metrics::counter!(crate::metrics::MESSAGES_OUT, "type" => "tick").increment(sent);
        metrics::counter!(crate::metrics::DROPPED_POSITIONS).increment(skipped);
        let slug = self.room.settings().slug.clone();
        metrics::gauge!(crate::metrics::PARTICIPANTS, "room" => slug.clone())
            .set(self.links.len() as f64);
        metrics::gauge!(crate::metrics::RECONNECTING, "room" => slug.clone())
            .set(self.suspended.len() as f64);
        metrics::gauge!(crate::metrics::CIRCLES, "room" => slug)
            .set(self.room.circles().count() as f64);
        if !self.pending_kicks.is_empty() {
            self.dispatch();
        }
    }
}

fn encode_tick(positions: impl Iterator<Item = (ParticipantId, Point)>) -> Utf8Bytes {
    let positions = positions
        .map(|(id, p)| (id.to_string(), p.x, p.y))
        .collect();
    Utf8Bytes::from(ServerMessage::Tick { positions }.encode())
}
