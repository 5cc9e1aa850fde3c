// The WebSocket to the server: JSON in and out, a heartbeat that notices a dead
// connection within seconds, and reconnecting with backoff when the connection drops (a
// server restart, a network blip). The page resumes its place with the welcome's token
// (see main.js). A refused handshake, a removal or leaving on purpose does not reconnect.

import { CLOSE, messages } from "./protocol.js";

// A `ping` after this much silence, at most this often; a connection that brings nothing
// (no `pong`, no other message) for DEAD_AFTER_MS is given up. Browsers cannot see
// WebSocket pings, and a connection whose network vanished may take minutes to close by
// itself. Silence counts only while the page runs: a page that could not run its timers
// for a while (a busy machine, a throttled background tab) has not heard what waits in
// its queue, so the time it stood still is not held against the connection.
const HEARTBEAT_MS = 1000;
const DEAD_AFTER_MS = 3000;
// A connection attempt that has not opened by then is given up and retried.
const OPEN_TIMEOUT_MS = 4000;
// Reconnecting stops after this long without a welcome: the server has long given our
// place away, and the page says the connection was lost.
const GIVE_UP_MS = 120_000;

export class Connection {
  constructor({ onOpen, onMessage, onStatus }) {
    this.onOpen = onOpen;
    this.onMessage = onMessage;
    this.onStatus = onStatus;
    this.socket = null;
    this.attempt = 0;
    this.stopped = false;
    this.timer = null;
    this.heartbeat = null;
    this.lastHeard = 0;
    this.lastPing = 0;
    this.lastBeat = 0;
    this.lostSince = null;
    this.giveUpMs = GIVE_UP_MS;
  }

  url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${location.host}/ws`;
  }

  open() {
    this.stopped = false;
    this.onStatus({ state: "connecting" });
    // A reloaded page's connection, opened early by early.js, is taken over once. Should
    // this run first (early.js is loaded on its own), early.js stands back: two hellos with
    // one resume token would have the second replace the first (close 4010).
    window.hallwayConnecting = true;
    const early = window.hallwayEarly;
    window.hallwayEarly = null;
    const adopt = early && early.socket.readyState <= WebSocket.OPEN;
    const socket = adopt ? early.socket : new WebSocket(this.url());
    this.socket = socket;
    this.lastHeard = performance.now();
    this.lastBeat = this.lastHeard;
    socket.addEventListener("open", () => {
      if (this.socket !== socket || adopt) return;
      this.lastHeard = performance.now();
      this.onOpen();
    });
    const receive = (event) => {
      if (this.socket !== socket) return;
      this.lastHeard = performance.now();
      let msg;
      try {
        msg = JSON.parse(event.data);
      } catch {
        return;
      }
      if (msg.type === "welcome") {
        this.attempt = 0;
        this.lostSince = null;
      }
      this.onMessage(msg);
    };
    socket.addEventListener("message", receive);
    // What the early connection already received (a reload's welcome, often) is handled
    // once the page has set itself up, not in the middle of it: `open` may be called
    // while main.js is still running. Still before anything the socket brings later.
    if (adopt) queueMicrotask(() => early.received.forEach(receive));
    socket.addEventListener("close", (event) => {
      if (this.socket === socket) this.closed(event.code);
    });
    clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => this.beat(socket), HEARTBEAT_MS / 2);
  }

  // Pings an open connection; gives up one that has been silent too long, or that did
  // not open in time.
  beat(socket) {
    if (this.socket !== socket) return;
    const now = performance.now();
    // The page stood still since the last beat (due HEARTBEAT_MS / 2 ago): not silence.
    const stood = now - this.lastBeat - HEARTBEAT_MS / 2;
    if (stood > HEARTBEAT_MS / 2) this.lastHeard = Math.min(now, this.lastHeard + stood);
    this.lastBeat = now;
    const silent = now - this.lastHeard;
    if (socket.readyState === WebSocket.OPEN) {
      if (silent > DEAD_AFTER_MS) return this.abandon(socket);
      if (silent >= HEARTBEAT_MS && now - this.lastPing >= HEARTBEAT_MS) {
        this.lastPing = now;
        socket.send(JSON.stringify(messages.ping()));
      }
    } else if (socket.readyState === WebSocket.CONNECTING && silent > OPEN_TIMEOUT_MS) {
      this.abandon(socket);
    }
  }

  // Stops using a connection believed dead and tells the server (should the close frame
  // ever arrive) that this is not a goodbye: the participant resumes on a new one.
  abandon(socket) {
    this.socket = null;
    try {
      socket.close(CLOSE.ABANDONED, "reconnecting");
    } catch {
      // Closing a socket that never opened may throw; it is dropped either way.
    }
    this.closed(CLOSE.ABANDONED);
  }

  closed(code) {
    this.socket = null;
    clearInterval(this.heartbeat);
    if (this.stopped || [CLOSE.NORMAL, CLOSE.REFUSED, CLOSE.REMOVED, CLOSE.BANNED, CLOSE.REPLACED, CLOSE.GOING_AWAY, CLOSE.TURNED_AWAY].includes(code)) {
      this.onStatus({ state: "closed", code });
      return;
    }
    const now = performance.now();
    this.lostSince ??= now;
    if (now - this.lostSince > this.giveUpMs) {
      this.stopped = true;
      this.onStatus({ state: "closed", code: "given_up" });
      return;
    }
    // 0.5 s, 1 s, 2 s, 2 s … while the server keeps our place (about 30 s), then up to
    // 15 s; with jitter so that a restarted server is not hit by everyone at once.
    const base = this.attempt < 12 ? Math.min(2, 2 ** this.attempt / 2) : Math.min(15, 2 ** (this.attempt - 10));
    const seconds = Math.round(base * (0.5 + Math.random() / 2) * 10) / 10;
    this.attempt += 1;
    this.onStatus({ state: "reconnecting", seconds });
    this.timer = setTimeout(() => this.open(), seconds * 1000);
  }

  send(msg) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(msg));
      return true;
    }
    return false;
  }

  close() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.heartbeat);
    this.socket?.close(CLOSE.NORMAL);
  }
}
