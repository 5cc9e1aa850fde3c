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
// With `--own-core 1` (a machine of two cores or more) the first member's browser gets a
// core to itself (the others and the server share the rest, by CPU affinity), once the
// circle has formed: its CPU is then what one browser takes for such a circle, not what
// five on one machine leave each other. The frame rates it receives are printed with it,
// so that others starved of CPU (sending fewer frames, making its work lighter) show.
//
//   node bench/browser/sfu-circle.mjs [--seconds N] [--settle N] [--single-layer 1] [--own-core 1]
//
// (`./scripts/bench sfu-circle` builds the release server and runs this with it.)

import { readdirSync, readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { startServer, person, clickFloor, createRoom } from "../../tests/browser/harness.mjs";
import { parseCounts } from "./args.mjs";

const opts = parseCounts(process.argv.slice(2), { seconds: 30, settle: 15, "single-layer": 0, "own-core": 0 }) ?? usage();
function usage() {
  console.error("usage: node bench/browser/sfu-circle.mjs [--seconds N] [--settle N] [--single-layer 1] [--own-core 1]");
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

// The processes of the machine: pid → { ppid, comm, start } (start in clock ticks since boot).
function processes() {
  const all = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      all.set(Number(entry), { ppid: Number(fields[1]), comm: stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")), start: Number(fields[19]) });
    } catch {
      // Gone meanwhile.
    }
  }
  return all;
}

// Each browser this process launched, in the order launched: the set of its processes (the
// browser's own and every descendant: zygotes, renderers, GPU and network services).
function browserTrees() {
  const all = processes();
  // (Debian's `chromium` may be a shell script that runs the browser as its child.)
  const roots = [...all].filter(([, p]) => p.ppid === process.pid).sort((a, b) => a[1].start - b[1].start);
  const isBrowser = (pid) => all.get(pid).comm.startsWith("chromium") || all.get(pid).comm === "chrome";
  const trees = roots.map(([root]) => {
    const tree = new Set([root]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const [pid, p] of all) if (!tree.has(pid) && tree.has(p.ppid)) grew = !!tree.add(pid);
    }
    return tree;
  });
  return trees.filter((tree) => [...tree].some(isBrowser));
}

// CPU seconds used so far by the processes `pids`, by Chromium's process type (`renderer`,
// `gpu-process`, the utility services by their service name: `audio`, `network` …).
function cpuByType(pids) {
  const out = {};
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      const type = cmdline.match(/--utility-sub-type=([a-z_]+)/)?.[1] ?? cmdline.match(/--type=([a-z-]+)/)?.[1] ?? "browser";
      out[type] = (out[type] ?? 0) + (Number(fields[11]) + Number(fields[12])) / TICKS;
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

// The CPUs this process may run on (its cpuset's, not necessarily 0 … n - 1).
function allowedCpus() {
  const list = readFileSync("/proc/self/status", "utf8").match(/^Cpus_allowed_list:\s*(\S+)/m)?.[1] ?? "";
  return list.split(",").flatMap((part) => {
    const [from, to = from] = part.split("-").map(Number);
    return Array.from({ length: to - from + 1 }, (_, i) => from + i);
  });
}

// Puts every thread of the processes `pids` on the CPUs `cpus` (taskset's list: "1",
// "0,2"), and checks that each thread is there (a thread that ended meanwhile is fine).
function pin(pids, cpus) {
  for (const pid of pids) {
    try {
      execFileSync("taskset", ["-a", "-p", "-c", cpus, String(pid)], { stdio: "ignore" });
    } catch {
      // A thread that ended meanwhile stops taskset: checked below, and once more.
      try {
        execFileSync("taskset", ["-a", "-p", "-c", cpus, String(pid)], { stdio: "ignore" });
      } catch {
        // Checked below.
      }
    }
    let tasks = [];
    try {
      tasks = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue; // The process ended.
    }
    for (const task of tasks) {
      let status;
      try {
        status = readFileSync(`/proc/${pid}/task/${task}/status`, "utf8");
      } catch {
        continue;
      }
      const allowed = status.match(/^Cpus_allowed_list:\s*(\S+)/m)?.[1];
      if (allowed !== cpus) throw new Error(`thread ${task} of process ${pid} runs on CPUs ${allowed}, not ${cpus} (is taskset installed?)`);
    }
  }
}

// What a page receives of the others' cameras from the SFU: per publisher, the decoded
// width and height, frames and bytes, and when the browser counted them (ms).
async function received(page) {
  return page.evaluate(async () => {
    const { sfu } = window.hallway;
    const out = {};
    for (const [streamId, stream] of sfu.streams) {
      if (!streamId.startsWith("p")) continue;
      const track = stream.getVideoTracks()[0];
      const transceiver = sfu.receiving?.getTransceivers().find((t) => t.receiver.track === track);
      (await transceiver?.receiver.getStats())?.forEach((r) => {
        if (r.type === "inbound-rtp" && r.kind === "video") out[streamId.slice(1)] = { width: r.frameWidth ?? 0, height: r.frameHeight ?? 0, frames: r.framesDecoded ?? 0, bytes: r.bytesReceived ?? 0, at: r.timestamp };
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

  let own = null;
  if (opts["own-core"]) {
    const cpus = allowedCpus();
    if (cpus.length < 2) throw new Error("--own-core needs two CPUs or more");
    const trees = browserTrees();
    if (trees.length !== people.length) throw new Error(`found ${trees.length} browsers, not ${people.length}`);
    own = trees[0];
    const last = String(cpus.at(-1));
    const rest = cpus.slice(0, -1).join(",");
    pin(own, last);
    // The others, the server and this process (Playwright's side of the browsers) share
    // the rest; what else the machine runs is not moved.
    pin([...trees.slice(1).flatMap((t) => [...t]), serverPid, process.pid], rest);
    console.log(`sfu-circle own_core: ${people[0].name}'s browser (${own.size} processes) on CPU ${last}; the other four browsers, the server and the bench on CPU ${rest}`);
    await new Promise((resolve) => setTimeout(resolve, opts.settle * 1000));
  }
  const isChromium = (_, comm) => comm.startsWith("chromium") || comm === "chrome";
  const isOwn = (pid) => own?.has(pid) ?? false;
  const isServer = (pid) => pid === serverPid;
  // The CPU counters are read at once, what the pages received after (pages on a starved
  // core take seconds to answer): each has its own clock.
  const sample = async () => {
    const cpu = { at: Date.now(), browsers: cpuSeconds(isChromium), own: cpuSeconds(isOwn), server: cpuSeconds(isServer), ownByType: cpuByType(own ?? []) };
    return { ...cpu, got: await Promise.all(people.map((p) => received(p.page))) };
  };
  const before = await sample();
  await new Promise((resolve) => setTimeout(resolve, opts.seconds * 1000));
  const after = await sample();
  const seconds = (after.at - before.at) / 1000;
  // Per second of the browser's own counting, from `was` to `now`.
  const rate = (now, was, key) => (was ? (now[key] - was[key]) / ((now.at - was.at) / 1000) : 0);

  const mode = opts["single-layer"] ? "one layer" : "simulcast";
  console.log(`sfu-circle mode: ${mode}`);
  console.log(`sfu-circle browser_cpu: ${((after.browsers - before.browsers) / seconds / people.length * 100).toFixed(1)} % of a core per browser (five browsers)`);
  if (own) {
    const fps = Object.entries(after.got[0]).map(([id, now]) => Math.round(rate(now, before.got[0][id], "frames")));
    console.log(`sfu-circle own_core browser_cpu: ${((after.own - before.own) / seconds * 100).toFixed(1)} % of a core (${people[0].name}, on a core of its own; receiving ${fps.join(" / ")} frames a second of the four cameras)`);
    const byType = Object.entries(after.ownByType).map(([type, used]) => [type, ((used - (before.ownByType[type] ?? 0)) / seconds) * 100]).filter(([, pct]) => pct >= 0.1).sort((a, b) => b[1] - a[1]);
    console.log(`sfu-circle own_core by_process: ${byType.map(([type, pct]) => `${type} ${pct.toFixed(1)} %`).join(", ")}`);
  }
  console.log(`sfu-circle server_cpu: ${((after.server - before.server) / seconds).toFixed(2)} cores`);
  const sizes = {};
  let bits = 0;
  for (const [i, p] of people.entries()) {
    for (const [id, now] of Object.entries(after.got[i])) {
      const size = `${now.width}x${now.height}`;
      sizes[size] = (sizes[size] ?? 0) + 1;
      bits += rate(now, before.got[i][id], "bytes") * 8;
    }
  }
  console.log(`sfu-circle decoded: ${Object.entries(sizes).map(([s, n]) => `${n} × ${s}`).join(", ")} (of ${people.length * (people.length - 1)} cameras received)`);
  console.log(`sfu-circle video_received: ${Math.round(bits / people.length / 1000)} kbit/s per browser`);
  for (const p of people) console.log(`sfu-circle sent_layers ${p.name}: ${JSON.stringify(await sent(p.page))}`);
} finally {
  for (const p of people) await p.close().catch(() => {});
  await server.stop();
}
