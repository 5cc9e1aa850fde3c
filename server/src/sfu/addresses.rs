//! Which addresses clients are told to send media to: the SFU's host candidates and the
//! embedded TURN server's URL.

use std::net::IpAddr;

/// More addresses than this are not announced (a host with many bridges would otherwise
/// hand every browser a long list of candidates to try).
const MAX_ANNOUNCED: usize = 8;

/// The addresses to announce, first the one TURN uses: `--media-announce` if given; else
/// the bound address; bound to every interface, the machine's own IPv4 addresses (not
/// loopback, not link-local) and then 127.0.0.1 — so that browsers on other machines of a
/// LAN reach the server, and Firefox, which ignores loopback candidates and loopback TURN
/// servers, works on this machine too.
pub(crate) fn announced(
    bind: IpAddr,
    announce: Option<IpAddr>,
    interfaces: &[IpAddr],
) -> Vec<IpAddr> {
    if let Some(ip) = announce {
        return vec![ip];
    }
    if !bind.is_unspecified() {
        return vec![bind];
    }
    let mut out: Vec<IpAddr> = Vec::new();
    for ip in interfaces {
        let usable = match ip {
            IpAddr::V4(v4) => {
                !v4.is_loopback()
                    && !v4.is_link_local()
                    && !v4.is_unspecified()
                    && !v4.is_broadcast()
            }
            IpAddr::V6(_) => false,
        };
        if usable && !out.contains(ip) && out.len() < MAX_ANNOUNCED - 1 {
            out.push(*ip);
        }
    }
    out.push(IpAddr::from([127, 0, 0, 1]));
    out
}

/// This machine's interface addresses (empty if they cannot be listed).
pub(crate) fn interface_addresses() -> Vec<IpAddr> {
    webrtc_util::ifaces::ifaces()
        .map(|list| list.iter().filter_map(|i| i.addr.map(|a| a.ip())).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn an_operators_address_or_the_bound_one_is_announced_alone() {
        let lan = [ip("192.168.1.20")];
        assert_eq!(
            announced(ip("0.0.0.0"), Some(ip("203.0.113.7")), &lan),
            [ip("203.0.113.7")]
        );
        assert_eq!(announced(ip("127.0.0.1"), None, &lan), [ip("127.0.0.1")]);
        assert_eq!(announced(ip("10.0.0.5"), None, &lan), [ip("10.0.0.5")]);
    }

    #[test]
    fn bound_to_every_interface_the_machines_addresses_come_first_then_loopback() {
        let interfaces = [
            ip("127.0.0.1"),
            ip("192.168.1.20"),
            ip("169.254.3.4"),
            ip("fe80::1"),
            ip("2001:db8::5"),
            ip("10.8.0.2"),
            ip("192.168.1.20"),
        ];
        assert_eq!(
            announced(ip("0.0.0.0"), None, &interfaces),
            [ip("192.168.1.20"), ip("10.8.0.2"), ip("127.0.0.1")]
        );
        assert_eq!(announced(ip("0.0.0.0"), None, &[]), [ip("127.0.0.1")]);
        let many: Vec<IpAddr> = (1..=20).map(|i| ip(&format!("10.0.{i}.1"))).collect();
        let list = announced(ip("0.0.0.0"), None, &many);
        assert_eq!(list.len(), MAX_ANNOUNCED);
        assert_eq!(list.last(), Some(&ip("127.0.0.1")));
    }
}
