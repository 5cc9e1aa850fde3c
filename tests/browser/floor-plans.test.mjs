// Floor plans (real Chromium, real server): without a plan the floor has its quiet pattern; a
// host picks a built-in plan or uploads a picture of their own in the room, and everyone's
// floor draws it (the picture is fetched from this server and its pixels are on screen); a
// file that is not a picture is refused with a message and the plan shown stays.

import { test } from "node:test";
import assert from "node:assert/strict";
import zlib from "node:zlib";
import { serverForFile, person, mintLink, DEADLINE } from "./harness.mjs";

const room = serverForFile();

// A PNG of `size`×`size` pixels of one colour, built here (no picture library needed).
function solidPng(size, [r, g, b]) {
  const chunk = (type, data) => {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body));
    return Buffer.concat([head, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8 bits, RGB, no interlace
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: size }, () => [r, g, b]).flat())]);
  const pixels = zlib.deflateSync(Buffer.concat(Array.from({ length: size }, () => row)));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", header), chunk("IDAT", pixels), chunk("IEND", Buffer.alloc(0))]);
}

// What the floor looks like: the background the floor's surface draws, whether its picture loaded,
// and the mean colour of a patch of floor on screen, away from people and areas.
async function floorSeen(page) {
  const style = await page.evaluate(async () => {
    const surface = document.querySelector(".surface");
    const image = getComputedStyle(surface).backgroundImage;
    const url = image.match(/url\("(.*)"\)/)?.[1];
    let loaded = null;
    if (url) {
      const img = new Image();
      img.src = url;
      loaded = await img.decode().then(() => img.naturalWidth > 0, () => false);
    }
    return { image, url: url ? new URL(url).pathname : null, loaded, plan: surface.classList.contains("has-plan") };
  });
  const viewport = await page.$eval("#floor", (v) => {
    const r = v.getBoundingClientRect();
    return { x: r.x, y: r.y, width: r.width, height: r.height };
  });
  // A patch near the viewport's lower-left corner (people stand near the centre, the zoom
  // buttons at the right).
  const clip = { x: viewport.x + 20, y: viewport.y + viewport.height - 60, width: 40, height: 40 };
  const png = await page.screenshot({ clip });
  const colour = await page.evaluate(async (bytes) => {
    const bitmap = await createImageBitmap(new Blob([new Uint8Array(bytes)], { type: "image/png" }));
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const g = canvas.getContext("2d");
    g.drawImage(bitmap, 0, 0);
    const data = g.getImageData(0, 0, bitmap.width, bitmap.height).data;
    const sum = [0, 0, 0];
    for (let i = 0; i < data.length; i += 4) for (let c = 0; c < 3; c++) sum[c] += data[i + c];
    return sum.map((s) => Math.round(s / (data.length / 4)));
  }, [...png]);
  return { ...style, colour };
}

test("the floor shows its pattern, then the plan a host picks, then the picture a host uploads", async () => {
  const { server, people } = room;
  const hanna = await person(server, "Hanna Host", { link: mintLink(server, ["--room", "lobby", "--role", "host"]) });
  const anna = await person(server, "Anna Schmidt", { lang: "de" });
  people.push(hanna, anna);

  // The demo room opens on the hall; without a plan it has a quiet pattern, not flat grey.
  await hanna.page.click("#tab-host");
  await hanna.page.selectOption("#plan-select", "");
  await anna.page.waitForFunction(() => !document.querySelector(".surface").classList.contains("has-plan"), null, { timeout: DEADLINE });
  const plain = await floorSeen(anna.page);
  assert.equal(plain.plan, false);
  assert.notEqual(plain.image, "none", "the floor without a plan draws its pattern");

  // A built-in plan, chosen in the host tools by keyboard-reachable controls.
  await hanna.page.selectOption("#plan-select", "builtin:garden");
  await anna.page.waitForFunction(() => document.querySelector(".surface").classList.contains("has-plan"), null, { timeout: DEADLINE });
  const garden = await floorSeen(anna.page);
  assert.match(garden.url, /^\/plans\/garden\.svg$/);
  assert.equal(garden.loaded, true, "the built-in plan is served and decodes");
  const served = await anna.page.evaluate(async (url) => {
    const r = await fetch(url);
    return { status: r.status, type: r.headers.get("content-type"), csp: r.headers.get("content-security-policy") };
  }, garden.url);
  assert.equal(served.status, 200);
  assert.match(served.type, /^image\/svg\+xml/);
  assert.match(served.csp ?? "", /script-src 'none'|default-src 'none'/, "an SVG plan may run no script");

  // The host's own picture: a green square, uploaded from the host tools.
  const green = [46, 125, 50];
  // The browser's own file control (which says "Choose File" in the browser's language,
  // whatever the page's) is not shown: a button of the page opens the file chooser.
  assert.equal(await hanna.page.isVisible("#plan-file"), false);
  assert.equal(await hanna.page.textContent("#plan-file-choose"), "Choose a picture…");
  assert.equal(await hanna.page.evaluate(() => document.querySelector("#plan-file-choose").getAttribute("aria-describedby")), "plan-upload-hint");
  const [chooser] = await Promise.all([hanna.page.waitForEvent("filechooser", { timeout: DEADLINE }), hanna.page.click("#plan-file-choose")]);
  assert.deepEqual([chooser.isMultiple(), await chooser.element().getAttribute("accept")], [false, "image/png,image/jpeg,image/svg+xml"]);
  await chooser.setFiles({ name: "plan.png", mimeType: "image/png", buffer: solidPng(64, green) });
  await hanna.page.waitForFunction(() => /^(?!Uploading).+/.test(document.querySelector("#plan-status").textContent), null, { timeout: DEADLINE });
  assert.equal(await hanna.page.textContent("#plan-status"), "The new floor plan is shown to everyone.");
  await anna.page.waitForFunction(() => getComputedStyle(document.querySelector(".surface")).backgroundImage.includes("/r/lobby/floor-plan"), null, { timeout: DEADLINE });
  const own = await floorSeen(anna.page);
  assert.equal(own.url, "/r/lobby/floor-plan");
  assert.equal(own.loaded, true);
  // Its pixels are on Anna's screen.
  for (let c = 0; c < 3; c++) assert.ok(Math.abs(own.colour[c] - green[c]) <= 12, `floor colour ${own.colour} is the plan's ${green}`);
  assert.equal(await hanna.page.inputValue("#plan-select"), "own");

  // A text file named like a picture is refused with words, and the plan stays.
  await hanna.page.setInputFiles("#plan-file", { name: "notes.png", mimeType: "image/png", buffer: Buffer.from("not a picture at all") });
  await hanna.page.waitForFunction(() => document.querySelector("#plan-status").textContent.startsWith("That file"), null, { timeout: DEADLINE });
  assert.equal(await hanna.page.textContent("#plan-status"), "That file is not a PNG, JPEG or SVG picture.");
  const still = await floorSeen(anna.page);
  assert.equal(still.url, "/r/lobby/floor-plan");
  assert.equal(still.loaded, true);

  // Back to none: the pattern again, for everyone.
  await hanna.page.selectOption("#plan-select", "");
  await anna.page.waitForFunction(() => !document.querySelector(".surface").classList.contains("has-plan"), null, { timeout: DEADLINE });
  assert.notEqual((await floorSeen(anna.page)).image, "none");
});
