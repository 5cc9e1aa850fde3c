//! How a room's task runs besides its engine and tick: what [`super::RoomHandle::spawn_restored`]
//! takes.

use std::sync::Arc;
use std::time::Duration;

use super::{SettingsSink, SummaryOptions, resume};
use crate::room::access::RoomAccess;
use crate::room::media::MediaRoutes;
use crate::room::model::ParticipantId;

/// How a room's task runs, besides its engine and tick.
pub struct RoomOptions {
    /// Who may enter without a signed link.
    pub access: RoomAccess,
    /// Keeps the areas, floor plans and icebreakers hosts choose, if rooms are stored.
    pub keep_settings: Option<SettingsSink>,
    /// The room's media routes through the SFU, if the server has one.
    pub media: Option<Arc<dyn MediaRoutes>>,
    /// How long a lost participant keeps their place.
    pub grace: Duration,
    /// The participants of a room rebuilt from its state, with their resume tokens.
    pub seats: Vec<(ParticipantId, String)>,
    /// The summary's spacing, and where it is kept if it is.
    pub summary: SummaryOptions,
    /// Rooms with more people than this welcome a newcomer with those near only.
    pub welcome_roster: usize,
}

impl std::fmt::Debug for RoomOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoomOptions")
            .field("access", &self.access)
            .field("keep_settings", &self.keep_settings.is_some())
            .field("media", &self.media.is_some())
            .field("grace", &self.grace)
            .field("seats", &self.seats.len())
            .field("summary", &self.summary)
            .field("welcome_roster", &self.welcome_roster)
            .finish()
    }
}

impl Default for RoomOptions {
    fn default() -> Self {
        RoomOptions {
            access: RoomAccess::default(),
            keep_settings: None,
            media: None,
            grace: resume::DEFAULT_GRACE,
            seats: Vec::new(),
            summary: SummaryOptions::default(),
            welcome_roster: crate::room::roster::DEFAULT_WELCOME_ROSTER,
        }
    }
}
