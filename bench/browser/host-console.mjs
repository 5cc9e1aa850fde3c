// How long the host console takes to redraw in a room of 300, in headless Chromium: a
// host's page with 300 others (joined over raw WebSockets), then one change at a time —
// someone raises or lowers a hand, which moves them between groups and through the hand
// queue — and each redraw of the people panel is timed, including the layout it causes
// (the panel's list is measured right after, which makes the browser lay it out). Printed:
// the number of updates and the p50, p95 and largest time, with and without a search typed.
//
//   node bench/browser/host-console.mjs [--people N] [--updates N]
//
// (`./scripts/bench host-console` builds the release server and runs this with it.)

import { startServer, person, crowd, mintLink } from "../../tests/browser/harness.mjs";
import { parseCounts, percentile } from "./args.mjs";


async function measure(page, many, updates, offset) {
  await page.evaluate(() => (window.benchTimes = []));
  for (let i = 0; i < updates; i += 1) {
    const who = (offset + i * 7) % many.ids.length;
    const id = many.ids[who];
    const raised = await page.evaluate((pid) => !window.hallway.state.participants.get(pid)?.hand, id);
    const before = await page.evaluate(() => window.benchTimes.length);
    await many.send(who, { type: "hand", raised });
    await page.waitForFunction((n) => window.benchTimes.length > n, before, { timeout: 30_000 });
  }
  return page.evaluate(() => window.benchTimes.slice());
}

function report(label, times) {
  const sorted = [...times].sort((a, b) => a - b);
  const fmt = (v) => `${v.toFixed(1)} ms`;
  console.log(`${label}: ${sorted.length} updates, p50 ${fmt(percentile(sorted, 50))}, p95 ${fmt(percentile(sorted, 95))}, max ${fmt(sorted[sorted.length - 1])}`);
}

async function main(opts) {
  const server = await startServer();
  let many;
  let host;
  try {
    const list = Array.from({ length: opts.people }, (_, i) => ({
      name: `Person ${String(i + 1).padStart(3, "0")} ${["Schmidt", "Okafor", "Weber", "Nguyen", "Yilmaz"][i % 5]}`,
      x: 60 + (i % 24) * 98,
      y: 80 + Math.floor(i / 24) * 110 + (i % 2) * 40,
      // Two of three with a profile line, as at an event where most give their office.
      ...(i % 3 === 2 ? {} : { profile: `Amt ${i % 40} · Digitalisierung, Open Data` }),
    }));
    many = await crowd(server, list);
    host = await person(server, "Hanna Host", { link: mintLink(server, ["--room", "lobby", "--role", "host"]) });
    await host.page.waitForFunction((n) => window.hallway.state.participants.size === n + 1, opts.people, { timeout: 120_000 });
    // Every redraw of the panel, timed with the layout it causes.
    await host.page.evaluate(() => {
      const panel = window.hallway.panel;
      const render = panel.render.bind(panel);
      panel.render = (...args) => {
        const start = performance.now();
        render(...args);
        void document.querySelector(".people-scroll").scrollHeight;
        window.benchTimes?.push(performance.now() - start);
      };
    });
    // Warm up (the first redraws build every item).
    await measure(host.page, many, 10, 0);
    report(`host console, ${opts.people} people`, await measure(host.page, many, opts.updates, 1));
    await host.page.fill("#people-search", "schmidt");
    report(`host console, ${opts.people} people, searching`, await measure(host.page, many, opts.updates, 3));
  } finally {
    await host?.close();
    await many?.close();
    await server.stop();
  }
}

const opts = parseCounts(process.argv.slice(2), { people: 300, updates: 100 });
if (!opts) {
  console.error("usage: host-console [--people N] [--updates N]   (N: a positive whole number)");
  process.exit(2);
}
await main(opts);
