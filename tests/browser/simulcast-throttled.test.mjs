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
// Slower than the high layer of the fake camera with its audio, faster than the low one.
const THROTTLE = ["rate", "220kbit", "burst", "16kbit", "latency", "300ms"];

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

  run("tc", ["qdisc", "add", "dev", side.host, "root", "tbf", ...THROTTLE]);
  made.push(() => run("tc", ["qdisc", "del", "dev", side.host, "root"]));
  const down = await receivesWidth(ben.page, hanna.id, 320, "Ben on a throttled link", 45_000);
  const before = await sfuCamera(ben.page, hanna.id);
  await ben.page.waitForTimeout(5000);
  const after = await sfuCamera(ben.page, hanna.id);
  const rate = ((after.bytes - before.bytes) * 8) / 5;
  console.log(`# throttled to 220 kbit/s: the low layer after ${down} ms, then ${Math.round(rate / 1000)} kbit/s of video, ${after.lost - before.lost} packets lost in 5 s`);
  assert.equal(after.width, 320, "still the low layer while throttled");
  assert.ok(after.frames > before.frames, "still decoding while throttled");

  run("tc", ["qdisc", "del", "dev", side.host, "root"]);
  made.pop();
  const up = await receivesWidth(ben.page, hanna.id, 640, "Ben once the link recovered", 60_000);
  console.log(`# link free again: the high layer after ${up} ms`);
});
