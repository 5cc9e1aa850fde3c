// Layouts (real Chromium): the control bar fits one row at 1280 px in both languages, and at
// 200% and 400% browser zoom on a 1280×800 window the floor keeps at least half of the
// window's height, in the room and in a circle.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { startServer, person, formCircle, boxes, overlapping, mintLink, axe, screenshotDir, DEADLINE } from "./harness.mjs";

let server;
const people = [];

before(async () => {
  server = await startServer();
});

after(async () => {
  for (const p of people) await p.close();
  await server?.stop();
});

async function controlRows(page) {
  const shown = await boxes(page, ".controlbar button");
  return { rows: new Set(shown.map((b) => Math.round(b.top))).size, shown };
}

for (const [lang, role] of [["en", "participant"], ["de", "participant"], ["en", "host"], ["de", "host"]]) {
  test(`the control bar fits one row at 1280×800 (${lang}, ${role}), nothing overlaps or sticks out`, async () => {
    const name = lang === "de" ? "Dr. Dana Müller-Lüdenscheidt" : "Dana Miller";
    const link = role === "host" ? mintLink(server, ["--room", "lobby", "--role", "host"]) : undefined;
    const p = await person(server, name, { lang, link });
    people.push(p);
    // A host has the stage button too: with German labels the bar falls back to icons.
    if (role === "host") await p.page.waitForSelector("#on-air-toggle:not([hidden])", { timeout: DEADLINE });
    await p.page.waitForTimeout(100);
    const { rows, shown } = await controlRows(p.page);
    assert.equal(rows, 1, `one row: ${JSON.stringify(shown.map((b) => [b.text, Math.round(b.top)]))}`);
    assert.deepEqual(overlapping(shown), []);
    const outside = shown.filter((b) => b.left < -0.5 || b.left + b.width > 1280.5).map((b) => b.text);
    assert.deepEqual(outside, [], "every control inside the window");
    // Every label shown is fully visible (not cut off); labels hidden on purpose (icons
    // alone, when they do not fit) still name their buttons for screen readers.
    const clipped = await p.page.evaluate(() => [...document.querySelectorAll(".controlbar .label")].filter((l) => l.offsetParent && getComputedStyle(l).clipPath === "none" && l.scrollWidth > l.clientWidth + 1).map((l) => l.textContent));
    assert.deepEqual(clipped, []);
    const unnamed = await p.page.evaluate(() => [...document.querySelectorAll(".controlbar button")].filter((b) => b.offsetParent && !(b.getAttribute("aria-label") || b.textContent.trim())).map((b) => b.id));
    assert.deepEqual(unnamed, []);
    await p.close();
    people.splice(people.indexOf(p), 1);
  });
}

for (const [zoom, viewport] of [[200, { width: 640, height: 400 }], [400, { width: 320, height: 200 }]]) {
  test(`at ${zoom}% zoom the floor keeps at least half the height, in the room and in a circle`, async () => {
    const a = await person(server, `Zoom ${zoom} Anna`, { viewport, scale: zoom / 100 });
    const b = await person(server, `Zoom ${zoom} Ben`);
    people.push(a, b);
    const floorShare = () => a.page.evaluate(() => document.querySelector("#floor").getBoundingClientRect().height / innerHeight);
    assert.ok((await floorShare()) >= 0.5, `room: floor ${(await floorShare()).toFixed(2)} of the height`);
    const { rows } = await controlRows(a.page);
    assert.equal(rows, 1, "the controls stay in one row");
    // Someone is visible: one's own avatar is inside the floor's view.
    const visible = await a.page.evaluate(() => {
      const floor = document.querySelector("#floor").getBoundingClientRect();
      const me = document.querySelector(".avatar.me .face").getBoundingClientRect();
      return me.left >= floor.left && me.right <= floor.right && me.top >= floor.top && me.bottom <= floor.bottom;
    });
    assert.ok(visible, "one's own avatar is in view");
    await formCircle(a, b, 900 + zoom, 700);
    await a.page.waitForSelector("#conversation:not([hidden])", { timeout: DEADLINE });
    assert.ok((await floorShare()) >= 0.5, `circle: floor ${(await floorShare()).toFixed(2)} of the height`);
    const page = await a.page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(page <= viewport.width, "no sideways scrolling");
    // The conversation's head (real-time text, lock, leave) does not fit here: the More
    // menu offers all three, by keyboard.
    assert.equal(await a.page.isVisible("#leave-circle"), false);
    const fromMenu = async (item) => {
      await a.page.focus("#more-button");
      await a.page.keyboard.press("Enter");
      await a.page.waitForSelector(item, { state: "visible", timeout: DEADLINE });
      await a.page.focus(item);
      await a.page.keyboard.press("Enter");
    };
    await fromMenu("#menu-lock-circle");
    await a.page.waitForFunction(() => window.hallway.state.myCircle()?.locked === true, null, { timeout: DEADLINE });
    await fromMenu("#menu-rtt");
    await a.page.waitForSelector("#rtt", { state: "visible", timeout: DEADLINE });
    assert.equal(await a.page.textContent("#menu-rtt span"), "Close real-time text");
    assert.equal(await a.page.textContent("#menu-lock-circle span"), "Unlock circle");
    await fromMenu("#menu-rtt");
    await a.page.waitForSelector("#rtt", { state: "hidden", timeout: DEADLINE });
    await fromMenu("#menu-lock-circle");
    await a.page.waitForFunction(() => window.hallway.state.myCircle()?.locked === false, null, { timeout: DEADLINE });
    await a.page.focus("#more-button");
    await a.page.keyboard.press("Enter");
    await a.page.waitForSelector("#menu-leave-circle", { state: "visible", timeout: DEADLINE });
    // The menu fits the window (scrolling when it is taller), and so does the item.
    const [menu] = await boxes(a.page, "#more-menu");
    assert.ok(menu.top >= 0 && menu.top + menu.height <= viewport.height, `the menu in the window: ${JSON.stringify(menu)}`);
    await a.page.focus("#menu-leave-circle");
    const [item] = await boxes(a.page, "#menu-leave-circle");
    assert.ok(item.top >= 0 && item.top + item.height <= viewport.height && item.left >= 0 && item.left + item.width <= viewport.width, `in the window: ${JSON.stringify(item)}`);
    await a.page.screenshot({ path: path.join(screenshotDir(), `more-menu-zoom-${zoom}-en.png`) });
    const report = await axe(a.page, "#more-menu");
    assert.deepEqual(report.violations, []);
    assert.deepEqual(report.contrastReview, []);
    await a.page.keyboard.press("Enter");
    await a.page.waitForFunction(() => !window.hallway.state.myCircle(), null, { timeout: DEADLINE });
    await a.page.waitForSelector("#conversation", { state: "hidden", timeout: DEADLINE });
  });
}
