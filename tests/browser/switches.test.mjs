// Nobody is left without media when a circle changes (real Chromium, real server, five
// people in five browsers): the circle goes 4 → 5, then 5 → 4 → 3 → 4 → 5 twenty times —
// through the mesh threshold (5 goes through the SFU; back to a mesh at 3) — and after
// every step every member receives audio from every other member, whichever path it takes.
// Cameras are off (the microphones carry the check), so that five browsers fit on a small
// machine. HALLWAY_SWITCH_CYCLES sets the number of cycles (default 20).
//
// Part of the suite (about 8 minutes on the 2-core development machine against the debug
// build). HALLWAY_SWITCH_CYCLES=0 skips it.

import { test, before, after } from "node:test";
import { startServer, person, clickFloor, waitCircle, DEADLINE } from "./harness.mjs";

const CYCLES = Number(process.env.HALLWAY_SWITCH_CYCLES ?? 20);
const SKIP = CYCLES === 0 ? "HALLWAY_SWITCH_CYCLES=0" : false;
// Audio packets a member must receive from each other member after a step (Opus sends 50 a
// second): more than a stray packet, less than a second's worth.
const PACKETS = 15;

let server;
const people = [];

before(async () => {
  if (!SKIP) server = await startServer();
});

after(async () => {
  for (const p of people) await p.close();
  await server?.stop();
});

// Audio packets received so far from each person, by their id, over the mesh and the SFU.
function audioFrom(page) {
  return page.evaluate(async () => {
    const { peers, sfu } = window.hallway;
    const out = {};
    const add = (id, stats) =>
      stats?.forEach((r) => {
        if (r.type === "inbound-rtp" && r.kind === "audio") out[id] = (out[id] ?? 0) + r.packetsReceived;
      });
    for (const { id } of peers.summary()) add(id, await peers.pc(id)?.getStats());
    for (const [streamId, stream] of sfu.streams) {
      if (!streamId.startsWith("p")) continue;
      const track = stream.getAudioTracks()[0];
      const transceiver = sfu.receiving?.getTransceivers().find((t) => t.receiver.track === track);
      add(streamId.slice(1), await transceiver?.receiver.getStats());
    }
    return out;
  });
}

// Waits until every member of `members` receives audio from every other member: each count
// grows by PACKETS from where it stood when called.
async function everyoneHearsEveryone(members, step) {
  const start = await Promise.all(members.map((m) => audioFrom(m.page)));
  const until = Date.now() + 2 * DEADLINE;
  for (;;) {
    const now = await Promise.all(members.map((m) => audioFrom(m.page)));
    const missing = [];
    members.forEach((m, i) => {
      for (const other of members) {
        if (other === m) continue;
        // A path that is new since `start` (its count below the old one's) counts from zero.
        const before = start[i][other.id] ?? 0;
        const after = now[i][other.id] ?? 0;
        const got = after >= before ? after - before : after;
        if (got < PACKETS) missing.push(`${m.name} ← ${other.name} (${got})`);
      }
    });
    if (missing.length === 0) return;
    if (Date.now() > until) {
      const paths = await Promise.all(
        members.map((m) =>
          m.page.evaluate(async () => {
            const { state, peers, sfu } = window.hallway;
            const sent = [];
            (await sfu.sending?.getStats())?.forEach((r) => {
              if (r.type === "outbound-rtp") sent.push(`${r.kind} ${r.packetsSent}`);
              if (r.type === "candidate-pair" && r.nominated) sent.push(`pair ${r.state} ${r.bytesSent}/${r.bytesReceived}`);
            });
            return { you: state.you.slice(0, 6), media: state.myCircle()?.media ?? "mesh", peers: peers.summary(), sfu: sfu.summary(), sent };
          }),
        ),
      );
      throw new Error(`${step}: not heard: ${missing.join(", ")}; paths: ${JSON.stringify(paths)}`);
    }
    await members[0].page.waitForTimeout(250);
  }
}

test(`4 → 5 → 4 → 3 → 4 → 5, ${CYCLES} times: after every step everyone hears everyone`, { timeout: 60 * 60 * 1000, skip: SKIP }, async () => {
  const members = [];
  for (let i = 0; i < 5; i++) members.push(await person(server, `Member ${i + 1}`));
  people.push(...members);
  for (const m of members) {
    await m.page.click("#camera-toggle");
    await m.page.waitForSelector('#camera-toggle[aria-pressed="false"]', { timeout: DEADLINE });
  }
  // Four stand together; the fifth and the fourth walk in and out.
  const spot = (i) => [700 + 45 * Math.cos(i * 1.25), 700 + 45 * Math.sin(i * 1.25)];
  const away = { 3: [1300, 700], 4: [1300, 1000] };
  const ids = (list) => list.map((m) => m.id);
  const circleOf = async (list) => {
    for (const m of list) await waitCircle(m.page, ids(list));
  };
  // One after another: two arriving at once would start a circle of their own.
  await clickFloor(members[0].page, ...spot(0));
  for (let i = 1; i < 4; i++) {
    await clickFloor(members[i].page, ...spot(i));
    await circleOf(members.slice(0, i + 1));
  }
  await everyoneHearsEveryone(members.slice(0, 4), "start: 4 members (mesh)");
  // The first 4 → 5; then each cycle 5 → 4 → 3 → 4 → 5.
  const stepTo = async (label, who, [x, y], circle, media) => {
    await clickFloor(members[who].page, x, y);
    try {
      await circleOf(circle);
    } catch (error) {
      // What the one who walked saw of their own walk: tells a click that never started a
      // walk from steps that never reached the others.
      const walk = await members[who].page.evaluate(() => {
        const { walker, state } = window.hallway;
        const me = state.participants.get(state.you);
        return { walking: walker.walking, goal: walker.goal, cursor: walker.cursor, at: me && { x: me.x, y: me.y, circle: me.circle } };
      });
      throw new Error(`${label}: ${members[who].name} clicked (${Math.round(x)}, ${Math.round(y)}); their page: ${JSON.stringify(walk)}; ${error.message}`);
    }
    for (const m of circle) {
      await m.page.waitForFunction((want) => (window.hallway.state.myCircle()?.media ?? "mesh") === want, media, { timeout: DEADLINE });
    }
    await everyoneHearsEveryone(circle, `${label}: ${circle.length} members (${media})`);
  };
  await stepTo("first", 4, spot(4), members, "sfu");
  for (let cycle = 1; cycle <= CYCLES; cycle++) {
    const label = `cycle ${cycle}`;
    await stepTo(label, 4, away[4], members.slice(0, 4), "sfu");
    await stepTo(label, 3, away[3], members.slice(0, 3), "mesh");
    await stepTo(label, 3, spot(3), members.slice(0, 4), "mesh");
    await stepTo(label, 4, spot(4), members, "sfu");
  }
});
