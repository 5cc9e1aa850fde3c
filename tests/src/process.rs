//! The real `hallway` binary as a child process: what the container runs, configured by
//! environment variables, on a free loopback port.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// A running `hallway` process; killed when dropped.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// The lines it printed to standard output before listening.
    pub banner: Vec<String>,
}

/// The repository's root folder.
pub fn repo_root() -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default()
}

/// The `hallway` binary next to this test executable, built (or rebuilt, when its sources
/// changed) once per test process: `cargo test -p hallway-tests` alone would not rebuild it.
pub fn binary_path() -> Result<PathBuf> {
    static BUILT: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| build_binary().map_err(|err| format!("{err:#}")))
        .clone()
        .map_err(anyhow::Error::msg)
}

fn build_binary() -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    // target/<profile>/deps/<test>-<hash> → target/<profile>/hallway
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .context("test executable has no parent")?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = Command::new(cargo);
    build.args(["build", "--quiet", "-p", "hallway", "--bin", "hallway"]);
    if dir.file_name().is_some_and(|name| name == "release") {
        build.arg("--release");
    }
    let status = build.status().context("running cargo build")?;
    if !status.success() {
        bail!("cargo build -p hallway failed");
    }
    let path = dir.join(format!("hallway{}", std::env::consts::EXE_SUFFIX));
    if !path.exists() {
        bail!("{} is missing after the build", path.display());
    }
    Ok(path)
}

impl ServerProcess {
    /// The process id, for `/proc`.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Starts the binary with these extra arguments and environment variables, on
    /// 127.0.0.1 and a free port unless they say otherwise, and waits until it listens.
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> Result<ServerProcess> {
        ServerProcess::start_with_log(args, env, Stdio::inherit())
    }

    /// [`ServerProcess::start`], with the server's log (its standard error) going to `log`.
    pub fn start_with_log(
        args: &[&str],
        env: &[(&str, &str)],
        log: impl Into<Stdio>,
    ) -> Result<ServerProcess> {
        let mut command = Command::new(binary_path()?);
        command
            .args(args)
            .env("HALLWAY_BIND", "127.0.0.1")
            .env("HALLWAY_PORT", "0")
            .env("HALLWAY_MEDIA_PORT", "0")
            .env("HALLWAY_TURN_PORT", "0")
            .env("HALLWAY_DRAIN_SECONDS", "1")
            .env(
                "HALLWAY_DATA_DIR",
                std::env::temp_dir().join(format!("hallway-test-{}", rand_suffix())),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log.into());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().context("spawning hallway")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let (lines_tx, lines_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut banner = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match lines_rx.recv_timeout(left) {
                Ok(line) => line,
                Err(_) => {
                    let _ = child.kill();
                    bail!("hallway did not say where it listens; it printed {banner:?}");
                }
            };
            banner.push(line.clone());
            if let Some(rest) = line.split("listening on http://").nth(1) {
                let addr: SocketAddr = rest
                    .trim()
                    .parse()
                    .with_context(|| format!("address in {line:?}"))?;
                return Ok(ServerProcess {
                    child,
                    addr,
                    banner,
                });
            }
        }
    }

    /// Sends SIGTERM and waits for the process to exit.
    pub fn terminate(mut self) -> Result<ExitStatus> {
        let pid = self.child.id().to_string();
        let status = Command::new("sh")
            .args(["-c", &format!("kill -TERM {pid}")])
            .status()?;
        if !status.success() {
            bail!("kill -TERM {pid} failed");
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status);
            }
            if Instant::now() > deadline {
                bail!("hallway did not exit after SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minimal HTTP/1.1 GET over a fresh connection: (status code, body).
pub async fn http_get(addr: SocketAddr, path: &str) -> Result<(u16, String)> {
    http_request(addr, "GET", path, &[], b"").await
}

/// A suffix that differs between test processes and calls, for temporary folders.
pub fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{}-{}-{}",
        std::process::id(),
        nanos,
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A minimal HTTP/1.1 request over a fresh connection: (status code, body).
pub async fn http_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await?;
    stream.write_all(body).await?;
    let mut response = Vec::new();
    tokio::time::timeout(crate::DEADLINE, stream.read_to_end(&mut response)).await??;
    let text = String::from_utf8_lossy(&response);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("no status line in {text:?}"))?;
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned();
    Ok((status, body))
}

/// A sample's value from the server's `/metrics` (`name` with its labels, as printed),
/// or `None` if it is not listed (a counter never counted).
pub async fn metric(addr: SocketAddr, name: &str) -> Result<Option<f64>> {
    let (status, text) = http_get(addr, "/metrics").await?;
    if status != 200 {
        bail!("/metrics answered {status}");
    }
    Ok(text.lines().find_map(|line| {
        let value = line.strip_prefix(name)?.strip_prefix(' ')?;
        value.trim().parse().ok()
    }))
}

/// Waits (up to `within`) until `metric(addr, name)` is at least `at_least`; returns it.
pub async fn metric_reaches(
    addr: SocketAddr,
    name: &str,
    at_least: f64,
    within: Duration,
) -> Result<f64> {
    let until = tokio::time::Instant::now() + within;
    loop {
        let value = metric(addr, name).await?.unwrap_or(0.0);
        if value >= at_least {
            return Ok(value);
        }
        if tokio::time::Instant::now() > until {
            bail!("{name} was {value} after {within:?}, not {at_least}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Waits (up to `within`) until `metric(addr, name)` is at most `at_most` (absent counts
/// as 0); returns it.
pub async fn metric_falls_to(
    addr: SocketAddr,
    name: &str,
    at_most: f64,
    within: Duration,
) -> Result<f64> {
    let until = tokio::time::Instant::now() + within;
    loop {
        let value = metric(addr, name).await?.unwrap_or(0.0);
        if value <= at_most {
            return Ok(value);
        }
        if tokio::time::Instant::now() > until {
            bail!("{name} was {value} after {within:?}, not at most {at_most}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
