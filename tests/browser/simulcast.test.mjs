// Simulcast (issue #17, item 3): a camera goes to the SFU in layers, and each receiver
// gets the one layer that fits the size at which its page shows the camera (the page
// tells the server with `sfu_view`). In a circle of a privacy room (all media through the
// SFU), a member whose window is small receives the low layer's picture and bit rate of
// another member's camera while one with a large window receives the high layer; once the
// small window grows, its member moves up.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, person, clickFloor, createRoom, sfuCamera, DEADLINE } from "./harness.mjs";

const KEY = "browser-admin-key-simulcast-0123456789";
let server;
const people = [];

before(async () => {
  server = await startServer({ HALLWAY_ADMIN_KEY: KEY });
  await createRoom(server, KEY, { slug: "vertraulich", title: "Vertraulich", privacy: true });
});

after(async () => {
  for (const p of people) await p.close();
  await server?.stop();
});

// Waits until the page decodes `publisher`'s camera at `width` pixels (a layer's width).
async function receivesWidth(page, publisher, width, what) {
  const until = Date.now() + 3 * DEADLINE;
  let last;
  for (;;) {
    last = await sfuCamera(page, publisher);
    if (last.width === width && last.frames > 0) return;
    if (Date.now() > until) {
      const views = await page.evaluate(() => window.hallway.sfu.summary().views);
      throw new Error(`${what}: wanted ${width} px wide, got ${JSON.stringify(last)}; views told ${views}`);
    }
    await page.waitForTimeout(250);
  }
}

// Bits per second received of `publisher`'s camera over `ms`.
async function bitRate(page, publisher, ms = 4000) {
  const a = await sfuCamera(page, publisher);
  await page.waitForTimeout(ms);
  const b = await sfuCamera(page, publisher);
  return ((b.bytes - a.bytes) * 8 * 1000) / ms;
}

// The largest width at which the page shows `publisher`'s camera (a conversation tile,
// or the bubble on the floor when the window is too low for the conversation).
async function tileWidth(page, publisher) {
  return page.evaluate((id) => {
    const { sfu } = window.hallway;
    const stream = sfu.streams.get(`p${id}`);
    const videos = [...document.querySelectorAll("video")].filter((v) => v.srcObject === stream);
    return Math.max(0, ...videos.map((v) => v.getBoundingClientRect().width));
  }, publisher);
}

test("each member receives the layer of a camera that fits their view of it", async () => {
  const hanna = await person(server, "Hanna Berg", { room: "vertraulich" });
  const large = await person(server, "Anna Schmidt", { room: "vertraulich" });
  const small = await person(server, "Ben Okafor", { room: "vertraulich", viewport: { width: 520, height: 420 } });
  people.push(hanna, large, small);
  await clickFloor(hanna.page, 600, 600);
  await clickFloor(large.page, 650, 600);
  await clickFloor(small.page, 620, 650);
  for (const member of [large, small]) {
    await member.page.waitForFunction((id) => window.hallway.sfu.summary().streams.includes(`p${id}`), hanna.id, { timeout: DEADLINE });
  }

  // Hanna's 640 × 360 camera goes out in two layers: 320 × 180 and 640 × 360.
  await receivesWidth(large.page, hanna.id, 640, "the large window");
  await receivesWidth(small.page, hanna.id, 320, "the small window");
  const [largeTile, smallTile] = [await tileWidth(large.page, hanna.id), await tileWidth(small.page, hanna.id)];
  assert.ok(largeTile > 360, `the large window shows Hanna ${largeTile} px wide`);
  assert.ok(smallTile > 0 && smallTile < 340, `the small window shows Hanna ${smallTile} px wide`);
  const [largeRate, smallRate] = await Promise.all([bitRate(large.page, hanna.id), bitRate(small.page, hanna.id)]);
  console.log(`# Hanna's camera received: large window ${Math.round(largeRate / 1000)} kbit/s (${largeTile} px), small window ${Math.round(smallRate / 1000)} kbit/s (${smallTile} px)`);
  assert.ok(smallRate < largeRate * 0.7, `the low layer costs less: ${smallRate} against ${largeRate}`);
  assert.ok(smallRate < 450_000, `the low layer stays under its 400 kbit/s cap: ${smallRate}`);

  // The small window grows: its member moves up to the high layer.
  await small.page.setViewportSize({ width: 1280, height: 800 });
  await receivesWidth(small.page, hanna.id, 640, "the window that grew");
});
