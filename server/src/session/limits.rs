//! Per-connection rate limits: a token bucket per kind of message.

use std::time::Instant;

use hallway_proto::limits;

/// A token bucket: `rate` tokens a second up to `burst`.
#[derive(Debug, Clone)]
pub(crate) struct Bucket {
    /// Tokens available now.
    tokens: f64,
    /// Refill per second.
    rate: f64,
    /// Most tokens held.
    burst: f64,
    /// When `tokens` was last brought up to date.
    last: Instant,
}

impl Bucket {
    /// A full bucket.
    pub(crate) fn new(rate: u32, burst: u32, now: Instant) -> Bucket {
        Bucket {
            tokens: f64::from(burst),
            rate: f64::from(rate),
            burst: f64::from(burst),
            last: now,
        }
    }

    /// Takes one token if there is one.
    pub(crate) fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Which bucket a message draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `move`.
    Move,
    /// `signal`.
    Signal,
    /// `chat`.
    Chat,
    /// `rtt`.
    Rtt,
    /// Everything else, bad input included.
    Other,
}

/// The buckets of one connection, and when it was last told it is limited.
#[derive(Debug, Clone)]
pub(crate) struct RateLimits {
    moves: Bucket,
    signals: Bucket,
    chat: Bucket,
    rtt: Bucket,
    other: Bucket,
    /// The `rate_limited` error goes out at most once a second, so that a flood does not
    /// turn into a flood of errors.
    last_notice: Option<Instant>,
}

/// What to do with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Within the limit.
    Allow,
    /// Over the limit: drop it and tell the client.
    DropAndNotify,
    /// Over the limit: drop it silently (the client was told recently).
    Drop,
}

impl RateLimits {
    /// Fresh buckets with the protocol's limits, and `signal_rate` signals per second
    /// (the protocol's default is [`limits::SIGNALS_PER_SECOND`]).
    pub(crate) fn new(now: Instant, signal_rate: u32) -> RateLimits {
        let signal_burst = if signal_rate == limits::SIGNALS_PER_SECOND {
            limits::SIGNAL_BURST
        } else {
            signal_rate.saturating_mul(4)
        };
        RateLimits {
            moves: Bucket::new(limits::MOVES_PER_SECOND, limits::MOVE_BURST, now),
            signals: Bucket::new(signal_rate, signal_burst, now),
            chat: Bucket::new(limits::CHAT_PER_SECOND, limits::CHAT_BURST, now),
            rtt: Bucket::new(limits::RTT_PER_SECOND, limits::RTT_BURST, now),
            other: Bucket::new(limits::OTHER_PER_SECOND, limits::OTHER_BURST, now),
            last_notice: None,
        }
    }

    /// Charges one message of `kind`.
    pub(crate) fn check(&mut self, kind: Kind, now: Instant) -> Verdict {
        let bucket = match kind {
            Kind::Move => &mut self.moves,
            Kind::Signal => &mut self.signals,
            Kind::Chat => &mut self.chat,
            Kind::Rtt => &mut self.rtt,
            Kind::Other => &mut self.other,
        };
        if bucket.take(now) {
            return Verdict::Allow;
        }
        match self.last_notice {
            Some(at) if now.saturating_duration_since(at).as_secs() < 1 => Verdict::Drop,
            _ => {
                self.last_notice = Some(now);
                Verdict::DropAndNotify
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn bursts_then_refills() {
        let t0 = Instant::now();
        let mut bucket = Bucket::new(10, 3, t0);
        assert!(bucket.take(t0) && bucket.take(t0) && bucket.take(t0));
        assert!(!bucket.take(t0));
        assert!(bucket.take(t0 + Duration::from_millis(100)));
        assert!(!bucket.take(t0 + Duration::from_millis(100)));
    }

    #[test]
    fn notices_at_most_once_a_second() {
        let t0 = Instant::now();
        let mut limits = RateLimits::new(t0, limits::SIGNALS_PER_SECOND);
        let verdicts: Vec<Verdict> = (0..limits::OTHER_BURST + 3)
            .map(|_| limits.check(Kind::Other, t0))
            .collect();
        assert_eq!(
            verdicts.iter().filter(|v| **v == Verdict::Allow).count(),
            limits::OTHER_BURST as usize
        );
        assert_eq!(
            verdicts
                .iter()
                .filter(|v| **v == Verdict::DropAndNotify)
                .count(),
            1
        );
        let later = t0 + Duration::from_millis(1100);
        assert_eq!(limits.check(Kind::Move, later), Verdict::Allow);
    }
}
