//! `room-N`: N participants in one room. Most stand in circles (groups of three to six),
//! about one in ten walks (a position every 200 ms), and a few keep leaving and joining
//! again. A sample of observers decodes every tick to time how long a walker's move takes
//! to reach them; everyone else only drains their socket. With `view`, everyone says what
//! their page shows (a laptop's screen of floor around where they stand), as browsers do,
//! and observers time only the walkers in that view.

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tokio::sync::Semaphore;
use tokio::task::spawn_local;

use super::{ID_LEN, Id, Meter, hello, id_after, run_local};
use crate::report::Report;
use crate::stats::Samples;
use crate::ws::{Keep, RawWs, Writer};
use crate::{procstat, spawn};

/// The room's slug on the server under test.
const ROOM: &str = "bench";

/// What a laptop's browser shows of the floor (1280 × 800 pixels at the default zoom of
/// 0.75 pixels per unit, less the toolbar and the side panel), in floor units.
pub const LAPTOP_VIEW: (f32, f32) = (1600.0, 960.0);

/// How a `room-N` run is shaped.
#[derive(Debug, Clone)]
pub struct RoomOptions {
    /// Participants who stay for the whole run.
    pub clients: usize,
    /// Extra participants who keep leaving and coming back (their joins are timed, from a
    /// thread of their own).
    pub churners: usize,
    /// Share of participants walking at any time.
    pub walkers: f64,
    /// Participants who decode every message to time moves.
    pub observers: usize,
    /// Settling time after everyone joined, before measuring.
    pub warmup: Duration,
    /// Measured time.
    pub duration: Duration,
    /// The server's tick rate.
    pub tick_hz: u32,
    /// Joins in flight at once while the room fills.
    pub join_concurrency: usize,
    /// Extra participants who join and then never read (slow consumers), joined after
    /// everyone else, before the warm-up.
    pub stuck: usize,
    /// The part of the floor each page shows (width, height in floor units, centred on
    /// where one stands), told to the server with `view`; `None`: pages that see all.
    pub view: Option<(f32, f32)>,
    /// In a cluster: the first participant joins through the first node alone (which
    /// thereby owns the room), everyone else through the others, so that all but one are
    /// relayed to the owner (`cluster-fanout`). Otherwise participants are spread evenly.
    pub relayed: bool,
}

impl RoomOptions {
    /// Defaults for `clients` participants.
    pub fn new(clients: usize) -> RoomOptions {
        RoomOptions {
            clients,
            churners: (clients / 100).max(1),
            walkers: 0.1,
            observers: (clients / 4).clamp(1, 50),
            warmup: Duration::from_secs(3),
            duration: Duration::from_secs(30),
            tick_hz: 10,
            join_concurrency: 64,
            stuck: 0,
            view: None,
            relayed: false,
        }
    }
}

/// What a participant does: everyone drains their socket; some walk around the floor,
/// some decode every tick to time the walkers' moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Role {
    walks: bool,
    observes: bool,
}

/// What all clients of a run share (one thread: `Rc<RefCell>`).
#[derive(Debug, Default)]
struct Shared {
    measuring: bool,
    stop: bool,
    joined: usize,
    failures: usize,
    first_failure: Option<String>,
    /// Messages received by all clients while measuring.
    delivered: u64,
    move_seen: Samples,
    /// Moves seen by observers connected to another node than the walker's (cluster).
    move_seen_cross: Samples,
    join_ramp: Samples,
    /// Each walker's last move: where to, when, and through which node.
    pending: HashMap<Id, (f32, f32, Instant, usize)>,
    /// Bytes each participant received while measuring (by participant number).
    bytes: Vec<u64>,
}

type SharedRef = Rc<RefCell<Shared>>;

/// Runs the scenario against a `hallway` binary it starts itself.
pub fn run(binary: &Path, name: &str, opts: &RoomOptions) -> Result<Report> {
    let people = opts.clients + opts.churners + opts.stuck;
    procstat::raise_fd_limit(people as u64 * 2 + 1024);
    let floor = Floor::for_people(people);
    let server = spawn::hallway(binary, &room_env(people, floor, opts.tick_hz))?;
    let target = Servers {
        addrs: vec![server.addr],
        pids: vec![server.pid()],
        redis_pid: None,
    };
    let report = run_local(drive(target, name, opts.clone(), floor))??;
    Ok(report)
}

/// The server under test: one node, or a cluster's nodes and its Redis.
#[derive(Debug)]
pub struct Servers {
    /// Where the nodes listen; participant `i` connects to node `i % len`.
    pub addrs: Vec<SocketAddr>,
    /// The nodes' processes.
    pub pids: Vec<u32>,
    /// Redis, in a cluster.
    pub redis_pid: Option<u32>,
}

/// The environment of a `hallway` serving the benchmark room to `people`. Room for twice
/// as many: a participant let go as a slow consumer keeps their place for the resume
/// grace window (the load generator does not resume), and on an overloaded machine
/// hundreds may be let go while the room fills; the churners must still get in. The same
/// for connections: a churner's connection that it closed counts until the server has
/// torn it down, and a hundred churners that leave and come back every one to three
/// seconds overran a margin of 64 (`connections_open` in the report shows how many the
/// server holds).
pub fn room_env(people: usize, floor: Floor, tick_hz: u32) -> Vec<(&'static str, String)> {
    vec![
        ("HALLWAY_ROOMS", ROOM.to_owned()),
        ("HALLWAY_MAX_PARTICIPANTS", (people * 2 + 16).to_string()),
        ("HALLWAY_MAX_CONNECTIONS", (people * 2 + 64).to_string()),
        ("HALLWAY_FLOOR_WIDTH", floor.width.to_string()),
        ("HALLWAY_FLOOR_HEIGHT", floor.height.to_string()),
        ("HALLWAY_TICK_HZ", tick_hz.to_string()),
    ]
}

/// Runs the scenario against servers already started.
pub fn run_on(servers: Servers, name: &str, opts: &RoomOptions, floor: Floor) -> Result<Report> {
    run_local(drive(servers, name, opts.clone(), floor))?
}

/// Everyone walks; measured once as is and once with `stuck` more participants who never
/// read. The third report compares the others' move→seen p99.
pub fn slow_consumer(binary: &Path, mut opts: RoomOptions, stuck: usize) -> Result<Vec<Report>> {
    opts.walkers = 1.0;
    opts.stuck = 0;
    let baseline = run(binary, "slow-consumer-none", &opts)?;
    opts.stuck = stuck;
    let with_stuck = run(binary, "slow-consumer-stuck", &opts)?;
    let p99 = |r: &Report| r.get("move_seen_p99").unwrap_or(f64::NAN);
    let mut compared = Report::new("slow-consumer");
    compared.add(
        "move_seen_p99_ratio",
        p99(&with_stuck) / p99(&baseline),
        "x",
    );
    Ok(vec![baseline, with_stuck, compared])
}

async fn drive(servers: Servers, name: &str, opts: RoomOptions, floor: Floor) -> Result<Report> {
    let addrs = servers.addrs.clone();
    let addr = addrs[0];
    let shared: SharedRef = Rc::default();
    shared.borrow_mut().bytes = vec![0; opts.clients];
    let gate = Rc::new(Semaphore::new(opts.join_concurrency));
    let slots = floor.slots(opts.clients);
    let observer_stride = (opts.clients / opts.observers.max(1)).max(1);
    let relayed = opts.relayed && addrs.len() > 1;
    // Which node participant `i` comes through.
    let node_of = |i: usize| match relayed {
        true if i == 0 => 0,
        true => 1 + (i - 1) % (addrs.len() - 1),
        false => i % addrs.len(),
    };
    for (i, slot) in slots.into_iter().enumerate() {
        if relayed && i == 1 {
            // The first must be in (its node owns the room) before anyone else asks.
            while shared.borrow().joined == 0 && shared.borrow().failures == 0 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        let walker = ((i + 1) as f64 * opts.walkers).floor() > (i as f64 * opts.walkers).floor();
        // Observers stand, unless everyone walks (then some walkers observe too).
        let role = Role {
            walks: walker,
            observes: i % observer_stride == 0 && (!walker || opts.walkers >= 1.0),
        };
        spawn_local(participant(
            addrs[node_of(i)],
            node_of(i),
            i,
            role,
            (slot, opts.view),
            floor,
            shared.clone(),
            gate.clone(),
        ));
    }
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let (joined, failures) = {
            let s = shared.borrow();
            (s.joined, s.failures)
        };
        if failures > 0 {
            let why = shared.borrow().first_failure.clone().unwrap_or_default();
            bail!("{failures} participants could not join: {why}");
        }
        if joined == opts.clients {
            break;
        }
        if Instant::now() > deadline {
            bail!("only {joined} of {} joined in time", opts.clients);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Slow consumers: they join like anyone, then never read another byte.
    let mut stuck = Vec::with_capacity(opts.stuck);
    for k in 0..opts.stuck {
        let (ws, _) = join_stalling(addr, &format!("Stuck {k}")).await?;
        stuck.push(ws);
    }
    tokio::time::sleep(opts.warmup).await;

    let meter = Meter::start_many(&servers.pids);
    // Each node's own share (in `cluster-fanout` the first is the room's owner).
    let node_meters: Vec<Meter> = servers.pids.iter().map(|pid| Meter::start(*pid)).collect();
    let redis_meter = servers.redis_pid.map(Meter::start);
    {
        let mut s = shared.borrow_mut();
        s.measuring = true;
        s.delivered = 0;
        s.move_seen.clear();
        s.move_seen_cross.clear();
        s.bytes.iter_mut().for_each(|b| *b = 0);
    }
    WELCOME_BYTES.store(0, Ordering::Relaxed);
    let (churn, churn_thread) = start_churners(addrs.clone(), opts.churners, floor, opts.view);
    tokio::time::sleep(opts.duration).await;
    let usage = meter.read();
    let node_usage: Vec<_> = node_meters.iter().map(Meter::read).collect();
    let redis_usage = redis_meter.map(|m| m.read());
    // Connections the server holds as the measurement ends (summed over the nodes),
    // against the participants connected: a gap is connections still being torn down.
    let mut connections_open = Some(0.0);
    for node in &addrs {
        let count = metric(*node, "hallway_connections").await.ok();
        connections_open = connections_open.zip(count).map(|(a, b)| a + b);
    }
    churn.stop.store(true, Ordering::Relaxed);
    {
        let mut s = shared.borrow_mut();
        s.measuring = false;
        s.stop = true;
    }
    let _ = tokio::task::spawn_blocking(move || churn_thread.join()).await;
    if let Some(failure) = lock(&churn.failure).take() {
        bail!("a churner could not join: {failure}");
    }
    let mut joins = std::mem::take(&mut *lock(&churn.joins));
    // Summed over the nodes of a cluster.
    let mut slow_consumers = Some(0.0);
    for node in &addrs {
        let count = metric(*node, "hallway_slow_consumer_disconnects_total")
            .await
            .ok();
        slow_consumers = slow_consumers.zip(count).map(|(a, b)| a + b);
    }
    // The server's own view of the joins (over its last 40–60 s, the recorder's window:
    // measure for 60 s or more to leave out the joins that filled the room): from a join's
    // request to its admission, and the room's work on a welcome; the worst node's.
    let mut server_quantiles = Vec::new();
    for (summary, quantile) in [
        ("hallway_join_seconds", "0.99"),
        ("hallway_welcome_seconds", "0.99"),
        ("hallway_welcome_seconds", "0.5"),
    ] {
        let mut worst = Some(0.0f64);
        for node in &addrs {
            let value = metric(*node, &format!("{summary}{{quantile=\"{quantile}\"}}"))
                .await
                .ok();
            worst = worst.zip(value).map(|(a, b)| a.max(b * 1000.0));
        }
        server_quantiles.push(worst);
    }
    let mut s = shared.borrow_mut();

    drop(stuck);
    let mut report = Report::new(name);
    report.add("participants", (opts.clients + opts.churners) as f64, "");
    if opts.stuck > 0 {
        report.add("stuck_clients", opts.stuck as f64, "");
    }
    report.add("slow_consumer_disconnects", slow_consumers, "");
    report.add("connections_open", connections_open, "");
    report.add(
        "join_retries",
        JOIN_RETRIES.load(Ordering::Relaxed) as f64,
        "",
    );
    report.add("join_p50", joins.percentile_ms(50.0), "ms");
    report.add("join_p99", joins.percentile_ms(99.0), "ms");
    report.add("join_samples", joins.len() as f64, "");
    report.add("server_join_p99", server_quantiles[0], "ms");
    report.add("server_welcome_p50", server_quantiles[2], "ms");
    report.add("server_welcome_p99", server_quantiles[1], "ms");
    report.add(
        "welcome_max",
        WELCOME_BYTES.load(Ordering::Relaxed) as f64 / 1024.0,
        "KiB",
    );
    report.add(
        "join_while_filling_p50",
        s.join_ramp.percentile_ms(50.0),
        "ms",
    );
    report.add(
        "join_while_filling_p99",
        s.join_ramp.percentile_ms(99.0),
        "ms",
    );
    report.add("move_seen_p50", s.move_seen.percentile_ms(50.0), "ms");
    report.add("move_seen_p99", s.move_seen.percentile_ms(99.0), "ms");
    report.add("move_seen_max", s.move_seen.max_ms(), "ms");
    report.add("move_seen_samples", s.move_seen.len() as f64, "");
    if addrs.len() > 1 {
        report.add("nodes", addrs.len() as f64, "");
        report.add(
            "move_seen_cross_node_p50",
            s.move_seen_cross.percentile_ms(50.0),
            "ms",
        );
        report.add(
            "move_seen_cross_node_p99",
            s.move_seen_cross.percentile_ms(99.0),
            "ms",
        );
        report.add(
            "move_seen_cross_node_samples",
            s.move_seen_cross.len() as f64,
            "",
        );
    }
    report.add(
        "delivered_per_s",
        s.delivered as f64 / usage.seconds,
        "msg/s",
    );
    let mut rates: Vec<f64> = s
        .bytes
        .iter()
        .map(|b| *b as f64 / usage.seconds / 1024.0)
        .collect();
    rates.sort_by(f64::total_cmp);
    let at = |p: f64| {
        (!rates.is_empty())
            .then(|| rates[((p / 100.0) * (rates.len() - 1) as f64).round() as usize])
    };
    report.add("received_per_participant_p50", at(50.0), "KiB/s");
    report.add("received_per_participant_p99", at(99.0), "KiB/s");
    report.add("server_cpu", usage.server_cores(), "cores");
    if let Some(redis) = redis_usage {
        report.add("redis_cpu", redis.server_cores(), "cores");
    }
    if relayed {
        report.add("relayed", (opts.clients - 1) as f64, "");
        report.add("owner_cpu", node_usage[0].server_cores(), "cores");
        let entries: f64 = node_usage[1..].iter().map(|u| u.server_cores()).sum();
        report.add("entry_nodes_cpu", entries, "cores");
    } else if addrs.len() > 1 {
        for (k, u) in node_usage.iter().enumerate() {
            report.add(&format!("node{k}_cpu"), u.server_cores(), "cores");
        }
    }
    let peak: Option<u64> = servers
        .pids
        .iter()
        .map(|pid| procstat::peak_rss_kib(*pid).ok())
        .sum();
    report.add("server_peak_rss", peak.map(|k| k as f64 / 1024.0), "MiB");
    report.add("loadgen_cpu", usage.own_cores(), "cores");
    Ok(report)
}

/// A counter's value from the server's `/metrics` (0 if it was never counted).
async fn metric(addr: SocketAddr, name: &str) -> Result<f64> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream
        .write_all(
            format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await?;
    let mut body = String::new();
    stream.read_to_string(&mut body).await?;
    anyhow::ensure!(body.starts_with("HTTP/1.1 200"), "no metrics");
    // A counter never incremented is not listed.
    Ok(body
        .lines()
        .find_map(|line| line.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or(0.0))
}

/// Connects, says hello and waits for the welcome: returns the connection and our id.
async fn join(addr: SocketAddr, name: &str) -> Result<(RawWs, Id)> {
    join_with_buffer(addr, name, 8 * 1024).await
}

/// Joins that were closed before their welcome and tried again (all scenarios of this
/// process): a server may tell a client to reconnect at any time (1012: a cluster node
/// lost messages for it, or its room moved), and a browser then does.
static JOIN_RETRIES: AtomicUsize = AtomicUsize::new(0);

/// The largest welcome received while measuring (all scenarios of this process), in bytes.
static WELCOME_BYTES: AtomicUsize = AtomicUsize::new(0);

/// How often a join closed before its welcome is tried again.
const JOIN_ATTEMPTS: usize = 3;

/// [`join`], reading `buffer` bytes at a time; a join closed before its welcome is tried
/// again after a quarter of a second, as a browser would.
async fn join_with_buffer(addr: SocketAddr, name: &str, buffer: usize) -> Result<(RawWs, Id)> {
    let mut attempt = 1;
    loop {
        let ws = RawWs::connect_with_buffer(addr, "/ws", buffer)
            .await
            .context("connecting")?;
        match welcomed(ws, name).await {
            Err(err) if attempt < JOIN_ATTEMPTS && err.is::<ClosedBeforeWelcome>() => {
                attempt += 1;
                JOIN_RETRIES.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            result => return result,
        }
    }
}

/// The server closed the connection before it welcomed us.
#[derive(Debug)]
struct ClosedBeforeWelcome;

impl std::fmt::Display for ClosedBeforeWelcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("closed before the welcome")
    }
}

impl std::error::Error for ClosedBeforeWelcome {}

/// [`join`] with a 4 KiB kernel receive buffer, for a client that will stop reading.
async fn join_stalling(addr: SocketAddr, name: &str) -> Result<(RawWs, Id)> {
    let ws = RawWs::connect_with_window(addr, "/ws", 4096)
        .await
        .context("connecting")?;
    welcomed(ws, name).await
}

/// Says hello on `ws` and waits for the welcome.
async fn welcomed(mut ws: RawWs, name: &str) -> Result<(RawWs, Id)> {
    ws.send_text(&hello(ROOM, name)).await?;
    let mut buf = Vec::new();
    let Some(welcome) = ws.recv(Keep::Prefix(160), &mut buf).await? else {
        return Err(ClosedBeforeWelcome.into());
    };
    WELCOME_BYTES.fetch_max(welcome.len, Ordering::Relaxed);
    if !buf.starts_with(br#"{"type":"welcome""#) {
        bail!("not welcomed: {}", String::from_utf8_lossy(&buf));
    }
    let id = id_after(&buf, br#""you":""#).context("no id in the welcome")?;
    Ok((ws, id))
}

fn move_to(x: f32, y: f32) -> Vec<u8> {
    format!(r#"{{"type":"move","x":{x},"y":{y}}}"#).into_bytes()
}

/// A step of a walk that goes on, as the browser client sends it: it joins no circle it
/// passes (one that never says so joined and left every circle on its way, a
/// `circle_changed` for everyone near each time).
fn walk_step(x: f32, y: f32) -> Vec<u8> {
    format!(r#"{{"type":"move","x":{x},"y":{y},"walking":true}}"#).into_bytes()
}

/// The part of the floor a page shows: `size`, centred on `(x, y)`.
fn view_around((x, y): (f32, f32), (width, height): (f32, f32)) -> (f32, f32, f32, f32) {
    (
        (x - width / 2.0).round(),
        (y - height / 2.0).round(),
        width,
        height,
    )
}

fn view((x, y, width, height): (f32, f32, f32, f32)) -> Vec<u8> {
    format!(r#"{{"type":"view","x":{x},"y":{y},"width":{width},"height":{height}}}"#).into_bytes()
}

#[allow(clippy::too_many_arguments)] // one participant's whole setup, all needed
async fn participant(
    addr: SocketAddr,
    node: usize,
    i: usize,
    role: Role,
    (slot, size): ((f32, f32), Option<(f32, f32)>),
    floor: Floor,
    shared: SharedRef,
    gate: Rc<Semaphore>,
) {
    let started = Instant::now();
    let joined = {
        let _permit = gate.acquire().await;
        join(addr, &format!("Guest {i}")).await
    };
    let (mut ws, id) = match joined {
        Ok(joined) => joined,
        Err(err) => {
            let mut s = shared.borrow_mut();
            s.failures += 1;
            s.first_failure.get_or_insert_with(|| format!("{err:#}"));
            return;
        }
    };
    {
        let mut s = shared.borrow_mut();
        s.joined += 1;
        s.join_ramp.record(started.elapsed());
    }
    if ws.send_text(&move_to(slot.0, slot.1)).await.is_err() {
        return;
    }
    let shows = size.map(|size| view_around(slot, size));
    if let Some(rect) = shows {
        if ws.send_text(&view(rect)).await.is_err() {
            return;
        }
    }
    if role.walks {
        spawn_local(walk(
            ws.writer(),
            id,
            (i, node),
            slot,
            floor,
            shared.clone(),
        ));
    }
    let keep = if role.observes {
        Keep::All
    } else {
        Keep::Nothing
    };
    let mut buf = Vec::new();
    while let Ok(Some(got)) = ws.recv(keep, &mut buf).await {
        let now = Instant::now();
        let mut s = shared.borrow_mut();
        if s.stop {
            break;
        }
        if s.measuring {
            s.delivered += 1;
            s.bytes[i] += got.len as u64;
            if role.observes && buf.starts_with(br#"{"type":"tick""#) {
                seen_positions(&buf, now, node, shows, &mut s);
            }
        }
    }
}

/// Times every walker's move found in a tick at its latest target (seen by an observer
/// connected to `node`), inside what the observer's page shows if it said.
fn seen_positions(
    tick: &[u8],
    now: Instant,
    node: usize,
    shows: Option<(f32, f32, f32, f32)>,
    s: &mut Shared,
) {
    let in_view = |x: f32, y: f32| {
        shows.is_none_or(|(left, top, w, h)| x >= left && x <= left + w && y >= top && y <= top + h)
    };
    let Shared {
        pending,
        move_seen,
        move_seen_cross,
        ..
    } = s;
    let mut rest = tick;
    while let Some(at) = crate::ws::find(rest, b"[\"") {
        rest = &rest[at + 2..];
        let Some(id) = rest.get(..ID_LEN).and_then(|b| <Id>::try_from(b).ok()) else {
            return;
        };
        rest = &rest[ID_LEN..];
        let Some(end) = rest.iter().position(|b| *b == b']') else {
            return;
        };
        let numbers = std::str::from_utf8(&rest[..end]).unwrap_or("");
        let mut parts = numbers.trim_start_matches("\",").split(',');
        let x = parts.next().and_then(|v| v.parse::<f32>().ok());
        let y = parts.next().and_then(|v| v.parse::<f32>().ok());
        if let (Some(x), Some(y), Some((px, py, sent, from))) = (x, y, pending.get(&id)) {
            if x == *px && y == *py && in_view(x, y) {
                let took = now.saturating_duration_since(*sent);
                move_seen.record(took);
                if *from != node {
                    move_seen_cross.record(took);
                }
            }
        }
        rest = &rest[end..];
    }
}

/// Walks in straight lines, bouncing off the floor's edges, a step every 200 ms: walks of
/// five seconds, one after the other, each step but a walk's last saying `walking` (as
/// the browser's do), so that a walker joins the circles where a walk ends, not every one
/// it passes.
async fn walk(
    writer: Writer,
    id: Id,
    (i, node): (usize, usize),
    start: (f32, f32),
    floor: Floor,
    shared: SharedRef,
) {
    const STEP: f32 = 30.0;
    /// Steps of one walk (five seconds).
    const WALK: u64 = 25;
    let angle = i as f32 * 2.399_963; // golden angle: directions spread evenly
    let (mut dx, mut dy) = (angle.cos() * STEP, angle.sin() * STEP);
    let (mut x, mut y) = start;
    tokio::time::sleep(Duration::from_millis((i as u64 * 37) % 200)).await;
    let mut ticker = tokio::time::interval(Duration::from_millis(200));
    let mut steps = 0u64;
    loop {
        ticker.tick().await;
        steps += 1;
        if shared.borrow().stop {
            return;
        }
        if !(20.0..=floor.width - 20.0).contains(&(x + dx)) {
            dx = -dx;
        }
        if !(20.0..=floor.height - 20.0).contains(&(y + dy)) {
            dy = -dy;
        }
        (x, y) = ((x + dx).round(), (y + dy).round());
        shared
            .borrow_mut()
            .pending
            .insert(id, (x, y, Instant::now(), node));
        let step = if steps % WALK == 0 {
            move_to(x, y)
        } else {
            walk_step(x, y)
        };
        if writer.send_text(&step).await.is_err() {
            return;
        }
    }
}

/// What the churners measure, shared with the main thread.
#[derive(Debug, Default)]
struct ChurnShared {
    stop: AtomicBool,
    joins: Mutex<Samples>,
    failure: Mutex<Option<String>>,
}

/// Runs the churners on a thread of their own, so that their join times are what a
/// newcomer experiences, not the load generator's own backlog of thousands of sockets.
fn start_churners(
    addrs: Vec<SocketAddr>,
    churners: usize,
    floor: Floor,
    size: Option<(f32, f32)>,
) -> (Arc<ChurnShared>, std::thread::JoinHandle<()>) {
    let shared = Arc::new(ChurnShared::default());
    let thread_shared = shared.clone();
    let thread = std::thread::spawn(move || {
        let _ = run_local(async move {
            let tasks: Vec<_> = (0..churners)
                .map(|k| {
                    let addr = addrs[k % addrs.len()];
                    spawn_local(churner(addr, k, floor, size, thread_shared.clone()))
                })
                .collect();
            for task in tasks {
                let _ = task.await;
            }
        });
    });
    (shared, thread)
}

/// Joins (timed), stays one to three seconds somewhere on the floor, leaves; again.
async fn churner(
    addr: SocketAddr,
    k: usize,
    floor: Floor,
    size: Option<(f32, f32)>,
    shared: Arc<ChurnShared>,
) {
    let mut round = 0u64;
    while !shared.stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        // Newcomers read like a browser does: in large chunks.
        let (mut ws, _) = match join_with_buffer(addr, &format!("Visitor {k}"), 256 * 1024).await {
            Ok(joined) => joined,
            Err(err) => {
                lock(&shared.failure).get_or_insert_with(|| format!("{err:#}"));
                return;
            }
        };
        lock(&shared.joins).record(started.elapsed());
        round += 1;
        let spot = ((k as u64 * 7919 + round * 104_729) % 1000) as f32 / 1000.0;
        let at = (
            (spot * floor.width).round(),
            ((1.0 - spot) * floor.height).round(),
        );
        let _ = ws.send_text(&move_to(at.0, at.1)).await;
        if let Some(size) = size {
            let _ = ws.send_text(&view(view_around(at, size))).await;
        }
        let stay = Duration::from_millis(1000 + (round * 613 + k as u64 * 97) % 2000);
        let writer = ws.writer();
        let drain = async {
            let mut buf = Vec::new();
            while let Ok(Some(_)) = ws.recv(Keep::Nothing, &mut buf).await {}
        };
        let _ = tokio::time::timeout(stay, drain).await;
        let _ = writer.close().await;
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The floor of the benchmark room and where groups stand on it.
#[derive(Debug, Clone, Copy)]
pub struct Floor {
    /// Width in floor units.
    pub width: f32,
    /// Height in floor units.
    pub height: f32,
}

/// Group sizes, cycled: 4.5 people per circle on average.
const GROUP_SIZES: [usize; 6] = [3, 4, 5, 6, 4, 5];

impl Floor {
    /// About 8,000 square units per person (circles of six need about that to stay apart),
    /// never smaller than the default 2400 × 1600, in a 3:2 shape.
    pub fn for_people(people: usize) -> Floor {
        let area = (people as f32 * 8000.0).max(2400.0 * 1600.0);
        let width = (area * 1.5).sqrt().round();
        Floor {
            width,
            height: (width / 1.5).round(),
        }
    }

    /// A standing spot for each of `n` people: groups on a grid, each group on a small
    /// ring around its centre.
    pub fn slots(&self, n: usize) -> Vec<(f32, f32)> {
        let groups = ((n as f32 / 4.5).ceil() as usize).max(1);
        let cols = ((groups as f32 * self.width / self.height).sqrt().ceil() as usize).max(1);
        let rows = groups.div_ceil(cols);
        let (sx, sy) = (self.width / cols as f32, self.height / rows as f32);
        let mut out = Vec::with_capacity(n);
        let mut group = 0;
        while out.len() < n {
            let size = GROUP_SIZES[group % GROUP_SIZES.len()];
            let cx = ((group % cols) as f32 + 0.5) * sx;
            let cy = (((group / cols) % rows) as f32 + 0.5) * sy;
            for k in 0..size {
                if out.len() == n {
                    break;
                }
                let a = k as f32 / size as f32 * std::f32::consts::TAU;
                out.push(((cx + 30.0 * a.cos()).round(), (cy + 30.0 * a.sin()).round()));
            }
            group += 1;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_stay_on_the_floor_and_apart_by_group() {
        let floor = Floor::for_people(1500);
        let slots = floor.slots(1500);
        assert_eq!(slots.len(), 1500);
        assert!(
            slots
                .iter()
                .all(|(x, y)| *x > 0.0 && *y > 0.0 && *x < floor.width && *y < floor.height)
        );
    }

    #[test]
    fn reads_positions_out_of_a_tick() {
        let id = *b"0123456789a";
        let sent = Instant::now();
        let mut s = Shared::default();
        s.pending.insert(id, (512.0, 640.0, sent, 1));
        let tick = br#"{"type":"tick","positions":[["ffffffffff0",1,2],["0123456789a",512,640]]}"#;
        seen_positions(tick, sent + Duration::from_millis(7), 0, None, &mut s);
        assert_eq!(s.move_seen.len(), 1);
        assert_eq!(
            s.move_seen_cross.len(),
            1,
            "walker on node 1, observer on node 0"
        );
        assert_eq!(s.move_seen.percentile_ms(50.0), Some(7.0));
    }
}
