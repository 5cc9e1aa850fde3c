// A host asks us over to a conversation: a notice with "walk over" (which walks to the
// host, or into their circle) and "not now". It takes the focus only from nowhere in
// particular (the page or the floor), never from someone typing; it is announced either
// way, and goes by itself after a minute or when the host leaves. Focus goes back where it
// came from.

import { t } from "./i18n.js";
import { displayName } from "./tiles.js";
import { announce } from "./announce.js";

const $ = (selector) => document.querySelector(selector);

export class TalkInvite {
  // `state`: the room; `duplicates()`: the numbers that tell equal names apart;
  // `goToPerson(id)`: walks over.
  constructor({ state, duplicates, goToPerson }) {
    this.state = state;
    this.duplicates = duplicates;
    this.timer = null;
    this.focusBack = null;
    $("#talk-invite-accept").addEventListener("click", () => {
      const by = this.by;
      this.close();
      if (state.participants.has(by)) goToPerson(by);
    });
    $("#talk-invite-decline").addEventListener("click", () => this.close());
  }

  // The host who asked, while the notice shows.
  get by() {
    return $("#talk-invite").hidden ? undefined : $("#talk-invite").dataset.by;
  }

  // Whether the notice shows and holds `element`.
  holds(element) {
    return !$("#talk-invite").hidden && $("#talk-invite").contains(element);
  }

  show(by) {
    const host = this.state.participants.get(by);
    if (!host) return;
    const notice = $("#talk-invite");
    $("#talk-invite-text").textContent = t("talk.invited", { name: displayName(host, this.state.you, this.duplicates()) });
    notice.dataset.by = by;
    notice.hidden = false;
    announce($("#talk-invite-text").textContent);
    const active = document.activeElement;
    if (!notice.contains(active) && (!active || active === document.body || active === $("#floor"))) {
      this.focusBack = active;
      $("#talk-invite-accept").focus();
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.close(), 60_000);
  }

  close() {
    const notice = $("#talk-invite");
    if (notice.hidden) return;
    const hadFocus = notice.contains(document.activeElement);
    notice.hidden = true;
    clearTimeout(this.timer);
    if (hadFocus) (this.focusBack?.isConnected ? this.focusBack : $("#floor")).focus();
    this.focusBack = null;
  }
}
