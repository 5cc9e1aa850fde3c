//! What a node sends its relayed pages itself, so that a big room's owner does not do it
//! once per relayed person (issue #19, item 4): each page's tick, cut out of the movers
//! the owner sends once per tick for the whole node, and news of circles, passed to the
//! pages it concerns. The owner tells the node what each page shows (`Down::View`); the
//! cutting is the room's own code (`room::movers`), so a relayed page gets what a page on
//! the owner gets (see `room::actor::sight`).
//!
//! The node's frames share the connection's queue with the room's, and the room's may
//! fill their part of it at any time (the owner's window of credit), so the node's own
//! never take more than their own slots ([`NODE_SLOTS`]): a [`Ledger`] counts them in
//! the queue, and tells the room's frames from the node's as they are written, so that the
//! owner is credited with its own only.
//!
//! News comes on the node's way, a snapshot on the session's: the room tells when one is
//! on its way (`Down::SnapshotAhead`), and the node holds the page's news back until it
//! has passed, so that news sent after it was built does not come before it.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use hallway_proto::close;
use tungstenite::protocol::frame::Utf8Bytes;

use super::Routing;
use super::wire::Up;
use crate::room::ParticipantId;
use crate::room::model::Point;
use crate::room::movers;
use crate::transport::{Movers, News, OutboxSender};

/// Slots of a relayed connection's queue for this node's own frames, beyond the room's.
/// A page with this many of them unwritten misses news: the room is asked to catch it up
/// with a snapshot, as it would a page of its own that had no room for news.
pub(super) const NODE_SLOTS: usize = 96;

/// Of [`NODE_SLOTS`], how many ticks may take: a page this far behind misses ticks until
/// it has caught up (the round, from the room, brings what it missed), and news still
/// finds room.
const TICK_SLOTS: usize = 32;

/// How a room's snapshot starts, as encoded (`hallway_proto::ServerMessage::Snapshot`:
/// its tag comes first).
const SNAPSHOT_START: &str = r#"{"type":"snapshot""#;

/// What a relayed connection's queue holds of the room's frames and of this node's own, in
/// the order they are written; and the news held back for it while a snapshot is on its
/// way.
#[derive(Debug, Default)]
pub(super) struct Ledger {
    /// Frames queued so far, all told.
    queued: u64,
    /// Where (in that count) this node's own frames not written yet are.
    ours: VecDeque<u64>,
    /// Frames written so far, all told.
    written: u64,
    /// Snapshots the room said are on their way ([`Down::SnapshotAhead`]), all told.
    ///
    /// [`Down::SnapshotAhead`]: crate::transport::Down::SnapshotAhead
    announced: u64,
    /// Of those, how many have passed.
    passed: u64,
    /// News (and a new view's circles) for the page held back while snapshots are on
    /// their way, in the order it came (at most [`NODE_SLOTS`]), each with the number of
    /// snapshots announced when it came: it was sent after that snapshot was built, so it
    /// follows that one (not the last: one sent before a later snapshot was built is
    /// older than that one).
    held: VecDeque<(u64, Utf8Bytes)>,
}

/// What became of news for a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Queued {
    /// Queued to the page.
    Now,
    /// Held back behind a snapshot on its way.
    Held,
    /// This many were lost for want of room (it, and what was held): the page is to be
    /// sent a snapshot.
    Missed(u64),
}

impl Ledger {
    /// Queues one of the room's frames; `false` if the queue is full.
    pub(super) fn queue_rooms(&mut self, outbox: &OutboxSender, frame: Utf8Bytes) -> bool {
        let queued = outbox.try_send(frame).is_ok();
        self.queued += u64::from(queued);
        queued
    }

    /// Queues one of this node's own frames, if fewer than `most` of them are unwritten;
    /// `false` if not queued.
    fn queue_ours(&mut self, outbox: &OutboxSender, frame: Utf8Bytes, most: usize) -> bool {
        if self.ours.len() >= most || outbox.try_send(frame).is_err() {
            return false;
        }
        self.ours.push_back(self.queued);
        self.queued += 1;
        true
    }

    /// The room said a snapshot for the page is on its way: news is held back until it
    /// has passed.
    pub(super) fn snapshot_ahead(&mut self) {
        self.announced += 1;
    }

    /// Whether snapshots are on their way.
    fn awaits_snapshot(&self) -> bool {
        self.announced > self.passed
    }

    /// Queues news for the page, or holds it back while a snapshot is on its way. Held
    /// news that would pass [`NODE_SLOTS`] is let go with all that was held: the snapshot
    /// asked for then is built after all of it.
    fn queue_news(&mut self, outbox: &OutboxSender, frame: Utf8Bytes) -> Queued {
        if !self.awaits_snapshot() {
            return if self.queue_ours(outbox, frame, NODE_SLOTS) {
                Queued::Now
            } else {
                Queued::Missed(1)
            };
        }
        if self.held.len() >= NODE_SLOTS {
            let lost = self.held.len() as u64 + 1;
            self.held = VecDeque::new();
            return Queued::Missed(lost);
        }
        self.held.push_back((self.announced, frame));
        Queued::Held
    }

    /// Queues one of the circles the room sent with a new view, or holds it back while a
    /// snapshot is on its way (as news); `false` if it does not fit (it comes with the
    /// circle's next change).
    fn queue_circle(&mut self, outbox: &OutboxSender, frame: Utf8Bytes) -> bool {
        if !self.awaits_snapshot() {
            return self.queue_ours(outbox, frame, CIRCLE_SLOTS);
        }
        if self.held.len() >= CIRCLE_SLOTS {
            return false;
        }
        self.held.push_back((self.announced, frame));
        true
    }

    /// After one of the room's frames, `frame`, was queued: if it was a snapshot on its
    /// way, queues what was held back for it (what came after it was built), in order.
    /// Returns how many were queued and how many found no room (missed: a snapshot is
    /// to be asked for).
    pub(super) fn passed(&mut self, outbox: &OutboxSender, frame: &Utf8Bytes) -> (u64, u64) {
        if !self.awaits_snapshot() || !frame.as_str().starts_with(SNAPSHOT_START) {
            return (0, 0);
        }
        self.passed += 1;
        let (mut sent, mut missed) = (0, 0);
        while let Some((after, _)) = self.held.front() {
            if *after > self.passed {
                break;
            }
            let Some((_, news)) = self.held.pop_front() else {
                break;
            };
            if missed == 0 && self.queue_ours(outbox, news, NODE_SLOTS) {
                sent += 1;
            } else {
                missed += 1;
            }
        }
        (sent, missed)
    }

    /// `count` more frames were written: how many of them were the room's.
    pub(super) fn written(&mut self, count: usize) -> u64 {
        let end = self.written + count as u64;
        let mut ours = 0;
        while self.ours.front().is_some_and(|&at| at < end) {
            self.ours.pop_front();
            ours += 1;
        }
        self.written = end;
        count as u64 - ours
    }
}

/// Of [`NODE_SLOTS`], how many the circles sent with a new view may take: what does not
/// fit comes with the circle's next change, as on the room's owner.
const CIRCLE_SLOTS: usize = 64;

/// Queues the circles the room sent with a page's new view (see `Down::View`), as far
/// as they fit.
pub(super) fn queue_circles(endpoint: &super::Endpoint, circles: Vec<Utf8Bytes>) {
    let mut ledger = lock(&endpoint.ledger);
    for frame in circles {
        if !ledger.queue_circle(&endpoint.outbox, frame) {
            break;
        }
    }
}

/// Locks a connection's ledger. (A panic while it was held cannot have left it half
/// changed in a way that matters more than a miscount of credit.)
pub(super) fn lock(ledger: &Mutex<Ledger>) -> MutexGuard<'_, Ledger> {
    ledger.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Routing {
    /// Cuts each page's tick out of a tick's movers in a room, for this node's pages in
    /// it whose view the room told (see `room::movers`). A page with [`TICK_SLOTS`] of
    /// this node's frames unwritten misses the tick: the round, once a second from the
    /// room, carries everyone who moved near it since the last one.
    pub(super) fn cut_ticks(&self, tick: &Movers) {
        // No room's floor is this large: a grid for it would come from a broken batch.
        let (width, height) = tick.floor;
        if !(width > 0.0 && height > 0.0 && width <= 100_000.0 && height <= 100_000.0) {
            return;
        }
        let mut rooms = self.movers.lock().unwrap_or_else(PoisonError::into_inner);
        let cut = rooms
            .entry(tick.room.clone())
            .or_insert_with(|| movers::Movers::new(tick.floor.0, tick.floor.1));
        if cut.size() != tick.floor {
            *cut = movers::Movers::new(tick.floor.0, tick.floor.1);
        }
        cut.clear();
        for &(id, x, y) in &tick.movers {
            cut.add(ParticipantId(id), Point::new(x, y));
        }
        let (mut sent, mut skipped) = (0u64, 0u64);
        for endpoint in self.endpoints.iter() {
            let Some((me, view)) = endpoint.sight.filter(|_| endpoint.welcomed) else {
                continue;
            };
            if *endpoint.slug != *tick.room {
                continue;
            }
            let Some(frame) = cut.tick_for(me, &view) else {
                continue;
            };
            if lock(&endpoint.ledger).queue_ours(&endpoint.outbox, frame, TICK_SLOTS) {
                sent += 1;
            } else {
                skipped += 1;
            }
        }
        metrics::counter!(crate::metrics::MESSAGES_OUT, "type" => "tick").increment(sent);
        metrics::counter!(crate::metrics::DROPPED_POSITIONS).increment(skipped);
    }

    /// Sends news of places on the floor to this node's pages in its room whose page shows
    /// one of the places, but not to those who are there: the room sends it to them itself
    /// (see `room::actor::sight`). News is not caught up with by the next round as
    /// positions are: a page with [`NODE_SLOTS`] of this node's frames unwritten misses
    /// it (counted in [`crate::metrics::MISSED_NEWS`]), and the room is asked to send it a
    /// snapshot, as it does for a page of its own that had no room for news.
    pub(super) fn pass_news(&self, news: &News) {
        let (mut sent, mut missed) = (0u64, 0u64);
        for endpoint in self.endpoints.iter() {
            let Some((me, view)) = endpoint.sight.filter(|_| endpoint.welcomed) else {
                continue;
            };
            if *endpoint.slug != *news.room {
                continue;
            }
            // Those in the circle (or just out of it) hear of it from the room itself
            // (see `room::actor::sight`); the others here if their page shows it.
            if news.places.iter().any(|place| place.people.contains(&me.0)) {
                continue;
            }
            let concerned = news
                .places
                .iter()
                .any(|place| view.sees(Point::new(place.centre.0, place.centre.1), place.radius));
            if !concerned {
                continue;
            }
            // (Held news is counted when it is queued.)
            match lock(&endpoint.ledger).queue_news(&endpoint.outbox, news.frame.clone()) {
                Queued::Now => sent += 1,
                Queued::Held => {}
                Queued::Missed(lost) => {
                    missed += lost;
                    self.ask_snapshot(&endpoint.slug, *endpoint.key(), &endpoint.outbox);
                }
            }
        }
        metrics::counter!(crate::metrics::MESSAGES_OUT, "type" => "news").increment(sent);
        metrics::counter!(crate::metrics::MISSED_NEWS).increment(missed);
    }

    /// Asks the room of a page that missed news (`conn` on this node, in `room`) for a
    /// snapshot. Every time: a snapshot the room built before the news would not bring
    /// it. (The room takes the same request twice as once.)
    pub(super) fn ask_snapshot(&self, room: &Arc<str>, conn: u64, outbox: &OutboxSender) {
        if self
            .uplink
            .try_send((room.clone(), conn, Up::Missed))
            .is_err()
        {
            // The room cannot be told: the page comes back with a whole welcome.
            outbox.kick(close::SLOW_CONSUMER);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::outbox;

    #[test]
    fn the_room_is_credited_with_its_own_frames_only_and_ours_keep_to_their_slots() {
        let (tx, mut rx) = outbox::outbox(8);
        let mut ledger = Ledger::default();
        let frame = || Utf8Bytes::from_static("{}");
        assert!(ledger.queue_rooms(&tx, frame()));
        assert!(ledger.queue_ours(&tx, frame(), 2));
        assert!(ledger.queue_ours(&tx, frame(), 2));
        assert!(
            !ledger.queue_ours(&tx, frame(), 2),
            "two of ours unwritten at most"
        );
        assert!(ledger.queue_rooms(&tx, frame()));
        // Written in two batches: the room's, ours, ours; then the room's.
        for _ in 0..4 {
            assert!(rx.try_recv().is_some());
        }
        assert_eq!(ledger.written(3), 1);
        assert!(
            ledger.queue_ours(&tx, frame(), 2),
            "ours written: room again"
        );
        assert_eq!(ledger.written(1), 1);
        assert_eq!(ledger.written(1), 0);
        // A full queue takes nothing more, of ours or the room's.
        for _ in 0..8 {
            let _ = ledger.queue_rooms(&tx, frame());
        }
        assert!(!ledger.queue_rooms(&tx, frame()));
        assert!(!ledger.queue_ours(&tx, frame(), 8));
    }

    /// What a page's queue holds, in order.
    fn drain(rx: &mut outbox::OutboxReceiver) -> Vec<String> {
        std::iter::from_fn(|| rx.try_recv())
            .map(|f| f.to_string())
            .collect()
    }

    #[test]
    fn news_waits_behind_the_snapshot_on_its_way_and_follows_the_one_built_before_it() {
        let snapshot = Utf8Bytes::from(
            hallway_proto::ServerMessage::Snapshot {
                participants: Vec::new(),
                circles: Vec::new(),
                in_room: None,
                areas: Vec::new(),
                chat: Vec::new(),
                locked: false,
                broadcasters: Vec::new(),
                announcement: None,
                floor_plan: None,
            }
            .encode(),
        );
        assert!(snapshot.as_str().starts_with(SNAPSHOT_START), "{snapshot}");
        let (tx, mut rx) = outbox::outbox(256);
        let mut ledger = Ledger::default();
        let news = |n: u32| Utf8Bytes::from(format!("news {n}"));
        let room = |ledger: &mut Ledger, frame: Utf8Bytes| {
            assert!(ledger.queue_rooms(&tx, frame.clone()));
            ledger.passed(&tx, &frame)
        };
        // No snapshot on its way: news passes, and a snapshot the room did not announce
        // changes nothing.
        assert_eq!(ledger.queue_news(&tx, news(1)), Queued::Now);
        assert_eq!(room(&mut ledger, snapshot.clone()), (0, 0));
        assert_eq!(drain(&mut rx), ["news 1", snapshot.as_str()]);
        // Two on their way: news sent after the first was built follows the first; news
        // sent after the second was built, the second; a view's circles too.
        ledger.snapshot_ahead();
        assert_eq!(ledger.queue_news(&tx, news(2)), Queued::Held);
        ledger.snapshot_ahead();
        assert_eq!(ledger.queue_news(&tx, news(3)), Queued::Held);
        assert!(ledger.queue_circle(&tx, Utf8Bytes::from_static("circle")));
        assert_eq!(room(&mut ledger, Utf8Bytes::from_static("{}")), (0, 0));
        assert_eq!(drain(&mut rx), ["{}"]);
        assert_eq!(room(&mut ledger, snapshot.clone()), (1, 0));
        assert_eq!(drain(&mut rx), [snapshot.as_str(), "news 2"]);
        assert_eq!(ledger.queue_news(&tx, news(4)), Queued::Held);
        assert_eq!(room(&mut ledger, snapshot.clone()), (3, 0));
        assert_eq!(ledger.queue_news(&tx, news(5)), Queued::Now);
        assert_eq!(
            drain(&mut rx),
            [snapshot.as_str(), "news 3", "circle", "news 4", "news 5"]
        );
        // More than it may hold: all of it let go and counted (the snapshot then asked
        // for brings it), and what comes after is held again.
        ledger.snapshot_ahead();
        for n in 0..NODE_SLOTS as u32 {
            assert_eq!(ledger.queue_news(&tx, news(n)), Queued::Held);
        }
        assert!(
            !ledger.queue_circle(&tx, Utf8Bytes::from_static("circle")),
            "no room"
        );
        assert_eq!(
            ledger.queue_news(&tx, news(1000)),
            Queued::Missed(NODE_SLOTS as u64 + 1)
        );
        assert_eq!(ledger.queue_news(&tx, news(1001)), Queued::Held);
        assert_eq!(room(&mut ledger, snapshot.clone()), (1, 0));
        assert_eq!(drain(&mut rx), [snapshot.as_str(), "news 1001"]);
    }

    #[test]
    fn held_news_that_finds_no_room_behind_its_snapshot_is_counted_missed() {
        let (tx, mut rx) = outbox::outbox(4);
        let mut ledger = Ledger::default();
        let snapshot = Utf8Bytes::from_static(r#"{"type":"snapshot","participants":[]}"#);
        ledger.snapshot_ahead();
        for n in 0..5 {
            let held = ledger.queue_news(&tx, Utf8Bytes::from(format!("news {n}")));
            assert_eq!(held, Queued::Held);
        }
        assert!(ledger.queue_rooms(&tx, snapshot.clone()));
        assert_eq!(ledger.passed(&tx, &snapshot), (3, 2));
        assert_eq!(
            drain(&mut rx),
            [snapshot.as_str(), "news 0", "news 1", "news 2"]
        );
    }
}
