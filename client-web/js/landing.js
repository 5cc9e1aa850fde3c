// The landing page: type a room name, go to /r/<room>.
import { t, lang, setLang, translatePage } from "./i18n.js";

document.documentElement.lang = lang();
translatePage();
document.querySelector("#lang").addEventListener("click", () => setLang(lang() === "de" ? "en" : "de"));
document.querySelector("#go").addEventListener("submit", (event) => {
  event.preventDefault();
  const room = document.querySelector("#room-name").value.trim().toLowerCase().replace(/\s+/g, "-");
  if (room) location.href = `/r/${encodeURIComponent(room)}`;
});
document.title = t("app.title");
