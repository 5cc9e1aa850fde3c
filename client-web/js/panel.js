// The side panel: everyone and every circle as lists, the accessible way around the floor,
// and a host's console for a room of hundreds. People are searchable (typing filters as
// you type) and grouped: on stage, hands raised (oldest first: the queue hosts work
// through with "next hand"), in circles, alone. A host has one actions menu per person
// (go to, invite to the stage, mute, remove, ban): one menu element, opened beside
// whichever person's button was pressed. Re-rendered only when people or circles change
// (not on moves); items are kept from render to render and keyboard focus stays put.

import { t, listNames } from "./i18n.js";
import { icon } from "./icons.js";
import { displayName } from "./tiles.js";
import { GROUPS, groupPeople, nextHand } from "./people.js";

const HOST_ACTIONS = ["invite", "talk", "mute", "remove", "ban"];

export class Panel {
  constructor(root, { onGoToPerson, onGoToCircle, onHostAction, onFind = () => {} }) {
    this.root = root;
    // A big room's page knows only some of the people: a search asks the server too.
    this.onFind = onFind;
    this.findTimer = null;
    this.asked = null;
    this.onGoToPerson = onGoToPerson;
    this.onGoToCircle = onGoToCircle;
    this.onHostAction = onHostAction;
    this.unread = 0;
    this.query = "";
    // People a host called on with "next hand" (skipped until their hand goes down).
    this.called = new Set();
    // Whom this host asked over to a conversation, and when (said in the list of those
    // alone for a minute).
    this.talkInvited = new Map();
    this.items = new Map();
    this.menu = root.querySelector("#person-menu");
    this.tabs = [...root.querySelectorAll('[role="tab"]')];
    for (const tab of this.tabs) {
      tab.addEventListener("click", () => this.show(tabName(tab)));
      // Arrow keys move between the tabs shown, Home and End to the first and the last
      // (the ARIA tabs pattern; the host tools' tab is there for hosts alone).
      tab.addEventListener("keydown", (event) => {
        const shown = this.tabs.filter((other) => !other.hidden);
        const at = shown.indexOf(tab);
        const step = { ArrowRight: 1, ArrowLeft: shown.length - 1 }[event.key];
        let next;
        if (step) next = shown[(at + step) % shown.length];
        else if (event.key === "Home") next = shown[0];
        else if (event.key === "End") next = shown[shown.length - 1];
        else return;
        event.preventDefault();
        this.show(tabName(next));
        next.focus();
      });
    }
    root.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-key]");
      if (!button) return;
      const [kind, id] = button.dataset.key.split(":");
      if (kind === "actions") {
        if (this.menuFor === id) this.closeMenu();
        else this.openMenu(button, id);
        return;
      }
      if (this.menu.contains(button)) this.closeMenu();
      if (kind === "talk" || kind === "alone-talk") {
        this.talkInvited.set(id, Date.now());
        this.onHostAction("talk", id);
        if (this.state) this.render(this.state, this.duplicates);
        return;
      }
      if (kind === "person" || kind === "alone-go") this.onGoToPerson(id);
      else if (kind === "circle") this.onGoToCircle(Number(id));
      else this.onHostAction(kind, id);
    });
    const search = root.querySelector("#people-search");
    search.addEventListener("input", () => {
      this.query = search.value;
      this.findSoon();
      if (this.state) this.render(this.state, this.duplicates);
    });
    search.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && search.value) {
        event.preventDefault();
        event.stopPropagation();
        search.value = "";
        search.dispatchEvent(new Event("input"));
      }
    });
    root.querySelector("#next-hand").addEventListener("click", () => {
      const next = this.nextHand();
      if (!next) return;
      this.called.add(next.id);
      this.onHostAction("invite", next.id);
      this.render(this.state, this.duplicates);
      // The queue is empty now: focus goes to the search box, not to nowhere.
      if (this.root.querySelector("#hand-queue").hidden) this.root.querySelector("#people-search").focus();
    });
    this.menu.addEventListener("keydown", (event) => this.menuKey(event));
    document.addEventListener("pointerdown", (event) => {
      if (this.menuFor && !this.menu.contains(event.target) && !this.menuButton?.contains(event.target)) this.closeMenu(false);
    });
    // Scrolling the list or resizing the window moves the menu with its button (a scroll
    // can come just after the menu opened: the list scrolled to bring the button into view,
    // or shrank when someone left); it closes once the button is out of the list's view.
    root.querySelector(".people-scroll").addEventListener("scroll", () => this.followMenu(), { passive: true });
    window.addEventListener("resize", () => this.followMenu());
  }

  // The oldest raised hand not yet called on, of someone still in the room.
  nextHand() {
    if (!this.state) return undefined;
    return nextHand(this.state.participants.values(), this.state.broadcasters, this.called);
  }

  // One person's actions menu, beside their button; the first item takes focus.
  openMenu(button, id) {
    this.closeMenu(false);
    const p = this.state?.participants.get(id);
    if (!p) return;
    const shown = displayName(p, this.state.you, this.duplicates);
    const item = (key, text, danger = false) => {
      const b = document.createElement("button");
      b.type = "button";
      b.setAttribute("role", "menuitem");
      b.dataset.key = `${key}:${id}`;
      b.textContent = text;
      if (danger) b.className = "danger-item";
      return b;
    };
    this.menu.replaceChildren(
      item("person", t("people.menu.goto")),
      ...HOST_ACTIONS.map((a) => item(a, t(`people.menu.${a}`), a === "remove" || a === "ban")),
    );
    this.menu.setAttribute("aria-label", t("people.actions", { name: shown }));
    this.menu.hidden = false;
    this.placeMenu(button);
    button.setAttribute("aria-expanded", "true");
    this.menuFor = id;
    this.menuButton = button;
    this.menu.querySelector("button").focus();
  }

  // The open menu stays beside its person's button when the list changes around it (their
  // row rebuilt, or moved to another group) or scrolls; it closes when the button is gone
  // from view.
  followMenu() {
    if (!this.menuFor) return;
    const button = this.root.querySelector(`button[data-key="actions:${CSS.escape(this.menuFor)}"]`);
    if (!button || button.closest("[hidden]") || !this.inView(button)) {
      // Focus in the menu goes back to its button (if still there), not to nowhere.
      if (button) this.menuButton = button;
      this.closeMenu(this.menu.contains(document.activeElement) && Boolean(button));
      return;
    }
    this.menuButton = button;
    button.setAttribute("aria-expanded", "true");
    this.placeMenu(button);
  }

  // Whether a button shows at least in part within the scrolling list.
  inView(button) {
    const at = button.getBoundingClientRect();
    const view = this.root.querySelector(".people-scroll").getBoundingClientRect();
    return at.bottom > view.top && at.top < view.bottom;
  }

  placeMenu(button) {
    const at = button.getBoundingClientRect();
    const box = this.root.getBoundingClientRect();
    const height = this.menu.offsetHeight;
    // Below the button, or above it when there is no room below.
    const below = at.bottom + 4 + height <= window.innerHeight;
    this.menu.style.top = `${(below ? at.bottom + 4 : at.top - 4 - height) - box.top}px`;
    this.menu.style.right = `${Math.max(4, box.right - at.right)}px`;
  }

  closeMenu(focusButton = true) {
    if (!this.menuFor) return;
    this.menu.hidden = true;
    this.menuButton?.setAttribute("aria-expanded", "false");
    // Without scrolling: a list scrolled away from the button stays where it was put.
    if (focusButton) this.menuButton?.focus({ preventScroll: true });
    this.menuFor = null;
    this.menuButton = null;
  }

  menuKey(event) {
    const items = [...this.menu.querySelectorAll("button")];
    const at = items.indexOf(document.activeElement);
    const next = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: items.length - 1 }[event.key];
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      this.closeMenu();
    } else if (next !== undefined) {
      event.preventDefault();
      items[(next + items.length) % items.length].focus();
    } else if (event.key === "Tab") {
      // Focus goes back to the person's button; Tab goes on from there.
      this.closeMenu(true);
    }
  }

  // What one person's list item holds: name, state, and "go to" (or, for a host, the
  // button of the person's actions menu).
  personContent(p, { me, near = false, host, shown, status }) {
    const name = document.createElement("span");
    name.className = "person-name";
    name.textContent = shown;
    const state = document.createElement("span");
    state.className = "person-status";
    state.textContent = status;
    // Name and state on a line, the profile line (organisation, topics) under them.
    const who = document.createElement("span");
    who.className = "person-who";
    who.append(name, state);
    if (p.profile) {
      const line = document.createElement("span");
      line.className = "person-profile";
      line.textContent = p.profile;
      who.append(line);
    }
    const parts = [who];
    if (!me) {
      const button = document.createElement("button");
      button.type = "button";
      if (host) {
        button.dataset.key = `actions:${p.id}`;
        button.className = "icon-only quiet actions";
        button.setAttribute("aria-haspopup", "menu");
        button.setAttribute("aria-expanded", String(this.menuFor === p.id));
        button.setAttribute("aria-label", t("people.actions", { name: shown }));
        button.title = t("people.actions", { name: shown });
        button.innerHTML = '<svg class="icon" aria-hidden="true"><use href="/assets/icons.svg#more"/></svg>';
      } else if (near) {
        return parts;
      } else {
        // Short, on the name's line (the whole "Go to Anna Schmidt" made every row two
        // lines long); its name for screen readers and speech input says whom.
        button.dataset.key = `person:${p.id}`;
        button.className = "goto";
        button.textContent = t("people.goto");
        button.setAttribute("aria-label", t("room.goto", { name: shown }));
      }
      parts.push(button);
    }
    return parts;
  }

  // Shows one tab: "people", "chat" or (hosts) "host".
  show(which) {
    for (const tab of this.tabs) {
      const selected = tabName(tab) === which;
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

  // The host tools' tab is offered to hosts alone; one who stops being a host while it is
  // shown is taken back to the people.
  offerHostTools(host) {
    const tab = this.root.querySelector("#tab-host");
    const focused = tab.contains(document.activeElement) || this.root.querySelector("#pane-host").contains(document.activeElement);
    tab.hidden = !host;
    const list = tab.parentElement;
    list.classList.toggle("three", host);
    // The tab list's name says what its tabs hold.
    list.dataset.i18nLabel = host ? "room.panelHost" : "room.panel";
    list.setAttribute("aria-label", t(list.dataset.i18nLabel));
    list.title = t(list.dataset.i18nLabel);
    if (!host && tab.getAttribute("aria-selected") === "true") this.show("people");
    // (The focus was in what went: it goes to the people's tab, not to the page.)
    if (!host && focused) this.root.querySelector("#tab-people").focus();
  }

  get chatShown() {
    return !this.root.querySelector("#pane-chat").hidden && !this.root.closest(".panel-closed");
  }

  // The number of chat messages not yet seen, on the chat tab and on the button that
  // opens the panel (closed, as on a phone, the tab is out of sight).
  showUnread() {
    for (const badge of [this.root.querySelector("#chat-unread"), document.querySelector("#panel-unread")]) {
      if (!badge) continue;
      const hidden = document.createElement("span");
      hidden.className = "visually-hidden";
      hidden.textContent = ` ${t("chat.unread")}`;
      // On the button that opens the panel a speech bubble says what is counted (beside
      // the number of people, a number alone read as a second count of them).
      const bubble = badge.id === "panel-unread" ? [icon("chat")] : [];
      badge.replaceChildren(...bubble, String(this.unread), hidden);
      badge.hidden = this.unread === 0;
    }
  }

  // The panel was opened: messages in the chat it shows are seen.
  opened() {
    if (this.chatShown && this.unread) {
      this.unread = 0;
      this.showUnread();
    }
  }

  // In a big room, asks the server for the query a moment after the typing stops.
  findSoon() {
    clearTimeout(this.findTimer);
    const query = this.query.trim();
    if (this.state?.inRoom == null || !query || query.length > 64) return;
    this.findTimer = setTimeout(() => {
      this.asked = query;
      this.onFind(query);
      // Not answered (dropped by the rate limit, or the connection blinked): once more.
      this.findTimer = setTimeout(() => {
        if (this.asked === query && this.state?.search?.query !== query) this.onFind(query);
      }, 2000);
    }, 300);
  }

  // What the line under the search says.
  foundText(state, found, total) {
    const query = this.query.trim();
    if (state.inRoom == null) {
      if (!query) return "";
      return found === 0 ? t("people.none", { query }) : t("people.found", { found, total });
    }
    if (!query) return t("people.nearOnly", { total: state.inRoom });
    if (query.length > 64) return t("people.tooLong");
    const answered = state.search?.query === this.asked && this.asked === query;
    if (!answered) return t("people.searching");
    if (found === 0) return t("people.none", { query });
    if (found >= state.search.total) return t("people.foundAll", { found });
    return t("people.foundMatches", { found, total: state.search.total });
  }

  render(state, duplicates = new Map()) {
    this.state = state;
    this.duplicates = duplicates;
    const focused = document.activeElement?.dataset?.key;
    const host = state.me()?.role === "host";
    const shownName = (p) => displayName(p, state.you, duplicates);
    const { groups, found, total } = groupPeople(state.participants.values(), { broadcasters: state.broadcasters, query: this.query, shown: shownName });
    // A called hand that went down (or left) leaves the "called" list.
    for (const id of this.called) if (!state.participants.get(id)?.hand) this.called.delete(id);
    const seen = new Set();
    for (const group of GROUPS) {
      const section = this.root.querySelector(`#group-${group}`);
      const list = section.querySelector("ul, ol");
      section.hidden = groups[group].length === 0;
      section.querySelector(".count").textContent = `(${groups[group].length})`;
      groups[group].forEach((p, index) => {
        seen.add(p.id);
        const li = this.item(p, { host, shown: shownName(p), me: p.id === state.you, state });
        if (list.children[index] !== li) list.insertBefore(li, list.children[index] ?? null);
      });
      // Whatever is left after this group's people belongs elsewhere now.
      while (list.children.length > groups[group].length) list.lastElementChild.remove();
    }
    for (const id of this.items.keys()) if (!seen.has(id)) this.items.delete(id);
    if (this.menuFor && !seen.has(this.menuFor)) this.closeMenu(false);
    this.followMenu();
    this.root.querySelector("#people-count").textContent = String(state.inRoom ?? total);
    const line = this.foundText(state, found, total);
    const status = this.root.querySelector("#people-found");
    if (status.textContent !== line) status.textContent = line;
    const next = host ? this.nextHand() : undefined;
    const queue = this.root.querySelector("#hand-queue");
    queue.hidden = !next;
    if (next) {
      const name = shownName(next);
      this.root.querySelector("#next-hand-who").textContent = t("people.nextHand", { name });
      const button = this.root.querySelector("#next-hand");
      button.querySelector("span").textContent = t("people.nextHandInvite");
      button.setAttribute("aria-label", t("people.nextHandLabel", { name }));
    }
    this.renderAlone(state, shownName, host);
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
    if (focused) {
      const again = this.root.querySelector(`[data-key="${CSS.escape(focused)}"]`);
      if (again) again.focus();
      // "Go to" someone took us into their circle, and their row has no such button any
      // more: focus stays in the people list, on its search box.
      else if (focused.startsWith("person:") && (!document.activeElement || document.activeElement === document.body)) this.root.querySelector("#people-search")?.focus();
    }
  }

  // For hosts: who has been outside any circle for longer than the room's setting (the
  // server's `alone`, every few seconds), longest first, each with "go to" and "invite to
  // a conversation". Whoever is in a circle by now is left out at once.
  renderAlone(state, shownName, host) {
    const section = this.root.querySelector("#alone-list");
    const report = host ? state.alone : null;
    const now = Date.now();
    const people = (report?.people ?? [])
      .map((a) => ({ p: state.participants.get(a.id), minutes: Math.floor((a.for_s + (now - report.at) / 1000) / 60) }))
      .filter(({ p }) => p && p.circle == null && p.role !== "host" && !p.reconnecting && !state.broadcasters.includes(p.id));
    // An invitation is news for a minute; whoever is no longer alone is forgotten.
    for (const [id, at] of this.talkInvited) if (now - at > 60_000 || !people.some(({ p }) => p.id === id)) this.talkInvited.delete(id);
    section.hidden = people.length === 0;
    if (!report || people.length === 0) return;
    const after = Math.max(1, Math.round(report.after_s / 60));
    this.root.querySelector("#alone-title").textContent = t("people.alone.title", { minutes: after });
    // Whoever joined a circle since the report is left out; the report's count says the rest.
    const more = Math.max(0, (report.count ?? people.length) - report.people.length);
    section.querySelector(".count").textContent = `(${people.length + more})`;
    const list = section.querySelector("ol");
    const hadFocus = list.contains(document.activeElement) ? document.activeElement.dataset.key : null;
    // Rows are kept from report to report, and rebuilt only when what they say changed.
    this.aloneRows ??= new Map();
    const seen = new Set();
    people.forEach(({ p, minutes }, index) => {
      seen.add(p.id);
      const shown = shownName(p);
      const invited = this.talkInvited.has(p.id);
      const signature = JSON.stringify([shown, p.profile ?? "", minutes, invited, t("people.alone.goto")]);
      let row = this.aloneRows.get(p.id);
      if (!row || row.signature !== signature) {
        const li = row?.li ?? document.createElement("li");
        const status = [t("people.alone.for", { minutes }), invited ? t("people.alone.invited") : ""].filter(Boolean).join(", ");
        const [who] = this.personContent(p, { me: false, host: false, shown, status });
        const go = document.createElement("button");
        go.type = "button";
        go.dataset.key = `alone-go:${p.id}`;
        go.textContent = t("people.alone.goto");
        go.setAttribute("aria-label", t("room.goto", { name: shown }));
        const talk = document.createElement("button");
        talk.type = "button";
        talk.dataset.key = `alone-talk:${p.id}`;
        talk.textContent = t("people.alone.talk");
        talk.setAttribute("aria-label", t("people.alone.talkLabel", { name: shown }));
        const buttons = document.createElement("span");
        buttons.className = "alone-actions";
        buttons.append(go, talk);
        li.replaceChildren(who, buttons);
        row = { li, signature };
        this.aloneRows.set(p.id, row);
      }
      if (list.children[index] !== row.li) list.insertBefore(row.li, list.children[index] ?? null);
    });
    while (list.children.length > people.length) list.lastElementChild.remove();
    for (const id of this.aloneRows.keys()) if (!seen.has(id)) this.aloneRows.delete(id);
    // A rebuilt row takes the focus back that its button had.
    if (hadFocus && !list.contains(document.activeElement)) list.querySelector(`[data-key="${CSS.escape(hadFocus)}"]`)?.focus();
  }

  // One person's list item, kept from render to render and rebuilt only when what it
  // shows changed: buttons stay put under a pointer while the room changes around them.
  item(p, { host, shown, me, state }) {
    const status = [
      // Whom to ask (participants looked for the organiser, and an invitation names a host).
      p.role === "host" ? t("people.host") : "",
      p.hand && !state.broadcasters.includes(p.id) ? t("room.handRaised") : "",
      this.called.has(p.id) ? t("people.called") : "",
      p.reconnecting ? t("room.reconnecting") : "",
      p.mic ? "" : t("people.micOff"),
    ]
      .filter(Boolean)
      .join(", ")
      // One line, capitalised as a sentence ("Hand raised, microphone off").
      .replace(/^./, (c) => c.toUpperCase());
    // Someone in one's own circle is here already: no "go to".
    const near = !me && !!state.myCircle()?.members.includes(p.id);
    const signature = JSON.stringify([shown, p.profile ?? "", status, me, near, host, t("room.goto", { name: "" })]);
    let item = this.items.get(p.id);
    if (!item || item.signature !== signature) {
      const li = item?.li ?? document.createElement("li");
      li.replaceChildren(...this.personContent(p, { me, near, host, shown, status }));
      item = { li, signature };
      this.items.set(p.id, item);
    }
    return item.li;
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

// "people", "chat" or "host": the tab's id without its "tab-".
function tabName(tab) {
  return tab.id.slice("tab-".length);
}

