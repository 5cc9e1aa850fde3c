//! What a participant can ask of their room once joined, and how the engine applies it:
//! the engine's input. Sessions build a [`Command`] from a client message
//! (`session/classify.rs`); the room's task hands it to [`Room::apply`] with the time.

use super::{ChatTarget, GatherTarget, Room};
use crate::room::model::{Area, EngineError, Media, ParticipantId, Reaction};

/// What a participant can ask of their room once joined.
#[derive(Debug)]
pub enum Command {
    /// Walk to a point.
    Move {
        /// Requested x, unvalidated.
        x: f64,
        /// Requested y, unvalidated.
        y: f64,
        /// A step on the way: no circle forms or is joined here.
        walking: bool,
    },
    /// Lock or unlock one's circle.
    Lock(bool),
    /// Report microphone, camera and screen state.
    Media(Media),
    /// Raise or lower one's hand.
    Hand(bool),
    /// React.
    React(Reaction),
    /// Start or stop one's broadcast.
    Broadcast(bool),
    /// Host: invite a participant onto the stage.
    InviteToStage(ParticipantId),
    /// Host: ask someone over to one's circle.
    InviteToCircle(ParticipantId),
    /// Host: ask for the organiser summary.
    Summary,
    /// Host: mute a participant.
    Mute(ParticipantId),
    /// Host: remove (and ban) a participant.
    Remove {
        /// Who.
        target: ParticipantId,
        /// Ban too.
        ban: bool,
    },
    /// Host: lock or unlock the room.
    LockRoom(bool),
    /// Host: post or clear the announcement.
    Announce(String),
    /// Host: gather everyone.
    Gather(GatherTarget),
    /// Host: replace the areas.
    SetAreas(Vec<Area>),
    /// Host: show a built-in floor plan (`builtin:<name>`), or none.
    SetFloorPlan(Option<String>),
    /// Host: turn icebreakers on or off and replace the room's own prompts.
    SetIcebreakers {
        /// New circles get a prompt.
        on: bool,
        /// The room's own prompts, unchecked.
        prompts: Vec<String>,
    },
    /// Host: turn the waiting room on or off.
    SetWaitingRoom(bool),
    /// Host: let people in from the waiting room.
    Admit {
        /// Who (ids that name nobody are `NOBODY`).
        ids: Vec<ParticipantId>,
        /// Everyone waiting, whatever `ids` says.
        all: bool,
    },
    /// Host: turn people in the waiting room away.
    TurnAway {
        /// Who.
        ids: Vec<ParticipantId>,
        /// To them, unchecked.
        message: Option<String>,
    },
    /// Send a chat message.
    Chat {
        /// To whom.
        target: ChatTarget,
        /// The text, unchecked.
        text: String,
    },
}

impl Room {
    /// Applies one command from `from`: what the room's task does with it, as a pure
    /// function (`now_ms`, milliseconds since the Unix epoch, stamps chat messages,
    /// raised hands and bans).
    pub fn apply(
        &mut self,
        from: ParticipantId,
        command: Command,
        now_ms: u64,
    ) -> Result<(), EngineError> {
        match command {
            Command::Move {
                x,
                y,
                walking: false,
            } => self.move_to(from, x, y),
            Command::Move {
                x,
                y,
                walking: true,
            } => self.walk_step(from, x, y),
            Command::Lock(locked) => self.set_locked(from, locked),
            Command::Media(media) => self.set_media(from, media),
            Command::Chat { target, text } => self.chat(from, target, &text, now_ms),
            Command::Hand(raised) => self.set_hand(from, raised, now_ms),
            Command::React(reaction) => self.react(from, reaction),
            Command::Broadcast(on) => self.set_broadcast(from, on),
            Command::InviteToStage(target) => self.invite_to_stage(from, target),
            Command::InviteToCircle(target) => self.invite_to_circle(from, target),
            Command::Summary => self.ask_summary(from),
            Command::Mute(target) => self.mute(from, target),
            Command::Remove { target, ban } => self.remove(from, target, ban, now_ms / 1000),
            Command::LockRoom(locked) => self.lock_room(from, locked),
            Command::Announce(text) => self.announce(from, &text),
            Command::Gather(to) => self.gather(from, to).map(|_| ()),
            Command::SetAreas(areas) => self.set_areas(from, areas),
            Command::SetFloorPlan(plan) => self.set_floor_plan(from, plan.as_deref()),
            Command::SetIcebreakers { on, prompts } => self.set_icebreakers(from, on, &prompts),
            // The waiting room's queue is the room task's (`actor/waiting.rs`): here, only
            // whether the sender may manage it.
            Command::SetWaitingRoom(_) | Command::Admit { .. } | Command::TurnAway { .. } => {
                self.may_manage_waiting_room(from)
            }
        }
    }
}
