// The accessibility statement (real Chromium, real server): linked from the start page and
// the join screen in the person's language, and opened in it from the room's More menu by
// keyboard; axe-clean in German and English, on a phone and at 200% zoom; feedback sent by
// keyboard alone arrives for the operator (admin API); a refused message comes back with
// its reason at the field, focused, the text kept.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { startServer, launchBrowser, boxes, overlapping, axe, screenshotDir, DEADLINE } from "./harness.mjs";

const KEY = "browser-admin-key-0123456789abcdef";
const dir = screenshotDir();
let server;
let browser;

before(async () => {
  server = await startServer({
    HALLWAY_ADMIN_KEY: KEY,
    HALLWAY_STATEMENT_BODY: "Stadt Bamberg",
    HALLWAY_STATEMENT_CONTACT: "barrierefreiheit@stadt-bamberg.example",
    HALLWAY_STATEMENT_REVIEWED: "2026-11-30",
  });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

async function pageIn(locale, viewport = { width: 1280, height: 800 }, scale = 1) {
  const context = await browser.newContext({ locale, viewport, deviceScaleFactor: scale });
  return { context, page: await context.newPage() };
}

async function kept() {
  const response = await fetch(`${server.url}/api/feedback`, { headers: { Authorization: `Bearer ${KEY}` } });
  assert.equal(response.status, 200);
  return (await response.json()).feedback;
}

// Nothing sticks out of the window sideways.
async function nothingWider(page, width) {
  const wide = (await boxes(page, "main *")).filter((b) => b.left < -0.5 || b.left + b.width > width + 0.5);
  assert.deepEqual(wide.map((b) => b.text.slice(0, 40)), []);
}

test("the start page and the join screen link the statement in the person's language", async () => {
  const { context, page } = await pageIn("de-DE", { width: 390, height: 844 });
  try {
    await page.goto(`${server.url}/`);
    const link = page.locator("a.statement-link");
    await page.waitForFunction(() => document.querySelector("a.statement-link").href.endsWith("/accessibility?lang=de"), null, { timeout: DEADLINE });
    assert.equal(await link.textContent(), "Barrierefreiheit");
    assert.deepEqual(overlapping(await boxes(page, ".page-links a, #go, #lang")), []);
    await nothingWider(page, 390);
    await page.screenshot({ path: path.join(dir, "landing-de-phone.png") });
    await link.click();
    await page.waitForURL(/\/accessibility\?lang=de$/, { timeout: DEADLINE });
    assert.equal(await page.textContent("h1"), "Erklärung zur Barrierefreiheit");

    // The join screen of a room, switched to English: the link follows.
    await page.goto(`${server.url}/r/lobby`);
    await page.click(".lang-switch");
    const join = page.locator("#join a.statement-link, .join a.statement-link").first();
    await page.waitForFunction(() => document.querySelector("a.statement-link").href.endsWith("/accessibility?lang=en"), null, { timeout: DEADLINE });
    assert.equal(await join.textContent(), "Accessibility (opens in a new tab)");
    // The heading names the room by its title (as the server gave it), not its address.
    await page.waitForFunction(() => document.querySelector("#join-heading").textContent === "Join Lobby", null, { timeout: DEADLINE });
    assert.equal(await join.getAttribute("target"), "_blank");
    assert.deepEqual(overlapping(await boxes(page, ".page-links a, #enter, .lang-switch")), []);
    await nothingWider(page, 390);
    // The devices one above the other, each select the form's full width (side by side, a
    // microphone's name was cut after a dozen letters); the level meter named under it.
    const [form] = await boxes(page, "#enter");
    for (const select of ["#camera-select", "#mic-select"]) {
      const [box] = await boxes(page, select);
      assert.ok(box && box.width >= form.width - 1, `${select} as wide as the form: ${JSON.stringify({ box, form })}`);
      // The device's whole name when pointed at (real names are longer than the field).
      // (The list comes once the browser has opened the devices.)
      await page.waitForFunction((s) => document.querySelector(s).options.length > 0, select, { timeout: DEADLINE });
      const named = await page.$eval(select, (s) => ({ title: s.title, chosen: s.selectedOptions[0]?.textContent }));
      assert.ok(named.title && named.title === named.chosen, `${select}: ${JSON.stringify(named)}`);
    }
    const [meter] = await boxes(page, "#join-level");
    const [caption] = await boxes(page, "#join-level-label");
    assert.ok(caption && caption.text === "Microphone level: speak to test it" && caption.top >= meter.top + meter.height - 0.5, `the meter's name under it: ${JSON.stringify({ meter, caption })}`);
    // A bar one sees with nothing said (the browser's own was a hairline): as high as a
    // line's x, with an edge.
    const edge = await page.$eval("#join-level", (m) => ({ width: getComputedStyle(m).borderTopWidth, style: getComputedStyle(m).borderTopStyle }));
    assert.ok(meter.height >= 11 && edge.style === "solid" && parseFloat(edge.width) >= 1, `the meter ${meter.height} px high, edge ${JSON.stringify(edge)}`);
    await page.screenshot({ path: path.join(dir, "join-en-phone.png"), fullPage: true });
  } finally {
    await context.close();
  }
});

test("in the room, the More menu opens the statement by keyboard, in the person's language", async () => {
  const { context, page } = await pageIn("de-DE");
  try {
    await page.goto(`${server.url}/r/lobby`);
    await page.fill("#name", "Anna Roth");
    await page.uncheck("#camera-on");
    await page.click("#enter");
    await page.waitForSelector("#room:not([hidden])", { timeout: DEADLINE });
    // From the More button, down the menu with the arrow keys to the item; Enter.
    await page.focus("#more-button");
    await page.keyboard.press("ArrowDown");
    await page.waitForSelector("#more-menu:not([hidden])", { timeout: DEADLINE });
    for (let i = 0; i < 10 && (await page.evaluate(() => document.activeElement?.id)) !== "menu-statement"; i++) await page.keyboard.press("ArrowDown");
    assert.equal(await page.evaluate(() => document.activeElement?.id), "menu-statement");
    assert.equal(await page.textContent("#menu-statement"), "Barrierefreiheit (öffnet in einem neuen Tab)");
    const opened = context.waitForEvent("page", { timeout: DEADLINE });
    await page.keyboard.press("Enter");
    // A new tab with the German statement; the room stays open behind it, the menu closed.
    const statement = await opened;
    await statement.waitForLoadState("domcontentloaded", { timeout: DEADLINE });
    const url = new URL(statement.url());
    assert.equal(url.pathname + url.search, "/accessibility?lang=de");
    assert.equal(await statement.getAttribute("html", "lang"), "de");
    assert.equal(await statement.textContent("h1"), "Erklärung zur Barrierefreiheit");
    assert.equal(await page.isVisible("#room"), true);
    assert.equal(await page.isHidden("#more-menu"), true);
  } finally {
    await context.close();
  }
});

for (const [name, locale, viewport, scale] of [
  ["de", "de-DE", { width: 1280, height: 800 }, 1],
  ["en-phone", "en-GB", { width: 390, height: 844 }, 1],
  ["de-200", "de-DE", { width: 640, height: 400 }, 2],
]) {
  test(`the statement (${name}) is axe-clean and fits`, async () => {
    const { context, page } = await pageIn(locale, viewport, scale);
    try {
      await page.goto(`${server.url}/accessibility`);
      const lang = locale.slice(0, 2);
      assert.equal(await page.getAttribute("html", "lang"), lang);
      assert.match(await page.textContent("main"), lang === "de" ? /Stadt Bamberg ist bemüht/ : /Stadt Bamberg is committed/);
      await nothingWider(page, viewport.width);
      // The form's parts stand one below the other.
      assert.deepEqual(overlapping(await boxes(page, ".feedback-form > *")), []);
      const found = await axe(page);
      assert.deepEqual(found.violations, []);
      assert.deepEqual(found.contrastReview, []);
      await page.screenshot({ path: path.join(dir, `statement-${name}.png`), fullPage: true });
    } finally {
      await context.close();
    }
  });
}

test("feedback sent by keyboard alone arrives, and a refused one comes back with its reason", async () => {
  const { context, page } = await pageIn("de-DE");
  try {
    await page.goto(`${server.url}/accessibility`);
    // Tab from the top of the page to the message field.
    for (let i = 0; i < 12 && (await page.evaluate(() => document.activeElement?.id)) !== "message"; i++) await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.id), "message");
    await page.keyboard.type("Im Raum sagt der Screenreader die Personen doppelt an.");
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.id), "contact");
    await page.keyboard.type("anna.roth@stadt.example");
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Rückmeldung senden");
    await page.keyboard.press("Enter");
    await page.waitForURL(/sent=1#feedback-sent$/, { timeout: DEADLINE });
    assert.equal(await page.textContent("[role=status]"), "Vielen Dank. Ihre Rückmeldung ist angekommen.");
    // The title says it first; the thank-you is the fragment the page opens at.
    assert.equal(await page.title(), "Rückmeldung gesendet – Erklärung zur Barrierefreiheit – Hallway");
    const [first] = await kept();
    assert.equal(first.message, "Im Raum sagt der Screenreader die Personen doppelt an.");
    assert.equal(first.contact, "anna.roth@stadt.example");
    const found = await axe(page);
    assert.deepEqual(found.violations, []);
    await page.screenshot({ path: path.join(dir, "statement-sent-de.png") });

    // Only blanks: the browser lets it through (the field is not empty), the server does not.
    await page.fill("#message", "   ");
    await page.fill("#contact", "0951 87-0");
    await page.click("button[type=submit]");
    await page.waitForSelector("#message-error", { timeout: DEADLINE });
    assert.equal(await page.textContent("#message-error"), "Bitte schreiben Sie eine Nachricht.");
    assert.equal(await page.title(), "Fehler: Erklärung zur Barrierefreiheit – Hallway");
    assert.equal(await page.evaluate(() => document.activeElement?.id), "message");
    assert.equal(await page.getAttribute("#message", "aria-invalid"), "true");
    assert.equal(await page.inputValue("#contact"), "0951 87-0");
    const described = await page.evaluate(() => document.querySelector("#message").getAttribute("aria-describedby").split(" ").map((id) => document.getElementById(id).textContent));
    assert.deepEqual(described, ["Was hat nicht funktioniert, und wo? Höchstens 4000 Zeichen.", "Bitte schreiben Sie eine Nachricht."]);
    const again = await axe(page);
    assert.deepEqual(again.violations, []);
    assert.deepEqual(again.contrastReview, []);
    await page.screenshot({ path: path.join(dir, "statement-refused-de.png") });
    assert.equal((await kept()).length, 1);
  } finally {
    await context.close();
  }
});
