// People in real Chromium walk together, form circles and see and hear each other over a
// WebRTC mesh; walking away hangs up.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, person, formCircle, clickFloor, waitAt, waitCircle, waitDecoding, DEADLINE } from "./harness.mjs";

let server;
const people = [];

before(async () => {
  server = await startServer();
});

after(async () => {
  for (const p of people) await p.close();
  await server?.stop();
});

test("two people walk together, form a circle and decode each other's video", async () => {
  const anna = await person(server, "Anna Schmidt");
  const ben = await person(server, "Ben Okafor");
  people.push(anna, ben);
  await formCircle(anna, ben);
  // The circle is on the floor with its member count, and announced to screen readers.
  const count = await anna.page.textContent(".circle.mine .circle-count");
  assert.equal(count, "2");
  const announced = await anna.page.textContent("#announcer");
  assert.match(announced, /You joined a circle with Ben Okafor/);
});

test("a third joins: three pairwise connections, all decoding", async () => {
  const [anna, ben] = people;
  const chris = await person(server, "Chris Weber");
  people.push(chris);
  await clickFloor(chris.page, 625, 640);
  const ids = [anna.id, ben.id, chris.id];
  for (const p of [anna, ben, chris]) await waitCircle(p.page, ids);
  for (const p of [anna, ben, chris]) {
    for (const other of [anna, ben, chris]) {
      if (other !== p) await waitDecoding(p.page, other.id);
    }
  }
  assert.match(await anna.page.textContent("#announcer"), /Chris Weber joined your circle/);
});

test("one walks away: their connections close and the others see the circle shrink", async () => {
  const [anna, ben, chris] = people;
  await clickFloor(chris.page, 1500, 1200);
  await waitCircle(anna.page, [anna.id, ben.id]);
  await waitCircle(ben.page, [anna.id, ben.id]);
  for (const p of [anna, ben]) {
    await p.page.waitForFunction((id) => !window.hallway.peers.pc(id), chris.id, { timeout: DEADLINE });
  }
  await chris.page.waitForFunction(() => window.hallway.peers.summary().length === 0, null, { timeout: DEADLINE });
  assert.match(await chris.page.textContent("#announcer"), /You left the circle/);
  assert.equal(await anna.page.textContent(".circle.mine .circle-count"), "2");
});

test("a member locks the circle: a newcomer is refused and told why; muting shows to others", async () => {
  const [anna, ben, chris] = people;
  await anna.page.click("#lock-toggle");
  await chris.page.waitForFunction(() => [...window.hallway.state.circles.values()].some((c) => c.locked), null, { timeout: DEADLINE });
  await anna.page.waitForSelector('#lock-toggle[data-on="true"]', { timeout: DEADLINE });
  await clickFloor(chris.page, 625, 610);
  await chris.page.waitForSelector("#toast:not([hidden])", { timeout: DEADLINE });
  assert.equal(await chris.page.textContent("#toast"), "That circle is locked.");
  assert.equal(await chris.page.evaluate(() => window.hallway.state.myCircle()), undefined);

  await ben.page.click("#mic-toggle");
  assert.equal(await ben.page.getAttribute("#mic-toggle", "aria-pressed"), "false");
  await anna.page.waitForFunction((id) => window.hallway.state.participants.get(id).mic === false, ben.id, { timeout: DEADLINE });
  // The floor redraws on the next animation frame after the news: wait for it (reading at
  // once raced it on a busy machine).
  const ben$ = () => [...document.querySelectorAll(".avatar")].find((el) => el.getAttribute("aria-label").startsWith("Ben"));
  await anna.page.waitForFunction(`(${ben$})()?.classList.contains("mic-off")`, null, { timeout: DEADLINE });
  const label = await anna.page.evaluate(`(() => { const avatar = (${ben$})(); return { label: avatar.getAttribute("aria-label"), muted: avatar.classList.contains("mic-off") }; })()`);
  assert.match(label.label, /Microphone off/);
  assert.ok(label.muted);
});

test("someone walking up finds a connection ready: the circle uses it, and no other is made", async () => {
  const erik = await person(server, "Erik Lund");
  const fatma = await person(server, "Fatma Yilmaz");
  people.push(erik, fatma);
  // Fatma stops 400 units from Erik: near (a walk of about a second), not in a circle.
  await clickFloor(erik.page, 1900, 300);
  await waitAt(fatma.page, erik.id, 1900, 300);
  await clickFloor(fatma.page, 1900, 700);
  await waitAt(erik.page, fatma.id, 1900, 700);
  for (const p of [erik, fatma]) {
    await p.page.waitForFunction(() => window.hallway.peers.spare !== null, null, { timeout: DEADLINE });
    await p.page.evaluate(() => (window.spareBefore = window.hallway.peers.spare));
  }
  await clickFloor(fatma.page, 1950, 300);
  for (const [p, other] of [
    [erik, fatma],
    [fatma, erik],
  ]) {
    await waitCircle(p.page, [erik.id, fatma.id]);
    await waitDecoding(p.page, other.id);
    assert.equal(await p.page.evaluate((id) => window.hallway.peers.pc(id) === window.spareBefore, other.id), true, "the circle's connection is the spare");
  }
  // Nobody else is near: no new spare.
  await erik.page.waitForTimeout(1000);
  for (const p of [erik, fatma]) assert.equal(await p.page.evaluate(() => window.hallway.peers.spare), null);
});
