// A first visit's hint on the floor: how to walk, and that walking up to someone starts a
// conversation. It goes once one walks or closes it, and does not come back in this
// browser. It takes no clicks but its own button's: a click on the floor beneath it walks.
// On a touch screen with no keyboard or mouse to speak of (a phone, a tablet) it says only
// to tap: arrow keys and clicks mean nothing there.

import { t } from "./i18n.js";

const SEEN = "hallway.floorHintSeen";

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
  }

  // One walked, or closed it: it goes, for good.
  dismiss() {
    if (this.box.hidden) return;
    this.box.hidden = true;
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
