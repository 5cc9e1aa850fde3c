// A person whose network vanishes for 5 s — blackholed by a TCP proxy between their
// browser and the server — comes back as the same participant, in the same circle, within
// 2 s of the network returning; the other member never sees them leave or join, and the
// two restart ICE on the connection they kept. (The proxy carries the page and its
// WebSocket; the browsers' media goes directly over loopback and is not blackholed, so
// what is checked is that the connection was kept and its ICE restarted.)

import { test, before, after, afterEach } from "node:test";
import assert from "node:assert/strict";
import { startServer, person, formCircle, waitCircle, framesDecoded, DEADLINE } from "./harness.mjs";
import { faultProxy } from "./fault-proxy.mjs";

let server;
let proxy;
const people = [];

before(async () => {
  server = await startServer();
  proxy = await faultProxy(server.url);
});

// Each test's people leave when it ends: their browsers would otherwise go on sending
// video through the next test, on a machine of two cores.
afterEach(async () => {
  await Promise.allSettled(people.splice(0).map((p) => p.close()));
});

after(async () => {
  await proxy?.close();
  await server?.stop();
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Waits until the video decoded from `peer` moves on from what it is now.
async function decodingAgain(page, peer) {
  const start = await framesDecoded(page, peer);
  const until = Date.now() + DEADLINE;
  while ((await framesDecoded(page, peer)) <= Math.max(start, 0)) {
    if (Date.now() > until) throw new Error(`video from ${peer} did not resume`);
    await sleep(200);
  }
}

test("blackholed for 5 s, a person resumes within 2 s of the network returning", async () => {
  // Anna's browser reaches the server only through the proxy; Ben's directly.
  const anna = await person({ url: proxy.url }, "Anna Schmidt");
  const ben = await person(server, "Ben Okafor");
  people.push(anna, ben);
  await formCircle(anna, ben);
  const ufrag = (page, peer) =>
    page.evaluate((id) => window.hallway.peers.pc(id)?.localDescription?.sdp.match(/a=ice-ufrag:(\S+)/)?.[1], peer);
  const before = { anna: await ufrag(anna.page, ben.id), ben: await ufrag(ben.page, anna.id) };
  // Ben's page notes anyone who leaves or joins from now on.
  await ben.page.evaluate(() => {
    window.seen = [];
    const conn = window.hallway.conn;
    const original = conn.onMessage;
    conn.onMessage = (msg) => {
      if (msg.type === "left" || msg.type === "joined") window.seen.push(msg);
      original(msg);
    };
  });

  proxy.blackhole(true);
  const cut = Date.now();
  // Anna's page notices: it says it is reconnecting.
  await anna.page.waitForFunction(() => !document.querySelector("#status").hidden, null, { timeout: DEADLINE });
  // The outage lasts 5 s (what the test is about), however soon the page noticed.
  await sleep(Math.max(0, 5000 - (Date.now() - cut)));
  const status = await anna.page.evaluate(() => ({ hidden: document.querySelector("#status").hidden, text: document.querySelector("#status").textContent }));
  assert.equal(status.hidden, false, "the page still shows that the connection is lost");
  proxy.blackhole(false);
  const back = Date.now();
  await anna.page.waitForFunction(() => window.hallway.resumes >= 1, null, { timeout: DEADLINE });
  const took = Date.now() - back;
  console.log(`resumed ${took} ms after the network returned`);
  assert.ok(took <= 2000, `resumed ${took} ms after the network returned`);

  // The same participant, where she was, in her circle; the status line is gone.
  assert.equal(await anna.page.evaluate(() => window.hallway.state.you), anna.id);
  await waitCircle(anna.page, [anna.id, ben.id]);
  await anna.page.waitForFunction(() => document.querySelector("#status").hidden, null, { timeout: DEADLINE });
  // Ben never saw her leave or join, and does not show her as reconnecting.
  await waitCircle(ben.page, [anna.id, ben.id]);
  await ben.page.waitForFunction((id) => window.hallway.state.participants.get(id)?.reconnecting !== true, anna.id, { timeout: DEADLINE });
  assert.deepEqual(await ben.page.evaluate(() => window.seen), []);
  // Both kept their connection and restarted its ICE: new credentials on each side.
  for (const [page, peer, old] of [[anna.page, ben.id, before.anna], [ben.page, anna.id, before.ben]]) {
    await page.waitForFunction(
      ([id, previous]) => {
        const pc = window.hallway.peers.pc(id);
        const now = pc?.localDescription?.sdp.match(/a=ice-ufrag:(\S+)/)?.[1];
        return pc?.connectionState === "connected" && now && now !== previous;
      },
      [peer, old],
      { timeout: DEADLINE },
    );
  }
  // Video flows both ways.
  await decodingAgain(ben.page, anna.id);
  await decodingAgain(anna.page, ben.id);
});

// A reload whose goodbye never reached the server (a machine too busy to send it) resumes
// as a dropped connection: the other member keeps their connection and waits for an ICE
// restart, while the new page starts a connection of its own, with new keys. That offer
// must replace the kept connection, not renegotiate it (which never connects).
test("a new connection from someone who came back on a new page replaces the one kept for them", async () => {
  const olga = await person(server, "Olga Neu");
  const paul = await person(server, "Paul Alt");
  people.push(olga, paul);
  await formCircle(olga, paul, 900, 300);
  const kept = await paul.page.evaluate((id) => {
    window.__kept = window.hallway.peers.pc(id);
    return window.__kept.connectionState;
  }, olga.id);
  assert.equal(kept, "connected");
  // Olga's side as a new page has it: no connection to Paul, then a fresh one that offers.
  await olga.page.evaluate((id) => {
    window.hallway.peers.close(id);
    window.hallway.peers.restart(id, true);
  }, paul.id);
  await paul.page.waitForFunction((id) => {
    const pc = window.hallway.peers.pc(id);
    return pc && pc !== window.__kept && pc.connectionState === "connected";
  }, olga.id, { timeout: DEADLINE });
  assert.equal(await paul.page.evaluate(() => window.__kept.connectionState), "closed", "the kept one is closed");
  await olga.page.waitForFunction((id) => window.hallway.peers.pc(id)?.connectionState === "connected", paul.id, { timeout: DEADLINE });
  await decodingAgain(paul.page, olga.id);
  await decodingAgain(olga.page, paul.id);
});

// Told to offer on a restart, someone whose connection was made to answer and never got an
// offer (the other's first offer lost with a dropped socket) connects afresh and offers,
// rather than restarting a connection that has nothing to restart and would wait for ever.
test("someone told to offer on a restart who never got the first offer connects afresh", async () => {
  const rita = await person(server, "Rita Roth");
  const sven = await person(server, "Sven Sand");
  people.push(rita, sven);
  await formCircle(rita, sven, 300, 900);
  // Rita's side: a fresh connection to Sven that waits, as the answering side, for an
  // offer that does not come; then the server's restart makes her the one who offers.
  const waiting = await rita.page.evaluate((id) => {
    window.hallway.peers.connect(id, false);
    window.__waiting = window.hallway.peers.pc(id);
    window.hallway.peers.restart(id, true);
    return window.__waiting.remoteDescription;
  }, sven.id);
  assert.equal(waiting, null, "the waiting connection never had an offer");
  await rita.page.waitForFunction((id) => window.hallway.peers.pc(id)?.connectionState === "connected", sven.id, { timeout: DEADLINE });
  assert.equal(await rita.page.evaluate((id) => window.hallway.peers.pc(id) === window.__waiting, sven.id), false, "a new connection, not the waiting one");
  await decodingAgain(sven.page, rita.id);
  await decodingAgain(rita.page, sven.id);
});
