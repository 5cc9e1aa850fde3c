//! A room's state as it can be written down and taken up again: what a cluster node that
//! takes a room over (its owner died) starts from. Everyone in it comes back as
//! reconnecting, where they stood, with their role, hand and media; circles form again
//! from where people stand, by the usual rules. Chat history, invitations to broadcast and
//! broadcasts are not kept (a broadcaster starts again; their media connection was to the
//! node that died).

use serde::{Deserialize, Serialize};

use super::Room;
use crate::room::model::{DisplayName, Media, ParticipantId, ProfileLine, Role, RoomSettings};
use crate::room::moderation::LinkIdentity;

/// A room's state, written down.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WrittenState {
    /// Locked against newcomers.
    pub locked: bool,
    /// The hosts' banner.
    pub announcement: Option<String>,
    /// Banned link ids.
    pub banned_links: Vec<String>,
    /// Banned invitation names, with when the ban was made (Unix seconds).
    pub banned_names: Vec<(String, u64)>,
    /// Everyone in the room.
    pub people: Vec<PersonState>,
    /// The organiser summary's figures (aggregates only); older states have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<crate::room::summary::Summary>,
}

/// One participant, written down.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonState {
    /// Their id as the protocol writes it (32 hex digits in a snapshot written before ids
    /// became shorter: [`ParticipantId::from_stored`]).
    pub id: String,
    /// Their display name.
    pub name: String,
    /// Their profile line; older snapshots have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Host or not.
    pub host: bool,
    /// Where they stood.
    pub x: f32,
    /// Where they stood.
    pub y: f32,
    /// Hand raised.
    pub hand: bool,
    /// When it went up (milliseconds since the Unix epoch); older snapshots have none.
    #[serde(default)]
    pub hand_at: Option<u64>,
    /// Has been in a circle (counted in the summary's share); older states have none.
    #[serde(default)]
    pub circled: bool,
    /// Microphone, camera, screen.
    pub mic: bool,
    /// Camera on.
    pub camera: bool,
    /// Screen share on.
    pub screen: bool,
    /// The signed link they came in with.
    pub link: Option<LinkState>,
    /// Their resume token (filled in by the room's task, which holds the tokens).
    pub token: String,
}

/// A signed link's identity, written down.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkState {
    /// The token's id.
    pub jti: String,
    /// The name a personal invitation fixes.
    pub fixed_name: Option<String>,
    /// When the link was minted.
    pub issued_at: u64,
}

impl Room {
    /// The room's state (without resume tokens).
    pub fn state(&self) -> WrittenState {
        let (banned_links, banned_names) = self.bans.export();
        let mut people: Vec<PersonState> = self
            .participants
            .values()
            .map(|p| PersonState {
                id: p.id.to_string(),
                name: p.name.as_str().to_owned(),
                profile: p.profile.as_ref().map(|l| l.as_str().to_owned()),
                host: p.role == Role::Host,
                x: p.position.x,
                y: p.position.y,
                hand: p.hand.is_some(),
                hand_at: p.hand,
                circled: p.circled,
                mic: p.media.mic,
                camera: p.media.camera,
                screen: p.media.screen,
                link: p.link.as_ref().map(|l| LinkState {
                    jti: l.jti.clone(),
                    fixed_name: l.fixed_name.clone(),
                    issued_at: l.issued_at,
                }),
                token: String::new(),
            })
            .collect();
        people.sort_by(|a, b| a.id.cmp(&b.id));
        WrittenState {
            locked: self.locked,
            announcement: self.announcement.clone(),
            banned_links,
            banned_names,
            people,
            summary: self.summary.clone(),
        }
    }

    /// A room as `state` describes it, everyone in it reconnecting. People whose entry
    /// does not make sense (a bad id or name) are left out; the ids of those taken back
    /// are returned with their tokens. The events of the rebuilding are left queued.
    pub fn restore(
        settings: RoomSettings,
        state: &WrittenState,
    ) -> Result<(Room, Vec<(ParticipantId, String)>), crate::room::model::EngineError> {
        let mut room = Room::new(settings)?;
        let mut seats = Vec::new();
        for person in &state.people {
            let (Ok(id), Ok(name)) = (
                ParticipantId::from_stored(&person.id),
                DisplayName::parse(&person.name),
            ) else {
                continue;
            };
            let role = if person.host {
                Role::Host
            } else {
                Role::Participant
            };
            let link = person.link.as_ref().map(|l| LinkIdentity {
                jti: l.jti.clone(),
                fixed_name: l.fixed_name.clone(),
                issued_at: l.issued_at,
            });
            // A line the rules of today refuse is left out, not the person.
            let profile = person
                .profile
                .as_deref()
                .and_then(|line| ProfileLine::parse(line).ok().flatten());
            if room.admit(id, name, profile, role, link).is_err() {
                continue;
            }
            // Walking back to where they stood forms the circles again. A spot that is
            // no longer allowed (an area full) leaves them where they were admitted.
            let _ = room.move_to(id, f64::from(person.x), f64::from(person.y));
            let _ = room.set_hand(id, person.hand, person.hand_at.unwrap_or(0));
            let _ = room.set_media(
                id,
                Media {
                    mic: person.mic,
                    camera: person.camera,
                    screen: person.screen,
                },
            );
            let _ = room.start_reconnecting(id);
            if let Some(p) = room.participants.get_mut(&id) {
                p.circled = person.circled;
            }
            seats.push((id, person.token.clone()));
        }
        room.locked = state.locked;
        room.announcement = state.announcement.clone();
        room.bans.import(&state.banned_links, &state.banned_names);
        if let Some(summary) = &state.summary {
            // The spacing is the stored one (the node taking over may be set otherwise:
            // the room's task passes its own with every note).
            let every_ms = summary.every_ms;
            room.take_up_summary(summary.clone(), every_ms);
        }
        Ok((room, seats))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::room::model::Point;

    fn person(room: &mut Room, n: u128, role: Role, link: Option<&str>) -> ParticipantId {
        let id = ParticipantId(n);
        let link = link.map(|jti| LinkIdentity {
            jti: jti.to_owned(),
            fixed_name: None,
            issued_at: 1,
        });
        let name = DisplayName::parse(&format!("P{n}")).expect("valid name");
        let profile = ProfileLine::parse(&format!("Office {n}")).expect("valid line");
        room.admit(id, name, profile, role, link).expect("admitted");
        id
    }

    #[test]
    fn a_room_taken_up_again_has_everyone_where_they_were_reconnecting() {
        let mut room = Room::new(RoomSettings::new("test", "Test")).expect("valid settings");
        let host = person(&mut room, 1, Role::Host, None);
        let ann = person(&mut room, 2, Role::Participant, Some("link-a"));
        let bob = person(&mut room, 3, Role::Participant, Some("link-b"));
        room.move_to(ann, 500.0, 500.0).expect("moves");
        room.move_to(bob, 550.0, 500.0).expect("moves");
        room.move_to(host, 1500.0, 900.0).expect("moves");
        room.set_hand(bob, true, 1_000).expect("hand");
        room.announce(host, "Welcome").expect("announced");
        room.remove(host, ann, true, 10).expect("banned");
        room.move_to(bob, 520.0, 480.0).expect("moves");
        let mut state = room.state();
        for p in &mut state.people {
            p.token = format!("token-{}", p.id);
        }
        // Through JSON, as it is kept in Redis.
        let json = serde_json::to_string(&state).expect("serialises");
        let state: WrittenState = serde_json::from_str(&json).expect("reads back");

        let (restored, seats) =
            Room::restore(RoomSettings::new("test", "Test"), &state).expect("restores");
        assert_eq!(seats.len(), 2);
        assert!(
            seats
                .iter()
                .all(|(id, token)| *token == format!("token-{id}"))
        );
        let b = restored.participant(bob).expect("Bob is back");
        assert_eq!(b.position, Point::new(520.0, 480.0));
        // Her hand is still up, and still as old as it was: its place in the queue holds.
        assert!(b.hand == Some(1_000) && b.reconnecting);
        assert_eq!(
            b.profile.as_ref().map(ProfileLine::as_str),
            Some("Office 3")
        );
        let h = restored.participant(host).expect("the host is back");
        assert_eq!(h.role, Role::Host);
        assert_eq!(restored.announcement(), Some("Welcome"));
        assert_eq!(restored.state().banned_links, vec!["link-a".to_owned()]);
        // The ban holds: the banned link cannot come in again.
        let mut restored = restored;
        let again = DisplayName::parse("Ann").expect("valid name");
        let banned = LinkIdentity {
            jti: "link-a".into(),
            fixed_name: None,
            issued_at: 1,
        };
        assert!(
            restored
                .admit(
                    ParticipantId(9),
                    again,
                    None,
                    Role::Participant,
                    Some(banned)
                )
                .is_err()
        );
        restored.check_invariants().expect("consistent");
    }

    #[test]
    fn circles_form_again_from_where_people_stood() {
        let mut room = Room::new(RoomSettings::new("test", "Test")).expect("valid settings");
        let a = person(&mut room, 1, Role::Participant, None);
        let b = person(&mut room, 2, Role::Participant, None);
        room.move_to(a, 500.0, 500.0).expect("moves");
        room.move_to(b, 550.0, 500.0).expect("moves");
        assert!(room.participant(a).and_then(|p| p.circle).is_some());
        let (restored, _) =
            Room::restore(RoomSettings::new("test", "Test"), &room.state()).expect("restores");
        let circle_a = restored.participant(a).and_then(|p| p.circle);
        assert!(circle_a.is_some());
        assert_eq!(circle_a, restored.participant(b).and_then(|p| p.circle));
    }
}
