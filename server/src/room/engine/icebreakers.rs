//! Which icebreaker a new circle gets, and the hosts' changes to the room's list. The
//! choice is the engine's, so that every member sees the same prompt: the prompts are
//! taken in turn from a starting point the room's task draws at random (injected, so that
//! tests know it), so consecutive circles get different prompts and none repeats before
//! the list is through. A circle keeps its prompt; whoever enters it later is told it.

use super::{Event, Room};
use crate::room::icebreakers::{BUILTIN, Icebreaker, parse_prompts};
use crate::room::model::{CircleId, EngineError, ParticipantId};

impl Room {
    /// Where the turn through the prompts starts (the room's task draws it at random;
    /// a new room starts at 0).
    pub fn seed_icebreakers(&mut self, seed: u64) {
        self.icebreaker_seed = seed;
    }

    /// The prompt for a circle forming now, if the room has icebreakers on.
    pub(super) fn choose_icebreaker(&mut self) -> Option<Icebreaker> {
        if !self.settings.icebreakers {
            return None;
        }
        let own = &self.settings.icebreaker_prompts;
        let len = if own.is_empty() {
            BUILTIN.len()
        } else {
            own.len()
        } as u64;
        if len == 0 {
            return None;
        }
        let turn = self.icebreaker_seed.wrapping_add(self.icebreakers_chosen) % len;
        self.icebreakers_chosen = self.icebreakers_chosen.wrapping_add(1);
        // `turn` < `len`, which came from a `usize`.
        let turn = turn as usize;
        Some(match own.get(turn) {
            Some(text) => Icebreaker::Own(text.clone()),
            None => Icebreaker::Builtin(turn),
        })
    }

    /// Tells `members` of circle `cid` its icebreaker, if it has one.
    pub(super) fn tell_icebreaker(&mut self, cid: CircleId, members: &[ParticipantId]) {
        if self
            .circles
            .get(&cid)
            .is_some_and(|c| c.icebreaker.is_some())
        {
            for &participant in members {
                self.events.push(Event::Icebreaker {
                    participant,
                    circle: cid,
                });
            }
        }
    }

    /// A host turns icebreakers on or off and replaces the room's own prompts (checked:
    /// see [`parse_prompts`]; empty: the built-in ones). Circles keep the prompt they got;
    /// new circles get one from the new list.
    pub fn set_icebreakers(
        &mut self,
        host: ParticipantId,
        on: bool,
        prompts: &[String],
    ) -> Result<(), EngineError> {
        self.require_host(host)?;
        let prompts = parse_prompts(prompts)?;
        self.replace_icebreakers(on, prompts);
        Ok(())
    }

    /// Replaces the icebreaker settings (an operator's change, checked before it gets
    /// here); the hosts are told.
    pub fn replace_icebreakers(&mut self, on: bool, prompts: Vec<String>) {
        if self.settings.icebreakers != on || self.settings.icebreaker_prompts != prompts {
            self.settings.icebreakers = on;
            self.settings.icebreaker_prompts = prompts;
            self.icebreakers_chosen = 0;
        }
        // Told even when nothing changed: the host who saved sees it was taken.
        self.events.push(Event::IcebreakersChanged);
    }
}

#[cfg(test)]
mod tests {
    use crate::room::engine::{Event, Room};
    use crate::room::icebreakers::{BUILTIN, Icebreaker};
    use crate::room::model::{
        CircleId, DisplayName, EngineError, ParticipantId, Role, RoomSettings,
    };

    fn room_with(n: u128, settings: RoomSettings) -> Room {
        let mut room = Room::new(settings).expect("valid settings");
        for i in 1..=n {
            let name = DisplayName::parse(&format!("P{i}")).expect("valid name");
            let role = if i == n {
                Role::Host
            } else {
                Role::Participant
            };
            room.join(ParticipantId(i), name, role).expect("joins");
            room.move_to(ParticipantId(i), 300.0 * i as f64, 1400.0)
                .expect("moves");
        }
        room.drain_events();
        room
    }

    fn told(room: &mut Room) -> Vec<(ParticipantId, CircleId)> {
        room.drain_events()
            .filter_map(|e| match e {
                Event::Icebreaker {
                    participant,
                    circle,
                } => Some((participant, circle)),
                _ => None,
            })
            .collect()
    }

    fn prompt(room: &Room, cid: CircleId) -> Option<Icebreaker> {
        room.circle(cid).and_then(|c| c.icebreaker.clone())
    }

    #[test]
    fn a_new_circle_gets_the_next_prompt_and_both_members_are_told() {
        let (a, b, c, d) = (
            ParticipantId(1),
            ParticipantId(2),
            ParticipantId(3),
            ParticipantId(4),
        );
        let mut room = room_with(5, RoomSettings::new("t", "T"));
        room.seed_icebreakers(BUILTIN.len() as u64 * 3 + 2);
        room.move_to(a, 600.0, 400.0).expect("moves");
        room.move_to(b, 630.0, 400.0).expect("moves");
        let first = CircleId(1);
        assert_eq!(prompt(&room, first), Some(Icebreaker::Builtin(2)));
        let mut members = told(&mut room);
        members.sort();
        assert_eq!(members, vec![(a, first), (b, first)]);
        // Someone joining the circle is told its prompt; the prompt stays.
        room.move_to(c, 615.0, 425.0).expect("moves");
        assert_eq!(told(&mut room), vec![(c, first)]);
        assert_eq!(prompt(&room, first), Some(Icebreaker::Builtin(2)));
        // The next circle gets the next prompt.
        room.move_to(d, 1600.0, 400.0).expect("moves");
        room.move_to(ParticipantId(5), 1630.0, 400.0)
            .expect("moves");
        assert_eq!(prompt(&room, CircleId(2)), Some(Icebreaker::Builtin(3)));
    }

    #[test]
    fn a_room_of_its_own_prompts_or_none() {
        let (a, b, host) = (ParticipantId(1), ParticipantId(2), ParticipantId(3));
        let mut settings = RoomSettings::new("t", "T");
        settings.icebreakers = false;
        let mut room = room_with(3, settings);
        room.move_to(a, 600.0, 400.0).expect("moves");
        room.move_to(b, 630.0, 400.0).expect("moves");
        assert_eq!(prompt(&room, CircleId(1)), None);
        assert!(told(&mut room).is_empty());
        room.move_to(b, 1630.0, 400.0).expect("moves");

        // Only hosts change them, and only to something valid.
        let own = vec![
            "Erste Frage?".to_owned(),
            " ".to_owned(),
            "Second?".to_owned(),
        ];
        assert_eq!(
            room.set_icebreakers(a, true, &own),
            Err(EngineError::Forbidden)
        );
        assert_eq!(
            room.set_icebreakers(host, true, &["bad\u{202E}".to_owned()]),
            Err(EngineError::InvalidIcebreakers)
        );
        room.drain_events();
        room.set_icebreakers(host, true, &own).expect("sets");
        assert!(room.drain_events().any(|e| e == Event::IcebreakersChanged));
        assert_eq!(
            room.settings().icebreaker_prompts,
            vec!["Erste Frage?".to_owned(), "Second?".to_owned()]
        );
        for (n, expected) in [(2, "Erste Frage?"), (3, "Second?"), (4, "Erste Frage?")] {
            room.move_to(b, 630.0, 400.0).expect("moves");
            assert_eq!(
                prompt(&room, CircleId(n)),
                Some(Icebreaker::Own(expected.to_owned()))
            );
            room.move_to(b, 1630.0, 400.0).expect("moves");
        }
    }
}
