// Media through the server's SFU in the browser. A broadcast: a host goes on stage, two
// listeners in other Chromium processes receive the host's camera and decode it; when the
// host steps off the stage, the stage closes for everyone. A circle of five (above the
// mesh threshold of 4): every member decodes every other through the SFU, also when one
// member gets the SFU's streams late; two walk away and the three who stay hear each other
// through the SFU until their direct connections are up, also when one page's take long.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, person, mintLink, framesDecoded, clickFloor, waitCircle, DEADLINE } from "./harness.mjs";
import { HANDOVER_MS, HANDOVER_LIMIT_MS } from "../../client-web/js/peers.js";

let server;
const people = [];
// How late the SFU's streams come to one page in the circle of five at the latest. The
// test lets them come once it has looked, past the direct connections' HANDOVER_MS; this
// only bounds a run that fails before that. (It was HANDOVER_MS + 8 s: on a loaded
// machine the test looked only after that, when the streams had come already.)
const SFU_LATE_MS = HANDOVER_MS + 40_000;
// Back in a mesh, how late one page's direct connections come up at the latest: past the
// ten seconds after which a page used to stop sending through the SFU.
const DIRECT_LATE_MS = 30_000;

// Holds back the calls of `window.hallway[object][method]` on `page` (the signals of its
// direct connections: "peers", "signal"; the SFU's offers to its receiving connection:
// "sfu", "offered"), in order, until the test calls `window.held[object].release()`, or
// `ms` after the first (`window.held[object].first`) at the latest: its direct
// connections, or the SFU's streams, come that late.
async function holdCalls(page, object, method, ms) {
  await page.evaluate(
    ({ object, method, ms }) => {
      const target = window.hallway[object];
      const call = target[method].bind(target);
      let release;
      const released = new Promise((resolve) => (release = resolve));
      const held = { first: null, release };
      window.held = { ...window.held, [object]: held };
      target[method] = (...args) => {
        if (held.first === null) {
          held.first = Date.now();
          setTimeout(release, ms);
        }
        // In order, each once released; not awaited (what it throws the page reports). A
        // promise all the same: the page chains on what `sfu.offered` returns.
        return released.then(() => {
          call(...args);
        });
      };
    },
    { object, method, ms },
  );
}

// Waits until `page` has held calls of `object` (see `holdCalls`) for `wait` ms.
async function heldFor(page, object, wait) {
  await page.waitForFunction(([object, wait]) => window.held[object].first !== null && Date.now() >= window.held[object].first + wait, [object, wait], { timeout: 3 * DEADLINE, polling: 100 });
}

// What `page` shows of each of `ids`: which path its tile's camera stream comes by and
// whether it plays.
function shown(page, ids) {
  return page.evaluate((ids) => {
    const { peers, conversation, sfu } = window.hallway;
    const plays = (s) => !!s?.getTracks().some((t) => t.readyState === "live" && !t.muted);
    return ids.map((id) => {
      const direct = peers.peers.get(id);
      const s = conversation.stream(id, "camera");
      const via = !s ? "nothing" : s === direct?.streams.get("camera") ? "direct" : s === sfu.stream(id, "camera") ? "sfu" : "other";
      return { id, via, plays: plays(s), direct: direct?.pc.connectionState ?? "none" };
    });
  }, ids);
}

before(async () => {
  server = await startServer(process.env.STAGE_LOG ? { HALLWAY_LOG: process.env.STAGE_LOG } : {});
});

after(async () => {
  for (const p of people) await p.close();
  await server?.stop();
});

async function decodesFromSfu(page) {
  const until = Date.now() + DEADLINE;
  for (;;) {
    if ((await framesDecoded(page, "sfu")) > 0) return;
    if (Date.now() > until) {
      const detail = await page.evaluate(async () => {
        const inbound = [];
        (await window.hallway.sfu.receiving?.getStats())?.forEach((r) => {
          if (r.type === "inbound-rtp") inbound.push(`${r.kind}: ${r.packetsReceived} packets, ${r.framesReceived ?? "-"} received, ${r.framesDecoded ?? "-"} decoded, ${r.pliCount ?? "-"} PLIs, ${r.nackCount ?? "-"} NACKs, codec ${r.codecId}`);
          if (r.type === "codec") inbound.push(`${r.id}: ${r.mimeType} ${r.payloadType}`);
        });
        const pc = window.hallway.sfu.receiving;
        return { ...window.hallway.sfu.summary(), inbound, offer: pc?.remoteDescription?.sdp };
      });
      throw new Error(`no video decoded from the SFU: ${JSON.stringify(detail)}`);
    }
    await page.waitForTimeout(200);
  }
}

test("a host broadcasts to two listeners through the SFU", async () => {
  const hanna = await person(server, "Hanna", { link: mintLink(server, ["--room", "lobby", "--role", "host"]) });
  const anna = await person(server, "Anna Schmidt");
  const ben = await person(server, "Ben Okafor", { lang: "de" });
  people.push(hanna, anna, ben);

  await hanna.page.click("#on-air-toggle");
  for (const listener of [anna, ben]) {
    await listener.page.waitForFunction((id) => window.hallway.sfu.summary().streams.includes(`p${id}`), hanna.id, { timeout: DEADLINE });
    await decodesFromSfu(listener.page);
    await listener.page.waitForSelector("#on-air-view:not([hidden])", { timeout: DEADLINE });
    assert.equal(await listener.page.textContent("#on-air-tiles .tile .name"), "Hanna");
    // Circle audio is turned down while the stage plays.
    assert.equal(await listener.page.evaluate(() => window.hallway.conversation.ducked), true);
  }
  // What goes wrong in showing a stream that ended never costs the SFU connection: a page
  // whose showing throws (made to, here) while it restarts its receiving connection gets
  // the broadcast again on a new one (the throw used to stop the restart before it was
  // asked for: nothing through the SFU until a reload), and the error is reported.
  anna.expectedErrors = /made to by the test/;
  await anna.page.evaluate(() => {
    const { sfu } = window.hallway;
    window.oldReceiving = sfu.receiving;
    const onEnded = sfu.onEnded;
    sfu.onEnded = () => {
      sfu.onEnded = onEnded;
      throw new Error("showing failed (made to by the test)");
    };
    sfu.restartReceiving();
  });
  await anna.page.waitForFunction(() => window.hallway.sfu.receiving && window.hallway.sfu.receiving !== window.oldReceiving, null, { timeout: DEADLINE });
  await decodesFromSfu(anna.page);
  assert.ok(
    anna.errors.some((e) => e.message.includes("made to by the test")),
    `the error is reported: ${anna.errors.map((e) => e.message)}`,
  );
  // An offer of a connection the server has replaced, come late (a renegotiation that the
  // new connection's first offer overtook), is not taken for the current connection: the
  // page keeps the one that carries the broadcast (it used to close it, open one for the
  // old number, which the server no longer has, and receive nothing).
  const before = await framesDecoded(anna.page, "sfu");
  const late = await anna.page.evaluate(async () => {
    const { sfu } = window.hallway;
    const current = sfu.receiving;
    const number = sfu.connection;
    await sfu.offered(current.remoteDescription.sdp, number - 1);
    return { kept: sfu.receiving === current, connection: sfu.connection, was: number, state: current.connectionState, events: sfu.events.slice(-2) };
  });
  assert.ok(late.kept && late.connection === late.was && late.state === "connected", `a late offer of a replaced connection: ${JSON.stringify(late)}`);
  const until = Date.now() + DEADLINE;
  while ((await framesDecoded(anna.page, "sfu")) <= before) {
    assert.ok(Date.now() < until, "the broadcast goes on after a replaced connection's late offer");
    await anna.page.waitForTimeout(200);
  }
  // A receiving connection given up while it applies an offer (on a busy machine: the
  // connection had not come up in time) does not stop the offers after it: the page gets
  // the broadcast again on a new connection (the offer's promise never settled, and every
  // later offer waited behind it: nothing through the SFU until a reload).
  const settled = await anna.page.evaluate(async () => {
    const { sfu } = window.hallway;
    const pc = sfu.receiving;
    window.oldReceiving = pc;
    const apply = pc.setRemoteDescription.bind(pc);
    pc.setRemoteDescription = (description) => {
      const operation = apply(description);
      sfu.restartReceiving();
      return operation;
    };
    const offered = sfu.offered(pc.remoteDescription.sdp, sfu.connection).then(() => "settled");
    return Promise.race([offered, new Promise((resolve) => setTimeout(() => resolve("still pending after 5 s"), 5000))]);
  });
  assert.equal(settled, "settled", "an offer applied to a connection closed meanwhile");
  await anna.page.waitForFunction(() => window.hallway.sfu.receiving && window.hallway.sfu.receiving !== window.oldReceiving, null, { timeout: DEADLINE });
  await decodesFromSfu(anna.page);
  // The broadcaster does not receive itself; nobody learned anybody's address over the SFU.
  assert.deepEqual((await hanna.page.evaluate(() => window.hallway.sfu.summary())).streams, []);
  assert.equal(await hanna.page.evaluate(() => window.hallway.sfu.summary().sending), "connected");

  await hanna.page.click("#on-air-toggle");
  for (const listener of [anna, ben]) {
    await listener.page.waitForSelector("#on-air-view", { state: "hidden", timeout: DEADLINE });
    assert.equal(await listener.page.evaluate(() => window.hallway.conversation.ducked), false);
  }
  // An offer still queued when everything closes (a welcome that does not resume, or one
  // with `sfu_reset`: a server whose numbers start at 1 again) is not applied after it:
  // it would open a connection the new server does not have and set the floor above
  // every number the new server is going to offer.
  const afterReset = await anna.page.evaluate(async () => {
    const { sfu } = window.hallway;
    let release;
    sfu.queue = new Promise((resolve) => (release = resolve));
    const late = sfu.offered("v=0 (an old server's offer)", 1000);
    sfu.closeAll();
    release();
    await late;
    return { floor: sfu.floor, receiving: sfu.receiving };
  });
  assert.deepEqual(afterReset, { floor: 0, receiving: null }, "an offer queued before everything closed");
});

// Video frames decoded per participant whose stream the SFU forwards to this page.
async function decodedPerPerson(page) {
  return page.evaluate(async () => {
    const { sfu } = window.hallway;
    const out = {};
    // Streams are named p<id> (a camera) and s<id> (a screen); cameras only, by person.
    for (const [streamId, stream] of sfu.streams) {
      if (!streamId.startsWith("p")) continue;
      const id = streamId.slice(1);
      const track = stream.getVideoTracks()[0];
      const transceiver = sfu.receiving?.getTransceivers().find((t) => t.receiver.track === track);
      let frames = 0;
      (await transceiver?.receiver.getStats())?.forEach((r) => {
        if (r.type === "inbound-rtp" && r.kind === "video") frames += r.framesDecoded ?? 0;
      });
      out[id] = frames;
    }
    return out;
  });
}

// On `page`, once the SFU's camera stream of `id` has arrived while the tile still plays
// the direct one, closes the direct connection and records what the tile shows then
// (`window.closedWhileSettling`); awaited by the test's evaluate of that promise.
async function closeWhileSettling(page, id) {
  await page.evaluate((id) => {
    window.closedWhileSettling = new Promise((resolve) => {
      const since = Date.now();
      const timer = setInterval(() => {
        const { sfu, peers, conversation } = window.hallway;
        const viaSfu = sfu.stream(id, "camera");
        const direct = peers.peers.get(id)?.streams.get("camera");
        const shown = conversation.stream(id, "camera");
        const what = (s) => (!s ? "nothing" : s === direct ? "direct" : s === viaSfu ? "sfu" : "other");
        // What the page had when the SFU's stream first came (for a run without the moment).
        if (viaSfu && !window.sfuStreamCame) window.sfuStreamCame = { after: Date.now() - since, direct: !!direct, shown: what(shown), directPlays: !!direct?.getTracks().some((t) => !t.muted) };
        if (viaSfu && direct && shown === direct) {
          clearInterval(timer);
          peers.close(id);
          const now = conversation.stream(id, "camera");
          resolve({ closed: true, shows: what(now) });
        } else if (Date.now() - since > 60_000) {
          clearInterval(timer);
          resolve({ closed: false, came: window.sfuStreamCame ?? null, shown: what(shown), sfu: sfu.summary() });
        }
      }, 10);
    });
  }, id);
}

// Walking in one after another, the circle is a mesh up to four and switches to the SFU at
// five; after that switch every member decodes every other (issue #16, item 1; it failed
// while pages on a busy machine gave up their WebSockets as silent and what they said to
// the SFU meanwhile was lost).
test("a circle of five runs through the SFU and every member decodes every other", async () => {
  for (const p of people.splice(0)) await p.close();
  const members = [];
  for (let i = 0; i < 5; i++) members.push(await person(server, `Member ${i + 1}`));
  people.push(...members);
  // One after another, each once the circle has the ones before (two who arrive at once
  // start a circle of their own; walking is walking now, not a jump).
  const ids = members.map((m) => m.id);
  for (let i = 0; i < members.length; i++) {
    // Before the fifth comes: the first member's page closes its direct connection to the
    // second while the SFU's stream of the second still settles (it has arrived but does
    // not play in the tile yet). The tile must then show the SFU's stream, not nothing.
    if (i === 4) await closeWhileSettling(members[0].page, ids[1]);
    // And the third member's page gets the SFU's streams late (its offers held back).
    if (i === 4) await holdCalls(members[2].page, "sfu", "offered", SFU_LATE_MS);
    const angle = i * 1.25;
    await clickFloor(members[i].page, 700 + 40 * Math.cos(angle), 700 + 40 * Math.sin(angle));
    if (i > 0) await waitCircle(members[i].page, ids.slice(0, i + 1));
  }
  for (const m of members) await waitCircle(m.page, ids);
  // Until the SFU's streams come, the direct connections carry the third member's circle,
  // also past HANDOVER_MS: every tile there still plays its direct stream (issue #16,
  // item 2: it went blank while the SFU's streams were late).
  const late = members[2].page;
  // The handover began with the switch, before the first offer came.
  await heldFor(late, "sfu", HANDOVER_MS + 2_000);
  // What the tiles show then; the offers go on after that.
  const { kept, after } = await late.evaluate((old) => {
    const { peers, conversation, sfu } = window.hallway;
    const plays = (s) => !!s?.getTracks().some((t) => t.readyState === "live" && !t.muted);
    const kept = old.map((id) => {
      const direct = peers.peers.get(id);
      const shown = conversation.stream(id, "camera");
      return { id, state: direct?.pc.connectionState ?? "closed", shows: !shown ? "nothing" : shown === direct?.streams.get("camera") ? "direct" : "other", plays: plays(shown), viaSfu: !!sfu.stream(id, "camera") };
    });
    window.held.sfu.release();
    return { kept, after: Date.now() - window.held.sfu.first };
  }, [ids[0], ids[1], ids[3]]);
  console.log(`# ${after} ms after the first held offer: ${JSON.stringify(kept)}`);
  assert.ok(kept.every((k) => !k.viaSfu), `the SFU's streams were held back: ${JSON.stringify(kept)}`);
  assert.deepEqual(
    kept.map(({ id, state, shows, plays }) => ({ id, state, shows, plays })),
    [ids[0], ids[1], ids[3]].map((id) => ({ id, state: "connected", shows: "direct", plays: true })),
    `${after} ms after the first held offer, before the SFU's streams came: ${JSON.stringify(kept)}`,
  );
  const probe = await members[0].page.evaluate(() => window.closedWhileSettling);
  console.log(`# the SFU's stream of the second member came: ${JSON.stringify(await members[0].page.evaluate(() => window.sfuStreamCame))}`);
  if (probe.closed) assert.deepEqual(probe, { closed: true, shows: "sfu" }, "the tile of someone whose direct connection closed while the SFU's stream settled");
  else {
    // The moment never came: when the SFU's stream arrived, the tile did not show a direct
    // stream that played (on a busy machine the direct connection can stall or be gone by
    // then), so the SFU's was shown at once. Nothing to close then; the tile must show it.
    console.log(`# no moment to close the direct connection in: ${JSON.stringify(probe)}`);
    assert.ok(probe.came && !(probe.came.direct && probe.came.shown === "direct" && probe.came.directPlays), `the moment came and was missed: ${JSON.stringify(probe)}`);
    assert.equal(probe.shown, "sfu", `the tile shows the SFU's stream: ${JSON.stringify(probe)}`);
  }
  for (const m of members) {
    await m.page.waitForFunction(() => window.hallway.state.myCircle()?.media === "sfu", null, { timeout: DEADLINE });
  }
  for (const m of members) {
    const others = ids.filter((id) => id !== m.id);
    const until = Date.now() + 2 * DEADLINE;
    for (;;) {
      const decoded = await decodedPerPerson(m.page);
      if (others.every((id) => (decoded[id] ?? 0) > 0)) break;
      if (Date.now() > until) {
        // What the page and the server said about the SFU, in order each way (a page
        // left with no receiving connection, about one run in four: which side stopped?).
        const said = (list) => list.filter((msg) => msg.type?.startsWith("sfu")).map((msg) => `${msg.type}${msg.connection !== undefined ? `#${msg.connection}` : ""}`);
        throw new Error(`${m.name} (${m.id}) decodes ${JSON.stringify(decoded)}; wanted all of ${others}; sfu ${JSON.stringify(await m.page.evaluate(() => window.hallway.sfu.summary()))}; received ${said(m.received)}; sent ${said(m.sent)}`);
      }
      await m.page.waitForTimeout(300);
    }
  }
  // No direct connections left in an SFU circle: each one handed over from the mesh closes
  // once both of its sides receive the other through the SFU (so not necessarily at the
  // moment one side decodes everybody: within HANDOVER_MS of that here, as every side
  // decodes every other by now).
  for (const m of members) {
    await m.page
      .waitForFunction(() => window.hallway.peers.summary().length === 0, null, { timeout: HANDOVER_MS + DEADLINE })
      .catch(async () => assert.deepEqual(await m.page.evaluate(() => window.hallway.peers.summary()), [], `${m.name} still has direct connections`));
  }

  // Back to a mesh (#16 item 2, that direction): two walk away, three stay. The second
  // member's direct connections come up late (the signals to its page held back); until
  // they do, the three hear and see each other through the SFU, also past the ten seconds
  // after which pages stopped sending there and the server cut the routes (its tiles of
  // the others, and the others' tiles of it, went blank then).
  const late2 = members[1];
  const stay = members.slice(0, 3);
  await holdCalls(late2.page, "peers", "signal", DIRECT_LATE_MS);
  await clickFloor(members[3].page, 1300, 500);
  await clickFloor(members[4].page, 1300, 1000);
  for (const m of stay) await waitCircle(m.page, ids.slice(0, 3));
  await heldFor(late2.page, "peers", HANDOVER_MS + 2_000);
  const others = (m) => stay.filter((o) => o !== m).map((o) => o.id);
  const held = {
    late: await shown(late2.page, others(late2)),
    // The others' tiles of the late member.
    ...Object.fromEntries(await Promise.all(stay.filter((m) => m !== late2).map(async (m) => [m.name, await shown(m.page, [late2.id])]))),
    after: await late2.page.evaluate(() => Date.now() - window.held.peers.first),
    sending: await late2.page.evaluate(() => window.hallway.sfu.publishing),
  };
  await late2.page.evaluate(() => window.held.peers.release());
  console.log(`# back in a mesh, ${held.after} ms after the first held signal: ${JSON.stringify(held)}`);
  assert.ok(held.after < DIRECT_LATE_MS, `looked before the signals were released: ${JSON.stringify(held)}`);
  assert.ok(held.sending, `the late member still sends through the SFU: ${JSON.stringify(held)}`);
  for (const [who, tiles] of Object.entries(held)) {
    if (!Array.isArray(tiles)) continue;
    for (const t of tiles) {
      assert.notEqual(t.direct, "connected", `${who}: no direct connection yet: ${JSON.stringify(held)}`);
      assert.deepEqual({ via: t.via, plays: t.plays }, { via: "sfu", plays: true }, `${who}'s tile of ${t.id} ${HANDOVER_MS} ms and more after going back to a mesh: ${JSON.stringify(held)}`);
    }
  }
  // Once the direct connections are up, every tile plays the direct stream and nobody
  // sends through the SFU any more.
  for (const m of stay) {
    await m.page
      .waitForFunction(
        (ids) => {
          const { peers, conversation, sfu } = window.hallway;
          return !sfu.publishing && ids.every((id) => {
            const s = conversation.stream(id, "camera");
            return s && s === peers.peers.get(id)?.streams.get("camera") && s.getTracks().some((t) => t.readyState === "live" && !t.muted);
          });
        },
        others(m),
        { timeout: HANDOVER_LIMIT_MS },
      )
      .catch(async () => assert.fail(`${m.name} after the direct connections came: ${JSON.stringify(await shown(m.page, others(m)))}, sending through the SFU: ${await m.page.evaluate(() => window.hallway.sfu.publishing)}`));
  }
});

test("a page slow to apply the SFU's offer keeps that connection: the time it takes is not held against it", async () => {
  const hostLink = () => mintLink(server, ["--room", "lobby", "--role", "host"]);
  const host = await person(server, "Hedda Host", { link: hostLink() });
  const slow = await person(server, "Sven Slow", { camera: false });
  people.push(host, slow);
  // Applying the first offer to a receiving connection takes 12 s (a starved Firefox took
  // 14–16 s), longer than the 10 s a connection has to connect.
  await slow.page.evaluate(() => {
    const apply = RTCPeerConnection.prototype.setRemoteDescription;
    let delayed = false;
    RTCPeerConnection.prototype.setRemoteDescription = async function (description) {
      if (description?.type === "offer" && !delayed) {
        delayed = true;
        await new Promise((resolve) => setTimeout(resolve, 12_000));
      }
      return apply.call(this, description);
    };
  });
  await host.page.click("#on-air-toggle");
  await slow.page.waitForFunction((id) => window.hallway.sfu.summary().streams.includes(`p${id}`), host.id, { timeout: 3 * DEADLINE });
  await slow.page.waitForFunction(() => window.hallway.sfu.summary().receiving === "connected", null, { timeout: DEADLINE });
  const { events, connection } = await slow.page.evaluate(() => window.hallway.sfu.summary());
  // The first connection carries the stage: none given up, none restarted.
  assert.deepEqual(events.filter((e) => /given up|restart/.test(e)), [], JSON.stringify(events));
  assert.equal(events.filter((e) => / answer #/.test(e)).length >= 1, true, JSON.stringify(events));
  assert.ok(events[0].includes(`offer #${connection} `), `the connection that carries the stage is the first one offered: ${JSON.stringify(events)}`);
  await host.page.click("#on-air-toggle");
});
