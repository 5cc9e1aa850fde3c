//! `sfu`: one publisher (a host on air) sends synthetic VP8 at 1.5 Mbps plus Opus through
//! the SFU to N listeners, webrtc-rs peers in this process that negotiate over the real
//! protocol. N grows in steps; each step is measured for a while and reports the packet
//! loss over all listeners, the forwarded bit rate, and the CPU of the server and of the
//! listeners (which share the machine). The largest N with under 1% loss is the result.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures_util::{SinkExt, StreamExt};
use hallway::access::{TokenRole, Tokens};
use hallway_proto::{ClientMessage, PROTOCOL_VERSION, ServerMessage};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use webrtc::media_stream::track_remote::TrackRemoteEvent;

use super::Meter;
use super::sfu_layers::{self, Sequence};
use crate::report::Report;
use crate::spawn;
use crate::webrtc_peer::{AUDIO_SSRC, Peer, Sending, VIDEO_SSRC};

/// Size of a video packet's payload.
const VIDEO_PAYLOAD: usize = 1150;
/// Size of an audio packet's payload (Opus at about 64 kbit/s).
const AUDIO_PAYLOAD: usize = 160;
/// Loss above this ends the search.
const MAX_LOSS: f64 = 0.01;

/// How an SFU run is shaped.
#[derive(Debug, Clone)]
pub struct SfuOptions {
    /// Listener counts to try, in order; the run stops at the first with too much loss.
    pub steps: Vec<usize>,
    /// Measured time per step.
    pub duration: Duration,
    /// Video bit rate of the publisher (of its top layer, with `simulcast`).
    pub video_kbps: u32,
    /// The publisher's camera goes in three layers and listeners tell the sizes they
    /// show it at (see `sfu_layers`).
    pub simulcast: bool,
}

impl SfuOptions {
    /// The default steps, 1.5 Mbps, 10 s a step.
    pub fn new() -> SfuOptions {
        SfuOptions {
            steps: vec![25, 50, 100, 150, 200, 300, 400, 500, 600, 800],
            duration: Duration::from_secs(10),
            video_kbps: 1500,
            simulcast: false,
        }
    }
}

impl Default for SfuOptions {
    fn default() -> Self {
        SfuOptions::new()
    }
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A signalling connection.
struct Signalling {
    socket: Socket,
}

impl Signalling {
    async fn join(
        addr: std::net::SocketAddr,
        name: &str,
        token: Option<String>,
    ) -> Result<(Signalling, String)> {
        let (socket, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws")).await?;
        let mut s = Signalling { socket };
        s.send(&ClientMessage::Hello {
            version: PROTOCOL_VERSION,
            room: "lobby".into(),
            name: name.into(),
            profile: None,
            token,
            passcode: None,
            resume: None,
        })
        .await?;
        let id = s
            .until(|m| match m {
                ServerMessage::Welcome { you, .. } => Some(you.clone()),
                _ => None,
            })
            .await?;
        Ok((s, id))
    }

    async fn send(&mut self, msg: &ClientMessage) -> Result<()> {
        let text = serde_json::to_string(msg)?;
        self.socket.send(Message::text(text)).await?;
        Ok(())
    }

    async fn recv(&mut self) -> Result<ServerMessage> {
        loop {
            match self.socket.next().await.context("closed")?? {
                Message::Text(text) => return Ok(serde_json::from_str(&text)?),
                Message::Close(frame) => bail!("closed: {frame:?}"),
                _ => {}
            }
        }
    }

    async fn until<T>(&mut self, mut pick: impl FnMut(&ServerMessage) -> Option<T>) -> Result<T> {
        let until = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let msg = tokio::time::timeout_at(until, self.recv())
                .await
                .context("timed out")??;
            if let Some(found) = pick(&msg) {
                return Ok(found);
            }
        }
    }
}

/// Where one listener got to: printed, by count, for a step in which some did not connect.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    /// Opening its WebSocket, waiting for the welcome.
    Joining,
    /// Welcomed, waiting for the SFU's offer.
    Welcomed,
    /// Answered; the connection is in this state (no packet yet).
    Answered(String),
    /// Receiving packets.
    Receiving,
    /// Its task ended with this error.
    Failed(String),
}

/// What one listener's task reports about itself.
type Status = Arc<std::sync::Mutex<Stage>>;

fn set(status: &Status, stage: Stage) {
    if let Ok(mut s) = status.lock() {
        *s = stage;
    }
}

/// What listeners count, all together.
#[derive(Debug, Default)]
struct Received {
    packets: AtomicU64,
    bytes: AtomicU64,
    /// Packets the sequence numbers say were sent (with `simulcast`).
    expected: AtomicU64,
}

/// With `simulcast`: the view a listener tells for the publisher's camera (`None`: it
/// tells none), and the size of the last keyframe it received.
#[derive(Debug, Clone)]
struct Layered {
    publisher: String,
    view: Option<(u32, u32)>,
    size: sfu_layers::LastKeyframe,
}

/// One listener: answers the SFU's offers and counts the packets and bytes it receives.
async fn listener(
    addr: std::net::SocketAddr,
    name: String,
    received: Arc<Received>,
    ready: tokio::sync::mpsc::Sender<()>,
    status: Status,
    layered: Option<Layered>,
) {
    if let Err(err) = listen(addr, name, received, ready, &status, layered).await {
        set(&status, Stage::Failed(format!("{err:#}")));
    }
}

async fn listen(
    addr: std::net::SocketAddr,
    name: String,
    received: Arc<Received>,
    ready: tokio::sync::mpsc::Sender<()>,
    status: &Status,
    layered: Option<Layered>,
) -> Result<()> {
    let (mut signalling, _) = Signalling::join(addr, &name, None)
        .await
        .context("joining")?;
    set(status, Stage::Welcomed);
    let mut peer = Peer::new().await?;
    let mut state = peer.watch_state();
    let mut ready = Some(ready);
    let mut receiving = false;
    let mut current = None;
    loop {
        tokio::select! {
            msg = signalling.recv() => {
                if let ServerMessage::SfuOffer { sdp, connection } = msg.context("signalling")? {
                    // A new connection number: the server's end of the old one is gone.
                    if current.is_some_and(|c| c != connection) {
                        peer = Peer::new().await?;
                        state = peer.watch_state();
                    }
                    current = Some(connection);
                    let sdp = peer.answer(sdp).await.context("answering the offer")?;
                    let connection = Some(connection);
                    signalling.send(&ClientMessage::SfuAnswer { sdp, connection }).await?;
                    if let Some(Layered { publisher, view: Some((width, height)), .. }) = &layered {
                        let views = vec![hallway_proto::client::SfuView {
                            stream: format!("p{publisher}"),
                            width: *width,
                            height: *height,
                        }];
                        signalling.send(&ClientMessage::SfuView { views }).await?;
                    }
                    if !receiving {
                        set(status, Stage::Answered(format!("{:?}", peer.state())));
                    }
                }
            }
            Ok(()) = state.changed() => {
                let now = *state.borrow_and_update();
                if !receiving {
                    set(status, Stage::Answered(format!("{now:?}")));
                }
            }
            Some(remote) = peer.tracks.recv() => {
                let received = received.clone();
                let ready = ready.take();
                let status = status.clone();
                let size = layered.as_ref().map(|l| l.size.clone());
                receiving = true;
                tokio::spawn(async move {
                    let mut first = true;
                    let mut sequence = Sequence::default();
                    while let Some(event) = remote.poll().await {
                        if let TrackRemoteEvent::OnRtpPacket(p) = event {
                            received.packets.fetch_add(1, Ordering::Relaxed);
                            received.bytes.fetch_add(p.payload.len() as u64 + 12, Ordering::Relaxed);
                            if let Some(size) = &size {
                                received.expected.fetch_add(sequence.expected(p.header.sequence_number), Ordering::Relaxed);
                                if let (Some(key), Ok(mut s)) = (sfu_layers::keyframe_size(&p.payload), size.lock()) {
                                    *s = Some(key);
                                }
                            }
                            if first {
                                first = false;
                                set(&status, Stage::Receiving);
                                if let Some(ready) = &ready {
                                    let _ = ready.send(()).await;
                                }
                            }
                        }
                    }
                });
            }
        }
    }
}

/// The publisher's side, watched for the whole run: its signalling is read (so that it
/// answers the server's pings and is not closed as dead) and what happens to it is kept.
#[derive(Debug, Default)]
struct HostWatch {
    /// Why its WebSocket ended, if it did.
    closed: Option<String>,
    /// Whether the server says it still broadcasts.
    broadcasting: bool,
    /// Errors the server sent it.
    errors: Vec<String>,
}

/// The highest layer the server says the publisher should send (`sfu_layers`).
type Top = Arc<std::sync::atomic::AtomicU8>;

async fn watch_host(
    mut host: Signalling,
    id: String,
    watch: Arc<std::sync::Mutex<HostWatch>>,
    top: Top,
) {
    loop {
        let msg = host.recv().await;
        let Ok(mut w) = watch.lock() else { return };
        match msg {
            Ok(ServerMessage::SfuLayers { top: told }) => top.store(told, Ordering::Relaxed),
            Ok(ServerMessage::Broadcast { id: who, on }) if who == id => w.broadcasting = on,
            Ok(ServerMessage::Error { code, message, .. }) => {
                w.errors.push(format!("{code:?}: {message}"));
            }
            Ok(_) => {}
            Err(err) => {
                w.closed = Some(format!("{err:#}"));
                return;
            }
        }
    }
}

/// Counts the stages of listeners that are not receiving, e.g. `3 × Welcomed`.
fn not_receiving(statuses: &[Status]) -> Vec<(Stage, usize)> {
    let mut counts = std::collections::BTreeMap::new();
    for s in statuses {
        let stage = s.lock().map(|s| s.clone()).unwrap_or(Stage::Joining);
        if stage != Stage::Receiving {
            *counts.entry(stage).or_insert(0) += 1;
        }
    }
    counts.into_iter().collect()
}

/// Runs the steps against a fresh server.
pub fn run(binary: &Path, opts: &SfuOptions) -> Result<Vec<Report>> {
    crate::procstat::raise_fd_limit(
        opts.steps.iter().max().copied().unwrap_or(0) as u64 * 8 + 1024,
    );
    let target = spawn::hallway(binary, &[("HALLWAY_MAX_PARTICIPANTS", "100000".into())])?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(steps(target.addr, target.pid(), opts))
}

async fn steps(addr: std::net::SocketAddr, pid: u32, opts: &SfuOptions) -> Result<Vec<Report>> {
    let tokens = Tokens::new(spawn::secret().as_bytes());
    let token = tokens.mint(
        "lobby",
        TokenRole::Host,
        None,
        hallway::clock::now_secs() + 3600,
    );
    let (mut host, host_id) = Signalling::join(addr, "Publisher", Some(token)).await?;
    host.send(&ClientMessage::Broadcast { on: true }).await?;
    // The publisher's connection.
    let (mut sending, sdp) = if opts.simulcast {
        Sending::offer_layered().await?
    } else {
        Sending::offer().await?
    };
    host.send(&ClientMessage::SfuOffer { sdp, screen: None })
        .await?;
    let answer = host
        .until(|m| match m {
            ServerMessage::SfuAnswer { sdp } => Some(sdp.clone()),
            _ => None,
        })
        .await?;
    sending.accept(answer).await?;
    let (audio, video) = (sending.audio.clone(), sending.video.clone());
    let host_watch = Arc::new(std::sync::Mutex::new(HostWatch {
        broadcasting: true,
        ..HostWatch::default()
    }));
    let top: Top = Arc::new(std::sync::atomic::AtomicU8::new(2));
    tokio::spawn(watch_host(
        host,
        host_id.clone(),
        host_watch.clone(),
        top.clone(),
    ));
    // With simulcast, the camera's layers go on a task of their own.
    let layer_sent = Arc::new(sfu_layers::Sent::default());
    let layers = match &sending.layers {
        Some(names) => Some(tokio::spawn(sfu_layers::send_layers(
            video.clone(),
            names.clone(),
            opts.video_kbps,
            sending.keyframe_requests.clone(),
            top.clone(),
            layer_sent.clone(),
        ))),
        None => None,
    };
    let single_layer = layers.is_none();

    // Paced sending: video packets at the bit rate, one audio packet every 20 ms.
    let video_per_second = f64::from(opts.video_kbps) * 1000.0 / 8.0 / VIDEO_PAYLOAD as f64;
    let sent_video = Arc::new(AtomicU64::new(0));
    let sent_audio = Arc::new(AtomicU64::new(0));
    let pacer = {
        let (audio, video) = (audio.clone(), video.clone());
        let (sent_video, sent_audio) = (sent_video.clone(), sent_audio.clone());
        tokio::spawn(async move {
            let start = Instant::now();
            let mut n_video = 0u64;
            let mut n_audio = 0u64;
            loop {
                let elapsed = start.elapsed().as_secs_f64();
                while single_layer && (n_video as f64) < elapsed * video_per_second {
                    n_video += 1;
                    if send_one(&video, VIDEO_SSRC, n_video, VIDEO_PAYLOAD)
                        .await
                        .is_ok()
                    {
                        sent_video.fetch_add(1, Ordering::Relaxed);
                    }
                }
                while (n_audio as f64) < elapsed * 50.0 {
                    n_audio += 1;
                    if send_one(&audio, AUDIO_SSRC, n_audio, AUDIO_PAYLOAD)
                        .await
                        .is_ok()
                    {
                        sent_audio.fetch_add(1, Ordering::Relaxed);
                    }
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };

    let received = Arc::new(Received::default());
    let mut sizes = Vec::new();
    let mut joined = 0usize;
    let mut tasks = Vec::new();
    let mut statuses: Vec<Status> = Vec::new();
    let mut reports = Vec::new();
    let mut best: Option<usize> = None;
    for &n in &opts.steps {
        let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel(n.max(1));
        let mut waiting = 0;
        while joined < n {
            joined += 1;
            waiting += 1;
            let status = Arc::new(std::sync::Mutex::new(Stage::Joining));
            statuses.push(status.clone());
            let layered = opts.simulcast.then(|| Layered {
                publisher: host_id.clone(),
                view: sfu_layers::view_of(joined - 1),
                size: Arc::new(std::sync::Mutex::new(None)),
            });
            if let Some(l) = &layered {
                sizes.push(l.size.clone());
            }
            tasks.push(tokio::spawn(listener(
                addr,
                format!("Listener {joined}"),
                received.clone(),
                ready_tx.clone(),
                status,
                layered,
            )));
        }
        // Everyone new receives before measuring.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
        while waiting > 0 {
            match tokio::time::timeout_at(deadline, ready_rx.recv()).await {
                Ok(Some(())) => waiting -= 1,
                _ => break,
            }
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        let meter = Meter::start(pid);
        let (p0, b0, e0) = (
            received.packets.load(Ordering::Relaxed),
            received.bytes.load(Ordering::Relaxed),
            received.expected.load(Ordering::Relaxed),
        );
        let l0 = layer_sent
            .bytes
            .each_ref()
            .map(|b| b.load(Ordering::Relaxed));
        let (v0, a0) = (
            sent_video.load(Ordering::Relaxed),
            sent_audio.load(Ordering::Relaxed),
        );
        tokio::time::sleep(opts.duration).await;
        let usage = meter.read();
        let got = received.packets.load(Ordering::Relaxed) - p0;
        let received_bytes = received.bytes.load(Ordering::Relaxed) - b0;
        let sent =
            (sent_video.load(Ordering::Relaxed) - v0) + (sent_audio.load(Ordering::Relaxed) - a0);
        // One layer each: what each listener's numbering says it was sent.
        let expected = if single_layer {
            sent as f64 * n as f64
        } else {
            (received.expected.load(Ordering::Relaxed) - e0) as f64
        };
        let loss = if expected > 0.0 {
            (1.0 - got as f64 / expected).max(0.0)
        } else {
            1.0
        };
        let mbps = received_bytes as f64 * 8.0 / usage.seconds / 1e6;
        let name = format!("sfu-{n}");
        let mut report = Report::new(&name);
        report.add("listeners", n as f64, "");
        if !single_layer {
            let kbps = layer_sent
                .bytes
                .each_ref()
                .map(|b| b.load(Ordering::Relaxed))
                .iter()
                .zip(l0)
                .map(|(now, before)| {
                    format!(
                        "{:.0}",
                        (now - before) as f64 * 8.0 / usage.seconds / 1000.0
                    )
                })
                .collect::<Vec<_>>();
            println!(
                "{name} publisher layers l / m / h: {} kbit/s",
                kbps.join(" / ")
            );
            for (size, count) in sfu_layers::tally(&sizes) {
                let (said, figure) = size.map_or(
                    ("no keyframe yet".to_owned(), "receiving_none".to_owned()),
                    |(w, h)| (format!("{w} × {h}"), format!("receiving_{w}x{h}")),
                );
                println!("{name} listeners receiving {said}: {count}");
                report.add(&figure, count as f64, "listeners");
            }
        }
        report.add("connected", (n - waiting) as f64, "");
        // Why some are not receiving, and how the publisher is doing: printed as they are
        // found (a collapsed step must say what collapsed).
        let stuck = not_receiving(&statuses);
        report.add(
            "not_receiving",
            stuck.iter().map(|(_, n)| *n).sum::<usize>() as f64,
            "",
        );
        for (stage, count) in &stuck {
            println!("{name} not receiving: {count} × {stage:?}");
        }
        let publisher = format!("{:?}", sending.peer.state());
        if let Ok(w) = host_watch.lock() {
            println!(
                "{name} publisher: connection {publisher}, broadcasting {}, signalling {}{}",
                w.broadcasting,
                w.closed.as_deref().unwrap_or("open"),
                if w.errors.is_empty() {
                    String::new()
                } else {
                    format!(", errors {:?}", w.errors)
                }
            );
            report.add(
                "publisher_ok",
                f64::from(u8::from(
                    w.closed.is_none()
                        && w.broadcasting
                        && sending.peer.state()
                            == webrtc::peer_connection::RTCPeerConnectionState::Connected,
                )),
                "",
            );
        }
        report.add("loss", loss * 100.0, "%");
        report.add("forwarded", mbps, "Mbit/s");
        report.add("server_cpu", usage.server_cores(), "cores");
        report.add(
            "server_cpu_per_100_mbps",
            (mbps > 0.0).then(|| usage.server_cores() / mbps * 100.0),
            "cores",
        );
        report.add("listeners_cpu", usage.own_cores(), "cores");
        reports.push(report);
        if loss > MAX_LOSS || waiting > 0 {
            break;
        }
        best = Some(n);
    }
    let mut summary = Report::new("sfu");
    summary.add(
        "largest_n_under_1pct_loss",
        best.map(|n| n as f64),
        "listeners",
    );
    if let Some(last_ok) = best.and_then(|n| {
        reports
            .iter()
            .find(|r| r.get("listeners") == Some(n as f64))
    }) {
        let cores = last_ok.get("server_cpu").unwrap_or(f64::NAN);
        summary.add(
            "listeners_per_server_core",
            best.map(|n| n as f64 / cores),
            "listeners",
        );
    }
    reports.push(summary);
    pacer.abort();
    for t in tasks {
        t.abort();
    }
    Ok(reports)
}

/// Sends packet `n` of one track.
async fn send_one(
    track: &webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP,
    ssrc: u32,
    n: u64,
    payload: usize,
) -> Result<()> {
    use webrtc::media_stream::track_local::TrackLocal;
    let video = ssrc == VIDEO_SSRC;
    let packet = rtc::rtp::Packet {
        header: rtc::rtp::header::Header {
            version: 2,
            marker: true,
            payload_type: if video {
                crate::webrtc_peer::VP8_PT
            } else {
                crate::webrtc_peer::OPUS_PT
            },
            sequence_number: n as u16,
            timestamp: (n as u32).wrapping_mul(if video { 3000 } else { 960 }),
            ssrc,
            ..Default::default()
        },
        payload: vec![0u8; payload].into(),
    };
    track.write_rtp(packet).await?;
    Ok(())
}
