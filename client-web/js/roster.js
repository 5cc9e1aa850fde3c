// Who the page knows in a big room: its welcome lists only the people near, so ids it
// meets that it does not know (in a tick, in a circle) are asked for with `who`, a
// hundred at a time, at most four times a second, and not again for ten seconds.

export const ASK_EVERY_MS = 250;
const ASK_AGAIN_MS = 10_000;
const MOST_AT_ONCE = 100;

export class WhoAsker {
  // `send(ids)` sends one `who`.
  constructor({ send, everyMs = ASK_EVERY_MS }) {
    this.send = send;
    this.everyMs = everyMs;
    this.wanted = new Set();
    this.askedAt = new Map();
    this.timer = null;
  }

  // These ids are not known: ask for them soon (unless asked lately).
  ask(ids) {
    const now = performance.now();
    for (const id of ids) {
      if (now - (this.askedAt.get(id) ?? -Infinity) >= ASK_AGAIN_MS) this.wanted.add(id);
    }
    if (this.wanted.size > 0 && !this.timer) this.timer = setTimeout(() => this.flush(), this.everyMs);
  }

  flush() {
    this.timer = null;
    const now = performance.now();
    const ids = [...this.wanted].slice(0, MOST_AT_ONCE);
    for (const id of ids) {
      this.wanted.delete(id);
      this.askedAt.set(id, now);
    }
    if (ids.length > 0) this.send(ids);
    if (this.wanted.size > 0) this.timer = setTimeout(() => this.flush(), this.everyMs);
    // What was asked long ago may be asked again: forget it.
    if (this.askedAt.size > 5000) {
      for (const [id, at] of this.askedAt) if (now - at >= ASK_AGAIN_MS) this.askedAt.delete(id);
    }
  }

  // A new connection: nothing is pending any more.
  reset() {
    clearTimeout(this.timer);
    this.timer = null;
    this.wanted.clear();
    this.askedAt.clear();
  }
}
