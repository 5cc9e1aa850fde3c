//! `/accessibility`: the accessibility statement in German or English, rendered from the
//! operator's settings, with its feedback form; `POST /accessibility/feedback` takes the
//! form. Works without JavaScript: a refused message comes back in its field with the
//! reason beside it; a taken one leads to the statement with a thank-you.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use axum::extract::rejection::FormRejection;
use axum::extract::{ConnectInfo, Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::client_ip;
use crate::feedback::{
    Feedback, FeedbackBox, FeedbackError, KEPT_DAYS, MAX_CONTACT_CHARS, MAX_MESSAGE_CHARS,
};
use crate::statement::{Conformance, DEFAULT_ENFORCEMENT_URL, KNOWN_BARRIERS, Lang, Statement};
use texts::t;

/// The page's fixed sentences.
mod texts;

/// Largest form body: the longest message, every character percent-encoded.
pub(crate) const MAX_FORM_BYTES: usize = 64 * 1024;

/// What the statement's routes share.
#[derive(Debug, Clone)]
pub(crate) struct StatementPages {
    /// The statement.
    pub statement: Arc<Statement>,
    /// Where feedback goes.
    pub feedback: FeedbackBox,
    /// The origin of `--public-url`, if set: the page's own address behind a proxy that
    /// rewrites `Host`.
    pub public_origin: Option<String>,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<IpAddr>,
}

/// `?lang=` and `?sent=`.
#[derive(Debug, Deserialize)]
pub(crate) struct PageQuery {
    lang: Option<String>,
    sent: Option<String>,
}

/// The form's fields.
#[derive(Debug, Deserialize)]
pub(crate) struct FeedbackForm {
    #[serde(default)]
    message: String,
    #[serde(default)]
    contact: String,
    #[serde(default)]
    lang: String,
}

/// `GET /accessibility`.
pub(crate) async fn page(
    State(pages): State<StatementPages>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = query
        .lang
        .as_deref()
        .and_then(Lang::from_code)
        .unwrap_or_else(|| Lang::preferred(accept_language(&headers)));
    let form = FormState {
        sent: query.sent.is_some(),
        ..FormState::default()
    };
    html(StatusCode::OK, render(&pages, lang, &form))
}

/// `POST /accessibility/feedback`.
pub(crate) async fn post(
    State(pages): State<StatementPages>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    form: Result<Form<FeedbackForm>, FormRejection>,
) -> Response {
    let (form, too_big) = match form {
        Ok(Form(form)) => (form, false),
        Err(FormRejection::BytesRejection(_)) => (
            FeedbackForm {
                message: String::new(),
                contact: String::new(),
                lang: String::new(),
            },
            true,
        ),
        Err(_) => (
            FeedbackForm {
                message: String::new(),
                contact: String::new(),
                lang: String::new(),
            },
            false,
        ),
    };
    let lang =
        Lang::from_code(&form.lang).unwrap_or_else(|| Lang::preferred(accept_language(&headers)));
    let refuse = |status: StatusCode, error: FeedbackError, form: &FeedbackForm| {
        tracing::debug!(code = error.code(), "accessibility feedback refused");
        let state = FormState {
            error: Some(error),
            message: form.message.clone(),
            contact: form.contact.clone(),
            ..FormState::default()
        };
        html(status, render(&pages, lang, &state))
    };
    if !same_site(&headers, pages.public_origin.as_deref()) {
        return refuse(StatusCode::FORBIDDEN, FeedbackError::OtherSite, &form);
    }
    if too_big {
        return refuse(StatusCode::PAYLOAD_TOO_LARGE, FeedbackError::TooLong, &form);
    }
    let feedback = match Feedback::new(&form.message, &form.contact, lang) {
        Ok(feedback) => feedback,
        Err(error) => return refuse(StatusCode::BAD_REQUEST, error, &form),
    };
    let from = client_ip(peer.ip(), &headers, &pages.trusted_proxies);
    if let Err(error) = pages.feedback.limit.allow(from, Instant::now()) {
        return refuse(StatusCode::TOO_MANY_REQUESTS, error, &form);
    }
    match pages.feedback.deliver(feedback).await {
        Ok(delivered) => {
            tracing::info!(?delivered, "accessibility feedback received");
            Redirect::to(&format!("/accessibility?lang={lang}&sent=1#feedback-sent"))
                .into_response()
        }
        Err(err) => {
            tracing::error!(%err, "cannot keep accessibility feedback");
            let state = FormState {
                unavailable: true,
                message: form.message.clone(),
                contact: form.contact.clone(),
                ..FormState::default()
            };
            html(
                StatusCode::SERVICE_UNAVAILABLE,
                render(&pages, lang, &state),
            )
        }
    }
}

/// Whether the form came from this server's own page: no `Origin` (not a browser), or an
/// `Origin` whose host is the request's `Host`, or the `--public-url`'s origin. Not the
/// WebSocket's `--allowed-origin` list: with `*` there, any site could post the form from
/// its visitors' browsers, each a different address past the per-address limit.
fn same_site(headers: &HeaderMap, public_origin: Option<&str>) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let own = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    matches!((own, host), (Some(own), Some(host)) if own.eq_ignore_ascii_case(host))
        || public_origin.is_some_and(|p| p.eq_ignore_ascii_case(origin))
}

pub(super) fn accept_language(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
}

/// A page with the headers every statement page carries.
pub(super) fn html(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Language"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; \
             base-uri 'none'; form-action 'self'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Not `no-referrer`: with it, browsers send `Origin: null` with the form, and the
    // same-site check could not tell the page's own form from another site's.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// The form as it is shown: empty, thanked for, or refused with the text kept.
#[derive(Debug, Default)]
struct FormState {
    sent: bool,
    /// The message could be neither mailed nor kept.
    unavailable: bool,
    error: Option<FeedbackError>,
    message: String,
    contact: String,
}

/// Escapes text for HTML content and attribute values.
pub(super) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn error_text(lang: Lang, error: FeedbackError) -> &'static str {
    t(lang, &format!("error-{}", error.code()))
}

/// Where feedback goes, in the page's words.
fn where_it_goes(pages: &StatementPages, lang: Lang) -> String {
    if pages.feedback.mails() {
        return t(lang, "goes-mail").to_owned();
    }
    match lang {
        Lang::De => format!(
            "Ihre Nachricht wird für den Betreiber gespeichert und spätestens nach {KEPT_DAYS} Tagen gelöscht."
        ),
        Lang::En => format!(
            "Your message is kept for the operator and deleted after {KEPT_DAYS} days at the latest."
        ),
    }
}

/// The contact line, with an e-mail address made a link.
fn contact_html(contact: &str) -> String {
    let looks_like_mail = contact.contains('@')
        && !contact.contains(char::is_whitespace)
        && !contact.contains(['"', '<', '>', ':']);
    if looks_like_mail {
        format!("<a href=\"mailto:{0}\">{0}</a>", esc(contact))
    } else {
        esc(contact)
    }
}

/// The whole page.
fn render(pages: &StatementPages, lang: Lang, form: &FormState) -> String {
    let s = &pages.statement;
    let other = match lang {
        Lang::De => Lang::En,
        Lang::En => Lang::De,
    };
    let mut out = String::with_capacity(12 * 1024);
    let title = t(lang, "title");
    // What happened is the first thing a screen reader says of the new page.
    let outcome = match (form.sent, form.error.is_some() || form.unavailable, lang) {
        (true, _, Lang::De) => "Rückmeldung gesendet – ",
        (true, _, Lang::En) => "Feedback sent – ",
        (_, true, Lang::De) => "Fehler: ",
        (_, true, Lang::En) => "Error: ",
        _ => "",
    };
    // `write!` into a String cannot fail.
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n  <meta charset=\"utf-8\">\n  \
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n  \
         <title>{outcome}{title} – Hallway</title>\n  \
         <link rel=\"icon\" href=\"/assets/favicon.svg\" type=\"image/svg+xml\">\n  \
         <link rel=\"stylesheet\" href=\"/assets/css/app.css\">\n</head>\n\
         <body class=\"help-page statement-page\">\n<main>\n<article aria-labelledby=\"statement-heading\">\n\
         <h1 id=\"statement-heading\">{title}</h1>\n\
         <nav class=\"statement-nav\" aria-label=\"{nav}\"><a href=\"/accessibility?lang={other}\" lang=\"{other}\" hreflang=\"{other}\">{other_name}</a> \
         <a href=\"/\">{home}</a> <a href=\"/help\">{help}</a></nav>\n",
        nav = match lang {
            Lang::De => "Weitere Seiten",
            Lang::En => "More pages",
        },
        other_name = t(lang, "other-lang"),
        home = t(lang, "home"),
        help = t(lang, "help"),
    );
    match &s.body {
        Some(body) => {
            let _ = match lang {
                Lang::De => writeln!(
                    out,
                    "<p>{} ist bemüht, diesen virtuellen Veranstaltungsraum im Einklang mit dem Behindertengleichstellungsgesetz (BGG) und der Barrierefreie-Informationstechnik-Verordnung (BITV 2.0) barrierefrei zugänglich zu machen.</p>",
                    esc(body)
                ),
                Lang::En => writeln!(
                    out,
                    "<p>{} is committed to making this virtual event room accessible in accordance with the German Disability Equality Act (BGG) and the Barrier-Free Information Technology Ordinance (BITV 2.0).</p>",
                    esc(body)
                ),
            };
        }
        None => {
            let _ = writeln!(out, "<p>{}</p>", t(lang, "no-body"));
        }
    }
    let _ = writeln!(out, "<p>{}</p>", t(lang, "scope"));

    let status = match s.status {
        Conformance::Full => "status-full",
        Conformance::Partial => "status-partial",
        Conformance::None => "status-none",
    };
    let _ = write!(
        out,
        "<h2>{}</h2>\n<p>{}</p>\n<h2>{}</h2>\n<p>{}</p>\n<ul>\n",
        t(lang, "status-heading"),
        t(lang, status),
        t(lang, "barriers-heading"),
        t(lang, "barriers-intro"),
    );
    for barrier in &KNOWN_BARRIERS {
        let _ = writeln!(out, "<li>{}</li>", esc(barrier.text(lang)));
    }
    for limitation in &s.limitations {
        // The operator's own words, in the language they wrote them in.
        let _ = writeln!(out, "<li>{}</li>", esc(limitation));
    }
    out.push_str("</ul>\n");

    let _ = writeln!(out, "<h2>{}</h2>", t(lang, "review-heading"));
    let version = env!("CARGO_PKG_VERSION");
    let _ = match (&s.reviewed, lang) {
        (Some(date), Lang::De) => writeln!(
            out,
            "<p>Diese Erklärung wurde am <time datetime=\"{}\">{}</time> zuletzt überprüft. Die Angaben zur Software beruhen auf der Selbstbewertung von Hallway {version}.</p>",
            date.iso(),
            date.written(lang)
        ),
        (Some(date), Lang::En) => writeln!(
            out,
            "<p>This statement was last reviewed on <time datetime=\"{}\">{}</time>. What it says about the software is based on the self-assessment of Hallway {version}.</p>",
            date.iso(),
            date.written(lang)
        ),
        (None, Lang::De) => writeln!(
            out,
            "<p>Der Betreiber hat kein Datum der letzten Überprüfung angegeben. Die Angaben beruhen auf der Selbstbewertung von Hallway {version}.</p>"
        ),
        (None, Lang::En) => writeln!(
            out,
            "<p>The operator has not given a date of the last review. The details are based on the self-assessment of Hallway {version}.</p>"
        ),
    };

    feedback_section(&mut out, pages, lang, form);

    let _ = writeln!(out, "<h2>{}</h2>", t(lang, "enforcement-heading"));
    let url = esc(&s.enforcement_url);
    match (
        &s.enforcement_name,
        s.enforcement_url == DEFAULT_ENFORCEMENT_URL,
    ) {
        (None, true) => {
            let _ = write!(
                out,
                "<p>{}</p>\n<p><a href=\"{url}\" hreflang=\"de\">{}</a></p>\n",
                t(lang, "enforcement-federal"),
                t(lang, "enforcement-federal-link"),
            );
        }
        (name, _) => {
            let label = name.as_deref().map_or_else(|| url.clone(), esc);
            let _ = write!(
                out,
                "<p>{}</p>\n<p><a href=\"{url}\">{label}</a></p>\n",
                t(lang, "enforcement-other"),
            );
        }
    }
    out.push_str("</article>\n</main>\n</body>\n</html>\n");
    out
}

/// The feedback heading, the contact and the form.
fn feedback_section(out: &mut String, pages: &StatementPages, lang: Lang, form: &FormState) {
    let _ = writeln!(
        out,
        "<h2 id=\"feedback\" tabindex=\"-1\">{}</h2>",
        t(lang, "feedback-heading")
    );
    if form.sent {
        let _ = writeln!(
            out,
            "<p id=\"feedback-sent\" class=\"notice-sent\" role=\"status\" tabindex=\"-1\">{}</p>",
            t(lang, "sent")
        );
    }
    let _ = writeln!(out, "<p>{}</p>", t(lang, "feedback-intro"));
    if let Some(contact) = &pages.statement.contact {
        let _ = writeln!(
            out,
            "<p>{} {}</p>",
            t(lang, "contact"),
            contact_html(contact)
        );
    }
    let (message_error, contact_error, form_error) = match form.error {
        Some(FeedbackError::BadContact) => (None, form.error, None),
        Some(
            e @ (FeedbackError::Empty | FeedbackError::TooLong | FeedbackError::BadCharacters),
        ) => (Some(e), None, None),
        Some(e) => (None, None, Some(e)),
        None => (None, None, None),
    };
    let _ = write!(
        out,
        "<form class=\"card feedback-form\" method=\"post\" action=\"/accessibility/feedback\">\n\
         <input type=\"hidden\" name=\"lang\" value=\"{lang}\">\n"
    );
    if form.unavailable {
        let _ = writeln!(
            out,
            "<p id=\"form-error\" class=\"error\" role=\"alert\">{}</p>",
            t(lang, "unavailable")
        );
    }
    if let Some(error) = form_error {
        let _ = writeln!(
            out,
            "<p id=\"form-error\" class=\"error\" role=\"alert\">{}</p>",
            error_text(lang, error)
        );
    }
    let field = |out: &mut String,
                 id: &str,
                 label: &str,
                 hint: &str,
                 error: Option<FeedbackError>,
                 control: &dyn Fn(&str, bool) -> String| {
        let mut described = format!("{id}-hint");
        if error.is_some() {
            described.push_str(&format!(" {id}-error"));
        } else if (form_error.is_some() || form.unavailable) && id == "message" {
            described.push_str(" form-error");
        }
        let _ = write!(
            out,
            "<label for=\"{id}\">{label}</label>\n<p id=\"{id}-hint\" class=\"hint\">{hint}</p>\n"
        );
        if let Some(error) = error {
            let _ = writeln!(
                out,
                "<p id=\"{id}-error\" class=\"error\">{}</p>",
                error_text(lang, error)
            );
        }
        let focus =
            error.is_some() || ((form_error.is_some() || form.unavailable) && id == "message");
        out.push_str(&control(&described, focus));
        out.push('\n');
    };
    let invalid = |bad: bool| if bad { " aria-invalid=\"true\"" } else { "" };
    let autofocus = |focus: bool| if focus { " autofocus" } else { "" };
    field(
        out,
        "message",
        t(lang, "message"),
        t(lang, "message-hint"),
        message_error,
        &|described, focus| {
            format!(
                "<textarea id=\"message\" name=\"message\" rows=\"6\" required maxlength=\"{MAX_MESSAGE_CHARS}\" aria-describedby=\"{described}\"{}{}>{}</textarea>",
                invalid(message_error.is_some()),
                autofocus(focus),
                esc(&form.message)
            )
        },
    );
    field(
        out,
        "contact",
        t(lang, "contact-field"),
        t(lang, "contact-hint"),
        contact_error,
        &|described, focus| {
            format!(
                "<input id=\"contact\" name=\"contact\" maxlength=\"{MAX_CONTACT_CHARS}\" aria-describedby=\"{described}\" value=\"{}\"{}{}>",
                esc(&form.contact),
                invalid(contact_error.is_some()),
                autofocus(focus)
            )
        },
    );
    let _ = write!(
        out,
        "<p class=\"hint\">{}</p>\n<button type=\"submit\" class=\"primary\">{}</button>\n</form>\n",
        esc(&where_it_goes(pages, lang)),
        t(lang, "send")
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_for_content_and_attributes() {
        assert_eq!(
            esc("<script>\"a\" & 'b'</script>"),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
        assert_eq!(
            contact_html("barrierefrei@stadt.example"),
            "<a href=\"mailto:barrierefrei@stadt.example\">barrierefrei@stadt.example</a>"
        );
        assert_eq!(contact_html("0951 87-0"), "0951 87-0");
        assert_eq!(contact_html("javascript:x@y"), "javascript:x@y");
    }

    #[test]
    fn every_error_has_words_in_both_languages() {
        for error in [
            FeedbackError::Empty,
            FeedbackError::TooLong,
            FeedbackError::BadContact,
            FeedbackError::BadCharacters,
            FeedbackError::TooMany,
            FeedbackError::Busy,
            FeedbackError::OtherSite,
        ] {
            assert!(!error_text(Lang::De, error).is_empty(), "{error:?}");
            assert!(!error_text(Lang::En, error).is_empty(), "{error:?}");
        }
    }
}
