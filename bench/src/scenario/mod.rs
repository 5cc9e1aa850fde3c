//! The benchmark scenarios, and what they share: measuring CPU over a window, the hello
//! message, picking ids out of message prefixes.

pub mod cluster;
pub mod idle;
pub mod relay;
pub mod room;
pub mod sfu;
mod sfu_layers;

use std::time::Instant;

use crate::procstat;

/// CPU use of the server and of this load generator over a measured window.
#[derive(Debug, Clone)]
pub struct Meter {
    /// The server's processes (a cluster's nodes) and their CPU seconds at the start.
    servers: Vec<(u32, f64)>,
    own_cpu: f64,
    started: Instant,
}

/// What a [`Meter`] measured.
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    /// Wall-clock seconds.
    pub seconds: f64,
    /// CPU seconds the server used.
    pub server_cpu_seconds: f64,
    /// CPU seconds this load generator used.
    pub own_cpu_seconds: f64,
}

impl Usage {
    /// Average cores the server kept busy.
    pub fn server_cores(&self) -> f64 {
        self.server_cpu_seconds / self.seconds
    }

    /// Average cores the load generator kept busy.
    pub fn own_cores(&self) -> f64 {
        self.own_cpu_seconds / self.seconds
    }
}

impl Meter {
    /// Starts measuring.
    pub fn start(server_pid: u32) -> Meter {
        Meter::start_many(&[server_pid])
    }

    /// Starts measuring a server made of several processes (their CPU adds up).
    pub fn start_many(server_pids: &[u32]) -> Meter {
        Meter {
            servers: server_pids
                .iter()
                .map(|pid| (*pid, procstat::cpu_seconds(*pid).unwrap_or(0.0)))
                .collect(),
            own_cpu: procstat::cpu_seconds(std::process::id()).unwrap_or(0.0),
            started: Instant::now(),
        }
    }

    /// What was used since the start.
    pub fn read(&self) -> Usage {
        Usage {
            seconds: self.started.elapsed().as_secs_f64().max(1e-9),
            server_cpu_seconds: self
                .servers
                .iter()
                .map(|(pid, at_start)| procstat::cpu_seconds(*pid).unwrap_or(0.0) - at_start)
                .sum(),
            own_cpu_seconds: procstat::cpu_seconds(std::process::id()).unwrap_or(0.0)
                - self.own_cpu,
        }
    }
}

/// The `hello` frame for a room.
pub fn hello(room: &str, name: &str) -> Vec<u8> {
    format!(
        r#"{{"type":"hello","version":{},"room":"{room}","name":"{name}"}}"#,
        PROTOCOL_VERSION
    )
    .into_bytes()
}

/// The protocol version the load generator speaks (it writes messages by hand, for speed;
/// the smoke tests run it against the real server, so a change of protocol shows up there).
pub const PROTOCOL_VERSION: u32 = 2;

/// The characters of a participant id (letters and digits), as the server draws them.
pub use hallway::room::model::ID_LEN;

/// A participant id.
pub type Id = [u8; ID_LEN];

/// The id after `marker` in `text`: the [`ID_LEN`] bytes before the closing quote.
pub fn id_after(text: &[u8], marker: &[u8]) -> Option<Id> {
    let at = crate::ws::find(text, marker)? + marker.len();
    if text.get(at + ID_LEN) != Some(&b'"') {
        return None;
    }
    text.get(at..at + ID_LEN)?.try_into().ok()
}

/// Nanoseconds since `epoch`, for timestamps carried in payloads.
pub fn nanos_since(epoch: Instant) -> u64 {
    epoch.elapsed().as_nanos() as u64
}

/// The number after `"t":` in a payload.
pub fn timestamp_in(text: &[u8]) -> Option<u64> {
    let at = crate::ws::find(text, b"\"t\":")? + 4;
    let digits = text[at..].iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&text[at..at + digits])
        .ok()?
        .parse()
        .ok()
}

/// Runs a future on a single-threaded runtime with a local task set: thousands of clients
/// on one thread, leaving the other core to the server.
pub fn run_local<F: std::future::Future>(future: F) -> anyhow::Result<F::Output> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let local = tokio::task::LocalSet::new();
    Ok(local.block_on(&runtime, future))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_ids_and_timestamps() {
        let text = br#"{"type":"welcome","version":2,"you":"0123456789a","room""#;
        assert_eq!(id_after(text, b"\"you\":\""), Some(*b"0123456789a"));
        assert_eq!(id_after(b"\"you\":\"short\"", b"\"you\":\""), None);
        assert_eq!(id_after(b"\"you\":\"0123456789abc\"", b"\"you\":\""), None);
        assert_eq!(timestamp_in(br#"{"payload":{"t":12345}}"#), Some(12345));
        assert_eq!(timestamp_in(br#"{"payload":{}}"#), None);
    }
}
