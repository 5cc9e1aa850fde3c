// What the page shows of the floor, told to the server (`view`), so that a big room sends
// this page what moves where it looks on every tick and the rest once a second. Told at
// most four times a second while the person pans and zooms (the last change always goes),
// and again after every welcome: a new connection starts out seeing everything.

export const VIEW_EVERY_MS = 250;

export class ViewReporter {
  // `shown()` is the part of the floor on screen ({ x, y, width, height } in floor units,
  // or null before the room is shown); `send(rect)` sends it.
  constructor({ shown, send, everyMs = VIEW_EVERY_MS }) {
    this.shown = shown;
    this.sendRect = send;
    this.everyMs = everyMs;
    this.last = null;
    this.lastAt = -Infinity;
    this.timer = null;
  }

  // The view changed (a scroll, a zoom, a resize): tell the server soon.
  changed() {
    if (this.timer) return;
    const wait = Math.max(0, this.lastAt + this.everyMs - performance.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.report(false);
    }, wait);
  }

  // Tells the server now, even if it was told the same before (after a welcome).
  reset() {
    clearTimeout(this.timer);
    this.timer = null;
    this.report(true);
  }

  report(always) {
    const rect = this.shown();
    if (!rect) return;
    const r = {
      x: Math.floor(rect.x),
      y: Math.floor(rect.y),
      width: Math.max(0, Math.ceil(rect.width)),
      height: Math.max(0, Math.ceil(rect.height)),
    };
    const l = this.last;
    if (!always && l && l.x === r.x && l.y === r.y && l.width === r.width && l.height === r.height) return;
    this.last = r;
    this.lastAt = performance.now();
    this.sendRect(r);
  }
}
