// Devices in the room (real Chromium): the settings change camera and microphone without
// leaving, with a level meter that moves; a blocked or missing device is said clearly, in
// both languages; a browser slow to give them does not keep one out of the room; one who
// entered with them off (or refused) turns them on in the room.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { chromium } from "playwright-core";
import { startServer, person, formCircle, axe, launchBrowser, clickFloor, waitAt, waitCircle, screenshotDir, DEADLINE } from "./harness.mjs";

let server;
const people = [];

before(async () => {
  server = await startServer();
});

after(async () => {
  for (const p of people) await p.close();
  await server?.stop();
});

test("the settings change the microphone in the room, and its level meter moves", async () => {
  const anna = await person(server, "Anna Schmidt");
  const ben = await person(server, "Ben Okafor");
  people.push(anna, ben);
  await formCircle(anna, ben);
  await anna.page.click("#settings-button");
  await anna.page.waitForSelector("#settings[open]", { timeout: DEADLINE });
  const mics = await anna.page.$$eval("#settings-mic option", (options) => options.map((o) => o.value));
  assert.ok(mics.length >= 1, "the microphones are listed");
  assert.ok((await anna.page.$$eval("#settings-camera option", (o) => o.length)) >= 1, "the cameras are listed");
  // The fake microphone beeps: the meter shows it.
  await anna.page.waitForFunction(() => document.querySelector("#settings-level").value > 0.05, null, { timeout: DEADLINE });
  const report = await axe(anna.page);
  assert.deepEqual(report.violations, []);
  // Another microphone (or the same one again): a new track is sent without renegotiating,
  // and Ben still hears Anna.
  const before = await anna.page.evaluate(() => window.hallway.media.mic.id);
  await anna.page.selectOption("#settings-mic", mics.at(-1));
  await anna.page.dispatchEvent("#settings-mic", "change");
  await anna.page.waitForFunction((old) => window.hallway.media.mic && window.hallway.media.mic.id !== old, before, { timeout: DEADLINE });
  // The select fires `change`, and so does the test: wait for every switch to be done.
  await anna.page.evaluate(() => window.hallway.media.switching);
  // (The connection takes the new track when its `replaceTrack` resolves, which the page
  // does not wait for: rehearsal 4 looked a moment too early.)
  const sent = await anna.page
    .waitForFunction((id) => window.hallway.peers.pc(id).getSenders().some((s) => s.track && s.track === window.hallway.media.mic), ben.id, { timeout: DEADLINE })
    .then(
      () => true,
      () => false,
    );
  assert.ok(sent, "the new microphone is what the connection sends");
  // Exactly one microphone is open: the old ones were stopped.
  const live = await anna.page.evaluate(() => window.hallway.media.tracks().filter((t) => t.kind === "audio" && t.readyState === "live").length);
  assert.equal(live, 1, "the old microphone was stopped");
  await anna.page.click("#settings-close");
  assert.equal(await anna.page.isVisible("#settings"), false);
});

for (const [lang, camera, mic] of [
  ["en", "The browser blocks the camera", "No microphone was found"],
  ["de", "Der Browser blockiert die Kamera", "Es wurde kein Mikrofon gefunden"],
]) {
  test(`a blocked camera and a missing microphone are said on the join screen (${lang})`, async () => {
    const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", headless: true, args: ["--no-sandbox", "--disable-gpu"] });
    try {
      const page = await browser.newPage({ locale: lang === "de" ? "de-DE" : "en-GB" });
      // The browser refuses the camera and finds no microphone.
      await page.addInitScript(() => {
        navigator.mediaDevices.getUserMedia = async (constraints) => {
          throw new DOMException("refused", constraints.video ? "NotAllowedError" : "NotFoundError");
        };
      });
      await page.goto(`${server.url}/r/lobby`);
      await page.waitForSelector("#no-devices:not([hidden])", { timeout: DEADLINE });
      const text = await page.textContent("#no-devices");
      assert.match(text, new RegExp(camera));
      assert.match(text, new RegExp(mic));
      // One can still enter and listen.
      await page.fill("#name", "Ohne Geräte");
      await page.click("#enter");
      await page.waitForSelector("#room:not([hidden])", { timeout: DEADLINE });
    } finally {
      await browser.close();
    }
  });
}

test("a browser slow to give camera and microphone does not keep one out: they follow", async () => {
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ locale: "en-GB" });
    // The browser answers for camera and microphone only once the test lets it (seen on a
    // starved machine: seconds; a person who leaves the browser's question open: longer).
    await page.addInitScript(() => {
      const real = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
      let release;
      window.__devicesReady = new Promise((resolve) => (release = resolve));
      window.__releaseDevices = release;
      navigator.mediaDevices.getUserMedia = async (constraints) => {
        await window.__devicesReady;
        return real(constraints);
      };
    });
    // The room's description comes only after the press on "Enter the room" (it must not
    // offer the button again while the page is on its way in).
    let answerAbout;
    const aboutHeld = new Promise((resolve) => (answerAbout = resolve));
    await page.route("**/about", async (route) => {
      await aboutHeld;
      await route.continue();
    });
    await page.goto(`${server.url}/r/lobby`);
    await page.fill("#name", "Langsame Kamera");
    await page.click("#enter");
    answerAbout();
    await page.waitForSelector("#join-access[data-access]", { state: "attached", timeout: DEADLINE });
    assert.equal(await page.isDisabled("#enter"), true, "Enter is not offered again while the page goes in");
    // In the room without them.
    await page.waitForSelector("#room:not([hidden])", { timeout: DEADLINE });
    assert.deepEqual(await page.evaluate(() => window.hallway.media.tracks()), []);
    // Then the browser gives them: someone in a circle with us sees and hears us.
    await page.evaluate(() => window.__releaseDevices());
    await page.waitForFunction(() => window.hallway.media.tracks().filter((t) => t.readyState === "live").length === 2, null, { timeout: DEADLINE });
    const slow = { page, id: await page.evaluate(() => window.hallway.state.you) };
    const other = await person(server, "Olga Other");
    people.push(other);
    // (Away from the circle of the first test, whose people are still in the room.)
    await formCircle(slow, other, 1500, 1100);
    await receives(other.page, slow.id, "audio");
  } finally {
    await browser.close();
  }
});

// What a page has received from `id` so far (run in the page): audio packets, or video
// frames decoded.
async function received([id, kind]) {
  let count = 0;
  (await window.hallway.peers.pc(id)?.getStats())?.forEach((r) => {
    if (r.type === "inbound-rtp" && r.kind === kind) count += (kind === "audio" ? r.packetsReceived : r.framesDecoded) ?? 0;
  });
  return count;
}

// Waits until `page` has received more than `above` of `kind` from `id`.
async function receives(page, id, kind, above = 0) {
  const until = Date.now() + DEADLINE;
  while ((await page.evaluate(received, [id, kind])) <= above) {
    if (Date.now() > until) throw new Error(`no more ${kind} than ${above} from ${id}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// (It did nothing before: the page held no track to switch on, so whoever entered with the
// camera off stayed without it until a reload, which kept it off too.)
test("someone who entered with camera and microphone off turns them on in a circle: the browser is asked, the other sees and hears them; camera off closes it", async () => {
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ locale: "en-GB" });
    await page.addInitScript(() => {
      const real = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
      window.__asked = [];
      navigator.mediaDevices.getUserMedia = async (constraints) => {
        window.__asked.push(Object.keys(constraints).join());
        return real(constraints);
      };
    });
    await page.goto(`${server.url}/r/lobby`);
    await page.fill("#name", "Erst Ohne");
    await page.uncheck("#camera-on");
    await page.uncheck("#mic-on");
    await page.click("#enter");
    await page.waitForSelector("#room:not([hidden])", { timeout: DEADLINE });
    await page.waitForFunction(() => window.hallway?.state?.you, null, { timeout: DEADLINE });
    // (The join screen's preview asked before the boxes were unchecked, and let go: once
    // every device operation asked for is done.)
    await page.evaluate(async () => {
      await window.hallway.media.switching;
      window.__asked = [];
    });
    assert.deepEqual(await page.evaluate(() => window.hallway.media.tracks().filter((t) => t.readyState === "live")), [], "nothing recording while both are off");
    assert.equal(await page.getAttribute("#mic-toggle", "aria-pressed"), "false");
    assert.equal(await page.getAttribute("#camera-toggle", "aria-pressed"), "false");
    const me = { page, id: await page.evaluate(() => window.hallway.state.you) };
    const other = await person(server, "Olivia Other");
    people.push(other);
    // (Away from the other tests' circles, whose people are still in the room.)
    await clickFloor(page, 300, 1100);
    await waitAt(other.page, me.id, 300, 1100);
    await clickFloor(other.page, 350, 1100);
    await waitCircle(page, [me.id, other.id]);
    await waitCircle(other.page, [me.id, other.id]);
    await other.page.waitForFunction((id) => window.hallway.peers.pc(id)?.connectionState === "connected", me.id, { timeout: DEADLINE });
    assert.equal(await other.page.evaluate(received, [me.id, "video"]), 0, "no picture while the camera is off");
    // Microphone on: the browser is asked for it, and the other hears it.
    await page.click("#mic-toggle");
    await page.waitForSelector('#mic-toggle[aria-pressed="true"]', { timeout: DEADLINE });
    await receives(other.page, me.id, "audio");
    // Camera on: the other sees it, on the floor and in the circle's tile.
    await page.click("#camera-toggle");
    await page.waitForSelector('#camera-toggle[aria-pressed="true"]', { timeout: DEADLINE });
    await receives(other.page, me.id, "video");
    assert.deepEqual(await page.evaluate(() => window.__asked), ["audio", "video"], "each asked for once, when turned on");
    // The other hears and sees them in one stream, their tile's, which plays its sound (a
    // device that came late had a stream of its own, which took the microphone's place).
    await other.page.waitForFunction(
      (id) => {
        const kinds = window.hallway.conversation.stream(id)?.getTracks().filter((t) => t.readyState === "live").map((t) => t.kind).sort();
        return kinds?.join() === "audio,video";
      },
      me.id,
      { timeout: DEADLINE },
    );
    // Camera off: its track ends (the camera's light goes out); the microphone only mutes.
    const liveKinds = () => page.evaluate(() => window.hallway.media.tracks().filter((t) => t.readyState === "live").map((t) => t.kind).sort());
    await page.click("#camera-toggle");
    await page.waitForSelector('#camera-toggle[aria-pressed="false"]', { timeout: DEADLINE });
    assert.deepEqual(await liveKinds(), ["audio"], "the camera is closed while off");
    await page.click("#mic-toggle");
    await page.waitForSelector('#mic-toggle[aria-pressed="false"]', { timeout: DEADLINE });
    assert.deepEqual(await liveKinds(), ["audio"], "a muted microphone stays open");
    await page.click("#mic-toggle");
    await page.waitForSelector('#mic-toggle[aria-pressed="true"]', { timeout: DEADLINE });
    // On again: a new camera track, and the other sees it.
    const seen = await other.page.evaluate(received, [me.id, "video"]);
    await page.click("#camera-toggle");
    await page.waitForSelector('#camera-toggle[aria-pressed="true"]', { timeout: DEADLINE });
    assert.deepEqual(await page.evaluate(() => window.__asked), ["audio", "video", "video"], "the microphone asked for once, the camera each time it is turned on");
    assert.deepEqual(await liveKinds(), ["audio", "video"], "one camera and one microphone open");
    await receives(other.page, me.id, "video", seen + 10);
    const tile = await other.page.evaluate((id) => window.hallway.conversation.stream(id)?.getTracks().map((t) => `${t.kind}:${t.readyState}`).sort(), me.id);
    assert.deepEqual(tile, ["audio:live", "video:live"], "still one stream with both");
    // The usual case: the camera off when a new circle's connection is made, the microphone
    // on; turned on there, the camera joins the microphone in the tile's stream.
    await page.click("#camera-toggle");
    await page.waitForSelector('#camera-toggle[aria-pressed="false"]', { timeout: DEADLINE });
    const third = await person(server, "Paula Partner");
    people.push(third);
    // (Walking up second, this page makes the connection: its camera's place only receives.)
    await clickFloor(third.page, 350, 1500);
    await waitAt(page, third.id, 350, 1500);
    await clickFloor(page, 300, 1500);
    await waitCircle(page, [me.id, third.id]);
    await waitCircle(third.page, [me.id, third.id]);
    await third.page.waitForFunction((id) => window.hallway.conversation.stream(id)?.getAudioTracks().some((t) => t.readyState === "live" && !t.muted), me.id, { timeout: DEADLINE });
    await page.click("#camera-toggle");
    await page.waitForSelector('#camera-toggle[aria-pressed="true"]', { timeout: DEADLINE });
    await third.page.waitForFunction(
      (id) => {
        const tracks = window.hallway.conversation.stream(id)?.getTracks().filter((t) => t.readyState === "live" && !t.muted) ?? [];
        return tracks.map((t) => t.kind).sort().join() === "audio,video";
      },
      me.id,
      { timeout: DEADLINE },
    );
    await clickFloor(page, 300, 1300);
  } finally {
    await browser.close();
  }
});

for (const lang of ["en", "de"]) {
  test(`a camera the browser blocks: pressing Camera says why (${lang}); allowed, the next press turns it on`, async () => {
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage({ locale: lang === "de" ? "de-DE" : "en-GB" });
      // The browser refuses the camera until the test "allows" it (as a person would in the
      // site settings).
      await page.addInitScript(() => {
        const real = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
        window.__cameraAllowed = false;
        navigator.mediaDevices.getUserMedia = async (constraints) => {
          if (constraints.video && !window.__cameraAllowed) throw new DOMException("Permission denied", "NotAllowedError");
          return real(constraints);
        };
      });
      await page.goto(`${server.url}/r/lobby?lang=${lang}`);
      await page.fill("#name", lang === "de" ? "Gesperrte Kamera" : "Blocked Camera");
      await page.waitForSelector("#no-devices:not([hidden])", { timeout: DEADLINE });
      await page.click("#enter");
      await page.waitForSelector("#room:not([hidden])", { timeout: DEADLINE });
      assert.equal(await page.getAttribute("#camera-toggle", "aria-pressed"), "false");
      assert.equal(await page.getAttribute("#mic-toggle", "aria-pressed"), "true");
      // To the floor's bottom edge, where the view cannot centre on oneself: one stands
      // where notices stand.
      const you = await page.evaluate(() => window.hallway.state.you);
      await clickFloor(page, 480, 1570);
      await waitAt(page, you, 480, 1570);
      await page.click("#camera-toggle");
      const said = lang === "de" ? "Der Browser blockiert die Kamera" : "The browser blocks the camera";
      await page.waitForFunction((text) => !document.querySelector("#toast").hidden && document.querySelector("#toast").textContent.includes(text), said, { timeout: DEADLINE });
      assert.equal(await page.getAttribute("#toast", "role"), "alert", "said to screen readers too");
      assert.equal(await page.getAttribute("#camera-toggle", "aria-pressed"), "false", "still off");
      // The notice stands in the window, clear of the control bar.
      const [notice, bar] = await Promise.all(["#toast", ".controlbar"].map((s) => page.locator(s).boundingBox()));
      assert.ok(notice.y >= 0 && notice.y + notice.height <= bar.y + 0.5 && notice.x >= 0 && notice.x + notice.width <= 1280, `${JSON.stringify(notice)} above ${JSON.stringify(bar)}`);
      // It covers neither oneself (here near the floor's bottom edge, where notices stand)
      // nor the first visit's hint.
      const covered = await page.evaluate(() => {
        const box = document.querySelector("#toast").getBoundingClientRect();
        const parts = [".avatar.me .face", ".avatar.me .tag", "#floor-hint:not([hidden])"].map((s) => [s, document.querySelector(s)?.getBoundingClientRect()]);
        return parts.filter(([, r]) => r && r.left < box.right && box.left < r.right && r.top < box.bottom && box.top < r.bottom).map(([s]) => s);
      });
      assert.deepEqual(covered, [], "the notice covers nothing of one's own");
      assert.equal(await page.$eval("#toast", (el) => el.classList.contains("at-top")), true, "moved to the top: the bottom would cover oneself");
      // (The picture before axe, which scrolls what it cannot see into view.)
      await page.screenshot({ path: path.join(screenshotDir(), `camera-blocked-${lang}.png`) });
      // (The notice alone: the floor's edge shows other tests' circles, whose avatars over
      // the floor plan axe leaves for review.)
      const found = await axe(page, "#toast");
      assert.deepEqual([found.violations, found.contrastReview], [[], []], "the notice readable by all");
      await page.evaluate(() => (window.__cameraAllowed = true));
      await page.click("#camera-toggle");
      await page.waitForSelector('#camera-toggle[aria-pressed="true"]', { timeout: DEADLINE });
      const live = await page.evaluate(() => window.hallway.media.tracks().filter((t) => t.readyState === "live").map((t) => t.kind).sort());
      assert.deepEqual(live, ["audio", "video"]);
    } finally {
      await browser.close();
    }
  });
}

// A notice at the floor's foot moves to the top when one walks under it while it shows,
// and back when one walks away again.
test("a notice shown while one walks under it moves out of the way", async () => {
  const walker = await person(server, "Wanda Walker", { camera: false });
  people.push(walker);
  const { page, id } = walker;
  await clickFloor(page, 480, 900);
  await waitAt(page, id, 480, 900);
  const where = () =>
    page.evaluate(() => {
      const box = document.querySelector("#toast").getBoundingClientRect();
      const parts = [".avatar.me .face", ".avatar.me .tag"].map((s) => document.querySelector(s).getBoundingClientRect());
      return { top: document.querySelector("#toast").classList.contains("at-top"), covers: parts.some((r) => r.left < box.right && box.left < r.right && r.top < box.bottom && box.top < r.bottom) };
    });
  // (A long one, which stays for the whole walk.)
  await page.evaluate(() => import("/assets/js/announce.js").then(({ toast }) => toast("A notice long enough to stay a while. ".repeat(8))));
  assert.deepEqual(await where(), { top: false, covers: false }, "at the floor's foot while one stands in the middle");
  // (The click goes through the notice to the floor under it: clickFloor checks where it
  // landed.)
  await clickFloor(page, 480, 1570);
  await waitAt(page, id, 480, 1570);
  await page.waitForFunction(() => document.querySelector("#toast").classList.contains("at-top"), null, { timeout: DEADLINE });
  assert.deepEqual(await where(), { top: true, covers: false }, "at the top once one stands at the foot");
  await clickFloor(page, 480, 900);
  await waitAt(page, id, 480, 900);
  await page.waitForFunction(() => !document.querySelector("#toast").classList.contains("at-top"), null, { timeout: DEADLINE });
  assert.deepEqual(await where(), { top: false, covers: false }, "back at the foot");
  assert.equal(await page.isVisible("#toast"), true, "still shown");
});

// A screen shared while the camera is off must not take the camera's place in the
// connection: the camera turned on afterwards is sent too (it found no place, and stayed
// unseen with its button on), beside the screen, with the sound in the camera's tile.
test("a screen shared with the camera off, then the camera turned on: the other sees both and hears them", async () => {
  const sharer = await person(server, "Sara Screen", { camera: false });
  const viewer = await person(server, "Viktor Viewer");
  people.push(sharer, viewer);
  // The sharer walks up second and so makes the connection, with the camera's place only
  // receiving (the harder case).
  await clickFloor(viewer.page, 1900, 400);
  await waitAt(sharer.page, viewer.id, 1900, 400);
  await clickFloor(sharer.page, 1950, 400);
  await waitCircle(sharer.page, [sharer.id, viewer.id]);
  await waitCircle(viewer.page, [sharer.id, viewer.id]);
  const live = ([id, kinds]) => {
    const flows = (stream, kind) => !!stream?.getTracks().some((t) => t.kind === kind && t.readyState === "live" && !t.muted);
    const camera = window.hallway.conversation.stream(id);
    const screen = window.hallway.conversation.stream(id, "screen");
    const seen = { audio: flows(camera, "audio"), camera: flows(camera, "video"), screen: flows(screen, "video") };
    return kinds.every((k) => seen[k]) && (!seen.camera || !seen.screen || camera.getVideoTracks()[0] !== screen.getVideoTracks()[0]);
  };
  await sharer.page.click("#screen-toggle");
  await viewer.page.waitForFunction(live, [sharer.id, ["audio", "screen"]], { timeout: DEADLINE });
  await sharer.page.click("#camera-toggle");
  await sharer.page.waitForSelector('#camera-toggle[aria-pressed="true"]', { timeout: DEADLINE });
  await viewer.page.waitForFunction(live, [sharer.id, ["audio", "camera", "screen"]], { timeout: DEADLINE });
  await clickFloor(sharer.page, 1900, 800);
});
