//! WebRTC peers for tests, built on webrtc-rs: a publisher that sends synthetic Opus and
//! VP8 RTP to the server's SFU and subscribers that count what the SFU forwards them. Both
//! negotiate through the real protocol (`sfu_offer` / `sfu_answer` on the WebSocket) and
//! send their media over real UDP on loopback.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use hallway_bench::webrtc_peer::{
    DEADLINE, Peer, PeerCodecs, Route, SCREEN_SSRC, Sending, VP8_PT, send_pair,
};
use hallway_proto::{ClientMessage, ServerMessage};
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};

use crate::TestClient;
use crate::udp_proxy::UdpProxy;

/// Sends one Opus and one VP8 track to the SFU.
pub struct Publisher {
    sending: Sending,
    /// The SFU's answer.
    pub answer: String,
    /// Keyframe requests (PLI, FIR) that reached this publisher's video track.
    pub keyframe_requests: Arc<std::sync::atomic::AtomicU64>,
    sequence: u16,
}

impl Publisher {
    /// Offers both tracks to the SFU over `client`'s WebSocket and waits until connected.
    pub async fn start(client: &mut TestClient) -> Result<Publisher> {
        let (sending, sdp) = Sending::offer().await?;
        Publisher::negotiate(client, sending, sdp, None).await
    }

    /// Like [`Publisher::start`], with the offer changed by `edit` before it is sent.
    pub async fn start_with_offer_edit(
        client: &mut TestClient,
        edit: impl FnOnce(&str) -> String,
    ) -> Result<Publisher> {
        let (sending, sdp) = Sending::offer().await?;
        let edited = edit(&sdp);
        if edited == sdp {
            bail!("the edit changed nothing");
        }
        Publisher::negotiate(client, sending, edited, None).await
    }

    /// Offers both tracks and a screen share (a second video track, named by its `mid`
    /// in the offer's `screen`) and waits until connected.
    pub async fn start_with_screen(client: &mut TestClient) -> Result<Publisher> {
        let (sending, sdp) = Sending::offer_with_screen().await?;
        Publisher::negotiate(client, sending, sdp, Some("2".into())).await
    }

    /// Offers both tracks to the SFU and returns its answer without connecting (for what
    /// the answer says: codecs, candidates).
    pub async fn answer_only(client: &mut TestClient) -> Result<String> {
        let (_sending, sdp) = Sending::offer().await?;
        client
            .send(&ClientMessage::SfuOffer { sdp, screen: None })
            .await?;
        client
            .wait_for("the SFU's answer", |m| match m {
                ServerMessage::SfuAnswer { sdp } => Some(sdp.clone()),
                _ => None,
            })
            .await
    }

    async fn negotiate(
        client: &mut TestClient,
        mut sending: Sending,
        sdp: String,
        screen: Option<String>,
    ) -> Result<Publisher> {
        client
            .send(&ClientMessage::SfuOffer { sdp, screen })
            .await?;
        let answer = client
            .wait_for("the SFU's answer", |m| match m {
                ServerMessage::SfuAnswer { sdp } => Some(sdp.clone()),
                _ => None,
            })
            .await?;
        sending.accept(answer.clone()).await?;
        Ok(Publisher {
            answer,
            keyframe_requests: sending.keyframe_requests.clone(),
            sending,
            sequence: 0,
        })
    }

    /// Sends one audio and one video packet (and one of the screen share, if it sends
    /// one), each numbered in its payload.
    pub async fn send_pair(&mut self, payload_bytes: usize) -> Result<()> {
        use webrtc::media_stream::track_local::TrackLocal;
        self.sequence = self.sequence.wrapping_add(1);
        send_pair(
            &self.sending.audio,
            &self.sending.video,
            self.sequence,
            payload_bytes,
        )
        .await?;
        if let Some(screen) = &self.sending.screen {
            let n = self.sequence;
            let packet = rtc::rtp::Packet {
                header: rtc::rtp::header::Header {
                    version: 2,
                    marker: true,
                    payload_type: VP8_PT,
                    sequence_number: n,
                    timestamp: u32::from(n).wrapping_mul(3000),
                    ssrc: SCREEN_SSRC,
                    ..Default::default()
                },
                payload: vec![0u8; payload_bytes.max(4)].into(),
            };
            screen.write_rtp(packet).await?;
        }
        Ok(())
    }

    /// Sends `pairs` packet pairs, one every 20 ms (50 per second per track).
    pub async fn send_pairs(&mut self, pairs: u64) -> Result<()> {
        for _ in 0..pairs {
            self.send_pair(200).await?;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    }

    /// Sends a packet pair every 20 ms until `until` is done, and returns what it gave.
    pub async fn send_until<T>(
        &mut self,
        until: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        tokio::pin!(until);
        loop {
            tokio::select! {
                done = &mut until => return done,
                () = tokio::time::sleep(Duration::from_millis(20)) => self.send_pair(200).await?,
            }
        }
    }

    /// Sends until every one of `listeners` receives every one of `tracks`.
    pub async fn send_until_received(
        &mut self,
        listeners: &[Subscriber],
        tracks: &[String],
    ) -> Result<()> {
        self.send_until(async {
            for l in listeners {
                l.wait_for_packets(tracks, 1).await?;
            }
            Ok(())
        })
        .await
    }

    /// Closes the connection.
    pub async fn close(self) -> Result<()> {
        self.sending.peer.pc.close().await?;
        Ok(())
    }
}

/// What one subscriber received, by track (stream id and kind).
#[derive(Debug, Default, Clone)]
pub struct Received {
    /// Packets per track, keyed by `<stream id>/<kind>`.
    pub packets: HashMap<String, u64>,
    /// Tracks that ended: the server's description stopped sending them.
    pub ended: Vec<String>,
    /// Tracks the server's latest description sends.
    pub offered: Vec<String>,
    /// The `type` of every message the participant received, in order.
    pub messages: Vec<String>,
    /// Every session description the server sent.
    pub descriptions: Vec<String>,
    /// Packets per track whose sequence number had been seen before (retransmissions).
    pub repeated: HashMap<String, u64>,
    /// The last sequence number per track.
    pub last_sequence: HashMap<String, u16>,
    /// After a [`Subscriber::blip`]: whether the participant resumed.
    pub resumed: bool,
    /// Receiving connections replaced because the server offered a new one.
    pub connections: u64,
    /// Why the subscriber's task ended, if it failed.
    pub failed: Option<String>,
    /// The receiving connection's state (webrtc-rs's name for it).
    pub state: String,
}

/// The tracks (`<stream id>/<kind>`) a description sends: media sections that are
/// `sendonly` or `sendrecv`, named by their `msid`.
pub fn sent_tracks(sdp: &str) -> Vec<String> {
    let mut out = Vec::new();
    for section in sdp.split("\r\nm=").skip(1) {
        let kind = section.split(' ').next().unwrap_or_default();
        let sends = section
            .lines()
            .any(|l| l == "a=sendonly" || l == "a=sendrecv");
        let stream = section
            .lines()
            .find_map(|l| l.strip_prefix("a=msid:"))
            .and_then(|m| m.split(' ').next());
        if let (true, Some(stream)) = (sends, stream) {
            out.push(format!("{stream}/{kind}"));
        }
    }
    out
}

/// Receives what the SFU forwards to one participant: answers its offers on the
/// participant's WebSocket (from a task of its own) and counts packets per track.
pub struct Subscriber {
    received: Arc<Mutex<Received>>,
    /// The tracks received, by `<stream id>/<kind>`, to send feedback about.
    remotes: Arc<Mutex<HashMap<String, Arc<dyn TrackRemote>>>>,
    /// Set to `true` to stop reading RTP (a subscriber that falls behind).
    pub stalled: Arc<std::sync::atomic::AtomicBool>,
    /// Orders to drop the WebSocket for a while, then resume.
    blips: tokio::sync::mpsc::Sender<(std::net::SocketAddr, Duration)>,
    /// Orders to drop the receiving connection and send `sfu_restart`.
    restarts: tokio::sync::mpsc::Sender<()>,
    /// Messages to send on the participant's WebSocket (to walk, or to unpublish).
    says: tokio::sync::mpsc::Sender<ClientMessage>,
    task: tokio::task::JoinHandle<Result<()>>,
}

impl Subscriber {
    /// Takes over `client`: from now on its task reads the WebSocket.
    pub fn start(client: TestClient) -> Subscriber {
        Subscriber::start_with(client, false, Route::Direct)
    }

    /// Takes over `client` and receives over TCP only (ICE-TCP), as behind a firewall that
    /// lets no UDP through.
    pub fn start_over_tcp(client: TestClient) -> Subscriber {
        Subscriber::start_with(client, false, Route::Tcp)
    }

    /// Takes over `client` and receives only through TURN: its connection gathers relay
    /// candidates only, from the ICE servers in `client`'s welcome.
    pub fn start_relayed(client: TestClient) -> Result<Subscriber> {
        let Some(ServerMessage::Welcome { ice_servers, .. }) = &client.welcome else {
            bail!("not welcomed");
        };
        if ice_servers.is_empty() {
            bail!("the welcome names no ICE servers");
        }
        let route = Route::Relay(ice_servers.clone());
        Ok(Subscriber::start_with(client, false, route))
    }

    /// Takes over `client` and receives through `proxy` (its offers name the relay as
    /// the SFU's address), so that the test can break the path.
    pub fn start_through(client: TestClient, proxy: Arc<UdpProxy>) -> Subscriber {
        Subscriber::start_with_options(
            client,
            false,
            Route::Direct,
            Some(proxy),
            PeerCodecs::Default,
        )
    }

    /// Takes over `client` and receives with a peer that supports `codecs` only.
    pub fn start_with_codecs(client: TestClient, codecs: PeerCodecs) -> Subscriber {
        Subscriber::start_with_options(client, false, Route::Direct, None, codecs)
    }

    /// Takes over `client` and also publishes both tracks to the SFU, sending a packet
    /// pair every 20 ms once connected (a member of a circle routed through the SFU).
    pub fn start_publishing(client: TestClient) -> Subscriber {
        Subscriber::start_with(client, true, Route::Direct)
    }

    fn start_with(client: TestClient, publish: bool, route: Route) -> Subscriber {
        Subscriber::start_with_options(client, publish, route, None, PeerCodecs::Default)
    }

    fn start_with_options(
        mut client: TestClient,
        publish: bool,
        route: Route,
        proxy: Option<Arc<UdpProxy>>,
        codecs: PeerCodecs,
    ) -> Subscriber {
        let received = Arc::new(Mutex::new(Received::default()));
        let stalled = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let counts = received.clone();
        let stall = stalled.clone();
        let remotes = Arc::new(Mutex::new(HashMap::new()));
        let tracks_by_name = remotes.clone();
        let (blips, mut blip_orders) = tokio::sync::mpsc::channel(1);
        let (restarts, mut restart_orders) = tokio::sync::mpsc::channel::<()>(1);
        let (says, mut say_orders) = tokio::sync::mpsc::channel::<ClientMessage>(4);
        let failure = received.clone();
        let task = tokio::spawn(async move {
            let result: Result<()> = async move {
            let mut peer: Option<Peer> = None;
            let mut publisher = None;
            if publish {
                let (p, sdp) = Sending::offer().await?;
                client
                    .send(&ClientMessage::SfuOffer { sdp, screen: None })
                    .await?;
                publisher = Some(p);
            }
            // Held, not read: dropping it (when this task ends) stops the packets.
            let mut _pacing = None;
            // The receiving connection's state as it changes.
            let mut state: Option<
                tokio::sync::watch::Receiver<webrtc::peer_connection::RTCPeerConnectionState>,
            > = None;
            // The number of the receiving connection answered last.
            let mut current: Option<u64> = None;
            loop {
                let tracks = async {
                    match peer.as_mut() {
                        Some(p) => p.tracks.recv().await,
                        None => std::future::pending().await,
                    }
                };
                let state_changed = async {
                    match state.as_mut() {
                        Some(rx) => rx.changed().await.ok().map(|()| format!("{:?}", *rx.borrow_and_update())),
                        None => std::future::pending().await,
                    }
                };
                let msg = tokio::select! {
                    // No deadline: a listener hears nothing for as long as nothing changes.
                    msg = client.next_message() => msg,
                    Some(now) = state_changed => {
                        if let Ok(mut r) = counts.lock() {
                            r.state = now;
                        }
                        continue;
                    }
                    Some(track) = tracks => {
                        tokio::spawn(count(track, counts.clone(), stall.clone(), tracks_by_name.clone()));
                        continue;
                    }
                    Some(say) = say_orders.recv() => {
                        client.send(&say).await?;
                        continue;
                    }
                    Some(()) = restart_orders.recv() => {
                        // As a client whose receiving connection failed: close it, ask anew.
                        if let Some(old) = peer.take() {
                            let _ = old.pc.close().await;
                        }
                        state = None;
                        current = None;
                        client.send(&ClientMessage::SfuRestart).await?;
                        continue;
                    }
                    Some((addr, down)) = blip_orders.recv() => {
                        // The WebSocket drops (no close frame); the media connection stays.
                        let token = client.resume_token().unwrap_or_default().to_owned();
                        drop(client);
                        tokio::time::sleep(down).await;
                        client = TestClient::resume_at(addr, "lobby", "Subscriber", &token).await?;
                        if let Ok(mut r) = counts.lock() {
                            r.resumed = client.resumed();
                        }
                        continue;
                    }
                };
                let msg = match msg {
                    Ok(msg) => msg,
                    // The test ended or the server closed: nothing more to answer.
                    Err(_) => return Ok(()),
                };
                if let Ok(mut r) = counts.lock() {
                    r.messages.push(msg.kind().to_owned());
                    if let ServerMessage::SfuAnswer { sdp } | ServerMessage::SfuOffer { sdp, .. } =
                        &msg
                    {
                        r.descriptions.push(sdp.clone());
                    }
                }
                if let ServerMessage::SfuAnswer { sdp } = &msg
                    && let Some(mut p) = publisher.take()
                {
                    p.accept(sdp.clone()).await?;
                    _pacing = Some(AbortOnDrop(tokio::spawn(async move {
                        let mut n = 0u16;
                        loop {
                            n = n.wrapping_add(1);
                            if send_pair(&p.audio, &p.video, n, 200).await.is_err() {
                                return;
                            }
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    })));
                }
                if let ServerMessage::SfuOffer { sdp, connection } = msg {
                    // Tracks the server sent before and no longer sends have ended.
                    let sending = sent_tracks(&sdp);
                    if let Ok(mut r) = counts.lock() {
                        let gone: Vec<String> = r
                            .offered
                            .iter()
                            .filter(|t| !sending.contains(t) && !r.ended.contains(t))
                            .cloned()
                            .collect();
                        r.ended.extend(gone);
                        r.offered = sending;
                    }
                    // A new number: a new connection (the server's end of ours is gone).
                    if current.is_some_and(|c| c != connection) {
                        // Closed, as the browser client does: left open, its ICE agent
                        // would go on sending from the old port.
                        if let Some(old) = peer.take() {
                            let _ = old.pc.close().await;
                        }
                        if let Ok(mut r) = counts.lock() {
                            r.connections += 1;
                        }
                    }
                    current = Some(connection);
                    if peer.is_none() {
                        let p = Peer::with(&route, codecs).await?;
                        state = Some(p.watch_state());
                        peer = Some(p);
                    }
                    let Some(p) = peer.as_mut() else {
                        bail!("no peer")
                    };
                    let sdp = match &proxy {
                        Some(proxy) => proxy.rewrite(&sdp),
                        None => sdp,
                    };
                    let sdp = p.answer(sdp).await?;
                    let connection = Some(connection);
                    client
                        .send(&ClientMessage::SfuAnswer { sdp, connection })
                        .await?;
                }
            }
            }
            .await;
            // Kept, so that a test can say why a subscriber stopped answering.
            if let Err(err) = &result
                && let Ok(mut r) = failure.lock()
            {
                r.failed = Some(format!("{err:#}"));
            }
            result
        });
        Subscriber {
            received,
            remotes,
            stalled,
            blips,
            restarts,
            says,
            task,
        }
    }

    /// Sends `msg` on the participant's WebSocket; returns at once.
    pub async fn say(&self, msg: ClientMessage) -> Result<()> {
        self.says
            .send(msg)
            .await
            .map_err(|_| anyhow!("the subscriber has stopped"))
    }

    /// Drops the WebSocket (the media connection stays), waits `down`, then resumes on a
    /// new one to `addr`; returns at once.
    pub async fn blip(&self, addr: std::net::SocketAddr, down: Duration) -> Result<()> {
        self.blips
            .send((addr, down))
            .await
            .map_err(|_| anyhow!("the subscriber has stopped"))
    }

    /// Drops the receiving connection and asks the server for a new one (`sfu_restart`),
    /// as a client does whose connection failed; returns at once.
    pub async fn restart(&self) -> Result<()> {
        self.restarts
            .send(())
            .await
            .map_err(|_| anyhow!("the subscriber has stopped"))
    }

    /// Sends RTCP about a received track (`<stream id>/<kind>`) to the SFU.
    pub async fn feedback(
        &self,
        track: &str,
        make: impl FnOnce(u32) -> Vec<Box<dyn rtc::rtcp::Packet>>,
    ) -> Result<()> {
        let remote = self
            .remotes
            .lock()
            .ok()
            .and_then(|r| r.get(track).cloned())
            .ok_or_else(|| anyhow!("no track {track}"))?;
        let ssrc = *remote.ssrcs().await.first().context("no SSRC")?;
        remote.write_rtcp(make(ssrc)).await?;
        Ok(())
    }

    /// What arrived so far.
    pub fn received(&self) -> Received {
        self.received.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Waits until every one of `tracks` (`<stream id>/<kind>`) has at least `packets`.
    pub async fn wait_for_packets(&self, tracks: &[String], packets: u64) -> Result<()> {
        let until = tokio::time::Instant::now() + DEADLINE;
        loop {
            let got = self.received();
            if tracks
                .iter()
                .all(|t| got.packets.get(t).copied().unwrap_or(0) >= packets)
            {
                return Ok(());
            }
            if tokio::time::Instant::now() > until {
                bail!(
                    "waited for {packets} packets on {tracks:?}, got {:?}",
                    got.packets
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until every one of `tracks` has ended.
    pub async fn wait_for_ended(&self, tracks: &[String]) -> Result<()> {
        self.wait_for_ended_within(tracks, DEADLINE).await
    }

    /// Waits up to `deadline` until every one of `tracks` has ended.
    pub async fn wait_for_ended_within(&self, tracks: &[String], deadline: Duration) -> Result<()> {
        let until = tokio::time::Instant::now() + deadline;
        loop {
            let got = self.received();
            if tracks.iter().all(|t| got.ended.contains(t)) {
                return Ok(());
            }
            if tokio::time::Instant::now() > until {
                bail!("waited for {tracks:?} to end; ended: {:?}", got.ended);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the subscriber's task (and so its WebSocket and connection).
    pub fn stop(self) {
        self.task.abort();
    }
}

/// A task that ends when its handle is dropped (with the task that owns it).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Counts a remote track's packets until it ends.
async fn count(
    track: Arc<dyn TrackRemote>,
    received: Arc<Mutex<Received>>,
    stalled: Arc<std::sync::atomic::AtomicBool>,
    remotes: Arc<Mutex<HashMap<String, Arc<dyn TrackRemote>>>>,
) {
    let name = format!("{}/{}", track.stream_id().await, track.kind().await);
    if let Ok(mut r) = remotes.lock() {
        r.insert(name.clone(), track.clone());
    }
    let mut seen = std::collections::HashSet::new();
    while let Some(event) = track.poll().await {
        match event {
            TrackRemoteEvent::OnRtpPacket(packet) => {
                while stalled.load(std::sync::atomic::Ordering::Relaxed) {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                let sequence = packet.header.sequence_number;
                let again = !seen.insert(sequence);
                if let Ok(mut r) = received.lock() {
                    *r.packets.entry(name.clone()).or_default() += 1;
                    r.last_sequence.insert(name.clone(), sequence);
                    if again {
                        *r.repeated.entry(name.clone()).or_default() += 1;
                    }
                }
            }
            TrackRemoteEvent::OnEnded => break,
            _ => {}
        }
    }
    if let Ok(mut r) = received.lock() {
        r.ended.push(name);
    }
}

impl std::fmt::Debug for Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publisher")
            .field("sequence", &self.sequence)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Subscriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscriber")
            .field("received", &self.received())
            .finish_non_exhaustive()
    }
}
