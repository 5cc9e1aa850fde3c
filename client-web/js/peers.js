// WebRTC connections to the members of this participant's circle, one per member, using
// the perfect-negotiation pattern. The server says whom to connect to and who offers
// (`connect`), brokers the signalling (`signal`), and says when to hang up (`disconnect`).
// Each connection carries the microphone and camera (one stream) and, while one shares,
// the screen as a second video track in a stream of its own; every description says
// which remote stream is the screen, so that the other side shows it as its own tile.
// A camera that is off sends nothing (its sender has no track), not black frames.
//
// Make before break: when the circle moves to the SFU, the server says `disconnect`, but a
// connection to someone still in the circle is handed over instead of closed: it is kept
// until each side plays the other through the SFU (each tells the other, `carried`, over
// the signalling; a page plays the SFU's stream once it has carried media for a while: see
// SETTLE_MS in remote-streams.js). After HANDOVER_MS it is kept only while it may still
// be the only path by which one side gets the other: until both sides said `carried` (a
// side that plays nothing of the other through it counts as carried), or it has not been
// connected for HANDOVER_CHECKS looks in a row, and for HANDOVER_LIMIT_MS at most (on a
// busy machine the SFU's stream has come 25 s late). A connection being handed over is no
// direct path for a circle that goes back to a mesh (`up`): the server connects anew.

// Every signal names the connection it belongs to (`conn`, made up by its sender). An offer
// from a connection of theirs other than the one we know is a new connection (their page
// was reloaded, or they started afresh): ours to them is replaced, not renegotiated (a new
// page has new DTLS keys, which an existing connection cannot take). Candidates of a
// connection that was replaced are dropped.

// A connection made ahead of need (the spare): while someone is near, the page keeps one
// connection ready, its certificate made and its candidates gathered (the browser's
// candidate pool), and the next `connect` takes it, so that a new circle starts with the
// offer rather than with setting up. Nobody near for SPARE_IDLE_MS, it is closed (its
// candidates hold allocations on the TURN server); a welcome's new ICE servers replace it.

import { plays } from "./remote-streams.js";

// How long a connection whose media moves to the SFU is surely kept, and the longest it is
// kept while it still carries what the SFU does not (see above). The longest is also how
// long a page goes on sending through the SFU after its circle went back to a mesh while
// its direct connections come up (`Sfu.follow`), and the server's LINGER.
export const HANDOVER_MS = 10_000;
export const HANDOVER_LIMIT_MS = 60_000;
// How often a handover that has outlasted HANDOVER_MS is looked at again, and how many
// looks in a row it must be found not connected to be given up (a busy machine's
// connection can be `disconnected` for a moment and come back).
const HANDOVER_CHECK_MS = 1_000;
const HANDOVER_CHECKS = 3;
export const SPARE_IDLE_MS = 30_000;
// How often the page looks whether someone is near (`warmIfNear`).
const WARM_CHECK_MS = 250;

export class Peers {
  constructor({ send, media, onStream, onClosed }) {
    this.send = send;
    this.media = media;
    this.onStream = onStream;
    this.onClosed = onClosed;
    this.peers = new Map();
    this.iceServers = null;
    this.spare = null;
    this.spareTimer = null;
    media.onChange(() => this.updateTracks());
  }

  // The welcome's ICE servers (TURN credentials are fresh in every welcome): a spare made
  // with the old ones goes.
  setIceServers(servers) {
    this.iceServers = servers;
    this.dropSpare();
  }

  // Someone is near: have a spare ready (see above) and keep it for SPARE_IDLE_MS more.
  warm() {
    if (this.iceServers === null) return;
    clearTimeout(this.spareTimer);
    this.spareTimer = setTimeout(() => this.dropSpare(), SPARE_IDLE_MS);
    this.spare ??= new RTCPeerConnection({ iceServers: this.iceServers, iceCandidatePoolSize: 1 });
  }

  // Someone near who is not in our circle (within what a walk covers in about 1.5 s, and
  // at least four times the distance at which circles form) may be about to form or join
  // one with us: have the spare ready. Only where such a connection can come: circles that
  // meet browser to browser (not through the SFU, not in a room in privacy mode, where even
  // two meet through it), and that have room and are not locked, ours and theirs. Looked
  // at four times a second at most.
  warmIfNear(state, me) {
    const now = performance.now();
    if (now - (this.lastWarmCheck ?? -Infinity) < WARM_CHECK_MS) return;
    this.lastWarmCheck = now;
    const meshOpen = (circle) =>
      !!circle && circle.media !== "sfu" && !circle.locked && circle.members.length < (state.room?.max_circle_size ?? 15);
    // No connection can come to us now: a spare made before goes at once.
    const mine = state.myCircle();
    if (mine && !meshOpen(mine)) return this.dropSpare();
    for (const c of state.circles.values()) if (c.members.length === 2 && c.media === "sfu") return this.dropSpare();
    const near = Math.max(4 * (state.room?.forming_distance ?? 90), 1.5 * (state.room?.walk_speed ?? 400));
    for (const p of state.participants.values()) {
      if (p.id === me.id || (me.circle != null && p.circle === me.circle)) continue;
      if (Math.abs(p.x - me.x) > near || Math.abs(p.y - me.y) > near || Math.hypot(p.x - me.x, p.y - me.y) > near) continue;
      if (p.circle == null || meshOpen(state.circles.get(p.circle))) return this.warm();
    }
  }

  dropSpare() {
    clearTimeout(this.spareTimer);
    this.spare?.close();
    this.spare = null;
  }

  // The spare if there is one, else a new connection.
  take() {
    const spare = this.spare;
    this.spare = null;
    if (spare && spare.signalingState !== "closed") return spare;
    return new RTCPeerConnection({ iceServers: this.iceServers ?? [] });
  }

  connect(id, initiator) {
    this.close(id);
    const pc = this.take();
    // The initiator is the impolite peer: on a collision its offer wins.
    const conn = Math.random().toString(36).slice(2, 12);
    const peer = { pc, conn, remoteConn: null, polite: !initiator, makingOffer: false, ignoreOffer: false, camera: null, screen: null, remoteScreen: null, streams: new Map() };
    this.peers.set(id, peer);
    const offer = async () => {
      try {
        peer.makingOffer = true;
        await pc.setLocalDescription();
        this.describe(id, pc);
      } catch {
        // A newer negotiation replaces this one.
      } finally {
        peer.makingOffer = false;
      }
    };
    pc.addEventListener("negotiationneeded", () => {
      // The responder waits for the initiator's first offer instead of racing it; the
      // initiator's first offer is already on its way (below).
      if (!initiator && !pc.remoteDescription) return;
      if (peer.makingOffer || pc.signalingState !== "stable") return;
      offer();
    });
    pc.addEventListener("icecandidate", ({ candidate }) => {
      if (candidate) this.send(id, { candidate, conn });
    });
    pc.addEventListener("track", ({ streams, track }) => {
      // A track sent without a stream is a device that came late (turned on after the
      // connection was made, on a transceiver that only received until then): it joins the
      // person's other device in their stream. (A stream of its own would replace that one
      // in their tile — and the microphone's sound with it, for the tile plays it.)
      const known = peer.streams.get("camera");
      const stream = streams[0] ?? new MediaStream([...(known?.getTracks().filter((t) => t.kind !== track.kind && t.readyState === "live") ?? []), track]);
      const kind = peer.remoteScreen && stream.id === peer.remoteScreen ? "screen" : "camera";
      peer.streams.set(kind, stream);
      this.onStream(id, stream, kind);
      // A screen that stops is taken off (renegotiation removes its track).
      stream.addEventListener("removetrack", () => {
        if (kind === "screen" && stream.getTracks().length === 0) this.screenEnded(id, peer);
      });
    });
    pc.addEventListener("connectionstatechange", () => {
      if (pc.connectionState === "failed") pc.restartIce();
    });
    // addTrack, so that the responder's tracks ride on the m-lines of the initiator's
    // offer; the initiator asks to receive what it has nothing to send for.
    const { mic, camera } = this.media;
    if (mic) pc.addTrack(mic, this.media.stream);
    else if (initiator) pc.addTransceiver("audio", { direction: "recvonly" });
    if (camera) {
      peer.camera = pc.addTrack(camera, this.media.stream);
      if (!this.media.cameraToSend()) peer.camera.replaceTrack(null).catch(() => {});
    } else if (initiator) {
      pc.addTransceiver("video", { direction: "recvonly" });
    }
    if (this.media.screen) peer.screen = this.addScreen(pc);
    // The initiator offers at once rather than on `negotiationneeded`, which the browser
    // fires only after this task: the page is about to draw the new circle, and the offer
    // is made meanwhile.
    if (initiator) offer();
  }

  // Sends our description with the id of the stream that carries our screen (or null).
  describe(id, pc) {
    const peer = this.peers.get(id);
    // A connection replaced meanwhile says nothing more.
    if (peer?.pc !== pc) return;
    this.send(id, { description: pc.localDescription, screen: this.media.screen ? this.media.screenStream.id : null, conn: peer.conn });
  }

  screenEnded(id, peer) {
    if (!peer.streams.has("screen")) return;
    peer.streams.delete("screen");
    this.onStream(id, null, "screen");
  }

  // One of us came back after a dropped connection: keep the connection and restart its
  // ICE (the initiator offers), or connect afresh if there is none.
  restart(id, initiator) {
    const peer = this.peers.get(id);
    // Told to offer with a connection that never got a remote description (made to answer
    // an offer that never came): nothing to restart, so connect afresh and offer. (One
    // told to answer keeps its connection, even without a remote description: it may be
    // the offerer whose answer was lost, and the other side restarts what it has.)
    if (!peer || peer.pc.connectionState === "closed" || (initiator && !peer.pc.remoteDescription)) return this.connect(id, initiator);
    // Who offers now may not be who offered first: the one who came back offers, the other
    // answers (and, as the polite side, gives way on a collision).
    peer.polite = !initiator;
    if (initiator) peer.pc.restartIce();
  }

  // The circle moved to the SFU: keep the connection to `id` until the SFU carries media
  // both ways (see `carried`), then close it.
  handOver(id) {
    const peer = this.peers.get(id);
    if (!peer || peer.handover) return;
    const since = performance.now();
    let down = 0;
    const look = () => {
      if (this.peers.get(id) !== peer) return;
      // Nothing of theirs plays through it: nothing to lose on our side.
      if (!plays(peer.streams.get("camera"))) this.carried(id);
      if (this.peers.get(id) !== peer) return;
      down = peer.pc.connectionState === "connected" ? 0 : down + 1;
      if (down >= HANDOVER_CHECKS || performance.now() - since >= HANDOVER_LIMIT_MS) return this.close(id);
      peer.handover = setTimeout(look, HANDOVER_CHECK_MS);
    };
    peer.handover = setTimeout(look, HANDOVER_MS);
    this.handedOver(id, peer);
  }

  // Media from `id` now comes through the SFU (or nothing of theirs comes directly).
  carried(id) {
    const peer = this.peers.get(id);
    if (!peer || peer.weReceive) return;
    peer.weReceive = true;
    this.handedOver(id, peer);
  }

  // Tells the other side once we receive them through the SFU; closes once both do.
  handedOver(id, peer) {
    if (!peer.handover || !peer.weReceive) return;
    if (!peer.toldThem) {
      peer.toldThem = true;
      this.send(id, { carried: true });
    }
    if (peer.theyReceive) this.close(id);
  }

  // Signals from one peer are handled one after another, in the order they came.
  signal(from, payload) {
    let peer = this.peers.get(from);
    if (!peer) return;
    if (payload.carried === true) {
      peer.theyReceive = true;
      return this.handedOver(from, peer);
    }
    if (typeof payload.conn === "string" && payload.conn !== peer.remoteConn) {
      if (peer.remoteConn !== null) {
        // Left over from their connection before, or the offer of a new one.
        if (payload.description?.type !== "offer") return;
        this.connect(from, false);
        peer = this.peers.get(from);
      }
      peer.remoteConn = payload.conn;
    }
    peer.queue = (peer.queue ?? Promise.resolve()).then(() => this.handle(peer, from, payload));
  }

  async handle(peer, from, payload) {
    const { pc } = peer;
    try {
      if (payload.description) {
        const description = payload.description;
        const collision = description.type === "offer" && (peer.makingOffer || pc.signalingState !== "stable");
        peer.ignoreOffer = !peer.polite && collision;
        if (peer.ignoreOffer) return;
        // Which of their streams is the screen, before the tracks arrive.
        const screen = typeof payload.screen === "string" ? payload.screen : null;
        const stopped = peer.remoteScreen && peer.remoteScreen !== screen;
        peer.remoteScreen = screen;
        await pc.setRemoteDescription(description);
        if (stopped) this.screenEnded(from, peer);
        if (description.type === "offer") {
          await pc.setLocalDescription();
          this.describe(from, pc);
        }
      } else if (payload.candidate) {
        try {
          await pc.addIceCandidate(payload.candidate);
        } catch (err) {
          if (!peer.ignoreOffer) throw err;
        }
      }
    } catch {
      // A broken negotiation recovers through the next one (or an ICE restart).
    }
  }

  // Microphone, camera or screen changed: swap what is sent. A camera turned off or on
  // swaps its track without renegotiating; a screen added or removed renegotiates.
  updateTracks() {
    for (const peer of this.peers.values()) {
      const { pc } = peer;
      if (pc.connectionState === "closed") continue;
      for (const transceiver of pc.getTransceivers()) {
        if (transceiver.sender === peer.screen || transceiver.stopped) continue;
        const kind = transceiver.receiver.track?.kind;
        if (kind === "audio") {
          this.swap(transceiver, this.media.mic);
        } else if (kind === "video") {
          if (peer.camera) {
            if (transceiver.sender === peer.camera) this.swap(transceiver, this.media.cameraToSend());
          } else if (this.media.camera && !this.isRemoteScreen(peer, transceiver)) {
            // A camera that came late rides on the first video transceiver.
            peer.camera = transceiver.sender;
            this.swap(transceiver, this.media.cameraToSend());
          }
        }
      }
      if (this.media.screen && !peer.screen) {
        peer.screen = this.addScreen(pc);
      } else if (this.media.screen && peer.screen && peer.screen.track !== this.media.screen) {
        peer.screen.replaceTrack(this.media.screen).catch(() => {});
      } else if (!this.media.screen && peer.screen) {
        try {
          pc.removeTrack(peer.screen);
        } catch {
          // Closed meanwhile.
        }
        peer.screen = null;
      }
    }
  }

  // One's screen gets a transceiver of its own, always: `addTrack` would take a video
  // transceiver that has not sent yet — the camera's, when the camera was off as the
  // connection was made — and the camera turned on later would find no place.
  addScreen(pc) {
    return pc.addTransceiver(this.media.screen, { direction: "sendonly", streams: [this.media.screenStream] }).sender;
  }

  isRemoteScreen(peer, transceiver) {
    const stream = peer.streams.get("screen");
    return !!stream && stream.getTracks().includes(transceiver.receiver.track);
  }

  swap(transceiver, track) {
    if (transceiver.sender.track === track) return;
    transceiver.sender.replaceTrack(track).catch(() => {});
    // A device that came late: start sending (this renegotiates).
    if (track && transceiver.direction === "recvonly") transceiver.direction = "sendrecv";
  }

  // Connection states, for the page's own diagnostics and the browser tests.
  summary() {
    return [...this.peers.entries()].map(([id, { pc }]) => ({ id, state: pc.connectionState }));
  }

  pc(id) {
    return this.peers.get(id)?.pc;
  }

  // The stream of `kind` ("camera", "screen") the direct connection to `id` brought.
  stream(id, kind) {
    return this.peers.get(id)?.streams.get(kind) ?? null;
  }

  // Whether the direct connection to `id` is up and carries the circle's media (not one
  // being handed over to the SFU, which goes).
  up(id) {
    const peer = this.peers.get(id);
    return !!peer && !peer.handover && peer.pc.connectionState === "connected";
  }

  close(id) {
    const peer = this.peers.get(id);
    if (!peer) return;
    clearTimeout(peer.handover);
    peer.pc.close();
    this.peers.delete(id);
    this.onClosed(id, peer.streams);
  }

  // Leaving the room (or starting afresh): every connection goes, the spare too.
  closeAll() {
    for (const id of [...this.peers.keys()]) this.close(id);
    this.dropSpare();
  }
}
