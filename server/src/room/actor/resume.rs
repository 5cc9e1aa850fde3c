//! Connections that drop and come back. Every participant holds a seat: their current
//! connection and a resume token (a new one with every welcome). The token a client came
//! back with stays good too, until it comes back with the newer one (or leaves): a
//! connection that dies again before its welcome arrives leaves the client holding the
//! token it presented, and that must not turn it into someone new. A session that ends
//! without leaving on purpose leaves the seat empty for the grace window: the participant
//! stays in the room, marked as reconnecting, and a `hello` with the token within the
//! window puts a new connection in the seat, with everything as it was. A client that
//! resumes before the server noticed its old connection die replaces that connection
//! (closed with [`close::REPLACED`]). Once the window has passed, the participant is
//! removed, exactly once.
//!
//! A page that went away (the browser closes with 1001: a reload, or a closed tab; pages
//! cannot tell which) is different: the participant leaves the room at once, so that
//! nobody talks to a ghost, but is *parked*: their token stays good for the grace window,
//! and a reload that comes back with it re-enters as they were (same id, name, role, hand
//! and media, walking back to where they stood, so their circle forms again).

use std::time::Duration;

use hallway_proto::close;
use tokio::sync::oneshot;
use tokio::time::Instant;
use tracing::debug;
use tungstenite::protocol::frame::Utf8Bytes;

use super::{Actor, JoinError, OutboxSender, Owed, Session};
use crate::room::model::{Participant, ParticipantId, Role};
use crate::room::views;

/// How long a lost participant keeps their place unless configured otherwise.
pub(crate) const DEFAULT_GRACE: Duration = Duration::from_secs(30);

/// One connection of a participant. After a resume, what the old connection's session
/// says no longer counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnectionId(u64);

/// A participant's place in the room, as one connection holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seat {
    /// The participant.
    pub id: ParticipantId,
    /// The connection that holds the seat.
    pub connection: ConnectionId,
    /// Came back with a resume token, rather than joining as someone new.
    pub resumed: bool,
}

/// How a session ended, as the room sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Departure {
    /// On purpose (`leave`, or the client closed the connection): removed at once.
    Left,
    /// The connection dropped, died or fell behind: reconnecting, kept for the grace
    /// window.
    Reconnecting,
    /// The page went away (reloaded, or its tab closed): gone from the room at once,
    /// parked for the grace window.
    Unloaded,
}

/// The actor's record of a seat.
#[derive(Debug)]
pub(super) struct SeatState {
    connection: ConnectionId,
    /// The token of the latest welcome.
    token: String,
    /// The token the client came back with, good until it presents `token`.
    presented: Option<String>,
}

impl SeatState {
    /// Every token that names this seat.
    fn tokens(&self) -> impl Iterator<Item = &String> {
        std::iter::once(&self.token).chain(self.presented.as_ref())
    }
}

/// A participant whose page went away, as they were, until the grace window ends.
#[derive(Debug)]
pub(super) struct Parked {
    was: Participant,
    /// Invited to broadcast, or on air.
    invited: bool,
    /// The tokens that bring them back (see [`SeatState`]).
    tokens: Vec<String>,
    deadline: Instant,
}

/// A fresh resume token: 128 random bits from the thread's CSPRNG, in hex.
pub(super) fn new_token() -> String {
    format!("{:032x}", rand::random::<u128>())
}

impl Actor {
    /// Whether a parked host (their page went away, for the grace window) goes by `name`.
    pub(super) fn parked_host_named(&self, name: &crate::room::model::DisplayName) -> bool {
        let key = crate::room::text::name_key(name.as_str());
        self.parked.values().any(|p| {
            p.was.role == crate::room::model::Role::Host
                && crate::room::text::name_key(p.was.name.as_str()) == key
        })
    }

    /// Gives a participant already in the engine a new connection: a new resume token,
    /// the welcome, and the routes that reach them. `presented` is the token they came
    /// back with, if they resumed: it stays good until they come back with the new one.
    pub(super) fn attach(
        &mut self,
        id: ParticipantId,
        link: OutboxSender,
        presented: Option<String>,
    ) -> Seat {
        let connection = self.next_connection();
        let resumed = presented.is_some();
        self.attach_on(id, link, resumed, presented, connection)
    }

    /// A new connection's number.
    pub(super) fn next_connection(&mut self) -> ConnectionId {
        let connection = ConnectionId(self.next_connection);
        self.next_connection += 1;
        connection
    }

    /// [`Actor::attach`] on a connection numbered already (someone admitted from the
    /// waiting room keeps the session they waited on).
    pub(super) fn attach_on(
        &mut self,
        id: ParticipantId,
        link: OutboxSender,
        resumed: bool,
        presented: Option<String>,
        connection: ConnectionId,
    ) -> Seat {
        let token = new_token();
        if let Some(old) = self.seats.remove(&id) {
            for old in old.tokens() {
                if Some(old) != presented.as_ref() {
                    self.tokens.remove(old);
                }
            }
        }
        self.tokens.insert(token.clone(), id);
        if let Some(presented) = &presented {
            self.tokens.insert(presented.clone(), id);
        }
        self.seats.insert(
            id,
            SeatState {
                connection,
                token: token.clone(),
                presented,
            },
        );
        let ice_servers = self
            .media
            .as_ref()
            .map(|m| m.ice_servers(id))
            .unwrap_or_default();
        // Back on a node whose SFU never knew them (the room moved here): their media
        // connections are to a server that is gone.
        let sfu_reset = self.media.as_ref().is_some_and(|m| !m.has(id));
        let near = self
            .light_welcomes()
            .then(|| self.room.participant(id).map(|p| p.position))
            .flatten()
            .map(|at| crate::room::roster::near(&self.room, id, at));
        let welcome = views::welcome(
            &self.room,
            (id, near),
            self.tick_hz,
            ice_servers,
            token,
            resumed,
            sfu_reset,
        );
        // The queue is new (or, for someone admitted from the waiting room, holds a few
        // frames at most), so the welcome fits (and a host's icebreakers). A new queue's
        // welcome is encoded on the session's task, not here: a light welcome is tens of
        // kilobytes of JSON, and the room's task is the one thing a big room cannot spread.
        let _ = link.lead(move || Utf8Bytes::from(welcome.encode()));
        if self
            .room
            .participant(id)
            .is_some_and(|p| p.role == Role::Host)
        {
            let _ = link.try_send(Utf8Bytes::from(views::icebreakers(&self.room).encode()));
            let _ = link.try_send(Utf8Bytes::from(self.waiting_room_view().encode()));
        }
        self.directory.insert(id, link.clone());
        self.directory
            .set_circle(id, self.room.participant(id).and_then(|p| p.circle));
        if let Some(media) = &self.media {
            media.join(id, link.clone());
        }
        self.sessions.insert(
            id,
            Session {
                outbox: link,
                owes: Owed::Nothing,
                stalled_ticks: 0,
                view: None,
                by_node: false,
            },
        );
        Seat {
            id,
            connection,
            resumed,
        }
    }

    /// A seat held by `token` alone, on `connection`.
    fn seat_with(&mut self, id: ParticipantId, token: String, connection: ConnectionId) {
        self.tokens.insert(token.clone(), id);
        self.seats.insert(
            id,
            SeatState {
                connection,
                token,
                presented: None,
            },
        );
    }

    /// Gives someone admitted while their connection was lost a seat held by `token` (the
    /// one they waited with): they are reconnecting, and resume with it within the grace
    /// window.
    pub(super) fn seat_lost(&mut self, id: ParticipantId, token: String, connection: ConnectionId) {
        self.seat_with(id, token, connection);
        self.detach(id, self.grace);
    }

    /// A participant came back with their token: on a new connection, as they were.
    pub(super) fn resume(
        &mut self,
        id: ParticipantId,
        token: String,
        link: OutboxSender,
        reply: oneshot::Sender<Result<Seat, JoinError>>,
    ) {
        if let Some(parked) = self.parked.remove(&id) {
            self.unpark(parked, token, link, reply);
            return;
        }
        if let Some(old) = self.sessions.remove(&id) {
            // The client gave up on a connection the server still thought alive.
            old.outbox.kick(close::REPLACED);
        }
        // Their connections to the SFU stay up (media does not go through the WebSocket);
        // `attach` tells the SFU where to reach them now.
        self.reconnecting.remove(&id);
        // The token named someone in the room (tokens go when their participant does).
        let _ = self.room.resume(id);
        let seat = self.attach(id, link, Some(token));
        metrics::counter!(crate::metrics::RESUMES).increment(1);
        debug!(room = %self.room.settings().slug, "participant resumed");
        if reply.send(Ok(seat)).is_err() {
            // The new session went away too; wait for the next one.
            self.detach(id, self.grace);
        }
    }

    /// A reload came back: the participant re-enters as they were.
    fn unpark(
        &mut self,
        parked: Parked,
        token: String,
        link: OutboxSender,
        reply: oneshot::Sender<Result<Seat, JoinError>>,
    ) {
        for token in &parked.tokens {
            self.tokens.remove(token);
        }
        let id = parked.was.id;
        if let Err(err) = self.room.readmit(&parked.was, parked.invited) {
            // Banned since they left.
            self.seats.remove(&id);
            let _ = reply.send(Err(err.into()));
            return;
        }
        let seat = self.attach(id, link, Some(token));
        metrics::counter!(crate::metrics::RESUMES).increment(1);
        debug!(room = %self.room.settings().slug, "participant came back after a reload");
        if reply.send(Ok(seat)).is_err() {
            // The page went away again before its welcome (a second reload): it still
            // holds the token it came with, so it is parked again under that one.
            self.sessions.remove(&id);
            if let Some(seat) = self.seats.remove(&id) {
                for token in seat.tokens() {
                    self.tokens.remove(token);
                }
            }
            if let Some(was) = self.room.participant(id).cloned() {
                for token in &parked.tokens {
                    self.tokens.insert(token.clone(), id);
                }
                self.parked.insert(
                    id,
                    Parked {
                        was,
                        invited: parked.invited,
                        tokens: parked.tokens,
                        deadline: parked.deadline,
                    },
                );
            }
            let _ = self.room.step_out(id);
        }
    }

    /// The page went away: the participant leaves the room now, and their token stays
    /// good for the grace window (see the module's description).
    fn park(&mut self, id: ParticipantId) {
        self.sessions.remove(&id);
        let tokens = self
            .seats
            .get(&id)
            .map(|s| s.tokens().cloned().collect::<Vec<_>>());
        if let (Some(was), Some(tokens), false) = (
            self.room.participant(id).cloned(),
            tokens,
            self.grace.is_zero(),
        ) {
            let deadline = self.now + self.grace;
            let invited = self.room.on_air_or_invited(id);
            self.parked.insert(
                id,
                Parked {
                    was,
                    invited,
                    tokens,
                    deadline,
                },
            );
            // Kept: the chat of a room whose last person is reloading.
            let _ = self.room.step_out(id);
            return;
        }
        let _ = self.room.leave(id);
    }

    /// A session ended.
    pub(super) fn departed(&mut self, seat: Seat, departure: Departure) {
        if self.waiter_departed(seat, departure) {
            return;
        }
        let current = self.seats.get(&seat.id).map(|s| s.connection);
        if current != Some(seat.connection) {
            // Replaced by a resumed connection, or the participant is gone already.
            return;
        }
        match departure {
            Departure::Left => {
                self.sessions.remove(&seat.id);
                // The seat existed, so the participant is in the room.
                let _ = self.room.leave(seat.id);
            }
            Departure::Reconnecting => self.detach(seat.id, self.grace),
            Departure::Unloaded => self.park(seat.id),
        }
    }

    /// Empties a participant's seat: nothing reaches them until they resume, and they
    /// are removed when `grace` ends (at once if there is none).
    pub(super) fn detach(&mut self, id: ParticipantId, grace: Duration) {
        self.sessions.remove(&id);
        if grace.is_zero() {
            let _ = self.room.leave(id);
            return;
        }
        // Their media through the SFU goes on: a broadcast to the whole room does not stop
        // for a blip in the broadcaster's signalling. It ends if they do not come back.
        if self.room.start_reconnecting(id).is_ok() {
            let deadline = self.now + grace;
            self.reconnecting.entry(id).or_insert(deadline);
        }
    }

    /// Removes whoever did not come back within the grace window, as of `now`.
    pub(super) fn expire(&mut self, now: Instant) {
        self.expire_waiting(now);
        if !self.parked.is_empty() {
            let tokens = &mut self.tokens;
            self.parked.retain(|_, parked| {
                let keep = parked.deadline > now;
                if !keep {
                    for token in &parked.tokens {
                        tokens.remove(token);
                    }
                }
                keep
            });
            if self.parked.is_empty() {
                // Nobody is coming back: an empty room forgets its chat now.
                self.room.forget_chat_if_empty();
            }
        }
        if self.reconnecting.is_empty() {
            return;
        }
        let expired: Vec<ParticipantId> = self
            .reconnecting
            .iter()
            .filter(|(_, deadline)| **deadline <= now)
            .map(|(id, _)| *id)
            .collect();
        if expired.is_empty() {
            return;
        }
        for id in expired {
            self.reconnecting.remove(&id);
            let _ = self.room.leave(id);
        }
        self.dispatch();
    }

    /// Seats for participants restored from a snapshot: each keeps the token they had
    /// and waits, reconnecting, for the grace window.
    pub(super) fn restore_seats(&mut self, seats: Vec<(ParticipantId, String)>) {
        for (id, token) in seats {
            let connection = ConnectionId(self.next_connection);
            self.next_connection += 1;
            if token.is_empty() || self.grace.is_zero() {
                let _ = self.room.leave(id);
                continue;
            }
            self.seat_with(id, token, connection);
            self.reconnecting.insert(id, self.now + self.grace);
        }
        // Tells the directory and the SFU routes of the circles formed again; nobody
        // is connected to hear the rest.
        self.dispatch();
    }

    /// The room's state with everyone's resume token.
    pub(super) fn state(&self) -> crate::room::engine::snapshot::WrittenState {
        let mut state = self.room.state();
        for person in &mut state.people {
            if let Some(seat) = person
                .id
                .parse()
                .ok()
                .and_then(|id: ParticipantId| self.seats.get(&id))
            {
                person.token.clone_from(&seat.token);
            }
        }
        state
    }

    /// Forgets the seat of a participant who left the room, however they left (a parked
    /// participant's token stays good).
    pub(super) fn forget(&mut self, id: ParticipantId) {
        if let Some(seat) = self.seats.remove(&id)
            && !self.parked.contains_key(&id)
        {
            for token in seat.tokens() {
                self.tokens.remove(token);
            }
        }
        self.reconnecting.remove(&id);
    }
}
