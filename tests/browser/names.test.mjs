// Same names told apart (real Chromium, real server): two people called "Anna Schmidt" are
// shown as "Anna Schmidt (1)" and "Anna Schmidt (2)" on the floor, in the people list and
// in the chat's recipients — the same number for the same person on every page — and the
// server's ids are shown nowhere.

import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { chromium } from "playwright-core";
import { serverForFile, person, launchBrowser, axe, screenshotDir, DEADLINE } from "./harness.mjs";

const room = serverForFile();

// What a page shows of `id`: its floor tag, its people-list name and its chat option.
async function shownAs(page, id) {
  return page.evaluate((pid) => {
    const avatar = window.hallway.floor.avatars.get(pid);
    const item = [...document.querySelectorAll(".people-group li")].find((li) => li.querySelector(`[data-key$=":${pid}"]`));
    return {
      tag: avatar?.querySelector(".tag")?.textContent,
      label: avatar?.getAttribute("aria-label"),
      list: item?.querySelector(".person-name")?.textContent,
      chat: document.querySelector(`#chat-to option[value="${pid}"]`)?.textContent,
    };
  }, id);
}

test("two people with the same name carry a number, the same on every page", async () => {
  const { server, people } = room;
  const first = await person(server, "Anna Schmidt");
  const second = await person(server, "anna  schmidt", { lang: "de" });
  const ben = await person(server, "Ben Okafor");
  people.push(first, second, ben);
  await ben.page.waitForFunction(() => window.hallway.state.participants.size === 3 && document.querySelectorAll(".people-group li").length === 3, null, { timeout: DEADLINE });
  const a = await shownAs(ben.page, first.id);
  const b = await shownAs(ben.page, second.id);
  const numbers = [a.list, b.list].map((n) => n.match(/\((\d)\)$/)?.[1]).sort();
  assert.deepEqual(numbers, ["1", "2"], `${a.list} / ${b.list}`);
  for (const seen of [a, b]) {
    assert.match(seen.tag, /^Anna Schmidt \([12]\)$|^anna {2}schmidt \([12]\)$/);
    assert.equal(seen.chat, seen.list);
    assert.ok(seen.label.startsWith(seen.list), seen.label);
  }
  assert.notEqual(a.list.slice(-3), b.list.slice(-3));
  // The first Anna sees the second with the same number Ben sees, and herself with hers.
  await first.page.waitForFunction(() => window.hallway.state.participants.size === 3, null, { timeout: DEADLINE });
  await first.page.waitForFunction((id) => window.hallway.floor.avatars.get(id)?.querySelector(".tag")?.textContent.includes("("), second.id, { timeout: DEADLINE });
  assert.equal((await shownAs(first.page, second.id)).tag, b.tag);
  const own = await first.page.evaluate((id) => window.hallway.floor.avatars.get(id)?.querySelector(".tag")?.textContent, first.id);
  assert.equal(own, a.tag.replace(/\)$/, ", you)"), "oneself: the number and (you) in one bracket");
  // Ben is alone with his name: no number. No id is shown anywhere on the page.
  assert.equal((await shownAs(first.page, ben.id)).list, "Ben Okafor");
  const text = await ben.page.evaluate(() => document.body.innerText);
  for (const id of [first.id, second.id, ben.id]) assert.ok(!text.includes(id), "no server id on screen");
});

// A name and profile line copied from a document bring invisible characters along (a soft
// hyphen, a zero-width space, a tab), which the server refuses in names: the page leaves
// them out, and the person joins with what they see. (It was an error at the door.)
test("a name pasted with invisible characters joins, without them", async () => {
  const { server, people } = room;
  const dana = await person(server, "Dana Mül\u00ADler\u200B", { profile: "Amt für\tDigitales\uFEFF" });
  people.push(dana);
  const me = await dana.page.evaluate(() => window.hallway.state.me());
  assert.equal(me.name, "Dana Müller");
  assert.equal(me.profile, "Amt für Digitales");
});

// The page's script comes after its markup (a slow network, a starved machine). A name typed
// and Enter pressed before then must neither send the form to the browser — a reload with the
// name in the address and the join screen again, seen in CI — nor lose the name: "Enter the
// room" waits for the script, and then enters.
test("a name typed before the page's script has loaded is kept, and Enter waits for the script", async () => {
  const { server } = room;
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ locale: "en-GB" });
    let release;
    const held = new Promise((resolve) => (release = resolve));
    await page.route("**/assets/js/main.js", async (route) => {
      await held;
      await route.continue();
    });
    const documents = [];
    page.on("request", (request) => request.isNavigationRequest() && documents.push(request.url()));
    await page.goto(`${server.url}/r/lobby`, { waitUntil: "commit" });
    await page.fill("#name", "Frieda Früh");
    assert.equal(await page.isDisabled("#enter"), true, "Enter waits for the script");
    // Enter in the field (implicit submission) and a click on the button: neither sends.
    await page.press("#name", "Enter");
    await page.locator("#enter").click({ force: true });
    assert.equal(await page.isVisible("#script-late"), false, "no word of a page not loaded while it loads");
    release();
    await page.waitForFunction(() => window.hallway && !document.querySelector("#enter").disabled, null, { timeout: DEADLINE });
    assert.equal(await page.$("#script-late"), null, "the script took the form: nothing to say");
    assert.equal(await page.inputValue("#name"), "Frieda Früh", "what was typed stays");
    await page.click("#enter");
    await page.waitForSelector("#room:not([hidden])", { timeout: DEADLINE });
    assert.equal(await page.evaluate(() => location.search), "", "no form sent to the browser");
    assert.deepEqual(documents, [`${server.url}/r/lobby`], "the page was loaded once");
    const me = await page.evaluate(() => window.hallway.state.me());
    assert.equal(me.name, "Frieda Früh");
  } finally {
    await browser.close();
  }
});

// A script that never comes (a proxy that blocks or breaks it) leaves "Enter the room"
// disabled: after a while the page says why and what to do, in both languages (the script
// that would choose one is missing), at the top of the form, on a desktop and a phone.
test("a page whose script does not load says so after a while", async () => {
  const { server } = room;
  const browser = await launchBrowser();
  try {
    for (const [label, viewport] of [["desktop", { width: 1280, height: 800 }], ["phone", { width: 390, height: 844 }]]) {
      const page = await browser.newPage({ locale: "de-DE", viewport });
      await page.route("**/assets/js/main.js", (route) => route.abort());
      await page.goto(`${server.url}/r/lobby`);
      await page.waitForSelector("#script-late", { state: "visible", timeout: DEADLINE });
      const text = await page.textContent("#script-late");
      assert.match(text, /Die Seite ist noch nicht vollständig geladen\. Wenn sich das nicht ändert, laden Sie die Seite bitte neu\./);
      assert.match(text, /The page has not finished loading\. If this does not change, please reload the page\./);
      const boxes = await page.evaluate(() => Object.fromEntries(["#join-form", "#join-heading", "#script-late", "#name"].map((s) => [s, document.querySelector(s).getBoundingClientRect().toJSON()])));
      const late = boxes["#script-late"];
      const form = boxes["#join-form"];
      assert.ok(late.left >= form.left && late.right <= form.right && late.top >= form.top, `${label}: inside the form`);
      assert.ok(late.top >= boxes["#join-heading"].bottom && late.bottom <= boxes["#name"].top, `${label}: between the heading and the name field`);
      assert.ok(late.bottom <= viewport.height, `${label}: seen without scrolling`);
      assert.equal(await page.isDisabled("#enter"), true);
      assert.equal(await page.getAttribute("#enter", "aria-describedby"), "script-late", `${label}: the disabled button says why`);
      await page.screenshot({ path: path.join(screenshotDir(), `script-late-${label}.png`) });
      const { violations, contrastReview } = await axe(page, "#join");
      assert.deepEqual(violations, [], `${label}: axe violations`);
      assert.deepEqual(contrastReview, [], `${label}: colour contrast to review`);
      await page.close();
    }
  } finally {
    await browser.close();
  }
  // Without JavaScript (switched off in the browser's settings, as a locked-down office
  // browser may have it) the page says it needs it, and not to reload, which would not help.
  const plain = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", headless: true, args: ["--no-sandbox", "--disable-gpu", "--blink-settings=scriptEnabled=false"] });
  try {
    const page = await plain.newPage({ locale: "de-DE" });
    await page.goto(`${server.url}/r/lobby`);
    await page.waitForTimeout(9000);
    const seen = await page.evaluate(() => {
      const needs = document.querySelector("noscript .error");
      return { needs: needs?.textContent.includes("Hallway braucht JavaScript") && needs.getBoundingClientRect().height > 0, late: getComputedStyle(document.querySelector("#script-late")).display };
    });
    assert.deepEqual(seen, { needs: true, late: "none" }, "without JavaScript: that it is needed, no word of reloading");
  } finally {
    await plain.close();
  }
});
