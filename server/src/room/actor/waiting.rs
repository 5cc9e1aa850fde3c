//! The waiting room's queue: in a room that has one, newcomers (hosts never) wait here
//! until a host admits them or turns them away. Someone waiting has a session and an id
//! (the one they keep once admitted), but no seat, no resume token, no place on the floor
//! and no circle: they count against nothing, are sent nothing of the room but its title
//! and message, and what they send is refused with `waiting`. Admitted, they enter as
//! anyone joining would and get their welcome; from then on their token resumes them
//! like anyone else, so a reload never puts them back in the queue.
//!
//! The queue lives with the room's task: in a cluster that is the owner node, which runs
//! every session of its room, so hosts on any node see one queue. If the room moves (its
//! owner died), the people waiting reconnect and queue again; nothing of them is kept.

use std::collections::VecDeque;

use hallway_proto::server::WaitingInfo;
use hallway_proto::{ServerMessage, close};
use tokio::sync::oneshot;
use tokio::time::Instant;
use tungstenite::protocol::frame::Utf8Bytes;

use super::resume::{ConnectionId, Departure, Seat, new_token};
use super::{Actor, JoinError, KeptSetting, OutboxSender};
use crate::room::engine::waiting::clean_waiting_message;
use crate::room::model::{DisplayName, EngineError, ParticipantId, ProfileLine, Role};
use crate::room::moderation::LinkIdentity;
use crate::room::views;

/// The most people a waiting room holds; a newcomer beyond it is refused with
/// `waiting_room_full` (and may try again), so that a queue nobody works through cannot
/// grow without end, and the hosts' list stays a size one message carries.
pub(super) const WAITING_CAPACITY: usize = 500;

/// Someone in the waiting room.
#[derive(Debug)]
pub(super) struct Waiter {
    /// Their id now, and once admitted.
    id: ParticipantId,
    /// Their session's connection: the seat it holds once admitted.
    connection: ConnectionId,
    name: DisplayName,
    profile: Option<ProfileLine>,
    /// The signed link they came with, if any (bans and fixed names apply on admission).
    identity: Option<LinkIdentity>,
    /// Their session's queue.
    link: OutboxSender,
    /// Since when they wait, for the hosts' list.
    since: Instant,
    /// Keeps their place across a lost connection or a reload (and resumes them once
    /// admitted, if they were admitted meanwhile).
    token: String,
    /// Their connection was lost: they keep their place until then.
    lost: Option<Instant>,
}

/// Someone a host turned away, remembered for the resume grace window: their page may
/// not have heard it (its connection was lost, or it had given the connection up and was
/// reconnecting just then). Coming back with their waiting token, they are told again
/// instead of being queued anew as a stranger.
#[derive(Debug)]
struct TurnedAway {
    id: ParticipantId,
    token: String,
    message: Option<String>,
    /// Forgotten then.
    until: Instant,
}

/// The queue, longest waiting first.
#[derive(Debug, Default)]
pub(super) struct WaitingRoom {
    people: VecDeque<Waiter>,
    /// Who was turned away lately, oldest first (at most [`WAITING_CAPACITY`]).
    turned_away: VecDeque<TurnedAway>,
    /// The hosts have not been told of the latest change.
    changed: bool,
}

impl WaitingRoom {
    /// Whether `id` is waiting.
    pub(super) fn holds(&self, id: ParticipantId) -> bool {
        self.people.iter().any(|w| w.id == id)
    }

    /// Whether `id` was turned away lately (and is still remembered).
    pub(super) fn turned_away(&self, id: ParticipantId) -> bool {
        self.turned_away.iter().any(|t| t.id == id)
    }

    fn take(&mut self, id: ParticipantId) -> Option<Waiter> {
        let at = self.people.iter().position(|w| w.id == id)?;
        self.changed = true;
        self.people.remove(at)
    }

    fn link(&self, id: ParticipantId) -> Option<&OutboxSender> {
        self.people.iter().find(|w| w.id == id).map(|w| &w.link)
    }

    /// Everyone's queues, for closing them when the room stops.
    pub(super) fn links(&self) -> impl Iterator<Item = &OutboxSender> {
        self.people.iter().map(|w| &w.link)
    }
}

impl Actor {
    /// The queue of someone waiting.
    pub(super) fn waiting_link(&self, id: ParticipantId) -> Option<&OutboxSender> {
        self.waiting.link(id)
    }

    /// A newcomer to a room with a waiting room: checked as a join would be (a banned,
    /// locked-out or host-named newcomer is refused at once), then queued and told so.
    pub(super) fn wait(
        &mut self,
        id: ParticipantId,
        name: DisplayName,
        profile: Option<ProfileLine>,
        identity: Option<LinkIdentity>,
        link: OutboxSender,
        reply: oneshot::Sender<Result<Seat, JoinError>>,
    ) {
        let checked = self
            .room
            .may_join(id, &name, Role::Participant, identity.as_ref())
            .and(if self.waiting.people.len() >= WAITING_CAPACITY {
                Err(EngineError::WaitingRoomFull)
            } else {
                Ok(())
            });
        if let Err(err) = checked {
            let _ = reply.send(Err(err.into()));
            return;
        }
        let connection = self.next_connection();
        let token = new_token();
        // The queue is new and empty: it fits.
        let _ = link.try_send(self.waiting_message(&token));
        let seat = Seat {
            id,
            connection,
            resumed: false,
        };
        if reply.send(Ok(seat)).is_err() {
            // The session went away while asking.
            return;
        }
        self.waiting.people.push_back(Waiter {
            id,
            connection,
            name,
            profile,
            identity,
            link,
            since: self.now,
            token,
            lost: None,
        });
        self.waiting.changed = true;
    }

    fn waiting_message(&self, token: &str) -> Utf8Bytes {
        let settings = self.room.settings();
        let message = ServerMessage::Waiting {
            title: settings.title.clone(),
            message: (!settings.waiting_message.is_empty())
                .then(|| settings.waiting_message.clone()),
            resume: token.to_owned(),
        };
        Utf8Bytes::from(message.encode())
    }

    /// Someone waiting came back with their token on a new connection: they wait on where
    /// they were. A token that names nobody waiting is [`JoinError::NotResumed`].
    pub(super) fn wait_again(
        &mut self,
        token: &str,
        link: OutboxSender,
        reply: oneshot::Sender<Result<Seat, JoinError>>,
    ) {
        let connection = self.next_connection();
        let frame = self.waiting_message(token);
        let Some(waiter) = self.waiting.people.iter_mut().find(|w| w.token == token) else {
            match self.waiting.turned_away.iter().find(|t| t.token == token) {
                // Turned away while their page was not listening: they hear it now, on
                // the new connection, just as they would have on the old one.
                Some(turned) => {
                    let message = turned.message.clone();
                    let _ = link.try_send(Utf8Bytes::from(
                        ServerMessage::TurnedAway { message }.encode(),
                    ));
                    link.close_after(close::TURNED_AWAY);
                    let seat = Seat {
                        id: turned.id,
                        connection,
                        resumed: true,
                    };
                    let _ = reply.send(Ok(seat));
                }
                None => {
                    let _ = reply.send(Err(JoinError::NotResumed));
                }
            }
            return;
        };
        let _ = link.try_send(frame);
        // The old connection, if the server still thought it alive, is replaced.
        waiter.link.kick(close::REPLACED);
        waiter.link = link;
        waiter.connection = connection;
        waiter.lost = None;
        let seat = Seat {
            id: waiter.id,
            connection,
            resumed: true,
        };
        if reply.send(Ok(seat)).is_err() {
            waiter.lost = Some(self.now + self.grace);
        }
    }

    /// Forgets whoever waited with a lost connection and did not come back in time.
    pub(super) fn expire_waiting(&mut self, now: Instant) {
        self.waiting.turned_away.retain(|t| t.until > now);
        let before = self.waiting.people.len();
        self.waiting
            .people
            .retain(|w| w.lost.is_none_or(|deadline| deadline > now));
        if self.waiting.people.len() != before {
            self.waiting.changed = true;
        }
    }

    /// A session ended: if it was someone waiting, they leave the queue when they left on
    /// purpose, and keep their place for the grace window when their connection was lost
    /// or their page went away (a reload comes back with the token). Whether it was.
    pub(super) fn waiter_departed(&mut self, seat: Seat, departure: Departure) -> bool {
        let grace = self.grace;
        let Some(waiter) = self
            .waiting
            .people
            .iter_mut()
            .find(|w| w.id == seat.id && w.connection == seat.connection)
        else {
            return false;
        };
        match departure {
            Departure::Reconnecting | Departure::Unloaded if !grace.is_zero() => {
                waiter.lost = Some(self.now + grace);
            }
            _ => {
                self.waiting.take(seat.id);
            }
        }
        true
    }

    /// A host turns the waiting room on or off; off admits everyone waiting.
    pub(super) fn set_waiting_room(
        &mut self,
        from: ParticipantId,
        on: bool,
    ) -> Result<(), EngineError> {
        self.room.may_manage_waiting_room(from)?;
        self.replace_waiting_room(on, None);
        Ok(())
    }

    /// Turns the waiting room on or off (a host's change, or an operator's with a new
    /// message), keeps it, and admits everyone waiting when it goes off.
    pub(super) fn replace_waiting_room(&mut self, on: bool, message: Option<String>) {
        self.room.replace_waiting_room(on, message);
        self.waiting.changed = true;
        if let Some(keep) = &self.keep_settings {
            keep(KeptSetting::WaitingRoom(on));
        }
        if !on {
            let everyone: Vec<ParticipantId> = self.waiting.people.iter().map(|w| w.id).collect();
            for id in everyone {
                // Refusals go to the person refused; nobody asked to hear of them.
                let _ = self.admit_one(id);
            }
        }
    }

    /// A host lets people in: those named, or everyone waiting. Each is admitted as a
    /// join would be; one the room refuses now (locked or full meanwhile) is told why and
    /// leaves the queue. The first id nobody waits under is the host's error, after the
    /// others went in.
    pub(super) fn admit(
        &mut self,
        from: ParticipantId,
        ids: Vec<ParticipantId>,
        all: bool,
    ) -> Result<(), EngineError> {
        self.room.may_manage_waiting_room(from)?;
        let ids = if all {
            self.waiting.people.iter().map(|w| w.id).collect()
        } else {
            ids
        };
        let mut result = Ok(());
        for id in ids {
            match self.admit_one(id) {
                Err(EngineError::NotWaiting) if result.is_ok() => {
                    result = Err(EngineError::NotWaiting);
                }
                Err(err @ (EngineError::RoomFull | EngineError::RoomLocked)) if result.is_ok() => {
                    result = Err(err);
                }
                _ => {}
            }
        }
        result
    }

    fn admit_one(&mut self, id: ParticipantId) -> Result<(), EngineError> {
        let waiter = self.waiting.take(id).ok_or(EngineError::NotWaiting)?;
        let Waiter {
            id,
            connection,
            name,
            profile,
            identity,
            link,
            token,
            lost,
            ..
        } = waiter;
        if let Err(err) = self
            .room
            .admit(id, name, profile, Role::Participant, identity)
        {
            let _ = link.try_send(Utf8Bytes::from(views::error(err).encode()));
            link.close_after(close::REFUSED);
            return Err(err);
        }
        if lost.is_some() {
            // Their connection is lost: they are in, reconnecting, and resume with the
            // token they waited with.
            self.seat_lost(id, token, connection);
        } else {
            // The token they waited with stays good until they come back with the new one.
            self.attach_on(id, link, false, Some(token), connection);
        }
        Ok(())
    }

    /// A host turns people away, with an optional message to them.
    pub(super) fn turn_away(
        &mut self,
        from: ParticipantId,
        ids: Vec<ParticipantId>,
        message: Option<String>,
    ) -> Result<(), EngineError> {
        self.room.may_manage_waiting_room(from)?;
        let message = clean_waiting_message(message.as_deref().unwrap_or(""))?;
        let frame = Utf8Bytes::from(
            ServerMessage::TurnedAway {
                message: message.clone(),
            }
            .encode(),
        );
        let mut result = Ok(());
        for id in ids {
            match self.waiting.take(id) {
                Some(waiter) => {
                    let _ = waiter.link.try_send(frame.clone());
                    waiter.link.close_after(close::TURNED_AWAY);
                    if !self.grace.is_zero() {
                        if self.waiting.turned_away.len() >= WAITING_CAPACITY {
                            self.waiting.turned_away.pop_front();
                        }
                        self.waiting.turned_away.push_back(TurnedAway {
                            id: waiter.id,
                            token: waiter.token,
                            message: message.clone(),
                            until: self.now + self.grace,
                        });
                    }
                }
                None => result = Err(EngineError::NotWaiting),
            }
        }
        result
    }

    /// The hosts' view of the waiting room.
    pub(super) fn waiting_room_view(&self) -> ServerMessage {
        let now = self.now;
        ServerMessage::WaitingRoom {
            on: self.room.has_waiting_room(),
            people: self
                .waiting
                .people
                .iter()
                .map(|w| WaitingInfo {
                    id: w.id.to_string(),
                    name: w.name.as_str().to_owned(),
                    profile: w.profile.as_ref().map(|p| p.as_str().to_owned()),
                    waited_s: now.saturating_duration_since(w.since).as_secs(),
                })
                .collect(),
        }
    }

    /// Tells every host of the waiting room, if it changed since they were last told.
    pub(super) fn report_waiting_room(&mut self) {
        if !std::mem::take(&mut self.waiting.changed) {
            return;
        }
        let room = &self.room;
        let frame = Utf8Bytes::from(self.waiting_room_view().encode());
        for (id, session) in &self.sessions {
            if room.participant(*id).is_some_and(|p| p.role == Role::Host) {
                // An event: a host who cannot take it owes a snapshot, and a full queue
                // closes them as any other event would.
                let _ = session.outbox.try_send(frame.clone());
            }
        }
    }
}
