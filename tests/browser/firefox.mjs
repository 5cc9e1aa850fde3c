// Firefox ESR (Debian's `firefox-esr`) as a person in the room, driven by puppeteer-core
// over WebDriver BiDi (playwright drives only its own patched Firefox, which cannot be
// downloaded here). A fresh profile per person; fake camera and microphone; loopback ICE
// candidates allowed, since the tests' servers announce 127.0.0.1 (Firefox drops loopback
// candidates otherwise: see docs/interop.md).

import puppeteer from "puppeteer-core";
import { DEADLINE } from "./harness.mjs";

export const FIREFOX_PREFS = {
  "media.navigator.streams.fake": true,
  "media.navigator.permission.disabled": true,
  "media.peerconnection.ice.loopback": true,
  // No first-run pages, updates or telemetry in a test profile.
  "browser.shell.checkDefaultBrowser": false,
  "datareporting.policy.dataSubmissionEnabled": false,
  "app.update.disabledForTesting": true,
};

// One person in Firefox: joins `room` under `name` and resolves with their page and id.
export async function firefoxPerson(server, name, { lang = "en", room = "lobby", viewport = { width: 1280, height: 800 }, link, camera = true } = {}) {
  const browser = await puppeteer.launch({
    browser: "firefox",
    executablePath: process.env.FIREFOX ?? "/usr/bin/firefox-esr",
    headless: true,
    extraPrefsFirefox: { ...FIREFOX_PREFS, "intl.accept_languages": lang === "de" ? "de-DE,de" : "en-GB,en" },
    defaultViewport: viewport,
  });
  // Closing over BiDi can leave Firefox running, and a content process can outlive its
  // parent: either holds the pipes to this process open, and with them the test file's
  // process, which then never ends. After a few seconds the whole process group (puppeteer
  // starts Firefox as the leader of its own) is killed and the pipes are let go.
  const close = async () => {
    const child = browser.process();
    await within(browser.close().catch(() => {}), 5000);
    if (!child?.pid) return;
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // ESRCH: nothing of that group is left.
    }
    for (const stream of child.stdio) stream?.destroy();
    child.unref();
  };
  // A person who does not get into the room is closed all the same (their Firefox would
  // otherwise outlive the test file).
  let page;
  let id;
  try {
    page = await browser.newPage();
    await page.goto(link ?? `${server.url}/r/${room}`);
    await page.waitForSelector("#name", { visible: true, timeout: DEADLINE });
    await page.type("#name", name);
    if (!camera) await page.click("#camera-on");
    await page.click("#enter");
    await page.waitForSelector("#room:not([hidden])", { timeout: DEADLINE });
    await page.waitForFunction(() => window.hallway?.state?.you, { timeout: DEADLINE });
    id = await page.evaluate(() => window.hallway.state.you);
  } catch (err) {
    // What the page showed instead, for the report.
    const seen = await within(page?.evaluate(() => ({ join: document.querySelector("#join-error")?.textContent, ended: document.querySelector("#ended-detail")?.textContent, status: document.querySelector("#status")?.textContent })).catch(() => null) ?? Promise.resolve(null), 3000, null);
    await close();
    err.message += ` (${name}'s page: ${JSON.stringify(seen)})`;
    throw err;
  }
  return { browser, page, id, name, close };
}

// Resolves once `check(arg)`, evaluated in the page, is true; for playwright's and
// puppeteer's pages alike (their waitForFunction signatures differ). On a timeout the error
// names `what`.
export async function until(page, what, check, arg) {
  const end = Date.now() + DEADLINE;
  for (;;) {
    // A page that no longer answers (BiDi can hang) counts as "not yet", not as forever.
    if (await within(page.evaluate(check, arg), DEADLINE, false)) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// `promise`'s value, or `otherwise` after `ms` milliseconds (the timer does not outlive it).
function within(promise, ms, otherwise) {
  let timer;
  const late = new Promise((resolve) => (timer = setTimeout(resolve, ms, otherwise)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
