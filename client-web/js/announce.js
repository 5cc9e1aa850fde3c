// What the page tells people besides what it shows: lines for screen readers (a polite
// live region that keeps the last five) and a short notice on screen (a toast).

import { t, listNames } from "./i18n.js";

// Says `text` to screen readers.
export function announce(text) {
  const region = document.querySelector("#announcer");
  const line = document.createElement("p");
  line.textContent = text;
  region.append(line);
  while (region.childElementCount > 5) region.firstElementChild.remove();
}

// How often a shown notice looks whether it covers oneself.
const PLACE_EVERY_MS = 250;

let toastTimer;
let placing;
// Shows `text` on screen for a while: five seconds, longer for a longer text.
export function toast(text) {
  const el = document.querySelector("#toast");
  el.textContent = text;
  el.hidden = false;
  place(el);
  clearTimeout(toastTimer);
  // Placed again while shown: one may walk under it, or the floor scroll.
  clearInterval(placing);
  placing = setInterval(() => place(el), PLACE_EVERY_MS);
  // Long enough to read: 5 s, longer for a longer text (a blocked device's two sentences).
  toastTimer = setTimeout(() => {
    el.hidden = true;
    clearInterval(placing);
  }, Math.max(5000, [...text].length * 65));
}

const overlap = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;

// Places the notice again, if shown (the status line came or went meanwhile).
export function placeToast() {
  const el = document.querySelector("#toast");
  if (el && !el.hidden) place(el);
}

// The notice stands at the bottom of the floor, unless one's own avatar (or its name) is
// there, or the first visit's hint: then at the top, under the status line and the hint
// when they are shown there. Where it would cover oneself in both places, at the bottom.
function place(el) {
  el.classList.remove("at-top");
  el.style.top = "";
  const me = document.querySelector(".avatar.me");
  const mine = me ? [...me.querySelectorAll(".face, .tag")].map((part) => part.getBoundingClientRect()) : [];
  const hint = document.querySelector("#floor-hint:not([hidden])")?.getBoundingClientRect();
  const below = [...mine, ...(hint ? [hint] : [])];
  if (!below.some((box) => overlap(box, el.getBoundingClientRect()))) return;
  const box = el.offsetParent?.getBoundingClientRect();
  if (!box) return;
  const above = ["#status", "#floor-hint"]
    .map((selector) => document.querySelector(selector))
    .filter((other) => other && !other.hidden && other.checkVisibility?.() !== false)
    .map((other) => other.getBoundingClientRect())
    // (The hint may stand at the bottom: then it is not above.)
    .filter((other) => other.top < box.top + box.height / 2)
    .map((other) => Math.max(0, other.bottom - box.top));
  el.classList.add("at-top");
  if (above.length) el.style.top = `calc(${Math.max(...above)}px + var(--space-2))`;
  if (mine.some((part) => overlap(part, el.getBoundingClientRect()))) {
    el.classList.remove("at-top");
    el.style.top = "";
  }
}

// Says what a change of one's own circle means for us: we joined it (with whom), left it,
// or someone came or went.
export function announceCircle(state, { before, after }) {
  const me = state.you;
  const wasIn = before.includes(me);
  const isIn = after.includes(me);
  if (!wasIn && isIn) {
    announce(t("announce.youJoined", { names: listNames(after.filter((id) => id !== me).map((id) => state.name(id))) }));
  } else if (wasIn && !isIn) {
    announce(t("announce.youLeft"));
  } else if (wasIn && isIn) {
    for (const id of after.filter((id) => !before.includes(id))) announce(t("announce.joinedYou", { name: state.name(id) }));
    for (const id of before.filter((id) => !after.includes(id))) announce(t("announce.leftYou", { name: state.name(id) }));
  }
}
