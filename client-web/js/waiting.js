// The waiting room, both sides. The newcomer's screen (the room's title, its message, a
// leave button) while a host decides; and, for hosts, the queue above the people list:
// the setting, and who waits (name, profile line, for how long) with "admit" per person,
// a selection to admit or turn away, "admit all" and an optional message to those turned
// away. Reads the state the server sent (`waiting`, `state.waitingRoom`); sends through
// `send`. Announcements are polite: queue changes to hosts, the outcome to the newcomer.

import { messages } from "./protocol.js";
import { t } from "./i18n.js";

const $ = (sel) => document.querySelector(sel);

// The newcomer's screen: shown on `waiting`, in place of the join form.
export function showWaiting(msg) {
  $("#join").hidden = true;
  $("#waiting-heading").textContent = msg.title;
  const own = $("#waiting-own");
  own.textContent = msg.message ?? "";
  own.hidden = !msg.message;
  $("#waiting").hidden = false;
  $("#waiting-heading").focus();
}

export function hideWaiting() {
  $("#waiting").hidden = true;
}

// For hosts: the queue. `send(message)` goes to the server; `announce(text)` to the
// polite live region.
export class WaitingRoomPanel {
  constructor(send, announce) {
    this.send = send;
    this.announce = announce;
    this.root = $("#waiting-list");
    this.known = new Set();
    this.selected = new Set();
    $("#waiting-on").addEventListener("change", (e) => this.send(messages.setWaitingRoom(e.target.checked)));
    $("#waiting-admit-all").addEventListener("click", () => this.send(messages.admitAll()));
    $("#waiting-admit-selected").addEventListener("click", () => this.act("admit"));
    $("#waiting-turn-away").addEventListener("click", () => this.act("turnAway"));
    this.root.querySelector("ol").addEventListener("click", (e) => {
      const button = e.target.closest("button[data-admit]");
      if (button) this.send(messages.admit([button.dataset.admit]));
    });
    this.root.querySelector("ol").addEventListener("change", (e) => {
      const box = e.target.closest("input[data-pick]");
      if (!box) return;
      if (box.checked) this.selected.add(box.dataset.pick);
      else this.selected.delete(box.dataset.pick);
      this.updateActions();
    });
  }

  act(kind) {
    const ids = [...this.selected];
    if (ids.length === 0) return;
    if (kind === "admit") this.send(messages.admit(ids));
    else {
      const message = $("#waiting-message").value.trim();
      this.send(messages.turnAway(ids, message || undefined));
      $("#waiting-message").value = "";
    }
    this.selected.clear();
    this.updateActions();
  }

  updateActions() {
    const none = this.selected.size === 0;
    $("#waiting-admit-selected").disabled = none;
    $("#waiting-turn-away").disabled = none;
    // What the two buttons act on, or why they are off (greyed out without a word, they
    // looked broken).
    const picked = $("#waiting-picked");
    // (Only the hint is the page's to translate: the count needs its number.)
    if (none) picked.dataset.i18n = "waiting.pickHint";
    else delete picked.dataset.i18n;
    const text = none ? t("waiting.pickHint") : t("waiting.picked", { count: this.selected.size });
    if (picked.textContent !== text) picked.textContent = text;
  }

  // `host`: whether we are one; `room`: state.waitingRoom (or undefined).
  render(host, room) {
    const section = this.root;
    const on = !!room?.on;
    const people = room?.people ?? [];
    section.hidden = !host;
    $("#waiting-switch").hidden = !host;
    if (!host) return;
    $("#waiting-on").checked = on;
    section.hidden = !on && people.length === 0;
    section.querySelector(".count").textContent = people.length ? `(${people.length})` : "";
    $("#waiting-empty").hidden = people.length > 0;
    $("#waiting-actions").hidden = people.length === 0;
    const list = section.querySelector("ol");
    const since = Date.now() - (room?.at ?? Date.now());
    const rows = people.map((p) => {
      const minutes = Math.floor((p.waited_s * 1000 + since) / 60000);
      const li = document.createElement("li");
      const label = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.dataset.pick = p.id;
      box.checked = this.selected.has(p.id);
      const who = document.createElement("span");
      who.className = "who";
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = p.name;
      who.append(name);
      if (p.profile) {
        const line = document.createElement("span");
        line.className = "profile";
        line.textContent = p.profile;
        who.append(line);
      }
      const wait = document.createElement("span");
      wait.className = "hint";
      wait.textContent = minutes < 1 ? t("waiting.justNow") : t("waiting.for", { minutes });
      who.append(wait);
      label.append(box, who);
      const admit = document.createElement("button");
      admit.type = "button";
      admit.dataset.admit = p.id;
      admit.textContent = t("waiting.admit");
      admit.setAttribute("aria-label", t("waiting.admitLabel", { name: p.name }));
      li.append(label, admit);
      return li;
    });
    // Keep the focus on a row's control if it is rebuilt.
    const focused = document.activeElement;
    const key = focused?.dataset?.admit ? ["admit", focused.dataset.admit] : focused?.dataset?.pick ? ["pick", focused.dataset.pick] : null;
    list.replaceChildren(...rows);
    if (key) list.querySelector(`[data-${key[0]}="${CSS.escape(key[1])}"]`)?.focus();
    for (const id of this.selected) if (!people.some((p) => p.id === id)) this.selected.delete(id);
    this.updateActions();
    // Newcomers, politely; whoever left the queue needs no word.
    const fresh = people.filter((p) => !this.known.has(p.id));
    this.known = new Set(people.map((p) => p.id));
    if (fresh.length === 1) this.announce(t("waiting.arrived", { name: fresh[0].name }));
    else if (fresh.length > 1) this.announce(t("waiting.arrivedMany", { count: fresh.length }));
  }
}
