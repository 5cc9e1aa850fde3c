//! Real-time text (EN 301 549, 6.2): the line someone is typing, sent as it stands after
//! every change and shown to the readers as it grows, not when Enter is pressed. It
//! travels like signalling — relayed by the sender's session through the room's
//! [`Directory`](super::directory::Directory), only to the members of the sender's circle
//! or to the people on air, stamped with the sender — and nothing of it is kept.

use super::model::EngineError;

/// Longest line, in characters.
pub(crate) const MAX_RTT_CHARS: usize = hallway_proto::limits::MAX_RTT_CHARS;

/// Whom a line is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RttTarget {
    /// The other members of the sender's circle.
    Circle,
    /// Whoever is on air (a listener's question to a broadcast).
    OnAir,
}

impl RttTarget {
    /// From the wire's `to`.
    pub fn parse(to: &str) -> Result<RttTarget, EngineError> {
        match to {
            "circle" => Ok(RttTarget::Circle),
            "on_air" => Ok(RttTarget::OnAir),
            _ => Err(EngineError::InvalidRtt),
        }
    }

    /// The wire's `to`.
    pub fn as_str(self) -> &'static str {
        match self {
            RttTarget::Circle => "circle",
            RttTarget::OnAir => "on_air",
        }
    }
}

/// Checks a line: at most [`MAX_RTT_CHARS`] characters, one line (no control
/// characters at all), no bidirectional overrides. Blanks are kept as typed: "Hallo "
/// becomes "Hallo W". Empty is fine (the line was cleared).
pub(crate) fn check_line(text: &str) -> Result<(), EngineError> {
    if text.chars().count() > MAX_RTT_CHARS
        || text
            .chars()
            .any(|c| c == '\n' || c == '\t' || super::text::refused_in_text(c))
    {
        return Err(EngineError::InvalidRtt);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_one_bounded_line_of_plain_text() {
        assert_eq!(check_line(""), Ok(()));
        assert_eq!(check_line("Hal"), Ok(()));
        assert_eq!(check_line("Hallo "), Ok(()));
        assert_eq!(check_line(&"ä".repeat(MAX_RTT_CHARS)), Ok(()));
        assert_eq!(
            check_line(&"ä".repeat(MAX_RTT_CHARS + 1)),
            Err(EngineError::InvalidRtt)
        );
        for bad in ["a\nb", "a\tb", "a\u{7}", "\u{202E}txt"] {
            assert_eq!(check_line(bad), Err(EngineError::InvalidRtt), "{bad:?}");
        }
        assert_eq!(RttTarget::parse("on_air"), Ok(RttTarget::OnAir));
        assert_eq!(RttTarget::parse("room"), Err(EngineError::InvalidRtt));
    }
}
