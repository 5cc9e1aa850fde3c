//! Why the engine refuses a command.

use thiserror::Error;

/// Why the engine refused a command. The room is unchanged when one is returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum EngineError {
    /// No participant with this id is in the room.
    #[error("no such participant in this room")]
    UnknownParticipant,
    /// A participant with this id is already in the room.
    #[error("this participant is already in the room")]
    AlreadyInRoom,
    /// The room is at its participant limit.
    #[error("the room is full")]
    RoomFull,
    /// Empty, over-long, without a visible letter or digit, or containing control,
    /// bidirectional or invisible characters.
    #[error(
        "display names are 1 to 64 characters with a letter or digit, without control or invisible characters"
    )]
    InvalidName,
    /// Over-long, without a visible letter or digit, or containing control,
    /// bidirectional or invisible characters.
    #[error(
        "profile lines are at most 80 characters with a letter or digit, without control or invisible characters"
    )]
    InvalidProfile,
    /// A host of the room goes by this name (compared as `text::name_key` does).
    #[error("a host of this room goes by this name; please choose another")]
    NameTaken,
    /// Not finite, or beyond the protocol's coordinate range.
    #[error("coordinates must be finite numbers within range")]
    InvalidPosition,
    /// The action needs the participant to be in a circle.
    #[error("you are not in a circle")]
    NotInCircle,
    /// The two participants are not in the same circle.
    #[error("that participant is not in your circle")]
    NotInSameCircle,
    /// The area at the destination is at its `max_people`.
    #[error("that area is full")]
    AreaFull,
    /// An empty or over-long chat message, or one with control characters.
    #[error("chat messages are 1 to 1000 characters without control characters")]
    InvalidChat,
    /// A real-time text line that is too long or not plain text, or to an unknown target.
    #[error("real-time text is one line of at most 200 characters, to circle or on_air")]
    InvalidRtt,
    /// Real-time text to whoever is on air while nobody is.
    #[error("nobody is on air")]
    NobodyOnAir,
    /// Areas outside the floor, with bad names or duplicate ids, or more than 32.
    #[error("areas must lie on the floor, have names and unique ids; at most 32")]
    InvalidAreas,
    /// Already as many broadcasters as a room allows.
    #[error("as many are on air as a room allows (16)")]
    OnAirFull,
    /// No area with this id.
    #[error("no such area in this room")]
    UnknownArea,
    /// Only hosts may do this.
    #[error("only hosts may do that")]
    Forbidden,
    /// The room is locked against newcomers (hosts excepted).
    #[error("the room is locked")]
    RoomLocked,
    /// This link is banned from the room.
    #[error("you have been banned from this room")]
    Banned,
    /// An announcement over 500 characters or with control characters.
    #[error("announcements are at most 500 characters without control characters")]
    InvalidAnnouncement,
    /// Room settings out of range (floor size, limits).
    #[error("invalid room settings")]
    InvalidSettings,
    /// More than 50 icebreakers, one over 200 characters, or one with control or
    /// bidirectional characters.
    #[error(
        "icebreakers are at most 50 prompts of at most 200 characters each, one line each, without control or bidirectional characters"
    )]
    InvalidIcebreakers,
    /// No built-in floor plan has this name.
    #[error("unknown floor plan: use builtin:foyer, builtin:hall or builtin:garden")]
    UnknownFloorPlan,
    /// The sender is in the waiting room: nothing but leaving until a host admits them.
    #[error("you are in the waiting room: a host will let you in")]
    Waiting,
    /// The waiting room holds as many people as it can.
    #[error("the waiting room is full; please try again later")]
    WaitingRoomFull,
    /// Nobody with this id is waiting.
    #[error("nobody with that id is waiting")]
    NotWaiting,
    /// A message to people turned away that is too long or not one plain line.
    #[error("a message to people turned away is one line of at most 200 characters")]
    InvalidWaitingMessage,
}
