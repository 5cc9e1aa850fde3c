//! The opaque signalling payload: any JSON value, carried as its exact text.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;

/// A JSON value (SDP, ICE candidate, ...) the server forwards without looking inside.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct Payload(pub Box<RawValue>);

impl Payload {
    /// Wraps JSON text; fails unless it is one valid JSON value.
    pub fn from_json(text: &str) -> Result<Payload, serde_json::Error> {
        RawValue::from_string(text.to_owned()).map(Payload)
    }

    /// The JSON text.
    pub fn get(&self) -> &str {
        self.0.get()
    }
}

impl PartialEq for Payload {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl<'de> Deserialize<'de> for Payload {
    /// Inside serde's tagged enums the payload arrives buffered, where its raw text is
    /// gone; it is then re-encoded from its value. [`crate::ClientMessage::decode`] keeps
    /// the exact bytes on the server's path.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        RawValue::from_string(value.to_string())
            .map(Payload)
            .map_err(serde::de::Error::custom)
    }
}
