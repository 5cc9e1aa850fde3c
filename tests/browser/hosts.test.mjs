// Hosts in the browser: host tools only for hosts, entering a locked circle, an
// announcement for everyone, locking the room, and a ban that holds against the same link.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, person, clickFloor, waitAt, waitCircle, mintLink, axe, boxes, overlapping, DEADLINE } from "./harness.mjs";

let server;
const people = [];

before(async () => {
  server = await startServer();
});

after(async () => {
  for (const p of people) await p.close();
  await server?.stop();
});

// A host's action on one person, through that person's actions menu.
async function hostAction(page, action, id) {
  await page.click("#tab-people");
  await page.click(`button[data-key="actions:${id}"]`);
  await page.click(`#person-menu button[data-key="${action}:${id}"]`);
  await page.waitForSelector("#person-menu", { state: "hidden", timeout: DEADLINE });
}

test("host tools are there for hosts only, and pass axe-core", async () => {
  const hanna = await person(server, "Hanna", { link: mintLink(server, ["--room", "lobby", "--role", "host"]) });
  const anna = await person(server, "Anna Schmidt");
  people.push(hanna, anna);
  // A tab of their own, offered to hosts alone (the tab list's name says so).
  assert.equal(await hanna.page.getAttribute('[role="tablist"]', "aria-label"), "People, chat and host tools");
  assert.equal(await anna.page.getAttribute('[role="tablist"]', "aria-label"), "People and chat");
  assert.equal(await hanna.page.isVisible("#tab-host"), true);
  assert.equal(await anna.page.isVisible("#tab-host"), false);
  await hanna.page.waitForSelector(`button[data-key="actions:${anna.id}"]`, { timeout: DEADLINE });
  assert.equal(await anna.page.$(`button[data-key^="actions:"]`), null);
  await hanna.page.click("#tab-host");
  const report = await axe(hanna.page);
  assert.deepEqual(report.violations, []);
  assert.deepEqual(report.contrastReview, []);
  // The tools scroll with their tab, not in a box of their own inside the people's, which
  // is hidden meanwhile.
  assert.deepEqual(await hanna.page.evaluate(() => [!!document.querySelector("#pane-people #host-tools"), document.querySelector("#pane-people").hidden]), [false, true]);
  assert.ok(await hanna.page.$eval("#pane-host", (el) => el.scrollHeight > el.clientHeight), "the tab scrolls: the tools are longer than a window");
  await tabsFit(hanna.page, 3);
  // Arrow keys go round the tabs shown, Home and End to the ends (the ARIA tabs pattern);
  // the host tools' tab is not there for Anna.
  await hanna.page.focus("#tab-host");
  const keys = async (page, list) => {
    const seen = [];
    for (const key of list) {
      await page.keyboard.press(key);
      seen.push(await page.evaluate(() => [document.activeElement.id, document.querySelector('[role="tab"][aria-selected="true"]').id].join("=")));
    }
    return seen;
  };
  assert.deepEqual(await keys(hanna.page, ["ArrowRight", "ArrowLeft", "ArrowLeft", "End", "Home"]), ["tab-people=tab-people", "tab-host=tab-host", "tab-chat=tab-chat", "tab-host=tab-host", "tab-people=tab-people"]);
  assert.equal(await hanna.page.isVisible("#pane-people"), true);
  await anna.page.focus("#tab-people");
  assert.deepEqual(await keys(anna.page, ["ArrowRight", "ArrowRight", "End", "ArrowLeft"]), ["tab-chat=tab-chat", "tab-people=tab-people", "tab-chat=tab-chat", "tab-people=tab-people"]);
  await tabsFit(anna.page, 2);
  // Everyone sees who hosts: beside the name in the people list.
  const rows = (page) => page.$$eval("#pane-people .people-group li", (list) => Object.fromEntries(list.map((li) => [li.querySelector(".person-name").textContent, li.querySelector(".person-status").textContent])));
  await anna.page.waitForFunction(() => document.querySelectorAll("#pane-people .people-group li").length === 2, null, { timeout: DEADLINE });
  assert.deepEqual(await rows(anna.page), { Hanna: "Host", "Anna Schmidt (you)": "" });
  assert.deepEqual(await rows(hanna.page), { "Hanna (you)": "Host", "Anna Schmidt": "" });
});

// The panel's tabs show whole, side by side, inside the panel's head and clear of its close
// button (a phone's drawer has one).
async function tabsFit(page, count) {
  const tabs = await boxes(page, '.panel-head [role="tab"]');
  assert.equal(tabs.length, count);
  const [head] = await boxes(page, ".panel-head");
  for (const tab of tabs) assert.ok(tab.left >= head.left - 0.5 && tab.left + tab.width <= head.left + head.width + 0.5, `${tab.text} inside the panel`);
  assert.deepEqual(overlapping([...tabs, ...(await boxes(page, "#panel-close"))]), []);
  assert.deepEqual(await page.$$eval('.panel-head [role="tab"]', (list) => list.filter((t) => t.offsetParent && t.scrollWidth > t.clientWidth + 1).map((t) => t.textContent.trim())), [], "every tab holds its words");
}

test("on a narrow phone, a German host's three tabs fit the drawer beside its close button", async () => {
  for (const width of [360, 390]) {
    const host = await person(server, "Hanna Schmidt-Weißenfels", { lang: "de", viewport: { width, height: 740 }, touch: true, camera: false, link: mintLink(server, ["--room", "lobby", "--role", "host"]) });
    people.push(host);
    await host.page.click("#panel-toggle");
    await host.page.waitForSelector("#panel-close", { state: "visible", timeout: DEADLINE });
    await tabsFit(host.page, 3);
    await host.page.click("#tab-host");
    assert.equal(await host.page.isVisible("#announce-text"), true);
    await host.close();
    people.splice(people.indexOf(host), 1);
  }
});

test("a host enters a locked circle", async () => {
  const [hanna, anna] = people;
  const ben = await person(server, "Ben Okafor");
  people.push(ben);
  await clickFloor(anna.page, 600, 600);
  await waitAt(ben.page, anna.id, 600, 600);
  await clickFloor(ben.page, 650, 600);
  await waitCircle(anna.page, [anna.id, ben.id]);
  await anna.page.click("#lock-toggle");
  await hanna.page.waitForFunction(() => [...window.hallway.state.circles.values()].some((c) => c.locked), null, { timeout: DEADLINE });
  await clickFloor(hanna.page, 625, 615);
  await waitCircle(hanna.page, [anna.id, ben.id, hanna.id]);
  await waitCircle(anna.page, [anna.id, ben.id, hanna.id]);
});

test("an announcement reaches everyone, who may put it away until the next; a locked room turns newcomers away", async () => {
  const [hanna, anna] = people;
  // Host tools are a tab of their own (the people list has the people tab to itself).
  assert.equal(await hanna.page.isVisible("#announce-text"), false);
  await hanna.page.click("#tab-host");
  assert.equal(await hanna.page.isDisabled("#announce-clear"), true, "nothing posted: nothing to delete");
  await hanna.page.fill("#announce-text", "Die Keynote beginnt in 5 Minuten.");
  // From the text, the keyboard reaches "Post" first, and "Delete announcement" sits apart
  // from it (after it, or on the next line), not in its place.
  await hanna.page.keyboard.press("Tab");
  assert.equal(await hanna.page.evaluate(() => document.activeElement?.type), "submit", "Tab from the announcement reaches Post");
  const [post, clear] = await hanna.page.evaluate(() =>
    ["#announce-form button[type=submit]", "#announce-clear"].map((s) => {
      const r = document.querySelector(s).getBoundingClientRect();
      return { left: r.left, right: r.right, top: r.top, bottom: r.bottom };
    }),
  );
  assert.ok(clear.top >= post.bottom - 0.5 || clear.left >= post.right + 4, `Delete after Post: ${JSON.stringify({ post, clear })}`);
  await hanna.page.click("#announce-form button[type=submit]");
  await anna.page.waitForSelector("#announcement:not([hidden])", { timeout: DEADLINE });
  assert.equal(await anna.page.textContent("#announcement-text"), "Die Keynote beginnt in 5 Minuten.");
  await hanna.page.waitForFunction(() => !document.querySelector("#announce-clear").disabled, null, { timeout: DEADLINE });
  // Anna puts it away; a chip brings it back; a new announcement shows again by itself.
  await anna.page.click("#announcement-hide");
  assert.equal(await anna.page.isVisible("#announcement"), false);
  await anna.page.click("#announcement-show");
  assert.equal(await anna.page.isVisible("#announcement"), true);
  await anna.page.click("#announcement-hide");
  await hanna.page.fill("#announce-text", "Die Keynote beginnt jetzt.");
  await hanna.page.click("#announce-form button[type=submit]");
  await anna.page.waitForFunction(() => document.querySelector("#announcement-text").textContent === "Die Keynote beginnt jetzt." && !document.querySelector("#announcement").hidden, null, { timeout: DEADLINE });
  // Deleting takes it down for everyone; with nothing posted the button is disabled, and
  // the focus stays in the form.
  await hanna.page.click("#announce-clear");
  await anna.page.waitForSelector("#announcement", { state: "hidden", timeout: DEADLINE });
  await hanna.page.waitForFunction(() => document.querySelector("#announce-clear").disabled, null, { timeout: DEADLINE });
  assert.equal(await hanna.page.evaluate(() => document.activeElement?.id), "announce-text", "the focus after deleting");
  await hanna.page.click("#room-lock-toggle");
  await anna.page.waitForSelector("#room-locked-badge:not([hidden])", { timeout: DEADLINE });
  const page = await anna.browser.newPage();
  await page.goto(`${server.url}/r/lobby`);
  await page.fill("#name", "Latecomer");
  await page.click("#enter");
  await page.waitForSelector("#join-error:not([hidden])", { timeout: DEADLINE });
  assert.match(await page.textContent("#join-error"), /The room is locked/);
  await page.close();
  await hanna.page.click("#room-lock-toggle");
  await anna.page.waitForSelector("#room-locked-badge", { state: "hidden", timeout: DEADLINE });
});

test("nobody passes for a host: the host's name is refused, readably, and another enters", async () => {
  const [hanna] = people;
  const page = await hanna.browser.newPage({ locale: "de-DE" });
  try {
    await page.goto(`${server.url}/r/lobby`);
    await page.fill("#name", "HANNA");
    await page.click("#enter");
    await page.waitForSelector("#join-error:not([hidden])", { timeout: DEADLINE });
    assert.equal(await page.textContent("#join-error"), "Diesen Namen verwendet bereits eine Gastgeberin oder ein Gastgeber dieses Raums. Bitte wählen Sie einen anderen.");
    await page.fill("#name", "Hanna Müller");
    await page.click("#enter");
    await page.waitForFunction(() => window.hallway?.state?.you, null, { timeout: DEADLINE });
  } finally {
    await page.close();
  }
});

test("a removed and banned participant cannot come back with the same link", async () => {
  const [hanna] = people;
  const link = mintLink(server, ["--room", "lobby", "--role", "participant", "--name", "Mallory Meyer"]);
  const mallory = await person(server, "ignored", { link });
  people.push(mallory);
  await hanna.page.click("#tab-people");
  await hanna.page.waitForSelector(`button[data-key="actions:${mallory.id}"]`, { timeout: DEADLINE });
  await hostAction(hanna.page, "ban", mallory.id);
  await mallory.page.waitForSelector("#ended:not([hidden])", { timeout: DEADLINE });
  assert.match(await mallory.page.textContent("#ended-detail"), /link can no longer be used/);
  await hanna.page.waitForFunction((id) => !window.hallway.state.participants.has(id), mallory.id, { timeout: DEADLINE });
  // The same link again, in a fresh page: refused, readably.
  const again = await mallory.browser.newPage();
  await again.goto(link);
  // The link fixes her name: the form shows it, not to be changed.
  assert.equal(await again.inputValue("#name"), "Mallory Meyer");
  assert.equal(await again.isEditable("#name"), false);
  await again.click("#enter");
  await again.waitForSelector("#join-error:not([hidden])", { timeout: DEADLINE });
  assert.equal(await again.textContent("#join-error"), "You have been banned from this room.");
  await again.close();
});

test("a host mutes a participant: their page turns the microphone off and says so", async () => {
  const [hanna, anna] = people;
  assert.equal(await anna.page.getAttribute("#mic-toggle", "aria-pressed"), "true");
  await hostAction(hanna.page, "mute", anna.id);
  await anna.page.waitForSelector('#mic-toggle[aria-pressed="false"]', { timeout: DEADLINE });
  assert.match(await anna.page.textContent("#toast"), /turned your microphone off/);
  await hanna.page.waitForFunction((id) => window.hallway.state.participants.get(id).mic === false, anna.id, { timeout: DEADLINE });
  // She may turn it on again.
  await anna.page.click("#mic-toggle");
  await hanna.page.waitForFunction((id) => window.hallway.state.participants.get(id).mic === true, anna.id, { timeout: DEADLINE });
});

test("a host gathers everyone", async () => {
  const [hanna, anna, ben] = people;
  await clickFloor(hanna.page, 1500, 1000);
  await waitAt(hanna.page, hanna.id, 1500, 1000);
  await hanna.page.click("#tab-host");
  await hanna.page.click("#gather");
  for (const p of [anna, ben]) {
    await p.page.waitForFunction(
      () => {
        const me = window.hallway.state.me();
        return Math.hypot(me.x - 1500, me.y - 1000) < 400 && !window.hallway.state.myCircle();
      },
      null,
      { timeout: DEADLINE },
    );
    assert.match(await p.page.textContent("#announcer"), /A host gathered everyone/);
  }
});

test("a raised hand and a reaction show on the floor; hosts are told of the hand", async () => {
  const [hanna, anna] = people;
  await anna.page.click("#hand-toggle");
  await anna.page.waitForSelector('#hand-toggle[data-on="true"]', { timeout: DEADLINE });
  await hanna.page.waitForFunction(
    (id) => [...document.querySelectorAll(".avatar.hand-raised")].some((el) => el.getAttribute("aria-label").includes("hand raised")) && window.hallway.state.participants.get(id).hand,
    anna.id,
    { timeout: DEADLINE },
  );
  assert.match(await hanna.page.textContent("#announcer"), /Anna Schmidt raised a hand/);
  await anna.page.click("#reactions-button");
  await anna.page.click('#reactions button[data-reaction="applause"]');
  await hanna.page.waitForSelector(".avatar .reaction", { timeout: DEADLINE });
  assert.equal(await anna.page.getAttribute('#reactions button[data-reaction="applause"]', "aria-label"), "Applause");
});

test("a host invites a participant onto the stage; everyone sees them there", async () => {
  const [hanna, anna, ben] = people;
  assert.equal(await anna.page.isVisible("#on-air-toggle"), false);
  await hostAction(hanna.page, "invite", anna.id);
  await anna.page.waitForSelector("#on-air-toggle:not([hidden])", { timeout: DEADLINE });
  await anna.page.click("#on-air-toggle");
  await anna.page.waitForSelector('#on-air-toggle[data-on="true"]', { timeout: DEADLINE });
  // Its name says what it does next, so it is not a toggle that is "pressed" ("Leave the
  // stage, pressed" contradicts itself); the microphone's name stays, and it is one.
  assert.deepEqual(
    await anna.page.evaluate(() => ["#on-air-toggle", "#hand-toggle", "#screen-toggle", "#mic-toggle"].map((s) => [document.querySelector(s).querySelector(".label").textContent, document.querySelector(s).getAttribute("aria-pressed")])),
    [["Leave the stage", null], ["Raise hand", null], ["Share screen", null], ["Microphone", "true"]],
  );
  await ben.page.waitForFunction((id) => window.hallway.state.broadcasters.includes(id), anna.id, { timeout: DEADLINE });
  assert.ok(await ben.page.evaluate(() => [...document.querySelectorAll(".avatar.on-air")].some((el) => el.getAttribute("aria-label").startsWith("Anna Schmidt"))));
  await anna.page.click("#on-air-toggle");
  await ben.page.waitForFunction((id) => !window.hallway.state.broadcasters.includes(id), anna.id, { timeout: DEADLINE });
});

test("a host adds a quiet area; everyone sees it on the floor", async () => {
  const [hanna, anna] = people;
  await hanna.page.click("#tab-host");
  // The numbers say what they are: labelled by where they count from, described by the
  // floor's size.
  const floor = await hanna.page.evaluate(() => ({ width: Math.round(window.hallway.state.room.width), height: Math.round(window.hallway.state.room.height) }));
  const described = `Place and size in points: the floor is ${floor.width} points wide and ${floor.height} points high.`;
  for (const label of ["From the left", "From the top", "Width", "Height"]) {
    const input = hanna.page.getByLabel(label, { exact: true });
    const description = await input.evaluate((el) => (el.getAttribute("aria-describedby") ?? "").split(" ").map((id) => document.getElementById(id)).filter((d) => d && !d.hidden).map((d) => d.textContent).join(" "));
    assert.equal(description, described, label);
  }
  await hanna.page.fill("#area-name", "Bibliothek");
  // One that would reach past the floor's right edge is said so at its width, and not sent.
  const sent = hanna.sent.filter((m) => m.type === "set_areas").length;
  await hanna.page.fill("#area-x", String(floor.width - 300));
  await hanna.page.fill("#area-w", "400");
  await hanna.page.click("#area-form button[type=submit]");
  const said = await hanna.page.evaluate(() => {
    const w = document.querySelector("#area-w");
    const message = document.querySelector("#area-place-error");
    return { text: message.hidden ? null : message.textContent, role: message.getAttribute("role"), invalid: w.getAttribute("aria-invalid"), describes: w.getAttribute("aria-describedby").split(" ").includes(message.id), focused: document.activeElement === w };
  });
  assert.deepEqual(said, { text: "The area reaches past the floor's right edge: make it at most 300 points wide, or move it to the left.", role: "alert", invalid: "true", describes: true, focused: true });
  await hanna.page.waitForTimeout(300);
  assert.equal(hanna.sent.filter((m) => m.type === "set_areas").length, sent, "not sent");
  // Moving it left (not narrowing it) takes the message away.
  await hanna.page.fill("#area-x", "100");
  assert.deepEqual(await hanna.page.evaluate(() => [document.querySelector("#area-place-error").hidden, document.querySelector("#area-w").hasAttribute("aria-invalid")]), [true, false], "changing the place takes the message away");
  await hanna.page.fill("#area-y", "100");
  await hanna.page.check("#area-quiet");
  await hanna.page.click("#area-form button[type=submit]");
  await anna.page.waitForFunction(
    () => [...document.querySelectorAll(".area.quiet .area-label")].some((el) => el.textContent === "Bibliothek"),
    null,
    { timeout: DEADLINE },
  );
  // The demo room's stage stays; the library goes.
  await hanna.page.click('#area-list button[aria-label="Remove area Bibliothek"]');
  await anna.page.waitForFunction(() => ![...document.querySelectorAll(".area-label")].some((el) => el.textContent === "Bibliothek"), null, { timeout: DEADLINE });
  assert.equal(await anna.page.locator(".area").count(), 1);
});
