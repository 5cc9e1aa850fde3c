// Two Hallway nodes sharing a Redis, with people in real Chromium on both: the room runs on
// the node its first visitor came through, the other node relays its people's connections
// there. A circle across the nodes connects over WebRTC (its signalling relayed through
// Redis) and both decode each other's video; a host on the relaying node broadcasts through
// the owner's SFU to listeners on both nodes. Then the owner is killed: a person who
// reached it through a load balancer (a TCP proxy that moves to the other node) resumes
// there, and the circle's call goes on.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, startRedis, person, mintLink, formCircle, framesDecoded, waitCircle, waitDecoding, DEADLINE } from "./harness.mjs";
import { faultProxy } from "./fault-proxy.mjs";

let redis;
let owner;
let relay;
let balancer;
const people = [];

before(async () => {
  redis = await startRedis();
  const env = { HALLWAY_REDIS_URL: redis.url, HALLWAY_ROOMS: "lobby,plaza" };
  owner = await startServer(env);
  relay = await startServer(env);
  balancer = await faultProxy(owner.url);
});

after(async () => {
  for (const p of people) await p.close();
  await balancer?.close();
  await relay?.stop();
  await owner?.stop();
  await redis?.stop();
});

test("a circle across two nodes: both decode each other's video", async () => {
  // Anna comes first, through the owner-to-be; Ben through the other node.
  const anna = await person(owner, "Anna Schmidt");
  const ben = await person(relay, "Ben Okafor", { lang: "de" });
  people.push(anna, ben);
  await formCircle(anna, ben);
});

test("a host on the relaying node broadcasts to listeners on both nodes", async () => {
  const [anna, ben] = people;
  const hanna = await person(relay, "Hanna", { link: mintLink(relay, ["--room", "lobby", "--role", "host"]) });
  people.push(hanna);
  await hanna.page.click("#on-air-toggle");
  for (const listener of [anna, ben]) {
    await listener.page.waitForFunction((id) => window.hallway.sfu.summary().streams.includes(`p${id}`), hanna.id, { timeout: DEADLINE });
    const until = Date.now() + DEADLINE;
    while ((await framesDecoded(listener.page, "sfu")) <= 0) {
      if (Date.now() > until) throw new Error(`${listener.name} decoded nothing from the SFU`);
      await listener.page.waitForTimeout(200);
    }
  }
});

test("the owner dies: a person behind the balancer resumes on the other node and the call goes on", async () => {
  // A room of its own, taken by the owner through Clara's visit (via the balancer).
  const clara = await person({ url: balancer.url }, "Clara", { room: "plaza" });
  const dev = await person(relay, "Dev", { room: "plaza" });
  people.push(clara, dev);
  await formCircle(clara, dev);
  const before = await clara.page.evaluate(() => window.hallway.resumes);
  // The owner writes the room down within a fifth of a second of a circle forming (and
  // every second): by the time both decode video it has written them standing together.
  await clara.page.waitForTimeout(500);

  await owner.kill();
  balancer.retarget(relay.url);
  // Within the lease (5 s) the other node takes the room from what the owner wrote down;
  // Clara's browser reconnects through the balancer, Dev's is told to.
  for (const p of [clara, dev]) {
    await p.page.waitForFunction((n) => window.hallway.resumes > n, p === clara ? before : 0, { timeout: 30_000 });
  }
  assert.equal(await clara.page.evaluate(() => window.hallway.state.you), clara.id);
  assert.equal(await dev.page.evaluate(() => window.hallway.state.you), dev.id);
  await waitCircle(clara.page, [clara.id, dev.id]);
  await waitCircle(dev.page, [clara.id, dev.id]);
  // Their call did not go through the dead node: it goes on (ICE restarted on resume).
  const frames = await framesDecoded(clara.page, dev.id);
  await waitDecoding(clara.page, dev.id);
  await waitDecoding(dev.page, clara.id);
  await clara.page.waitForFunction(
    async ([id, n]) => {
      let decoded = 0;
      (await window.hallway.peers.pc(id)?.getStats())?.forEach((r) => {
        if (r.type === "inbound-rtp" && r.kind === "video") decoded += r.framesDecoded ?? 0;
      });
      return decoded > n;
    },
    [dev.id, frames],
    { timeout: DEADLINE },
  );
});
