//! What a decoded client message asks for: a room command (decoded by the engine's
//! `Command::decode`), or something the session does itself (leave, relay a signal, talk
//! to the SFU), or a refusal. Pure, so that a property test can feed decoded messages
//! through it into an engine.

use hallway_proto::{ClientMessage, ErrorCode, Payload, limits as proto_limits};

use crate::room::engine::{Command, Decoded};
use crate::room::model::{CircleId, ParticipantId};
use crate::room::rtt::{self, RttTarget};

/// Longest `mid` a screen share may be named by (browsers use "0", "1", …).
const MAX_MID_BYTES: usize = 32;

/// What a client asks of the SFU.
#[derive(Debug)]
pub(crate) enum SfuOrder {
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
pub(crate) enum Incoming {
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
    /// Real-time text, relayed to the circle or whoever is on air (checked).
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

/// Sorts one decoded message: a command for the room (see [`Command::decode`]), or what
/// the session does itself.
pub(crate) fn classify(msg: ClientMessage) -> Incoming {
    let msg = match Command::decode(msg) {
        Decoded::Command(command) => return Incoming::Command(command),
        Decoded::Refused(code, why) => return Incoming::Refused(code, why),
        Decoded::Session(msg) => msg,
    };
    match msg {
        ClientMessage::Hello { .. } => {
            Incoming::Refused(ErrorCode::AlreadyJoined, "hello was already sent")
        }
        ClientMessage::Leave => Incoming::Leave,
        ClientMessage::Ping => Incoming::Ping,
        ClientMessage::Rtt {
            to,
            circle,
            text,
            done,
        } => {
            match RttTarget::parse(&to).and_then(|target| {
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
                    "real-time text is one line of at most 200 characters, to circle or on_air",
                ),
            }
        }
        ClientMessage::SfuOffer { sdp, screen } => {
            if screen.as_ref().is_some_and(|mid| mid.len() > MAX_MID_BYTES) {
                return Incoming::Refused(
                    ErrorCode::InvalidDescription,
                    "a media section's mid is at most 32 bytes",
                );
            }
            sfu(SfuOrder::Offer(sdp, screen))
        }
        ClientMessage::SfuAnswer { sdp, connection } => sfu(SfuOrder::Answer(sdp, connection)),
        ClientMessage::SfuUnpublish => Incoming::Sfu(SfuOrder::Unpublish),
        ClientMessage::SfuRestart => Incoming::Sfu(SfuOrder::Restart),
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
            Incoming::Sfu(SfuOrder::View(
                views
                    .into_iter()
                    .map(|v| (v.stream, v.width, v.height))
                    .collect(),
            ))
        }
        ClientMessage::Signal { to, payload } => {
            if payload.get().len() > proto_limits::MAX_SIGNAL_PAYLOAD_BYTES {
                return Incoming::Refused(
                    ErrorCode::PayloadTooLarge,
                    "signal payloads are limited to 32 KiB",
                );
            }
            Incoming::Signal {
                to: to.parse().ok(),
                payload,
            }
        }
        // `Command::decode` took every other message.
        _ => Incoming::Refused(
            ErrorCode::InvalidMessage,
            "this message is not understood here",
        ),
    }
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

#[cfg(test)]
#[path = "classify_tests.rs"]
mod tests;
