//! Limits on guessing: failed passcodes and invalid links, per client address and per
//! room. A few mistakes cost nothing; past them, each failure doubles the wait before the
//! next try from that address, until it has kept quiet for a [`WINDOW`] after its wait.
//! A room-wide ceiling slows passcode guesses spread over many addresses, for a minute at
//! most, so that it never locks the right passcode out for long; it does not hold up
//! signed links (they are not guessed: the session asks only about passcodes).
//!
//! Plain state with the time passed in; the session asks before it checks a passcode or
//! token and reports the outcome.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use dashmap::DashMap;

/// Failures from one address within [`WINDOW`] before it has to wait.
pub(crate) const FREE_FAILURES: u32 = 5;
/// The window failures are counted in.
pub(crate) const WINDOW: Duration = Duration::from_secs(60);
/// The first wait past the free failures; each further failure doubles it.
const FIRST_WAIT: Duration = Duration::from_secs(30);
/// The longest wait for one address.
const LONGEST_WAIT: Duration = Duration::from_secs(15 * 60);
/// Failures for one room, from all addresses, within [`WINDOW`] before every guess for
/// it waits until the window ends.
pub(crate) const ROOM_CEILING: u32 = 100;

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

    /// Whether the record says nothing any more (so it can be forgotten): a [`WINDOW`]
    /// has passed since it began, and since its wait ended. An address that comes back as
    /// soon as its wait is over keeps its failures (and its next wait doubles).
    fn stale(&self, now: Instant) -> bool {
        let quiet_since = self
            .blocked_until
            .map_or(self.since, |until| until.max(self.since));
        now.saturating_duration_since(quiet_since) >= WINDOW
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
    /// How long `ip` (when known) must wait before trying a passcode or link; `None`
    /// when it may try now.
    pub fn address_wait(&self, ip: Option<IpAddr>, now: Instant) -> Option<Duration> {
        ip.and_then(|ip| {
            self.addresses
                .get(&client_key(ip))
                .and_then(|r| r.wait(now))
        })
    }

    /// How long everyone must wait before trying a passcode for `room`.
    pub fn room_wait(&self, room: &str, now: Instant) -> Option<Duration> {
        self.rooms.get(room).and_then(|r| r.wait(now))
    }

    /// Notes a wrong passcode or an invalid link.
    pub fn failed(&self, ip: Option<IpAddr>, room: &str, now: Instant) {
        if let Some(ip) = ip {
            let key = client_key(ip);
            let mut record = self
                .addresses
                .entry(key)
                .or_insert_with(|| Record::new(now));
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
            self.addresses.remove(&client_key(ip));
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

/// The address failures are counted for: an IPv4 address (also one mapped into IPv6),
/// or an IPv6 address's /64 (one subscriber's network: a guesser has all of it).
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut octets = v6.octets();
                octets[8..].fill(0);
                IpAddr::V6(octets.into())
            }
        },
    }
}

/// Whole seconds of `wait`, rounded up (a client told 0 would retry at once).
pub(crate) fn seconds(wait: Duration) -> u64 {
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
            assert_eq!(attempts.address_wait(ip(1), t0), None);
            attempts.failed(ip(1), "lobby", t0);
        }
        attempts.failed(ip(1), "lobby", t0);
        assert_eq!(attempts.address_wait(ip(1), t0), Some(FIRST_WAIT));
        let later = t0 + FIRST_WAIT;
        assert_eq!(attempts.address_wait(ip(1), later), None);
        attempts.failed(ip(1), "lobby", later);
        assert_eq!(attempts.address_wait(ip(1), later), Some(FIRST_WAIT * 2));
        // Another address is not affected, and a success forgives.
        assert_eq!(attempts.address_wait(ip(2), later), None);
        attempts.succeeded(ip(1));
        assert_eq!(attempts.address_wait(ip(1), later), None);
    }

    /// A guesser who comes back the moment each wait ends waits ever longer, up to the
    /// longest wait; one who keeps quiet for a window after the wait is forgiven.
    #[test]
    fn waits_keep_doubling_up_to_the_longest_for_a_guesser_who_goes_on() {
        let attempts = Attempts::default();
        let mut now = Instant::now();
        for _ in 0..FREE_FAILURES {
            attempts.failed(ip(1), "lobby", now);
        }
        let mut waits = vec![];
        while let Some(wait) = attempts.address_wait(ip(1), now) {
            waits.push(wait.as_secs());
            if waits.len() == 8 {
                break;
            }
            now += wait;
            attempts.failed(ip(1), "lobby", now);
        }
        assert_eq!(waits, [30, 60, 120, 240, 480, 900, 900, 900]);
        let quiet = now + LONGEST_WAIT + WINDOW;
        assert_eq!(attempts.address_wait(ip(1), quiet), None);
        attempts.failed(ip(1), "lobby", quiet);
        assert_eq!(attempts.address_wait(ip(1), quiet), None, "forgiven");
    }

    #[test]
    fn an_ipv6_network_counts_as_one_address() {
        let attempts = Attempts::default();
        let t0 = Instant::now();
        for last in 0..FREE_FAILURES {
            let ip: IpAddr = format!("2001:db8:1:2::{last:x}").parse().expect("ip");
            attempts.failed(Some(ip), "lobby", t0);
        }
        let same_network: IpAddr = "2001:db8:1:2:ffff::1".parse().expect("ip");
        let other_network: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert!(attempts.address_wait(Some(same_network), t0).is_some());
        assert_eq!(attempts.address_wait(Some(other_network), t0), None);
        let mapped: IpAddr = "::ffff:192.0.2.9".parse().expect("ip");
        let plain: IpAddr = "192.0.2.9".parse().expect("ip");
        assert_eq!(client_key(mapped), plain);
    }

    #[test]
    fn a_room_wide_ceiling_holds_for_the_rest_of_its_window_only() {
        let attempts = Attempts::default();
        let t0 = Instant::now();
        for i in 0..ROOM_CEILING {
            attempts.failed(ip((i % 200) as u8), "lobby", t0);
        }
        let wait = attempts.room_wait("lobby", t0).expect("the room waits");
        assert!(wait <= WINDOW);
        assert_eq!(attempts.address_wait(ip(250), t0), None);
        assert_eq!(attempts.room_wait("other", t0), None);
        assert_eq!(attempts.room_wait("lobby", t0 + WINDOW), None);
        assert_eq!(seconds(Duration::from_millis(1500)), 2);
    }
}
