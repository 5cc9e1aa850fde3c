//! `idle-N`: N participants connected and joined, doing nothing. Measures what an idle
//! connection costs the server in resident memory.
//!
//! One process may hold only so many sockets (its open-file limit), so beyond
//! [`PER_PROCESS`] connections the load generator starts copies of itself
//! (`hallway-bench idle-worker`), each holding a share.

use std::cell::RefCell;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tokio::sync::Semaphore;
use tokio::task::spawn_local;

use super::{hello, run_local};
use crate::report::Report;
use crate::ws::{Keep, RawWs};
use crate::{procstat, spawn};

/// People per room: an event with many rooms, each of a size where everyone-sees-everyone
/// join announcements stay cheap to deliver.
const PER_ROOM: usize = 500;

/// Connections one load-generator process holds.
pub const PER_PROCESS: usize = 9_000;

/// Runs the scenario against a `hallway` binary it starts itself.
pub fn run(binary: &Path, name: &str, connections: usize) -> Result<Report> {
    // The server inherits our open-file limit and needs a few descriptors of its own.
    let fd_limit = procstat::raise_fd_limit(connections as u64 + 1024);
    let connections = if connections as u64 + 64 > fd_limit {
        let capped = fd_limit.saturating_sub(64) as usize;
        eprintln!("{name}: the open-file limit here is {fd_limit}; measuring {capped} connections");
        capped
    } else {
        connections
    };
    let rooms = connections.div_ceil(PER_ROOM).max(1);
    let slugs: Vec<String> = (0..rooms).map(|r| format!("idle-{r}")).collect();
    let server = spawn::hallway(
        binary,
        &[
            ("HALLWAY_ROOMS", slugs.join(",")),
            ("HALLWAY_MAX_PARTICIPANTS", (PER_ROOM + 16).to_string()),
            ("HALLWAY_MAX_CONNECTIONS", (connections + 64).to_string()),
            // Idle clients are not expected to say hello fast while thousands connect.
            ("HALLWAY_HELLO_TIMEOUT", "300".to_owned()),
        ],
    )?;
    let pid = server.pid();
    wait_until_idle(pid)?;
    let baseline_kib = procstat::rss_kib(pid)?;
    let rss_kib = if connections <= PER_PROCESS {
        let addr = server.addr;
        run_local(async move {
            connect_all(addr, 0, connections, &slugs).await?;
            wait_until_idle(pid)?;
            Ok::<_, anyhow::Error>(procstat::rss_kib(pid)?)
        })??
    } else {
        let workers = Workers::start(server.addr, connections, &slugs)?;
        wait_until_idle(pid)?;
        let rss = procstat::rss_kib(pid)?;
        drop(workers);
        rss
    };
    let mut report = Report::new(name);
    report.add("connections", connections as f64, "");
    report.add("server_rss_baseline", baseline_kib as f64 / 1024.0, "MiB");
    report.add("server_rss", rss_kib as f64 / 1024.0, "MiB");
    report.add(
        "server_peak_rss",
        procstat::peak_rss_kib(pid).ok().map(|k| k as f64 / 1024.0),
        "MiB",
    );
    report.add(
        "rss_per_connection",
        rss_kib.saturating_sub(baseline_kib) as f64 / connections as f64,
        "KiB",
    );
    Ok(report)
}

/// Waits until the server uses (almost) no CPU for half a second.
fn wait_until_idle(pid: u32) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut last = procstat::cpu_seconds(pid)?;
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let now = procstat::cpu_seconds(pid)?;
        if now - last < 0.02 {
            return Ok(());
        }
        last = now;
        if Instant::now() > deadline {
            bail!("the server did not become idle");
        }
    }
}

/// Copies of this program, each holding a share of the connections.
struct Workers(Vec<Child>);

impl Workers {
    fn start(addr: SocketAddr, connections: usize, rooms: &[String]) -> Result<Workers> {
        let exe = std::env::current_exe()?;
        let mut children = Vec::new();
        let mut first = 0;
        while first < connections {
            let count = PER_PROCESS.min(connections - first);
            let child = Command::new(&exe)
                .args([
                    "idle-worker",
                    "--addr",
                    &addr.to_string(),
                    "--first",
                    &first.to_string(),
                ])
                .args([
                    "--connections",
                    &count.to_string(),
                    "--rooms",
                    &rooms.join(","),
                ])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .with_context(|| format!("starting {}", exe.display()))?;
            children.push(child);
            first += count;
        }
        // Each worker says `joined` once all its connections are in and quiet.
        for child in &mut children {
            let stdout = child.stdout.take().context("no stdout")?;
            let mut line = String::new();
            BufReader::new(stdout).read_line(&mut line)?;
            if line.trim() != "joined" {
                bail!("a worker failed: {line}");
            }
        }
        Ok(Workers(children))
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        for child in &mut self.0 {
            // Closing its standard input tells a worker to let go.
            drop(child.stdin.take());
            let _ = child.wait();
        }
    }
}

/// The `idle-worker` side: joins `count` connections, says `joined`, and holds them until
/// standard input closes.
pub fn worker(addr: SocketAddr, first: usize, count: usize, rooms: &[String]) -> Result<()> {
    procstat::raise_fd_limit(count as u64 + 1024);
    run_local(async move {
        connect_all(addr, first, count, rooms).await?;
        println!("joined");
        tokio::task::spawn_blocking(|| {
            let mut sink = Vec::new();
            let _ = std::io::stdin().read_to_end(&mut sink);
        })
        .await?;
        Ok(())
    })?
}

/// Joins `count` connections (numbered from `first`), spread over the rooms, and returns
/// once every one is in and nothing has arrived for a second. The connections stay open
/// as long as the local task set runs.
async fn connect_all(addr: SocketAddr, first: usize, count: usize, rooms: &[String]) -> Result<()> {
    #[derive(Default)]
    struct Progress {
        joined: usize,
        received: u64,
        failure: Option<String>,
    }
    let progress: Rc<RefCell<Progress>> = Rc::default();
    let gate = Rc::new(Semaphore::new(128));
    for i in first..first + count {
        let (progress, gate, room) = (
            progress.clone(),
            gate.clone(),
            rooms[i % rooms.len()].clone(),
        );
        spawn_local(async move {
            let joined = {
                let _permit = gate.acquire().await;
                join(addr, &room, i).await
            };
            let mut ws = match joined {
                Ok(ws) => ws,
                Err(err) => {
                    progress
                        .borrow_mut()
                        .failure
                        .get_or_insert(format!("{err:#}"));
                    return;
                }
            };
            progress.borrow_mut().joined += 1;
            let mut buf = Vec::new();
            while let Ok(Some(_)) = ws.recv(Keep::Nothing, &mut buf).await {
                progress.borrow_mut().received += 1;
            }
        });
    }
    let deadline = Instant::now() + Duration::from_secs(900);
    let mut last = (0, 0);
    loop {
        tokio::time::sleep(Duration::from_millis(1000)).await;
        let p = progress.borrow();
        if let Some(failure) = &p.failure {
            bail!("a connection failed: {failure}");
        }
        if p.joined == count && (p.joined, p.received) == last {
            return Ok(());
        }
        last = (p.joined, p.received);
        if Instant::now() > deadline {
            bail!("only {} of {count} joined in time", p.joined);
        }
    }
}

async fn join(addr: SocketAddr, room: &str, i: usize) -> Result<RawWs> {
    let mut ws = RawWs::connect(addr, "/ws").await?;
    ws.send_text(&hello(room, &format!("Idle {i}"))).await?;
    let mut buf = Vec::new();
    ws.recv(Keep::Prefix(32), &mut buf).await?;
    if !buf.starts_with(br#"{"type":"welcome""#) {
        bail!("not welcomed: {}", String::from_utf8_lossy(&buf));
    }
    Ok(ws)
}
