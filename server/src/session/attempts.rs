//! Limits on guessing: failed passcodes and invalid links, per client address and per
//! room. A few mistakes cost nothing; past them, each failure doubles the wait before the
//! next try from that address. A room-wide ceiling slows a guesser spread over many
//! addresses, for a minute at most, so that it never locks the right passcode out for long.
//!
//! Plain state with the time passed in; the session asks before it checks a passcode or
//! token and reports the outcome.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use dashmap::DashMap;

/// Failures from one address within [`WINDOW`] before it has to wait.
pub const FREE_FAILURES: u32 = 5;
/// The window failures are counted in.
pub const WINDOW: Duration = Duration::from_secs(60);
/// The first wait past the free failures; each further failure doubles it.
const FIRST_WAIT: Duration = Duration::from_secs(30);
/// The longest wait for one address.
const LONGEST_WAIT: Duration = Duration::from_secs(15 * 60);
/// Failures for one room, from all addresses, within [`WINDOW`] before every guess for
/// it waits until the window ends.
pub const ROOM_CEILING: u32 = 100;

/// Failures of one address, or of one room.
#[derive(Debug, Clone, Copy)]
struct Record {
    /// When the current window began.
    since: Instant,
    /// Failures in it.
    failures: u32,
    /// No tries before this.
    blocked_until: Option<Instant>,
}

impl Record {
    fn new(now: Instant) -> Record {
        Record {
            since: now,
            failures: 0,
            blocked_until: None,
        }
    }

    /// The wait left at `now`, if any.
    fn wait(&self, now: Instant) -> Option<Duration> {
        self.blocked_until
            .filter(|until| *until > now)
            .map(|until| until - now)
    }

    /// Whether the record says nothing any more (so it can be forgotten).
    fn stale(&self, now: Instant) -> bool {
        self.wait(now).is_none() && now.duration_since(self.since) >= WINDOW
    }
}

/// The guessing limits of one node.
#[derive(Debug, Default)]
pub struct Attempts {
    /// Per client address.
    addresses: DashMap<IpAddr, Record>,
    /// Per room slug.
    rooms: DashMap<String, Record>,
}

impl Attempts {
    /// How long `ip` (when known) must wait before trying a passcode or link for `room`;
    /// `None` when it may try now.
    pub fn wait(&self, ip: Option<IpAddr>, room: &str, now: Instant) -> Option<Duration> {
        let by_address = ip.and_then(|ip| self.addresses.get(&ip).and_then(|r| r.wait(now)));
        let by_room = self.rooms.get(room).and_then(|r| r.wait(now));
        by_address.max(by_room)
    }

    /// Notes a wrong passcode or an invalid link.
    pub fn failed(&self, ip: Option<IpAddr>, room: &str, now: Instant) {
        if let Some(ip) = ip {
            let mut record = self.addresses.entry(ip).or_insert_with(|| Record::new(now));
            if record.stale(now) {
                *record = Record::new(now);
            }
            record.failures += 1;
            if record.failures >= FREE_FAILURES {
                let doublings = (record.failures - FREE_FAILURES).min(16);
                let wait = FIRST_WAIT.saturating_mul(1 << doublings).min(LONGEST_WAIT);
                record.blocked_until = Some(now + wait);
            }
        }
        let mut record = self
            .rooms
            .entry(room.to_owned())
            .or_insert_with(|| Record::new(now));
        if now.duration_since(record.since) >= WINDOW {
            *record = Record::new(now);
        }
        record.failures += 1;
        if record.failures >= ROOM_CEILING {
            record.blocked_until = Some(record.since + WINDOW);
        }
        drop(record);
        self.forget_stale(now);
    }

    /// Notes a passcode or link that was right: the address's mistakes are forgiven.
    pub fn succeeded(&self, ip: Option<IpAddr>) {
        if let Some(ip) = ip {
            self.addresses.remove(&ip);
        }
    }

    /// Drops records that no longer limit anyone, so that the maps stay small.
    fn forget_stale(&self, now: Instant) {
        if self.addresses.len() > 10_000 {
            self.addresses.retain(|_, r| !r.stale(now));
        }
        if self.rooms.len() > 1_000 {
            self.rooms.retain(|_, r| !r.stale(now));
        }
    }
}

/// Whole seconds of `wait`, rounded up (a client told 0 would retry at once).
pub fn seconds(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> Option<IpAddr> {
        Some(IpAddr::from([192, 0, 2, last]))
    }

    #[test]
    fn an_address_waits_longer_with_every_failure_past_the_free_ones() {
        let attempts = Attempts::default();
        let t0 = Instant::now();
        for _ in 0..FREE_FAILURES - 1 {
            assert_eq!(attempts.wait(ip(1), "lobby", t0), None);
            attempts.failed(ip(1), "lobby", t0);
        }
        attempts.failed(ip(1), "lobby", t0);
        assert_eq!(attempts.wait(ip(1), "lobby", t0), Some(FIRST_WAIT));
        let later = t0 + FIRST_WAIT;
        assert_eq!(attempts.wait(ip(1), "lobby", later), None);
        attempts.failed(ip(1), "lobby", later);
        assert_eq!(attempts.wait(ip(1), "lobby", later), Some(FIRST_WAIT * 2));
        // Another address is not affected, and a success forgives.
        assert_eq!(attempts.wait(ip(2), "lobby", later), None);
        attempts.succeeded(ip(1));
        assert_eq!(attempts.wait(ip(1), "lobby", later), None);
    }

    #[test]
    fn a_room_wide_ceiling_holds_for_the_rest_of_its_window_only() {
        let attempts = Attempts::default();
        let t0 = Instant::now();
        for i in 0..ROOM_CEILING {
            attempts.failed(ip((i % 200) as u8), "lobby", t0);
        }
        let wait = attempts.wait(ip(250), "lobby", t0).expect("the room waits");
        assert!(wait <= WINDOW);
        assert_eq!(attempts.wait(ip(250), "other", t0), None);
        assert_eq!(attempts.wait(ip(250), "lobby", t0 + WINDOW), None);
        assert_eq!(seconds(Duration::from_millis(1500)), 2);
    }
}
