//! Layers nobody receives are paused: a publisher's browser encodes each simulcast layer
//! it sends, so a layer that no receiver gets costs its CPU and its upload for nothing (in
//! a circle whose members show each other in small tiles, the top layer). The publisher's
//! task asks every allocation interval which layer the subscribers call for at most (each
//! what its view needs and its bandwidth estimate allows,
//! [`allocation::wants`](super::allocation::wants), a higher layer than it gets once it
//! may rise to it, [`UpSwitches::call`](super::upswitch::UpSwitches::call);
//! [`Forwards::calls`](super::tracks::Forwards::calls)) and tells the
//! client the highest layer to send (`sfu_layers`): higher at once, so that a receiver
//! whose view grew gets its picture soon, lower only once nobody has called for more for
//! [`LOWER_AFTER`], so that a view that shrinks for a moment does not make the browser
//! stop and restart an encoder (a restarted layer begins with a keyframe). Pure: layers
//! and instants in, a layer out.

use std::time::{Duration, Instant};

use super::layers::{Layer, MAX_LAYERS};
use super::tracks::Calls;

/// How long nobody must call for a layer before it is paused.
pub(crate) const LOWER_AFTER: Duration = Duration::from_secs(4);

/// What one publisher's layered track has been told to send.
#[derive(Debug)]
pub(crate) struct Pausing {
    /// The highest layer the publisher sends (until told otherwise, all).
    told: Layer,
    /// While lower layers have been enough: since when, and the highest called for since.
    lower: Option<(Instant, Layer)>,
}

impl Default for Pausing {
    fn default() -> Self {
        Pausing {
            told: (MAX_LAYERS - 1) as Layer,
            lower: None,
        }
    }
}

impl Pausing {
    /// The highest layer the publisher was told to send, if it was told to pause any.
    pub(crate) fn paused_above(&self) -> Option<Layer> {
        (usize::from(self.told) < MAX_LAYERS - 1).then_some(self.told)
    }

    /// Given what the receivers call for now, the highest layer the publisher should send
    /// from now on, if that changed. A receiver that has not said yet (just subscribed)
    /// holds a lowering off, never a rise.
    pub(crate) fn decide(&mut self, calls: Calls, now: Instant) -> Option<Layer> {
        if calls.top >= self.told {
            self.lower = None;
            if calls.top == self.told {
                return None;
            }
            self.told = calls.top;
            return Some(calls.top);
        }
        let (since, highest) = match self.lower {
            Some((since, highest)) => (since, highest.max(calls.top)),
            None => (now, calls.top),
        };
        self.lower = Some((since, highest));
        if !calls.settled || now.saturating_duration_since(since) < LOWER_AFTER {
            return None;
        }
        self.lower = None;
        self.told = highest;
        Some(highest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_are_paused_after_a_while_and_resumed_at_once() {
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        let all = |top| Calls { top, settled: true };
        let unsettled = |top| Calls {
            top,
            settled: false,
        };
        let mut pausing = Pausing::default();
        assert_eq!(pausing.paused_above(), None);
        // Everyone calls for the top layer: as sent.
        assert_eq!(pausing.decide(all(2), at(0)), None);
        // Nobody calls for more than the middle one: paused after LOWER_AFTER, and to the
        // highest called for meanwhile.
        assert_eq!(pausing.decide(all(0), at(500)), None);
        assert_eq!(pausing.decide(all(1), at(2500)), None);
        assert_eq!(pausing.decide(all(0), at(4400)), None);
        assert_eq!(pausing.decide(all(0), at(4500)), Some(1));
        assert_eq!(pausing.paused_above(), Some(1));
        assert_eq!(pausing.decide(all(1), at(5000)), None);
        // A view grows: the top layer at once, even with a receiver that has not said.
        assert_eq!(pausing.decide(unsettled(2), at(5500)), Some(2));
        // A view that shrinks for a moment pauses nothing.
        assert_eq!(pausing.decide(all(1), at(6000)), None);
        assert_eq!(pausing.decide(all(2), at(7000)), None);
        assert_eq!(pausing.decide(all(1), at(7500)), None);
        assert_eq!(pausing.decide(all(1), at(11000)), None);
        assert_eq!(pausing.decide(all(1), at(11500)), Some(1));
        // Nobody subscribed (the lowest): down to it after a while; a receiver that has
        // not said holds the lowering off without starting the wait over.
        assert_eq!(pausing.decide(all(0), at(12000)), None);
        assert_eq!(pausing.decide(unsettled(0), at(16500)), None);
        assert_eq!(pausing.decide(all(0), at(17000)), Some(0));
        assert_eq!(pausing.paused_above(), Some(0));
    }
}
