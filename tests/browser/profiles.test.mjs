// Profile lines (real Chromium, real server, real WebRTC): a line beside the name —
// organisation and topics — typed on the join screen, shown in the people list (and found
// by its search), on the floor when hovering an avatar or walking up to someone by
// keyboard (and announced), and on conversation tiles; a line the server refuses is said
// on the join screen at its field. Layout by bounding boxes, axe-core with lines shown.

import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { serverForFile, person, mintLink, clickFloor, waitAt, waitCircle, waitDecoding, boxes, overlapping, axe, screenshotDir, DEADLINE } from "./harness.mjs";

const room = serverForFile();
const dir = screenshotDir();

const BAMBERG = "Stadt Bamberg · Smart City, Bürgerbeteiligung";
const LONG = "Bundesministerium für Digitales und Staatsmodernisierung · Open Data, Cloud, KI";

const inside = (inner, outer) =>
  inner.left >= outer.left - 0.5 && inner.top >= outer.top - 0.5 && inner.left + inner.width <= outer.left + outer.width + 0.5 && inner.top + inner.height <= outer.top + outer.height + 0.5;

// The people-list item of `id` on `page`: its name, profile line and their boxes.
async function listed(page, id) {
  return page.evaluate((pid) => {
    const li = [...document.querySelectorAll(".people-group li")].find((item) => item.querySelector(`[data-key$=":${pid}"]`));
    const box = (el) => {
      if (!el) return null;
      const r = el.getBoundingClientRect();
      return { left: r.left, top: r.top, width: r.width, height: r.height, text: el.textContent };
    };
    return { item: box(li), name: box(li?.querySelector(".person-name")), profile: box(li?.querySelector(".person-profile")), panel: box(document.querySelector(".people-scroll")) };
  }, id);
}

test("a profile line typed on the join screen is seen in the list, found by search, on the floor and on the tiles", async () => {
  const { server, people } = room;
  assert.equal(LONG.length, 79, "nearly the longest line there is");
  const anna = await person(server, "Anna Roth", { lang: "de", profile: BAMBERG });
  const ben = await person(server, "Ben Okafor", { profile: LONG });
  const clara = await person(server, "Clara Meyer");
  people.push(anna, ben, clara);
  await clara.page.waitForFunction(() => document.querySelectorAll(".people-group li").length === 3, null, { timeout: DEADLINE });

  // The list: under the name, inside the panel, not over the next row.
  const a = await listed(clara.page, anna.id);
  const b = await listed(clara.page, ben.id);
  assert.equal(a.profile?.text, BAMBERG);
  assert.equal(b.profile?.text, LONG);
  for (const seen of [a, b]) {
    assert.ok(seen.profile.top >= seen.name.top + seen.name.height - 1, "the line is under the name");
    assert.ok(inside(seen.profile, seen.item) && inside(seen.item, seen.panel), JSON.stringify(seen));
  }
  const rows = await boxes(clara.page, ".people-group li");
  assert.deepEqual(overlapping(rows), []);
  assert.equal(await listed(clara.page, clara.id).then((c) => c.profile), null, "no line, no empty box");

  // The search finds the organisation, and a name with it.
  await clara.page.fill("#people-search", "bamberg");
  await clara.page.waitForFunction(() => document.querySelectorAll(".people-group li").length === 1, null, { timeout: DEADLINE });
  assert.equal(await clara.page.textContent(".people-group li .person-name"), "Anna Roth");
  await clara.page.fill("#people-search", "ben open data");
  await clara.page.waitForFunction(() => document.querySelector(".people-group li .person-name")?.textContent === "Ben Okafor" && document.querySelectorAll(".people-group li").length === 1, null, { timeout: DEADLINE });
  await clara.page.fill("#people-search", "");

  // The floor: hovering Anna opens her tag into a card with the line, whole and in view.
  await clickFloor(anna.page, 900, 700);
  await waitAt(clara.page, anna.id, 900, 700);
  const hidden = await clara.page.evaluate((id) => getComputedStyle(window.hallway.floor.avatars.get(id).querySelector(".tag-profile")).display, anna.id);
  assert.equal(hidden, "none", "the line shows only on hover and focus");
  await clickFloor(clara.page, 900, 700);
  await clara.page.mouse.move(0, 0);
  await waitAt(clara.page, clara.id, 900, 700).catch(() => {});
  const face = await clara.page.evaluate((id) => {
    const r = window.hallway.floor.avatars.get(id).querySelector(".face").getBoundingClientRect();
    return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
  }, anna.id);
  await clara.page.mouse.move(face.x, face.y);
  // The floor shrank when the conversation opened; name tags are laid out again at most
  // every 150 ms, so the card is measured once it has settled within the floor (or at the
  // deadline, as it then stands).
  await clara.page
    .waitForFunction((id) => {
      const line = window.hallway.floor.avatars.get(id).querySelector(".tag-profile").getBoundingClientRect();
      const f = document.querySelector("#floor").getBoundingClientRect();
      return line.width > 0 && line.top >= f.top && line.bottom <= f.bottom && line.left >= f.left && line.right <= f.right;
    }, anna.id, { timeout: DEADLINE })
    .catch(() => {});
  const card = await clara.page.evaluate((id) => {
    const tag = window.hallway.floor.avatars.get(id).querySelector(".tag");
    const line = tag.querySelector(".tag-profile");
    const r = line.getBoundingClientRect();
    const f = document.querySelector("#floor").getBoundingClientRect();
    const c = tag.getBoundingClientRect();
    const a = window.hallway.floor.avatars.get(id).querySelector(".face").getBoundingClientRect();
    const box = (b, text) => ({ left: b.left, top: b.top, width: b.width, height: b.height, text });
    return { text: line.textContent, shown: getComputedStyle(line).display !== "none", whole: line.scrollWidth <= line.clientWidth + 1, line: box(r), card: box(c, "card"), face: box(a, "face"), floor: box(f) };
  }, anna.id);
  assert.ok(card.shown && card.text === BAMBERG && card.whole, JSON.stringify(card));
  assert.ok(card.line.width > 40 && inside(card.line, card.floor), JSON.stringify(card));
  assert.deepEqual(overlapping([card.card, card.face]), [], "the card leaves the face it is about in view");
  await clara.page.screenshot({ path: path.join(dir, "profile-hover-en.png") });
  await clara.page.mouse.move(0, 0);
});

test("walking up to someone by keyboard opens their tag and announces them with their line", async () => {
  const { people } = room;
  const [anna, , clara] = people;
  // Clara stands a little apart from Anna (no circle), then moves the focus to the floor
  // by keyboard, as someone walking with the arrow keys does.
  await clickFloor(clara.page, 760, 700);
  await waitAt(clara.page, clara.id, 760, 700);
  await clara.page.evaluate(() => document.activeElement?.blur());
  for (let i = 0; i < 60 && !(await clara.page.evaluate(() => document.activeElement?.id === "floor")); i++) await clara.page.keyboard.press("Tab");
  assert.equal(await clara.page.evaluate(() => document.activeElement?.id), "floor");
  await clara.page.waitForFunction((id) => window.hallway.floor.avatars.get(id).classList.contains("focused"), anna.id, { timeout: DEADLINE }).catch(async (err) => {
    const seen = await clara.page.evaluate((id) => {
      const f = window.hallway.floor;
      return { focusVisible: f.viewport.matches(":focus-visible"), near: f.near, anna: f.shownAt(id), me: f.shownAt(window.hallway.state.you) };
    }, anna.id);
    throw new Error(`${err.message}: ${JSON.stringify(seen)}`);
  });
  assert.equal(await clara.page.evaluate((id) => getComputedStyle(window.hallway.floor.avatars.get(id).querySelector(".tag-profile")).display, anna.id), "block");
  await clara.page.waitForFunction((line) => document.querySelector("#announcer").textContent.includes(`Near you: Anna Roth, ${line}`), BAMBERG, { timeout: DEADLINE });
  assert.equal(await clara.page.evaluate(() => document.querySelectorAll(".avatar.focused").length), 1);
  // Leaving the floor closes it again.
  await clara.page.keyboard.press("Tab");
  await clara.page.waitForFunction(() => document.querySelectorAll(".avatar.focused").length === 0, null, { timeout: DEADLINE });
});

test("in a circle, each tile shows the line under the name; axe-core finds nothing", async () => {
  const { people } = room;
  const [anna, ben] = people;
  await clickFloor(ben.page, 950, 700);
  await waitCircle(ben.page, [anna.id, ben.id]);
  await waitDecoding(ben.page, anna.id);
  await ben.page.waitForFunction((id) => document.querySelector(`#tiles .tile[data-id="${id}"] .profile`)?.textContent, anna.id, { timeout: DEADLINE });
  const tile = await ben.page.evaluate((id) => {
    const el = document.querySelector(`#tiles .tile[data-id="${id}"]`);
    const box = (e) => {
      const r = e.getBoundingClientRect();
      return { left: r.left, top: r.top, width: r.width, height: r.height, text: e.textContent };
    };
    return { tile: box(el), name: box(el.querySelector(".name")), profile: box(el.querySelector(".profile")), state: box(el.querySelector(".state")), label: el.getAttribute("aria-label") };
  }, anna.id);
  assert.equal(tile.profile.text, BAMBERG);
  assert.ok(tile.profile.top >= tile.name.top + tile.name.height - 1, "under the name");
  assert.ok(inside(tile.profile, tile.tile) && inside(tile.name, tile.tile), JSON.stringify(tile));
  assert.deepEqual(overlapping([tile.name, tile.profile, tile.state]), []);
  assert.ok(tile.label.startsWith(`Anna Roth, ${BAMBERG}`), tile.label);
  await ben.page.screenshot({ path: path.join(dir, "profile-tiles-en.png") });
  const found = await axe(ben.page);
  assert.deepEqual(found.violations, []);
  assert.deepEqual(found.contrastReview, []);
});

test("a line the server refuses is said at its field, in German", async () => {
  const { server, people } = room;
  const [, , clara] = people;
  const context = await clara.browser.newContext({ locale: "de-DE", viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await page.goto(`${server.url}/r/lobby`);
  await page.fill("#name", "Eva");
  await page.fill("#profile", "Amt \u202Eevil");
  await page.click("#enter");
  await page.waitForSelector("#join-error:not([hidden])", { timeout: DEADLINE });
  // The rule it breaks, not every rule: the line looks right ("Amt live"), its hidden
  // character is what to fix.
  assert.equal(await page.textContent("#join-error"), "„Organisation und Themen“ enthält ein unsichtbares Zeichen oder Steuerzeichen, wie es kopierter Text oft mitbringt. Bitte tippen Sie den Text neu ein.");
  assert.equal(await page.getAttribute("#profile", "aria-invalid"), "true");
  assert.equal(await page.evaluate(() => document.activeElement?.id), "profile");
  // The error stands right under the field it is about.
  const [field, error] = await Promise.all([boxes(page, "#profile"), boxes(page, "#join-error")]);
  assert.ok(error[0].top >= field[0].top + field[0].height && error[0].top - (field[0].top + field[0].height) < 120, JSON.stringify({ field, error }));
  await page.screenshot({ path: path.join(dir, "profile-refused-de-phone.png"), fullPage: true });
  const found = await axe(page);
  // A name of punctuation alone: the server refuses it, and the form says why.
  await page.fill("#profile", "");
  await page.fill("#name", "---");
  await page.click("#enter");
  await page.waitForFunction(() => document.querySelector("#join-error").textContent.includes("Ihr Name"), null, { timeout: DEADLINE });
  assert.equal(await page.textContent("#join-error"), "„Ihr Name“ braucht mindestens einen Buchstaben oder eine Ziffer.");
  assert.equal(await page.getAttribute("#name", "aria-invalid"), "true");
  await context.close();
  assert.deepEqual(found.violations, []);
  assert.deepEqual(found.contrastReview, []);
});

test("a personal invitation that fixes the line shows it on the form, not to be changed", async () => {
  const { server, people } = room;
  const [anna] = people;
  const link = mintLink(server, ["--room", "lobby", "--role", "participant", "--name", "Dana Yilmaz", "--profile", "Landkreis Ahrweiler · Katastrophenschutz"]);
  const context = await anna.browser.newContext({ locale: "de-DE" });
  const page = await context.newPage();
  try {
    await page.goto(link);
    await page.waitForFunction(() => document.querySelector("#profile").readOnly, null, { timeout: DEADLINE });
    assert.equal(await page.inputValue("#name"), "Dana Yilmaz");
    assert.equal(await page.inputValue("#profile"), "Landkreis Ahrweiler · Katastrophenschutz");
    assert.equal(await page.evaluate(() => document.querySelector("#name").readOnly), true);
    assert.equal(await page.textContent("#profile-hint"), "Durch Ihre persönliche Einladung festgelegt");
    await page.click("#enter");
    await page.waitForFunction(() => window.hallway?.state?.you, null, { timeout: DEADLINE });
    const id = await page.evaluate(() => window.hallway.state.you);
    await anna.page.waitForFunction((pid) => window.hallway.state.participants.get(pid)?.profile === "Landkreis Ahrweiler · Katastrophenschutz", id, { timeout: DEADLINE });
  } finally {
    await context.close();
  }
});
