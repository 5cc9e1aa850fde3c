// How long members of a circle go without hearing or seeing each other while the circle
// switches between a mesh and the SFU, in headless Chromium (five people, five browsers).
// A circle of four talks in a mesh; a fifth walks in (mesh → SFU); the fifth walks out
// again (four stay in the SFU) and then the fourth (three: SFU → mesh); both walk back.
// Every page samples `getStats` every 50 ms and notes, per other member, the stretches of
// time in which their audio packets and decoded video frames arrived on the path the page
// plays them from (the direct connection or the SFU: a tile plays one stream, with its
// sound), read from the counters rather than from when the samples ran (see
// `startSampler`). For each switch the longest gap any member had from any other member
// (who was there before and after) is taken, from the step's start until the media has
// been steady for a while; also the longest of those gaps that ended on another path than
// it began (the hole at the handover itself), and how long the pages went without taking
// a sample or without running a 20 ms timer (the machine's load). A last step stops one
// member's audio for a known time, to show that a gap no packet arrives in reads as what
// it is (it cannot show how a burst after a stall reads: see `startSampler`). Every
// microphone is on; video is one member's camera (320×180, 15 fps) as seen by the others:
// five cameras overload a small machine, and then the machine makes the gaps.
// Printed per direction: p50 and max over the runs, audio and video; and the same for steps
// that switch nothing, which shows what the machine's load alone makes of the measurement.
//
//   node bench/browser/switch-gaps.mjs [--runs N]
//
// (`./scripts/bench switch-gaps` builds the release server and runs this with it.)

import { startServer, person, clickFloor, waitCircle } from "../../tests/browser/harness.mjs";
import { parseCounts, percentile } from "./args.mjs";

// Chromium's Opus packets carry 20 ms; the one camera is set to 15 frames a second.
const AUDIO_PACKET_MS = 20;
const CAMERA_FPS = 15;
// How long the calibration step stops one member's audio.
const CALIBRATION_MS = 600;


// Starts sampling in a page: for each other participant, which stretches of time their
// audio packets and video frames arrived in, on the path the page plays them from at that
// moment. One `getStats` per connection per sample (the SFU's tracks are told apart by
// track id). What arrived is read from the counters, not from when the samples were
// taken: a sample that comes late (the page or the browser's network thread busy during a
// switch) would otherwise read as a gap in the media. Each inbound stream's report says
// when its last packet came (`lastPacketReceivedTimestamp`) and how many packets (audio)
// or decoded frames (video) came since the previous report; those are taken to have come
// evenly up to that last packet (an audio packet carries 20 ms, the camera sends 15
// frames a second). A burst after a stall therefore reads as no gap: the figure is how
// long the played path delivered nothing, not what the jitter buffer made of it.
function startSampler(page) {
  return page.evaluate(
    ([audioMs, videoMs]) => {
      const { peers, sfu } = window.hallway;
      const per = { audio: audioMs, video: videoMs };
      // Per inbound stream (connection and report id): its last report.
      const last = new Map();
      // Per kind and participant: [from, to] stretches in which their media arrived.
      const arrived = { audio: {}, video: {} };
      const pcKeys = new WeakMap();
      let next = 0;
      const keyOf = (pc) => {
        if (!pcKeys.has(pc)) pcKeys.set(pc, `pc${next++}`);
        return pcKeys.get(pc);
      };
      // Which path's stream the page plays for `id` (its tile and bubble show one stream,
      // with its sound): only what arrives on that path is heard and seen.
      const played = (id) => {
        const shown = window.hallway.conversation.stream(id, "camera");
        return shown && shown === sfu.streams.get(`p${id}`) ? "sfu" : "direct";
      };
      const note = (pc, id, r) => {
        const count = r.kind === "audio" ? r.packetsReceived : r.framesDecoded;
        const key = `${keyOf(pc)}/${r.id}`;
        const before = last.get(key) ?? { t: -Infinity, count: 0 };
        last.set(key, { t: r.timestamp, count });
        const came = count - before.count;
        if (!(came > 0) || (pc === sfu.receiving ? "sfu" : "direct") !== played(id)) return;
        const end = Math.min(r.lastPacketReceivedTimestamp ?? r.timestamp, r.timestamp);
        (arrived[r.kind][id] ??= []).push([Math.max(before.t, end - came * per[r.kind]), end, pc === sfu.receiving ? "sfu" : "direct"]);
      };
      let busy = false;
      // When each sample began: how long the page went without one is reported too; and
      // when a 20 ms timer ran, which tells a page too busy to run anything (its main
      // thread) from samples that waited on the browser.
      const ticks = [];
      const beats = [];
      setInterval(() => beats.push(Date.now()), 20);
      setInterval(async () => {
        if (busy) return;
        busy = true;
        try {
          ticks.push(Date.now());
          for (const { id } of peers.summary()) {
            const pc = peers.pc(id);
            (await pc?.getStats())?.forEach((r) => {
              if (r.type === "inbound-rtp") note(pc, id, r);
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
              if (r.type === "inbound-rtp" && id) note(pc, id, r);
            });
          }
        } finally {
          busy = false;
        }
      }, 50);
      // The longest stretch in [from, to] in which nothing of `kind` from `id` arrived;
      // `benchHandover` the longest of those that ended on another path than the one
      // before it (a hole at the handover itself, not a stall of one path).
      window.benchGap = (kind, id, from, to) => {
        const spans = (arrived[kind][id] ?? []).filter(([a, b]) => b >= from && a <= to).sort((x, y) => x[0] - y[0]);
        let gap = 0;
        let covered = from;
        let by = null;
        window.benchGapAt = null;
        window.benchHandover = 0;
        for (const [a, b, path] of [...spans, [to, to, "end"]]) {
          if (by && path !== "end" && path !== by) window.benchHandover = Math.max(window.benchHandover, Math.round(a - covered));
          if (a - covered > gap) {
            gap = a - covered;
            window.benchGapAt = `${Math.round(covered - from)} ms after the step began, ${by} then ${path}`;
          }
          if (b > covered) by = path;
          covered = Math.max(covered, b);
        }
        return Math.round(gap);
      };
      // The longest time in [from, to] without a sample begun (or, `beats`, without the
      // 20 ms timer run).
      window.benchPause = (from, to, of = ticks) => {
        let pause = 0;
        let prev = from;
        for (const t of [...of.filter((t) => t >= from && t <= to), to]) {
          pause = Math.max(pause, t - prev);
          prev = t;
        }
        return pause;
      };
      window.benchBusy = (from, to) => window.benchPause(from, to, beats);
    },
    [AUDIO_PACKET_MS, 1000 / CAMERA_FPS],
  );
}

// The id of the one member whose camera is on.
let camera = null;

// The longest gap of each kind in [from, to] from any of `ids` (video: from the camera
// among them), as seen by `page`.
function longestGaps(page, ids, from, to) {
  return page.evaluate(
    ([who, withCamera, a, b]) => {
      const out = { audio: 0, video: 0, handover: 0, worst: null, pause: window.benchPause(a, b), busy: window.benchBusy(a, b) };
      for (const id of who) {
        const gap = window.benchGap("audio", id, a, b);
        out.handover = Math.max(out.handover, window.benchHandover);
        if (gap > out.audio) out.worst = `audio from ${id.slice(0, 6)} to ${window.hallway.state.you.slice(0, 6)}, ${window.benchGapAt}`;
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
  return { audio, video: Math.max(...gaps.map((g) => g.video)), worst: gaps.find((g) => g.audio === audio)?.worst, handover: Math.max(...gaps.map((g) => g.handover)), pause: Math.max(...gaps.map((g) => g.pause)), busy: Math.max(...gaps.map((g) => g.busy)) };
}

function report(label, gaps) {
  const line = (kind) => {
    const sorted = gaps.map((g) => g[kind]).sort((a, b) => a - b);
    return `${kind} p50 ${percentile(sorted, 50)} ms, max ${sorted[sorted.length - 1]} ms`;
  };
  console.log(`${label} (${gaps.length} switches): longest ${line("audio")}; longest ${line("video")}; longest at the handover: ${line("handover")}; longest the pages went without a sample: ${line("pause")}, without running a 20 ms timer: ${line("busy")}`);
}

async function main(opts) {
  const server = await startServer();
  const members = [];
  try {
    for (let i = 0; i < 5; i++) members.push(await person(server, `Member ${i + 1}`));
    // One camera, small: five browsers encoding and decoding video for four connections
    // each overload a small machine, and then the machine, not the switch, makes the gaps.
    await members[0].page.evaluate((fps) => window.hallway.media.camera?.applyConstraints({ width: 320, height: 180, frameRate: fps }), CAMERA_FPS);
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
    // Calibration: the first member stops sending audio for a known time (its senders
    // given no track send nothing) in the circle of four; the figure should read it.
    const from = Date.now();
    await members[0].page.evaluate(async (ms) => {
      const { peers } = window.hallway;
      const senders = peers.summary().flatMap(({ id }) => peers.pc(id)?.getSenders() ?? []).filter((s) => s.track?.kind === "audio");
      const tracks = senders.map((s) => s.track);
      await Promise.all(senders.map((s) => s.replaceTrack(null)));
      await new Promise((done) => setTimeout(done, ms));
      await Promise.all(senders.map((s, i) => s.replaceTrack(tracks[i])));
    }, CALIBRATION_MS);
    const calibration = await gapsOf(four, four, from);
    report("mesh → SFU (4 → 5)", toSfu);
    report("SFU → mesh (4 → 3)", toMesh);
    report("no switch (5 → 4, 3 → 4; the machine's own gaps)", noSwitch);
    console.log(`calibration: ${CALIBRATION_MS} ms without audio from one member read as ${calibration.audio} ms`);
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
