// The page's language and its texts (kept in texts-en.js and texts-de.js). The language
// comes from the browser, can be switched, and is remembered on this device.

import { en } from "./texts-en.js";
import { de } from "./texts-de.js";

const texts = { en, de };

// Both catalogues, for the test that checks they have the same keys.
export { texts as catalogues };

let language = pick();

function pick() {
  const saved = localStorage.getItem("hallway.lang");
  if (saved && texts[saved]) return saved;
  const browser = (navigator.language || "en").slice(0, 2).toLowerCase();
  return texts[browser] ? browser : "en";
}

export function lang() {
  return language;
}

export function setLang(next) {
  language = texts[next] ? next : "en";
  localStorage.setItem("hallway.lang", language);
  document.documentElement.lang = language;
  translatePage();
}

// A key with a singular form (`key.one`) takes it when its count (`n` or `count`) is 1.
export function t(key, vars = {}) {
  const catalogue = key in texts[language] ? texts[language] : texts.en;
  const count = vars.n ?? vars.count;
  if (count === 1 && `${key}.one` in catalogue) key = `${key}.one`;
  const template = catalogue[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

// A list of names in the language: "Anna, Ben and Chris".
export function listNames(names) {
  if (names.length <= 1) return names.join("");
  return names.slice(0, -1).join(", ") + t("and") + names[names.length - 1];
}

// Fills every element with data-i18n (text), data-i18n-label (aria-label, title) or
// data-i18n-placeholder (placeholder).
export function translatePage(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  // Links to pages that speak both languages (the accessibility statement) ask for ours.
  for (const el of root.querySelectorAll("a[data-lang-href]")) el.href = `${el.dataset.langHref}?lang=${language}`;
  for (const el of root.querySelectorAll("[data-i18n-label]")) {
    el.setAttribute("aria-label", t(el.dataset.i18nLabel));
    el.title = t(el.dataset.i18nLabel);
  }
}

export function errorText(code) {
  const key = `error.${code}`;
  return texts.en[key] ? t(key) : t("error.generic", { code });
}
