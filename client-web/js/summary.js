// The organiser summary, for hosts: aggregate figures of the room's day (the server's
// `summary`), as numbers, a small chart of people and people in circles over time (drawn
// here as SVG, with a table as its text alternative) and a CSV file made in the page (a
// Blob: no request, nothing the host does not already see). Times in the reader's locale.
// While the dialog is open it asks the server again every few seconds.

import { t, lang } from "./i18n.js";

const NS = "http://www.w3.org/2000/svg";

// How often an open summary asks for fresh figures.
export const REFRESH_MS = 5000;

// The chart's drawing box (the SVG scales it to the dialog's width).
const W = 640;
const H = 240;
const PAD = { left: 44, right: 14, top: 14, bottom: 30 };

// The share of people who came that were in at least one circle, in whole percent; null
// before anyone came.
export function sharePercent(circled, arrived) {
  if (!arrived) return null;
  return Math.round((100 * Math.min(circled, arrived)) / arrived);
}

// The reader's locale for dates and numbers: the browser's own when it is of the page's
// language (en-GB writes 13:05, en-US 1:05 PM), else the page's language.
export function locale(language = lang()) {
  const own = (globalThis.navigator?.languages ?? []).find((l) => l.split("-")[0] === language);
  return own ?? language;
}

// Times of day in the reader's locale, with seconds when the chart's points are less than
// a minute apart.
export function timeFormat(summary) {
  // The locale's own style (German "02:05", English "2:05 AM"), as the day's start is shown.
  return new Intl.DateTimeFormat(locale(), { timeStyle: summary.every_s < 60 ? "medium" : "short" });
}

// A duration in seconds as people say it: "45 s", "7 min", "1 h 5 min".
export function formatDuration(seconds) {
  if (seconds == null) return "–";
  if (seconds < 60) return t("summary.seconds", { n: Math.round(seconds) });
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return t("summary.minutes", { n: minutes });
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return m ? t("summary.hoursMinutes", { h, m }) : t("summary.hours", { h });
}

// The chart's points: the samples and, last, the figures as of now (so that the chart
// reaches the present).
export function series(summary) {
  const points = summary.samples.map((s) => ({ at: s.at, participants: s.participants, in_circles: s.in_circles }));
  const last = points[points.length - 1];
  if (!last || summary.at > last.at) points.push({ at: summary.at, participants: summary.participants, in_circles: summary.in_circles });
  return points;
}

// A round top for the y axis, at least 4: 4, 5, 10, 20, 25, 50, 100, …
export function niceMax(value) {
  const v = Math.max(4, value);
  const step = 10 ** Math.floor(Math.log10(v));
  for (const k of [1, 2, 2.5, 4, 5, 10]) if (k * step >= v) return k * step;
  return 10 * step;
}

// Where each point goes in the chart's box (pure: tested under Node).
export function chartGeometry(points, width = W, height = H, pad = PAD) {
  const top = niceMax(Math.max(0, ...points.map((p) => p.participants)));
  const t0 = points.length ? points[0].at : 0;
  const t1 = points.length ? points[points.length - 1].at : 1;
  const span = Math.max(1, t1 - t0);
  const x = (at) => pad.left + ((at - t0) / span) * (width - pad.left - pad.right);
  const y = (n) => height - pad.bottom - (n / top) * (height - pad.top - pad.bottom);
  return {
    top,
    people: points.map((p) => [x(p.at), y(p.participants)]),
    circles: points.map((p) => [x(p.at), y(p.in_circles)]),
    baseline: y(0),
    x,
    y,
  };
}

// Local ISO 8601 with the reader's offset ("2026-12-02T14:05:00+01:00"): unambiguous for
// a spreadsheet, and the reader's own clock.
export function localIso(ms) {
  const d = new Date(ms);
  const two = (n) => String(Math.floor(Math.abs(n))).padStart(2, "0");
  const offset = -d.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}T${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}${sign}${two(offset / 60)}:${two(offset % 60)}`;
}

// One CSV cell: quoted when it must be; a text a spreadsheet would run as a formula gets
// a leading apostrophe.
function cell(value, sep) {
  let text = String(value ?? "");
  if (/^[=+\-@\t\r]/.test(text) && Number.isNaN(Number(text))) text = `'${text}`;
  return text.includes(sep) || /["\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

// The summary as CSV in the reader's language: the figures, a blank line, then the chart's
// points. German uses ";" (what a German spreadsheet expects), English ",".
export function summaryCsv(summary, room, language = lang()) {
  const sep = language === "de" ? ";" : ",";
  const row = (...cells) => cells.map((c) => cell(c, sep)).join(sep);
  const share = sharePercent(summary.circled, summary.arrived);
  const lines = [
    row(t("summary.csv.figure"), t("summary.csv.value")),
    row(t("summary.csv.room"), room),
    row(t("summary.csv.since"), localIso(summary.since)),
    row(t("summary.csv.at"), localIso(summary.at)),
    row(t("summary.now"), summary.participants),
    row(t("summary.peak"), summary.peak),
    row(t("summary.csv.peakAt"), localIso(summary.peak_at)),
    row(t("summary.inCircles"), summary.in_circles),
    row(t("summary.csv.circlesOpen"), summary.circles),
    row(t("summary.arrived"), summary.arrived),
    row(t("summary.csv.circled"), summary.circled),
    row(t("summary.csv.share"), share ?? ""),
    row(t("summary.formed"), summary.circles_formed),
    row(t("summary.medianSize"), summary.median_circle_size ?? ""),
    row(t("summary.csv.medianSeconds"), summary.median_circle_s ?? ""),
    row(t("summary.csv.every"), summary.every_s),
    "",
    row(t("summary.csv.time"), t("summary.legend.people"), t("summary.legend.circles")),
    ...series(summary).map((p) => row(localIso(p.at), p.participants, p.in_circles)),
  ];
  return "\uFEFF" + lines.join("\r\n") + "\r\n";
}

// The file's name: the room and the day ("hallway-summary-lobby-2026-12-02.csv").
export function csvName(room, at) {
  return `hallway-summary-${room}-${localIso(at).slice(0, 10)}.csv`;
}

function svg(name, attrs = {}) {
  const el = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

export class SummaryView {
  // dialog: the <dialog>; ask(): sends `summary`; room(): the room's slug.
  constructor(dialog, { ask, room }) {
    this.dialog = dialog;
    this.ask = ask;
    this.room = room;
    this.timer = null;
    this.last = null;
    this.$ = (sel) => dialog.querySelector(sel);
    this.$("[data-summary-csv]").addEventListener("click", () => this.download());
    // A window resized (or zoomed) while open: the chart is drawn again at its new size.
    this.redraw = () => this.render();
    dialog.addEventListener("close", () => {
      removeEventListener("resize", this.redraw);
      clearInterval(this.timer);
      this.timer = null;
      this.back?.focus?.();
    });
  }

  open(back) {
    if (this.dialog.open) return;
    this.back = back ?? document.activeElement;
    this.$("[data-summary-status]").textContent = this.last ? "" : t("summary.loading");
    this.dialog.showModal();
    // It opens at its heading.
    this.$("#summary-heading").focus();
    addEventListener("resize", this.redraw);
    // Drawn at once with the last figures (at the dialog's size), then fresh ones come.
    this.render();
    this.ask();
    this.timer = setInterval(() => this.ask(), REFRESH_MS);
  }

  // Fresh figures from the server (also when the language changed: again with the last).
  render(summary = this.last) {
    if (!summary) return;
    this.last = summary;
    const time = timeFormat(summary);
    const day = new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeStyle: "short" });
    const number = new Intl.NumberFormat(locale());
    const share = sharePercent(summary.circled, summary.arrived);
    this.$("[data-summary-status]").textContent = "";
    this.$("[data-summary-since]").textContent = t("summary.since", { since: day.format(summary.since), at: time.format(summary.at) });
    const figures = {
      now: number.format(summary.participants),
      peak: number.format(summary.peak),
      peakAt: t("summary.peakAt", { time: time.format(summary.peak_at) }),
      inCircles: number.format(summary.in_circles),
      inCirclesNote: t("summary.inCirclesNote", { n: summary.circles }),
      formed: number.format(summary.circles_formed),
      medianSize: summary.median_circle_size == null ? "–" : number.format(summary.median_circle_size),
      medianDuration: formatDuration(summary.median_circle_s),
      share: share == null ? "–" : new Intl.NumberFormat(locale(), { style: "percent" }).format(share / 100),
      shareNote: t("summary.shareNote", { circled: number.format(summary.circled), arrived: number.format(summary.arrived) }),
    };
    for (const el of this.dialog.querySelectorAll("[data-figure]")) el.textContent = figures[el.dataset.figure] ?? "";
    this.drawChart(summary, time);
    this.fillTable(summary);
  }

  drawChart(summary, time) {
    const chart = this.$("[data-summary-chart]");
    const points = series(summary);
    // Drawn at the size it is shown, so that its numbers keep their size on a phone.
    const width = Math.max(240, Math.round(chart.getBoundingClientRect().width) || W);
    const height = width < 480 ? 180 : H;
    const g = chartGeometry(points, width, height);
    chart.replaceChildren();
    chart.setAttribute("viewBox", `0 0 ${width} ${height}`);
    const title = svg("title", { id: "summary-chart-title" });
    title.textContent = t("summary.chartTitle");
    const desc = svg("desc", { id: "summary-chart-desc" });
    const first = points[0];
    const last = points[points.length - 1];
    desc.textContent = t("summary.chartDesc", {
      from: time.format(first.at),
      to: time.format(last.at),
      peak: Math.max(...points.map((p) => p.participants)),
      now: last.participants,
      circles: last.in_circles,
    });
    chart.append(title, desc);
    // Grid lines and the y axis' numbers: 0, half, top.
    for (const n of [0, g.top / 2, g.top]) {
      chart.append(svg("line", { x1: PAD.left, x2: width - PAD.right, y1: g.y(n), y2: g.y(n), class: "grid" }));
      const label = svg("text", { x: PAD.left - 6, y: g.y(n) + 4, "text-anchor": "end", class: "axis" });
      label.textContent = String(n);
      chart.append(label);
    }
    // The x axis' times: first, middle (if there is room), last.
    const ticks = points.length > 1 ? [first.at, (first.at + last.at) / 2, last.at] : [first.at];
    ticks.forEach((at, i) => {
      const anchor = ticks.length === 1 ? "start" : ["start", "middle", "end"][i];
      const label = svg("text", { x: g.x(at), y: height - 8, "text-anchor": anchor, class: "axis" });
      label.textContent = time.format(at);
      chart.append(label);
    });
    const line = (pts) => pts.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(" ");
    if (points.length > 1) {
      const area = `${g.circles[0][0].toFixed(1)},${g.baseline} ${line(g.circles)} ${g.circles[g.circles.length - 1][0].toFixed(1)},${g.baseline}`;
      chart.append(svg("polygon", { points: area, class: "circles-area" }));
      chart.append(svg("polyline", { points: line(g.circles), class: "circles-line" }));
      chart.append(svg("polyline", { points: line(g.people), class: "people-line" }));
    } else {
      chart.append(svg("circle", { cx: g.people[0][0], cy: g.people[0][1], r: 4, class: "people-dot" }));
    }
  }

  fillTable(summary) {
    const body = this.$("[data-summary-table] tbody");
    const time = timeFormat(summary);
    const rows = series(summary).map((p) => {
      const tr = document.createElement("tr");
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = time.format(p.at);
      const a = document.createElement("td");
      a.textContent = String(p.participants);
      const b = document.createElement("td");
      b.textContent = String(p.in_circles);
      tr.append(th, a, b);
      return tr;
    });
    body.replaceChildren(...rows);
  }

  download() {
    if (!this.last) return;
    const blob = new Blob([summaryCsv(this.last, this.room())], { type: "text/csv;charset=utf-8" });
    const url = URL.createObjectURL(blob);
    const a = document.createElement("a");
    a.href = url;
    a.download = csvName(this.room(), this.last.at);
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
    this.$("[data-summary-status]").textContent = t("summary.downloaded");
  }
}
