// The side panel: everyone and every circle as lists with "go to" buttons, the accessible
// way around the floor. Re-rendered only when people or circles change (not on moves),
// keeping keyboard focus on the same item.

import { t, listNames } from "./i18n.js";

export class Panel {
  constructor(root, { onGoToPerson, onGoToCircle }) {
    this.root = root;
    this.onGoToPerson = onGoToPerson;
    this.onGoToCircle = onGoToCircle;
    root.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-key]");
      if (!button) return;
      const [kind, id] = button.dataset.key.split(":");
      if (kind === "person") this.onGoToPerson(id);
      else this.onGoToCircle(Number(id));
    });
  }

  render(state) {
    const focused = document.activeElement?.dataset?.key;
    const people = [...state.participants.values()].sort((a, b) => a.name.localeCompare(b.name));
    const peopleList = this.root.querySelector("#people-list");
    peopleList.replaceChildren(
      ...people.map((p) => {
        const li = document.createElement("li");
        const me = p.id === state.you;
        const name = document.createElement("span");
        name.className = "person-name";
        name.textContent = me ? t("room.you", { name: p.name }) : p.name;
        const status = document.createElement("span");
        status.className = "person-status";
        status.textContent = [p.mic ? "" : `${t("room.mic")} ${t("room.off")}`].filter(Boolean).join(", ");
        li.append(name, status);
        if (!me) {
          const button = document.createElement("button");
          button.type = "button";
          button.dataset.key = `person:${p.id}`;
          button.textContent = t("room.goto", { name: p.name });
          li.append(button);
        }
        return li;
      }),
    );
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
    if (focused) this.root.querySelector(`[data-key="${CSS.escape(focused)}"]`)?.focus();
  }
}
