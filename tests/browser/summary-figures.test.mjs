// The organiser summary's pure parts under Node: the share, the chart's scale and
// geometry, the series reaching the present, and the CSV (quoting, formulas defused,
// the reader's separator, no more than the figures).

import { test } from "node:test";
import assert from "node:assert/strict";

globalThis.localStorage = { getItem: () => null, setItem: () => {} };
globalThis.navigator ??= { language: "en" };
const { sharePercent, niceMax, series, chartGeometry, summaryCsv, csvName, localIso, formatDuration } = await import("../../client-web/js/summary.js");

const SUMMARY = {
  since: Date.UTC(2026, 11, 2, 9, 0),
  at: Date.UTC(2026, 11, 2, 11, 0),
  participants: 41,
  peak: 57,
  peak_at: Date.UTC(2026, 11, 2, 10, 0),
  in_circles: 26,
  circles: 8,
  arrived: 73,
  circled: 58,
  circles_formed: 34,
  median_circle_size: 3,
  median_circle_s: 540,
  every_s: 60,
  samples: [
    { at: Date.UTC(2026, 11, 2, 9, 0), participants: 3, in_circles: 0 },
    { at: Date.UTC(2026, 11, 2, 10, 0), participants: 57, in_circles: 30 },
  ],
};

test("the share is whole percent of those who came, none before anyone came", () => {
  assert.equal(sharePercent(58, 73), 79);
  assert.equal(sharePercent(0, 0), null);
  assert.equal(sharePercent(5, 4), 100, "never above all");
});

test("durations read as people say them", () => {
  assert.equal(formatDuration(null), "–");
  assert.equal(formatDuration(45), "45 s");
  assert.equal(formatDuration(540), "9 min");
  assert.equal(formatDuration(3900), "1 h 5 min");
  assert.equal(formatDuration(7200), "2 h");
});

test("the y axis tops out at a round number, at least 4", () => {
  const table = [[0, 4], [3, 4], [5, 5], [7, 10], [11, 20], [21, 25], [26, 40], [57, 100], [101, 200], [1500, 2000]];
  for (const [value, top] of table) assert.equal(niceMax(value), top, `${value}`);
});

test("the series reaches the present, and the chart stays in its box", () => {
  const points = series(SUMMARY);
  assert.equal(points.length, 3);
  assert.deepEqual(points[2], { at: SUMMARY.at, participants: 41, in_circles: 26 });
  const g = chartGeometry(points, 640, 240, { left: 44, right: 14, top: 14, bottom: 30 });
  assert.equal(g.top, 100);
  for (const [x, y] of [...g.people, ...g.circles]) {
    assert.ok(x >= 44 && x <= 626, `x ${x}`);
    assert.ok(y >= 14 && y <= 210, `y ${y}`);
  }
  assert.equal(g.people[0][0], 44);
  assert.equal(g.people[2][0], 626);
  // One point alone (a room just opened) is drawn without dividing by nothing.
  const one = chartGeometry([{ at: 5, participants: 0, in_circles: 0 }]);
  assert.ok(one.people.every(([x, y]) => Number.isFinite(x) && Number.isFinite(y)));
});

test("the CSV: figures, a blank line, the points; quoted and defused where needed", () => {
  const csv = summaryCsv(SUMMARY, "lobby", "en");
  const lines = csv.replace(/^\uFEFF/, "").split("\r\n");
  assert.equal(lines[0], "Figure,Value");
  assert.equal(lines[1], "Room,lobby");
  assert.ok(lines.includes("People now,41"));
  assert.ok(lines.includes("Share in at least one circle (%),79"));
  assert.ok(lines.includes("Median conversation length (seconds),540"));
  const blank = lines.indexOf("");
  assert.equal(lines[blank + 1], "Time,People in the room,People in circles");
  assert.equal(lines.length - blank - 3, 3, "three points, then the final line break");
  assert.match(lines[blank + 2], /^2026-12-02T\d\d:00:00[+-]\d\d:\d\d,3,0$/);
  // A room's name a spreadsheet would run, or one with the separator, is made harmless.
  const odd = summaryCsv(SUMMARY, "=HYPERLINK(\"x\"),y", "en").split("\r\n")[1];
  assert.equal(odd, 'Room,"\'=HYPERLINK(""x""),y"');
  assert.equal(csvName("lobby", SUMMARY.at).slice(0, 22), "hallway-summary-lobby-");
  assert.match(localIso(SUMMARY.at), /^2026-12-02T\d\d:00:00[+-]\d\d:\d\d$/);
});
