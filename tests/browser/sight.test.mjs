// The page tells the server which part of the floor it shows (`view`): after it enters,
// and again as the person zooms and pans, at most four times a second. In a big room the
// server then sends it what moves in sight on every tick and the rest once a second: a
// walker in sight is seen at every step, one far away arrives where they stopped.

import { test } from "node:test";
import assert from "node:assert/strict";
import { person, crowd, serverForFile, DEADLINE } from "./harness.mjs";

// A floor far larger than one screen, so that most of it is out of sight.
const room = serverForFile({ HALLWAY_FLOOR_WIDTH: "8000", HALLWAY_FLOOR_HEIGHT: "6000" });

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what, check) {
  const end = Date.now() + DEADLINE;
  for (;;) {
    const found = await check();
    if (found) return found;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

// The last `view` a page sent, and whether it is what the floor shows (to a unit).
const lastView = (p) => p.sent.filter((m) => m.type === "view").at(-1);
const views = (p) => p.sent.filter((m) => m.type === "view").length;
async function saysWhatItShows(p) {
  const shown = await p.page.evaluate(() => window.hallway.floor.shown());
  const said = lastView(p);
  return said && ["x", "y", "width", "height"].every((k) => Math.abs(said[k] - shown[k]) <= 1) ? said : null;
}

test("the page says what it shows when it enters, zooms and pans, at most four times a second", async () => {
  const anna = await person(room.server, "Anna Schmidt");
  room.people.push(anna);
  const first = await until("a view after the welcome", () => saysWhatItShows(anna));
  assert.ok(first.width > 0 && first.height > 0, JSON.stringify(first));

  await anna.page.click("#zoom-out");
  await anna.page.click("#zoom-out");
  const zoomed = await until("the zoomed-out view", async () => {
    const said = await saysWhatItShows(anna);
    return said && said.width > first.width ? said : null;
  });
  assert.ok(zoomed.height > first.height, "zooming out shows more of the floor");

  // Panning: forty small scrolls in two seconds.
  const before = views(anna);
  const started = Date.now();
  for (let i = 0; i < 40; i++) {
    await anna.page.evaluate(() => document.querySelector("#floor").scrollBy(8, 5));
    await sleep(50);
  }
  await until("the view after panning", () => saysWhatItShows(anna));
  const sent = views(anna) - before;
  const allowed = Math.ceil((Date.now() - started) / 250) + 1;
  assert.ok(sent >= 1 && sent <= allowed, `${sent} views while panning, at most ${allowed}`);
});

test("a walker in sight is seen at every step, one far away arrives where they stop", async () => {
  const anna = await person(room.server, "Anna Schmidt");
  room.people.push(anna);
  const shown = await until("a view", () => saysWhatItShows(anna));
  // Near: in the middle of what Anna sees. Far: the floor's far corner.
  const nx = Math.round(shown.x + shown.width / 2 + 150);
  const ny = Math.round(shown.y + shown.height / 2 + 100);
  const others = await crowd(room.server, [
    { name: "Ben Okafor", x: nx, y: ny },
    { name: "Clara Meyer", x: 7500, y: 5600 },
  ]);
  try {
    const [ben, clara] = others.ids;
    const positionsOf = (id) =>
      anna.received.filter((m) => m.type === "tick").flatMap((m) => m.positions.filter((p) => p[0] === id));
    await until("Ben where he stands", () => positionsOf(ben).some((p) => p[1] === nx));
    const claraBefore = positionsOf(clara).length;
    const started = Date.now();
    const STEPS = 12;
    for (let k = 1; k <= STEPS; k++) {
      await others.send(0, { type: "move", x: nx + k * 10, y: ny, walking: true });
      await others.send(1, { type: "move", x: 7500 - k * 10, y: 5600, walking: true });
      await until(`Ben's step ${k}`, () => positionsOf(ben).some((p) => p[1] === nx + k * 10));
    }
    const claraSeen = positionsOf(clara).length - claraBefore;
    const rounds = Math.floor((Date.now() - started) / 1000) + 1;
    assert.ok(claraSeen <= rounds, `Clara, out of sight, ${claraSeen} times in ${rounds} round(s)`);
    // Clara arrives, on the page, where she stopped.
    await until("Clara where she stopped", () =>
      anna.page.evaluate((id) => window.hallway.state.participants.get(id)?.x === 7500 - 12 * 10, clara),
    );
  } finally {
    await others.close();
  }
});

// The page follows one's own avatar when it moves, never because the round sends an
// unchanged position again: a person who scrolled away to look around stays there (it
// pulled the view back to the avatar once a second, and a click on the floor landed there).
test("looking around the floor, the view stays where the person put it until they walk", async () => {
  const anna = await person(room.server, "Anna Schmidt");
  room.people.push(anna);
  // At once after entering: the first round carries the newcomer's place.
  const others = await crowd(room.server, [{ name: "Ben Okafor", x: 4000, y: 3000 }]);
  try {
    const scrolled = await anna.page.evaluate(() => {
      const floor = document.querySelector("#floor");
      floor.scrollTo({ left: floor.scrollWidth, top: floor.scrollHeight });
      return { left: floor.scrollLeft, top: floor.scrollTop };
    });
    assert.ok(scrolled.left > 0 && scrolled.top > 0, JSON.stringify(scrolled));
    // Three rounds while Ben walks about (so that rounds come), Anna standing still.
    const rounds = anna.received.filter((m) => m.type === "tick").length;
    for (let k = 1; k <= 30; k++) {
      await others.send(0, { type: "move", x: 4000 + k * 5, y: 3000, walking: true });
      await sleep(100);
    }
    assert.ok(anna.received.filter((m) => m.type === "tick").length > rounds, "ticks came meanwhile");
    const after = await anna.page.evaluate(() => {
      const floor = document.querySelector("#floor");
      return { left: floor.scrollLeft, top: floor.scrollTop };
    });
    assert.deepEqual(after, scrolled, "the view stayed where Anna scrolled");
    // Anna walks: the view comes back to her.
    const me = await anna.page.evaluate(() => ({ x: window.hallway.state.me().x, y: window.hallway.state.me().y }));
    await anna.page.focus("#floor");
    await anna.page.keyboard.down("ArrowRight");
    await sleep(600);
    await anna.page.keyboard.up("ArrowRight");
    await until("the view back at Anna", () =>
      anna.page.evaluate(() => {
        const shown = window.hallway.floor.shown();
        const me = window.hallway.state.me();
        return me.x > shown.x && me.x < shown.x + shown.width && me.y > shown.y && me.y < shown.y + shown.height;
      }),
    );
    assert.ok(await anna.page.evaluate((x) => window.hallway.state.me().x > x, me.x), "Anna walked");
  } finally {
    await others.close();
  }
});
