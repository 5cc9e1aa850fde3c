//! A room's handle: the cheap, cloneable address through which sessions, the HTTP API and
//! the cluster ask a room's task (see the parent module) for what they need, and what it
//! answers a join that fails.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use hallway_proto::{ErrorCode, Payload, close};
use tokio::sync::{Notify, mpsc, oneshot, watch};

use super::{Actor, Departure, INBOX_CAPACITY, Request, RoomOptions, Seat, sight, waiting};
use crate::floor_plan::FloorPlan;
use crate::room::access::RoomAccess;
use crate::room::directory::Directory;
use crate::room::engine::snapshot::WrittenState;
use crate::room::engine::{Command, Room};
use crate::room::model::{DisplayName, EngineError, ParticipantId, ProfileLine, Role};
use crate::room::moderation::LinkIdentity;
use crate::room::views;
use crate::transport::outbox::OutboxSender;

/// Why a join was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JoinError {
    /// The engine refused (room full, ...).
    #[error(transparent)]
    Refused(#[from] EngineError),
    /// The resume token names no one here (any more).
    #[error("the resume token names no participant of this room")]
    NotResumed,
    /// The room's task has stopped (the server is shutting down).
    #[error("the room is closed")]
    Closed,
}

impl JoinError {
    /// The wire code for this refusal.
    pub fn code(self) -> ErrorCode {
        match self {
            JoinError::Refused(err) => views::error_code(err),
            // The session answers with the access refusal it already has.
            JoinError::NotResumed => ErrorCode::InvalidMessage,
            JoinError::Closed => ErrorCode::Internal,
        }
    }
}

/// A cheap, cloneable address of a running room.
#[derive(Debug, Clone)]
pub struct RoomHandle {
    inbox: mpsc::Sender<Request>,
    /// Circle membership and queues, for relaying signals without the room's task.
    directory: Arc<Directory>,
    /// Who may enter without a signed link (fixed while the room runs).
    access: Arc<RoomAccess>,
    /// Told when the room changed in a way worth writing down at once.
    changed: Arc<Notify>,
    /// What people may know of the room before they enter, as the room's task last said.
    about: watch::Receiver<RoomAbout>,
}

/// What someone who has not entered may know of a running room (for `/r/<room>/about`):
/// nothing about the people in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomAbout {
    /// The title.
    pub title: String,
    /// Locked against newcomers.
    pub locked: bool,
    /// The floor plan, if the room has one.
    pub plan: Option<FloorPlan>,
}

impl RoomAbout {
    pub(super) fn of(room: &Room) -> RoomAbout {
        RoomAbout {
            title: room.settings().title.clone(),
            locked: room.locked(),
            plan: room.floor_plan().cloned(),
        }
    }
}

impl RoomHandle {
    /// Starts the room's task on the current runtime.
    pub fn spawn(room: Room, tick_hz: u32) -> RoomHandle {
        RoomHandle::spawn_restored(room, tick_hz, RoomOptions::default())
    }

    /// Starts the room's task with the [`RoomOptions`]: an access rule for sessions to
    /// check, somewhere to keep the areas hosts edit and the summary, and how long a lost
    /// participant may take to resume. A room rebuilt from its state (see
    /// [`Room::restore`]) comes with `seats`: the participants in it, all reconnecting, may
    /// resume with their tokens within the grace window.
    pub fn spawn_restored(room: Room, tick_hz: u32, options: RoomOptions) -> RoomHandle {
        let RoomOptions {
            access,
            keep_settings,
            media,
            grace,
            seats,
            summary,
            welcome_roster,
        } = options;
        let mut room = room;
        // Each run of a room starts its turn through the icebreakers somewhere else.
        room.seed_icebreakers(rand::random());
        let (inbox, requests) = mpsc::channel(INBOX_CAPACITY);
        let (about_tx, about) = watch::channel(RoomAbout::of(&room));
        let directory = Arc::new(Directory::new());
        let changed = Arc::new(Notify::new());
        let sight = sight::Sight::new(room.settings().width, room.settings().height);
        let mut actor = Actor {
            changed: changed.clone(),
            directory: directory.clone(),
            room,
            tick_hz,
            roster: welcome_roster,
            sessions: HashMap::new(),
            pending_kicks: Vec::new(),
            positions: Vec::new(),
            sight,
            // Five seconds of ticks without room for positions.
            stall_limit: tick_hz.saturating_mul(5).max(1),
            keep_settings,
            about: about_tx,
            media,
            grace,
            seats: HashMap::new(),
            tokens: HashMap::new(),
            reconnecting: HashMap::new(),
            parked: HashMap::new(),
            next_connection: 0,
            waiting: waiting::WaitingRoom::default(),
            started: tokio::time::Instant::now(),
            now: tokio::time::Instant::now(),
            summary,
        };
        actor.restore_seats(seats);
        tokio::spawn(actor.run(requests));
        RoomHandle {
            inbox,
            directory,
            access: Arc::new(access),
            changed,
            about,
        }
    }

    /// What people may know of the room before they enter.
    pub fn about(&self) -> RoomAbout {
        self.about.borrow().clone()
    }

    /// Replaces the room's floor plan (an operator's change, or a host's upload the
    /// caller has checked); everyone in the room is told at once.
    pub async fn set_floor_plan(&self, plan: Option<FloorPlan>) -> Result<(), JoinError> {
        self.inbox
            .send(Request::FloorPlan(plan))
            .await
            .map_err(|_| JoinError::Closed)
    }

    /// Replaces the room's icebreaker settings (an operator's change, checked by the
    /// caller); circles forming from now on get prompts from the new list.
    pub async fn set_icebreakers(&self, on: bool, prompts: Vec<String>) -> Result<(), JoinError> {
        self.inbox
            .send(Request::Icebreakers { on, prompts })
            .await
            .map_err(|_| JoinError::Closed)
    }

    /// Turns the waiting room on or off (an operator's change; `message`, checked by the
    /// caller, replaces the room's message to people waiting). Off admits everyone waiting.
    pub async fn set_waiting_room(
        &self,
        on: bool,
        message: Option<String>,
    ) -> Result<(), JoinError> {
        self.inbox
            .send(Request::WaitingRoom { on, message })
            .await
            .map_err(|_| JoinError::Closed)
    }

    /// Resolves once the room has changed in a way worth writing down at once (someone
    /// arrived, left or came back, a circle formed, a host decided something; see
    /// [`Event::worth_writing`](crate::room::engine::Event::worth_writing)) since it last resolved;
    /// at once if it has.
    pub async fn changed(&self) {
        self.changed.notified().await;
    }

    /// Who may enter without a signed link.
    pub fn access(&self) -> &RoomAccess {
        &self.access
    }

    /// Relays a real-time text line to the sender's circle or whoever is on air; see
    /// [`Directory::relay_rtt`].
    pub fn relay_rtt(
        &self,
        from: ParticipantId,
        target: crate::room::rtt::RttTarget,
        circle: Option<crate::room::model::CircleId>,
        text: &str,
        done: bool,
    ) -> Result<(), EngineError> {
        self.directory.relay_rtt(from, target, circle, text, done)
    }

    /// Relays a signalling payload to a member of the sender's circle; see [`Directory`].
    pub fn relay(
        &self,
        from: ParticipantId,
        to: ParticipantId,
        payload: &Payload,
    ) -> Result<(), EngineError> {
        self.directory.relay(from, to, payload)
    }

    /// Asks to join, or with a resume token to come back as the participant it names
    /// (an unknown or expired token joins as someone new; [`Seat::resumed`] tells). The
    /// welcome arrives on the link's outbox before any other message.
    pub async fn join(
        &self,
        name: DisplayName,
        profile: Option<ProfileLine>,
        role: Role,
        identity: Option<LinkIdentity>,
        link: OutboxSender,
        resume: Option<String>,
    ) -> Result<Seat, JoinError> {
        let (reply, answer) = oneshot::channel();
        let request = Request::Join {
            name,
            profile,
            role,
            identity,
            link,
            resume,
            reply,
            asked: Instant::now(),
        };
        self.inbox
            .send(request)
            .await
            .map_err(|_| JoinError::Closed)?;
        answer.await.map_err(|_| JoinError::Closed)?
    }

    /// Comes back as the participant `token` names (it proves they were admitted: no
    /// passcode, link or name needed), or [`JoinError::NotResumed`] if it names no one.
    pub async fn resume(&self, token: String, link: OutboxSender) -> Result<Seat, JoinError> {
        let (reply, answer) = oneshot::channel();
        let request = Request::Resume { token, link, reply };
        self.inbox
            .send(request)
            .await
            .map_err(|_| JoinError::Closed)?;
        answer.await.map_err(|_| JoinError::Closed)?
    }

    /// Sends a participant's command; refusals come back as `error` messages on the outbox.
    /// Waits while the room's inbox is full: backpressure onto this one connection.
    pub async fn command(&self, from: ParticipantId, command: Command) -> Result<(), JoinError> {
        self.inbox
            .send(Request::Command { from, command })
            .await
            .map_err(|_| JoinError::Closed)
    }

    /// The node `from`'s page is connected to could not queue news for it (a cluster's
    /// relayed page that reads too slowly): the room catches it up with a snapshot.
    pub async fn missed(&self, from: ParticipantId) -> Result<(), JoinError> {
        self.inbox
            .send(Request::Missed(from))
            .await
            .map_err(|_| JoinError::Closed)
    }

    /// The room's state with everyone's resume token; `None` if the room has stopped.
    pub async fn state(&self) -> Option<WrittenState> {
        let (reply, answer) = oneshot::channel();
        self.inbox.send(Request::State(reply)).await.ok()?;
        answer.await.ok()
    }

    /// Closes every session (they are told to reconnect) and stops the room.
    pub async fn stop(&self) {
        let _ = self.inbox.send(Request::Stop(close::SERVICE_RESTART)).await;
    }

    /// Closes the room for good (an operator deleted it): every session is told the room
    /// closed ([`close::GOING_AWAY`]) and the room stops.
    pub async fn close(&self) {
        let _ = self.inbox.send(Request::Stop(close::GOING_AWAY)).await;
    }

    /// A session ended: the participant left on purpose (removed now), or their
    /// connection was lost (kept for the grace window). Ignored when the seat's
    /// connection was replaced by a resumed one.
    pub async fn leave(&self, seat: Seat, departure: Departure) {
        // If the room has stopped there is nobody left to tell.
        let _ = self.inbox.send(Request::Leave { seat, departure }).await;
    }
}
