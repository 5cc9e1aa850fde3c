//! Which `Host` a request may name, against DNS rebinding: a page on `evil.example` whose
//! name an attacker points at this server's address would otherwise reach the WebSocket,
//! the admin API and `/metrics` as if it were the server's own. A rebinding request always
//! carries the attacker's name, so IP literals and `localhost` are always fine (health
//! checks, the browser tests); other names must be the public URL's host or an allowed
//! origin's. A server on a non-loopback address without `--public-url` or
//! `--allowed-origin` cannot know its name and accepts any (the start-up log says so).
//!
//! Every response also carries a `Permissions-Policy` that grants camera, microphone and
//! screen capture to the page's own origin only.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The policy every response carries.
const PERMISSIONS_POLICY: &str = "camera=(self), microphone=(self), display-capture=(self), \
     geolocation=(), payment=(), usb=(), serial=(), bluetooth=(), midi=()";

/// The names a request's `Host` may carry (besides IP literals and `localhost`).
#[derive(Debug, Clone)]
pub(crate) enum AllowedHosts {
    /// Any name: the server cannot know its own.
    Any,
    /// These names (lower case, without port).
    Names(Vec<String>),
}

impl AllowedHosts {
    /// From the configuration: the public URL's host and the allowed origins' hosts; with
    /// neither, only `localhost` on a loopback bind, and any name otherwise.
    pub(crate) fn new(
        public_url: Option<&str>,
        origins: &[String],
        loopback: bool,
    ) -> AllowedHosts {
        let mut names: Vec<String> = public_url
            .into_iter()
            .chain(origins.iter().map(String::as_str))
            .filter(|o| *o != "*")
            .filter_map(host_of_url)
            .collect();
        if origins.iter().any(|o| o == "*") || (names.is_empty() && !loopback) {
            return AllowedHosts::Any;
        }
        names.sort();
        names.dedup();
        AllowedHosts::Names(names)
    }

    /// Whether a request with this `Host` header value may be served.
    pub(crate) fn allow(&self, host: Option<&str>) -> bool {
        let Some(host) = host else {
            // HTTP/1.0 without Host: no name to rebind.
            return true;
        };
        let name = strip_port(host).to_ascii_lowercase();
        if name == "localhost"
            || name.ends_with(".localhost")
            || name
                .trim_matches(['[', ']'])
                .parse::<std::net::IpAddr>()
                .is_ok()
        {
            return true;
        }
        match self {
            AllowedHosts::Any => true,
            AllowedHosts::Names(names) => names.contains(&name),
        }
    }
}

/// `https://events.example.org:8443/path` → `events.example.org`.
fn host_of_url(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit('@').next()?;
    let name = strip_port(authority).to_ascii_lowercase();
    (!name.is_empty()).then_some(name)
}

/// `host:port` → `host`; `[::1]:8080` → `[::1]`.
fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.split_inclusive(']').next().unwrap_or(host);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    }
}

/// Refuses requests for a foreign `Host` (421 Misdirected Request) and sets the
/// permissions policy on every response.
pub(crate) async fn check(
    State(allowed): State<Arc<AllowedHosts>>,
    request: Request<Body>,
    next: Next,
) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
    let mut response = if allowed.allow(host) {
        next.run(request).await
    } else {
        (
            StatusCode::MISDIRECTED_REQUEST,
            "this server does not answer to that name",
        )
            .into_response()
    };
    response.headers_mut().insert(
        header::HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static(PERMISSIONS_POLICY),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_and_addresses_always_pass() {
        let public = AllowedHosts::new(Some("https://Events.example.org/"), &[], false);
        assert!(public.allow(Some("events.example.org")));
        assert!(public.allow(Some("EVENTS.example.org:443")));
        assert!(public.allow(Some("127.0.0.1:8080")));
        assert!(public.allow(Some("[::1]:8080")));
        assert!(public.allow(Some("localhost:8080")));
        assert!(!public.allow(Some("evil.example")));
        assert!(!public.allow(Some("events.example.org.evil.example")));
        let local = AllowedHosts::new(None, &[], true);
        assert!(local.allow(Some("localhost:8080")));
        assert!(!local.allow(Some("evil.example:8080")));
        let open = AllowedHosts::new(None, &[], false);
        assert!(open.allow(Some("anything.example")));
        let origins = AllowedHosts::new(None, &["https://a.example:8443".into()], false);
        assert!(origins.allow(Some("a.example:8443")));
        assert!(!origins.allow(Some("b.example")));
    }
}
