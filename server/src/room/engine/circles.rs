//! The circle rules' building blocks: placing people, areas' counts and rules, finding
//! circles and partners in reach, forming, entering, leaving and reshaping circles.

use super::{Event, Room};
use crate::room::model::{Circle, CircleId, ParticipantId, Point};

impl Room {
    pub(super) fn clamp(&self, p: Point) -> Point {
        Point::new(
            p.x.clamp(0.0, self.settings.width),
            p.y.clamp(0.0, self.settings.height),
        )
    }

    /// Moves a participant's recorded position and index entry, and marks them moved.
    pub(super) fn place(&mut self, id: ParticipantId, from: Point, to: Point) {
        self.people_index.relocate(id, from, to);
        self.count_areas(from, -1);
        self.count_areas(to, 1);
        if let Some(p) = self.participants.get_mut(&id) {
            p.position = to;
            if !p.moved {
                p.moved = true;
                self.moved.push(id);
            }
        }
    }

    pub(super) fn count_areas(&mut self, p: Point, delta: i32) {
        for (area, count) in self.settings.areas.iter().zip(self.area_counts.iter_mut()) {
            if area.rect.contains(p) {
                *count = count.saturating_add_signed(delta);
            }
        }
    }

    /// Whether walking from `from` to `to` enters an area already at its `max_people`.
    pub(super) fn area_is_full_at(&self, from: Point, to: Point) -> bool {
        self.settings
            .areas
            .iter()
            .zip(&self.area_counts)
            .any(|(area, count)| {
                area.max_people.is_some_and(|max| *count >= max)
                    && area.rect.contains(to)
                    && !area.rect.contains(from)
            })
    }

    pub(super) fn in_quiet_area(&self, p: Point) -> bool {
        self.settings
            .areas
            .iter()
            .any(|a| a.quiet && a.rect.contains(p))
    }

    /// The circle whose join radius contains `p`, nearest centre first, then lowest id.
    pub(super) fn nearest_circle_containing(&mut self, p: Point) -> Option<CircleId> {
        let reach = self
            .settings
            .circle_radius(self.settings.max_circle_size as usize);
        self.scratch_circles.clear();
        self.circle_index.near(p, reach, &mut self.scratch_circles);
        let mut best: Option<(f32, CircleId)> = None;
        for cid in &self.scratch_circles {
            let circle = &self.circles[cid];
            let d = p.distance_sq(circle.centre);
            if d <= circle.radius * circle.radius && best.is_none_or(|b| (d, *cid) < b) {
                best = Some((d, *cid));
            }
        }
        best.map(|(_, cid)| cid)
    }

    /// The nearest participant in no circle within the forming distance of `p`, outside
    /// quiet areas; ties go to the lowest id.
    pub(super) fn nearest_free_partner(
        &mut self,
        id: ParticipantId,
        p: Point,
    ) -> Option<ParticipantId> {
        let reach = self.settings.forming_distance;
        self.scratch_people.clear();
        self.people_index.near(p, reach, &mut self.scratch_people);
        let mut best: Option<(f32, ParticipantId)> = None;
        for other in &self.scratch_people {
            if *other == id {
                continue;
            }
            let q = &self.participants[other];
            let d = p.distance_sq(q.position);
            if q.circle.is_none()
                && d <= reach * reach
                && best.is_none_or(|b| (d, *other) < b)
                && !self.in_quiet_area(q.position)
            {
                best = Some((d, *other));
            }
        }
        best.map(|(_, other)| other)
    }

    /// A point just beyond the circle's rim on the line from its centre towards where the
    /// participant was heading (or came from, when they aimed at the very centre).
    pub(super) fn just_outside(&self, circle: &Circle, target: Point, from: Point) -> Point {
        let toward = if target.distance_sq(circle.centre) > 1.0 {
            target
        } else {
            from
        };
        let (mut dx, mut dy) = (toward.x - circle.centre.x, toward.y - circle.centre.y);
        let len = (dx * dx + dy * dy).sqrt();
        if len < 1.0 {
            (dx, dy) = (0.0, 1.0);
        } else {
            (dx, dy) = (dx / len, dy / len);
        }
        let rim = circle.radius + 1.0;
        self.clamp(Point::new(
            circle.centre.x + dx * rim,
            circle.centre.y + dy * rim,
        ))
    }

    pub(super) fn form_circle(&mut self, initiator: ParticipantId, partner: ParticipantId) {
        let cid = CircleId(self.next_circle);
        self.next_circle += 1;
        let members = vec![partner, initiator];
        let centre = self.centroid(&members);
        let routed = self.routed(false, members.len());
        let icebreaker = self.choose_icebreaker();
        self.circles.insert(
            cid,
            Circle {
                id: cid,
                centre,
                radius: self.settings.circle_radius(2),
                members,
                locked: false,
                routed,
                icebreaker,
            },
        );
        self.circle_index.insert(cid, centre);
        for m in [partner, initiator] {
            if let Some(p) = self.participants.get_mut(&m) {
                p.circle = Some(cid);
            }
        }
        // `connect` before the news of the circle: the pair's pages start their connection
        // first and only then draw the conversation (what delays the first media most is a
        // page busy drawing before it makes its offer).
        if !routed {
            self.events.push(Event::Connect {
                initiator,
                responder: partner,
            });
        }
        self.events.push(Event::CircleChanged(cid));
        self.tell_icebreaker(cid, &[partner, initiator]);
    }

    /// Whether a circle of `members` goes through the SFU, given whether it did: above the
    /// threshold it switches to the SFU, below it back to a mesh, at it nothing changes.
    pub(super) fn routed(&self, was: bool, members: usize) -> bool {
        let threshold = self.settings.mesh_threshold as usize;
        self.settings.privacy || members > threshold || (was && members >= threshold)
    }

    /// Every pair of `members`, the later joiner first (it makes the offer).
    fn pairs(members: &[ParticipantId]) -> Vec<(ParticipantId, ParticipantId)> {
        let mut out = Vec::new();
        for (i, later) in members.iter().enumerate() {
            for earlier in &members[..i] {
                out.push((*later, *earlier));
            }
        }
        out
    }

    pub(super) fn enter_circle(&mut self, id: ParticipantId, cid: CircleId) {
        let Some(circle) = self.circles.get_mut(&cid) else {
            return;
        };
        let existing = circle.members.clone();
        let was = circle.routed;
        circle.members.push(id);
        let routed = self.routed(was, existing.len() + 1);
        if let Some(circle) = self.circles.get_mut(&cid) {
            circle.routed = routed;
        }
        if let Some(p) = self.participants.get_mut(&id) {
            p.circle = Some(cid);
        }
        self.reshape(cid);
        // As in `form_circle`: `connect` first.
        if (was, routed) == (false, false) {
            for responder in &existing {
                self.events.push(Event::Connect {
                    initiator: id,
                    responder: *responder,
                });
            }
        }
        self.events.push(Event::CircleChanged(cid));
        self.tell_icebreaker(cid, &[id]);
        // The mesh grew too large: its members hang up and meet in the SFU.
        if (was, routed) == (false, true) {
            for (leaver, stayer) in Self::pairs(&existing) {
                self.events.push(Event::Disconnect { leaver, stayer });
            }
        }
    }

    /// Takes a participant out of their circle, if any; dissolves a circle left with one.
    pub(super) fn leave_circle(&mut self, id: ParticipantId) {
        let Some(cid) = self.participants.get_mut(&id).and_then(|p| p.circle.take()) else {
            return;
        };
        let Some(circle) = self.circles.get_mut(&cid) else {
            return;
        };
        circle.members.retain(|m| *m != id);
        let stayers = circle.members.clone();
        let was = circle.routed;
        if !was {
            for stayer in &stayers {
                self.events.push(Event::Disconnect {
                    leaver: id,
                    stayer: *stayer,
                });
            }
        }
        if stayers.len() >= 2 {
            let routed = self.routed(was, stayers.len());
            if let Some(circle) = self.circles.get_mut(&cid) {
                circle.routed = routed;
            }
            self.reshape(cid);
            self.events.push(Event::CircleChanged(cid));
            // Small enough again: back to a mesh.
            if was && !routed {
                for (initiator, responder) in Self::pairs(&stayers) {
                    self.events.push(Event::Connect {
                        initiator,
                        responder,
                    });
                }
            }
            return;
        }
        if let Some(circle) = self.circles.remove(&cid) {
            self.circle_index.remove(cid, circle.centre);
        }
        for m in stayers {
            if let Some(p) = self.participants.get_mut(&m) {
                p.circle = None;
            }
        }
        self.events.push(Event::CircleDissolved(cid));
    }

    /// Recomputes a circle's centre and radius after its membership changed.
    pub(super) fn reshape(&mut self, cid: CircleId) {
        let Some(members) = self.circles.get(&cid).map(|c| c.members.clone()) else {
            return;
        };
        let centre = self.centroid(&members);
        let radius = self.settings.circle_radius(members.len());
        if let Some(circle) = self.circles.get_mut(&cid) {
            self.circle_index.relocate(cid, circle.centre, centre);
            circle.centre = centre;
            circle.radius = radius;
        }
    }

    pub(super) fn centroid(&self, members: &[ParticipantId]) -> Point {
        let (mut x, mut y) = (0.0, 0.0);
        for m in members {
            let p = self.participants[m].position;
            x += p.x;
            y += p.y;
        }
        let n = members.len().max(1) as f32;
        Point::new(x / n, y / n)
    }
}
