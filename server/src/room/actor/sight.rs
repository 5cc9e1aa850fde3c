//! What each person is sent at once and what about once a second (interest management).
//!
//! A page tells the room which part of the floor it shows (`view`). From then on its
//! `tick` carries, every tick, only the people who moved inside that part (and a margin
//! around it); once a second, the round, it carries everyone who moved since the last
//! round, so that the rest of the floor still shows where the crowd is. News of a circle
//! goes at once to its members, to those who just left it and to whoever's page shows
//! where it is; everyone else gets the circle as it is then with the next round (in the
//! round's tick itself, all such circles in one message). In a big room the round names
//! only the circles that dissolved: a page there knows the circles near it, and is sent
//! the circles where it looks when it looks there. A big room's round also carries only
//! who moved near what the page shows (see `round.rs`). Whatever is meant for one person
//! (signals, errors, chat to them, moderation) and all other news of the room goes at
//! once, as before. A page that never sends `view` gets everything.

use std::collections::{BTreeSet, HashMap, HashSet};

use hallway_proto::{PositionOut, ServerMessage};
use tungstenite::protocol::frame::Utf8Bytes;

use super::round::frame_of;
use super::{Actor, Owed, fanout::encode_tick};
use crate::room::grid::Grid;
use crate::room::model::{CircleId, ParticipantId, Point, Rect};
use crate::room::views;

/// Floor units around what a page shows whose people still come on every tick: someone
/// walking into view is already where they are when they appear.
pub(super) const MARGIN: f32 = 300.0;

/// Most people moving inside one view in one tick that still come on every tick. A page
/// zoomed out over a big crowd gets the once-a-second round instead, so that looking at
/// the whole floor of a room of thousands does not make it a slow consumer.
pub(super) const MOST_IN_SIGHT: usize = 250;

/// Most circles a changed view is sent at once in a big room.
const CIRCLES_IN_SIGHT: usize = 100;

/// Side of the cells movers are sorted into each tick, in floor units.
const CELL: f32 = 250.0;

/// The part of the floor a page shows, with [`MARGIN`] around it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct View {
    left: f32,
    top: f32,
    right: f32,
    bottom: f32,
}

impl View {
    /// What a page that shows `rect` sees.
    pub(super) fn of(rect: Rect) -> View {
        View {
            left: rect.x - MARGIN,
            top: rect.y - MARGIN,
            right: rect.x + rect.width + MARGIN,
            bottom: rect.y + rect.height + MARGIN,
        }
    }

    /// Whether any of the disc at `centre` with `radius` is in sight.
    pub(super) fn sees(&self, centre: Point, radius: f32) -> bool {
        centre.x + radius >= self.left
            && centre.x - radius <= self.right
            && centre.y + radius >= self.top
            && centre.y - radius <= self.bottom
    }

    /// The middle of what the page shows.
    pub(super) fn middle(&self) -> Point {
        Point::new(
            (self.left + self.right) / 2.0,
            (self.top + self.bottom) / 2.0,
        )
    }

    pub(super) fn edges(&self) -> (f32, f32, f32, f32) {
        (self.left, self.top, self.right, self.bottom)
    }
}

/// Who stands in a view, as a tick.
pub(super) enum Standing {
    /// Nobody.
    Nobody,
    /// Their positions.
    Frame(Utf8Bytes),
    /// More than [`MOST_IN_SIGHT`].
    Crowd,
}

/// Where a circle was and who was in it when its news last went out.
#[derive(Debug, Clone)]
struct Seen {
    centre: Point,
    radius: f32,
    members: Vec<ParticipantId>,
}

impl Seen {
    fn concerns(&self, id: ParticipantId, view: &View) -> bool {
        view.sees(self.centre, self.radius) || self.members.contains(&id)
    }
}

/// The room task's memory of what it owes those who do not see everything.
#[derive(Debug)]
pub(super) struct Sight {
    /// Who moved since the last round.
    pub(super) moved: HashSet<ParticipantId>,
    /// Who moved since the last round that carried everyone who moved (in a big room,
    /// every [`WHOLE_EVERY`]th).
    pub(super) moved_since_whole: HashSet<ParticipantId>,
    /// Rounds since the last that carried everyone who moved.
    pub(super) rounds: u32,
    /// In a big room: who left since the last round, not yet told to every page.
    pub(super) left: Vec<ParticipantId>,
    /// Circles whose news someone did not get at once.
    pub(super) late: BTreeSet<CircleId>,
    /// Each circle as its news last went out.
    circles: HashMap<CircleId, Seen>,
    /// Ticks since the last round.
    pub(super) ticks: u32,
    /// This tick's movers (indices into the tick's positions), by floor cell.
    grid: Grid<u32>,
    /// This tick's movers' indices by id: one's own move always comes back.
    movers: HashMap<ParticipantId, u32>,
    /// This tick's movers' `[id, x, y]`, encoded once (by index, as in the grid).
    entries: Vec<String>,
    /// A tick message around its positions: what comes before the first and after the
    /// last (taken from the protocol's own encoding).
    frame: (String, String),
    /// Reused buffers: movers found in one view, and people standing in one.
    found: Vec<u32>,
    picked: Vec<(ParticipantId, Point)>,
}

impl Sight {
    /// For a floor of `width` × `height`.
    pub(super) fn new(width: f32, height: f32) -> Sight {
        Sight {
            moved: HashSet::new(),
            moved_since_whole: HashSet::new(),
            rounds: 0,
            left: Vec::new(),
            late: BTreeSet::new(),
            circles: HashMap::new(),
            ticks: 0,
            grid: Grid::new(width, height, CELL),
            movers: HashMap::new(),
            entries: Vec::new(),
            frame: tick_frame(),
            found: Vec::new(),
            picked: Vec::new(),
        }
    }
}

impl Actor {
    /// A page says what it shows now: it gets everyone standing there at once (they may
    /// have moved since the last round), then what moves there on every tick.
    pub(super) fn look(&mut self, from: ParticipantId, rect: Rect) {
        let view = View::of(rect);
        let Some(session) = self.sessions.get_mut(&from) else {
            return;
        };
        if session.view == Some(view) {
            return;
        }
        session.view = Some(view);
        let owes = session.owes;
        if owes == Owed::Snapshot {
            // What it owes carries the circles and the people there.
            return;
        }
        // In a big room, the circles there too: the page may never have heard of them
        // (nor will it with the round, which names only those that dissolved).
        if self.light_welcomes() {
            self.circles_in(from, &view);
        }
        let Some(session) = self.sessions.get_mut(&from) else {
            return;
        };
        if owes == Owed::Positions {
            // What it owes already carries every position there.
            return;
        }
        let Standing::Frame(frame) = Actor::standing_in(&self.room, &mut self.sight, &view) else {
            return;
        };
        if session.outbox.capacity() > super::EVENT_RESERVE
            && session.outbox.try_send(frame).is_ok()
        {
            metrics::counter!(crate::metrics::MESSAGES_OUT, "type" => "tick").increment(1);
        } else {
            session.owes = Owed::Positions;
        }
    }

    /// Sends `to` the circles in `view` (at most [`CIRCLES_IN_SIGHT`]), as they are, as
    /// far as its queue has room to spare: the page may never have heard of them.
    fn circles_in(&mut self, to: ParticipantId, view: &View) {
        let mut ids = Vec::new();
        self.room.circles_within(view.edges(), &mut ids);
        ids.truncate(CIRCLES_IN_SIGHT);
        let Some(session) = self.sessions.get_mut(&to) else {
            return;
        };
        for cid in ids {
            let Some(c) = self.room.circle(cid) else {
                continue;
            };
            // What does not fit now comes with the circle's next change: a page short of
            // room is not made to catch up with a whole snapshot for it.
            if session.outbox.capacity() <= 2 * super::EVENT_RESERVE {
                return;
            }
            let msg = ServerMessage::CircleChanged {
                circle: views::circle(c),
            };
            let _ = session.outbox.try_send(Utf8Bytes::from(msg.encode()));
        }
    }

    /// A tick of everyone standing in `view`, unless nobody or too many do.
    pub(super) fn standing_in(
        room: &crate::room::engine::Room,
        sight: &mut Sight,
        view: &View,
    ) -> Standing {
        sight.picked.clear();
        room.people_within(view.edges(), &mut sight.picked);
        match sight.picked.len() {
            0 => Standing::Nobody,
            n if n > MOST_IN_SIGHT => Standing::Crowd,
            _ => Standing::Frame(encode_tick(sight.picked.iter().copied())),
        }
    }

    /// Sends news of circle `cid` to those it concerns now (see the module's comment) and
    /// keeps it for the next round for everyone else.
    pub(super) fn circle_news(&mut self, cid: CircleId, msg: &ServerMessage) {
        let now = self.room.circle(cid).map(|c| Seen {
            centre: c.centre,
            radius: c.radius,
            members: c.members.clone(),
        });
        let before = match &now {
            Some(seen) => self.sight.circles.insert(cid, seen.clone()),
            None => self.sight.circles.remove(&cid),
        };
        let mut late = false;
        let sent = self.broadcast_where(Utf8Bytes::from(msg.encode()), |id, view| {
            let Some(view) = view else {
                return true;
            };
            let concerned = [&before, &now]
                .into_iter()
                .flatten()
                .any(|seen| seen.concerns(id, view));
            late |= !concerned;
            concerned
        });
        if late {
            self.sight.late.insert(cid);
        }
        metrics::counter!(crate::metrics::MESSAGES_OUT, "type" => msg.kind()).increment(sent);
    }

    /// Notes this tick's movers (in `self.positions`) for the round and sorts them by
    /// cell, if anyone's page shows only part of the floor.
    pub(super) fn note_movers(&mut self, viewing: bool) {
        self.sight.grid.clear();
        self.sight.movers.clear();
        self.sight.entries.clear();
        if !viewing {
            // Those who see everything were told at once.
            self.sight.moved.clear();
            self.sight.moved_since_whole.clear();
            self.sight.left.clear();
            return;
        }
        for (i, (id, at)) in self.positions.iter().enumerate() {
            self.sight.moved.insert(*id);
            self.sight.moved_since_whole.insert(*id);
            // Indices fit: a tick's movers are at most the room's participants.
            self.sight.grid.insert(i as u32, *at);
            self.sight.movers.insert(*id, i as u32);
            self.sight.entries.push(entry(*id, *at));
        }
    }

    /// `me`'s own move this tick, if it moved: its encoded entry and where it is.
    pub(super) fn own_move<'a>(
        sight: &'a Sight,
        positions: &[(ParticipantId, Point)],
        me: ParticipantId,
    ) -> Option<(&'a str, Point)> {
        let &i = sight.movers.get(&me)?;
        let entry = sight.entries.get(i as usize)?;
        Some((entry.as_str(), positions.get(i as usize)?.1))
    }

    /// The tick for `me`, whose page shows `view`: this tick's movers in sight, if any,
    /// and not too many, and oneself wherever one is (a refused or clamped move corrects
    /// itself).
    pub(super) fn in_sight(
        sight: &mut Sight,
        positions: &[(ParticipantId, Point)],
        me: ParticipantId,
        view: &View,
    ) -> Option<Utf8Bytes> {
        sight.found.clear();
        let (left, top, right, bottom) = view.edges();
        sight
            .grid
            .within(left, top, right, bottom, &mut sight.found);
        sight
            .found
            .retain(|&i| view.sees(positions[i as usize].1, 0.0));
        let crowded = sight.found.len() > MOST_IN_SIGHT;
        if crowded {
            sight.found.clear();
        }
        if let Some(&i) = sight.movers.get(&me) {
            // In sight (and not crowded out), one is among those found already.
            if crowded || !view.sees(positions[i as usize].1, 0.0) {
                sight.found.push(i);
            }
        }
        if sight.found.is_empty() {
            return None;
        }
        // The entries were encoded once this tick; a page's tick only copies them.
        let (head, tail) = &sight.frame;
        let size = head.len()
            + tail.len()
            + sight
                .found
                .iter()
                .map(|&i| sight.entries[i as usize].len() + 1)
                .sum::<usize>();
        let mut frame = String::with_capacity(size);
        frame.push_str(head);
        for (k, &i) in sight.found.iter().enumerate() {
            if k > 0 {
                frame.push(',');
            }
            frame.push_str(&sight.entries[i as usize]);
        }
        frame.push_str(tail);
        Some(Utf8Bytes::from(frame))
    }

    /// In a big room, news that someone came goes at once only to the pages that show
    /// where they appear (and those that see everything); the others learn of them as
    /// they come into sight (`who`) and count them with the round.
    ///
    /// A page that shows part of the floor and has no room for the news is owed only the
    /// positions in its view, not a snapshot: the newcomer is among them, and the page
    /// asks `who` they are. While a room of 10,000 filled, every page near the middle that
    /// fell behind for a moment was owed a snapshot per arrival it missed, and building
    /// those on the room's task slowed every join down (see benchmarks.md).
    pub(super) fn joined_news(&mut self, id: ParticipantId, msg: &ServerMessage) {
        let Some(at) = self.room.participant(id).map(|p| p.position) else {
            return;
        };
        let bytes = Utf8Bytes::from(msg.encode());
        let sent = self.broadcast_where(bytes.clone(), |to, view| to != id && view.is_none());
        let (offered, skipped) = self.offer_where(bytes, |to, view| {
            to != id && view.is_some_and(|v| v.sees(at, 0.0))
        });
        if skipped > 0 {
            // A page in a crowd is not sent everyone standing in its view: the next round
            // carries the newcomer, who may not move for a while.
            self.sight.moved.insert(id);
            self.sight.moved_since_whole.insert(id);
        }
        metrics::counter!(crate::metrics::MESSAGES_OUT, "type" => msg.kind())
            .increment(sent + offered);
    }

    /// In a big room, news that someone's connection dropped goes only to the members of
    /// their circle, the pages that show where they stand and those that see everything;
    /// news that they are back goes to everyone (a page that was told they dropped may look
    /// elsewhere now). When many connections drop at once (a site's network fails; the end
    /// of room-10000 was 30 a second to every page), each drop went to every page. (Their
    /// return still does: many returns at once are many messages to everyone.)
    pub(super) fn reconnecting_news(&mut self, id: ParticipantId, on: bool, msg: &ServerMessage) {
        let bytes = Utf8Bytes::from(msg.encode());
        let sent = match self.room.participant(id) {
            Some(them) if on => {
                let at = them.position;
                let circle: Vec<ParticipantId> = them
                    .circle
                    .and_then(|cid| self.room.circle(cid))
                    .map(|c| c.members.clone())
                    .unwrap_or_default();
                self.broadcast_where(bytes, |to, view| {
                    to != id && (view.is_none_or(|v| v.sees(at, 0.0)) || circle.contains(&to))
                })
            }
            _ => self.broadcast_where(bytes, |to, _| to != id),
        };
        metrics::counter!(crate::metrics::MESSAGES_OUT, "type" => msg.kind()).increment(sent);
    }

    /// In a big room, news that someone left goes at once only to the pages that see
    /// everything; the others are told with the round.
    pub(super) fn left_news(&mut self, id: ParticipantId, msg: &ServerMessage) {
        self.sight.left.push(id);
        let sent = self.broadcast_where(Utf8Bytes::from(msg.encode()), |_, view| view.is_none());
        metrics::counter!(crate::metrics::MESSAGES_OUT, "type" => msg.kind()).increment(sent);
    }
}

/// One position as a tick lists it, encoded as the protocol does.
pub(super) fn entry(id: ParticipantId, at: Point) -> String {
    serde_json::to_string(&PositionOut(&id.to_string(), at.x, at.y)).unwrap_or_default()
}

/// What a tick message is around its positions, from the protocol's own encoding of an
/// empty one.
fn tick_frame() -> (String, String) {
    frame_of(&ServerMessage::Tick {
        positions: Vec::new(),
        in_room: None,
        left: Vec::new(),
        circles: Vec::new(),
        dissolved: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tick_put_together_from_its_entries_is_the_protocols_own() {
        let (head, tail) = tick_frame();
        let a = (ParticipantId(7), Point::new(512.5, 640.0));
        let b = (ParticipantId(u128::MAX), Point::new(0.25, 1599.0));
        let joined = format!("{head}{},{}{tail}", entry(a.0, a.1), entry(b.0, b.1));
        assert_eq!(joined, encode_tick([a, b].into_iter()).as_str());
        // Short ids; whole coordinates without a fraction.
        assert_eq!(entry(a.0, a.1), r#"["00000000007",512.5,640]"#);
    }
}
