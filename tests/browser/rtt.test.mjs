// Real-time text (real Chromium, real server, real WebRTC circle): Anna types "Hallo" and
// Ben reads "Hal" before she has finished the word, in Anna's own labelled region, which
// opens by itself on Ben's page; Enter keeps the line and announces it politely, and so
// does a pause of two seconds for the words before it: each once, never letter by letter.
// Carla, outside the circle, receives nothing. The panel sits beside the tiles on a desktop
// and below them on a phone and at 200% zoom, in both languages, without overlapping them
// or the floor's zoom buttons; axe-clean.

import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { serverForFile, person, mintLink, formCircle, clickFloor, boxes, overlapping, axe, screenshotDir, DEADLINE } from "./harness.mjs";

const room = serverForFile();
const dir = screenshotDir();

// Boxes of `selector` and of the floor's zoom buttons (named by their ids, being icons).
const laidOut = async (page, selector) => [
  ...(await boxes(page, selector)),
  ...(await boxes(page, "#zoom-in")).map((b) => ({ ...b, text: "#zoom-in" })),
  ...(await boxes(page, "#zoom-out")).map((b) => ({ ...b, text: "#zoom-out" })),
];

const current = (page, id) => page.evaluate((writer) => document.querySelector(`.rtt-writer[data-id="${writer}"] .rtt-current`)?.textContent ?? null, id);

test("Ben reads Anna's line as she types it; Carla outside the circle receives nothing", async () => {
  const { server, people } = room;
  const anna = await person(server, "Anna Roth", { lang: "de" });
  const ben = await person(server, "Ben Okafor");
  const carla = await person(server, "Carla Weiß", { camera: false });
  people.push(anna, ben, carla);
  await clickFloor(carla.page, 1900, 1300);
  await formCircle(anna, ben);
  // Every announcement Ben's page makes from now on, with the time it was made: Anna's
  // words are to be announced when she finishes a line or pauses, each once, never per letter.
  await ben.page.evaluate(() => {
    window.announced = [];
    new MutationObserver((records) => {
      for (const record of records) for (const node of record.addedNodes) window.announced.push({ text: node.textContent, at: Date.now() });
    }).observe(document.getElementById("announcer"), { childList: true });
  });
  const annasWords = async () => (await ben.page.evaluate(() => window.announced)).filter((a) => a.text.startsWith("Anna Roth: "));

  // Anna opens real-time text: the focus is in her line.
  await anna.page.click("#rtt-toggle");
  await anna.page.waitForSelector("#rtt:not([hidden])", { timeout: DEADLINE });
  assert.equal(await anna.page.evaluate(() => document.activeElement?.id), "rtt-own");
  assert.equal(await anna.page.getAttribute("#rtt-toggle", "aria-expanded"), "true");

  // "Hal": Ben reads it before Anna has typed the rest of the word.
  await anna.page.keyboard.type("Hal", { delay: 60 });
  await ben.page.waitForFunction((id) => document.querySelector(`.rtt-writer[data-id="${id}"] .rtt-current`)?.textContent === "Hal", anna.id, { timeout: DEADLINE });
  assert.equal(await anna.page.inputValue("#rtt-own"), "Hal", "Anna has not typed further yet");
  // Ben's panel opened by itself (his focus stays where it was), in a region named after Anna.
  assert.equal(await ben.page.isVisible("#rtt"), true);
  assert.notEqual(await ben.page.evaluate(() => document.activeElement?.id), "rtt-own");
  const label = await ben.page.evaluate((id) => {
    const box = document.querySelector(`.rtt-writer[data-id="${id}"]`);
    return document.getElementById(box.getAttribute("aria-labelledby")).textContent;
  }, anna.id);
  assert.equal(label, "Anna Roth");
  await anna.page.keyboard.type("lo", { delay: 60 });
  await ben.page.waitForFunction((id) => document.querySelector(`.rtt-writer[data-id="${id}"] .rtt-current`)?.textContent === "Hallo", anna.id, { timeout: DEADLINE });

  // Enter finishes the line: Ben keeps it and hears it once, politely.
  await anna.page.keyboard.press("Enter");
  await ben.page.waitForFunction((id) => [...document.querySelectorAll(`.rtt-writer[data-id="${id}"] .rtt-line`)].some((p) => p.textContent === "Hallo"), anna.id, { timeout: DEADLINE });
  assert.equal(await current(ben.page, anna.id), "");
  // Through the page's one polite live region (always there, so screen readers hear it).
  await ben.page.waitForFunction(() => [...document.querySelectorAll("#announcer p")].some((p) => p.textContent === "Anna Roth: Hallo"), null, { timeout: DEADLINE });
  assert.equal(await ben.page.getAttribute("#announcer", "aria-live"), "polite");
  assert.ok(anna.sent.some((m) => m.type === "rtt" && m.text === "Hallo" && m.done && Number.isInteger(m.circle)), "the line says which circle it was typed for");
  assert.equal(await anna.page.inputValue("#rtt-own"), "");
  assert.match(await anna.page.textContent('.rtt-writer[data-id="me"]'), /Hallo/);

  // Anna types two words and stops for over two seconds: Ben hears them after the pause.
  await anna.page.keyboard.type("Bis gleich", { delay: 30 });
  const typedAt = Date.now();
  await ben.page.waitForFunction(() => window.announced.some((a) => a.text === "Anna Roth: Bis gleich"), null, { timeout: DEADLINE });
  const paused = (await annasWords()).find((a) => a.text === "Anna Roth: Bis gleich");
  assert.ok(paused.at - typedAt >= 1900, `announced ${paused.at - typedAt} ms after the last letter, not after a pause`);
  // She finishes the line: Ben keeps it, and is not told those words a second time.
  await anna.page.keyboard.press("Enter");
  await ben.page.waitForFunction((id) => [...document.querySelectorAll(`.rtt-writer[data-id="${id}"] .rtt-line`)].some((p) => p.textContent === "Bis gleich"), anna.id, { timeout: DEADLINE });
  // (The line and its announcement come in one message: had it been announced again, it
  // would be by now.) Over these seconds each of Anna's lines was announced once, whole,
  // never a letter or a word at a time, and "Hallo" not again after its Enter.
  assert.deepEqual((await annasWords()).map((a) => a.text), ["Anna Roth: Hallo", "Anna Roth: Bis gleich"]);
  // Ben answers; Anna reads it.
  await ben.page.click("#rtt-own");
  await ben.page.keyboard.type("Hi Anna", { delay: 30 });
  await anna.page.waitForFunction((id) => document.querySelector(`.rtt-writer[data-id="${id}"] .rtt-current`)?.textContent === "Hi Anna", ben.id, { timeout: DEADLINE });

  // Carla never received any of it, and her page shows none.
  assert.deepEqual(carla.received.filter((m) => m.type === "rtt"), []);
  assert.equal(await carla.page.isVisible("#rtt"), false);
  assert.ok(anna.sent.some((m) => m.type === "rtt" && m.text === "Hal" && m.to === "circle"));

  // Beside the tiles, overlapping nothing (nor the floor's zoom buttons); axe-clean in both languages.
  for (const page of [anna.page, ben.page]) assert.deepEqual(overlapping(await laidOut(page, "#tiles .tile, #self-view .tile, #rtt")), []);
  for (const page of [anna.page, ben.page]) {
    const found = await axe(page, "#conversation");
    assert.deepEqual(found.violations, []);
    assert.deepEqual(found.contrastReview, []);
  }
  await anna.page.screenshot({ path: path.join(dir, "rtt-de.png") });
  await ben.page.screenshot({ path: path.join(dir, "rtt-en.png") });

  // Ben writes on, more lines than a phone shows at once (the page keeps his last three
  // and the one he types): his name stays in view above them (it scrolled away).
  await ben.page.keyboard.press("Enter");
  for (const line of ["Ich bin gleich da", "Der Zug hat Verspätung", "Noch zehn Minuten", "Fangen Sie ruhig an"]) {
    await ben.page.keyboard.type(line, { delay: 5 });
    await ben.page.keyboard.press("Enter");
  }
  await ben.page.keyboard.type("Hi Anna", { delay: 5 });
  await anna.page.waitForFunction((id) => document.querySelector(`.rtt-writer[data-id="${id}"] .rtt-current`)?.textContent === "Hi Anna" && document.querySelectorAll(`.rtt-writer[data-id="${id}"] .rtt-line`).length === 3, ben.id, { timeout: DEADLINE });

  // On a phone and at 200% zoom (the window's CSS size), in both languages: below the
  // tiles, still clear of them and of the floor's zoom buttons.
  for (const [who, other, lang] of [[ben, anna, "en"], [anna, ben, "de"]]) {
    const page = who.page;
    for (const [name, size] of [["phone", { width: 390, height: 844 }], ["zoom", { width: 640, height: 400 }]]) {
      await page.setViewportSize(size);
      // On a narrow window the people panel covers the room until it is closed.
      if (await page.isVisible("#panel-close")) await page.click("#panel-close");
      await page.waitForTimeout(300);
      const shown = await laidOut(page, "#tiles .tile, #rtt");
      assert.deepEqual(overlapping(shown), [], `${lang}-${name}`);
      // The own line is whole inside the panel, the panel inside the conversation, the zoom
      // buttons inside the floor, and the newest words of the other's line are not scrolled away.
      const [own] = await boxes(page, "#rtt-own");
      const [panel] = await boxes(page, "#rtt");
      const [section] = await boxes(page, "#conversation");
      const [floor] = await boxes(page, ".floor-box");
      // (Within a pixel: a list scrolled to its end can leave a fraction of one below it.)
      const inside = (a, b) => a.top >= b.top - 1 && a.top + a.height <= b.top + b.height + 1;
      assert.ok(own.width > 100 && inside(own, panel) && inside(panel, section), `${lang}-${name}: ${JSON.stringify({ own, panel, section })}`);
      for (const button of shown.filter((b) => b.text.startsWith("#zoom"))) assert.ok(inside(button, floor), `${lang}-${name}: ${button.text} is on the floor (${JSON.stringify({ button, floor })})`);
      const newest = (await boxes(page, `.rtt-writer[data-id="${other.id}"] p`)).filter((b) => b.text !== "").at(-1);
      const [list] = await boxes(page, `#rtt-writers`);
      assert.ok(newest && inside(newest, list), `${lang}-${name}: ${other.name}'s newest line is in view (${JSON.stringify({ newest, list })})`);
      const [writer] = await boxes(page, `.rtt-writer[data-id="${other.id}"] h4`);
      assert.ok(writer && inside(writer, list) && writer.top + writer.height <= newest.top + 0.5, `${lang}-${name}: ${other.name}'s name is in view above the newest line (${JSON.stringify({ writer, newest, list })})`);
      if (name === "phone") {
        // One's own small picture beside the other's says whose it is: "You" where the
        // name does not fit (a newcomer took it for a stranger's).
        const own = await page.evaluate(() => {
          const tile = document.querySelector("#conversation .tile.self");
          const label = tile?.querySelector(".name");
          const [t, n] = [tile, label].map((el) => el?.getBoundingClientRect());
          return label && { small: t.width <= 128, after: getComputedStyle(label, "::after").content, inside: n.width > 10 && n.height > 8 && n.left >= t.left && n.right <= t.right && n.top >= t.top && n.bottom <= t.bottom, tile: Math.round(t.width) };
        });
        assert.ok(own?.inside, `${lang}: one's own picture shows a name (${JSON.stringify(own)})`);
        assert.ok(own.small, `${lang}: one's own picture is small on a phone (${own.tile} px)`);
        assert.equal(own.after, lang === "de" ? '"Sie"' : '"You"', `${lang}: "you" alone on the ${own.tile} px picture`);
      }
      if (name === "zoom") {
        // The floor's Leave circle button (low screens) hides no name tag: they go around it.
        await page.waitForTimeout(400);
        const [leave] = await boxes(page, "#floor-leave-circle");
        const tags = await boxes(page, ".avatar .tag:not(.hidden-tag)");
        assert.ok(leave, `${lang}: the floor's Leave circle button`);
        assert.deepEqual(overlapping([leave, ...tags]).filter(([x]) => x === leave.text), [], `${lang}: no name tag under the floor's button`);
      }
      await page.screenshot({ path: path.join(dir, `rtt-${lang}-${name}.png`) });
      if (name !== "zoom") continue;
      // At 200% the circle's head (with the toggle) is gone: the panel has a heading of
      // its own and closes itself, by keyboard too; the More menu opens it again.
      const [title] = await boxes(page, "#rtt-heading");
      const [close] = await boxes(page, "#rtt-close");
      assert.equal(title?.text, lang === "de" ? "Echtzeittext" : "Real-time text", `${lang}: a visible heading`);
      assert.ok(title.height >= 10 && inside(title, panel) && title.left + title.width <= close.left + 0.5, `${lang}: heading whole, left of the close button (${JSON.stringify({ title, close })})`);
      assert.ok(await page.$eval("#rtt-heading", (h) => h.scrollWidth <= h.clientWidth + 1), `${lang}: the heading is not cut short`);
      assert.ok(close.width >= 24 && close.height >= 24 && inside(close, panel) && close.left + close.width <= panel.left + panel.width + 0.5, `${lang}: close button whole (${JSON.stringify({ close, panel })})`);
      assert.equal(await page.getAttribute("#rtt-close", "aria-label"), lang === "de" ? "Echtzeittext schließen" : "Close real-time text");
      const found = await axe(page, "#rtt");
      assert.deepEqual(found.violations, [], `${lang}-${name}`);
      assert.deepEqual(found.contrastReview, [], `${lang}-${name}`);
      await page.focus("#rtt-close");
      await page.keyboard.press("Enter");
      await page.waitForSelector("#rtt", { state: "hidden", timeout: DEADLINE });
      // The focus goes where the panel opens again from (the More menu), not into the floor.
      assert.equal(await page.evaluate(() => document.activeElement?.id), "more-button", `${lang}: the focus is on the More button`);
      await page.click("#more-button");
      await page.click("#menu-rtt");
      await page.waitForSelector("#rtt", { state: "visible", timeout: DEADLINE });
    }
  }
});

test("a listener types a question to the stage; the host on stage reads it as it is typed", async () => {
  const { server, people } = room;
  const hanna = await person(server, "Hanna Host", { link: mintLink(server, ["--room", "lobby", "--role", "host"]) });
  const lena = await person(server, "Lena Listener", { lang: "de", camera: false });
  people.push(hanna, lena);
  await hanna.page.click("#on-air-toggle");
  await lena.page.waitForSelector("#on-air-view:not([hidden])", { timeout: DEADLINE });
  // On the floor her avatar says "on stage" in a colour of its own, not the red of a muted
  // microphone (a newcomer read the speaker as muted).
  await lena.page.waitForSelector(`.avatar.on-air .badges .on-air`, { timeout: DEADLINE });
  const marks = await lena.page.evaluate(() => {
    const probe = document.createElement("span");
    probe.style.color = "var(--danger)";
    document.body.append(probe);
    const danger = getComputedStyle(probe).color;
    probe.remove();
    const badge = getComputedStyle(document.querySelector(".avatar.on-air .badges .on-air")).backgroundColor;
    return { danger, badge, title: getComputedStyle(document.querySelector("#on-air-view .section-title")).color };
  });
  assert.notEqual(marks.badge, marks.danger, "the stage badge is not the muted red");
  assert.notEqual(marks.title, marks.danger, "nor the stage's heading");
  // Hanna opens the questions before anyone asks: what will come there, and how she answers.
  await hanna.page.click("#on-air-rtt-toggle");
  await hanna.page.waitForSelector("#on-air-rtt-writers .rtt-empty", { timeout: DEADLINE });
  assert.equal(await hanna.page.textContent("#on-air-rtt-writers .rtt-empty"), "No questions yet. Questions from the audience appear here as they are typed; you answer them by voice.");
  const [emptyLine] = await boxes(hanna.page, "#on-air-rtt-writers .rtt-empty");
  const [questions] = await boxes(hanna.page, "#on-air-rtt");
  assert.ok(emptyLine && emptyLine.left >= questions.left && emptyLine.left + emptyLine.width <= questions.left + questions.width + 0.5 && emptyLine.top + emptyLine.height <= questions.top + questions.height + 0.5, `the line is whole in the panel (${JSON.stringify({ emptyLine, questions })})`);
  await hanna.page.screenshot({ path: path.join(dir, "rtt-stage-empty-en.png") });
  // Lena opens the question field from the stage's head and types.
  await lena.page.click("#on-air-rtt-toggle");
  assert.equal(await lena.page.evaluate(() => document.activeElement?.id), "on-air-rtt-own");
  await lena.page.keyboard.type("Wie geht", { delay: 60 });
  await hanna.page.waitForFunction((id) => document.querySelector(`#on-air-rtt-writers .rtt-writer[data-id="${id}"] .rtt-current`)?.textContent === "Wie geht", lena.id, { timeout: DEADLINE });
  assert.equal(await lena.page.inputValue("#on-air-rtt-own"), "Wie geht");
  await lena.page.keyboard.type(" es weiter?", { delay: 20 });
  await lena.page.keyboard.press("Enter");
  await hanna.page.waitForFunction((id) => [...document.querySelectorAll(`#on-air-rtt-writers .rtt-writer[data-id="${id}"] .rtt-line`)].some((p) => p.textContent === "Wie geht es weiter?"), lena.id, { timeout: DEADLINE });
  // Hanna answers by voice: no line of her own to type on stage.
  assert.equal(await hanna.page.isVisible("#on-air-rtt-own"), false);
  // Nor a hint about typing, on a phone either (its short hint showed there).
  await hanna.page.setViewportSize({ width: 390, height: 844 });
  assert.deepEqual(await boxes(hanna.page, "#on-air-rtt .hint"), []);
  assert.equal((await boxes(lena.page, "#on-air-rtt .hint")).length, 1, "the listener who types sees the hint");
  await hanna.page.setViewportSize({ width: 1280, height: 800 });
  await hanna.page.waitForFunction(() => [...document.querySelectorAll("#announcer p")].some((p) => p.textContent === "Lena Listener: Wie geht es weiter?"), null, { timeout: DEADLINE });
  for (const page of [hanna.page, lena.page]) {
    assert.deepEqual(overlapping(await boxes(page, "#on-air-tiles .tile, #on-air-rtt")), []);
    const found = await axe(page, "#on-air-view");
    assert.deepEqual(found.violations, []);
    assert.deepEqual(found.contrastReview, []);
  }
  await hanna.page.screenshot({ path: path.join(dir, "rtt-stage-en.png") });
  await lena.page.screenshot({ path: path.join(dir, "rtt-stage-de.png") });
  // The broadcast ends: the question field goes with it.
  await hanna.page.click("#on-air-toggle");
  await lena.page.waitForSelector("#on-air-rtt", { state: "hidden", timeout: DEADLINE });
  // Her focus was in the field: it is not lost with it.
  assert.equal(await lena.page.evaluate(() => document.activeElement?.id), "floor");
});
