// The conversation view of one's circle, and the broadcast: which tiles there are and what
// they show. In a circle, every other member has a tile (their camera, or their initials),
// a shared screen has a large tile of its own with the people beside it, and one's own
// picture is small and mirrored. Broadcasters (on air) get the same tiles. Sound plays
// from these tiles only; while a broadcast plays, circle sound is turned down.

import { t, listNames } from "./i18n.js";
import { MIN_TILE_WIDTH, TileList, displayName } from "./tiles.js";
import { besideLayout, gridLayout, ownAmongOthers, ownBeside, stripLayout } from "./layout.js";

const NARROW = "(max-width: 700px)";
const LOW = "(max-height: 520px)";

export class Conversation {
  constructor({ section, body, list, selfView, pager, heading, onAirSection, onAirList, meter }) {
    this.section = section;
    this.body = body;
    // On a phone, when not everyone fits: buttons for the previous and next page of tiles,
    // and which of them show ("5–8 of 9").
    this.pager = pager;
    const page = (direction) => {
      const instant = matchMedia("(prefers-reduced-motion: reduce)").matches;
      body.scrollBy({ left: direction * body.clientWidth, behavior: instant ? "instant" : "smooth" });
    };
    pager.previous.addEventListener("click", () => page(-1));
    pager.next.addEventListener("click", () => page(1));
    this.heading = heading;
    this.selfView = selfView;
    this.onAirSection = onAirSection;
    this.meter = meter;
    this.tiles = new TileList(list);
    this.onAir = new TileList(onAirList);
    // The big place for a shared screen, created when someone shares.
    this.screenArea = document.createElement("ul");
    this.screenArea.className = "screen-area";
    this.screenTiles = new TileList(this.screenArea);
    this.self = null;
    // Remote streams by participant: { camera, screen }.
    this.streams = new Map();
    this.speaking = new Set();
    this.ducked = false;
    this.sinkId = "";
    // The body's size, and the size of what stands above it in the section (an
    // icebreaker shown or closed moves the strip, and the pager beside it must follow).
    // Also the room's main column (a window that grows leaves a section lowered by
    // fitHeight the same size) and the stage (its coming and going changes the section's
    // share). Laid out in the next frame, not in the observer's callback: a height fitted
    // there would resize what it observes within the same round ("ResizeObserver loop
    // completed with undelivered notifications").
    const resized = new ResizeObserver(() => this.layoutSoon());
    resized.observe(body);
    for (const el of section.children) if (el !== body && el !== pager.box) resized.observe(el);
    if (section.parentElement) resized.observe(section.parentElement);
    if (onAirSection) resized.observe(onAirSection);
    body.addEventListener("scroll", () => this.showMore(), { passive: true });
    body.addEventListener("focusin", (event) => {
      // Keyboard focus only: a tap that focuses a tile must not make the strip jump.
      if (event.target.matches?.(":focus-visible")) this.snapTo(event.target);
    });
  }

  // A remote participant's camera (with their sound) or screen arrived, or ended (null).
  setStream(id, kind, stream) {
    const entry = this.streams.get(id) ?? { camera: null, screen: null };
    entry[kind] = stream;
    if (!entry.camera && !entry.screen) this.streams.delete(id);
    else this.streams.set(id, entry);
    if (kind === "camera") this.meter.watch(id, stream);
  }

  stream(id, kind = "camera") {
    return this.streams.get(id)?.[kind] ?? null;
  }

  // Everything this view shows, from the room state and the local media; `own` is one's
  // camera as a stream (the same object while the track is the same, so that the picture
  // does not start over on every render).
  render(state, media, duplicates, own) {
    const circle = state.myCircle();
    const you = state.you;
    const me = state.me();
    this.section.hidden = !circle;
    const keep = new Set();
    const screens = new Set();
    if (circle) {
      const others = circle.members.filter((id) => id !== you);
      const names = others.map((id) => displayName(state.participants.get(id), you, duplicates));
      this.heading.textContent = t("conversation.heading", { names: listNames(names) });
      this.heading.title = this.heading.textContent;
      for (const id of others) {
        const p = state.participants.get(id);
        const tile = this.tiles.ensure(id, "camera");
        tile.setStream(this.stream(id));
        tile.update(p, { you, duplicates, onAir: state.broadcasters.includes(id) });
        tile.setSpeaking(this.speaking.has(id) && !!p?.mic);
        keep.add(`${id}:camera`);
        const screen = this.stream(id, "screen");
        if (screen && p?.screen !== false) screens.add(id);
      }
      if (media.screen) screens.add(you);
    }
    this.tiles.keep(keep);
    // Shared screens: large, with the people in a column beside them.
    const screenKeep = new Set();
    for (const id of screens) {
      const tile = this.screenTiles.ensure(id, "screen");
      tile.setStream(id === you ? media.screenStream : this.stream(id, "screen"));
      tile.update(state.participants.get(id), { you, duplicates });
      screenKeep.add(`${id}:screen`);
    }
    this.screenTiles.keep(screenKeep);
    const presenting = screenKeep.size > 0;
    this.body.classList.toggle("presenting", presenting);
    if (presenting && !this.screenArea.isConnected) this.body.prepend(this.screenArea);
    if (!presenting && this.screenArea.isConnected) this.screenArea.remove();
    // One's own picture.
    if (circle && me) {
      if (!this.self) {
        this.self = new TileList(this.selfView);
      }
      this.selfId = you;
      const tile = this.self.ensure(you, "camera", { self: true });
      // (Back as someone new after a blip: the old picture goes.)
      this.self.keep(new Set([`${you}:camera`]));
      tile.setStream(own);
      tile.update(me, { you, duplicates });
      tile.setSpeaking(this.speaking.has(you) && media.state().mic);
    } else if (this.self) {
      this.self.clear();
    }
    this.renderOnAir(state, media, duplicates);
    this.applyVolume();
    this.layout();
  }

  // Broadcasters' tiles (on air) (one's own, muted, while one broadcasts).
  renderOnAir(state, media, duplicates) {
    const keep = new Set();
    for (const id of state.broadcasters) {
      const own = id === state.you;
      const stream = own ? media.stream : this.stream(id);
      if (!own && !stream) continue;
      const tile = this.onAir.ensure(id, "camera", { self: own });
      tile.setStream(stream);
      tile.update(state.participants.get(id), { you: state.you, duplicates, onAir: true });
      tile.setSpeaking(this.speaking.has(own ? state.you : id));
      keep.add(`${id}:camera`);
    }
    this.onAir.keep(keep);
    this.onAirSection.hidden = keep.size === 0;
    const live = [...keep].some((key) => !key.startsWith(`${state.you}:`));
    this.ducked = live;
  }

  // While someone else broadcasts, circle sound is turned down so that the broadcast is heard.
  applyVolume() {
    for (const tile of this.tiles.all()) tile.setSound({ volume: this.ducked ? 0.2 : 1 });
    for (const list of [this.tiles, this.onAir, this.screenTiles]) {
      for (const tile of list.all()) if (this.sinkId) tile.setSound({ sinkId: this.sinkId });
    }
  }

  // Where sound plays (a speaker chosen in the settings).
  setSink(deviceId) {
    this.sinkId = deviceId;
    this.applyVolume();
  }

  setSpeaking(id, on, state) {
    if (on) this.speaking.add(id);
    else this.speaking.delete(id);
    const p = state.participants.get(id);
    const shown = on && (id === state.you || !!p?.mic);
    this.tiles.get(id)?.setSpeaking(shown);
    this.self?.get(id)?.setSpeaking(shown);
    this.onAir.get(id)?.setSpeaking(shown);
  }

  layoutSoon() {
    if (this.layoutFrame) return;
    this.layoutFrame = requestAnimationFrame(() => {
      this.layoutFrame = 0;
      this.layout();
    });
  }

  // Tile sizes: the grid that makes tiles largest; on a phone, a strip of one or two rows
  // (a shared screen first, a page of its own), in pages of whole tiles when not everyone
  // fits, with page buttons beside them.
  layout() {
    if (matchMedia(NARROW).matches) {
      this.setOwnWidth(null);
      this.centreBeside(false);
      this.unfit();
      this.body.classList.remove("beside");
      this.tiles.manual = false;
      // Not shown (a low screen shows the icebreaker in the strip's place): no buttons.
      if (this.body.clientWidth === 0) {
        this.showPager(false);
        return;
      }
      const style = getComputedStyle(this.body);
      // Whether everyone fits is asked of the strip's whole width (a paged strip gives up
      // some of it to the page buttons: asked of that, a circle that had paged would stay
      // paged after someone left); pages are laid out in what is left beside the buttons.
      const pagerWidth = 3 * parseFloat(getComputedStyle(document.documentElement).fontSize);
      const full = this.body.clientWidth + (parseFloat(style.marginRight) || 0);
      const height = Math.max(60, this.body.clientHeight - 4);
      const gap = parseFloat(style.columnGap) || 8;
      const presenting = this.body.classList.contains("presenting");
      const ask = (width) => stripLayout({ count: this.tiles.tiles.size, self: !!this.self?.tiles.size, width, height, gap });
      let strip = ask(full);
      const paged = presenting || !strip.fits;
      if (paged) strip = ask(full - pagerWidth);
      const width = paged ? full - pagerWidth : full;
      this.placeSelf(strip.selfInGrid);
      this.body.style.setProperty("--strip-w", `${strip.tileWidth}px`);
      this.body.style.setProperty("--strip-h", `${strip.tileHeight}px`);
      this.body.style.setProperty("--strip-self-w", `${Math.floor(strip.tileWidth / 2)}px`);
      this.body.style.setProperty("--strip-rows", String(strip.rows));
      this.body.style.setProperty("--strip-screen-w", `${Math.floor(Math.min(width, height * (16 / 9)))}px`);
      this.body.classList.toggle("paged", paged);
      this.showPager(paged);
      if (paged) {
        // Beside the strip, as tall as it.
        this.pager.box.style.top = `${this.body.offsetTop}px`;
        this.pager.box.style.height = `${this.body.offsetHeight}px`;
      }
      this.padEnd();
      this.showMore();
      return;
    }
    this.body.classList.remove("paged");
    this.showPager(false);
    const presenting = this.body.classList.contains("presenting");
    // Beside a shared screen, one's own picture goes into the people's column: the screen
    // keeps the width.
    if (presenting) {
      this.placeSelf(true);
      this.setOwnWidth(null);
      this.centreBeside(false);
      this.unfit();
    }
    this.body.classList.toggle("beside", presenting);
    this.tiles.manual = presenting;
    if (presenting) {
      // People in a column beside the screen, in whole tiles (besideLayout).
      const count = this.tiles.tiles.size + (this.self?.tiles.size ?? 0);
      const gap = parseFloat(getComputedStyle(this.tiles.list).rowGap) || 8;
      const apart = parseFloat(getComputedStyle(this.body).columnGap) || gap;
      const g = besideLayout({ count, width: this.body.clientWidth, height: this.body.clientHeight, gap, apart });
      const list = this.tiles.list.style;
      list.setProperty("--cols", String(g.cols));
      list.setProperty("--tile-w", `${g.tileWidth}px`);
      list.setProperty("--tile-h", `${g.tileHeight}px`);
      return;
    }
    this.tiles.list.style.removeProperty("--tile-h");
    // One's own picture in a place the others leave empty, where that makes tiles larger.
    const style = getComputedStyle(this.body);
    const own = !!this.self?.tiles.size;
    const box = {
      count: this.tiles.tiles.size,
      width: this.body.clientWidth,
      height: this.fullHeight(),
      own: 11 * parseFloat(getComputedStyle(document.documentElement).fontSize),
      gap: this.tiles.gap,
      apart: parseFloat(style.columnGap) || 12,
    };
    const among = own && ownAmongOthers(box);
    this.placeSelf(among);
    // (Of the body's size alone, not of the grid's: the two would chase each other.)
    this.setOwnWidth(own && !among && box.count > 0 ? ownBeside(box) : null);
    this.tiles.extra = among ? 1 : 0;
    this.fitHeight(box.height);
    this.tiles.layout();
    this.centreBeside(own && !among && box.count > 0);
  }

  // One's own picture beside the grid: the two centred together. (The grid centred its
  // tiles in its own width, which left a gap before one's own picture as wide as the
  // grid's spare room, as if it did not belong.) The grid keeps its width (its tiles are
  // sized to it): its tiles stand at its end, and both move back by half the spare room.
  centreBeside(beside) {
    let shift = 0;
    if (beside) {
      const list = this.tiles.list;
      const cols = Number(list.style.getPropertyValue("--cols")) || 1;
      const width = parseFloat(list.style.getPropertyValue("--tile-w")) || 0;
      const gap = parseFloat(getComputedStyle(list).columnGap) || 0;
      shift = Math.max(0, Math.floor((list.clientWidth - cols * width - (cols - 1) * gap) / 2));
    }
    const value = shift > 0 ? `${shift}px` : "";
    if (this.body.style.getPropertyValue("--own-shift") !== value) {
      if (value) this.body.style.setProperty("--own-shift", value);
      else this.body.style.removeProperty("--own-shift");
    }
    this.body.classList.toggle("own-beside", shift > 0);
  }

  // One's own picture beside the grid `px` wide, or as the style sheet says (null).
  // (Written only when it changes: a render, and so a layout, comes with every move in
  // the room.)
  setOwnWidth(px) {
    const value = px === null ? "" : `${px}px`;
    if (this.selfView.style.flexBasis !== value) this.selfView.style.flexBasis = value;
  }

  // The body's height with the section at its full height, not lowered by fitHeight:
  // measured again, with the max-height taken off, only when something it depends on
  // changed (taking it off and on at every render would lay the room out twice).
  fullHeight() {
    const s = this.section;
    const above = [...s.children].filter((el) => el !== this.body && el !== this.pager.box).map((el) => el.offsetHeight);
    // (The flex basis: the section's share, which a stage beside it or a shared screen
    // changes.)
    const key = [s.parentElement.clientHeight, s.clientWidth, getComputedStyle(s).flexBasis, ...above, s.classList.contains("rtt-open"), this.tiles.tiles.size, !!this.self?.tiles.size].join(",");
    if (key !== this.fit?.key) {
      s.style.removeProperty("max-height");
      this.fit = { key, height: this.body.clientHeight };
    }
    return this.fit.height;
  }

  // The section back at its full height (a phone's strip, a shared screen).
  unfit() {
    if (this.fit) this.section.style.removeProperty("max-height");
    this.fit = null;
  }

  // 16:9 tiles in a wide box leave bands above and below them: the section is made as
  // low as its grid needs, and the floor below gets the rest. The grid is that of the
  // section's full height (measured with no max-height, see layout()), so that the two do
  // not chase each other; a few pixels to spare keep the grid the same in the lower box.
  // (Not beside real-time text, which wants the height, and not on low screens: there the
  // section has its share of a low window, and a prompt beside the tiles is as high as it,
  // which would take part in the measuring.)
  fitHeight(height) {
    const s = this.section;
    const list = this.tiles.list;
    const count = this.tiles.tiles.size + this.tiles.extra;
    if (s.classList.contains("rtt-open") || s.hidden || count === 0 || height === 0 || matchMedia(LOW).matches) {
      if (s.style.maxHeight) s.style.removeProperty("max-height");
      return;
    }
    const gap = this.tiles.gap;
    const grid = gridLayout({ count, width: list.clientWidth, height, gap });
    // (As TileList.layout draws them.)
    let needed = grid.rows * Math.ceil(Math.max(MIN_TILE_WIDTH, grid.tileWidth) * (9 / 16)) + (grid.rows - 1) * gap;
    const own = this.selfView.hidden ? null : this.selfView.firstElementChild;
    if (own) needed = Math.max(needed, own.offsetHeight);
    const spare = height - needed - 8;
    // (The section's full height: what it has now and what was taken off its body.)
    const full = s.offsetHeight + (height - this.body.clientHeight);
    const value = spare > 16 ? `${full - spare}px` : "";
    if (s.style.maxHeight !== value) s.style.maxHeight = value;
  }

  // One's own picture: small, after the others' tiles (its own list), or as a tile among
  // them where that makes every tile larger (in a place the others leave empty: on a
  // phone the fourth of three, on a desktop the eighth of seven), and in the people's
  // column beside a shared screen.
  // (Moving an element drops its focus: a focused picture keeps it.)
  placeSelf(inGrid) {
    const tile = this.self?.get(this.selfId);
    if (!tile) return;
    const home = inGrid ? this.tiles.list : this.selfView;
    if (tile.el.parentElement !== home || tile.el.nextElementSibling) {
      const focused = document.activeElement === tile.el;
      home.append(tile.el);
      if (focused) tile.el.focus({ preventScroll: true });
    }
    this.selfView.hidden = inGrid;
  }

  // The page buttons, shown or not; when they go while one of them has focus, focus goes
  // to the first picture.
  showPager(shown) {
    const box = this.pager.box;
    if (!shown && !box.hidden && box.contains(document.activeElement)) this.body.querySelector(".tile")?.focus({ preventScroll: true });
    box.hidden = !shown;
  }

  // A paged strip ends a whole page after a tile's start, so that scrolling to the end
  // does not stop half-way through a column.
  // (The padding comes after every tile, so the tiles' places do not depend on it.)
  padEnd() {
    const body = this.body;
    let pad = 0;
    const parts = body.classList.contains("paged") ? this.stripPlaces() : [];
    if (parts.length > 0) {
      const end = Math.max(...parts.map((r) => r.right));
      const page = body.clientWidth;
      const start = Math.min(...parts.map((r) => r.left).filter((left) => end - left <= page + 0.5));
      pad = Math.max(0, Math.floor(start + page - end));
    }
    if (body.style.getPropertyValue("--strip-end") !== `${pad}px`) body.style.setProperty("--strip-end", `${pad}px`);
  }

  // On a phone, whether the strip has more before or after what it shows, and which
  // tiles show: the pager's buttons and count.
  showMore() {
    const body = this.body;
    const paged = body.classList.contains("paged");
    const end = body.scrollWidth - body.clientWidth;
    const before = paged && body.scrollLeft > 2;
    const after = paged && body.scrollLeft < end - 2;
    if (!paged) return;
    // A button that has nothing more to show is off; focus on it moves to the other one.
    const { previous, next } = this.pager;
    const focused = document.activeElement;
    previous.disabled = !before;
    next.disabled = !after;
    if (focused === next && !after) previous.focus();
    if (focused === previous && !before) next.focus();
    // Which people show (a shared screen is not one of them), said when it changes.
    const box = body.getBoundingClientRect();
    const tiles = [...body.querySelectorAll('.tile[data-kind="camera"]')];
    const seen = tiles.flatMap((el, i) => {
      const r = el.getBoundingClientRect();
      return r.left >= box.left - 1 && r.right <= box.right + 1 ? [i + 1] : [];
    });
    const [from, to] = [Math.min(...seen), Math.max(...seen)];
    // (A shared screen alone in view: how many people follow it.)
    const alone = !seen.length && body.classList.contains("presenting");
    const text = alone ? t("conversation.peopleNext", { count: tiles.length }) : !seen.length ? "" : from === to ? t("conversation.shownOne", { at: from, all: tiles.length }) : t("conversation.shown", { from, to, all: tiles.length });
    if (this.pager.count.textContent !== text) this.pager.count.textContent = text;
    // In a low window, figures between the buttons ("1–3/7"), where they fit whole.
    const { short, box: pager } = this.pager;
    if (!short) return;
    const figures = seen.length && !alone ? (from === to ? `${from}/${tiles.length}` : `${from}–${to}/${tiles.length}`) : "";
    if (short.textContent !== figures) short.textContent = figures;
    short.classList.remove("tight");
    const room = pager.clientHeight - previous.offsetHeight - next.offsetHeight - 2 * (parseFloat(getComputedStyle(pager).rowGap) || 0);
    if (short.offsetHeight > 0 && (room < short.offsetHeight || short.scrollWidth > short.clientWidth + 1)) short.classList.add("tight");
  }

  // On a phone's paged strip, a tile that gets focus comes whole into view at a page's
  // edge (the browser's own scrolling centres it, cutting its neighbours in half).
  snapTo(target) {
    const tile = target.closest?.(".tile");
    if (!tile || !this.body.classList.contains("paged")) return;
    requestAnimationFrame(() => {
      const body = this.body;
      const { left, width } = this.stripPlaces([tile])[0];
      const max = body.scrollWidth - body.clientWidth;
      const starts = this.stripPlaces().map((r) => Math.min(max, r.left));
      const fitting = starts.filter((start) => start <= left + 0.5 && left + width <= start + body.clientWidth + 0.5);
      if (fitting.length === 0) return;
      const best = fitting.reduce((a, b) => (Math.abs(b - body.scrollLeft) < Math.abs(a - body.scrollLeft) ? b : a));
      body.scrollTo({ left: best, behavior: "instant" });
    });
  }

  // Where tiles stand along a phone's strip (every tile, or those given): { left, right,
  // width } from the strip's start, however far it is scrolled.
  stripPlaces(tiles = this.body.querySelectorAll(".tile")) {
    const origin = this.body.getBoundingClientRect().left - this.body.scrollLeft;
    return [...tiles].map((el) => {
      const r = el.getBoundingClientRect();
      return { left: r.left - origin, right: r.right - origin, width: r.width };
    });
  }

  // Closes every tile (leaving the circle or the room).
  clear() {
    this.tiles.clear();
    this.onAir.clear();
    this.screenTiles.clear();
    this.self?.clear();
    for (const id of this.streams.keys()) this.meter.unwatch(id);
    this.streams.clear();
    this.section.hidden = true;
    this.onAirSection.hidden = true;
  }
}
