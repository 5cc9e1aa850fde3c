//! `/r/<room>/host` and `/oidc/callback`: host sign-in at the operator's identity
//! provider (see `crate::oidc`). The first sends the browser to the provider with a
//! sealed login state in a short-lived cookie; the second checks what comes back and
//! sends a host into the room with a host link in the fragment — or shows, in German or
//! English, why not. The cookie is removed on the way back, whatever the outcome.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::room_page::{RoomPages, not_found_page};
use super::statement::{accept_language, esc, html};
use crate::access::{TokenRole, Tokens};
use crate::clock::now_secs;
use crate::oidc::{
    CALLBACK_PATH, COOKIE, LOGIN_SECONDS, LoginState, Provider, SignInError, display_name, is_host,
};
use crate::statement::Lang;

/// What the sign-in routes share.
#[derive(Debug, Clone)]
pub(crate) struct OidcPages {
    /// The provider, when host sign-in is configured.
    pub provider: Option<Arc<Provider>>,
    /// Mints the host link and seals the login state.
    pub tokens: Tokens,
    /// Which rooms exist.
    pub rooms: RoomPages,
    /// The public address (`--public-url`, or the default), without a trailing slash.
    pub public_base: String,
}

impl OidcPages {
    fn redirect_uri(&self) -> String {
        format!("{}{CALLBACK_PATH}", self.public_base)
    }

    fn secure(&self) -> bool {
        self.public_base.starts_with("https://")
    }

    /// `Set-Cookie` for the login state (empty value and `Max-Age=0` removes it).
    fn cookie(&self, value: &str, max_age: u64) -> HeaderValue {
        let secure = if self.secure() { "; Secure" } else { "" };
        // Lax: the provider's redirect back is a top-level GET from another site.
        let text = format!(
            "{COOKIE}={value}; Path={CALLBACK_PATH}; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"
        );
        // A sealed state is base64url and dots; nothing else goes in.
        HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
    }
}

/// `?lang=`.
#[derive(Debug, Deserialize)]
pub(crate) struct LangQuery {
    lang: Option<String>,
}

/// What the provider sends back.
#[derive(Debug, Deserialize)]
pub(crate) struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

fn language(query: Option<&str>, headers: &HeaderMap) -> Lang {
    query
        .and_then(Lang::from_code)
        .unwrap_or_else(|| Lang::preferred(accept_language(headers)))
}

/// The `host:port` of an absolute URL.
fn authority(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    Some(rest.split('/').next().unwrap_or(rest))
}

/// `GET /r/<room>/host`.
pub(crate) async fn start(
    State(pages): State<OidcPages>,
    Path(slug): Path<String>,
    Query(query): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = language(query.lang.as_deref(), &headers);
    let Some(provider) = pages.provider.clone() else {
        return problem(StatusCode::NOT_FOUND, lang, Problem::NotConfigured, None);
    };
    match pages.rooms.find(&slug).await {
        Ok(Some(_)) => {}
        Ok(None) => return not_found_page(&slug),
        Err(err) => {
            tracing::warn!(%err, "cannot read the room store");
            return problem(StatusCode::SERVICE_UNAVAILABLE, lang, Problem::Busy, None);
        }
    }
    // The cookie must come back with the provider's redirect: start on the address the
    // redirect URI names.
    let own = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let public = authority(&pages.public_base);
    if public.is_some()
        && !own
            .zip(public)
            .is_some_and(|(a, b)| a.eq_ignore_ascii_case(b))
    {
        return see_other(&format!(
            "{}/r/{slug}/host?lang={}",
            pages.public_base,
            lang.code()
        ));
    }
    let login = LoginState::new(&slug, lang.code(), now_secs());
    match provider
        .authorization_url(&login, &pages.redirect_uri())
        .await
    {
        Ok(url) => {
            let mut response = see_other(&url);
            let cookie = pages.cookie(&pages.tokens.login_seal().seal(&login), LOGIN_SECONDS);
            response.headers_mut().insert(header::SET_COOKIE, cookie);
            response
        }
        Err(err) => {
            tracing::warn!(error = %err, "host sign-in: the identity provider cannot be used");
            problem(
                StatusCode::BAD_GATEWAY,
                lang,
                Problem::SignIn(err),
                Some(&slug),
            )
        }
    }
}

/// `GET /oidc/callback`.
pub(crate) async fn callback(
    State(pages): State<OidcPages>,
    Query(query): Query<CallbackQuery>,
    headers: HeaderMap,
) -> Response {
    let login = cookie_value(&headers, COOKIE).and_then(|c| pages.tokens.login_seal().open(c));
    let lang = language(login.as_ref().map(|l| l.lang.as_str()), &headers);
    let room = login.as_ref().map(|l| l.room.clone());
    let mut response = match finish(&pages, login, query).await {
        Ok((room, token)) => {
            tracing::info!(room, "a host signed in at the identity provider");
            // The fragment never reaches a server or a Referer; the page takes it out of
            // the address bar at once.
            see_other(&format!("/r/{room}#token={token}"))
        }
        Err(err) => {
            let status = match &err {
                SignInError::Provider(_) | SignInError::InvalidIdToken(_) => {
                    tracing::warn!(room, error = %err, "host sign-in failed");
                    StatusCode::BAD_GATEWAY
                }
                SignInError::Stale => StatusCode::BAD_REQUEST,
                SignInError::Refused(_) | SignInError::NotHost | SignInError::NoName => {
                    tracing::info!(room, reason = err.code(), "host sign-in refused");
                    StatusCode::FORBIDDEN
                }
            };
            problem(status, lang, Problem::SignIn(err), room.as_deref())
        }
    };
    response
        .headers_mut()
        .append(header::SET_COOKIE, pages.cookie("", 0));
    response
}

/// Checks what came back; the room and a host link for it.
async fn finish(
    pages: &OidcPages,
    login: Option<LoginState>,
    query: CallbackQuery,
) -> Result<(String, String), SignInError> {
    let provider = pages
        .provider
        .as_ref()
        .ok_or_else(|| SignInError::Provider("host sign-in is not configured".to_owned()))?;
    let login = login.ok_or(SignInError::Stale)?;
    if query.state.as_deref() != Some(login.state.as_str()) {
        return Err(SignInError::Stale);
    }
    if let Some(error) = query.error {
        // The provider's error code only (its description is free text from elsewhere).
        let code: String = error
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(64)
            .collect();
        return Err(SignInError::Refused(code));
    }
    let code = query
        .code
        .ok_or_else(|| SignInError::Refused("no code".to_owned()))?;
    let claims = provider
        .finish(&login, &code, &pages.redirect_uri())
        .await?;
    let config = &provider.config;
    if !is_host(&claims, &config.host_claim, &config.host_value) {
        return Err(SignInError::NotHost);
    }
    let name = display_name(&claims).ok_or(SignInError::NoName)?;
    let token = pages.tokens.mint(
        &login.room,
        TokenRole::Host,
        Some(&name),
        now_secs() + config.host_seconds,
    );
    Ok((login.room, token))
}

/// The value of cookie `name`, if the request has it.
fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// A redirect that no cache keeps and that tells the next site nothing.
fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(location) {
        headers.insert(header::LOCATION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// What a problem page says.
#[derive(Debug)]
enum Problem {
    NotConfigured,
    Busy,
    SignIn(SignInError),
}

/// The page that says why someone was not signed in, and what they can do.
fn problem(status: StatusCode, lang: Lang, problem: Problem, room: Option<&str>) -> Response {
    let de = lang == Lang::De;
    let pick = |de_text: &'static str, en_text: &'static str| if de { de_text } else { en_text };
    let (heading, text) = match &problem {
        Problem::NotConfigured => (
            pick("Anmeldung nicht eingerichtet", "Sign-in not set up"),
            pick(
                "Auf diesem Server ist die Anmeldung für Gastgebende nicht eingerichtet. Bitte fragen Sie das Gastgeberteam nach einem Link für Gastgebende.",
                "Host sign-in is not set up on this server. Please ask the hosts for a host link.",
            ),
        ),
        Problem::Busy => (
            pick("Gerade nicht möglich", "Not possible just now"),
            pick(
                "Der Server kann die Anmeldung gerade nicht beginnen. Bitte versuchen Sie es in einem Moment noch einmal.",
                "The server cannot start the sign-in just now. Please try again in a moment.",
            ),
        ),
        Problem::SignIn(err) => match err {
            SignInError::Provider(_) => (
                pick(
                    "Anmeldedienst nicht erreichbar",
                    "Sign-in service unavailable",
                ),
                pick(
                    "Der Anmeldedienst Ihrer Organisation ist gerade nicht erreichbar. Bitte versuchen Sie es in einigen Minuten noch einmal.",
                    "Your organisation's sign-in service cannot be reached just now. Please try again in a few minutes.",
                ),
            ),
            SignInError::Stale => (
                pick("Anmeldung abgelaufen", "Sign-in expired"),
                pick(
                    "Diese Anmeldung ist abgelaufen oder wurde nicht in diesem Browser begonnen. Bitte beginnen Sie sie noch einmal.",
                    "This sign-in has expired or was not started in this browser. Please start it again.",
                ),
            ),
            SignInError::Refused(_) => (
                pick("Anmeldung abgebrochen", "Sign-in cancelled"),
                pick(
                    "Die Anmeldung wurde abgebrochen oder vom Anmeldedienst abgelehnt. Sie sind nicht angemeldet.",
                    "The sign-in was cancelled or refused by the sign-in service. You are not signed in.",
                ),
            ),
            SignInError::InvalidIdToken(_) => (
                pick("Anmeldung nicht bestätigt", "Sign-in not confirmed"),
                pick(
                    "Die Antwort des Anmeldedienstes ließ sich nicht prüfen. Zu Ihrer Sicherheit sind Sie nicht angemeldet. Bitte wenden Sie sich an das Gastgeberteam, wenn das wieder geschieht.",
                    "The sign-in service's answer could not be verified. For your safety you are not signed in. Please tell the hosts if this happens again.",
                ),
            ),
            SignInError::NotHost => (
                pick("Kein Zugang als Gastgebende", "Not a host"),
                pick(
                    "Sie sind angemeldet, aber Ihr Konto ist für diesen Server nicht als Gastgeberin oder Gastgeber freigegeben. Sie können den Raum als Gast betreten.",
                    "You are signed in, but your account is not among this server's hosts. You can enter the room as a guest.",
                ),
            ),
            SignInError::NoName => (
                pick(
                    "Kein Name vom Anmeldedienst",
                    "No name from the sign-in service",
                ),
                pick(
                    "Der Anmeldedienst nennt für Ihr Konto keinen Namen, der im Raum gezeigt werden kann. Bitte wenden Sie sich an die Verwaltung Ihres Kontos.",
                    "The sign-in service gives no name for your account that can be shown in the room. Please contact whoever manages your account.",
                ),
            ),
        },
    };
    let title = pick("Anmeldung für Gastgebende", "Host sign-in");
    let mut out = String::new();
    // `write!` into a String cannot fail.
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n  <meta charset=\"utf-8\">\n  \
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n  \
         <title>{heading} – {title} – Hallway</title>\n  \
         <link rel=\"icon\" href=\"/assets/favicon.svg\" type=\"image/svg+xml\">\n  \
         <link rel=\"stylesheet\" href=\"/assets/css/app.css\">\n</head>\n<body>\n\
         <main class=\"join sign-in-problem\">\n<section class=\"card\" aria-labelledby=\"problem-heading\">\n\
         <p class=\"eyebrow\">{title}</p>\n<h1 id=\"problem-heading\">{heading}</h1>\n<p>{text}</p>\n<ul class=\"sign-in-actions\">\n",
        lang = lang.code(),
    );
    if let Some(room) = room.filter(|r| crate::rooms::is_valid_slug(r)) {
        let room = esc(room);
        let again = matches!(
            problem,
            Problem::SignIn(
                SignInError::Provider(_) | SignInError::Stale | SignInError::Refused(_)
            )
        );
        if again {
            let _ = writeln!(
                out,
                "<li><a href=\"/r/{room}/host?lang={code}\">{}</a></li>",
                pick("Noch einmal anmelden", "Sign in again"),
                code = lang.code(),
            );
        }
        let _ = writeln!(
            out,
            "<li><a href=\"/r/{room}\">{}</a></li>",
            pick("Als Gast eintreten", "Enter as a guest"),
        );
    }
    let _ = write!(
        out,
        "<li><a href=\"/help?lang={code}\">{help}</a></li>\n</ul>\n\
         <p class=\"sign-in-more\"><a href=\"/accessibility?lang={code}\">{a11y}</a> · \
         <a href=\"/\">{home}</a></p>\n</section>\n</main>\n</body>\n</html>\n",
        code = lang.code(),
        help = pick("Hilfe", "Help"),
        a11y = pick("Barrierefreiheit", "Accessibility"),
        home = pick("Zur Startseite", "Go to the start page"),
    );
    html(status, out)
}
