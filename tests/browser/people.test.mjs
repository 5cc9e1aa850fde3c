// The people list's order under Node: search that ignores case and accents, the groups
// (on stage, hands raised oldest first, in circles, alone) and the next hand to answer.

import { test } from "node:test";
import assert from "node:assert/strict";
import { matches, groupPeople, nextHand } from "../../client-web/js/people.js";

const person = (id, name, more = {}) => ({ id, name, circle: null, hand: false, ...more });

test("search matches every word, ignoring case, accents and spacing", () => {
  assert.ok(matches("Jürgen Müller", "muller"));
  assert.ok(matches("Jürgen Müller", "  JÜR   mül "));
  assert.ok(matches("Anna Schmidt (2)", "anna 2"));
  assert.ok(matches("Straßburg", "strassburg"));
  assert.ok(matches("Anyone", ""));
  assert.ok(!matches("Anna Schmidt", "anna weber"));
});

test("everyone is in exactly one group; hands are a queue, oldest first", () => {
  const people = [
    person("a", "Zoe", { hand: true, hand_at: 3000 }),
    person("b", "Anna", { hand: true, hand_at: 1000, circle: 4 }),
    person("c", "Ben", { circle: 4 }),
    person("d", "Clara"),
    person("e", "Hanna", { hand: true, hand_at: 500 }),
    person("f", "Old server", { hand: true }),
  ];
  const { groups, found, total } = groupPeople(people, { broadcasters: ["e"] });
  assert.deepEqual(groups.onAir.map((p) => p.id), ["e"], "on stage comes before a raised hand");
  assert.deepEqual(groups.hands.map((p) => p.id), ["b", "a", "f"], "oldest first, a hand without a time last");
  assert.deepEqual(groups.circles.map((p) => p.id), ["c"]);
  assert.deepEqual(groups.alone.map((p) => p.id), ["d"]);
  assert.equal(found, 6);
  assert.equal(total, 6);
});

test("a search keeps the groups and counts what it found", () => {
  const people = Array.from({ length: 300 }, (_, i) => person(`p${i}`, `Person ${i}`, { circle: i % 3 === 0 ? i : null }));
  const { groups, found, total } = groupPeople(people, { query: "person 12" });
  assert.equal(total, 300);
  // Every word anywhere in the name: "Person 12", "112", "120"…"129" and "212".
  assert.equal(found, 13);
  assert.deepEqual(groups.circles.map((p) => p.name), ["Person 12", "Person 120", "Person 123", "Person 126", "Person 129"]);
});

test("a search finds the profile line too, and a name with it", () => {
  const people = [
    { id: "a", name: "Anna Roth", profile: "Stadt Bamberg · Smart City" },
    { id: "b", name: "Anna Berg", profile: "Landratsamt Ebersberg" },
    { id: "c", name: "Carl Bamberger" },
  ];
  const names = (query) => Object.values(groupPeople(people, { query }).groups).flat().map((p) => p.name).sort();
  assert.deepEqual(names("bamberg"), ["Anna Roth", "Carl Bamberger"]);
  assert.deepEqual(names("anna bamberg"), ["Anna Roth"]);
  assert.deepEqual(names("LANDRATSAMT"), ["Anna Berg"]);
  assert.deepEqual(names("smart city anna"), ["Anna Roth"]);
});

test("the next hand skips whoever is on stage or already called", () => {
  const people = [person("a", "Anna", { hand: true, hand_at: 1 }), person("b", "Ben", { hand: true, hand_at: 2 }), person("c", "Clara", { hand: true, hand_at: 3 })];
  assert.equal(nextHand(people).id, "a");
  assert.equal(nextHand(people, ["a"]).id, "b");
  assert.equal(nextHand(people, ["a"], new Set(["b"])).id, "c");
  assert.equal(nextHand(people, ["a", "b", "c"]), undefined);
});
