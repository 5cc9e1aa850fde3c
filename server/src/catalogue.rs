//! The rooms an operator keeps: the store's room records, created, listed, changed and
//! deleted with their checks. The operator's command line (`hallway room …`, `cli`) and
//! the admin API (`http::admin`) both use it, each with its own words around it; neither
//! calls the other. A running server opens a room created here on its first visit.

use std::sync::Arc;

use crate::floor_plan::FloorPlan;
use crate::room::Room;
use crate::room::access::{AccessMode, RoomAccess};
use crate::rooms::is_valid_slug;
use crate::store::{RoomRecord, RoomStore};

/// Why a change to the catalogue was refused, in words for the operator.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    /// The slug is not usable in a URL.
    #[error("room slugs are 1 to 64 characters of a-z, 0-9 and -")]
    InvalidSlug,
    /// Creating a room that exists.
    #[error("a room {0} already exists")]
    Exists(String),
    /// Updating or deleting a room that does not.
    #[error("there is no room {0}")]
    NotFound(String),
    /// Passcode access without a passcode, or a passcode with another mode.
    #[error(
        "a passcode room needs --passcode (at least 4 characters), and only a passcode room takes one"
    )]
    PasscodeMissing,
    /// Settings out of range.
    #[error(
        "invalid settings: floors are 100 to 100000 units, circles at least 2 people, titles 1 to 64 characters without control or invisible characters"
    )]
    InvalidSettings,
    /// The floor plan is not a built-in plan's name, or its file is not an image Hallway
    /// takes.
    #[error(transparent)]
    FloorPlan(#[from] crate::floor_plan::FloorPlanError),
    /// The room's own icebreakers are too many, too long or have control characters.
    #[error(
        "icebreakers: at most 50 prompts, one a line, of at most 200 characters each, without control or bidirectional characters"
    )]
    InvalidIcebreakers,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// A change of a room's floor plan.
#[derive(Debug, Clone)]
pub enum PlanChange {
    /// A built-in plan, or none.
    Set(Option<FloorPlan>),
    /// An image file's checked bytes, to keep.
    Upload(Vec<u8>),
}

/// Settings to change; what is `None` keeps its value (or the default, when creating).
#[derive(Debug, Clone, Default)]
pub struct RoomChange {
    /// The title people see.
    pub title: Option<String>,
    /// Floor width.
    pub width: Option<f32>,
    /// Floor height.
    pub height: Option<f32>,
    /// Most participants.
    pub max_participants: Option<u32>,
    /// Most members in a circle.
    pub max_circle_size: Option<u32>,
    /// Who may enter without a signed link.
    pub access: Option<AccessMode>,
    /// The passcode of a passcode room (kept only as a salted hash).
    pub passcode: Option<String>,
    /// Circles larger than this go through the server's SFU.
    pub mesh_threshold: Option<u32>,
    /// Privacy mode: all media through the SFU.
    pub privacy: Option<bool>,
    /// How fast people walk, in floor units per second.
    pub walk_speed: Option<f32>,
    /// Hosts see who has been outside any circle for longer than this many minutes.
    pub alone_minutes: Option<u32>,
    /// Whether a new circle gets an icebreaker.
    pub icebreakers: Option<bool>,
    /// The room's own icebreakers, a prompt a line (blank lines left out); an empty list:
    /// the built-in ones.
    pub icebreaker_prompts: Option<Vec<String>>,
    /// Whether newcomers wait until a host admits them.
    pub waiting_room: Option<bool>,
    /// What people in the waiting room read besides the room's title.
    pub waiting_message: Option<String>,
    /// The picture under the floor.
    pub floor_plan: Option<PlanChange>,
}

/// The rooms in a store, and the defaults new ones start from. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Catalogue {
    store: Arc<dyn RoomStore>,
    defaults: RoomRecord,
}

impl Catalogue {
    /// The rooms in `store`; new ones start from `defaults` (their slug and title aside).
    pub fn new(store: Arc<dyn RoomStore>, defaults: RoomRecord) -> Catalogue {
        Catalogue { store, defaults }
    }

    /// Every room.
    pub fn list(&self) -> Result<Vec<RoomRecord>, CatalogueError> {
        Ok(self.store.list()?)
    }

    /// The room with this slug, if there is one.
    pub fn get(&self, slug: &str) -> Result<Option<RoomRecord>, CatalogueError> {
        Ok(self.store.get(slug)?)
    }

    /// Whether a room with this slug may be created: a valid slug that no room has.
    pub fn may_create(&self, slug: &str) -> Result<(), CatalogueError> {
        check_slug(slug)?;
        if self.store.get(slug)?.is_some() {
            return Err(CatalogueError::Exists(slug.to_owned()));
        }
        Ok(())
    }

    /// Whether the room with this slug may be changed: it exists.
    pub fn may_update(&self, slug: &str) -> Result<(), CatalogueError> {
        check_slug(slug)?;
        match self.store.get(slug)? {
            Some(_) => Ok(()),
            None => Err(CatalogueError::NotFound(slug.to_owned())),
        }
    }

    /// Creates a room.
    pub fn create(&self, slug: &str, change: &RoomChange) -> Result<RoomRecord, CatalogueError> {
        self.may_create(slug)?;
        let base = RoomRecord {
            slug: slug.to_owned(),
            title: title_of(slug),
            ..self.defaults.clone()
        };
        let mut record = apply(base, change)?;
        apply_plan(self.store.as_ref(), &mut record, change.floor_plan.clone())?;
        record.revision = rand::random();
        self.store.put(&record)?;
        Ok(record)
    }

    /// Changes the settings given of a room that exists.
    pub fn update(&self, slug: &str, change: &RoomChange) -> Result<RoomRecord, CatalogueError> {
        check_slug(slug)?;
        let current = self
            .store
            .get(slug)?
            .ok_or_else(|| CatalogueError::NotFound(slug.to_owned()))?;
        let mut record = apply(current, change)?;
        apply_plan(self.store.as_ref(), &mut record, change.floor_plan.clone())?;
        record.revision = record.revision.wrapping_add(1);
        self.store.put(&record)?;
        Ok(record)
    }

    /// Deletes a room.
    pub fn delete(&self, slug: &str) -> Result<(), CatalogueError> {
        if self.store.delete(slug)? {
            Ok(())
        } else {
            Err(CatalogueError::NotFound(slug.to_owned()))
        }
    }
}

/// "coffee-corner" → "Coffee corner": a room's title until an operator sets one.
pub fn title_of(slug: &str) -> String {
    let spaced = slug.replace('-', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Puts the plan into the record, keeping an uploaded image first.
fn apply_plan(
    store: &dyn RoomStore,
    record: &mut RoomRecord,
    change: Option<PlanChange>,
) -> Result<(), CatalogueError> {
    match change {
        None => {}
        Some(PlanChange::Set(plan)) => record.floor_plan = plan,
        Some(PlanChange::Upload(bytes)) => {
            store.put_floor_plan_image(&record.slug, &bytes)?;
            record.floor_plan = Some(FloorPlan::Upload {
                version: crate::floor_plan::version_of(&bytes),
            });
        }
    }
    Ok(())
}

fn check_slug(slug: &str) -> Result<(), CatalogueError> {
    if is_valid_slug(slug) {
        Ok(())
    } else {
        Err(CatalogueError::InvalidSlug)
    }
}

/// The record with the given settings changed, checked as the engine would.
fn apply(mut record: RoomRecord, change: &RoomChange) -> Result<RoomRecord, CatalogueError> {
    if let Some(title) = &change.title {
        let title = title.trim();
        // Shown to everyone who joins: the same characters refused as in names.
        let bad = title.chars().any(crate::room::text::refused_in_label);
        if title.is_empty() || title.chars().count() > 64 || bad {
            return Err(CatalogueError::InvalidSettings);
        }
        record.title = title.to_owned();
    }
    record.width = change.width.unwrap_or(record.width);
    record.height = change.height.unwrap_or(record.height);
    record.max_participants = change.max_participants.unwrap_or(record.max_participants);
    record.max_circle_size = change.max_circle_size.unwrap_or(record.max_circle_size);
    record.mesh_threshold = change.mesh_threshold.unwrap_or(record.mesh_threshold);
    record.privacy = change.privacy.unwrap_or(record.privacy);
    record.walk_speed = change.walk_speed.unwrap_or(record.walk_speed);
    record.alone_minutes = change.alone_minutes.unwrap_or(record.alone_minutes);
    record.icebreakers = change.icebreakers.unwrap_or(record.icebreakers);
    record.waiting_room = change.waiting_room.unwrap_or(record.waiting_room);
    if let Some(message) = &change.waiting_message {
        record.waiting_message = crate::room::engine::waiting::clean_waiting_message(message)
            .map_err(|_| CatalogueError::InvalidSettings)?
            .unwrap_or_default();
    }
    if let Some(lines) = &change.icebreaker_prompts {
        record.icebreaker_prompts = crate::room::icebreakers::parse_prompts(lines)
            .map_err(|_| CatalogueError::InvalidIcebreakers)?;
    }
    match (change.access, &change.passcode) {
        (Some(AccessMode::Passcode) | None, Some(passcode)) => {
            if passcode.trim().chars().count() < 4 {
                return Err(CatalogueError::InvalidSettings);
            }
            record.access = RoomAccess::with_passcode(passcode);
        }
        (Some(AccessMode::Passcode), None) if record.access.mode != AccessMode::Passcode => {
            return Err(CatalogueError::PasscodeMissing);
        }
        (Some(AccessMode::Passcode), None) => {}
        (Some(mode), None) => {
            record.access = RoomAccess {
                mode,
                passcode_hash: None,
            }
        }
        (None, None) => {}
        (Some(_), Some(_)) => return Err(CatalogueError::PasscodeMissing),
    }
    if record.mesh_threshold < 2 {
        return Err(CatalogueError::InvalidSettings);
    }
    Room::new(record.settings()).map_err(|_| CatalogueError::InvalidSettings)?;
    Ok(record)
}
