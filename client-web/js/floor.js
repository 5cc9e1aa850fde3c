// The room floor: the floor plan (or a quiet pattern), areas as coloured zones, circles
// with their count and lock, and everyone as an avatar with a name tag, all as DOM
// elements (readable by assistive technology). Positions are floor units; the floor is
// drawn at `scale` pixels per unit, fitted to the window and zoomable, and scrolls.
// Members of a circle are drawn evenly around its ring; name tags are placed so that
// none covers another (layout.js). Clicks and the keyboard ask to walk (walk.js).

import { t } from "./i18n.js";
import { icon } from "./icons.js";
import { ringSlots, placeTags } from "./layout.js";
import { initials, colour } from "./names.js";
import { displayName, STANDBY_MS } from "./tiles.js";

// An avatar's radius in floor units at the default zoom, and its limits on screen.
const AVATAR_UNITS = 36;
const AVATAR_MIN_PX = 15;
const AVATAR_MAX_PX = 40;
const TAG_HEIGHT = 20;
// A name tag cut short (one's own circle, where a whole one finds no place), in rem: about
// ten letters, "Dorothea v…".
const SHORT_TAG_REM = 5;
// The widest a name tag opens (hover, focus) to show the profile line: 20rem.
const CARD_MAX_PX = 320;
// Who is near is said for this long after one's own step, and not twice for one person
// within the repeat time.
const NEAR_AFTER_KEY_MS = 1500;
const NEAR_REPEAT_MS = 5000;
// The tallest such a card gets: the name and a profile line over two or three lines.
const CARD_MAX_HEIGHT = 76;
// The closest zoom: pixels per floor unit.
const MAX_SCALE = 4;
// Tags are laid out again at most this often while people walk.
const TAG_INTERVAL_MS = 150;

export class Floor {
  constructor(viewport, { onWalk, onSteer, onNear = () => {}, onView = () => {} }) {
    this.viewport = viewport;
    // The zoom buttons over the floor's corner (name tags keep clear of them).
    this.zoomButtons = viewport.parentElement?.querySelector(".floor-zoom") ?? null;
    this.leaveButton = viewport.parentElement?.querySelector(".floor-leave") ?? null;
    this.onWalk = onWalk;
    this.onSteer = onSteer;
    // What the floor shows changed (a scroll, a zoom, a resize): see `shown`.
    this.onView = onView;
    // Who stands nearest while one walks by keyboard (their tag opens; see `markNearest`).
    this.onNear = onNear;
    this.near = null;
    this.lastKeyAt = -Infinity;
    this.announced = null;
    this.sizer = document.createElement("div");
    this.sizer.className = "floor-sizer";
    this.surface = document.createElement("div");
    this.surface.className = "surface";
    this.sizer.append(this.surface);
    viewport.append(this.sizer);
    // Pixels per floor unit that the person chose (zooming); never less than what fits the
    // whole floor into the view. It starts close enough to read names.
    this.preferred = 0.75;
    this.scale = 1;
    // The scale one chose, while one's circle needs the floor zoomed out (`fitCircle`);
    // whether one zoomed while in a circle.
    this.framedFrom = null;
    this.framedKey = null;
    this.ownZoom = false;
    this.avatars = new Map();
    this.circleEls = new Map();
    this.slots = new Map();
    this.tagWidths = new Map();
    this.duplicates = new Map();
    this.measure = document.createElement("canvas").getContext("2d");
    this.tagTimer = null;
    this.lastTags = 0;
    this.held = new Set();
    this.surface.addEventListener("click", (event) => {
      // A tap on a name cut short opens it whole (a phone has no hover) instead of walking;
      // a tap on it again closes it, and one elsewhere closes it and walks.
      const cut = event.target.closest?.(".tag.short")?.closest(".avatar");
      const open = this.surface.querySelector(".avatar.opened");
      open?.classList.remove("opened");
      if (cut) {
        if (cut !== open) cut.classList.add("opened");
        return;
      }
      const point = this.toFloor(event.clientX, event.clientY);
      this.onWalk(point.x, point.y);
    });
    viewport.addEventListener("keydown", (event) => this.key(event, true));
    viewport.addEventListener("keyup", (event) => this.key(event, false));
    viewport.addEventListener("blur", () => {
      this.held.clear();
      this.onSteer(null);
      this.markNearest();
    });
    viewport.addEventListener("focus", () => {
      this.lastKeyAt = performance.now();
      this.markNearest();
    });
    // Walking by keyboard after a click on the floor counts as using the keyboard.
    this.byKeyboard = false;
    viewport.addEventListener("pointerdown", () => {
      this.byKeyboard = false;
    });
    viewport.addEventListener("scroll", () => {
      this.scheduleTags();
      this.onView();
    });
    // A floor that changes size (the conversation opens, the panel closes) keeps its
    // scale (zoomed out as far as one's circle needs, see `fitCircle`) and keeps oneself
    // in view: one's circle, where the view can hold it.
    new ResizeObserver(() => {
      if (!this.state?.room) return;
      this.fit();
      this.renderAll();
      const circle = this.state.myCircle();
      if (circle) this.fitCircle(circle);
      const fits = (box) => box.width <= viewport.clientWidth && box.height <= viewport.clientHeight;
      const box = circle && [this.circleBox(circle, { count: true, names: true }), this.circleBox(circle, { count: true }), this.circleBox(circle)].find(fits);
      this.centreOn(box ? { x: (box.left + box.width / 2) / this.scale, y: (box.top + box.height / 2) / this.scale } : this.shownAt(this.state.you));
    }).observe(viewport);
  }

  // The part of the floor on screen, in floor units; null before the room is shown.
  shown() {
    if (!this.state?.room) return null;
    return {
      x: this.viewport.scrollLeft / this.scale,
      y: this.viewport.scrollTop / this.scale,
      width: this.viewport.clientWidth / this.scale,
      height: this.viewport.clientHeight / this.scale,
    };
  }

  setRoom(state) {
    this.state = state;
    this.fit();
    this.renderAreas();
    this.renderAll();
    this.centreOn(this.shownAt(state.you) ?? state.me());
  }

  // The room's floor plan (an image served by the server), or the built-in pattern.
  setPlan(url) {
    this.surface.classList.toggle("has-plan", !!url);
    this.surface.style.backgroundImage = url ? `url("${url}")` : "";
  }

  fitScale() {
    const { width, height } = this.state.room;
    return Math.min(this.viewport.clientWidth / width, this.viewport.clientHeight / height) || 1;
  }

  fit() {
    if (!this.state?.room) return;
    const { width, height } = this.state.room;
    this.scale = Math.max(this.fitScale(), Math.min(MAX_SCALE, this.preferred));
    const w = `${width * this.scale}px`;
    const h = `${height * this.scale}px`;
    Object.assign(this.sizer.style, { width: w, height: h });
    Object.assign(this.surface.style, { width: w, height: h });
    const r = Math.max(AVATAR_MIN_PX, Math.min(AVATAR_MAX_PX, AVATAR_UNITS * this.scale));
    this.radiusPx = r;
    this.surface.style.setProperty("--r", `${r}px`);
    this.renderAreas();
    this.onView();
  }

  zoomBy(factor) {
    const centre = this.centre();
    // One's own choice: kept, also in a circle larger than the view (see `fitCircle`).
    this.framedFrom = null;
    this.ownZoom = !!this.state?.myCircle();
    this.preferred = Math.max(this.fitScale(), Math.min(MAX_SCALE, this.scale * factor));
    this.fit();
    this.renderAll();
    this.centreOn(centre);
  }

  // The floor point at the middle of the view.
  centre() {
    return {
      x: (this.viewport.scrollLeft + this.viewport.clientWidth / 2) / this.scale,
      y: (this.viewport.scrollTop + this.viewport.clientHeight / 2) / this.scale,
    };
  }

  centreOn(p) {
    if (!p) return;
    this.viewport.scrollTo({
      left: p.x * this.scale - this.viewport.clientWidth / 2,
      top: p.y * this.scale - this.viewport.clientHeight / 2,
    });
  }

  // Scrolls so that `p` (one's own avatar) is comfortably inside the view, and with it
  // `circle` (one's circle, if any) where the view can hold it whole: the conversation in
  // sight, not only oneself (at 200% zoom its lower half was under the control bar). A
  // circle is brought in by as little scrolling as it takes, with room for the names
  // around it when there is that much, the floor zoomed out first where it does not fit
  // (`fitCircle`); without a circle, at one's own scale again (`unframe`). `onlyIfSeen`:
  // only when the view shows its middle (a person who scrolled away to look around stays
  // there).
  keepInView(p, circle = null, { onlyIfSeen = false } = {}) {
    if (!p) return;
    const vp = this.viewport;
    if (!circle) this.unframe(p);
    if (circle) {
      if (onlyIfSeen && !this.sees(circle)) return;
      this.fitCircle(circle);
      // With room around it, then with its count and names and no room, then without the
      // names, then the ring alone.
      const pad = Math.min(40, vp.clientWidth / 10, vp.clientHeight / 10);
      const whole = this.circleBox(circle, { count: true, names: true });
      for (const [box, margin] of [[whole, pad], [whole, 0], [this.circleBox(circle, { count: true }), 0], [this.circleBox(circle), 0]]) {
        const width = box.width + 2 * margin;
        const height = box.height + 2 * margin;
        if (width > vp.clientWidth || height > vp.clientHeight) continue;
        const into = (at, size, start, view) => Math.min(Math.max(start, at - margin + size - view), at - margin);
        const left = into(box.left, width, vp.scrollLeft, vp.clientWidth);
        const top = into(box.top, height, vp.scrollTop, vp.clientHeight);
        if (Math.abs(left - vp.scrollLeft) >= 1 || Math.abs(top - vp.scrollTop) >= 1) vp.scrollTo({ left, top });
        return;
      }
    }
    if (onlyIfSeen) return;
    const margin = Math.min(80, this.viewport.clientWidth / 4, this.viewport.clientHeight / 4);
    const x = p.x * this.scale - this.viewport.scrollLeft;
    const y = p.y * this.scale - this.viewport.scrollTop;
    if (x < margin || y < margin || x > this.viewport.clientWidth - margin || y > this.viewport.clientHeight - margin) this.centreOn(p);
  }

  // Whether the view shows a circle's middle.
  sees(circle) {
    const vp = this.viewport;
    const x = circle.x * this.scale - vp.scrollLeft;
    const y = circle.y * this.scale - vp.scrollTop;
    return x >= 0 && x <= vp.clientWidth && y >= 0 && y <= vp.clientHeight;
  }

  // One's circle larger than the view at the scale one chose (a circle of seven at 200%
  // zoom: its lower half under the control bar, out of reach but for scrolling): the floor
  // zooms out until it fits, as far as faces keep their smallest size and the floor fills
  // the view, and back to one's own scale once one is out of the circle. A person who zooms
  // while in the circle keeps what they chose.
  fitCircle(circle) {
    if (this.ownZoom) return;
    const vp = this.viewport;
    // From the scale one chose again where the view or the circle changed size since (it
    // may fit closer now); otherwise as it stands (each try draws the whole floor).
    const key = `${vp.clientWidth}×${vp.clientHeight}:${circle.members.length}`;
    if (this.framedFrom !== null && this.preferred < this.framedFrom && key !== this.framedKey) {
      this.preferred = this.framedFrom;
      this.fit();
      this.renderAll();
    }
    this.framedKey = key;
    const least = Math.max(this.fitScale(), AVATAR_MIN_PX / AVATAR_UNITS);
    // (A ring's size follows the faces' size, which follows the scale down to its least:
    // a step or two lands on it.)
    for (let step = 0; step < 4; step += 1) {
      const box = this.circleBox(circle, { count: true, names: true });
      const room = Math.min(vp.clientWidth / box.width, vp.clientHeight / box.height);
      if (room >= 1 || !(room > 0)) return;
      const scale = Math.max(least, this.scale * room * 0.97);
      if (scale >= this.scale - 1e-3) return;
      this.framedFrom ??= this.preferred;
      this.preferred = scale;
      this.fit();
      this.renderAll();
    }
  }

  // Out of the circle: the scale one chose before `fitCircle` zoomed out, around `p`.
  unframe(p) {
    this.ownZoom = false;
    this.framedKey = null;
    if (this.framedFrom === null) return;
    this.preferred = this.framedFrom;
    this.framedFrom = null;
    this.fit();
    this.renderAll();
    this.centreOn(this.shownAt(this.state.you) ?? p);
  }

  // A circle on the floor, in the floor's pixels: its ring and, with `count`, the count
  // above it (0.8rem above the ring, as floor.css places it; a view that held the ring
  // alone cut the count in half at 200% zoom), and with `names` the name under the lowest
  // face (a tag's height and 2 px below the face, past the ring's 0.45 of a face's radius
  // beyond it: fitted to the ring alone, the view left it out).
  circleBox(circle, { count = false, names = false } = {}) {
    const r = Math.max(circle.radius, this.rings?.get(circle.id) ?? circle.radius) * this.scale;
    const rem = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
    const above = count ? 0.8 * rem : 0;
    const below = names ? Math.max(0, 1.25 * rem + 2 - 0.45 * (this.radiusPx ?? AVATAR_UNITS)) : 0;
    return { left: circle.x * this.scale - r, top: circle.y * this.scale - r - above, width: 2 * r, height: 2 * r + above + below };
  }

  toFloor(clientX, clientY) {
    const rect = this.surface.getBoundingClientRect();
    return { x: Math.round((clientX - rect.left) / this.scale), y: Math.round((clientY - rect.top) / this.scale) };
  }

  // Arrow keys and W/A/S/D walk while held (several at once walk diagonally).
  key(event, down) {
    const dirs = { ArrowUp: "up", w: "up", ArrowDown: "down", s: "down", ArrowLeft: "left", a: "left", ArrowRight: "right", d: "right" };
    const dir = dirs[event.key.length === 1 ? event.key.toLowerCase() : event.key];
    if (!dir || event.altKey || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    this.byKeyboard = true;
    this.lastKeyAt = performance.now();
    if (down) this.held.add(dir);
    else this.held.delete(dir);
    const dx = (this.held.has("right") ? 1 : 0) - (this.held.has("left") ? 1 : 0);
    const dy = (this.held.has("down") ? 1 : 0) - (this.held.has("up") ? 1 : 0);
    this.onSteer(dx || dy ? { dx, dy } : null);
  }

  // Areas as coloured zones with a label, under everything else.
  renderAreas() {
    if (!this.state) return;
    for (const el of this.surface.querySelectorAll(".area:not(.drawn-area)")) el.remove();
    for (const area of this.state.areas) {
      const el = document.createElement("div");
      el.className = `area${area.quiet ? " quiet" : ""}${area.stage ? " stage-area" : ""}`;
      Object.assign(el.style, {
        left: `${area.x * this.scale}px`,
        top: `${area.y * this.scale}px`,
        width: `${area.width * this.scale}px`,
        height: `${area.height * this.scale}px`,
      });
      const label = document.createElement("span");
      label.className = "area-label";
      if (area.stage) label.append(icon("stage"));
      else if (area.quiet) label.append(icon("mic-off"));
      const text = document.createElement("span");
      text.textContent = area.name;
      label.append(text);
      const kind = area.stage ? t("area.stage") : area.quiet ? t("area.quiet") : "";
      label.title = kind ? `${area.name} (${kind})` : area.name;
      el.append(label);
      this.decorateArea?.(el, area);
      this.surface.prepend(el);
    }
  }

  // Where a participant is drawn: on their circle's ring, or where they stand.
  shownAt(id) {
    return this.slots.get(id) ?? this.state?.participants.get(id);
  }

  renderAll() {
    if (!this.state?.room) return;
    this.computeSlots();
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
    this.layoutTags();
  }

  // Ring places for the members of every circle.
  computeSlots(circleIds = null) {
    const avatar = (this.radiusPx ?? AVATAR_UNITS) / this.scale;
    if (!circleIds) this.slots.clear();
    this.rings = this.rings ?? new Map();
    for (const c of this.state.circles.values()) {
      if (circleIds && !circleIds.has(c.id)) continue;
      const members = c.members.map((id) => this.state.participants.get(id)).filter(Boolean);
      const { ring, slots } = ringSlots(c, members, avatar);
      this.rings.set(c.id, ring + avatar * 1.45);
      for (const [id, at] of slots) this.slots.set(id, at);
    }
    if (!circleIds) {
      for (const id of this.rings.keys()) if (!this.state.circles.has(id)) this.rings.delete(id);
    }
  }

  renderAvatar(p) {
    if (!p) return;
    let el = this.avatars.get(p.id);
    if (!el) {
      el = document.createElement("div");
      el.className = "avatar";
      el.setAttribute("role", "img");
      const face = document.createElement("div");
      face.className = "face";
      face.style.background = colour(p.id);
      const letters = document.createElement("span");
      letters.className = "initials";
      face.append(letters);
      // The name tag; on hover and focus it opens to show the profile line under the name.
      const tag = document.createElement("span");
      tag.className = "tag";
      const tagName = document.createElement("span");
      tagName.className = "tag-name";
      const tagProfile = document.createElement("span");
      tagProfile.className = "tag-profile";
      tag.append(tagName, tagProfile);
      const badges = document.createElement("span");
      badges.className = "badges";
      badges.append(icon("hand", "icon hand"), icon("mic-off", "icon mic-off"), icon("stage", "icon on-air"));
      el.append(face, badges, tag);
      this.avatars.set(p.id, el);
      this.surface.append(el);
    }
    const me = p.id === this.state.you;
    el.classList.toggle("me", me);
    el.classList.toggle("in-circle", p.circle != null);
    el.classList.toggle("mic-off", !p.mic);
    el.classList.toggle("hand-raised", !!p.hand);
    el.classList.toggle("reconnecting", !!p.reconnecting);
    const onAir = this.state.broadcasters.includes(p.id);
    el.classList.toggle("on-air", onAir);
    el.querySelector(".initials").textContent = initials(p.name);
    const name = displayName(p, this.state.you, this.duplicates);
    const tag = el.querySelector(".tag");
    const tagName = tag.querySelector(".tag-name");
    if (tagName.textContent !== name) {
      tagName.textContent = name;
      this.tagWidths.delete(p.id);
    }
    tag.querySelector(".tag-profile").textContent = p.profile ?? "";
    // One's own name cut short says "You" instead (floor.css).
    if (p.id === this.state.you) tag.dataset.short = t("tile.youShort");
    el.classList.toggle("has-profile", !!p.profile);
    tag.title = p.profile ? `${name}\n${p.profile}` : name;
    const mic = `${t("room.mic")} ${p.mic ? t("room.on") : t("room.off")}`;
    const camera = `${t("room.camera")} ${p.camera ? t("room.on") : t("room.off")}`;
    const extra = (p.hand ? `, ${t("room.handRaised")}` : "") + (onAir ? `, ${t("room.onAir")}` : "") + (p.reconnecting ? `, ${t("room.reconnecting")}` : "");
    const line = p.profile ? `, ${p.profile}` : "";
    el.setAttribute("aria-label", `${name}${line}, ${mic}, ${camera}${extra}`);
    this.place(p);
  }

  place(p) {
    const el = this.avatars.get(p.id);
    const at = this.shownAt(p.id);
    if (el && at) el.style.transform = `translate(${at.x * this.scale}px, ${at.y * this.scale}px)`;
  }

  // People moved (a tick): redraw them, and the rings of the circles they stand in.
  positions(ids) {
    const circles = new Set();
    for (const id of ids) {
      const c = this.state.participants.get(id)?.circle;
      if (c != null) circles.add(c);
    }
    if (circles.size) this.computeSlots(circles);
    for (const id of ids) {
      const p = this.state.participants.get(id);
      if (p) this.place(p);
    }
    if (circles.size) {
      for (const c of circles) for (const id of this.state.circles.get(c)?.members ?? []) this.place(this.state.participants.get(id) ?? { id });
      this.renderCircles();
    }
    this.scheduleTags();
  }

  // What no name tag may cover, in the floor's pixels: each circle's count above its
  // ring (as floor.css places it: centred, 0.8rem above the ring, a pill of about 3rem
  // at most), the zoom buttons in the view's corner and, on low screens, the Leave circle
  // button in the other.
  tagObstacles(view) {
    const rem = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
    const boxes = [];
    for (const c of this.state.circles.values()) {
      const x = c.x * this.scale;
      const { top } = this.circleBox(c, { count: true });
      if (x < view.left || x > view.right || top < view.top || top > view.bottom) continue;
      boxes.push({ left: x - 1.5 * rem, top, width: 3 * rem, height: 1.4 * rem });
    }
    const origin = this.viewport.getBoundingClientRect();
    for (const el of [this.zoomButtons, this.leaveButton]) {
      const box = el?.getBoundingClientRect();
      if (!box?.width) continue;
      boxes.push({ left: box.left - origin.left + this.viewport.scrollLeft, top: box.top - origin.top + this.viewport.scrollTop, width: box.width, height: box.height });
    }
    return boxes;
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
        const count = document.createElement("span");
        count.className = "circle-count";
        const number = document.createElement("span");
        count.append(icon("lock"), number);
        el.append(count);
        this.circleEls.set(c.id, el);
        this.surface.insertBefore(el, this.surface.querySelector(".avatar"));
      }
      const radius = Math.max(c.radius, this.rings?.get(c.id) ?? c.radius) * this.scale;
      Object.assign(el.style, { left: `${c.x * this.scale - radius}px`, top: `${c.y * this.scale - radius}px`, width: `${2 * radius}px`, height: `${2 * radius}px` });
      el.classList.toggle("locked", c.locked);
      el.classList.toggle("mine", c.members.includes(this.state.you));
      el.querySelector(".circle-count span").textContent = String(c.members.length);
    }
    for (const [id, el] of this.circleEls) {
      if (!seen.has(id)) {
        el.remove();
        this.circleEls.delete(id);
      }
    }
  }

  // Name tags, placed so that none covers another or another's avatar: oneself first,
  // then one's circle, then everyone else by distance. A name that finds no place shows
  // on hover and focus only.
  scheduleTags() {
    if (this.tagTimer) return;
    const wait = Math.max(0, TAG_INTERVAL_MS - (performance.now() - this.lastTags));
    this.tagTimer = setTimeout(() => {
      this.tagTimer = null;
      this.layoutTags();
    }, wait);
  }

  layoutTags() {
    if (!this.state?.room) return;
    this.lastTags = performance.now();
    const r = this.radiusPx;
    const view = {
      left: this.viewport.scrollLeft - 200,
      top: this.viewport.scrollTop - 100,
      right: this.viewport.scrollLeft + this.viewport.clientWidth + 200,
      bottom: this.viewport.scrollTop + this.viewport.clientHeight + 100,
    };
    const me = this.shownAt(this.state.you);
    const mine = this.state.myCircle();
    const shortPx = SHORT_TAG_REM * (parseFloat(getComputedStyle(document.documentElement).fontSize) || 16);
    const items = [];
    for (const p of this.state.participants.values()) {
      const at = this.shownAt(p.id);
      const el = this.avatars.get(p.id);
      if (!at || !el) continue;
      const x = at.x * this.scale;
      const y = at.y * this.scale;
      if (x < view.left || x > view.right || y < view.top || y > view.bottom) continue;
      const circle = p.circle != null ? this.state.circles.get(p.circle) : null;
      const rank = p.id === this.state.you ? 0 : mine && p.circle === mine.id ? 1 : 2;
      const distance = me ? Math.hypot(at.x - me.x, at.y - me.y) : 0;
      items.push({
        id: p.id,
        x,
        y,
        r,
        w: this.tagWidth(p.id, el),
        // (One's own circle's names, cut short where whole ones find no place: on a
        // phone, even a circle of three left one without. One's own says "You" then, and
        // is as wide as that.)
        short: rank === 0 ? this.youWidth(el) : rank === 1 ? shortPx : undefined,
        h: TAG_HEIGHT,
        away: circle ? { x: circle.x * this.scale, y: circle.y * this.scale } : undefined,
        rank,
        distance,
      });
    }
    items.sort((a, b) => a.rank - b.rank || a.distance - b.distance || (a.id < b.id ? -1 : 1));
    const bounds = {
      left: this.viewport.scrollLeft + 2,
      top: this.viewport.scrollTop + 2,
      right: this.viewport.scrollLeft + this.viewport.clientWidth - 2,
      bottom: this.viewport.scrollTop + this.viewport.clientHeight - 2,
    };
    this.markNearest();
    const placed = placeTags(items, { bounds, obstacles: this.tagObstacles(view) });
    // A tag opens (hover, focus) into a card of up to CARD_MAX_PX × CARD_MAX_HEIGHT: away
    // from its avatar (upwards from a tag above it), unless that leaves the view; leftwards
    // near the view's right edge.
    for (const item of items) {
      const el = this.avatars.get(item.id);
      const tag = el.querySelector(".tag");
      const spot = placed.get(item.id);
      const at = spot ?? { left: item.x - item.w / 2, top: item.y + r + 2 };
      tag.classList.toggle("hidden-tag", !spot);
      const width = spot?.width ?? item.w;
      tag.classList.toggle("short", width < item.w);
      tag.style.width = `${width}px`;
      el.style.setProperty("--closed-w", `${width}px`);
      tag.style.transform = `translate(${at.left - item.x}px, ${at.top - item.y}px)`;
      // Where the opened card goes, from the tag's place: upwards from a tag above the
      // avatar, downwards from one below; where that has no room, to the avatar's other side.
      const above = at.top + TAG_HEIGHT / 2 < item.y;
      let cardY;
      if (above) cardY = at.top + TAG_HEIGHT - CARD_MAX_HEIGHT >= bounds.top ? "calc(1.25rem - 100%)" : `${item.y + r + 2 - at.top}px`;
      else cardY = at.top + CARD_MAX_HEIGHT <= bounds.bottom ? "0px" : `calc(${item.y - r - 2 - at.top}px - 100%)`;
      el.style.setProperty("--card-y", cardY);
      // (A name cut short opens to its whole width; a card with a profile line up to
      // CARD_MAX_PX. Leftwards only where that is the side with more room.)
      const wide = el.classList.contains("has-profile") ? CARD_MAX_PX : item.w;
      el.classList.toggle("opens-left", at.left + wide > bounds.right && bounds.right - at.left < at.left + width - bounds.left);
    }
  }

  // While the floor has the keyboard's focus (or one walks with the keys after a click),
  // the person standing nearest (within twice the distance at which a circle forms) is
  // marked: their tag opens as on hover, showing the profile line, and `onNear` tells who
  // it is (the page announces it).
  markNearest() {
    let nearest = null;
    const me = this.shownAt(this.state?.you);
    if (me && document.activeElement === this.viewport && (this.byKeyboard || this.viewport.matches(":focus-visible"))) {
      let best = (this.state.room?.forming_distance ?? 90) * 2;
      for (const p of this.state.participants.values()) {
        const at = p.id === this.state.you ? null : this.shownAt(p.id);
        const d = at ? Math.hypot(at.x - me.x, at.y - me.y) : Infinity;
        if (d <= best) {
          best = d;
          nearest = p.id;
        }
      }
    }
    if (nearest === this.near) return;
    this.avatars.get(this.near)?.classList.remove("focused");
    this.near = nearest;
    this.avatars.get(nearest)?.classList.add("focused");
    // Said when one's own keys (or coming to the floor) brought someone near, not when
    // others walk about; and the same person not again within NEAR_REPEAT_MS.
    const now = performance.now();
    const mine = now - this.lastKeyAt < NEAR_AFTER_KEY_MS;
    const again = this.announced?.id === nearest && now - this.announced.at < NEAR_REPEAT_MS;
    if (nearest && mine && !again) {
      this.announced = { id: nearest, at: now };
      this.onNear(this.state.participants.get(nearest));
    }
  }

  // The width of one's own tag cut short, "You" ("Sie").
  youWidth(el) {
    const tag = el.querySelector(".tag");
    return this.textWidth(tag, tag.dataset.short ?? "");
  }

  // A tag's width in pixels, measured once per name.
  tagWidth(id, el) {
    let width = this.tagWidths.get(id);
    if (width === undefined) {
      const tag = el.querySelector(".tag");
      const max = parseFloat(getComputedStyle(tag).maxWidth) || 192;
      width = Math.min(max, this.textWidth(tag, tag.querySelector(".tag-name").textContent));
      tag.style.width = `${width}px`;
      el.style.setProperty("--closed-w", `${width}px`);
      this.tagWidths.set(id, width);
    }
    return width;
  }

  // How wide `tag` is with `text` in it, in pixels (its font and padding).
  textWidth(tag, text) {
    const style = getComputedStyle(tag);
    this.measure.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    return Math.ceil(this.measure.measureText(text).width) + 2 * parseFloat(style.paddingLeft || "5") + 2;
  }

  // Same names told apart (names.js), from the panel's count.
  setDuplicates(numbers) {
    this.duplicates = numbers;
  }

  // Shows a reaction over an avatar for a moment.
  react(id, name) {
    const el = this.avatars.get(id);
    if (!el) return;
    const bubble = document.createElement("span");
    bubble.className = "reaction";
    bubble.setAttribute("aria-hidden", "true");
    bubble.append(icon(name));
    el.append(bubble);
    setTimeout(() => bubble.remove(), 2500);
  }

  speaking(id, on) {
    this.avatars.get(id)?.classList.toggle("speaking", on);
  }

  // Shows live video in an avatar's bubble (or takes it away). Always muted: sound plays
  // from the conversation tiles.
  setVideo(id, stream) {
    const el = this.avatars.get(id);
    if (!el) return;
    const videos = [...el.querySelectorAll("video")];
    const drop = (v) => {
      v.srcObject = null;
      v.remove();
    };
    const video = videos.find((v) => !v.classList.contains("standby"));
    const live = stream?.getVideoTracks().some((tr) => tr.readyState === "live");
    if (!stream || !live) {
      videos.forEach(drop);
      el.classList.remove("has-video");
      return;
    }
    if (video?.srcObject === stream) {
      // (Back to the one on show before the new one's first frame came.)
      videos.filter((v) => v !== video).forEach(drop);
      return;
    }
    if (videos.some((v) => v.srcObject === stream)) return;
    const next = document.createElement("video");
    next.autoplay = true;
    next.playsInline = true;
    next.muted = true;
    next.setAttribute("aria-hidden", "true");
    // The picture shows once its first frame is there: until then the initials.
    const shown = () => el.classList.toggle("has-video", next.isConnected && next.videoWidth > 0);
    for (const event of ["resize", "emptied"]) next.addEventListener(event, () => next.parentNode && !next.classList.contains("standby") && shown());
    next.srcObject = stream;
    const face = el.querySelector(".face");
    // A picture on show by another path (through the SFU, or directly again): the new
    // stream's first frame replaces it, without the initials in between.
    const onShow = !!video && el.classList.contains("has-video") && video.videoWidth > 0;
    face.querySelectorAll("video.standby").forEach(drop);
    if (onShow && next.requestVideoFrameCallback) {
      next.classList.add("standby");
      face.append(next);
      const promote = () => {
        if (!next.isConnected || !next.classList.contains("standby")) return;
        next.classList.remove("standby");
        face.querySelectorAll("video:not(.standby)").forEach((v) => v !== next && drop(v));
        shown();
      };
      next.requestVideoFrameCallback(promote);
      setTimeout(promote, STANDBY_MS);
      return;
    }
    if (video) drop(video);
    face.append(next);
    el.classList.toggle("has-video", next.videoWidth > 0);
  }
}
