// The WebSocket to the server: JSON in and out, and reconnecting with backoff when the
// connection drops (a server restart, a network blip). A refused handshake or leaving on
// purpose does not reconnect.

import { CLOSE } from "./protocol.js";

export class Connection {
  constructor({ onOpen, onMessage, onStatus }) {
    this.onOpen = onOpen;
    this.onMessage = onMessage;
    this.onStatus = onStatus;
    this.socket = null;
    this.attempt = 0;
    this.stopped = false;
    this.timer = null;
  }

  url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${location.host}/ws`;
  }

  open() {
    this.stopped = false;
    this.onStatus({ state: "connecting" });
    const socket = new WebSocket(this.url());
    this.socket = socket;
    socket.addEventListener("open", () => this.onOpen());
    socket.addEventListener("message", (event) => {
      let msg;
      try {
        msg = JSON.parse(event.data);
      } catch {
        return;
      }
      if (msg.type === "welcome") this.attempt = 0;
      this.onMessage(msg);
    });
    socket.addEventListener("close", (event) => this.closed(event.code));
  }

  closed(code) {
    this.socket = null;
    if (this.stopped || [CLOSE.NORMAL, CLOSE.REFUSED, CLOSE.REMOVED, CLOSE.BANNED].includes(code)) {
      this.onStatus({ state: "closed", code });
      return;
    }
    // 1 s, 2 s, 4 s … up to 15 s, with jitter so that a restarted server is not hit by
    // everyone at the same moment.
    const base = Math.min(15, 2 ** this.attempt);
    const seconds = Math.round((base * (0.5 + Math.random() / 2)) * 10) / 10;
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
    this.socket?.close(CLOSE.NORMAL);
  }
}
