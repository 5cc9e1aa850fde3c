//! What a decoded client message asks for: a room command, or something the session does
//! itself (leave, relay a signal, talk to the SFU), or a refusal. Pure, so that a property
//! test can feed decoded messages through it into an engine.

use hallway_proto::{ClientMessage, ErrorCode, Payload, limits as proto_limits};

use crate::room::engine::Command;
use crate::room::engine::{ChatTarget, GatherTarget};
use crate::room::model::{CircleId, Media, ParticipantId, Reaction};
use crate::room::rtt::{self, RttTarget};
use crate::room::views;

/// Longest `mid` a screen share may be named by (browsers use "0", "1", …).
const MAX_MID_BYTES: usize = 32;

/// What a client asks of the SFU.
#[derive(Debug)]
pub enum SfuOrder {
    /// An offer for the sending connection, with the `mid` of its screen share.
    Offer(String, Option<String>),
    /// An answer for the receiving connection, with the connection it answers.
    Answer(String, Option<u64>),
    /// Close the sending connection.
    Unpublish,
    /// Start the receiving connection over.
    Restart,
    /// The sizes at which streams are shown (stream, width, height).
    View(Vec<(String, u32, u32)>),
}

/// Where a message goes.
#[derive(Debug)]
pub enum Incoming {
    /// To the room's task.
    Command(Command),
    /// Close the connection normally.
    Leave,
    /// Answer `pong` at once.
    Ping,
    /// Relay to a member of one's circle (`None`: an id that names nobody).
    Signal {
        /// The recipient.
        to: Option<ParticipantId>,
        /// The payload, untouched.
        payload: Payload,
    },
    /// Real-time text, relayed to the circle or the stage (checked).
    Rtt {
        /// Whom it is for.
        target: RttTarget,
        /// The circle the page typed for, if it said.
        circle: Option<CircleId>,
        /// The line so far.
        text: String,
        /// Finished.
        done: bool,
    },
    /// To the room's SFU routes.
    Sfu(SfuOrder),
    /// Refused before anything else sees it.
    Refused(ErrorCode, &'static str),
}

/// Sorts one decoded message.
pub fn classify(msg: ClientMessage) -> Incoming {
    let command = match msg {
        ClientMessage::Hello { .. } => {
            return Incoming::Refused(ErrorCode::AlreadyJoined, "hello was already sent");
        }
        ClientMessage::Leave => return Incoming::Leave,
        ClientMessage::Ping => return Incoming::Ping,
        ClientMessage::Move { x, y, walking } => Command::Move { x, y, walking },
        ClientMessage::Mute { id } => Command::Mute(participant_id(&id)),
        ClientMessage::Remove { id, ban } => Command::Remove {
            target: participant_id(&id),
            ban,
        },
        ClientMessage::LockRoom { locked } => Command::LockRoom(locked),
        ClientMessage::Hand { raised } => Command::Hand(raised),
        ClientMessage::Broadcast { on } => Command::Broadcast(on),
        ClientMessage::InviteToStage { id } => Command::InviteToStage(participant_id(&id)),
        ClientMessage::InviteToCircle { id } => Command::InviteToCircle(participant_id(&id)),
        ClientMessage::Summary => Command::Summary,
        ClientMessage::React { reaction } => match Reaction::from_name(&reaction) {
            Some(reaction) => Command::React(reaction),
            None => return Incoming::Refused(ErrorCode::UnknownReaction, "unknown reaction"),
        },
        ClientMessage::Announce { text } => Command::Announce(text),
        ClientMessage::SetFloorPlan { plan } => Command::SetFloorPlan(plan),
        ClientMessage::SetIcebreakers { on, prompts } => Command::SetIcebreakers { on, prompts },
        ClientMessage::SetWaitingRoom { on } => Command::SetWaitingRoom(on),
        ClientMessage::Admit { ids, .. } | ClientMessage::TurnAway { ids, .. }
            if ids.len() > MAX_WAITING_IDS =>
        {
            return Incoming::Refused(ErrorCode::InvalidMessage, "at most 500 ids at once");
        }
        ClientMessage::Admit { ids, all } => Command::Admit {
            ids: ids.iter().map(|id| participant_id(id)).collect(),
            all,
        },
        ClientMessage::TurnAway { ids, message } => Command::TurnAway {
            ids: ids.iter().map(|id| participant_id(id)).collect(),
            message,
        },
        ClientMessage::SetAreas { areas } => {
            Command::SetAreas(areas.into_iter().map(views::area_from_wire).collect())
        }
        ClientMessage::Gather { x, y, area } => match (x, y, area) {
            (_, _, Some(area)) => Command::Gather(GatherTarget::Area(area)),
            (Some(x), Some(y), None)
                if x.abs() <= proto_limits::MAX_COORDINATE
                    && y.abs() <= proto_limits::MAX_COORDINATE =>
            {
                Command::Gather(GatherTarget::Point(x as f32, y as f32))
            }
            // Like `move`: a point out of range is a position error, not a malformed message.
            (Some(_), Some(_), None) => {
                return Incoming::Refused(
                    ErrorCode::InvalidPosition,
                    "coordinates beyond the protocol's range",
                );
            }
            _ => {
                return Incoming::Refused(
                    ErrorCode::InvalidMessage,
                    "gather needs x and y, or an area",
                );
            }
        },
        ClientMessage::Chat { to, text } => {
            let target = match to.as_str() {
                "room" => ChatTarget::Room,
                "circle" => ChatTarget::MyCircle,
                id => ChatTarget::Direct(participant_id(id)),
            };
            Command::Chat { target, text }
        }
        ClientMessage::Rtt {
            to,
            circle,
            text,
            done,
        } => {
            return match RttTarget::parse(&to).and_then(|target| {
                rtt::check_line(&text)?;
                Ok(target)
            }) {
                Ok(target) => Incoming::Rtt {
                    target,
                    circle: circle.map(CircleId),
                    text,
                    done,
                },
                Err(_) => Incoming::Refused(
                    ErrorCode::InvalidRtt,
                    "real-time text is one line of at most 200 characters, to circle or stage",
                ),
            };
        }
        ClientMessage::LockCircle { locked } => Command::Lock(locked),
        ClientMessage::Media {
            mic,
            camera,
            screen,
        } => Command::Media(Media {
            mic,
            camera,
            screen,
        }),
        ClientMessage::SfuOffer { sdp, screen } => {
            if screen.as_ref().is_some_and(|mid| mid.len() > MAX_MID_BYTES) {
                return Incoming::Refused(
                    ErrorCode::InvalidDescription,
                    "a media section's mid is at most 32 bytes",
                );
            }
            return sfu(SfuOrder::Offer(sdp, screen));
        }
        ClientMessage::SfuAnswer { sdp, connection } => {
            return sfu(SfuOrder::Answer(sdp, connection));
        }
        ClientMessage::SfuUnpublish => return Incoming::Sfu(SfuOrder::Unpublish),
        ClientMessage::SfuRestart => return Incoming::Sfu(SfuOrder::Restart),
        ClientMessage::SfuView { views } => {
            if views.len() > proto_limits::MAX_SFU_VIEWS {
                return Incoming::Refused(
                    ErrorCode::InvalidMessage,
                    "an sfu_view lists at most 64 streams",
                );
            }
            let valid = |v: &hallway_proto::client::SfuView| {
                v.stream.len() <= 64
                    && v.width <= proto_limits::MAX_VIEW_PIXELS
                    && v.height <= proto_limits::MAX_VIEW_PIXELS
            };
            if !views.iter().all(valid) {
                return Incoming::Refused(
                    ErrorCode::InvalidMessage,
                    "a view's stream is at most 64 bytes and its sides at most 16384 pixels",
                );
            }
            return Incoming::Sfu(SfuOrder::View(
                views
                    .into_iter()
                    .map(|v| (v.stream, v.width, v.height))
                    .collect(),
            ));
        }
        ClientMessage::Signal { to, payload } => {
            if payload.get().len() > proto_limits::MAX_SIGNAL_PAYLOAD_BYTES {
                return Incoming::Refused(
                    ErrorCode::PayloadTooLarge,
                    "signal payloads are limited to 32 KiB",
                );
            }
            return Incoming::Signal {
                to: to.parse().ok(),
                payload,
            };
        }
    };
    Incoming::Command(command)
}

/// An SFU order, unless its description is too large.
fn sfu(order: SfuOrder) -> Incoming {
    if let SfuOrder::Offer(sdp, _) | SfuOrder::Answer(sdp, _) = &order
        && sdp.len() > proto_limits::MAX_SIGNAL_PAYLOAD_BYTES
    {
        return Incoming::Refused(
            ErrorCode::PayloadTooLarge,
            "session descriptions are limited to 32 KiB",
        );
    }
    Incoming::Sfu(order)
}

/// The participant an id names; one that cannot be an id names nobody, and the room
/// answers `unknown_participant` as for any stranger.
/// The most ids one `admit` or `turn_away` names: the waiting room's capacity.
const MAX_WAITING_IDS: usize = 500;

fn participant_id(text: &str) -> ParticipantId {
    text.parse().unwrap_or(ParticipantId::NOBODY)
}

#[cfg(test)]
#[path = "classify_tests.rs"]
mod tests;
