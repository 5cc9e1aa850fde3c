// The room floor: areas, circles and avatars as DOM elements (readable by assistive
// technology), scaled to fit the window, with zoom and panning by scrolling. Walking is by
// click or tap, and by arrow keys or W/A/S/D while the floor has focus.

import { t } from "./i18n.js";

const STEP = 40;

export function initials(name) {
  const words = name.trim().split(/\s+/).filter((w) => /\p{L}/u.test(w[0] ?? ""));
  const letters = words.length > 1 ? words[0][0] + words[words.length - 1][0] : (words[0] ?? name).slice(0, 2);
  return letters.toUpperCase();
}

export function colour(id) {
  let hash = 0;
  for (const ch of id) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  // Dark enough for white initials to meet WCAG AA contrast.
  return `hsl(${hash % 360} 55% 26%)`;
}

export class Floor {
  constructor(viewport, { onWalk }) {
    this.viewport = viewport;
    this.onWalk = onWalk;
    this.sizer = document.createElement("div");
    this.sizer.className = "floor-sizer";
    this.stage = document.createElement("div");
    this.stage.className = "stage";
    this.sizer.append(this.stage);
    viewport.append(this.sizer);
    this.zoom = 1;
    this.avatars = new Map();
    this.circleEls = new Map();
    this.lastKeyMove = 0;
    this.stage.addEventListener("click", (event) => {
      const point = this.toFloor(event.clientX, event.clientY);
      this.onWalk(point.x, point.y);
    });
    viewport.addEventListener("keydown", (event) => this.key(event));
    new ResizeObserver(() => this.fit()).observe(viewport);
  }

  setRoom(state) {
    this.state = state;
    this.stage.style.width = `${state.room.width}px`;
    this.stage.style.height = `${state.room.height}px`;
    this.renderAreas();
    if (!this.zoomed) {
      // Start close enough to read names, centred on oneself; zoom out to see it all.
      this.zoomed = true;
      this.zoom = Math.max(1, 0.75 / this.fitScale());
    }
    this.fit();
    this.renderAll();
    this.centreOn(state.me());
  }

  // Areas as labelled rectangles under everything else.
  renderAreas() {
    for (const el of this.stage.querySelectorAll(".area")) el.remove();
    for (const area of this.state.areas) {
      const el = document.createElement("div");
      el.className = `area${area.quiet ? " quiet" : ""}${area.stage ? " stage-area" : ""}`;
      Object.assign(el.style, { left: `${area.x}px`, top: `${area.y}px`, width: `${area.width}px`, height: `${area.height}px` });
      const label = document.createElement("span");
      label.className = "area-label";
      label.textContent = area.name;
      el.append(label);
      this.stage.prepend(el);
    }
  }

  fitScale() {
    const { width, height } = this.state.room;
    return Math.min(this.viewport.clientWidth / width, this.viewport.clientHeight / height) || 1;
  }

  // Scrolls so that `p` is comfortably inside the view.
  keepInView(p) {
    if (!p) return;
    const margin = 80;
    const x = p.x * this.scale - this.viewport.scrollLeft;
    const y = p.y * this.scale - this.viewport.scrollTop;
    if (x < margin || y < margin || x > this.viewport.clientWidth - margin || y > this.viewport.clientHeight - margin) {
      this.centreOn(p);
    }
  }

  fit() {
    if (!this.state) return;
    const { width, height } = this.state.room;
    this.scale = this.fitScale() * this.zoom;
    this.stage.style.transform = `scale(${this.scale})`;
    this.sizer.style.width = `${width * this.scale}px`;
    this.sizer.style.height = `${height * this.scale}px`;
  }

  zoomBy(factor) {
    this.zoom = Math.min(8, Math.max(1, this.zoom * factor));
    this.fit();
    this.centreOn(this.state.me());
  }

  centreOn(p) {
    if (!p) return;
    this.viewport.scrollTo({
      left: p.x * this.scale - this.viewport.clientWidth / 2,
      top: p.y * this.scale - this.viewport.clientHeight / 2,
    });
  }

  toFloor(clientX, clientY) {
    const rect = this.stage.getBoundingClientRect();
    return { x: Math.round((clientX - rect.left) / this.scale), y: Math.round((clientY - rect.top) / this.scale) };
  }

  key(event) {
    const moves = { ArrowUp: [0, -1], w: [0, -1], ArrowDown: [0, 1], s: [0, 1], ArrowLeft: [-1, 0], a: [-1, 0], ArrowRight: [1, 0], d: [1, 0] };
    const dir = moves[event.key.length === 1 ? event.key.toLowerCase() : event.key];
    if (!dir || event.altKey || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    const now = performance.now();
    if (now - this.lastKeyMove < 100) return;
    this.lastKeyMove = now;
    const me = this.state.me();
    if (me) this.onWalk(me.x + dir[0] * STEP, me.y + dir[1] * STEP);
  }

  renderAll() {
    const seen = new Set();
    for (const p of this.state.participants.values()) {
      seen.add(p.id);
      this.renderAvatar(p);
    }
    for (const [id, el] of this.avatars) {
      if (!seen.has(id)) {
        el.remove();
        this.avatars.delete(id);
      }
    }
    this.renderCircles();
  }

  renderAvatar(p) {
    let el = this.avatars.get(p.id);
    if (!el) {
      el = document.createElement("div");
      el.className = "avatar";
      el.setAttribute("role", "img");
      el.innerHTML = `<div class="face"><span class="initials"></span></div><span class="tag"></span><span class="muted-icon" aria-hidden="true"></span><span class="hand-icon" aria-hidden="true">✋</span><span class="stage-icon" aria-hidden="true">📢</span>`;
      el.querySelector(".face").style.background = colour(p.id);
      this.avatars.set(p.id, el);
      this.stage.append(el);
    }
    const me = p.id === this.state.you;
    el.classList.toggle("me", me);
    el.classList.toggle("in-circle", p.circle != null);
    el.classList.toggle("mic-off", !p.mic);
    el.classList.toggle("hand-raised", !!p.hand);
    el.classList.toggle("reconnecting", !!p.reconnecting);
    const onStage = this.state.broadcasters.includes(p.id);
    el.classList.toggle("on-stage", onStage);
    el.querySelector(".initials").textContent = initials(p.name);
    el.querySelector(".tag").textContent = me ? t("room.you", { name: p.name }) : p.name;
    const mic = `${t("room.mic")} ${p.mic ? t("room.on") : t("room.off")}`;
    const camera = `${t("room.camera")} ${p.camera ? t("room.on") : t("room.off")}`;
    const hand = (p.hand ? `, ${t("room.handRaised")}` : "") + (onStage ? `, ${t("room.onStage")}` : "") + (p.reconnecting ? `, ${t("room.reconnecting")}` : "");
    el.setAttribute("aria-label", `${me ? t("room.you", { name: p.name }) : p.name}, ${mic}, ${camera}${hand}`);
    this.place(p);
  }

  place(p) {
    const el = this.avatars.get(p.id);
    if (el) el.style.transform = `translate(${p.x}px, ${p.y}px)`;
  }

  positions(ids) {
    for (const id of ids) {
      const p = this.state.participants.get(id);
      if (p) this.place(p);
    }
  }

  renderCircles() {
    const seen = new Set();
    for (const c of this.state.circles.values()) {
      seen.add(c.id);
      let el = this.circleEls.get(c.id);
      if (!el) {
        el = document.createElement("div");
        el.className = "circle";
        el.setAttribute("aria-hidden", "true");
        el.innerHTML = `<span class="circle-count"></span><svg class="lock" viewBox="0 0 16 16" width="16" height="16"><path d="M4 7V5a4 4 0 0 1 8 0v2h1v8H3V7h1zm2 0h4V5a2 2 0 0 0-4 0v2z" fill="currentColor"/></svg>`;
        this.circleEls.set(c.id, el);
        this.stage.prepend(el);
      }
      Object.assign(el.style, { left: `${c.x - c.radius}px`, top: `${c.y - c.radius}px`, width: `${2 * c.radius}px`, height: `${2 * c.radius}px` });
      el.classList.toggle("locked", c.locked);
      el.classList.toggle("mine", c.members.includes(this.state.you));
      el.querySelector(".circle-count").textContent = String(c.members.length);
    }
    for (const [id, el] of this.circleEls) {
      if (!seen.has(id)) {
        el.remove();
        this.circleEls.delete(id);
      }
    }
  }

  // Shows a reaction over an avatar for a moment.
  react(id, symbol) {
    const el = this.avatars.get(id);
    if (!el) return;
    const bubble = document.createElement("span");
    bubble.className = "reaction";
    bubble.setAttribute("aria-hidden", "true");
    bubble.textContent = symbol;
    el.append(bubble);
    setTimeout(() => bubble.remove(), 2500);
  }

  // Shows live video in an avatar (or removes it).
  // Turns circle audio down while a broadcast plays (and back up after).
  setDucked(ducked) {
    this.ducked = ducked;
    for (const video of this.viewport.querySelectorAll(".avatar video")) video.volume = ducked ? 0.2 : 1;
  }

  setVideo(id, stream, { muted = false } = {}) {
    const el = this.avatars.get(id);
    if (!el) return;
    let video = el.querySelector("video");
    if (!stream) {
      video?.remove();
      el.classList.remove("has-video");
      return;
    }
    if (!video) {
      video = document.createElement("video");
      video.autoplay = true;
      video.playsInline = true;
      el.querySelector(".face").append(video);
    }
    video.muted = muted;
    video.volume = this.ducked ? 0.2 : 1;
    if (video.srcObject !== stream) video.srcObject = stream;
    el.classList.add("has-video");
  }
}
