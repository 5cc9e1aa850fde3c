// The room page: the join screen, then the room. Wires the connection, the room state,
// the floor, the side panel, local media and the WebRTC peers together.

import { messages, LIMITS, CLOSE, REACTIONS } from "./protocol.js";
import { RoomState } from "./state.js";
import { Connection } from "./connection.js";
import { Floor } from "./floor.js";
import { Panel } from "./panel.js";
import { LocalMedia } from "./media.js";
import { Peers } from "./peers.js";
import { Sfu } from "./sfu.js";
import { t, lang, setLang, translatePage, listNames, errorText } from "./i18n.js";

const slug = decodeURIComponent(location.pathname.split("/").filter(Boolean)[1] ?? "lobby");
// A signed link carries its token in the fragment, which browsers never send to a server.
const token = new URLSearchParams(location.hash.slice(1)).get("token") ?? undefined;
const $ = (selector) => document.querySelector(selector);

const state = new RoomState();
const media = new LocalMedia();
let joined = false;
let lastPosition = null;
// Times this page got its place back after a dropped connection.
let resumes = 0;
let lastWalk = 0;
let previewing = Promise.resolve();
let invitedToStage = false;

const conn = new Connection({
  // Back after a dropped connection, the welcome's token asks for our place back.
  onOpen: () => conn.send(messages.hello(slug, $("#name").value.trim(), token, $("#passcode").value.trim() || undefined, joined ? state.resume : undefined)),
  onMessage: (msg) => receive(msg),
  onStatus: (status) => showStatus(status),
});

const peers = new Peers({
  send: (to, payload) => conn.send(messages.signal(to, payload)),
  media,
  onStream: (id, stream) => floor.setVideo(id, stream),
  onClosed: (id) => floor.setVideo(id, null),
});

// Broadcasts arrive through the server's SFU and play on the stage; while one plays,
// circle audio is turned down so the stage can be heard.
const sfu = new Sfu({
  send: (msg) => conn.send(msg),
  media,
  onStream: (id, stream) => forwarded(id, stream),
  onEnded: (id) => forwarded(id, null),
});

const floor = new Floor($("#floor"), { onWalk: (x, y) => walk(x, y) });
const panel = new Panel($("#panel"), {
  onGoToPerson: (id) => goToPerson(id),
  onGoToCircle: (id) => goToCircle(id),
  onHostAction: (action, id) => {
    if (action === "invite") conn.send(messages.inviteToStage(id));
    else if (action === "mute") conn.send(messages.mute(id));
    else if (action === "remove") conn.send(messages.remove(id, false));
    else if (action === "ban") conn.send(messages.remove(id, true));
  },
});

// --- join screen

function setUpJoinScreen() {
  document.documentElement.lang = lang();
  translatePage();
  $("#join-heading").textContent = t("join.heading", { room: slug });
  document.title = `${slug} – Hallway`;
  $("#name").maxLength = LIMITS.maxNameChars;
  $("#name").value = localStorage.getItem("hallway.name") ?? "";
  $("#join-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = $("#name").value.trim();
    if (name.length < 1 || [...name].length > LIMITS.maxNameChars) {
      showJoinError(t("error.invalid_name"));
      return;
    }
    localStorage.setItem("hallway.name", name);
    $("#enter").disabled = true;
    // Enter with the camera and microphone ready, so that the first connections send them.
    await previewing;
    conn.open();
  });
  const again = () => (previewing = preview());
  for (const id of ["#camera-select", "#mic-select", "#camera-on", "#mic-on"]) $(id).addEventListener("change", again);
  for (const button of document.querySelectorAll(".lang-switch")) {
    button.addEventListener("click", () => {
      setLang(lang() === "de" ? "en" : "de");
      $("#join-heading").textContent = t("join.heading", { room: slug });
      if (joined) refresh();
    });
  }
  previewing = preview();
}

async function preview() {
  await media.open({
    cameraId: $("#camera-select").value || undefined,
    micId: $("#mic-select").value || undefined,
    camera: $("#camera-on").checked,
    mic: $("#mic-on").checked,
  });
  $("#preview").srcObject = media.camera ? new MediaStream([media.camera]) : null;
  $("#no-devices").hidden = !!(media.camera || media.mic) || (!$("#camera-on").checked && !$("#mic-on").checked);
  const { cameras, mics } = await media.devices();
  fillSelect($("#camera-select"), cameras, media.camera?.getSettings().deviceId);
  fillSelect($("#mic-select"), mics, media.mic?.getSettings().deviceId);
}

function fillSelect(select, devices, current) {
  select.replaceChildren(
    ...devices.map((d, i) => {
      const option = document.createElement("option");
      option.value = d.deviceId;
      option.textContent = d.label || `${select.dataset.kind} ${i + 1}`;
      option.selected = d.deviceId === current;
      return option;
    }),
  );
}

function showJoinError(text) {
  $("#join-error").textContent = text;
  $("#join-error").hidden = false;
  $("#enter").disabled = false;
}

// --- messages from the server

function receive(msg) {
  switch (msg.type) {
    case "welcome":
      return welcomed(msg);
    case "error":
      return serverError(msg);
    case "connect":
      return msg.restart ? peers.restart(msg.peer, msg.initiator) : peers.connect(msg.peer, msg.initiator);
    case "disconnect":
      return peers.close(msg.peer);
    case "signal":
      return peers.signal(msg.from, msg.payload);
    case "sfu_offer":
      return sfu.offered(msg.sdp).catch(() => {});
    case "sfu_answer":
      return sfu.answered(msg.sdp);
    case "muted":
      media.setMic(false);
      return toast(t("host.mutedYou"));
    case "gathered":
      return announce(t("host.gathered"));
    case "stage_invite":
      invitedToStage = true;
      updateControls();
      announce(t("host.invitedYou"));
      return toast(t("host.invitedYou"));
    case "reaction": {
      const symbol = REACTIONS[msg.reaction];
      if (symbol) floor.react(msg.id, symbol);
      return;
    }
  }
  const change = state.apply(msg);
  if (!change) return;
  switch (change.kind) {
    case "positions": {
      floor.positions(change.ids);
      const me = state.me();
      if (me) {
        lastPosition = { x: me.x, y: me.y };
        if (change.ids.includes(me.id)) floor.keepInView(me);
      }
      return;
    }
    case "reset":
      floor.renderAll();
      panel.render(state);
      panel.renderChat(state);
      return;
    case "chat":
      panel.addChat(state, change.message);
      return;
    case "room":
      showRoomState();
      return;
    case "areas":
      floor.renderAreas();
      renderAreaList();
      return;
    case "stage":
      floor.renderAvatar(state.participants.get(change.id));
      panel.render(state);
      updateControls();
      followSfu();
      return;
    case "hand": {
      const p = state.participants.get(change.id);
      floor.renderAvatar(p);
      panel.render(state);
      updateControls();
      if (p?.hand && change.id !== state.you && state.me()?.role === "host") announce(t("announce.hand", { name: p.name }));
      return;
    }
    case "joined":
      floor.renderAvatar(state.participants.get(change.id));
      panel.render(state);
      return;
    case "left":
      floor.renderAll();
      panel.render(state);
      return;
    case "media":
    case "reconnecting":
      floor.renderAvatar(state.participants.get(change.id));
      panel.render(state);
      return;
    case "circle":
      announceCircle(change);
      floor.renderAll();
      panel.render(state);
      updateControls();
      followSfu();
      return;
  }
}

// Publish to the SFU exactly while we broadcast or stand in a circle whose media goes
// through the server (a large circle, or any circle in a room in privacy mode).
function followSfu() {
  const needed = state.broadcasters.includes(state.you) || state.myCircle()?.media === "sfu";
  if (needed && !sfu.publishing) sfu.publish().catch(() => {});
  else if (!needed && sfu.publishing) sfu.unpublish();
}

// A stream forwarded by the SFU: a broadcaster plays on the stage, a member of our circle
// on their avatar, as a direct connection would.
function forwarded(id, stream) {
  if (!stream) {
    showOnStage(id, null);
    if (!peers.pc(id)) floor.setVideo(id, null);
  } else if (state.broadcasters.includes(id)) {
    showOnStage(id, stream);
  } else {
    floor.setVideo(id, stream);
  }
}

function showOnStage(id, stream) {
  const tiles = $("#stage-tiles");
  let tile = tiles.querySelector(`[data-id="${CSS.escape(id)}"]`);
  if (!stream) {
    tile?.remove();
  } else {
    if (!tile) {
      tile = document.createElement("li");
      tile.dataset.id = id;
      const figure = document.createElement("figure");
      const video = document.createElement("video");
      video.autoplay = true;
      video.playsInline = true;
      const caption = document.createElement("figcaption");
      figure.append(video, caption);
      tile.append(figure);
      tiles.append(tile);
      announce(t("stage.live", { name: state.participants.get(id)?.name ?? "" }));
    }
    tile.querySelector("figcaption").textContent = state.participants.get(id)?.name ?? "";
    const video = tile.querySelector("video");
    if (video.srcObject !== stream) video.srcObject = stream;
  }
  const live = tiles.children.length > 0;
  $("#stage-view").hidden = !live;
  floor.setDucked(live);
}

function welcomed(msg) {
  // Resumed: the same participant, in the same circle; connections to its members are
  // kept and restart ICE (the server sends `connect` with `restart`), and those to the
  // SFU simply go on (the server kept them), unless the room moved to another server of a
  // cluster (`sfu_reset`): then those to the SFU start again. Otherwise we are someone new
  // and start over.
  const resumed = joined && !!msg.resumed;
  if (resumed) resumes += 1;
  if (!resumed) peers.closeAll();
  if (!resumed || msg.sfu_reset) sfu.closeAll();
  // RTCIceServer has the same fields as the welcome's ice_servers.
  peers.iceServers = msg.ice_servers ?? [];
  sfu.iceServers = msg.ice_servers ?? [];
  state.apply(msg);
  if (resumed) {
    const members = state.myCircle()?.members ?? [];
    for (const { id } of peers.summary()) if (!members.includes(id)) peers.close(id);
  }
  if (!joined) {
    joined = true;
    $("#join").hidden = true;
    $("#room").hidden = false;
    $("#room-title").textContent = state.room.title;
    floor.setRoom(state);
    floor.setVideo(state.you, media.camera ? new MediaStream([media.camera]) : null, { muted: true });
    $("#floor").focus();
  } else {
    floor.setRoom(state);
    floor.setVideo(state.you, media.camera ? new MediaStream([media.camera]) : null, { muted: true });
    // Back after a blip as someone new: walk back to where we stood.
    if (!resumed && lastPosition) walk(lastPosition.x, lastPosition.y);
  }
  conn.send(messages.media(media.state()));
  panel.render(state);
  panel.renderChat(state);
  showRoomState();
  $("#host-tools").hidden = state.me()?.role !== "host";
  renderAreaList();
  updateControls();
  followSfu();
  showStatus({ state: "connected" });
}

function serverError(msg) {
  const text = errorText(msg.code);
  if (!joined && (msg.code === "passcode_required" || msg.code === "wrong_passcode")) {
    // The room asks for a passcode: show the field and let the person try.
    $("#passcode-row").hidden = false;
    showJoinError(text);
    $("#passcode").focus();
    return;
  }
  if (!joined) showJoinError(text);
  else toast(text);
}

// --- walking

function walk(x, y) {
  if (!state.room) return;
  const now = performance.now();
  if (now - lastWalk < LIMITS.moveIntervalMs) return;
  lastWalk = now;
  const cx = Math.max(0, Math.min(state.room.width, Math.round(x)));
  const cy = Math.max(0, Math.min(state.room.height, Math.round(y)));
  conn.send(messages.move(cx, cy));
}

function goToPerson(id) {
  const target = state.participants.get(id);
  const me = state.me();
  if (!target || !me) return;
  if (target.circle != null) return goToCircle(target.circle);
  // Stop just short of them, on our side.
  const dx = me.x - target.x;
  const dy = me.y - target.y;
  const d = Math.hypot(dx, dy) || 1;
  const gap = state.room.forming_distance * 0.5;
  walk(target.x + (dx / d) * gap, target.y + (dy / d) * gap);
}

function goToCircle(id) {
  const circle = state.circles.get(id);
  const me = state.me();
  if (!circle || !me) return;
  const dx = me.x - circle.x;
  const dy = me.y - circle.y;
  const d = Math.hypot(dx, dy) || 1;
  const inside = circle.radius * 0.6;
  walk(circle.x + (dx / d) * inside, circle.y + (dy / d) * inside);
}

// --- announcements

function announceCircle({ before, after }) {
  const me = state.you;
  const wasIn = before.includes(me);
  const isIn = after.includes(me);
  if (!wasIn && isIn) {
    announce(t("announce.youJoined", { names: listNames(after.filter((id) => id !== me).map((id) => state.name(id))) }));
  } else if (wasIn && !isIn) {
    announce(t("announce.youLeft"));
  } else if (wasIn && isIn) {
    for (const id of after.filter((id) => !before.includes(id))) announce(t("announce.joinedYou", { name: state.name(id) }));
    for (const id of before.filter((id) => !after.includes(id))) announce(t("announce.leftYou", { name: state.name(id) }));
  }
}

function announce(text) {
  const region = $("#announcer");
  const line = document.createElement("p");
  line.textContent = text;
  region.append(line);
  while (region.childElementCount > 5) region.firstElementChild.remove();
}

let toastTimer;
function toast(text) {
  const el = $("#toast");
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.hidden = true), 5000);
}

function showStatus(status) {
  const el = $("#status");
  if (status.state === "reconnecting") {
    // Connections to the circle stay up: media often survives a signalling blip, and a
    // resumed participant restarts ICE on them.
    el.textContent = t("status.reconnecting", { seconds: status.seconds });
    el.hidden = false;
  } else if (status.state === "connecting" && joined) {
    el.textContent = t("status.connecting");
    el.hidden = false;
  } else if (status.state === "closed" && status.code === CLOSE.NORMAL && joined) {
    peers.closeAll();
    sfu.closeAll();
    el.textContent = t("status.left");
    el.hidden = false;
  } else if (status.state === "closed" && (status.code === CLOSE.REMOVED || status.code === CLOSE.BANNED) && joined) {
    peers.closeAll();
    sfu.closeAll();
    el.textContent = t(status.code === CLOSE.BANNED ? "status.banned" : "status.removed");
    el.hidden = false;
  } else {
    el.hidden = true;
  }
}

// --- controls

function setUpControls() {
  $("#mic-toggle").addEventListener("click", () => media.setMic(!media.state().mic));
  $("#camera-toggle").addEventListener("click", () => media.setCamera(!media.state().camera));
  $("#screen-toggle").addEventListener("click", async () => {
    try {
      if (media.screen) media.stopScreen();
      else await media.startScreen();
    } catch {
      // Sharing was cancelled.
    }
  });
  $("#lock-toggle").addEventListener("click", () => {
    const circle = state.myCircle();
    if (circle) conn.send(messages.lockCircle(!circle.locked));
  });
  $("#leave").addEventListener("click", () => {
    conn.send(messages.leave());
  });
  $("#chat-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("#chat-text").value.trim();
    if (!text) return;
    if (conn.send(messages.chat($("#chat-to").value, text))) $("#chat-text").value = "";
  });
  $("#chat-text").addEventListener("keydown", (event) => {
    // Enter sends; Shift+Enter starts a new line.
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      $("#chat-form").requestSubmit();
    }
  });
  $("#hand-toggle").addEventListener("click", () => conn.send(messages.hand(!state.me()?.hand)));
  $("#stage-toggle").addEventListener("click", () => conn.send(messages.broadcast(!state.broadcasters.includes(state.you))));
  $("#reactions").replaceChildren(
    ...Object.entries(REACTIONS).map(([name, symbol]) => {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = symbol;
      button.dataset.reaction = name;
      button.dataset.i18nLabel = `reaction.${name}`;
      button.addEventListener("click", () => conn.send(messages.react(name)));
      return button;
    }),
  );
  translatePage($("#reactions"));
  $("#room-lock-toggle").addEventListener("click", () => conn.send(messages.lockRoom(!state.locked)));
  $("#area-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const area = {
      id: Math.max(0, ...state.areas.map((a) => a.id)) + 1,
      name: $("#area-name").value.trim(),
      x: Number($("#area-x").value),
      y: Number($("#area-y").value),
      width: Number($("#area-w").value),
      height: Number($("#area-h").value),
      stage: $("#area-stage").checked,
      quiet: $("#area-quiet").checked,
    };
    conn.send(messages.setAreas([...state.areas, area]));
  });
  $("#area-list").addEventListener("click", (event) => {
    const id = Number(event.target.closest("button[data-area]")?.dataset.area);
    if (id) conn.send(messages.setAreas(state.areas.filter((a) => a.id !== id)));
  });
  $("#gather").addEventListener("click", () => {
    const me = state.me();
    if (me) conn.send(messages.gather(me.x, me.y));
  });
  $("#announce-form").addEventListener("submit", (event) => {
    event.preventDefault();
    conn.send(messages.announce($("#announce-text").value));
  });
  $("#announce-clear").addEventListener("click", () => {
    $("#announce-text").value = "";
    conn.send(messages.announce(""));
  });
  $("#zoom-in").addEventListener("click", () => floor.zoomBy(1.25));
  $("#zoom-out").addEventListener("click", () => floor.zoomBy(0.8));
  media.onChange((s) => {
    conn.send(messages.media(s));
    updateControls();
    if (state.you) floor.setVideo(state.you, media.videoTrack() ? new MediaStream([media.videoTrack()]) : null, { muted: true });
  });
}

function updateControls() {
  const s = media.state();
  $("#mic-toggle").setAttribute("aria-pressed", String(s.mic));
  $("#camera-toggle").setAttribute("aria-pressed", String(s.camera));
  $("#screen-toggle").setAttribute("aria-pressed", String(s.screen));
  $("#hand-toggle").setAttribute("aria-pressed", String(!!state.me()?.hand));
  const stage = $("#stage-toggle");
  stage.hidden = !(state.me()?.role === "host" || invitedToStage);
  stage.setAttribute("aria-pressed", String(state.broadcasters.includes(state.you)));
  const circle = state.myCircle();
  const lock = $("#lock-toggle");
  lock.disabled = !circle;
  lock.setAttribute("aria-pressed", String(!!circle?.locked));
}

// The host's list of areas, each with a remove button.
function renderAreaList() {
  $("#area-list").replaceChildren(
    ...state.areas.map((area) => {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.area = String(area.id);
      button.textContent = t("host.removeArea", { name: area.name });
      li.append(button);
      return li;
    }),
  );
}

// The room's lock and the hosts' announcement, for everyone.
function showRoomState() {
  $("#room-locked-badge").hidden = !state.locked;
  $("#room-lock-toggle").setAttribute("aria-pressed", String(!!state.locked));
  const banner = $("#announcement");
  banner.textContent = state.announcement ?? "";
  banner.hidden = !state.announcement;
}

function refresh() {
  translatePage();
  floor.renderAll();
  panel.render(state);
}

setUpJoinScreen();
setUpControls();

// For diagnostics (and the browser tests): the live state of this page.
// For diagnostics and the browser tests.
window.hallway = {
  state, peers, sfu, media, conn, floor,
  get resumes() {
    return resumes;
  },
};
