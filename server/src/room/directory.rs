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

use std::sync::RwLock;

use dashmap::DashMap;
use hallway_proto::{Payload, ServerMessage, close};
use tracing::warn;
use tungstenite::protocol::frame::Utf8Bytes;

use super::model::{CircleId, EngineError, ParticipantId};
use super::rtt::RttTarget;
use crate::transport::outbox::{OutboxSender, SendError};

/// One participant as the directory knows them.
#[derive(Debug)]
struct Entry {
    /// Their circle as the mesh's `connect`/`disconnect` pairs last said: signals may go
    /// between its members. Never set for a circle that was routed through the SFU from
    /// its start (a privacy room): its members must not learn each other's addresses.
    circle: Option<CircleId>,
    /// Their circle, mesh or routed, as the engine last said: real-time text goes to it.
    member: Option<CircleId>,
    /// Their session's queue.
    outbox: OutboxSender,
}

/// Participants of one room by id.
#[derive(Debug, Default)]
pub(crate) struct Directory {
    entries: DashMap<ParticipantId, Entry>,
    /// The members of each circle (the same facts as the entries' `circle`), so that a
    /// real-time text line reaches its circle without a walk through the whole room.
    circles: DashMap<CircleId, Vec<ParticipantId>>,
    /// Who is on air, as the engine last said (kept through a resume: it is the
    /// engine's, not the connection's).
    on_air: RwLock<Vec<ParticipantId>>,
}

impl Directory {
    /// An empty directory.
    pub(crate) fn new() -> Directory {
        Directory::default()
    }

    /// Adds a participant who just joined (in no circle), or gives one who came back
    /// (resumed) their new connection, keeping their circle.
    pub(crate) fn insert(&self, id: ParticipantId, outbox: OutboxSender) {
        let (circle, member) = self
            .entries
            .get(&id)
            .map_or((None, None), |e| (e.circle, e.member));
        self.entries.insert(
            id,
            Entry {
                circle,
                member,
                outbox,
            },
        );
    }

    /// Records a participant's circle.
    pub(crate) fn set_circle(&self, id: ParticipantId, circle: Option<CircleId>) {
        if let Some(mut entry) = self.entries.get_mut(&id) {
            entry.circle = circle;
        }
        self.set_member(id, circle);
    }

    /// Records the circle a participant is a member of (mesh or routed), for real-time
    /// text, and keeps the circle index with it.
    fn set_member(&self, id: ParticipantId, circle: Option<CircleId>) {
        let before = match self.entries.get_mut(&id) {
            Some(mut entry) => std::mem::replace(&mut entry.member, circle),
            None => return,
        };
        if before == circle {
            return;
        }
        if let Some(old) = before {
            let empty = self.circles.get_mut(&old).is_some_and(|mut members| {
                members.retain(|m| *m != id);
                members.is_empty()
            });
            if empty {
                self.circles
                    .remove_if(&old, |_, members| members.is_empty());
            }
        }
        if let Some(new) = circle {
            self.circles.entry(new).or_default().push(id);
        }
    }

    /// Brings a circle's membership up to date after the engine changed it (`members`
    /// now; `circle_of` says where everyone else who was in it went). Routed circles
    /// (SFU) change without the `connect`/`disconnect` pairs of a mesh, so their members
    /// are recorded from here.
    pub(crate) fn sync_circle(
        &self,
        circle: CircleId,
        members: &[ParticipantId],
        circle_of: impl Fn(ParticipantId) -> Option<CircleId>,
    ) {
        let listed: Vec<ParticipantId> = self
            .circles
            .get(&circle)
            .map(|m| m.clone())
            .unwrap_or_default();
        for id in listed.into_iter().filter(|id| !members.contains(id)) {
            self.set_member(id, circle_of(id));
        }
        for id in members {
            self.set_member(*id, Some(circle));
        }
    }

    /// Records who is on air now (everyone else is not).
    pub(crate) fn set_on_air(&self, broadcasters: &[ParticipantId]) {
        let mut on_air = self.on_air.write().unwrap_or_else(|p| p.into_inner());
        on_air.clear();
        on_air.extend_from_slice(broadcasters);
    }

    /// Forgets a participant who left.
    pub(crate) fn remove(&self, id: ParticipantId) {
        self.set_member(id, None);
        self.entries.remove(&id);
        self.on_air
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|s| *s != id);
    }

    /// Queues a real-time text line (checked by the caller, see [`super::rtt`]) for the
    /// other members of `from`'s circle, or for the people on air, stamped as coming
    /// from `from`. `circle`, when given, is the circle the writer's page typed for: a line
    /// that arrives after the writer was moved to another circle is refused, not shown to
    /// the new one. A reader whose queue is full misses the line instead of being let go
    /// (the next line replaces it anyway): typing must never disconnect anyone.
    pub(crate) fn relay_rtt(
        &self,
        from: ParticipantId,
        target: RttTarget,
        circle: Option<CircleId>,
        text: &str,
        done: bool,
    ) -> Result<(), EngineError> {
        let readers: Vec<ParticipantId> = match target {
            RttTarget::Circle => {
                let own = self
                    .entries
                    .get(&from)
                    .and_then(|e| e.member)
                    .ok_or(EngineError::NotInCircle)?;
                if circle.is_some_and(|c| c != own) {
                    return Err(EngineError::NotInCircle);
                }
                self.circles
                    .get(&own)
                    .map(|m| m.clone())
                    .unwrap_or_default()
            }
            RttTarget::OnAir => self
                .on_air
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
        };
        let readers: Vec<ParticipantId> = readers.into_iter().filter(|id| *id != from).collect();
        if target == RttTarget::OnAir && readers.is_empty() {
            return Err(EngineError::NobodyOnAir);
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
        for id in readers {
            if let Some(entry) = self.entries.get(&id) {
                // Full: this line is lost for that reader; Closed: they are leaving.
                let _ = entry.outbox.try_send(frame.clone());
            }
        }
        Ok(())
    }

    /// Queues `payload` for `to`, stamped as coming from `from`, if both are in one
    /// circle now. A recipient whose queue is full is disconnected as a slow consumer.
    pub(crate) fn relay(
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
    use crate::transport::outbox::{Outgoing, outbox};

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
            directory.relay_rtt(a, RttTarget::Circle, None, "Hal", false),
            Err(EngineError::NotInCircle)
        );
        assert_eq!(
            directory.relay_rtt(a, RttTarget::OnAir, None, "Frage", false),
            Err(EngineError::NobodyOnAir)
        );
        directory.set_circle(a, Some(CircleId(1)));
        directory.set_circle(b, Some(CircleId(1)));
        directory.set_circle(c, Some(CircleId(2)));
        assert_eq!(
            directory.relay_rtt(a, RttTarget::Circle, None, "Hal", false),
            Ok(())
        );
        assert_eq!(
            b_rx.try_recv().expect("b reads").as_str(),
            format!(r#"{{"type":"rtt","from":"{a}","to":"circle","text":"Hal"}}"#)
        );
        assert_eq!(a_rx.try_recv(), None, "not back to the writer");
        assert_eq!(c_rx.try_recv(), None, "not to another circle");
        assert_eq!(d_rx.try_recv(), None, "not to someone in none");
        directory.set_on_air(&[d]);
        assert_eq!(
            directory.relay_rtt(c, RttTarget::OnAir, None, "Eine Frage", true),
            Ok(())
        );
        assert_eq!(
            d_rx.try_recv().expect("whoever is on air reads").as_str(),
            format!(
                r#"{{"type":"rtt","from":"{c}","to":"on_air","text":"Eine Frage","done":true}}"#
            )
        );
        assert_eq!(b_rx.try_recv(), None);
        directory.set_on_air(&[]);
        assert_eq!(
            directory.relay_rtt(c, RttTarget::OnAir, None, "Noch eine", false),
            Err(EngineError::NobodyOnAir)
        );
    }

    #[test]
    fn real_time_text_follows_routed_circles_resumes_and_never_kicks() {
        let directory = Directory::new();
        let (a, b, c) = (ParticipantId(1), ParticipantId(2), ParticipantId(3));
        let (a_tx, _a_rx) = outbox(8);
        let (b_tx, mut b_rx) = outbox(8);
        let (c_tx, mut c_rx) = outbox(2);
        directory.insert(a, a_tx);
        directory.insert(b, b_tx);
        directory.insert(c, c_tx);
        // A routed circle: its membership comes from circle changes, not connect pairs.
        directory.sync_circle(CircleId(7), &[a, b, c], |_| None);
        directory.sync_circle(CircleId(7), &[a, c], |_| None);
        assert_eq!(
            directory.relay_rtt(
                a,
                RttTarget::Circle,
                Some(CircleId(7)),
                "nur für Cem",
                false
            ),
            Ok(())
        );
        assert_eq!(b_rx.try_recv(), None, "Ben left the circle");
        // Routed from the start: signals (addresses) still go nowhere.
        let payload = Payload::from_json("{}").expect("json");
        assert_eq!(
            directory.relay(a, c, &payload),
            Err(EngineError::NotInCircle)
        );
        assert!(c_rx.try_recv().is_some());
        // A line typed for the circle one was in before is refused.
        assert_eq!(
            directory.relay_rtt(a, RttTarget::Circle, Some(CircleId(6)), "alt", false),
            Err(EngineError::NotInCircle)
        );
        // A reader who cannot keep up misses lines and stays.
        for _ in 0..5 {
            assert_eq!(
                directory.relay_rtt(a, RttTarget::Circle, None, "x", false),
                Ok(())
            );
        }
        assert_eq!(c_rx.recv_now(), Some(Outgoing::Frame(c_rx_frame("x", a))));
        // Ben comes back on a new connection (resumed): on air and in the circle still.
        directory.set_on_air(&[b]);
        directory.sync_circle(CircleId(7), &[a, b, c], |_| None);
        let (b_tx, mut b_rx) = outbox(8);
        directory.insert(b, b_tx);
        assert_eq!(
            directory.relay_rtt(c, RttTarget::OnAir, None, "Frage", false),
            Ok(())
        );
        assert_eq!(
            directory.relay_rtt(a, RttTarget::Circle, None, "Hallo", false),
            Ok(())
        );
        assert_eq!(
            b_rx.try_recv().map(|f| f.as_str().contains("Frage")),
            Some(true)
        );
        assert_eq!(
            b_rx.try_recv().map(|f| f.as_str().contains("Hallo")),
            Some(true)
        );
        // Gone: off air too.
        directory.remove(b);
        assert_eq!(
            directory.relay_rtt(c, RttTarget::OnAir, None, "Noch da?", false),
            Err(EngineError::NobodyOnAir)
        );
    }

    fn c_rx_frame(text: &str, from: ParticipantId) -> Utf8Bytes {
        Utf8Bytes::from(format!(
            r#"{{"type":"rtt","from":"{from}","to":"circle","text":"{text}"}}"#
        ))
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
