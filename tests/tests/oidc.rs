//! Host sign-in at a real OpenID Connect provider (Debian's glewlwyd on loopback): a
//! member of the host group enters as a host with the provider's name; someone outside
//! it is refused; an ID token altered on its way is refused; a sign-in cannot be finished
//! without the browser's cookie, with another `state`, or twice with one code; and none
//! of it (code, `state`, ID token, host link, client secret) reaches the server's log.

use anyhow::{Result, bail};
use hallway::access::TokenRole;
use hallway_proto::{Role, ServerMessage};
use hallway_tests::glewlwyd::{
    ADA, BOB, CLIENT_ID, CLIENT_SECRET, Glewlwyd, HOST_GROUP, Person, location,
};
use hallway_tests::process::ServerProcess;
use hallway_tests::{TestClient, TestServer};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;

/// A provider and a server that uses it for host sign-in.
async fn setup() -> Result<(Glewlwyd, TestServer)> {
    let provider = Glewlwyd::start().await?;
    let issuer = provider.issuer();
    let server = TestServer::start_with(|c| {
        c.oidc.oidc_issuer = Some(issuer);
        c.oidc.oidc_client_id = Some(CLIENT_ID.to_owned());
        c.oidc.oidc_client_secret = Some(CLIENT_SECRET.to_owned());
        c.oidc.oidc_host_value = Some(HOST_GROUP.to_owned());
    })
    .await?;
    provider
        .add_client(&format!(
            "http://localhost:{}/oidc/callback",
            server.addr().port()
        ))
        .await?;
    Ok((provider, server))
}

fn client() -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

/// The cookie a response sets, as `name=value`.
fn cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("hallway_oidc="))
        .map(str::to_owned)
}

/// What `/r/lobby/host` on the server at `addr` starts: the provider's authorization URL
/// and the cookie.
async fn start_sign_in(addr: SocketAddr) -> Result<(String, String)> {
    let http = client()?;
    // Reached under 127.0.0.1, the server first moves the browser to its public address
    // (the redirect URI's), so that the cookie comes back with the provider's redirect.
    let first = http
        .get(format!("http://{addr}/r/lobby/host?lang=en"))
        .send()
        .await?;
    assert_eq!(first.status(), 303);
    let public = location(&first)?;
    assert_eq!(
        public,
        format!("http://localhost:{}/r/lobby/host?lang=en", addr.port())
    );
    assert!(cookie(&first).is_none());
    let start = http.get(&public).send().await?;
    assert_eq!(start.status(), 303);
    let set = cookie(&start).expect("the login state's cookie");
    for part in [
        "HttpOnly",
        "SameSite=Lax",
        "Path=/oidc/callback",
        "Max-Age=600",
    ] {
        assert!(set.contains(part), "{set} lacks {part}");
    }
    let authorization = location(&start)?;
    let url = reqwest::Url::parse(&authorization)?;
    let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["client_id"], CLIENT_ID);
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["code_challenge"].len(), 43);
    assert_eq!(query["state"].len(), 43);
    assert_eq!(query["nonce"].len(), 43);
    assert!(query["scope"].split(' ').any(|s| s == "openid"));
    assert_eq!(
        query["redirect_uri"],
        format!("http://localhost:{}/oidc/callback", addr.port())
    );
    let cookie = set.split(';').next().unwrap_or_default().to_owned();
    Ok((authorization, cookie))
}

/// Hallway's answer to the provider's redirect, with `cookie`.
async fn come_back(callback: &str, cookie: Option<&str>) -> Result<reqwest::Response> {
    let mut request = client()?
        .get(callback)
        .header(reqwest::header::ACCEPT_LANGUAGE, "en");
    if let Some(cookie) = cookie {
        request = request.header(reqwest::header::COOKIE, cookie);
    }
    Ok(request.send().await?)
}

/// A whole sign-in of `person`; Hallway's last answer.
async fn sign_in(
    provider: &Glewlwyd,
    server: &TestServer,
    person: Person,
) -> Result<reqwest::Response> {
    let (authorization, cookie) = start_sign_in(server.addr()).await?;
    let callback = provider.sign_in(&authorization, person).await?;
    if !callback.contains("code=") {
        bail!("the provider sent no code: {callback}");
    }
    come_back(&callback, Some(&cookie)).await
}

fn assert_cookie_removed(response: &reqwest::Response) {
    let set = cookie(response).expect("the cookie is removed");
    assert!(set.starts_with("hallway_oidc=;"), "{set}");
    assert!(set.contains("Max-Age=0"), "{set}");
}

#[tokio::test]
async fn a_member_of_the_host_group_enters_as_a_host_with_the_providers_name() -> Result<()> {
    let (provider, server) = setup().await?;
    // The join page learns that hosts can sign in.
    let about: serde_json::Value = client()?
        .get(server.http_url("/r/lobby/about"))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(about["host_sign_in"], true);
    let back = sign_in(&provider, &server, ADA).await?;
    assert_eq!(back.status(), 303);
    assert_cookie_removed(&back);
    let to = location(&back)?;
    let token = to
        .strip_prefix("/r/lobby#token=")
        .unwrap_or_else(|| panic!("sent to {to}"));
    // The link is a host link for this room, with the provider's name fixed.
    let grant = server
        .tokens()
        .verify(token, "lobby", hallway::clock::now_secs())
        .expect("a valid link");
    assert_eq!(grant.role, hallway::room::model::Role::Host);
    assert_eq!(grant.name.as_deref(), Some(ADA.name));
    let ada = TestClient::join_with_token(&server, "lobby", "Someone Else", token).await?;
    let Some(ServerMessage::Welcome {
        participants, you, ..
    }) = &ada.welcome
    else {
        bail!("no welcome")
    };
    let me = participants.iter().find(|p| p.id == *you).expect("me");
    assert_eq!(me.role, Role::Host);
    assert_eq!(me.name, ADA.name);
    // A guest with a plain participant link stays a participant.
    let guest = server.token("lobby", TokenRole::Participant, None);
    let guest = TestClient::join_with_token(&server, "lobby", "Gast", &guest).await?;
    let Some(ServerMessage::Welcome {
        participants, you, ..
    }) = &guest.welcome
    else {
        bail!("no welcome")
    };
    let me = participants.iter().find(|p| p.id == *you).expect("me");
    assert_eq!(me.role, Role::Participant);
    Ok(())
}

#[tokio::test]
async fn someone_outside_the_host_group_is_refused() -> Result<()> {
    let (provider, server) = setup().await?;
    let back = sign_in(&provider, &server, BOB).await?;
    assert_eq!(back.status(), 403);
    assert_cookie_removed(&back);
    assert!(back.headers().get(reqwest::header::LOCATION).is_none());
    let page = back.text().await?;
    assert!(page.contains("Not a host"), "{page}");
    assert!(
        page.contains("href=\"/r/lobby\""),
        "offers entering as a guest"
    );
    assert!(!page.contains("token="));
    Ok(())
}

#[tokio::test]
async fn an_id_token_altered_on_its_way_is_refused() -> Result<()> {
    let (provider, server) = setup().await?;
    // Bob's token is given the host group and another name; the signature is the
    // provider's, over the original claims.
    provider.tamper.store(true, Ordering::SeqCst);
    let back = sign_in(&provider, &server, BOB).await?;
    assert_eq!(back.status(), 502);
    assert_cookie_removed(&back);
    let page = back.text().await?;
    assert!(page.contains("could not be verified"), "{page}");
    assert!(!page.contains("token="));
    // Ada's, altered the same way, is refused too: nothing altered gets in.
    let back = sign_in(&provider, &server, ADA).await?;
    assert_eq!(back.status(), 502);
    // Untouched, Ada gets in.
    provider.tamper.store(false, Ordering::SeqCst);
    let back = sign_in(&provider, &server, ADA).await?;
    assert_eq!(back.status(), 303);
    Ok(())
}

#[tokio::test]
async fn a_sign_in_finishes_only_in_its_browser_with_its_state_and_once() -> Result<()> {
    let (provider, server) = setup().await?;
    let (authorization, cookie) = start_sign_in(server.addr()).await?;
    let callback = provider.sign_in(&authorization, ADA).await?;
    // Without the cookie (another browser), or with another state: refused.
    let no_cookie = come_back(&callback, None).await?;
    assert_eq!(no_cookie.status(), 400);
    assert!(no_cookie.text().await?.contains("Sign-in expired"));
    let url = reqwest::Url::parse(&callback)?;
    let mut other = url.clone();
    other
        .query_pairs_mut()
        .clear()
        .extend_pairs(url.query_pairs().map(|(k, v)| {
            let v = if k == "state" {
                "forged-state".into()
            } else {
                v
            };
            (k, v)
        }));
    assert_eq!(
        come_back(other.as_str(), Some(&cookie)).await?.status(),
        400
    );
    // With both, it works once; the same code again is refused by the provider.
    assert_eq!(come_back(&callback, Some(&cookie)).await?.status(), 303);
    let again = come_back(&callback, Some(&cookie)).await?;
    assert_eq!(again.status(), 403);
    assert!(again.text().await?.contains("Sign-in cancelled"));
    // The provider's own refusal (the person cancelled) is shown as such.
    let state = url
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let cancelled = format!(
        "http://localhost:{}/oidc/callback?error=access_denied&state={state}",
        server.addr().port()
    );
    let cancelled = come_back(&cancelled, Some(&cookie)).await?;
    assert_eq!(cancelled.status(), 403);
    Ok(())
}

#[tokio::test]
async fn without_a_provider_the_host_address_says_so() -> Result<()> {
    let server = TestServer::start().await?;
    let response = client()?
        .get(server.http_url("/r/lobby/host?lang=de"))
        .send()
        .await?;
    assert_eq!(response.status(), 404);
    let page = response.text().await?;
    assert!(page.contains("Anmeldung nicht eingerichtet"), "{page}");
    assert!(page.contains("<html lang=\"de\">"));
    Ok(())
}

/// The value of `name` in the query of `url`.
fn query_value(url: &str, name: &str) -> Result<String> {
    reqwest::Url::parse(url)?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .ok_or_else(|| anyhow::anyhow!("no {name} in {url}"))
}

/// The binary with its own debug messages on, against the provider: a host signs in, then
/// someone outside the host group, then a host with an altered ID token. Its log holds none
/// of what was on the wire: codes, `state`s, nonces, login cookies, ID tokens (or any of
/// their parts), the host link, the client's secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_leaves_no_code_state_token_or_secret_in_the_log() -> Result<()> {
    let provider = Glewlwyd::start().await?;
    let issuer = provider.issuer();
    let log_path = std::env::temp_dir().join(format!(
        "hallway-log-{}.txt",
        hallway_tests::process::rand_suffix()
    ));
    let server = ServerProcess::start_with_log(
        &[],
        &[
            ("HALLWAY_LOG", "info,hallway=debug"),
            ("HALLWAY_OIDC_ISSUER", issuer.as_str()),
            ("HALLWAY_OIDC_CLIENT_ID", CLIENT_ID),
            ("HALLWAY_OIDC_CLIENT_SECRET", CLIENT_SECRET),
            ("HALLWAY_OIDC_HOST_VALUE", HOST_GROUP),
        ],
        std::fs::File::create(&log_path)?,
    )?;
    provider
        .add_client(&format!(
            "http://localhost:{}/oidc/callback",
            server.addr.port()
        ))
        .await?;

    let mut secrets = vec![CLIENT_SECRET.to_owned()];
    for (person, tamper, status) in [(ADA, false, 303), (BOB, false, 403), (ADA, true, 502)] {
        provider.tamper.store(tamper, Ordering::SeqCst);
        let (authorization, cookie) = start_sign_in(server.addr).await?;
        let callback = provider.sign_in(&authorization, person).await?;
        let back = come_back(&callback, Some(&cookie)).await?;
        assert_eq!(back.status(), status, "{}, altered: {tamper}", person.name);
        secrets.push(query_value(&callback, "code")?);
        secrets.push(query_value(&callback, "state")?);
        secrets.push(query_value(&authorization, "nonce")?);
        secrets.push(cookie.trim_start_matches("hallway_oidc=").to_owned());
        if status == 303 {
            let to = location(&back)?;
            let token = to
                .strip_prefix("/r/lobby#token=")
                .unwrap_or_else(|| panic!("sent to {to}"));
            // The link works (and its use is logged too).
            TestClient::join_at(server.addr, "lobby", "Someone Else", Some(token)).await?;
            secrets.push(token.to_owned());
        }
    }
    let id_tokens = provider.id_tokens();
    assert_eq!(id_tokens.len(), 3, "one ID token per sign-in");
    for token in &id_tokens {
        secrets.push(token.clone());
        // Header, payload and signature apart: a log line might hold one of them.
        secrets.extend(token.split('.').map(str::to_owned));
    }
    server.terminate()?;

    let text = std::fs::read_to_string(&log_path)?;
    // The log did record the three sign-ins, so it is the right log to search.
    for said in [
        "a host signed in at the identity provider",
        "host sign-in refused",
        "host sign-in failed",
    ] {
        assert!(text.contains(said), "the log lacks {said:?}:\n{text}");
    }
    for secret in &secrets {
        // Nothing empty or short, which would be found anywhere (or nowhere for nothing).
        assert!(secret.len() >= 20, "{secret:?} is too short to search for");
        assert!(
            !text.contains(secret.as_str()),
            "the log contains {secret:?}:\n{text}"
        );
    }
    let _ = std::fs::remove_file(&log_path);
    Ok(())
}
