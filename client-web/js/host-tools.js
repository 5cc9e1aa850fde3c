// A host's tools in the side panel: the room's lock, areas (drawn on the floor or typed
// in), gathering everyone, the announcement, the floor plan (built in or their own), the
// icebreakers and the organiser summary. Everything goes to the server, which tells
// everyone (the host's page too) what changed.

import { messages, LIMITS } from "./protocol.js";
import { t } from "./i18n.js";

const $ = (selector) => document.querySelector(selector);

// The area form's fields for its place and size, and the message under them when an area
// would not lie on the floor (gone once one of them changes).
const AREA_PLACE = ["#area-x", "#area-y", "#area-w", "#area-h"];
const clearPlaceMessage = () => {
  $("#area-place-error").hidden = true;
  AREA_PLACE.forEach((field) => $(field).removeAttribute("aria-invalid"));
};

export class HostTools {
  // `token` is the host link's (the floor plan's upload carries it); `announce` says a
  // text to screen readers; `showTools` brings the panel's host tools into view.
  constructor({ slug, token, conn, state, areaEditor, summary, announce, showTools }) {
    this.slug = slug;
    this.token = token;
    this.conn = conn;
    this.state = state;
    this.areaEditor = areaEditor;
    this.summary = summary;
    this.announce = announce;
    this.showTools = showTools;
    // Icebreakers were saved and the server's word on them is awaited.
    this.saving = false;
  }

  setUp() {
    const { conn, state, areaEditor, summary, announce } = this;
    $("#room-lock-toggle").addEventListener("click", () => conn.send(messages.lockRoom(!state.locked)));
    $("#area-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const editing = Number($("#area-form").dataset.editing) || null;
      const max = $("#area-max").value.trim();
      const area = {
        id: editing ?? Math.max(0, ...state.areas.map((a) => a.id)) + 1,
        name: $("#area-name").value.trim(),
        x: Number($("#area-x").value),
        y: Number($("#area-y").value),
        width: Number($("#area-w").value),
        height: Number($("#area-h").value),
        stage: $("#area-stage").checked,
        quiet: $("#area-quiet").checked,
        ...(max ? { max_people: Number(max) } : {}),
      };
      // An area must lie on the floor: one that reaches past its edge is said so under the
      // fields, the one to change marked and focused, before the server would refuse it.
      const floor = state.room;
      const past =
        floor && area.x + area.width > floor.width
          ? ["#area-w", t("host.areaPastRight", { n: Math.floor(floor.width - area.x) })]
          : floor && area.y + area.height > floor.height
            ? ["#area-h", t("host.areaPastBottom", { n: Math.floor(floor.height - area.y) })]
            : null;
      if (past) {
        const message = $("#area-place-error");
        message.textContent = past[1];
        message.hidden = false;
        $(past[0]).setAttribute("aria-invalid", "true");
        $(past[0]).focus();
        return;
      }
      conn.send(messages.setAreas(editing ? state.areas.map((a) => (a.id === editing ? area : a)) : [...state.areas, area]));
      this.editArea(null);
    });
    // (A change to any of the place's numbers may be what makes the area fit: the message
    // goes, and the next "add" judges again.)
    for (const field of AREA_PLACE) $(field).addEventListener("input", clearPlaceMessage);
    $("#area-cancel").addEventListener("click", () => this.editArea(null));
    $("#area-draw").addEventListener("click", () => {
      areaEditor.setDrawing(!areaEditor.drawing);
      $("#area-draw").setAttribute("aria-pressed", String(areaEditor.drawing));
      if (areaEditor.drawing) announce(t("host.drawHint"));
    });
    $("#area-list").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-area]");
      if (!button) return;
      const id = Number(button.dataset.area);
      if (button.dataset.action === "edit") this.editArea(state.areas.find((a) => a.id === id));
      else conn.send(messages.setAreas(state.areas.filter((a) => a.id !== id)));
    });
    $("#summary-button").addEventListener("click", () => summary.open($("#summary-button")));
    $("#gather").addEventListener("click", () => {
      const me = state.me();
      if (me) conn.send(messages.gather(me.x, me.y));
    });
    $("#announce-form").addEventListener("submit", (event) => {
      event.preventDefault();
      conn.send(messages.announce($("#announce-text").value));
    });
    $("#announce-clear").addEventListener("click", () => {
      $("#announce-text").value = "";
      // The button turns disabled once the announcement is gone: the focus goes on.
      $("#announce-text").focus();
      conn.send(messages.announce(""));
    });
    $("#plan-select").addEventListener("change", () => {
      const value = $("#plan-select").value;
      if (value === "own") return;
      conn.send(messages.setFloorPlan(value || null));
    });
    $("#plan-file-choose").addEventListener("click", () => $("#plan-file").click());
    $("#plan-file").addEventListener("change", () => this.uploadPlan($("#plan-file").files[0]));
    $("#icebreaker-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.saveIcebreakers();
    });
    $("#icebreaker-prompts").addEventListener("input", () => $("#icebreaker-prompts").removeAttribute("aria-invalid"));
  }

  // A host's own floor plan (PNG, JPEG or SVG up to 5 MB), sent with the host link's token;
  // everyone in the room gets it from the server.
  async uploadPlan(file) {
    if (!file) return;
    const status = $("#plan-status");
    status.textContent = t("host.planUploading", { name: file.name });
    try {
      const response = await fetch(`/r/${encodeURIComponent(this.slug)}/floor-plan`, {
        method: "PUT",
        headers: { Authorization: `Bearer ${this.token}`, "Content-Type": file.type || "application/octet-stream" },
        body: file,
      });
      const reasons = { 413: "host.planTooLarge", 415: "host.planWrongType", 422: "host.planWrongType", 401: "error.forbidden", 403: "error.forbidden" };
      status.textContent = t(response.ok ? "host.planUploaded" : (reasons[response.status] ?? "host.planRefused"));
    } catch {
      status.textContent = t("host.planRefused");
    }
    $("#plan-file").value = "";
  }

  // A host saves the room's icebreakers: their own prompts, one a line (blank lines left
  // out), checked here as the server checks them.
  saveIcebreakers() {
    const lines = $("#icebreaker-prompts").value.split("\n");
    const prompts = lines.map((line) => line.trim()).filter(Boolean);
    const long = lines.findIndex((line) => [...line.trim()].length > LIMITS.maxIcebreakerChars);
    if (prompts.length > LIMITS.maxIcebreakers) return this.icebreakerStatus(t("host.icebreakerTooMany"), true);
    if (long >= 0) return this.icebreakerStatus(t("host.icebreakerTooLong", { line: long + 1 }), true);
    this.saving = true;
    this.icebreakerStatus("", false);
    this.conn.send(messages.setIcebreakers($("#icebreakers-on").checked, prompts));
  }

  // What came of saving, at the form: an error marks the prompts invalid and takes the focus
  // there.
  icebreakerStatus(text, error) {
    const status = $("#icebreaker-status");
    status.textContent = text;
    status.classList.toggle("error", error);
    if (error) {
      this.saving = false;
      $("#icebreaker-prompts").setAttribute("aria-invalid", "true");
      $("#icebreaker-prompts").focus();
    } else $("#icebreaker-prompts").removeAttribute("aria-invalid");
  }

  // The room's icebreaker settings in the host's form (not over what the host is typing,
  // unless it is what they just saved).
  showIcebreakerSettings() {
    const settings = this.state.icebreakers;
    if (!settings) return;
    const typing = document.activeElement === $("#icebreaker-prompts") && $("#icebreaker-prompts").value.trim() !== settings.prompts.join("\n");
    if (this.saving || !typing) {
      $("#icebreakers-on").checked = settings.on;
      $("#icebreaker-prompts").value = settings.prompts.join("\n");
    }
    if (this.saving) this.icebreakerStatus(t(settings.on ? "host.icebreakerSaved" : "host.icebreakerSavedOff"), false);
    this.saving = false;
  }

  // The host's list of areas, each with an edit and a remove button; and what the numbers
  // of the area form mean: the floor's size, which bounds them.
  renderAreaList() {
    $("#area-draw").setAttribute("aria-pressed", String(this.areaEditor.drawing));
    const floor = this.state.room;
    if (floor) {
      const [width, height] = [Math.round(floor.width), Math.round(floor.height)];
      $("#area-place").textContent = t("host.areaPlace", { width, height });
      for (const [input, most] of [["#area-x", width - 10], ["#area-y", height - 10], ["#area-w", width], ["#area-h", height]]) $(input).max = String(most);
    }
    $("#area-list").replaceChildren(
      ...this.state.areas.map((area) => {
        const li = document.createElement("li");
        const name = document.createElement("span");
        name.className = "person-name";
        name.textContent = area.name;
        const button = (action, text, label) => {
          const b = document.createElement("button");
          b.type = "button";
          // Changing is quiet; removing, which cannot be undone, in the danger colour.
          b.className = action === "remove" ? "remove" : "quiet";
          b.dataset.area = String(area.id);
          b.dataset.action = action;
          b.textContent = text;
          b.setAttribute("aria-label", label);
          return b;
        };
        li.append(
          name,
          button("edit", t("host.change"), t("host.editArea", { name: area.name })),
          button("remove", t("host.remove.short"), t("host.removeArea", { name: area.name })),
        );
        return li;
      }),
    );
  }

  // Fills the area form with `area` to change it (or, with `id` null, to add it), or empties
  // it (`null`): the keyboard path, and where a drawn rectangle is named.
  editArea(area) {
    const form = $("#area-form");
    form.dataset.editing = area?.id ? String(area.id) : "";
    clearPlaceMessage();
    $("#area-name").value = area?.name ?? "";
    $("#area-x").value = String(area?.x ?? 0);
    $("#area-y").value = String(area?.y ?? 0);
    $("#area-w").value = String(area?.width ?? 400);
    $("#area-h").value = String(area?.height ?? 300);
    $("#area-quiet").checked = !!area?.quiet;
    $("#area-stage").checked = !!area?.stage;
    $("#area-max").value = area?.max_people ? String(area.max_people) : "";
    $("#area-submit").textContent = t(area?.id ? "host.saveArea" : "host.addArea");
    $("#area-cancel").hidden = !area;
    if (area) {
      this.showTools();
      $("#area-name").focus();
    }
  }
}
