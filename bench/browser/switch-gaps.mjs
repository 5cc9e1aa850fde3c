// How long members of a circle go without hearing or seeing each other while the circle
// switches between a mesh and the SFU, in headless Chromium (five people, five browsers).
// A circle of four talks in a mesh; a fifth walks in (mesh → SFU); the fifth walks out
// again (four stay in the SFU) and then the fourth (three: SFU → mesh); both walk back.
// Every page samples `getStats` every 50 ms and notes, per other member, when audio
// packets and decoded video frames grew on any path (the direct connection or the SFU).
// For each switch the longest gap any member saw from any other member (who was there
// before and after) is taken, from the step's start until the media has been steady for a
// while. Every microphone is on; video is one member's camera (320×180, 15 fps) as seen by
// the others: five cameras overload a small machine, and then the machine makes the gaps.
// Printed per direction: p50 and max over the runs, audio and video; and the same for steps
// that switch nothing, which shows what the machine's load alone makes of the measurement.
//
//   node bench/browser/switch-gaps.mjs [--runs N]
//
// (`./scripts/bench switch-gaps` builds the release server and runs this with it.)

import { startServer, person, clickFloor, waitCircle } from "../../tests/browser/harness.mjs";
import { parseCounts, percentile } from "./args.mjs";


// Starts sampling in a page: for each other participant, the times (Date.now) at which
// audio packets or decoded video frames grew on any of the paths that carry them. One
// `getStats` per connection per sample (the SFU's tracks are told apart by track id).
function startSampler(page) {
  return page.evaluate(() => {
    const { peers, sfu } = window.hallway;
    const last = new Map();
    const grewAt = { audio: {}, video: {} };
    const pcKeys = new WeakMap();
    let next = 0;
    const keyOf = (pc) => {
      if (!pcKeys.has(pc)) pcKeys.set(pc, `pc${next++}`);
      return pcKeys.get(pc);
    };
    // Whether `value` grew since the last sample of `key`.
    const grew = (key, value) => {
      const before = last.get(key) ?? 0;
      last.set(key, value);
      return value > before;
    };
    const note = (seen, id, kind) => {
      (seen[kind] ??= new Set()).add(id);
    };
    let busy = false;
    setInterval(async () => {
      if (busy) return;
      busy = true;
      try {
        const at = Date.now();
        const seen = {};
        for (const { id } of peers.summary()) {
          const pc = peers.pc(id);
          (await pc?.getStats())?.forEach((r) => {
            if (r.type === "inbound-rtp" && grew(`${keyOf(pc)}/${r.id}`, r.kind === "audio" ? r.packetsReceived : r.framesDecoded)) note(seen, id, r.kind);
          });
        }
        const pc = sfu.receiving;
        if (pc) {
          const byTrack = new Map();
          for (const [streamId, stream] of sfu.streams) {
            if (streamId.startsWith("p")) for (const track of stream.getTracks()) byTrack.set(track.id, streamId.slice(1));
          }
          (await pc.getStats()).forEach((r) => {
            const id = byTrack.get(r.trackIdentifier);
            if (r.type === "inbound-rtp" && id && grew(`${keyOf(pc)}/${r.id}`, r.kind === "audio" ? r.packetsReceived : r.framesDecoded)) note(seen, id, r.kind);
          });
        }
        for (const kind of ["audio", "video"]) for (const id of seen[kind] ?? []) (grewAt[kind][id] ??= []).push(at);
      } finally {
        busy = false;
      }
    }, 50);
    // The longest gap in [from, to] between growths of `kind` from `id`.
    window.benchGap = (kind, id, from, to) => {
      let gap = 0;
      let prev = from;
      window.benchGapAt = null;
      for (const t of [...(grewAt[kind][id] ?? []).filter((t) => t >= from && t <= to), to]) {
        if (t - prev > gap) window.benchGapAt = prev - from;
        gap = Math.max(gap, t - prev);
        prev = t;
      }
      return gap;
    };
  });
}

// The id of the one member whose camera is on.
let camera = null;

// The longest gap of each kind in [from, to] from any of `ids` (video: from the camera
// among them), as seen by `page`.
function longestGaps(page, ids, from, to) {
  return page.evaluate(
    ([who, withCamera, a, b]) => {
      const out = { audio: 0, video: 0, worst: null };
      for (const id of who) {
        const gap = window.benchGap("audio", id, a, b);
        if (gap > out.audio) out.worst = `audio from ${id.slice(0, 6)} to ${window.hallway.state.you.slice(0, 6)}, ${window.benchGapAt} ms after the step began`;
        out.audio = Math.max(out.audio, gap);
      }
      if (who.includes(withCamera)) out.video = window.benchGap("video", withCamera, a, b);
      return out;
    },
    [ids, camera, from, to],
  );
}

// Waits until every one of `members` has media `want` in its circle view.
async function mediaIs(members, want) {
  for (const m of members) {
    await m.page.waitForFunction((w) => (window.hallway.state.myCircle()?.media ?? "mesh") === w, want, { timeout: 30_000 });
  }
}

// After a step: waits until every member of `circle` has received audio and video from
// every other member for `steadyMs` without a gap over 200 ms, then returns the longest gap
// since `from`, per kind, over the pairs of `measured` (those there before and after).
async function gapsOf(circle, measured, from, steadyMs = 2500) {
  const until = Date.now() + 30_000;
  const others = (m, list) => list.filter((o) => o !== m).map((o) => o.id);
  for (;;) {
    await circle[0].page.waitForTimeout(500);
    const now = Date.now();
    const gaps = await Promise.all(circle.map((m) => longestGaps(m.page, others(m, circle), now - steadyMs, now)));
    if (gaps.every((g) => g.audio <= 200 && g.video <= 200)) break;
    if (now > until) {
      const paths = await Promise.all(circle.map((m) => m.page.evaluate(() => ({ you: window.hallway.state.you.slice(0, 6), sfu: window.hallway.sfu.summary(), peers: window.hallway.peers.summary().map((p) => `${p.id.slice(0, 6)} ${p.state}`) }))));
      console.error(`not steady after 30 s: ${JSON.stringify(gaps)}; paths: ${JSON.stringify(paths)}`);
      break;
    }
  }
  const to = Date.now();
  const gaps = await Promise.all(measured.map((m) => longestGaps(m.page, others(m, measured), from, to)));
  const audio = Math.max(...gaps.map((g) => g.audio));
  return { audio, video: Math.max(...gaps.map((g) => g.video)), worst: gaps.find((g) => g.audio === audio)?.worst };
}

function report(label, gaps) {
  const line = (kind) => {
    const sorted = gaps.map((g) => g[kind]).sort((a, b) => a - b);
    return `${kind} p50 ${percentile(sorted, 50)} ms, max ${sorted[sorted.length - 1]} ms`;
  };
  console.log(`${label} (${gaps.length} switches): longest ${line("audio")}; longest ${line("video")}`);
}

async function main(opts) {
  const server = await startServer();
  const members = [];
  try {
    for (let i = 0; i < 5; i++) members.push(await person(server, `Member ${i + 1}`));
    // One camera, small: five browsers encoding and decoding video for four connections
    // each overload a small machine, and then the machine, not the switch, makes the gaps.
    await members[0].page.evaluate(() => window.hallway.media.camera?.applyConstraints({ width: 320, height: 180, frameRate: 15 }));
    for (const m of members.slice(1)) {
      await m.page.click("#camera-toggle");
      await m.page.waitForSelector('#camera-toggle[aria-pressed="false"]');
    }
    camera = members[0].id;
    const spot = (i) => [700 + 45 * Math.cos(i * 1.25), 700 + 45 * Math.sin(i * 1.25)];
    const away = { 3: [1300, 700], 4: [1300, 1000] };
    const ids = (list) => list.map((m) => m.id);
    const circleOf = async (list) => {
      try {
        for (const m of list) await waitCircle(m.page, ids(list));
      } catch (err) {
        const seen = await Promise.all(list.map((m) => m.page.evaluate(() => `${window.hallway.state.me()?.name}: conn ${window.hallway.conn.socket?.readyState} my circle ${JSON.stringify(window.hallway.state.myCircle())} sees ` + [...window.hallway.state.participants.values()].map((p) => `${p.name} (${Math.round(p.x)}, ${Math.round(p.y)}) circle ${p.circle}`).join(", "))));
        throw new Error(`no circle of ${list.map((m) => m.name).join(", ")}: ${seen.join("; ")}`, { cause: err });
      }
    };
    await clickFloor(members[0].page, ...spot(0));
    for (let i = 1; i < 4; i++) {
      await clickFloor(members[i].page, ...spot(i));
      await circleOf(members.slice(0, i + 1));
    }
    for (const m of members) await startSampler(m.page);
    const four = members.slice(0, 4);
    const three = members.slice(0, 3);
    await gapsOf(four, four, Date.now());
    const toSfu = [];
    const toMesh = [];
    // Steps that switch nothing (5 → 4 stays in the SFU, 3 → 4 stays a mesh): what the
    // machine's own load makes of the same measurement, to read the switches against.
    const noSwitch = [];
    for (let run = 1; run <= opts.runs; run++) {
      // 4 → 5: mesh → SFU, measured among the four.
      let from = Date.now();
      await clickFloor(members[4].page, ...spot(4));
      await circleOf(members);
      await mediaIs(members, "sfu");
      toSfu.push(await gapsOf(members, four, from));
      // 5 → 4 (stays in the SFU), then 4 → 3: SFU → mesh, measured among the three.
      from = Date.now();
      await clickFloor(members[4].page, ...away[4]);
      await circleOf(four);
      noSwitch.push(await gapsOf(four, four, from));
      from = Date.now();
      await clickFloor(members[3].page, ...away[3]);
      await circleOf(three);
      await mediaIs(three, "mesh");
      toMesh.push(await gapsOf(three, three, from));
      // 3 → 4: a mesh again.
      from = Date.now();
      await clickFloor(members[3].page, ...spot(3));
      await circleOf(four);
      noSwitch.push(await gapsOf(three, three, from));
      console.error(`run ${run}: mesh → SFU ${JSON.stringify(toSfu.at(-1))}, SFU → mesh ${JSON.stringify(toMesh.at(-1))}`);
    }
    report("mesh → SFU (4 → 5)", toSfu);
    report("SFU → mesh (4 → 3)", toMesh);
    report("no switch (5 → 4, 3 → 4; the machine's own gaps)", noSwitch);
  } finally {
    for (const m of members) await m.close();
    await server.stop();
  }
}

const opts = parseCounts(process.argv.slice(2), { runs: 10 });
if (!opts) {
  console.error("usage: node bench/browser/switch-gaps.mjs [--runs N]");
  process.exit(2);
}
await main(opts);
