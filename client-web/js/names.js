// How people are shown: initials and a colour of their own for the avatar, and the
// numbers that tell apart people who carry the same name.

export function initials(name) {
  const words = name.trim().split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w[0] ?? ""));
  const letters = words.length > 1 ? [...words[0]][0] + [...words[words.length - 1]][0] : [...(words[0] ?? name)].slice(0, 2).join("");
  return letters.toUpperCase();
}

export function colour(id) {
  let hash = 0;
  for (const ch of id) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  // Dark enough for white initials to meet WCAG AA contrast.
  return `hsl(${hash % 360} 55% 28%)`;
}

// For every participant whose name (ignoring case and spacing) is carried by someone else
// too: a number, 1, 2, … in the order they arrived (the server's ids are not shown).
// `participants` is an iterable of { id, name, joined? }; returns Map id → number.
export function duplicateNumbers(participants) {
  const groups = new Map();
  for (const p of participants) {
    const key = p.name.normalize("NFKC").toLocaleLowerCase().replace(/\s+/g, " ").trim();
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(p);
  }
  const numbers = new Map();
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    group.sort((a, b) => (a.joined ?? 0) - (b.joined ?? 0) || (a.id < b.id ? -1 : 1));
    group.forEach((p, i) => numbers.set(p.id, i + 1));
  }
  return numbers;
}
