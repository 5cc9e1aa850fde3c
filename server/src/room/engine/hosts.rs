//! What only hosts may do: mute, remove (and ban), lock the room, post an announcement.
//! Each checks that the one asking is a host; otherwise `Forbidden` and nothing changes.

use super::{Event, Room};
use crate::floor_plan::FloorPlan;
use crate::room::model::{Area, EngineError, MAX_AREAS, ParticipantId, Point, Rect, Role};
use crate::room::moderation::clean_announcement;

impl Room {
    pub(super) fn require_host(&self, id: ParticipantId) -> Result<(), EngineError> {
        match self.participants.get(&id) {
            Some(p) if p.role == Role::Host => Ok(()),
            Some(_) => Err(EngineError::Forbidden),
            None => Err(EngineError::UnknownParticipant),
        }
    }

    /// Whether the room is locked against newcomers.
    pub fn locked(&self) -> bool {
        self.locked
    }

    /// The current announcement, if any.
    pub fn announcement(&self) -> Option<&str> {
        self.announcement.as_deref()
    }

    /// A host turns a participant's microphone off (they may turn it on again).
    pub fn mute(&mut self, host: ParticipantId, target: ParticipantId) -> Result<(), EngineError> {
        self.require_host(host)?;
        let p = self
            .participants
            .get_mut(&target)
            .ok_or(EngineError::UnknownParticipant)?;
        if p.media.mic {
            p.media.mic = false;
            self.events.push(Event::MediaChanged(target));
        }
        self.events.push(Event::Muted { target, by: host });
        Ok(())
    }

    /// A host removes a participant, and with `ban` bars their link (and, for a personal
    /// invitation, the name's links minted up to `now`) for the room's lifetime. Everyone
    /// else in the room admitted with the same link (the same link opened twice), or with
    /// one the ban now refuses, goes too: a person is not removed while a second tab stays.
    pub fn remove(
        &mut self,
        host: ParticipantId,
        target: ParticipantId,
        ban: bool,
        now: u64,
    ) -> Result<(), EngineError> {
        self.require_host(host)?;
        if target == host {
            return Err(EngineError::Forbidden);
        }
        let p = self
            .participants
            .get(&target)
            .ok_or(EngineError::UnknownParticipant)?;
        let link = p.link.clone();
        if ban && let Some(link) = &link {
            self.bans.ban(link, now);
        }
        let mut also: Vec<ParticipantId> = match &link {
            Some(link) => self
                .participants
                .iter()
                .filter(|(id, _)| **id != target && **id != host)
                .filter(|(_, other)| {
                    other
                        .link
                        .as_ref()
                        .is_some_and(|l| l.jti == link.jti || (ban && self.bans.refuses(l)))
                })
                .map(|(id, _)| *id)
                .collect(),
            None => Vec::new(),
        };
        // Events in id order, whatever the map's order.
        also.sort_unstable();
        self.events.push(Event::Removed { target, ban });
        self.leave(target)?;
        for id in also {
            self.events.push(Event::Removed { target: id, ban });
            self.leave(id)?;
        }
        Ok(())
    }

    /// A host locks or unlocks the room against newcomers.
    pub fn lock_room(&mut self, host: ParticipantId, locked: bool) -> Result<(), EngineError> {
        self.require_host(host)?;
        if self.locked != locked {
            self.locked = locked;
            self.events.push(Event::RoomLocked(locked));
        }
        Ok(())
    }

    /// A host posts an announcement for everyone; an empty one clears it.
    pub fn announce(&mut self, host: ParticipantId, text: &str) -> Result<(), EngineError> {
        self.require_host(host)?;
        self.announcement = clean_announcement(text)?;
        self.events.push(Event::Announcement);
        Ok(())
    }

    /// A host gathers everyone else around a point (or the middle of an area): each leaves
    /// their circle and stands on rings around it, far enough apart that no circle forms
    /// until people walk. Positions go out with the next tick.
    pub fn gather(&mut self, host: ParticipantId, to: GatherTarget) -> Result<Point, EngineError> {
        self.require_host(host)?;
        let centre = match to {
            GatherTarget::Point(x, y) => {
                // The same range `move` accepts: beyond it is a client's mistake, not a
                // point to clamp to the floor's edge.
                let limit = hallway_proto::limits::MAX_COORDINATE;
                let (wx, wy) = (f64::from(x), f64::from(y));
                if !(wx.is_finite() && wy.is_finite() && wx.abs() <= limit && wy.abs() <= limit) {
                    return Err(EngineError::InvalidPosition);
                }
                Point::new(
                    x.clamp(0.0, self.settings.width),
                    y.clamp(0.0, self.settings.height),
                )
            }
            GatherTarget::Area(id) => {
                let area = self
                    .settings
                    .areas
                    .iter()
                    .find(|a| a.id == id)
                    .ok_or(EngineError::UnknownArea)?;
                Point::new(
                    area.rect.x + area.rect.width / 2.0,
                    area.rect.y + area.rect.height / 2.0,
                )
            }
        };
        let mut everyone: Vec<ParticipantId> = self
            .participants
            .keys()
            .copied()
            .filter(|id| *id != host)
            .collect();
        everyone.sort();
        // At a stage: an audience in rows in front of it; elsewhere: rings around the point.
        let stage = self
            .settings
            .areas
            .iter()
            .find(|a| a.stage && a.rect.contains(centre))
            .map(|a| a.rect);
        let spots = self.gathering_spots(centre, stage, everyone.len());
        for (id, spot) in everyone.into_iter().zip(spots) {
            self.leave_circle(id);
            let from = self.participants[&id].position;
            self.place(id, from, spot);
        }
        self.events.push(Event::Gathered {
            by: host,
            at: centre,
        });
        Ok(centre)
    }

    /// Where `count` gathered people stand: apart from one another (farther than the
    /// forming distance, so no circle forms), on the floor, and out of any stage area. In
    /// front of a `stage`: rows facing it, the middle seats first, below it (or above it
    /// when the floor ends there); elsewhere: rings around `centre`, nearest first.
    fn gathering_spots(&self, centre: Point, stage: Option<Rect>, count: usize) -> Vec<Point> {
        let (w, h) = (self.settings.width, self.settings.height);
        let spacing = self.settings.forming_distance * 1.2;
        let on_floor = |p: &Point| (0.0..=w).contains(&p.x) && (0.0..=h).contains(&p.y);
        let out_of_stages = |p: &Point| {
            !self
                .settings
                .areas
                .iter()
                .any(|a| a.stage && a.rect.contains(*p))
        };
        let mut spots = Vec::with_capacity(count);
        // Rows below the stage are taken first, then rows above it.
        let mut rows_above = 0usize;
        // Rows or rings until everyone has a spot or the next one lies wholly off the floor.
        let reach = (w.hypot(h) / spacing).ceil() as usize + 1;
        for step in 1..=reach {
            if spots.len() >= count {
                break;
            }
            let candidates: Vec<Point> = match stage {
                Some(rect) => {
                    let below = rect.y + rect.height + spacing * (step as f32 - 0.5);
                    let y = if below <= h {
                        below
                    } else {
                        rows_above += 1;
                        rect.y - spacing * (rows_above as f32 - 0.5)
                    };
                    if y < 0.0 {
                        break;
                    }
                    let mid = rect.x + rect.width / 2.0;
                    // Outward from the middle until both sides have left the floor (a
                    // stage near an edge fills its rows on the other side).
                    let per_row = 2 * ((w / spacing) as usize + 1) + 1;
                    (0..per_row)
                        .map(|k| {
                            // 0, +1, -1, +2, -2 … seats from the middle.
                            let off = (k as f32 / 2.0).ceil() * if k % 2 == 1 { 1.0 } else { -1.0 };
                            Point::new(mid + off * spacing, y)
                        })
                        .collect()
                }
                None => {
                    let n = step * 6;
                    (0..n)
                        .map(|k| {
                            let angle = k as f32 / n as f32 * std::f32::consts::TAU;
                            let r = step as f32 * spacing;
                            Point::new(centre.x + r * angle.cos(), centre.y + r * angle.sin())
                        })
                        .collect()
                }
            };
            spots.extend(
                candidates
                    .into_iter()
                    .filter(|p| on_floor(p) && out_of_stages(p))
                    .take(count - spots.len()),
            );
        }
        // More people than the floor holds apart: the rest stand as near as the floor
        // allows, on rings of half the spacing (close enough to form circles, which they
        // may; nobody is left where they were).
        let mut k = 0usize;
        while spots.len() < count {
            let ring = 1 + k / 12;
            let angle = (k % 12) as f32 / 12.0 * std::f32::consts::TAU;
            let r = ring as f32 * spacing / 2.0;
            spots.push(Point::new(
                (centre.x + r * angle.cos()).clamp(0.0, w),
                (centre.y + r * angle.sin()).clamp(0.0, h),
            ));
            k += 1;
        }
        spots
    }

    /// Who broadcasts to the room now, in the order they started.
    pub fn broadcasters(&self) -> &[ParticipantId] {
        &self.broadcasters
    }

    /// A host invites a participant to broadcast: they may then start broadcasting.
    pub fn invite_to_broadcast(
        &mut self,
        host: ParticipantId,
        target: ParticipantId,
    ) -> Result<(), EngineError> {
        self.require_host(host)?;
        if !self.participants.contains_key(&target) {
            return Err(EngineError::UnknownParticipant);
        }
        self.broadcast_invites.insert(target);
        self.events
            .push(Event::BroadcastInvite { target, by: host });
        Ok(())
    }

    /// Starts or stops one's own broadcast to the whole room. Starting needs a host, or a
    /// host's invitation; at most [`MAX_BROADCASTERS`] at once. (The media itself goes
    /// through the server's SFU.) Going on air answers one's raised hand: it goes down.
    pub fn set_broadcast(&mut self, id: ParticipantId, on: bool) -> Result<(), EngineError> {
        let p = self
            .participants
            .get(&id)
            .ok_or(EngineError::UnknownParticipant)?;
        let already = self.broadcasters.contains(&id);
        if on && !already {
            if p.role != Role::Host && !self.broadcast_invites.contains(&id) {
                return Err(EngineError::Forbidden);
            }
            if self.broadcasters.len() >= MAX_BROADCASTERS {
                return Err(EngineError::OnAirFull);
            }
            self.broadcasters.push(id);
            self.events.push(Event::Broadcast { id, on: true });
            if let Some(p) = self.participants.get_mut(&id)
                && p.hand.take().is_some()
            {
                self.events.push(Event::Hand(id));
            }
        } else if !on && already {
            self.broadcasters.retain(|b| *b != id);
            self.events.push(Event::Broadcast { id, on: false });
        }
        Ok(())
    }

    /// A host replaces the room's areas (at most 32, each inside the floor, ids unique);
    /// everyone sees the change. People stay where they are; the new rules apply to their
    /// next step.
    pub fn set_areas(&mut self, host: ParticipantId, areas: Vec<Area>) -> Result<(), EngineError> {
        self.require_host(host)?;
        validate_areas(&areas, self.settings.width, self.settings.height)?;
        self.settings.areas = areas;
        self.area_counts = vec![0; self.settings.areas.len()];
        let positions: Vec<Point> = self.participants.values().map(|p| p.position).collect();
        for p in positions {
            self.count_areas(p, 1);
        }
        self.events.push(Event::AreasChanged);
        Ok(())
    }
}

impl Room {
    /// A host shows a built-in floor plan (`builtin:<name>`), or none; everyone sees the
    /// change. (Uploaded images come through [`Room::replace_floor_plan`], after the HTTP
    /// edge checked the uploader's host link.)
    pub fn set_floor_plan(
        &mut self,
        host: ParticipantId,
        plan: Option<&str>,
    ) -> Result<(), EngineError> {
        self.require_host(host)?;
        let plan = plan
            .map(FloorPlan::parse_builtin)
            .transpose()
            .map_err(|_| EngineError::UnknownFloorPlan)?;
        self.replace_floor_plan(plan);
        Ok(())
    }

    /// Replaces the floor plan (an operator's or an uploading host's change, checked
    /// before it gets here); everyone is told if it changed.
    pub fn replace_floor_plan(&mut self, plan: Option<FloorPlan>) {
        if self.settings.floor_plan != plan {
            self.settings.floor_plan = plan;
            self.events.push(Event::FloorPlanChanged);
        }
    }

    /// The floor plan, if any.
    pub fn floor_plan(&self) -> Option<&FloorPlan> {
        self.settings.floor_plan.as_ref()
    }
}

/// Checks a room's areas against its floor.
pub(crate) fn validate_areas(areas: &[Area], width: f32, height: f32) -> Result<(), EngineError> {
    if areas.len() > MAX_AREAS {
        return Err(EngineError::InvalidAreas);
    }
    let mut ids = std::collections::HashSet::new();
    for area in areas {
        let r = area.rect;
        let inside = [r.x, r.y, r.width, r.height].iter().all(|v| v.is_finite())
            && r.x >= 0.0
            && r.y >= 0.0
            && r.width >= 10.0
            && r.height >= 10.0
            && r.x + r.width <= width
            && r.y + r.height <= height;
        let name_ok = area.name.chars().count() <= hallway_proto::limits::MAX_NAME_CHARS
            && crate::room::text::valid_label(&area.name)
            && area.name.trim() == area.name;
        if !inside || !name_ok || !ids.insert(area.id) || area.max_people == Some(0) {
            return Err(EngineError::InvalidAreas);
        }
    }
    Ok(())
}

/// Most people broadcasting to a room at once.
pub(crate) const MAX_BROADCASTERS: usize = 16;

/// Where a host gathers everyone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GatherTarget {
    /// A point on the floor.
    Point(f32, f32),
    /// The middle of an area.
    Area(u32),
}
