// Real-time text in a circle (EN 301 549, 6.2: where people talk, they can also write
// while they talk), and questions to whoever is on air, typed the same way by its listeners.
// Each writer's line travels as it is typed — the whole line so far, at most every 100 ms —
// and the others read it letter by letter in that writer's own labelled region. Enter
// finishes a line: it stays (the last few are kept) and the next starts empty. Screen
// readers are not flooded with letters: a finished line, or the words typed before a pause
// of two seconds, are announced politely with the writer's name (through the page's one
// live region, which is always there).

import { t } from "./i18n.js";

const SEND_EVERY_MS = 100;
const PAUSE_MS = 2000;
const KEEP_LINES = 3;

export class RealTimeText {
  // `target` "circle" or "on_air"; `panel` the section, `toggle` its button, `writers`
  // where the regions go, `own` the input, `announce(text)` speaks politely,
  // `send(text, done, key)` sends a line (for the circle or on-air `key` it was typed in),
  // `onLayout` is told when the panel opens or closes, `focusAway()` is where the focus
  // goes when the panel closes under it.
  constructor({ target, panel, toggle, writers, own, announce, send, onLayout, focusAway }) {
    Object.assign(this, { target, panel, toggle, writers, own, announce, send, onLayout, focusAway });
    // Per writer (and "me"): { done: [lines], current, announced, timer, box }.
    this.lines = new Map();
    this.key = null;
    this.names = new Map();
    this.lastSent = 0;
    this.sendTimer = null;
    this.sentText = "";
    // Closed by the person: new writers do not open it again until the circle changes.
    this.closedByUser = false;
    // The list showed its end before it got lower (a phone turned, the window zoomed, a
    // prompt shown above it): it shows its end after, so the newest words stay in view.
    this.atEnd = true;
    writers.addEventListener("scroll", () => (this.atEnd = this.showsEnd()));
    new ResizeObserver(() => {
      if (this.atEnd && writers.clientHeight > 0) writers.scrollTop = writers.scrollHeight;
    }).observe(writers);
    own.maxLength = 200;
    own.addEventListener("input", () => this.typed());
    own.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.isComposing) {
        event.preventDefault();
        this.finish();
      }
    });
    toggle.addEventListener("click", () => {
      if (!this.panel.hidden) return this.close();
      this.closedByUser = false;
      this.setOpen(true, true);
    });
    panel.querySelector(".rtt-close")?.addEventListener("click", () => this.close());
  }

  // Closed by the person (its own button, the toggle, the More menu): new writers do not
  // open it again until the circle changes. Where the toggle does not show (low screens),
  // the focus goes to the More menu's button, from which it opens again.
  close() {
    this.closedByUser = true;
    const toggleShown = !this.toggle.hidden && this.toggle.offsetParent !== null;
    if (!toggleShown && this.panel.contains(document.activeElement)) document.querySelector("#more-button")?.focus();
    this.setOpen(false);
  }

  showsEnd() {
    return this.writers.scrollTop + this.writers.clientHeight >= this.writers.scrollHeight - 4;
  }

  get open() {
    return !this.panel.hidden;
  }

  // Knows `id` as a writer here (a member of one's circle, or anyone while on air).
  knows(id) {
    return this.names.has(id);
  }

  setOpen(open, focus = false) {
    if (this.open === open) {
      if (open && focus) this.own.focus();
      return;
    }
    // The focus is not left behind in a panel that goes.
    if (!open && this.panel.contains(document.activeElement)) {
      const shown = !this.toggle.hidden && this.toggle.offsetParent !== null;
      (shown ? this.toggle : this.focusAway()).focus();
    }
    this.panel.hidden = !open;
    this.toggle.setAttribute("aria-expanded", String(open));
    this.panel.parentElement.classList.toggle("rtt-open", open);
    if (open) this.render();
    if (open && focus && !this.own.closest(".rtt-own-row").hidden) this.own.focus();
    this.onLayout?.();
  }

  // The own line changed: send it now, or when 100 ms have passed since the last.
  typed() {
    if (this.sendTimer) return;
    const wait = SEND_EVERY_MS - (performance.now() - this.lastSent);
    if (wait <= 0) return this.flush();
    this.sendTimer = setTimeout(() => this.flush(), wait);
  }

  flush() {
    clearTimeout(this.sendTimer);
    this.sendTimer = null;
    const text = this.own.value;
    if (text === this.sentText || !this.key) return;
    if (this.send(text, false, this.key)) {
      this.sentText = text;
      this.lastSent = performance.now();
    }
  }

  // Enter: the line is finished; it stays in one's own region.
  finish() {
    clearTimeout(this.sendTimer);
    this.sendTimer = null;
    const text = this.own.value;
    if (!text.trim() || !this.key) return;
    if (!this.send(text, true, this.key)) return;
    this.own.value = "";
    this.sentText = "";
    this.lastSent = performance.now();
    const mine = this.entry("me");
    mine.done = [...mine.done, text].slice(-KEEP_LINES);
    this.renderWriter("me", true);
  }

  entry(id) {
    if (!this.lines.has(id)) this.lines.set(id, { done: [], current: "", announced: "", timer: null, box: null });
    return this.lines.get(id);
  }

  // A line from someone one reads here.
  received(msg) {
    if (msg.to !== this.target || !this.key || !this.names.has(msg.from)) return;
    const first = !this.lines.has(msg.from);
    const line = this.entry(msg.from);
    clearTimeout(line.timer);
    let finished = false;
    if (msg.done) {
      line.done = [...line.done, msg.text].slice(-KEEP_LINES);
      line.current = "";
      this.say(msg.from, msg.text);
      line.announced = "";
      finished = true;
    } else {
      line.current = msg.text;
      // A pause finishes a phrase: announce what is new since the last announcement.
      line.timer = setTimeout(() => this.say(msg.from, line.current), PAUSE_MS);
    }
    if (first && !this.open && !this.closedByUser) {
      // Someone starts writing: the panel opens (without taking the focus) and says so.
      this.setOpen(true);
      this.announce(t("rtt.started", { name: this.names.get(msg.from) }));
    }
    if (this.open) this.renderWriter(msg.from, first || finished);
  }

  // Announces `text` of `id`, or only the part after what was already announced of it.
  say(id, text) {
    const line = this.entry(id);
    const fresh = text.startsWith(line.announced) ? text.slice(line.announced.length) : text;
    line.announced = text;
    if (fresh.trim()) this.announce(t("rtt.said", { name: this.names.get(id) ?? "?", text: fresh.trim() }));
  }

  // The room changed: one's circle (its id as `key`; "on_air" while someone broadcasts)
  // and who may write (`names`: id → shown name). Lines of people who left go; when the
  // circle or the broadcast ends, the panel closes and clears. `canWrite` false hides
  // one's own line (those on air answer by voice).
  update(key, names, { canWrite = true } = {}) {
    this.canWrite = canWrite;
    this.own.closest(".rtt-own-row").hidden = !canWrite;
    // The hints (the whole one, and the short one a phone shows) are about one's own line.
    for (const hint of this.panel.querySelectorAll(".hint")) hint.hidden = !canWrite;
    this.toggle.hidden = !key;
    if (key !== this.key) {
      // What was typed for the old circle is not sent to the new one.
      clearTimeout(this.sendTimer);
      this.sendTimer = null;
      for (const line of this.lines.values()) clearTimeout(line.timer);
      this.lines.clear();
      this.writers.replaceChildren();
      this.own.value = "";
      this.sentText = "";
      this.key = key;
      this.closedByUser = false;
      if (!key) this.setOpen(false);
    }
    this.names = names;
    for (const id of [...this.lines.keys()]) {
      if (id !== "me" && !names.has(id)) {
        clearTimeout(this.lines.get(id).timer);
        this.lines.get(id).box?.remove();
        this.lines.delete(id);
      }
    }
    if (this.open) this.render();
  }

  render() {
    for (const id of this.lines.keys()) this.renderWriter(id, true);
    this.showEmpty();
  }

  // Before anyone has written: one line saying so (one's own region appears with one's
  // first finished line). Those who only read (on stage) are told what will appear here.
  showEmpty() {
    let empty = this.writers.querySelector(".rtt-empty");
    if (this.lines.size > 0) return empty?.remove();
    if (!empty) {
      empty = document.createElement("p");
      empty.className = "rtt-empty";
      this.writers.append(empty);
    }
    empty.textContent = t(this.canWrite === false ? "rtt.nothingYetReader" : "rtt.nothingYet");
  }

  // One writer's region: their name as its heading, the kept lines, the line being typed.
  // While a line grows only its text changes (a screen reader's reading position and a
  // list scrolled up stay put); `whole` rebuilds the region.
  renderWriter(id, whole = false) {
    const line = this.entry(id);
    const atBottom = this.showsEnd();
    if (!line.box) {
      const box = document.createElement("section");
      box.className = "rtt-writer";
      box.dataset.id = id;
      const heading = document.createElement("h4");
      heading.id = `rtt-${this.target}-writer-${id}`;
      box.setAttribute("aria-labelledby", heading.id);
      box.append(heading, document.createElement("div"));
      line.box = box;
      whole = true;
      // One's own region comes first.
      if (id === "me") this.writers.prepend(box);
      else this.writers.append(box);
      this.showEmpty();
    }
    const [heading, body] = line.box.children;
    const current = body.querySelector(".rtt-current");
    if (!whole && current) {
      current.textContent = line.current;
    } else {
      heading.textContent = id === "me" ? t("rtt.you") : t("rtt.writer", { name: this.names.get(id) ?? "?" });
      const paragraphs = line.done.map((text) => {
        const p = document.createElement("p");
        p.className = "rtt-line";
        p.textContent = text;
        return p;
      });
      if (id !== "me") {
        const now = document.createElement("p");
        now.className = "rtt-current";
        now.textContent = line.current;
        paragraphs.push(now);
      }
      body.replaceChildren(...paragraphs);
    }
    // The newest words stay in view, unless the person scrolled up to read.
    if (atBottom) {
      const below = line.box.getBoundingClientRect().bottom - this.writers.getBoundingClientRect().bottom;
      if (below > 0) this.writers.scrollTop += below;
    }
    this.atEnd = this.showsEnd();
  }
}

// The page's two real-time text panels: one's circle (its members are the writers one
// reads) and questions to whoever is on air (anyone may write while someone broadcasts;
// those on air read). `send(target, text, done, key)` sends a line, `nameOf(p)` is how a
// participant is named, `layout()` is told when a panel opens or closes.
export class RealTimeTextViews {
  constructor({ send, nameOf, announce, layout, focusAway }) {
    const $ = (selector) => document.querySelector(selector);
    this.nameOf = nameOf;
    this.circle = new RealTimeText({
      target: "circle",
      panel: $("#rtt"),
      toggle: $("#rtt-toggle"),
      writers: $("#rtt-writers"),
      own: $("#rtt-own"),
      announce,
      send: (text, done, circle) => send("circle", text, done, circle),
      onLayout: () => {
        layout();
        const label = $("#menu-rtt span");
        label.dataset.i18n = this.circle.open ? "rtt.closePanel" : "rtt.heading";
        label.textContent = t(label.dataset.i18n);
      },
      focusAway,
    });
    this.onAir = new RealTimeText({
      target: "on_air",
      panel: $("#on-air-rtt"),
      toggle: $("#on-air-rtt-toggle"),
      writers: $("#on-air-rtt-writers"),
      own: $("#on-air-rtt-own"),
      announce,
      send: (text, done) => send("on_air", text, done),
      onLayout: layout,
      focusAway,
    });
  }

  // Writers follow the room `state`: the members of one's circle, everyone while someone
  // is on air.
  update(state) {
    const circle = state.myCircle();
    const names = new Map();
    for (const id of circle?.members ?? []) {
      if (id !== state.you) names.set(id, this.nameOf(state.participants.get(id)));
    }
    this.circle.update(circle?.id ?? null, names);
    document.querySelector("#menu-rtt").hidden = !circle;
    document.querySelector("#menu-leave-circle").hidden = !circle;
    // (Gone with the circle while it has the focus, someone else having left: the focus
    // goes to the floor rather than to nowhere.)
    const floorLeave = document.querySelector("#floor-leave-circle");
    if (!circle && document.activeElement === floorLeave) document.querySelector("#floor").focus();
    floorLeave.hidden = !circle;
    const live = state.broadcasters.length > 0;
    const everyone = new Map();
    if (live) for (const p of state.participants.values()) everyone.set(p.id, this.nameOf(p));
    this.onAir.update(live ? "on_air" : null, everyone, { canWrite: !state.broadcasters.includes(state.you) });
  }

  // A line from a writer (`rtt`); one not yet known (the circle's change is still to be
  // drawn) brings the writers up to date first.
  received(msg, state) {
    const reader = msg.to === "on_air" ? this.onAir : this.circle;
    if (!reader.knows(msg.from)) this.update(state);
    reader.received(msg);
  }

  // Leaving: nothing to read or write any more.
  clear() {
    this.circle.update(null, new Map());
    this.onAir.update(null, new Map());
  }
}
