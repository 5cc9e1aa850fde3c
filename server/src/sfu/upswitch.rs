//! When a receiver may be given a higher simulcast layer of a track again. Pure: times in,
//! a yes or no out.
//!
//! The bandwidth estimate is only known to hold for what was actually sent: once a
//! receiver was lowered for lack of bandwidth, the estimate climbs again while the low
//! layer flows (nothing is sent to test the link at the higher rate), and taking the
//! higher layer as soon as the estimate says it fits would congest a link that still
//! cannot carry it, again and again: each attempt loses packets and freezes the picture.
//! So after a lowering for bandwidth the layer the link could not carry (and any above it)
//! is tried only after a longer wait, and every attempt that is lowered again soon after
//! doubles that wait (up to about a minute); an attempt that holds makes the short wait the
//! rule again. Rises below that layer (a view that grows again after a hidden tab) keep
//! the short wait.

use std::time::{Duration, Instant};

use super::layers::{Layer, NO_LAYER};

/// A higher layer is taken once it has been the allocation's choice this long, so that
/// an estimate that wavers does not switch back and forth.
pub(crate) const UP_AFTER: Duration = Duration::from_secs(2);
/// ... and this long after the receiver was lowered for lack of bandwidth.
pub(crate) const UP_AFTER_CONGESTION: Duration = Duration::from_secs(8);
/// A paused layer called for again takes about this long to arrive (the publisher's
/// encoder restarts with a keyframe): it is called for this much before its rise is due.
pub(crate) const RESUME_LEAD: Duration = Duration::from_millis(1500);
/// A higher layer is taken no sooner than this after it became the allocation's choice,
/// however long it was wanted before it came: its rate is measured by then.
pub(crate) const UP_AFTER_ARRIVAL: Duration = Duration::from_secs(1);
/// The longest wait, after attempts that failed one after the other.
pub(crate) const UP_AFTER_MAX: Duration = Duration::from_secs(64);
/// A higher layer lowered for bandwidth within this long of being taken was an attempt
/// that failed; one that held this long succeeded.
pub(crate) const ATTEMPT: Duration = Duration::from_secs(15);

/// The up switches of one track for one receiver.
#[derive(Debug, Clone)]
pub(crate) struct UpSwitches {
    /// Since when a higher layer has been the allocation's choice.
    since: Option<Instant>,
    /// How long it must have been the choice before it is taken.
    wait: Duration,
    /// When a higher layer was last taken after the longer wait, while it may still turn
    /// out to fail.
    taken: Option<Instant>,
    /// The lowest layer the receiver was lowered from for lack of bandwidth since the last
    /// attempt that held: it and those above it wait the longer wait.
    lowered_from: Option<Layer>,
    /// Since when which layer above the target has been wanted (see [`UpSwitches::call`]).
    calling: Option<(Instant, Layer)>,
}

impl Default for UpSwitches {
    fn default() -> Self {
        UpSwitches {
            since: None,
            wait: UP_AFTER,
            taken: None,
            lowered_from: None,
            calling: None,
        }
    }
}

impl UpSwitches {
    /// Whether to switch from the `target` layer to the allocation's `chosen` one now.
    /// `started`: the receiver gets some layer already (the first one is taken at once);
    /// `for_bandwidth`: `chosen` is below the layer the receiver's view asks for, the
    /// estimate holding it down.
    pub(crate) fn decide(
        &mut self,
        now: Instant,
        chosen: Layer,
        target: Layer,
        started: bool,
        for_bandwidth: bool,
    ) -> bool {
        if let Some(taken) = self.taken
            && now.saturating_duration_since(taken) >= ATTEMPT
        {
            // The last attempt held.
            self.wait = UP_AFTER;
            self.taken = None;
            self.lowered_from = None;
        }
        if chosen <= target {
            self.since = None;
        }
        if !started {
            return chosen != target;
        }
        if chosen < target {
            if for_bandwidth {
                self.wait = match self.taken {
                    Some(_) => (self.wait * 2).clamp(UP_AFTER_CONGESTION, UP_AFTER_MAX),
                    None => self.wait.max(UP_AFTER_CONGESTION),
                };
                self.taken = None;
                self.lowered_from = Some(self.lowered_from.map_or(target, |l| l.min(target)));
            }
            return true;
        }
        if chosen > target {
            let attempt = self.lowered_from.is_some_and(|l| chosen >= l);
            let wait = if attempt { self.wait } else { UP_AFTER };
            let since = *self.since.get_or_insert(now);
            // Wanted since before it came (it was paused): the wait ran from then, but
            // its rate is measured first.
            let from = match self.calling {
                Some((at, layer)) if layer == chosen => at.min(since),
                _ => since,
            };
            if now.saturating_duration_since(from) >= wait
                && now.saturating_duration_since(since) >= UP_AFTER_ARRIVAL.min(wait)
            {
                self.since = None;
                if attempt {
                    self.taken = Some(now);
                }
                return true;
            }
        }
        false
    }

    /// The layer to call for from the publisher (who pauses the layers no receiver calls
    /// for), given the layer the receiver `want`s (what its view needs, lowered to what
    /// its estimate would carry were every layer sent), the `target` it gets now and the
    /// layer it keeps this round (`keeps`: the allocation's choice, at most the target):
    /// a lower want at once, but never below what it keeps (another track's paused layer,
    /// counted at its old rate, must not make this one pause what is received); a higher
    /// one only once a rise to it would be due ([`RESUME_LEAD`] before), so that a layer
    /// paused while the receiver was held down for bandwidth is sent again for the next
    /// attempt, not as soon as the estimate has climbed (it climbs while the low layer
    /// flows, see above). Meanwhile, the target.
    pub(crate) fn call(&mut self, now: Instant, want: Layer, target: Layer, keeps: Layer) -> Layer {
        let keeps = if keeps == NO_LAYER { want } else { keeps };
        if want == NO_LAYER || target == NO_LAYER || want <= target {
            self.calling = None;
            return if want == NO_LAYER {
                want
            } else {
                want.max(keeps)
            };
        }
        let attempt = self.lowered_from.is_some_and(|l| want >= l);
        let wait = if attempt { self.wait } else { UP_AFTER };
        let since = match self.calling {
            Some((at, layer)) if layer == want => at,
            _ => {
                self.calling = Some((now, want));
                now
            }
        };
        if now.saturating_duration_since(since) + RESUME_LEAD >= wait {
            want
        } else {
            target
        }
    }

    /// How long a higher layer must be the choice before it is taken, now (for tests).
    #[cfg(test)]
    pub(crate) fn wait(&self) -> Duration {
        self.wait
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(start: Instant, seconds: f64) -> Instant {
        start + Duration::from_secs_f64(seconds)
    }

    /// Asks every half second from `from` to `to` seconds, as the allocation does, and
    /// says when the higher layer was taken.
    fn ask_up(ups: &mut UpSwitches, start: Instant, from: f64, to: f64) -> Option<f64> {
        let mut t = from;
        while t <= to {
            if ups.decide(at(start, t), 2, 1, true, false) {
                return Some(t);
            }
            t += 0.5;
        }
        None
    }

    #[test]
    fn the_first_layer_and_lower_ones_are_taken_at_once() {
        let start = Instant::now();
        let mut ups = UpSwitches::default();
        assert!(ups.decide(start, 2, 0, false, false));
        assert!(ups.decide(start, 1, 2, true, true));
        assert!(!ups.decide(start, 1, 1, true, true));
    }

    /// A view that grows on a link with room: the higher layer after two seconds.
    #[test]
    fn a_higher_layer_is_taken_once_it_was_the_choice_for_a_while() {
        let start = Instant::now();
        let mut ups = UpSwitches::default();
        assert_eq!(ask_up(&mut ups, start, 0.0, 10.0), Some(2.0));
        // A choice that wavers starts the wait again.
        let mut ups = UpSwitches::default();
        assert!(!ups.decide(at(start, 0.0), 2, 1, true, false));
        assert!(!ups.decide(at(start, 1.5), 1, 1, true, false));
        assert_eq!(ask_up(&mut ups, start, 2.0, 10.0), Some(4.0));
    }

    /// Lowered for bandwidth: the next attempt waits longer; each one lowered again soon
    /// after doubles the wait, up to the longest.
    #[test]
    fn failed_attempts_wait_longer_and_longer() {
        let start = Instant::now();
        let mut ups = UpSwitches::default();
        assert!(ups.decide(at(start, 0.0), 1, 2, true, true));
        assert_eq!(ups.wait(), UP_AFTER_CONGESTION);
        let mut t = 0.5;
        let mut waits = Vec::new();
        for _ in 0..6 {
            let taken = ask_up(&mut ups, start, t, t + 100.0).expect("taken");
            // The link still cannot carry it: lowered again three seconds later.
            assert!(ups.decide(at(start, taken + 3.0), 1, 2, true, true));
            waits.push(ups.wait().as_secs());
            t = taken + 3.5;
        }
        assert_eq!(waits, vec![16, 32, 64, 64, 64, 64]);
    }

    /// An attempt that holds makes the short wait the rule again; a later lowering for
    /// bandwidth starts from the wait after congestion, not from the doubled one.
    #[test]
    fn an_attempt_that_holds_resets_the_wait() {
        let start = Instant::now();
        let mut ups = UpSwitches::default();
        assert!(ups.decide(at(start, 0.0), 1, 2, true, true));
        let taken = ask_up(&mut ups, start, 0.5, 100.0).expect("taken");
        assert!(ups.decide(at(start, taken + 1.0), 1, 2, true, true));
        assert_eq!(ups.wait(), 2 * UP_AFTER_CONGESTION);
        let taken = ask_up(&mut ups, start, taken + 1.5, taken + 100.0).expect("taken");
        // Held for longer than an attempt: the view's own changes are quick again.
        assert!(!ups.decide(at(start, taken + 20.0), 2, 2, true, false));
        assert_eq!(ups.wait(), UP_AFTER);
        assert!(ups.decide(at(start, taken + 30.0), 1, 2, true, true));
        assert_eq!(ups.wait(), UP_AFTER_CONGESTION);
    }

    /// Lowered for bandwidth from the top layer, then to the lowest because the tab was
    /// hidden: back to the middle layer, which the link carried, in the short wait; the
    /// top one still waits the longer one.
    #[test]
    fn a_rise_below_the_layer_the_link_could_not_carry_is_quick() {
        let start = Instant::now();
        let mut ups = UpSwitches::default();
        assert!(ups.decide(at(start, 0.0), 1, 2, true, true));
        assert!(ups.decide(at(start, 1.0), 0, 1, true, false));
        assert!(!ups.decide(at(start, 2.0), 1, 0, true, false));
        assert!(ups.decide(at(start, 4.0), 1, 0, true, false));
        assert!(!ups.decide(at(start, 5.0), 2, 1, true, false));
        assert!(!ups.decide(at(start, 12.5), 2, 1, true, false));
        assert!(ups.decide(at(start, 13.0), 2, 1, true, false));
    }

    /// Lowered because the view got smaller: no longer wait afterwards.
    #[test]
    fn a_smaller_view_does_not_make_the_wait_longer() {
        let start = Instant::now();
        let mut ups = UpSwitches::default();
        assert!(ups.decide(at(start, 0.0), 1, 2, true, false));
        assert_eq!(ups.wait(), UP_AFTER);
    }

    /// A higher layer than the receiver gets is called for from the publisher only once a
    /// rise to it would be due, less the time a paused layer takes to come back; after a
    /// lowering for bandwidth that is the longer wait. The rise itself then counts its wait
    /// from when the layer was first wanted, so it follows as soon as the layer arrives.
    #[test]
    fn a_paused_layer_is_called_for_when_its_rise_would_be_due() {
        let start = Instant::now();
        let mut ups = UpSwitches::default();
        // Lower or equal: at once.
        assert_eq!(ups.call(at(start, 0.0), 1, 2, 1), 1);
        assert_eq!(ups.call(at(start, 0.0), 2, 2, 2), 2);
        // Higher, never lowered for bandwidth (a view that grew): after the short wait.
        assert_eq!(ups.call(at(start, 0.0), 2, 1, 1), 1);
        assert_eq!(ups.call(at(start, 0.5), 2, 1, 1), 2);
        // Lowered for bandwidth from 2 to 1.
        let mut ups = UpSwitches::default();
        assert!(ups.decide(at(start, 0.0), 1, 2, true, true));
        let lead = RESUME_LEAD.as_secs_f64();
        let due = UP_AFTER_CONGESTION.as_secs_f64();
        assert_eq!(ups.call(at(start, 1.0), 2, 1, 1), 1);
        assert_eq!(ups.call(at(start, 1.0 + due - lead - 0.5), 2, 1, 1), 1);
        assert_eq!(ups.call(at(start, 1.0 + due - lead), 2, 1, 1), 2);
        // The layer arrives a second later and is the allocation's choice: taken once the
        // wait has passed since it was first wanted (and it has been there a second), not
        // a whole wait after it came.
        assert!(!ups.decide(at(start, 1.0 + due - lead + 1.0), 2, 1, true, false));
        assert!(ups.decide(at(start, 1.0 + due + 0.5), 2, 1, true, false));
        // Wanted no more (taken): the next want starts its wait afresh.
        assert_eq!(ups.call(at(start, 20.0), 2, 2, 2), 2);
        assert_eq!(ups.call(at(start, 20.0), 1, 1, 1), 1);
        assert_eq!(ups.call(at(start, 20.5), 2, 1, 1), 1);
        // Never below what the receiver keeps this round, whatever it wants.
        assert_eq!(ups.call(at(start, 21.0), 0, 1, 1), 1);
        assert_eq!(ups.call(at(start, 21.0), 0, 1, 0), 0);
    }

    /// A layer wanted long before it came is still measured for a second before it is
    /// taken; a want that changed layer starts its wait afresh.
    #[test]
    fn a_layer_long_wanted_is_taken_a_second_after_it_came() {
        let start = Instant::now();
        let mut ups = UpSwitches::default();
        // Wanted (never sent) for a minute: called for after the short wait.
        assert_eq!(ups.call(at(start, 0.0), 2, 1, 1), 1);
        assert_eq!(ups.call(at(start, 60.0), 2, 1, 1), 2);
        assert!(!ups.decide(at(start, 60.0), 2, 1, true, false));
        assert!(!ups.decide(at(start, 60.5), 2, 1, true, false));
        assert!(ups.decide(at(start, 61.0), 2, 1, true, false));
        // A want that moves from layer 1 to 2 waits anew for 2.
        let mut ups = UpSwitches::default();
        assert_eq!(ups.call(at(start, 0.0), 1, 0, 0), 0);
        assert_eq!(ups.call(at(start, 10.0), 2, 0, 0), 0);
        assert_eq!(
            ups.call(at(start, 10.0 + UP_AFTER.as_secs_f64()), 2, 0, 0),
            2
        );
    }
}
