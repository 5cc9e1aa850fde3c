// The screen after the room: why one is out (left, removed, banned, replaced, refused,
// the room closed, turned away from the waiting room, the connection lost) and whether
// one may come back.

import { CLOSE } from "./protocol.js";
import { t } from "./i18n.js";

const $ = (selector) => document.querySelector(selector);

// Why a connection the server closed ended, by its close code (`given_up`: the page
// stopped trying to reconnect); anything else is a lost connection.
export const CLOSE_REASONS = {
  [CLOSE.NORMAL]: "left",
  [CLOSE.REMOVED]: "removed",
  [CLOSE.BANNED]: "banned",
  [CLOSE.REPLACED]: "replaced",
  [CLOSE.REFUSED]: "refused",
  [CLOSE.GOING_AWAY]: "closed",
  [CLOSE.TURNED_AWAY]: "turnedAway",
  given_up: "lost",
};

export class EndScreen {
  constructor() {
    // A host's message to us when turning us away.
    this.turnedAwayMessage = null;
  }

  // Shows the screen for `reason` and puts the focus on its heading.
  show(reason) {
    $("#ended").hidden = false;
    $("#ended").dataset.reason = reason;
    this.translate();
    $("#ended-heading").focus();
  }

  // Its text in the page's language.
  translate() {
    const reason = $("#ended").dataset.reason;
    $("#ended-heading").textContent = t(`ended.${reason}`);
    $("#ended-detail").textContent =
      reason === "turnedAway" && this.turnedAwayMessage
        ? t("ended.turnedAway.message", { message: this.turnedAwayMessage })
        : t(`ended.${reason}.detail`);
    // A ban is final for this link, and a closed room is gone; everyone else may come back.
    $("#join-again").hidden = reason === "banned" || reason === "closed";
  }
}
