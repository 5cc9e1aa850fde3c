// What a circle of five costs each browser when its media goes through the SFU, in headless
// Chromium (five people, five browsers, every camera and microphone on; the fake camera
// is 640 × 360). The circle stands in a privacy room, so it is routed through the SFU from
// the start. Once every member decodes every other's camera, the media settle for a while
// and then, over the measured time, the benchmark prints:
// - the CPU of the browsers: every Chromium process of the machine, per browser (the five
//   share the machine with the server, which is measured separately);
// - the resolutions each member decodes of the others' cameras, and the bit rate received;
// - the layers the cameras are sent in.
// With `--single-layer 1` the pages publish their camera in one layer (simulcast off), as
// before issue #17: the same figures, to compare.
//
//   node bench/browser/sfu-circle.mjs [--seconds N] [--settle N] [--single-layer 1]
//
// (`./scripts/bench sfu-circle` builds the release server and runs this with it.)

import { readdirSync, readFileSync } from "node:fs";
import { startServer, person, clickFloor, createRoom } from "../../tests/browser/harness.mjs";
import { parseCounts } from "./args.mjs";

const opts = parseCounts(process.argv.slice(2), { seconds: 30, settle: 15, "single-layer": 0 }) ?? usage();
function usage() {
  console.error("usage: node bench/browser/sfu-circle.mjs [--seconds N] [--settle N] [--single-layer 1]");
  process.exit(2);
}

const KEY = "bench-admin-key-sfu-circle-0123456789";
const TICKS = 100; // clock ticks per second of /proc (USER_HZ)

// CPU seconds used so far by the processes whose command name starts with `prefix`, or
// by the process `pid` alone.
function cpuSeconds(match) {
  let ticks = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue;
    }
    const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    if (!match(Number(entry), comm)) continue;
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / TICKS;
}

// What a page receives of the others' cameras from the SFU: per publisher, the decoded
// width and height, and bytes.
async function received(page) {
  return page.evaluate(async () => {
    const { sfu } = window.hallway;
    const out = {};
    for (const [streamId, stream] of sfu.streams) {
      if (!streamId.startsWith("p")) continue;
      const track = stream.getVideoTracks()[0];
      const transceiver = sfu.receiving?.getTransceivers().find((t) => t.receiver.track === track);
      (await transceiver?.receiver.getStats())?.forEach((r) => {
        if (r.type === "inbound-rtp" && r.kind === "video") out[streamId.slice(1)] = { width: r.frameWidth ?? 0, height: r.frameHeight ?? 0, frames: r.framesDecoded ?? 0, bytes: r.bytesReceived ?? 0 };
      });
    }
    return out;
  });
}

// The layers a page sends its camera in: rid, width and frames per second.
async function sent(page) {
  return page.evaluate(async () => {
    const layers = [];
    (await window.hallway.sfu.sending?.getStats())?.forEach((r) => {
      if (r.type === "outbound-rtp" && r.kind === "video") layers.push({ rid: r.rid ?? "-", width: r.frameWidth ?? 0, fps: Math.round(r.framesPerSecond ?? 0) });
    });
    return layers.sort((a, b) => a.width - b.width);
  });
}

const server = await startServer({ HALLWAY_ADMIN_KEY: KEY });
const serverPid = server.pid;
const people = [];
try {
  await createRoom(server, KEY, { slug: "kreis", title: "Kreis", privacy: true });
  const names = ["Anna Amt", "Ben Behörde", "Clara Kommune", "David Dienst", "Eva Verwaltung"];
  for (const name of names) {
    const p = await person(server, name, { room: "kreis" });
    if (opts["single-layer"]) {
      // As before simulcast: the camera in one layer.
      await p.page.evaluate(() => {
        const add = RTCPeerConnection.prototype.addTransceiver;
        RTCPeerConnection.prototype.addTransceiver = function (what, init = {}) {
          const { sendEncodings, ...rest } = init;
          return add.call(this, what, rest);
        };
      });
    }
    people.push(p);
  }
  const spots = [[600, 600], [650, 600], [625, 640], [580, 640], [670, 640]];
  for (const [i, p] of people.entries()) await clickFloor(p.page, ...spots[i]);
  const everyone = people.map((p) => p.id);
  const start = Date.now();
  for (const p of people) {
    for (;;) {
      const got = await received(p.page);
      const others = everyone.filter((id) => id !== p.id);
      if (others.every((id) => got[id]?.frames > 0)) break;
      if (Date.now() - start > 120_000) {
        const seen = await p.page.evaluate(() => ({ circle: window.hallway.state.myCircle(), sfu: window.hallway.sfu.summary() }));
        throw new Error(`${p.name} does not decode everyone: ${JSON.stringify(got)}; ${JSON.stringify(seen)}`);
      }
      await p.page.waitForTimeout(500);
    }
  }
  console.log(`sfu-circle every member decodes every other after: ${Date.now() - start} ms`);
  await new Promise((resolve) => setTimeout(resolve, opts.settle * 1000));

  const isChromium = (_, comm) => comm.startsWith("chromium") || comm === "chrome";
  const isServer = (pid) => pid === serverPid;
  const before = { browsers: cpuSeconds(isChromium), server: cpuSeconds(isServer), got: await Promise.all(people.map((p) => received(p.page))), at: Date.now() };
  await new Promise((resolve) => setTimeout(resolve, opts.seconds * 1000));
  const after = { browsers: cpuSeconds(isChromium), server: cpuSeconds(isServer), got: await Promise.all(people.map((p) => received(p.page))), at: Date.now() };
  const seconds = (after.at - before.at) / 1000;

  const mode = opts["single-layer"] ? "one layer" : "simulcast";
  console.log(`sfu-circle mode: ${mode}`);
  console.log(`sfu-circle browser_cpu: ${((after.browsers - before.browsers) / seconds / people.length * 100).toFixed(1)} % of a core per browser (five browsers)`);
  console.log(`sfu-circle server_cpu: ${((after.server - before.server) / seconds).toFixed(2)} cores`);
  const sizes = {};
  let bits = 0;
  for (const [i, p] of people.entries()) {
    for (const [id, now] of Object.entries(after.got[i])) {
      const size = `${now.width}x${now.height}`;
      sizes[size] = (sizes[size] ?? 0) + 1;
      bits += ((now.bytes - (before.got[i][id]?.bytes ?? 0)) * 8) / seconds;
    }
  }
  console.log(`sfu-circle decoded: ${Object.entries(sizes).map(([s, n]) => `${n} × ${s}`).join(", ")} (of ${people.length * (people.length - 1)} cameras received)`);
  console.log(`sfu-circle video_received: ${Math.round(bits / people.length / 1000)} kbit/s per browser`);
  console.log(`sfu-circle sent_layers: ${JSON.stringify(await sent(people[0].page))}`);
} finally {
  for (const p of people) await p.close().catch(() => {});
  await server.stop();
}
