// Real-time text in a circle (EN 301 549, 6.2: where people talk, they can also write
// while they talk), and questions to the stage typed the same way by its listeners. Each member's line travels as it is typed — the whole line so far, at
// most every 100 ms — and the others read it letter by letter in that member's own labelled
// region. Enter finishes a line: it stays (the last few are kept) and the next starts
// empty. Screen readers are not flooded with letters: a finished line, or the words typed
// before a pause of two seconds, are announced politely with the writer's name.

import { t } from "./i18n.js";

const SEND_EVERY_MS = 100;
const PAUSE_MS = 2000;
const KEEP_LINES = 3;

export class RealTimeText {
  // `panel` the section, `toggle` its button, `writers` where the regions go, `own` the
  // input, `announcer` a polite live region, `send(text, done)` sends a line, `onLayout`
  // is told when the panel opens or closes (the tiles get less room).
  // `target` is "circle" (one's circle) or "stage" (questions to whoever broadcasts).
  constructor({ target, panel, toggle, writers, own, announcer, send, onLayout }) {
    Object.assign(this, { target, panel, toggle, writers, own, announcer, send, onLayout });
    // Per writer (and "me"): { done: [lines], current, announced, timer, box }.
    this.lines = new Map();
    this.circle = null;
    this.names = new Map();
    this.lastSent = 0;
    this.sendTimer = null;
    this.sentText = "";
    own.maxLength = 200;
    own.addEventListener("input", () => this.typed());
    own.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.isComposing) {
        event.preventDefault();
        this.finish();
      }
    });
    toggle.addEventListener("click", () => this.setOpen(panel.hidden, true));
  }

  get open() {
    return !this.panel.hidden;
  }

  setOpen(open, focus = false) {
    if (this.open === open) {
      if (open && focus) this.own.focus();
      return;
    }
    this.panel.hidden = !open;
    this.toggle.setAttribute("aria-expanded", String(open));
    this.panel.parentElement.classList.toggle("rtt-open", open);
    if (open) this.render();
    if (open && focus) this.own.focus();
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
    if (text === this.sentText) return;
    if (this.send(text, false)) {
      this.sentText = text;
      this.lastSent = performance.now();
    }
  }

  // Enter: the line is finished; it stays in one's own region.
  finish() {
    clearTimeout(this.sendTimer);
    this.sendTimer = null;
    const text = this.own.value;
    if (!text.trim()) return;
    if (!this.send(text, true)) return;
    this.own.value = "";
    this.sentText = "";
    this.lastSent = performance.now();
    const mine = this.entry("me");
    mine.done = [...mine.done, text].slice(-KEEP_LINES);
    this.renderWriter("me");
  }

  entry(id) {
    if (!this.lines.has(id)) this.lines.set(id, { done: [], current: "", announced: "", timer: null, box: null });
    return this.lines.get(id);
  }

  // A line from someone in one's circle.
  received(msg) {
    if (msg.to !== this.target || !this.circle || !this.names.has(msg.from)) return;
    const first = !this.lines.has(msg.from);
    const line = this.entry(msg.from);
    clearTimeout(line.timer);
    if (msg.done) {
      line.done = [...line.done, msg.text].slice(-KEEP_LINES);
      line.current = "";
      this.announce(msg.from, msg.text);
      line.announced = "";
    } else {
      line.current = msg.text;
      // A pause finishes a phrase: announce what is new since the last announcement.
      line.timer = setTimeout(() => this.announce(msg.from, line.current), PAUSE_MS);
    }
    if (!this.open) {
      // Someone writes: the panel opens (without taking the focus) and says so once.
      this.setOpen(true);
      if (first) this.say(t("rtt.started", { name: this.names.get(msg.from) }));
    }
    this.renderWriter(msg.from);
  }

  // Announces `text` for `id`, or only the part after what was already announced of it.
  announce(id, text) {
    const line = this.entry(id);
    const fresh = text.startsWith(line.announced) ? text.slice(line.announced.length) : text;
    line.announced = text;
    if (fresh.trim()) this.say(t("rtt.said", { name: this.names.get(id) ?? "?", text: fresh.trim() }));
  }

  say(text) {
    // A new text node each time, so that the same words twice are announced twice.
    this.announcer.textContent = "";
    setTimeout(() => (this.announcer.textContent = text), 50);
  }

  // The room changed: one's circle (or "stage" while someone broadcasts) and who may
  // write (`names`: id → shown name). Lines of people who left go; when the circle (or
  // the broadcast) ends, the panel closes and clears. `canWrite` false hides one's own
  // line (those on stage answer by voice).
  update(circleId, names, { canWrite = true } = {}) {
    const hint = document.getElementById(this.own.getAttribute("aria-describedby"));
    this.own.closest(".rtt-own-row").hidden = !canWrite;
    if (hint) hint.hidden = !canWrite;
    if (circleId !== this.circle) {
      for (const line of this.lines.values()) clearTimeout(line.timer);
      this.lines.clear();
      this.writers.replaceChildren();
      this.showEmpty();
      this.own.value = "";
      this.sentText = "";
      this.circle = circleId;
      if (!circleId) this.setOpen(false);
    }
    this.names = names;
    for (const id of [...this.lines.keys()]) {
      if (id !== "me" && !names.has(id)) {
        clearTimeout(this.lines.get(id).timer);
        this.lines.get(id).box?.remove();
        this.lines.delete(id);
      }
    }
    this.toggle.hidden = !circleId;
    if (this.open) this.render();
  }

  render() {
    for (const id of this.lines.keys()) this.renderWriter(id);
    this.showEmpty();
  }

  // Before anyone has written: one line saying so (one's own region appears with one's
  // first finished line).
  showEmpty() {
    let empty = this.writers.querySelector(".rtt-empty");
    if (this.lines.size > 0) return empty?.remove();
    if (!empty) {
      empty = document.createElement("p");
      empty.className = "rtt-empty";
      this.writers.append(empty);
    }
    empty.textContent = t("rtt.nothingYet");
  }

  // One writer's region: their name as its heading, the kept lines, the line being typed.
  renderWriter(id) {
    const line = this.entry(id);
    if (!line.box) {
      const box = document.createElement("section");
      box.className = "rtt-writer";
      box.dataset.id = id;
      const heading = document.createElement("h4");
      heading.id = `rtt-writer-${id}`;
      box.setAttribute("aria-labelledby", heading.id);
      box.append(heading, document.createElement("div"));
      line.box = box;
      // One's own region comes first.
      if (id === "me") this.writers.prepend(box);
      else this.writers.append(box);
    }
    const [heading, body] = line.box.children;
    heading.textContent = id === "me" ? t("rtt.you") : t("rtt.writer", { name: this.names.get(id) ?? "?" });
    const paragraphs = line.done.map((text) => {
      const p = document.createElement("p");
      p.className = "rtt-line";
      p.textContent = text;
      return p;
    });
    if (id !== "me") {
      const current = document.createElement("p");
      current.className = "rtt-current";
      current.textContent = line.current;
      paragraphs.push(current);
    }
    body.replaceChildren(...paragraphs);
    this.showEmpty();
    // The newest words stay in view: the writers' list scrolls to the region that changed.
    const below = line.box.getBoundingClientRect().bottom - this.writers.getBoundingClientRect().bottom;
    if (below > 0) this.writers.scrollTop += below;
  }
}
