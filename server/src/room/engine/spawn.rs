//! Where newcomers appear: a free spot near the middle of the floor.

use super::Room;
use crate::room::model::Point;

impl Room {
    /// A spot near the middle of the floor, searched ring by ring so the result is
    /// deterministic: ideally with nobody within reach and well clear of every circle;
    /// on a crowded floor, the first spot at least outside every circle's join radius,
    /// unless a free one is within a few rings beyond it. The search is bounded, so a
    /// join costs the same in a full room as in an empty one.
    pub(super) fn spawn_point(&mut self) -> Point {
        /// Spots looked at, at most: about 25 rings.
        const BUDGET: usize = 2500;
        /// Rings looked at beyond the first spot outside every circle, for a free one
        /// (about 650 units at the default forming distance). Looking at all 25 rings for
        /// a free spot that a full floor does not have was the largest part of a join into
        /// a room of 10,000 (see benchmarks.md).
        const BEYOND_FALLBACK: usize = 6;
        // Spots in whole units, as the browser walks: a newcomer's position is in every
        // `joined` and listing, shorter without a fraction.
        let centre = Point::new(
            (self.settings.width / 2.0).round(),
            (self.settings.height / 2.0).round(),
        );
        let step = self.settings.forming_distance * 1.2;
        let mut fallback = None;
        let mut last_ring = usize::MAX;
        let mut looked = 0;
        for ring in 0.. {
            let spots = if ring == 0 { 1 } else { ring * 8 };
            let r = ring as f32 * step;
            if r > self.settings.width.max(self.settings.height)
                || looked >= BUDGET
                || ring > last_ring
            {
                break;
            }
            for k in 0..spots {
                let angle = k as f32 / spots as f32 * std::f32::consts::TAU;
                let spot = Point::new(
                    (centre.x + r * angle.cos()).round(),
                    (centre.y + r * angle.sin()).round(),
                );
                if spot.x < 0.0
                    || spot.y < 0.0
                    || spot.x > self.settings.width
                    || spot.y > self.settings.height
                {
                    continue;
                }
                looked += 1;
                match self.spot_quality(spot, step) {
                    SpotQuality::Free => return spot,
                    SpotQuality::OutsideCircles if fallback.is_none() => {
                        fallback = Some(spot);
                        last_ring = ring + BEYOND_FALLBACK;
                    }
                    _ => {}
                }
            }
        }
        fallback.unwrap_or(centre)
    }

    fn spot_quality(&mut self, spot: Point, clearance: f32) -> SpotQuality {
        if self.area_is_full_at(Point::new(-1.0, -1.0), spot) {
            return SpotQuality::Taken;
        }
        let margin = self.settings.hysteresis;
        let reach = self
            .settings
            .circle_radius(self.settings.max_circle_size as usize)
            + margin;
        self.scratch_circles.clear();
        self.circle_index
            .near(spot, reach, &mut self.scratch_circles);
        let mut near_circle = false;
        for cid in &self.scratch_circles {
            let circle = &self.circles[cid];
            let d = circle.centre.distance(spot);
            if d <= circle.radius {
                return SpotQuality::Taken;
            }
            near_circle |= d <= circle.radius + margin;
        }
        self.scratch_people.clear();
        self.people_index
            .near(spot, clearance, &mut self.scratch_people);
        let crowded = self
            .scratch_people
            .iter()
            .any(|id| self.participants[id].position.distance_sq(spot) < clearance * clearance);
        if crowded || near_circle {
            SpotQuality::OutsideCircles
        } else {
            SpotQuality::Free
        }
    }
}

/// How good a place to appear a spot is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SpotQuality {
    /// Nobody within reach, well clear of circles.
    Free,
    /// Outside every circle's join radius, but crowded.
    OutsideCircles,
    /// Inside a circle's join radius, or in a full area.
    Taken,
}

#[cfg(test)]
mod tests {
    use crate::room::engine::Room;
    use crate::room::model::{DisplayName, ParticipantId, Point, Role, RoomSettings};

    /// A room of 2400 × 1600 (the middle at 1200, 800) with people standing 100 units
    /// apart (beyond the forming distance: no circle forms) in a square of `side` around
    /// the middle; returns the room and how many stand there.
    fn crowded(side: f32) -> (Room, u128) {
        let mut room = Room::new(RoomSettings::new("test", "Test")).expect("valid settings");
        let per_row = (side / 100.0) as u32 + 1;
        let mut n = 0;
        for row in 0..per_row {
            for col in 0..per_row {
                n += 1;
                let id = ParticipantId(n);
                let name = DisplayName::parse(&format!("P{n}")).expect("valid name");
                room.join(id, name, Role::Participant).expect("joins");
                let (x, y) = (
                    1200.0 - side / 2.0 + col as f32 * 100.0,
                    800.0 - side / 2.0 + row as f32 * 100.0,
                );
                room.move_to(id, f64::from(x), f64::from(y)).expect("moves");
            }
        }
        assert_eq!(
            room.circles().count(),
            0,
            "nobody stands close enough to talk"
        );
        (room, n)
    }

    fn newcomer(room: &mut Room, n: u128) -> Point {
        let id = ParticipantId(n);
        let name = DisplayName::parse("Newcomer").expect("valid name");
        room.join(id, name, Role::Participant).expect("joins");
        room.participant(id).expect("in the room").position
    }

    #[test]
    fn a_newcomer_appears_in_the_middle_of_an_empty_floor() {
        let mut room = Room::new(RoomSettings::new("test", "Test")).expect("valid settings");
        assert_eq!(newcomer(&mut room, 1), Point::new(1200.0, 800.0));
    }

    #[test]
    fn a_newcomer_appears_at_a_free_spot_a_few_rings_out() {
        // Everyone within 400 of the middle: free spots begin about 510 out.
        let (mut room, n) = crowded(800.0);
        let at = newcomer(&mut room, n + 1);
        assert_eq!(
            (at.x.fract(), at.y.fract()),
            (0.0, 0.0),
            "whole units: {at:?}"
        );
        let from_middle = at.distance(Point::new(1200.0, 800.0));
        assert!(
            (500.0..=700.0).contains(&from_middle),
            "at {at:?}, {from_middle} from the middle"
        );
        let nearest = room
            .participants()
            .filter(|p| p.id != ParticipantId(n + 1))
            .map(|p| p.position.distance(at))
            .fold(f32::MAX, f32::min);
        assert!(nearest >= 108.0, "nobody within reach: {nearest}");
    }

    #[test]
    fn on_a_crowded_floor_a_newcomer_appears_near_the_middle_not_far_away() {
        // Everyone within 700 of the middle: no free spot within six rings (about 650
        // units) of the middle, which is outside every circle (there are none).
        let (mut room, n) = crowded(1400.0);
        let at = newcomer(&mut room, n + 1);
        assert_eq!(at, Point::new(1200.0, 800.0));
    }
}
