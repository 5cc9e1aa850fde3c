//! Where newcomers appear: a free spot near the middle of the floor.

use super::Room;
use crate::room::model::Point;

impl Room {
    /// A spot near the middle of the floor, searched ring by ring so the result is
    /// deterministic: ideally with nobody within reach and well clear of every circle;
    /// on a crowded floor, the first spot at least outside every circle's join radius.
    /// The search is bounded, so a join costs the same in a full room as in an empty one.
    pub(super) fn spawn_point(&mut self) -> Point {
        /// Spots looked at, at most: about 25 rings.
        const BUDGET: usize = 2500;
        let centre = Point::new(self.settings.width / 2.0, self.settings.height / 2.0);
        let step = self.settings.forming_distance * 1.2;
        let mut fallback = None;
        let mut looked = 0;
        for ring in 0.. {
            let spots = if ring == 0 { 1 } else { ring * 8 };
            let r = ring as f32 * step;
            if r > self.settings.width.max(self.settings.height) || looked >= BUDGET {
                break;
            }
            for k in 0..spots {
                let angle = k as f32 / spots as f32 * std::f32::consts::TAU;
                let spot = Point::new(centre.x + r * angle.cos(), centre.y + r * angle.sin());
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
                    SpotQuality::OutsideCircles if fallback.is_none() => fallback = Some(spot),
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
