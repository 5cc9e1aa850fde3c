// The people list's order, without the DOM (tested under Node): who matches a search, and
// the groups a host works with — on air, hands raised (oldest first: the queue), in
// circles, and alone.

// A name as searched: case, accents and spacing do not matter ("Muller" finds "Müller").
export function searchable(text) {
  return text
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .replace(/ß/g, "ss")
    .toLocaleLowerCase()
    .replace(/\s+/g, " ")
    .trim();
}

// Whether `shown` (a name as the list shows it) matches every word of `query`.
export function matches(shown, query) {
  const words = searchable(query).split(" ").filter(Boolean);
  if (words.length === 0) return true;
  const text = searchable(shown);
  return words.every((w) => text.includes(w));
}

export const GROUPS = ["onAir", "hands", "circles", "alone"];

// The group one person is listed in: the first that applies of on air, hand raised, in a
// circle, alone.
export function groupOf(p, broadcasters) {
  if (broadcasters.includes(p.id)) return "onAir";
  if (p.hand) return "hands";
  if (p.circle != null) return "circles";
  return "alone";
}

// Raised hands first come, first served; a hand without a time (an older server) after
// those with one; then by name.
function byHand(a, b) {
  const at = (p) => p.hand_at ?? Number.MAX_SAFE_INTEGER;
  return at(a) - at(b) || a.name.localeCompare(b.name);
}

// Everyone in `people` (an iterable of participants) that matches `query`, by group, each
// group in its order: by name, and the hands as the queue. `shown(p)` is the name as listed
// (with a number for same names); the search looks at it and at the profile line, so that
// "bamberg" finds everyone from Bamberg and "anna bamberg" the Anna among them.
export function groupPeople(people, { broadcasters = [], query = "", shown = (p) => p.name } = {}) {
  const groups = Object.fromEntries(GROUPS.map((g) => [g, []]));
  let total = 0;
  for (const p of people) {
    total += 1;
    if (matches(p.profile ? `${shown(p)} ${p.profile}` : shown(p), query)) groups[groupOf(p, broadcasters)].push(p);
  }
  for (const g of GROUPS) groups[g].sort(g === "hands" ? byHand : (a, b) => shown(a).localeCompare(shown(b)));
  const found = GROUPS.reduce((n, g) => n + groups[g].length, 0);
  return { groups, found, total };
}

// The hand to answer next: the oldest raised hand of someone not on air, skipping those
// in `skip` (already called on).
export function nextHand(people, broadcasters = [], skip = new Set()) {
  return [...people].filter((p) => p.hand && !broadcasters.includes(p.id) && !skip.has(p.id)).sort(byHand)[0];
}
