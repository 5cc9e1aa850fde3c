// The waiting room (real Chromium, real server): in a room that has one, newcomers see a
// waiting screen (the room's title, its message, leave) in German and English, on a
// phone and at 200% zoom; the host sees the queue (name, profile line, how long) above the
// people list, admits one person, turns another away with a message (who sees it on the
// end screen), admits two chosen at once and the rest all together; a reload while waiting
// keeps the place, and one after admission comes back into the room. Layout by bounding boxes, axe-core on each
// screen, screenshots of both sides.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { startServer, person, mintLink, boxes, overlapping, axe, screenshotDir, DEADLINE } from "./harness.mjs";

const KEY = "browser-admin-key-0123456789";
const dir = screenshotDir();
const TITLE = "Bürgerdialog Digitale Verwaltung";
const MESSAGE = "Wir beginnen um 10 Uhr. Bitte haben Sie einen Moment Geduld.";

let server;
let hanna;
let anna;
let jens;
let karl;
let lena;
let mo;

before(async () => {
  server = await startServer({ HALLWAY_ADMIN_KEY: KEY });
  const created = await fetch(`${server.url}/api/rooms`, {
    method: "POST",
    headers: { Authorization: `Bearer ${KEY}`, "Content-Type": "application/json" },
    body: JSON.stringify({ slug: "einlass", title: TITLE, waiting_room: true, waiting_message: MESSAGE }),
  });
  assert.equal(created.status, 201, await created.text());
  hanna = await person(server, "Hanna Host", { link: mintLink(server, ["--room", "einlass", "--role", "host"]) });
  anna = await person(server, "Anna Schmidt", { room: "einlass", lang: "de", waits: true, profile: "Stadt Bamberg · Smart City, Bürgerbeteiligung" });
  jens = await person(server, "Jens Otto", { room: "einlass", waits: true, viewport: { width: 390, height: 844 }, touch: true });
  karl = await person(server, "Karl-Theodor Freiherr von Eichendorff-Wittgenstein", { room: "einlass", waits: true, viewport: { width: 640, height: 400 }, scale: 2 });
});

after(async () => {
  await mo?.close();
  await lena?.close();
  await karl?.close();
  await jens?.close();
  await anna?.close();
  await hanna?.close();
  await server?.stop();
});

// Everything on the waiting card is inside it and inside the window, nothing over anything.
async function cardWhole(page) {
  const [card] = await boxes(page, "#waiting .card");
  const inner = await boxes(page, "#waiting h1, #waiting p, #waiting button");
  const viewport = page.viewportSize();
  for (const b of inner) {
    assert.ok(b.left >= card.left - 0.5 && b.left + b.width <= card.left + card.width + 0.5, `${b.text} inside the card`);
    assert.ok(b.left >= 0 && b.left + b.width <= viewport.width + 0.5, `${b.text} inside the window`);
  }
  assert.deepEqual(overlapping(inner), []);
}

test("newcomers wait on a screen with the room's title and message, in their language", async () => {
  const page = anna.page;
  assert.equal(await page.textContent("#waiting-heading"), TITLE);
  assert.equal(await page.textContent("#waiting-own"), MESSAGE);
  assert.match(await page.textContent("#waiting .waiting-status"), /Sie sind im Warteraum/);
  assert.equal(await page.textContent("#waiting-leave"), "Warteraum verlassen");
  assert.equal(await page.evaluate(() => document.activeElement?.id), "waiting-heading", "the focus is on the heading");
  assert.match(await page.textContent("#announcer"), /Sie sind im Warteraum/);
  // Nothing of the room: no people, no floor.
  assert.equal(await page.isHidden("#room"), true);
  assert.equal(await page.evaluate(() => window.hallway.state.participants.size), 0);
  await cardWhole(page);
  await page.screenshot({ path: path.join(dir, "waiting-newcomer-de.png") });
  for (const who of [anna, jens, karl]) {
    await cardWhole(who.page);
    const found = await axe(who.page);
    assert.deepEqual(found.violations, [], who.name);
    assert.deepEqual(found.contrastReview, [], who.name);
  }
  assert.match(await jens.page.textContent("#waiting .waiting-status"), /You are in the waiting room/);
  await jens.page.screenshot({ path: path.join(dir, "waiting-newcomer-en-phone.png") });
  await karl.page.screenshot({ path: path.join(dir, "waiting-newcomer-en-200.png") });
});

test("the host sees the queue, longest first, with profile lines, and admits Anna", async () => {
  const page = hanna.page;
  await page.waitForFunction(() => document.querySelectorAll("#waiting-list li").length === 3, null, { timeout: DEADLINE });
  assert.equal(await page.isChecked("#waiting-on"), true);
  const rows = await page.$$eval("#waiting-list li", (items) => items.map((li) => ({ name: li.querySelector(".name").textContent, profile: li.querySelector(".profile")?.textContent ?? null, button: li.querySelector("button").textContent })));
  assert.deepEqual(rows.map((r) => r.name), ["Anna Schmidt", "Jens Otto", "Karl-Theodor Freiherr von Eichendorff-Wittgenstein"]);
  assert.equal(rows[0].profile, "Stadt Bamberg · Smart City, Bürgerbeteiligung");
  assert.ok(rows.every((r) => r.button === "Admit"));
  assert.match(await page.textContent("#announcer"), /waiting to be admitted/);
  // Nobody waiting is on the floor or in the people list.
  assert.equal(await page.evaluate(() => window.hallway.state.participants.size), 1);
  const [panel] = await boxes(page, ".people-scroll");
  // The switch is one of the host tools, not a line of the people list.
  assert.equal(await page.$eval("#waiting-on", (el) => !!el.closest("#host-tools") && !el.closest(".people-scroll")), true);
  const shown = await boxes(page, "#waiting-list li, #waiting-list li button, #waiting-list .who span, #waiting-actions button, #waiting-message");
  for (const b of shown) assert.ok(b.left >= panel.left - 0.5 && b.left + b.width <= panel.left + panel.width + 0.5, `${b.text} inside the panel`);
  assert.deepEqual(overlapping(await boxes(page, "#waiting-list li")), []);
  assert.deepEqual(overlapping(await boxes(page, "#waiting-actions button")), []);
  await page.screenshot({ path: path.join(dir, "waiting-host-en.png") });
  const found = await axe(page, ".panel");
  assert.deepEqual(found.violations, []);
  assert.deepEqual(found.contrastReview, []);
  // A reload while waiting keeps the place: the same people, under the same ids, in the
  // same order, and Karl's page shows the waiting screen again without asking anything.
  const ids = () => page.$$eval("#waiting-list li input", (els) => els.map((e) => e.dataset.pick));
  const queued = await ids();
  await karl.page.reload();
  await karl.page.waitForSelector("#waiting:not([hidden])", { timeout: DEADLINE }).catch(async (err) => {
    const seen = await karl.page.evaluate(() => ({ join: !document.querySelector("#join").hidden, room: !document.querySelector("#room").hidden, ended: !document.querySelector("#ended").hidden, error: document.querySelector("#join-error").textContent, endedText: document.querySelector("#ended-detail")?.textContent, storage: JSON.stringify(sessionStorage), you: window.hallway?.state?.you }));
    throw new Error(`not waiting again after the reload: ${JSON.stringify(seen)}; ${err.message}`);
  });
  assert.equal(await karl.page.textContent("#waiting-heading"), TITLE);
  // What the new page says meanwhile (its media state, once the camera is back) is
  // refused while it waits: it waits on, with its place kept and no join form.
  await karl.page.waitForFunction(() => window.hallway?.state?.resume, null, { timeout: DEADLINE });
  await karl.page.waitForTimeout(2000);
  assert.equal(await karl.page.isHidden("#join"), true, "no join form");
  assert.ok(await karl.page.evaluate(() => Object.keys(sessionStorage).some((k) => k.includes("resume") && sessionStorage.getItem(k) !== "null")), "the place is remembered");
  await page.waitForFunction((want) => {
    const now = [...document.querySelectorAll("#waiting-list li input")].map((e) => e.dataset.pick);
    return now.length === want.length && now.every((id, i) => id === want[i]);
  }, queued, { timeout: DEADLINE });
  assert.deepEqual(await ids(), queued);
  // By keyboard: Anna's "Admit".
  await page.focus("#waiting-list li:first-child button");
  await page.keyboard.press("Enter");
  await anna.page.waitForSelector("#room:not([hidden])", { timeout: DEADLINE });
  await anna.page.waitForFunction(() => document.querySelector("#announcer").textContent.includes("Sie wurden eingelassen"), null, { timeout: DEADLINE });
  await page.waitForFunction(() => document.querySelectorAll("#waiting-list li").length === 2, null, { timeout: DEADLINE });
  await page.waitForFunction(() => window.hallway.state.participants.size === 2, null, { timeout: DEADLINE });
  // Admitted, a reload brings Anna back into the room as herself, not into the queue.
  const annaId = await anna.page.evaluate(() => window.hallway.state.you);
  await anna.page.reload();
  await anna.page.waitForFunction((id) => window.hallway?.state?.you === id && !document.querySelector("#room").hidden, annaId, { timeout: DEADLINE });
  assert.equal(await anna.page.isHidden("#waiting"), true, "no waiting screen");
  assert.equal(await page.$$eval("#waiting-list li", (items) => items.length), 2, "not back in the queue");
});

test("the host turns Jens away with a message, which he reads", async () => {
  const page = hanna.page;
  // Nobody picked: "Admit selected" and "Turn away selected" are off and look it (grey, the
  // text still readable), not like "Admit all" beside them; a pick makes them look alike.
  const looks = () =>
    page.evaluate(() =>
      ["#waiting-admit-selected", "#waiting-turn-away", "#waiting-admit-all"].map((s) => {
        const b = document.querySelector(s);
        const c = getComputedStyle(b);
        return { off: b.disabled, background: c.backgroundColor, color: c.color, opacity: c.opacity };
      }),
    );
  const [admit, away, all] = await looks();
  assert.ok(admit.off && away.off && !all.off, "off without a pick");
  for (const b of [admit, away]) assert.ok(b.background !== all.background && b.color !== all.color && b.opacity === "1", `looks off: ${JSON.stringify(b)} beside ${JSON.stringify(all)}`);
  // Greyed out, they say why (the line the two buttons are described by), and with a pick
  // what they act on.
  const said = () => page.evaluate(() => ({ text: document.querySelector("#waiting-picked").textContent, by: ["#waiting-admit-selected", "#waiting-turn-away"].map((s) => document.querySelector(s).getAttribute("aria-describedby")) }));
  assert.deepEqual(await said(), { text: "Above, tick the people you want to admit or turn away.", by: ["waiting-picked", "waiting-picked"] });
  const [line, ...row] = await boxes(page, "#waiting-picked, #waiting-admit-selected, #waiting-turn-away");
  assert.ok(row.every((b) => b.top >= line.top + line.height - 0.5), `the line above the buttons: ${JSON.stringify([line, row])}`);
  await page.check("#waiting-list li:first-child input");
  const picked = await looks();
  assert.ok(picked.every((b) => !b.off && b.background === all.background), `on with a pick: ${JSON.stringify(picked)}`);
  assert.equal((await said()).text, "1 selected");
  await page.fill("#waiting-message", "Heute nur für angemeldete Gäste, sorry.");
  await page.click("#waiting-turn-away");
  await jens.page.waitForSelector("#ended:not([hidden])", { timeout: DEADLINE }).catch(async (err) => {
    // What each side said and heard, for the report.
    const turned = hanna.sent.filter((m) => m.type === "turn_away");
    const heard = jens.received.map((m) => m.type).slice(-20);
    const queue = await page.$$eval("#waiting-list li", (items) => items.map((li) => `${li.querySelector("input").dataset.pick} ${li.querySelector(".name").textContent}`));
    const shown = await jens.page.evaluate(() => ({ waiting: !document.querySelector("#waiting").hidden, status: document.querySelector("#status")?.textContent, resume: window.hallway?.state?.resume }));
    throw new Error(`Jens was not turned away: host sent ${JSON.stringify(turned)}, queue ${JSON.stringify(queue)}, Jens heard ${JSON.stringify(heard)}, shows ${JSON.stringify(shown)}; ${err.message}`);
  });
  assert.equal(await jens.page.textContent("#ended-heading"), "You were not admitted");
  assert.equal(await jens.page.textContent("#ended-detail"), "Message from the host: Heute nur für angemeldete Gäste, sorry.");
  const found = await axe(jens.page);
  assert.deepEqual(found.violations, []);
  assert.deepEqual(found.contrastReview, []);
  await jens.page.screenshot({ path: path.join(dir, "waiting-turned-away-en-phone.png") });
  await page.waitForFunction(() => document.querySelectorAll("#waiting-list li").length === 1, null, { timeout: DEADLINE });
});

test("the host admits two chosen people at once, then all the rest; the empty queue says so", async () => {
  const page = hanna.page;
  lena = await person(server, "Lena Vogt", { room: "einlass", waits: true });
  mo = await person(server, "Mo Haddad", { room: "einlass", waits: true });
  await page.waitForFunction(() => document.querySelectorAll("#waiting-list li").length === 3, null, { timeout: DEADLINE });
  await page.check('#waiting-list li:has-text("Karl-Theodor") input');
  await page.check('#waiting-list li:has-text("Lena Vogt") input');
  await page.click("#waiting-admit-selected");
  await karl.page.waitForSelector("#room:not([hidden])", { timeout: DEADLINE });
  await lena.page.waitForSelector("#room:not([hidden])", { timeout: DEADLINE });
  await page.waitForFunction(() => document.querySelectorAll("#waiting-list li").length === 1, null, { timeout: DEADLINE });
  assert.equal(await page.textContent("#waiting-list li .name"), "Mo Haddad");
  assert.equal(await mo.page.isHidden("#room"), true, "Mo waits on");
  await page.click("#waiting-admit-all");
  await mo.page.waitForSelector("#room:not([hidden])", { timeout: DEADLINE });
  await page.waitForFunction(() => document.querySelector("#waiting-empty") && !document.querySelector("#waiting-empty").hidden, null, { timeout: DEADLINE });
  assert.equal(await page.textContent("#waiting-empty"), "Nobody is waiting.");
  // Turning it off is the switch among the host tools; the hosts see it taken.
  await page.click("#tab-host");
  await page.waitForSelector("#waiting-on", { state: "visible", timeout: DEADLINE });
  const [tools] = await boxes(page, "#host-tools");
  const [toggle] = await boxes(page, "#waiting-switch");
  assert.ok(toggle.top >= tools.top && toggle.top + toggle.height <= tools.top + tools.height + 0.5, "the switch shows inside the host tools");
  assert.ok(toggle.left >= tools.left && toggle.left + toggle.width <= tools.left + tools.width + 0.5, "and whole");
  await page.screenshot({ path: path.join(dir, "waiting-switch-en.png") });
  await page.uncheck("#waiting-on");
  await page.waitForFunction(() => window.hallway.state.waitingRoom?.on === false, null, { timeout: DEADLINE });
  assert.ok(hanna.sent.some((m) => m.type === "set_waiting_room" && m.on === false));
});
