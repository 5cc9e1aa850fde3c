// The conversation in a circle, as people see it (real Chromium, real server, real WebRTC):
// tiles large enough to read a face, a speaking indicator driven by the audio, a shared
// screen as a tile of its own beside the camera, names on the floor that never overlap,
// walking that others see, leaving the circle on purpose, and accessibility (axe-core).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { startServer, person, launchBrowser, clickFloor, waitAt, waitCircle, formCircle, boxes, overlapping, axe, screenshotDir, DEADLINE } from "./harness.mjs";

let server;
const people = [];

before(async () => {
  server = await startServer();
});

after(async () => {
  for (const p of people) await p.close();
  await server?.stop();
});

// Tiles shown in the conversation view: the others' and one's own.
async function tiles(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll("#conversation .tile")].map((el) => {
      const r = el.getBoundingClientRect();
      return {
        id: el.dataset.id,
        kind: el.dataset.kind,
        self: el.classList.contains("self"),
        left: r.left,
        top: r.top,
        width: r.width,
        height: r.height,
        text: el.querySelector(".name").textContent,
        video: el.classList.contains("has-video"),
        mirrored: getComputedStyle(el.querySelector("video")).transform !== "none",
      };
    }),
  );
}

test("a circle of three: tiles at least 240 px wide, one's own small and mirrored, the floor still in view", async () => {
  const anna = await person(server, "Anna Schmidt-Weißenfels");
  const ben = await person(server, "Ben Okafor");
  const clara = await person(server, "Prof. Dr. Clara Meyer-Hohenstein");
  people.push(anna, ben, clara);
  await formCircle(anna, ben);
  await clickFloor(clara.page, 630, 650);
  await waitCircle(anna.page, [anna.id, ben.id, clara.id]);
  await anna.page.waitForFunction(() => document.querySelectorAll("#tiles .tile.has-video").length === 2, null, { timeout: DEADLINE });
  const shown = await tiles(anna.page);
  const others = shown.filter((t) => !t.self);
  const own = shown.filter((t) => t.self);
  assert.deepEqual(others.map((t) => t.id).sort(), [ben.id, clara.id].sort());
  for (const t of others) assert.ok(t.width >= 240, `${t.text}: ${t.width}px wide`);
  assert.equal(own.length, 1, "one's own picture");
  assert.ok(own[0].width < others[0].width, "one's own picture is smaller");
  assert.ok(own[0].mirrored, "one's own picture is mirrored");
  // One's own long name does not fit the small picture: it says "You" alone (cut, the name
  // read "Anna Schm… (you)"); pointed at, the whole name shows.
  await anna.page.mouse.move(1, 1);
  const ownName = () =>
    anna.page.evaluate(() => {
      const tile = document.querySelector("#conversation .tile.self");
      const name = tile.querySelector(".name");
      const [t, n] = [tile, name].map((el) => el.getBoundingClientRect());
      const given = name.querySelector(".given");
      return {
        text: name.textContent,
        marked: name.classList.contains("cut"),
        shown: getComputedStyle(given).display === "none" ? getComputedStyle(name, "::after").content : name.innerText.replace(/\s+/g, " ").trim(),
        inside: n.width > 0 && n.left >= t.left && n.right <= t.right && n.bottom <= t.bottom,
      };
    });
  assert.deepEqual(await ownName(), { text: "Anna Schmidt-Weißenfels (you)", marked: true, shown: '"You"', inside: true });
  const ownTile = await anna.page.locator("#conversation .tile.self").boundingBox();
  await anna.page.mouse.move(ownTile.x + ownTile.width / 2, ownTile.y + ownTile.height / 2);
  assert.deepEqual(await ownName(), { text: "Anna Schmidt-Weißenfels (you)", marked: true, shown: "Anna Schmidt-Weißenfels (you)", inside: true });
  // Measured again while pointed at (the window changed size): still "You" once the pointer
  // has gone (measured on its lines, the name seemed to fit).
  await anna.page.setViewportSize({ width: 1276, height: 800 });
  await anna.page.waitForTimeout(300);
  assert.equal(await anna.page.$eval("#conversation .tile.self", (el) => el.matches(":hover")), true, "still pointed at after the window changed");
  await anna.page.mouse.move(1, 1);
  assert.deepEqual(await ownName(), { text: "Anna Schmidt-Weißenfels (you)", marked: true, shown: '"You"', inside: true });
  await anna.page.setViewportSize({ width: 1280, height: 800 });
  assert.deepEqual(overlapping(shown), [], "tiles do not overlap");
  // Names are never clipped to nonsense: the full name is there to read on hover and focus.
  for (const t of others) assert.ok(["Ben Okafor", "Prof. Dr. Clara Meyer-Hohenstein"].includes(t.text));
  const floor = await anna.page.evaluate(() => document.querySelector("#floor").getBoundingClientRect().height);
  assert.ok(floor >= 200, `the floor stays in view (${floor}px)`);
  // No empty bands above and below the tiles (16:9 tiles in a wide box left 80 px each):
  // the conversation is as low as its tiles need, the floor below it gets the rest; with
  // the prompt closed, the same.
  const bands = async () => {
    await anna.page.waitForTimeout(300);
    const [body] = await boxes(anna.page, ".conversation-body");
    const all = await boxes(anna.page, "#conversation .tile");
    const top = Math.min(...all.map((b) => b.top));
    const bottom = Math.max(...all.map((b) => b.top + b.height));
    const [section] = await boxes(anna.page, "#conversation");
    const [floorBox] = await boxes(anna.page, ".floor-box");
    return { spare: Math.round(body.height - (bottom - top)), inside: top >= body.top - 0.5 && bottom <= body.top + body.height + 0.5, floorBelow: Math.abs(floorBox.top - (section.top + section.height)) < 2, widths: all.map((b) => Math.round(b.width)) };
  };
  for (const when of ["with the prompt", "prompt closed", "a lower window", "the window taller again"]) {
    if (when === "with the prompt") assert.ok(await anna.page.isVisible("#icebreaker"), "the prompt shows");
    if (when === "prompt closed") await anna.page.click("#icebreaker-close");
    // (A window that grows leaves the lowered section the same size: it must follow.)
    if (when === "a lower window") await anna.page.setViewportSize({ width: 1280, height: 640 });
    if (when === "the window taller again") await anna.page.setViewportSize({ width: 1280, height: 800 });
    const seen = await bands();
    assert.ok(seen.spare <= 24 && seen.inside && seen.floorBelow, `${when}: ${JSON.stringify(seen)}`);
    if (when !== "a lower window") assert.ok(seen.widths.filter((w) => w >= 240).length === 2, `${when}: the others' tiles stay large ${JSON.stringify(seen)}`);
  }
  // As large as before the window was lowered: the section grew back with the window.
  const [again] = await boxes(anna.page, "#tiles .tile:not(.self)");
  assert.ok(again.width >= 240, `the tiles grew back: ${again.width}px`);
  // On the floor, members stand on their ring and their tags do not overlap.
  const tags = await boxes(anna.page, ".avatar .tag:not(.hidden-tag)");
  assert.equal(tags.length, 3);
  assert.deepEqual(overlapping(tags), []);
  const faces = await boxes(anna.page, ".avatar .face");
  assert.deepEqual(overlapping(faces), [], "avatars do not overlap");
  assert.deepEqual(overlapping([...tags, ...faces].map((b, i) => ({ ...b, text: `${i}` }))).filter(([a, b]) => Number(a) < 3 !== Number(b) < 3).length, 0, "no tag covers an avatar");
  const report = await axe(anna.page);
  assert.deepEqual(report.violations, []);
  assert.deepEqual(report.contrastReview, []);
});

test("the speaking indicator lights for the (fake) microphone and not for a muted one", async () => {
  const [anna, ben] = people;
  // Chromium's fake microphone beeps: Ben's tile lights up on Anna's page.
  await anna.page.waitForSelector(`#tiles .tile[data-id="${ben.id}"].speaking`, { timeout: DEADLINE });
  await ben.page.click("#mic-toggle");
  await anna.page.waitForFunction((id) => !window.hallway.state.participants.get(id).mic, ben.id, { timeout: DEADLINE });
  // Muted: not lit, for a good while.
  const until = Date.now() + 2500;
  while (Date.now() < until) {
    assert.equal(await anna.page.$(`#tiles .tile[data-id="${ben.id}"].speaking`), null, "a muted microphone does not light the tile");
    await anna.page.waitForTimeout(150);
  }
  await ben.page.click("#mic-toggle");
  await anna.page.waitForSelector(`#tiles .tile[data-id="${ben.id}"].speaking`, { timeout: DEADLINE });
});

test("a shared screen is a tile of its own, large, with the sharer's camera beside it", async () => {
  const [anna, ben] = people;
  await ben.page.click("#screen-toggle");
  await ben.page.waitForFunction(() => window.hallway.media.state().screen, null, { timeout: DEADLINE });
  try {
    await anna.page.waitForSelector(`.screen-area .tile[data-id="${ben.id}"][data-kind="screen"].has-video`, { timeout: DEADLINE });
  } catch (err) {
    const seen = await anna.page.evaluate(() => ({
      streams: [...window.hallway.conversation.streams.entries()].map(([k, v]) => [k, v.camera?.id, v.screen?.id]),
      tiles: [...document.querySelectorAll(".tile")].map((t) => `${t.dataset.id}:${t.dataset.kind}:${t.className}`),
    }));
    throw new Error(`no screen tile: ${JSON.stringify(seen)}; ${err.message}`);
  }
  const shown = await tiles(anna.page);
  const screen = shown.find((t) => t.kind === "screen");
  const camera = shown.find((t) => t.id === ben.id && t.kind === "camera");
  assert.ok(camera?.video, "the camera stays on next to the screen");
  assert.ok(screen.width > camera.width * 1.5, `the screen is large (${screen.width} vs ${camera.width})`);
  assert.ok(camera.left >= screen.left + screen.width - 1, "the people stand beside the screen");
  assert.deepEqual(overlapping(shown), []);
  // The screen's frames really arrive: a second video track, decoded.
  await anna.page.waitForFunction(
    () => {
      const video = document.querySelector('.screen-area .tile[data-kind="screen"] video');
      return video && video.videoWidth > 0 && video.srcObject.getVideoTracks().length === 1;
    },
    null,
    { timeout: DEADLINE },
  );
  // The people's column beside the screen shows whole tiles only: everyone, or whole rows
  // that scroll (scrolled to its end, again whole tiles).
  const column = () =>
    anna.page.evaluate(() => {
      const list = document.querySelector("#tiles");
      const r = list.getBoundingClientRect();
      const box = { top: r.top + list.clientTop, left: r.left + list.clientLeft };
      Object.assign(box, { bottom: box.top + list.clientHeight, right: box.left + list.clientWidth });
      const shown = [...list.querySelectorAll(".tile")].map((el) => el.getBoundingClientRect()).filter((t) => t.width > 0);
      const inside = (t) => t.top >= box.top - 1 && t.bottom <= box.bottom + 1 && t.left >= box.left - 1 && t.right <= box.right + 1;
      const outside = (t) => t.bottom <= box.top + 1 || t.top >= box.bottom - 1;
      return { tiles: shown.length, inView: shown.filter(inside).length, cut: shown.filter((t) => !inside(t) && !outside(t)).length, scrolls: list.scrollHeight > list.clientHeight + 1, width: Math.round(Math.min(...shown.map((t) => t.width))) };
    });
  const whole = async (label) => {
    const seen = await column();
    assert.equal(seen.cut, 0, `${label}: no tile cut by the column's edge ${JSON.stringify(seen)}`);
    assert.ok(seen.scrolls || seen.inView === seen.tiles, `${label}: everyone in view, or the column scrolls ${JSON.stringify(seen)}`);
    assert.ok(seen.width >= 100, `${label}: tiles at least 100 px wide ${JSON.stringify(seen)}`);
    if (seen.scrolls) {
      await anna.page.evaluate(() => document.querySelector("#tiles").scrollTo({ top: 1e6, behavior: "instant" }));
      await anna.page.waitForTimeout(300);
      const end = await column();
      assert.equal(end.cut, 0, `${label}, scrolled to the end: no tile cut ${JSON.stringify(end)}`);
    }
  };
  await whole("desktop");
  // On a desktop the screen takes most of the conversation's width (the conversation
  // grows while a screen is shared), and it can fill the whole screen: a button on it,
  // Escape back (still in the circle), by keyboard.
  const wide = await anna.page.evaluate(() => ({ body: document.querySelector(".conversation-body").clientWidth, screen: document.querySelector('.screen-area .tile[data-kind="screen"]').getBoundingClientRect().width }));
  assert.ok(wide.screen >= 0.6 * wide.body, `the screen takes most of the width: ${JSON.stringify(wide)}`);
  const full = '.screen-area .tile[data-kind="screen"] .full-screen';
  assert.equal(await anna.page.getAttribute(full, "aria-label"), "Show Ben Okafor's screen in full screen");
  await anna.page.focus(full);
  await anna.page.keyboard.press("Enter");
  await anna.page.waitForFunction(() => document.fullscreenElement?.dataset.kind === "screen", null, { timeout: DEADLINE });
  await anna.page.waitForFunction((sel) => document.querySelector(sel).getAttribute("aria-label") === "Leave full screen", full, { timeout: DEADLINE });
  await anna.page.screenshot({ path: path.join(screenshotDir(), "screen-share-full-screen.png") });
  await anna.page.keyboard.press("Escape");
  await anna.page.waitForFunction(() => !document.fullscreenElement, null, { timeout: DEADLINE });
  assert.ok(await anna.page.evaluate(() => !!window.hallway.state.myCircle()), "Escape ends full screen, not the conversation");
  // (fullscreenchange, which renames the button, comes in the frame after the element is
  // gone: waited for, not read at once.)
  await anna.page.waitForFunction((sel) => document.querySelector(sel).getAttribute("aria-label") === "Show Ben Okafor's screen in full screen", full, { timeout: DEADLINE });
  await axe(anna.page, "#conversation");
  // The same on a phone on its side, in a low window and upright: the screen is the
  // largest tile and no tile covers another (beside the screen, whole tiles in a column;
  // upright the screen is a page of the strip of its own).
  // (The icebreaker is closed: on low screens it takes part of the tiles' width.)
  if (await anna.page.isVisible("#icebreaker-close")) await anna.page.click("#icebreaker-close");
  try {
    for (const [label, viewport] of [["phone-landscape", { width: 844, height: 390 }], ["low-window", { width: 760, height: 340 }], ["phone-portrait", { width: 390, height: 844 }]]) {
      await anna.page.setViewportSize(viewport);
      // (Here the lists are a drawer over the room: closed, as a phone starts.)
      if (await anna.page.isVisible("#panel-close")) await anna.page.click("#panel-close");
      await anna.page.waitForTimeout(600);
      const small = (await tiles(anna.page)).filter((t) => t.width > 0);
      const big = small.find((t) => t.kind === "screen");
      assert.ok(big && small.every((t) => t === big || t.width < big.width), `${label}: the screen is the largest tile ${JSON.stringify(small)}`);
      assert.deepEqual(overlapping(small), [], `${label}: no tile covers another`);
      if (label !== "phone-portrait") await whole(label);
      // Upright, the screen is a page of its own: beside it, how many people come next.
      else assert.equal(await anna.page.textContent("#strip-count"), "Next: 3 people");
      await anna.page.screenshot({ path: path.join(screenshotDir(), `screen-share-${label}.png`) });
    }
  } finally {
    await anna.page.setViewportSize({ width: 1280, height: 800 });
  }
  // (A column that scrolls is not seen here any more: since the people panel is a drawer
  // in low windows, the conversation has the window's width, and the three fit beside the
  // screen in each of these windows. layout.test's besideLayout cases cover the column that
  // scrolls by whole tiles; `whole` checks it scrolled to its end wherever one scrolls.)
  // The sharer stops while Anna is on the screen's button: focus goes to a picture, not
  // to the page.
  await anna.page.waitForTimeout(600);
  await anna.page.focus(full);
  await ben.page.click("#screen-toggle");
  await anna.page.waitForFunction(() => !document.querySelector('.tile[data-kind="screen"]'), null, { timeout: DEADLINE });
  assert.ok(await anna.page.evaluate(() => !!document.activeElement?.closest(".conversation-body .tile")), "focus stays in the conversation");
});

test("a camera turned off sends no frames and shows initials; turned on, the picture returns", async () => {
  const [anna, ben] = people;
  const frames = () =>
    anna.page.evaluate(async (id) => {
      let n = 0;
      (await window.hallway.peers.pc(id).getStats()).forEach((r) => {
        if (r.type === "inbound-rtp" && r.kind === "video") n += r.framesReceived ?? 0;
      });
      return n;
    }, ben.id);
  await ben.page.click("#camera-toggle");
  await anna.page.waitForSelector(`#tiles .tile[data-id="${ben.id}"]:not(.has-video)`, { timeout: DEADLINE });
  // The initials show, not the last picture frozen.
  const shown = await anna.page.evaluate((id) => {
    const tile = document.querySelector(`#tiles .tile[data-id="${id}"]`);
    return { video: getComputedStyle(tile.querySelector("video")).visibility, initials: getComputedStyle(tile.querySelector(".initials")).display };
  }, ben.id);
  assert.deepEqual(shown, { video: "hidden", initials: "flex" });
  await anna.page.waitForTimeout(500);
  const before = await frames();
  await anna.page.waitForTimeout(1500);
  const after = await frames();
  assert.ok(after - before <= 2, `no frames while the camera is off (${after - before})`);
  await ben.page.click("#camera-toggle");
  await anna.page.waitForSelector(`#tiles .tile[data-id="${ben.id}"].has-video`, { timeout: DEADLINE });
  await anna.page.waitForFunction(async ([id, seen]) => {
    let n = 0;
    (await window.hallway.peers.pc(id).getStats()).forEach((r) => {
      if (r.type === "inbound-rtp" && r.kind === "video") n += r.framesReceived ?? 0;
    });
    return n > seen + 5;
  }, [ben.id, after], { timeout: DEADLINE });
});

// Someone's picture comes by a new path (the SFU instead of a direct connection, or back):
// the tile and the floor go on showing the old stream's picture until the new one's first
// frame is there, never the initials in between; the sound comes from the new one at once.
// (The new path here is a new stream of the same tracks, given to the tile as the page's
// handover does.)
test("a picture that comes by a new path takes over without the initials flashing in between", async () => {
  const [anna, ben] = people;
  await anna.page.waitForSelector(`#tiles .tile[data-id="${ben.id}"].has-video`, { timeout: DEADLINE });
  const seen = await anna.page.evaluate(async (id) => {
    const { conversation, floor } = window.hallway;
    const tile = conversation.tiles.get(id);
    const avatar = floor.avatars.get(id);
    // Every class the tile and the bubble had before each change of it.
    const changes = [];
    const watch = new MutationObserver((records) => changes.push(...records.map((r) => r.oldValue)));
    for (const el of [tile.el, avatar]) watch.observe(el, { attributes: true, attributeFilter: ["class"], attributeOldValue: true });
    const next = new MediaStream(conversation.stream(id).getTracks());
    conversation.setStream(id, "camera", next);
    tile.setStream(next);
    floor.setVideo(id, next);
    const playing = [...tile.el.querySelectorAll("video")].filter((v) => !v.muted).map((v) => v.srcObject === next);
    // (Well before STANDBY_MS: taken over at the first frame, not when time ran out.)
    await new Promise((resolve) => setTimeout(resolve, 800));
    watch.disconnect();
    changes.push(tile.el.className, avatar.className);
    const videos = [...tile.el.querySelectorAll("video")];
    const bubble = [...avatar.querySelectorAll("video")];
    return { changes, playing, videos: videos.length, shows: videos[0]?.srcObject === next, width: videos[0]?.videoWidth, has: tile.el.classList.contains("has-video"), floor: { videos: bubble.length, shows: bubble[0]?.srcObject === next, has: avatar.classList.contains("has-video") } };
  }, ben.id);
  assert.ok(seen.changes.every((classes) => classes.split(" ").includes("has-video")), `the picture never gave way to the initials: ${JSON.stringify(seen)}`);
  assert.deepEqual(seen.playing, [true], `the sound from the new stream at once, from one element: ${JSON.stringify(seen)}`);
  assert.deepEqual({ videos: seen.videos, shows: seen.shows, has: seen.has }, { videos: 1, shows: true, has: true }, `the new stream shows: ${JSON.stringify(seen)}`);
  assert.deepEqual(seen.floor, { videos: 1, shows: true, has: true }, `the new stream shows on the floor: ${JSON.stringify(seen)}`);
  // A new path whose picture never comes takes over all the same (after STANDBY_MS): the
  // initials then, not the old path's last picture standing in for it.
  const none = await anna.page.evaluate(async (id) => {
    const { conversation, floor } = window.hallway;
    const shown = conversation.stream(id);
    const blank = new MediaStream([new MediaStreamTrackGenerator({ kind: "video" }), ...shown.getAudioTracks()]);
    conversation.setStream(id, "camera", blank);
    conversation.tiles.get(id).setStream(blank);
    floor.setVideo(id, blank);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const tile = conversation.tiles.get(id).el;
    const avatar = floor.avatars.get(id);
    const state = (el) => ({ videos: el.querySelectorAll("video").length, shows: el.querySelector("video")?.srcObject === blank, has: el.classList.contains("has-video") });
    const out = { tile: state(tile), floor: state(avatar) };
    // Back to the stream that plays.
    conversation.setStream(id, "camera", shown);
    conversation.tiles.get(id).setStream(shown);
    floor.setVideo(id, shown);
    return out;
  }, ben.id);
  assert.deepEqual(none, { tile: { videos: 1, shows: true, has: false }, floor: { videos: 1, shows: true, has: false } }, "a picture that never comes");
  await anna.page.waitForSelector(`#tiles .tile[data-id="${ben.id}"].has-video`, { timeout: DEADLINE });
  // A new path given up before its first frame (back to the one on show): the one on show
  // stays, and nothing of the other takes over later.
  const back = await anna.page.evaluate(async (id) => {
    const { conversation, floor } = window.hallway;
    const shown = conversation.stream(id);
    const blank = new MediaStream([new MediaStreamTrackGenerator({ kind: "video" }), ...shown.getAudioTracks()]);
    for (const s of [blank, shown]) {
      conversation.setStream(id, "camera", s);
      conversation.tiles.get(id).setStream(s);
      floor.setVideo(id, s);
    }
    // At once: the element on show alone, and its sound on.
    const tile = conversation.tiles.get(id).el;
    const atOnce = { videos: tile.querySelectorAll("video").length, sound: [...tile.querySelectorAll("video")].filter((v) => !v.muted).length };
    if (atOnce.videos !== 1 || atOnce.sound !== 1) return { atOnce };
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const state = (el) => ({ videos: el.querySelectorAll("video").length, shows: el.querySelector("video")?.srcObject === shown, sound: [...el.querySelectorAll("video")].filter((v) => !v.muted).length, has: el.classList.contains("has-video") });
    return { tile: state(conversation.tiles.get(id).el), floor: state(floor.avatars.get(id)) };
  }, ben.id);
  assert.deepEqual(back, { tile: { videos: 1, shows: true, sound: 1, has: true }, floor: { videos: 1, shows: true, sound: 0, has: true } }, "back to the one on show");
});

// A camera is on, its track has come, but no picture yet (a slow start, a lost key frame):
// the tile and the floor show the person's initials, not a dark box, until the first
// frame is there. (The camera here is a track the test feeds frames to when it wants.)
test("a camera whose first picture has not come shows the initials, in the tile and on the floor, until it comes", async () => {
  const browser = await launchBrowser();
  let viewer;
  try {
    const page = await browser.newPage({ locale: "en-GB" });
    await page.addInitScript(() => {
      const real = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
      navigator.mediaDevices.getUserMedia = async (constraints) => {
        const tracks = constraints.audio ? (await real({ audio: constraints.audio })).getTracks() : [];
        if (constraints.video) {
          const camera = new MediaStreamTrackGenerator({ kind: "video" });
          const writer = camera.writable.getWriter();
          const canvas = new OffscreenCanvas(320, 180);
          const g = canvas.getContext("2d");
          // Called by the test: from then on, ten frames a second.
          window.startPicture = () => {
            let n = 0;
            setInterval(() => {
              g.fillStyle = n++ % 2 ? "#1d4e89" : "#a4161a";
              g.fillRect(0, 0, 320, 180);
              const frame = new VideoFrame(canvas, { timestamp: n * 100_000 });
              writer.write(frame).finally(() => frame.close());
            }, 100);
          };
          tracks.push(camera);
        }
        return new MediaStream(tracks);
      };
    });
    // (Not waiting for "load": a preview playing a camera without frames holds it back.)
    await page.goto(`${server.url}/r/lobby`, { waitUntil: "domcontentloaded" });
    await page.fill("#name", "Slow Picture");
    await page.click("#enter");
    await page.waitForSelector("#room:not([hidden])", { timeout: DEADLINE });
    await page.waitForFunction(() => window.hallway?.state?.you && window.hallway.media.camera, null, { timeout: DEADLINE });
    const slow = { page, id: await page.evaluate(() => window.hallway.state.you) };
    viewer = await person(server, "Viktor Viewer");
    await clickFloor(viewer.page, 1900, 1300);
    await waitAt(page, viewer.id, 1900, 1300);
    await clickFloor(page, 1950, 1300);
    await waitCircle(viewer.page, [slow.id, viewer.id]);
    await viewer.page.waitForFunction((id) => window.hallway.conversation.stream(id)?.getVideoTracks().some((t) => t.readyState === "live"), slow.id, { timeout: DEADLINE });
    const seen = () =>
      viewer.page.evaluate((id) => {
        const tile = document.querySelector(`#tiles .tile[data-id="${id}"]`);
        const avatar = window.hallway.floor.avatars.get(id);
        return {
          tile: tile.classList.contains("has-video"),
          tileInitials: getComputedStyle(tile.querySelector(".initials")).display,
          tileVideo: getComputedStyle(tile.querySelector("video")).visibility,
          floor: avatar.classList.contains("has-video"),
          floorInitials: getComputedStyle(avatar.querySelector(".initials")).display,
        };
      }, slow.id);
    // The connection is up and the track is there: still no picture.
    await viewer.page.waitForFunction((id) => window.hallway.peers.pc(id)?.connectionState === "connected", slow.id, { timeout: DEADLINE });
    await viewer.page.waitForTimeout(1000);
    const waiting = await seen();
    assert.ok(!waiting.tile && waiting.tileInitials !== "none" && waiting.tileVideo === "hidden" && !waiting.floor && waiting.floorInitials !== "none", `initials while no picture has come: ${JSON.stringify(waiting)}`);
    await page.evaluate(() => window.startPicture());
    await viewer.page.waitForFunction(
      (id) => document.querySelector(`#tiles .tile[data-id="${id}"]`)?.classList.contains("has-video") && window.hallway.floor.avatars.get(id)?.classList.contains("has-video"),
      slow.id,
      { timeout: DEADLINE },
    );
    const shown = await seen();
    assert.ok(shown.tileVideo === "visible" && shown.tileInitials === "none" && shown.floorInitials === "none", `the picture, once it came: ${JSON.stringify(shown)}`);
    // Off, and on again with a camera whose pictures have not come yet: the initials, not
    // the last picture from before it went off (a frozen face).
    await page.click("#camera-toggle");
    await viewer.page.waitForFunction((id) => !window.hallway.state.participants.get(id)?.camera, slow.id, { timeout: DEADLINE });
    // (A second off, as a person would: the last pictures on their way have come by then.)
    await viewer.page.waitForTimeout(1000);
    await page.click("#camera-toggle");
    await viewer.page.waitForFunction((id) => window.hallway.state.participants.get(id)?.camera, slow.id, { timeout: DEADLINE });
    await viewer.page.waitForTimeout(1000);
    const again = await seen();
    assert.ok(!again.tile && again.tileInitials !== "none" && again.tileVideo === "hidden" && !again.floor && again.floorInitials !== "none", `initials again until a new picture comes: ${JSON.stringify(again)}`);
    await page.evaluate(() => window.startPicture());
    await viewer.page.waitForFunction(
      (id) => document.querySelector(`#tiles .tile[data-id="${id}"]`)?.classList.contains("has-video") && window.hallway.floor.avatars.get(id)?.classList.contains("has-video"),
      slow.id,
      { timeout: DEADLINE },
    );
  } finally {
    await browser.close();
    await viewer?.close();
  }
});

test("Escape and the 'leave circle' button step just outside the ring and close the view", async () => {
  const [anna, ben, clara] = people;
  // In the people list, those in one's own circle have no "go to"; the others do.
  const gotos = await clara.page.evaluate(() => [...document.querySelectorAll('[id^="group-"] li')].map((li) => [li.querySelector(".person-name")?.textContent, !!li.querySelector("button")]));
  assert.ok(gotos.every(([, go]) => !go), `no "go to" in one's own circle: ${JSON.stringify(gotos)}`);
  // By keyboard: the button goes with the circle, and focus goes to the floor.
  await clara.page.focus("#leave-circle");
  await clara.page.keyboard.press("Enter");
  await clara.page.waitForFunction(() => !window.hallway.state.myCircle(), null, { timeout: DEADLINE });
  assert.equal(await clara.page.isVisible("#conversation"), false, "the conversation view closes");
  assert.equal(await clara.page.evaluate(() => document.activeElement?.id), "floor", "focus on the floor");
  await clara.page.waitForFunction(() => [...document.querySelectorAll('[id^="group-"] li')].filter((li) => li.querySelector("button")).length === 2, null, { timeout: DEADLINE });
  await waitCircle(anna.page, [anna.id, ben.id]);
  // Just outside: still close by.
  const distance = await clara.page.evaluate(() => {
    const me = window.hallway.state.me();
    const circle = [...window.hallway.state.circles.values()][0];
    return Math.hypot(me.x - circle.x, me.y - circle.y) - circle.radius;
  });
  assert.ok(distance > 0 && distance < 250, `stands just outside (${distance} units beyond the rim)`);
  await ben.page.focus("#floor");
  await ben.page.keyboard.press("Escape");
  await ben.page.waitForFunction(() => !window.hallway.state.myCircle(), null, { timeout: DEADLINE });
  assert.equal(await ben.page.isVisible("#conversation"), false);
  await anna.page.waitForFunction(() => !window.hallway.state.myCircle(), null, { timeout: DEADLINE });
});

test("a click walks at a steady pace: steps in between, and the circle forms on arrival", async () => {
  const [anna, ben] = people;
  await clickFloor(anna.page, 1500, 500);
  await waitAt(ben.page, anna.id, 1500, 500);
  // Measured from the click that lands (clickFloor clicks again if one lands elsewhere).
  let from;
  let start;
  await clickFloor(ben.page, 1560, 500, {
    before: async () => {
      from = await ben.page.evaluate(() => ({ ...window.hallway.state.me() }));
      start = ben.sent.length;
    },
  });
  await waitCircle(ben.page, [anna.id, ben.id]);
  const moves = ben.sent.slice(start).filter((m) => m.type === "move");
  const distance = Math.hypot(1560 - from.x, 500 - from.y);
  assert.ok(moves.length >= Math.floor(distance / 45), `${moves.length} steps for ${distance.toFixed(0)} units`);
  let at = from;
  for (const m of moves) {
    assert.ok(Math.hypot(m.x - at.x, m.y - at.y) <= 42, `a step of ${Math.hypot(m.x - at.x, m.y - at.y).toFixed(1)} units`);
    at = m;
  }
  assert.ok(moves.slice(0, -1).every((m) => m.walking === true), "steps on the way are marked walking");
  assert.equal(moves.at(-1).walking, undefined, "the last step ends the walk");
});
