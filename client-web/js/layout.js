// Layout as pure functions of sizes and counts: the conversation grid (and its strip on a
// phone), where members stand around their circle's ring, where name tags go so that none
// covers another, and how far a walker gets in a moment. No DOM here: tests/browser/layout.test.mjs runs
// these under Node with many cases.

// The grid for `count` tiles of `aspect` (width / height) in a box of `width` × `height`
// pixels with `gap` between tiles: the number of columns that makes the tiles largest
// (fewer rows on a tie). Returns { cols, rows, tileWidth, tileHeight }.
export function gridLayout({ count, width, height, gap = 8, aspect = 16 / 9 }) {
  if (count <= 0 || width <= 0 || height <= 0) return { cols: 0, rows: 0, tileWidth: 0, tileHeight: 0 };
  let best = null;
  for (let cols = 1; cols <= count; cols++) {
    const rows = Math.ceil(count / cols);
    const byWidth = (width - gap * (cols - 1)) / cols;
    const byHeight = ((height - gap * (rows - 1)) / rows) * aspect;
    const tileWidth = Math.floor(Math.max(0, Math.min(byWidth, byHeight)));
    if (!best || tileWidth > best.tileWidth) best = { cols, rows, tileWidth, tileHeight: Math.floor(tileWidth / aspect) };
  }
  return best;
}

// On a desktop, whether one's own picture (otherwise a small tile `own` px wide beside the
// grid, `apart` from it) takes a place among the others' tiles: only where it fills a
// place they leave empty (no extra row) and every tile gets clearly larger by it, a tenth
// at least (seven others in four columns of two rows: the eighth place is one's own; a
// few pixels are not worth one's own face full size, nor a picture that jumps back and
// forth while the window is resized). Never with one other: a conversation of two keeps
// the other person large.
export function ownAmongOthers({ count, width, height, own, gap = 8, apart = gap, aspect = 16 / 9 }) {
  if (count < 2 || width <= 0 || height <= 0) return false;
  const beside = gridLayout({ count, width: width - own - apart, height, gap, aspect });
  const among = gridLayout({ count: count + 1, width, height, gap, aspect });
  return among.tileWidth >= 1.1 * beside.tileWidth && Math.ceil(count / among.cols) === among.rows;
}

// How wide one's own picture beside the grid is: `own` px, or less where the others'
// tiles would be smaller than it (a low window, a prompt beside the tiles): one's own
// face is never shown larger than the people one talks to. The widest width up to `own`
// at which the others' tiles are at least as wide; 4 px steps, so that it does not move
// with every pixel of a resize.
export function ownBeside({ count, width, height, own, gap = 8, apart = gap, aspect = 16 / 9, min = 64 }) {
  for (let w = Math.floor(own); w > min; w -= 4) {
    if (gridLayout({ count, width: width - w - apart, height, gap, aspect }).tileWidth >= w) return w;
  }
  return min;
}

// The conversation on a phone: a strip above the floor, `width` × `height` pixels, for
// `count` tiles of the others and (with `self`) one's own picture at half their width
// after them. Everyone on one screen while tiles can stay `min` px wide, in one row or
// two; beyond that, pages of whole columns that scroll sideways, as many tiles a page as
// can be `min` wide, the columns filling the page exactly (a little wider than 16:9 if
// the height is short). Never a tile cut by the strip's edge: a half tile reads as
// broken, not as "more this way". When one's own picture as a tile among the others
// makes all tiles larger (three others in two rows: it takes the empty fourth place),
// it goes there (`selfInGrid`). Returns { rows, tileWidth, tileHeight, fits, selfInGrid }
// (fits: everyone on one screen).
export function stripLayout({ count, self = false, width, height, gap = 8, aspect = 16 / 9, min = 140 }) {
  if (width <= 0 || height <= 0) return { rows: 1, tileWidth: 0, tileHeight: 0, fits: true, selfInGrid: false };
  const n = Math.max(1, count);
  const byHeight = (rows) => ((height - gap * (rows - 1)) / rows) * aspect;
  let fit = null;
  const ways = [{ cells: n, half: self, selfInGrid: false }];
  if (self) ways.push({ cells: n + 1, half: false, selfInGrid: true });
  for (const { cells, half, selfInGrid } of ways) {
    for (const rows of [1, 2]) {
      if (rows > cells) break;
      const cols = Math.ceil(cells / rows);
      const across = (width - gap * (cols - 1) - (half ? gap : 0)) / (cols + (half ? 0.5 : 0));
      const tileWidth = Math.floor(Math.min(across, byHeight(rows)));
      if (!fit || tileWidth > fit.tileWidth) fit = { rows, tileWidth, tileHeight: Math.floor(tileWidth / aspect), fits: true, selfInGrid };
    }
  }
  if (fit.tileWidth >= min) return fit;
  let page = null;
  for (const rows of [1, 2]) {
    const tall = byHeight(rows);
    // Columns a page: enough that tiles are no taller than the strip, few enough that
    // they stay `min` wide.
    const cols = Math.max(1, Math.min(Math.ceil((width + gap) / (tall + gap)), Math.floor((width + gap) / (min + gap))));
    const tileWidth = Math.floor((width - gap * (cols - 1)) / cols);
    const tileHeight = Math.floor(Math.min(tileWidth, tall) / aspect);
    const shown = rows * cols;
    const ok = Math.min(tileWidth, tall) >= min;
    // Most tiles a page that are `min` wide (larger ones on a tie); if none can be, the
    // largest.
    const better =
      !page ||
      (ok && !page.ok) ||
      (ok && page.ok && (shown > page.shown || (shown === page.shown && tileHeight > page.tileHeight))) ||
      (!ok && !page.ok && tileHeight > page.tileHeight);
    if (better) page = { rows, tileWidth, tileHeight, ok, shown };
  }
  return { rows: page.rows, tileWidth: page.tileWidth, tileHeight: page.tileHeight, fits: false, selfInGrid: false };
}

// The people beside a shared screen, in a conversation of `width` × `height` pixels: a
// column of about a fifth of the width (160–280 px), wider where the screen, as tall as
// the conversation, leaves room beside it anyway (never more than half, but for the
// 160 px it always gets; `apart` between the screen and the column). Everyone in view
// while tiles can be `min` px wide, in one column or more; otherwise a column that scrolls
// by whole tiles: as many rows as fill the height exactly, the tiles as large as the
// column allows (never a tile cut by the column's edge, as in the phone's strip).
// Returns { cols, rows, tileWidth, tileHeight, fits } (rows: the rows in view).
export function besideLayout({ count, width, height, gap = 8, apart = gap, aspect = 16 / 9, min = 100 }) {
  const n = Math.max(1, count);
  if (width <= 0 || height <= 0) return { cols: 1, rows: 1, tileWidth: 0, tileHeight: 0, fits: true };
  const base = Math.max(160, Math.min(280, width * 0.22));
  const spare = width - height * aspect - apart;
  const column = Math.max(base, Math.min(spare, width / 2));
  const all = gridLayout({ count: n, width: column, height, gap, aspect });
  if (all.tileWidth >= min) return { cols: all.cols, rows: all.rows, tileWidth: all.tileWidth, tileHeight: all.tileHeight, fits: true };
  const cols = Math.max(1, Math.floor((column + gap) / (min + gap)));
  const cell = (column - gap * (cols - 1)) / cols;
  const fill = (rows) => (height - gap * (rows - 1)) / rows;
  // The fewest rows whose tiles, as tall as fills the height, are no wider than a cell.
  let rows = Math.max(1, Math.ceil((height + gap) / (cell / aspect + gap)));
  let tileWidth = Math.floor(fill(rows) * aspect);
  // (A column too low for that: one row fewer, its tiles taller than 16:9.)
  if (tileWidth < min && rows > 1) {
    rows -= 1;
    tileWidth = Math.floor(cell);
  }
  return { cols, rows, tileWidth: Math.min(tileWidth, Math.floor(cell)), tileHeight: Math.floor(fill(rows)), fits: false };
}

// Where each member of a circle stands on the floor: evenly around a ring about the
// circle's centre, in the order they stand around it (so that nobody swaps places when
// someone joins), turned so that everyone moves as little as possible. `members` are
// { id, x, y }; `avatar` is an avatar's radius in floor units. Returns
// { ring, slots: Map id → { x, y } }: `ring` is the radius the members stand on, at least
// as large as the circle's and large enough that avatars do not touch.
export function ringSlots({ x: cx, y: cy, radius }, members, avatar) {
  const n = members.length;
  const slots = new Map();
  if (n === 0) return { ring: radius, slots };
  // Neighbours on a ring of radius r are 2·r·sin(π/n) apart; keep a third of an avatar
  // between them.
  const needed = n > 1 ? (2.35 * avatar) / (2 * Math.sin(Math.PI / n)) : 0;
  const ring = Math.max(radius * 0.7, needed, avatar * 1.2);
  const angles = members.map((m) => ({
    id: m.id,
    angle: m.x === cx && m.y === cy ? 0 : Math.atan2(m.y - cy, m.x - cx),
  }));
  angles.sort((a, b) => a.angle - b.angle || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const step = (2 * Math.PI) / n;
  // The turn that keeps everyone closest to where they stand: the circular mean of each
  // member's angle minus the angle of their slot.
  let sx = 0;
  let sy = 0;
  angles.forEach((a, i) => {
    sx += Math.cos(a.angle - i * step);
    sy += Math.sin(a.angle - i * step);
  });
  const start = sx === 0 && sy === 0 ? 0 : Math.atan2(sy, sx);
  angles.forEach((a, i) => {
    const angle = start + i * step;
    slots.set(a.id, { x: cx + ring * Math.cos(angle), y: cy + ring * Math.sin(angle) });
  });
  return { ring, slots };
}

// Name tags that never cover one another. `items` are avatars in screen pixels,
// { id, x, y, r, w, h }: the avatar's centre and radius, the tag's width and height;
// optional `away` = { x, y } is a point the tag should rather face away from (a circle's
// centre, so that tags stand outside the ring); optional `short`, a narrower width the
// tag may take (its name cut short) where the whole one finds no place. Items earlier in
// the list win a contested place. Returns Map id → { left, top, width } for each tag that
// could be placed without touching another tag or another avatar (and, given `bounds` =
// { left, top, right, bottom }, inside them, and clear of `obstacles`, boxes { left, top,
// width, height } such as circles' counts and the floor's buttons), or null for one that
// could not (the page then shows that name on hover and focus only).
export function placeTags(items, { gap = 2, bounds = null, obstacles = [] } = {}) {
  const placed = new Map();
  const cell = 96;
  const grid = new Map();
  const key = (i, j) => `${i},${j}`;
  const boxes = (box) => {
    const out = [];
    for (let i = Math.floor(box.left / cell); i <= Math.floor((box.left + box.width) / cell); i++) {
      for (let j = Math.floor(box.top / cell); j <= Math.floor((box.top + box.height) / cell); j++) out.push(key(i, j));
    }
    return out;
  };
  const add = (box) => {
    for (const k of boxes(box)) {
      if (!grid.has(k)) grid.set(k, []);
      grid.get(k).push(box);
    }
  };
  const free = (box, owner) => {
    for (const k of boxes(box)) {
      for (const other of grid.get(k) ?? []) {
        if (other.owner === owner && other.avatar) continue;
        if (intersects(box, other, gap)) return false;
      }
    }
    return true;
  };
  // A tag nearer to another avatar than to its own reads as that person's name (one's
  // own avatar seemed to be called "Amelia Hart"): such a place is not taken.
  const toBox = (box, x, y) => Math.hypot(Math.max(box.left - x, 0, x - box.left - box.width), Math.max(box.top - y, 0, y - box.top - box.height));
  // How far a place reads as another's: 0 not at all; 1 its middle is a little nearer
  // another avatar (taken only where no place is clear); 2 its edge is nearer another
  // avatar, or its middle clearly so (never taken).
  const misleading = (box, item) => {
    const own = toBox(box, item.x, item.y);
    const mx = box.left + box.width / 2;
    const my = box.top + box.height / 2;
    const middle = Math.hypot(mx - item.x, my - item.y);
    // (Every avatar nearer than that has its centre in these cells: the middle lies in
    // the tag, so `middle` is at least `own`.)
    const near = { left: box.left - middle, top: box.top - middle, width: box.width + 2 * middle, height: box.height + 2 * middle };
    let worst = 0;
    for (const k of boxes(near)) {
      for (const other of grid.get(k) ?? []) {
        if (!other.avatar || other.owner === item.id) continue;
        const ox = other.left + other.width / 2;
        const oy = other.top + other.height / 2;
        const fromMiddle = Math.hypot(mx - ox, my - oy);
        if (toBox(box, ox, oy) < own - 0.5 || fromMiddle < 0.75 * middle) return 2;
        if (fromMiddle < middle - 0.5) worst = 1;
      }
    }
    return worst;
  };
  for (const box of obstacles) add({ ...box, owner: null });
  // Every avatar is an obstacle for every other avatar's tag.
  for (const item of items) add({ left: item.x - item.r, top: item.y - item.r, width: 2 * item.r, height: 2 * item.r, owner: item.id, avatar: true });
  // The best place for `item`'s tag at width `w`: { clear, fallback } (a place that reads
  // as theirs; one that reads a little as another's), each or both null.
  const place = (item, w) => {
    let fallback = null;
    for (const box of candidates({ ...item, w })) {
      // A tag stays inside the visible part of the floor, when that is given.
      if (bounds && (box.left < bounds.left || box.top < bounds.top || box.left + box.width > bounds.right || box.top + box.height > bounds.bottom)) continue;
      if (!free(box, item.id)) continue;
      const reads = misleading(box, item);
      if (reads === 0) return { clear: box, fallback };
      if (reads === 1) fallback ??= box;
    }
    return { clear: null, fallback };
  };
  for (const item of items) {
    // The whole name in a clear place, else cut short in one, else either where it reads a
    // little as another's.
    const whole = place(item, item.w);
    const short = !whole.clear && item.short && item.short < item.w ? place(item, item.short) : { clear: null, fallback: null };
    const found = whole.clear ?? short.clear ?? whole.fallback ?? short.fallback;
    if (found) {
      add({ ...found, owner: item.id });
      placed.set(item.id, { left: found.left, top: found.top, width: found.width });
    } else {
      placed.set(item.id, null);
    }
  }
  return placed;
}

// Places for a tag around its avatar, best first: below (or, facing away from `away`,
// on the far side), then the other sides and the corners.
function candidates({ x, y, r, w, h, away }) {
  const below = { left: x - w / 2, top: y + r + 2 };
  const above = { left: x - w / 2, top: y - r - 2 - h };
  const right = { left: x + r + 4, top: y - h / 2 };
  const left = { left: x - r - 4 - w, top: y - h / 2 };
  const belowRight = { left: x + r * 0.5, top: y + r * 0.85 };
  const belowLeft = { left: x - r * 0.5 - w, top: y + r * 0.85 };
  const aboveRight = { left: x + r * 0.5, top: y - r * 0.85 - h };
  const aboveLeft = { left: x - r * 0.5 - w, top: y - r * 0.85 - h };
  // Below and above, starting at the avatar's left edge (running rightwards) or ending at
  // its right edge: past a neighbour on the other side, still clearly this avatar's.
  const belowFromLeft = { left: x - r, top: y + r + 2 };
  const belowFromRight = { left: x + r - w, top: y + r + 2 };
  const aboveFromLeft = { left: x - r, top: y - r - 2 - h };
  const aboveFromRight = { left: x + r - w, top: y - r - 2 - h };
  let order = [below, above, right, left, belowRight, belowLeft, aboveRight, aboveLeft, belowFromLeft, belowFromRight, aboveFromLeft, aboveFromRight];
  if (away) {
    const dx = x - away.x;
    const dy = y - away.y;
    if (Math.abs(dx) > Math.abs(dy) * 1.5) {
      order = dx > 0 ? [right, below, above, belowFromLeft, aboveFromLeft, belowRight, aboveRight, left] : [left, below, above, belowFromRight, aboveFromRight, belowLeft, aboveLeft, right];
    } else if (dy < 0) order = [above, aboveRight, aboveLeft, right, left, aboveFromLeft, aboveFromRight, below];
  }
  return order.map((b) => ({ left: b.left, top: b.top, width: w, height: h }));
}

export function intersects(a, b, gap = 0) {
  return a.left < b.left + b.width + gap && b.left < a.left + a.width + gap && a.top < b.top + b.height + gap && b.top < a.top + a.height + gap;
}

// One step of a walk: from `from` towards `to` at `speed` floor units per second for
// `ms` milliseconds. Returns the point reached and whether it is the goal.
export function walkStep(from, to, speed, ms) {
  const dx = to.x - from.x;
  const dy = to.y - from.y;
  const distance = Math.hypot(dx, dy);
  const reach = (speed * ms) / 1000;
  if (distance <= reach || distance === 0) return { x: to.x, y: to.y, arrived: true };
  return { x: from.x + (dx / distance) * reach, y: from.y + (dy / distance) * reach, arrived: false };
}
