//! Host sign-in with OpenID Connect: an operator names an issuer, a client and a claim
//! whose value makes someone a host; a host opens `/r/<room>/host`, signs in at the
//! provider (authorization code flow with PKCE, `state` and `nonce`), and enters with a
//! host link minted for that room and the name the provider gives. Participants keep
//! entering as guests with links; nothing here touches them.
//!
//! What the browser carries between the two legs is one signed cookie, the
//! [`LoginState`] (room, `state`, `nonce`, PKCE verifier, language; ten minutes), so that
//! any node of a cluster can finish a sign-in another node started. It is removed when
//! the provider sends the browser back, whatever the outcome. The ID token is checked
//! here — signature against the provider's JWKS (asymmetric algorithms only), issuer,
//! audience, authorized party, expiry, `nonce` — and neither it nor the code is logged.

mod id_token;
mod provider;

pub(crate) use id_token::{display_name, is_host, verify_id_token};
pub(crate) use provider::Provider;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How long a browser may take at the provider.
pub(crate) const LOGIN_SECONDS: u64 = 10 * 60;
/// The cookie that carries the [`LoginState`].
pub(crate) const COOKIE: &str = "hallway_oidc";
/// Where the provider sends the browser back, under the public address.
pub(crate) const CALLBACK_PATH: &str = "/oidc/callback";

/// The operator's settings (`--oidc-*`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct OidcArgs {
    /// The provider's issuer URL (e.g. `https://id.example.org/realms/staff`); turns host
    /// sign-in at `/r/<room>/host` on. `https://`, or `http://` on loopback only.
    #[arg(long, env = "HALLWAY_OIDC_ISSUER", requires_all = ["oidc_client_id", "oidc_client_secret", "oidc_host_value"])]
    pub oidc_issuer: Option<String>,
    /// The client id registered at the provider (redirect URI:
    /// `<public URL>/oidc/callback`).
    #[arg(long, env = "HALLWAY_OIDC_CLIENT_ID")]
    pub oidc_client_id: Option<String>,
    /// The client's secret.
    #[arg(long, env = "HALLWAY_OIDC_CLIENT_SECRET", hide_env_values = true)]
    pub oidc_client_secret: Option<String>,
    /// The ID token claim that says who is a host: a string or a list of strings.
    #[arg(long, env = "HALLWAY_OIDC_HOST_CLAIM", default_value = "groups")]
    pub oidc_host_claim: String,
    /// The value of that claim (or one of its list's values) that makes someone a host.
    #[arg(long, env = "HALLWAY_OIDC_HOST_VALUE")]
    pub oidc_host_value: Option<String>,
    /// Scopes asked for, space-separated (`openid` is always among them).
    #[arg(long, env = "HALLWAY_OIDC_SCOPES", default_value = "openid profile")]
    pub oidc_scopes: String,
    /// How long the host link a sign-in gives stays valid, in hours (it lives only in
    /// that browser tab, for reloads).
    #[arg(long, env = "HALLWAY_OIDC_HOST_HOURS", default_value_t = 12,
          value_parser = clap::value_parser!(u64).range(1..=72))]
    pub oidc_host_hours: u64,
}

/// Why the OIDC settings cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OidcConfigError {
    /// The issuer is not an `https://` URL (or `http://` on loopback).
    #[error(
        "--oidc-issuer must be an https:// URL (http:// only for 127.0.0.1, [::1] or localhost): {0}"
    )]
    Issuer(String),
    /// Something the flow needs is empty.
    #[error("--oidc-{0} must not be empty")]
    Empty(&'static str),
}

/// Host sign-in, configured.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// The issuer, as the provider names itself (no trailing slash added or removed).
    pub issuer: String,
    /// The client id.
    pub client_id: String,
    client_secret: String,
    /// The claim that makes a host.
    pub host_claim: String,
    /// Its value.
    pub host_value: String,
    /// The scopes, `openid` first.
    pub scopes: String,
    /// Lifetime of the minted host link, seconds.
    pub host_seconds: u64,
}

impl OidcArgs {
    /// The settings, or `None` when no issuer is given.
    pub fn config(&self) -> Result<Option<OidcConfig>, OidcConfigError> {
        let Some(issuer) = self.oidc_issuer.as_deref().map(str::trim) else {
            return Ok(None);
        };
        if !issuer_allowed(issuer) {
            return Err(OidcConfigError::Issuer(issuer.to_owned()));
        }
        let nonempty = |value: &Option<String>, what| {
            value
                .as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .ok_or(OidcConfigError::Empty(what))
        };
        let mut scopes = vec!["openid"];
        scopes.extend(
            self.oidc_scopes
                .split_whitespace()
                .filter(|s| *s != "openid"),
        );
        let host_claim = self.oidc_host_claim.trim();
        if host_claim.is_empty() {
            return Err(OidcConfigError::Empty("host-claim"));
        }
        Ok(Some(OidcConfig {
            issuer: issuer.to_owned(),
            client_id: nonempty(&self.oidc_client_id, "client-id")?,
            client_secret: nonempty(&self.oidc_client_secret, "client-secret")?,
            host_claim: host_claim.to_owned(),
            host_value: nonempty(&self.oidc_host_value, "host-value")?,
            scopes: scopes.join(" "),
            host_seconds: self.oidc_host_hours * 3600,
        }))
    }
}

/// `https://…`, or `http://` to a loopback host (a provider on the same machine).
fn issuer_allowed(issuer: &str) -> bool {
    if let Some(rest) = issuer.strip_prefix("https://") {
        return !rest.is_empty();
    }
    let Some(rest) = issuer.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// What the browser carries from `/r/<room>/host` to the callback (signed, not secret
/// from its own browser).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginState {
    /// Marks the token as a login state, never a link.
    pub purpose: String,
    /// The room to enter.
    pub room: String,
    /// The `state` sent to the provider.
    pub state: String,
    /// The `nonce` the ID token must carry.
    pub nonce: String,
    /// The PKCE code verifier.
    pub verifier: String,
    /// `de` or `en`, for the pages on the way back.
    pub lang: String,
    /// Expiry, Unix seconds.
    pub exp: u64,
}

const PURPOSE: &str = "hallway-oidc-login";

/// 32 random bytes, base64url: a `state`, a `nonce` or a code verifier (43 characters).
fn random_text() -> String {
    let bytes: [u8; 32] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

impl LoginState {
    /// A fresh sign-in to `room`.
    pub fn new(room: &str, lang: &str, now: u64) -> LoginState {
        LoginState {
            purpose: PURPOSE.to_owned(),
            room: room.to_owned(),
            state: random_text(),
            nonce: random_text(),
            verifier: random_text(),
            lang: lang.to_owned(),
            exp: now + LOGIN_SECONDS,
        }
    }

    /// The PKCE challenge (S256) of the verifier.
    pub fn challenge(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(self.verifier.as_bytes()))
    }
}

/// Signs and checks [`LoginState`]s with a key derived from the server's secret (every
/// node of a cluster shares it), distinct from the key of links.
#[derive(Clone)]
pub struct LoginSeal {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl std::fmt::Debug for LoginSeal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LoginSeal(..)") // never the key
    }
}

impl LoginSeal {
    /// The seal for a server secret.
    pub fn new(secret: &[u8]) -> LoginSeal {
        let mut hasher = Sha256::new();
        hasher.update(b"hallway oidc login state\0");
        hasher.update(secret);
        let key = hasher.finalize();
        LoginSeal {
            encoding: EncodingKey::from_secret(&key),
            decoding: DecodingKey::from_secret(&key),
        }
    }

    /// The cookie's value.
    pub fn seal(&self, state: &LoginState) -> String {
        // HS256 over these claims cannot fail.
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), state, &self.encoding)
            .unwrap_or_default()
    }

    /// The state a cookie carries, if it is ours, unexpired and a login state.
    pub fn open(&self, cookie: &str) -> Option<LoginState> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.required_spec_claims = ["exp".to_owned()].into();
        let state = jsonwebtoken::decode::<LoginState>(cookie, &self.decoding, &validation)
            .ok()?
            .claims;
        (state.purpose == PURPOSE).then_some(state)
    }
}

/// Why a sign-in did not make someone a host.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignInError {
    /// The provider could not be reached, or answered with something unusable.
    #[error("the identity provider cannot be used: {0}")]
    Provider(String),
    /// The browser came back without the cookie, with another `state`, or too late.
    #[error("this sign-in was not started here, or took too long")]
    Stale,
    /// The provider says the person cancelled or was refused.
    #[error("the identity provider refused the sign-in: {0}")]
    Refused(String),
    /// The ID token's signature, issuer, audience, expiry or nonce is wrong.
    #[error("the identity provider's answer is not valid: {0}")]
    InvalidIdToken(String),
    /// Signed in, but not in the host group.
    #[error("the account is not a host's")]
    NotHost,
    /// Signed in as a host, but the provider gives no usable name.
    #[error("the identity provider gives no usable name")]
    NoName,
}

impl SignInError {
    /// A short code for logs and tests.
    pub fn code(&self) -> &'static str {
        match self {
            SignInError::Provider(_) => "provider_unavailable",
            SignInError::Stale => "stale",
            SignInError::Refused(_) => "refused",
            SignInError::InvalidIdToken(_) => "invalid_id_token",
            SignInError::NotHost => "not_host",
            SignInError::NoName => "no_name",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(issuer: &str) -> OidcArgs {
        OidcArgs {
            oidc_issuer: Some(issuer.to_owned()),
            oidc_client_id: Some("hallway".to_owned()),
            oidc_client_secret: Some("s3cret".to_owned()),
            oidc_host_claim: "groups".to_owned(),
            oidc_host_value: Some("hosts".to_owned()),
            oidc_scopes: "profile openid groups".to_owned(),
            oidc_host_hours: 12,
        }
    }

    #[test]
    fn issuers_must_be_https_or_loopback() {
        for ok in [
            "https://id.example.org/realms/a",
            "http://127.0.0.1:4593/api/oidc",
            "http://localhost:8080",
            "http://[::1]:9000/x",
        ] {
            assert!(args(ok).config().is_ok(), "{ok}");
        }
        for bad in [
            "http://id.example.org",
            "http://10.0.0.1/x",
            "ftp://x",
            "https://",
            "http://localhost.evil.org/",
        ] {
            assert!(
                matches!(args(bad).config(), Err(OidcConfigError::Issuer(_))),
                "{bad}"
            );
        }
        let config = args("https://id.example.org")
            .config()
            .expect("valid")
            .expect("configured");
        assert_eq!(config.scopes, "openid profile groups");
        let mut empty = args("https://id.example.org");
        empty.oidc_client_secret = Some(" ".to_owned());
        assert_eq!(
            empty.config().expect_err("empty secret"),
            OidcConfigError::Empty("client-secret")
        );
        assert!(OidcArgs::default().config().expect("valid").is_none());
    }

    #[test]
    fn login_states_are_sealed_and_typed() {
        let seal = LoginSeal::new(b"0123456789abcdef0123456789abcdef");
        let state = LoginState::new("demo", "de", crate::clock::now_secs());
        let cookie = seal.seal(&state);
        assert_eq!(seal.open(&cookie), Some(state.clone()));
        // Another secret, a changed byte, an expired state: none opens.
        assert!(
            LoginSeal::new(b"another secret of 32 characters!")
                .open(&cookie)
                .is_none()
        );
        let mut tampered = cookie.clone().into_bytes();
        let i = tampered.len() / 2;
        tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
        assert!(
            seal.open(&String::from_utf8(tampered).expect("ascii"))
                .is_none()
        );
        let old = LoginState {
            exp: 1,
            ..state.clone()
        };
        assert!(seal.open(&seal.seal(&old)).is_none());
        // A link token signed with the server's own key is not a login state.
        let tokens = crate::access::Tokens::new(b"0123456789abcdef0123456789abcdef");
        let link = tokens.mint("demo", crate::access::TokenRole::Host, None, u64::MAX / 2);
        assert!(seal.open(&link).is_none());
        // The verifier is 43 characters of base64url, its challenge S256.
        assert_eq!(state.verifier.len(), 43);
        assert_eq!(
            state.challenge(),
            URL_SAFE_NO_PAD.encode(Sha256::digest(state.verifier.as_bytes()))
        );
    }
}
