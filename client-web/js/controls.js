// The control bar and what belongs to it: microphone, camera, screen, hand, on air, the
// circle's lock, reactions, the "More" menu, the panel and chat, zoom; the keys "?" and
// Escape; the room's lock badge and the hosts' announcement, which each person may put
// away (it comes back when a host posts a new one).

import { messages, REACTIONS } from "./protocol.js";
import { MenuButton } from "./menu.js";
import { icon, setIcon } from "./icons.js";
import { t, lang, translatePage } from "./i18n.js";
import { problemText } from "./settings.js";
import { toast } from "./announce.js";

const $ = (selector) => document.querySelector(selector);
// Where the people panel is a drawer over the room, not a column beside it (small-screens.css).
const DRAWER = "(max-width: 700px), (max-width: 1100px) and (max-height: 520px)";

export class ControlBar {
  // What it works on: `state`, `media`, `conn`, `floor`, `rtt`, `settings`, `areaEditor`;
  // what the page does: `leaveCircle()`, `talkInvite` (a host's invitation
  // to talk), `leave()`; and `live()`: in the room and not ended.
  constructor(deps) {
    this.deps = deps;
    // A host invited us on air: the button to go on air shows.
    this.invitedToBroadcast = false;
    // The announcement this person put away.
    this.hiddenAnnouncement = null;
    // When a shared screen last left full screen (see the Escape key below).
    this.fullScreenEnded = -Infinity;
  }

  setUp() {
    const { state, media, conn, floor, rtt, areaEditor } = this.deps;
    document.documentElement.classList.toggle("no-screen-share", !navigator.mediaDevices?.getDisplayMedia);
    document.addEventListener("fullscreenchange", () => {
      if (!document.fullscreenElement) this.fullScreenEnded = performance.now();
    });
    fit();
    // Off is at once; on asks the browser for a device the page does not hold yet (one
    // left off on the join screen, refused, or not given yet), and says what went wrong.
    // (A press while the browser still asks changes nothing: one question, one answer.)
    const asking = new Set();
    const device = async (kind) => {
      if (media.state()[kind]) return kind === "mic" ? media.setMic(false) : media.setCamera(false);
      if (asking.has(kind)) return;
      asking.add(kind);
      try {
        if (await media.turnOn(kind)) return;
      } finally {
        asking.delete(kind);
      }
      const problem = problemText(media.problems, { [kind]: true });
      if (problem) toast(problem);
    };
    $("#mic-toggle").addEventListener("click", () => device("mic"));
    $("#camera-toggle").addEventListener("click", () => device("camera"));
    const share = async () => {
      try {
        if (media.screen) media.stopScreen();
        else await media.startScreen();
      } catch {
        // Sharing was cancelled.
      }
    };
    $("#screen-toggle").addEventListener("click", share);
    $("#menu-screen").addEventListener("click", share);
    const lockCircle = () => {
      const circle = state.myCircle();
      if (circle) conn.send(messages.lockCircle(!circle.locked));
    };
    $("#lock-toggle").addEventListener("click", lockCircle);
    $("#menu-lock-circle").addEventListener("click", lockCircle);
    $("#leave-circle").addEventListener("click", () => this.deps.leaveCircle());
    $("#menu-leave-circle").addEventListener("click", () => this.deps.leaveCircle());
    $("#floor-leave-circle").addEventListener("click", () => this.deps.leaveCircle());
    $("#menu-keys").addEventListener("click", () => this.showKeys());
    // Opens the panel, or closes it when open (on low screens the menu is the only way).
    $("#menu-rtt").addEventListener("click", () => (rtt.open ? rtt.close() : rtt.setOpen(true, true)));
    // The accessibility statement, from anywhere in the room (BITV 2.0 § 7), in a new tab.
    $("#menu-statement").addEventListener("click", () => window.open(`/accessibility?lang=${lang()}`, "_blank", "noopener"));
    document.addEventListener("keydown", (event) => {
      // "?" shows the keys (not while typing).
      if (event.key === "?" && this.deps.live() && !event.target.closest?.("input, textarea, select, dialog")) {
        event.preventDefault();
        return this.showKeys();
      }
      // Escape steps out of one's circle, unless it closes something first (a menu, a
      // dialog, a host's invitation to talk, the people drawer).
      if (event.key !== "Escape" || event.defaultPrevented || !this.deps.live()) return;
      if (document.querySelector("dialog[open]") || document.querySelector(".popover:not([hidden])")) return;
      // A shared screen shown full screen: Escape ends that (where the browser has not
      // already: some end it themselves and pass the key on just after), not the
      // conversation.
      if (document.fullscreenElement) {
        event.preventDefault();
        document.exitFullscreen().catch(() => {});
        return;
      }
      if (performance.now() - this.fullScreenEnded < 300) return;
      if (this.deps.talkInvite.holds(event.target)) {
        event.preventDefault();
        return this.deps.talkInvite.close();
      }
      // The panel as a drawer over the room: Escape closes it (also from its search or
      // chat box), not the conversation behind it; typing in a box beside the drawer (a
      // phone on its side shows some of the room), Escape is that box's.
      const inPanel = $("#panel").contains(event.target);
      if (!$(".room").classList.contains("panel-closed") && matchMedia(DRAWER).matches && (inPanel || !event.target.closest?.("input, textarea, select"))) {
        event.preventDefault();
        return this.closePanel(inPanel);
      }
      if (event.target.closest?.("input, textarea, select")) return;
      // Drawing an area: Escape stops drawing.
      if (areaEditor.drawing) {
        event.preventDefault();
        areaEditor.setDrawing(false);
        $("#area-draw").setAttribute("aria-pressed", "false");
        return;
      }
      if (state.myCircle()) {
        event.preventDefault();
        this.deps.leaveCircle();
      }
    });
    $("#leave").addEventListener("click", () => this.confirmLeave());
    $("#join-again").addEventListener("click", () => location.reload());
    $("#waiting-leave").addEventListener("click", () => this.deps.leave());
    $("#chat-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const text = $("#chat-text").value.trim();
      if (!text) return;
      if (conn.send(messages.chat($("#chat-to").value, text))) $("#chat-text").value = "";
    });
    $("#chat-text").addEventListener("keydown", (event) => {
      // Enter sends; Shift+Enter starts a new line.
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        $("#chat-form").requestSubmit();
      }
    });
    $("#hand-toggle").addEventListener("click", () => conn.send(messages.hand(!state.me()?.hand)));
    $("#on-air-toggle").addEventListener("click", () => conn.send(messages.broadcast(!state.broadcasters.includes(state.you))));
    $("#reactions").replaceChildren(
      ...REACTIONS.map((name) => {
        const button = document.createElement("button");
        button.type = "button";
        button.dataset.reaction = name;
        button.dataset.i18nLabel = `reaction.${name}`;
        button.append(icon(name));
        button.addEventListener("click", () => conn.send(messages.react(name)));
        return button;
      }),
    );
    translatePage($("#reactions"));
    new MenuButton($("#reactions-button"), $("#reactions"));
    new MenuButton($("#more-button"), $("#more-menu"));
    $("#settings-button").addEventListener("click", () => this.showSettings());
    $("#menu-settings").addEventListener("click", () => this.showSettings());
    $("#panel-toggle").addEventListener("click", () => this.setPanelOpen($(".room").classList.contains("panel-closed")));
    $("#menu-panel").addEventListener("click", () => this.setPanelOpen(true));
    $("#panel-close").addEventListener("click", () => this.closePanel());
    $("#drawer-scrim").addEventListener("click", () => this.closePanel());
    $("#announcement-hide").addEventListener("click", () => {
      this.hiddenAnnouncement = state.announcement;
      this.showRoomState();
      $("#announcement-show").focus();
    });
    $("#announcement-show").addEventListener("click", () => {
      this.hiddenAnnouncement = null;
      this.showRoomState();
      $("#announcement-hide").focus();
    });
    $("#zoom-in").addEventListener("click", () => floor.zoomBy(1.25));
    $("#zoom-out").addEventListener("click", () => floor.zoomBy(0.8));
  }

  // The list of keys (also "?"): a dialog; focus goes back where it was when it closes.
  showKeys() {
    const dialog = $("#keys");
    if (dialog.open) return;
    const back = focusBack();
    dialog.addEventListener("close", () => back?.focus?.(), { once: true });
    dialog.showModal();
  }

  // "Leave" asks first (a dialog; it sits near "Leave circle", and a room left by mistake
  // costs one's circle). "Stay in the room" (where the focus starts) and Escape close it,
  // and the focus goes back where it was.
  confirmLeave() {
    const dialog = $("#leave-confirm");
    if (dialog.open) return;
    // What it says: the sentence about one's circle only in one (a hidden element named in
    // aria-describedby would still be read out).
    const inCircle = !!this.deps.state.myCircle();
    $("#leave-confirm-circle").hidden = !inCircle;
    dialog.setAttribute("aria-describedby", inCircle ? "leave-confirm-circle leave-confirm-back" : "leave-confirm-back");
    const back = focusBack();
    dialog.returnValue = "";
    dialog.addEventListener(
      "close",
      () => {
        if (dialog.returnValue === "leave") this.deps.leave();
        else back?.focus?.();
      },
      { once: true },
    );
    dialog.showModal();
    $("#leave-stay").focus();
  }

  // Camera, microphone and speaker (a dialog); focus goes back where it was when it
  // closes, or to "More" when the menu item (gone with the menu) opened it.
  async showSettings() {
    const dialog = $("#settings");
    if (dialog.open) return;
    const back = focusBack();
    await this.deps.settings.open().catch(() => {});
    if (dialog.open) dialog.addEventListener("close", () => back?.focus?.(), { once: true });
  }

  setPanelOpen(open) {
    $(".room").classList.toggle("panel-closed", !open);
    $("#panel-toggle").setAttribute("aria-expanded", String(open));
    if (open) this.deps.panelOpened?.();
    if (open && matchMedia(DRAWER).matches) $("#panel-close").focus();
    // The floor's size changed: it refits through its ResizeObserver.
  }

  // Closes the panel; with `focusBack` (the focus was in it) the focus goes to what opens
  // it again (the top bar's button, or "More" where a very low window has no top bar).
  closePanel(focusBack = true) {
    this.setPanelOpen(false);
    if (focusBack) ($("#panel-toggle").offsetParent ? $("#panel-toggle") : $("#more-button")).focus();
  }

  // Every button as the media and the room are now.
  update() {
    const { state, media } = this.deps;
    const s = media.state();
    // A button whose name stays (microphone, camera) is a toggle: pressed or
    // not. One whose name says what it does next ("Lower hand", "Leave the stage") is
    // not: "Leave the stage, pressed" would contradict itself (WAI-ARIA's toggle button
    // pattern); its state shows in `data-on` alone, for its look.
    const toggle = (selector, on, iconOn, iconOff, labelOn, labelOff) => {
      const button = $(selector);
      if (labelOn) button.dataset.on = String(on);
      else button.setAttribute("aria-pressed", String(on));
      if (iconOn) setIcon(button.querySelector("svg"), on ? iconOn : iconOff);
      if (labelOn) {
        const label = t(on ? labelOn : labelOff);
        button.querySelector(".label").textContent = label;
      }
    };
    toggle("#mic-toggle", s.mic, "mic", "mic-off");
    toggle("#camera-toggle", s.camera, "camera", "camera-off");
    toggle("#screen-toggle", s.screen, "screen-off", "screen", "room.stopScreen", "room.screen");
    $("#menu-screen span").textContent = t(s.screen ? "room.stopScreen" : "room.screen");
    toggle("#hand-toggle", !!state.me()?.hand, "hand", "hand", "room.lowerHand", "room.hand");
    const onAirToggle = $("#on-air-toggle");
    const onAir = state.broadcasters.includes(state.you);
    onAirToggle.hidden = !(state.me()?.role === "host" || this.invitedToBroadcast || onAir);
    toggle("#on-air-toggle", onAir, "stage-off", "stage", "room.goOffAir", "room.goOnAir");
    const circle = state.myCircle();
    const lock = $("#lock-toggle");
    lock.disabled = !circle;
    toggle("#lock-toggle", !!circle?.locked, "lock", "unlock", "room.unlock", "room.lock");
    $("#menu-lock-circle").hidden = !circle;
    const lockLabel = $("#menu-lock-circle span");
    lockLabel.dataset.i18n = circle?.locked ? "room.unlock" : "room.lock";
    lockLabel.textContent = t(lockLabel.dataset.i18n);
    setIcon($("#menu-lock-circle svg"), circle?.locked ? "lock" : "unlock");
    // (Its name changes: not a toggle, see above.)
    $("#room-lock-toggle").dataset.on = String(!!state.locked);
    $("#room-lock-toggle .label").textContent = t(state.locked ? "host.unlockRoom" : "host.lockRoom");
    setIcon($("#room-lock-toggle svg"), state.locked ? "lock" : "unlock");
  }

  // The room's lock and the hosts' announcement, for everyone.
  showRoomState() {
    const { state } = this.deps;
    $("#room-locked-badge").hidden = !state.locked;
    const text = state.announcement ?? "";
    if (this.hiddenAnnouncement !== null && this.hiddenAnnouncement !== text) this.hiddenAnnouncement = null;
    const put = this.hiddenAnnouncement !== null && this.hiddenAnnouncement === text;
    $("#announcement-text").textContent = text;
    $("#announcement").hidden = !text || put;
    $("#announcement-show").hidden = !text || !put;
    // The host's button: nothing to delete while nothing is posted.
    $("#announce-clear").disabled = !text;
    this.update();
  }
}

// Where focus goes back when a dialog opened now closes: where it is, or, from the "More"
// menu (which closes, its items with it), the menu's button.
function focusBack() {
  return document.activeElement?.closest?.("#more-menu") ? $("#more-button") : document.activeElement;
}

// The bar shows its labels while they fit; when they do not, first with narrower gaps,
// then the minor buttons' (`data-minor`: screen, hand, reactions, settings, more) one at a
// time from the last (the icons for more and settings explain themselves best; sharing
// one's screen least), then all: which depends on the window, the language and the role (a
// host has the stage button), so it is measured, not guessed from the width.
function fit() {
  const bar = document.querySelector(".controlbar");
  const minor = [...bar.querySelectorAll("[data-minor]")].reverse();
  // (A centred row that is too wide runs past both edges; scrollWidth sees the right one
  // alone, so the groups' boxes are measured against the bar's padding.)
  const overflows = () => {
    const box = bar.getBoundingClientRect();
    const style = getComputedStyle(bar);
    const [left, right] = [box.left + parseFloat(style.paddingLeft), box.right - parseFloat(style.paddingRight)];
    const out = [...bar.children].some((group) => {
      const r = group.getBoundingClientRect();
      return r.width > 0 && (r.left < left - 1 || r.right > right + 1);
    });
    return out || bar.scrollWidth > bar.clientWidth + 1;
  };
  const measure = () => {
    bar.classList.remove("compact", "compact-minor");
    for (const button of minor) button.classList.remove("squeezed");
    if (overflows()) {
      bar.classList.add("compact-minor");
      for (const button of minor) {
        if (!overflows()) break;
        button.classList.add("squeezed");
      }
      if (overflows()) bar.classList.add("compact");
    }
    // Icons alone (labels hidden for want of room here, or by a narrow window's layout):
    // each names itself when pointed at, as its label would.
    for (const button of bar.querySelectorAll("button")) {
      const label = button.querySelector(".label");
      if (!label) continue;
      if (getComputedStyle(label).clipPath !== "none") button.title = label.textContent.trim();
      else button.removeAttribute("title");
    }
  };
  new ResizeObserver(measure).observe(bar);
  new MutationObserver(measure).observe(bar, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ["hidden"] });
  measure();
}
