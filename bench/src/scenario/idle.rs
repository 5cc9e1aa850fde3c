//! `idle-N`: N participants connected and joined, doing nothing. Measures what an idle
//! connection costs the server in resident memory.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use tokio::sync::Semaphore;
use tokio::task::spawn_local;

use super::{hello, run_local};
use crate::report::Report;
use crate::ws::{Keep, RawWs};
use crate::{procstat, spawn};

/// People per room: an event with many rooms, each of a size where everyone-sees-everyone
/// join announcements stay cheap to deliver.
const PER_ROOM: usize = 500;

/// Runs the scenario against a `hallway` binary it starts itself.
pub fn run(binary: &Path, name: &str, connections: usize) -> Result<Report> {
    procstat::raise_fd_limit(connections as u64 * 2 + 1024);
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
    // Let the server settle, then take the baseline.
    std::thread::sleep(Duration::from_millis(500));
    let baseline_kib = procstat::rss_kib(pid)?;
    let rss_kib = run_local(connect_all(server.addr, pid, connections, slugs))??;
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
        (rss_kib.saturating_sub(baseline_kib)) as f64 / connections as f64,
        "KiB",
    );
    Ok(report)
}

/// Joins every connection, waits until the join announcements have drained, and reads the
/// server's resident memory while all of them are still open.
async fn connect_all(addr: SocketAddr, pid: u32, n: usize, rooms: Vec<String>) -> Result<u64> {
    #[derive(Default)]
    struct Progress {
        joined: usize,
        received: u64,
        failure: Option<String>,
    }
    let progress: Rc<RefCell<Progress>> = Rc::default();
    let gate = Rc::new(Semaphore::new(128));
    for i in 0..n {
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
        // Everyone joined and nothing arrived for a second: the room is quiet.
        if p.joined == n && (p.joined, p.received) == last {
            return Ok(procstat::rss_kib(pid)?);
        }
        last = (p.joined, p.received);
        if Instant::now() > deadline {
            bail!("only {} of {n} joined in time", p.joined);
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
