// Simulcast on a constrained link (issue #17, item 3): a receiver whose link gets slow is
// given a lower layer (instead of losing packets of the high one), and the high layer
// again once its link recovers. Ben's Chromium runs in a network namespace this test makes;
// the link into it is throttled with `tc` (a token bucket on the host's side of the link,
// so only what reaches Ben is slowed). The server learns it from Ben's congestion control
// feedback alone: nothing tells it about the throttle.
//
// Needs root (network namespaces, tc); without root it is skipped, saying why.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, rmSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startServer, person, clickFloor, waitAt, waitCircle, createRoom, sfuCamera, DEADLINE } from "./harness.mjs";
import { run, namespace, undoAll } from "./netns.mjs";

const SKIP = process.getuid?.() === 0 ? false : "needs root to make a network namespace and throttle its link";
const KEY = "browser-admin-key-throttled-0123456789";
const suffix = process.pid % 100000;
const net = 100 + (process.pid % 100);
const side = { ns: `hwsim-${suffix}`, host: `hws${suffix}`, inner: `hws${suffix}i`, hostIp: `10.${net}.9.1`, innerIp: `10.${net}.9.2` };
// Slower than the high layer of the fake camera with its audio (about 220–260 kbit/s of
// video, and audio), faster than the low one with room to spare (capped below at 80 kbit/s;
// left to itself the fake camera's low layer takes about 150 kbit/s, which with audio and
// headers filled a 220 kbit/s link and froze the picture on the losses).
const THROTTLE = ["rate", "240kbit", "burst", "16kbit", "latency", "300ms"];
const LOW_LAYER_BITRATE = 80_000;

let dir;
let server;
const people = [];
const made = [];

// How Ben's Chromium starts: in the namespace, the room's plain-HTTP origin taken as secure.
function browserInNamespace() {
  const wrapper = path.join(dir, "chromium-ns");
  writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${side.ns} ${process.env.CHROMIUM ?? "/usr/bin/chromium"} "$@"\n`);
  chmodSync(wrapper, 0o755);
  return { executable: wrapper, args: [`--unsafely-treat-insecure-origin-as-secure=${server.url}`] };
}

// Waits until the page decodes `publisher`'s camera at `width` pixels and says how long it took.
async function receivesWidth(page, publisher, width, what, within) {
  const start = Date.now();
  let last;
  for (;;) {
    last = await sfuCamera(page, publisher);
    if (last.width === width && last.frames > 0) {
      const a = await sfuCamera(page, publisher);
      await page.waitForTimeout(1000);
      const b = await sfuCamera(page, publisher);
      // Still decoding, at that size.
      if (b.width === width && b.frames > a.frames) return Date.now() - start;
    }
    if (Date.now() - start > within) throw new Error(`${what}: wanted ${width} px wide within ${within} ms, got ${JSON.stringify(last)}`);
    await page.waitForTimeout(250);
  }
}

// What the page receives of `publisher`'s camera over `ms` milliseconds.
async function videoRate(page, publisher, ms) {
  const a = await sfuCamera(page, publisher);
  await page.waitForTimeout(ms);
  const b = await sfuCamera(page, publisher);
  return { kbits: Math.round(((b.bytes - a.bytes) * 8) / ms), lost: b.lost - a.lost, frames: b.frames - a.frames, width: b.width };
}

before(async () => {
  if (SKIP) return;
  dir = mkdtempSync(path.join(tmpdir(), "hallway-throttle-"));
  namespace(side, made);
  server = await startServer({ HALLWAY_BIND: side.hostIp, HALLWAY_ADMIN_KEY: KEY });
  await createRoom(server, KEY, { slug: "vertraulich", title: "Vertraulich", privacy: true });
});

after(async () => {
  for (const p of people) await p.close().catch(() => {});
  await server?.stop();
  undoAll(made);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("a receiver whose link slows down gets the low layer, and the high one once it recovers", { skip: SKIP, timeout: 4 * 60 * 1000 }, async () => {
  const hanna = await person(server, "Hanna Berg", { room: "vertraulich", browser: { args: [`--unsafely-treat-insecure-origin-as-secure=${server.url}`] } });
  people.push(hanna);
  const ben = await person(server, "Ben Okafor", { room: "vertraulich", browser: browserInNamespace() });
  people.push(ben);
  // A circle of two in a privacy room: through the SFU, each shows the other large.
  await clickFloor(hanna.page, 600, 600);
  await waitAt(ben.page, hanna.id, 600, 600);
  await clickFloor(ben.page, 650, 600);
  await waitCircle(ben.page, [hanna.id, ben.id]);
  await ben.page.waitForFunction((id) => window.hallway.sfu.summary().streams.includes(`p${id}`), hanna.id, { timeout: DEADLINE });
  await receivesWidth(ben.page, hanna.id, 640, "Ben on a free link", 3 * DEADLINE);
  // Hanna's low layer made clearly cheaper than the high one, through the sender's own
  // parameters (the fake camera's two layers are otherwise only 1.6 times apart).
  await hanna.page.evaluate(async (bitrate) => {
    const { sender } = window.hallway.sfu.senders.camera;
    const parameters = sender.getParameters();
    const low = parameters.encodings.find((e) => e.rid === "m");
    if (!low) throw new Error(`no layer "m" among ${JSON.stringify(parameters.encodings)}`);
    low.maxBitrate = bitrate;
    await sender.setParameters(parameters);
  }, LOW_LAYER_BITRATE);
  const free = await videoRate(ben.page, hanna.id, 3000);

  // Whether Hanna's browser stops encoding her high layer while Ben, her only receiver,
  // cannot take it (sampled every 100 ms from here on).
  await hanna.page.evaluate(() => {
    window.highPaused = null;
    window.highPauses = [];
    const since = Date.now();
    window.highWatch = setInterval(() => {
      const paused = window.hallway.sfu.summary().layers.h === false;
      const last = window.highPauses.at(-1);
      if (paused) window.highPaused ??= Date.now() - since;
      if (paused && (!last || last.to)) window.highPauses.push({ from: Date.now() - since, to: null });
      if (!paused && last && !last.to) last.to = Date.now() - since;
    }, 100);
  });
  run("tc", ["qdisc", "add", "dev", side.host, "root", "tbf", ...THROTTLE]);
  made.push(() => run("tc", ["qdisc", "del", "dev", side.host, "root"]));
  const down = await receivesWidth(ben.page, hanna.id, 320, "Ben on a throttled link", 45_000);
  const throttled = await videoRate(ben.page, hanna.id, 5000);
  console.log(`# free link: ${free.kbits} kbit/s of video; throttled to 240 kbit/s: the low layer after ${down} ms, then ${throttled.kbits} kbit/s of video, ${throttled.lost} packets lost and ${throttled.frames} frames decoded in 5 s`);
  assert.equal(throttled.width, 320, "still the low layer while throttled");
  assert.ok(throttled.frames > 0, "still decoding while throttled");
  // Nobody can take the high layer: Hanna's browser is told to pause it (4 s after the
  // call for it fell; it is sent again for each attempt to go back up).
  const paused = await hanna.page
    .waitForFunction(() => window.highPaused, null, { timeout: 30_000, polling: 200 })
    .then((h) => h.jsonValue())
    .catch(() => null);
  console.log(`# Hanna's high layer paused ${paused} ms after the link was throttled`);
  assert.ok(paused !== null, `Hanna's high layer is paused while her only receiver cannot take it: ${JSON.stringify(await hanna.page.evaluate(() => window.hallway.sfu.summary()))}`);

  run("tc", ["qdisc", "del", "dev", side.host, "root"]);
  made.pop();
  const up = await receivesWidth(ben.page, hanna.id, 640, "Ben once the link recovered", 90_000);
  console.log(`# link free again: the high layer after ${up} ms`);
  // Paused, it stayed paused until the next try to go back up was due (at least 6.5 s
  // after the estimate had climbed again), not sent again a moment later.
  const pauses = await hanna.page.evaluate(() => {
    clearInterval(window.highWatch);
    return window.highPauses;
  });
  console.log(`# Hanna's high layer paused (ms after throttling): ${JSON.stringify(pauses)}`);
  assert.ok(pauses[0] && pauses[0].to - pauses[0].from >= 3000, `the high layer stayed paused for a while: ${JSON.stringify(pauses)}`);
});
