//! The browser client: the files of `client-web/`, embedded into the binary so that the
//! container is one file, or read from a folder while developing (`--client-dir`).
//!
//! Every response carries a Content-Security-Policy that allows nothing but this origin,
//! so the page cannot load fonts, scripts or anything else from elsewhere, even by mistake.

use std::path::PathBuf;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// One file of the client.
struct Asset {
    /// URL path below `/assets/` (or the page it serves).
    name: &'static str,
    /// MIME type.
    mime: &'static str,
    /// The embedded content.
    bytes: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $mime:literal) => {
        Asset {
            name: $name,
            mime: $mime,
            bytes: include_bytes!(concat!("../../../client-web/", $name)),
        }
    };
}

/// Every file the client consists of. A test checks this list against `client-web/`.
const ASSETS: &[Asset] = &[
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("room.html", "text/html; charset=utf-8"),
    asset!("help.html", "text/html; charset=utf-8"),
    asset!("css/app.css", "text/css; charset=utf-8"),
    asset!("css/tiles.css", "text/css; charset=utf-8"),
    asset!("css/floor.css", "text/css; charset=utf-8"),
    asset!("css/panel.css", "text/css; charset=utf-8"),
    asset!("css/small-screens.css", "text/css; charset=utf-8"),
    asset!("css/waiting.css", "text/css; charset=utf-8"),
    asset!("css/summary.css", "text/css; charset=utf-8"),
    asset!("js/landing.js", "text/javascript; charset=utf-8"),
    asset!("js/help.js", "text/javascript; charset=utf-8"),
    asset!("js/rtt.js", "text/javascript; charset=utf-8"),
    asset!("js/main.js", "text/javascript; charset=utf-8"),
    asset!("js/ended.js", "text/javascript; charset=utf-8"),
    asset!("js/controls.js", "text/javascript; charset=utf-8"),
    asset!("js/remote-streams.js", "text/javascript; charset=utf-8"),
    asset!("js/media-paths.js", "text/javascript; charset=utf-8"),
    asset!("js/talk-invite.js", "text/javascript; charset=utf-8"),
    asset!("js/announce.js", "text/javascript; charset=utf-8"),
    asset!("js/join-screen.js", "text/javascript; charset=utf-8"),
    asset!("js/host-tools.js", "text/javascript; charset=utf-8"),
    asset!("js/protocol.js", "text/javascript; charset=utf-8"),
    asset!("js/wire.js", "text/javascript; charset=utf-8"),
    asset!("js/i18n.js", "text/javascript; charset=utf-8"),
    asset!("js/texts-en.js", "text/javascript; charset=utf-8"),
    asset!("js/texts-de.js", "text/javascript; charset=utf-8"),
    asset!("js/connection.js", "text/javascript; charset=utf-8"),
    asset!("js/state.js", "text/javascript; charset=utf-8"),
    asset!("js/floor.js", "text/javascript; charset=utf-8"),
    asset!("js/panel.js", "text/javascript; charset=utf-8"),
    asset!("js/media.js", "text/javascript; charset=utf-8"),
    asset!("js/peers.js", "text/javascript; charset=utf-8"),
    asset!("js/sfu.js", "text/javascript; charset=utf-8"),
    asset!("js/layout.js", "text/javascript; charset=utf-8"),
    asset!("js/icons.js", "text/javascript; charset=utf-8"),
    asset!("js/speaking.js", "text/javascript; charset=utf-8"),
    asset!("js/tiles.js", "text/javascript; charset=utf-8"),
    asset!("js/walk.js", "text/javascript; charset=utf-8"),
    asset!("js/view.js", "text/javascript; charset=utf-8"),
    asset!("js/roster.js", "text/javascript; charset=utf-8"),
    asset!("js/menu.js", "text/javascript; charset=utf-8"),
    asset!("js/settings.js", "text/javascript; charset=utf-8"),
    asset!("js/names.js", "text/javascript; charset=utf-8"),
    asset!("js/people.js", "text/javascript; charset=utf-8"),
    asset!("js/areas.js", "text/javascript; charset=utf-8"),
    asset!("js/conversation.js", "text/javascript; charset=utf-8"),
    asset!("js/icebreaker.js", "text/javascript; charset=utf-8"),
    asset!("js/floor-hint.js", "text/javascript; charset=utf-8"),
    asset!("js/summary.js", "text/javascript; charset=utf-8"),
    asset!("js/waiting.js", "text/javascript; charset=utf-8"),
    asset!("js/session.js", "text/javascript; charset=utf-8"),
    asset!("js/early.js", "text/javascript; charset=utf-8"),
    asset!("favicon.svg", "image/svg+xml"),
    asset!("icons.svg", "image/svg+xml"),
];

/// The names of the embedded files, for the test that compares them with the folder.
#[cfg(test)]
fn asset_names() -> Vec<&'static str> {
    ASSETS.iter().map(|a| a.name).collect()
}

/// Where client files come from.
#[derive(Debug, Clone, Default)]
pub(crate) struct ClientFiles {
    /// Read from this folder on every request instead of the embedded copy.
    pub dir: Option<PathBuf>,
}

impl ClientFiles {
    /// Serves one of the client's files by its name below `client-web/`.
    pub(crate) async fn serve(&self, name: &str) -> Response {
        let Some(asset) = ASSETS.iter().find(|a| a.name == name) else {
            return (StatusCode::NOT_FOUND, "not found").into_response();
        };
        let body = match &self.dir {
            // Only names from the list above are ever joined to the folder: no traversal.
            Some(dir) => match tokio::fs::read(dir.join(asset.name)).await {
                Ok(bytes) => bytes,
                Err(_) => return (StatusCode::NOT_FOUND, "not found").into_response(),
            },
            None => asset.bytes.to_vec(),
        };
        let mut response = body.into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.mime));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; connect-src 'self'; img-src 'self' data: blob:; \
                 media-src 'self' blob: mediastream:; style-src 'self'; script-src 'self'; \
                 frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
            ),
        );
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        response
    }
}

/// `/help`: help in Leichte Sprache (German) and plain English.
pub(crate) async fn help(State(files): State<ClientFiles>) -> Response {
    files.serve("help.html").await
}

/// `/`: the landing page.
pub(crate) async fn landing(State(files): State<ClientFiles>) -> Response {
    files.serve("index.html").await
}

/// `/assets/<file>`.
pub(crate) async fn asset(State(files): State<ClientFiles>, Path(name): Path<String>) -> Response {
    files.serve(&name).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_of_the_client_is_embedded() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../client-web");
        let mut on_disk = Vec::new();
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("client-web is readable") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let name = path
                        .strip_prefix(&root)
                        .expect("below root")
                        .to_string_lossy()
                        .replace('\\', "/");
                    on_disk.push(name);
                }
            }
        }
        on_disk.sort();
        let mut embedded: Vec<String> = asset_names().into_iter().map(String::from).collect();
        embedded.sort();
        assert_eq!(
            on_disk, embedded,
            "client-web/ and the embedded list differ"
        );
    }
}
