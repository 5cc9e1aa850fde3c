//! The admin HTTP API: rooms and links for operators' scripts, JSON over HTTP with a
//! bearer key (`HALLWAY_ADMIN_KEY`). Without a key configured the API is off (404).
//! `docs/api.md` documents every route with curl examples.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::{Deserialize, Serialize};

use crate::access::{TokenRole, Tokens};
use crate::catalogue::{Catalogue, CatalogueError, PlanChange, RoomChange};
use crate::clock::now_secs;
use crate::floor_plan::{FloorPlan, MAX_FLOOR_PLAN_BYTES};
use crate::rooms::Rooms;
use crate::store::{RoomRecord, RoomStore};

/// What the admin routes share.
#[derive(Debug, Clone)]
pub(crate) struct Admin {
    /// The bearer key; `None`: the API is off.
    pub key: Option<Arc<str>>,
    /// The room store.
    pub store: Arc<dyn RoomStore>,
    /// The running rooms (new rooms are opened at once).
    pub rooms: Rooms,
    /// Signs links.
    pub tokens: Tokens,
    /// Base URL of printed links.
    pub public_base: String,
    /// The rooms an operator keeps (new ones start from the server's defaults).
    pub catalogue: Catalogue,
    /// Tick rate for rooms opened here.
    pub tick_hz: u32,
}

/// The admin routes, under `/api`.
pub(crate) fn router(admin: Admin) -> Router {
    Router::new()
        .route("/api/rooms", get(list_rooms).post(create_room))
        .route(
            "/api/rooms/{slug}",
            get(get_room).patch(update_room).delete(delete_room),
        )
        .route(
            "/api/rooms/{slug}/floor-plan",
            put(upload_floor_plan).layer(DefaultBodyLimit::max(MAX_FLOOR_PLAN_BYTES)),
        )
        .route("/api/rooms/{slug}/links", post(create_link))
        .route("/api/rooms/{slug}/invitations", post(create_invitations))
        .route("/api/feedback", get(list_feedback))
        .route("/api/feedback/{id}", axum::routing::delete(delete_feedback))
        .with_state(admin)
}

/// An error as JSON: `{"error": "..."}` with a status.
#[derive(Debug)]
struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        #[derive(Serialize)]
        struct Body {
            error: String,
        }
        let mut response = (self.0, Json(Body { error: self.1 })).into_response();
        if self.0 == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    ApiError(status, message.into()).into_response()
}

/// Proof that a request carried the admin key: handlers take it as an argument, so none
/// can forget the check (it runs before the body is read).
#[derive(Debug, Clone, Copy)]
struct Authorised;

impl FromRequestParts<Admin> for Authorised {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, admin: &Admin) -> Result<Authorised, ApiError> {
        authorise(admin, &parts.headers).map(|()| Authorised)
    }
}

/// Checks the bearer key in constant time.
fn authorise(admin: &Admin, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(key) = &admin.key else {
        return Err(ApiError(
            StatusCode::NOT_FOUND,
            "the admin API is off: set HALLWAY_ADMIN_KEY".into(),
        ));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let same = given.len() == key.len()
        && given
            .bytes()
            .zip(key.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if same {
        Ok(())
    } else {
        Err(ApiError(
            StatusCode::UNAUTHORIZED,
            "missing or wrong bearer key".into(),
        ))
    }
}

/// A room as the API shows it: without the passcode's salt and hash.
fn redact(mut room: RoomRecord) -> RoomRecord {
    room.access.passcode_hash = None;
    room
}

/// The room must exist for links to be minted into it.
fn require_room(admin: &Admin, slug: &str) -> Result<(), ApiError> {
    match admin.store.get(slug) {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(ApiError(
            StatusCode::NOT_FOUND,
            format!("there is no room {slug}"),
        )),
        Err(err) => Err(ApiError(StatusCode::INTERNAL_SERVER_ERROR, err.to_string())),
    }
}

fn command_error(err: CatalogueError) -> Response {
    let status = match err {
        CatalogueError::NotFound(_) => StatusCode::NOT_FOUND,
        CatalogueError::Exists(_) => StatusCode::CONFLICT,
        CatalogueError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        CatalogueError::FloorPlan(err) => return super::floor_plan::refusal(err),
        CatalogueError::InvalidSlug
        | CatalogueError::InvalidSettings
        | CatalogueError::InvalidIcebreakers
        | CatalogueError::PasscodeMissing => StatusCode::UNPROCESSABLE_ENTITY,
    };
    error(status, err.to_string())
}

/// Room settings in a request; absent fields keep their value (or the default).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoomFields {
    slug: Option<String>,
    title: Option<String>,
    width: Option<f32>,
    height: Option<f32>,
    max_participants: Option<u32>,
    max_circle_size: Option<u32>,
    access: Option<crate::access::AccessMode>,
    passcode: Option<String>,
    mesh_threshold: Option<u32>,
    privacy: Option<bool>,
    walk_speed: Option<f32>,
    alone_minutes: Option<u32>,
    icebreakers: Option<bool>,
    /// The room's own icebreakers; `[]`: the built-in ones.
    icebreaker_prompts: Option<Vec<String>>,
    waiting_room: Option<bool>,
    waiting_message: Option<String>,
    /// `builtin:<name>`, or `null` for none (absent: unchanged). Images are uploaded with
    /// `PUT /api/rooms/{slug}/floor-plan`; a path is never read here.
    #[serde(default, deserialize_with = "present")]
    floor_plan: Option<Option<String>>,
}

/// A field that may be given as `null`: `Some(None)`, unlike an absent one (`None`).
fn present<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}

impl RoomFields {
    /// The change the fields ask for. The floor plan is only `builtin:<name>` or `none`
    /// (`null`), never a file's path; icebreakers come as a list, never a file.
    fn change(self) -> Result<RoomChange, crate::floor_plan::FloorPlanError> {
        let floor_plan = match self.floor_plan {
            None => None,
            Some(None) => Some(PlanChange::Set(None)),
            Some(Some(text)) if text == "none" => Some(PlanChange::Set(None)),
            Some(Some(text)) => Some(PlanChange::Set(Some(FloorPlan::parse_builtin(&text)?))),
        };
        Ok(RoomChange {
            title: self.title,
            width: self.width,
            height: self.height,
            max_participants: self.max_participants,
            max_circle_size: self.max_circle_size,
            access: self.access,
            passcode: self.passcode,
            mesh_threshold: self.mesh_threshold,
            privacy: self.privacy,
            walk_speed: self.walk_speed,
            alone_minutes: self.alone_minutes,
            icebreakers: self.icebreakers,
            icebreaker_prompts: self.icebreaker_prompts,
            waiting_room: self.waiting_room,
            waiting_message: self.waiting_message,
            floor_plan,
        })
    }
}

fn parse<T: for<'de> Deserialize<'de>>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|err| ApiError(StatusCode::BAD_REQUEST, format!("invalid JSON: {err}")))
}

async fn list_rooms(State(admin): State<Admin>, _: Authorised) -> Response {
    match admin.store.list() {
        Ok(rooms) => Json(rooms.into_iter().map(redact).collect::<Vec<_>>()).into_response(),
        Err(err) => error(StatusCode::INTERNAL_SERVER_ERROR, err.to_string()),
    }
}

async fn get_room(State(admin): State<Admin>, _: Authorised, Path(slug): Path<String>) -> Response {
    match admin.store.get(&slug) {
        Ok(Some(room)) => Json(redact(room)).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, format!("there is no room {slug}")),
        Err(err) => error(StatusCode::INTERNAL_SERVER_ERROR, err.to_string()),
    }
}

async fn create_room(State(admin): State<Admin>, _: Authorised, body: Bytes) -> Response {
    let mut fields: RoomFields = match parse(&body) {
        Ok(fields) => fields,
        Err(err) => return err.into_response(),
    };
    let Some(slug) = fields.slug.take() else {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "a room needs a slug");
    };
    let change = match fields.change() {
        Ok(change) => change,
        Err(err) => return super::floor_plan::refusal(err),
    };
    let room = match admin.catalogue.create(&slug, &change) {
        Ok(room) => room,
        Err(err) => return command_error(err),
    };
    // Open it now, so that the first visitor finds it running (in a cluster, the node of
    // the first visitor takes it).
    if !admin.rooms.is_clustered() {
        let _ = admin.rooms.open_record(&room, admin.tick_hz);
    }
    (StatusCode::CREATED, Json(redact(room))).into_response()
}

async fn update_room(
    State(admin): State<Admin>,
    _: Authorised,
    Path(slug): Path<String>,
    body: Bytes,
) -> Response {
    let fields: RoomFields = match parse(&body) {
        Ok(fields) => fields,
        Err(err) => return err.into_response(),
    };
    if fields.slug.as_ref().is_some_and(|s| *s != slug) {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "a room's slug cannot change",
        );
    }
    let icebreakers_changed = fields.icebreakers.is_some() || fields.icebreaker_prompts.is_some();
    let waiting_changed = fields.waiting_room.is_some() || fields.waiting_message.is_some();
    let change = match fields.change() {
        Ok(change) => change,
        Err(err) => return super::floor_plan::refusal(err),
    };
    let plan_changed = change.floor_plan.is_some();
    if let Err(err) = admin.catalogue.update(&slug, &change) {
        return command_error(err);
    }
    if plan_changed && admin.rooms.running(&slug) {
        // Everyone in the room sees the new plan at once (other settings apply from the
        // room's next start).
        if let (Ok(Some(record)), Some(handle)) = (admin.store.get(&slug), admin.rooms.get(&slug)) {
            let _ = handle.set_floor_plan(record.floor_plan).await;
        }
    }
    if icebreakers_changed && admin.rooms.running(&slug) {
        // New circles get prompts from the new list at once; the hosts see it.
        if let (Ok(Some(record)), Some(handle)) = (admin.store.get(&slug), admin.rooms.get(&slug)) {
            let _ = handle
                .set_icebreakers(record.icebreakers, record.icebreaker_prompts)
                .await;
        }
    }
    if waiting_changed && admin.rooms.running(&slug) {
        // Newcomers wait (or everyone waiting comes in) at once; the hosts see it.
        if let (Ok(Some(record)), Some(handle)) = (admin.store.get(&slug), admin.rooms.get(&slug)) {
            let _ = handle
                .set_waiting_room(record.waiting_room, Some(record.waiting_message))
                .await;
        }
    }
    get_room(State(admin), Authorised, Path(slug)).await
}

async fn delete_room(
    State(admin): State<Admin>,
    _: Authorised,
    Path(slug): Path<String>,
) -> Response {
    match admin.catalogue.delete(&slug) {
        Ok(()) => {
            // Whoever is in it (on this node) is told the room closed.
            admin.rooms.close(&slug).await;
            StatusCode::NO_CONTENT.into_response()
        }
        Err(err) => command_error(err),
    }
}

/// `GET /api/feedback`: the accessibility feedback kept for the operator, oldest first.
async fn list_feedback(State(admin): State<Admin>, _: Authorised) -> Response {
    #[derive(Serialize)]
    struct Body {
        feedback: Vec<crate::feedback::KeptFeedback>,
    }
    match admin.store.feedback(now_secs()) {
        Ok(feedback) => Json(Body { feedback }).into_response(),
        Err(err) => error(StatusCode::INTERNAL_SERVER_ERROR, err.to_string()),
    }
}

/// `DELETE /api/feedback/{id}`.
async fn delete_feedback(
    State(admin): State<Admin>,
    _: Authorised,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = id.parse::<u64>() else {
        return error(StatusCode::BAD_REQUEST, "a feedback id is a number");
    };
    match admin.store.delete_feedback(id) {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => error(StatusCode::NOT_FOUND, "there is no such feedback"),
        Err(err) => error(StatusCode::INTERNAL_SERVER_ERROR, err.to_string()),
    }
}

/// `POST /api/rooms/{slug}/links`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkRequest {
    role: TokenRole,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    profile: Option<String>,
    #[serde(default)]
    valid_hours: Option<u64>,
}

/// A minted link.
#[derive(Debug, Serialize)]
struct LinkResponse {
    url: String,
    expires_at: u64,
}

async fn create_link(
    State(admin): State<Admin>,
    _: Authorised,
    Path(slug): Path<String>,
    body: Bytes,
) -> Response {
    let request: LinkRequest = match parse(&body) {
        Ok(request) => request,
        Err(err) => return err.into_response(),
    };
    if let Err(err) = require_room(&admin, &slug) {
        return err.into_response();
    }
    if let Some(name) = &request.name {
        if crate::room::model::DisplayName::parse(name).is_err() {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "names are 1 to 64 characters with a letter or digit, without control or invisible characters",
            );
        }
    }
    // The line as it will show (trimmed; blank is none, and leaves the person's own).
    let profile = match request
        .profile
        .as_deref()
        .map(crate::room::model::ProfileLine::parse)
        .transpose()
    {
        Ok(line) => line.flatten(),
        Err(err) => return error(StatusCode::UNPROCESSABLE_ENTITY, err.to_string()),
    };
    let expires_at = now_secs() + request.valid_hours.unwrap_or(24 * 30).saturating_mul(3600);
    let token = admin.tokens.mint_fixed(
        &slug,
        request.role,
        request.name.as_deref(),
        profile.as_ref().map(|l| l.as_str()),
        expires_at,
    );
    let url = format!("{}/r/{slug}#token={token}", admin.public_base);
    (StatusCode::CREATED, Json(LinkResponse { url, expires_at })).into_response()
}

/// `?profile_columns=Referat,Schwerpunkte`: the headings of the columns that make the
/// profile line (as `hallway invite --profile-column`), comma separated.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct InvitationQuery {
    #[serde(default)]
    profile_columns: Option<String>,
}

/// `POST /api/rooms/{slug}/invitations`: an attendee CSV in, the same with links out.
async fn create_invitations(
    State(admin): State<Admin>,
    _: Authorised,
    Path(slug): Path<String>,
    query: Result<Query<InvitationQuery>, QueryRejection>,
    body: Bytes,
) -> Response {
    let Ok(Query(query)) = query else {
        return error(
            StatusCode::BAD_REQUEST,
            "the only query parameter is profile_columns (headings, comma separated)",
        );
    };
    let columns: Vec<String> = query
        .profile_columns
        .iter()
        .flat_map(|list| list.split(','))
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect();
    if let Err(err) = require_room(&admin, &slug) {
        return err.into_response();
    }
    let expires_at = now_secs() + 24 * 30 * 3600;
    let mut out = Vec::new();
    match crate::invitations::write_invitations(
        body.as_ref(),
        &mut out,
        &admin.tokens,
        &admin.public_base,
        &slug,
        expires_at,
        &columns,
    ) {
        Ok(_) => ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], out).into_response(),
        Err(err) => error(StatusCode::UNPROCESSABLE_ENTITY, err.to_string()),
    }
}

/// `PUT /api/rooms/{slug}/floor-plan`: an image (PNG, JPEG or SVG, at most 5 MB) as the
/// body; everyone in the room sees it at once.
async fn upload_floor_plan(
    State(admin): State<Admin>,
    _: Authorised,
    Path(slug): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if let Err(err) = require_room(&admin, &slug) {
        return err.into_response();
    }
    match body {
        Ok(body) => super::floor_plan::keep_upload(&admin.store, &admin.rooms, &slug, body).await,
        Err(rejection) => super::floor_plan::body_refusal(rejection),
    }
}
