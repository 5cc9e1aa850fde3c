//! The organiser summary on the room's task: the room is noted every [`NOTE_EVERY`] with
//! the wall clock (the figures' times are shown to hosts and may be kept across restarts),
//! a host who asks gets the figures, and, if the operator keeps summaries, each new sample
//! hands the figures to be written down (off the room's task).

use std::sync::Arc;
use std::time::Duration;

use hallway_proto::ServerMessage;
use tungstenite::protocol::frame::Utf8Bytes;

use super::{Actor, now_ms};
use crate::room::model::ParticipantId;
use crate::room::summary::Summary;
use crate::room::views;

/// How often the room is noted for the summary.
pub(super) const NOTE_EVERY: Duration = Duration::from_secs(1);

/// The default spacing of the summary's samples.
pub(crate) const DEFAULT_SAMPLE_EVERY: Duration = Duration::from_secs(60);

/// Called with a room's summary to write it down (it must not block: it runs on the
/// room's task).
pub(crate) type SummarySink = Arc<dyn Fn(Summary) + Send + Sync>;

/// How a room keeps its summary.
#[derive(Clone)]
pub struct SummaryOptions {
    /// The spacing of the chart's samples (it doubles as the day grows long).
    pub every: Duration,
    /// Where the figures are written down, if the operator keeps them.
    pub keep: Option<SummarySink>,
}

impl Default for SummaryOptions {
    fn default() -> Self {
        SummaryOptions {
            every: DEFAULT_SAMPLE_EVERY,
            keep: None,
        }
    }
}

impl std::fmt::Debug for SummaryOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SummaryOptions")
            .field("every", &self.every)
            .field("keep", &self.keep.is_some())
            .finish()
    }
}

impl Actor {
    /// Notes the room; hands the figures to be kept when a sample was taken.
    pub(super) fn note_summary(&mut self) {
        let every_ms = u64::try_from(self.summary.every.as_millis()).unwrap_or(u64::MAX);
        let last = |room: &crate::room::Room| {
            room.summary()
                .and_then(|s| s.samples.last().map(|sample| sample.at))
        };
        let before = last(&self.room);
        self.room.note_summary(now_ms(), every_ms);
        if last(&self.room) != before {
            self.keep_summary();
        }
    }

    /// Hands the figures to be written down, if the operator keeps them.
    pub(super) fn keep_summary(&self) {
        if let (Some(keep), Some(summary)) = (&self.summary.keep, self.room.summary()) {
            keep(summary.clone());
        }
    }

    /// Sends the figures to a host who asked (the engine checked they are one).
    pub(super) fn send_summary(&mut self, to: ParticipantId) {
        let now = now_ms();
        if self.room.summary().is_none() {
            let every_ms = u64::try_from(self.summary.every.as_millis()).unwrap_or(u64::MAX);
            self.room.note_summary(now, every_ms);
        }
        if let Some(report) = self.room.summary_report(now) {
            let msg = ServerMessage::Summary(views::summary(&report));
            self.send(to, Utf8Bytes::from(msg.encode()));
        }
    }
}
