// Who is alone (real Chromium, real server): a host sees, in the people panel, who has
// been outside any circle for longer than the room's setting (here one minute, the
// shortest an operator can set), longest first, with "go to" and "invite"; the invited
// person gets a notice (in German), and walking over puts them in a circle with the host,
// which takes them off the list. Layout by bounding boxes, axe-core on both sides.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { startServer, person, crowd, mintLink, clickFloor, waitAt, waitCircle, boxes, overlapping, axe, screenshotDir, DEADLINE } from "./harness.mjs";

const KEY = "browser-admin-key-0123456789";
const dir = screenshotDir();

let server;
let hanna;
let ines;
let others;

before(async () => {
  server = await startServer({ HALLWAY_ADMIN_KEY: KEY });
  const created = await fetch(`${server.url}/api/rooms`, {
    method: "POST",
    headers: { Authorization: `Bearer ${KEY}`, "Content-Type": "application/json" },
    body: JSON.stringify({ slug: "treff", title: "Treffpunkt", alone_minutes: 1 }),
  });
  assert.equal(created.status, 201, await created.text());
  hanna = await person(server, "Hanna Host", { link: mintLink(server, ["--room", "treff", "--role", "host"]) });
  ines = await person(server, "Ines Wolf", { room: "treff", lang: "de", profile: "Landratsamt Ebersberg · Onlinezugangsgesetz" });
  others = await crowd(
    server,
    [
      { name: "Jonas Becker", x: 2000, y: 1300, profile: "Stadt Köln · Open Data" },
      { name: "Ben Okafor", x: 1200, y: 800 },
      { name: "Clara Meyer", x: 1240, y: 800 },
    ],
    { room: "treff" },
  );
  await clickFloor(ines.page, 400, 300);
  await clickFloor(hanna.page, 1600, 400);
});

after(async () => {
  await others?.close();
  await ines?.close();
  await hanna?.close();
  await server?.stop();
});

test("after a minute alone, the host sees who, longest first, with go to and invite", async () => {
  const page = hanna.page;
  // One minute, and the two-second report after it.
  await page.waitForFunction(() => document.querySelectorAll("#alone-list li").length === 2, null, { timeout: 90_000 });
  const rows = await page.$$eval("#alone-list li", (items) =>
    items.map((li) => ({ name: li.querySelector(".person-name").textContent, status: li.querySelector(".person-status").textContent, buttons: [...li.querySelectorAll("button")].map((b) => b.textContent) })),
  );
  assert.deepEqual(rows.map((r) => r.name).sort(), ["Ines Wolf", "Jonas Becker"], "the pair in a circle and the host are not listed");
  for (const r of rows) {
    assert.match(r.status, /^alone for 1 min/);
    assert.deepEqual(r.buttons, ["Go to", "Invite"]);
  }
  assert.equal(await page.textContent("#alone-title"), "Alone for over 1 min, longest first");
  // In the panel, whole, not over each other.
  const [panel] = await boxes(page, ".people-scroll");
  const shown = await boxes(page, "#alone-list li, #alone-list li button, #alone-list .person-profile");
  for (const b of shown) assert.ok(b.left >= panel.left - 0.5 && b.left + b.width <= panel.left + panel.width + 0.5, `${b.text} inside the panel`);
  assert.deepEqual(overlapping(await boxes(page, "#alone-list li")), []);
  await page.screenshot({ path: path.join(dir, "alone-host-en.png") });
  const found = await axe(page, ".panel");
  assert.deepEqual(found.violations, []);
  assert.deepEqual(found.contrastReview, []);
});

test("the host invites Ines; she is asked in German, walks over, and leaves the list", async () => {
  const page = hanna.page;
  const row = page.locator("#alone-list li", { hasText: "Ines Wolf" });
  await row.locator("button", { hasText: "Invite" }).click();
  assert.ok(hanna.sent.some((m) => m.type === "invite_to_circle" && m.id === ines.id));
  await page.waitForFunction(() => document.querySelector("#alone-list").textContent.includes("invited to a conversation"), null, { timeout: DEADLINE });
  assert.match(await page.textContent("#announcer"), /Ines Wolf is invited to a conversation with you/);

  await ines.page.waitForSelector("#talk-invite:not([hidden])", { timeout: DEADLINE });
  assert.equal(await ines.page.textContent("#talk-invite-text"), "Hanna Host lädt Sie zu einem Gespräch ein.");
  assert.equal(await ines.page.evaluate(() => document.activeElement?.id), "talk-invite-accept", "the answer has the focus");
  // (A fixed card: boxes() leaves out what has no offset parent.)
  const notice = await ines.page.$eval("#talk-invite", (el) => {
    const r = el.getBoundingClientRect();
    return { left: r.left, top: r.top, width: r.width, height: r.height };
  });
  assert.ok(notice.left >= 0 && notice.left + notice.width <= 1280 && notice.top >= 0, JSON.stringify(notice));
  await ines.page.screenshot({ path: path.join(dir, "talk-invite-de.png") });
  const found = await axe(ines.page);
  assert.deepEqual(found.violations, []);
  assert.deepEqual(found.contrastReview, []);

  await ines.page.keyboard.press("Enter");
  await ines.page.waitForSelector("#talk-invite", { state: "hidden", timeout: DEADLINE });
  await waitCircle(ines.page, [hanna.id, ines.id]);
  await page.waitForFunction(() => ![...document.querySelectorAll("#alone-list li .person-name")].some((el) => el.textContent === "Ines Wolf"), null, { timeout: DEADLINE });
  assert.deepEqual(await page.$$eval("#alone-list li .person-name", (els) => els.map((e) => e.textContent)), ["Jonas Becker"]);
});

test("go to walks the host to whoever is alone", async () => {
  const page = hanna.page;
  await page.locator("#alone-list li", { hasText: "Jonas Becker" }).locator("button", { hasText: "Go to" }).click();
  const jonas = others.ids[0];
  await page.waitForFunction((id) => window.hallway.state.myCircle()?.members.includes(id), jonas, { timeout: DEADLINE });
  await waitAt(page, jonas, 2000, 1300);
});

test("asked while typing, Ines keeps her focus; the actions menu asks too; not now closes it", async () => {
  const page = hanna.page;
  await ines.page.click("#tab-chat");
  await ines.page.click("#chat-text");
  await ines.page.keyboard.type("Hallo ");
  // From the person's actions menu this time.
  await page.fill("#people-search", "Ines");
  await page.click(`button[data-key="actions:${ines.id}"]`);
  await page.click(`#person-menu button[data-key="talk:${ines.id}"]`);
  await ines.page.waitForSelector("#talk-invite:not([hidden])", { timeout: DEADLINE });
  assert.equal(await ines.page.evaluate(() => document.activeElement?.id), "chat-text", "typing goes on where it was");
  await ines.page.keyboard.type("zusammen");
  assert.equal(await ines.page.inputValue("#chat-text"), "Hallo zusammen");
  await ines.page.click("#talk-invite-decline");
  await ines.page.waitForSelector("#talk-invite", { state: "hidden", timeout: DEADLINE });
  await page.fill("#people-search", "");
});
