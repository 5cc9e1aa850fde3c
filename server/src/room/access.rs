//! A room's access rule: who may enter without a signed link (open, passcode, invitation
//! only), as a session checks it at `hello`. The links themselves are `crate::access`'s.

use serde::{Deserialize, Serialize};

/// Who may enter a room without a signed link.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum AccessMode {
    /// Anyone with the room's address.
    #[default]
    Open,
    /// Anyone with the address and the passcode.
    Passcode,
    /// Only people with a signed link.
    Invite,
}

/// A room's access rule, as a session checks it at `hello`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomAccess {
    /// The mode.
    #[serde(default)]
    pub mode: AccessMode,
    /// For [`AccessMode::Passcode`]: salt and SHA-256 of salt and passcode, hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passcode_hash: Option<(String, String)>,
}

/// Why a room's door stays shut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    /// The room takes a passcode and none was given.
    #[error("this room needs a passcode")]
    PasscodeRequired,
    /// The passcode given is wrong.
    #[error("wrong passcode")]
    WrongPasscode,
    /// The room admits only people with a signed link.
    #[error("this room is by invitation only")]
    InviteOnly,
}

impl RoomAccess {
    /// A passcode room; the passcode is kept only as a salted hash.
    pub fn with_passcode(passcode: &str) -> RoomAccess {
        let salt: String = (0..16)
            .map(|_| format!("{:02x}", rand::random::<u8>()))
            .collect();
        let hash = hash_passcode(&salt, passcode);
        RoomAccess {
            mode: AccessMode::Passcode,
            passcode_hash: Some((salt, hash)),
        }
    }

    /// Whether someone may enter: with a verified token always; otherwise as the mode says.
    pub fn admits(&self, has_token: bool, passcode: Option<&str>) -> Result<(), AccessError> {
        if has_token {
            return Ok(());
        }
        match self.mode {
            AccessMode::Open => Ok(()),
            AccessMode::Invite => Err(AccessError::InviteOnly),
            AccessMode::Passcode => {
                let given = passcode.ok_or(AccessError::PasscodeRequired)?;
                let (salt, hash) = self
                    .passcode_hash
                    .as_ref()
                    .ok_or(AccessError::WrongPasscode)?;
                let computed = hash_passcode(salt, given.trim());
                let same = computed.len() == hash.len()
                    && computed
                        .bytes()
                        .zip(hash.bytes())
                        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                        == 0;
                if same {
                    Ok(())
                } else {
                    Err(AccessError::WrongPasscode)
                }
            }
        }
    }
}

fn hash_passcode(salt: &str, passcode: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{salt}:{}", passcode.trim()).as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod access_tests {
    use super::*;

    #[test]
    fn passcodes_invitations_and_tokens() {
        let open = RoomAccess::default();
        assert_eq!(open.admits(false, None), Ok(()));
        let invite = RoomAccess {
            mode: AccessMode::Invite,
            passcode_hash: None,
        };
        assert_eq!(invite.admits(false, None), Err(AccessError::InviteOnly));
        assert_eq!(invite.admits(true, None), Ok(()));
        let passcode = RoomAccess::with_passcode("Kaffee 2026");
        assert_eq!(
            passcode.admits(false, None),
            Err(AccessError::PasscodeRequired)
        );
        assert_eq!(
            passcode.admits(false, Some("kaffee 2026")),
            Err(AccessError::WrongPasscode)
        );
        assert_eq!(passcode.admits(false, Some(" Kaffee 2026 ")), Ok(()));
        assert_eq!(passcode.admits(true, None), Ok(()));
        assert!(
            !serde_json::to_string(&passcode)
                .expect("json")
                .contains("Kaffee"),
            "only the hash is kept"
        );
    }
}
