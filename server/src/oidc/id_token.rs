//! Checking an ID token, and reading a host and a name from its claims.

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

/// Checks an ID token: an asymmetric algorithm, a key from `keys` (by `kid`, or the only
/// one that fits), the signature, `iss`, `aud` (and `azp` when there are several
/// audiences), `exp`, `nonce`. Returns its claims.
pub fn verify_id_token(
    token: &str,
    keys: &JwkSet,
    issuer: &str,
    client_id: &str,
    nonce: &str,
) -> Result<Map<String, Value>, SignInError> {
    let invalid = |why: &str| SignInError::InvalidIdToken(why.to_owned());
    let header = jsonwebtoken::decode_header(token).map_err(|_| invalid("malformed"))?;
    if !ALGORITHMS.contains(&header.alg) {
        return Err(invalid("algorithm not accepted"));
    }
    // By `kid`; without one, each key in turn (a provider with one key often omits it).
    let candidates: Vec<_> = match &header.kid {
        Some(kid) => keys.find(kid).into_iter().collect(),
        None => keys.keys.iter().collect(),
    };
    if candidates.is_empty() {
        return Err(invalid("unknown key"));
    }
    let mut validation = Validation::new(header.alg);
    validation.leeway = LEEWAY_SECONDS;
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[client_id]);
    validation.required_spec_claims = ["exp", "iss", "aud", "sub"]
        .iter()
        .map(|c| (*c).to_owned())
        .collect();
    let mut outcome = Err(invalid("unusable key"));
    for jwk in candidates {
        let Ok(key) = DecodingKey::from_jwk(jwk) else {
            continue;
        };
        outcome = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
            .map(|data| data.claims)
            .map_err(|err| invalid(&format!("{:?}", err.kind())));
        if outcome.is_ok() {
            break;
        }
    }
    let claims = outcome?;
    if claims.get("nonce").and_then(Value::as_str) != Some(nonce) {
        return Err(invalid("nonce"));
    }
    if let Some(Value::Array(audiences)) = claims.get("aud") {
        if audiences.len() > 1 && claims.get("azp").and_then(Value::as_str) != Some(client_id) {
            return Err(invalid("authorized party"));
        }
    }
    Ok(claims)
}

/// Whether the claims make a host: `claim` is `value`, or a list holding it.
pub fn is_host(claims: &Map<String, Value>, claim: &str, value: &str) -> bool {
    match claims.get(claim) {
        Some(Value::String(one)) => one == value,
        Some(Value::Array(many)) => many.iter().any(|v| v.as_str() == Some(value)),
        _ => false,
    }
}

/// The display name: `name`, else `given_name family_name`, else `preferred_username`,
/// whichever first passes the rules of names.
pub fn display_name(claims: &Map<String, Value>) -> Option<String> {
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
