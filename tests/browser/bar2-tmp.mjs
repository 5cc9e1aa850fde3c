import { startServer, person, mintLink } from "./harness.mjs";
const server = await startServer();
for (const [lang, w] of [["de", 1280], ["en", 1280], ["de", 1366], ["de", 1440]]) {
  const p = await person(server, `Host ${lang}`, { lang, viewport: { width: w, height: 800 }, camera: false, link: mintLink(server, ["--room", "lobby", "--role", "host"]) });
  const r = await p.page.evaluate(() => {
    const bar = document.querySelector(".controlbar");
    const squeezed = [...bar.querySelectorAll(".squeezed")].map((b) => b.id);
    const cls = bar.className;
    bar.classList.remove("compact", "compact-minor");
    for (const b of bar.querySelectorAll(".squeezed")) b.classList.remove("squeezed");
    const over = bar.scrollWidth - bar.clientWidth;
    bar.classList.add("compact-minor");
    const over2 = bar.scrollWidth - bar.clientWidth;
    const widths = [...bar.querySelectorAll("button")].filter((b) => b.offsetParent).map((b) => `${b.id}:${Math.round(b.getBoundingClientRect().width)}`);
    return { cls, squeezed, over, over2, widths, gap: getComputedStyle(bar).gap, groups: [...bar.children].map((g) => getComputedStyle(g).gap) };
  });
  console.log(lang, w, JSON.stringify(r));
  await p.close();
}
await server.stop();
