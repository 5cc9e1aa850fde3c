// Areas drawn on the floor (real Chromium, real server): a host draws an area by dragging
// on the floor, names it and sets its rules in the form, moves it by dragging it, resizes
// it by its corner handle and changes its rules from the list; everyone sees every change
// at once. A click on an area that does not move still walks there. Participants get no
// handles.

import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { person, mintLink, screenshotDir, serverForFile, DEADLINE } from "./harness.mjs";

const dir = screenshotDir();
const room = serverForFile();

// Where floor point (x, y) is on the screen now (the floor is zoomed out to fit: no
// scrolling between the points of one drag).
const screenAt = (page, x, y) =>
  page.evaluate(([fx, fy]) => {
    const rect = document.querySelector(".surface").getBoundingClientRect();
    const scale = rect.width / window.hallway.state.room.width;
    return { x: rect.left + fx * scale, y: rect.top + fy * scale };
  }, [x, y]);

async function drag(page, from, to, { before } = {}) {
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move((from.x + to.x) / 2, (from.y + to.y) / 2, { steps: 4 });
  await page.mouse.move(to.x, to.y, { steps: 4 });
  await before?.();
  await page.mouse.up();
}

const areaNamed = (page, name) => page.evaluate((n) => window.hallway.state.areas.find((a) => a.name === n) ?? null, name);
const near = (a, b, by = 8) => Math.abs(a - b) <= by;

test("a host draws, names, moves, resizes and changes an area; everyone sees it", async () => {
  const { server, people } = room;
  const hanna = await person(server, "Hanna Host", { link: mintLink(server, ["--room", "lobby", "--role", "host"]) });
  const anna = await person(server, "Anna Schmidt");
  people.push(hanna, anna);
  const page = hanna.page;
  for (let i = 0; i < 6; i++) await page.click("#zoom-out");
  await page.click("#tab-host");
  await page.click("#area-draw");
  assert.equal(await page.getAttribute("#area-draw", "aria-pressed"), "true");

  // Draw: a drag on the floor from (1700, 1100) to (2100, 1400).
  const from = await screenAt(page, 1700, 1100);
  const to = await screenAt(page, 2100, 1400);
  await drag(page, from, to, { before: () => page.screenshot({ path: path.join(dir, "draw-area-en.png") }) });
  await page.waitForFunction(() => document.activeElement?.id === "area-name", null, { timeout: DEADLINE });
  const drawn = await page.evaluate(() => ["x", "y", "w", "h"].map((k) => Number(document.querySelector(`#area-${k}`).value)));
  assert.ok(near(drawn[0], 1700) && near(drawn[1], 1100) && near(drawn[2], 400) && near(drawn[3], 300), `drawn at ${drawn}`);
  assert.equal(await page.getAttribute("#area-draw", "aria-pressed"), "false", "drawing ends with the drag");
  assert.match(await page.textContent("#announcer"), /Area drawn/);

  // Named and given rules in the form; everyone sees it.
  await page.fill("#area-name", "Garten");
  await page.check("#area-quiet");
  await page.fill("#area-max", "8");
  await page.click("#area-submit");
  await anna.page.waitForFunction(() => [...document.querySelectorAll(".area.quiet .area-label")].some((el) => el.textContent === "Garten"), null, { timeout: DEADLINE });
  const made = await areaNamed(anna.page, "Garten");
  assert.equal(made.max_people, 8);
  assert.equal(await anna.page.locator(".area-handle").count(), 0, "participants get no handles");

  // Moved by dragging its middle 200 to the left and 100 up.
  await page.waitForFunction(() => [...document.querySelectorAll(".area .area-label")].some((el) => el.textContent === "Garten"), null, { timeout: DEADLINE });
  const mid = await screenAt(page, made.x + made.width / 2, made.y + made.height / 2);
  const left = await screenAt(page, made.x + made.width / 2 - 200, made.y + made.height / 2 - 100);
  await drag(page, mid, left);
  await anna.page.waitForFunction((x) => window.hallway.state.areas.find((a) => a.name === "Garten")?.x < x - 100, made.x, { timeout: DEADLINE });
  const moved = await areaNamed(anna.page, "Garten");
  assert.ok(near(moved.x, made.x - 200) && near(moved.y, made.y - 100), `moved to ${moved.x}, ${moved.y}`);
  assert.equal(moved.width, made.width, "moving keeps the size");

  // Resized by its corner handle: 100 wider, 50 taller.
  await page.waitForFunction((x) => window.hallway.state.areas.find((a) => a.name === "Garten")?.x < x - 100, made.x, { timeout: DEADLINE });
  const handle = await page.evaluate(() => {
    const area = [...document.querySelectorAll(".area")].find((el) => el.querySelector(".area-label")?.textContent === "Garten");
    const r = area.querySelector(".area-handle.se").getBoundingClientRect();
    return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
  });
  const scale = await page.evaluate(() => document.querySelector(".surface").getBoundingClientRect().width / window.hallway.state.room.width);
  await drag(page, handle, { x: handle.x + 100 * scale, y: handle.y + 50 * scale });
  await anna.page.waitForFunction((w) => window.hallway.state.areas.find((a) => a.name === "Garten")?.width > w + 50, made.width, { timeout: DEADLINE });
  const resized = await areaNamed(anna.page, "Garten");
  assert.ok(near(resized.width, made.width + 100) && near(resized.height, made.height + 50), `resized to ${resized.width} × ${resized.height}`);
  assert.ok(near(resized.x, moved.x, 1) && near(resized.y, moved.y, 1), "resizing keeps the corner");
  assert.equal(await page.evaluate(() => [...document.querySelectorAll(".area")].find((el) => el.querySelector(".area-label")?.textContent === "Garten").querySelectorAll(".area-handle").length), 4, "a handle at each corner");

  // Resized by its top-left handle: 60 further left and 40 higher; the bottom-right stays.
  const topLeft = await page.evaluate(() => {
    const area = [...document.querySelectorAll(".area")].find((el) => el.querySelector(".area-label")?.textContent === "Garten");
    const r = area.querySelector(".area-handle.nw").getBoundingClientRect();
    return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
  });
  await drag(page, topLeft, { x: topLeft.x - 60 * scale, y: topLeft.y - 40 * scale });
  await anna.page.waitForFunction((x) => window.hallway.state.areas.find((a) => a.name === "Garten")?.x < x - 30, resized.x, { timeout: DEADLINE });
  const grown = await areaNamed(anna.page, "Garten");
  assert.ok(near(grown.x, resized.x - 60) && near(grown.y, resized.y - 40), `top-left at ${grown.x}, ${grown.y}`);
  assert.ok(near(grown.x + grown.width, resized.x + resized.width, 1) && near(grown.y + grown.height, resized.y + resized.height, 1), "the bottom-right corner stays");

  // Its rules changed from the list: a stage now, not quiet.
  await page.click('#area-list button[aria-label="Change area Garten"]');
  assert.equal(await page.inputValue("#area-name"), "Garten");
  assert.equal(await page.textContent("#area-submit"), "Save area");
  await page.uncheck("#area-quiet");
  await page.check("#area-stage");
  await page.click("#area-submit");
  await anna.page.waitForFunction(() => [...document.querySelectorAll(".area.stage-area .area-label")].some((el) => el.textContent === "Garten"), null, { timeout: DEADLINE });
  assert.equal(await anna.page.evaluate(() => window.hallway.state.areas.length), 2, "changed, not added: the demo stage and the garden");

  // A click on the area that does not move walks there.
  const spot = await screenAt(page, grown.x + 60, grown.y + 60);
  await page.mouse.click(spot.x, spot.y);
  await page.waitForFunction(([x, y]) => {
    const me = window.hallway.state.me();
    return Math.hypot(me.x - x, me.y - y) < 40;
  }, [grown.x + 60, grown.y + 60], { timeout: DEADLINE });
});
