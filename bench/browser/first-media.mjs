// Time to first media in a new circle, in headless Chromium: how long after "circle formed"
// (the server's `circle_changed` that puts this page's participant into a circle reaches the
// page) the page decodes the first video frame from the other member, and plays their first
// audio. Each trial: two fresh participants (a new browser context each, so new pages, new
// sockets, new connections) join the real `hallway` binary and walk together; both pages
// measure, so a trial gives two samples of each figure.
//
//   node bench/browser/first-media.mjs [--trials N] [--json]
//
// (`./scripts/bench first-media` builds the release server and runs this with it.) The
// measurement does not depend on the client's internals: a script installed before the
// page loads records every RTCPeerConnection the page creates and timestamps the socket's
// messages (performance.now()), and polls the connections' getStats() every 10 ms from
// inside the page. Chromium refreshes statistics at most every 50 ms, so a figure is the
// first collection that shows the event: up to 50 ms after it. The only client knowledge
// used is the join form (as in the browser tests' harness); walking is a `move` on the
// page's own socket.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startServer } from "../../tests/browser/harness.mjs";

// How long a join, a walk or the media may take before a trial gives up: three times the
// browser tests' deadline, because a benchmark also runs on a busy machine, where a join
// alone has taken more than 20 s.
const WAIT = 60_000;

// playwright-core as installed for the browser tests (`npm ci` in tests/browser).
const { chromium } = createRequire(new URL("../../tests/browser/package.json", import.meta.url))("playwright-core");

// The browser tests' flags (tests/browser/harness.mjs), and a microphone that plays a
// steady tone: Chromium's default fake microphone is silent but for a 20 ms beep every
// 500 ms, which would add up to half a second of waiting for the next beep to "first
// audible audio".
const chromiumFlags = (tone) => [
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
  "--use-fake-device-for-media-stream",
  "--use-fake-ui-for-media-stream",
  `--use-file-for-fake-audio-capture=${tone}`,
];

// Two seconds of a 440 Hz tone at half scale, 48 kHz mono 16-bit PCM (Chromium loops it).
function toneWav() {
  const rate = 48_000;
  const samples = 2 * rate;
  const wav = Buffer.alloc(44 + 2 * samples);
  wav.write("RIFF", 0);
  wav.writeUInt32LE(36 + 2 * samples, 4);
  wav.write("WAVEfmt ", 8);
  wav.writeUInt32LE(16, 16);
  wav.writeUInt16LE(1, 20); // PCM
  wav.writeUInt16LE(1, 22); // mono
  wav.writeUInt32LE(rate, 24);
  wav.writeUInt32LE(2 * rate, 28);
  wav.writeUInt16LE(2, 32);
  wav.writeUInt16LE(16, 34);
  wav.write("data", 36);
  wav.writeUInt32LE(2 * samples, 40);
  for (let i = 0; i < samples; i += 1) wav.writeInt16LE(Math.round(16_000 * Math.sin((2 * Math.PI * 440 * i) / rate)), 44 + 2 * i);
  return wav;
}

// The page side: installed with addInitScript, so it runs before the client's modules.
function installProbe() {
  const probe = {
    you: null,
    // The room as the welcome describes it (its floor, its walking pace).
    room: null,
    // performance.now() when this participant's first circle was announced to the page.
    formedAt: null,
    // That circle's members and media (absent means mesh).
    members: null,
    media: null,
    connections: [],
    // When the server's first `connect` came (it comes just before the news of the circle:
    // negative), and when the first connection was connected.
    connect: null,
    connected: null,
    // The latest position of each participant, from the ticks.
    positions: {},
    socket: null,
    // When the statistics first showed a decoded video frame, an audio packet, decoded
    // audio samples and audio with energy (something audible).
    video: null,
    audioPacket: null,
    audioDecoded: null,
    audioEnergy: null,
    // When the page's own Web Audio analyser first heard the other member's microphone
    // (samples above 1 % of full scale on the remote audio track).
    heard: null,
    // The kinds of the local and remote candidates of the pair that carried the video.
    route: null,
    // Where the time goes between "circle formed" and "connected": the first time each
    // step of the signalling and of ICE happened (performance.now()), and the main
    // thread's long tasks (over 50 ms) in that time.
    steps: {},
    longTasks: [],
  };
  const step = (name) => {
    if (probe.formedAt !== null && probe.steps[name] === undefined) probe.steps[name] = performance.now();
  };
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) probe.longTasks.push([e.startTime, e.duration]);
    }).observe({ type: "longtask" });
  } catch {
    // No long-task timing in this browser: the figure stays empty.
  }
  Object.defineProperty(window, "__firstMedia", { value: probe });

  const NativePeerConnection = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends NativePeerConnection {
    constructor(...args) {
      super(...args);
      probe.connections.push(this);
      this.addEventListener("connectionstatechange", () => {
        if (this.connectionState === "connected" && probe.connected === null) probe.connected = performance.now();
      });
      this.addEventListener("iceconnectionstatechange", () => step(`ice_${this.iceConnectionState}`));
      this.addEventListener("icegatheringstatechange", () => step(`gathering_${this.iceGatheringState}`));
      this.addEventListener("icecandidate", ({ candidate }) => step(candidate ? `candidate_${candidate.type}` : "candidates_done"));
      this.addEventListener("track", ({ track }) => {
        if (track.kind === "audio") listen(track);
      });
    }
  };

  const NativeWebSocket = window.WebSocket;
  window.WebSocket = class extends NativeWebSocket {
    constructor(...args) {
      super(...args);
      probe.socket = this;
      const send = this.send.bind(this);
      this.send = (data) => {
        if (typeof data === "string" && data.includes('"signal"')) {
          if (data.includes('"offer"')) step("offer_sent");
          else if (data.includes('"answer"')) step("answer_sent");
          else if (data.includes('"candidate"')) step("candidate_sent");
        }
        return send(data);
      };
      // Added before the client's own listener, so the stamp is taken before it runs.
      this.addEventListener("message", (event) => {
        const at = performance.now();
        const data = event.data;
        if (typeof data !== "string") return;
        if (probe.connect === null && probe.you && data.startsWith('{"type":"connect"')) probe.connect = at;
        else if (data.startsWith('{"type":"signal"')) {
          if (data.includes('"offer"')) step("offer_received");
          else if (data.includes('"answer"')) step("answer_received");
          else if (data.includes('"candidate"')) step("candidate_received");
        }
        if (data.includes('"tick"')) {
          const msg = JSON.parse(data);
          if (msg.type === "tick") for (const [id, x, y] of msg.positions) probe.positions[id] = [x, y];
        } else if (data.includes('"welcome"') || data.includes('"snapshot"')) {
          // A page that fell behind gets a snapshot instead of the ticks it missed.
          const msg = JSON.parse(data);
          if (msg.type === "welcome") {
            probe.you = msg.you;
            probe.room = msg.room;
          }
          if (msg.type === "welcome" || msg.type === "snapshot") for (const p of msg.participants) probe.positions[p.id] = [p.x, p.y];
        } else if (probe.formedAt === null && probe.you && data.includes('"circle_changed"')) {
          const msg = JSON.parse(data);
          if (msg.type === "circle_changed" && msg.circle.members.includes(probe.you)) {
            probe.formedAt = at;
            probe.members = msg.circle.members;
            probe.media = msg.circle.media ?? "mesh";
            startPolling();
          }
        }
      });
    }
  };

  // Listens to a remote audio track through an analyser of the probe's own, every 5 ms:
  // the first samples that carry the tone are "heard". (Chromium's audio statistics
  // update the level only every ~100 ms, so `audioEnergy` trails this.)
  function listen(track) {
    probe.audioContext ??= new AudioContext();
    const ctx = probe.audioContext;
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 256;
    ctx.createMediaStreamSource(new MediaStream([track])).connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    const timer = setInterval(() => {
      if (probe.heard !== null || track.readyState === "ended") return clearInterval(timer);
      analyser.getFloatTimeDomainData(samples);
      if (probe.formedAt !== null && samples.some((v) => Math.abs(v) > 0.01)) probe.heard = performance.now();
    }, 5);
  }

  function startPolling() {
    let busy = false;
    const timer = setInterval(async () => {
      if (busy) return;
      busy = true;
      try {
        const reports = await Promise.all(probe.connections.filter((pc) => pc.connectionState !== "closed").map((pc) => pc.getStats()));
        for (const stats of reports) {
          stats.forEach((r) => {
            if (r.type !== "inbound-rtp") return;
            // Chromium collects statistics at most every 50 ms and hands out the cached
            // report in between: what counts is when the report was collected (its
            // timestamp, on the page's clock), not when this poll read it.
            const now = r.timestamp - performance.timeOrigin;
            if (r.kind === "video" && probe.video === null && r.framesDecoded > 0) {
              probe.video = now;
              probe.route = route(stats, r.transportId);
            }
            if (r.kind === "audio") {
              if (probe.audioPacket === null && r.packetsReceived > 0) probe.audioPacket = now;
              if (probe.audioDecoded === null && r.totalSamplesReceived > 0) probe.audioDecoded = now;
              if (probe.audioEnergy === null && (r.totalAudioEnergy > 0 || r.audioLevel > 0)) probe.audioEnergy = now;
            }
          });
        }
        if (probe.video !== null && probe.audioPacket !== null && probe.audioDecoded !== null && probe.audioEnergy !== null) clearInterval(timer);
      } finally {
        busy = false;
      }
    }, 10);
  }

  function route(stats, transportId) {
    const pair = stats.get(stats.get(transportId)?.selectedCandidatePairId);
    const kind = (id) => {
      const c = stats.get(id);
      return c ? `${c.candidateType}/${c.protocol}` : "?";
    };
    return pair ? `${kind(pair.localCandidateId)}→${kind(pair.remoteCandidateId)}` : "?";
  }
}

// A fresh participant in `browser`: a new context with the probe, joined through the join
// form as the harness's `person` does.
async function enter(browser, server, name) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "en-GB" });
  await context.addInitScript(installProbe);
  const page = await context.newPage();
  await page.goto(`${server.url}/r/lobby`);
  await page.fill("#name", name);
  await page.click("#enter");
  await page.waitForFunction(() => window.__firstMedia.you, null, { timeout: WAIT });
  const { id, room } = await page.evaluate(() => ({ id: window.__firstMedia.you, room: window.__firstMedia.room }));
  return { context, page, id, room };
}

// Puts this page's participant at (x, y) in one step: a `move` on its own socket.
async function jump(page, x, y) {
  await page.evaluate(([mx, my]) => window.__firstMedia.socket.send(JSON.stringify({ type: "move", x: mx, y: my })), [x, y]);
}

// Walks this page's participant from where it stands to (x, y) as the client walks: a
// step every 100 ms (the client's pace of `move`s) at the room's walking speed, each
// marked `walking` but the last.
async function walk(page, x, y) {
  await page.evaluate(
    ([gx, gy]) =>
      new Promise((resolve) => {
        const f = window.__firstMedia;
        const speed = f.room?.walk_speed ?? 400;
        let [cx, cy] = f.positions[f.you];
        const timer = setInterval(() => {
          const left = Math.hypot(gx - cx, gy - cy);
          const reach = speed / 10;
          const arrived = left <= reach;
          if (arrived) [cx, cy] = [gx, gy];
          else [cx, cy] = [cx + ((gx - cx) * reach) / left, cy + ((gy - cy) * reach) / left];
          f.socket.send(JSON.stringify({ type: "move", x: Math.round(cx), y: Math.round(cy), ...(arrived ? {} : { walking: true }) }));
          if (arrived) {
            clearInterval(timer);
            resolve();
          }
        }, 100);
      }),
    [x, y],
  );
}

// How far the second member of a pair walks to the first: a walk of one second at the
// usual pace, long enough for a page to see someone coming.
const APPROACH = 400;

async function seenAt(page, id, x, y) {
  await page.waitForFunction(
    ([pid, px, py]) => {
      const at = window.__firstMedia.positions[pid];
      return at && Math.hypot(at[0] - px, at[1] - py) < 2;
    },
    [id, x, y],
    { timeout: WAIT, polling: 20 },
  );
}

// A different spot each trial, so that a pair that has not quite left yet is never where
// the next one meets (the server runs without a resume grace window, so people leave when
// their page closes).
function spot(trial) {
  return [300 + (trial % 5) * 400, 300 + (Math.floor(trial / 5) % 3) * 400];
}

// One trial: both join, A walks to the spot, then B next to A (once A is seen there, so
// that the circle forms on B's arrival). Resolves to each page's figures.
async function trial(browsers, server, n) {
  const people = [];
  try {
    for (const [k, browser] of browsers.entries()) people.push(await enter(browser, server, `Trial ${n} ${"AB"[k]}`));
    const [a, b] = people;
    const [x, y] = spot(n);
    await jump(a.page, x, y);
    await seenAt(b.page, a.id, x, y);
    // B starts a walk's length away (below the spot on the upper rows, above it on the
    // lowest) and walks up to A.
    const startY = y + APPROACH <= (a.room?.height ?? 0) - 50 ? y + APPROACH : y - APPROACH;
    await jump(b.page, x + 50, startY);
    await seenAt(a.page, b.id, x + 50, startY);
    await walk(b.page, x + 50, y);
    const results = [];
    for (const p of people) {
      try {
        await p.page.waitForFunction(
          () => {
            const f = window.__firstMedia;
            return f.video !== null && f.heard !== null && f.audioPacket !== null && f.audioDecoded !== null && f.audioEnergy !== null;
          },
          null,
          { timeout: WAIT, polling: 50 },
        );
      } catch {
        // Reported below as whatever was measured: a figure that never came is missing.
      }
      const probe = await p.page.evaluate(() => {
        const f = window.__firstMedia;
        const since = (t) => (t === null || f.formedAt === null ? null : t - f.formedAt);
        return {
          members: f.members,
          media: f.media,
          connections: f.connections.length,
          route: f.route,
          connect: since(f.connect),
          heard: since(f.heard),
          connected: since(f.connected),
          video: since(f.video),
          audioPacket: since(f.audioPacket),
          audioDecoded: since(f.audioDecoded),
          audioEnergy: since(f.audioEnergy),
          formedAbs: f.formedAt === null ? null : performance.timeOrigin + f.formedAt,
          steps: Object.fromEntries(Object.entries(f.steps).map(([k, t]) => [k, since(t)])),
          longTasks: f.longTasks.filter(([start]) => f.formedAt !== null && start >= f.formedAt - 100 && (f.connected === null || start <= f.connected)).map(([start, d]) => [since(start), d]),
        };
      });
      if (probe.members?.length !== 2) throw new Error(`trial ${n}: the circle was not the pair: ${JSON.stringify(probe)}`);
      results.push(probe);
    }
    return results;
  } finally {
    for (const p of people) await p.context.close();
  }
}

// The p-th percentile as the load generator computes it (bench/src/stats.rs).
function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(Math.round((p / 100) * (sorted.length - 1)), sorted.length - 1)];
}

// Runs `trials` trials against a fresh server; resolves to the figures, in the load
// generator's report shape ({ scenario, figures: [{ name, value, unit }] }).
export async function run({ trials = 20, log = () => {} } = {}) {
  let server;
  const browsers = [];
  const scratch = mkdtempSync(path.join(os.tmpdir(), "hallway-first-media-"));
  const tone = path.join(scratch, "tone.wav");
  writeFileSync(tone, toneWav());
  const stop = async () => {
    for (const browser of browsers) await browser.close().catch(() => {});
    await server?.stop();
    rmSync(scratch, { recursive: true, force: true });
  };
  // Ended from outside (Ctrl-C, a timeout), the server and the browsers are stopped too.
  const onSignal = (signal) => stop().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    // The machine's load says how much else competed for it while measuring.
    const loadBefore = os.loadavg()[0];
    server = await startServer({ HALLWAY_RESUME_GRACE: "0" });
    // One Chromium per person, as in the browser tests.
    for (let k = 0; k < 2; k += 1) browsers.push(await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", headless: true, args: chromiumFlags(tone) }));
    // The first circle of a browser also starts what stays up for the browser's life (the
    // page's first load, the audio output, WebRTC's threads): a trial of its own, reported
    // apart as `cold_*`.
    const cold = await trial(browsers, server, 0);
    log(`warm-up trial: ${describe(cold)}`);
    const keys = ["connect", "connected", "video", "heard", "audioPacket", "audioDecoded", "audioEnergy"];
    const samples = Object.fromEntries(keys.map((key) => [key, []]));
    const routes = new Set();
    for (let n = 1; n <= trials; n += 1) {
      const results = await trial(browsers, server, n);
      for (const r of results) {
        for (const key of keys) if (r[key] !== null) samples[key].push(r[key]);
        routes.add(`${r.media} ${r.route}`);
      }
      log(`trial ${n}: ${describe(results)}`);
    }
    const report = { scenario: "first-media", figures: [], routes: [...routes] };
    const add = (name, value, unit) => report.figures.push({ name, value: value ?? NaN, unit });
    add("trials", trials, "");
    // Headline figures: the first decoded video frame and the first audio heard (the
    // probe's analyser).
    for (const [key, name] of [
      ["video", "video"],
      ["heard", "audio"],
    ]) {
      const values = samples[key];
      add(`${name}_samples`, values.length, "");
      add(`${name}_p50`, percentile(values, 50), "ms");
      add(`${name}_p95`, percentile(values, 95), "ms");
      add(`${name}_max`, values.length ? Math.max(...values) : null, "ms");
    }
    // Where the time goes: the server's `connect` (just before the circle's news),
    // connected (ICE and DTLS done), the first audio packet received, the first audio
    // samples decoded, and the statistics' first audio level above zero (the figure
    // recorded as `audio` until 2026-12-03; it trails `audio` by up to ~110 ms).
    for (const [key, name] of [
      ["connect", "connect_received"],
      ["connected", "connected"],
      ["audioPacket", "audio_packet"],
      ["audioDecoded", "audio_decoded"],
      ["audioEnergy", "audio_level"],
    ]) {
      add(`${name}_p50`, percentile(samples[key], 50), "ms");
      add(`${name}_p95`, percentile(samples[key], 95), "ms");
    }
    const slowest = (key) => Math.max(...cold.map((r) => r[key] ?? Infinity));
    add("cold_video", slowest("video"), "ms");
    add("cold_audio", slowest("heard"), "ms");
    add("load_average_before", loadBefore, "");
    add("load_average_after", os.loadavg()[0], "");
    return report;
  } finally {
    await stop();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

function fmt(ms) {
  return ms === null ? "-" : ms.toFixed(0);
}

function describe(results) {
  const first = Math.min(...results.map((r) => r.formedAbs ?? Infinity));
  return results
    .map((r) => {
      const steps = Object.entries(r.steps)
        .sort((x, y) => x[1] - y[1])
        .map(([k, t]) => `${k} ${fmt(t)}`)
        .join(", ");
      const busy = r.longTasks.map(([start, d]) => `${fmt(start)}+${fmt(d)}`).join(" ");
      return `formed +${fmt(r.formedAbs - first)} connect ${fmt(r.connect)} connected ${fmt(r.connected)} video ${fmt(r.video)} audio packet ${fmt(r.audioPacket)} decoded ${fmt(r.audioDecoded)} audible ${fmt(r.audioEnergy)} heard ${fmt(r.heard)}\n    steps: ${steps}\n    long tasks: ${busy || "none"}`;
    })
    .join("\n  | ");
}

// One line per figure, as the load generator prints them: `scenario name: value unit`.
export function toLines(report) {
  return report.figures
    .map(({ name, value, unit }) => {
      const shown = !Number.isFinite(value) ? "n/a" : Math.abs(value) >= 100 || Number.isInteger(value) ? value.toFixed(0) : value.toFixed(2);
      return `${report.scenario} ${name}: ${shown} ${unit}`.trimEnd() + "\n";
    })
    .join("");
}

// `--trials N` (the measured trials, after the warm-up one) and `--json`; anything else is
// refused with the usage.
function parseArgs(args) {
  const opts = { trials: 20, json: false };
  for (let i = 0; i < args.length; i += 1) {
    if (args[i] === "--json") opts.json = true;
    else if (args[i] === "--trials" && /^[1-9][0-9]*$/.test(args[i + 1] ?? "")) opts.trials = Number(args[++i]);
    else return null;
  }
  return opts;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const opts = parseArgs(process.argv.slice(2));
  if (!opts) {
    console.error("usage: first-media [--trials N] [--json]   (N: a positive whole number of trials; default 20)");
    process.exit(2);
  }
  const report = await run({ trials: opts.trials, log: (line) => console.error(line) });
  process.stdout.write(toLines(report));
  process.stdout.write(`${report.scenario} route: ${report.routes.join(", ")}\n`);
  if (opts.json) console.log(JSON.stringify(report, null, 2));
}
