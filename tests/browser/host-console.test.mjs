// The host console with 300 people (real Chromium, real server; the crowd joins over raw
// WebSockets): one actions button per person instead of five, a list that scrolls under a
// search box that stays in view, typing filters (names and profile lines), groups (on stage, hands raised oldest
// first, in circles, alone), "next hand" working through the queue, and each person's
// actions menu by keyboard. axe-core finds nothing in the menu or the console.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { startServer, person, crowd, boxes, overlapping, mintLink, axe, screenshotDir, DEADLINE } from "./harness.mjs";

const dir = screenshotDir();

const FIRST = ["Anna", "Ben", "Clara", "David", "Elif", "Felix", "Greta", "Hannes", "Ines", "Jonas", "Katrin", "Lukas", "Maja", "Nils", "Olga", "Paul", "Rosa", "Sven", "Tanja", "Ulrich"];
// Two of three people give a profile line, from twelve offices.
const ORGS = [
  "Stadt Bamberg · Smart City, Bürgerbeteiligung",
  "Bundesministerium des Innern · Verwaltungsdigitalisierung",
  "Landratsamt Ebersberg · Onlinezugangsgesetz",
  "Stadt Köln · Open Data",
  "ITZBund · Cloud",
  "Senatsverwaltung Berlin · E-Akte",
  "Freistaat Sachsen · Registermodernisierung",
  "Stadt Ulm · Zukunftsstadt",
  "Kreisverwaltung Mainz-Bingen · Bürgerservice",
  "Bundesagentur für Arbeit · Nutzerforschung",
  "Freie und Hansestadt Hamburg · Digitale Stadt",
  "Landkreis Görlitz · Breitband",
];
const LAST = ["Schmidt", "Okafor", "Weber", "Nguyen", "Yilmaz", "Becker", "Hoffmann", "Klein", "Wolf", "Neumann", "Schulz", "Krüger", "Lehmann", "Kowalski", "Jansen"];

let server;
let hanna;
let many;
let list;

before(async () => {
  server = await startServer();
  // 300 people: 20 first names × 15 last names, every name once. 55 circles of five
  // stand around the floor, as at an event in full swing; 25 people stand apart along the
  // bottom.
  list = [];
  for (let i = 0; i < 300; i++) {
    const name = `${FIRST[i % 20]} ${LAST[Math.floor(i / 20)]}`;
    let x;
    let y;
    if (i < 275) {
      const c = Math.floor(i / 5);
      const angle = (i % 5) * ((2 * Math.PI) / 5);
      x = 150 + (c % 11) * 205 + 35 * Math.cos(angle);
      y = 170 + Math.floor(c / 11) * 255 + 35 * Math.sin(angle);
    } else {
      const k = i - 275;
      x = 80 + k * 92;
      y = 1460 + (k % 2) * 90;
    }
    list.push({ name, x, y, ...(i % 3 === 2 ? {} : { profile: ORGS[i % 12] }) });
  }
  many = await crowd(server, list);
  hanna = await person(server, "Hanna Host", { link: mintLink(server, ["--room", "lobby", "--role", "host"]) });
  await hanna.page.waitForFunction(() => window.hallway.state.participants.size === 301 && document.querySelectorAll(".people-group li").length === 301, null, { timeout: 3 * DEADLINE });
});

after(async () => {
  await hanna?.close();
  await many?.close();
  await server?.stop();
});

// boxes() gives left, top, width and height.
const bottom = (b) => b.top + b.height;
const right = (b) => b.left + b.width;

const idOf = (name) => many.ids[list.findIndex((p) => p.name === name)];

test("300 people: one actions button each, the search box and the list stay in view, the list scrolls", async () => {
  const page = hanna.page;
  const counts = await page.evaluate(() => ({
    buttons: document.querySelectorAll(".people-group li button").length,
    actions: document.querySelectorAll('.people-group li button[data-key^="actions:"]').length,
    circles: document.querySelectorAll("#group-circles li").length,
    alone: document.querySelectorAll("#group-alone li").length,
  }));
  assert.deepEqual({ buttons: counts.buttons, actions: counts.actions }, { buttons: 300, actions: 300 }, "one button per person (not five)");
  assert.equal(counts.circles + counts.alone, 301);
  assert.ok(counts.circles >= 250, `most of the 275 in circles are listed there: ${counts.circles}`);
  // The host tools are a tab of their own, not shown until chosen: the people tab is the list's.
  assert.deepEqual(await page.evaluate(() => [document.querySelector("#tab-host").getAttribute("aria-selected"), document.querySelector("#pane-host").hidden, !!document.querySelector("#pane-people #host-tools")]), ["false", true, false], "host tools in a tab of their own, not chosen");
  const [search] = await boxes(page, "#people-search");
  const [scroll] = await boxes(page, ".people-scroll");
  assert.ok(search.top >= 0 && bottom(search) <= 800, "the search box is in view");
  assert.ok(scroll.top < 800 - 300, `the list starts high enough to show many people: ${scroll.top}`);
  assert.ok(bottom(scroll) <= 800, "the list ends inside the window");
  const scrolls = await page.$eval(".people-scroll", (el) => el.scrollHeight > el.clientHeight + 1000);
  assert.ok(scrolls, "the list scrolls");
  // The rows in view do not overlap and show their names whole.
  const rows = (await boxes(page, ".people-group li")).filter((b) => b.top >= scroll.top && bottom(b) <= bottom(scroll));
  assert.ok(rows.length >= 8, `rows in view: ${rows.length}`);
  assert.deepEqual(overlapping(rows), []);
});

test("typing filters as one types; Escape clears", async () => {
  const page = hanna.page;
  await page.fill("#people-search", "krüger");
  await page.waitForFunction(() => document.querySelectorAll(".people-group li").length === 20, null, { timeout: DEADLINE });
  assert.equal(await page.textContent("#people-found"), "20 of 301 shown");
  const names = await page.$$eval(".people-group li .person-name", (els) => els.map((e) => e.textContent));
  assert.ok(names.every((n) => n.endsWith("Krüger")), names.join(", "));
  // Accents and case do not matter; more words narrow it down.
  await page.fill("#people-search", "greta KRUGER");
  await page.waitForFunction(() => document.querySelectorAll(".people-group li").length === 1, null, { timeout: DEADLINE });
  // The profile line is searched too: an office, and a name in it.
  await page.fill("#people-search", "bamberg");
  await page.waitForFunction(() => document.querySelectorAll(".people-group li").length === 25, null, { timeout: DEADLINE });
  const lines = await page.$$eval(".people-group li .person-profile", (els) => els.map((e) => e.textContent));
  assert.equal(lines.length, 25);
  assert.ok(lines.every((l) => l.startsWith("Stadt Bamberg")), lines.join(", "));
  await page.fill("#people-search", "anna bamberg");
  await page.waitForFunction(() => document.querySelectorAll(".people-group li").length === 5, null, { timeout: DEADLINE });
  await page.fill("#people-search", "nobody by that name");
  await page.waitForFunction(() => document.querySelectorAll(".people-group li").length === 0, null, { timeout: DEADLINE });
  assert.equal(await page.textContent("#people-found"), "Nobody matches “nobody by that name”.");
  await page.focus("#people-search");
  await page.keyboard.press("Escape");
  await page.waitForFunction(() => document.querySelectorAll(".people-group li").length === 301, null, { timeout: DEADLINE });
  assert.equal(await page.inputValue("#people-search"), "");
});

test("raised hands are a queue, oldest first; next hand invites the oldest, who leaves the queue on stage", async () => {
  const page = hanna.page;
  const order = ["Maja Weber", "Ben Schmidt", "Tanja Jansen"];
  for (const name of order) {
    await many.send(list.findIndex((p) => p.name === name), { type: "hand", raised: true });
    await page.waitForFunction((id) => window.hallway.state.participants.get(id)?.hand, idOf(name), { timeout: DEADLINE });
    await page.waitForTimeout(30);
  }
  await page.waitForFunction(() => document.querySelectorAll("#group-hands li").length === 3, null, { timeout: DEADLINE });
  assert.deepEqual(await page.$$eval("#group-hands li .person-name", (els) => els.map((e) => e.textContent)), order);
  assert.equal(await page.textContent("#next-hand-who"), "Next hand: Maja Weber");
  const [queue] = await boxes(page, "#hand-queue");
  assert.ok(bottom(queue) <= 800 && queue.top >= 0, "the queue is in view");
  await page.click("#next-hand");
  await page.waitForFunction(() => document.querySelector("#next-hand-who").textContent === "Next hand: Ben Schmidt", null, { timeout: DEADLINE });
  assert.ok(hanna.sent.some((m) => m.type === "invite_to_broadcast" && m.id === idOf("Maja Weber")), "Maja is invited");
  assert.match(await page.textContent("#announcer"), /Maja Weber is invited to the stage/);
  assert.match(await page.textContent(`#group-hands li:first-child .person-status`), /invited to the stage/);
  // A status line reads as one sentence: "Hand raised, invited to the stage, microphone off"
  // (it said "hand raised, … Microphone off").
  const status = await page.textContent(`#group-hands li:first-child .person-status`);
  assert.match(status, /^Hand raised, invited to the stage(, microphone off)?$/, status);
  // She goes on stage: her hand goes down (the server answers it) and she is listed there.
  // Sent from another socket: it may overtake the invitation, so it is sent again until
  // the server has taken it (then she is on stage).
  const maja = idOf("Maja Weber");
  for (let i = 0; i < 20 && !(await page.evaluate((id) => window.hallway.state.broadcasters.includes(id), maja)); i++) {
    await many.send(list.findIndex((p) => p.name === "Maja Weber"), { type: "broadcast", on: true });
    await page.waitForTimeout(500);
  }
  await page.waitForFunction(() => document.querySelectorAll("#group-onAir li").length === 1 && document.querySelectorAll("#group-hands li").length === 2, null, { timeout: DEADLINE });
  assert.equal(await page.textContent("#group-onAir li .person-name"), "Maja Weber");
  assert.equal(await page.textContent("#next-hand-who"), "Next hand: Ben Schmidt");
});

test("each person's actions menu works by keyboard, and axe-core finds nothing with it open", async () => {
  const page = hanna.page;
  await page.fill("#people-search", "Olga Wolf");
  await page.waitForFunction(() => document.querySelectorAll(".people-group li").length === 1, null, { timeout: DEADLINE });
  const olga = idOf("Olga Wolf");
  await page.focus(`button[data-key="actions:${olga}"]`);
  assert.equal(await page.getAttribute(`button[data-key="actions:${olga}"]`, "aria-label"), "Actions for Olga Wolf");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#person-menu:not([hidden])", { timeout: DEADLINE });
  assert.equal(await page.evaluate(() => document.activeElement.textContent), "Go to");
  assert.deepEqual(await page.$$eval("#person-menu button", (els) => els.map((e) => e.textContent)), ["Go to", "Invite to the stage", "Invite to a conversation", "Turn microphone off", "Remove from the room", "Remove and ban"]);
  // The menu sits beside its button, inside the window, over nothing else of the menu's.
  const [menu] = await boxes(page, "#person-menu");
  const [button] = await boxes(page, `button[data-key="actions:${olga}"]`);
  assert.ok(menu.left >= 0 && right(menu) <= 1280 && menu.top >= 0 && bottom(menu) <= 800, JSON.stringify(menu));
  assert.ok(Math.abs(menu.top - bottom(button)) < 12 || Math.abs(bottom(menu) - button.top) < 12, "next to its button");
  // The open menu (what it covers cannot be judged while it is covered), then the console
  // with it closed, below; the floor of 300 is another question (hosts.test.mjs judges the
  // whole host view).
  const report = await axe(page, "#person-menu");
  assert.deepEqual(report.violations, []);
  assert.deepEqual(report.contrastReview, []);
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("ArrowDown");
  assert.equal(await page.evaluate(() => document.activeElement.textContent), "Turn microphone off");
  await page.keyboard.press("Escape");
  await page.waitForSelector("#person-menu", { state: "hidden", timeout: DEADLINE });
  assert.equal(await page.evaluate(() => document.activeElement.dataset.key), `actions:${olga}`, "focus goes back to the button");
  const closed = await axe(page, "#panel");
  assert.deepEqual(closed.violations, []);
  assert.deepEqual(closed.contrastReview, []);
  // Again, and remove her: End goes to the last item ("Remove and ban"), Up to "Remove".
  await page.keyboard.press("Enter");
  await page.keyboard.press("End");
  await page.keyboard.press("ArrowUp");
  assert.equal(await page.evaluate(() => document.activeElement.textContent), "Remove from the room");
  await page.keyboard.press("Enter");
  await page.waitForFunction((id) => !window.hallway.state.participants.has(id), olga, { timeout: DEADLINE });
  assert.ok(hanna.sent.some((m) => m.type === "remove" && m.id === olga && !m.ban));
  await page.fill("#people-search", "");
  await page.waitForFunction(() => document.querySelectorAll(".people-group li").length === 300, null, { timeout: DEADLINE });
  await page.evaluate(() => (document.querySelector(".people-scroll").scrollTop = 0));
  await page.screenshot({ path: path.join(dir, "host-console-300-en.png") });
});

test("an open actions menu moves with its button when the list scrolls, and closes once the button is out of view", async () => {
  const page = hanna.page;
  const rows = await page.$$eval('.people-group li button[data-key^="actions:"]', (els) => els.map((e) => e.dataset.key));
  const key = rows[6];
  await page.click(`button[data-key="${key}"]`);
  await page.waitForSelector("#person-menu:not([hidden])", { timeout: DEADLINE });
  // A little scroll (as when the list brings the button into view, or shrinks as
  // someone leaves): the menu stays open, beside its button.
  await page.evaluate(() => (document.querySelector(".people-scroll").scrollTop += 30));
  await page.waitForFunction((k) => {
    const menu = document.querySelector("#person-menu").getBoundingClientRect();
    const button = document.querySelector(`button[data-key="${k}"]`).getBoundingClientRect();
    return Math.abs(menu.top - button.bottom) < 12 || Math.abs(menu.bottom - button.top) < 12;
  }, key, { timeout: DEADLINE });
  assert.equal(await page.isVisible("#person-menu"), true, "still open after a small scroll");
  // Far enough that the button leaves the list's view: the menu closes.
  const scrolled = await page.evaluate(() => (document.querySelector(".people-scroll").scrollTop += 3000));
  await page.waitForSelector("#person-menu", { state: "hidden", timeout: DEADLINE });
  // The focus that was in the menu is on its button again, and the list stays where it was put.
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.key), key);
  assert.equal(await page.evaluate(() => document.querySelector(".people-scroll").scrollTop), scrolled);
  await page.evaluate(() => (document.querySelector(".people-scroll").scrollTop = 0));
});
