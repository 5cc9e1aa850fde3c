// Help (real Chromium, real server): a help page in Leichte Sprache and plain English,
// linked from the join screen, in the language the person chose, switchable; in the room,
// "?" (or "Keyboard and help" in the More menu) lists the keys, links the help page, and
// gives the focus back when closed. axe-core on each.

import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { serverForFile, person, boxes, axe, screenshotDir, DEADLINE } from "./harness.mjs";

const room = serverForFile();
const dir = screenshotDir();

test("the join screen links the help page, in Leichte Sprache for German and switchable", async () => {
  const { server, people } = room;
  const probe = await person(server, "Probe");
  people.push(probe);
  const context = await probe.browser.newContext({ locale: "de-DE", viewport: { width: 390, height: 844 } });
  try {
    const page = await context.newPage();
    await page.goto(`${server.url}/r/lobby`);
    const link = page.locator("a.help-link");
    assert.equal(await link.textContent(), "Hilfe in Leichter Sprache (öffnet in einem neuen Tab)");
    assert.equal(await link.getAttribute("href"), "/help");
    assert.equal(await link.getAttribute("target"), "_blank");
    const [help] = await Promise.all([context.waitForEvent("page"), link.click()]);
    await help.waitForLoadState();
    await help.waitForFunction(() => document.documentElement.lang === "de", null, { timeout: DEADLINE });
    assert.equal(await help.isVisible("#help-de-heading"), true);
    assert.equal(await help.isVisible("#help-en-heading"), false);
    // Short sentences: no paragraph of the German help runs over 15 words.
    const longest = await help.$$eval("#help-de p, #help-de li", (els) => Math.max(...els.map((e) => e.textContent.trim().split(/\s+/).length)));
    assert.ok(longest <= 15, `the longest sentence has ${longest} words`);
    // Nothing wider than the phone.
    const wide = (await boxes(help, "#help-de *")).filter((b) => b.left < 0 || b.left + b.width > 390.5);
    assert.deepEqual(wide.map((b) => b.text), []);
    await help.screenshot({ path: path.join(dir, "help-de-phone.png"), fullPage: true });
    let found = await axe(help);
    assert.deepEqual(found.violations, []);
    assert.deepEqual(found.contrastReview, []);
    await help.click("#help-de .help-switch");
    await help.waitForFunction(() => document.documentElement.lang === "en" && !document.querySelector("#help-en").hidden, null, { timeout: DEADLINE });
    assert.equal(await help.evaluate(() => document.activeElement?.id), "help-en-heading");
    assert.equal(await help.title(), "Help – Hallway");
    found = await axe(help);
    assert.deepEqual(found.violations, []);
  } finally {
    await context.close();
  }
});

test("in the room, ? lists the keys and links the help; closing gives the focus back", async () => {
  const [probe] = room.people;
  const page = probe.page;
  await page.focus("#floor");
  await page.keyboard.press("?");
  await page.waitForSelector("#keys[open]", { timeout: DEADLINE });
  assert.match(await page.textContent("#keys"), /Walk, while the floor is selected/);
  assert.equal(await page.getAttribute("#keys a", "href"), "/help");
  const found = await axe(page, "#keys");
  assert.deepEqual(found.violations, []);
  assert.deepEqual(found.contrastReview, []);
  await page.screenshot({ path: path.join(dir, "keys-en.png") });
  await page.keyboard.press("Escape");
  await page.waitForSelector("#keys:not([open])", { state: "attached", timeout: DEADLINE });
  assert.equal(await page.evaluate(() => document.activeElement?.id), "floor");
  // From the More menu, back to its button.
  await page.click("#more-button");
  await page.click("#menu-keys");
  await page.waitForSelector("#keys[open]", { timeout: DEADLINE });
  await page.click("#keys button[type=submit]");
  await page.waitForFunction(() => document.activeElement?.id === "more-button", null, { timeout: DEADLINE });
  // Typing a "?" in the chat is a question mark, not the list.
  await page.click("#tab-chat");
  await page.fill("#chat-text", "");
  await page.type("#chat-text", "Wer?");
  assert.equal(await page.inputValue("#chat-text"), "Wer?");
  assert.equal(await page.evaluate(() => document.querySelector("#keys").open), false);
});
