// Host sign-in at the operator's identity provider (real Chromium, real server, a real
// OpenID Connect provider: Debian's glewlwyd on loopback, started by the test's
// `oidc-provider` helper, with a small login page of its own). From the join screen's link
// the browser goes to the provider, the person signs in there, and comes back; and a host enters with the host tools
// under the provider's name. Someone outside the host group is told why, in their
// language, can enter as a guest, and finds the accessibility statement. No sign-in cookie is left behind.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { startServer, launchBrowser, boxes, overlapping, axe, screenshotDir, repo, DEADLINE } from "./harness.mjs";

const dir = screenshotDir();
let provider;
let issuer;
let server;
let base;
let browser;

// The helper's next line of JSON on standard output.
function nextLine(lines) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the OIDC provider did not answer")), DEADLINE);
    lines.once("line", (line) => {
      clearTimeout(timer);
      resolve(JSON.parse(line));
    });
  });
}

before(async () => {
  provider = spawn(path.join(repo, "target/debug/oidc-provider"), [], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: provider.stdout });
  ({ issuer } = await nextLine(lines));
  server = await startServer({
    HALLWAY_OIDC_ISSUER: issuer,
    HALLWAY_OIDC_CLIENT_ID: "hallway",
    HALLWAY_OIDC_CLIENT_SECRET: "hallway-client-secret-1",
    HALLWAY_OIDC_HOST_VALUE: "hallway-hosts",
  });
  // The public address the redirect URI names (the server's default for loopback).
  base = `http://localhost:${new URL(server.url).port}`;
  provider.stdin.write(`${base}/oidc/callback\n`);
  assert.deepEqual(await nextLine(lines), { ready: true });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
  // Closing its standard input ends the provider, which stops glewlwyd as it goes; a
  // signal would end it before that, and leave glewlwyd running. Killed only if it hangs.
  if (provider && provider.exitCode === null && provider.signalCode === null) {
    const exited = new Promise((resolve) => provider.once("exit", resolve));
    provider.stdin.end();
    const timer = setTimeout(() => provider.kill(), DEADLINE);
    await exited;
    clearTimeout(timer);
  }
});

async function pageIn(locale, viewport = { width: 1280, height: 800 }, scale = 1) {
  const context = await browser.newContext({ locale, viewport, deviceScaleFactor: scale });
  return { context, page: await context.newPage() };
}

// At the provider's login page: signs in as `username` by keyboard.
async function signInAtProvider(page, username, password) {
  await page.waitForURL((url) => url.origin === new URL(issuer).origin && url.pathname === "/login.html", { timeout: DEADLINE });
  await page.fill("#username", username);
  await page.fill("#password", password);
  await page.press("#password", "Enter");
}

test("a host signs in from the join screen and enters with the host tools under the provider's name", async () => {
  const { context, page } = await pageIn("de-DE");
  try {
    await page.goto(`${base}/r/lobby`);
    const link = page.locator("#host-sign-in");
    await link.waitFor({ state: "visible", timeout: DEADLINE });
    assert.equal(await link.textContent(), "Anmeldung für Gastgebende");
    assert.match(await link.getAttribute("href"), /\/r\/lobby\/host\?lang=de$/);
    assert.deepEqual(overlapping(await boxes(page, ".page-links a, #enter, .lang-switch")), []);
    // The picture shows the camera's preview and the devices, not an empty box.
    await page.waitForFunction(() => document.querySelector("#preview").videoWidth > 0 && document.querySelector("#camera-select").options.length > 0, null, { timeout: DEADLINE });
    await page.screenshot({ path: path.join(dir, "sign-in-join-de.png"), fullPage: true });

    // By keyboard: to the link, Enter; to the provider and back.
    await link.focus();
    await page.keyboard.press("Enter");
    await signInAtProvider(page, "ada", "ada-password-1");
    await page.waitForURL(`${base}/r/lobby`, { timeout: DEADLINE });
    // The host link is out of the address bar; the name is the provider's, fixed.
    assert.equal(new URL(page.url()).hash, "");
    await page.waitForFunction(() => document.querySelector("#name").value === "Ada Lovelace", null, { timeout: DEADLINE });
    assert.equal(await page.isVisible("#host-sign-in"), false);
    await page.click("#enter");
    await page.locator("#tab-host").waitFor({ state: "visible", timeout: DEADLINE });
    // No sign-in cookie outlives the join.
    assert.deepEqual((await context.cookies(base)).map((c) => c.name), []);
  } finally {
    await context.close();
  }
});

for (const [name, locale, viewport, scale, heading, guest, statement] of [
  ["en-phone", "en-GB", { width: 390, height: 844 }, 1, "Not a host", "Enter as a guest", "Accessibility"],
  ["de-200", "de-DE", { width: 640, height: 400 }, 2, "Kein Zugang als Gastgebende", "Als Gast eintreten", "Barrierefreiheit"],
]) {
  test(`someone outside the host group is told why and can enter as a guest (${name})`, async () => {
    const { context, page } = await pageIn(locale, viewport, scale);
    try {
      await page.goto(`${base}/r/lobby/host`);
      await signInAtProvider(page, "bob", "bob-password-1");
      await page.waitForURL(/\/oidc\/callback\?/, { timeout: DEADLINE });
      assert.equal(await page.textContent("h1"), heading);
      const { violations, contrastReview } = await axe(page);
      assert.deepEqual(violations, []);
      assert.deepEqual(contrastReview, []);
      const list = await boxes(page, "main h1, main p, main li a");
      assert.deepEqual(overlapping(list), []);
      const width = viewport.width;
      assert.deepEqual(list.filter((b) => b.left < -0.5 || b.left + b.width > width + 0.5).map((b) => b.text), []);
      await page.screenshot({ path: path.join(dir, `sign-in-refused-${name}.png`), fullPage: true });
      assert.deepEqual((await context.cookies(base)).map((c) => c.name), []);
      // The accessibility statement is a link away, in the page's language.
      const lang = locale.slice(0, 2);
      assert.equal(await page.getAttribute("html", "lang"), lang);
      assert.equal(await page.getByRole("link", { name: statement, exact: true }).getAttribute("href"), `/accessibility?lang=${lang}`);
      await page.getByRole("link", { name: guest }).click();
      await page.waitForURL(`${base}/r/lobby`, { timeout: DEADLINE });
      await page.locator("#name").waitFor({ state: "visible", timeout: DEADLINE });
      assert.equal(await page.inputValue("#name"), "");
    } finally {
      await context.close();
    }
  });
}
