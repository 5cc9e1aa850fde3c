//! Who is alone: hosts see who has been outside any circle for a while, so that nobody
//! spends an event standing at the edge. The room notes, every few seconds, since when each
//! person has been outside a circle; nothing of it is kept beyond the room's memory.

use super::{Event, Room};
use crate::room::model::{EngineError, ParticipantId, Role};

impl Room {
    /// Notes, at `now_ms` (the room's own clock), who is in a circle and since when the
    /// others have been outside one (from the first time they are noted outside).
    pub fn note_alone(&mut self, now_ms: u64) {
        for p in self.participants.values_mut() {
            if p.circle.is_some() {
                p.alone_since = None;
            } else if p.alone_since.is_none() {
                p.alone_since = Some(now_ms);
            }
        }
    }

    /// Participants (not hosts, not on air, not reconnecting) outside any circle for at
    /// least `after_ms` at `now_ms`, with how long in seconds: longest first.
    pub fn alone(&self, now_ms: u64, after_ms: u64) -> Vec<(ParticipantId, u64)> {
        let mut alone: Vec<(ParticipantId, u64)> = self
            .participants
            .values()
            .filter(|p| p.role == Role::Participant && p.circle.is_none() && !p.reconnecting)
            .filter(|p| !self.broadcasters.contains(&p.id))
            .filter_map(|p| {
                let waited = now_ms.saturating_sub(p.alone_since?);
                (waited >= after_ms).then_some((p.id, waited))
            })
            .collect();
        alone.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        alone
            .into_iter()
            .map(|(id, waited)| (id, waited / 1000))
            .collect()
    }

    /// A host asks `target` over to their circle (or to them): the target is told and
    /// decides; nothing else changes.
    pub fn invite_to_circle(
        &mut self,
        host: ParticipantId,
        target: ParticipantId,
    ) -> Result<(), EngineError> {
        self.require_host(host)?;
        if target == host || !self.participants.contains_key(&target) {
            return Err(EngineError::UnknownParticipant);
        }
        self.events.push(Event::CircleInvite { target, by: host });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::room::engine::{Event, Room};
    use crate::room::model::{DisplayName, EngineError, ParticipantId, Role, RoomSettings};

    fn room_with(people: &[(u128, Role)]) -> Room {
        let mut room = Room::new(RoomSettings::new("test", "Test")).expect("valid settings");
        for (n, role) in people {
            let name = DisplayName::parse(&format!("P{n}")).expect("valid name");
            room.join(ParticipantId(*n), name, *role).expect("joins");
        }
        room
    }

    #[test]
    fn the_longest_alone_come_first_and_a_circle_ends_the_wait() {
        let (a, b, c, host) = (
            ParticipantId(1),
            ParticipantId(2),
            ParticipantId(3),
            ParticipantId(4),
        );
        let mut room = room_with(&[
            (1, Role::Participant),
            (2, Role::Participant),
            (3, Role::Participant),
            (4, Role::Host),
        ]);
        room.move_to(a, 200.0, 200.0).expect("moves");
        room.move_to(b, 900.0, 900.0).expect("moves");
        room.move_to(c, 1800.0, 300.0).expect("moves");
        room.move_to(host, 2200.0, 1400.0).expect("moves");
        room.note_alone(0);
        // Nobody has waited three minutes yet.
        assert!(room.alone(60_000, 180_000).is_empty());
        // Two of them meet at 2 minutes; the third waits on.
        room.move_to(b, 230.0, 200.0).expect("moves");
        room.note_alone(120_000);
        assert_eq!(room.alone(240_000, 180_000), vec![(c, 240)]);
        // They part at 4 minutes: their wait starts again from there; hosts are never listed.
        room.move_to(b, 900.0, 900.0).expect("moves");
        room.note_alone(240_000);
        assert_eq!(
            room.alone(500_000, 180_000),
            vec![(c, 500), (a, 260), (b, 260)]
        );
    }

    #[test]
    fn only_hosts_invite_someone_over() {
        let (a, b, host) = (ParticipantId(1), ParticipantId(2), ParticipantId(3));
        let mut room = room_with(&[
            (1, Role::Participant),
            (2, Role::Participant),
            (3, Role::Host),
        ]);
        room.drain_events();
        assert_eq!(room.invite_to_circle(a, b), Err(EngineError::Forbidden));
        assert_eq!(
            room.invite_to_circle(host, ParticipantId(9)),
            Err(EngineError::UnknownParticipant)
        );
        room.invite_to_circle(host, b).expect("invites");
        assert!(
            room.drain_events().any(
                |e| matches!(e, Event::CircleInvite { target, by } if target == b && by == host)
            )
        );
    }
}
