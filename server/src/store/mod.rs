//! Where rooms are kept between restarts: a SQLite file in the data folder. (Cluster mode
//! will keep them in Redis behind the same trait.)
//!
//! Calls are short (a row by primary key) and rare (a start, an operator's command, the
//! first visit to a room created while running), so they run inline rather than on a
//! blocking thread.

mod sqlite;

use serde::{Deserialize, Serialize};

use crate::access::RoomAccess;
use crate::floor_plan::FloorPlan;
use crate::room::model::{Area, Rect, RoomSettings};
use crate::room::summary::Summary;
pub use sqlite::SqliteStore;

pub(crate) mod feedback;

/// A room as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoomRecord {
    /// URL slug, the key.
    pub slug: String,
    /// Title shown to people.
    pub title: String,
    /// Floor width.
    pub width: f32,
    /// Floor height.
    pub height: f32,
    /// Most participants.
    pub max_participants: u32,
    /// Most members per circle.
    pub max_circle_size: u32,
    /// Named rectangles with rules.
    #[serde(default)]
    pub areas: Vec<AreaRecord>,
    /// Who may enter without a signed link.
    #[serde(default)]
    pub access: RoomAccess,
    /// Circles larger than this go through the server's SFU instead of a mesh.
    #[serde(default = "default_mesh_threshold")]
    pub mesh_threshold: u32,
    /// Privacy mode: all media through the SFU, so no participant sees another's address.
    #[serde(default)]
    pub privacy: bool,
    /// The picture under the floor: `builtin:<name>`, or `upload:<version>` for an image
    /// kept with [`RoomStore::put_floor_plan_image`].
    #[serde(default)]
    pub floor_plan: Option<FloorPlan>,
    /// How fast people walk, in floor units per second.
    #[serde(default = "default_walk_speed")]
    pub walk_speed: f32,
    /// Hosts see who has been outside any circle for longer than this many minutes.
    #[serde(default = "default_alone_minutes")]
    pub alone_minutes: u32,
    /// Whether a new circle gets an icebreaker (a conversation prompt).
    #[serde(default = "default_icebreakers")]
    pub icebreakers: bool,
    /// The room's own icebreakers; empty: the built-in ones (English and German).
    #[serde(default)]
    pub icebreaker_prompts: Vec<String>,
    /// Newcomers wait until a host admits them.
    #[serde(default)]
    pub waiting_room: bool,
    /// Shown to people waiting; empty: the client's own words.
    #[serde(default)]
    pub waiting_message: String,
    /// Changes with every operator's change (`hallway room`, the admin API): random when the
    /// room is created, one more with each update; hosts' changes keep it. The node running
    /// the room applies an operator's change when it sees a new revision
    /// (`cluster/settings.rs`).
    #[serde(default)]
    pub revision: u64,
}

fn default_icebreakers() -> bool {
    true
}

fn default_mesh_threshold() -> u32 {
    4
}

fn default_alone_minutes() -> u32 {
    crate::room::model::DEFAULT_ALONE_MINUTES
}

fn default_walk_speed() -> f32 {
    crate::room::model::DEFAULT_WALK_SPEED
}

impl Default for RoomRecord {
    fn default() -> Self {
        RoomRecord {
            slug: String::new(),
            title: String::new(),
            width: 2400.0,
            height: 1600.0,
            max_participants: 1500,
            max_circle_size: 15,
            areas: Vec::new(),
            access: RoomAccess::default(),
            mesh_threshold: default_mesh_threshold(),
            privacy: false,
            floor_plan: None,
            walk_speed: default_walk_speed(),
            alone_minutes: default_alone_minutes(),
            icebreakers: default_icebreakers(),
            icebreaker_prompts: Vec::new(),
            waiting_room: false,
            waiting_message: String::new(),
            revision: 0,
        }
    }
}

/// An area as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AreaRecord {
    /// Unique within the room.
    pub id: u32,
    /// Label.
    pub name: String,
    /// Left edge.
    pub x: f32,
    /// Top edge.
    pub y: f32,
    /// Width.
    pub width: f32,
    /// Height.
    pub height: f32,
    /// Broadcasters stand here.
    #[serde(default)]
    pub stage: bool,
    /// No circles form here.
    #[serde(default)]
    pub quiet: bool,
    /// Most people inside.
    #[serde(default)]
    pub max_people: Option<u32>,
}

impl RoomRecord {
    /// The engine's settings for this room.
    pub fn settings(&self) -> RoomSettings {
        let mut settings = RoomSettings::new(&self.slug, &self.title);
        settings.width = self.width;
        settings.height = self.height;
        settings.max_participants = self.max_participants;
        settings.max_circle_size = self.max_circle_size;
        settings.mesh_threshold = self.mesh_threshold;
        settings.privacy = self.privacy;
        settings.floor_plan = self.floor_plan.clone();
        settings.walk_speed = self.walk_speed;
        settings.alone_after_s = self.alone_minutes.saturating_mul(60);
        settings.icebreakers = self.icebreakers;
        settings.icebreaker_prompts = self.icebreaker_prompts.clone();
        settings.waiting_room = self.waiting_room;
        settings.waiting_message = self.waiting_message.clone();
        settings.areas = self
            .areas
            .iter()
            .map(|a| Area {
                id: a.id,
                name: a.name.clone(),
                rect: Rect {
                    x: a.x,
                    y: a.y,
                    width: a.width,
                    height: a.height,
                },
                stage: a.stage,
                quiet: a.quiet,
                max_people: a.max_people,
            })
            .collect();
        settings
    }
}

impl From<&Area> for AreaRecord {
    fn from(a: &Area) -> AreaRecord {
        AreaRecord {
            id: a.id,
            name: a.name.clone(),
            x: a.rect.x,
            y: a.rect.y,
            width: a.rect.width,
            height: a.rect.height,
            stage: a.stage,
            quiet: a.quiet,
            max_people: a.max_people,
        }
    }
}

use feedback::{Feedback, KeptFeedback};

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened, read or written.
    #[error("room store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored room could not be read back.
    #[error("room store: a stored room is unreadable: {0}")]
    Corrupt(#[from] serde_json::Error),
    /// The data folder could not be created.
    #[error("room store: {0}")]
    Io(#[from] std::io::Error),
    /// Redis (cluster mode) refused, failed or could not be reached.
    #[error("room store: redis: {0}")]
    Redis(String),
}

/// Rooms by slug, kept somewhere that survives a restart.
pub trait RoomStore: Send + Sync + std::fmt::Debug {
    /// Every room, by slug.
    fn list(&self) -> Result<Vec<RoomRecord>, StoreError>;
    /// One room.
    fn get(&self, slug: &str) -> Result<Option<RoomRecord>, StoreError>;
    /// Creates or replaces a room.
    fn put(&self, room: &RoomRecord) -> Result<(), StoreError>;
    /// Deletes a room (and its floor plan image); whether it existed.
    fn delete(&self, slug: &str) -> Result<bool, StoreError>;
    /// The room's uploaded floor plan image, if one was kept.
    fn floor_plan_image(&self, slug: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Keeps an uploaded floor plan image for the room, replacing any before (checked by
    /// the caller: see [`crate::floor_plan::check_image`]).
    fn put_floor_plan_image(&self, slug: &str, image: &[u8]) -> Result<(), StoreError>;
    /// Keeps a message of accessibility feedback received at `received` (Unix seconds);
    /// drops kept messages older than [`feedback::KEPT_DAYS`] and beyond the
    /// newest [`crate::feedback::MAX_KEPT`]. Returns its number.
    fn add_feedback(&self, feedback: &Feedback, received: u64) -> Result<u64, StoreError>;
    /// The kept feedback, oldest first; deletes those older than
    /// [`feedback::KEPT_DAYS`].
    fn feedback(&self, now: u64) -> Result<Vec<KeptFeedback>, StoreError>;
    /// Deletes a kept message; whether it was there.
    fn delete_feedback(&self, id: u64) -> Result<bool, StoreError>;
    /// The room's organiser summary, if one was kept (only with `--keep-summary`).
    fn summary(&self, slug: &str) -> Result<Option<Summary>, StoreError>;
    /// Keeps the room's organiser summary (aggregates only), replacing the one before.
    fn put_summary(&self, slug: &str, summary: &Summary) -> Result<(), StoreError>;
    /// Deletes the room's kept summary; whether there was one.
    fn delete_summary(&self, slug: &str) -> Result<bool, StoreError>;
}

/// The oldest arrival time a kept message may have at `now`.
pub fn feedback_cutoff(now: u64) -> u64 {
    now.saturating_sub(feedback::KEPT_DAYS * 24 * 60 * 60)
}
