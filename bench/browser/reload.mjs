// A reload in a circle, in headless Chromium: how long after `reload()` the page is back as
// the same participant, in a circle with the same person, and where that time goes. Each
// trial reloads one of two people standing together (the same two pages throughout), and
// the page reports, from its own start (performance.now() of the new page):
//   hello   — early.js sent the hello with the resume token (the connection is up);
//   welcome — main.js handled the welcome (the page's modules have loaded and run);
//   back    — from reload() to "the same id, in a circle with the other person" as the
//             test's process saw it (what issue #14 asks within 2 s).
//
//   node bench/browser/reload.mjs [--trials N]
//
// (`./scripts/bench reload` builds the release server and runs this with it.)

import { startServer, person, formCircle, DEADLINE } from "../../tests/browser/harness.mjs";
import { parseCounts, percentile } from "./args.mjs";

const opts = parseCounts(process.argv.slice(2), { trials: 20 });
if (!opts) {
  console.error("usage: node bench/browser/reload.mjs [--trials N]");
  process.exit(2);
}

const server = await startServer();
const people = [];
try {
  const anna = await person(server, "Anna Schmidt");
  const ben = await person(server, "Ben Okafor");
  people.push(anna, ben);
  await formCircle(anna, ben, 600, 600);
  const samples = { back: [], hello: [], welcome: [] };
  // The first reload warms the browser's cache and the server's code paths: not counted.
  for (let trial = 0; trial <= opts.trials; trial += 1) {
    const started = performance.now();
    await ben.page.reload();
    await ben.page.waitForFunction(
      ([id, other]) => window.hallway?.state?.you === id && window.hallway.state.myCircle()?.members.includes(other),
      [ben.id, anna.id],
      { timeout: 3 * DEADLINE },
    );
    const back = performance.now() - started;
    const page = await ben.page.evaluate(() => ({ hello: window.hallwayHelloAt ?? null, welcome: window.hallway.welcomedAt ?? null }));
    if (trial === 0) {
      console.log(`cold: back ${Math.round(back)} ms, hello ${Math.round(page.hello)} ms, welcome ${Math.round(page.welcome)} ms`);
      continue;
    }
    samples.back.push(back);
    if (page.hello !== null) samples.hello.push(page.hello);
    if (page.welcome !== null) samples.welcome.push(page.welcome);
    // Media back before the next reload, as a person would have it.
    await ben.page.waitForFunction((id) => window.hallway.peers.pc(id)?.connectionState === "connected", anna.id, { timeout: 3 * DEADLINE });
  }
  const line = (name, list, what) => {
    const sorted = [...list].sort((a, b) => a - b);
    const ms = (v) => `${Math.round(v)} ms`;
    console.log(`${name.padEnd(8)} p50 ${ms(percentile(sorted, 50))}  p95 ${ms(percentile(sorted, 95))}  max ${ms(sorted.at(-1))}  (${sorted.length} trials; ${what})`);
  };
  console.log(`reload in a circle of two, ${opts.trials} trials, load average ${(await import("node:os")).loadavg().map((l) => l.toFixed(1)).join(" ")}`);
  line("back", samples.back, "reload() to the same person in the same circle; aim 2 s");
  line("hello", samples.hello, "new page start to its hello sent");
  line("welcome", samples.welcome, "new page start to its welcome handled");
} finally {
  for (const p of people) await p.close();
  await server.stop();
}
