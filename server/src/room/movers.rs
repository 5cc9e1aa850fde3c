//! One tick's movers, sorted by floor cell and each encoded once, from which every page's
//! tick is cut: those who moved inside what the page shows (and a margin), and the page's
//! own move wherever it is. The room's task cuts them for the pages of its own node
//! (`actor::sight`); in a cluster, the node a relayed page is connected to cuts them from
//! the movers its room's owner sends once per tick (`cluster::relay`), so that the owner
//! does not do it once per relayed person (issue #19, item 4).

use std::collections::HashMap;

use hallway_proto::{PositionOut, ServerMessage};
use tungstenite::protocol::frame::Utf8Bytes;

use super::grid::Grid;
use super::model::{ParticipantId, Point, Rect};

/// Floor units around what a page shows whose people still come on every tick: someone
/// walking into view is already where they are when they appear.
pub(crate) const MARGIN: f32 = 300.0;

/// Most people moving inside one view in one tick that still come on every tick. A page
/// zoomed out over a big crowd gets the once-a-second round instead, so that looking at
/// the whole floor of a room of thousands does not make it a slow consumer.
pub(crate) const MOST_IN_SIGHT: usize = 250;

/// Side of the cells movers are sorted into each tick, in floor units.
const CELL: f32 = 250.0;

/// The part of the floor a page shows, with [`MARGIN`] around it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct View {
    left: f32,
    top: f32,
    right: f32,
    bottom: f32,
}

impl View {
    /// What a page that shows `rect` sees.
    pub(crate) fn of(rect: Rect) -> View {
        View {
            left: rect.x - MARGIN,
            top: rect.y - MARGIN,
            right: rect.x + rect.width + MARGIN,
            bottom: rect.y + rect.height + MARGIN,
        }
    }

    /// Whether any of the disc at `centre` with `radius` is in sight.
    pub(crate) fn sees(&self, centre: Point, radius: f32) -> bool {
        centre.x + radius >= self.left
            && centre.x - radius <= self.right
            && centre.y + radius >= self.top
            && centre.y - radius <= self.bottom
    }

    /// The middle of what the page shows.
    pub(crate) fn middle(&self) -> Point {
        Point::new(
            (self.left + self.right) / 2.0,
            (self.top + self.bottom) / 2.0,
        )
    }

    /// Left, top, right and bottom, margin included.
    pub(crate) fn edges(&self) -> (f32, f32, f32, f32) {
        (self.left, self.top, self.right, self.bottom)
    }

    /// A view from its edges (as [`View::edges`] gives them, margin included): how a
    /// cluster's nodes pass one on.
    pub(crate) fn from_edges((left, top, right, bottom): (f32, f32, f32, f32)) -> View {
        View {
            left,
            top,
            right,
            bottom,
        }
    }
}

/// One tick's movers, ready to be cut into each page's tick.
#[derive(Debug)]
pub(crate) struct Movers {
    /// The floor's size, which the grid covers.
    size: (f32, f32),
    /// The movers (indices into `entries` and `points`), by floor cell.
    grid: Grid<u32>,
    /// The movers' indices by id: one's own move always comes back.
    index: HashMap<ParticipantId, u32>,
    /// Each mover's `[id, x, y]`, encoded once.
    entries: Vec<String>,
    /// Where each mover is.
    points: Vec<Point>,
    /// A tick message around its positions: what comes before the first and after the
    /// last (taken from the protocol's own encoding).
    frame: (String, String),
    /// Reused buffer: movers found in one view.
    found: Vec<u32>,
}

impl Movers {
    /// None yet, on a floor of `width` × `height`.
    pub(crate) fn new(width: f32, height: f32) -> Movers {
        Movers {
            size: (width, height),
            grid: Grid::new(width, height, CELL),
            index: HashMap::new(),
            entries: Vec::new(),
            points: Vec::new(),
            frame: tick_frame(),
            found: Vec::new(),
        }
    }

    /// The floor's size.
    pub(crate) fn size(&self) -> (f32, f32) {
        self.size
    }

    /// Forgets the last tick's movers.
    pub(crate) fn clear(&mut self) {
        self.grid.clear();
        self.index.clear();
        self.entries.clear();
        self.points.clear();
    }

    /// Adds a mover.
    pub(crate) fn add(&mut self, id: ParticipantId, at: Point) {
        // Indices fit: a tick's movers are at most the room's participants.
        let i = self.points.len() as u32;
        self.grid.insert(i, at);
        self.index.insert(id, i);
        self.entries.push(entry(id, at));
        self.points.push(at);
    }

    /// `me`'s own move this tick, if it moved: its encoded entry and where it is.
    pub(crate) fn own(&self, me: ParticipantId) -> Option<(&str, Point)> {
        let &i = self.index.get(&me)?;
        Some((
            self.entries.get(i as usize)?.as_str(),
            *self.points.get(i as usize)?,
        ))
    }

    /// The tick for `me`, whose page shows `view`: this tick's movers in sight, if any,
    /// and not too many, and oneself wherever one is (a refused or clamped move corrects
    /// itself).
    pub(crate) fn tick_for(&mut self, me: ParticipantId, view: &View) -> Option<Utf8Bytes> {
        let mut found = std::mem::take(&mut self.found);
        found.clear();
        let (left, top, right, bottom) = view.edges();
        self.grid.within(left, top, right, bottom, &mut found);
        found.retain(|&i| view.sees(self.points[i as usize], 0.0));
        let crowded = found.len() > MOST_IN_SIGHT;
        if crowded {
            found.clear();
        }
        if let Some(&i) = self.index.get(&me) {
            // In sight (and not crowded out), one is among those found already.
            if crowded || !view.sees(self.points[i as usize], 0.0) {
                found.push(i);
            }
        }
        let tick = (!found.is_empty()).then(|| self.frame_with(&found));
        self.found = found;
        tick
    }

    /// A tick of the movers at `found`: the entries were encoded once this tick; a page's
    /// tick only copies them.
    fn frame_with(&self, found: &[u32]) -> Utf8Bytes {
        let (head, tail) = &self.frame;
        let size = head.len()
            + tail.len()
            + found
                .iter()
                .map(|&i| self.entries[i as usize].len() + 1)
                .sum::<usize>();
        let mut frame = String::with_capacity(size);
        frame.push_str(head);
        for (k, &i) in found.iter().enumerate() {
            if k > 0 {
                frame.push(',');
            }
            frame.push_str(&self.entries[i as usize]);
        }
        frame.push_str(tail);
        Utf8Bytes::from(frame)
    }
}

/// One position as a tick lists it, encoded as the protocol does.
pub(crate) fn entry(id: ParticipantId, at: Point) -> String {
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

/// What `tick` (with no positions) has before its first position and after its last.
pub(crate) fn frame_of(tick: &ServerMessage) -> (String, String) {
    let empty = tick.encode();
    // The positions come first in a tick: the first empty list is theirs.
    debug_assert!(empty.starts_with(r#"{"type":"tick","positions":[]"#));
    match empty.split_once("[]") {
        Some((head, tail)) => (format!("{head}["), format!("]{tail}")),
        // The protocol's tick has a positions array: not reached.
        None => (
            String::from(r#"{"type":"tick","positions":["#),
            String::from("]}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(x: f32, y: f32, width: f32, height: f32) -> View {
        View::of(Rect {
            x,
            y,
            width,
            height,
        })
    }

    #[test]
    fn a_tick_put_together_from_its_entries_is_the_protocols_own() {
        let mut movers = Movers::new(2000.0, 2000.0);
        let a = (ParticipantId(7), Point::new(512.5, 640.0));
        let b = (ParticipantId(u128::MAX), Point::new(0.25, 1599.0));
        movers.add(a.0, a.1);
        movers.add(b.0, b.1);
        let all = movers
            .tick_for(a.0, &view(0.0, 0.0, 2000.0, 2000.0))
            .expect("two movers");
        let protocol = ServerMessage::Tick {
            positions: vec![
                (a.0.to_string(), a.1.x, a.1.y),
                (b.0.to_string(), b.1.x, b.1.y),
            ],
            in_room: None,
            left: Vec::new(),
            circles: Vec::new(),
            dissolved: Vec::new(),
        };
        assert_eq!(all.as_str(), protocol.encode());
        // Short ids; whole coordinates without a fraction.
        assert_eq!(entry(a.0, a.1), r#"["00000000007",512.5,640]"#);
    }

    #[test]
    fn a_page_gets_who_moved_in_its_view_and_its_own_move_wherever() {
        let mut movers = Movers::new(6000.0, 6000.0);
        let near = ParticipantId(1);
        let far = ParticipantId(2);
        let me = ParticipantId(3);
        movers.add(near, Point::new(500.0, 500.0));
        movers.add(far, Point::new(5000.0, 5000.0));
        let mine = view(0.0, 0.0, 1000.0, 1000.0);
        let tick = movers.tick_for(me, &mine).expect("one in view");
        assert!(tick.contains(&near.to_string()) && !tick.contains(&far.to_string()));
        // One's own move comes back even out of view.
        movers.add(me, Point::new(3000.0, 3000.0));
        let tick = movers.tick_for(me, &mine).expect("two");
        assert!(tick.contains(&me.to_string()) && tick.contains(&near.to_string()));
        // Nobody in view, and not moving: nothing.
        assert!(
            movers
                .tick_for(ParticipantId(9), &view(2000.0, 0.0, 100.0, 100.0))
                .is_none()
        );
        assert_eq!(
            movers.own(me).map(|(_, at)| at),
            Some(Point::new(3000.0, 3000.0))
        );
        movers.clear();
        assert!(movers.tick_for(me, &mine).is_none() && movers.own(me).is_none());
    }

    #[test]
    fn a_crowd_in_view_is_left_to_the_round_but_ones_own_move_is_not() {
        let mut movers = Movers::new(4000.0, 4000.0);
        for k in 0..=MOST_IN_SIGHT as u128 {
            movers.add(ParticipantId(100 + k), Point::new(1000.0, 1000.0));
        }
        let me = ParticipantId(100);
        let tick = movers
            .tick_for(me, &view(500.0, 500.0, 1000.0, 1000.0))
            .expect("one's own move");
        assert_eq!(tick.matches("[\"").count(), 1, "{tick}");
        assert!(
            movers
                .tick_for(ParticipantId(1), &view(500.0, 500.0, 1000.0, 1000.0))
                .is_none()
        );
    }

    #[test]
    fn a_view_passed_on_by_its_edges_is_the_same() {
        let v = view(100.0, 200.0, 1600.0, 960.0);
        assert_eq!(View::from_edges(v.edges()), v);
    }
}
