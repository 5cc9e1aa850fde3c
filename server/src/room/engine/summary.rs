//! The organiser summary as the room notes it: once a second the room's task passes the
//! time, and the room counts arrivals, circles formed and ended, the share of people who
//! were in a circle, the peak and the chart's samples (see [`crate::room::summary`]).
//! A circle that forms and ends between two notes (someone brushing past) is not counted.

use std::collections::BTreeMap;

use super::{Event, Room};
use crate::room::model::{EngineError, ParticipantId};
use crate::room::summary::{OpenCircle, Report, Summary};

impl Room {
    /// Notes the room at `now_ms` for the summary, which starts at the first note with a
    /// sample every `every_ms`.
    pub fn note_summary(&mut self, now_ms: u64, every_ms: u64) {
        let summary = self
            .summary
            .get_or_insert_with(|| Summary::new(now_ms, every_ms));
        let mut in_circles = 0u32;
        for p in self.participants.values_mut() {
            if !p.counted {
                p.counted = true;
                summary.arrived = summary.arrived.saturating_add(1);
            }
            if p.circle.is_some() {
                in_circles += 1;
                if !p.circled {
                    p.circled = true;
                    summary.circled = summary.circled.saturating_add(1);
                }
            }
        }
        let adopting = self.summary_circles.is_none();
        let known = self.summary_circles.get_or_insert_with(BTreeMap::new);
        // Ended since the last note.
        let ended: Vec<_> = known
            .keys()
            .filter(|id| !self.circles.contains_key(id))
            .copied()
            .collect();
        for id in ended {
            if let Some(circle) = known.remove(&id) {
                summary.circle_ended(circle, now_ms);
            }
        }
        for (id, circle) in &self.circles {
            let size = u32::try_from(circle.members.len()).unwrap_or(u32::MAX);
            let open = known.entry(*id).or_insert_with(|| {
                if !adopting {
                    summary.circles_formed = summary.circles_formed.saturating_add(1);
                }
                OpenCircle {
                    since: now_ms,
                    largest: size,
                }
            });
            open.largest = open.largest.max(size);
        }
        let people = u32::try_from(self.participants.len()).unwrap_or(u32::MAX);
        summary.note_people(now_ms, people, in_circles);
    }

    /// The summary's figures at `now_ms`, if the room has noted any yet.
    pub fn summary_report(&self, now_ms: u64) -> Option<Report> {
        let summary = self.summary.as_ref()?;
        let open = self.summary_circles.iter().flat_map(|c| c.values());
        Some(Report {
            at: now_ms,
            participants: u32::try_from(self.participants.len()).unwrap_or(u32::MAX),
            in_circles: self
                .participants
                .values()
                .filter(|p| p.circle.is_some())
                .count()
                .try_into()
                .unwrap_or(u32::MAX),
            circles: u32::try_from(self.circles.len()).unwrap_or(u32::MAX),
            median_circle_size: summary.median_size(open.clone()),
            median_circle_s: summary.median_duration_s(open, now_ms),
            summary: summary.clone(),
        })
    }

    /// A host asks for the summary: the room's task answers them; anyone else is refused.
    pub fn ask_summary(&mut self, from: ParticipantId) -> Result<(), EngineError> {
        self.require_host(from)?;
        self.events.push(Event::Summary(from));
        Ok(())
    }

    /// The summary as it can be written down (kept on disk, or in a cluster's state).
    pub fn summary(&self) -> Option<&Summary> {
        self.summary.as_ref()
    }

    /// Takes up figures written down before (on disk, or by a cluster node that owned the
    /// room): everyone in the room now is already counted, and the circles open now were
    /// counted when they formed.
    pub fn take_up_summary(&mut self, summary: Summary, every_ms: u64) {
        self.summary = Some(summary.resumed(every_ms));
        for p in self.participants.values_mut() {
            p.counted = true;
            // Standing in a circle now, they stood in it when the figures were taken.
            p.circled |= p.circle.is_some();
        }
        self.summary_circles = None;
    }
}

#[cfg(test)]
mod tests {
    use crate::room::engine::Room;
    use crate::room::model::{DisplayName, ParticipantId, Role, RoomSettings};

    const MINUTE: u64 = 60_000;

    fn room_with(n: u128) -> Room {
        let mut room = Room::new(RoomSettings::new("test", "Test")).expect("valid settings");
        for k in 1..=n {
            let name = DisplayName::parse(&format!("P{k}")).expect("valid name");
            room.join(ParticipantId(k), name, Role::Participant)
                .expect("joins");
            room.move_to(ParticipantId(k), 200.0 + 300.0 * k as f64, 200.0)
                .expect("moves");
        }
        room
    }

    #[test]
    fn arrivals_circles_and_the_share_in_circles() {
        let mut room = room_with(4);
        room.note_summary(0, MINUTE);
        let report = room.summary_report(0).expect("noted");
        assert_eq!(report.summary.arrived, 4);
        assert_eq!(report.summary.circled, 0);
        assert_eq!(report.summary.circles_formed, 0);
        assert_eq!(report.median_circle_size, None);
        // P1 and P2 meet for two minutes.
        room.move_to(ParticipantId(2), 530.0, 200.0).expect("moves");
        room.note_summary(1000, MINUTE);
        room.note_summary(121_000, MINUTE);
        let report = room.summary_report(121_000).expect("noted");
        assert_eq!(report.summary.circles_formed, 1);
        assert_eq!(report.summary.circled, 2);
        assert_eq!(report.in_circles, 2);
        assert_eq!(report.circles, 1);
        assert_eq!(report.median_circle_size, Some(2));
        assert_eq!(report.median_circle_s, Some(120));
        // They part; the circle's two minutes are counted once it has ended.
        room.move_to(ParticipantId(2), 2000.0, 1200.0)
            .expect("moves");
        room.note_summary(122_000, MINUTE);
        let report = room.summary_report(500_000).expect("noted");
        assert_eq!(report.circles, 0);
        assert_eq!(report.summary.durations.values().sum::<u32>(), 1);
        assert_eq!(report.median_circle_s, Some(120));
        // A newcomer counts once, however often they are noted.
        let name = DisplayName::parse("P9").expect("valid name");
        room.join(ParticipantId(9), name, Role::Host)
            .expect("joins");
        room.note_summary(123_000, MINUTE);
        room.note_summary(124_000, MINUTE);
        let report = room.summary_report(124_000).expect("noted");
        assert_eq!(report.summary.arrived, 5);
        assert_eq!(report.summary.peak, 5);
        assert_eq!(report.summary.circled, 2);
        // A sample at the start and one when a minute had passed.
        let at: Vec<u64> = report.summary.samples.iter().map(|s| s.at).collect();
        assert_eq!(at, vec![0, 121_000]);
    }

    #[test]
    fn figures_taken_up_count_no_one_and_no_circle_twice() {
        let mut room = room_with(3);
        room.move_to(ParticipantId(2), 530.0, 200.0).expect("moves");
        room.note_summary(0, MINUTE);
        let kept = room.summary().expect("noted").clone();
        assert_eq!((kept.arrived, kept.circles_formed), (3, 1));
        // Rebuilt elsewhere: the same people, the circle formed again.
        let mut again = room_with(3);
        again
            .move_to(ParticipantId(2), 530.0, 200.0)
            .expect("moves");
        again.take_up_summary(kept, MINUTE);
        again.note_summary(5000, MINUTE);
        let report = again.summary_report(5000).expect("noted");
        assert_eq!(report.summary.arrived, 3);
        assert_eq!(report.summary.circles_formed, 1);
        assert_eq!(report.summary.since, 0);
    }
}
