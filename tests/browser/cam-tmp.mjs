import { startServer, person } from "./harness.mjs";
const server = await startServer();
try {
  const p = await person(server, "Ohne Kamera", { camera: false });
  const before = await p.page.evaluate(() => ({ tracks: window.hallway.media.tracks(), pressed: document.querySelector("#camera-toggle").getAttribute("aria-pressed") }));
  await p.page.click("#camera-toggle");
  await p.page.waitForTimeout(1500);
  const after = await p.page.evaluate(() => ({ tracks: window.hallway.media.tracks(), pressed: document.querySelector("#camera-toggle").getAttribute("aria-pressed") }));
  console.log(JSON.stringify({ before, after }));
  await p.close();
} finally { await server.stop(); }
