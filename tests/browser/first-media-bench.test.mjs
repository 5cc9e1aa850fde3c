// A tiny run of the first-media benchmark (bench/browser/first-media.mjs: time from "circle
// formed" to the first remote video frame and audio, in Chromium), so that it does not rot
// while the client changes. The figures are printed, never asserted: performance is judged
// by the real benchmark (`./scripts/bench first-media`, docs/benchmarks.md). What is
// asserted is that each page measured video and audio from the other.

import { test } from "node:test";
import assert from "node:assert/strict";
import { run, toLines } from "../../bench/browser/first-media.mjs";

test("the first-media benchmark measures video and audio in a new circle", async () => {
  // One measured trial after the warm-up one: two pairs walk together.
  const report = await run({ trials: 1 });
  process.stdout.write(toLines(report));
  const figure = (name) => report.figures.find((f) => f.name === name)?.value;
  assert.equal(figure("video_samples"), 2, "a page decoded no video from the other");
  assert.equal(figure("audio_samples"), 2, "a page heard no audio from the other");
  for (const name of ["video_p95", "audio_p95", "connected_p95"]) assert.ok(Number.isFinite(figure(name)) && figure(name) > 0, `${name} was not measured`);
  // Each route is "<circle media> <local candidate>→<remote candidate>".
  assert.ok(report.routes.every((route) => route.startsWith("mesh ")), `a pair's media went another way than the mesh: ${report.routes.join(", ")}`);
});
