// The help page: Leichte Sprache (German) and plain English, one shown at a time in the
// language the rest of the client uses; the switch changes both.
import { lang, setLang } from "./i18n.js";

const TITLES = { de: "Hilfe – Hallway", en: "Help – Hallway" };

function show(which) {
  document.documentElement.lang = which;
  document.title = TITLES[which];
  document.querySelector("#help-de").hidden = which !== "de";
  document.querySelector("#help-en").hidden = which !== "en";
}

show(lang());
for (const button of document.querySelectorAll(".help-switch")) {
  button.addEventListener("click", () => {
    const next = button.lang;
    setLang(next);
    show(next);
    document.querySelector(`#help-${next}-heading`).focus();
  });
}
