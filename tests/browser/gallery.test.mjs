// The screenshot gallery (docs/screenshots/): the join screen, a circle of three in
// conversation (desktop, German), a circle of eight, a screen share, the phone layout, 200%
// zoom, and a room with a floor plan and 30 people. Written to target/browser-tests/
// screenshots/; HALLWAY_SCREENSHOTS=docs/screenshots ./scripts/test refreshes the committed
// ones. Each picture also checks what it shows (tile sizes, nothing overlapping).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import path from "node:path";
import { startServer, person, clickFloor, waitCircle, formCircle, crowd, boxes, overlapping, mintLink, screenshotDir, DEADLINE } from "./harness.mjs";

const dir = screenshotDir();

let server;
const people = [];

before(async () => {
  server = await startServer();
});

after(async () => {
  for (const p of people) await p.close();
  await server?.stop();
});

async function shoot(page, name) {
  const file = path.join(dir, `${name}.png`);
  await page.screenshot({ path: file });
  assert.ok(statSync(file).size > 10_000, `${name}: the picture shows something`);
}

test("join screen (German)", async () => {
  const browser = await (await import("playwright-core")).chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, locale: "de-DE" });
    await page.goto(`${server.url}/r/lobby`);
    await page.fill("#name", "Dr. Dana Müller-Lüdenscheidt");
    await page.waitForFunction(() => document.querySelector("#preview").videoWidth > 0, null, { timeout: DEADLINE });
    await shoot(page, "join");
  } finally {
    await browser.close();
  }
});

test("a circle of three in conversation (desktop, German)", async () => {
  const names = ["Anna Schmidt-Weißenfels", "Ben Okafor", "Prof. Dr. Clara Meyer-Hohenstein"];
  const [a, b, c] = await Promise.all(names.map((name) => person(server, name, { lang: "de" })));
  people.push(a, b, c);
  try {
    await circleOfThree(a, b, c);
  } finally {
    // The next picture runs on a machine with no browsers left over from this one.
    for (const p of people.splice(0)) await p.close();
  }
});

async function circleOfThree(a, b, c) {
  await formCircle(a, b, 700, 700);
  await clickFloor(c.page, 730, 750);
  await waitCircle(a.page, [a.id, b.id, c.id]);
  await a.page.waitForFunction(() => document.querySelectorAll("#tiles .tile.has-video").length === 2, null, { timeout: DEADLINE });
  await a.page.waitForTimeout(1500);
  const tiles = await boxes(a.page, "#conversation .tile");
  assert.deepEqual(overlapping(tiles), []);
  // One's own smaller picture beside the others' row, level with it (it sat at the
  // bottom, below the row, before).
  const [own] = await boxes(a.page, "#self-view .tile");
  const row = await boxes(a.page, "#tiles .tile");
  const middle = (b) => b.top + b.height / 2;
  assert.ok(own && row.length === 2, `own picture beside two tiles: ${JSON.stringify({ own, row })}`);
  for (const b of row) assert.ok(Math.abs(middle(b) - middle(own)) <= 2, `own picture level with the row: ${JSON.stringify({ own, row })}`);
  // Right beside the row (a gap as wide as the row's spare room made it look apart), the
  // two centred together in the conversation.
  const [body] = await boxes(a.page, ".conversation-body");
  const rowEnd = Math.max(...row.map((b) => b.left + b.width));
  const rowStart = Math.min(...row.map((b) => b.left));
  assert.ok(own.left - rowEnd >= 0 && own.left - rowEnd <= 20, `own picture right beside the row: ${JSON.stringify({ own, rowEnd })}`);
  assert.ok(Math.abs(rowStart - body.left - (body.left + body.width - (own.left + own.width))) <= 3, `the row and one's own picture centred together: ${JSON.stringify({ body, rowStart, own })}`);
  await shoot(a.page, "circle-3-de");
  // The same circle on a phone in portrait: the conversation as a strip above the floor.
  // Her own camera stays off: a fourth camera through the SFU, with five browsers and the
  // debug server on two cores, starves the pages until they give up their connections
  // (seen in CI rehearsals: "reconnecting", a circle that never settles). The picture is of
  // the others' tiles on a phone.
  const phone = await person(server, "Fatima Yilmaz", { lang: "de", viewport: { width: 390, height: 844 }, touch: true, camera: false });
  people.push(phone);
  await clickFloor(phone.page, 690, 760);
  await waitCircle(phone.page, [a.id, b.id, c.id, phone.id]);
  await phone.page.waitForFunction(() => document.querySelectorAll("#tiles .tile.has-video").length === 3, null, { timeout: 3 * DEADLINE });
  await phone.page.waitForTimeout(1500);
  await shoot(phone.page, "phone-de");
  // And at 200% zoom (a 1280×800 window): the floor keeps half the height.
  const zoomed = await person(server, "Gustav Zoom", { lang: "de", viewport: { width: 640, height: 400 }, scale: 2 });
  people.push(zoomed);
  await shoot(zoomed.page, "zoom-200-de");
  // The phone and the zoomed page have had their pictures; the screen share is pictured
  // with the three (five browsers, one sharing its screen, are more than a small machine
  // runs smoothly).
  // They leave (a closed browser would keep its place for a while, as a dropped one does).
  for (const p of [phone, zoomed]) {
    await p.page.evaluate(() => document.querySelector("#leave").click());
    await p.page.waitForSelector("#leave-confirm[open]", { timeout: DEADLINE });
    await p.page.evaluate(() => document.querySelector("#leave-confirmed").click());
    await p.page.waitForSelector("#ended-heading", { timeout: DEADLINE });
    await p.close();
  }
  people.splice(people.indexOf(phone), 1);
  people.splice(people.indexOf(zoomed), 1);
  await waitCircle(a.page, [a.id, b.id, c.id]);
  // A screen share: the screen large, the people beside it.
  await b.page.click("#screen-toggle");
  await a.page.waitForSelector('.screen-area .tile[data-kind="screen"].has-video', { timeout: 2 * DEADLINE });
  // Until the shared page itself is on screen (light, like the page shared), not the black
  // of a video that has no frame decoded yet. On a loaded machine the first frame can take
  // longer than this: then the picture is taken as it is and the run says so (the screen
  // as a tile of its own is asserted in conversation.test.mjs; this file takes pictures).
  const light = await a.page.waitForFunction(
    () => {
      const video = document.querySelector('.screen-area .tile[data-kind="screen"] video');
      if (!video || video.readyState < 2) return false;
      const canvas = document.createElement("canvas");
      canvas.width = 64;
      canvas.height = 36;
      const g = canvas.getContext("2d");
      g.drawImage(video, 0, 0, 64, 36);
      const data = g.getImageData(0, 0, 64, 36).data;
      let sum = 0;
      for (let i = 0; i < data.length; i += 4) sum += data[i] + data[i + 1] + data[i + 2];
      return sum / (data.length / 4) / 3 > 100;
    },
    null,
    { timeout: 2 * DEADLINE, polling: 500 },
  ).catch(() => null);
  if (!light) console.warn("gallery: the shared screen showed no light frame within 40 s; screen-share-de taken as it is");
  await a.page.waitForTimeout(500);
  await shoot(a.page, "screen-share-de");
  await b.page.click("#screen-toggle");
}

test("a circle of eight (English)", async () => {
  const own = await startServer();
  const names = ["Amelia Hart", "Bilal Rahman", "Chen Wei", "Dorothea von Brandenburg-Ansbach", "Eero Virtanen", "Fiona O'Neill", "Giulia Bianchi", "Hamid Karimi"];
  // Three with their cameras on, in browsers of their own; five with cameras off, joined
  // over plain WebSockets (eight browsers sending video are more than a small machine
  // runs): a circle as it often looks, some pictures, some initials.
  const at = (i) => ({ x: 1200 + 40 * Math.cos((i / 8) * 2 * Math.PI), y: 800 + 40 * Math.sin((i / 8) * 2 * Math.PI) });
  const quiet = await crowd(own, names.slice(3).map((name, k) => ({ name, ...at(k + 3) })));
  const eight = [];
  try {
    for (const name of names.slice(0, 3)) eight.push(await person(own, name));
    const [first] = eight;
    for (const [i, p] of eight.entries()) {
      await clickFloor(p.page, at(i).x, at(i).y);
      await p.page.waitForFunction((n) => window.hallway.state.myCircle()?.members.length === n, 6 + i, { timeout: DEADLINE });
    }
    await first.page.waitForFunction(() => document.querySelectorAll("#tiles .tile:not(.self)").length === 7, null, { timeout: DEADLINE });
    // The two other cameras, in their tiles and in their bubbles on the floor (the SFU may
    // bring someone's video after their sound: both follow the stream's tracks).
    await first.page.waitForFunction(() => document.querySelectorAll("#tiles .tile.has-video:not(.self)").length === 2, null, { timeout: 2 * DEADLINE });
    await first.page.waitForFunction(() => document.querySelectorAll("#floor .avatar.has-video").length === 3, null, { timeout: DEADLINE });
    await first.page.waitForTimeout(2000);
    const tiles = await boxes(first.page, "#conversation .tile");
    assert.deepEqual(overlapping(tiles), []);
    // Seven others in four columns of two rows: one's own picture takes the eighth place,
    // as large as theirs.
    const [mine] = await boxes(first.page, "#tiles .tile.self");
    assert.ok(mine && tiles.every((t) => Math.abs(t.width - mine.width) <= 1), `one's own picture among the others: ${JSON.stringify(tiles.map((t) => Math.round(t.width)))}`);
    await shoot(first.page, "circle-8-en");
  } finally {
    for (const p of eight) await p.close();
    await quiet.close();
    await own.stop();
  }
});

test("a room with 30 people (English)", async () => {
  const own = await startServer();
  const first = ["Anna", "Ben", "Clara", "David", "Elif", "Felix", "Greta", "Hannes", "Ines", "Jonas", "Katrin", "Lukas", "Maja", "Nils", "Olga", "Paul", "Quentin", "Rosa", "Sven", "Tanja", "Ulrich", "Vera", "Wim", "Xenia", "Yusuf", "Zoe", "Ada", "Bruno"];
  const last = ["Schmidt", "Okafor", "Weber", "Nguyen", "Yilmaz", "Becker", "Hoffmann", "Klein", "Wolf", "Neumann"];
  // Groups standing together (they form circles) and a few walking alone.
  const spots = [];
  const groups = [[700, 600, 4], [1150, 520, 3], [1500, 800, 5], [900, 1050, 3], [1350, 1150, 2]];
  for (const [x, y, n] of groups) for (let i = 0; i < n; i++) spots.push([x + 35 * Math.cos((i / n) * 6.28), y + 35 * Math.sin((i / n) * 6.28)]);
  while (spots.length < 28) spots.push([500 + ((spots.length * 397) % 1500), 350 + ((spots.length * 263) % 1000)]);
  const list = first.map((name, i) => ({ name: `${name} ${last[i % last.length]}`, x: spots[i][0], y: spots[i][1] }));
  const many = await crowd(own, list);
  const me = await person(own, "Dana Miller", { link: mintLink(own, ["--room", "lobby", "--role", "host"]) });
  const you = await person(own, "Emil Janssen");
  try {
    // The host puts the room in the foyer.
    await me.page.evaluate(() => window.hallway.conn.send({ type: "set_floor_plan", plan: "builtin:foyer" }));
    await formCircle(me, you, 1100, 800);
    await me.page.waitForFunction(() => window.hallway.state.participants.size === 30 && window.hallway.state.circles.size >= 6, null, { timeout: 2 * DEADLINE });
    await me.page.click("#zoom-out");
    await me.page.click("#zoom-out");
    await me.page.waitForTimeout(1500);
    const tags = await boxes(me.page, ".avatar .tag:not(.hidden-tag)");
    assert.deepEqual(overlapping(tags), [], "name tags never overlap");
    await shoot(me.page, "room-30-en");
  } finally {
    await me.close();
    await you.close();
    await many.close();
    await own.stop();
  }
});
