//! The room actor: one task owns one room's engine. It takes requests from sessions through
//! a bounded inbox, fans events out at once and positions on a tick, and never waits on a
//! client: every send to a session is a `try_send` into that session's bounded queue.
//!
//! A session that cannot keep up first loses position ticks and changes of room state (it
//! gets the full positions, or a full snapshot, once it has room again); if it stays stuck
//! for five seconds, or a message meant for it alone (a signal) does not fit even in the
//! reserve, it is disconnected with [`close::SLOW_CONSUMER`].
//!
//! A participant whose connection is lost (dropped, dead, too slow) is not removed at
//! once: they keep their place for the grace window, everyone sees them as reconnecting,
//! and a `hello` with their resume token within the window gives them back (see
//! `resume.rs`). Only leaving on purpose removes at once.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hallway_proto::{ErrorCode, Payload, close};
use tokio::sync::{Notify, mpsc, oneshot, watch};

use crate::transport::outbox::{OutboxSender, SendError};
use tracing::debug;
use tungstenite::protocol::frame::Utf8Bytes;

use super::directory::Directory;
use super::engine::snapshot::WrittenState;
use super::engine::{Command, Room};
use super::model::{DisplayName, EngineError, ParticipantId, Point, ProfileLine, Role};
use super::moderation::LinkIdentity;
use super::views;
use crate::floor_plan::FloorPlan;
use crate::room::access::RoomAccess;
use crate::room::media::MediaRoutes;

mod alone;
mod fanout;
mod options;
mod resume;
mod roster;
mod round;
mod sight;
mod summary;

pub(crate) use options::RoomOptions;
pub(crate) use summary::{DEFAULT_SAMPLE_EVERY, SummaryOptions, SummarySink};
mod waiting;

pub(crate) use resume::{DEFAULT_GRACE, Departure, Seat};

/// Requests a room's inbox holds before senders wait. Sessions wait (and so stop reading
/// their socket), the room never does.
const INBOX_CAPACITY: usize = 4096;

pub(crate) use crate::transport::outbox::EVENT_RESERVE;

/// A request in a room's inbox.
#[derive(Debug)]
enum Request {
    Join {
        name: DisplayName,
        profile: Option<ProfileLine>,
        role: Role,
        identity: Option<LinkIdentity>,
        link: OutboxSender,
        /// The resume token the client came back with, if any.
        resume: Option<String>,
        reply: oneshot::Sender<Result<Seat, JoinError>>,
        /// When it was asked (how long joins wait is reported in `/metrics`).
        asked: Instant,
    },
    /// Back as the participant the resume token names, or [`JoinError::NotResumed`].
    Resume {
        token: String,
        link: OutboxSender,
        reply: oneshot::Sender<Result<Seat, JoinError>>,
    },
    Command {
        from: ParticipantId,
        command: Command,
    },
    Leave {
        seat: Seat,
        departure: Departure,
    },
    /// In a cluster, the node a page is connected to could not queue news for it: it
    /// owes the page a snapshot.
    Missed(ParticipantId),
    /// The room's state with everyone's resume token (for a cluster's snapshots).
    State(oneshot::Sender<WrittenState>),
    /// An operator (or a host, through an upload the HTTP edge checked) replaced the
    /// floor plan.
    FloorPlan(Option<FloorPlan>),
    /// An operator changed the icebreakers (checked).
    Icebreakers {
        on: bool,
        prompts: Vec<String>,
    },
    /// An operator turned the waiting room on or off, perhaps with a new message
    /// (checked).
    WaitingRoom {
        on: bool,
        message: Option<String>,
    },
    /// Close every session with this code and stop: [`close::SERVICE_RESTART`] (in a
    /// cluster: this node no longer owns the room; they reconnect) or
    /// [`close::GOING_AWAY`] (the room was closed; they do not).
    Stop(u16),
}

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
    fn of(room: &Room) -> RoomAbout {
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
    /// [`Event::worth_writing`](super::engine::Event::worth_writing)) since it last resolved;
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
        target: super::rtt::RttTarget,
        circle: Option<super::model::CircleId>,
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

/// Called with a room's settings after a host (or an operator) changed them, to keep them
/// (it must not block: it runs on the room's task).
pub(crate) type SettingsSink = Arc<dyn Fn(KeptSetting) + Send + Sync>;

/// A setting the room's task hands to be kept.
#[derive(Debug, Clone, PartialEq)]
pub enum KeptSetting {
    /// The areas, after a host edited them.
    Areas(Vec<super::model::Area>),
    /// The floor plan, after it changed.
    FloorPlan(Option<FloorPlan>),
    /// The icebreakers, after a host changed them.
    Icebreakers {
        /// New circles get a prompt.
        on: bool,
        /// The room's own prompts.
        prompts: Vec<String>,
    },
    /// The waiting room, after a host turned it on or off.
    WaitingRoom(bool),
}

/// The task's state.
struct Actor {
    /// Told of changes worth writing down at once (only a cluster's owner listens).
    changed: Arc<Notify>,
    /// Keeps the areas and floor plans hosts choose, if the rooms are stored.
    keep_settings: Option<SettingsSink>,
    /// Tells the room's handles what people outside may know of it.
    about: watch::Sender<RoomAbout>,
    /// Kept up to date for sessions that relay signals.
    directory: Arc<Directory>,
    /// Told who joins, leaves and broadcasts, to route forwarded media.
    media: Option<Arc<dyn MediaRoutes>>,
    /// The rules and the state.
    room: Room,
    /// Position ticks per second.
    tick_hz: u32,
    /// Rooms with more people welcome newcomers with those near only.
    roster: usize,
    /// Every joined participant's session.
    sessions: HashMap<ParticipantId, Session>,
    /// Sessions to remove once the current dispatch is done, and why.
    pending_kicks: Vec<(ParticipantId, Removal)>,
    /// Reused buffer for the tick's positions.
    positions: Vec<(ParticipantId, Point)>,
    /// What those who do not see everything are owed.
    sight: sight::Sight,
    /// Ticks a session may go without room for positions before it is disconnected.
    stall_limit: u32,
    /// How long a lost participant keeps their place.
    grace: Duration,
    /// Every participant's current connection and resume token.
    seats: HashMap<ParticipantId, resume::SeatState>,
    /// Resume tokens to the participant they name.
    tokens: HashMap<String, ParticipantId>,
    /// Reconnecting participants and when their grace window ends.
    reconnecting: HashMap<ParticipantId, tokio::time::Instant>,
    /// Participants whose page went away: gone from the room, back as they were if their
    /// token comes back within the grace window.
    parked: HashMap<ParticipantId, resume::Parked>,
    /// The next connection's number.
    next_connection: u64,
    /// Newcomers waiting for a host to admit them.
    waiting: waiting::WaitingRoom,
    /// When the room's task started: the clock of who is alone (monotonic, so that a
    /// correction of the system clock neither lists everyone nor resets every wait).
    started: tokio::time::Instant,
    /// The time of what is being handled: read once when a request arrives, the tick's
    /// scheduled time on a tick. Deadlines (grace windows, waits) are counted from it, so
    /// that the clock is read in one place, at the edge of the task.
    now: tokio::time::Instant,
    /// The summary's spacing and where it is kept, if it is.
    summary: SummaryOptions,
}

/// Why the actor removes a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Removal {
    /// Its queue overflowed: close it as a slow consumer.
    SlowConsumer,
    /// Its session already ended; its own leave is on the way.
    Gone,
}

impl Removal {
    fn after(err: &SendError) -> Removal {
        match err {
            SendError::Full => Removal::SlowConsumer,
            SendError::Closed => Removal::Gone,
        }
    }
}

/// What a session missed while its queue was short of room, to be sent when it has room.
/// Ordered: a snapshot includes every position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Owed {
    /// Up to date.
    Nothing,
    /// Missed a tick: owes every position.
    Positions,
    /// Missed a change of room state: owes a full snapshot.
    Snapshot,
}

/// One session as the actor sees it.
struct Session {
    outbox: OutboxSender,
    /// What it missed.
    owes: Owed,
    /// Consecutive ticks with no room for positions.
    stalled_ticks: u32,
    /// The part of the floor its page shows, once it said.
    view: Option<sight::View>,
    /// In a cluster, for a page connected to another node: that node was told its view,
    /// and cuts its ticks out of the room's movers itself (see `sight.rs`).
    by_node: bool,
}

impl Actor {
    async fn run(mut self, mut requests: mpsc::Receiver<Request>) {
        let period = Duration::from_secs(1) / self.tick_hz.max(1);
        let mut ticker = tokio::time::interval(period);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut alone = tokio::time::interval(alone::ALONE_EVERY);
        alone.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut summary = tokio::time::interval(summary::NOTE_EVERY);
        summary.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                request = requests.recv() => match request {
                    Some(Request::Stop(code)) => {
                        for link in self.sessions.values() {
                            link.outbox.kick(code);
                        }
                        self.keep_summary();
                        // They queue again wherever the room runs next (or, closed, not).
                        for link in self.waiting.links() {
                            link.kick(code);
                        }
                        break;
                    }
                    Some(request) => {
                        self.now = tokio::time::Instant::now();
                        self.handle(request);
                    }
                    None => break,
                },
                now = alone.tick() => {
                    self.now = self.now.max(now);
                    self.report_alone();
                }
                now = summary.tick() => {
                    self.now = self.now.max(now);
                    self.note_summary();
                }
                // The tick's scheduled time is the grace window's clock.
                now = ticker.tick() => {
                    // A late tick's scheduled time can be before the last request's.
                    self.now = self.now.max(now);
                    self.expire(now);
                    self.tick();
                }
            }
        }
        debug!(room = %self.room.settings().slug, "room stopped");
    }

    fn handle(&mut self, request: Request) {
        match request {
            Request::Join {
                name,
                profile,
                role,
                identity,
                link,
                resume,
                reply,
                asked,
            } => match resume.and_then(|token| Some((self.tokens.get(&token).copied()?, token))) {
                Some((id, token)) => self.resume(id, token, link, reply),
                None => {
                    if self.join(name, profile, role, identity, link, reply) {
                        metrics::histogram!(crate::metrics::JOIN_SECONDS).record(asked.elapsed());
                    }
                }
            },
            Request::Resume { token, link, reply } => match self.tokens.get(&token).copied() {
                Some(id) => self.resume(id, token, link, reply),
                None => self.wait_again(&token, link, reply),
            },
            Request::Command { from, command } => self.command(from, command),
            Request::Leave { seat, departure } => self.departed(seat, departure),
            Request::Missed(from) => {
                if let Some(session) = self.sessions.get_mut(&from) {
                    session.owes = Owed::Snapshot;
                }
            }
            Request::State(reply) => {
                let _ = reply.send(self.state());
            }
            Request::FloorPlan(plan) => self.room.replace_floor_plan(plan),
            Request::Icebreakers { on, prompts } => self.room.replace_icebreakers(on, prompts),
            Request::WaitingRoom { on, message } => self.replace_waiting_room(on, message),
            // Handled by the loop.
            Request::Stop(_) => {}
        }
        self.dispatch();
        self.report_waiting_room();
    }

    /// Admits a newcomer, or puts them in the waiting room, or refuses them; whether they
    /// were admitted at once.
    fn join(
        &mut self,
        name: DisplayName,
        profile: Option<ProfileLine>,
        role: Role,
        identity: Option<LinkIdentity>,
        link: OutboxSender,
        reply: oneshot::Sender<Result<Seat, JoinError>>,
    ) -> bool {
        let id = loop {
            let candidate = ParticipantId::draw();
            // 64 bits: a repeat is all but impossible, and checked all the same.
            if !self.id_taken(candidate) {
                break candidate;
            }
        };
        // A host whose page is reloading is out of the room for a moment: their name is
        // still theirs (the room checks the hosts inside).
        let fixed = identity.as_ref().is_some_and(|l| l.fixed_name.is_some());
        if role != Role::Host && !fixed && self.parked_host_named(&name) {
            let _ = reply.send(Err(EngineError::NameTaken.into()));
            return false;
        }
        if role != Role::Host && self.room.has_waiting_room() {
            self.wait(id, name, profile, identity, link, reply);
            return false;
        }
        if let Err(err) = self.room.admit(id, name, profile, role, identity) {
            let _ = reply.send(Err(err.into()));
            return false;
        }
        let building = Instant::now();
        let seat = self.attach(id, link, None);
        metrics::histogram!(crate::metrics::WELCOME_SECONDS).record(building.elapsed());
        if reply.send(Ok(seat)).is_err() {
            // The session went away while waiting; undo.
            self.sessions.remove(&id);
            let _ = self.room.leave(id);
            return false;
        }
        true
    }

    /// Whether `id` names someone already: in the room, waiting, turned away lately, or
    /// with a seat (a page reloading, a host parked).
    fn id_taken(&self, id: ParticipantId) -> bool {
        self.room.participant(id).is_some()
            || self.waiting.holds(id)
            || self.waiting.turned_away(id)
            || self.parked.contains_key(&id)
            || self.seats.contains_key(&id)
    }

    fn command(&mut self, from: ParticipantId, command: Command) {
        if self.waiting.holds(from) {
            // Their session's queue is theirs alone: nothing of the room goes with it.
            if let Some(link) = self.waiting_link(from) {
                let _ = link.try_send(Utf8Bytes::from(views::error(EngineError::Waiting).encode()));
            }
            return;
        }
        if !self.sessions.contains_key(&from) {
            return;
        }
        let result = match command {
            Command::View(rect) => {
                self.look(from, rect);
                Ok(())
            }
            Command::Who(ids) => {
                self.who(from, &ids);
                Ok(())
            }
            Command::Find(query) => {
                self.find(from, query);
                Ok(())
            }
            Command::SetWaitingRoom(on) => self.set_waiting_room(from, on),
            Command::Admit { ids, all } => self.admit(from, ids, all),
            Command::TurnAway { ids, message } => self.turn_away(from, ids, message),
            command => self.room.apply(from, command, now_ms()),
        };
        if let Err(err) = result {
            let code = views::error_code(err).as_str();
            metrics::counter!(crate::metrics::ERRORS, "code" => code).increment(1);
            self.send(from, Utf8Bytes::from(views::error(err).encode()));
        }
    }
}

/// Milliseconds since the Unix epoch: the room's task is the edge where chat messages get
/// their time (the engine takes it as an argument).
fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
#[path = "actor_tests.rs"]
mod tests;
