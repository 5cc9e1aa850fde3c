// Shared harness of the browser tests: the real `hallway` binary on a free loopback port,
// Debian's Chromium (one process per person, fake camera and microphone) driven by
// playwright-core, and helpers that wait for conditions with deadlines.

import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { once } from "node:events";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { before, after } from "node:test";

const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, "../..");
export const DEADLINE = 20_000;
const SECRET = "browser-tests-secret-0123456789abcdef";

const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
  "--use-fake-device-for-media-stream",
  "--use-fake-ui-for-media-stream",
];

// Starts `hallway` (the debug build by default; HALLWAY_BIN overrides) on 127.0.0.1.
export async function startServer(env = {}) {
  const bin = process.env.HALLWAY_BIN ?? path.join(repo, "target/debug/hallway");
  const dataDir = env.HALLWAY_DATA_DIR ?? mkdtempSync(path.join(tmpdir(), "hallway-browser-"));
  const child = spawn(bin, [], {
    env: { ...process.env, HALLWAY_BIND: "127.0.0.1", HALLWAY_PORT: "0", HALLWAY_MEDIA_PORT: "0", HALLWAY_TURN_PORT: "0", HALLWAY_DRAIN_SECONDS: "0", HALLWAY_LOG: process.env.HALLWAY_TEST_LOG ?? "warn", HALLWAY_SECRET: SECRET, HALLWAY_DATA_DIR: dataDir, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let buffered = "";
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("hallway did not start")), DEADLINE);
    child.stdout.on("data", (chunk) => {
      buffered += chunk;
      const match = buffered.match(/listening on (http:\/\/[\d.:]+)/);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.on("exit", (code) => reject(new Error(`hallway exited with ${code}`)));
  });
  return {
    url,
    // The server's process id (the benchmarks measure its CPU).
    pid: child.pid,
    // The server's own data folder (its room store), which `hallway link` reads too.
    dataDir,
    // Stops the server as an operator would (SIGTERM); one that has not exited after
    // DEADLINE is killed, so a teardown never waits for ever.
    stop: () => endProcess(child, "SIGTERM"),
    // Ends the server at once, as a crash would (SIGKILL).
    kill: () => endProcess(child, "SIGKILL"),
  };
}

// Sends `signal` to a child process unless it has ended, and resolves once it has; after
// DEADLINE it is sent SIGKILL. A process ended by a signal has `exitCode` null and its
// `signalCode` set: asking only for the exit code waits for ever on a killed process.
async function endProcess(child, signal) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), DEADLINE);
  await exited;
  clearTimeout(timer);
}

// A signed link minted by `hallway link` with the test servers' secret.
export function mintLink(server, args) {
  const bin = process.env.HALLWAY_BIN ?? path.join(repo, "target/debug/hallway");
  const out = execFileSync(bin, ["link", "--public-url", server.url, ...args], {
    // The server's store, not a `data` folder wherever the tests run.
    env: { ...process.env, HALLWAY_SECRET: SECRET, ...(server.dataDir ? { HALLWAY_DATA_DIR: server.dataDir } : {}) },
    encoding: "utf8",
  });
  return out.trim();
}

// A Chromium of its own, for pages that need no person in a room (each test closes it).
export function launchBrowser() {
  return chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", headless: true, args: CHROMIUM_FLAGS });
}

// Gives a person `close()`: closes their browser; if their page threw what nobody caught
// (an exception in an event handler, a promise rejected unawaited) and the test did not
// expect it (`person.expectedErrors`: a pattern of the messages it provokes), the test
// file fails. Its process ends with a failure rather than `close()` throwing: a throw
// would leave the browsers and the server that the same hook closes after it running.
function closedChecked(person) {
  person.expectedErrors = null;
  let checked = false;
  person.close = async () => {
    try {
      await person.browser.close();
    } finally {
      check();
    }
  };
  const check = () => {
    const unexpected = person.errors.filter((e) => !person.expectedErrors?.test(e.message));
    if (unexpected.length && !checked) {
      console.log(`# FAILED: ${person.name}'s page threw, and no test expected it:\n${unexpected.map((e) => e.stack ?? e).join("\n")}`);
      process.exitCode = 1;
    }
    checked = true;
  };
  return person;
}

// One person: a Chromium process of their own.
// `browser` changes how their Chromium starts: `executable` (a wrapper that starts it in a
// network namespace, say), extra `args`, extra `env`.
export async function person(server, name, { lang = "en", room = "lobby", viewport = { width: 1280, height: 800 }, touch = false, link, scale = 1, profile, camera = true, waits = false, browser: launch = {} } = {}) {
  const browser = await chromium.launch({
    executablePath: launch.executable ?? process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    // playwright gives every launch a fresh, temporary profile.
    args: [...CHROMIUM_FLAGS, ...(launch.args ?? [])],
    env: { ...process.env, ...(launch.env ?? {}) },
  });
  // A person who does not get in is closed all the same: their browser would otherwise
  // outlive the test file and keep its process from ending.
  let page;
  try {
    // `scale` 2 or 4 with a quarter or a sixteenth of the window is the page as it looks at
    // 200% or 400% browser zoom.
    const context = await browser.newContext({ viewport, deviceScaleFactor: scale, hasTouch: touch, isMobile: touch, locale: lang === "de" ? "de-DE" : "en-GB" });
    page = await context.newPage();
    // Headless Chromium has no screen to share: a canvas stands in for it, so that sharing
    // runs through the page's real path (a second video track, renegotiation, its own tile).
    await page.addInitScript(() => {
      navigator.mediaDevices.getDisplayMedia = async () => {
        const canvas = document.createElement("canvas");
        canvas.width = 1280;
        canvas.height = 720;
        const g = canvas.getContext("2d");
        let frame = 0;
        setInterval(() => {
          frame += 1;
          g.fillStyle = "#f4f1e8";
          g.fillRect(0, 0, 1280, 720);
          g.fillStyle = "#1d4e89";
          g.fillRect(80, 80, 1120, 90);
          g.fillStyle = "#c9d6e8";
          for (let i = 0; i < 5; i++) g.fillRect(80, 230 + i * 80, 700 + ((i * 97) % 300), 40);
          g.fillStyle = "#a4161a";
          g.fillRect(900, 260 + (frame % 120), 220, 220);
        }, 100);
        return canvas.captureStream(10);
      };
    });
    const requests = [];
    // What the page threw and nobody caught (an exception in an event handler, a rejected
    // promise nobody awaited): said in the test's output, and kept for tests that check it.
    const errors = [];
    page.on("pageerror", (err) => {
      errors.push(err);
      console.log(`# ${name}'s page threw: ${err.stack ?? err}`);
    });
    page.on("request", (request) => requests.push(request.url()));
    page.on("websocket", (ws) => requests.push(ws.url()));
    const sent = sentMessages(page);
    const received = receivedMessages(page);
    await page.goto(link ?? `${server.url}/r/${room}`);
    // A personal invitation fixes the name (and maybe the line): the form shows it read-only.
    if (await page.isEditable("#name")) await page.fill("#name", name);
    if (profile !== undefined && (await page.isEditable("#profile"))) await page.fill("#profile", profile);
    if (!camera) await page.uncheck("#camera-on");
    await page.click("#enter");
    // A room with a waiting room: they wait until a host admits them (no id yet).
    if (waits) {
      await page.waitForSelector("#waiting:not([hidden])", { timeout: DEADLINE });
      return closedChecked({ browser, page, id: null, name, requests, errors, sent, received });
    }
    await page.waitForSelector("#room:not([hidden])", { timeout: DEADLINE });
    await page.waitForFunction(() => window.hallway?.state?.you, null, { timeout: DEADLINE });
    const id = await page.evaluate(() => window.hallway.state.you);
    return closedChecked({ browser, page, id, name, requests, errors, sent, received });
  } catch (err) {
    // What the page showed instead, for the report (a page that does not answer: nothing).
    const shown = page
      ?.evaluate(() => ({
        join: document.querySelector("#join-error")?.textContent,
        ended: document.querySelector("#ended-detail")?.textContent,
        status: document.querySelector("#status")?.textContent,
        // Which screen shows, and how far the page got (a join that never answered).
        screens: [...document.querySelectorAll("body > main")].filter((m) => !m.hidden).map((m) => m.id),
        enter: document.querySelector("#enter") && { disabled: document.querySelector("#enter").disabled, text: document.querySelector("#enter").textContent.trim() },
        // Whether the page's script ran, and the local tracks it got.
        script: typeof window.hallway,
        tracks: window.hallway?.media?.tracks?.().map((t) => `${t.kind} ${t.readyState}`),
        // (With a query: the form was sent by the browser itself, before the page's script
        // took it, and the page loaded again.)
        url: location.pathname + location.search,
      }))
      .catch(() => null);
    let timer;
    const seen = await Promise.race([shown, new Promise((resolve) => (timer = setTimeout(resolve, 3000, null)))]).finally(() => clearTimeout(timer));
    await browser.close().catch(() => {});
    err.message += ` (${name}'s page: ${JSON.stringify(seen ?? null)})`;
    throw err;
  }
}

// Clicks the floor at floor coordinates (x, y), as a person walking there would.
// `before` (optional) runs right before each click, once the person stands still: a test
// that looks at the walk a click starts takes its starting point there.
export async function clickFloor(page, x, y, { before } = {}) {
  // A walk still under way keeps its avatar in view: the floor would scroll between working
  // out the point and the click, and the click would land elsewhere. Let it end first.
  // (Polled with `evaluate`, which playwright's and puppeteer's pages share: the Firefox
  // tests click the floor too.) The layout may still be settling (the conversation view just closed and the floor
  // grew: its ResizeObserver re-centres the view on oneself a frame later). Wait until the
  // floor's size holds for a few frames, scroll, let a frame pass, then work out the point;
  // after the click, check where on the floor it landed, click again if elsewhere (as a
  // person would), and say so if it never lands.
  let seen = null;
  for (let attempt = 0; attempt < 3; attempt++) {
    for (const end = Date.now() + DEADLINE; await page.evaluate(() => window.hallway.walker.walking); ) {
      if (Date.now() > end) throw new Error("the person's walk did not end");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const point = await page.evaluate(
      async ([fx, fy]) => {
        // A frame, or 50 ms where a page in the background gets no frames.
        const frame = () =>
          new Promise((resolve) => {
            requestAnimationFrame(() => resolve());
            setTimeout(resolve, 50);
          });
        const floor = document.querySelector("#floor");
        const size = () => `${floor.clientWidth}x${floor.clientHeight}`;
        for (let still = 0, last = size(), frames = 0; still < 3 && frames < 120; frames++) {
          await frame();
          const now = size();
          still = now === last ? still + 1 : 0;
          last = now;
        }
        const surface = document.querySelector(".surface");
        // Where the click lands on the floor, worked out as the floor does.
        window.__floorClick = null;
        surface.addEventListener(
          "click",
          (event) => {
            const rect = surface.getBoundingClientRect();
            const scale = rect.width / window.hallway.state.room.width;
            window.__floorClick = { x: (event.clientX - rect.left) / scale, y: (event.clientY - rect.top) / scale };
          },
          { capture: true, once: true },
        );
        const scale = surface.getBoundingClientRect().width / window.hallway.state.room.width;
        floor.scrollTo({ left: fx * scale - floor.clientWidth / 2, top: fy * scale - floor.clientHeight / 2 });
        await frame();
        await frame();
        const after = surface.getBoundingClientRect();
        const now = after.width / window.hallway.state.room.width;
        return { x: after.left + fx * now, y: after.top + fy * now };
      },
      [x, y],
    );
    await before?.();
    await page.mouse.click(point.x, point.y);
    seen = await page.evaluate(() => window.__floorClick ?? null);
    if (seen && Math.hypot(seen.x - x, seen.y - y) <= 2) return;
  }
  throw new Error(`a click on the floor at (${x}, ${y}) landed elsewhere: ${JSON.stringify(seen)}`);
}

// Waits until this person's page sees `id` at about (x, y).
export async function waitAt(page, id, x, y) {
  await page.waitForFunction(
    ([pid, px, py]) => {
      const p = window.hallway.state.participants.get(pid);
      return p && Math.hypot(p.x - px, p.y - py) < 2;
    },
    [id, x, y],
    { timeout: DEADLINE },
  ).catch(async (err) => {
    const seen = await page
      .evaluate((pid) => {
        const p = window.hallway.state.participants.get(pid);
        const me = window.hallway.state.me();
        return { them: p && { x: p.x, y: p.y }, me: me && { x: me.x, y: me.y } };
      }, id)
      .catch(() => null);
    err.message += ` (waiting to see ${id} at (${x}, ${y}); the page sees ${JSON.stringify(seen)})`;
    throw err;
  });
}

// Waits until this person is in a circle whose members are exactly `ids`. On a timeout the
// error says what the page saw: its circle, everyone's place, circle and connection.
export async function waitCircle(page, ids) {
  await page
    .waitForFunction(
      (want) => {
        const circle = window.hallway.state.myCircle();
        return circle && circle.members.length === want.length && want.every((id) => circle.members.includes(id));
      },
      ids,
      { timeout: DEADLINE },
    )
    .catch(async (err) => {
      const seen = await page
        .evaluate(() => {
          const s = window.hallway.state;
          return {
            me: s.you,
            mine: s.myCircle() ?? null,
            circles: [...s.circles.values()].map((c) => ({ id: c.id, members: c.members })),
            people: [...s.participants.values()].map((p) => ({ id: p.id.slice(0, 6), name: p.name, x: Math.round(p.x), y: Math.round(p.y), circle: p.circle, reconnecting: !!p.reconnecting })),
            status: document.querySelector("#status")?.textContent ?? null,
          };
        })
        .catch((e) => `page not readable: ${e.message}`);
      throw new Error(`${err.message}; wanted ${JSON.stringify(ids)}; the page saw ${JSON.stringify(seen)}`);
    });
}

// Two people walk together at about (x, y): `a` first, `b` next to them; waits until
// both are in one circle and each decodes the other's video.
export async function formCircle(a, b, x = 600, y = 600) {
  await clickFloor(a.page, x, y);
  await waitAt(b.page, a.id, x, y);
  await clickFloor(b.page, x + 50, y);
  await waitCircle(a.page, [a.id, b.id]);
  await waitCircle(b.page, [a.id, b.id]);
  await waitDecoding(a.page, b.id);
  await waitDecoding(b.page, a.id);
}

// Video frames decoded from `peer` (or, for "sfu", from everything the server forwards),
// read from the connection's statistics.
// Makes a room through the admin API of a server started with HALLWAY_ADMIN_KEY `key`
// (`room`: slug, title and settings, e.g. `privacy: true`).
export async function createRoom(server, key, room) {
  const created = await fetch(`${server.url}/api/rooms`, {
    method: "POST",
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
    body: JSON.stringify(room),
  });
  if (created.status !== 201) throw new Error(`could not make room ${room.slug}: ${created.status} ${await created.text()}`);
}

// `publisher`'s camera as this page receives it from the SFU: decoded width, frames,
// bytes and packets lost so far (zeros while nothing came).
export async function sfuCamera(page, publisher) {
  return page.evaluate(async (id) => {
    const { sfu } = window.hallway;
    const track = sfu.streams.get(`p${id}`)?.getVideoTracks()[0];
    const transceiver = sfu.receiving?.getTransceivers().find((t) => t.receiver.track === track);
    let out = { width: 0, bytes: 0, frames: 0, lost: 0 };
    (await transceiver?.receiver.getStats())?.forEach((r) => {
      if (r.type === "inbound-rtp" && r.kind === "video") out = { width: r.frameWidth ?? 0, bytes: r.bytesReceived ?? 0, frames: r.framesDecoded ?? 0, lost: r.packetsLost ?? 0 };
    });
    return out;
  }, publisher);
}

export async function framesDecoded(page, peer) {
  return page.evaluate(async (id) => {
    const pc = id === "sfu" ? window.hallway.sfu.receiving : window.hallway.peers.pc(id);
    if (!pc) return -1;
    let frames = 0;
    (await pc.getStats()).forEach((report) => {
      if (report.type === "inbound-rtp" && report.kind === "video") frames += report.framesDecoded ?? 0;
    });
    return frames;
  }, peer);
}

// Waits until `page` has a connected RTCPeerConnection to `peer` that decodes video.
export async function waitDecoding(page, peer) {
  await page.waitForFunction((id) => window.hallway.peers.pc(id)?.connectionState === "connected", peer, { timeout: DEADLINE });
  const until = Date.now() + DEADLINE;
  for (;;) {
    if ((await framesDecoded(page, peer)) > 0) return;
    if (Date.now() > until) {
      const detail = await page.evaluate((id) => {
        const pc = window.hallway.peers.pc(id);
        return {
          me: window.hallway.state.you,
          state: pc?.connectionState,
          transceivers: pc?.getTransceivers().map((t) => `${t.mid}:${t.direction}/${t.currentDirection}:${t.receiver.track.kind}:${t.receiver.track.readyState}:${t.receiver.track.muted}`),
          video: !!document.querySelector(".avatar.has-video"),
        };
      }, peer);
      throw new Error(`no video decoded from ${peer}: ${JSON.stringify(detail)}`);
    }
    await page.waitForTimeout(200);
  }
}

// Starts `redis-server` (Debian's) on 127.0.0.1 and a free port, keeping nothing on disk,
// for the cluster tests; resolves once it answers.
export async function startRedis() {
  const net = await import("node:net");
  const port = await new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
  const child = spawn("redis-server", ["--bind", "127.0.0.1", "--port", String(port), "--save", "", "--appendonly", "no"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let buffered = "";
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("redis-server did not start")), DEADLINE);
    child.stdout.on("data", (chunk) => {
      buffered += chunk;
      if (buffered.includes("Ready to accept connections")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on("exit", (code) => reject(new Error(`redis-server exited with ${code}`)));
  });
  return {
    url: `redis://127.0.0.1:${port}/`,
    stop: () => endProcess(child, "SIGTERM"),
  };
}

// Every message the server sends this page, as parsed JSON, from now on.
export function receivedMessages(page) {
  const received = [];
  page.on("websocket", (ws) => ws.on("framereceived", ({ payload }) => {
    try {
      received.push(JSON.parse(payload));
    } catch {
      // not JSON
    }
  }));
  return received;
}

// Every message this page sends to the server, as parsed JSON, from now on.
export function sentMessages(page) {
  const sent = [];
  page.on("websocket", (ws) => ws.on("framesent", ({ payload }) => {
    try {
      sent.push(JSON.parse(payload));
    } catch {
      // not JSON
    }
  }));
  return sent;
}

// The bounding boxes of every element matching `selector` that is shown (not the 1 px
// box of one kept for screen readers alone).
export async function boxes(page, selector) {
  return page.evaluate((sel) => [...document.querySelectorAll(sel)]
    .filter((el) => el.offsetParent !== null && getComputedStyle(el).visibility !== "hidden")
    .filter((el) => {
      const r = el.getBoundingClientRect();
      return !(r.width <= 1 && r.height <= 1 && getComputedStyle(el).clipPath === "inset(50%)");
    })
    .map((el) => {
      const r = el.getBoundingClientRect();
      return { left: r.left, top: r.top, width: r.width, height: r.height, text: el.textContent.trim() };
    }), selector);
}

// Pairs of boxes that overlap (by more than half a pixel).
export function overlapping(list) {
  const pairs = [];
  for (let i = 0; i < list.length; i++) {
    for (let j = i + 1; j < list.length; j++) {
      const a = list[i];
      const b = list[j];
      if (a.left + 0.5 < b.left + b.width && b.left + 0.5 < a.left + a.width && a.top + 0.5 < b.top + b.height && b.top + 0.5 < a.top + a.height) pairs.push([a.text, b.text]);
    }
  }
  return pairs;
}

const axeSource = readFileSync(path.join(here, "node_modules/axe-core/axe.min.js"), "utf8");

// axe-core on the page as it is now: every violation (any impact), and every colour
// contrast it could not decide ("needs review": text over a picture or over another
// element). Both lists must be empty.
//
// Text that is not (or only partly) scrolled into view — in a scrolling list, or on a part
// of the floor off screen — cannot be judged where it is ("elmPartiallyObscured", or the
// floor's picture behind it): each such element is scrolled into view and judged there,
// and counts only if it still needs review or fails.
//
// `within` (a selector) judges only that part of the page.
export async function axe(page, within) {
  await page.evaluate(axeSource);
  const results = await page.evaluate((selector) => window.axe.run(selector ? document.querySelector(selector) : document, { resultTypes: ["violations", "incomplete"] }), within);
  const where = (v) => v.nodes.map((n) => n.target.join(" ")).join(", ");
  const review = [];
  for (const node of results.incomplete.filter((v) => v.id === "color-contrast").flatMap((v) => v.nodes)) {
    const reasons = node.any.map((c) => c.data?.messageKey ?? c.message);
    const outOfView = await page.evaluate((selector) => {
      const el = document.querySelector(selector);
      if (!el) return false;
      const r = el.getBoundingClientRect();
      for (let box = el.parentElement; box; box = box.parentElement) {
        if (!/(auto|scroll|hidden)/.test(getComputedStyle(box).overflow)) continue;
        const b = box.getBoundingClientRect();
        if (r.top < b.top || r.bottom > b.bottom || r.left < b.left || r.right > b.right) return true;
      }
      return r.top < 0 || r.left < 0 || r.bottom > innerHeight || r.right > innerWidth;
    }, node.target.join(" "));
    if (outOfView || reasons.every((r) => r === "elmPartiallyObscured")) {
      const again = await page.evaluate(async (selector) => {
        const el = document.querySelector(selector);
        if (!el) return [];
        el.scrollIntoView({ block: "center" });
        const r = await window.axe.run(el, { runOnly: ["color-contrast"], resultTypes: ["violations", "incomplete"] });
        return [...r.violations, ...r.incomplete].flatMap((v) => v.nodes.map((n) => n.any.map((c) => c.data?.messageKey ?? c.message).join("; ") || v.id));
      }, node.target.join(" "));
      if (again.length === 0) continue;
      review.push(`${node.target.join(" ")}: in view, ${again.join("; ")}`);
    } else {
      review.push(`${node.target.join(" ")}: ${reasons.join("; ")}`);
    }
  }
  return {
    violations: results.violations.map((v) => `${v.id} (${v.impact}): ${v.help} (${where(v)})`),
    contrastReview: review,
  };
}

// A crowd without cameras: `people` ([{ name, x, y, profile? }]) join over plain WebSockets (no
// media), each walking to their spot. For pictures and consoles of many people. Chromium
// opens at most about 250 WebSockets per page, so every 100 people get a page (and a
// browser context) of their own. Returns their ids (in the order of `people`) and
// `send(index, message)` to act for one.
export async function crowd(server, people, { room = "lobby" } = {}) {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", headless: true, args: CHROMIUM_FLAGS });
  const PER_PAGE = 100;
  const pages = [];
  const ids = [];
  for (let start = 0; start < people.length; start += PER_PAGE) {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${server.url}/healthz`);
    pages.push(page);
    ids.push(...(await joinCrowd(page, people.slice(start, start + PER_PAGE), room)));
  }
  const send = (index, message) =>
    pages[Math.floor(index / PER_PAGE)].evaluate(([name, m]) => window.crowd[name].send(JSON.stringify(m)), [people[index].name, message]);
  return { ids, send, close: () => browser.close() };
}

// Joins `people` from `page`, each on a WebSocket of their own; resolves with their ids,
// or fails with the first error the server sends or a socket that closes before its welcome.
function joinCrowd(page, people, room) {
  return page.evaluate(
    ([list, slug]) =>
      Promise.all(
        list.map(
          (p) =>
            new Promise((resolve, reject) => {
              const socket = new WebSocket(`ws://${location.host}/ws`);
              window.crowd = window.crowd ?? {};
              window.crowd[p.name] = socket;
              let welcomed = false;
              socket.onopen = () => socket.send(JSON.stringify({ type: "hello", version: 2, room: slug, name: p.name, ...(p.profile ? { profile: p.profile } : {}) }));
              socket.onmessage = (event) => {
                const msg = JSON.parse(event.data);
                if (msg.type === "welcome") {
                  welcomed = true;
                  socket.send(JSON.stringify({ type: "move", x: p.x, y: p.y }));
                  // What the room says next is not read: a crowd of hundreds in one page
                  // would spend its time parsing everyone's moves.
                  socket.onmessage = null;
                  resolve(msg.you);
                }
                if (msg.type === "error" && !welcomed) reject(new Error(`${p.name}: ${msg.code}`));
              };
              socket.onclose = (event) => welcomed || reject(new Error(`${p.name}: closed (${event.code}) before the welcome`));
              // Answer the server's keepalive like a browser page would.
              setInterval(() => socket.readyState === 1 && socket.send(JSON.stringify({ type: "ping" })), 1000);
            }),
        ),
      ),
    [people, room],
  );
}

// Where the tests write their pictures: target/browser-tests/screenshots/, or the folder
// HALLWAY_SCREENSHOTS names (docs/screenshots refreshes the committed ones).
export function screenshotDir() {
  const dir = path.resolve(repo, process.env.HALLWAY_SCREENSHOTS ?? "target/browser-tests/screenshots");
  mkdirSync(dir, { recursive: true });
  return dir;
}

// One server for a test file, started before its tests and stopped after them with every
// person pushed to `people`: `const room = serverForFile(); … room.server, room.people`.
export function serverForFile(env = {}) {
  const room = { server: null, people: [] };
  before(async () => {
    room.server = await startServer(env);
  });
  after(async () => {
    for (const p of room.people) await p.close();
    await room.server?.stop();
  });
  return room;
}
