//! Feedback about barriers as the store keeps it (the form, its checks and its delivery
//! are `crate::feedback`'s).

use serde::{Deserialize, Serialize};

/// Messages kept for the admin API; the oldest go first.
pub const MAX_KEPT: usize = 1000;
/// Kept messages older than this are deleted (data minimisation).
pub const KEPT_DAYS: u64 = 90;

/// A message as sent, checked (`Feedback::new` checks a form's fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feedback {
    /// What the person wrote (line breaks kept).
    pub message: String,
    /// How to reach them, if they want an answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    /// The language the page was in (`de` or `en`).
    pub lang: String,
}

/// A kept message, as the admin API lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptFeedback {
    /// Its number (for deleting it).
    pub id: u64,
    /// When it arrived (Unix seconds).
    pub received: u64,
    /// The message.
    #[serde(flatten)]
    pub feedback: Feedback,
}
