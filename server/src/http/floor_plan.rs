//! Floor plans over HTTP: the built-in plans (`/plans/<name>.svg`), a room's uploaded
//! image (`GET /r/<room>/floor-plan`), and a host's upload (`PUT /r/<room>/floor-plan`
//! with the host link's token as a bearer token). The admin API's upload shares
//! [`keep_upload`].
//!
//! Every image is served from this origin with `nosniff`; SVGs also with a
//! Content-Security-Policy that runs no script and loads nothing.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::json_error;
use super::room_page::RoomPages;
use crate::access::TokenError;
use crate::floor_plan::{
    Builtin, FloorPlan, FloorPlanError, ImageFormat, SVG_CSP, check_image, format_of, version_of,
};
use crate::room::model::Role;
use crate::rooms::Rooms;
use crate::store::RoomStore;

/// The status an image refusal is answered with.
pub(super) fn refusal(err: FloorPlanError) -> Response {
    let status = match err {
        FloorPlanError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        FloorPlanError::UnsupportedFormat | FloorPlanError::InvalidSvg => {
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        }
        FloorPlanError::Empty | FloorPlanError::UnknownBuiltin => StatusCode::UNPROCESSABLE_ENTITY,
    };
    json_error(status, &err.to_string())
}

/// `?v=`: the version the client's URL names.
#[derive(Debug, Deserialize)]
pub(crate) struct Version {
    /// The version in the URL, if any.
    v: Option<String>,
}

/// An image response: the type its bytes say, `nosniff`, the SVG policy, and cached for
/// good when the URL names this very version (the URL changes with the picture).
fn image(bytes: Vec<u8>, format: ImageFormat, current: bool) -> Response {
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.mime()),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if current {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        }),
    );
    if format == ImageFormat::Svg {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(SVG_CSP),
        );
    }
    response
}

/// `/plans/<name>.svg`: a built-in plan.
pub(crate) async fn builtin(Path(file): Path<String>, Query(version): Query<Version>) -> Response {
    let Some(plan) = file.strip_suffix(".svg").and_then(Builtin::from_name) else {
        return json_error(StatusCode::NOT_FOUND, "there is no such built-in plan");
    };
    let bytes = plan.svg().as_bytes();
    let current = version
        .v
        .is_some_and(|v| version_of(bytes).starts_with(&v) && v.len() >= 8);
    image(bytes.to_vec(), ImageFormat::Svg, current)
}

/// `GET /r/<room>/floor-plan`: the room's uploaded image (404 when the room shows a
/// built-in plan or none).
pub(crate) async fn get(
    State(pages): State<RoomPages>,
    Path(slug): Path<String>,
    Query(version): Query<Version>,
) -> Response {
    let room = match pages.find(&slug).await {
        Ok(Some(room)) => room,
        Ok(None) => return json_error(StatusCode::NOT_FOUND, "there is no such room"),
        Err(err) => {
            tracing::warn!(%err, "cannot read the room store");
            return json_error(StatusCode::SERVICE_UNAVAILABLE, "try again in a moment");
        }
    };
    let Some(FloorPlan::Upload { version: kept }) = room.floor_plan else {
        return json_error(
            StatusCode::NOT_FOUND,
            "this room has no uploaded floor plan",
        );
    };
    let store = pages.store.clone();
    let image_bytes = match tokio::task::spawn_blocking(move || store.floor_plan_image(&slug)).await
    {
        Ok(Ok(Some(bytes))) => bytes,
        Ok(Ok(None)) => {
            return json_error(
                StatusCode::NOT_FOUND,
                "this room has no uploaded floor plan",
            );
        }
        Ok(Err(err)) => {
            tracing::warn!(%err, "cannot read a floor plan");
            return json_error(StatusCode::SERVICE_UNAVAILABLE, "try again in a moment");
        }
        Err(err) => return json_error(StatusCode::INTERNAL_SERVER_ERROR, &err.to_string()),
    };
    let current = version.v.as_deref() == Some(kept.as_str());
    let format = format_of(&image_bytes);
    image(image_bytes, format, current)
}

/// What an upload answers: where the room's clients now fetch the plan.
#[derive(Debug, Serialize)]
pub(super) struct Uploaded {
    /// The new plan's URL.
    pub floor_plan: String,
}

/// `PUT /r/<room>/floor-plan`: a host uploads an image (PNG, JPEG or SVG, at most 5 MB)
/// with their host link's token as `Authorization: Bearer <token>`; everyone in the room
/// is shown it at once.
pub(crate) async fn put(
    State(pages): State<RoomPages>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    match pages
        .tokens
        .verify(token.trim(), &slug, crate::clock::now_secs())
    {
        Ok(grant) if grant.role == Role::Host => {}
        Ok(_) => {
            return json_error(
                StatusCode::FORBIDDEN,
                "only hosts may change the floor plan",
            );
        }
        Err(TokenError::Expired) => {
            return json_error(StatusCode::UNAUTHORIZED, "the host link has expired");
        }
        Err(_) => {
            return json_error(
                StatusCode::UNAUTHORIZED,
                "send the host link's token as a bearer token",
            );
        }
    }
    match pages.find(&slug).await {
        Ok(Some(_)) => {}
        Ok(None) => return json_error(StatusCode::NOT_FOUND, "there is no such room"),
        Err(err) => {
            tracing::warn!(%err, "cannot read the room store");
            return json_error(StatusCode::SERVICE_UNAVAILABLE, "try again in a moment");
        }
    }
    let body = match body {
        Ok(body) => body,
        Err(rejection) => return body_refusal(rejection),
    };
    keep_upload(&pages.store, &pages.rooms, &slug, body).await
}

/// A body that could not be read: too large (over the route's limit), or broken off.
pub(super) fn body_refusal(rejection: BytesRejection) -> Response {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        refusal(FloorPlanError::TooLarge)
    } else {
        json_error(rejection.status(), &rejection.body_text())
    }
}

/// Checks an uploaded image, keeps it (the image, then the room's record), and shows it
/// in the room if it runs on this node. (In a cluster, a room running on another node
/// shows it from its next start there; see `docs/decisions.md`.)
pub(super) async fn keep_upload(
    store: &std::sync::Arc<dyn RoomStore>,
    rooms: &Rooms,
    slug: &str,
    body: Bytes,
) -> Response {
    if let Err(err) = check_image(&body) {
        return refusal(err);
    }
    let plan = FloorPlan::Upload {
        version: version_of(&body),
    };
    let (store, key, kept) = (store.clone(), slug.to_owned(), plan.clone());
    let written = tokio::task::spawn_blocking(move || {
        store.put_floor_plan_image(&key, &body)?;
        if let Some(mut record) = store.get(&key)? {
            record.floor_plan = Some(kept);
            store.put(&record)?;
        }
        Ok::<(), crate::store::StoreError>(())
    })
    .await;
    match written {
        Ok(Ok(())) => {}
        Ok(Err(err)) => {
            tracing::warn!(%err, "cannot keep a floor plan");
            return json_error(StatusCode::SERVICE_UNAVAILABLE, "try again in a moment");
        }
        Err(err) => return json_error(StatusCode::INTERNAL_SERVER_ERROR, &err.to_string()),
    }
    if rooms.running(slug) {
        if let Some(handle) = rooms.get(slug) {
            // A room that stopped meanwhile starts from its record, which has the plan.
            let _ = handle.set_floor_plan(Some(plan.clone())).await;
        }
    }
    Json(Uploaded {
        floor_plan: plan.url(slug),
    })
    .into_response()
}
