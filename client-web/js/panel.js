// The side panel: everyone and every circle as lists with "go to" buttons, the accessible
// way around the floor. Re-rendered only when people or circles change (not on moves),
// keeping keyboard focus on the same item.

import { t, listNames } from "./i18n.js";
import { displayName } from "./tiles.js";

export class Panel {
  constructor(root, { onGoToPerson, onGoToCircle, onHostAction }) {
    this.root = root;
    this.onGoToPerson = onGoToPerson;
    this.onGoToCircle = onGoToCircle;
    this.onHostAction = onHostAction;
    this.unread = 0;
    this.tabs = [...root.querySelectorAll('[role="tab"]')];
    for (const tab of this.tabs) {
      tab.addEventListener("click", () => this.show(tab.id === "tab-chat" ? "chat" : "people"));
      // Arrow keys move between the tabs (the ARIA tabs pattern).
      tab.addEventListener("keydown", (event) => {
        if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
        event.preventDefault();
        const next = this.tabs[(this.tabs.indexOf(tab) + 1) % this.tabs.length];
        this.show(next.id === "tab-chat" ? "chat" : "people");
        next.focus();
      });
    }
    root.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-key]");
      if (!button) return;
      const [kind, id] = button.dataset.key.split(":");
      if (kind === "person") this.onGoToPerson(id);
      else if (kind === "circle") this.onGoToCircle(Number(id));
      else this.onHostAction(kind, id);
    });
  }

  // What one person's list item holds: name, state, "go to" and the host's actions.
  personContent(p, { me, host, shown, status }) {
    const name = document.createElement("span");
    name.className = "person-name";
    name.textContent = shown;
    const state = document.createElement("span");
    state.className = "person-status";
    state.textContent = status;
    const parts = [name, state];
    if (!me) {
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.key = `person:${p.id}`;
      button.textContent = t("room.goto", { name: shown });
      parts.push(button);
      if (host) {
        for (const action of ["invite", "mute", "remove", "ban"]) {
          const act = document.createElement("button");
          act.type = "button";
          act.className = "host";
          act.dataset.key = `${action}:${p.id}`;
          act.textContent = t(`host.${action}`, { name: shown });
          parts.push(act);
        }
      }
    }
    return parts;
  }

  // Shows the people or the chat tab.
  show(which) {
    for (const tab of this.tabs) {
      const selected = (tab.id === "tab-chat") === (which === "chat");
      tab.setAttribute("aria-selected", String(selected));
      tab.tabIndex = selected ? 0 : -1;
      this.root.querySelector(`#${tab.getAttribute("aria-controls")}`).hidden = !selected;
    }
    if (which === "chat") {
      this.unread = 0;
      this.showUnread();
      const log = this.root.querySelector(".chat-scroll");
      log.scrollTop = log.scrollHeight;
    }
  }

  get chatShown() {
    return !this.root.querySelector("#pane-chat").hidden && !this.root.closest(".panel-closed");
  }

  showUnread() {
    const badge = this.root.querySelector("#chat-unread");
    const hidden = document.createElement("span");
    hidden.className = "visually-hidden";
    hidden.textContent = ` ${t("chat.unread")}`;
    badge.replaceChildren(String(this.unread), hidden);
    badge.hidden = this.unread === 0;
  }

  render(state, duplicates = new Map()) {
    const focused = document.activeElement?.dataset?.key;
    const people = [...state.participants.values()].sort((a, b) => a.name.localeCompare(b.name));
    const peopleList = this.root.querySelector("#people-list");
    // One list item per person, kept from render to render and rebuilt only when what it
    // shows changed: buttons stay put under a pointer while the room changes around them.
    this.items ??= new Map();
    const host = state.me()?.role === "host";
    const seen = new Set();
    people.forEach((p, index) => {
      seen.add(p.id);
      const me = p.id === state.you;
      const shown = displayName(p, state.you, duplicates);
      const status = [
        state.broadcasters.includes(p.id) ? t("room.onStage") : "",
        p.hand ? t("room.handRaised") : "",
        p.reconnecting ? t("room.reconnecting") : "",
        p.mic ? "" : `${t("room.mic")} ${t("room.off")}`,
      ]
        .filter(Boolean)
        .join(", ");
      const signature = JSON.stringify([shown, status, me, host, t("room.goto", { name: "" })]);
      let item = this.items.get(p.id);
      if (!item || item.signature !== signature) {
        const li = item?.li ?? document.createElement("li");
        li.replaceChildren(...this.personContent(p, { me, host, shown, status }));
        item = { li, signature };
        this.items.set(p.id, item);
      }
      if (peopleList.children[index] !== item.li) peopleList.insertBefore(item.li, peopleList.children[index] ?? null);
    });
    for (const [id, item] of this.items) {
      if (!seen.has(id)) {
        item.li.remove();
        this.items.delete(id);
      }
    }
    this.root.querySelector("#people-count").textContent = String(people.length);
    const circles = [...state.circles.values()];
    const circleList = this.root.querySelector("#circle-list");
    if (circles.length === 0) {
      const li = document.createElement("li");
      li.className = "empty";
      li.textContent = t("room.noCircles");
      circleList.replaceChildren(li);
    } else {
      circleList.replaceChildren(
        ...circles.map((c) => {
          const li = document.createElement("li");
          const names = c.members.map((id) => (id === state.you ? t("room.you", { name: state.name(id) }) : state.name(id)));
          const label = document.createElement("span");
          label.textContent = t("room.circleOf", { count: c.members.length, names: listNames(names) }) + (c.locked ? ` (${t("room.locked")})` : "");
          li.append(label);
          if (!c.members.includes(state.you)) {
            const button = document.createElement("button");
            button.type = "button";
            button.dataset.key = `circle:${c.id}`;
            button.textContent = t("room.gotoCircle");
            button.setAttribute("aria-label", `${t("room.gotoCircle")}: ${listNames(names)}`);
            li.append(button);
          }
          return li;
        }),
      );
    }
    this.renderChatTargets(state, duplicates);
    if (focused) this.root.querySelector(`[data-key="${CSS.escape(focused)}"]`)?.focus();
  }

  // Whom a chat message can go to: everyone, one's circle, or one person.
  renderChatTargets(state, duplicates) {
    const select = this.root.querySelector("#chat-to");
    const current = select.value || "room";
    const option = (value, text, disabled = false) => {
      const el = document.createElement("option");
      el.value = value;
      el.textContent = text;
      el.disabled = disabled;
      return el;
    };
    const people = [...state.participants.values()].filter((p) => p.id !== state.you).sort((a, b) => a.name.localeCompare(b.name));
    select.replaceChildren(
      option("room", t("chat.everyone")),
      option("circle", t("chat.circle"), !state.myCircle()),
      ...people.map((p) => option(p.id, displayName(p, state.you, duplicates))),
    );
    const still = [...select.options].find((o) => o.value === current && !o.disabled);
    select.value = still ? current : "room";
  }

  renderChat(state) {
    this.root.querySelector("#chat-log").replaceChildren(...state.chat.map((m) => this.chatLine(state, m)));
  }

  addChat(state, message) {
    const log = this.root.querySelector("#chat-log");
    log.append(this.chatLine(state, message));
    const scroll = this.root.querySelector(".chat-scroll");
    scroll.scrollTop = scroll.scrollHeight;
    if (!this.chatShown && message.from !== state.you) {
      this.unread += 1;
      this.showUnread();
    }
  }

  chatLine(state, m) {
    const li = document.createElement("li");
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = m.from === state.you ? t("room.you", { name: m.name }) : m.name;
    const when = document.createElement("time");
    const at = new Date(m.at);
    when.dateTime = at.toISOString();
    when.className = "scope";
    when.textContent = ` ${at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}`;
    li.append(who, when);
    if (m.to !== "room") {
      const scope = document.createElement("span");
      scope.className = "scope";
      const to = m.to === "circle" ? t("chat.toCircle") : m.to === state.you ? t("chat.toYou") : t("chat.toName", { name: state.name(m.to) });
      scope.textContent = ` (${to})`;
      li.append(scope);
    }
    li.append(document.createTextNode(`: ${m.text}`));
    return li;
  }
}
