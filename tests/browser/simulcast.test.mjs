// Simulcast (issue #17, item 3): a camera goes to the SFU in layers, and each receiver
// gets the one layer that fits the size at which its page shows the camera (the page
// tells the server with `sfu_view`). In a circle of a privacy room (all media through the
// SFU), a member whose window is small receives the low layer's picture and bit rate of
// another member's camera while one with a large window receives the high layer; once the
// small window grows, its member moves up. A layer no member receives is paused: the
// publisher's browser stops encoding it until someone's view needs it again.
// A camera turned on after entering without it goes out in those layers too.

import { test, before, after, afterEach } from "node:test";
import assert from "node:assert/strict";
import { startServer, person, clickFloor, createRoom, sfuCamera, DEADLINE } from "./harness.mjs";

const KEY = "browser-admin-key-simulcast-0123456789";
let server;
const people = [];

before(async () => {
  server = await startServer({ HALLWAY_ADMIN_KEY: KEY });
  await createRoom(server, KEY, { slug: "vertraulich", title: "Vertraulich", privacy: true });
  await createRoom(server, KEY, { slug: "klein", title: "Klein", privacy: true });
});

// Each test's people leave when it ends: their browsers would otherwise go on encoding
// and decoding through the next test, and two cores shared by six browsers starve each
// one's sending (its bandwidth estimate falls for delays that are the machine's, and the
// top layer is never sent).
afterEach(async () => {
  await Promise.allSettled(people.splice(0).map((p) => p.close()));
});

after(async () => {
  await server?.stop();
});

// Waits until the page decodes `publisher`'s camera at `width` pixels (a layer's width).
// `sender`: the publisher's page, whose layers a failure reports.
async function receivesWidth(page, publisher, width, what, sender) {
  const until = Date.now() + 3 * DEADLINE;
  let last;
  for (;;) {
    last = await sfuCamera(page, publisher);
    if (last.width === width && last.frames > 0) return;
    if (Date.now() > until) {
      const views = await page.evaluate(() => window.hallway.sfu.summary().views);
      const sent = sender ? `; the publisher sends ${await sentLayers(sender).then(JSON.stringify, (e) => `(unknown: ${e.message})`)}` : "";
      throw new Error(`${what}: wanted ${width} px wide, got ${JSON.stringify(last)}; views told ${JSON.stringify(views)}${sent}`);
    }
    await page.waitForTimeout(250);
  }
}

// What the page sends of its camera, layer by layer: on or off, width, frames per second
// and what limits its quality (for a failure's message).
async function sentLayers(page) {
  return page.evaluate(async () => {
    const sender = window.hallway.sfu.senders.camera?.sender;
    const on = new Map((sender?.getParameters().encodings ?? []).map((e) => [e.rid, e.active !== false]));
    const layers = [];
    (await sender?.getStats())?.forEach((r) => {
      if (r.type === "outbound-rtp") layers.push({ rid: r.rid, on: on.get(r.rid), width: r.frameWidth, fps: r.framesPerSecond, limit: r.qualityLimitationReason, ssrc: r.ssrc });
    });
    // What the server reports of them (receiver reports).
    (await sender?.getStats())?.forEach((r) => {
      const layer = layers.find((l) => l.ssrc === r.ssrc);
      if (r.type === "remote-inbound-rtp" && layer) Object.assign(layer, { lost: r.packetsLost, fraction: r.fractionLost, rtt: r.roundTripTime });
    });
    // The browser's estimate of what its link to the server carries.
    let estimate;
    (await window.hallway.sfu.sending?.getStats())?.forEach((r) => {
      if (r.type === "candidate-pair" && r.nominated && r.availableOutgoingBitrate) estimate = r.availableOutgoingBitrate;
    });
    return { layers, estimate };
  });
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

// Hanna (`hanna`: her options), Anna with a large window and Ben with a small one walk
// into a circle at `x` in the privacy room "vertraulich" (all media through the SFU).
async function circleOfThree(x, hanna = {}) {
  const members = [
    await person(server, "Hanna Berg", { room: "vertraulich", ...hanna }),
    await person(server, "Anna Schmidt", { room: "vertraulich" }),
    await person(server, "Ben Okafor", { room: "vertraulich", viewport: { width: 520, height: 420 } }),
  ];
  people.push(...members);
  await clickFloor(members[0].page, x, 600);
  await clickFloor(members[1].page, x + 50, 600);
  await clickFloor(members[2].page, x + 20, 650);
  return members;
}

test("each member receives the layer of a camera that fits their view of it", async () => {
  const [hanna, large, small] = await circleOfThree(600);
  for (const member of [large, small]) {
    await member.page.waitForFunction((id) => window.hallway.sfu.summary().streams.includes(`p${id}`), hanna.id, { timeout: DEADLINE });
  }

  // Hanna's 640 × 360 camera goes out in two layers: 320 × 180 and 640 × 360.
  await receivesWidth(large.page, hanna.id, 640, "the large window", hanna.page);
  await receivesWidth(small.page, hanna.id, 320, "the small window", hanna.page);
  const [largeTile, smallTile] = [await tileWidth(large.page, hanna.id), await tileWidth(small.page, hanna.id)];
  assert.ok(largeTile > 360, `the large window shows Hanna ${largeTile} px wide`);
  assert.ok(smallTile > 0 && smallTile < 340, `the small window shows Hanna ${smallTile} px wide`);
  const [largeRate, smallRate] = await Promise.all([bitRate(large.page, hanna.id), bitRate(small.page, hanna.id)]);
  console.log(`# Hanna's camera received: large window ${Math.round(largeRate / 1000)} kbit/s (${largeTile} px), small window ${Math.round(smallRate / 1000)} kbit/s (${smallTile} px)`);
  assert.ok(smallRate < largeRate * 0.7, `the low layer costs less: ${smallRate} against ${largeRate}`);
  assert.ok(smallRate < 450_000, `the low layer stays under its 400 kbit/s cap: ${smallRate}`);

  // The small window grows: its member moves up to the high layer.
  await small.page.setViewportSize({ width: 1280, height: 800 });
  await receivesWidth(small.page, hanna.id, 640, "the window that grew", hanna.page);
});

// Bytes the page has sent of its camera's layer `rid`, and whether the sender has it on.
async function sentLayer(page, rid) {
  return page.evaluate(async (rid) => {
    const { sfu } = window.hallway;
    const sender = sfu.senders.camera?.sender;
    const active = sender?.getParameters().encodings.find((e) => e.rid === rid)?.active !== false;
    let bytes = 0;
    (await sender?.getStats())?.forEach((r) => {
      if (r.type === "outbound-rtp" && r.rid === rid) bytes = r.bytesSent ?? 0;
    });
    return { active, bytes };
  }, rid);
}

test("a layer nobody receives is paused, and sent again once a view needs it", async () => {
  const hanna = await person(server, "Hanna Berg", { room: "klein" });
  const ben = await person(server, "Ben Okafor", { room: "klein", viewport: { width: 520, height: 420 } });
  const cara = await person(server, "Cara Nowak", { room: "klein", viewport: { width: 520, height: 420 } });
  people.push(hanna, ben, cara);
  await clickFloor(hanna.page, 600, 600);
  await clickFloor(ben.page, 650, 600);
  await clickFloor(cara.page, 620, 650);
  for (const member of [ben, cara]) {
    await member.page.waitForFunction((id) => window.hallway.sfu.summary().streams.includes(`p${id}`), hanna.id, { timeout: DEADLINE });
    await receivesWidth(member.page, hanna.id, 320, "a small window", hanna.page);
  }

  // Both show Hanna small: nobody receives her top layer, and her browser stops sending it.
  await hanna.page.waitForFunction(() => window.hallway.sfu.summary().layers.h === false, null, { timeout: 2 * DEADLINE });
  // The encoder may finish what it was sending (on a loaded machine once for two seconds
  // at full rate): within five seconds comes a second in which the layer sent next to
  // nothing (on the same sender: its count never goes back), then it must stay so.
  const quietBy = Date.now() + 5000;
  for (;;) {
    const before = await sentLayer(hanna.page, "h");
    await hanna.page.waitForTimeout(1000);
    const after = await sentLayer(hanna.page, "h");
    assert.ok(after.bytes >= before.bytes, "the same sending connection");
    if (after.bytes - before.bytes < 1000) break;
    assert.ok(Date.now() < quietBy, `the paused layer goes on sending: ${after.bytes - before.bytes} bytes in the last second`);
  }
  const a = await sentLayer(hanna.page, "h");
  await hanna.page.waitForTimeout(2000);
  const b = await sentLayer(hanna.page, "h");
  assert.equal(b.active, false);
  assert.ok(b.bytes - a.bytes < 2000, `the paused layer still sent ${b.bytes - a.bytes} bytes in 2 s`);
  const m = await sentLayer(hanna.page, "m");
  assert.equal(m.active, true, "the layer the members receive stays on");
  // They go on receiving her.
  const rate = await bitRate(ben.page, hanna.id, 2000);
  assert.ok(rate > 20_000, `Ben still receives Hanna's camera: ${rate} bit/s`);

  // A pause told while her connection to the server was away is told again when she
  // resumes: here her page acts as if it had never heard of it, then drops its socket.
  await hanna.page.evaluate(async () => {
    const { sfu, conn } = window.hallway;
    const sender = sfu.senders.camera.sender;
    const params = sender.getParameters();
    params.encodings.forEach((e) => (e.active = true));
    await sender.setParameters(params);
    conn.abandon(conn.socket);
  });
  await hanna.page.waitForFunction(() => window.hallway.resumes >= 1 && window.hallway.sfu.summary().layers.h === false, null, { timeout: DEADLINE });

  // Ben's window grows: her top layer is sent again and he moves up to it.
  await ben.page.setViewportSize({ width: 1280, height: 800 });
  await hanna.page.waitForFunction(() => window.hallway.sfu.summary().layers.h === true, null, { timeout: DEADLINE });
  await receivesWidth(ben.page, hanna.id, 640, "the window that grew", hanna.page);
  await receivesWidth(cara.page, hanna.id, 320, "the window still small", hanna.page);
});


// Whoever enters with the camera off publishes without it: the camera's place in the
// connection to the server has no picture yet, and its layers were chosen for a camera of
// the usual size. Turned on later, it goes out in those layers: each member receives the
// one that fits their view. Off again, nothing more is sent; on again, it comes back.
test("a camera turned on after entering without it goes to the SFU in layers", async () => {
  const [hanna, large, small] = await circleOfThree(1600, { camera: false });
  // Her microphone comes through the SFU; no picture of her.
  for (const member of [large, small]) {
    await member.page.waitForFunction(
      (id) => window.hallway.sfu.streams.get(`p${id}`)?.getAudioTracks().some((t) => t.readyState === "live" && !t.muted),
      hanna.id,
      { timeout: DEADLINE },
    );
    assert.equal((await sfuCamera(member.page, hanna.id)).frames, 0, "no picture while her camera is off");
  }

  await hanna.page.click("#camera-toggle");
  await hanna.page.waitForSelector('#camera-toggle[aria-pressed="true"]', { timeout: DEADLINE });
  await receivesWidth(large.page, hanna.id, 640, "the large window, camera turned on", hanna.page);
  await receivesWidth(small.page, hanna.id, 320, "the small window, camera turned on", hanna.page);
  // Her tile plays her camera and her microphone from one stream.
  for (const member of [large, small]) {
    const kinds = await member.page.evaluate((id) => window.hallway.conversation.stream(id)?.getTracks().filter((t) => t.readyState === "live").map((t) => t.kind).sort().join(), hanna.id);
    assert.equal(kinds, "audio,video", "one stream with her sound and her picture");
  }

  // Off: she sends no more of it (no black frames).
  await hanna.page.click("#camera-toggle");
  await hanna.page.waitForSelector('#camera-toggle[aria-pressed="false"]', { timeout: DEADLINE });
  assert.equal(await hanna.page.evaluate(() => window.hallway.sfu.senders.camera.sender.track), null, "nothing on her camera's sender");
  const stopsBy = Date.now() + DEADLINE;
  for (;;) {
    const before = await sfuCamera(large.page, hanna.id);
    await large.page.waitForTimeout(1000);
    const after = await sfuCamera(large.page, hanna.id);
    if (after.bytes - before.bytes < 1000) break;
    assert.ok(Date.now() < stopsBy, `her camera, off, still comes: ${after.bytes - before.bytes} bytes in a second`);
  }
  // On again: the members see her again.
  const seen = (await sfuCamera(large.page, hanna.id)).frames;
  await hanna.page.click("#camera-toggle");
  await hanna.page.waitForSelector('#camera-toggle[aria-pressed="true"]', { timeout: DEADLINE });
  for (const until = Date.now() + DEADLINE; (await sfuCamera(large.page, hanna.id)).frames <= seen + 10; ) {
    assert.ok(Date.now() < until, "her camera, on again, is seen");
    await large.page.waitForTimeout(250);
  }
});
