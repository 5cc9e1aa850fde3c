//! Renders engine state as protocol messages: the one place where the room's domain types
//! become wire types on their way out (the session converts the other way on the way in).

use hallway_proto::{self as proto, ServerMessage};

use super::chat::{ChatMessage, ChatScope};
use super::engine::Room;
use super::icebreakers::Icebreaker;
use super::model::{Area, Circle, Media, Participant, ParticipantId, Role};

/// The room's settings as a client sees them.
pub fn room_info(room: &Room, tick_hz: u32) -> proto::RoomInfo {
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
pub fn floor_plan_url(room: &Room) -> Option<String> {
    let s = room.settings();
    s.floor_plan.as_ref().map(|plan| plan.url(&s.slug))
}

/// The full snapshot a newcomer (or a participant who resumed) receives, with the token
/// to resume with next time.
pub fn welcome(
    room: &Room,
    you: ParticipantId,
    tick_hz: u32,
    ice_servers: Vec<proto::IceServer>,
    resume: String,
    resumed: bool,
    sfu_reset: bool,
) -> ServerMessage {
    let RoomState {
        participants,
        circles,
        areas,
        chat,
        locked,
        broadcasters,
        announcement,
    } = state(room);
    ServerMessage::Welcome {
        version: proto::PROTOCOL_VERSION,
        you: you.to_string(),
        room: room_info(room, tick_hz),
        participants,
        circles,
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

/// The whole room for a client that missed changes.
pub fn snapshot(room: &Room) -> ServerMessage {
    let RoomState {
        participants,
        circles,
        areas,
        chat,
        locked,
        broadcasters,
        announcement,
    } = state(room);
    ServerMessage::Snapshot {
        participants,
        circles,
        areas,
        chat,
        locked,
        broadcasters,
        announcement,
        floor_plan: floor_plan_url(room),
    }
}

/// What `welcome` and `snapshot` both carry.
struct RoomState {
    participants: Vec<proto::ParticipantInfo>,
    circles: Vec<proto::CircleInfo>,
    areas: Vec<proto::AreaInfo>,
    chat: Vec<proto::ChatInfo>,
    locked: bool,
    broadcasters: Vec<String>,
    announcement: Option<String>,
}

/// The room as it is now; participants sorted by id, so that the same room is the same
/// bytes.
fn state(room: &Room) -> RoomState {
    let mut participants: Vec<proto::ParticipantInfo> =
        room.participants().map(participant).collect();
    participants.sort_by(|a, b| a.id.cmp(&b.id));
    RoomState {
        participants,
        circles: room.circles().map(circle).collect(),
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
pub fn participant(p: &Participant) -> proto::ParticipantInfo {
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
pub fn media(m: Media) -> proto::MediaState {
    proto::MediaState {
        mic: m.mic,
        camera: m.camera,
        screen: m.screen,
    }
}

/// A circle as everyone sees it.
pub fn circle(c: &Circle) -> proto::CircleInfo {
    proto::CircleInfo {
        id: c.id.0,
        x: c.centre.x,
        y: c.centre.y,
        radius: c.radius,
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
pub fn area(a: &Area) -> proto::AreaInfo {
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
pub fn icebreaker(icebreaker: &Icebreaker) -> proto::server::IcebreakerPrompt {
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
pub fn icebreakers(room: &Room) -> ServerMessage {
    ServerMessage::Icebreakers {
        on: room.settings().icebreakers,
        prompts: room.settings().icebreaker_prompts.clone(),
    }
}

/// The organiser summary's figures, for a host who asked.
pub fn summary(report: &super::summary::Report) -> proto::server::SummaryInfo {
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
pub fn error_code(err: super::model::EngineError) -> proto::ErrorCode {
    use super::model::EngineError as E;
    use proto::ErrorCode as C;
    match err {
        E::UnknownParticipant => C::UnknownParticipant,
        E::NotInSameCircle => C::NotInSameCircle,
        E::InvalidChat => C::InvalidChat,
        E::InvalidRtt => C::InvalidRtt,
        E::NobodyOnStage => C::NobodyOnStage,
        E::Forbidden => C::Forbidden,
        E::UnknownArea => C::UnknownArea,
        E::StageFull => C::StageFull,
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
pub fn error(err: super::model::EngineError) -> ServerMessage {
    ServerMessage::Error {
        code: error_code(err),
        message: err.to_string(),
        circle: None,
        retry_after: None,
    }
}

/// A chat message as its recipients see it.
pub fn chat(m: &ChatMessage) -> proto::ChatInfo {
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

/// An area from the wire, unchecked (the engine checks it).
pub fn area_from_wire(a: proto::AreaInfo) -> Area {
    Area {
        id: a.id,
        name: a.name,
        rect: super::model::Rect {
            x: a.x,
            y: a.y,
            width: a.width,
            height: a.height,
        },
        stage: a.stage,
        quiet: a.quiet,
        max_people: a.max_people,
    }
}
