// The client's layout functions under Node: the conversation grid and its strip on a
// phone, members around their ring, name tags that never cover one another, and walking steps.

import { test } from "node:test";
import assert from "node:assert/strict";
import { gridLayout, ownAmongOthers, ownBeside, stripLayout, besideLayout, ringSlots, placeTags, intersects, walkStep } from "../../client-web/js/layout.js";

test("the conversation grid gives up to 6 members tiles of at least 240 px in a desktop window", () => {
  // The conversation view of a 1280×800 window with the side panel open (see app.css and tiles.css).
  for (const [width, height] of [[760, 430], [940, 430], [1240, 500]]) {
    for (let count = 1; count <= 6; count++) {
      const g = gridLayout({ count, width, height });
      assert.ok(g.tileWidth >= 240, `${count} tiles in ${width}×${height}: ${JSON.stringify(g)}`);
      assert.ok(g.cols * g.rows >= count);
      assert.ok(g.cols * g.tileWidth + (g.cols - 1) * 8 <= width, "fits across");
      assert.ok(g.rows * g.tileHeight + (g.rows - 1) * 8 <= height, "fits down");
    }
  }
});

test("one's own picture beside the grid is never wider than the others' tiles", () => {
  // A desktop: the others' tiles are far wider than 11rem; one's own keeps 176 px.
  assert.equal(ownBeside({ count: 3, width: 936, height: 430, own: 176, apart: 12 }), 176);
  // A low window with a prompt beside the tiles (a phone on its side): 11rem would be
  // wider than each of three others; it shrinks until theirs are at least as wide.
  for (const [count, width, height] of [[3, 480, 150], [2, 300, 120], [5, 600, 90], [1, 200, 60]]) {
    const own = ownBeside({ count, width, height, own: 176, apart: 12 });
    const theirs = gridLayout({ count, width: width - own - 12, height }).tileWidth;
    assert.ok(own < 176, `${count} in ${width}×${height}: smaller than 11rem (${own})`);
    assert.ok(theirs >= own, `${count} in ${width}×${height}: theirs ${theirs} ≥ own ${own}`);
    // Not needlessly small: 4 px wider, theirs would be narrower than it.
    assert.ok(own === 64 || gridLayout({ count, width: width - own - 4 - 12, height }).tileWidth < own + 4, `${count} in ${width}×${height}: as wide as it can be`);
  }
});

test("the grid adapts up to a full circle of 15 and never overflows its box", () => {
  for (const [width, height] of [[390, 200], [640, 180], [760, 430], [1920, 900], [300, 1000]]) {
    for (let count = 1; count <= 15; count++) {
      const g = gridLayout({ count, width, height, gap: 6 });
      assert.ok(g.cols * g.rows >= count, `room for ${count}`);
      assert.ok((g.rows - 1) * g.cols < count, "no empty row");
      assert.ok(g.cols * g.tileWidth + (g.cols - 1) * 6 <= width + 0.5);
      assert.ok(g.rows * g.tileHeight + (g.rows - 1) * 6 <= height + 0.5);
      assert.ok(g.tileWidth > 0);
    }
  }
  // A wide box puts two side by side, a tall one stacks them.
  assert.equal(gridLayout({ count: 2, width: 1000, height: 300 }).cols, 2);
  assert.equal(gridLayout({ count: 2, width: 300, height: 1000 }).cols, 1);
  assert.deepEqual(gridLayout({ count: 0, width: 100, height: 100 }), { cols: 0, rows: 0, tileWidth: 0, tileHeight: 0 });
});

test("on a desktop one's own picture fills a place the others leave empty, where that makes tiles larger", () => {
  // The conversation at 1280×800 with the side panel open and an icebreaker shown.
  const box = { width: 936, height: 250, own: 176, apart: 12 };
  // Seven others: four and three; the eighth place is one's own, and tiles grow.
  assert.equal(ownAmongOthers({ count: 7, ...box }), true);
  const beside = gridLayout({ count: 7, width: 936 - 176 - 12, height: 250 });
  const among = gridLayout({ count: 8, width: 936, height: 250 });
  assert.ok(among.tileWidth > beside.tileWidth && among.rows === Math.ceil(7 / among.cols));
  // One other stays large, one's own picture small beside; no row is added for oneself.
  assert.equal(ownAmongOthers({ count: 1, ...box }), false);
  // Three others in 936×430: one's own picture would fill the empty fourth place, but the
  // tiles would grow by 3 % only: it stays beside them.
  assert.equal(ownAmongOthers({ count: 3, width: 936, height: 430, own: 176, apart: 12 }), false);
  // Six others in 936×250 fill three columns of two rows: one's own picture would need a
  // third row or a fourth column (eight places for seven): it stays beside them.
  assert.equal(ownAmongOthers({ count: 6, width: 936, height: 250, own: 176, apart: 12 }), false);
  // In a wide, low box, three others stand in one row; a fourth tile would only make all
  // smaller.
  assert.equal(ownAmongOthers({ count: 3, width: 1240, height: 200, own: 176, apart: 12 }), false);
});

test("beside a shared screen: everyone in view while tiles stay 100 px wide, else a column that scrolls by whole tiles", () => {
  const gap = 8;
  // A desktop window with and without the side panel, a phone on its side with the panel
  // open and closed, a low window, 200 % zoom beside the panel.
  for (const [width, height] of [[940, 430], [1240, 500], [516, 158], [812, 158], [416, 120], [600, 250]]) {
    for (let count = 1; count <= 16; count++) {
      const s = besideLayout({ count, width, height, gap, apart: 12 });
      const what = `${count} in ${width}×${height}: ${JSON.stringify(s)}`;
      const across = s.cols * s.tileWidth + (s.cols - 1) * gap;
      // The screen keeps the width it can use (as tall as the box), or at least as much as
      // the people's column.
      assert.ok(width - across - 12 >= Math.min(height * (16 / 9), across) - 0.5, `the screen keeps its width: ${what}`);
      assert.ok(s.rows * s.tileHeight + (s.rows - 1) * gap <= height + 0.5, `whole rows in view: ${what}`);
      assert.ok(s.tileWidth >= 100, `tiles at least 100 px: ${what}`);
      if (s.fits) {
        assert.ok(s.cols * s.rows >= count, `everyone in view: ${what}`);
        assert.ok(Math.abs(s.tileHeight - s.tileWidth * (9 / 16)) <= 1, `16:9: ${what}`);
      } else {
        assert.ok(s.cols * s.rows < count, `scrolls only when not everyone is in view: ${what}`);
        // The rows in view fill the height to within a pixel each: scrolled by whole
        // rows, no tile is cut by the column's edge.
        assert.ok(height - (s.rows * s.tileHeight + (s.rows - 1) * gap) <= s.rows, `rows fill the height: ${what}`);
      }
    }
  }
  // A phone on its side with the lists open: three in two columns, in view; on a desktop,
  // eight in a column of four rows that scrolls.
  assert.deepEqual(besideLayout({ count: 3, width: 516, height: 158, apart: 12 }), { cols: 2, rows: 2, tileWidth: 107, tileHeight: 60, fits: true });
  const eight = besideLayout({ count: 8, width: 940, height: 430, apart: 12 });
  assert.deepEqual([eight.cols, eight.rows, eight.fits], [1, 4, false]);
});

test("a phone's strip: everyone on one screen while tiles stay 140 px wide, else pages of whole columns", () => {
  const gap = 8;
  // The strip of a phone in portrait (with and without the icebreaker), a small phone,
  // 200 % zoom on a 1280×800 window, a phone on its side.
  for (const [width, height] of [[374, 216], [374, 283], [334, 180], [624, 83], [780, 110]]) {
    for (let count = 1; count <= 14; count++) {
      for (const self of [false, true]) {
        const s = stripLayout({ count, self, width, height, gap });
        const what = `${count}${self ? "+self" : ""} in ${width}×${height}: ${JSON.stringify(s)}`;
        assert.ok(s.rows === 1 || s.rows === 2, what);
        assert.ok(s.rows * s.tileHeight + (s.rows - 1) * gap <= height + 0.5, `fits down: ${what}`);
        assert.ok(s.tileWidth / s.tileHeight <= 2.3, `not much wider than 16:9: ${what}`);
        assert.ok(!s.selfInGrid || (self && s.fits), `one's own picture among the others only when everyone fits: ${what}`);
        const cells = count + (s.selfInGrid ? 1 : 0);
        const cols = Math.ceil(cells / s.rows);
        if (s.fits) {
          const half = self && !s.selfInGrid;
          const across = cols * s.tileWidth + (cols - 1) * gap + (half ? gap + s.tileWidth / 2 : 0);
          assert.ok(across <= width + 0.5, `everyone on one screen: ${what}`);
          assert.ok(Math.abs(s.tileHeight - s.tileWidth * (9 / 16)) <= 1, `16:9: ${what}`);
        } else {
          // Pages of whole columns: the columns fill the page to within a pixel each.
          const page = Math.floor((width + gap) / (s.tileWidth + gap));
          assert.ok(page >= 1 && width - (page * s.tileWidth + (page - 1) * gap) <= page, `whole columns a page: ${what}`);
          // (One's own picture is a column of its own after the others'.)
          assert.ok(page * s.rows < count || self, `a page does not hold everyone: ${what}`);
          assert.ok(Math.min(s.tileWidth, s.tileHeight * (16 / 9)) >= 140, `tiles at least 140 px: ${what}`);
        }
      }
    }
  }
  // A phone in portrait: one other large with one's own picture beside; two stacked; up
  // to four in two rows; from five, pages of four.
  assert.deepEqual(stripLayout({ count: 1, self: true, width: 374, height: 216 }), { rows: 1, tileWidth: 244, tileHeight: 137, fits: true, selfInGrid: false });
  assert.equal(stripLayout({ count: 2, self: true, width: 374, height: 216 }).rows, 2);
  // Three others: one's own picture takes the fourth place, as large as theirs.
  assert.deepEqual(stripLayout({ count: 3, self: true, width: 374, height: 216 }), { rows: 2, tileWidth: 183, tileHeight: 102, fits: true, selfInGrid: true });
  assert.equal(stripLayout({ count: 4, self: true, width: 374, height: 216 }).selfInGrid, false);
  assert.ok(stripLayout({ count: 4, self: true, width: 374, height: 216 }).fits);
  const five = stripLayout({ count: 5, self: true, width: 374, height: 216 });
  assert.deepEqual([five.rows, five.fits, Math.floor((374 + 8) / (five.tileWidth + 8))], [2, false, 2]);
});

test("members stand evenly around their ring, never on top of each other", () => {
  const avatar = 36;
  for (let n = 2; n <= 15; n++) {
    // Everyone crowded near the centre, as people who walked in stand.
    const members = Array.from({ length: n }, (_, i) => ({ id: `p${i}`, x: 1000 + ((i * 37) % 50), y: 800 + ((i * 53) % 40) }));
    const circle = { x: 1020, y: 820, radius: 60 + 10 * n };
    const { ring, slots } = ringSlots(circle, members, avatar);
    assert.equal(slots.size, n);
    const points = [...slots.values()];
    for (const p of points) assert.ok(Math.abs(Math.hypot(p.x - circle.x, p.y - circle.y) - ring) < 1e-6, "on the ring");
    let min = Infinity;
    let max = 0;
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const d = Math.hypot(points[i].x - points[j].x, points[i].y - points[j].y);
        min = Math.min(min, d);
      }
    }
    // Neighbours are evenly spaced: the smallest distance is the chord of one step.
    const chord = 2 * ring * Math.sin(Math.PI / n);
    for (const p of points) {
      const nearest = Math.min(...points.filter((q) => q !== p).map((q) => Math.hypot(p.x - q.x, p.y - q.y)));
      max = Math.max(max, nearest);
    }
    assert.ok(min >= 2 * avatar, `${n} members: avatars apart (${min.toFixed(1)} ≥ ${2 * avatar})`);
    assert.ok(Math.abs(min - chord) < 1e-6 && Math.abs(max - chord) < 1e-6, "evenly spaced");
  }
});

test("members keep their order around the ring, and nobody moves far when someone joins", () => {
  const circle = { x: 0, y: 0, radius: 150 };
  const at = (id, deg) => ({ id, x: 100 * Math.cos((deg * Math.PI) / 180), y: 100 * Math.sin((deg * Math.PI) / 180) });
  const three = ringSlots(circle, [at("a", 0), at("b", 120), at("c", 240)], 30).slots;
  // Already evenly spaced: they stay at their angles.
  for (const [id, deg] of [["a", 0], ["b", 120], ["c", 240]]) {
    const p = three.get(id);
    const angle = ((Math.atan2(p.y, p.x) * 180) / Math.PI + 360) % 360;
    assert.ok(Math.abs(angle - deg) < 1e-6 || Math.abs(angle - deg) > 359.99, `${id} at ${angle}`);
  }
  // The result does not depend on the order members are listed in.
  const shuffled = ringSlots(circle, [at("c", 240), at("a", 0), at("b", 120)], 30).slots;
  for (const id of ["a", "b", "c"]) assert.deepEqual(shuffled.get(id), three.get(id));
});

test("name tags never intersect, for circles of 2 to 15 and a crowd of 40 standing close", () => {
  const check = (items) => {
    const placed = placeTags(items);
    const boxes = [];
    for (const item of items) {
      const at = placed.get(item.id);
      if (at) boxes.push({ ...at, width: item.w, height: item.h, id: item.id });
    }
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) assert.ok(!intersects(boxes[i], boxes[j]), `${boxes[i].id} and ${boxes[j].id} overlap`);
      // …and no tag covers another person's avatar, nor stands nearer to another avatar
      // than to its own (it would read as that person's name).
      const toBox = (b, x, y) => Math.hypot(Math.max(b.left - x, 0, x - b.left - b.width), Math.max(b.top - y, 0, y - b.top - b.height));
      const owner = items.find((item) => item.id === boxes[i].id);
      for (const item of items) {
        if (item.id === boxes[i].id) continue;
        const avatar = { left: item.x - item.r, top: item.y - item.r, width: 2 * item.r, height: 2 * item.r };
        assert.ok(!intersects(boxes[i], avatar), `${boxes[i].id}'s tag covers ${item.id}`);
        assert.ok(toBox(boxes[i], item.x, item.y) >= toBox(boxes[i], owner.x, owner.y) - 0.5, `${boxes[i].id}'s tag stands nearer to ${item.id}`);
      }
    }
    return boxes.length;
  };
  for (let n = 2; n <= 15; n++) {
    const members = Array.from({ length: n }, (_, i) => ({ id: `p${i}`, x: Math.cos(i) * 10, y: Math.sin(i) * 10 }));
    const { slots } = ringSlots({ x: 0, y: 0, radius: 60 }, members, 36);
    const items = members.map((m) => ({ id: m.id, x: 400 + slots.get(m.id).x, y: 400 + slots.get(m.id).y, r: 36, w: 120, h: 20, away: { x: 400, y: 400 } }));
    const shown = check(items);
    // In a circle every name has room.
    assert.equal(shown, n, `every name shown in a circle of ${n}`);
  }
  // A crowd of 40 in a small space: tags that cannot be placed are left out, never stacked.
  let seed = 7;
  const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const crowd = Array.from({ length: 40 }, (_, i) => ({ id: `c${i}`, x: 300 + random() * 300, y: 300 + random() * 200, r: 18, w: 60 + random() * 80, h: 18 }));
  const shown = check(crowd);
  assert.ok(shown >= 10, `a fair share of the crowd keeps its tag (${shown})`);
});

test("name tags keep clear of obstacles: a circle's count above its ring, the floor's buttons", () => {
  // Someone standing right under a circle's count: the tag that would go above the avatar
  // (facing away from the circle's centre) takes another place.
  const circle = { x: 400, y: 400 };
  const item = { id: "a", x: 400, y: 320, r: 30, w: 120, h: 20, away: circle };
  const plain = placeTags([item]).get("a");
  assert.ok(plain.top < 290, `without obstacles, above the avatar: ${JSON.stringify(plain)}`);
  const badge = { left: 376, top: 262, width: 48, height: 22 };
  const zoom = { left: 520, top: 280, width: 40, height: 90 };
  const at = placeTags([item], { obstacles: [badge, zoom] }).get("a");
  const tag = { ...at, width: item.w, height: item.h };
  assert.ok(!intersects(tag, badge) && !intersects(tag, zoom), `clear of both: ${JSON.stringify(at)}`);
  // With nowhere else to go, no tag rather than one over the obstacle.
  const walls = [{ left: 0, top: 0, width: 800, height: 285 }, { left: 0, top: 355, width: 800, height: 400 }, { left: 0, top: 0, width: 365, height: 800 }, { left: 435, top: 0, width: 400, height: 800 }];
  assert.equal(placeTags([item], { obstacles: walls }).get("a"), null);
});

test("a name tag goes where it reads as its own person's, not beside someone else", () => {
  // A phone's floor as a browser test had it (strip-phone-en-2): one's own avatar at the top
  // of a ring of three, Amelia on its right near the floor's right edge (no room for her
  // tag on her right; above and below her, her neighbours' avatars are 2 px too close),
  // Bilal below. Her tag had gone to her left, under one's own avatar.
  const centre = { x: 324, y: 525 };
  const items = [
    { id: "me", x: 298, y: 480, r: 27, w: 159, h: 18, away: centre },
    { id: "amelia", x: 376, y: 525, r: 27, w: 102, h: 18, away: centre },
    { id: "bilal", x: 298, y: 570, r: 27, w: 110, h: 18, away: centre },
  ];
  const placed = placeTags(items, { bounds: { left: 105, top: 242, right: 491, bottom: 718 } });
  for (const item of items) {
    const at = placed.get(item.id);
    assert.ok(at, `${item.id} has a tag`);
    const mx = at.left + item.w / 2;
    const my = at.top + item.h / 2;
    const own = Math.hypot(mx - item.x, my - item.y);
    for (const other of items) {
      if (other !== item) assert.ok(Math.hypot(mx - other.x, my - other.y) >= own, `${item.id}'s tag (${JSON.stringify(at)}) is nearer to ${other.id}`);
    }
  }
  // The view's right edge further in (a narrower phone): no place on her right or beside
  // her avatar's edges is left. Her tag is not put under one's own avatar: it shows on
  // hover and focus only, or somewhere that is clearly hers.
  const narrow = placeTags(items, { bounds: { left: 105, top: 242, right: 440, bottom: 718 } }).get("amelia");
  if (narrow) {
    const mx = narrow.left + 51;
    const my = narrow.top + 9;
    const own = Math.hypot(mx - 376, my - 525);
    assert.ok(Math.hypot(mx - 298, my - 480) >= 0.75 * own && Math.hypot(mx - 298, my - 570) >= 0.75 * own, `Amelia's tag (${JSON.stringify(narrow)}) reads as someone else's`);
  }
});

// A circle of seven on a phone's floor (strip-phone-en-6): whole names left two of them
// without a tag. Cut short, every one of them finds a place, clearly theirs, and no tag
// covers another or an avatar.
test("in a full ring on a narrow floor, names cut short find a place where whole ones do not", () => {
  const centre = { x: 195, y: 580 };
  const names = [159, 104, 96, 110, 118, 102, 112];
  const items = names.map((w, i) => {
    const angle = -Math.PI / 2 + (i * 2 * Math.PI) / names.length;
    return { id: `m${i}`, x: centre.x + 88 * Math.cos(angle), y: centre.y + 88 * Math.sin(angle), r: 27, w, h: 20, away: centre };
  });
  const bounds = { left: 2, top: 312, right: 388, bottom: 782 };
  const whole = placeTags(items, { bounds });
  assert.ok([...whole.values()].some((at) => at === null), "whole names: some find no place");
  const placed = placeTags(items.map((item) => ({ ...item, short: 80 })), { bounds });
  const tags = items.map((item) => ({ item, at: placed.get(item.id) }));
  assert.deepEqual(tags.filter(({ at }) => !at).map(({ item }) => item.id), [], "every name has a place");
  for (const { item, at } of tags) {
    assert.ok(at.width === item.w || at.width === 80, `${item.id}: whole or cut short (${at.width})`);
    assert.ok(at.left >= bounds.left && at.left + at.width <= bounds.right, `${item.id} inside the floor`);
    const box = { left: at.left, top: at.top, width: at.width, height: 20 };
    for (const other of tags) {
      if (other.item === item) continue;
      assert.ok(!intersects(box, { left: other.at.left, top: other.at.top, width: other.at.width, height: 20 }), `${item.id}'s tag covers ${other.item.id}'s`);
      assert.ok(!intersects(box, { left: other.item.x - 27, top: other.item.y - 27, width: 54, height: 54 }), `${item.id}'s tag covers ${other.item.id}'s avatar`);
    }
  }
  // (A whole name is cut short only where its place would read a little as another's, or
  // there was none: some stay whole.)
  assert.ok(tags.some(({ item, at }) => at.width === item.w), "some names whole");
});

test("walking moves at the given pace and arrives exactly", () => {
  let p = { x: 0, y: 0 };
  const goal = { x: 300, y: 400 };
  let steps = 0;
  for (;;) {
    const next = walkStep(p, goal, 400, 100);
    steps += 1;
    if (!next.arrived) assert.ok(Math.abs(Math.hypot(next.x - p.x, next.y - p.y) - 40) < 1e-9, "40 units per 100 ms");
    p = next;
    if (next.arrived) break;
  }
  assert.deepEqual({ x: p.x, y: p.y }, goal);
  assert.equal(steps, 13, "500 units at 40 a step");
  assert.deepEqual(walkStep({ x: 5, y: 5 }, { x: 5, y: 5 }, 400, 100), { x: 5, y: 5, arrived: true });
});

test("people with the same name are told apart by a number, the same on every page", async () => {
  const { duplicateNumbers, initials } = await import("../../client-web/js/names.js");
  const people = [
    { id: "b2", name: "Anna Schmidt" },
    { id: "a1", name: "anna  schmidt" },
    { id: "c3", name: "Ben Okafor" },
    { id: "d4", name: "Anna Schmidt" },
  ];
  const numbers = duplicateNumbers(people);
  assert.deepEqual(Object.fromEntries(numbers), { a1: 1, b2: 2, d4: 3 }, "by id, ignoring case and spacing");
  assert.equal(numbers.has("c3"), false, "a name of one's own gets no number");
  // Any order of arrival gives the same numbers.
  assert.deepEqual(Object.fromEntries(duplicateNumbers([...people].reverse())), Object.fromEntries(numbers));
  assert.equal(initials("Dr. Dana Müller-Lüdenscheidt"), "DM");
  assert.equal(initials("Ümit"), "ÜM");
});
