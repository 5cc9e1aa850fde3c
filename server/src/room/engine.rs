//! The room engine: the authoritative state of one room and its rules, with no I/O, no
//! clock and no async. Commands change the state and queue [`Event`]s; the room actor
//! drains them and turns them into messages.
//!
//! Circle rules: walking into a circle's join radius joins it unless it is full
//! or locked (hosts may enter locked circles); two free participants within the forming
//! distance form a circle (not in a quiet area); a member beyond radius + hysteresis leaves;
//! a circle left with one member dissolves. Whenever there is a choice (several circles or
//! partners in reach) the nearest wins and ties go to the lowest id, so the outcome never
//! depends on hash-map iteration order.

use std::collections::{BTreeMap, HashMap};

mod alone;
mod circles;
mod command;
mod hosts;
mod icebreakers;
mod presence;
pub(crate) mod snapshot;

pub(crate) use command::{ChatTarget, Event};
pub use command::{Command, Decoded};
pub(crate) use hosts::GatherTarget;
mod spawn;
mod summary;
pub(crate) mod waiting;

use super::chat::{ChatLog, ChatMessage, ChatScope, clean_text};
use super::grid::Grid;
use super::model::{
    Area, Circle, CircleId, DisplayName, EngineError, Media, Participant, ParticipantId, Point,
    ProfileLine, Reaction, Refusal, Role, RoomSettings,
};
use super::moderation::{Bans, LinkIdentity};

/// Grid cell size in floor units: about one forming distance, so a neighbour query looks
/// at a 3 × 3 block of cells.
const CELL: f32 = 100.0;

/// One room's state and rules.
#[derive(Debug)]
pub struct Room {
    /// Floor, limits and areas.
    settings: RoomSettings,
    /// Everyone in the room. Never iterated where order matters.
    participants: HashMap<ParticipantId, Participant>,
    /// Every circle, ordered by id.
    circles: BTreeMap<CircleId, Circle>,
    /// Participants by position.
    people_index: Grid<ParticipantId>,
    /// Circles by centre.
    circle_index: Grid<CircleId>,
    /// Next circle id; ids are not reused.
    next_circle: u64,
    /// Participants who moved since the last [`Room::take_moved`], each once.
    moved: Vec<ParticipantId>,
    /// Events not yet drained by the actor.
    events: Vec<Event>,
    /// Recent room chat, for late joiners; in memory only.
    chat: ChatLog,
    /// Locked against newcomers (hosts excepted).
    locked: bool,
    /// The hosts' banner for everyone, if any.
    announcement: Option<String>,
    /// Banned links, for the room's lifetime.
    bans: Bans,
    /// Who broadcasts to the whole room, in the order they started (at most 16).
    broadcasters: Vec<ParticipantId>,
    /// Participants a host invited to broadcast.
    broadcast_invites: std::collections::HashSet<ParticipantId>,
    /// People inside each area (same order as `settings.areas`), for `max_people`.
    area_counts: Vec<u32>,
    /// Where the turn through the icebreakers starts (drawn by the room's task).
    icebreaker_seed: u64,
    /// Icebreakers chosen since the list last changed: the turn.
    icebreakers_chosen: u64,
    /// The organiser summary, from the first note on ([`Room::note_summary`]).
    summary: Option<super::summary::Summary>,
    /// The circles open as the summary last noted them; `None`: the next note adopts the
    /// open circles as already counted (after the room was rebuilt from its state).
    summary_circles: Option<BTreeMap<CircleId, super::summary::OpenCircle>>,
    /// Reused buffers for neighbour queries, so that a move does not allocate.
    scratch_people: Vec<ParticipantId>,
    scratch_circles: Vec<CircleId>,
}

impl Room {
    /// An empty room.
    pub fn new(mut settings: RoomSettings) -> Result<Room, EngineError> {
        settings.validate()?;
        // Areas stored before today's rules for names are kept, cleaned (a room that
        // would not open is worse than a soft hyphen less).
        for area in &mut settings.areas {
            area.name = super::text::clean_label(&area.name, || format!("Area {}", area.id));
        }
        hosts::validate_areas(&settings.areas, settings.width, settings.height)?;
        // Prompts stored before today's rules are kept where they still pass.
        settings.icebreaker_prompts =
            super::icebreakers::clean_prompts(&settings.icebreaker_prompts);
        let area_counts = vec![0; settings.areas.len()];
        Ok(Room {
            people_index: Grid::new(settings.width, settings.height, CELL),
            circle_index: Grid::new(settings.width, settings.height, CELL),
            settings,
            participants: HashMap::new(),
            circles: BTreeMap::new(),
            next_circle: 1,
            moved: Vec::new(),
            events: Vec::new(),
            area_counts,
            chat: ChatLog::default(),
            locked: false,
            announcement: None,
            bans: Bans::default(),
            broadcasters: Vec::new(),
            broadcast_invites: std::collections::HashSet::new(),
            icebreaker_seed: 0,
            icebreakers_chosen: 0,
            summary: None,
            summary_circles: Some(BTreeMap::new()),
            scratch_people: Vec::new(),
            scratch_circles: Vec::new(),
        })
    }

    /// The room's settings.
    pub fn settings(&self) -> &RoomSettings {
        &self.settings
    }

    /// A participant by id.
    pub fn participant(&self, id: ParticipantId) -> Option<&Participant> {
        self.participants.get(&id)
    }

    /// Every participant, in no particular order.
    pub fn participants(&self) -> impl Iterator<Item = &Participant> {
        self.participants.values()
    }

    /// Appends to `out` everyone standing inside the rectangle from `(left, top)` to
    /// `(right, bottom)` (edges included), with where they stand.
    pub fn people_within(
        &self,
        (left, top, right, bottom): (f32, f32, f32, f32),
        out: &mut Vec<(ParticipantId, Point)>,
    ) {
        let mut ids = Vec::new();
        self.people_index.within(left, top, right, bottom, &mut ids);
        out.extend(ids.into_iter().filter_map(|id| {
            let p = self.participants.get(&id)?.position;
            (p.x >= left && p.x <= right && p.y >= top && p.y <= bottom).then_some((id, p))
        }));
    }

    /// Appends to `out` every circle whose centre lies inside the rectangle from
    /// `(left, top)` to `(right, bottom)`.
    pub fn circles_within(
        &self,
        (left, top, right, bottom): (f32, f32, f32, f32),
        out: &mut Vec<CircleId>,
    ) {
        let mut ids = Vec::new();
        self.circle_index.within(left, top, right, bottom, &mut ids);
        out.extend(ids.into_iter().filter(|id| {
            self.circles.get(id).is_some_and(|c| {
                c.centre.x >= left
                    && c.centre.x <= right
                    && c.centre.y >= top
                    && c.centre.y <= bottom
            })
        }));
    }

    /// How many people are in the room.
    pub fn len(&self) -> usize {
        self.participants.len()
    }

    /// Whether nobody is in the room.
    pub fn is_empty(&self) -> bool {
        self.participants.is_empty()
    }

    /// A circle by id.
    pub fn circle(&self, id: CircleId) -> Option<&Circle> {
        self.circles.get(&id)
    }

    /// Every circle, by id.
    pub fn circles(&self) -> impl Iterator<Item = &Circle> {
        self.circles.values()
    }

    /// Every area.
    pub fn areas(&self) -> &[Area] {
        &self.settings.areas
    }

    /// Takes the events queued since the last call, in the order they happened.
    pub fn drain_events(&mut self) -> std::vec::Drain<'_, Event> {
        self.events.drain(..)
    }

    /// Appends to `out` the latest position of everyone who moved since the last call,
    /// once each, in the order they first moved; the room forgets them.
    pub fn take_moved(&mut self, out: &mut Vec<(ParticipantId, Point)>) {
        for id in self.moved.drain(..) {
            if let Some(p) = self.participants.get_mut(&id) {
                p.moved = false;
                out.push((id, p.position));
            }
        }
    }

    /// Admits a participant who came without a signed link; see [`Room::admit`].
    pub fn join(
        &mut self,
        id: ParticipantId,
        name: DisplayName,
        role: Role,
    ) -> Result<(), EngineError> {
        self.admit(id, name, None, role, None)
    }

    /// Admits a participant at a free spot near the middle of the floor, unless the room
    /// is locked (hosts excepted) or their link is banned. Joining never puts anyone in a
    /// circle: circles form when people walk.
    pub fn admit(
        &mut self,
        id: ParticipantId,
        name: DisplayName,
        profile: Option<ProfileLine>,
        role: Role,
        link: Option<LinkIdentity>,
    ) -> Result<(), EngineError> {
        self.may_join(id, &name, role, link.as_ref())?;
        self.enter(id, name, profile, role, link);
        Ok(())
    }

    /// Whether `id` may come in at all: not in the room already, and not banned.
    fn may_enter(&self, id: ParticipantId, link: Option<&LinkIdentity>) -> Result<(), EngineError> {
        if self.participants.contains_key(&id) {
            return Err(EngineError::AlreadyInRoom);
        }
        if link.is_some_and(|link| self.bans.refuses(link)) {
            return Err(EngineError::Banned);
        }
        Ok(())
    }

    /// Puts a participant at a free spot near the middle of the floor.
    fn enter(
        &mut self,
        id: ParticipantId,
        name: DisplayName,
        profile: Option<ProfileLine>,
        role: Role,
        link: Option<LinkIdentity>,
    ) {
        let position = self.spawn_point();
        self.people_index.insert(id, position);
        self.count_areas(position, 1);
        self.participants.insert(
            id,
            Participant {
                id,
                name,
                profile,
                role,
                position,
                circle: None,
                media: Media::default(),
                hand: None,
                reconnecting: false,
                alone_since: None,
                counted: false,
                circled: false,
                link,
                moved: false,
            },
        );
        self.events.push(Event::Joined(id));
    }

    /// Removes a participant: they leave their circle (which may dissolve) and the room.
    /// The chat goes when the room empties.
    pub fn leave(&mut self, id: ParticipantId) -> Result<(), EngineError> {
        self.step_out(id)?;
        self.forget_chat_if_empty();
        Ok(())
    }

    /// Clears the chat if nobody is in the room (chat lives for the room's lifetime with
    /// people in it, not longer).
    pub fn forget_chat_if_empty(&mut self) {
        if self.participants.is_empty() {
            self.chat.clear();
        }
    }

    /// Takes a participant out of the room like [`Room::leave`] but keeps the chat even if
    /// the room is empty now: they are expected back (a reload, see [`Room::readmit`]).
    pub fn step_out(&mut self, id: ParticipantId) -> Result<(), EngineError> {
        if !self.participants.contains_key(&id) {
            return Err(EngineError::UnknownParticipant);
        }
        self.leave_circle(id);
        self.broadcast_invites.remove(&id);
        if self.broadcasters.contains(&id) {
            self.broadcasters.retain(|b| *b != id);
            self.events.push(Event::Broadcast { id, on: false });
        }
        if let Some(p) = self.participants.remove(&id) {
            self.people_index.remove(id, p.position);
            self.count_areas(p.position, -1);
        }
        self.events.push(Event::Left(id));
        Ok(())
    }

    /// Whether a participant may go on air without being a host: invited, or on it.
    pub fn on_air_or_invited(&self, id: ParticipantId) -> bool {
        self.broadcast_invites.contains(&id) || self.broadcasters.contains(&id)
    }

    /// Walks a participant to `(x, y)` and applies the circle rules there.
    ///
    /// Non-finite coordinates and those beyond the protocol's range are refused; others are
    /// clamped to the floor.
    pub fn move_to(&mut self, id: ParticipantId, x: f64, y: f64) -> Result<(), EngineError> {
        if let Some((from, target, role)) = self.step(id, x, y)? {
            self.settle(id, from, target, role);
        }
        Ok(())
    }

    /// One step of a walk that goes on: the participant moves (and leaves their circle if
    /// they walk out of it, rule 3), but forms or joins no circle on the way, so that a
    /// circle forms where the walk ends (`move_to`), not wherever it passes.
    pub fn walk_step(&mut self, id: ParticipantId, x: f64, y: f64) -> Result<(), EngineError> {
        self.step(id, x, y).map(|_| ())
    }

    /// Validates and makes a move and applies rule 3. Returns where they came from, where
    /// they are and their role when they are now in no circle (rules 1 and 2 may apply),
    /// or None when they are still in their circle.
    fn step(
        &mut self,
        id: ParticipantId,
        x: f64,
        y: f64,
    ) -> Result<Option<(Point, Point, Role)>, EngineError> {
        let limit = hallway_proto::limits::MAX_COORDINATE;
        if !(x.is_finite() && y.is_finite() && x.abs() <= limit && y.abs() <= limit) {
            return Err(EngineError::InvalidPosition);
        }
        let target = self.clamp(Point::new(x as f32, y as f32));
        let p = self
            .participants
            .get(&id)
            .ok_or(EngineError::UnknownParticipant)?;
        let (from, role) = (p.position, p.role);
        if role != Role::Host && self.area_is_full_at(from, target) {
            return Err(EngineError::AreaFull);
        }
        self.place(id, from, target);

        // Rule 3: a member who walked beyond radius + hysteresis leaves.
        if let Some(cid) = self.participants[&id].circle {
            let circle = &self.circles[&cid];
            if target.distance(circle.centre) > circle.radius + self.settings.hysteresis {
                self.leave_circle(id);
            } else {
                return Ok(None);
            }
        }
        Ok(Some((from, target, role)))
    }

    /// Rules 1 and 2 for a participant in no circle who arrived at `target` from `from`.
    fn settle(&mut self, id: ParticipantId, from: Point, target: Point, role: Role) {
        // Rule 1: walking into a circle's join radius joins it, unless full or locked.
        if let Some(cid) = self.nearest_circle_containing(target) {
            let circle = &self.circles[&cid];
            let refusal = if circle.locked && role != Role::Host {
                Some(Refusal::Locked)
            } else if circle.members.len() >= self.settings.max_circle_size as usize {
                Some(Refusal::Full)
            } else {
                None
            };
            // They stay outside: just beyond the rim, on their way in.
            let outside = self.just_outside(circle, target, from);
            match refusal {
                None => self.enter_circle(id, cid),
                Some(reason) => {
                    self.place(id, target, outside);
                    self.events.push(Event::Refused {
                        participant: id,
                        circle: cid,
                        reason,
                    });
                }
            }
            return;
        }

        // Rule 2: two free participants within the forming distance form a circle.
        if self.in_quiet_area(target) {
            return;
        }
        if let Some(partner) = self.nearest_free_partner(id, target) {
            self.form_circle(id, partner);
        }
    }

    /// Locks or unlocks the participant's circle.
    pub fn set_locked(&mut self, id: ParticipantId, locked: bool) -> Result<(), EngineError> {
        let p = self
            .participants
            .get(&id)
            .ok_or(EngineError::UnknownParticipant)?;
        let cid = p.circle.ok_or(EngineError::NotInCircle)?;
        let circle = self.circles.get_mut(&cid).ok_or(EngineError::NotInCircle)?;
        if circle.locked != locked {
            circle.locked = locked;
            self.events.push(Event::CircleChanged(cid));
        }
        Ok(())
    }

    /// Raises or lowers a participant's hand; a hand raised again keeps the time it first
    /// went up (`now_ms`, milliseconds since the Unix epoch).
    pub fn set_hand(
        &mut self,
        id: ParticipantId,
        raised: bool,
        now_ms: u64,
    ) -> Result<(), EngineError> {
        let p = self
            .participants
            .get_mut(&id)
            .ok_or(EngineError::UnknownParticipant)?;
        if p.hand.is_some() != raised {
            p.hand = raised.then_some(now_ms);
            self.events.push(Event::Hand(id));
        }
        Ok(())
    }

    /// A participant's reaction, for everyone to see once.
    pub fn react(&mut self, id: ParticipantId, reaction: Reaction) -> Result<(), EngineError> {
        if !self.participants.contains_key(&id) {
            return Err(EngineError::UnknownParticipant);
        }
        self.events.push(Event::Reaction { id, reaction });
        Ok(())
    }

    /// Sends a chat message from `from`, stamped with `now_ms` (milliseconds since the
    /// Unix epoch).
    pub fn chat(
        &mut self,
        from: ParticipantId,
        target: ChatTarget,
        text: &str,
        now_ms: u64,
    ) -> Result<(), EngineError> {
        let sender = self
            .participants
            .get(&from)
            .ok_or(EngineError::UnknownParticipant)?;
        let scope = match target {
            ChatTarget::Room => ChatScope::Room,
            ChatTarget::MyCircle => {
                ChatScope::Circle(sender.circle.ok_or(EngineError::NotInCircle)?)
            }
            ChatTarget::Direct(to) if to != from && self.participants.contains_key(&to) => {
                ChatScope::Direct(to)
            }
            ChatTarget::Direct(_) => return Err(EngineError::UnknownParticipant),
        };
        let text = clean_text(text)?;
        let message = ChatMessage {
            id: self.chat.next_id(),
            from,
            name: sender.name.as_str().to_owned(),
            scope,
            text,
            at: now_ms,
        };
        self.chat.remember(&message);
        self.events.push(Event::Chat(message));
        Ok(())
    }

    /// The recent room chat, oldest first.
    pub fn chat_history(&self) -> impl Iterator<Item = &ChatMessage> {
        self.chat.recent()
    }

    /// Records a participant's microphone, camera and screen state.
    pub fn set_media(&mut self, id: ParticipantId, media: Media) -> Result<(), EngineError> {
        let p = self
            .participants
            .get_mut(&id)
            .ok_or(EngineError::UnknownParticipant)?;
        if p.media != media {
            p.media = media;
            self.events.push(Event::MediaChanged(id));
        }
        Ok(())
    }

    /// Checks every invariant of the room; for tests. Returns the first one broken.
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut seen_members = HashMap::new();
        for (cid, circle) in &self.circles {
            if *cid != circle.id {
                return Err(format!("circle {cid:?} stored under the wrong id"));
            }
            let n = circle.members.len();
            if n < 2 || n > self.settings.max_circle_size as usize {
                return Err(format!("circle {cid:?} has {n} members"));
            }
            let threshold = self.settings.mesh_threshold as usize;
            let routing_ok = if self.settings.privacy {
                circle.routed
            } else if circle.routed {
                n >= threshold
            } else {
                n <= threshold
            };
            if !routing_ok {
                return Err(format!(
                    "circle {cid:?} of {n} is routed={} with threshold {threshold}",
                    circle.routed
                ));
            }
            for m in &circle.members {
                if seen_members.insert(*m, *cid).is_some() {
                    return Err(format!("{m} is in two circles"));
                }
                match self.participants.get(m) {
                    Some(p) if p.circle == Some(*cid) => {}
                    _ => return Err(format!("{m} is listed in {cid:?} but does not know it")),
                }
            }
        }
        for p in self.participants.values() {
            if let Some(cid) = p.circle {
                if seen_members.get(&p.id) != Some(&cid) {
                    return Err(format!(
                        "{} claims circle {cid:?} but is not a member",
                        p.id
                    ));
                }
            }
            let pos = p.position;
            if !(pos.x >= 0.0
                && pos.y >= 0.0
                && pos.x <= self.settings.width
                && pos.y <= self.settings.height)
            {
                return Err(format!("{} stands off the floor at {pos:?}", p.id));
            }
        }
        let mut broadcasters = std::collections::HashSet::new();
        for b in &self.broadcasters {
            if !self.participants.contains_key(b) {
                return Err(format!("{b} broadcasts but is not in the room"));
            }
            if !broadcasters.insert(*b) {
                return Err(format!("{b} is listed twice as broadcasting"));
            }
        }
        if self.broadcasters.len() > hosts::MAX_BROADCASTERS {
            return Err(format!("{} broadcast at once", self.broadcasters.len()));
        }
        for invited in &self.broadcast_invites {
            if !self.participants.contains_key(invited) {
                return Err(format!(
                    "{invited} is invited to broadcast but not in the room"
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
