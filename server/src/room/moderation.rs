//! What hosts keep order with: bans (for the room's lifetime) and the identity of a signed
//! link that a ban attaches to.

use std::collections::HashSet;

/// Who came in through which signed link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkIdentity {
    /// The token's id: this very link.
    pub jti: String,
    /// The name the link fixes (a personal invitation), if any.
    pub fixed_name: Option<String>,
    /// When the link was minted, Unix seconds.
    pub issued_at: u64,
}

/// The room's bans.
#[derive(Debug, Default)]
pub(crate) struct Bans {
    /// Banned links.
    links: HashSet<String>,
    /// Banned invitation names, with when: links for that name minted before are refused.
    names: Vec<(String, u64)>,
}

impl Bans {
    /// Bans the link someone came in with, and, for a personal invitation, every link
    /// for that name minted up to `now`.
    pub(crate) fn ban(&mut self, link: &LinkIdentity, now: u64) {
        self.links.insert(link.jti.clone());
        if let Some(name) = &link.fixed_name {
            self.names.push((name.clone(), now));
        }
    }

    /// The bans, written down: banned link ids (sorted) and banned names with when.
    pub(crate) fn export(&self) -> (Vec<String>, Vec<(String, u64)>) {
        let mut links: Vec<String> = self.links.iter().cloned().collect();
        links.sort();
        (links, self.names.clone())
    }

    /// Adds bans written down by [`Bans::export`].
    pub(crate) fn import(&mut self, links: &[String], names: &[(String, u64)]) {
        self.links.extend(links.iter().cloned());
        self.names.extend(names.iter().cloned());
    }

    /// Whether a link is banned.
    pub(crate) fn refuses(&self, link: &LinkIdentity) -> bool {
        self.links.contains(&link.jti)
            || link.fixed_name.as_ref().is_some_and(|name| {
                self.names
                    .iter()
                    .any(|(banned, at)| banned == name && link.issued_at <= *at)
            })
    }
}

/// Checks an announcement: at most 500 characters, line breaks (CR and CRLF become `\n`)
/// and tabs allowed but no other control characters or bidirectional overrides
/// (`text.rs`); empty clears it.
pub(crate) fn clean_announcement(raw: &str) -> Result<Option<String>, super::error::EngineError> {
    let text = raw.replace("\r\n", "\n").replace('\r', "\n");
    let text = text.trim();
    if text.chars().count() > 500 || text.chars().any(super::text::refused_in_text) {
        return Err(super::error::EngineError::InvalidAnnouncement);
    }
    Ok((!text.is_empty()).then(|| text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(jti: &str, name: Option<&str>, at: u64) -> LinkIdentity {
        LinkIdentity {
            jti: jti.into(),
            fixed_name: name.map(Into::into),
            issued_at: at,
        }
    }

    #[test]
    fn a_ban_holds_for_the_link_and_older_invitations_of_the_name() {
        let mut bans = Bans::default();
        bans.ban(&link("a", Some("Mallory"), 10), 100);
        assert!(bans.refuses(&link("a", Some("Mallory"), 10)));
        assert!(
            bans.refuses(&link("b", Some("Mallory"), 50)),
            "another link minted before the ban"
        );
        assert!(
            !bans.refuses(&link("c", Some("Mallory"), 101)),
            "a new invitation after the ban"
        );
        assert!(!bans.refuses(&link("d", None, 50)));
    }
}
