//! Starting the servers under test as child processes on loopback: `hallway` itself, and
//! the PeerJS server for comparison. Each prints where it listens; we wait for that line.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// A server process under test; killed when dropped.
#[derive(Debug)]
pub struct Target {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl Target {
    /// Its process id, for `/proc`.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `hallway` binary next to this executable (both are built into the same target
/// directory), unless given.
pub fn default_hallway_binary() -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let dir = exe.parent().context("no parent")?;
    // A test executable lives in target/<profile>/deps, a binary in target/<profile>.
    for candidate in [dir.join("hallway"), dir.join("../hallway")] {
        if candidate.exists() {
            return Ok(candidate);
        }
    }
    bail!(
        "no hallway binary next to {}; build it with `cargo build --release -p hallway`",
        exe.display()
    )
}

/// The secret the servers this process starts sign links with (to mint a host's).
pub fn secret() -> String {
    format!("bench-{:032x}", std::process::id())
}

/// Starts `hallway` on 127.0.0.1, a free port, with these extra environment variables.
pub fn hallway(binary: &Path, env: &[(&str, String)]) -> Result<Target> {
    let mut command = Command::new(binary);
    command
        .env("HALLWAY_BIND", "127.0.0.1")
        .env("HALLWAY_PORT", "0")
        .env("HALLWAY_MEDIA_PORT", "0")
        .env("HALLWAY_TURN_PORT", "0")
        // Every client of the load generator comes from 127.0.0.1.
        .env("HALLWAY_MAX_CONNECTIONS_PER_IP", "1000000")
        .env("HALLWAY_LOG", "warn");
    // A secret of its own, so that the benchmark writes nothing to disk.
    command.env("HALLWAY_SECRET", secret());
    let data = std::env::temp_dir().join(format!(
        "hallway-bench-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    command.env("HALLWAY_DATA_DIR", data);
    for (key, value) in env {
        command.env(key, value);
    }
    start(command, |line| {
        let rest = line.split("listening on http://").nth(1)?;
        rest.trim().parse().ok()
    })
    .with_context(|| format!("starting {}", binary.display()))
}

/// Starts `redis-server` on 127.0.0.1 and a free port, keeping nothing on disk.
pub fn redis() -> Result<Target> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut command = Command::new("redis-server");
    command.args([
        "--bind",
        "127.0.0.1",
        "--port",
        &port.to_string(),
        "--save",
        "",
        "--appendonly",
        "no",
        // As docker/compose.cluster.yaml sets it: a filling room's welcomes may queue.
        "--client-output-buffer-limit",
        "pubsub 256mb 64mb 60",
    ]);
    start(command, |line| {
        line.contains("Ready to accept connections").then_some(addr)
    })
    .context("starting redis-server (apt-get install redis-server)")
}

/// The folder with the PeerJS server script and its `package.json`.
pub fn peerjs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("peerjs")
}

/// Installs the pinned PeerJS server with npm when it is not installed yet.
pub fn ensure_peerjs_installed() -> Result<()> {
    let dir = peerjs_dir();
    if dir.join("node_modules/peer/package.json").exists() {
        return Ok(());
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&dir)
        .stdin(Stdio::null())
        .status()
        .context("running npm (install Node.js and npm: apt-get install nodejs npm)")?;
    if !status.success() {
        bail!("npm ci in {} failed", dir.display());
    }
    Ok(())
}

/// Starts the PeerJS server on 127.0.0.1 with a free port.
pub fn peerjs() -> Result<Target> {
    ensure_peerjs_installed()?;
    let mut command = Command::new("node");
    command
        .arg("server.mjs")
        .current_dir(peerjs_dir())
        .env("PORT", "0");
    start(command, |line| {
        let port: u16 = line.strip_prefix("listening on ")?.trim().parse().ok()?;
        Some(SocketAddr::from(([127, 0, 0, 1], port)))
    })
    .context("starting the PeerJS server")
}

fn start(mut command: Command, listening: impl Fn(&str) -> Option<SocketAddr>) -> Result<Target> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = command.spawn()?;
    let stdout = child.stdout.take().context("no stdout")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut found = false;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            // Keep draining after the address line so that the child never blocks on a
            // full pipe.
            if !found {
                found = tx.send(line).is_err();
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(line) = rx.recv_timeout(left) else {
            let _ = child.kill();
            bail!("the server did not say where it listens");
        };
        if let Some(addr) = listening(&line) {
            return Ok(Target { child, addr });
        }
    }
}
