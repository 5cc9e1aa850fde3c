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
//!
//! In a cluster, the ticks of a page connected to another node are cut there: the room
//! tells that node what the page shows, and sends it each tick's movers once, however many
//! of its pages are in the room; the node cuts each page's tick out of them with the same
//! code (`room::movers`). News of a circle likewise goes once to each such node, with
//! where the circle was and is and who is in it, and the node passes it to the pages that
//! show it (`cluster::sight`); those in the circle hear of it from the room itself, on
//! the way its `connect` and any snapshot they are owed take, so that neither overtakes
//! it. A big room's owner thus does not cut and send a tick, nor
//! each circle's news, per relayed person (issue #19, item 4). The round, catching up and
//! all other news still come from the room, through each page's session.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use hallway_proto::ServerMessage;
use tungstenite::protocol::frame::Utf8Bytes;

use super::{Actor, Owed, fanout::encode_tick};
use crate::room::model::{CircleId, ParticipantId, Point, Rect};
use crate::room::movers::Movers;
use crate::room::views;
use crate::transport::{Down, News, Place, Relayed};

pub(super) use crate::room::movers::{MOST_IN_SIGHT, View};

/// Most circles a changed view is sent at once in a big room.
const CIRCLES_IN_SIGHT: usize = 100;

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
    /// This tick's movers, if anyone's page shows only part of the floor (each page's
    /// tick is cut from them).
    pub(super) movers: Movers,
    /// Reused buffer: people standing in one view.
    picked: Vec<(ParticipantId, Point)>,
    /// In a cluster: the nodes that cut the ticks and news of some of this room's pages
    /// (those `by_node`), as of the last tick and the views told since.
    pub(super) nodes: HashMap<Arc<str>, Relayed>,
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
            movers: Movers::new(width, height),
            picked: Vec::new(),
            nodes: HashMap::new(),
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
        // In a big room, the circles there too: the page may never have heard of them
        // (nor will it with the round, which names only those that dissolved). Not if it
        // owes a snapshot: that carries the circles and the people there.
        let circles = if owes != Owed::Snapshot && self.light_welcomes() {
            self.circles_in(&view)
        } else {
            Vec::new()
        };
        let Some(session) = self.sessions.get_mut(&from) else {
            return;
        };
        // A page connected to another node of a cluster: that node cuts its ticks out of
        // the room's movers from now on, and passes it news, if it heard of the view (the
        // room does if not: its queue to that node was full; it tells again on the next
        // tick). The circles go with the view, on the way the news takes: news of one of
        // them sent after cannot arrive before it.
        let circles = match session.outbox.relayed() {
            Some(relayed) => {
                match relayed
                    .down
                    .try_send((relayed.conn, view_told(from, &view, circles)))
                {
                    Ok(()) => {
                        session.by_node = true;
                        self.sight
                            .nodes
                            .entry(relayed.node.clone())
                            .or_insert_with(|| relayed.clone());
                        Vec::new()
                    }
                    Err(err) => {
                        session.by_node = false;
                        match err.into_inner() {
                            (_, Down::View { circles, .. }) => circles,
                            _ => Vec::new(),
                        }
                    }
                }
            }
            None => circles,
        };
        for frame in circles {
            // What does not fit now comes with the circle's next change: a page short of
            // room is not made to catch up with a whole snapshot for it.
            if session.outbox.capacity() <= 2 * super::EVENT_RESERVE {
                break;
            }
            let _ = session.outbox.try_send(frame);
        }
        if owes != Owed::Nothing {
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

    /// The circles in `view` (at most [`CIRCLES_IN_SIGHT`]), as they are, each as the
    /// `circle_changed` a page gets.
    fn circles_in(&self, view: &View) -> Vec<Utf8Bytes> {
        let mut ids = Vec::new();
        self.room.circles_within(view.edges(), &mut ids);
        ids.truncate(CIRCLES_IN_SIGHT);
        ids.into_iter()
            .filter_map(|cid| self.room.circle(cid))
            .map(|c| {
                let msg = ServerMessage::CircleChanged {
                    circle: views::circle(c),
                };
                Utf8Bytes::from(msg.encode())
            })
            .collect()
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
        let bytes = Utf8Bytes::from(msg.encode());
        // Those in the circle (or just out of it) hear of it from the room whatever their
        // node: on the same way as the `connect` before it and a snapshot they may be
        // owed, so that neither comes after it.
        let members: Vec<ParticipantId> = [&before, &now]
            .into_iter()
            .flatten()
            .flat_map(|seen| seen.members.iter().copied())
            .collect();
        let sent = self.queue_where_here(bytes.clone(), &members, |id, view| {
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
        // Other pages whose node sends them news: the node tells which it concerns (those
        // it does not get the circle with the round).
        if !self.sight.nodes.is_empty() {
            let places = [&before, &now]
                .into_iter()
                .flatten()
                .map(|seen| Place {
                    centre: (seen.centre.x, seen.centre.y),
                    radius: seen.radius,
                    people: seen.members.iter().map(|m| m.0).collect(),
                })
                .collect();
            self.news_by_node(bytes, places);
            late = true;
        }
        if late {
            self.sight.late.insert(cid);
        }
        metrics::counter!(crate::metrics::MESSAGES_OUT, "type" => msg.kind()).increment(sent);
    }

    /// Sends news of `places` once to each node that sends some of this room's pages
    /// their news (see [`Actor::circle_news`]). A node whose queue is full has its pages
    /// here owe a snapshot, as if each had been short of room for the news.
    fn news_by_node(&mut self, frame: Utf8Bytes, places: Vec<Place>) {
        let news = Arc::new(News {
            room: self.room.settings().slug.clone(),
            frame,
            places,
        });
        let mut missed: Vec<Arc<str>> = Vec::new();
        for (node, relayed) in &self.sight.nodes {
            if relayed
                .down
                .try_send((0, Down::News(news.clone())))
                .is_err()
            {
                missed.push(node.clone());
            }
        }
        for node in missed {
            for session in self.sessions.values_mut() {
                if session.by_node && session.outbox.relayed().is_some_and(|r| r.node == node) {
                    session.owes = Owed::Snapshot;
                }
            }
        }
    }

    /// Notes this tick's movers (in `self.positions`) for the round and sorts them by
    /// cell, if anyone's page shows only part of the floor.
    pub(super) fn note_movers(&mut self, viewing: bool) {
        self.sight.movers.clear();
        if !viewing {
            // Those who see everything were told at once.
            self.sight.moved.clear();
            self.sight.moved_since_whole.clear();
            self.sight.left.clear();
            return;
        }
        for (id, at) in &self.positions {
            self.sight.moved.insert(*id);
            self.sight.moved_since_whole.insert(*id);
            self.sight.movers.add(*id, *at);
        }
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

/// What the node of `me`'s page is told when the page shows `view`, with the circles
/// there the page may not have heard of.
pub(super) fn view_told(me: ParticipantId, view: &View, circles: Vec<Utf8Bytes>) -> Down {
    let (left, top, right, bottom) = view.edges();
    Down::View {
        me: me.0,
        edges: [left, top, right, bottom],
        circles,
    }
}
