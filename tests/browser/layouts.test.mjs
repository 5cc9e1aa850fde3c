// Layouts (real Chromium): the control bar fits one row at 1280 px in both languages (icons
// alone name themselves when pointed at), at 200% and 400% browser zoom on a 1280×800
// window the floor keeps at least half of the window's height, in the room and in a circle
// (and the More menu reaches the settings), and a broadcast on the stage fills its strip
// on a desktop, a phone and at 200%, alone and beside one's circle, without covering the
// floor; a first visit's hint on how to walk sits in a corner of the floor, lets clicks
// through and goes for good once one walks or closes it; on a phone and at 200%, a circle's
// tiles are whole: all on one screen, or pages that scroll sideways with page buttons
// beside them; on a phone on its side and in a low window the people panel is a drawer
// that Escape closes; a More menu taller than the window shows that it scrolls.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { startServer, person, formCircle, clickFloor, crowd, boxes, overlapping, mintLink, axe, screenshotDir, DEADLINE } from "./harness.mjs";

let server;
const people = [];

before(async () => {
  server = await startServer();
});

after(async () => {
  for (const p of people) await p.close();
  await server?.stop();
});

// The control bar's own buttons (not the More menu's items) and the word each shows:
// whole inside its button, under its icon or beside it, and how large.
async function barWords(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll(".controlbar :is(.group, .menu-wrap) > button")]
      .filter((b) => b.offsetParent)
      .map((b) => {
        const caption = b.querySelector(".caption");
        const [c, i, box] = [caption, b.querySelector("svg"), b].map((el) => el?.getBoundingClientRect());
        const shown = !!caption && c.width > 0;
        return {
          id: b.id,
          caption: shown ? caption.textContent : null,
          name: b.querySelector(".label")?.textContent ?? "",
          whole: shown && caption.scrollWidth <= caption.clientWidth + 1 && c.left >= box.left - 0.5 && c.right <= box.right + 0.5 && c.bottom <= box.bottom + 0.5,
          below: shown && c.top >= i.bottom - 1,
          beside: shown && c.left >= i.right - 0.5,
          size: caption ? parseFloat(getComputedStyle(caption).fontSize) : 0,
        };
      }),
  );
}

async function controlRows(page) {
  const shown = await boxes(page, ".controlbar button");
  return { rows: new Set(shown.map((b) => Math.round(b.top))).size, shown };
}

for (const [lang, role] of [["en", "participant"], ["de", "participant"], ["en", "host"], ["de", "host"]]) {
  test(`the control bar fits one row at 1280×800 (${lang}, ${role}), nothing overlaps or sticks out`, async () => {
    const name = lang === "de" ? "Dr. Dana Müller-Lüdenscheidt" : "Dana Miller";
    const link = role === "host" ? mintLink(server, ["--room", "lobby", "--role", "host"]) : undefined;
    const p = await person(server, name, { lang, link });
    people.push(p);
    // A host has the stage button too (the longest bar: German, a host).
    if (role === "host") await p.page.waitForSelector("#on-air-toggle:not([hidden])", { timeout: DEADLINE });
    await p.page.waitForTimeout(100);
    const { rows, shown } = await controlRows(p.page);
    assert.equal(rows, 1, `one row: ${JSON.stringify(shown.map((b) => [b.text, Math.round(b.top)]))}`);
    assert.deepEqual(overlapping(shown), []);
    // Inside the window with a margin: a bar too wide, centred, ran past both edges (its
    // first button 3 px from the window's edge) while measuring as fitting.
    const outside = shown.filter((b) => b.left < 7.5 || b.left + b.width > 1280 - 7.5).map((b) => b.text);
    assert.deepEqual(outside, [], "every control inside the window, clear of its edges");
    // Every label shown is fully visible (not cut off); labels hidden on purpose (icons
    // alone, when they do not fit) still name their buttons for screen readers.
    const clipped = await p.page.evaluate(() => [...document.querySelectorAll(".controlbar .label")].filter((l) => l.offsetParent && getComputedStyle(l).clipPath === "none" && l.scrollWidth > l.clientWidth + 1).map((l) => l.textContent));
    assert.deepEqual(clipped, []);
    const unnamed = await p.page.evaluate(() => [...document.querySelectorAll(".controlbar button")].filter((b) => b.offsetParent && !(b.getAttribute("aria-label") || b.textContent.trim())).map((b) => b.id));
    assert.deepEqual(unnamed, []);
    // Icons alone: each has its label as a tooltip; with labels shown, none.
    const titles = await p.page.evaluate(() =>
      [...document.querySelectorAll(".controlbar button")]
        .filter((b) => b.offsetParent && b.querySelector(".label"))
        .map((b) => {
          const label = b.querySelector(".label");
          return { id: b.id, shown: getComputedStyle(label).clipPath === "none", title: b.title, text: label.textContent.trim() };
        }),
    );
    const wrong = titles.filter((b) => (b.shown ? b.title !== "" : b.title !== b.text)).map((b) => b.id);
    assert.deepEqual(wrong, [], "an icon alone has its label as its title, a labelled button none");
    // At 1280 px every button keeps its word, in both languages and for a host too (a
    // German host's settings and "More" were icons alone before).
    assert.deepEqual(titles.filter((b) => !b.shown).map((b) => b.id), [], `every label shown: ${JSON.stringify(titles)}`);
    // …and one at a time, no more than must: the minor ones from the last (more, settings,
    // reactions, hand, screen), and showing the last label hidden would not fit. (A German
    // host's bar hid all five where only two had to go.)
    const squeezing = await p.page.evaluate(() => {
      const bar = document.querySelector(".controlbar");
      const minor = [...bar.querySelectorAll("[data-minor]")].filter((b) => b.offsetParent);
      const hidden = minor.map((b) => getComputedStyle(b.querySelector(".label")).clipPath !== "none");
      const last = hidden.indexOf(true);
      let fitsWithIt = null;
      if (last >= 0 && !bar.classList.contains("compact")) {
        minor[last].classList.remove("squeezed");
        fitsWithIt = bar.scrollWidth <= bar.clientWidth + 1;
        minor[last].classList.add("squeezed");
      }
      return { ids: minor.map((b) => b.id), hidden, fitsWithIt };
    });
    const firstHidden = squeezing.hidden.indexOf(true);
    assert.ok(firstHidden < 0 || squeezing.hidden.slice(firstHidden).every(Boolean), `labels go from the last minor button: ${JSON.stringify(squeezing)}`);
    assert.notEqual(squeezing.fitsWithIt, true, `a label hidden that would fit: ${JSON.stringify(squeezing)}`);
    assert.ok(!squeezing.hidden[0], `sharing one's screen keeps its label at 1280 px: ${JSON.stringify(squeezing)}`);
    await p.page.screenshot({ path: path.join(screenshotDir(), `controlbar-${lang}-${role}.png`), clip: { x: 0, y: 740, width: 1280, height: 60 } });
    await p.close();
    people.splice(people.indexOf(p), 1);
  });
}

for (const lang of ["de", "en"]) {
  test(`on a phone held upright every control has a word under its icon (${lang}, a host: seven buttons), whole, in one row`, async () => {
    const p = await person(server, lang === "de" ? "Hanna Telefon" : "Hanna Phone", { lang, link: mintLink(server, ["--room", "lobby", "--role", "host"]), viewport: { width: 390, height: 844 }, touch: true });
    people.push(p);
    await p.page.waitForSelector("#on-air-toggle:not([hidden])", { timeout: DEADLINE });
    if (await p.page.isVisible("#panel-close")) await p.page.click("#panel-close");
    await p.page.waitForTimeout(200);
    const { rows, shown } = await controlRows(p.page);
    assert.equal(rows, 1, `one row: ${JSON.stringify(shown.map((b) => [b.text, Math.round(b.top)]))}`);
    assert.equal(shown.length, 7, `seven buttons: ${JSON.stringify(shown.map((b) => b.text))}`);
    assert.deepEqual(overlapping(shown), []);
    assert.deepEqual(shown.filter((b) => b.left < -0.5 || b.left + b.width > 390.5).map((b) => b.text), [], "inside the window");
    const words = await barWords(p.page);
    const want = lang === "de" ? ["Mikrofon", "Kamera", "Hand", "Reagieren", "Bühne", "Mehr", "Verlassen"] : ["Microphone", "Camera", "Hand", "React", "Stage", "More", "Leave"];
    assert.deepEqual(words.map((w) => w.caption), want);
    for (const w of words) {
      assert.ok(w.whole && w.below, `${w.id}: "${w.caption}" whole, under its icon (${JSON.stringify(w)})`);
      // As big as a German host's seven fit at 390 px (they were 10.4 px; 12 px does not fit).
      assert.ok(w.size >= 11, `${w.id}: "${w.caption}" at ${w.size} px`);
      // What one sees is a word of the name (WCAG 2.5.3: speech input says what it sees).
      const nameWords = w.name.toLowerCase().split(/\s+/);
      assert.ok(nameWords.includes(w.caption.toLowerCase()), `${w.id}: "${w.caption}" is a word of its name "${w.name}"`);
    }
    const found = await axe(p.page, ".controlbar");
    assert.deepEqual([found.violations, found.contrastReview], [[], []]);
    await p.page.screenshot({ path: path.join(screenshotDir(), `controlbar-phone-${lang}-host.png`), clip: { x: 0, y: 844 - 70, width: 390, height: 70 } });
    // The More menu's items stay rows (icon beside its words), not the bar's columns.
    await p.page.click("#more-button");
    await p.page.waitForSelector("#more-menu:not([hidden])", { timeout: DEADLINE });
    const items = await p.page.$$eval("#more-menu button", (list) => list.filter((b) => b.offsetParent).map((b) => ({ text: b.textContent.trim(), direction: getComputedStyle(b).flexDirection, height: b.getBoundingClientRect().height })));
    assert.ok(items.length >= 3 && items.every((i) => i.direction === "row" && i.height < 56), `menu items as rows: ${JSON.stringify(items)}`);
    await p.page.screenshot({ path: path.join(screenshotDir(), `more-menu-phone-${lang}-host.png`) });
    // Escape closes it, with the focus still on its button (opened by a tap, as here).
    assert.equal(await p.page.evaluate(() => document.activeElement?.id), "more-button");
    await p.page.keyboard.press("Escape");
    await p.page.waitForSelector("#more-menu", { state: "hidden", timeout: DEADLINE });
    assert.equal(await p.page.evaluate(() => document.activeElement?.id), "more-button");
    // A narrower phone: still one row inside the window; words that stay are whole, and
    // the main ones (microphone, camera, leaving) keep theirs.
    await p.page.setViewportSize({ width: 360, height: 780 });
    await p.page.waitForTimeout(200);
    const narrow = await controlRows(p.page);
    assert.equal(narrow.rows, 1, "one row at 360 px");
    assert.deepEqual(overlapping(narrow.shown), []);
    assert.deepEqual(narrow.shown.filter((b) => b.left < -0.5 || b.left + b.width > 360.5).map((b) => b.text), [], "inside a 360 px window");
    const kept = await p.page.evaluate(() => [...document.querySelectorAll(".controlbar .caption")].filter((c) => c.offsetParent).map((c) => ({ id: c.closest("button").id, whole: c.scrollWidth <= c.clientWidth + 1 && c.getBoundingClientRect().right <= c.closest("button").getBoundingClientRect().right + 0.5 })));
    assert.ok(kept.every((c) => c.whole), `whole: ${JSON.stringify(kept)}`);
    for (const id of ["mic-toggle", "camera-toggle", "leave"]) assert.ok(kept.some((c) => c.id === id), `${id} keeps its word at 360 px: ${JSON.stringify(kept)}`);
    await p.page.screenshot({ path: path.join(screenshotDir(), `controlbar-phone-360-${lang}-host.png`), clip: { x: 0, y: 780 - 70, width: 360, height: 70 } });
    // At 200% zoom (a low window) words under the icons would cost the floor its height:
    // the word beside each icon, the bar as low as with icons alone (which left the hand
    // and the applause looking alike), one row inside the window, each word whole.
    await p.page.setViewportSize({ width: 640, height: 400 });
    await p.page.waitForTimeout(300);
    const low = await controlRows(p.page);
    assert.equal(low.rows, 1, "one row at 640×400");
    assert.deepEqual(overlapping(low.shown), []);
    assert.deepEqual(low.shown.filter((b) => b.left < -0.5 || b.left + b.width > 640.5).map((b) => b.text), [], "inside a 640 px window");
    const beside = await barWords(p.page);
    assert.deepEqual(beside.map((w) => w.caption), want, `every word shown at 640×400: ${JSON.stringify(beside)}`);
    for (const w of beside) assert.ok(w.whole && w.beside && w.size >= 12, `${w.id}: "${w.caption}" whole, beside its icon, ${w.size} px`);
    const [bar] = await boxes(p.page, ".controlbar");
    assert.ok(bar.height <= 2.75 * 16 + 4, `the bar ${bar.height} px high`);
    const lowAxe = await axe(p.page, ".controlbar");
    assert.deepEqual([lowAxe.violations, lowAxe.contrastReview], [[], []]);
    await p.page.screenshot({ path: path.join(screenshotDir(), `controlbar-zoom-200-${lang}-host.png`), clip: { x: 0, y: 400 - 60, width: 640, height: 60 } });
    await p.close();
    people.splice(people.indexOf(p), 1);
  });
}

for (const [zoom, viewport] of [[200, { width: 640, height: 400 }], [400, { width: 320, height: 200 }]]) {
  test(`at ${zoom}% zoom the floor keeps at least half the height, in the room and in a circle (all of it in view where it fits)`, async () => {
    const a = await person(server, `Zoom ${zoom} Anna`, { viewport, scale: zoom / 100 });
    const b = await person(server, `Zoom ${zoom} Ben`);
    people.push(a, b);
    const floorShare = () => a.page.evaluate(() => document.querySelector("#floor").getBoundingClientRect().height / innerHeight);
    assert.ok((await floorShare()) >= 0.5, `room: floor ${(await floorShare()).toFixed(2)} of the height`);
    const { rows } = await controlRows(a.page);
    assert.equal(rows, 1, "the controls stay in one row");
    // Icons alone here (the narrow layout hides the labels): each has its label as tooltip.
    const untitled = await a.page.evaluate(() =>
      [...document.querySelectorAll(".controlbar button")]
        .filter((b) => b.offsetParent && b.querySelector(".label") && getComputedStyle(b.querySelector(".label")).clipPath !== "none" && b.title !== b.querySelector(".label").textContent.trim())
        .map((b) => b.id),
    );
    assert.deepEqual(untitled, [], "icons alone have their labels as tooltips");
    // Someone is visible: one's own avatar is inside the floor's view.
    const visible = await a.page.evaluate(() => {
      const floor = document.querySelector("#floor").getBoundingClientRect();
      const me = document.querySelector(".avatar.me .face").getBoundingClientRect();
      return me.left >= floor.left && me.right <= floor.right && me.top >= floor.top && me.bottom <= floor.bottom;
    });
    assert.ok(visible, "one's own avatar is in view");
    await formCircle(a, b, 900 + zoom, 700);
    await a.page.waitForSelector("#conversation:not([hidden])", { timeout: DEADLINE });
    // One's whole circle is in view where the floor can hold it (at 200% its lower half
    // was out of sight, only one's own avatar was kept in view).
    const ring = () =>
      a.page.evaluate(() => {
        const f = document.querySelector("#floor").getBoundingClientRect();
        const c = document.querySelector(".circle.mine")?.getBoundingClientRect();
        return c && { fits: c.width <= f.width && c.height <= f.height, inside: c.top >= f.top - 1 && c.bottom <= f.bottom + 1 && c.left >= f.left - 1 && c.right <= f.right + 1, circle: [c.left, c.top, c.width, c.height].map(Math.round), floor: [f.left, f.top, f.width, f.height].map(Math.round) };
      });
    await a.page.waitForFunction(() => document.querySelector(".circle.mine"), null, { timeout: DEADLINE });
    await a.page.waitForTimeout(500);
    const seen = await ring();
    if (zoom === 200) assert.ok(seen.fits, `the floor can hold the circle at 200%: ${JSON.stringify(seen)}`);
    if (seen.fits) assert.ok(seen.inside, `the whole circle in view: ${JSON.stringify(seen)}`);
    assert.ok((await floorShare()) >= 0.5, `circle: floor ${(await floorShare()).toFixed(2)} of the height`);
    const page = await a.page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(page <= viewport.width, "no sideways scrolling");
    // The conversation's head (real-time text, lock, leave) does not fit here: the More
    // menu offers all three, by keyboard. At 200% leaving the circle is also on the floor,
    // in words (an icon alone read as leaving the event), clear of the zoom buttons and
    // one's circle.
    assert.equal(await a.page.isVisible("#leave-circle"), false);
    if (zoom === 200) {
      const [leave] = await boxes(a.page, "#floor-leave-circle");
      const [f] = await boxes(a.page, "#floor");
      assert.ok(leave && leave.left >= f.left && leave.left + leave.width <= f.left + f.width && leave.top >= f.top && leave.top + leave.height <= f.top + f.height + 0.5, `on the floor: ${JSON.stringify({ leave, f })}`);
      assert.equal(await a.page.textContent("#floor-leave-circle"), "Leave circle");
      assert.deepEqual(overlapping([leave, ...(await boxes(a.page, ".floor-zoom button, .avatar.me .face"))]), [], "clear of the zoom buttons and one's avatar");
      const tags = await boxes(a.page, ".avatar .tag:not(.hidden-tag)");
      assert.deepEqual(overlapping([leave, ...tags]).filter(([x]) => x === leave.text), [], "no name tag under it");
      const onFloor = await axe(a.page, "#floor-leave-circle");
      assert.deepEqual([onFloor.violations, onFloor.contrastReview], [[], []], "axe: the floor's button");
    } else assert.equal(await a.page.isVisible("#floor-leave-circle"), false, "at 400% the floor is too low for it");
    const fromMenu = async (item) => {
      await a.page.focus("#more-button");
      await a.page.keyboard.press("Enter");
      await a.page.waitForSelector(item, { state: "visible", timeout: DEADLINE });
      await a.page.focus(item);
      await a.page.keyboard.press("Enter");
    };
    // The settings (camera, microphone, speaker): from the menu, and back to it.
    await fromMenu("#menu-settings");
    await a.page.waitForSelector("#settings[open]", { timeout: DEADLINE });
    await a.page.keyboard.press("Escape");
    await a.page.waitForSelector("#settings:not([open])", { state: "attached", timeout: DEADLINE });
    // (The dialog's close event comes a moment after it closed.)
    await a.page
      .waitForFunction(() => document.activeElement?.id === "more-button", null, { timeout: DEADLINE })
      .catch(async () => assert.equal(await a.page.evaluate(() => document.activeElement?.id), "more-button", "focus back on More"));
    await fromMenu("#menu-lock-circle");
    await a.page.waitForFunction(() => window.hallway.state.myCircle()?.locked === true, null, { timeout: DEADLINE });
    await fromMenu("#menu-rtt");
    await a.page.waitForSelector("#rtt", { state: "visible", timeout: DEADLINE });
    assert.equal(await a.page.textContent("#menu-rtt span"), "Close real-time text");
    assert.equal(await a.page.textContent("#menu-lock-circle span"), "Unlock circle");
    await fromMenu("#menu-rtt");
    await a.page.waitForSelector("#rtt", { state: "hidden", timeout: DEADLINE });
    await fromMenu("#menu-lock-circle");
    await a.page.waitForFunction(() => window.hallway.state.myCircle()?.locked === false, null, { timeout: DEADLINE });
    await a.page.focus("#more-button");
    await a.page.keyboard.press("Enter");
    await a.page.waitForSelector("#menu-leave-circle", { state: "visible", timeout: DEADLINE });
    // The menu fits the window (scrolling when it is taller), and so does the item.
    const [menu] = await boxes(a.page, "#more-menu");
    assert.ok(menu.top >= 0 && menu.top + menu.height <= viewport.height, `the menu in the window: ${JSON.stringify(menu)}`);
    await a.page.focus("#menu-leave-circle");
    const [item] = await boxes(a.page, "#menu-leave-circle");
    assert.ok(item.top >= 0 && item.top + item.height <= viewport.height && item.left >= 0 && item.left + item.width <= viewport.width, `in the window: ${JSON.stringify(item)}`);
    await a.page.screenshot({ path: path.join(screenshotDir(), `more-menu-zoom-${zoom}-en.png`) });
    const report = await axe(a.page, "#more-menu");
    assert.deepEqual(report.violations, []);
    assert.deepEqual(report.contrastReview, []);
    // Taller than the window, the menu scrolls, and says so: a shadow along each edge beyond
    // which there are more items (at 400% only three of them were seen, with nothing to say
    // that more followed).
    const edges = () =>
      a.page.evaluate(() => {
        const m = document.querySelector("#more-menu");
        return { scrolls: m.scrollHeight > m.clientHeight + 1, above: m.classList.contains("more-above"), below: m.classList.contains("more-below") };
      });
    await a.page.keyboard.press("End");
    await a.page.waitForFunction(() => !document.querySelector("#more-menu").classList.contains("more-below"), null, { timeout: DEADLINE }).catch(() => {});
    assert.deepEqual(await edges(), { scrolls: true, above: true, below: false }, "at the end of the menu");
    await a.page.keyboard.press("Home");
    await a.page.waitForFunction(() => !document.querySelector("#more-menu").classList.contains("more-above"), null, { timeout: DEADLINE }).catch(() => {});
    assert.deepEqual(await edges(), { scrolls: true, above: false, below: true }, "at the start of the menu");
    // The mouse moving onto an item takes the focus there: one item highlighted, not the
    // focused one and the one under the mouse.
    await a.page.focus("#menu-leave-circle");
    // (From elsewhere: the mouse may rest there already, from a click on the floor.)
    await a.page.mouse.move(0, 0);
    await a.page.hover("#menu-lock-circle");
    assert.equal(await a.page.evaluate(() => document.activeElement?.id), "menu-lock-circle", "focus follows the mouse in the menu");
    await a.page.focus("#menu-leave-circle");
    const highlighted = await a.page.evaluate(() => [...document.querySelectorAll("#more-menu button")].filter((b) => getComputedStyle(b).backgroundColor !== "rgba(0, 0, 0, 0)").map((b) => b.id));
    assert.deepEqual(highlighted, [], "no item but the focused one (its focus ring) is highlighted while the mouse rests on another");
    await a.page.keyboard.press("Enter");
    await a.page.waitForFunction(() => !window.hallway.state.myCircle(), null, { timeout: DEADLINE });
    await a.page.waitForSelector("#conversation", { state: "hidden", timeout: DEADLINE });
    await a.page
      .waitForFunction(() => document.activeElement?.id === "floor", null, { timeout: DEADLINE })
      .catch(async () => assert.equal(await a.page.evaluate(() => document.activeElement?.id), "floor", "focus on the floor, not lost with the menu"));
    if (zoom === 200) {
      // Back into the circle, and out by the floor's button, by keyboard: the focus goes
      // to the floor (the button goes with the circle).
      await clickFloor(a.page, 900 + zoom, 700);
      await a.page.waitForFunction(() => !!window.hallway.state.myCircle(), null, { timeout: DEADLINE });
      await a.page.waitForSelector("#floor-leave-circle", { state: "visible", timeout: DEADLINE });
      await a.page.focus("#floor-leave-circle");
      await a.page.keyboard.press("Enter");
      await a.page.waitForFunction(() => !window.hallway.state.myCircle(), null, { timeout: DEADLINE });
      await a.page.waitForFunction(() => document.activeElement?.id === "floor", null, { timeout: DEADLINE });
    }
  });
}

test("a broadcast fills the stage on a desktop, a phone and at 200%, alone and beside one's circle, and never covers the floor", { timeout: 10 * 60 * 1000 }, async () => {
  const host = await person(server, "Hanna Schmidt", { link: mintLink(server, ["--room", "lobby", "--role", "host"]) });
  people.push(host);
  await host.page.waitForSelector("#on-air-toggle:not([hidden])", { timeout: DEADLINE });
  await host.page.click("#on-air-toggle");
  // The least width of the broadcast's tile, alone and beside one's circle (whose own
  // tiles are at least 240 px wide on a desktop: the same here).
  const cases = [
    ["desktop-de", { lang: "de" }, [360, 240]],
    ["phone-en", { viewport: { width: 390, height: 844 } }, [300, 200]],
    ["zoom-200-de", { lang: "de", viewport: { width: 640, height: 400 }, scale: 2 }, [130, 110]],
  ];
  for (const [i, [label, opts, [alone, beside]]] of cases.entries()) {
    const listener = await person(server, `Stage ${label}`, opts);
    const partner = await person(server, `Partner ${label}`);
    people.push(listener, partner);
    await listener.page.waitForSelector("#on-air-tiles .tile.has-video", { timeout: 2 * DEADLINE });
    const measure = async (where, least) => {
      await listener.page.waitForTimeout(300);
      const [view] = await boxes(listener.page, "#on-air-view");
      const [tile] = await boxes(listener.page, "#on-air-tiles .tile");
      const [floor] = await boxes(listener.page, "#floor");
      if (process.env.STAGE_SIZES) console.log(label, where, Math.round(tile.width), Math.round(view.height), Math.round(floor.height));
      assert.ok(tile.width >= least, `${label}, ${where}: the broadcast is ${tile.width.toFixed(0)} px wide (at least ${least})`);
      const inside = tile.left >= view.left - 0.5 && tile.left + tile.width <= view.left + view.width + 0.5 && tile.top >= view.top - 0.5 && tile.top + tile.height <= view.top + view.height + 0.5;
      assert.ok(inside, `${label}, ${where}: the tile inside the stage ${JSON.stringify({ tile, view })}`);
      assert.ok(floor.top >= view.top + view.height - 0.5, `${label}, ${where}: the floor below the stage`);
      return { view, floor };
    };
    await measure("alone", alone);
    // The questions button says what it is, in words (at 200% its "?" alone read as help),
    // whole, inside the stage, beside the broadcast.
    await listener.page.waitForSelector("#on-air-rtt-toggle:not([hidden])", { timeout: DEADLINE });
    const ask = await listener.page.evaluate(() => {
      const b = document.querySelector("#on-air-rtt-toggle");
      const l = b.querySelector(".label");
      const [r, bb, v] = [l, b, document.querySelector("#on-air-view")].map((el) => el.getBoundingClientRect());
      return {
        shown: getComputedStyle(l).clipPath === "none" && r.width > 1,
        whole: l.scrollWidth <= l.clientWidth + 1 && r.left >= bb.left - 0.5 && r.right <= bb.right + 0.5 && r.top >= bb.top - 0.5 && r.bottom <= bb.bottom + 0.5,
        inside: bb.left >= v.left - 0.5 && bb.right <= v.right + 0.5 && bb.top >= v.top - 0.5 && bb.bottom <= v.bottom + 0.5,
      };
    });
    assert.deepEqual(ask, { shown: true, whole: true, inside: true }, `${label}: the questions button in words`);
    assert.deepEqual(overlapping(await boxes(listener.page, "#on-air-rtt-toggle, #on-air-tiles .tile")), [], `${label}: the questions button beside the broadcast`);
    await listener.page.screenshot({ path: path.join(screenshotDir(), `stage-${label}.png`) });
    await formCircle(listener, partner, 700 + 300 * i, 1400);
    await listener.page.waitForSelector("#conversation:not([hidden])", { timeout: DEADLINE });
    const { view } = await measure("in a circle", beside);
    const [conversation] = await boxes(listener.page, "#conversation");
    assert.ok(conversation.top >= view.top + view.height - 0.5, `${label}: the circle below the stage`);
    await listener.page.screenshot({ path: path.join(screenshotDir(), `stage-circle-${label}.png`) });
    // The stage and the circle beside it, for screen readers and in contrast. (The floor
    // is checked in room.test.mjs. Here, at 200 % on a 2× screen, axe cannot tell the
    // contrast of the initials of other circles' avatars over the floor plan, "bgImage",
    // though they lie wholly inside their opaque faces: not understood yet.)
    for (const part of ["#on-air-view", "#conversation"]) {
      const report = await axe(listener.page, part);
      assert.deepEqual(report.violations, [], `${label} ${part}`);
      assert.deepEqual(report.contrastReview, [], `${label} ${part}`);
    }
    for (const p of [listener, partner]) {
      await p.close();
      people.splice(people.indexOf(p), 1);
    }
  }
});

// A phone on its side and a low window (it was a column beside the room there, and took
// the conversation a third of the width): the people panel is a drawer over the room, the
// conversation keeps the full width, and Escape closes the drawer, not the conversation.
test("on a phone on its side and in a low window the people panel is a drawer over the room; Escape closes it and one stays in one's circle", async () => {
  // The browsers of the tests before (in circles, sending video) go: on this two-core
  // machine they left pages that did not load within the deadline. Nothing after needs them.
  for (const p of people.splice(0)) await p.close();
  for (const [i, [label, viewport]] of [
    ["phone-landscape", { width: 844, height: 390 }],
    ["low-window", { width: 760, height: 340 }],
  ].entries()) {
    // (Closed once looked at, for the same reason.)
    const a = await person(server, `Drawer ${label}`, { viewport, lang: i === 0 ? "de" : "en" });
    const b = await person(server, `Partner ${label}`);
    try {
      await formCircle(a, b, 1800 + 300 * i, 1300);
      if (await a.page.isVisible("#icebreaker-close")) await a.page.click("#icebreaker-close");
      // It starts closed, as on a phone.
      assert.equal(await a.page.isVisible("#panel"), false, `${label}: the panel starts closed`);
      // The floor keeps at least half of what lies between the bars (wider than a phone,
      // the conversation's desktop share had won over the low screen's: 58%).
      await a.page.waitForTimeout(300);
      const [floorBox] = await boxes(a.page, ".floor-box");
      const [conv] = await boxes(a.page, "#conversation");
      assert.ok(floorBox.height >= conv.height, `${label}: the floor ${floorBox.height}px, the conversation ${conv.height}px`);
      const [closed] = await boxes(a.page, "#conversation");
      await a.page.click("#panel-toggle");
      await a.page.waitForSelector("#panel", { state: "visible", timeout: DEADLINE });
      await a.page.waitForTimeout(300);
      // (Not `boxes`: a fixed element has no offsetParent.)
      const panel = await a.page.evaluate(() => {
        const r = document.querySelector("#panel").getBoundingClientRect();
        return { left: r.left, top: r.top, width: r.width, height: r.height };
      });
      const [open] = await boxes(a.page, "#conversation");
      const position = await a.page.evaluate(() => getComputedStyle(document.querySelector("#panel")).position);
      assert.equal(position, "fixed", `${label}: the panel lies over the room`);
      assert.ok(panel.left + panel.width <= viewport.width + 0.5 && panel.width <= 24 * 16 + 0.5, `${label}: a drawer at the right edge ${JSON.stringify(panel)}`);
      assert.ok(Math.abs(open.width - closed.width) < 1, `${label}: the conversation keeps its width under the drawer (${closed.width} → ${open.width})`);
      assert.equal(await a.page.evaluate(() => document.activeElement?.id), "panel-close", `${label}: the focus in the drawer`);
      await a.page.screenshot({ path: path.join(screenshotDir(), `panel-drawer-${label}.png`) });
      const report = await axe(a.page, "#panel");
      assert.deepEqual(report.violations, [], `${label}: axe`);
      assert.deepEqual(report.contrastReview, [], `${label}: contrast to review`);
      // Its button shows it open; the room beside it is dimmed, and a click there closes
      // the drawer (focus back on its button) without walking.
      const look = () => a.page.evaluate(() => getComputedStyle(document.querySelector("#panel-toggle")).backgroundColor);
      const openLook = await look();
      const scrim = await a.page.evaluate(() => {
        const r = document.querySelector("#drawer-scrim").getBoundingClientRect();
        return { left: r.left, top: r.top, width: r.width, height: r.height, background: getComputedStyle(document.querySelector("#drawer-scrim")).backgroundColor };
      });
      assert.ok(scrim.left <= 0 && scrim.top <= 0 && scrim.width >= viewport.width && scrim.height >= viewport.height, `${label}: the room under the drawer is dimmed ${JSON.stringify(scrim)}`);
      const where = await a.page.evaluate(() => window.hallway.state.participants.get(window.hallway.state.you)).then(({ x, y }) => ({ x, y }));
      await a.page.mouse.click(Math.max(10, panel.left / 2), viewport.height / 2);
      await a.page.waitForSelector("#panel", { state: "hidden", timeout: DEADLINE });
      assert.equal(await a.page.evaluate(() => document.activeElement?.id), "panel-toggle", `${label}: the focus back on the panel's button after a click beside the drawer`);
      assert.notEqual(await look(), openLook, `${label}: the panel's button looks open only while the panel is`);
      await a.page.waitForTimeout(300);
      const still = await a.page.evaluate(() => window.hallway.state.participants.get(window.hallway.state.you)).then(({ x, y }) => ({ x, y }));
      assert.deepEqual(still, where, `${label}: a click beside the drawer does not walk`);
      await a.page.click("#panel-toggle");
      await a.page.waitForSelector("#panel", { state: "visible", timeout: DEADLINE });
      // Escape, also from the search box: the drawer closes, the focus goes back to its
      // button, and one is still in one's circle.
      await a.page.focus("#people-search");
      await a.page.keyboard.press("Escape");
      await a.page.waitForSelector("#panel", { state: "hidden", timeout: DEADLINE });
      assert.equal(await a.page.evaluate(() => document.activeElement?.id), "panel-toggle", `${label}: the focus back on the panel's button`);
      assert.ok(await a.page.evaluate(() => !!window.hallway.state.myCircle()), `${label}: still in the circle`);
      // Escape once more leaves the circle, as always.
      await a.page.keyboard.press("Escape");
      await a.page.waitForFunction(() => !window.hallway.state.myCircle(), null, { timeout: DEADLINE });
    } finally {
      await a.close();
      await b.close();
    }
  }
});

test("a first visit's hint on walking: in a corner of the floor on a desktop, a phone (saying to tap) and at 200%, clicks go through it, it goes for good once one walks or closes it", async () => {
  const cases = [
    ["desktop-en", {}],
    ["desktop-de", { lang: "de" }],
    ["phone-de", { lang: "de", viewport: { width: 390, height: 844 }, touch: true }],
    ["zoom-200-de", { lang: "de", viewport: { width: 640, height: 400 }, scale: 2 }],
  ];
  for (const [label, opts] of cases) {
    const p = await person(server, `Hint ${label}`, opts);
    people.push(p);
    await p.page.waitForSelector("#floor-hint:not([hidden])", { timeout: DEADLINE });
    const [hint] = await boxes(p.page, "#floor-hint");
    const [floor] = await boxes(p.page, "#floor");
    const zoom = await boxes(p.page, ".floor-zoom button");
    const me = await boxes(p.page, ".avatar.me .face");
    const inside = hint.left >= floor.left && hint.left + hint.width <= floor.left + floor.width + 0.5 && hint.top >= floor.top && hint.top + hint.height <= floor.top + floor.height + 0.5;
    assert.ok(inside, `${label}: the hint inside the floor ${JSON.stringify({ hint, floor })}`);
    assert.deepEqual(overlapping([hint, ...zoom]), [], `${label}: clear of the zoom buttons`);
    assert.deepEqual(overlapping([hint, ...me]), [], `${label}: clear of one's own avatar`);
    // On a desktop it covers little of the floor (in German it was a narrow column of
    // eight lines).
    if (label.startsWith("desktop")) assert.ok(hint.width * hint.height <= 0.15 * floor.width * floor.height, `${label}: ${Math.round(hint.width)}×${Math.round(hint.height)} of the floor's ${Math.round(floor.width)}×${Math.round(floor.height)}`);
    const text = await p.page.textContent("#floor-hint p");
    // A phone has no arrow keys and nothing to click with: the hint says to tap.
    if (opts.touch) assert.equal(text, "Tippen Sie auf eine Stelle der Raumfläche, um dorthin zu gehen. Gehen Sie zu jemandem, um ein Gespräch zu beginnen. Ihr Kamerabild und Ihr Mikrofon erreichen nur die Personen in Ihrem Kreis.");
    else assert.match(text, opts.lang === "de" ? /Klicken oder tippen Sie .* Pfeiltasten/ : /Click or tap the floor .* arrow keys/);
    await p.page.screenshot({ path: path.join(screenshotDir(), `floor-hint-${label}.png`) });
    const report = await axe(p.page, "#floor-hint");
    assert.deepEqual(report.violations, []);
    assert.deepEqual(report.contrastReview, []);
    if (label === "desktop-de") {
      // People under it as one arrives (it stood over them just as one looked for someone
      // to walk up to): it goes to another corner, covering none of them, still clear of
      // the zoom buttons and oneself.
      const hintBox = (await boxes(p.page, "#floor-hint"))[0];
      const under = await p.page.evaluate(({ x, y }) => window.hallway.floor.toFloor(x, y), { x: hintBox.left + hintBox.width / 2, y: hintBox.top + hintBox.height / 2 });
      const group = await crowd(server, [
        { name: "Unter dem Hinweis A", x: under.x - 40, y: under.y },
        { name: "Unter dem Hinweis B", x: under.x + 40, y: under.y },
      ]);
      try {
        // Both standing where they went (they walk there from where they came in: standing
        // still for a second), then the hint off them (it looks twice a second).
        const where = () => p.page.evaluate(() => JSON.stringify([...window.hallway.state.participants.values()].filter((q) => q.name.startsWith("Unter dem Hinweis")).map((q) => [q.x, q.y])));
        let [last, now] = ["", await where()];
        for (let tries = 0; tries < 20 && !(now === last && JSON.parse(now).length === 2); tries++) {
          await p.page.waitForTimeout(1000);
          [last, now] = [now, await where()];
        }
        assert.equal(now, last, "the two under the hint stand still");
        await p.page.waitForFunction(
          () => {
            const h = document.querySelector("#floor-hint").getBoundingClientRect();
            const faces = [...window.hallway.floor.avatars].filter(([id]) => window.hallway.state.participants.get(id)?.name.startsWith("Unter dem Hinweis")).map(([, el]) => el.querySelector(".face").getBoundingClientRect());
            return faces.length === 2 && faces.every((f) => f.right <= h.left || f.left >= h.right || f.bottom <= h.top || f.top >= h.bottom);
          },
          null,
          { timeout: DEADLINE },
        );
        await p.page.waitForTimeout(600);
        const [moved] = await boxes(p.page, "#floor-hint");
        const faces = await p.page.evaluate(() =>
          [...window.hallway.floor.avatars]
            .filter(([id]) => window.hallway.state.participants.get(id)?.name.startsWith("Unter dem Hinweis"))
            .map(([, el]) => ({ text: el.querySelector(".tag").textContent, ...el.querySelector(".face").getBoundingClientRect().toJSON() })),
        );
        assert.equal(faces.length, 2);
        assert.deepEqual(overlapping([moved, ...faces]).filter(([a]) => a === moved.text), [], `moved off them: ${JSON.stringify({ moved, faces })}`);
        assert.deepEqual(overlapping([moved, ...zoom, ...(await boxes(p.page, ".avatar.me .face"))]).filter(([a]) => a === moved.text), [], "clear of the zoom buttons and oneself");
        const [f] = await boxes(p.page, "#floor");
        assert.ok(moved.left >= f.left && moved.left + moved.width <= f.left + f.width + 0.5 && moved.top >= f.top && moved.top + moved.height <= f.top + f.height + 0.5, `inside the floor ${JSON.stringify({ moved, f })}`);
        await p.page.screenshot({ path: path.join(screenshotDir(), "floor-hint-desktop-de-moved.png") });
      } finally {
        await group.close();
      }
    }
    if (label === "desktop-en") {
      // A click on the floor beneath the hint walks there, and the hint goes.
      const before = await p.page.evaluate(() => ({ ...window.hallway.state.me() }));
      await p.page.mouse.click(hint.left + hint.width / 3, hint.top + hint.height / 2);
      await p.page.waitForSelector("#floor-hint", { state: "hidden", timeout: DEADLINE });
      await p.page.waitForFunction((b) => Math.hypot(window.hallway.state.me().x - b.x, window.hallway.state.me().y - b.y) > 20, before, { timeout: DEADLINE });
      // Seen in this browser: not shown again.
      await p.page.reload();
      await p.page.waitForFunction(() => window.hallway?.state?.me(), null, { timeout: DEADLINE });
      await p.page.waitForTimeout(300);
      assert.equal(await p.page.isVisible("#floor-hint"), false, "not shown again");
    } else {
      // A walk the page makes itself (back to where one stood, after a blip or a reload)
      // leaves the hint: only one's own walking says one has found out how.
      const before = await p.page.evaluate(() => ({ ...window.hallway.state.me() }));
      await p.page.evaluate(({ x, y }) => window.hallway.walker.walkTo(x + 60, y), before);
      await p.page.waitForFunction((b) => Math.abs(window.hallway.state.me().x - (b.x + 60)) < 3, before, { timeout: DEADLINE });
      assert.equal(await p.page.isVisible("#floor-hint"), true, `${label}: still there after a walk the page made`);
      // Closed by keyboard: it goes, and focus is on the floor.
      await p.page.focus("#floor-hint-close");
      await p.page.keyboard.press("Enter");
      await p.page.waitForSelector("#floor-hint", { state: "hidden", timeout: DEADLINE });
      assert.equal(await p.page.evaluate(() => document.activeElement?.id || document.activeElement?.outerHTML.slice(0, 120)), "floor");
    }
    await p.close();
    people.splice(people.indexOf(p), 1);
  }
});


test("a circle on a phone and at 200%: whole tiles, all on one screen or in pages that scroll sideways, with page buttons beside them", { timeout: 10 * 60 * 1000 }, async () => {
  const names = ["Amelia Hart", "Bilal Rahman", "Chen Wei", "Dorothea von Brandenburg-Ansbach", "Eero Virtanen", "Fiona O'Neill", "Giulia Bianchi"];
  const cases = [
    // [label, others in the circle, page options, all on one screen?]
    ["phone-en-2", 2, { viewport: { width: 390, height: 844 }, touch: true }, true],
    ["phone-de-3", 3, { lang: "de", viewport: { width: 390, height: 844 }, touch: true }, true],
    ["phone-de-4", 4, { lang: "de", viewport: { width: 390, height: 844 }, touch: true }, true],
    ["phone-en-6", 6, { viewport: { width: 390, height: 844 }, touch: true }, false],
    ["zoom-200-de-3", 3, { lang: "de", viewport: { width: 640, height: 400 }, scale: 2 }, true],
    ["zoom-200-en-6", 6, { viewport: { width: 640, height: 400 }, scale: 2 }, false],
    ["phone-de-360-2", 2, { lang: "de", viewport: { width: 360, height: 740 }, touch: true }, true],
  ];
  // A server of its own: nobody from the other tests (still standing where they were, for
  // a while) walks into these circles.
  const own = await startServer();
  try {
    for (const [index, [label, count, opts, fits]] of cases.entries()) await stripCase(own, names, index, label, count, opts, fits);
  } finally {
    await own.stop();
  }
});

// The circle's head on a phone: every button shows its words (real-time text and locking
// the circle under their icons, they were icons alone), whole, in one row inside the window.
async function phoneHead(page, label) {
  const shown = await boxes(page, "#conversation .conversation-head button");
  assert.equal(shown.length, 3, `${label}: three buttons in the circle's head`);
  assert.equal(new Set(shown.map((b) => Math.round(b.top))).size, 1, `${label}: one row ${JSON.stringify(shown)}`);
  assert.deepEqual(overlapping(shown), [], `${label}: no button covers another`);
  const width = page.viewportSize().width;
  assert.deepEqual(shown.filter((b) => b.left < -0.5 || b.left + b.width > width + 0.5).map((b) => b.text), [], `${label}: inside the window`);
  const labels = await page.$$eval("#conversation .conversation-head button .label", (list) =>
    list.map((l) => {
      const r = l.getBoundingClientRect();
      const b = l.closest("button").getBoundingClientRect();
      return { text: l.textContent, shown: getComputedStyle(l).clipPath === "none" && r.width > 1, whole: l.scrollWidth <= l.clientWidth + 1 && r.left >= b.left - 0.5 && r.right <= b.right + 0.5 };
    }),
  );
  assert.ok(labels.every((l) => l.shown && l.whole), `${label}: every word shown, whole: ${JSON.stringify(labels)}`);
}

async function stripCase(server, names, index, label, count, opts, fits) {
  // (Far apart: those of the case before stand there for a while after it, and a name on
  // the floor makes way for them.)
  const x = 400 + 540 * (index % 4);
  const y = 450 + 700 * Math.floor(index / 4);
  const at = (i) => ({ x: x + 40 * Math.cos((i / 8) * 2 * Math.PI), y: y + 40 * Math.sin((i / 8) * 2 * Math.PI) });
  const quiet = await crowd(server, names.slice(0, count).map((name, k) => ({ name: `${name} ${index}`, ...at(k) })));
  const p = await person(server, `Strip ${label}`, opts);
  try {
    const chosen = await p.page.evaluate(() => window.hallway.floor.scale);
    await clickFloor(p.page, at(7).x, at(7).y);
    await p.page.waitForFunction((n) => document.querySelectorAll("#tiles .tile:not(.self)").length === n && document.querySelectorAll("#conversation .tile.self").length === 1, count, { timeout: DEADLINE });
    // (The icebreaker, beside the strip on low screens, is closed: the strip gets the width.)
    if (await p.page.isVisible("#icebreaker-close")) await p.page.click("#icebreaker-close");
    await p.page.waitForTimeout(400);
    const shown = async () => {
      const [body] = await boxes(p.page, ".conversation-body");
      const tiles = await boxes(p.page, "#conversation .tile");
      const within = (b) => b.left >= body.left - 0.5 && b.left + b.width <= body.left + body.width + 0.5;
      const outside = (b) => b.left + b.width <= body.left + 0.5 || b.left >= body.left + body.width - 0.5;
      const others = await boxes(p.page, "#tiles .tile:not(.self)");
      return { body, tiles, others, seen: tiles.filter(within), cut: tiles.filter((b) => !within(b) && !outside(b)) };
    };
    const first = await shown();
    if (label.startsWith("phone")) await phoneHead(p.page, label);
    if (label === "phone-de-360-2") {
      // Locked, the circle's button says "Kreis entsperren", longer: still whole, in the row.
      await p.page.click("#lock-toggle");
      await p.page.waitForFunction(() => document.querySelector("#lock-toggle .label").textContent === "Kreis entsperren", null, { timeout: DEADLINE });
      await phoneHead(p.page, `${label} locked`);
      await p.page.screenshot({ path: path.join(screenshotDir(), "circle-head-phone-de-locked.png"), clip: { x: 0, y: 0, width: 360, height: 120 } });
      await p.page.click("#lock-toggle");
      await p.page.waitForFunction(() => document.querySelector("#lock-toggle .label").textContent === "Kreis sperren", null, { timeout: DEADLINE });
    }
    assert.deepEqual(overlapping(first.tiles), [], `${label}: no tile covers another`);
    assert.deepEqual(first.cut, [], `${label}: no tile cut by the strip's edge ${JSON.stringify(first)}`);
    for (const b of first.tiles) {
      assert.ok(b.top >= first.body.top - 0.5 && b.top + b.height <= first.body.top + first.body.height + 0.5, `${label}: tiles as tall as the strip at most`);
    }
    for (const b of first.others) assert.ok(b.width >= 140, `${label}: others' tiles ${b.width}px wide`);
    // Names take two lines before an ellipsis ("Bilal Rahma…" in one): a name of two words
    // (and a number) shows whole, each stays in its picture, and the initials above it.
    const names = await p.page.$$eval("#tiles .tile:not(.self) .name", (list) =>
      list.map((n) => {
        const r = n.getBoundingClientRect();
        const t = n.closest(".tile").getBoundingClientRect();
        return { text: n.textContent, whole: n.scrollHeight <= n.clientHeight + 1, inside: r.left >= t.left - 0.5 && r.right <= t.right + 0.5 && r.bottom <= t.bottom + 0.5 };
      }),
    );
    const clear = await p.page.$$eval("#tiles .tile:not(.self):not(.has-video)", (list) =>
      list.map((tile) => {
        const [t, i, n] = [tile, tile.querySelector(".initials"), tile.querySelector(".name")].map((el) => el.getBoundingClientRect());
        return { name: tile.querySelector(".name").textContent, ok: i.top >= t.top - 0.5 && i.bottom <= n.top + 0.5 };
      }),
    );
    assert.deepEqual(clear.filter((c) => !c.ok), [], `${label}: initials inside the picture, above the name`);
    for (const n of names) {
      assert.ok(n.inside, `${label}: ${JSON.stringify(n)}`);
      if (n.text.split(" ").length <= 3) assert.ok(n.whole, `${label}: ${n.text} whole ${JSON.stringify(n)}`);
    }
    if (count === 3 && label.startsWith("phone")) {
      // Three others in two rows leave a place empty: one's own picture takes it, as large
      // as theirs.
      const [own] = await boxes(p.page, "#tiles .tile.self");
      assert.ok(own && first.others.every((b) => Math.abs(b.width - own.width) < 1), `${label}: one's own picture among the others, as large`);
      assert.ok(own.width >= 180, `${label}: four tiles of ${own.width}px`);
      assert.notEqual(await p.page.evaluate(() => getComputedStyle(document.querySelector("#tiles .tile.self video")).transform), "none", `${label}: one's own picture mirrored there too`);
    }
    const pager = async () =>
      p.page.evaluate(() => {
        const box = document.querySelector("#strip-pager");
        return {
          shown: box.offsetParent !== null,
          box: box.getBoundingClientRect().toJSON(),
          previous: document.querySelector("#strip-prev").disabled,
          next: document.querySelector("#strip-next").disabled,
          count: document.querySelector("#strip-count").textContent,
        };
      });
    const before = await pager();
    if (fits) {
      assert.equal(first.seen.length, count + 1, `${label}: everyone on one screen`);
      assert.equal(before.shown, false, `${label}: no page buttons`);
    } else {
      assert.ok(first.seen.length >= 2 && first.seen.length < count + 1, `${label}: a page of ${first.seen.length}`);
      // Page buttons beside the strip, over no tile: "previous" off, "next" on, and which
      // tiles show.
      assert.equal(before.shown, true, `${label}: page buttons`);
      assert.ok(first.seen.every((b) => b.left + b.width <= before.box.left + 0.5 || b.left >= before.box.right - 0.5), `${label}: the buttons cover no tile`);
      assert.deepEqual([before.previous, before.next], [true, false], `${label}: at the start`);
      assert.equal(before.count, opts.lang === "de" ? `1–${first.seen.length} von ${count + 1}` : `1–${first.seen.length} of ${count + 1}`);
      if (label.startsWith("zoom")) {
        // In a low window the words do not fit between the buttons: the figures do, whole,
        // clear of both buttons and of every tile.
        const short = await p.page.evaluate(() => {
          const el = document.querySelector("#strip-count-short");
          return { text: el.textContent, shown: getComputedStyle(el).visibility === "visible" && el.offsetHeight > 0, whole: el.scrollWidth <= el.clientWidth + 1 };
        });
        assert.deepEqual(short, { text: `1–${first.seen.length}/${count + 1}`, shown: true, whole: true }, `${label}: the figures between the page buttons`);
        const pagerParts = await boxes(p.page, "#strip-prev, #strip-count-short, #strip-next");
        assert.deepEqual(overlapping([...pagerParts, ...first.seen]), [], `${label}: the figures cover no button and no tile`);
        const within = (b) => b.top >= first.body.top - 0.5 && b.top + b.height <= first.body.top + first.body.height + 0.5;
        assert.ok(pagerParts.every(within), `${label}: as high as the strip ${JSON.stringify(pagerParts)}`);
      }
    }
    // One's whole circle is in view where the floor can hold it (at 200% its lower
    // members were out of sight: only one's own avatar was kept in view).
    const ring = await p.page.evaluate(() => {
      const f = document.querySelector("#floor").getBoundingClientRect();
      const c = document.querySelector(".circle.mine").getBoundingClientRect();
      return { fits: c.width <= f.width && c.height <= f.height, inside: c.top >= f.top - 1 && c.bottom <= f.bottom + 1 && c.left >= f.left - 1 && c.right <= f.right + 1, circle: [c.left, c.top, c.width, c.height].map(Math.round), floor: [f.left, f.top, f.width, f.height].map(Math.round) };
    });
    if (ring.fits) assert.ok(ring.inside, `${label}: the whole circle in view ${JSON.stringify(ring)}`);
    // Everyone in one's circle has a name on the floor (cut short where a whole one finds
    // no place: on a phone a circle of seven left two without), none covering another
    // name or a face of the circle. (Where someone outside the circle stands close by, a
    // name may still find no place: the other cases' groups stand far enough away.)
    // (At 200% a circle of seven did not fit at the floor's scale: the floor zooms out
    // until it does.)
    assert.ok(ring.fits, `${label}: the circle fits the floor ${JSON.stringify(ring)}`);
    if (ring.fits) {
      const tags = await p.page.evaluate(() => {
        const box = (el) => {
          const r = el.getBoundingClientRect();
          return { left: r.left, top: r.top, width: r.width, height: r.height };
        };
        const mine = window.hallway.state.myCircle().members;
        const centre = (el) => {
          const r = el.querySelector(".face").getBoundingClientRect();
          return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
        };
        const outside = [...window.hallway.floor.avatars].filter(([id]) => !mine.includes(id)).map(([, el]) => centre(el));
        return mine.map((id) => {
          const avatar = window.hallway.floor.avatars.get(id);
          const tag = avatar.querySelector(".tag");
          const at = centre(avatar);
          const crowded = outside.some((o) => Math.hypot(o.x - at.x, o.y - at.y) < 160);
          // One's own, cut short, says "You" ("Sie"), not a cut name without "(you)".
          const own = id === window.hallway.state.you && tag.classList.contains("short") ? { says: getComputedStyle(tag, "::before").content, name: getComputedStyle(tag.querySelector(".tag-name")).display } : null;
          return { id, name: tag.textContent, own, crowded, short: tag.classList.contains("short"), shown: !tag.classList.contains("hidden-tag") && getComputedStyle(tag).visibility === "visible", tag: box(tag), face: box(avatar.querySelector(".face")) };
        });
      });
      const floorBox = await p.page.$eval("#floor", (f) => f.getBoundingClientRect().toJSON());
      assert.deepEqual(tags.filter((t) => !t.shown && !t.crowded).map((t) => t.name), [], `${label}: every name in one's circle shown on the floor: ${JSON.stringify({ floor: floorBox, tags })}`);
      if (label.startsWith("phone")) assert.ok(tags.every((t) => !t.crowded), `${label}: nobody else close by: ${JSON.stringify(tags)}`);
      for (const t of tags) if (t.own) assert.deepEqual(t.own, { says: opts.lang === "de" ? '"Sie"' : '"You"', name: "none" }, `${label}: one's own name cut short`);
      // A phone has no hover: a tap on a name cut short opens it whole, and again closes it;
      // neither tap walks.
      if (label === "phone-en-6") {
        const you = await p.page.evaluate(() => window.hallway.state.you);
        const cut = tags.find((t) => t.short && t.shown && t.id !== you);
        assert.ok(cut, `${label}: someone's name cut short: ${JSON.stringify(tags)}`);
        const where = () => p.page.evaluate(() => ({ x: window.hallway.state.me().x, y: window.hallway.state.me().y }));
        const standing = await where();
        const at = { x: cut.tag.left + cut.tag.width / 2, y: cut.tag.top + cut.tag.height / 2 };
        await p.page.touchscreen.tap(at.x, at.y);
        const opened = await p.page.evaluate((id) => {
          const avatar = window.hallway.floor.avatars.get(id);
          const tag = avatar.querySelector(".tag");
          const r = tag.getBoundingClientRect();
          return { opened: avatar.classList.contains("opened"), whole: tag.scrollWidth <= tag.clientWidth + 1, inside: r.left >= 0 && r.right <= innerWidth };
        }, cut.id);
        assert.deepEqual(opened, { opened: true, whole: true, inside: true }, `${label}: ${cut.name} opened by a tap`);
        await p.page.touchscreen.tap(at.x, at.y);
        assert.equal(await p.page.evaluate((id) => window.hallway.floor.avatars.get(id).classList.contains("opened"), cut.id), false, `${label}: closed by a second tap`);
        await p.page.waitForTimeout(600);
        assert.deepEqual(await where(), standing, `${label}: the taps did not walk`);
      }
      const touch = (a, b) => a.left < b.left + b.width - 1 && b.left < a.left + a.width - 1 && a.top < b.top + b.height - 1 && b.top < a.top + a.height - 1;
      for (const t of tags) {
        for (const o of tags) {
          if (o === t) continue;
          assert.ok(!touch(t.tag, o.tag), `${label}: ${t.name}'s name covers ${o.name}'s`);
          assert.ok(!touch(t.tag, o.face), `${label}: ${t.name}'s name covers ${o.name}'s face`);
        }
      }
    }
    await p.page.screenshot({ path: path.join(screenshotDir(), `strip-${label}.png`) });
    const report = await axe(p.page, "#conversation");
    assert.deepEqual(report.violations, [], label);
    assert.deepEqual(report.contrastReview, [], label);
    if (!fits) {
      // "Next" shows the next page, whole; on the last one "next" is off and focus moves
      // to "previous".
      await p.page.focus("#strip-next");
      for (let turn = 0; turn < 4 && !(await pager()).next; turn++) {
        await p.page.keyboard.press("Enter");
        await p.page.waitForTimeout(700);
        assert.deepEqual((await shown()).cut, [], `${label}: no tile cut after "next"`);
      }
      const end = await pager();
      assert.deepEqual([end.previous, end.next], [false, true], `${label}: at the end`);
      assert.equal(await p.page.evaluate(() => document.activeElement?.id), "strip-prev", `${label}: focus on "previous"`);
      await p.page.keyboard.press("Enter");
      await p.page.waitForTimeout(700);
      assert.deepEqual((await shown()).cut, [], `${label}: no tile cut after "previous"`);
      if (label.startsWith("phone")) {
        // Two leave: four others fit on one screen again, as they do for a circle that
        // never had more (the strip does not stay paged).
        for (const i of [count - 1, count - 2]) await quiet.send(i, { type: "leave" });
        await p.page.waitForFunction((n) => document.querySelectorAll("#tiles .tile:not(.self)").length === n, count - 2, { timeout: DEADLINE });
        await p.page.waitForTimeout(500);
        const fewer = await shown();
        assert.equal((await pager()).shown, false, `${label}: no page buttons after two left`);
        assert.equal(fewer.seen.length, count - 1, `${label}: everyone on one screen after two left`);
        assert.deepEqual(fewer.cut, [], `${label}: no tile cut after two left`);
        return;
      }
      // By keyboard, tile after tile: each comes whole into view.
      await p.page.evaluate(() => document.querySelector(".conversation-body").scrollTo({ left: 0, behavior: "instant" }));
      await p.page.focus("#tiles .tile:nth-child(1)");
      for (let i = 1; i < count; i++) {
        await p.page.keyboard.press("Tab");
        await p.page.waitForTimeout(250);
        const now = await shown();
        const focused = await p.page.evaluate(() => ({ ...document.activeElement.getBoundingClientRect().toJSON(), tile: document.activeElement.matches(".tile") }));
        assert.ok(focused.tile, `${label}: Tab goes to tile ${i + 1}`);
        assert.ok(focused.left >= now.body.left - 0.5 && focused.right <= now.body.left + now.body.width + 0.5, `${label}: tile ${i + 1} in view when focused`);
        assert.deepEqual(now.cut, [], `${label}: no tile cut after focusing tile ${i + 1}`);
      }
      // Out of the circle, the floor is back at the scale it had, oneself in view.
      const framed = await p.page.evaluate(() => window.hallway.floor.scale);
      if (label === "zoom-200-en-6") assert.ok(framed < chosen - 0.01, `${label}: the floor zoomed out for the circle (${chosen} → ${framed})`);
      await p.page.click("#floor-leave-circle");
      await p.page.waitForFunction(() => !window.hallway.state.myCircle(), null, { timeout: DEADLINE });
      await p.page.waitForTimeout(800);
      const after = await p.page.evaluate(() => {
        const f = document.querySelector("#floor").getBoundingClientRect();
        const me = document.querySelector(".avatar.me .face").getBoundingClientRect();
        return { scale: window.hallway.floor.scale, seen: me.left >= f.left && me.right <= f.right && me.top >= f.top && me.bottom <= f.bottom };
      });
      assert.deepEqual(after, { scale: chosen, seen: true }, `${label}: out of the circle`);
    }
  } finally {
    await p.close();
    await quiet.close();
  }
}
