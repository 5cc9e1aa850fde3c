// A room with more people than the server's welcome roster (here 3, as if it were 2,000):
// the page is welcomed with those near, says how many are in the room, learns of others as
// they walk into sight, and its people list finds anyone through the server, with "go to".
// Pictures in English and German, desktop and phone, and axe on the people list.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { startServer, person, crowd, axe, boxes, overlapping, screenshotDir, DEADLINE } from "./harness.mjs";

let server;
let others;
const people = [];

before(async () => {
  server = await startServer({ HALLWAY_FLOOR_WIDTH: "8000", HALLWAY_FLOOR_HEIGHT: "6000", HALLWAY_WELCOME_ROSTER: "3" });
  // Newcomers appear near the middle (4000, 3000): two stand near it, three far away.
  others = await crowd(server, [
    { name: "Nora Becker", x: 4250, y: 3150, profile: "Stadt Köln · Open Data" },
    { name: "Ole Hansen", x: 3800, y: 2900 },
    { name: "Jürgen Müller", x: 7400, y: 5500, profile: "Landratsamt Ebersberg · E-Akte" },
    { name: "Jana Müller-Lüdenscheidt", x: 7300, y: 500 },
    { name: "Ben Okafor", x: 500, y: 5600 },
  ]);
});

after(async () => {
  for (const p of people) await p.close();
  await others?.close();
  await server?.stop();
});

const listed = (page) => page.$$eval(".people-group li .person-name", (els) => els.map((e) => e.textContent).sort());

async function shoot(page, name) {
  await page.screenshot({ path: path.join(screenshotDir(), `big-room-${name}.png`) });
}

// At 200% zoom: half the window at twice the pixels.
for (const [lang, viewport, scale] of [
  ["en", { width: 1280, height: 800 }, 1],
  ["de", { width: 1280, height: 800 }, 1],
  ["en", { width: 390, height: 844 }, 1],
  ["de", { width: 640, height: 400 }, 2],
]) {
  test(`${lang} ${viewport.width}px ×${scale}: welcomed with those near, the people list finds anyone and goes to them`, async () => {
    const anna = await person(server, lang === "de" ? "Anna Schmidt" : "Anna Smith", { lang, viewport, scale, camera: false });
    people.push(anna);
    const page = anna.page;
    if (!(await page.isVisible("#people-search"))) await page.click("#panel-toggle");
    await page.click("#tab-people");
    await page.waitForSelector("#people-search", { state: "visible", timeout: DEADLINE });
    const inRoom = await page.evaluate(() => window.hallway.state.inRoom);
    assert.ok(inRoom >= 6, `the welcome says how many are here: ${inRoom}`);
    assert.equal(await page.textContent("#people-count"), String(inRoom), "the count is the room's, not the page's");
    const near = await listed(page);
    assert.ok(near.includes("Nora Becker") && near.includes("Ole Hansen"), near.join(", "));
    assert.ok(!near.includes("Jürgen Müller"), "those far away are not listed until found");
    const line = await page.textContent("#people-found");
    assert.match(line, lang === "de" ? /in Ihrer Nähe und Ihre Suchtreffer\. Im Raum sind insgesamt \d+ Personen\./ : /near you and those you found; \d+ are in the room\./);
    await shoot(page, `near-${lang}-${viewport.width}x${scale}`);

    await page.fill("#people-search", "muller");
    await page.waitForFunction(() => document.querySelectorAll(".people-group li").length === 2, null, { timeout: DEADLINE });
    assert.deepEqual(await listed(page), ["Jana Müller-Lüdenscheidt", "Jürgen Müller"]);
    assert.equal(await page.textContent("#people-found"), lang === "de" ? "2 gefunden" : "2 found");
    const rows = await boxes(page, ".people-group li");
    assert.deepEqual(overlapping(rows), [], "found rows do not overlap");
    await shoot(page, `found-${lang}-${viewport.width}x${scale}`);
    const report = await axe(page, "#panel");
    assert.deepEqual(report.violations, []);
    assert.deepEqual(report.contrastReview, []);

    // Go to Jürgen Müller, far away, by keyboard.
    const jurgen = others.ids[2];
    await page.focus(`button[data-key="person:${jurgen}"]`);
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => window.hallway.walker.goal?.x > 7000, null, { timeout: DEADLINE });
    await page.evaluate(() => window.hallway.walker.stop());
    await page.fill("#people-search", "");
  });
}

test("someone far away who walks into sight becomes known and is drawn", async () => {
  const carla = await person(server, "Carla Rossi", { camera: false });
  people.push(carla);
  const ben = others.ids[4];
  assert.equal(await carla.page.evaluate((id) => window.hallway.state.participants.has(id), ben), false);
  const me = await carla.page.evaluate(() => window.hallway.state.me());
  await others.send(4, { type: "move", x: Math.round(me.x) + 120, y: Math.round(me.y) + 60, walking: true });
  await carla.page.waitForFunction((id) => window.hallway.state.participants.get(id)?.name === "Ben Okafor", ben, { timeout: DEADLINE });
  await carla.page.waitForFunction((id) => window.hallway.floor.avatars.get(id)?.isConnected, ben, { timeout: DEADLINE });
  const asked = carla.sent.filter((m) => m.type === "who");
  assert.ok(asked.some((m) => m.ids.includes(ben)), "asked the server who it is");
});
