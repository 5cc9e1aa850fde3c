//! `relay`: pairs of clients exchange signalling messages as fast as they can — each side
//! keeps a window of messages in flight and answers every one it receives — against
//! Hallway (each pair standing in its own circle) and against the PeerJS server, with the
//! same load generator. Every payload carries its send time; the receiver records the
//! one-way latency (same clock: same process).

use std::cell::RefCell;
use std::net::SocketAddr;
use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tokio::sync::Semaphore;
use tokio::task::spawn_local;

use super::{Id, Meter, hello, id_after, nanos_since, run_local, timestamp_in};
use crate::report::Report;
use crate::stats::Samples;
use crate::ws::{Keep, RawWs, Writer, append_text_frame};
use crate::{procstat, spawn};

/// Messages each side keeps in flight.
const WINDOW: usize = 8;

/// How a relay run is shaped.
#[derive(Debug, Clone)]
pub struct RelayOptions {
    /// Pairs of clients.
    pub pairs: usize,
    /// Measured time.
    pub duration: Duration,
    /// Time exchanging before measuring.
    pub warmup: Duration,
}

impl RelayOptions {
    /// Defaults for `pairs` pairs.
    pub fn new(pairs: usize) -> RelayOptions {
        RelayOptions {
            pairs,
            duration: Duration::from_secs(20),
            warmup: Duration::from_secs(2),
        }
    }
}

/// The two servers' reports and a third with the ratios.
pub fn run(binary: &Path, opts: &RelayOptions) -> Result<Vec<Report>> {
    procstat::raise_fd_limit(opts.pairs as u64 * 4 + 1024);
    let hallway = run_hallway(binary, opts)?;
    let peerjs = run_peerjs(opts)?;
    let mut compare = Report::new("relay-vs-peerjs");
    let ratio = |name: &str| Some(hallway.get(name)? / peerjs.get(name)?);
    compare.add("throughput_ratio", ratio("throughput"), "x");
    compare.add("p99_ratio", ratio("latency_p99"), "x");
    Ok(vec![hallway, peerjs, compare])
}

/// What the clients of one run share.
#[derive(Debug, Default)]
struct Shared {
    /// Each Hallway client's participant id, by client index: a pair is (2k, 2k + 1).
    ids: std::collections::HashMap<usize, Id>,
    ready: usize,
    failure: Option<String>,
    go: bool,
    measuring: bool,
    delivered: u64,
    latency: Samples,
}

type SharedRef = Rc<RefCell<Shared>>;

fn run_hallway(binary: &Path, opts: &RelayOptions) -> Result<Report> {
    // Each pair stands in its own circle on a grid 250 units apart.
    let cols = ((opts.pairs as f64 * 1.5).sqrt().ceil() as usize).max(1);
    let rows = opts.pairs.div_ceil(cols);
    let (width, height) = ((cols * 250).max(2400), (rows * 250).max(1600));
    let server = spawn::hallway(
        binary,
        &[
            ("HALLWAY_ROOMS", "relay".to_owned()),
            (
                "HALLWAY_MAX_PARTICIPANTS",
                (opts.pairs * 2 + 16).to_string(),
            ),
            ("HALLWAY_MAX_CONNECTIONS", (opts.pairs * 2 + 64).to_string()),
            ("HALLWAY_FLOOR_WIDTH", width.to_string()),
            ("HALLWAY_FLOOR_HEIGHT", height.to_string()),
            // The benchmark measures the relay, not the per-connection rate limit.
            ("HALLWAY_SIGNAL_RATE", "1000000".to_owned()),
        ],
    )?;
    let (addr, pid, opts) = (server.addr, server.pid(), opts.clone());
    run_local(async move {
        let shared: SharedRef = Rc::default();
        let gate = Rc::new(Semaphore::new(64));
        for i in 0..opts.pairs * 2 {
            let pair = i / 2;
            let x = ((pair % cols) as f32 + 0.5) * 250.0 + if i % 2 == 0 { -30.0 } else { 30.0 };
            let y = ((pair / cols) as f32 + 0.5) * 250.0;
            spawn_local(hallway_client(
                addr,
                i,
                (x, y),
                shared.clone(),
                gate.clone(),
            ));
        }
        measure("relay-hallway", pid, &opts, shared).await
    })?
}

async fn hallway_client(
    addr: SocketAddr,
    i: usize,
    at: (f32, f32),
    shared: SharedRef,
    gate: Rc<Semaphore>,
) {
    let setup = async {
        let _permit = gate.acquire().await;
        let mut ws = RawWs::connect(addr, "/ws").await?;
        ws.send_text(&hello("relay", &format!("Pair {i}"))).await?;
        let mut buf = Vec::new();
        ws.recv(Keep::Prefix(96), &mut buf).await?;
        if !buf.starts_with(br#"{"type":"welcome""#) {
            bail!("not welcomed: {}", String::from_utf8_lossy(&buf));
        }
        let me = id_after(&buf, br#""you":""#).context("no id in the welcome")?;
        shared.borrow_mut().ids.insert(i, me);
        // Walk to our spot, and again every half second until paired: circles form when
        // someone moves, and someone who has not yet left their spawn point may have taken
        // our partner into a circle that has since dissolved.
        let paired = Rc::new(std::cell::Cell::new(false));
        let (writer, nudge_paired) = (ws.writer(), paired.clone());
        let walk = format!(r#"{{"type":"move","x":{},"y":{}}}"#, at.0, at.1);
        spawn_local(async move {
            while !nudge_paired.get() && writer.send_text(walk.as_bytes()).await.is_ok() {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        });
        // Ready once the server tells us to connect to our partner (someone who has not
        // yet walked away from their spawn point may share a circle with us for a while).
        loop {
            ws.recv(Keep::Prefix(128), &mut buf)
                .await?
                .context("closed")?;
            if buf.starts_with(br#"{"type":"connect""#) {
                let peer = id_after(&buf, br#""peer":""#).context("no peer")?;
                if shared.borrow().ids.get(&(i ^ 1)) == Some(&peer) {
                    paired.set(true);
                    return Ok((ws, peer));
                }
            }
        }
    };
    let (ws, peer): (RawWs, Id) = match setup.await {
        Ok(ready) => ready,
        Err(err) => {
            shared
                .borrow_mut()
                .failure
                .get_or_insert(format!("{err:#}"));
            return;
        }
    };
    let to = String::from_utf8_lossy(&peer).into_owned();
    exchange(
        ws,
        shared,
        move |t| format!(r#"{{"type":"signal","to":"{to}","payload":{{"t":{t}}}}}"#),
        br#"{"type":"signal""#,
    )
    .await;
}

fn run_peerjs(opts: &RelayOptions) -> Result<Report> {
    let server = spawn::peerjs()?;
    let (addr, pid, opts) = (server.addr, server.pid(), opts.clone());
    run_local(async move {
        let shared: SharedRef = Rc::default();
        let gate = Rc::new(Semaphore::new(64));
        for i in 0..opts.pairs * 2 {
            spawn_local(peerjs_client(addr, i, shared.clone(), gate.clone()));
        }
        measure("relay-peerjs", pid, &opts, shared).await
    })?
}

async fn peerjs_client(addr: SocketAddr, i: usize, shared: SharedRef, gate: Rc<Semaphore>) {
    let setup = async {
        let _permit = gate.acquire().await;
        let mut ws =
            RawWs::connect(addr, &format!("/peerjs?key=peerjs&id=c{i}&token=t{i}")).await?;
        let mut buf = Vec::new();
        ws.recv(Keep::Prefix(32), &mut buf).await?;
        if !buf.starts_with(br#"{"type":"OPEN""#) {
            bail!("not opened: {}", String::from_utf8_lossy(&buf));
        }
        Ok(ws)
    };
    let ws = match setup.await {
        Ok(ws) => ws,
        Err(err) => {
            shared
                .borrow_mut()
                .failure
                .get_or_insert(format!("{err:#}"));
            return;
        }
    };
    let peer = i ^ 1;
    exchange(
        ws,
        shared,
        move |t| format!(r#"{{"type":"CANDIDATE","dst":"c{peer}","payload":{{"t":{t}}}}}"#),
        br#"{"type":"CANDIDATE""#,
    )
    .await;
}

/// Once everyone is ready: send a window of messages, then answer each one received.
async fn exchange(
    mut ws: RawWs,
    shared: SharedRef,
    message: impl Fn(u64) -> String,
    incoming: &[u8],
) {
    shared.borrow_mut().ready += 1;
    while !shared.borrow().go {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let epoch = EPOCH.with(|e| *e);
    let writer: Writer = ws.writer();
    for _ in 0..WINDOW {
        if writer
            .send_text(message(nanos_since(epoch)).as_bytes())
            .await
            .is_err()
        {
            return;
        }
    }
    let mut buf = Vec::new();
    // Replies to everything already received go out together, as a client with a busy
    // event loop would send them.
    let mut replies = Vec::new();
    while let Ok(Some(_)) = ws.recv(Keep::Prefix(160), &mut buf).await {
        if buf.starts_with(incoming) {
            let now = nanos_since(epoch);
            {
                let mut s = shared.borrow_mut();
                if s.measuring {
                    s.delivered += 1;
                    if let Some(sent) = timestamp_in(&buf) {
                        s.latency
                            .record(Duration::from_nanos(now.saturating_sub(sent)));
                    }
                }
            }
            append_text_frame(&mut replies, message(nanos_since(epoch)).as_bytes());
        }
        if !replies.is_empty() && !ws.frame_buffered() {
            if writer.send_encoded(&replies).await.is_err() {
                return;
            }
            replies.clear();
        }
    }
}

thread_local! {
    /// The clock payload timestamps count from; one per load-generator thread.
    static EPOCH: Instant = Instant::now();
}

async fn measure(name: &str, pid: u32, opts: &RelayOptions, shared: SharedRef) -> Result<Report> {
    let clients = opts.pairs * 2;
    let deadline = Instant::now() + Duration::from_secs(if clients < 200 { 20 } else { 600 });
    loop {
        {
            let s = shared.borrow();
            if let Some(failure) = &s.failure {
                bail!("{name}: a client failed: {failure}");
            }
            if s.ready == clients {
                break;
            }
        }
        if Instant::now() > deadline {
            let ready = shared.borrow().ready;
            bail!("{name}: only {ready} of {clients} clients ready in time");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    shared.borrow_mut().go = true;
    tokio::time::sleep(opts.warmup).await;
    let meter = Meter::start(pid);
    shared.borrow_mut().measuring = true;
    tokio::time::sleep(opts.duration).await;
    let usage = meter.read();
    let mut s = shared.borrow_mut();
    s.measuring = false;
    let mut report = Report::new(name);
    report.add("pairs", opts.pairs as f64, "");
    report.add("throughput", s.delivered as f64 / usage.seconds, "msg/s");
    report.add("latency_p50", s.latency.percentile_ms(50.0), "ms");
    report.add("latency_p99", s.latency.percentile_ms(99.0), "ms");
    report.add("server_cpu", usage.server_cores(), "cores");
    report.add(
        "server_peak_rss",
        procstat::peak_rss_kib(pid).ok().map(|k| k as f64 / 1024.0),
        "MiB",
    );
    report.add("loadgen_cpu", usage.own_cores(), "cores");
    Ok(report)
}
