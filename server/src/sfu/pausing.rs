//! Layers nobody receives are paused: a publisher's browser encodes each simulcast layer
//! it sends, so a layer that no receiver gets costs its CPU and its upload for nothing (in
//! a circle whose members show each other in small tiles, the top layer). The publisher's
//! task asks every allocation interval which layer the subscribers' views call for at
//! most ([`Forwards::top_wanted`](super::tracks::Forwards::top_wanted)) and tells the
//! client the highest layer to send (`sfu_layers`): higher at once, so that a receiver
//! whose view grew gets its picture soon, lower only once nobody has called for more for
//! [`LOWER_AFTER`], so that a view that shrinks for a moment does not make the browser
//! stop and restart an encoder (a restarted layer begins with a keyframe). Pure: layers
//! and instants in, a layer out.

use std::time::{Duration, Instant};

use super::layers::{Layer, MAX_LAYERS};

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

    /// Given the highest layer any receiver calls for now (`None`: not known for every
    /// receiver yet, so nothing changes), the highest layer the publisher should send
    /// from now on, if that changed.
    pub(crate) fn decide(&mut self, wanted: Option<Layer>, now: Instant) -> Option<Layer> {
        let Some(wanted) = wanted else {
            self.lower = None;
            return None;
        };
        if wanted >= self.told {
            self.lower = None;
            if wanted == self.told {
                return None;
            }
            self.told = wanted;
            return Some(wanted);
        }
        let (since, highest) = match self.lower {
            Some((since, highest)) => (since, highest.max(wanted)),
            None => (now, wanted),
        };
        if now.saturating_duration_since(since) < LOWER_AFTER {
            self.lower = Some((since, highest));
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
        let mut pausing = Pausing::default();
        // Not known for everyone yet: nothing changes.
        assert_eq!(pausing.decide(None, at(0)), None);
        assert_eq!(pausing.paused_above(), None);
        // Everyone calls for the top layer: as sent.
        assert_eq!(pausing.decide(Some(2), at(0)), None);
        // Nobody calls for more than the middle one: paused after LOWER_AFTER, and to the
        // highest called for meanwhile.
        assert_eq!(pausing.decide(Some(0), at(500)), None);
        assert_eq!(pausing.decide(Some(1), at(2500)), None);
        assert_eq!(pausing.decide(Some(0), at(4400)), None);
        assert_eq!(pausing.decide(Some(0), at(4500)), Some(1));
        assert_eq!(pausing.paused_above(), Some(1));
        assert_eq!(pausing.decide(Some(1), at(5000)), None);
        // A view grows: the top layer at once.
        assert_eq!(pausing.decide(Some(2), at(5500)), Some(2));
        // A view that shrinks for a moment pauses nothing.
        assert_eq!(pausing.decide(Some(1), at(6000)), None);
        assert_eq!(pausing.decide(Some(2), at(7000)), None);
        assert_eq!(pausing.decide(Some(1), at(7500)), None);
        assert_eq!(pausing.decide(Some(1), at(11000)), None);
        assert_eq!(pausing.decide(Some(1), at(11500)), Some(1));
        // Nobody subscribed (the lowest): down to it after a while; a receiver whose
        // choice is not known yet holds the change off.
        assert_eq!(pausing.decide(Some(0), at(12000)), None);
        assert_eq!(pausing.decide(None, at(15000)), None);
        assert_eq!(pausing.decide(Some(0), at(16500)), None);
        assert_eq!(pausing.decide(Some(0), at(20500)), Some(0));
    }
}
