// A first visit's hint on the floor: how to walk, and that walking up to someone starts a
// conversation. It goes once one walks or closes it, and does not come back in this
// browser. It takes no clicks but its own button's: a click on the floor beneath it walks.
// On a touch screen with no keyboard or mouse to speak of (a phone, a tablet) it says only
// to tap: arrow keys and clicks mean nothing there.

import { t } from "./i18n.js";

const SEEN = "hallway.floorHintSeen";
// How often a shown hint looks whether it covers people (they walk, the floor scrolls).
const PLACE_EVERY_MS = 500;
// Where it may stand: a class of floor.css each (top left has none).
const CORNERS = ["", "at-right", "at-bottom"];
// What it should not cover, and how much each counts: a face most, a name, a place's name.
const COVERED = [
  [".avatar .face", 3],
  [".avatar .tag:not(.hidden-tag)", 1],
  [".area-label", 1],
];
// What it must never cover: the zoom buttons, leaving the circle.
const NEVER = ".floor-zoom, .floor-leave:not([hidden])";

export class FloorHint {
  // `box`: the hint; `close`: its button; `focusAfterClose()`: where focus goes then.
  constructor({ box, close, focusAfterClose }) {
    this.box = box;
    close.addEventListener("click", () => {
      this.dismiss();
      focusAfterClose()?.focus();
    });
  }

  // Shows it, unless this browser has seen it.
  offer() {
    if (seen()) return;
    const text = this.box.querySelector("p");
    text.dataset.i18n = matchMedia("(hover: none) and (pointer: coarse)").matches ? "hint.walkTouch" : "hint.walk";
    text.textContent = t(text.dataset.i18n);
    this.box.hidden = false;
    this.place();
    this.placing = setInterval(() => this.place(), PLACE_EVERY_MS);
  }

  // In the corner of the floor where it covers the fewest people (it stood over those
  // already there as one arrived, just as one looked for someone to walk up to): top left
  // unless another corner covers fewer; it moves only for fewer, and not while pointed at
  // or focused (a click meant for its button would land on the floor).
  place() {
    if (this.box.hidden || document.hidden) return;
    const box = this.box;
    if (box.matches(":hover, :focus-within")) return;
    const floor = box.offsetParent?.getBoundingClientRect();
    if (!floor) return;
    const never = [...document.querySelectorAll(NEVER)].map((el) => el.getBoundingClientRect()).filter((r) => r.width > 0);
    const things = COVERED.flatMap(([selector, weight]) => [...document.querySelectorAll(selector)].map((el) => [el.getBoundingClientRect(), weight]));
    const show = (corner) => {
      for (const name of CORNERS) if (name) box.classList.toggle(name, name === corner);
    };
    const cost = (corner) => {
      show(corner);
      const r = box.getBoundingClientRect();
      if (never.some((n) => overlap(n, r)) || r.bottom > floor.bottom + 0.5 || r.right > floor.right + 0.5) return Infinity;
      return things.reduce((sum, [thing, weight]) => sum + (overlap(thing, r) ? weight : 0), 0);
    };
    const now = this.corner ?? "";
    let best = now;
    let least = cost(now);
    for (const corner of CORNERS) {
      if (least === 0) break;
      const c = cost(corner);
      if (c < least) [best, least] = [corner, c];
    }
    show(best);
    this.corner = best;
  }

  // One walked, or closed it: it goes, for good.
  dismiss() {
    if (this.box.hidden) return;
    this.box.hidden = true;
    clearInterval(this.placing);
    try {
      localStorage.setItem(SEEN, "1");
    } catch {
      // Storage refused (a private window's quota): it may show again next time.
    }
  }
}

function seen() {
  try {
    return localStorage.getItem(SEEN) !== null;
  } catch {
    return false;
  }
}

const overlap = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
