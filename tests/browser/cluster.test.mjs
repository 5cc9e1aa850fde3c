// Two Hallway nodes sharing a Redis, with people in real Chromium on both: the room runs on
// the node its first visitor came through, the other node relays its people's connections
// there. A circle across the nodes connects over WebRTC (its signalling relayed through
// Redis) and both decode each other's video; a host on the relaying node broadcasts through
// the owner's SFU to listeners on both nodes.

import { test, before, after } from "node:test";
import { startServer, startRedis, person, mintLink, formCircle, framesDecoded, DEADLINE } from "./harness.mjs";

let redis;
let owner;
let relay;
const people = [];

before(async () => {
  redis = await startRedis();
  owner = await startServer({ HALLWAY_REDIS_URL: redis.url });
  relay = await startServer({ HALLWAY_REDIS_URL: redis.url });
});

after(async () => {
  for (const p of people) await p.close();
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
  await hanna.page.click("#stage-toggle");
  for (const listener of [anna, ben]) {
    await listener.page.waitForFunction((id) => window.hallway.sfu.summary().streams.includes(id), hanna.id, { timeout: DEADLINE });
    const until = Date.now() + DEADLINE;
    while ((await framesDecoded(listener.page, "sfu")) <= 0) {
      if (Date.now() > until) throw new Error(`${listener.name} decoded nothing from the SFU`);
      await listener.page.waitForTimeout(200);
    }
  }
});
