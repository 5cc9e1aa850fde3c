// A host's areas on the floor, edited by hand: draw a new one by dragging on the floor
// (in drawing mode), move one by dragging it, resize it by any of its four corner handles
// (the opposite corner stays where it is). Every change
// goes to the server as the room's new list of areas (`set_areas`), live for everyone. The
// keyboard path is the form in the host tools, which this fills with a drawn rectangle.
// A press that does not move is still a click: it walks there, as on any floor.

import { t } from "./i18n.js";

// Floor units a pointer must move before a press becomes a drag.
const DRAG_PX = 4;
// The smallest area the server accepts, in floor units.
const MIN_SIZE = 10;

export class AreaEditor {
  // floor: the Floor; onChange(areas): the new list to send; onDrawn(rect): a rectangle
  // drawn in drawing mode (floor units), to be named in the form.
  constructor(floor, { onChange, onDrawn }) {
    this.floor = floor;
    this.onChange = onChange;
    this.onDrawn = onDrawn;
    this.enabled = false;
    this.drawing = false;
    this.drag = null;
    const surface = floor.surface;
    surface.addEventListener("pointerdown", (event) => this.down(event));
    surface.addEventListener("pointermove", (event) => this.move(event));
    surface.addEventListener("pointerup", (event) => this.up(event));
    surface.addEventListener("pointercancel", () => this.cancel());
    // A drag ends with a click on whatever is under the pointer: not a walk.
    surface.addEventListener(
      "click",
      (event) => {
        if (this.swallowClick) {
          this.swallowClick = false;
          event.stopImmediatePropagation();
        }
      },
      true,
    );
  }

  // Hosts edit; everyone else sees areas as they are.
  setEnabled(enabled) {
    this.enabled = enabled;
    this.floor.surface.classList.toggle("areas-editable", enabled);
    if (!enabled) this.setDrawing(false);
  }

  setDrawing(on) {
    this.drawing = on && this.enabled;
    this.floor.surface.classList.toggle("drawing", this.drawing);
  }

  // Called by the floor for every area it draws: a host gets a resize handle at each corner.
  decorate(el, area) {
    el.dataset.area = String(area.id);
    if (!this.enabled) return;
    for (const corner of ["nw", "ne", "sw", "se"]) {
      const handle = document.createElement("span");
      handle.className = `area-handle ${corner}`;
      handle.dataset.corner = corner;
      handle.title = t("host.resizeArea", { name: area.name });
      el.append(handle);
    }
  }

  areas() {
    return this.floor.state?.areas ?? [];
  }

  down(event) {
    if (!this.enabled || event.button !== 0) return;
    const point = this.floor.toFloor(event.clientX, event.clientY);
    const areaEl = event.target.closest(".area");
    let kind = null;
    let area = null;
    if (this.drawing) kind = "draw";
    else if (areaEl && !event.target.closest(".avatar")) {
      area = this.areas().find((a) => String(a.id) === areaEl.dataset.area);
      if (area) kind = event.target.closest(".area-handle") ? "resize" : "move";
    }
    if (!kind) return;
    const corner = event.target.closest(".area-handle")?.dataset.corner ?? "se";
    this.drag = { kind, area, corner, start: point, startX: event.clientX, startY: event.clientY, moved: false, el: areaEl, id: event.pointerId };
    if (kind !== "move") event.preventDefault();
  }

  move(event) {
    const d = this.drag;
    if (!d || event.pointerId !== d.id) return;
    if (!d.moved && Math.hypot(event.clientX - d.startX, event.clientY - d.startY) < DRAG_PX) return;
    if (!d.moved) {
      d.moved = true;
      this.floor.surface.setPointerCapture?.(event.pointerId);
      if (d.kind === "draw") {
        d.el = document.createElement("div");
        d.el.className = "area drawn-area";
        this.floor.surface.append(d.el);
      }
    }
    const rect = this.rectFor(d, this.floor.toFloor(event.clientX, event.clientY));
    d.rect = rect;
    const s = this.floor.scale;
    Object.assign(d.el.style, { left: `${rect.x * s}px`, top: `${rect.y * s}px`, width: `${rect.width * s}px`, height: `${rect.height * s}px` });
  }

  up(event) {
    const d = this.drag;
    if (!d || event.pointerId !== d.id) return;
    this.drag = null;
    if (!d.moved || !d.rect) return;
    // The click that ends a mouse drag is not a walk; a touch drag has none, so the flag
    // goes right after, not with the next tap.
    this.swallowClick = true;
    setTimeout(() => (this.swallowClick = false), 0);
    if (d.kind === "draw") {
      d.el.remove();
      this.setDrawing(false);
      this.onDrawn(d.rect);
      return;
    }
    this.onChange(this.areas().map((a) => (a.id === d.area.id ? { ...a, ...d.rect } : a)));
  }

  cancel() {
    if (this.drag?.kind === "draw") this.drag.el?.remove?.();
    this.drag = null;
    this.floor.renderAreas();
  }

  // The rectangle a drag makes now, whole floor units, inside the floor.
  rectFor(d, point) {
    const { width: W, height: H } = this.floor.state.room;
    const clamp = (v, lo, hi) => Math.max(lo, Math.min(hi, v));
    let x;
    let y;
    let width;
    let height;
    if (d.kind === "draw") {
      const a = { x: clamp(d.start.x, 0, W), y: clamp(d.start.y, 0, H) };
      const b = { x: clamp(point.x, 0, W), y: clamp(point.y, 0, H) };
      x = Math.min(a.x, b.x);
      y = Math.min(a.y, b.y);
      width = Math.max(MIN_SIZE, Math.abs(b.x - a.x));
      height = Math.max(MIN_SIZE, Math.abs(b.y - a.y));
    } else if (d.kind === "move") {
      width = d.area.width;
      height = d.area.height;
      x = clamp(d.area.x + point.x - d.start.x, 0, W - width);
      y = clamp(d.area.y + point.y - d.start.y, 0, H - height);
    } else {
      // The dragged corner follows the pointer, never closer than MIN_SIZE to the opposite
      // corner, which stays.
      const west = d.corner.includes("w");
      const north = d.corner.includes("n");
      const right = d.area.x + d.area.width;
      const bottom = d.area.y + d.area.height;
      const dx = point.x - d.start.x;
      const dy = point.y - d.start.y;
      if (west) {
        x = clamp(d.area.x + dx, 0, right - MIN_SIZE);
        width = right - x;
      } else {
        x = d.area.x;
        width = clamp(d.area.width + dx, MIN_SIZE, W - x);
      }
      if (north) {
        y = clamp(d.area.y + dy, 0, bottom - MIN_SIZE);
        height = bottom - y;
      } else {
        y = d.area.y;
        height = clamp(d.area.height + dy, MIN_SIZE, H - y);
      }
    }
    const r = (v) => Math.round(v);
    return { x: r(x), y: r(y), width: r(Math.min(width, W - r(x))), height: r(Math.min(height, H - r(y))) };
  }
}
