// Icebreakers (real Chromium, real server): when a circle forms, its members see the same
// prompt above their tiles (beside them on a low screen), each in their language (a built-in prompt), announced politely;
// it closes by keyboard (the close button has a name, the focus goes on), is not shown
// again for that circle, and someone who joins later sees the circle's prompt. A host edits
// the room's own prompts and turns them off in the host console. Layout by bounding boxes
// (desktop and phone), axe-core with the prompt shown, screenshots in both languages.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { startServer, person, mintLink, clickFloor, waitAt, waitCircle, boxes, overlapping, axe, screenshotDir, DEADLINE } from "./harness.mjs";

const dir = screenshotDir();

let server;
let anna;
let bernd;
let carla;
let hanna;

before(async () => {
  server = await startServer();
  anna = await person(server, "Anna Schmidt", { room: "lobby" });
  bernd = await person(server, "Bernd Müller-Lüdenscheidt", { room: "lobby", lang: "de", profile: "Stadtverwaltung Ulm · Digitalisierung" });
  carla = await person(server, "Carla Díaz", { room: "lobby", camera: false });
  hanna = await person(server, "Hanna Host", { link: mintLink(server, ["--room", "lobby", "--role", "host"]), camera: false });
  // Hanna and Carla stand apart while Anna and Bernd meet.
  await clickFloor(hanna.page, 2100, 300);
  await clickFloor(carla.page, 2100, 1300);
});

after(async () => {
  for (const p of [hanna, carla, bernd, anna]) await p?.close();
  await server?.stop();
});

// The prompt as the page shows it, or null when hidden.
function shown(page) {
  return page.evaluate(() => {
    const box = document.querySelector("#icebreaker");
    return box.hidden || box.offsetParent === null ? null : document.querySelector("#icebreaker-text").textContent;
  });
}

// Checks the prompt's box: whole, inside the conversation area, clear of the tiles, the
// circle's heading and the control bar.
async function checkLayout(page, width, label) {
  const [note] = await boxes(page, "#icebreaker");
  assert.ok(note, `${label}: the prompt is shown`);
  const [section] = await boxes(page, "#conversation");
  assert.ok(note.left >= section.left - 0.5 && note.left + note.width <= section.left + section.width + 0.5, `${label}: inside the conversation area`);
  assert.ok(note.top >= section.top - 0.5 && note.top + note.height <= section.top + section.height + 0.5, `${label}: inside the conversation area (height)`);
  assert.ok(note.left >= 0 && note.left + note.width <= width, `${label}: on screen`);
  const others = await boxes(page, "#tiles .tile, #self-view .tile, .controlbar, .conversation-head");
  const clash = overlapping([{ ...note, text: "icebreaker" }, ...others]).filter((pair) => pair.includes("icebreaker"));
  assert.deepEqual(clash, [], `${label}: nothing over the prompt`);
  // The text is not cut off: it fits its box (it may scroll only when very long).
  const fits = await page.$eval("#icebreaker p", (p) => p.scrollHeight <= p.clientHeight + 1 && p.scrollWidth <= p.clientWidth + 1);
  assert.ok(fits, `${label}: the prompt's text fits`);
  const [close] = await boxes(page, "#icebreaker-close");
  assert.ok(close.width >= 24 && close.height >= 24, `${label}: the close button is large enough`);
}

test("a new circle shows both members the same prompt, each in their language, announced", async () => {
  await clickFloor(anna.page, 700, 700);
  await waitAt(bernd.page, anna.id, 700, 700);
  await clickFloor(bernd.page, 750, 700);
  await waitCircle(anna.page, [anna.id, bernd.id]);
  await waitCircle(bernd.page, [anna.id, bernd.id]);
  for (const p of [anna, bernd]) await p.page.waitForSelector("#icebreaker:not([hidden])", { timeout: DEADLINE });
  const prompt = await anna.page.evaluate(() => window.hallway.state.icebreaker);
  const theirs = await bernd.page.evaluate(() => window.hallway.state.icebreaker);
  assert.deepEqual(theirs, prompt, "the same circle, the same prompt");
  assert.ok(prompt.prompt.en && prompt.prompt.de && prompt.prompt.en !== prompt.prompt.de, "a built-in prompt in both languages");
  assert.equal(await shown(anna.page), prompt.prompt.en);
  assert.equal(await shown(bernd.page), prompt.prompt.de);
  assert.equal(await anna.page.textContent("#icebreaker-label"), "Icebreaker");
  assert.equal(await bernd.page.textContent("#icebreaker-label"), "Eisbrecher-Frage");
  // Announced in the polite live region, after the circle itself.
  assert.equal(await anna.page.getAttribute("#announcer", "aria-live"), "polite");
  await anna.page.waitForFunction((text) => document.querySelector("#announcer").textContent.includes(`Icebreaker for your circle: ${text}`), prompt.prompt.en, { timeout: DEADLINE });
  await bernd.page.waitForFunction((text) => document.querySelector("#announcer").textContent.includes(`Eisbrecher-Frage für Ihren Kreis: ${text}`), prompt.prompt.de, { timeout: DEADLINE });
  // The close button is named in each language.
  assert.equal(await anna.page.getAttribute("#icebreaker-close", "aria-label"), "Close the icebreaker");
  assert.equal(await bernd.page.getAttribute("#icebreaker-close", "aria-label"), "Eisbrecher-Frage schließen");

  await checkLayout(anna.page, 1280, "desktop en");
  await checkLayout(bernd.page, 1280, "desktop de");
  await anna.page.screenshot({ path: path.join(dir, "icebreaker-en.png") });
  await bernd.page.screenshot({ path: path.join(dir, "icebreaker-de.png") });
  for (const p of [anna, bernd]) {
    const found = await axe(p.page);
    assert.deepEqual(found.violations, []);
    assert.deepEqual(found.contrastReview, []);
  }

  // On a phone (portrait), the prompt sits above the strip of tiles.
  for (const p of [anna, bernd]) await p.page.setViewportSize({ width: 390, height: 844 });
  for (const p of [anna, bernd]) {
    await p.page.waitForFunction(() => matchMedia("(max-width: 700px)").matches);
    // As on a phone: the people panel (a drawer there) is closed.
    if (await p.page.isVisible("#panel-close")) await p.page.click("#panel-close");
    await p.page.waitForFunction(() => document.querySelector(".room").classList.contains("panel-closed"));
  }
  await checkLayout(anna.page, 390, "phone en");
  await checkLayout(bernd.page, 390, "phone de");
  // The circle's buttons are icons, but leaving the circle says so in words (its icon
  // alone read as leaving the event), whole and on screen, nothing over another.
  for (const [p, words] of [[anna, "Leave circle"], [bernd, "Kreis verlassen"]]) {
    const label = await p.page.$eval("#leave-circle .label", (l) => ({ text: l.textContent, shown: getComputedStyle(l).clipPath === "none", whole: l.scrollWidth <= l.clientWidth + 1 }));
    assert.deepEqual(label, { text: words, shown: true, whole: true }, "leaving the circle keeps its words on a phone");
    const head = await boxes(p.page, "#conversation .conversation-head button");
    assert.deepEqual(overlapping(head), [], "the circle's buttons side by side");
    for (const b of head) assert.ok(b.left >= 0 && b.left + b.width <= 390, `on screen: ${JSON.stringify(b)}`);
  }
  await anna.page.screenshot({ path: path.join(dir, "icebreaker-en-phone.png") });
  await bernd.page.screenshot({ path: path.join(dir, "icebreaker-de-phone.png") });
  const found = await axe(bernd.page);
  assert.deepEqual(found.violations, []);
  assert.deepEqual(found.contrastReview, []);

  // At 200% zoom of a laptop's window (the same CSS pixels: 640 × 400).
  await bernd.page.setViewportSize({ width: 640, height: 400 });
  await bernd.page.waitForFunction(() => matchMedia("(max-height: 520px)").matches);
  await checkLayout(bernd.page, 640, "200% de");
  // Beside the prompt, the tiles: the other member's picture whole and large enough to
  // see a face, and the floor keeps half of what lies between the bars.
  await bernd.page.waitForTimeout(400);
  const [body] = await boxes(bernd.page, ".conversation-body");
  const [note] = await boxes(bernd.page, "#icebreaker");
  const [tile] = await boxes(bernd.page, "#tiles .tile:not(.self)");
  assert.ok(tile && tile.width >= 120 && tile.height >= 60, `200% de: the other's tile shows beside the prompt ${JSON.stringify(tile)}`);
  assert.ok(tile.left >= note.left + note.width && tile.left + tile.width <= body.left + body.width + 0.5, "200% de: the tile beside the prompt, inside the strip");
  const [floor] = await boxes(bernd.page, ".floor-box");
  const [top] = await boxes(bernd.page, ".topbar");
  const [bar] = await boxes(bernd.page, ".controlbar");
  assert.ok(floor.height >= (bar.top - (top.top + top.height)) / 2 - 1, `200% de: the floor keeps half the height (${floor.height}px)`);
  await bernd.page.screenshot({ path: path.join(dir, "icebreaker-de-zoom-200.png") });
  for (const p of [anna, bernd]) await p.page.setViewportSize({ width: 1280, height: 800 });
});

test("it closes by keyboard, the focus goes on, and it is not shown again for this circle", async () => {
  const page = anna.page;
  await page.focus("#icebreaker-close");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#icebreaker", { state: "hidden", timeout: DEADLINE });
  assert.equal(await page.evaluate(() => document.activeElement?.id), "leave-circle", "the focus stays in the conversation");
  // Bernd still has his.
  assert.ok(await shown(bernd.page));

  // Carla joins the circle: she sees its prompt, once.
  const prompt = await bernd.page.evaluate(() => window.hallway.state.icebreaker);
  await clickFloor(carla.page, 725, 740);
  await waitCircle(carla.page, [anna.id, bernd.id, carla.id]);
  await carla.page.waitForSelector("#icebreaker:not([hidden])", { timeout: DEADLINE });
  assert.equal(await carla.page.evaluate(() => window.hallway.state.icebreaker.circle), prompt.circle);
  assert.equal(await shown(carla.page), prompt.prompt.en);

  // Anna steps out and back in: the server tells her again, the page does not show it again.
  await page.click("#leave-circle");
  await page.waitForFunction(() => !window.hallway.state.myCircle(), null, { timeout: DEADLINE });
  await clickFloor(page, 700, 720);
  await waitCircle(page, [anna.id, bernd.id, carla.id]);
  await page.waitForFunction((circle) => window.hallway.state.icebreaker?.circle === circle, prompt.circle, { timeout: DEADLINE });
  assert.equal(await shown(page), null, "once per circle");
});

test("a host edits the room's own prompts in the host console, and turns them off", async () => {
  const page = hanna.page;
  await page.click("#tab-host");
  assert.equal(await page.isChecked("#icebreakers-on"), true);
  assert.equal(await page.inputValue("#icebreaker-prompts"), "", "empty: the built-in prompts");
  // Too many lines are refused at the field before anything is sent.
  await page.fill("#icebreaker-prompts", Array.from({ length: 51 }, (_, i) => `Frage ${i + 1}?`).join("\n"));
  await page.click("#icebreaker-save");
  assert.equal(await page.textContent("#icebreaker-status"), "Please enter at most 50 prompts.");
  assert.equal(await page.getAttribute("#icebreaker-prompts", "aria-invalid"), "true");
  assert.equal(await page.evaluate(() => document.activeElement?.id), "icebreaker-prompts");
  assert.ok(!hanna.sent.some((m) => m.type === "set_icebreakers"));
  // The server's refusal (a control character) is said at the field too.
  await page.fill("#icebreaker-prompts", "Was hat Sie heute überrascht?\nmirrored \u202Etext");
  await page.click("#icebreaker-save");
  await page.waitForFunction(() => document.querySelector("#icebreaker-status").textContent.startsWith("Please enter at most 50 prompts, one per line"), null, { timeout: DEADLINE });
  assert.equal(await page.getAttribute("#icebreaker-prompts", "aria-invalid"), "true");

  const own = ["Was hat Sie heute überrascht?", "Which tool would you never give up?"];
  await page.fill("#icebreaker-prompts", `  ${own[0]}\n\n${own[1]}\n`);
  await page.click("#icebreaker-save");
  await page.waitForFunction(() => document.querySelector("#icebreaker-status").textContent === "Icebreakers saved. New circles get them.", null, { timeout: DEADLINE });
  assert.deepEqual(hanna.sent.filter((m) => m.type === "set_icebreakers").at(-1), { type: "set_icebreakers", on: true, prompts: own });
  assert.equal(await page.inputValue("#icebreaker-prompts"), own.join("\n"), "as the server took them");
  assert.equal(await page.getAttribute("#icebreaker-prompts", "aria-invalid"), null);
  // axe-core finds nothing in the form, the textarea's contrast included (it judges it
  // since textareas no longer scroll sideways: see app.css).
  const found = await axe(page, "#icebreaker-form");
  assert.deepEqual(found.violations, []);
  assert.deepEqual(found.contrastReview, []);
  // Pictured on a taller screen, where the whole form fits in the host tools.
  await page.setViewportSize({ width: 1280, height: 1200 });
  await page.evaluate(() => document.querySelector("#icebreaker-form").scrollIntoView({ block: "end" }));
  await page.locator("#panel").screenshot({ path: path.join(dir, "icebreaker-host-console-en.png") });
  await page.setViewportSize({ width: 1280, height: 800 });

  // A new circle gets one of the room's own prompts, shown as typed (also to a German reader).
  await clickFloor(bernd.page, 1900, 1300);
  await waitAt(carla.page, bernd.id, 1900, 1300);
  await clickFloor(carla.page, 1950, 1300);
  await waitCircle(bernd.page, [bernd.id, carla.id]);
  await bernd.page.waitForFunction(() => window.hallway.state.icebreaker?.prompt.text, null, { timeout: DEADLINE });
  await carla.page.waitForFunction(() => window.hallway.state.icebreaker?.prompt.text, null, { timeout: DEADLINE });
  const text = await shown(bernd.page);
  assert.ok(own.includes(text), text);
  assert.equal(await shown(carla.page), text, "the same prompt for both");

  // Off: the next circle has none.
  await page.uncheck("#icebreakers-on");
  await page.click("#icebreaker-save");
  await page.waitForFunction(() => document.querySelector("#icebreaker-status").textContent === "Icebreakers saved. They are off.", null, { timeout: DEADLINE });
  const told = await anna.page.evaluate(() => window.hallway.state.icebreaker);
  await clickFloor(page, 300, 1300);
  await waitAt(anna.page, hanna.id, 300, 1300);
  await clickFloor(anna.page, 350, 1300);
  await waitCircle(anna.page, [anna.id, hanna.id]);
  await waitCircle(page, [anna.id, hanna.id]);
  // Everything the server meant for Anna on entering has come once the answer to something
  // she sends after it has (her hand, raised and lowered).
  for (const raised of [true, false]) {
    await anna.page.evaluate((up) => window.hallway.conn.send({ type: "hand", raised: up }), raised);
    await anna.page.waitForFunction((up) => !!window.hallway.state.me().hand === up, raised, { timeout: DEADLINE });
  }
  assert.deepEqual(await anna.page.evaluate(() => window.hallway.state.icebreaker), told, "no new icebreaker");
  assert.equal(await shown(anna.page), null);
});
