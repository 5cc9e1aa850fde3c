//! The actor's way out: turning engine events into messages for the right sessions,
//! broadcasting encoded once, the per-tick positions, and letting go of sessions that
//! cannot keep up.

use std::collections::HashMap;
use std::sync::Arc;

use hallway_proto::{ServerMessage, close};
use tracing::warn;
use tungstenite::protocol::frame::Utf8Bytes;

use super::sight::{Standing, View};
use super::{Actor, EVENT_RESERVE, KeptSetting, Owed, Removal, RoomAbout, Session};
use crate::room::engine::Event;
use crate::room::model::{ParticipantId, Point};
use crate::room::roster;
use crate::room::views::{self, To};
use crate::transport::{Down, Movers, Relayed};

impl Actor {
    /// Sends every queued engine event to the people concerned, then disconnects whoever
    /// could not take them (which may queue more events, hence the loop).
    pub(super) fn dispatch(&mut self) {
        loop {
            let events: Vec<Event> = self.room.drain_events().collect();
            if events.iter().any(Event::worth_writing) {
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
                let Some(session) = self.sessions.get(&id) else {
                    continue;
                };
                if why == Removal::SlowConsumer {
                    warn!(room = %self.room.settings().slug, "disconnecting a slow consumer");
                    session.outbox.kick(close::SLOW_CONSUMER);
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
                self.directory.set_on_air(self.room.broadcasters());
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
        // What else an event means to the room's task (what people outside may know of the
        // room changes before anyone is told).
        match &event {
            Event::Removed { target, ban } => {
                if let Some(session) = self.sessions.remove(target) {
                    session
                        .outbox
                        .kick(if *ban { close::BANNED } else { close::REMOVED });
                }
            }
            Event::Summary(host) => self.send_summary(*host),
            Event::RoomLocked(_) => {
                self.about.send_replace(RoomAbout::of(&self.room));
            }
            Event::AreasChanged => {
                if let Some(keep) = &self.keep_settings {
                    keep(KeptSetting::Areas(self.room.areas().to_vec()));
                }
            }
            Event::FloorPlanChanged => {
                self.about.send_replace(RoomAbout::of(&self.room));
                if let Some(keep) = &self.keep_settings {
                    keep(KeptSetting::FloorPlan(self.room.floor_plan().cloned()));
                }
            }
            Event::IcebreakersChanged => {
                if let Some(keep) = &self.keep_settings {
                    let settings = self.room.settings();
                    keep(KeptSetting::Icebreakers {
                        on: settings.icebreakers,
                        prompts: settings.icebreaker_prompts.clone(),
                    });
                }
            }
            _ => {}
        }
        for (to, msg) in views::news(&self.room, &event) {
            match to {
                To::Everyone { except } => match &event {
                    Event::Joined(id) if self.light_welcomes() => self.joined_news(*id, &msg),
                    Event::Left(id) if self.light_welcomes() => self.left_news(*id, &msg),
                    Event::Reconnecting { id, on } if self.light_welcomes() => {
                        self.reconnecting_news(*id, *on, &msg)
                    }
                    _ => self.broadcast(&msg, except),
                },
                To::Circle(cid) => self.circle_news(cid, &msg),
                To::Each(ids) => {
                    let bytes = Utf8Bytes::from(msg.encode());
                    for id in ids {
                        self.send(id, bytes.clone());
                    }
                }
            }
        }
    }

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
        self.broadcast_where(bytes, |id, _| Some(id) != except)
    }

    /// [`Actor::broadcast_bytes`] to those `to` picks, by id and what their page shows.
    pub(super) fn broadcast_where(
        &mut self,
        bytes: Utf8Bytes,
        to: impl FnMut(ParticipantId, Option<&View>) -> bool,
    ) -> u64 {
        self.queue_where(bytes, to, Owed::Snapshot).0
    }

    /// Like [`Actor::broadcast_where`], for news that the positions carry too (someone
    /// arrived where a page looks): whoever is short of room skips it and is owed only
    /// the positions in their view, from which the page learns who is new and asks for
    /// them by id. A snapshot per skipped arrival is what slowed a room of 10,000 down
    /// while it filled: see `sight.rs`. Returns to how many it was queued and how many
    /// skipped it.
    pub(super) fn offer_where(
        &mut self,
        bytes: Utf8Bytes,
        to: impl FnMut(ParticipantId, Option<&View>) -> bool,
    ) -> (u64, u64) {
        self.queue_where(bytes, to, Owed::Positions)
    }

    /// [`Actor::broadcast_where`] but for the pages whose node sends them their news
    /// (`by_node`, in a cluster), other than those in `members`: the caller sends it to
    /// their nodes.
    pub(super) fn queue_where_here(
        &mut self,
        bytes: Utf8Bytes,
        members: &[ParticipantId],
        to: impl FnMut(ParticipantId, Option<&View>) -> bool,
    ) -> u64 {
        self.queue_to(bytes, to, Owed::Snapshot, Some(members)).0
    }

    /// Queues `bytes` to those `to` picks; whoever is short of room skips it and is owed
    /// at least `skipped_owe` (those owed a snapshot already are left out: it brings this
    /// too). Returns to how many it was queued and how many skipped it.
    fn queue_where(
        &mut self,
        bytes: Utf8Bytes,
        to: impl FnMut(ParticipantId, Option<&View>) -> bool,
        skipped_owe: Owed,
    ) -> (u64, u64) {
        self.queue_to(bytes, to, skipped_owe, None)
    }

    /// [`Actor::queue_where`], leaving out the pages whose node sends them their news
    /// but those in `by_node_but`, if given.
    fn queue_to(
        &mut self,
        bytes: Utf8Bytes,
        mut to: impl FnMut(ParticipantId, Option<&View>) -> bool,
        skipped_owe: Owed,
        by_node_but: Option<&[ParticipantId]>,
    ) -> (u64, u64) {
        let (mut sent, mut skipped) = (0, 0);
        for (id, session) in &mut self.sessions {
            if session.owes == Owed::Snapshot
                || (session.by_node && by_node_but.is_some_and(|but| !but.contains(id)))
                || !to(*id, session.view.as_ref())
            {
                continue;
            }
            if session.outbox.is_closed() {
                self.pending_kicks.push((*id, Removal::Gone));
            } else if session.outbox.capacity() <= EVENT_RESERVE
                || session.outbox.try_send(bytes.clone()).is_err()
            {
                session.owes = session.owes.max(skipped_owe);
                skipped += 1;
            } else {
                sent += 1;
            }
        }
        (sent, skipped)
    }

    /// Queues a frame meant for one participant (a signal, an instruction to connect, an
    /// error): these cannot be caught up with later, so one who has no room left even in
    /// the reserve is disconnected.
    pub(super) fn send(&mut self, to: ParticipantId, bytes: Utf8Bytes) {
        if let Some(session) = self.sessions.get(&to) {
            if let Err(err) = session.outbox.try_send(bytes) {
                self.pending_kicks.push((to, Removal::after(&err)));
            }
        }
    }

    /// Sends everyone the positions that changed since the last tick, encoded once (those
    /// whose page shows part of the floor: what moved there, and once a second the round
    /// of who moved — in a big room, those near the page and every fifth round everyone,
    /// see `sight.rs`); and whoever is owed more, the full positions or a snapshot, as
    /// soon as they have room.
    pub(super) fn tick(&mut self) {
        self.positions.clear();
        self.room.take_moved(&mut self.positions);
        let round = self.next_round();
        let viewing = self.sessions.values().any(|s| s.view.is_some());
        self.note_movers(viewing);
        let delta =
            (!self.positions.is_empty()).then(|| encode_tick(self.positions.iter().copied()));
        // The round, and whether it carries circles: news that positions alone do not
        // catch up with, so a page that cannot take it is owed a snapshot.
        let (mut far, far_circles) = if round && viewing {
            self.round_positions()
                .map_or((None, false), |(far, circles)| (Some(far), circles))
        } else {
            (None, false)
        };
        let (mut full, mut snapshot): (Option<Utf8Bytes>, Option<Utf8Bytes>) = (None, None);
        let big = self.light_welcomes();
        let (mut sent, mut skipped) = (0u64, 0u64);
        // Relayed pages whose nodes cut their ticks themselves, by node.
        let mut by_node: HashMap<Arc<str>, (Relayed, Vec<ParticipantId>)> = HashMap::new();
        self.sight.nodes.clear();
        for (id, session) in &mut self.sessions {
            // A view its node did not hear of (the queue to it was full): told again.
            if !session.by_node
                && let (Some(view), Some(relayed)) = (&session.view, session.outbox.relayed())
            {
                session.by_node = relayed
                    .down
                    .try_send((relayed.conn, super::sight::view_told(*id, view, Vec::new())))
                    .is_ok();
            }
            if session.by_node
                && let Some(relayed) = session.outbox.relayed()
                && !self.sight.nodes.contains_key(&relayed.node)
            {
                self.sight
                    .nodes
                    .insert(relayed.node.clone(), relayed.clone());
            }
            // A page of a big room owed a light snapshot of its own that has no room for
            // it now gets it when it has: built only to be dropped, it was rebuilt on
            // every tick for every page that fell behind while a room of 10,000 filled.
            if big && session.owes == Owed::Snapshot && session.outbox.capacity() <= EVENT_RESERVE {
                skipped += 1;
                stalled(*id, session, self.stall_limit, &mut self.pending_kicks);
                continue;
            }
            // A page on another node of a cluster that was told what it shows: that node
            // cuts its tick out of this tick's movers (sent below, once per node). Not on
            // the round's tick (the round carries more), nor while it owes more.
            if session.by_node
                && session.owes == Owed::Nothing
                && !round
                && session.view.is_some()
                && let Some(relayed) = session.outbox.relayed()
            {
                if !self.positions.is_empty() {
                    by_node
                        .entry(relayed.node.clone())
                        .or_insert_with(|| (relayed.clone(), Vec::new()))
                        .1
                        .push(*id);
                }
                continue;
            }
            // Whether the frame is the round, and whether the round's circles must follow
            // a catch-up frame that does not carry them (a page that shows part of the
            // floor hears of circles out of its sight only there).
            let (mut is_round, mut round_after) = (false, far_circles && session.view.is_some());
            let owed_snapshot = session.owes == Owed::Snapshot;
            let frame = match (session.owes, &session.view) {
                // In a big room, a page that shows part of the floor catches up with what
                // is near it (a whole room's state or positions would be megabytes).
                (Owed::Snapshot, Some(view)) if big => Utf8Bytes::from(
                    views::snapshot(
                        &self.room,
                        Some(roster::near(&self.room, *id, view.middle())),
                    )
                    .encode(),
                ),
                (Owed::Positions, Some(view)) if big => {
                    match Actor::standing_in(&self.room, &mut self.sight, view) {
                        // On the round's tick the round comes too: it alone says who
                        // left, how many are in the room and what became of circles.
                        Standing::Frame(frame) => {
                            // (With one's own move: the frame lists only those in view.)
                            let own = self.sight.movers.own(*id);
                            if let Some(far) = far.as_mut()
                                && session.outbox.capacity() > EVENT_RESERVE + 1
                                && session
                                    .outbox
                                    .try_send(far.for_view(Some(view), own))
                                    .is_ok()
                            {
                                sent += 1;
                                round_after = false;
                            }
                            frame
                        }
                        // Nobody to list, or too many: the round (now or the next one)
                        // brings who moved and who arrived. (Building a snapshot per page
                        // here, on the room's task, is what slowed a filling room of
                        // 10,000 down: see benchmarks.md.)
                        Standing::Nobody | Standing::Crowd => match far.as_mut() {
                            Some(far) => {
                                is_round = true;
                                let own = self.sight.movers.own(*id);
                                far.for_view(Some(view), own)
                            }
                            None => {
                                session.owes = Owed::Nothing;
                                continue;
                            }
                        },
                    }
                }
                // A page that has not said what it shows (a newcomer whose `view` is on
                // its way, whose light welcome listed those near) catches up with those
                // near where it stands: the whole of a big room is megabytes, and a
                // newcomer hears all of a big room's news until its view arrives, so
                // many fell behind in that moment and each was built one.
                (Owed::Snapshot, None) if big => match self.room.participant(*id) {
                    Some(me) => Utf8Bytes::from(
                        views::snapshot(
                            &self.room,
                            Some(roster::near(&self.room, *id, me.position)),
                        )
                        .encode(),
                    ),
                    // Not in the room (not reached: a session is someone's): the room's
                    // state, shared by all who need it this tick.
                    None => snapshot
                        .get_or_insert_with(|| {
                            Utf8Bytes::from(views::snapshot(&self.room, None).encode())
                        })
                        .clone(),
                },
                // The whole room's state: every circle too.
                (Owed::Snapshot, _) => {
                    round_after = false;
                    snapshot
                        .get_or_insert_with(|| {
                            Utf8Bytes::from(views::snapshot(&self.room, None).encode())
                        })
                        .clone()
                }
                (Owed::Positions, _) => full
                    .get_or_insert_with(|| {
                        encode_tick(self.room.participants().map(|p| (p.id, p.position)))
                    })
                    .clone(),
                (Owed::Nothing, None) => match &delta {
                    Some(delta) => delta.clone(),
                    None => continue,
                },
                // The round carries everyone who moved since the last one, these included.
                // (In a big room, those near; with one's own move, wherever it is.)
                (Owed::Nothing, Some(view)) if round => match far.as_mut() {
                    Some(far) => {
                        is_round = true;
                        let own = self.sight.movers.own(*id);
                        far.for_view(Some(view), own)
                    }
                    None => continue,
                },
                (Owed::Nothing, Some(view)) => match self.sight.movers.tick_for(*id, view) {
                    Some(near) => near,
                    None => continue,
                },
            };
            round_after &= !is_round;
            let room_for = EVENT_RESERVE + usize::from(round_after);
            // A snapshot to a page on another node of a cluster: that node holds back the
            // news it passes the page until the snapshot has been written (see
            // `Down::SnapshotAhead`), told before the snapshot can reach it.
            let queued = session.outbox.capacity() > room_for
                && match session.outbox.relayed().filter(|_| owed_snapshot) {
                    // The way to that node full (its publishing stuck): no snapshot now
                    // (untold, it would take a later one's place); the page stays owed one.
                    Some(relayed) => session.outbox.try_send_after(frame, || {
                        relayed
                            .down
                            .try_send((relayed.conn, Down::SnapshotAhead))
                            .is_ok()
                    }),
                    None => session.outbox.try_send(frame),
                }
                .is_ok();
            if queued {
                session.owes = Owed::Nothing;
                session.stalled_ticks = 0;
                sent += 1;
                if let Some(far) = far.as_mut().filter(|_| round_after) {
                    if session
                        .outbox
                        .try_send(far.for_view(session.view.as_ref(), None))
                        .is_ok()
                    {
                        sent += 1;
                    } else {
                        session.owes = Owed::Snapshot;
                    }
                }
            } else {
                skipped += 1;
                stalled(*id, session, self.stall_limit, &mut self.pending_kicks);
                if far_circles && (is_round || round_after) {
                    session.owes = Owed::Snapshot;
                }
            }
        }
        if !by_node.is_empty() {
            let movers = Arc::new(Movers {
                room: self.room.settings().slug.clone(),
                floor: (self.room.settings().width, self.room.settings().height),
                movers: self
                    .positions
                    .iter()
                    .map(|(id, at)| (id.0, at.x, at.y))
                    .collect(),
            });
            for (relayed, ids) in by_node.into_values() {
                // To the node, not one of its connections.
                if relayed
                    .down
                    .try_send((0, Down::Movers(movers.clone())))
                    .is_err()
                {
                    // The queue to that node is full: the room catches these pages up
                    // with what is in view itself (and their node cuts their ticks
                    // again once they have).
                    for id in ids {
                        if let Some(session) = self.sessions.get_mut(&id) {
                            session.owes = session.owes.max(Owed::Positions);
                            skipped += 1;
                        }
                    }
                }
            }
        }
        metrics::counter!(crate::metrics::MESSAGES_OUT, "type" => "tick").increment(sent);
        metrics::counter!(crate::metrics::DROPPED_POSITIONS).increment(skipped);
        let slug = self.room.settings().slug.clone();
        metrics::gauge!(crate::metrics::PARTICIPANTS, "room" => slug.clone())
            .set(self.sessions.len() as f64);
        metrics::gauge!(crate::metrics::RECONNECTING, "room" => slug.clone())
            .set(self.reconnecting.len() as f64);
        metrics::gauge!(crate::metrics::CIRCLES, "room" => slug)
            .set(self.room.circles().count() as f64);
        if !self.pending_kicks.is_empty() {
            self.dispatch();
        }
    }
}

/// A session that had no room for its tick: it is owed the positions (at least), and one
/// stalled for `stall_limit` ticks in a row, or gone, is let go.
fn stalled(
    id: ParticipantId,
    session: &mut Session,
    stall_limit: u32,
    pending_kicks: &mut Vec<(ParticipantId, Removal)>,
) {
    session.owes = session.owes.max(Owed::Positions);
    session.stalled_ticks += 1;
    if session.outbox.is_closed() {
        pending_kicks.push((id, Removal::Gone));
    } else if session.stalled_ticks >= stall_limit {
        pending_kicks.push((id, Removal::SlowConsumer));
    }
}

pub(super) fn encode_tick(positions: impl Iterator<Item = (ParticipantId, Point)>) -> Utf8Bytes {
    let positions = positions
        .map(|(id, p)| (id.to_string(), p.x, p.y))
        .collect();
    Utf8Bytes::from(
        ServerMessage::Tick {
            positions,
            in_room: None,
            left: Vec::new(),
            circles: Vec::new(),
            dissolved: Vec::new(),
        }
        .encode(),
    )
}
