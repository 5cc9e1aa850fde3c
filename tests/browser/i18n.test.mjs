// The client's texts under Node: German and English have the same keys and no empty text,
// every error code the server can send has a text in both languages, and the German uses
// the Sie-form.

import { test } from "node:test";
import assert from "node:assert/strict";

globalThis.localStorage = { getItem: () => null, setItem: () => {} };
globalThis.navigator ??= { language: "en" };
// Enough of a page for setLang, which also translates the page.
globalThis.document = { documentElement: {}, querySelectorAll: () => [] };
const { catalogues, t, setLang } = await import("../../client-web/js/i18n.js");
const { ERROR_CODES } = await import("../../client-web/js/wire.js");
const { icebreakerText } = await import("../../client-web/js/icebreaker.js");

test("German and English have the same keys, and no text is empty", () => {
  const en = Object.keys(catalogues.en).sort();
  const de = Object.keys(catalogues.de).sort();
  assert.deepEqual(de.filter((k) => !en.includes(k)), [], "only in German");
  assert.deepEqual(en.filter((k) => !de.includes(k)), [], "only in English");
  for (const lang of ["en", "de"]) {
    for (const [key, text] of Object.entries(catalogues[lang])) assert.ok(text.trim().length > 0, `${lang}: ${key} is empty`);
  }
  // The same placeholders in both languages.
  const holes = (text) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort().join(",");
  for (const key of en) assert.equal(holes(catalogues.de[key]), holes(catalogues.en[key]), `${key}: placeholders differ`);
});

test("every error code the server sends has a text in both languages", () => {
  // The codes as the protocol crate writes them on the wire (wire.js is generated from it).
  const codes = ERROR_CODES;
  assert.ok(codes.length >= 20, `found the codes (${codes.length})`);
  const missing = codes.filter((code) => !catalogues.en[`error.${code}`] || !catalogues.de[`error.${code}`]);
  assert.deepEqual(missing, [], "codes without a text");
});

test("the German texts address people with Sie, never du", () => {
  const du = /\b(du|dich|dir|dein|deine|deinen|deinem|deiner|hast|bist|kannst|willst)\b/i;
  for (const [key, text] of Object.entries(catalogues.de)) assert.ok(!du.test(text), `${key}: ${text}`);
});

test("an icebreaker is shown in the reader's language, a room's own as typed", () => {
  const builtin = { en: "What brought you to this event?", de: "Was hat Sie zu dieser Veranstaltung geführt?" };
  assert.equal(icebreakerText(builtin, "de"), builtin.de);
  assert.equal(icebreakerText(builtin, "en"), builtin.en);
  assert.equal(icebreakerText(builtin, "fr"), builtin.en, "English where there is none in the reader's");
  assert.equal(icebreakerText({ text: "Wie sind Sie angereist?" }, "en"), "Wie sind Sie angereist?");
  assert.equal(icebreakerText(null, "en"), "");
});

test("a count of one takes the singular where a text has one", () => {
  setLang("en");
  assert.equal(t("summary.inCirclesNote", { n: 1 }), "in 1 circle");
  assert.equal(t("summary.inCirclesNote", { n: 2 }), "in 2 circles");
  assert.equal(t("summary.inCirclesNote", { n: 0 }), "in 0 circles");
  setLang("de");
  assert.equal(t("summary.inCirclesNote", { n: 1 }), "in 1 Kreis");
  assert.equal(t("summary.inCirclesNote", { n: 3 }), "in 3 Kreisen");
  // Without a singular form the text stays as it is.
  assert.equal(t("waiting.for", { minutes: 1 }), "wartet seit 1\u00a0min");
  setLang("en");
});
