//! Signed links: who may enter which room, in which role.
//!
//! A link carries a token (JWT, HS256) in its fragment — `/r/<room>#token=…` — so that it
//! never reaches a server log or a `Referer`; the page hands it over in `hello`. Identity
//! and role come only from a verified token; without one, the open-room path admits a
//! participant. The signing secret comes from `HALLWAY_SECRET` or a file in the data
//! folder, created with 256 random bits on first start.

use crate::clock::now_secs;
use std::path::Path;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::room::model::Role;
use crate::room::moderation::LinkIdentity;

// A room's own rule (who may enter without a link) is the room's: `room::access`.
pub use crate::room::access::{AccessError, AccessMode, RoomAccess};

/// What a token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The room it opens.
    pub room: String,
    /// `host` or `participant`.
    pub role: TokenRole,
    /// A fixed display name (personal invitations), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A fixed profile line (personal invitations from a list with an organisation), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Expiry, seconds since the Unix epoch.
    pub exp: u64,
    /// When it was minted, seconds since the Unix epoch (bans of a name reach back to it).
    #[serde(default)]
    pub iat: u64,
    /// Token id, for revocation and audit.
    pub jti: String,
    /// Not valid before, seconds since the Unix epoch; our tokens have none, a token with
    /// one is refused until then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
}

/// The role a token grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum TokenRole {
    /// Runs the event.
    Host,
    /// Takes part.
    Participant,
}

impl From<TokenRole> for Role {
    fn from(role: TokenRole) -> Role {
        match role {
            TokenRole::Host => Role::Host,
            TokenRole::Participant => Role::Participant,
        }
    }
}

/// What a verified token grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The role in the room.
    pub role: Role,
    /// The display name the token fixes, if any.
    pub name: Option<String>,
    /// The profile line the token fixes, if any.
    pub profile: Option<String>,
    /// The link itself, which a ban attaches to.
    pub link: Option<LinkIdentity>,
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Malformed, forged, or signed with another algorithm (`alg=none` included).
    #[error("this link is not valid")]
    Invalid,
    /// Past its expiry.
    #[error("this link has expired")]
    Expired,
    /// Valid, but for another room.
    #[error("this link is for another room")]
    WrongRoom,
}

/// Why the signing secret could not be had.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The secret given is too short to be safe.
    #[error("HALLWAY_SECRET must be at least 32 characters")]
    TooShort,
    /// The data folder or the secret file could not be read or written.
    #[error("cannot read or create the secret in {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The operating system's reason.
        source: std::io::Error,
    },
}

/// Mints and verifies tokens with one secret.
#[derive(Clone)]
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    login: crate::oidc::LoginSeal,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tokens(..)") // never the secret
    }
}

impl Tokens {
    /// Keys from a secret.
    pub fn new(secret: &[u8]) -> Tokens {
        Tokens {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            login: crate::oidc::LoginSeal::new(secret),
        }
    }

    /// The secret from `given` (the environment), else from `<data_dir>/secret`, created
    /// on first use with 256 random bits, readable only by its owner.
    pub fn load(given: Option<&str>, data_dir: &Path) -> Result<Tokens, SecretError> {
        if let Some(secret) = given {
            if secret.len() < 32 {
                return Err(SecretError::TooShort);
            }
            return Ok(Tokens::new(secret.as_bytes()));
        }
        let path = data_dir.join("secret");
        let io = |source| SecretError::Io {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read_to_string(&path) {
            Ok(text) if text.trim().len() >= 32 => return Ok(Tokens::new(text.trim().as_bytes())),
            Ok(_) => return Err(SecretError::TooShort),
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => return Err(io(err)),
            Err(_) => {}
        }
        std::fs::create_dir_all(data_dir).map_err(io)?;
        let secret: String = (0..32)
            .map(|_| format!("{:02x}", rand::random::<u8>()))
            .collect();
        write_private(&path, &secret).map_err(io)?;
        Ok(Tokens::new(secret.as_bytes()))
    }

    /// Seals host sign-in states, with a key derived from the same secret.
    pub fn login_seal(&self) -> &crate::oidc::LoginSeal {
        &self.login
    }

    /// A token for `room` in `role`, valid until `expires_at` (Unix seconds).
    pub fn mint(&self, room: &str, role: TokenRole, name: Option<&str>, expires_at: u64) -> String {
        self.mint_fixed(room, role, name, None, expires_at)
    }

    /// A token as [`Tokens::mint`] makes it that also fixes a profile line.
    pub fn mint_fixed(
        &self,
        room: &str,
        role: TokenRole,
        name: Option<&str>,
        profile: Option<&str>,
        expires_at: u64,
    ) -> String {
        self.mint_at(room, role, name, profile, now_secs(), expires_at)
    }

    /// A token as [`Tokens::mint_fixed`] makes it, minted at `issued_at` (Unix seconds):
    /// bans of a fixed name reach back to when its invitations were minted.
    pub fn mint_at(
        &self,
        room: &str,
        role: TokenRole,
        name: Option<&str>,
        profile: Option<&str>,
        issued_at: u64,
        expires_at: u64,
    ) -> String {
        let jti: String = (0..8)
            .map(|_| format!("{:02x}", rand::random::<u8>()))
            .collect();
        let claims = Claims {
            room: room.to_owned(),
            role,
            name: name.map(str::to_owned),
            profile: profile.map(str::to_owned),
            exp: expires_at,
            iat: issued_at,
            jti,
            nbf: None,
        };
        // Encoding HS256 with a byte secret cannot fail for these claims.
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .unwrap_or_default()
    }

    /// Checks a token for `room` at `now` (Unix seconds; the caller reads the clock):
    /// signature (HS256 only), expiry and a not-before time if it has one (no leeway),
    /// room.
    pub fn verify(&self, token: &str, room: &str, now: u64) -> Result<Grant, TokenError> {
        let mut validation = Validation::new(Algorithm::HS256);
        // Checked below against `now`, not the library's reading of the clock.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|_| TokenError::Invalid)?
            .claims;
        if claims.nbf.is_some_and(|nbf| nbf > now) {
            return Err(TokenError::Invalid);
        }
        if claims.exp < now {
            return Err(TokenError::Expired);
        }
        if claims.room != room {
            return Err(TokenError::WrongRoom);
        }
        let link = LinkIdentity {
            jti: claims.jti,
            fixed_name: claims.name.clone(),
            issued_at: claims.iat,
        };
        Ok(Grant {
            role: claims.role.into(),
            name: claims.name,
            profile: claims.profile,
            link: Some(link),
        })
    }
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn tokens() -> Tokens {
        Tokens::new(SECRET)
    }

    #[test]
    fn a_minted_token_verifies_for_its_room_only() {
        let t = tokens();
        let token = t.mint("lobby", TokenRole::Host, Some("Anna"), now_secs() + 60);
        let grant = t.verify(&token, "lobby", now_secs()).expect("valid");
        assert_eq!(
            (grant.role, grant.name.as_deref()),
            (Role::Host, Some("Anna"))
        );
        assert_eq!(
            grant.link.and_then(|l| l.fixed_name).as_deref(),
            Some("Anna")
        );
        assert_eq!(
            t.verify(&token, "other", now_secs()),
            Err(TokenError::WrongRoom)
        );
    }

    #[test]
    fn expired_forged_and_unsigned_tokens_are_refused() {
        let t = tokens();
        let expired = t.mint("lobby", TokenRole::Host, None, now_secs() - 1);
        assert_eq!(
            t.verify(&expired, "lobby", now_secs()),
            Err(TokenError::Expired)
        );
        let forged = Tokens::new(b"another secret, also 32 bytes long").mint(
            "lobby",
            TokenRole::Host,
            None,
            now_secs() + 60,
        );
        assert_eq!(
            t.verify(&forged, "lobby", now_secs()),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            t.verify(&unsigned("lobby"), "lobby", now_secs()),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            t.verify("not a token", "lobby", now_secs()),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn expiry_and_not_before_are_judged_at_the_time_given() {
        let t = tokens();
        let token = t.mint_at("lobby", TokenRole::Participant, None, None, 900, 1_000);
        assert!(
            t.verify(&token, "lobby", 1_000).is_ok(),
            "good through its last second"
        );
        assert_eq!(t.verify(&token, "lobby", 1_001), Err(TokenError::Expired));
        let later = Claims {
            room: "lobby".into(),
            role: TokenRole::Participant,
            name: None,
            profile: None,
            exp: 5_000,
            iat: 900,
            jti: "n".into(),
            nbf: Some(2_000),
        };
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &later,
            &EncodingKey::from_secret(SECRET),
        )
        .expect("encoded");
        assert_eq!(t.verify(&token, "lobby", 1_999), Err(TokenError::Invalid));
        assert!(t.verify(&token, "lobby", 2_000).is_ok());
    }

    /// An `alg: none` token with host claims and no signature.
    pub(crate) fn unsigned(room: &str) -> String {
        use base64_url as b64;
        let header = b64::encode(r#"{"alg":"none","typ":"JWT"}"#);
        let claims = b64::encode(&format!(
            r#"{{"room":"{room}","role":"host","exp":{},"jti":"x"}}"#,
            now_secs() + 60
        ));
        format!("{header}.{claims}.")
    }

    mod base64_url {
        /// Base64url without padding, enough for a test token.
        pub(super) fn encode(text: &str) -> String {
            const ALPHABET: &[u8] =
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            let bytes = text.as_bytes();
            let mut out = String::new();
            for chunk in bytes.chunks(3) {
                let n = chunk.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b))
                    << (8 * (3 - chunk.len()));
                for i in 0..=chunk.len() {
                    out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
                }
            }
            out
        }
    }

    #[test]
    fn the_secret_is_created_once_and_kept() {
        let dir = std::env::temp_dir().join(format!("hallway-secret-{}", rand::random::<u64>()));
        let first = Tokens::load(None, &dir).expect("created");
        let token = first.mint("lobby", TokenRole::Participant, None, now_secs() + 60);
        let second = Tokens::load(None, &dir).expect("read back");
        assert!(second.verify(&token, "lobby", now_secs()).is_ok());
        assert!(matches!(
            Tokens::load(Some("short"), &dir),
            Err(SecretError::TooShort)
        ));
        let _ = std::fs::remove_dir_all(dir);
    }
}
