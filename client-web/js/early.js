// A reloaded page asks for its place back at once. This small module runs as soon as it
// has loaded (it is `async`), long before the rest of the page: when this tab was in the
// room a moment ago, it opens the connection and says hello with the resume token, so
// that the server, which keeps a closed page's place only briefly, finds it back in time.
// connection.js takes the socket over, with whatever arrived meanwhile.

import { messages } from "./protocol.js";

const slug = decodeURIComponent(location.pathname.split("/").filter(Boolean)[1] ?? "lobby");

function read(name) {
  try {
    return JSON.parse(sessionStorage.getItem(name) ?? "null");
  } catch {
    return null;
  }
}

const saved = read(`hallway.resume.${slug}`);
// Not if the page itself has connected already (connection.js ran first).
if (saved?.token && !location.hash.includes("token=") && !window.hallwayConnecting) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${location.host}/ws`);
  const early = { socket, received: [], helloSent: false };
  socket.addEventListener("open", () => {
    socket.send(JSON.stringify(messages.hello(slug, { name: saved.name, profile: saved.profile, token: read(`hallway.link.${slug}`) ?? undefined, resume: saved.token })));
    early.helloSent = true;
    // For diagnostics: how soon after the page started the hello went out.
    window.hallwayHelloAt = performance.now();
  });
  socket.addEventListener("message", (event) => early.received.push(event));
  window.hallwayEarly = early;
}
