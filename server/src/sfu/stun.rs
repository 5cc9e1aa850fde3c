//! Just enough STUN (RFC 8489) to route a datagram: every ICE connectivity check a browser
//! sends carries `USERNAME = <our ufrag>:<its ufrag>`, and our ufrag names the connection.

/// The magic cookie of every STUN message.
const MAGIC_COOKIE: u32 = 0x2112_A442;
/// Attribute type of USERNAME.
const USERNAME: u16 = 0x0006;
/// Size of the fixed header.
const HEADER: usize = 20;

/// Whether `datagram` looks like a STUN message (first two bits zero, magic cookie).
pub(crate) fn is_stun(datagram: &[u8]) -> bool {
    datagram.len() >= HEADER
        && datagram[0] & 0xC0 == 0
        && u32::from_be_bytes([datagram[4], datagram[5], datagram[6], datagram[7]]) == MAGIC_COOKIE
}

/// The local ufrag a connectivity check is addressed to: the part of USERNAME before the
/// colon. `None` for anything that is not a STUN message with a well-formed USERNAME.
pub(crate) fn local_ufrag(datagram: &[u8]) -> Option<&str> {
    if !is_stun(datagram) {
        return None;
    }
    let length = usize::from(u16::from_be_bytes([datagram[2], datagram[3]]));
    let body = datagram.get(HEADER..HEADER + length)?;
    let mut at = 0;
    while at + 4 <= body.len() {
        let kind = u16::from_be_bytes([body[at], body[at + 1]]);
        let len = usize::from(u16::from_be_bytes([body[at + 2], body[at + 3]]));
        let value = body.get(at + 4..at + 4 + len)?;
        if kind == USERNAME {
            let username = std::str::from_utf8(value).ok()?;
            return username.split(':').next().filter(|u| !u.is_empty());
        }
        // Attributes are padded to a multiple of four bytes.
        at += 4 + len.div_ceil(4) * 4;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(attributes: &[(u16, &[u8])]) -> Vec<u8> {
        let mut body = Vec::new();
        for (kind, value) in attributes {
            body.extend_from_slice(&kind.to_be_bytes());
            body.extend_from_slice(&(value.len() as u16).to_be_bytes());
            body.extend_from_slice(value);
            body.resize(body.len().div_ceil(4) * 4, 0);
        }
        let mut out = vec![0x00, 0x01];
        out.extend_from_slice(&(body.len() as u16).to_be_bytes());
        out.extend_from_slice(&MAGIC_COOKIE.to_be_bytes());
        out.extend_from_slice(&[7; 12]);
        out.extend_from_slice(&body);
        out
    }

    #[test]
    fn finds_the_local_ufrag_after_other_attributes() {
        let m = message(&[
            (0x8029, &[1, 2, 3, 4, 5, 6, 7, 8]),
            (USERNAME, b"srv1:brws"),
        ]);
        assert_eq!(local_ufrag(&m), Some("srv1"));
    }

    #[test]
    fn padding_is_skipped() {
        let m = message(&[(0x0024, &[1, 2, 3]), (USERNAME, b"abc:def")]);
        assert_eq!(local_ufrag(&m), Some("abc"));
    }

    #[test]
    fn rejects_what_is_not_stun_or_is_cut_short() {
        assert_eq!(
            local_ufrag(b"\x80\x60 not stun at all, an RTP packet"),
            None
        );
        let mut m = message(&[(USERNAME, b"abc:def")]);
        m.truncate(m.len() - 4);
        assert_eq!(local_ufrag(&m), None);
        assert_eq!(local_ufrag(&message(&[(0x0024, &[1, 2, 3, 4])])), None);
        assert_eq!(local_ufrag(&message(&[(USERNAME, b":def")])), None);
    }
}
