// A broadcast in the browser: a host goes on stage, two listeners in other Chromium
// processes receive the host's camera through the server's SFU and decode it, with circle
// audio turned down; when the host steps off the stage, the stage closes for everyone.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, person, mintLink, framesDecoded, DEADLINE } from "./harness.mjs";

let server;
const people = [];

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

  await hanna.page.click("#stage-toggle");
  for (const listener of [anna, ben]) {
    await listener.page.waitForFunction((id) => window.hallway.sfu.summary().streams.includes(id), hanna.id, { timeout: DEADLINE });
    await decodesFromSfu(listener.page);
    await listener.page.waitForSelector("#stage-view:not([hidden])", { timeout: DEADLINE });
    assert.equal(await listener.page.textContent("#stage-tiles figcaption"), "Hanna");
  }
  // The broadcaster does not receive itself; nobody learned anybody's address over the SFU.
  assert.deepEqual((await hanna.page.evaluate(() => window.hallway.sfu.summary())).streams, []);
  assert.equal(await hanna.page.evaluate(() => window.hallway.sfu.summary().sending), "connected");

  await hanna.page.click("#stage-toggle");
  for (const listener of [anna, ben]) {
    await listener.page.waitForSelector("#stage-view", { state: "hidden", timeout: DEADLINE });
  }
});
