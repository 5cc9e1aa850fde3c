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

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, PoisonError};

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

/// What a relayed connection's queue holds of the room's frames and of this node's own, in
/// the order they are written.
#[derive(Debug, Default)]
pub(super) struct Ledger {
    /// Frames queued so far, all told.
    queued: u64,
    /// Where (in that count) this node's own frames not written yet are.
    ours: VecDeque<u64>,
    /// Frames written so far, all told.
    written: u64,
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
        if !ledger.queue_ours(&endpoint.outbox, frame, CIRCLE_SLOTS) {
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
            let queued =
                lock(&endpoint.ledger).queue_ours(&endpoint.outbox, news.frame.clone(), NODE_SLOTS);
            if queued {
                sent += 1;
            } else {
                missed += 1;
                // Every time: a snapshot the room built before this news would not bring
                // it. (The room takes the same request twice as once.)
                let ask = (endpoint.slug.clone(), *endpoint.key(), Up::Missed);
                if self.uplink.try_send(ask).is_err() {
                    // The room cannot be told: the page comes back with a whole welcome.
                    endpoint.outbox.kick(close::SLOW_CONSUMER);
                }
            }
        }
        metrics::counter!(crate::metrics::MESSAGES_OUT, "type" => "news").increment(sent);
        metrics::counter!(crate::metrics::MISSED_NEWS).increment(missed);
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
}
