//! The round: once a second, a `tick` to every page that shows part of the floor with who
//! moved since the last round (see `sight.rs` for what comes at once). A big room's round
//! carries only who moved near what the page shows ([`NEAR`] around its view), and every
//! [`WHOLE_EVERY`]th round everyone who moved since the last such round: everyone who
//! moved anywhere, to every page, every second, was 50 KB a second each in a room of
//! 10,000.

use std::collections::HashMap;

use hallway_proto::ServerMessage;
use tungstenite::protocol::frame::Utf8Bytes;

use super::Actor;
use super::sight::View;
use crate::room::model::Point;
use crate::room::movers::{entry, frame_of};
use crate::room::views;

/// How far beyond what a page shows (and its margin) a big room's round carries who moved,
/// in floor units: half a laptop's screen of floor, so that a page that pans by that much
/// finds everyone there where they are.
pub(super) const NEAR: f32 = 800.0;

/// Side of the square tiles a big room's round is cut into, in floor units (a page gets
/// the tiles its view and [`NEAR`] touch).
const ROUND_TILE: f32 = 500.0;

/// Every how many rounds a big room's round carries everyone who moved since the last
/// such round, wherever they are: how long, in seconds, a page may show someone who moved
/// out of its sight and stopped where they were.
pub(super) const WHOLE_EVERY: u32 = 5;

/// The round as the pages that show part of the floor get it.
#[derive(Debug)]
pub(super) enum Round {
    /// The same message for every page.
    Shared(Utf8Bytes),
    /// In a big room: each page gets who moved near what it shows.
    Tiled(Tiles),
}

impl Round {
    /// The round for a page that shows `view` (`None`: the whole floor), with its own
    /// move this tick (`own`: its entry and where it is) wherever it is: the round stands
    /// in for the page's tick, and one's own move always comes back (a `gather` moves
    /// everyone, far from where they look).
    pub(super) fn for_view(
        &mut self,
        view: Option<&View>,
        own: Option<(&str, Point)>,
    ) -> Utf8Bytes {
        match self {
            Round::Shared(bytes) => bytes.clone(),
            Round::Tiled(tiles) => tiles.near(view, own),
        }
    }
}

/// A big room's round cut into tiles of [`ROUND_TILE`]: each tile's positions encoded once
/// and joined, and what the message has around them.
#[derive(Debug)]
pub(super) struct Tiles {
    cols: usize,
    rows: usize,
    /// `rows * cols` comma-joined `[id, x, y]` entries, row-major; empty where nobody moved.
    tiles: Vec<String>,
    /// The tick message before its first position and after its last.
    frame: (String, String),
    /// The round for each range of tiles built so far (columns, rows): pages that look at
    /// the same tiles share one message.
    built: HashMap<(usize, usize, usize, usize), Utf8Bytes>,
}

impl Tiles {
    /// For a floor of `width` × `height`, with `frame` around the positions.
    fn new(width: f32, height: f32, frame: (String, String)) -> Tiles {
        let cols = ((width / ROUND_TILE).ceil() as usize).max(1);
        let rows = ((height / ROUND_TILE).ceil() as usize).max(1);
        Tiles {
            cols,
            rows,
            tiles: vec![String::new(); cols * rows],
            frame,
            built: HashMap::new(),
        }
    }

    fn col(&self, x: f32) -> usize {
        // Float-to-int casts saturate (a negative edge is column 0).
        ((x / ROUND_TILE) as usize).min(self.cols - 1)
    }

    fn row(&self, y: f32) -> usize {
        ((y / ROUND_TILE) as usize).min(self.rows - 1)
    }

    fn add(&mut self, at: Point, entry: &str) {
        let i = self.row(at.y) * self.cols + self.col(at.x);
        let tile = &mut self.tiles[i];
        if !tile.is_empty() {
            tile.push(',');
        }
        tile.push_str(entry);
    }

    /// The round for a page that shows `view`: the tiles it and [`NEAR`] around it touch,
    /// shared by every page that looks at the same tiles; and `own` (the page's own move
    /// this tick) if it is not among them.
    fn near(&mut self, view: Option<&View>, own: Option<(&str, Point)>) -> Utf8Bytes {
        let (c0, c1, r0, r1) = match view {
            Some(view) => {
                let (left, top, right, bottom) = view.edges();
                (
                    self.col(left - NEAR),
                    self.col(right + NEAR),
                    self.row(top - NEAR),
                    self.row(bottom + NEAR),
                )
            }
            None => (0, self.cols - 1, 0, self.rows - 1),
        };
        let own = own.filter(|(_, at)| {
            !((c0..=c1).contains(&self.col(at.x)) && (r0..=r1).contains(&self.row(at.y)))
        });
        if own.is_none()
            && let Some(built) = self.built.get(&(c0, c1, r0, r1))
        {
            return built.clone();
        }
        let cols = self.cols;
        let picked: Vec<&str> = (r0..=r1)
            .flat_map(|row| (c0..=c1).map(move |col| row * cols + col))
            .map(|i| self.tiles[i].as_str())
            .filter(|tile| !tile.is_empty())
            .chain(own.map(|(entry, _)| entry))
            .collect();
        let (head, tail) = &self.frame;
        let size = head.len() + tail.len() + picked.iter().map(|t| t.len() + 1).sum::<usize>();
        let mut frame = String::with_capacity(size);
        frame.push_str(head);
        for (k, tile) in picked.into_iter().enumerate() {
            if k > 0 {
                frame.push(',');
            }
            frame.push_str(tile);
        }
        frame.push_str(tail);
        let bytes = Utf8Bytes::from(frame);
        if own.is_none() {
            self.built.insert((c0, c1, r0, r1), bytes.clone());
        }
        bytes
    }
}

impl Actor {
    /// Counts a tick; true once a second, on the round.
    pub(super) fn next_round(&mut self) -> bool {
        self.sight.ticks += 1;
        if self.sight.ticks >= self.tick_hz.max(1) {
            self.sight.ticks = 0;
            true
        } else {
            false
        }
    }

    /// The round: everyone who moved since the last round, where they are; the circles
    /// some page did not hear of at once, as they are now (in a big room: only those that
    /// dissolved); in a big room also how many are in it and who left since the last
    /// round. Encoded once for every page that shows part of the floor; in a big room the
    /// positions are cut into tiles, and each page gets those near what it shows, except
    /// on every [`WHOLE_EVERY`]th round, which carries everyone who moved since the last
    /// such round to every page. With whether it carries circles (news that positions
    /// alone do not catch up with).
    ///
    /// The circles come in the round itself, not as a message each: in a room of 3,000
    /// with everyone looking, some 200 to 500 circles change out of sight each second, and
    /// a message each overflowed nearly every page's queue on every round, each of which
    /// was then owed a snapshot of its own (half of the room task's time; see
    /// benchmarks.md).
    pub(super) fn round_positions(&mut self) -> Option<(Round, bool)> {
        let big = self.light_welcomes();
        if self.sight.moved.is_empty() && self.sight.late.is_empty() && !big {
            self.sight.moved_since_whole.clear();
            return None;
        }
        self.sight.rounds += 1;
        let whole = !big || self.sight.rounds >= WHOLE_EVERY;
        let moved = if whole {
            self.sight.rounds = 0;
            self.sight.moved.clear();
            std::mem::take(&mut self.sight.moved_since_whole)
        } else {
            std::mem::take(&mut self.sight.moved)
        };
        let room = &self.room;
        let left = std::mem::take(&mut self.sight.left)
            .into_iter()
            .map(|id| id.to_string())
            .collect();
        let (mut circles, mut dissolved) = (Vec::new(), Vec::new());
        for cid in std::mem::take(&mut self.sight.late) {
            match room.circle(cid) {
                // A big room's page knows the circles near it only, and is sent those
                // where it looks when it looks there (`circles_in`): every circle that
                // changed in a room of 10,000, to every page, was 170 KiB a second each.
                Some(_) if big => {}
                Some(c) => circles.push(views::circle(c)),
                // It may still show one it saw: gone, it must go.
                None => dissolved.push(cid.0),
            }
        }
        let carries_circles = !circles.is_empty() || !dissolved.is_empty();
        let mut msg = ServerMessage::Tick {
            positions: Vec::new(),
            in_room: big.then(|| room.len() as u32),
            left,
            circles,
            dissolved,
        };
        let located = moved
            .into_iter()
            .filter_map(|id| Some((id, room.participant(id)?.position)));
        if whole {
            if let ServerMessage::Tick { positions, .. } = &mut msg {
                positions.extend(located.map(|(id, at)| (id.to_string(), at.x, at.y)));
            }
            return Some((
                Round::Shared(Utf8Bytes::from(msg.encode())),
                carries_circles,
            ));
        }
        let settings = room.settings();
        let mut tiles = Tiles::new(settings.width, settings.height, frame_of(&msg));
        for (id, at) in located {
            tiles.add(at, &entry(id, at));
        }
        Some((Round::Tiled(tiles), carries_circles))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::room::model::{ParticipantId, Rect};

    #[test]
    fn a_tiled_round_is_a_tick_with_who_moved_near_the_view() {
        let round = ServerMessage::Tick {
            positions: Vec::new(),
            in_room: Some(10_000),
            left: vec!["gone".into()],
            circles: Vec::new(),
            dissolved: vec![4],
        };
        let mut tiles = Tiles::new(6000.0, 4000.0, frame_of(&round));
        let near = (ParticipantId(1), Point::new(1500.0, 300.0));
        let far = (ParticipantId(2), Point::new(5000.0, 3000.0));
        let edge = (ParticipantId(3), Point::new(6000.0, 4000.0));
        for (id, at) in [near, far, edge] {
            tiles.add(at, &entry(id, at));
        }
        let decoded = |bytes: Utf8Bytes| -> (Vec<String>, Option<u32>, Vec<String>, Vec<u64>) {
            match serde_json::from_str(bytes.as_str()) {
                Ok(ServerMessage::Tick {
                    positions,
                    in_room,
                    left,
                    dissolved,
                    ..
                }) => (
                    positions.into_iter().map(|(id, ..)| id).collect(),
                    in_room,
                    left,
                    dissolved,
                ),
                other => panic!("not a tick: {other:?}"),
            }
        };
        let corner = View::of(Rect {
            x: 0.0,
            y: 0.0,
            width: 600.0,
            height: 400.0,
        });
        let (ids, in_room, left, dissolved) = decoded(tiles.near(Some(&corner), None));
        assert_eq!(ids, vec![near.0.to_string()]);
        // Built once for every page that looks at the same tiles.
        assert_eq!(
            tiles.near(Some(&corner), None).as_str(),
            tiles.near(Some(&corner), None).as_str()
        );
        assert_eq!(tiles.built.len(), 1);
        // One's own move comes with the round wherever it is, once.
        let mine = (ParticipantId(9), Point::new(5900.0, 100.0));
        let own = entry(mine.0, mine.1);
        let (ids, ..) = decoded(tiles.near(Some(&corner), Some((&own, mine.1))));
        assert_eq!(ids, vec![near.0.to_string(), mine.0.to_string()]);
        let (ids, ..) = decoded(tiles.near(Some(&corner), Some((&entry(near.0, near.1), near.1))));
        assert_eq!(ids, vec![near.0.to_string()]);
        assert_eq!(
            (in_room, left, dissolved),
            (Some(10_000), vec!["gone".to_string()], vec![4])
        );
        let mut everyone = decoded(tiles.near(None, None)).0;
        everyone.sort();
        let mut all = vec![near.0.to_string(), far.0.to_string(), edge.0.to_string()];
        all.sort();
        assert_eq!(everyone, all);
        // Nobody moved within a tile of this one's surroundings.
        let nowhere = View::of(Rect {
            x: 3500.0,
            y: 0.0,
            width: 100.0,
            height: 100.0,
        });
        assert!(decoded(tiles.near(Some(&nowhere), None)).0.is_empty());
    }
}
