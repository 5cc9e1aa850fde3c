// Media through the server's SFU (broadcasts, and circles routed through the server). Two
// connections with the server:
// - the sending one (we offer, the server answers): microphone, camera and, while it is
//   shared, the screen as a separate video track named by its mid in `sfu_offer`;
// - the receiving one (the server offers whenever tracks come and go, we answer). Each
//   offer carries the connection's number: a new number is a new connection (the server's
//   end of the old one is gone), so the old RTCPeerConnection is closed and replaced.
// Incoming stream ids are "p" + participant id (camera and microphone, kind "camera") or
// "s" + participant id (screen share, kind "screen").
// The camera goes out in simulcast layers (`l`, `m`, `h`); the server forwards each
// receiver one of them, chosen from its bandwidth and the size at which it shows the
// camera, which `sfu_view` tells it (measured every second, told when it changed). Layers
// no receiver calls for (its view does not need them or its bandwidth cannot carry them)
// are paused when the server says so (`sfu_layers`).
// A connection that fails (or never connects) is never reused: the receiving one is
// restarted (`sfu_restart`), the sending one is published again on a new connection. What
// could not be said while the WebSocket was away (a restart, an offer) is said once the
// participant resumed (`resumed()`). This module creates and closes every
// RTCPeerConnection it uses, and `summary()` lists what it holds.

import { LIMITS } from "./protocol.js";
import { HANDOVER_LIMIT_MS } from "./peers.js";

// A connection `disconnected` this long is treated as failed.
const DISCONNECTED_GRACE_MS = 4000;
// A connection not connected this long after it was made is treated as failed (seen: a
// receiving connection that stayed `connecting` for good on a loaded machine). The time
// this page itself spends applying a description to it does not count (the deadline
// starts again once the page is done): on a machine busy with encoding, Firefox took
// 14–16 s to apply one offer, and a connection given up for that was replaced by one that
// took as long again. Applying that never ends is given up CONNECT_LIMIT_MS after the
// connection was made.
const CONNECT_DEADLINE_MS = 10_000;
const CONNECT_LIMIT_MS = 60_000;

// A restart asked for this long before a resume is asked for again after it (the socket
// may have been dead already: a page gives one up after 3 s of silence).
const RESTART_AGAIN_MS = 10_000;

const KINDS = { p: "camera", s: "screen" };

// What the receiving connection went through lately (`summary().events`), for
// diagnostics: that many entries at most.
const EVENTS_KEPT = 40;

// The camera's simulcast layers, lowest first: a quarter, half and the whole picture.
// Browsers send no more layers than a picture's size is worth (Chromium: three from
// 960 × 540, two from 480 × 270), so a camera gets as many as its size allows and the
// smallest go first; the server takes whichever layers arrive.
const CAMERA_LAYERS = [
  { rid: "l", scaleResolutionDownBy: 4, maxBitrate: 150_000, minWidth: 960 },
  { rid: "m", scaleResolutionDownBy: 2, maxBitrate: 400_000, minWidth: 480 },
  { rid: "h", scaleResolutionDownBy: 1, maxBitrate: 1_000_000, minWidth: 0 },
];

// A layer's number by its rid, as the server counts them (`sfu_layers`).
const LAYER_OF_RID = { l: 0, m: 1, h: 2 };

// The layers for a camera whose picture's longer side is `side` pixels (a camera turned
// upright counts like one lying down; the size asked of cameras when unknown).
export function cameraLayers(side = 640) {
  return CAMERA_LAYERS.filter((layer) => side >= layer.minWidth).map(({ minWidth, ...layer }) => layer);
}

// Tells the page that a stream came or ended (`onStream`, `onEnded`: showing it is the
// page's business). What goes wrong there is reported as uncaught, and never taken for a
// connection that failed: `closeReceiving` ends the streams before a new receiving
// connection opens, and a throw there would drop the offer being applied, costing every
// stream through the SFU until a reload.
function tell(callback, ...args) {
  try {
    callback(...args);
  } catch (err) {
    reportError(err);
  }
}

// A connection closed while one of its operations is under way leaves that operation's
// promise unsettled for good (WebRTC 1.0: "if connection.[[IsClosed]] is true, abort
// these steps"), and every offer queued behind it would wait for ever: seen on a busy
// machine, a receiving connection given up while it applied an offer, and no offer
// applied after that. So the receiving connection's operations are raced against its
// closing (`whileOpen`); receiving connection → how to reject that race.
const closings = new WeakMap();

// Connection → how many descriptions this page is applying to it now (that time is not
// counted against its deadline to connect: see CONNECT_DEADLINE_MS), and what its watch
// does once the page is done (starts the deadline again).
const applying = new WeakMap();
const applied = new WeakMap();

// `operation()` (applying a description to `pc`), with the time it takes kept off `pc`'s
// deadline to connect.
async function applyingTo(pc, operation) {
  applying.set(pc, (applying.get(pc) ?? 0) + 1);
  try {
    return await operation();
  } finally {
    const left = applying.get(pc) - 1;
    applying.set(pc, left);
    if (left === 0) applied.get(pc)?.();
  }
}

// `operation` (a promise of `pc`'s), or a rejection once we close `pc`.
function whileOpen(pc, operation) {
  const closing = closings.get(pc);
  return closing ? Promise.race([operation, closing.promise]) : operation;
}

// How often the sizes at which received streams are shown are measured.
const VIEW_INTERVAL_MS = 1000;

export class Sfu {
  constructor({ send, media, onStream, onEnded }) {
    this.send = send;
    this.media = media;
    this.onStream = onStream;
    this.onEnded = onEnded;
    // The sending connection and its transceivers ({ audio, camera, screen }).
    this.sending = null;
    this.senders = {};
    // Whether we mean to publish (kept across a failed sending connection).
    this.wantPublish = false;
    // The receiving connection and its number (from the server's offer).
    this.receiving = null;
    this.connection = null;
    // Offers for a connection numbered below this are ignored: the server numbers its
    // connections upwards, so they come from one it has replaced (a renegotiation sent
    // just before, overtaken by the new connection's offer) or one we restarted.
    this.floor = 0;
    // Counts `closeAll`s: offers queued before the last one are not applied.
    this.epoch = 0;
    // Publishing while not needed any more, since (see `follow`), and when to look again.
    this.unneededSince = null;
    this.followTimer = null;
    // Received streams by stream id ("p…" / "s…").
    this.streams = new Map();
    // From the welcome: the TURN relay with this participant's credentials.
    this.iceServers = [];
    // Offers are applied one at a time, in order.
    this.queue = Promise.resolve();
    // Said while the WebSocket was away, so not said: a restart of the receiving
    // connection, the sending connection's offer.
    this.unsaid = { restart: false, offer: false, unpublish: false };
    this.restartedAt = -Infinity;
    // The views last told (`sfu_view`), as JSON, and the timer that measures them.
    this.toldViews = null;
    this.viewTimer = null;
    // The receiving connection's recent history: "<ms since page load> <what>".
    this.events = [];
    media.onChange(() => this.updateTracks());
  }

  // Notes what happened to the receiving connection (see `events`).
  note(what) {
    this.events.push(`${Math.round(performance.now())} ${what}`);
    if (this.events.length > EVENTS_KEPT) this.events.shift();
  }

  get publishing() {
    return this.sending !== null;
  }

  // Starts sending the microphone, the camera (if on) and the screen (if shared).
  async publish() {
    this.wantPublish = true;
    if (this.sending) return;
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    this.sending = pc;
    this.senders = {};
    const { camera, screen } = this.media.state();
    this.senders.audio = pc.addTransceiver(this.media.mic ?? "audio", {
      direction: "sendonly",
      streams: [this.media.stream],
    });
    this.senders.camera = pc.addTransceiver(camera && this.media.camera ? this.media.camera : "video", {
      direction: "sendonly",
      streams: [this.media.stream],
      sendEncodings: cameraLayers(longerSide(this.media.camera)),
    });
    if (screen && this.media.screen) this.addScreen(pc);
    watch(pc, () => this.republish(pc));
    await this.offer(pc);
  }

  // Adds the screen share as its own transceiver (its own stream, so receivers tell it apart).
  addScreen(pc) {
    this.senders.screen = pc.addTransceiver(this.media.screen, {
      direction: "sendonly",
      streams: [this.media.screenStream ?? new MediaStream([this.media.screen])],
    });
  }

  async offer(pc) {
    await applyingTo(pc, () => pc.setLocalDescription());
    if (this.sending !== pc) return;
    // The server is ICE-lite and needs none of our candidates: the description is enough.
    const screen = this.senders.screen?.mid ?? undefined;
    this.unsaid.offer = !this.send({ type: "sfu_offer", sdp: pc.localDescription.sdp, ...(screen ? { screen } : {}) });
  }

  // Back on a new WebSocket as the same participant (the server kept our connections):
  // says what could not be said meanwhile. The server offers the receiving connection
  // again by itself if its offer was unanswered.
  // A restart asked for shortly before is asked for again unless a receiving connection
  // came meanwhile: sent into a socket that was already dead (but not yet given up), it
  // was lost without a trace.
  resumed() {
    // A view told into the old socket may not have arrived: tell it again.
    this.toldViews = null;
    if (this.unsaid.unpublish) this.unsaid.unpublish = !this.send({ type: "sfu_unpublish" });
    const lately = performance.now() - this.restartedAt < RESTART_AGAIN_MS;
    if (!this.receiving && (this.unsaid.restart || lately)) this.unsaid.restart = !this.send({ type: "sfu_restart" });
    const pc = this.sending;
    if (this.unsaid.offer && pc?.localDescription) this.offer(pc).catch(() => this.republish(pc));
  }

  // Publishes exactly while `needed()` (we broadcast, or stand in a circle whose media
  // goes through the server). Make before break: once it is not needed any more (a circle
  // that went back to a mesh), we go on sending through the SFU (the server keeps the
  // circle's routes as long, its LINGER) until `directUp()` (the direct connection to
  // every other member is up), or for HANDOVER_LIMIT_MS at most: until then the SFU may be
  // the only way a member hears us, and on a busy machine a connection has come up far
  // later than the usual fraction of a second. Called whenever either may have changed;
  // looks again by itself meanwhile.
  follow(needed, directUp) {
    clearTimeout(this.followTimer);
    const need = needed();
    if (need || !this.publishing) this.unneededSince = null;
    if (need && !this.publishing) this.publish().catch(() => {});
    else if (!need && this.publishing) {
      this.unneededSince ??= Date.now();
      if (directUp() || Date.now() - this.unneededSince >= HANDOVER_LIMIT_MS) {
        this.unneededSince = null;
        this.unpublish();
      } else {
        this.followTimer = setTimeout(() => this.follow(needed, directUp), 100);
      }
    }
  }

  // Stops sending: the server ends our tracks for everyone.
  unpublish() {
    this.wantPublish = false;
    if (!this.sending) return;
    this.sending.close();
    this.sending = null;
    this.senders = {};
    // Unsaid, the server would take our next offer for the old connection.
    this.unsaid.unpublish = !this.send({ type: "sfu_unpublish" });
    this.unsaid.offer = false;
  }

  // The sending connection failed (here or, `sfu_unpublished`, on the server): publish
  // again on a new connection.
  republish(pc = this.sending) {
    if (!pc || pc !== this.sending) return;
    const again = this.wantPublish;
    this.unpublish();
    if (again) this.publish().catch(() => {});
  }

  // The server's end of our sending connection ended (`sfu_unpublished`).
  unpublished() {
    this.republish();
  }

  // The server says the highest of our camera's layers any receiver calls for
  // (`sfu_layers`): the layers above it are paused, so that the browser does not encode
  // pictures nobody is sent; the lowest layer the camera has is always sent. A new
  // sending connection starts with every layer again, as does the server's end of it, so
  // a word that comes before the server answered the current connection is a late one
  // about the connection before it and is ignored.
  async sendLayers(top) {
    const pc = this.sending;
    const sender = this.senders.camera?.sender;
    if (!pc?.remoteDescription || !sender) return;
    const params = sender.getParameters();
    const encodings = params.encodings ?? [];
    let changed = false;
    encodings.forEach((encoding, i) => {
      const active = i === 0 || (LAYER_OF_RID[encoding.rid] ?? 0) <= top;
      if (encoding.active !== active) {
        encoding.active = active;
        changed = true;
      }
    });
    if (!changed) return;
    try {
      await sender.setParameters(params);
    } catch {
      // The sender changed under us (a new connection meanwhile): that one sends every
      // layer, as its server end expects, until told otherwise.
    }
  }

  // The server's answer to our offer.
  async answered(sdp) {
    const pc = this.sending;
    if (!pc) return;
    try {
      await applyingTo(pc, () => pc.setRemoteDescription({ type: "answer", sdp }));
    } catch {
      // An answer we cannot apply: start over on a new connection.
      if (pc === this.sending) this.republish(pc);
    }
  }

  // The server offers (or renegotiates) the receiving connection number `connection`.
  offered(sdp, connection) {
    const epoch = this.epoch;
    this.queue = this.queue
      .then(() => {
        // Said by the server's end before `closeAll` (a server that is gone, or whose
        // numbers we no longer follow): taken now, it would set the floor above the new
        // server's numbers.
        if (epoch === this.epoch) return this.applyOffer(sdp, connection);
      })
      .catch(() => {});
    return this.queue;
  }

  async applyOffer(sdp, connection) {
    this.note(`offer #${connection} on #${this.connection} (${this.receiving?.connectionState ?? "none"})`);
    if (connection !== undefined) {
      // Taken for the current connection, a replaced one's offer would close the
      // connection that carries our media for one the server no longer has.
      if (connection < this.floor) return this.note(`offer #${connection} ignored: below #${this.floor}`);
      this.floor = connection;
    }
    const stale = this.receiving && ["failed", "closed"].includes(this.receiving.connectionState);
    if (this.receiving && (connection !== this.connection || stale)) this.closeReceiving();
    if (!this.receiving) {
      this.receiving = this.openReceiving(connection);
      this.connection = connection;
      this.unsaid.restart = false;
      // A new connection on the server's side knows no views yet.
      this.toldViews = null;
      this.watchViews();
    }
    const pc = this.receiving;
    try {
      await applyingTo(pc, async () => {
        await whileOpen(pc, pc.setRemoteDescription({ type: "offer", sdp }));
        await whileOpen(pc, pc.setLocalDescription());
      });
    } catch (err) {
      // An offer we cannot apply: say so; the server starts over with a new connection.
      this.note(`offer #${connection} not applied: ${err?.message ?? err}`);
      if (pc === this.receiving) this.restartReceiving();
      return;
    }
    if (pc !== this.receiving) {
      this.note(`offer #${connection} applied to a connection since replaced`);
      return;
    }
    this.note(`answer #${connection}`);
    this.send({ type: "sfu_answer", sdp: pc.localDescription.sdp, ...(connection !== undefined ? { connection } : {}) });
    this.pruneStreams();
  }

  openReceiving(connection) {
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    let reject;
    const promise = new Promise((_, no) => (reject = no));
    promise.catch(() => {});
    closings.set(pc, { promise, reject });
    pc.addEventListener("track", ({ track, streams }) => {
      const stream = streams[0];
      const kind = stream && KINDS[stream.id[0]];
      if (!kind) return;
      const id = stream.id.slice(1);
      const known = this.streams.get(stream.id);
      this.streams.set(stream.id, stream);
      stream.addEventListener("removetrack", () => this.pruneStreams());
      track.addEventListener("ended", () => this.pruneStreams());
      if (known !== stream) tell(this.onStream, id, stream, kind);
    });
    watch(pc, () => {
      this.note(`#${connection} ${pc === this.receiving ? "" : "(closed since) "}${pc.connectionState}: given up`);
      if (pc === this.receiving) this.restartReceiving();
    });
    return pc;
  }

  // Closes the receiving connection and asks the server for a new one.
  restartReceiving() {
    this.note(`restart #${this.connection}`);
    if (this.connection !== null) this.floor = Math.max(this.floor, this.connection + 1);
    this.closeReceiving();
    this.restartedAt = performance.now();
    this.unsaid.restart = !this.send({ type: "sfu_restart" });
  }

  closeReceiving() {
    const pc = this.receiving;
    pc?.close();
    if (pc) closings.get(pc)?.reject(new Error("closed"));
    this.receiving = null;
    this.connection = null;
    clearInterval(this.viewTimer);
    this.viewTimer = null;
    for (const [streamId] of this.streams) this.endStream(streamId);
  }

  // The stream through the SFU of `id`'s `kind` ("camera" / "screen"), while one of its
  // tracks is live; else null.
  stream(id, kind) {
    const prefix = Object.keys(KINDS).find((k) => KINDS[k] === kind);
    const stream = this.streams.get(`${prefix}${id}`);
    return stream?.getTracks().some((t) => t.readyState === "live") ? stream : null;
  }

  endStream(streamId) {
    if (!this.streams.delete(streamId)) return;
    tell(this.onEnded, streamId.slice(1), KINDS[streamId[0]]);
  }

  // Streams left without live tracks (renegotiation removed them) are taken away.
  pruneStreams() {
    for (const [streamId, stream] of [...this.streams]) {
      if (stream.getTracks().every((t) => t.readyState === "ended")) this.endStream(streamId);
    }
  }

  // Microphone, camera or screen changed while publishing: swap what is sent. A camera
  // that is off sends nothing (no black frames); a screen share that starts adds its own
  // track (a renegotiation), one that stops sends nothing until the next one.
  updateTracks() {
    const pc = this.sending;
    if (!pc) return;
    const { camera, screen } = this.media.state();
    const set = (transceiver, track) => {
      if (transceiver && transceiver.sender.track !== track) transceiver.sender.replaceTrack(track).catch(() => {});
    };
    set(this.senders.audio, this.media.mic ?? null);
    set(this.senders.camera, camera ? (this.media.camera ?? null) : null);
    const shared = screen ? (this.media.screen ?? null) : null;
    if (shared && !this.senders.screen) {
      this.addScreen(pc);
      this.offer(pc).catch(() => this.republish(pc));
    } else {
      set(this.senders.screen, shared);
    }
  }

  // Measures now and then the sizes at which the received streams are shown.
  watchViews() {
    clearInterval(this.viewTimer);
    this.viewTimer = setInterval(() => this.tellViews(), VIEW_INTERVAL_MS);
  }

  // The largest size (device pixels) at which each received stream is shown now: 0 × 0
  // where its elements are hidden or the page is in the background. A stream not in any
  // element yet (it is about to be shown) is left out: the server then sends what the
  // bandwidth allows, rather than the low layer until it is measured.
  views() {
    const ratio = window.devicePixelRatio || 1;
    const background = document.visibilityState === "hidden";
    const sizes = new Map();
    for (const video of document.querySelectorAll("video")) {
      const stream = video.srcObject;
      if (!stream || this.streams.get(stream.id) !== stream) continue;
      const box = video.getBoundingClientRect();
      const [w, h] = sizes.get(stream.id) ?? [0, 0];
      if (background) sizes.set(stream.id, [0, 0]);
      else sizes.set(stream.id, [Math.max(w, box.width * ratio), Math.max(h, box.height * ratio)]);
    }
    const side = (n) => Math.min(LIMITS.maxViewPixels, Math.round(n));
    return [...sizes]
      .slice(0, LIMITS.maxSfuViews)
      .map(([stream, [w, h]]) => ({ stream, width: side(w), height: side(h) }));
  }

  // Tells the server the views when they changed (in steps of 16 pixels, so that a tile
  // that grows by a pixel is not news).
  tellViews() {
    if (!this.receiving) return;
    const views = this.views();
    const key = JSON.stringify(views.map((v) => [v.stream, v.width >> 4, v.height >> 4]));
    if (key === this.toldViews) return;
    if (this.send({ type: "sfu_view", views })) this.toldViews = key;
  }

  // What this module holds, for diagnostics and the browser tests.
  summary() {
    return {
      sending: this.sending?.connectionState ?? null,
      receiving: this.receiving?.connectionState ?? null,
      connection: this.connection,
      streams: [...this.streams.keys()],
      views: this.toldViews,
      events: [...this.events],
      // The camera's layers we send: rid → active.
      layers: Object.fromEntries(
        (this.senders.camera?.sender.getParameters().encodings ?? []).map((e) => [e.rid ?? "", e.active !== false]),
      ),
    };
  }

  // Everything closes (we left, or the server's end of our connections is gone: a new
  // server numbers its connections from 1 again).
  closeAll() {
    this.wantPublish = false;
    this.floor = 0;
    this.epoch += 1;
    this.unsaid = { restart: false, offer: false, unpublish: false };
    this.sending?.close();
    this.sending = null;
    this.senders = {};
    this.closeReceiving();
  }
}

// The longer side of a camera's picture, if known.
function longerSide(track) {
  const { width, height } = track?.getSettings?.() ?? {};
  return width && height ? Math.max(width, height) : undefined;
}

// Calls `failed` once when `pc` fails, stays disconnected for a few seconds, or is not
// connected within CONNECT_DEADLINE_MS of being made or of this page's last applying a
// description to it (`applyingTo`), whichever is later; applying that never ends counts
// until CONNECT_LIMIT_MS after it was made.
function watch(pc, failed) {
  const made = performance.now();
  let done = false;
  let timer;
  const fail = () => {
    if (done || pc.connectionState === "closed") return;
    done = true;
    failed();
  };
  const late = () => {
    if (pc.connectionState === "closed") return;
    const left = CONNECT_LIMIT_MS - (performance.now() - made);
    // Still applying: the deadline starts again when that is done (`applied`).
    if ((applying.get(pc) ?? 0) > 0 && left > 0) timer = setTimeout(late, left);
    else fail();
  };
  const connecting = () => ["new", "connecting"].includes(pc.connectionState);
  const wait = () => {
    clearTimeout(timer);
    timer = setTimeout(late, CONNECT_DEADLINE_MS);
  };
  wait();
  applied.set(pc, () => {
    if (!done && connecting()) wait();
  });
  pc.addEventListener("connectionstatechange", () => {
    clearTimeout(timer);
    if (pc.connectionState === "failed") fail();
    else if (pc.connectionState === "disconnected") timer = setTimeout(fail, DISCONNECTED_GRACE_MS);
    else if (connecting()) wait();
  });
}
