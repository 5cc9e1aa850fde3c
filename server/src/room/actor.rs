//! The room actor: one task owns one room's engine. It takes requests from sessions through
//! a bounded inbox, fans events out at once and positions on a tick, and never waits on a
//! client: every send to a session is a `try_send` into that session's bounded queue.
//!
//! A session that cannot keep up first loses position ticks and changes of room state (it
//! gets the full positions, or a full snapshot, once it has room again); if it stays stuck
//! for five seconds, or a message meant for it alone (a signal) does not fit even in the
//! reserve, it is disconnected with [`close::SLOW_CONSUMER`](hallway_proto::close::SLOW_CONSUMER).
//!
//! A participant whose connection is lost (dropped, dead, too slow) is not removed at
//! once: they keep their place for the grace window, everyone sees them as reconnecting,
//! and a `hello` with their resume token within the window gives them back (see
//! `resume.rs`). Only leaving on purpose removes at once.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

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
use crate::room::media::MediaRoutes;

mod alone;
mod fanout;
mod handle;
mod options;
mod resume;
mod roster;
mod round;
mod sight;
mod summary;

pub use handle::{JoinError, RoomAbout, RoomHandle};
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
    /// Close every session with this code and stop: [`close::SERVICE_RESTART`](hallway_proto::close::SERVICE_RESTART) (in a
    /// cluster: this node no longer owns the room; they reconnect) or
    /// [`close::GOING_AWAY`](hallway_proto::close::GOING_AWAY) (the room was closed; they do not).
    Stop(u16),
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

#[cfg(test)]
#[path = "actor_relayed_tests.rs"]
mod relayed_tests;
