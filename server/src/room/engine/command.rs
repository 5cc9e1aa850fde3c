//! The engine's input and output: what a participant can ask of their room once joined
//! ([`Command`], decoded from a client message by [`Command::decode`]), how the engine
//! applies it ([`Room::apply`], which the room's task calls with the time), and what
//! happened ([`Event`], which `room::views::news` turns into messages).

use hallway_proto::{ClientMessage, ErrorCode, limits as proto_limits};

use super::{GatherTarget, Room};
use crate::room::chat::ChatMessage;
use crate::room::model::{
    Area, CircleId, EngineError, Media, ParticipantId, Point, Reaction, Rect, Refusal,
};

/// The most ids one `admit` or `turn_away` names: the waiting room's capacity.
const MAX_WAITING_IDS: usize = 500;

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
    /// The part of the floor one's page shows (checked): what the room's task sends one
    /// at once and what about once a second (`actor/sight.rs`).
    View(Rect),
    /// Tell one about these participants (`who`; checked).
    Who(Vec<ParticipantId>),
    /// Find participants by name or profile line (`find`; checked).
    Find(String),
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
    /// Host: invite a participant to broadcast.
    InviteToBroadcast(ParticipantId),
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

/// Something that happened, for the actor to tell the right people.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A participant entered the room.
    Joined(ParticipantId),
    /// A participant left the room.
    Left(ParticipantId),
    /// A circle formed or its members, centre or lock changed.
    CircleChanged(CircleId),
    /// A circle dissolved.
    CircleDissolved(CircleId),
    /// Two members of one circle should connect; `initiator` makes the offer.
    Connect {
        /// Makes the WebRTC offer: the one who just arrived.
        initiator: ParticipantId,
        /// Waits for the offer.
        responder: ParticipantId,
    },
    /// Two participants are no longer in one circle and should hang up.
    Disconnect {
        /// The one who left.
        leaver: ParticipantId,
        /// The one who stays.
        stayer: ParticipantId,
    },
    /// A participant walked into a circle that would not have them; they stand outside it.
    Refused {
        /// Who was refused.
        participant: ParticipantId,
        /// Which circle refused.
        circle: CircleId,
        /// Why.
        reason: Refusal,
    },
    /// A participant's connection dropped (`on`), or they resumed (`off`).
    Reconnecting {
        /// Who.
        id: ParticipantId,
        /// Waiting for them now.
        on: bool,
    },
    /// A member of a mesh circle resumed: the pair keeps its WebRTC connection (or makes
    /// a new one) and restarts ICE, the one who came back offering.
    RestartIce {
        /// The one who came back: makes the offer.
        initiator: ParticipantId,
        /// The other member.
        responder: ParticipantId,
    },
    /// A participant's microphone, camera or screen share changed.
    MediaChanged(ParticipantId),
    /// A chat message to deliver (to whom: its scope).
    Chat(ChatMessage),
    /// A participant raised or lowered their hand.
    Hand(ParticipantId),
    /// A participant reacted (applause, ...): shown to everyone, not kept.
    Reaction {
        /// Who.
        id: ParticipantId,
        /// Which reaction.
        reaction: Reaction,
    },
    /// A host muted a participant's microphone.
    Muted {
        /// Whose.
        target: ParticipantId,
        /// The host.
        by: ParticipantId,
    },
    /// A host removed a participant (who is gone from the room when this is handled).
    Removed {
        /// Who.
        target: ParticipantId,
        /// Banned too.
        ban: bool,
    },
    /// A host locked or unlocked the room.
    RoomLocked(bool),
    /// A host posted (or cleared) the announcement.
    Announcement,
    /// Someone started or stopped broadcasting to the whole room.
    Broadcast {
        /// Who.
        id: ParticipantId,
        /// Broadcasting now.
        on: bool,
    },
    /// A host invited a participant to broadcast.
    BroadcastInvite {
        /// Who is invited.
        target: ParticipantId,
        /// The host.
        by: ParticipantId,
    },
    /// A host asks someone over to their circle.
    CircleInvite {
        /// Who is asked.
        target: ParticipantId,
        /// The host.
        by: ParticipantId,
    },
    /// A host changed the room's areas.
    AreasChanged,
    /// A host or an operator changed the room's floor plan.
    FloorPlanChanged,
    /// A member of a circle with an icebreaker is to see it: the circle formed with
    /// them, or they entered it.
    Icebreaker {
        /// Who is to see it.
        participant: ParticipantId,
        /// Whose icebreaker.
        circle: CircleId,
    },
    /// A host or an operator changed the room's icebreakers (or saved them unchanged).
    IcebreakersChanged,
    /// A host asked for the organiser summary.
    Summary(ParticipantId),
    /// A host gathered everyone around a point.
    Gathered {
        /// The host.
        by: ParticipantId,
        /// Where.
        at: Point,
    },
}

/// Whom a participant addresses a chat message to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatTarget {
    /// Everyone in the room.
    Room,
    /// The sender's circle.
    MyCircle,
    /// One person in the room.
    Direct(ParticipantId),
}

/// What a client message is to the room.
#[derive(Debug)]
pub enum Decoded {
    /// A command for the room.
    Command(Command),
    /// A command refused before the room sees it: the wire code, and why.
    Refused(ErrorCode, &'static str),
    /// Not the room's: the session handles it itself (the handshake, leaving, pings,
    /// signals and real-time text it relays, the SFU).
    Session(ClientMessage),
}

impl Event {
    /// Whether this event changes what is written down in a way worth writing at once, rather
    /// than with the next regular write: someone arrived (with a new resume token), left,
    /// came back (a new token), or a circle formed or changed (its members stand where it
    /// formed); a host's decision (a removal, a ban, the lock, the announcement); a hand or
    /// media state. Positions alone, chat, reactions and signalling are not.
    pub(crate) fn worth_writing(&self) -> bool {
        match self {
            Event::Joined(_)
            | Event::Left(_)
            | Event::CircleChanged(_)
            | Event::CircleDissolved(_)
            | Event::Reconnecting { .. }
            | Event::MediaChanged(_)
            | Event::Hand(_)
            | Event::Muted { .. }
            | Event::Removed { .. }
            | Event::RoomLocked(_)
            | Event::Announcement
            | Event::Gathered { .. } => true,
            Event::Connect { .. }
            | Event::Disconnect { .. }
            | Event::Refused { .. }
            | Event::RestartIce { .. }
            | Event::Chat(_)
            | Event::Reaction { .. }
            | Event::Broadcast { .. }
            | Event::BroadcastInvite { .. }
            | Event::CircleInvite { .. }
            // Kept in the room's record, like the areas (not in its state).
            | Event::AreasChanged
            | Event::FloorPlanChanged
            | Event::Icebreaker { .. }
            | Event::IcebreakersChanged
            // Written down with the state every second anyway.
            | Event::Summary(_) => false,
        }
    }
}

impl Command {
    /// What a decoded client message asks of the room, if anything. Pure.
    pub fn decode(msg: ClientMessage) -> Decoded {
        let command = match msg {
            ClientMessage::Move { x, y, walking } => Command::Move { x, y, walking },
            ClientMessage::View {
                x,
                y,
                width,
                height,
            } => {
                let within = |v: f64| v.is_finite() && v.abs() <= proto_limits::MAX_COORDINATE;
                if !(within(x) && within(y) && within(width) && within(height))
                    || width < 0.0
                    || height < 0.0
                {
                    return Decoded::Refused(
                        ErrorCode::InvalidPosition,
                        "a view is x, y, width and height in floor units, within the protocol's range, its sides not negative",
                    );
                }
                Command::View(Rect {
                    x: x as f32,
                    y: y as f32,
                    width: width as f32,
                    height: height as f32,
                })
            }
            ClientMessage::Who { ids } => {
                if ids.len() > proto_limits::MAX_WHO {
                    return Decoded::Refused(
                        ErrorCode::InvalidMessage,
                        "a who asks for at most 100 participants",
                    );
                }
                Command::Who(ids.iter().map(|id| participant_id(id)).collect())
            }
            ClientMessage::Find { query } => {
                if !crate::room::text::valid_query(&query) {
                    return Decoded::Refused(
                        ErrorCode::InvalidMessage,
                        "a find query is 1 to 64 characters with a letter or digit to look for",
                    );
                }
                Command::Find(query)
            }
            ClientMessage::Mute { id } => Command::Mute(participant_id(&id)),
            ClientMessage::Remove { id, ban } => Command::Remove {
                target: participant_id(&id),
                ban,
            },
            ClientMessage::LockRoom { locked } => Command::LockRoom(locked),
            ClientMessage::Hand { raised } => Command::Hand(raised),
            ClientMessage::Broadcast { on } => Command::Broadcast(on),
            ClientMessage::InviteToBroadcast { id } => {
                Command::InviteToBroadcast(participant_id(&id))
            }
            ClientMessage::InviteToCircle { id } => Command::InviteToCircle(participant_id(&id)),
            ClientMessage::Summary => Command::Summary,
            ClientMessage::React { reaction } => match Reaction::from_name(&reaction) {
                Some(reaction) => Command::React(reaction),
                None => return Decoded::Refused(ErrorCode::UnknownReaction, "unknown reaction"),
            },
            ClientMessage::Announce { text } => Command::Announce(text),
            ClientMessage::SetFloorPlan { plan } => Command::SetFloorPlan(plan),
            ClientMessage::SetIcebreakers { on, prompts } => {
                Command::SetIcebreakers { on, prompts }
            }
            ClientMessage::SetWaitingRoom { on } => Command::SetWaitingRoom(on),
            ClientMessage::Admit { ids, .. } | ClientMessage::TurnAway { ids, .. }
                if ids.len() > MAX_WAITING_IDS =>
            {
                return Decoded::Refused(ErrorCode::InvalidMessage, "at most 500 ids at once");
            }
            ClientMessage::Admit { ids, all } => Command::Admit {
                ids: ids.iter().map(|id| participant_id(id)).collect(),
                all,
            },
            ClientMessage::TurnAway { ids, message } => Command::TurnAway {
                ids: ids.iter().map(|id| participant_id(id)).collect(),
                message,
            },
            ClientMessage::SetAreas { areas } => {
                Command::SetAreas(areas.into_iter().map(area_from_wire).collect())
            }
            ClientMessage::Gather { x, y, area } => match (x, y, area) {
                (_, _, Some(area)) => Command::Gather(GatherTarget::Area(area)),
                (Some(x), Some(y), None)
                    if x.abs() <= proto_limits::MAX_COORDINATE
                        && y.abs() <= proto_limits::MAX_COORDINATE =>
                {
                    Command::Gather(GatherTarget::Point(x as f32, y as f32))
                }
                // Like `move`: a point out of range is a position error, not a malformed
                // message.
                (Some(_), Some(_), None) => {
                    return Decoded::Refused(
                        ErrorCode::InvalidPosition,
                        "coordinates beyond the protocol's range",
                    );
                }
                _ => {
                    return Decoded::Refused(
                        ErrorCode::InvalidMessage,
                        "gather needs x and y, or an area",
                    );
                }
            },
            ClientMessage::Chat { to, text } => {
                let target = match to.as_str() {
                    "room" => ChatTarget::Room,
                    "circle" => ChatTarget::MyCircle,
                    id => ChatTarget::Direct(participant_id(id)),
                };
                Command::Chat { target, text }
            }
            ClientMessage::LockCircle { locked } => Command::Lock(locked),
            ClientMessage::Media {
                mic,
                camera,
                screen,
            } => Command::Media(Media {
                mic,
                camera,
                screen,
            }),
            msg @ (ClientMessage::Hello { .. }
            | ClientMessage::Leave
            | ClientMessage::Ping
            | ClientMessage::Signal { .. }
            | ClientMessage::Rtt { .. }
            | ClientMessage::SfuOffer { .. }
            | ClientMessage::SfuAnswer { .. }
            | ClientMessage::SfuUnpublish
            | ClientMessage::SfuRestart
            | ClientMessage::SfuView { .. }) => return Decoded::Session(msg),
        };
        Decoded::Command(command)
    }
}

/// The participant an id names; one that cannot be an id names nobody, and the room
/// answers `unknown_participant` as for any stranger.
fn participant_id(text: &str) -> ParticipantId {
    text.parse().unwrap_or(ParticipantId::NOBODY)
}

/// An area from the wire, unchecked (the engine checks it).
fn area_from_wire(a: hallway_proto::AreaInfo) -> Area {
    Area {
        id: a.id,
        name: a.name,
        rect: Rect {
            x: a.x,
            y: a.y,
            width: a.width,
            height: a.height,
        },
        stage: a.stage,
        quiet: a.quiet,
        max_people: a.max_people,
    }
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
            // What one's page shows is the room task's business (who is sent what, and
            // when); the rules of the room do not depend on it.
            Command::View(_) | Command::Who(_) | Command::Find(_) => Ok(()),
            Command::Lock(locked) => self.set_locked(from, locked),
            Command::Media(media) => self.set_media(from, media),
            Command::Chat { target, text } => self.chat(from, target, &text, now_ms),
            Command::Hand(raised) => self.set_hand(from, raised, now_ms),
            Command::React(reaction) => self.react(from, reaction),
            Command::Broadcast(on) => self.set_broadcast(from, on),
            Command::InviteToBroadcast(target) => self.invite_to_broadcast(from, target),
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
