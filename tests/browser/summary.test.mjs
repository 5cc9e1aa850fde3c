// The organiser summary (real Chromium, real server taking a chart point every second): a
// host opens "Summary of the day" from the host tools and sees the room's figures, a chart
// of people and people in circles over time with its table, updated while open; downloads
// it as CSV (no names in it); closes it with Escape and is back on the button. A
// participant who asks gets `forbidden` and has no such button. Layout by bounding boxes
// on a laptop and a phone in both languages and at 200% zoom; axe-core; screenshots.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { readFileSync } from "node:fs";
import { startServer, person, crowd, mintLink, boxes, overlapping, axe, screenshotDir, DEADLINE } from "./harness.mjs";

const dir = screenshotDir();

let server;
let hanna;
let paula;
let people;

const NAMES = ["Ben Okafor", "Clara Meyer", "Dana Weiß", "Emil Novak", "Frieda Roth", "Gül Aksoy", "Hugo Brandt", "Ida Lange"];

before(async () => {
  server = await startServer({ HALLWAY_SUMMARY_EVERY: "1" });
  hanna = await person(server, "Hanna Host", { link: mintLink(server, ["--room", "lobby", "--role", "host"]), camera: false });
  paula = await person(server, "Paula Teilnehmerin", { lang: "de", camera: false });
  // Arrivals in waves, circles forming and one ending: something for the chart to show.
  people = await crowd(server, [
    { name: NAMES[0], x: 400, y: 400 },
    { name: NAMES[1], x: 440, y: 400 },
    { name: NAMES[2], x: 1400, y: 1000 },
    { name: NAMES[3], x: 1440, y: 1000 },
  ]);
  await new Promise((resolve) => setTimeout(resolve, 2500));
  const more = await crowd(server, [
    { name: NAMES[4], x: 1440, y: 1040 },
    { name: NAMES[5], x: 2000, y: 300 },
    { name: NAMES[6], x: 2040, y: 300 },
    { name: NAMES[7], x: 300, y: 1400 },
  ]);
  people.more = more;
  await new Promise((resolve) => setTimeout(resolve, 2500));
  // Ben walks away from Clara: their circle ends.
  await people.send(0, { type: "move", x: 900, y: 1300 });
  await new Promise((resolve) => setTimeout(resolve, 1500));
});

after(async () => {
  await people?.more?.close();
  await people?.close();
  for (const p of [paula, hanna]) await p?.close();
  await server?.stop();
});

// Opens the host tools (and on a phone the panel first), then the summary; resolves once
// the figures are in.
async function openSummary(page) {
  if (await page.$eval(".room", (room) => room.classList.contains("panel-closed"))) await page.click("#panel-toggle");
  await page.click("#tab-host");
  await page.waitForSelector("#host-tools", { state: "visible", timeout: DEADLINE });
  // No tool's words run past its button (German ones are long: "Bereich auf der
  // Raumfläche zeichnen" did, in a desktop's panel).
  const overrun = await page.$$eval("#host-tools button", (list) => list.filter((b) => b.offsetParent && b.scrollWidth > b.clientWidth + 1).map((b) => b.textContent.trim()));
  assert.deepEqual(overrun, [], "host tools' buttons hold their words");
  await page.locator("#summary-button").scrollIntoViewIfNeeded();
  await page.click("#summary-button");
  await page.waitForSelector("#summary[open]", { timeout: DEADLINE });
  await page.waitForFunction(() => document.querySelector('#summary [data-figure="now"]').textContent !== "", null, { timeout: DEADLINE });
}

// The contrast of `selector`'s first element: its colour (an SVG text's fill) against the
// nearest opaque background.
function contrastOf(page, selector) {
  return page.$eval(selector, (el) => {
    const rgb = (css) => (css.match(/[\d.]+/g) ?? [0, 0, 0, 0]).map(Number);
    const luminance = ([r, g, b]) => {
      const lin = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
      return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
    };
    const style = getComputedStyle(el);
    const paint = el instanceof SVGElement ? style.fill : style.color;
    if (!/\d/.test(paint)) return `${paint} (not a colour)`;
    const fore = rgb(paint);
    let back = null;
    for (let box = el; box && !back; box = box.parentElement) {
      const c = rgb(getComputedStyle(box).backgroundColor);
      if (c.length === 3 || c[3] === 1) back = c;
    }
    const [hi, lo] = [luminance(fore), luminance(back ?? [255, 255, 255])].sort((a, b) => b - a);
    return (hi + 0.05) / (lo + 0.05);
  });
}

// axe-core on the dialog, with the table closed, then on the opened table without its
// contrast rule. axe-core leaves short numbers (the chart's axis, the table's cells) and
// SVG text inside an image for review ("shortTextContent", "imgNode"), and re-judges every
// one scrolled out of view, which for a table of hundreds of points takes minutes: their
// contrast is judged here instead (they share one style each), at least 4.5:1. Anything
// else left for review fails.
async function axeSummary(page) {
  const table = page.locator(".summary-table");
  const wasOpen = (await table.getAttribute("open")) !== null;
  if (wasOpen) await page.click(".summary-table summary");
  const found = await axe(page, "#summary");
  const review = found.contrastReview.filter((entry) => !/(shortTextContent|imgNode)/.test(entry) || /(elmPartiallyObscured|bgImage|bgGradient)/.test(entry));
  await page.click(".summary-table summary");
  const inTable = await page.evaluate(async () => {
    const r = await window.axe.run(document.querySelector(".summary-table"), { rules: { "color-contrast": { enabled: false } }, resultTypes: ["violations"] });
    return r.violations.map((v) => `${v.id}: ${v.help}`);
  });
  for (const selector of [".summary-chart .axis", "[data-summary-table] tbody td", "[data-summary-table] tbody th", "[data-summary-table] thead th", "[data-summary-table] caption"]) {
    const ratio = await contrastOf(page, selector);
    if (!(ratio >= 4.5)) review.push(`${selector}: contrast ${typeof ratio === "number" ? ratio.toFixed(2) : ratio}`);
  }
  if (!wasOpen) await page.click(".summary-table summary");
  return { violations: [...found.violations, ...inTable], contrastReview: review };
}

// Everything in the dialog is inside it and on screen; the figures and the chart do not
// overlap; no figure's text is cut off.
async function checkLayout(page, width, label) {
  // (The dialog is in the top layer: boxes() leaves out what has no offset parent.)
  const dialog = await page.$eval("#summary", (el) => {
    const r = el.getBoundingClientRect();
    return { left: r.left, top: r.top, width: r.width, height: r.height };
  });
  assert.ok(dialog.left >= 0 && dialog.left + dialog.width <= width + 0.5, `${label}: the dialog is on screen (${JSON.stringify(dialog)})`);
  // "Download as CSV" and "Close" are in view and uncovered wherever the dialog is
  // scrolled to (an opened table pushed them out of view).
  const actions = await page.$$eval("#summary .actions button", (list) =>
    list.map((b) => {
      const r = b.getBoundingClientRect();
      const d = b.closest("dialog").getBoundingClientRect();
      const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      return { text: b.textContent, inside: r.top >= d.top - 0.5 && r.bottom <= Math.min(d.bottom, innerHeight) + 0.5 && r.width > 0, uncovered: b.contains(hit) };
    }),
  );
  assert.equal(actions.length, 2);
  for (const a of actions) assert.ok(a.inside && a.uncovered, `${label}: "${a.text}" in view: ${JSON.stringify(a)}`);
  // Their row stands at the dialog's very foot while there is more below: nothing scrolled
  // by shows under it.
  const foot = await page.$eval("#summary", (d) => ({ more: d.scrollTop + d.clientHeight < d.scrollHeight - 1, gap: d.getBoundingClientRect().bottom - d.querySelector(".actions").getBoundingClientRect().bottom }));
  if (label.startsWith("200%")) assert.ok(foot.more, `${label}: more below (the dialog scrolls)`);
  if (foot.more) assert.ok(Math.abs(foot.gap) <= 1, `${label}: the buttons' row at the dialog's foot: ${JSON.stringify(foot)}`);
  const figures = await boxes(page, ".summary-figures > div");
  assert.equal(figures.length, 7, `${label}: seven figures`);
  for (const f of figures) assert.ok(f.left >= dialog.left - 0.5 && f.left + f.width <= dialog.left + dialog.width + 0.5, `${label}: ${f.text} inside the dialog`);
  const [chart] = await boxes(page, ".summary-chart svg");
  const [legend] = await boxes(page, ".summary-legend");
  const buttons = await boxes(page, "#summary .row button");
  // (The buttons stand in the foot, over what scrolls by under it: they are checked above
  // to be uncovered, and here not to cover each other.)
  assert.deepEqual(overlapping([...figures, { ...chart, text: "chart" }, { ...legend, text: "legend" }]), [], `${label}: nothing over anything`);
  assert.deepEqual(overlapping(buttons), [], `${label}: no button over another`);
  assert.ok(chart.width > 200 && chart.left + chart.width <= dialog.left + dialog.width + 0.5, `${label}: the chart fits the dialog`);
  const clipped = await page.$$eval("#summary dt, #summary dd, #summary button", (els) => els.filter((el) => el.scrollWidth > el.clientWidth + 1).map((el) => el.textContent));
  assert.deepEqual(clipped, [], `${label}: no text cut off`);
  // The buttons side by side or stacked, each whole.
  for (const b of buttons) assert.ok(b.left >= dialog.left - 0.5 && b.left + b.width <= dialog.left + dialog.width + 0.5, `${label}: ${b.text} inside`);
}

test("the host sees the day's figures and a chart of people and people in circles", async () => {
  const page = hanna.page;
  // (The first visit's hint lies under the dialog's first figure: axe, which does not model
  // the top layer a modal dialog is drawn in, takes it for lying over the text.)
  if (await page.isVisible("#floor-hint-close")) await page.click("#floor-hint-close");
  await openSummary(page);
  // Ten people (Hanna, Paula and eight); three circles formed (Frieda joined one, Ben and
  // Clara's ended); seven were in one.
  await page.waitForFunction(() => window.hallway.state.summary?.circles_formed === 3 && window.hallway.state.summary?.participants === 10, null, { timeout: DEADLINE });
  assert.equal(await page.evaluate(() => document.activeElement?.id), "summary-heading", "the dialog opens at its heading");
  const text = (figure) => page.textContent(`#summary [data-figure="${figure}"]`);
  assert.equal(await text("now"), "10");
  assert.equal(await text("peak"), "10");
  assert.equal(await text("formed"), "3");
  assert.equal(await text("inCircles"), "5");
  assert.equal(await text("inCirclesNote"), "in 2 circles");
  assert.equal(await text("share"), "70%");
  assert.equal(await text("shareNote"), "7 of 10 who came");
  assert.equal(await text("medianSize"), "2");
  assert.match(await text("medianDuration"), /^\d+ s$/);
  assert.match(await page.textContent("#summary-since"), /^Since .+ · as of \d?\d:\d\d(:\d\d)?$/);
  // The chart: two lines drawn here, described for screen readers, and its table.
  await page.waitForFunction(() => window.hallway.state.summary.samples.length >= 4, null, { timeout: DEADLINE });
  await page.waitForFunction(() => document.querySelector(".summary-chart .people-line")?.getAttribute("points").split(" ").length >= 5, null, { timeout: DEADLINE });
  const chart = await page.$eval(".summary-chart svg", (svg) => ({ role: svg.getAttribute("role"), title: svg.querySelector("title").textContent, desc: svg.querySelector("desc").textContent, lines: svg.querySelectorAll("polyline").length }));
  assert.equal(chart.role, "img");
  assert.equal(chart.title, "People and people in circles over time");
  assert.match(chart.desc, /^From \d?\d:\d\d(:\d\d)? to \d?\d:\d\d(:\d\d)?: at most 10 people at once; now 10, of them 5 in circles\.$/);
  assert.equal(chart.lines, 2);
  const rows = await page.$$eval("[data-summary-table] tbody tr", (trs) => trs.length);
  const points = await page.evaluate(() => window.hallway.state.summary.samples.length);
  assert.ok(rows === points || rows === points + 1, `a row per point (${rows}, ${points})`);
  // It asks again while open.
  const asked = hanna.sent.filter((m) => m.type === "summary").length;
  await new Promise((resolve) => setTimeout(resolve, 5500));
  assert.ok(hanna.sent.filter((m) => m.type === "summary").length > asked, "refreshed while open");
  // Nobody's name anywhere in it.
  const all = await page.textContent("#summary");
  for (const name of NAMES) assert.ok(!all.includes(name), `${name} is not in the summary`);
  await page.click(".summary-table summary");
  await checkLayout(page, 1280, "laptop en");
  await page.screenshot({ path: path.join(dir, "summary-en.png") });
  const found = await axeSummary(page);
  assert.deepEqual(found.violations, []);
  assert.deepEqual(found.contrastReview, []);
});

test("the CSV has the figures and the chart's points, no names; Escape closes and focus is back", async () => {
  const page = hanna.page;
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("[data-summary-csv]")]);
  assert.match(download.suggestedFilename(), /^hallway-summary-lobby-\d{4}-\d\d-\d\d\.csv$/);
  const csv = readFileSync(await download.path(), "utf8");
  assert.ok(csv.startsWith("\uFEFFFigure,Value\r\nRoom,lobby\r\n"), csv.slice(0, 80));
  assert.match(csv, /\r\nCircles formed,3\r\n/);
  assert.match(csv, /\r\nShare in at least one circle \(%\),70\r\n/);
  assert.match(csv, /\r\nTime,People in the room,People in circles\r\n\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d,\d+,\d+\r\n/);
  for (const name of NAMES) assert.ok(!csv.includes(name), `${name} is not in the CSV`);
  assert.equal(await page.textContent("[data-summary-status]"), "The summary was downloaded as a CSV file.");
  const elsewhere = hanna.requests.filter((url) => !url.startsWith(server.url) && !url.startsWith(server.url.replace("http://", "ws://")) && !/^(blob|data):/.test(url));
  assert.deepEqual(elsewhere, [], "no request to another origin");
  await page.keyboard.press("Escape");
  await page.waitForSelector("#summary", { state: "hidden", timeout: DEADLINE });
  assert.equal(await page.evaluate(() => document.activeElement?.id), "summary-button");
  // Closed, it stops asking.
  const asked = hanna.sent.filter((m) => m.type === "summary").length;
  await new Promise((resolve) => setTimeout(resolve, 5500));
  assert.equal(hanna.sent.filter((m) => m.type === "summary").length, asked);
});

test("at 200% zoom the dialog scrolls and nothing is cut off", async () => {
  const page = hanna.page;
  await page.setViewportSize({ width: 640, height: 400 });
  await openSummary(page);
  await checkLayout(page, 640, "200% en");
  const scrolls = await page.$eval("#summary", (d) => d.scrollHeight > d.clientHeight && getComputedStyle(d).overflowY === "auto");
  assert.ok(scrolls, "the dialog scrolls within the window");
  await page.screenshot({ path: path.join(dir, "summary-en-200.png") });
  // Moving by keyboard, what has focus is scrolled into view clear of the dialog's foot
  // ("Download as CSV" and "Close" stay there).
  await page.focus("#summary-heading");
  await page.keyboard.press("Tab");
  const focused = await page.evaluate(() => {
    const el = document.activeElement;
    const r = el.getBoundingClientRect();
    const foot = document.querySelector("#summary .actions").getBoundingClientRect();
    const d = document.querySelector("#summary").getBoundingClientRect();
    return { what: el.textContent, top: r.top, bottom: r.bottom, foot: foot.top, dialog: d.top };
  });
  assert.equal(focused.what, "The chart as a table");
  assert.ok(focused.top >= focused.dialog && focused.bottom <= focused.foot + 0.5, `focus in view above the foot: ${JSON.stringify(focused)}`);
  const found = await axeSummary(page);
  assert.deepEqual(found.violations, []);
  // And on a phone in English.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.evaluate(() => document.querySelector("#summary").scrollTo(0, 0));
  await checkLayout(page, 390, "phone en");
  await page.screenshot({ path: path.join(dir, "summary-en-phone.png") });
  await page.keyboard.press("Escape");
  await page.setViewportSize({ width: 1280, height: 800 });
});

test("in German on a laptop and a phone: figures in German, two columns there, axe-clean", async () => {
  const host = await person(server, "Hanna Gastgeberin", { link: mintLink(server, ["--room", "lobby", "--role", "host"]), lang: "de", camera: false });
  try {
    const page = host.page;
    await openSummary(page);
    await page.waitForFunction(() => window.hallway.state.summary?.participants === 11, null, { timeout: DEADLINE });
    // The dialog shows the figures that count Hanna herself (a refresh may still be on its way).
    await page.waitForFunction(() => document.querySelector('#summary [data-figure="shareNote"]').textContent === "7 von 11 Teilnehmenden", null, { timeout: DEADLINE });
    assert.equal(await page.textContent("#summary-heading"), "Tagesbilanz");
    assert.match(await page.textContent('#summary [data-figure="share"]'), /^64\s%$/);
    assert.equal(await page.textContent('#summary [data-figure="shareNote"]'), "7 von 11 Teilnehmenden");
    assert.match(await page.textContent("#summary-since"), /^Seit .+ · Stand \d\d:\d\d(:\d\d)? Uhr$/);
    await checkLayout(page, 1280, "laptop de");
    await page.screenshot({ path: path.join(dir, "summary-de.png") });
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("[data-summary-csv]")]);
    const csv = readFileSync(await download.path(), "utf8");
    assert.ok(csv.startsWith("\uFEFFKennzahl;Wert\r\nRaum;lobby\r\n"), csv.slice(0, 80));
    assert.match(csv, /\r\nZeit;Personen im Raum;Personen in Kreisen\r\n/);
    // On a phone: two columns of figures, the chart's numbers still readable.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.evaluate(() => document.querySelector("#summary").scrollTo(0, 0));
    await checkLayout(page, 390, "phone de");
    const figures = await boxes(page, ".summary-figures > div");
    assert.equal(new Set(figures.map((f) => Math.round(f.left))).size, 2, "two columns");
    await page.waitForFunction(() => document.querySelector(".summary-chart svg").viewBox.baseVal.width < 480, null, { timeout: DEADLINE });
    const axis = await page.$eval(".summary-chart .axis", (el) => el.getBoundingClientRect().height);
    assert.ok(axis >= 12, `the chart's numbers are readable on a phone (${axis}px)`);
    await page.screenshot({ path: path.join(dir, "summary-de-phone.png") });
    const found = await axeSummary(page);
    assert.deepEqual(found.violations, []);
    assert.deepEqual(found.contrastReview, []);
  } finally {
    await host.close();
  }
});

test("a participant has no summary and is refused if they ask", async () => {
  const page = paula.page;
  assert.equal(await page.isVisible("#summary-button"), false);
  await page.evaluate(() => window.hallway.conn.send({ type: "summary" }));
  const deadline = Date.now() + DEADLINE;
  while (!paula.received.some((m) => m.type === "error" && m.code === "forbidden")) {
    assert.ok(Date.now() < deadline, "refused with forbidden");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.ok(!paula.received.some((m) => m.type === "summary"), "no figures for a participant");
});
