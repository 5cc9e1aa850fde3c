//! The rooms this node serves, by slug.
//!
//! This is the seam where cluster mode plugs in: a session only ever holds a
//! [`RoomHandle`], so a handle that forwards to another node's room can stand in for a
//! local actor without the session noticing.

use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;

use crate::access::RoomAccess;
use crate::floor_plan::FloorPlan;
use crate::room::actor::{
    DEFAULT_SAMPLE_EVERY, KeptSetting, RoomOptions, SettingsSink, SummaryOptions, SummarySink,
};
use crate::room::engine::snapshot::WrittenState;
use crate::room::media::MediaRoutes;
use crate::room::model::{EngineError, RoomSettings};
use crate::room::summary::Summary;
use crate::room::{Room, RoomHandle};
use crate::sfu::{RoomMedia, Sfu};
use crate::store::{AreaRecord, RoomRecord, RoomStore};

/// Running rooms by slug, and the store they come from. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Rooms {
    /// Slug to the room's actor and its media routes.
    running: Arc<DashMap<String, Running>>,
    /// Where rooms not running yet are found (created by `hallway room create` while the
    /// server runs), and the tick rate to open them with.
    store: Option<(Arc<dyn RoomStore>, u32)>,
    /// The SFU that carries the rooms' forwarded media, if this node has one.
    sfu: Option<Sfu>,
    /// How long a participant whose connection was lost keeps their place (default:
    /// [`crate::room::actor::DEFAULT_GRACE`]).
    grace: Option<Duration>,
    /// In a cluster, rooms open only on the node that holds their lease (see
    /// `cluster::owner`), never on a visit.
    clustered: bool,
    /// The spacing of the summary's samples (default: one a minute).
    summary_every: Option<Duration>,
    /// The operator keeps the organiser summaries in the store (`--keep-summary`).
    keep_summary: bool,
    /// Rooms with more people welcome newcomers with those near only (default:
    /// [`crate::room::roster::DEFAULT_WELCOME_ROSTER`]).
    welcome_roster: Option<usize>,
}

/// A running room.
#[derive(Debug, Clone)]
struct Running {
    handle: RoomHandle,
    /// Its media routes through the SFU, if this node has one.
    media: Option<Arc<RoomMedia>>,
}

impl Rooms {
    /// No rooms, no store.
    pub fn new() -> Rooms {
        Rooms::default()
    }

    /// No rooms running yet; rooms from `store` open on first visit.
    pub fn with_store(store: Arc<dyn RoomStore>, tick_hz: u32, sfu: Option<Sfu>) -> Rooms {
        Rooms {
            running: Arc::default(),
            store: Some((store, tick_hz)),
            sfu,
            grace: None,
            clustered: false,
            summary_every: None,
            keep_summary: false,
            welcome_roster: None,
        }
    }

    /// Rooms opened from now on take a summary sample every `every`, and keep their
    /// summary in the store if `keep` (taking up the one kept there when they open).
    pub fn with_summary(mut self, every: Duration, keep: bool) -> Rooms {
        self.summary_every = Some(every);
        self.keep_summary = keep;
        self
    }

    /// Rooms open only when the cluster says this node owns them.
    pub fn clustered(mut self) -> Rooms {
        self.clustered = true;
        self
    }

    /// Whether rooms are opened by the cluster (only on the node that owns them).
    pub fn is_clustered(&self) -> bool {
        self.clustered
    }

    /// Whether the room runs on this node.
    pub fn running(&self, slug: &str) -> bool {
        self.running.contains_key(slug)
    }

    /// Starts a stored room's actor from its written-down state (see
    /// [`Room::restore`]), or empty without one.
    pub fn open_restored(
        &self,
        record: &RoomRecord,
        tick_hz: u32,
        state: Option<&WrittenState>,
    ) -> Result<RoomHandle, RoomsError> {
        let Some(state) = state else {
            return self.open_record(record, tick_hz);
        };
        let (room, seats) = Room::restore(record.settings(), state)?;
        self.open_room(room, tick_hz, record.access.clone(), seats)
    }

    /// Stops a room (its sessions are told to reconnect) and forgets it.
    pub async fn stop(&self, slug: &str) {
        if let Some((_, running)) = self.running.remove(slug) {
            metrics::gauge!(crate::metrics::ROOMS).decrement(1.0);
            running.handle.stop().await;
        }
    }

    /// Closes a room for good (it was deleted): its sessions are told so and do not
    /// reconnect; it is forgotten.
    pub async fn close(&self, slug: &str) {
        if let Some((_, running)) = self.running.remove(slug) {
            metrics::gauge!(crate::metrics::ROOMS).decrement(1.0);
            running.handle.close().await;
        }
    }

    /// Rooms opened from now on that hold more than `people` welcome a newcomer with
    /// those near only (`--welcome-roster`).
    pub fn with_welcome_roster(mut self, people: usize) -> Rooms {
        self.welcome_roster = Some(people);
        self
    }

    /// Rooms opened from now on keep a lost participant's place for `grace`; zero turns
    /// resuming off.
    pub fn with_grace(mut self, grace: Duration) -> Rooms {
        self.grace = Some(grace);
        self
    }

    /// Starts a stored room's actor, with its access rule.
    pub fn open_record(&self, record: &RoomRecord, tick_hz: u32) -> Result<RoomHandle, RoomsError> {
        self.open_with(record.settings(), tick_hz, record.access.clone())
    }

    /// Starts a room's actor (open to anyone); replaces nothing if the slug is taken.
    pub fn open(&self, settings: RoomSettings, tick_hz: u32) -> Result<RoomHandle, RoomsError> {
        self.open_with(settings, tick_hz, RoomAccess::default())
    }

    fn open_with(
        &self,
        settings: RoomSettings,
        tick_hz: u32,
        access: RoomAccess,
    ) -> Result<RoomHandle, RoomsError> {
        self.open_room(Room::new(settings)?, tick_hz, access, Vec::new())
    }

    fn open_room(
        &self,
        mut room: Room,
        tick_hz: u32,
        access: RoomAccess,
        seats: Vec<(crate::room::ParticipantId, String)>,
    ) -> Result<RoomHandle, RoomsError> {
        let settings = room.settings();
        if !is_valid_slug(&settings.slug) {
            return Err(RoomsError::InvalidSlug);
        }
        let slug = settings.slug.clone();
        match self.running.entry(slug.clone()) {
            dashmap::Entry::Occupied(_) => Err(RoomsError::Exists),
            dashmap::Entry::Vacant(slot) => {
                let summary = self.summary_options(&mut room, &slug);
                let keep_settings = self
                    .store
                    .as_ref()
                    .map(|(store, _)| settings_keeper(store.clone(), slug));
                let media = self.sfu.clone().map(RoomMedia::new);
                let handle = RoomHandle::spawn_restored(
                    room,
                    tick_hz,
                    RoomOptions {
                        access,
                        keep_settings,
                        media: media.clone().map(|media| media as Arc<dyn MediaRoutes>),
                        grace: self.grace.unwrap_or(crate::room::actor::DEFAULT_GRACE),
                        seats,
                        summary,
                        welcome_roster: self
                            .welcome_roster
                            .unwrap_or(crate::room::roster::DEFAULT_WELCOME_ROSTER),
                    },
                );
                slot.insert(Running {
                    handle: handle.clone(),
                    media,
                });
                metrics::gauge!(crate::metrics::ROOMS).increment(1.0);
                Ok(handle)
            }
        }
    }

    /// How a room opening now keeps its summary; with summaries kept, it takes up the one
    /// in the store unless it has figures already (a cluster's room state is fresher).
    fn summary_options(&self, room: &mut Room, slug: &str) -> SummaryOptions {
        let every = self.summary_every.unwrap_or(DEFAULT_SAMPLE_EVERY);
        let store = match &self.store {
            Some((store, _)) if self.keep_summary => store.clone(),
            _ => {
                return SummaryOptions { every, keep: None };
            }
        };
        if room.summary().is_none() {
            match store.summary(slug) {
                Ok(Some(kept)) => {
                    let every_ms = u64::try_from(every.as_millis()).unwrap_or(u64::MAX);
                    room.take_up_summary(kept, every_ms);
                }
                Ok(None) => {}
                Err(err) => tracing::warn!(%err, "cannot read the room's kept summary"),
            }
        }
        SummaryOptions {
            every,
            keep: Some(summary_keeper(store, slug.to_owned())),
        }
    }

    /// The room with this slug: running, or opened now from the store.
    pub fn get(&self, slug: &str) -> Option<RoomHandle> {
        self.get_with_media(slug).map(|(handle, _)| handle)
    }

    /// [`Rooms::get`], with the room's media routes through the SFU if this node has one
    /// (taken from the same running room, so that the two belong together).
    pub fn get_with_media(&self, slug: &str) -> Option<(RoomHandle, Option<Arc<RoomMedia>>)> {
        let both = |running: &Running| (running.handle.clone(), running.media.clone());
        if let Some(running) = self.running.get(slug) {
            return Some(both(&running));
        }
        if self.clustered {
            return None;
        }
        let (store, tick_hz) = self.store.as_ref()?;
        let record = match store.get(slug) {
            Ok(record) => record?,
            Err(err) => {
                tracing::warn!(%err, "cannot read the room store");
                return None;
            }
        };
        match self.open_record(&record, *tick_hz) {
            // Opened now, or by someone else in the meantime.
            Ok(_) | Err(RoomsError::Exists) => self.running.get(slug).map(|r| both(&r)),
            Err(err) => {
                tracing::warn!(%err, "a stored room cannot be opened");
                None
            }
        }
    }
}

/// The newest settings a room handed to be kept and not written yet.
#[derive(Debug, Default)]
struct Unwritten {
    /// The areas, if they changed.
    areas: Option<Vec<crate::room::model::Area>>,
    /// The floor plan, if it changed.
    floor_plan: Option<Option<FloorPlan>>,
    /// The icebreakers (on, the room's own prompts), if they changed.
    icebreakers: Option<(bool, Vec<String>)>,
    /// The waiting room on or off, if it changed.
    waiting_room: Option<bool>,
}

/// Keeps a room's areas, floor plan and icebreakers in the store after hosts change them: off the
/// room's task, and always the latest change (a slot holds the newest of each; each
/// write takes what is there).
fn settings_keeper(store: Arc<dyn RoomStore>, slug: String) -> SettingsSink {
    let latest: Arc<std::sync::Mutex<Unwritten>> = Arc::default();
    Arc::new(move |setting| {
        {
            let mut slot = latest.lock().unwrap_or_else(|p| p.into_inner());
            match setting {
                KeptSetting::Areas(areas) => slot.areas = Some(areas),
                KeptSetting::FloorPlan(plan) => slot.floor_plan = Some(plan),
                KeptSetting::Icebreakers { on, prompts } => slot.icebreakers = Some((on, prompts)),
                KeptSetting::WaitingRoom(on) => slot.waiting_room = Some(on),
            }
        }
        let (store, slug, latest) = (store.clone(), slug.clone(), latest.clone());
        tokio::task::spawn_blocking(move || {
            let unwritten = std::mem::take(&mut *latest.lock().unwrap_or_else(|p| p.into_inner()));
            if unwritten.areas.is_none()
                && unwritten.floor_plan.is_none()
                && unwritten.icebreakers.is_none()
                && unwritten.waiting_room.is_none()
            {
                return;
            }
            let result = store.get(&slug).and_then(|record| match record {
                Some(mut record) => {
                    if let Some(areas) = unwritten.areas {
                        record.areas = areas.iter().map(AreaRecord::from).collect();
                    }
                    if let Some(plan) = unwritten.floor_plan {
                        record.floor_plan = plan;
                    }
                    if let Some((on, prompts)) = unwritten.icebreakers {
                        record.icebreakers = on;
                        record.icebreaker_prompts = prompts;
                    }
                    if let Some(on) = unwritten.waiting_room {
                        record.waiting_room = on;
                    }
                    store.put(&record)
                }
                None => Ok(()), // deleted meanwhile: nothing to keep
            });
            if let Err(err) = result {
                tracing::warn!(%err, "cannot keep the room's settings");
            }
        });
    })
}

/// Writes a room's summary to the store off the room's task, always the latest handed
/// (a slot holds the newest; each write takes what is there).
fn summary_keeper(store: Arc<dyn RoomStore>, slug: String) -> SummarySink {
    let latest: Arc<std::sync::Mutex<Option<Summary>>> = Arc::default();
    Arc::new(move |summary| {
        *latest.lock().unwrap_or_else(|p| p.into_inner()) = Some(summary);
        let (store, slug, latest) = (store.clone(), slug.clone(), latest.clone());
        tokio::task::spawn_blocking(move || {
            let Some(summary) = latest.lock().unwrap_or_else(|p| p.into_inner()).take() else {
                return;
            };
            // A room deleted meanwhile keeps nothing.
            let result = store.get(&slug).and_then(|record| match record {
                Some(_) => store.put_summary(&slug, &summary),
                None => Ok(()),
            });
            if let Err(err) = result {
                tracing::warn!(%err, "cannot keep the room's summary");
            }
        });
    })
}

/// Slugs are 1..=64 characters of `a-z`, `0-9` and `-`, so that they are safe in URLs.
pub fn is_valid_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= hallway_proto::limits::MAX_ROOM_SLUG_CHARS
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Why a room could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum RoomsError {
    /// The slug has characters outside `a-z0-9-` or is too long.
    #[error("room slugs are 1 to 64 characters of a-z, 0-9 and -")]
    InvalidSlug,
    /// A room with this slug already runs.
    #[error("a room with this slug already exists")]
    Exists,
    /// The settings are out of range.
    #[error(transparent)]
    Settings(#[from] EngineError),
}
