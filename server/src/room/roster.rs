//! Who a page of a big room is told of, and finding people by name: a room of thousands
//! welcomes a newcomer with the people near where they appear (and who is on air), not
//! with everyone; the page asks for others by id as they come into sight (`who`) and finds
//! anyone by name or profile line (`find`), searched here.

use hallway_proto::{self as proto, limits as proto_limits};

use super::engine::Room;
use super::model::{Participant, ParticipantId, Point};
use super::text::searchable;
use super::views;

/// How far around where a newcomer appears their welcome lists everyone, in floor units
/// (half a large screen's width and height at the default zoom, and a margin).
pub(crate) const WELCOME_REACH: (f32, f32) = (1300.0, 900.0);

/// Rooms with more people than this welcome a newcomer with those near only (the server's
/// default; operators may change it).
pub(crate) const DEFAULT_WELCOME_ROSTER: usize = 2000;

/// The participants and circles a light welcome lists for `you`, seeing around `at`:
/// those within [`WELCOME_REACH`], everyone on air, your circle and the circles near with
/// their members, you, and for a host everyone with a raised hand (the queue they answer).
pub(crate) fn near(
    room: &Room,
    you: ParticipantId,
    at: Point,
) -> (Vec<proto::ParticipantInfo>, Vec<proto::CircleInfo>) {
    let (dx, dy) = WELCOME_REACH;
    let (left, top, right, bottom) = (at.x - dx, at.y - dy, at.x + dx, at.y + dy);
    let mut ids = Vec::new();
    room.people_within((left, top, right, bottom), &mut ids);
    let mut listed: Vec<ParticipantId> = ids.into_iter().map(|(id, _)| id).collect();
    let me = room.participant(you);
    let own = me.and_then(|p| p.circle);
    let circles: Vec<proto::CircleInfo> = room
        .circles()
        .filter(|c| {
            Some(c.id) == own
                || (c.centre.x + c.radius >= left
                    && c.centre.x - c.radius <= right
                    && c.centre.y + c.radius >= top
                    && c.centre.y - c.radius <= bottom)
        })
        .map(|c| {
            listed.extend_from_slice(&c.members);
            views::circle(c)
        })
        .collect();
    listed.extend(room.broadcasters().iter().copied());
    if me.is_some_and(|p| p.role == super::model::Role::Host) {
        listed.extend(
            room.participants()
                .filter(|p| p.hand.is_some())
                .map(|p| p.id),
        );
    }
    listed.push(you);
    listed.sort_unstable_by_key(|id| id.0);
    listed.dedup();
    let participants = listed
        .into_iter()
        .filter_map(|id| room.participant(id).map(views::participant))
        .collect();
    (participants, circles)
}

/// The participants whose name or profile line has every word of `query`: the first
/// [`proto_limits::MAX_FOUND`], those whose name starts with the query first, then by
/// name; and how many matched in all.
pub(crate) fn find(room: &Room, query: &str) -> (Vec<proto::ParticipantInfo>, u32) {
    let wanted = searchable(query);
    let words: Vec<&str> = wanted.split(' ').filter(|w| !w.is_empty()).collect();
    let mut found: Vec<(bool, String, &Participant)> = room
        .participants()
        .filter_map(|p| {
            let name = searchable(p.name.as_str());
            let profile = p.profile.as_ref().map(|l| searchable(l.as_str()));
            let text = match &profile {
                Some(line) => format!("{name} {line}"),
                None => name.clone(),
            };
            words
                .iter()
                .all(|w| text.contains(w))
                .then(|| (!name.starts_with(&wanted), name, p))
        })
        .collect();
    let total = found.len() as u32;
    found.sort_unstable_by(|a, b| (a.0, &a.1, a.2.id.0).cmp(&(b.0, &b.1, b.2.id.0)));
    let shown = found
        .into_iter()
        .take(proto_limits::MAX_FOUND)
        .map(|(_, _, p)| views::participant(p))
        .collect();
    (shown, total)
}
