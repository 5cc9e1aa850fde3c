// The room page as people use it: keyboard only, in German, accessible (axe-core), private
// (no request to any other origin), resilient to a server restart, with readable errors.
// Also takes a screenshot of a room of six (target/browser-tests/screenshot.png; the
// README's pictures come from gallery.test.mjs).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, statSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { startServer, person, clickFloor, waitAt, waitCircle, mintLink, axe, repo, boxes, overlapping, screenshotDir, DEADLINE } from "./harness.mjs";


let server;
const people = [];

before(async () => {
  server = await startServer();
});

after(async () => {
  for (const p of people) await p.close();
  await server?.stop();
});

// Every accessibility violation on the page as it is now, and every colour contrast
// axe-core could not decide: both must be none.
async function axeViolations(page) {
  const report = await axe(page);
  return [...report.violations, ...report.contrastReview];
}

test("keyboard only: tab to the people list, go to a person, form a circle, walk away", async () => {
  const anna = await person(server, "Anna Schmidt");
  const ben = await person(server, "Ben Okafor");
  people.push(anna, ben);
  const page = ben.page;
  // Tab from the floor to the "Go to Anna Schmidt" button.
  await page.focus("#floor");
  const key = `person:${anna.id}`;
  for (let i = 0; i < 30; i++) {
    if ((await page.evaluate(() => document.activeElement?.dataset?.key)) === key) break;
    await page.keyboard.press("Tab");
  }
  assert.equal(await page.evaluate(() => document.activeElement?.dataset?.key), key, "reached the button by Tab");
  // A short button on the name's line, named in full for screen readers and speech input.
  const row = await page.evaluate(() => {
    const button = document.activeElement;
    const name = button.closest("li").querySelector(".person-name").getBoundingClientRect();
    const box = button.getBoundingClientRect();
    return { text: button.textContent, label: button.getAttribute("aria-label"), sameLine: box.top < name.bottom && box.bottom > name.top };
  });
  assert.deepEqual(row, { text: "Go to", label: "Go to Anna Schmidt", sameLine: true });
  await page.keyboard.press("Enter");
  await waitCircle(page, [anna.id, ben.id]);
  await waitCircle(anna.page, [anna.id, ben.id]);
  // Anna's row has no "go to" any more (she is in one's circle): focus stays in the list.
  await page
    .waitForFunction(() => document.activeElement?.id === "people-search", null, { timeout: DEADLINE })
    .catch(async () => assert.equal(await page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName), "people-search", "focus not lost"));
  // Back to the floor (Shift+Tab) and walk away with the arrow keys.
  for (let i = 0; i < 30; i++) {
    if ((await page.evaluate(() => document.activeElement?.id)) === "floor") break;
    await page.keyboard.press("Shift+Tab");
  }
  assert.equal(await page.evaluate(() => document.activeElement?.id), "floor");
  for (let i = 0; i < 8; i++) {
    await page.keyboard.press("ArrowDown");
    await page.waitForTimeout(120);
  }
  await page.waitForFunction(() => !window.hallway.state.myCircle(), null, { timeout: DEADLINE });
  assert.match(await page.textContent("#announcer"), /You left the circle/);
  assert.match(await anna.page.textContent("#announcer"), /You left the circle|Ben Okafor left your circle/);
});

test("chat: a room message reaches everyone, a direct one only its recipient", async () => {
  const [anna, ben] = people;
  // A message that arrives while the people tab is shown counts as unread on the chat tab.
  await anna.page.click("#tab-chat");
  await anna.page.fill("#chat-text", "Guten Morgen zusammen!");
  await anna.page.press("#chat-text", "Enter");
  for (const p of [anna, ben]) {
    await p.page.waitForFunction(() => document.querySelector("#chat-log").textContent.includes("Guten Morgen zusammen!"), null, { timeout: DEADLINE });
  }
  assert.match(await ben.page.textContent("#chat-unread"), /^1/);
  await ben.page.click("#tab-chat");
  assert.equal(await ben.page.isVisible("#chat-unread"), false, "read once the chat is shown");
  await ben.page.selectOption("#chat-to", anna.id);
  await ben.page.fill("#chat-text", "Nur für Anna");
  await ben.page.click("#chat-form button[type=submit]");
  await anna.page.waitForFunction(() => document.querySelector("#chat-log").textContent.includes("Nur für Anna"), null, { timeout: DEADLINE });
  assert.match(await anna.page.textContent("#chat-log"), /Ben Okafor \d\d:\d\d \(to you\): Nur für Anna/);
  // Messages are not numbered like the queue of raised hands ("1.Anna …").
  const numbered = await anna.page.$$eval("#chat-log li", (items) => items.filter((li) => getComputedStyle(li, "::before").content !== "none").length);
  assert.equal(numbered, 0);
});

test("on a phone the closed panel's button keeps the number of people and shows unread chat", async () => {
  const [anna, ben] = people;
  // (The chat tab chosen, as the panel will open on it.)
  await ben.page.click("#tab-chat");
  await ben.page.setViewportSize({ width: 390, height: 844 });
  try {
    await ben.page.waitForFunction(() => matchMedia("(max-width: 700px)").matches);
    if (await ben.page.isVisible("#panel-close")) await ben.page.click("#panel-close");
    await ben.page.waitForFunction(() => document.querySelector(".room").classList.contains("panel-closed"));
    // The words are hidden (icon alone), the number is not.
    const inRoom = await ben.page.evaluate(() => String(window.hallway.state.participants.size));
    const count = await ben.page.$eval("#people-count-short", (c) => ({ text: c.textContent, shown: c.offsetWidth > 0 }));
    assert.deepEqual(count, { text: inRoom, shown: true }, "the number beside the icon");
    assert.equal(await ben.page.getAttribute("#people-count-short", "aria-hidden"), "true", "(read once, in the button's name)");
    assert.match(await ben.page.$eval("#panel-toggle", (b) => b.textContent.replace(/\s+/g, " ")), new RegExp(`People and chat \\(${inRoom}\\)`));
    // A message while the drawer is closed (its chat tab chosen): counted on the button.
    await anna.page.fill("#chat-text", "Jemand am Telefon?");
    await anna.page.press("#chat-text", "Enter");
    await ben.page.waitForFunction(() => document.querySelector("#chat-log").textContent.includes("Jemand am Telefon?"), null, { timeout: DEADLINE });
    await ben.page.waitForSelector("#panel-unread:not([hidden])", { timeout: DEADLINE });
    assert.match(await ben.page.textContent("#panel-unread"), /^1 unread$/);
    const [button] = await boxes(ben.page, "#panel-toggle");
    const parts = await boxes(ben.page, "#panel-toggle > .icon, #people-count-short");
    assert.equal(parts.length, 2);
    assert.deepEqual(overlapping(parts), [], "icon and number side by side");
    for (const b of parts) assert.ok(b.left >= button.left - 0.5 && b.left + b.width <= button.left + button.width + 0.5, "inside the button");
    // The unread count inside the button, after the people's number, with a speech bubble
    // saying what it counts (on the corner it touched the window's top edge, and a second
    // number beside the people's read as a count of them), covering neither, on screen.
    const [badge] = await boxes(ben.page, "#panel-unread");
    assert.deepEqual(overlapping([badge, ...parts]), [], "the badge covers neither icon nor number");
    assert.ok(badge.left >= parts[1].left + parts[1].width && badge.left + badge.width <= button.left + button.width + 0.5, `after the number, inside the button: ${JSON.stringify({ badge, button })}`);
    assert.ok(badge.top >= button.top && badge.top + badge.height <= button.top + button.height, `inside the button: ${JSON.stringify({ badge, button })}`);
    assert.equal(await ben.page.$eval("#panel-unread", (b) => b.querySelector("svg use")?.getAttribute("href")), "/assets/icons.svg#chat", "a speech bubble in it");
    assert.ok(badge.top >= 4 && button.left + button.width <= 390, "on screen, clear of the window's edge");
    await ben.page.screenshot({ path: path.join(screenshotDir(), "panel-button-unread-phone-en.png"), clip: { x: 0, y: 0, width: 390, height: 120 } });
    // Opening the drawer shows the chat: read.
    await ben.page.click("#panel-toggle");
    await ben.page.waitForFunction(() => !document.querySelector(".room").classList.contains("panel-closed"));
    assert.equal(await ben.page.isVisible("#panel-unread"), false, "read once the chat is shown");
    assert.equal(await ben.page.isVisible("#chat-unread"), false);
  } finally {
    await ben.page.setViewportSize({ width: 1280, height: 800 });
  }
});

test("axe-core finds no violations and no contrast to review on the join screen, in the room and on the landing page", async () => {
  const probe = await person(server, "Chris Weber");
  people.push(probe);
  // The join screen of a fresh page.
  const fresh = await probe.browser.newPage();
  await fresh.goto(`${server.url}/r/lobby`);
  await fresh.waitForSelector("#join-form");
  assert.deepEqual(await axeViolations(fresh), []);
  // A first visit starts in the name field.
  await fresh.waitForFunction(() => document.activeElement?.id === "name", null, { timeout: DEADLINE });
  await fresh.close();
  // A browser that cannot share a screen (a phone's) is not offered it.
  const phoneLike = await probe.browser.newPage();
  await phoneLike.addInitScript(() => delete MediaDevices.prototype.getDisplayMedia);
  await phoneLike.goto(`${server.url}/r/lobby`);
  await phoneLike.waitForSelector("#join-form");
  const offered = await phoneLike.evaluate(() => ["#screen-toggle", "#menu-screen"].map((s) => getComputedStyle(document.querySelector(s)).display));
  assert.deepEqual(offered, ["none", "none"]);
  await phoneLike.close();
  // The room, with people, a circle and the panel.
  const [anna] = people;
  await clickFloor(probe.page, 2000, 1300);
  await waitAt(anna.page, probe.id, 2000, 1300);
  assert.deepEqual(await axeViolations(probe.page), []);
  // The landing page too.
  const landing = await probe.browser.newPage();
  await landing.goto(server.url);
  assert.deepEqual(await axeViolations(landing), []);
  await landing.close();
});

test("German browsers get the German interface, and server errors are readable in it", async () => {
  const dana = await person(server, "Dana Müller-Lüdenscheidt", { lang: "de" });
  people.push(dana);
  assert.equal((await dana.page.textContent("#leave .label")).trim(), "Verlassen");
  assert.equal(await dana.page.getAttribute("html", "lang"), "de");
  // A room that does not exist: said at once (404), in German and English, before any
  // name or camera is asked for.
  const page = await dana.browser.newPage({ locale: "de-DE" });
  const response = await page.goto(`${server.url}/r/nirgendwo`);
  assert.equal(response.status(), 404);
  assert.equal(await page.textContent("h1"), "Diesen Raum gibt es nicht");
  assert.match(await page.textContent("main"), /This room does not exist/);
  assert.equal(await page.$("#name"), null, "no name is asked for");
  assert.deepEqual([...(await axe(page)).violations, ...(await axe(page)).contrastReview], []);
  await page.close();
});

test("on a phone in portrait: the floor full width, the controls in one bar below, the lists in a drawer, and a tap walks", async () => {
  const fatima = await person(server, "Fatima Yilmaz", { viewport: { width: 390, height: 844 }, touch: true });
  people.push(fatima);
  const layout = await fatima.page.evaluate(() => {
    const box = (sel) => document.querySelector(sel).getBoundingClientRect();
    const buttons = [...document.querySelectorAll(".controlbar button")].filter((b) => b.offsetParent !== null).map((b) => b.getBoundingClientRect());
    return { floor: box("#floor"), bar: box(".controlbar"), buttons, panelShown: document.querySelector("#panel").offsetParent !== null, page: document.documentElement.scrollWidth };
  });
  assert.ok(layout.floor.width >= 388, `floor ${layout.floor.width}px wide`);
  assert.ok(layout.floor.height >= 844 * 0.6, `floor ${layout.floor.height}px tall`);
  assert.ok(layout.bar.bottom <= 844 && layout.bar.top >= layout.floor.bottom - 1, "the control bar is below the floor, on screen");
  assert.ok(new Set(layout.buttons.map((b) => Math.round(b.top))).size === 1, "the controls fit one row");
  assert.ok(layout.buttons.every((b) => b.width >= 40 && b.height >= 40), "buttons are large enough to tap");
  assert.equal(layout.panelShown, false, "the lists wait in a drawer");
  assert.ok(layout.page <= 390, `no sideways scrolling (${layout.page}px)`);
  await fatima.page.tap("#panel-toggle");
  const drawer = await fatima.page.evaluate(() => document.querySelector("#panel").getBoundingClientRect());
  assert.ok(drawer.width >= 300 && drawer.right <= 391, `the drawer opens over the floor (${drawer.left}–${drawer.right})`);
  await fatima.page.tap("#panel-close");
  assert.equal(await fatima.page.isVisible("#panel"), false);
  const point = await fatima.page.evaluate(() => {
    const me = window.hallway.state.me();
    const surface = document.querySelector(".surface").getBoundingClientRect();
    const scale = surface.width / window.hallway.state.room.width;
    return { x: surface.left + (me.x + 60) * scale, y: surface.top + me.y * scale, target: Math.round(me.x + 60) };
  });
  await fatima.page.touchscreen.tap(point.x, point.y);
  await fatima.page.waitForFunction((x) => Math.abs(window.hallway.state.me().x - x) < 3, point.target, { timeout: DEADLINE });
});

test("a host link makes the page a host; a personal invitation fixes the name", async () => {
  const host = await person(server, "Hanna", { link: mintLink(server, ["--room", "lobby", "--role", "host"]) });
  people.push(host);
  assert.equal(await host.page.evaluate(() => window.hallway.state.me().role), "host");
  const invited = await person(server, "Typed Name", {
    link: mintLink(server, ["--room", "lobby", "--role", "participant", "--name", "Ilse Invited"]),
  });
  people.push(invited);
  assert.equal(await invited.page.evaluate(() => window.hallway.state.me().name), "Ilse Invited");
  // A link for another room is refused, readably.
  const page = await invited.browser.newPage();
  await page.goto(mintLink(server, ["--room", "elsewhere", "--role", "host"]).replace("/r/elsewhere", "/r/lobby"));
  await page.fill("#name", "Mallory");
  await page.click("#enter");
  await page.waitForSelector("#join-error:not([hidden])", { timeout: DEADLINE });
  assert.match(await page.textContent("#join-error"), /not valid for this room/);
  await page.close();
});

test("a passcode room shows the passcode field and lets people in with it", async () => {
  const own = await startServer({ HALLWAY_ADMIN_KEY: "browser-admin-key-0123456789" });
  const created = await fetch(`${own.url}/api/rooms`, {
    method: "POST",
    headers: { Authorization: "Bearer browser-admin-key-0123456789", "Content-Type": "application/json" },
    body: JSON.stringify({ slug: "salon", title: "Salon", access: "passcode", passcode: "Kaffee2026" }),
  });
  assert.equal(created.status, 201);
  const probe = people[0] ?? (await person(server, "Probe"));
  if (!people.includes(probe)) people.push(probe);
  const page = await probe.browser.newPage();
  try {
    await page.goto(`${own.url}/r/salon`);
    // Said before the name is typed: the room asks for a passcode.
    await page.waitForSelector("#passcode-row:not([hidden])", { timeout: DEADLINE });
    assert.match(await page.textContent("#join-access"), /asks for a passcode/);
    await page.fill("#name", "Gisela");
    await page.fill("#passcode", "falsch");
    await page.click("#enter");
    await page.waitForFunction(() => document.querySelector("#join-error").textContent.includes("not right"), null, { timeout: DEADLINE });
    await page.fill("#passcode", "Kaffee2026");
    await page.click("#enter");
    await page.waitForSelector("#room:not([hidden])", { timeout: DEADLINE });
    assert.equal(await page.textContent("#room-title"), "Salon");
  } finally {
    await page.close();
    await own.stop();
  }
});

test("an invitation-only room and a locked room say so before a name is typed", async () => {
  const own = await startServer({ HALLWAY_ADMIN_KEY: "browser-admin-key-0123456789" });
  const created = await fetch(`${own.url}/api/rooms`, {
    method: "POST",
    headers: { Authorization: "Bearer browser-admin-key-0123456789", "Content-Type": "application/json" },
    body: JSON.stringify({ slug: "einladung", title: "Nur mit Einladung", access: "invite" }),
  });
  assert.equal(created.status, 201);
  const host = await person(own, "Hanna Host", { link: mintLink(own, ["--room", "lobby", "--role", "host"]) });
  const probe = await person(own, "Probe");
  const page = await probe.browser.newPage();
  try {
    await page.goto(`${own.url}/r/einladung`);
    await page.waitForFunction(() => document.querySelector("#join-access").textContent.includes("by invitation only"), null, { timeout: DEADLINE });
    assert.equal(await page.inputValue("#name"), "");
    assert.equal(await page.isDisabled("#enter"), true, "nobody can enter without a link");

    // A host locks the lobby: a newcomer's join page says so before the name field is used.
    await host.page.click("#tab-host");
    await host.page.click("#room-lock-toggle");
    await host.page.waitForSelector("#room-locked-badge:not([hidden])", { timeout: DEADLINE });
    await page.goto(`${own.url}/r/lobby`);
    await page.waitForFunction(() => document.querySelector("#join-access").textContent.includes("locked"), null, { timeout: DEADLINE });
    assert.equal(await page.isVisible("#join-access"), true);
    assert.equal(await page.inputValue("#name"), "");
  } finally {
    await page.close();
    await probe.close();
    await host.close();
    await own.stop();
  }
});

test("no page makes a request to any other origin", () => {
  const origin = new URL(server.url);
  for (const p of people) {
    assert.ok(p.requests.length > 3, "requests were recorded");
    for (const url of p.requests) {
      const u = new URL(url);
      assert.equal(u.host, origin.host, `${p.name} requested ${url}`);
    }
  }
});

async function freePort() {
  const probe = createServer();
  await new Promise((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

test("the page survives a server restart and walks back to where it stood", async () => {
  // The browsers of the tests before are not needed any more: on a 2-core machine, a
  // dozen browsers with cameras slow every page down.
  for (const p of people.splice(0)) await p.close();
  const port = String(await freePort());
  let own = await startServer({ HALLWAY_PORT: port });
  const emil = await person(own, "Emil Janssen");
  try {
    await clickFloor(emil.page, 700, 500);
    await waitAt(emil.page, emil.id, 700, 500);
    await own.stop();
    await emil.page.waitForSelector("#status:not([hidden])", { timeout: DEADLINE });
    own = await startServer({ HALLWAY_PORT: port });
    // Welcomed again (a new id: full resume comes later) and back at the same spot.
    await emil.page.waitForFunction(
      () => {
        const me = window.hallway.state.me();
        return me && Math.hypot(me.x - 700, me.y - 500) < 2;
      },
      null,
      { timeout: 3 * DEADLINE },
    );
    await emil.page.waitForSelector("#status", { state: "hidden", timeout: DEADLINE });
  } finally {
    await emil.close();
    await own.stop();
  }
});

test("a room with six people and two circles (a screenshot)", async () => {
  const shot = await startServer();
  const names = ["Anna Schmidt", "Ben Okafor", "Chris Weber", "Dr. Dana Müller-Lüdenscheidt", "Emil Janssen", "Fatima Yilmaz"];
  const crowd = [];
  try {
    for (const name of names) crowd.push(await person(shot, name));
    const [a, b, c, d, e, f] = crowd;
    const spots = [[560, 520], [620, 520], [590, 570], [960, 640], [1020, 640], [800, 330]];
    // Walk one at a time, each after the previous one is seen where they went.
    for (const [i, p] of crowd.entries()) {
      await clickFloor(p.page, ...spots[i]);
      await waitAt(a.page, p.id, ...spots[i]);
    }
    await waitCircle(a.page, [a.id, b.id, c.id]);
    await waitCircle(d.page, [d.id, e.id]);
    await a.page.waitForFunction(() => window.hallway.state.circles.size === 2, null, { timeout: DEADLINE });
    await a.page.evaluate(() => {
      const floor = document.querySelector("#floor");
      const scale = document.querySelector(".surface").getBoundingClientRect().width / window.hallway.state.room.width;
      floor.scrollTo({ left: 790 * scale - floor.clientWidth / 2, top: 520 * scale - floor.clientHeight / 2 });
    });
    await a.page.waitForTimeout(1500); // let the videos show a few frames
    // A test run leaves the repository as it found it.
    const file = path.resolve(repo, "target/browser-tests/screenshot.png");
    mkdirSync(path.dirname(file), { recursive: true });
    await a.page.screenshot({ path: file });
    assert.ok(statSync(file).size > 10_000, "the screenshot shows the room");
    assert.match(f.id, /^[0-9a-zA-Z]{11}$/, "ids are eleven letters and digits");
  } finally {
    for (const p of crowd) await p.close();
    await shot.stop();
  }
});
