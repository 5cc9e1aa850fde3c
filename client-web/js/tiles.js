// Video tiles: one person's camera (or their initials), or a shared screen, with the name,
// microphone and camera state, a raised hand and a speaking indicator. The same tile is
// used in a circle's conversation view, for one's own picture and on air.
// `TileList` keeps a list of tiles in a <ul> and sizes them as a grid (layout.js).

import { t } from "./i18n.js";
import { icon, setIcon } from "./icons.js";
import { gridLayout } from "./layout.js";
import { initials, colour } from "./names.js";

// The narrowest a tile of the grid is drawn (a smaller grid overflows rather than shrink
// names and faces further).
export const MIN_TILE_WIDTH = 120;

// How long a stream by a new path may take for its first frame before it takes over all
// the same (`setStream`).
export const STANDBY_MS = 2_000;

export class Tile {
  constructor({ id, kind = "camera", self = false }) {
    this.id = id;
    this.kind = kind;
    this.self = self;
    this.stream = null;
    this.camera = kind === "screen";
    const el = document.createElement("li");
    el.className = `tile ${kind}${self ? " self" : ""}`;
    el.dataset.id = id;
    el.dataset.kind = kind;
    el.tabIndex = 0;
    const face = document.createElement("span");
    face.className = "initials";
    face.setAttribute("aria-hidden", "true");
    face.style.background = colour(id);
    const video = this.makeVideo();
    const caption = document.createElement("div");
    caption.className = "caption";
    // The name, and under it the profile line (organisation, topics) on camera tiles.
    const who = document.createElement("span");
    who.className = "who";
    const name = document.createElement("span");
    name.className = "name";
    const profile = document.createElement("span");
    profile.className = "profile";
    profile.hidden = true;
    who.append(name, profile);
    const state = document.createElement("span");
    state.className = "state";
    state.setAttribute("aria-hidden", "true");
    const micOff = icon("mic-off", "icon mic-off");
    const hand = icon("hand", "icon hand");
    state.append(hand, micOff);
    caption.append(who, state);
    const speaking = document.createElement("span");
    speaking.className = "speaking-label";
    speaking.setAttribute("aria-hidden", "true");
    el.append(face, video, caption, speaking);
    Object.assign(this, { el, face, video, name, profile, micOff, hand, speakingLabel: speaking });
    if (kind === "screen") this.addFullScreen();
  }

  // A stream by a new path that has not taken over yet is given up.
  dropStandby() {
    clearTimeout(this.standbyTimer);
    if (!this.standby) return;
    this.standby.srcObject = null;
    this.standby.remove();
    this.standby = null;
  }

  // How loud, and on which output device, the tile's sound plays (in both elements while a
  // stream by a new path waits for its first frame).
  setSound({ volume, sinkId }) {
    for (const video of [this.video, this.standby]) {
      if (!video) continue;
      if (volume !== undefined) video.volume = volume;
      if (sinkId && video.setSinkId && video.sinkId !== sinkId) video.setSinkId(sinkId).catch(() => {});
    }
  }

  // The element a stream plays in (a tile may hold a second one for a moment: `setStream`).
  makeVideo() {
    const video = document.createElement("video");
    video.autoplay = true;
    video.playsInline = true;
    video.muted = this.self;
    video.setAttribute("aria-hidden", "true");
    // The picture shows once its first frame is there (the element's size is known):
    // until then the initials, not a dark box.
    for (const event of ["resize", "emptied"]) video.addEventListener(event, () => video === this.video && this.showVideo());
    return video;
  }

  // A shared screen can fill the whole screen (slides are hard to read in a tile): a
  // button on the tile, or a double click; Escape, the button or a double click ends it.
  addFullScreen() {
    // (Where the page cannot go full screen, an iPhone's Safari: no button that does nothing.)
    if (!document.fullscreenEnabled) return;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "full-screen";
    const picture = icon("expand");
    button.append(picture);
    const shown = () => {
      const full = document.fullscreenElement === this.el;
      setIcon(picture, full ? "collapse" : "expand");
      button.setAttribute("aria-label", t(full ? "tile.fullScreenEnd" : "tile.fullScreen", { name: this.owner ?? "" }));
      button.title = button.getAttribute("aria-label");
    };
    const toggle = () => {
      if (document.fullscreenElement === this.el) document.exitFullscreen().catch(() => {});
      else this.el.requestFullscreen?.().catch(() => {});
    };
    button.addEventListener("click", toggle);
    this.el.addEventListener("dblclick", (event) => event.target.localName === "video" && toggle());
    document.addEventListener("fullscreenchange", shown);
    this.el.append(button);
    this.fullScreen = { shown };
    shown();
  }

  // Shows `stream` (or nothing). Audio plays from a tile only (never from the floor), and
  // never from one's own. A new stream for a picture on show (the same person by another
  // path: through the SFU, or directly again) plays in a second element, hidden, its sound
  // heard at once; it takes the first one's place with its first frame, so that the
  // initials do not flash in between (the first one's picture shows until then).
  setStream(stream) {
    if (this.stream === stream) return;
    this.stream = stream;
    this.dropStandby();
    // (Back to the one on show before the new one's first frame came.)
    if (stream && stream === this.video.srcObject) {
      this.video.muted = this.self;
      this.showVideo();
      return;
    }
    const onShow = this.el.classList.contains("has-video");
    const picture = !!stream?.getVideoTracks().some((tr) => tr.readyState === "live");
    if (onShow && picture && this.video.requestVideoFrameCallback) {
      const next = this.makeVideo();
      next.classList.add("standby");
      next.srcObject = stream;
      this.video.muted = true;
      this.video.after(next);
      this.standby = next;
      this.setSound({ volume: this.video.volume, sinkId: this.video.sinkId });
      next.play?.().catch(() => {});
      const promote = () => {
        if (this.standby !== next) return;
        clearTimeout(this.standbyTimer);
        this.standby = null;
        const old = this.video;
        this.video = next;
        next.classList.remove("standby");
        old.srcObject = null;
        old.remove();
        // (A camera turned on meanwhile waits for its first frame in this element now.)
        if (this.waiting) this.awaitFrame(this.waitingSince);
        this.showVideo();
      };
      next.requestVideoFrameCallback(promote);
      // (One whose picture does not come takes over all the same: the old one's last
      // picture must not stand in for it.)
      this.standbyTimer = setTimeout(promote, STANDBY_MS);
      return;
    }
    this.video.muted = this.self;
    this.video.srcObject = stream;
    if (stream) this.video.play?.().catch(() => {});
    this.showVideo();
  }

  // One's own name with "(you)" in parts: whole where it fits, "You" alone where not
  // (tiles.css; "(you)" was the part cut off, then the name).
  showOwnName(name, number) {
    const [before, after = ""] = ownName("\u0001", number).split("\u0001");
    const part = (className, text) => {
      const span = document.createElement("span");
      span.className = className;
      span.textContent = text;
      return span;
    };
    const short = t("tile.youShort");
    const key = `${before}\u0001${name}\u0001${after}\u0001${short}`;
    if (this.ownName === key) return;
    this.ownName = key;
    // A picture too small for the name says "You" alone (tiles.css): without it, one's own
    // small picture beside the strip read as a stranger's.
    this.name.dataset.short = short;
    this.name.replaceChildren(...[before && part("you", before), part("given", name), after && part("you", after)].filter(Boolean));
    this.name.classList.add("own");
    // A name that does not fit gives way to "You" alone (tiles.css); the tile's size
    // decides. (The tile is watched, not the name, whose width the mark itself changes:
    // watching it, a name just at the edge would go back and forth every frame.)
    if (!this.nameWatch && typeof ResizeObserver === "function") {
      this.nameWatch = new ResizeObserver(() => this.markCut());
      this.nameWatch.observe(this.el);
    }
    requestAnimationFrame(() => this.markCut());
  }

  // Measured as the whole name stands at rest (marked, it is not shown; pointed at or
  // focused, it shows on lines of its own: `measuring` holds the resting layout).
  markCut() {
    const given = this.name.querySelector(".given");
    this.name.classList.remove("cut");
    this.name.classList.add("measuring");
    const cut = !!given && given.scrollWidth > given.clientWidth;
    this.name.classList.remove("measuring");
    this.name.classList.toggle("cut", cut);
  }

  // A camera turned on again (at `since`): the element still holds the last picture from
  // before it went off, so the initials show until a frame received since then is shown.
  // (The element shows the frames it held back while hidden, the last ones before "off"
  // among them: the frame's receive time tells them apart. A new camera's first frames may
  // come before the word that it is on: the next one is shown then. A browser that does
  // not say when a frame was received, Firefox, shows the picture from its second frame
  // on; one that cannot say when a frame comes at all, as before.)
  awaitFrame(since = performance.now()) {
    if (!this.video.requestVideoFrameCallback) return;
    const turn = (this.turn = (this.turn ?? 0) + 1);
    const video = this.video;
    this.waiting = true;
    this.waitingSince = since;
    let first = true;
    const shown = (_, frame) => {
      if (turn !== this.turn || video !== this.video) return;
      const stale = frame.receiveTime !== undefined ? frame.receiveTime < since : first;
      first = false;
      if (stale) {
        video.requestVideoFrameCallback(shown);
        return;
      }
      this.waiting = false;
      this.showVideo();
    };
    video.requestVideoFrameCallback(shown);
  }

  showVideo() {
    const live = !!this.stream?.getVideoTracks().some((tr) => tr.readyState === "live");
    const hasVideo = !!this.camera && live && this.video.videoWidth > 0 && !this.waiting;
    this.el.classList.toggle("has-video", hasVideo);
  }

  // Name and state from the participant as the room state knows it.
  update(p, { you, onAir = false, duplicates = null } = {}) {
    const label = displayName(p, you, duplicates);
    this.owner = label;
    const shown = this.kind === "screen" ? t("tile.screenOf", { name: label }) : label;
    this.name.title = shown;
    if (this.kind === "camera" && p && p.id === you) this.showOwnName(p.name, duplicates?.get(p.id));
    else {
      // (In a span of its own: the dark badge is drawn on its lines, tiles.css.)
      const text = document.createElement("span");
      text.className = "name-text";
      text.textContent = shown;
      this.name.replaceChildren(text);
      this.name.classList.remove("own", "cut");
      this.ownName = null;
    }
    const line = this.kind === "camera" ? (p?.profile ?? "") : "";
    this.profile.textContent = line;
    this.profile.title = line;
    this.profile.hidden = !line;
    this.face.textContent = initials(p?.name ?? "?");
    const mic = !!p?.mic;
    const camera = this.kind === "screen" ? true : !!p?.camera;
    if (camera && !this.camera) this.awaitFrame();
    this.camera = camera;
    this.showVideo();
    this.el.classList.toggle("reconnecting", !!p?.reconnecting);
    this.micOff.style.display = this.kind === "camera" && !mic ? "" : "none";
    this.hand.style.display = this.kind === "camera" && p?.hand ? "" : "none";
    this.speakingLabel.textContent = t("tile.speaking");
    this.fullScreen?.shown();
    const parts = [shown];
    if (line) parts.push(line);
    if (this.kind === "camera") {
      parts.push(`${t("room.mic")} ${mic ? t("room.on") : t("room.off")}`, `${t("room.camera")} ${camera ? t("room.on") : t("room.off")}`);
      if (p?.hand) parts.push(t("room.handRaised"));
      if (onAir) parts.push(t("room.onAir"));
      if (p?.reconnecting) parts.push(t("room.reconnecting"));
    }
    this.el.setAttribute("aria-label", parts.join(", "));
  }

  setSpeaking(on) {
    this.el.classList.toggle("speaking", on);
  }

  remove() {
    this.nameWatch?.disconnect();
    if (this.fullScreen) {
      document.removeEventListener("fullscreenchange", this.fullScreen.shown);
      if (document.fullscreenElement === this.el) document.exitFullscreen().catch(() => {});
    }
    this.video.srcObject = null;
    this.dropStandby();
    // A tile that goes while it has focus (the sharer stopped while one was on its
    // full-screen button) hands focus to another picture in its view, not to the page.
    const focused = this.el.contains(document.activeElement);
    const view = focused ? this.el.closest(".conversation-body, .on-air-view") : null;
    this.el.remove();
    if (view) view.querySelector(".tile")?.focus({ preventScroll: true });
  }
}

// A participant's name as shown: "(you)" for oneself, and a number after names that
// more than one person in the room carries, so that two Anna Schmidts can be told apart.
export function displayName(p, you, duplicates) {
  if (!p) return "?";
  const number = duplicates?.get(p.id);
  // Oneself: "Anna Schmidt (2, you)", not "Anna Schmidt (2) (you)".
  if (p.id === you) return ownName(p.name, number);
  return number ? `${p.name} (${number})` : p.name;
}

// One's own name as shown ("Anna Schmidt (you)"), with a number when others share it.
function ownName(name, number) {
  return number ? t("room.youNumbered", { name, number }) : t("room.you", { name });
}

// Tiles in a list, keyed by "id:kind", laid out as the largest grid that fits the list's box.
export class TileList {
  constructor(list, { gap = 8 } = {}) {
    this.list = list;
    this.gap = gap;
    this.tiles = new Map();
    this.manual = false;
    // Tiles of another list shown in this one (one's own picture among the others').
    this.extra = 0;
    this.observer = new ResizeObserver(() => this.layout());
    this.observer.observe(list);
  }

  get(id, kind = "camera") {
    return this.tiles.get(`${id}:${kind}`);
  }

  ensure(id, kind = "camera", { self = false } = {}) {
    const key = `${id}:${kind}`;
    let tile = this.tiles.get(key);
    if (!tile) {
      tile = new Tile({ id, kind, self });
      this.tiles.set(key, tile);
      this.list.append(tile.el);
      this.layout();
    }
    return tile;
  }

  remove(id, kind = "camera") {
    const key = `${id}:${kind}`;
    const tile = this.tiles.get(key);
    if (!tile) return;
    tile.remove();
    this.tiles.delete(key);
    this.layout();
  }

  // Keeps exactly these keys, removing the rest.
  keep(keys) {
    for (const key of [...this.tiles.keys()]) {
      if (!keys.has(key)) {
        this.tiles.get(key).remove();
        this.tiles.delete(key);
      }
    }
    this.layout();
  }

  all() {
    return [...this.tiles.values()];
  }

  layout() {
    // (Laid out by its owner instead: the people's column beside a shared screen.)
    if (this.manual) return;
    const count = this.tiles.size + this.extra;
    const width = this.list.clientWidth;
    const height = this.list.clientHeight;
    const grid = gridLayout({ count, width, height, gap: this.gap });
    this.list.style.setProperty("--cols", String(Math.max(1, grid.cols)));
    this.list.style.setProperty("--tile-w", `${Math.max(MIN_TILE_WIDTH, grid.tileWidth)}px`);
  }

  clear() {
    for (const tile of this.tiles.values()) tile.remove();
    this.tiles.clear();
  }
}
