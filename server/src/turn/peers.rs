//! Which peers the embedded TURN server relays to.
//!
//! A relay is a UDP socket on the server's machine that a participant steers: without a
//! policy it reaches the server's own loopback services, the private network behind it and
//! the cloud metadata address. Like coturn's `denied-peer-ip`, peers in loopback, private,
//! link-local, CGNAT, multicast, reserved and unspecified ranges are refused by default;
//! the SFU's own media address stays reachable, and an operator may allow ranges
//! (`--turn-allow-peer`, e.g. for an event on a LAN). The server's own addresses are
//! refused whatever the operator allows (they reach the machine's other services, also
//! on a public address), except the SFU's media address and the relays open at that
//! moment (two relayed participants meet relay to relay, on a private address too). A
//! relay's port is held by the relay's own socket, so only a relay answers there; other
//! ports of the relay range stay refused.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Mutex, RwLock};

/// A range of addresses in CIDR notation (`10.0.0.0/8`, `fd00::/8`, or one address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerRange {
    /// The network address.
    net: IpAddr,
    /// How many leading bits must match.
    prefix: u8,
}

impl PeerRange {
    /// Parses `ADDRESS` or `ADDRESS/PREFIX`; for `--turn-allow-peer`.
    pub fn parse(text: &str) -> Result<PeerRange, String> {
        let text = text.trim();
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let net: IpAddr = addr
            .parse()
            .map_err(|_| format!("{text:?} is not an IP address or ADDRESS/PREFIX"))?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{text:?}: the prefix is 0 to {max}"))?,
            None => max,
        };
        Ok(PeerRange { net, prefix })
    }

    /// Whether `ip` lies in the range (an IPv4-mapped IPv6 address counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.net, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                prefix_match(&net.octets(), &ip.octets(), self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_match(&net.octets(), &ip.octets(), self.prefix)
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for PeerRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.net, self.prefix)
    }
}

fn prefix_match(a: &[u8], b: &[u8], prefix: u8) -> bool {
    let full = usize::from(prefix / 8);
    let rest = prefix % 8;
    if a[..full] != b[..full] {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    a[full] & mask == b[full] & mask
}

/// `::ffff:a.b.c.d` is `a.b.c.d`: a relay would send to the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// The ranges refused by default: those coturn's example configuration lists under
/// `denied-peer-ip`, plus 6to4 and NAT64 prefixes that embed such an address.
pub const DENIED_BY_DEFAULT: &[&str] = &[
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.88.99.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "::/128",
    "::1/128",
    "64:ff9b::/96",
    "100::/64",
    "2001::/23",
    "2001:db8::/32",
    "2002::/16",
    "fc00::/7",
    "fe80::/10",
    "ff00::/8",
];

/// Decides, for every permission, channel and datagram, whether a peer may be relayed to.
#[derive(Debug)]
pub struct PeerPolicy {
    /// Ranges refused unless allowed.
    denied: Vec<PeerRange>,
    /// Ranges the operator allowed (`--turn-allow-peer`).
    allowed: Vec<PeerRange>,
    /// Addresses of this server that participants must reach through a relay: the SFU's
    /// media address (known only once the SFU has bound its port).
    own: RwLock<Vec<SocketAddr>>,
    /// This server's own IP addresses (TURN, SFU, bind): refused but for `own` and for
    /// the live relays.
    hosts: RwLock<Vec<IpAddr>>,
    /// The addresses relays are bound to and announced at.
    relay_hosts: RwLock<Vec<IpAddr>>,
    /// The ports of the relays open now (how many on each: a port freed and bound again
    /// may briefly have two).
    relays: Mutex<HashMap<u16, u32>>,
}

impl PeerPolicy {
    /// The default denials, with `allowed` ranges let through.
    pub fn new(allowed: Vec<PeerRange>) -> PeerPolicy {
        let denied = DENIED_BY_DEFAULT
            .iter()
            .filter_map(|r| PeerRange::parse(r).ok())
            .collect();
        PeerPolicy {
            denied,
            allowed,
            own: RwLock::new(Vec::new()),
            hosts: RwLock::new(Vec::new()),
            relay_hosts: RwLock::new(Vec::new()),
            relays: Mutex::new(HashMap::new()),
        }
    }

    /// Notes `ip` as one of this server's own addresses (an unspecified one means none).
    pub fn own_host(&self, ip: IpAddr) {
        let ip = canonical(ip);
        if ip.is_unspecified() {
            return;
        }
        // A poisoned lock only means a writer panicked mid-push; the list is still usable.
        let mut hosts = self.hosts.write().unwrap_or_else(|e| e.into_inner());
        if !hosts.contains(&ip) {
            hosts.push(ip);
        }
    }

    /// Notes `ip` as an address relays are bound to or announced at (and so one of this
    /// server's own).
    pub fn relay_host(&self, ip: IpAddr) {
        self.own_host(ip);
        let ip = canonical(ip);
        let mut hosts = self.relay_hosts.write().unwrap_or_else(|e| e.into_inner());
        if !ip.is_unspecified() && !hosts.contains(&ip) {
            hosts.push(ip);
        }
    }

    /// A relay was opened on `port`: two relayed participants meet relay to relay.
    pub fn relay_opened(&self, port: u16) {
        *self
            .relays
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(port)
            .or_default() += 1;
    }

    /// The relay on `port` was closed.
    pub fn relay_closed(&self, port: u16) {
        let mut relays = self.relays.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = relays.get_mut(&port) {
            *count -= 1;
            if *count == 0 {
                relays.remove(&port);
            }
        }
    }

    /// Lets relays reach `addr`, one of this server's own media addresses.
    pub fn allow_own(&self, addr: SocketAddr) {
        self.own_host(addr.ip());
        // A poisoned lock only means a writer panicked mid-push; the list is still usable.
        let mut own = self.own.write().unwrap_or_else(|e| e.into_inner());
        if !own.contains(&addr) {
            own.push(addr);
        }
    }

    /// Whether a relay may exchange datagrams with `peer`.
    pub fn permits(&self, peer: SocketAddr) -> bool {
        let ip = canonical(peer.ip());
        let own = self.own.read().unwrap_or_else(|e| e.into_inner());
        if own
            .iter()
            .any(|o| canonical(o.ip()) == ip && o.port() == peer.port())
        {
            return true;
        }
        drop(own);
        let hosts = self.hosts.read().unwrap_or_else(|e| e.into_inner());
        if hosts.contains(&ip) {
            drop(hosts);
            // Our own address: one of our live relays (relay to relay, whatever the
            // address), nothing else of this machine.
            let relay_host = self
                .relay_hosts
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .contains(&ip);
            return relay_host
                && self
                    .relays
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .contains_key(&peer.port());
        }
        drop(hosts);
        self.allowed.iter().any(|r| r.contains(ip)) || !self.denied.iter().any(|r| r.contains(ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> SocketAddr {
        text.parse().expect("a socket address")
    }

    #[test]
    fn loopback_private_link_local_and_metadata_are_refused() {
        let policy = PeerPolicy::new(Vec::new());
        for refused in [
            "127.0.0.1:22",
            "10.0.0.1:53",
            "192.168.1.1:80",
            "172.20.0.1:80",
            "169.254.169.254:80",
            "100.64.0.1:80",
            "224.0.0.1:5353",
            "0.0.0.0:80",
            "[::1]:22",
            "[::ffff:127.0.0.1]:22",
            "[fd00::1]:80",
            "[fe80::1]:80",
            "[::]:80",
            "127.0.0.1:50005",
        ] {
            assert!(!policy.permits(addr(refused)), "{refused} must be refused");
        }
        for permitted in ["198.41.0.4:3478", "[2a00:1450::1]:443"] {
            assert!(policy.permits(addr(permitted)), "{permitted} is allowed");
        }
        policy.allow_own(addr("127.0.0.1:8081"));
        assert!(policy.permits(addr("127.0.0.1:8081")));
        assert!(!policy.permits(addr("127.0.0.1:8082")));
    }

    #[test]
    fn an_operator_may_allow_a_range() {
        let allowed = vec![PeerRange::parse("192.168.10.0/24").expect("range")];
        let policy = PeerPolicy::new(allowed);
        assert!(policy.permits(addr("192.168.10.7:5000")));
        assert!(!policy.permits(addr("192.168.11.7:5000")));
        assert!(PeerRange::parse("10.0.0.0/33").is_err());
        assert!(PeerRange::parse("nonsense").is_err());
        assert_eq!(
            PeerRange::parse("fd00::/8").expect("range").to_string(),
            "fd00::/8"
        );
    }

    #[test]
    fn the_servers_own_addresses_are_refused_but_for_the_sfu_and_live_relays() {
        let allowed = vec![PeerRange::parse("192.168.10.0/24").expect("range")];
        let policy = PeerPolicy::new(allowed);
        // On a LAN: the server's own address stays refused although its range is allowed,
        // but for the SFU and the relays open now.
        policy.relay_host("192.168.10.5".parse().expect("ip"));
        policy.allow_own(addr("192.168.10.5:8081"));
        assert!(policy.permits(addr("192.168.10.5:8081")), "the SFU");
        assert!(!policy.permits(addr("192.168.10.5:22")));
        assert!(
            !policy.permits(addr("192.168.10.5:50000")),
            "no relay there"
        );
        policy.relay_opened(50000);
        assert!(policy.permits(addr("192.168.10.5:50000")), "relay to relay");
        policy.relay_closed(50000);
        assert!(!policy.permits(addr("192.168.10.5:50000")), "closed");
        assert!(
            policy.permits(addr("192.168.10.7:50000")),
            "a participant on the LAN"
        );
        // A port freed and bound again: open until the last one closes.
        policy.relay_opened(50001);
        policy.relay_opened(50001);
        policy.relay_closed(50001);
        assert!(policy.permits(addr("192.168.10.5:50001")));
        // Another address of this machine (loopback, say) is no relay's, whatever its port.
        policy.own_host("127.0.0.1".parse().expect("ip"));
        assert!(!policy.permits(addr("127.0.0.1:50001")));
        // On a public address: live relays, nothing else.
        policy.relay_host("198.41.0.9".parse().expect("ip"));
        assert!(policy.permits(addr("198.41.0.9:50001")));
        assert!(!policy.permits(addr("198.41.0.9:50002")));
        assert!(!policy.permits(addr("198.41.0.9:5432")));
        assert!(!policy.permits(addr("[::ffff:198.41.0.9]:6379")));
        assert!(policy.permits(addr("198.41.0.10:5432")), "another machine");
    }
}
