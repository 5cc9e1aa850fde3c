//! Who is in which circle, and how to reach them: a concurrent mirror of the engine's
//! circle membership that lets sessions relay signalling straight to each other.
//!
//! Signals are the busiest messages in the system (dozens per connection set-up, both
//! ways) and carry nothing the room needs to know. Sending them through the room's task
//! would make that one task the bottleneck of every circle's negotiation; instead the
//! actor keeps this directory up to date *before* it tells anyone about a change of
//! membership, and the sender's own session checks it and queues the signal for the
//! recipient. A signal checked just before a change is one that was sent just before it:
//! the rule "only between members of one circle at that moment" holds.

use dashmap::DashMap;
use hallway_proto::{Payload, ServerMessage, close};
use tracing::warn;
use tungstenite::protocol::frame::Utf8Bytes;

use super::model::{CircleId, EngineError, ParticipantId};
use super::rtt::RttTarget;
use crate::session::outbox::{OutboxSender, SendError};

/// One participant as the directory knows them.
#[derive(Debug)]
struct Entry {
    /// Their circle, as the engine last said.
    circle: Option<CircleId>,
    /// Broadcasting (on stage), as the engine last said.
    on_stage: bool,
    /// Their session's queue.
    outbox: OutboxSender,
}

/// Participants of one room by id.
#[derive(Debug, Default)]
pub struct Directory {
    entries: DashMap<ParticipantId, Entry>,
}

impl Directory {
    /// An empty directory.
    pub fn new() -> Directory {
        Directory::default()
    }

    /// Adds a participant who just joined (in no circle).
    pub(crate) fn insert(&self, id: ParticipantId, outbox: OutboxSender) {
        self.entries.insert(
            id,
            Entry {
                circle: None,
                on_stage: false,
                outbox,
            },
        );
    }

    /// Records a participant's circle.
    pub(crate) fn set_circle(&self, id: ParticipantId, circle: Option<CircleId>) {
        if let Some(mut entry) = self.entries.get_mut(&id) {
            entry.circle = circle;
        }
    }

    /// Records who is on stage now (everyone else is not).
    pub(crate) fn set_stage(&self, broadcasters: &[ParticipantId]) {
        for mut entry in self.entries.iter_mut() {
            let on = broadcasters.contains(entry.key());
            entry.on_stage = on;
        }
    }

    /// Forgets a participant who left.
    pub(crate) fn remove(&self, id: ParticipantId) {
        self.entries.remove(&id);
    }

    /// Queues a real-time text line (checked by the caller, see [`super::rtt`]) for the
    /// other members of `from`'s circle, or for the people on stage, stamped as coming
    /// from `from`. Goes through the whole room's entries: a room has at most a few
    /// thousand, and a typing page sends at most ten lines a second.
    pub fn relay_rtt(
        &self,
        from: ParticipantId,
        target: RttTarget,
        text: &str,
        done: bool,
    ) -> Result<(), EngineError> {
        let circle = self.entries.get(&from).and_then(|e| e.circle);
        let reads = |entry: &Entry| match target {
            RttTarget::Circle => circle.is_some() && entry.circle == circle,
            RttTarget::Stage => entry.on_stage,
        };
        if target == RttTarget::Circle && circle.is_none() {
            return Err(EngineError::NotInCircle);
        }
        let frame = Utf8Bytes::from(
            ServerMessage::Rtt {
                from: from.to_string(),
                to: target.as_str().to_owned(),
                text: text.to_owned(),
                done,
            }
            .encode(),
        );
        let mut readers = 0;
        for entry in self.entries.iter() {
            if *entry.key() == from || !reads(entry.value()) {
                continue;
            }
            readers += 1;
            match entry.outbox.try_send(frame.clone()) {
                Ok(()) | Err(SendError::Closed) => {}
                Err(SendError::Full) => {
                    warn!("disconnecting a slow consumer");
                    entry.outbox.kick(close::SLOW_CONSUMER);
                }
            }
        }
        if target == RttTarget::Stage && readers == 0 {
            return Err(EngineError::NobodyOnStage);
        }
        Ok(())
    }

    /// Queues `payload` for `to`, stamped as coming from `from`, if both are in one
    /// circle now. A recipient whose queue is full is disconnected as a slow consumer.
    pub fn relay(
        &self,
        from: ParticipantId,
        to: ParticipantId,
        payload: &Payload,
    ) -> Result<(), EngineError> {
        let circle = self
            .entries
            .get(&from)
            .and_then(|e| e.circle)
            .ok_or(EngineError::NotInCircle)?;
        let recipient = self
            .entries
            .get(&to)
            .filter(|e| to != from && e.circle == Some(circle));
        // An unknown id and a stranger's id get the same answer: ids are not probeable.
        let recipient = recipient.ok_or(EngineError::NotInSameCircle)?;
        let frame = Utf8Bytes::from(hallway_proto::server::encode_signal(
            &from.to_string(),
            payload,
        ));
        match recipient.outbox.try_send(frame) {
            Ok(()) => {
                crate::metrics::signal_out();
            }
            Err(SendError::Closed) => {}
            Err(SendError::Full) => {
                warn!("disconnecting a slow consumer");
                recipient.outbox.kick(close::SLOW_CONSUMER);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::outbox::{Outgoing, outbox};

    #[test]
    fn relays_only_within_one_circle() {
        let directory = Directory::new();
        let (a, b, c) = (ParticipantId(1), ParticipantId(2), ParticipantId(3));
        let (a_tx, _a_rx) = outbox(8);
        let (b_tx, mut b_rx) = outbox(8);
        let (c_tx, mut c_rx) = outbox(8);
        directory.insert(a, a_tx);
        directory.insert(b, b_tx);
        directory.insert(c, c_tx);
        let payload = Payload::from_json(r#"{"sdp":"x"}"#).expect("json");
        assert_eq!(
            directory.relay(a, b, &payload),
            Err(EngineError::NotInCircle)
        );
        directory.set_circle(a, Some(CircleId(1)));
        directory.set_circle(b, Some(CircleId(1)));
        directory.set_circle(c, Some(CircleId(2)));
        assert_eq!(directory.relay(a, b, &payload), Ok(()));
        assert_eq!(
            directory.relay(a, c, &payload),
            Err(EngineError::NotInSameCircle)
        );
        assert_eq!(
            directory.relay(a, ParticipantId(99), &payload),
            Err(EngineError::NotInSameCircle)
        );
        assert_eq!(
            directory.relay(a, a, &payload),
            Err(EngineError::NotInSameCircle)
        );
        let frame = b_rx.try_recv().expect("delivered");
        assert_eq!(
            frame.as_str(),
            format!(r#"{{"type":"signal","from":"{a}","payload":{{"sdp":"x"}}}}"#)
        );
        assert_eq!(c_rx.try_recv(), None);
        directory.remove(b);
        assert_eq!(
            directory.relay(a, b, &payload),
            Err(EngineError::NotInSameCircle)
        );
    }

    #[test]
    fn real_time_text_reaches_the_circle_or_the_stage_and_nobody_else() {
        let directory = Directory::new();
        let (a, b, c, d) = (
            ParticipantId(1),
            ParticipantId(2),
            ParticipantId(3),
            ParticipantId(4),
        );
        let (a_tx, mut a_rx) = outbox(8);
        let (b_tx, mut b_rx) = outbox(8);
        let (c_tx, mut c_rx) = outbox(8);
        let (d_tx, mut d_rx) = outbox(8);
        directory.insert(a, a_tx);
        directory.insert(b, b_tx);
        directory.insert(c, c_tx);
        directory.insert(d, d_tx);
        assert_eq!(
            directory.relay_rtt(a, RttTarget::Circle, "Hal", false),
            Err(EngineError::NotInCircle)
        );
        assert_eq!(
            directory.relay_rtt(a, RttTarget::Stage, "Frage", false),
            Err(EngineError::NobodyOnStage)
        );
        directory.set_circle(a, Some(CircleId(1)));
        directory.set_circle(b, Some(CircleId(1)));
        directory.set_circle(c, Some(CircleId(2)));
        assert_eq!(
            directory.relay_rtt(a, RttTarget::Circle, "Hal", false),
            Ok(())
        );
        assert_eq!(
            b_rx.try_recv().expect("b reads").as_str(),
            format!(r#"{{"type":"rtt","from":"{a}","to":"circle","text":"Hal"}}"#)
        );
        assert_eq!(a_rx.try_recv(), None, "not back to the writer");
        assert_eq!(c_rx.try_recv(), None, "not to another circle");
        assert_eq!(d_rx.try_recv(), None, "not to someone in none");
        directory.set_stage(&[d]);
        assert_eq!(
            directory.relay_rtt(c, RttTarget::Stage, "Eine Frage", true),
            Ok(())
        );
        assert_eq!(
            d_rx.try_recv().expect("the stage reads").as_str(),
            format!(
                r#"{{"type":"rtt","from":"{c}","to":"stage","text":"Eine Frage","done":true}}"#
            )
        );
        assert_eq!(b_rx.try_recv(), None);
        directory.set_stage(&[]);
        assert_eq!(
            directory.relay_rtt(c, RttTarget::Stage, "Noch eine", false),
            Err(EngineError::NobodyOnStage)
        );
    }

    #[test]
    fn a_recipient_who_cannot_keep_up_is_let_go() {
        let directory = Directory::new();
        let (a, b) = (ParticipantId(1), ParticipantId(2));
        let (a_tx, _a_rx) = outbox(8);
        let (b_tx, mut b_rx) = outbox(2);
        directory.insert(a, a_tx);
        directory.insert(b, b_tx);
        directory.set_circle(a, Some(CircleId(1)));
        directory.set_circle(b, Some(CircleId(1)));
        let payload = Payload::from_json("{}").expect("json");
        for _ in 0..3 {
            assert_eq!(directory.relay(a, b, &payload), Ok(()));
        }
        assert_eq!(
            b_rx.recv_now(),
            Some(Outgoing::Kicked(close::SLOW_CONSUMER))
        );
    }
}
