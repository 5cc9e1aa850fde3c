//! Checking an ID token, and reading a host and a name from its claims.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use super::SignInError;

/// Clock difference tolerated between the provider and this server.
const LEEWAY_SECONDS: u64 = 60;
/// ID token algorithms taken: asymmetric only (`none` and HMAC never).
const ALGORITHMS: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// Why an ID token is refused; its text is the reason in [`SignInError::InvalidIdToken`]
/// (logged, so it never holds the token or a claim's value).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum IdTokenFault {
    /// Not a JWT: not three base64url parts, or a header or payload that is not JSON.
    #[error("malformed")]
    Malformed,
    /// `none`, HMAC (which a published key would verify), or an algorithm unknown here.
    #[error("algorithm not accepted")]
    Algorithm,
    /// No key in the provider's set has the token's `kid`.
    #[error("unknown key")]
    UnknownKey,
    /// No key in the set fits the algorithm (or none could be read).
    #[error("unusable key")]
    UnusableKey,
    /// The signature is not the provider's over these bytes.
    #[error("signature")]
    Signature,
    /// `iss` is not the configured issuer.
    #[error("issuer")]
    Issuer,
    /// `aud` does not name this client.
    #[error("audience")]
    Audience,
    /// Several audiences, and `azp` is not this client.
    #[error("authorized party")]
    AuthorizedParty,
    /// `exp` has passed (beyond the leeway).
    #[error("expired")]
    Expired,
    /// `nonce` is not the one this sign-in sent.
    #[error("nonce")]
    Nonce,
    /// A claim that must be there is not (`exp`, `iss`, `aud`, `sub`), or has the wrong type.
    #[error("claim {0}")]
    Claim(String),
    /// Anything else the JWT library refuses.
    #[error("{0}")]
    Other(String),
}

impl From<jsonwebtoken::errors::Error> for IdTokenFault {
    fn from(err: jsonwebtoken::errors::Error) -> IdTokenFault {
        use jsonwebtoken::errors::ErrorKind;
        match err.into_kind() {
            ErrorKind::InvalidToken
            | ErrorKind::Base64(_)
            | ErrorKind::Json(_)
            | ErrorKind::Utf8(_) => IdTokenFault::Malformed,
            ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
                IdTokenFault::Algorithm
            }
            ErrorKind::InvalidSignature => IdTokenFault::Signature,
            ErrorKind::InvalidIssuer => IdTokenFault::Issuer,
            ErrorKind::InvalidAudience => IdTokenFault::Audience,
            ErrorKind::ExpiredSignature => IdTokenFault::Expired,
            ErrorKind::MissingRequiredClaim(claim) | ErrorKind::InvalidClaimFormat(claim) => {
                IdTokenFault::Claim(claim)
            }
            other => IdTokenFault::Other(format!("{other:?}")),
        }
    }
}

/// Checks an ID token: an asymmetric algorithm, a key from `keys` (by `kid`, or the only
/// one that fits, and whose own `alg`, if it names one, is the token's), the signature,
/// `iss`, `aud` (and `azp` when there are several audiences, or when it is there at all),
/// `exp`, `nonce`. Returns its claims.
pub(crate) fn verify_id_token(
    token: &str,
    keys: &JwkSet,
    issuer: &str,
    client_id: &str,
    nonce: &str,
) -> Result<Map<String, Value>, SignInError> {
    check(token, keys, issuer, client_id, nonce)
        .map_err(|fault| SignInError::InvalidIdToken(fault.to_string()))
}

fn check(
    token: &str,
    keys: &JwkSet,
    issuer: &str,
    client_id: &str,
    nonce: &str,
) -> Result<Map<String, Value>, IdTokenFault> {
    let header = match jsonwebtoken::decode_header(token) {
        Ok(header) => header,
        // `none` is no algorithm the library knows: say so rather than "malformed".
        Err(err)
            if matches!(err.kind(), jsonwebtoken::errors::ErrorKind::Json(_))
                && names_unknown_algorithm(token) =>
        {
            return Err(IdTokenFault::Algorithm);
        }
        Err(err) => return Err(err.into()),
    };
    if !ALGORITHMS.contains(&header.alg) {
        return Err(IdTokenFault::Algorithm);
    }
    // By `kid`; without one, each key in turn (a provider with one key often omits it).
    let candidates: Vec<_> = match &header.kid {
        Some(kid) => keys.find(kid).into_iter().collect(),
        None => keys.keys.iter().collect(),
    };
    if candidates.is_empty() {
        return Err(IdTokenFault::UnknownKey);
    }
    let mut validation = Validation::new(header.alg);
    validation.leeway = LEEWAY_SECONDS;
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[client_id]);
    validation.required_spec_claims = ["exp", "iss", "aud", "sub"]
        .iter()
        .map(|c| (*c).to_owned())
        .collect();
    let mut outcome = Err(IdTokenFault::UnusableKey);
    for jwk in candidates {
        // A key published for one algorithm verifies that one only (an RS256 key does not
        // take a PS256 signature); a key's algorithm unknown here fits nothing.
        if jwk
            .common
            .key_algorithm
            .is_some_and(|meant| meant.to_string().parse::<Algorithm>().ok() != Some(header.alg))
        {
            continue;
        }
        let Ok(key) = DecodingKey::from_jwk(jwk) else {
            continue;
        };
        outcome = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
            .map(|data| data.claims)
            .map_err(IdTokenFault::from);
        if outcome.is_ok() {
            break;
        }
    }
    let claims = outcome?;
    if claims.get("nonce").and_then(Value::as_str) != Some(nonce) {
        return Err(IdTokenFault::Nonce);
    }
    if let Some(Value::Array(audiences)) = claims.get("aud") {
        if audiences.len() > 1 && claims.get("azp").and_then(Value::as_str) != Some(client_id) {
            return Err(IdTokenFault::AuthorizedParty);
        }
    }
    // An `azp` names the party the token was issued to: this client, whatever `aud` says.
    if claims
        .get("azp")
        .is_some_and(|azp| azp.as_str() != Some(client_id))
    {
        return Err(IdTokenFault::AuthorizedParty);
    }
    Ok(claims)
}

/// Whether the token's header is JSON whose `alg` is a string the library does not know
/// (`none`, most of all).
fn names_unknown_algorithm(token: &str) -> bool {
    let header = token.split('.').next().unwrap_or_default();
    URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .and_then(|json| json.get("alg")?.as_str().map(str::to_owned))
        .is_some_and(|alg| alg.parse::<Algorithm>().is_err())
}

/// Whether the claims make a host: `claim` is `value`, or a list holding it.
pub(crate) fn is_host(claims: &Map<String, Value>, claim: &str, value: &str) -> bool {
    match claims.get(claim) {
        Some(Value::String(one)) => one == value,
        Some(Value::Array(many)) => many.iter().any(|v| v.as_str() == Some(value)),
        _ => false,
    }
}

/// The display name: `name`, else `given_name family_name`, else `preferred_username`,
/// whichever first passes the rules of names.
pub(crate) fn display_name(claims: &Map<String, Value>) -> Option<String> {
    let text = |key: &str| claims.get(key).and_then(Value::as_str).map(str::trim);
    let given = [text("given_name"), text("family_name")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    [
        text("name").map(str::to_owned),
        Some(given),
        text("preferred_username").map(str::to_owned),
    ]
    .into_iter()
    .flatten()
    .find_map(|candidate| {
        crate::room::model::DisplayName::parse(&candidate)
            .ok()
            .map(|n| n.as_str().to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::jwk::Jwk;
    use jsonwebtoken::{EncodingKey, Header};
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::pkcs8::{EncodePublicKey, LineEnding};
    use serde_json::json;
    use std::sync::OnceLock;

    const ISSUER: &str = "https://id.example.org/realms/staff";
    const CLIENT: &str = "hallway";
    const NONCE: &str = "n-0S6_WzA2Mj";
    const KID: &str = "provider-key-1";

    /// An RSA key made here: its signing key, its public key as PEM, its JWK with `kid`.
    struct Key {
        signing: EncodingKey,
        public_pem: String,
        jwk: Jwk,
    }

    fn make_key(kid: &str) -> Key {
        let private =
            rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("an RSA key");
        let der = private.to_pkcs1_der().expect("PKCS#1 DER");
        let signing = EncodingKey::from_rsa_der(der.as_bytes());
        let mut jwk = Jwk::from_encoding_key(&signing, Algorithm::RS256).expect("a JWK");
        jwk.common.key_id = Some(kid.to_owned());
        let public_pem = private
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .expect("PEM");
        Key {
            signing,
            public_pem,
            jwk,
        }
    }

    /// The provider's key (its set has only this one), and another key with the same `kid`.
    fn keys() -> &'static (Key, Key) {
        static KEYS: OnceLock<(Key, Key)> = OnceLock::new();
        KEYS.get_or_init(|| (make_key(KID), make_key(KID)))
    }

    fn provider_set() -> JwkSet {
        JwkSet {
            keys: vec![keys().0.jwk.clone()],
        }
    }

    /// What a provider would sign for this client, changed by `change`.
    fn claims(change: impl FnOnce(&mut Value)) -> Value {
        let now = crate::clock::now_secs();
        let mut claims = json!({
            "iss": ISSUER,
            "aud": CLIENT,
            "sub": "248289761001",
            "iat": now,
            "exp": now + 300,
            "nonce": NONCE,
            "name": "Ada Lovelace",
            "groups": ["staff", "hallway-hosts"],
        });
        change(&mut claims);
        claims
    }

    /// Claims for this client and another, `azp` as given.
    fn claims_with_audiences(azp: Option<&str>) -> Value {
        claims(|c| {
            c["aud"] = json!([CLIENT, "another-client"]);
            if let Some(azp) = azp {
                c["azp"] = json!(azp);
            }
        })
    }

    fn rs256(key: &Key, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(KID.to_owned());
        jsonwebtoken::encode(&header, claims, &key.signing).expect("signed")
    }

    /// The verdict on `token`, with the provider's keys and this sign-in's nonce.
    fn verify(token: &str) -> Result<Map<String, Value>, SignInError> {
        verify_id_token(token, &provider_set(), ISSUER, CLIENT, NONCE)
    }

    fn assert_refused(token: &str, fault: IdTokenFault) {
        assert_eq!(
            verify(token).map(|_| ()),
            Err(SignInError::InvalidIdToken(fault.to_string())),
            "{fault:?}"
        );
    }

    #[test]
    fn a_token_signed_by_the_provider_for_this_sign_in_is_taken() {
        let token = rs256(&keys().0, &claims(|_| {}));
        let taken = verify(&token).expect("accepted");
        assert_eq!(taken["sub"], "248289761001");
        // Several audiences with this client as the authorized party; no `kid` (the set's
        // only key is tried).
        let several = claims_with_audiences(Some(CLIENT));
        let token =
            jsonwebtoken::encode(&Header::new(Algorithm::RS256), &several, &keys().0.signing)
                .expect("signed");
        assert!(verify(&token).is_ok());
        // One audience and this client as the authorized party.
        let token = rs256(&keys().0, &claims(|c| c["azp"] = json!(CLIENT)));
        assert!(verify(&token).is_ok());
    }

    #[test]
    fn wrong_claims_are_refused_though_the_signature_is_good() {
        let (provider, _) = keys();
        let cases = [
            (
                claims(|c| c["nonce"] = json!("another sign-in's nonce")),
                IdTokenFault::Nonce,
            ),
            (claims(|c| c["nonce"] = Value::Null), IdTokenFault::Nonce),
            (
                claims(|c| c["iss"] = json!("https://id.example.org/realms/other")),
                IdTokenFault::Issuer,
            ),
            (
                claims(|c| c["aud"] = json!("another-client")),
                IdTokenFault::Audience,
            ),
            (claims_with_audiences(None), IdTokenFault::AuthorizedParty),
            (
                claims_with_audiences(Some("another-client")),
                IdTokenFault::AuthorizedParty,
            ),
            // One audience, but issued to another party.
            (
                claims(|c| c["azp"] = json!("another-client")),
                IdTokenFault::AuthorizedParty,
            ),
            // Expired beyond the minute of leeway.
            (
                claims(|c| c["exp"] = json!(crate::clock::now_secs() - LEEWAY_SECONDS - 60)),
                IdTokenFault::Expired,
            ),
        ];
        for (claims, fault) in cases {
            assert_refused(&rs256(provider, &claims), fault);
        }
    }

    #[test]
    fn tokens_not_signed_by_the_providers_key_are_refused() {
        let (provider, other) = keys();
        let body = claims(|_| {});
        let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
        // `alg: none`, with and without a signature part.
        let none = format!(
            "{}.{}.",
            b64(&json!({"alg": "none", "typ": "JWT"})),
            b64(&body)
        );
        assert_refused(&none, IdTokenFault::Algorithm);
        assert_refused(none.trim_end_matches('.'), IdTokenFault::Malformed);
        // HS256 keyed with the provider's public key, as PEM and as the JWK's modulus: a
        // verifier that let the token pick the algorithm would take these.
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(KID.to_owned());
        let jsonwebtoken::jwk::AlgorithmParameters::RSA(rsa) = &provider.jwk.algorithm else {
            panic!("an RSA JWK");
        };
        for secret in [provider.public_pem.as_bytes(), rsa.n.as_bytes()] {
            let hs256 = jsonwebtoken::encode(&header, &body, &EncodingKey::from_secret(secret))
                .expect("signed");
            assert_refused(&hs256, IdTokenFault::Algorithm);
        }
        // Signed by another RSA key, under the provider's `kid`.
        assert_refused(&rs256(other, &body), IdTokenFault::Signature);
        // The provider's signature over other claims (the test provider's tampering).
        let good = rs256(provider, &body);
        let head = good.split('.').next().unwrap_or_default();
        let signature = good.rsplit('.').next().unwrap_or_default();
        let forged = format!(
            "{head}.{}.{signature}",
            b64(&claims(|c| c["groups"] = json!(["hosts"])))
        );
        assert_refused(&forged, IdTokenFault::Signature);
        // The provider's key, published for RS256, does not take a PS256 signature.
        assert_eq!(
            format!("{:?}", provider.jwk.common.key_algorithm),
            "Some(RS256)"
        );
        let mut header = Header::new(Algorithm::PS256);
        header.kid = Some(KID.to_owned());
        let ps256 = jsonwebtoken::encode(&header, &body, &provider.signing).expect("signed");
        assert_refused(&ps256, IdTokenFault::UnusableKey);
        // A `kid` the set does not have.
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("rotated-away".to_owned());
        let unknown = jsonwebtoken::encode(&header, &body, &provider.signing).expect("signed");
        assert_refused(&unknown, IdTokenFault::UnknownKey);
    }

    #[test]
    fn hosts_and_names_come_from_claims() {
        let claims = |v: Value| v.as_object().cloned().expect("an object");
        let c =
            claims(serde_json::json!({"groups": ["staff", "hosts"], "name": "  Ada Lovelace "}));
        assert!(is_host(&c, "groups", "hosts"));
        assert!(!is_host(&c, "groups", "host"));
        assert!(is_host(
            &claims(serde_json::json!({"role": "hosts"})),
            "role",
            "hosts"
        ));
        assert!(!is_host(
            &claims(serde_json::json!({"groups": "staff"})),
            "groups",
            "hosts"
        ));
        assert_eq!(display_name(&c).as_deref(), Some("Ada Lovelace"));
        let parts = claims(
            serde_json::json!({"name": "\u{202e}", "given_name": "Grace", "family_name": "Hopper"}),
        );
        assert_eq!(display_name(&parts).as_deref(), Some("Grace Hopper"));
        let user = claims(serde_json::json!({"preferred_username": "ada"}));
        assert_eq!(display_name(&user).as_deref(), Some("ada"));
        assert_eq!(display_name(&claims(serde_json::json!({}))), None);
    }
}
