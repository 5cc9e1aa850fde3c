//! A room's address, `/r/<room>`, before anyone enters: the page (or a bilingual 404 when
//! there is no such room, before any name or camera is asked for) and `/r/<room>/about`,
//! what the page may say before the name field (title, how one gets in, locked, floor
//! plan), and nothing about the people inside.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::client::ClientFiles;
use crate::access::{AccessMode, Tokens};
use crate::floor_plan::FloorPlan;
use crate::rooms::{Rooms, is_valid_slug};
use crate::store::RoomStore;

/// What the room routes share.
#[derive(Debug, Clone)]
pub(crate) struct RoomPages {
    /// The client's files (the room page).
    pub files: ClientFiles,
    /// Where rooms (and uploaded floor plans) are kept.
    pub store: Arc<dyn RoomStore>,
    /// The rooms running on this node.
    pub rooms: Rooms,
    /// Verifies the host links of floor plan uploads.
    pub tokens: Tokens,
    /// Hosts can sign in at the identity provider (`/r/<room>/host`).
    pub host_sign_in: bool,
}

/// A room as it can be known from outside: running on this node, or only stored (in a
/// cluster, another node may run it).
#[derive(Debug, Clone)]
pub(super) struct Known {
    /// The title.
    pub title: String,
    /// How one gets in without a signed link.
    pub access: AccessMode,
    /// Locked against newcomers (known only when the room runs on this node).
    pub locked: bool,
    /// The floor plan.
    pub floor_plan: Option<FloorPlan>,
}

impl RoomPages {
    /// The room with this slug, if there is one; `Err` when the store cannot be read.
    pub(super) async fn find(&self, slug: &str) -> Result<Option<Known>, String> {
        if !is_valid_slug(slug) {
            return Ok(None);
        }
        let store = self.store.clone();
        let key = slug.to_owned();
        let record = tokio::task::spawn_blocking(move || store.get(&key))
            .await
            .map_err(|err| err.to_string())?
            .map_err(|err| err.to_string())?;
        if self.rooms.running(slug) {
            if let Some(handle) = self.rooms.get(slug) {
                let about = handle.about();
                return Ok(Some(Known {
                    title: about.title,
                    access: handle.access().mode,
                    locked: about.locked,
                    floor_plan: about.plan,
                }));
            }
        }
        Ok(record.map(|record| Known {
            title: record.title,
            access: record.access.mode,
            locked: false,
            floor_plan: record.floor_plan,
        }))
    }
}

/// `/r/<room>`: the room page, or a 404 page in German and English.
pub(crate) async fn page(State(pages): State<RoomPages>, Path(slug): Path<String>) -> Response {
    match pages.find(&slug).await {
        Ok(Some(_)) => pages.files.serve("room.html").await,
        Ok(None) => not_found_page(&slug),
        Err(err) => {
            tracing::warn!(%err, "cannot read the room store");
            (StatusCode::SERVICE_UNAVAILABLE, "try again in a moment").into_response()
        }
    }
}

/// The 404 page: the address is shown only when it is a possible slug (nothing else is
/// ever written into the page, so nothing needs escaping).
pub(super) fn not_found_page(slug: &str) -> Response {
    const PAGE: &str = include_str!("../../pages/room-not-found.html");
    let address = if is_valid_slug(slug) {
        format!("/r/{slug}")
    } else {
        "/r/…".to_owned()
    };
    let mut response =
        (StatusCode::NOT_FOUND, PAGE.replace("{{ADDRESS}}", &address)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; \
             base-uri 'none'; form-action 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// The answer of `/r/<room>/about`.
#[derive(Debug, Serialize)]
struct About {
    /// The room's title.
    title: String,
    /// `open`, `passcode` or `invite`.
    access: AccessMode,
    /// Locked against newcomers: only hosts may enter.
    locked: bool,
    /// Where to fetch the floor plan, or `null`.
    floor_plan: Option<String>,
    /// Hosts can sign in at `/r/<room>/host` (the operator configured an identity
    /// provider).
    host_sign_in: bool,
}

/// `/r/<room>/about`: what the page says before the name field.
pub(crate) async fn about(State(pages): State<RoomPages>, Path(slug): Path<String>) -> Response {
    let mut response = match pages.find(&slug).await {
        Ok(Some(room)) => Json(About {
            title: room.title,
            access: room.access,
            locked: room.locked,
            floor_plan: room.floor_plan.map(|plan| plan.url(&slug)),
            host_sign_in: pages.host_sign_in,
        })
        .into_response(),
        Ok(None) => super::json_error(StatusCode::NOT_FOUND, "there is no such room"),
        Err(err) => {
            tracing::warn!(%err, "cannot read the room store");
            super::json_error(StatusCode::SERVICE_UNAVAILABLE, "try again in a moment")
        }
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}
