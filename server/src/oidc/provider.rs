//! The provider over HTTP: discovery, keys, the code exchange.

use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{LoginState, OidcConfig, SignInError, verify_id_token};

/// Largest answer taken from the provider (discovery, JWKS, token).
const MAX_ANSWER_BYTES: usize = 256 * 1024;
/// How long one request to the provider may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The discovery document and the keys are fetched again after this long.
const REFRESH_AFTER: Duration = Duration::from_secs(60 * 60);
/// An unknown key id fetches the keys again, at most this often (key rotation).
const REFETCH_KEYS_AFTER: Duration = Duration::from_secs(60);

/// What discovery says (the parts used).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Metadata {
    /// Must equal the configured issuer.
    pub issuer: String,
    /// Where the browser signs in.
    pub authorization_endpoint: String,
    /// Where the code is exchanged.
    pub token_endpoint: String,
    /// The signing keys.
    pub jwks_uri: String,
    /// How the client may authenticate at the token endpoint.
    #[serde(default)]
    pub token_endpoint_auth_methods_supported: Vec<String>,
}

#[derive(Debug)]
struct Known {
    metadata: Metadata,
    keys: JwkSet,
    fetched: Instant,
    keys_fetched: Instant,
}

/// The provider: its metadata and keys, fetched on first use and refreshed hourly (or
/// when a token names a key not yet seen).
#[derive(Debug)]
pub(crate) struct Provider {
    /// The settings.
    pub config: OidcConfig,
    http: reqwest::Client,
    known: tokio::sync::Mutex<Option<Known>>,
}

/// The answer of the token endpoint (the part used).
#[derive(Deserialize)]
struct TokenAnswer {
    id_token: Option<String>,
}

impl Provider {
    /// A provider for these settings (nothing is fetched yet).
    pub(crate) fn new(config: OidcConfig) -> Result<Provider, SignInError> {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("hallway/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| SignInError::Provider(err.to_string()))?;
        Ok(Provider {
            config,
            http,
            known: tokio::sync::Mutex::new(None),
        })
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, SignInError> {
        let response = self
            .http
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|err| SignInError::Provider(format!("{url}: {err}")))?;
        read_json(response, url).await
    }

    /// The metadata, fetched if missing or old.
    pub(crate) async fn metadata(&self) -> Result<Metadata, SignInError> {
        let mut known = self.known.lock().await;
        if let Some(k) = known
            .as_ref()
            .filter(|k| k.fetched.elapsed() < REFRESH_AFTER)
        {
            return Ok(k.metadata.clone());
        }
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.config.issuer.trim_end_matches('/')
        );
        let metadata: Metadata = self.get_json(&url).await?;
        if metadata.issuer != self.config.issuer {
            return Err(SignInError::Provider(format!(
                "discovery names the issuer {:?}, not {:?}",
                metadata.issuer, self.config.issuer
            )));
        }
        let keys: JwkSet = self.get_json(&metadata.jwks_uri).await?;
        *known = Some(Known {
            metadata: metadata.clone(),
            keys,
            fetched: Instant::now(),
            keys_fetched: Instant::now(),
        });
        Ok(metadata)
    }

    /// The keys; fetched again first when `kid` is not among them and they were not
    /// fetched in the last minute.
    async fn keys_for(&self, kid: Option<&str>) -> Result<JwkSet, SignInError> {
        self.metadata().await?;
        let mut known = self.known.lock().await;
        let Some(k) = known.as_mut() else {
            return Err(SignInError::Provider("no metadata".to_owned()));
        };
        let missing = kid.is_some_and(|kid| k.keys.find(kid).is_none());
        if missing && k.keys_fetched.elapsed() >= REFETCH_KEYS_AFTER {
            let uri = k.metadata.jwks_uri.clone();
            drop(known);
            let keys: JwkSet = self.get_json(&uri).await?;
            let mut known = self.known.lock().await;
            if let Some(k) = known.as_mut() {
                k.keys = keys.clone();
                k.keys_fetched = Instant::now();
            }
            return Ok(keys);
        }
        Ok(k.keys.clone())
    }

    /// The URL the browser is sent to, for this login and redirect URI.
    pub(crate) async fn authorization_url(
        &self,
        login: &LoginState,
        redirect_uri: &str,
    ) -> Result<String, SignInError> {
        let metadata = self.metadata().await?;
        let mut url = reqwest::Url::parse(&metadata.authorization_endpoint)
            .map_err(|err| SignInError::Provider(format!("authorization endpoint: {err}")))?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.config.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", &self.config.scopes)
            .append_pair("state", &login.state)
            .append_pair("nonce", &login.nonce)
            .append_pair("code_challenge", &login.challenge())
            .append_pair("code_challenge_method", "S256")
            .append_pair("ui_locales", &login.lang);
        Ok(url.into())
    }

    /// Exchanges the code (with the PKCE verifier) and checks the ID token; its claims.
    pub(crate) async fn finish(
        &self,
        login: &LoginState,
        code: &str,
        redirect_uri: &str,
    ) -> Result<Map<String, Value>, SignInError> {
        let metadata = self.metadata().await?;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", login.verifier.as_str()),
        ];
        let methods = &metadata.token_endpoint_auth_methods_supported;
        // Basic unless the provider lists only `client_secret_post` (RFC 8414: basic is
        // the default when nothing is listed).
        let post = !methods.is_empty()
            && !methods.iter().any(|m| m == "client_secret_basic")
            && methods.iter().any(|m| m == "client_secret_post");
        let mut request = self.http.post(&metadata.token_endpoint);
        if post {
            form.push(("client_id", &self.config.client_id));
            form.push(("client_secret", &self.config.client_secret));
        } else {
            // RFC 6749 2.3.1: both parts form-urlencoded before Basic.
            request = request.basic_auth(
                form_encode(&self.config.client_id),
                Some(form_encode(&self.config.client_secret)),
            );
        }
        let body = form
            .iter()
            .map(|(k, v)| format!("{k}={}", form_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let response = request
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(reqwest::header::ACCEPT, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|err| SignInError::Provider(format!("token endpoint: {err}")))?;
        let status = response.status();
        if status.is_client_error() {
            // The code was used, expired or not ours: the sign-in has to start again.
            return Err(SignInError::Refused(format!(
                "token endpoint answered {status}"
            )));
        }
        let answer: TokenAnswer = read_json(response, "token endpoint").await?;
        let id_token = answer
            .id_token
            .ok_or_else(|| SignInError::InvalidIdToken("no ID token".to_owned()))?;
        let kid = jsonwebtoken::decode_header(&id_token)
            .ok()
            .and_then(|h| h.kid);
        let keys = self.keys_for(kid.as_deref()).await?;
        verify_id_token(
            &id_token,
            &keys,
            &self.config.issuer,
            &self.config.client_id,
            &login.nonce,
        )
    }
}

/// `application/x-www-form-urlencoded` for one value.
fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// A JSON answer of at most [`MAX_ANSWER_BYTES`], from a 2xx response.
async fn read_json<T: serde::de::DeserializeOwned>(
    mut response: reqwest::Response,
    what: &str,
) -> Result<T, SignInError> {
    let status = response.status();
    if !status.is_success() {
        return Err(SignInError::Provider(format!("{what} answered {status}")));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|err| SignInError::Provider(format!("{what}: {err}")))?
    {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(SignInError::Provider(format!("{what}: answer too large")));
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body).map_err(|err| SignInError::Provider(format!("{what}: {err}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_values_are_encoded() {
        assert_eq!(form_encode("a b&c=d/é"), "a+b%26c%3Dd%2F%C3%A9");
    }
}
