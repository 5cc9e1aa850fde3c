//! Renders engine state and events as protocol messages: the one place where the room's
//! domain types become wire types on their way out (the session converts the other way on
//! the way in). Every engine [`Event`] becomes its messages, and whom each is for, in
//! [`news`]; the room's task only delivers them.

use hallway_proto::{self as proto, ErrorCode, ServerMessage};

use super::chat::{ChatMessage, ChatScope};
use super::engine::{Event, Room};
use super::icebreakers::Icebreaker;
use super::model::{Area, Circle, CircleId, Media, Participant, ParticipantId, Refusal, Role};

/// Whom one of an event's messages is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum To {
    /// Everyone in the room but `except`: news of the room's state, which whoever has no
    /// room for it skips and catches up with in a snapshot.
    Everyone {
        /// The one it is about, who knows already.
        except: Option<ParticipantId>,
    },
    /// These participants, in this order: meant for them, and not to be caught up with
    /// later (an instruction to connect, an error, a chat message to them).
    Each(Vec<ParticipantId>),
    /// News of this circle: at once to its members (and those who just left it) and to
    /// whoever's page shows where it is, to everyone else with the next round of what is
    /// out of sight (`actor/sight.rs`). Like news for everyone, skipped news is caught up
    /// with by a snapshot.
    Circle(CircleId),
}

impl To {
    const EVERYONE: To = To::Everyone { except: None };

    fn one(id: ParticipantId) -> To {
        To::Each(vec![id])
    }
}

/// The messages an engine event becomes, and whom each is for, in the order they go.
/// None for an event that is the room task's business alone (removing someone, the
/// summary a host asked for) or about something gone by now.
pub(crate) fn news(room: &Room, event: &Event) -> Vec<(To, ServerMessage)> {
    let one = |to: To, msg: ServerMessage| vec![(to, msg)];
    match event {
        Event::Joined(id) => room.participant(*id).map_or_else(Vec::new, |p| {
            let participant = participant(p);
            one(
                To::Everyone { except: Some(*id) },
                ServerMessage::Joined { participant },
            )
        }),
        Event::Left(id) => one(To::EVERYONE, ServerMessage::Left { id: id.to_string() }),
        Event::CircleChanged(cid) => room.circle(*cid).map_or_else(Vec::new, |c| {
            one(
                To::Circle(*cid),
                ServerMessage::CircleChanged { circle: circle(c) },
            )
        }),
        Event::CircleDissolved(cid) => one(
            To::Circle(*cid),
            ServerMessage::CircleDissolved { id: cid.0 },
        ),
        Event::Connect {
            initiator,
            responder,
        } => connect(*initiator, *responder, false),
        Event::RestartIce {
            initiator,
            responder,
        } => connect(*initiator, *responder, true),
        Event::Reconnecting { id, on } => one(
            To::Everyone { except: Some(*id) },
            ServerMessage::Reconnecting {
                id: id.to_string(),
                on: *on,
            },
        ),
        Event::Disconnect { leaver, stayer } => vec![
            (
                To::one(*leaver),
                ServerMessage::Disconnect {
                    peer: stayer.to_string(),
                },
            ),
            (
                To::one(*stayer),
                ServerMessage::Disconnect {
                    peer: leaver.to_string(),
                },
            ),
        ],
        Event::Refused {
            participant,
            circle,
            reason,
        } => {
            let (code, message) = match reason {
                Refusal::Full => (ErrorCode::CircleFull, "that circle is full"),
                Refusal::Locked => (ErrorCode::CircleLocked, "that circle is locked"),
            };
            let msg = ServerMessage::Error {
                code,
                message: message.to_owned(),
                circle: Some(circle.0),
                retry_after: None,
            };
            one(To::one(*participant), msg)
        }
        Event::Chat(message) => {
            let to = match message.scope {
                // Like other room state, a skipped room message is caught up with by the
                // snapshot, which carries the recent chat.
                ChatScope::Room => To::EVERYONE,
                ChatScope::Circle(cid) => To::Each(
                    room.circle(cid)
                        .map(|c| c.members.clone())
                        .unwrap_or_default(),
                ),
                ChatScope::Direct(to) => To::Each(vec![to, message.from]),
            };
            one(
                to,
                ServerMessage::Chat {
                    message: chat(message),
                },
            )
        }
        Event::Hand(id) => room.participant(*id).map_or_else(Vec::new, |p| {
            let msg = ServerMessage::Hand {
                id: id.to_string(),
                raised: p.hand.is_some(),
                at: p.hand,
            };
            one(To::EVERYONE, msg)
        }),
        Event::Reaction { id, reaction } => one(
            To::EVERYONE,
            ServerMessage::Reaction {
                id: id.to_string(),
                reaction: reaction.name().to_owned(),
            },
        ),
        Event::Broadcast { id, on } => one(
            To::EVERYONE,
            ServerMessage::Broadcast {
                id: id.to_string(),
                on: *on,
            },
        ),
        Event::BroadcastInvite { target, by } => one(
            To::one(*target),
            ServerMessage::BroadcastInvite { by: by.to_string() },
        ),
        Event::CircleInvite { target, by } => one(
            To::one(*target),
            ServerMessage::CircleInvite { by: by.to_string() },
        ),
        Event::Muted { target, by } => one(
            To::one(*target),
            ServerMessage::Muted { by: by.to_string() },
        ),
        Event::RoomLocked(locked) => {
            one(To::EVERYONE, ServerMessage::RoomLocked { locked: *locked })
        }
        Event::AreasChanged => {
            let areas = room.areas().iter().map(area).collect();
            one(To::EVERYONE, ServerMessage::Areas { areas })
        }
        Event::FloorPlanChanged => one(
            To::EVERYONE,
            ServerMessage::FloorPlan {
                url: floor_plan_url(room),
            },
        ),
        Event::Icebreaker {
            participant,
            circle,
        } => room
            .circle(*circle)
            .and_then(|c| c.icebreaker.as_ref())
            .map_or_else(Vec::new, |prompt| {
                let msg = ServerMessage::Icebreaker {
                    circle: circle.0,
                    prompt: icebreaker(prompt),
                };
                one(To::one(*participant), msg)
            }),
        Event::IcebreakersChanged => {
            let hosts = room
                .participants()
                .filter(|p| p.role == Role::Host)
                .map(|p| p.id)
                .collect();
            one(To::Each(hosts), icebreakers(room))
        }
        Event::Gathered { by, at } => one(
            To::EVERYONE,
            ServerMessage::Gathered {
                by: by.to_string(),
                x: at.x,
                y: at.y,
            },
        ),
        Event::Announcement => {
            let text = room.announcement().map(str::to_owned);
            one(To::EVERYONE, ServerMessage::Announcement { text })
        }
        Event::MediaChanged(id) => room.participant(*id).map_or_else(Vec::new, |p| {
            let msg = ServerMessage::Media {
                id: id.to_string(),
                state: media(p.media),
            };
            one(To::EVERYONE, msg)
        }),
        // The room's task removes them, and makes the summary.
        Event::Removed { .. } | Event::Summary(_) => Vec::new(),
    }
}

/// Tells two members of a circle to connect (or to restart ICE on the connection they
/// have): the responder first, since the initiator answers with an offer at once.
fn connect(
    initiator: ParticipantId,
    responder: ParticipantId,
    restart: bool,
) -> Vec<(To, ServerMessage)> {
    vec![
        (
            To::one(responder),
            ServerMessage::Connect {
                peer: initiator.to_string(),
                initiator: false,
                restart,
            },
        ),
        (
            To::one(initiator),
            ServerMessage::Connect {
                peer: responder.to_string(),
                initiator: true,
                restart,
            },
        ),
    ]
}

/// The room's settings as a client sees them.
pub(crate) fn room_info(room: &Room, tick_hz: u32) -> proto::RoomInfo {
    let s = room.settings();
    proto::RoomInfo {
        slug: s.slug.clone(),
        title: s.title.clone(),
        width: s.width,
        height: s.height,
        max_participants: s.max_participants,
        max_circle_size: s.max_circle_size,
        forming_distance: s.forming_distance,
        tick_hz,
        floor_plan: floor_plan_url(room),
        walk_speed: s.walk_speed,
    }
}

/// Where the room's clients fetch its floor plan, if it has one.
pub(crate) fn floor_plan_url(room: &Room) -> Option<String> {
    let s = room.settings();
    s.floor_plan.as_ref().map(|plan| plan.url(&s.slug))
}

/// The people and circles a page of a big room is told of (see `roster::near`).
pub(crate) type Near = (Vec<proto::ParticipantInfo>, Vec<proto::CircleInfo>);

/// The full snapshot a newcomer (or a participant who resumed) receives, with the token
/// to resume with next time; with `near` (where they stand, in a room of more than the
/// welcome roster), only the people and circles near them (see `roster.rs`).
pub(crate) fn welcome(
    room: &Room,
    (you, near): (ParticipantId, Option<Near>),
    tick_hz: u32,
    ice_servers: Vec<proto::IceServer>,
    resume: String,
    resumed: bool,
    sfu_reset: bool,
) -> ServerMessage {
    let RoomView {
        areas,
        chat,
        locked,
        broadcasters,
        announcement,
    } = state(room);
    let (participants, circles, in_room) = match near {
        Some((participants, circles)) => (participants, circles, Some(room.len() as u32)),
        None => {
            let (participants, circles) = people(room);
            (participants, circles, None)
        }
    };
    ServerMessage::Welcome {
        version: proto::PROTOCOL_VERSION,
        you: you.to_string(),
        room: room_info(room, tick_hz),
        participants,
        circles,
        in_room,
        areas,
        chat,
        locked,
        broadcasters,
        announcement,
        ice_servers,
        resume,
        resumed,
        sfu_reset: resumed && sfu_reset,
    }
}

/// The whole room for a client that missed changes; with `near` (in a big room, for a
/// page that shows part of the floor: who, and the middle of what they see), only the
/// people and circles near, as in a light welcome.
pub(crate) fn snapshot(room: &Room, near: Option<Near>) -> ServerMessage {
    let RoomView {
        areas,
        chat,
        locked,
        broadcasters,
        announcement,
    } = state(room);
    let (participants, circles, in_room) = match near {
        Some((participants, circles)) => (participants, circles, Some(room.len() as u32)),
        None => {
            let (participants, circles) = people(room);
            (participants, circles, None)
        }
    };
    ServerMessage::Snapshot {
        participants,
        circles,
        in_room,
        areas,
        chat,
        locked,
        broadcasters,
        announcement,
        floor_plan: floor_plan_url(room),
    }
}

/// What `welcome` and `snapshot` both carry.
struct RoomView {
    areas: Vec<proto::AreaInfo>,
    chat: Vec<proto::ChatInfo>,
    locked: bool,
    broadcasters: Vec<String>,
    announcement: Option<String>,
}

/// Everyone and every circle; participants sorted by id, so that the same room is the
/// same bytes.
fn people(room: &Room) -> (Vec<proto::ParticipantInfo>, Vec<proto::CircleInfo>) {
    let mut participants: Vec<proto::ParticipantInfo> =
        room.participants().map(participant).collect();
    participants.sort_by(|a, b| a.id.cmp(&b.id));
    (participants, room.circles().map(circle).collect())
}

/// The room as it is now, but for its people and circles.
fn state(room: &Room) -> RoomView {
    RoomView {
        areas: room.areas().iter().map(area).collect(),
        chat: room.chat_history().map(chat).collect(),
        locked: room.locked(),
        broadcasters: room
            .broadcasters()
            .iter()
            .map(ToString::to_string)
            .collect(),
        announcement: room.announcement().map(str::to_owned),
    }
}

/// A participant as others see them.
pub(crate) fn participant(p: &Participant) -> proto::ParticipantInfo {
    proto::ParticipantInfo {
        id: p.id.to_string(),
        name: p.name.as_str().to_owned(),
        profile: p.profile.as_ref().map(|l| l.as_str().to_owned()),
        role: match p.role {
            Role::Participant => proto::Role::Participant,
            Role::Host => proto::Role::Host,
        },
        x: p.position.x,
        y: p.position.y,
        circle: p.circle.map(|c| c.0),
        media: media(p.media),
        hand: p.hand.is_some(),
        hand_at: p.hand,
        reconnecting: p.reconnecting,
    }
}

/// Microphone, camera and screen state.
pub(crate) fn media(m: Media) -> proto::MediaState {
    proto::MediaState {
        mic: m.mic,
        camera: m.camera,
        screen: m.screen,
    }
}

/// A circle as everyone sees it.
pub(crate) fn circle(c: &Circle) -> proto::CircleInfo {
    proto::CircleInfo {
        // To whole units (a circle's centre is its members' mean, `2410.3333`): less than
        // a pixel on any page, and shorter in every `circle_changed`.
        id: c.id.0,
        x: c.centre.x.round(),
        y: c.centre.y.round(),
        radius: c.radius.round(),
        members: c.members.iter().map(ToString::to_string).collect(),
        locked: c.locked,
        media: if c.routed {
            proto::CircleMedia::Sfu
        } else {
            proto::CircleMedia::Mesh
        },
    }
}

/// An area as everyone sees it.
pub(crate) fn area(a: &Area) -> proto::AreaInfo {
    proto::AreaInfo {
        id: a.id,
        name: a.name.clone(),
        x: a.rect.x,
        y: a.rect.y,
        width: a.rect.width,
        height: a.rect.height,
        stage: a.stage,
        quiet: a.quiet,
        max_people: a.max_people,
    }
}

/// An icebreaker as members see it: a built-in one in both languages, a room's own as
/// typed.
pub(crate) fn icebreaker(icebreaker: &Icebreaker) -> proto::server::IcebreakerPrompt {
    match icebreaker {
        Icebreaker::Own(text) => proto::server::IcebreakerPrompt {
            text: Some(text.clone()),
            en: None,
            de: None,
        },
        Icebreaker::Builtin(_) => {
            let (en, de) = icebreaker.texts();
            proto::server::IcebreakerPrompt {
                text: None,
                en: Some(en.to_owned()),
                de: Some(de.to_owned()),
            }
        }
    }
}

/// The room's icebreaker settings, for its hosts.
pub(crate) fn icebreakers(room: &Room) -> ServerMessage {
    ServerMessage::Icebreakers {
        on: room.settings().icebreakers,
        prompts: room.settings().icebreaker_prompts.clone(),
    }
}

/// The organiser summary's figures, for a host who asked.
pub(crate) fn summary(report: &super::summary::Report) -> proto::server::SummaryInfo {
    let s = &report.summary;
    proto::server::SummaryInfo {
        since: s.since,
        at: report.at,
        participants: report.participants,
        peak: s.peak,
        peak_at: s.peak_at,
        in_circles: report.in_circles,
        circles: report.circles,
        arrived: s.arrived,
        circled: s.circled,
        circles_formed: s.circles_formed,
        median_circle_size: report.median_circle_size,
        median_circle_s: report.median_circle_s,
        every_s: s.every_ms / 1000,
        samples: s
            .samples
            .iter()
            .map(|x| proto::server::SummarySample {
                at: x.at,
                participants: x.participants,
                in_circles: x.in_circles,
            })
            .collect(),
    }
}

/// The wire code for an engine refusal.
pub(crate) fn error_code(err: super::model::EngineError) -> proto::ErrorCode {
    use super::model::EngineError as E;
    use proto::ErrorCode as C;
    match err {
        E::UnknownParticipant => C::UnknownParticipant,
        E::NotInSameCircle => C::NotInSameCircle,
        E::InvalidChat => C::InvalidChat,
        E::InvalidRtt => C::InvalidRtt,
        E::NobodyOnAir => C::NobodyOnAir,
        E::Forbidden => C::Forbidden,
        E::UnknownArea => C::UnknownArea,
        E::OnAirFull => C::OnAirFull,
        E::InvalidAreas => C::InvalidAreas,
        E::RoomLocked => C::RoomLocked,
        E::Banned => C::Banned,
        E::InvalidAnnouncement => C::InvalidAnnouncement,
        E::AlreadyInRoom => C::AlreadyJoined,
        E::RoomFull => C::RoomFull,
        E::InvalidName => C::InvalidName,
        E::InvalidProfile => C::InvalidProfile,
        E::NameTaken => C::NameTaken,
        E::InvalidPosition => C::InvalidPosition,
        E::NotInCircle => C::NotInCircle,
        E::AreaFull => C::AreaFull,
        E::InvalidSettings => C::Internal,
        E::UnknownFloorPlan => C::UnknownFloorPlan,
        E::InvalidIcebreakers => C::InvalidIcebreakers,
        E::Waiting => C::Waiting,
        E::WaitingRoomFull => C::WaitingRoomFull,
        E::NotWaiting => C::NotWaiting,
        E::InvalidWaitingMessage => C::InvalidWaitingMessage,
    }
}

/// An `error` message for an engine refusal.
pub(crate) fn error(err: super::model::EngineError) -> ServerMessage {
    ServerMessage::Error {
        code: error_code(err),
        message: err.to_string(),
        circle: None,
        retry_after: None,
    }
}

/// A chat message as its recipients see it.
pub(crate) fn chat(m: &ChatMessage) -> proto::ChatInfo {
    proto::ChatInfo {
        id: m.id,
        from: m.from.to_string(),
        name: m.name.clone(),
        to: match m.scope {
            ChatScope::Room => "room".to_owned(),
            ChatScope::Circle(_) => "circle".to_owned(),
            ChatScope::Direct(to) => to.to_string(),
        },
        text: m.text.clone(),
        at: m.at,
    }
}

#[cfg(test)]
#[path = "views_tests.rs"]
mod tests;
