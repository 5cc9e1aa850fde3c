// The room page: the join screen (join-screen.js), the room, and the end screen
// (ended.js). Wires the connection, the room state, the views (floor, conversation, panel,
// the control bar in controls.js, a host's tools in host-tools.js, settings) and the media
// owners (local media; peer connections, the SFU and the streams they bring in, in
// media-paths.js) together, and hands each message from the server to whichever of them
// it concerns; holds no room state itself.

import { messages, LIMITS, REACTIONS, BUILTIN_FLOOR_PLANS } from "./protocol.js";
import { RoomState } from "./state.js";
import { Connection } from "./connection.js";
import { Floor } from "./floor.js";
import { Panel } from "./panel.js";
import { LocalMedia } from "./media.js";
import { SpeakingMeter } from "./speaking.js";
import { Conversation } from "./conversation.js";
import { IcebreakerView } from "./icebreaker.js";
import { SummaryView } from "./summary.js";
import { Walker } from "./walk.js";
import { ViewReporter } from "./view.js";
import { WhoAsker } from "./roster.js";
import { AreaEditor } from "./areas.js";
import { DeviceSettings } from "./settings.js";
import { duplicateNumbers } from "./names.js";
import { displayName } from "./tiles.js";
import { t, lang, setLang, translatePage, errorText } from "./i18n.js";
import { session } from "./session.js";
import { RealTimeTextViews } from "./rtt.js";
import { JoinScreen } from "./join-screen.js";
import { HostTools } from "./host-tools.js";
import { showWaiting, hideWaiting, WaitingRoomPanel } from "./waiting.js";
import { announce, toast, placeToast, announceCircle } from "./announce.js";
import { TalkInvite } from "./talk-invite.js";
import { MediaPaths } from "./media-paths.js";
import { ControlBar } from "./controls.js";
import { EndScreen, CLOSE_REASONS } from "./ended.js";
import { FloorHint } from "./floor-hint.js";

const slug = decodeURIComponent(location.pathname.split("/").filter(Boolean)[1] ?? "lobby");
// A signed link carries its token in the fragment (never sent to a server). It leaves the
// address bar at once, so that sharing the screen or the URL hands out nothing; the tab
// keeps it for reconnecting.
const token = session.takeLinkToken(slug);
const $ = (selector) => document.querySelector(selector);

const state = new RoomState();
const media = new LocalMedia();
let joined = false;
// In the waiting room (told `waiting`, not welcomed yet).
let waiting = false;
let ended = false;
let lastPosition = null;
// Times this page got its place back after a dropped connection.
let resumes = 0;
let duplicates = new Map();

const meter = new SpeakingMeter({ onChange: (key, on) => speakingChanged(key, on) });

const joinScreen = new JoinScreen({
  slug,
  token,
  media,
  meter,
  connect: () => conn.open(),
  joined: () => joined,
});

const conn = new Connection({
  // Back after a dropped connection (or a reload), the welcome's token asks for our place.
  onOpen: () =>
    conn.send(
      messages.hello(slug, {
        name: joinScreen.name,
        profile: joinScreen.profile,
        token,
        passcode: $("#passcode").value.trim() || undefined,
        resume: state.resume ?? session.resume(slug)?.token,
      }),
    ),
  onMessage: (msg) => receive(msg),
  onStatus: (status) => showStatus(status),
});

const conversation = new Conversation({
  section: $("#conversation"),
  body: $(".conversation-body"),
  list: $("#tiles"),
  selfView: $("#self-view"),
  pager: { box: $("#strip-pager"), previous: $("#strip-prev"), next: $("#strip-next"), count: $("#strip-count"), short: $("#strip-count-short") },
  heading: $("#conversation-heading"),
  onAirSection: $("#on-air-view"),
  onAirList: $("#on-air-tiles"),
  meter,
});

// Real-time text: in one's circle, and questions to whoever is on air.
const rtt = new RealTimeTextViews({
  send: (target, text, done, circle) => conn.send(messages.rtt(target, text, done, circle)),
  nameOf: (p) => displayName(p, state.you, duplicates),
  announce: (text) => announce(text),
  layout: () => conversation.layout(),
  focusAway: () => $("#floor"),
});

const icebreaker = new IcebreakerView({
  box: $("#icebreaker"),
  text: $("#icebreaker-text"),
  close: $("#icebreaker-close"),
  announce: (text) => announce(text),
  // The conversation's head is not shown on low screens: the floor then.
  focusAfterClose: () => ($("#leave-circle").offsetParent ? $("#leave-circle") : $("#floor")),
});

const floor = new Floor($("#floor"), {
  onView: () => viewReporter.changed(),
  onWalk: byHand((x, y) => walker.walkTo(x, y)),
  onSteer: (direction) => {
    // (Steering stops, null, also when the floor loses focus: that is no walk.)
    if (direction) floorHint.dismiss();
    walker.steer(direction);
  },
  onNear: (p) => {
    const name = displayName(p, state.you, duplicates);
    announce(t("announce.near", { name: p.profile ? `${name}, ${p.profile}` : name }));
  },
});

// What the floor shows, told to the server so that a big room sends what is in sight.
const viewReporter = new ViewReporter({
  shown: () => (joined && !waiting ? floor.shown() : null),
  send: (rect) => conn.send(messages.view(rect)),
});

// In a big room: those the page meets but does not know yet.
const whoAsker = new WhoAsker({ send: (ids) => conn.send(messages.who(ids)) });

const floorHint = new FloorHint({ box: $("#floor-hint"), close: $("#floor-hint-close"), focusAfterClose: () => $("#floor") });

// A walk one starts oneself (a click, a tap, the arrow keys, "go to"): the first visit's
// hint has done its work. A walk back after a blip or a reload is not one's own.
function byHand(walk) {
  return (...args) => {
    floorHint.dismiss();
    return walk(...args);
  };
}

const walker = new Walker({
  send: (x, y, walking) => conn.send(messages.move(x, y, walking)),
  position: () => state.me(),
  bounds: () => state.room ?? { width: 0, height: 0 },
  speed: () => state.room?.walk_speed ?? 400,
  intervalMs: LIMITS.moveIntervalMs,
});

// A host's areas, drawn, moved and resized on the floor.
const areaEditor = new AreaEditor(floor, {
  onChange: (areas) => conn.send(messages.setAreas(areas)),
  onDrawn: (rect) => {
    $("#area-draw").setAttribute("aria-pressed", "false");
    hostTools.editArea({ ...rect, name: "", stage: false, quiet: false, id: null });
    announce(t("host.areaDrawn"));
  },
});
floor.decorateArea = (el, area) => areaEditor.decorate(el, area);

// Direct connections, the SFU, and the streams from other participants they bring in.
const paths = new MediaPaths({ send: (msg) => conn.send(msg), media, state, conversation, floor, render: () => scheduleRender() });
const { peers, sfu } = paths;

const panel = new Panel($("#panel"), {
  onFind: (query) => conn.send(messages.find(query)),
  onGoToPerson: byHand((id) => walker.toPerson(state, id)),
  onGoToCircle: byHand((id) => walker.toCircle(state, id)),
  onHostAction: (action, id) => {
    if (action === "invite") {
      conn.send(messages.inviteToBroadcast(id));
      announce(t("people.invited", { name: displayName(state.participants.get(id) ?? { id, name: "?" }, state.you, duplicates) }));
    } else if (action === "talk") {
      conn.send(messages.inviteToCircle(id));
      announce(t("people.alone.sent", { name: displayName(state.participants.get(id) ?? { id, name: "?" }, state.you, duplicates) }));
    } else if (action === "mute") conn.send(messages.mute(id));
    else if (action === "remove") conn.send(messages.remove(id, false));
    else if (action === "ban") conn.send(messages.remove(id, true));
  },
});

// The organiser summary (hosts): asks the server while open; focus goes back to the button.
const summary = new SummaryView($("#summary"), {
  ask: () => conn.send(messages.summary()),
  room: () => slug,
});
// A host's tools in the panel: lock, areas, gathering, announcement, floor plan,
// icebreakers, the organiser summary.
const hostTools = new HostTools({
  slug, token, conn, state, areaEditor, summary,
  announce: (text) => announce(text),
  showTools: () => {
    controls.setPanelOpen(true);
    panel.show("host");
  },
});
const waitingPanel = new WaitingRoomPanel((msg) => conn.send(msg), (text) => announce(text));
// How long people have waited goes on counting between the server's updates.
setInterval(() => {
  if (state.waitingRoom?.people.length) waitingPanel.render(state.me()?.role === "host", state.waitingRoom);
}, 30000);

const settings = new DeviceSettings($("#settings"), {
  media,
  meter,
  onSpeaker: (deviceId) => conversation.setSink(deviceId),
});

const endScreen = new EndScreen();

const talkInvite = new TalkInvite({ state, duplicates: () => duplicates, goToPerson: byHand((id) => walker.toPerson(state, id)) });

const controls = new ControlBar({
  state,
  media,
  conn,
  floor,
  rtt: rtt.circle,
  settings,
  areaEditor,
  talkInvite,
  leaveCircle: () => leaveCircle(),
  panelOpened: () => panel.opened(),
  // Tell the server at once; everything here goes off without waiting for its answer.
  leave: () => {
    conn.send(messages.leave());
    end("left");
  },
  live: () => joined && !ended,
});

// --- messages from the server

function receive(msg) {
  switch (msg.type) {
    case "welcome":
      return welcomed(msg);
    case "waiting":
      // Again after a reconnection: we kept our place, nothing to say.
      if (!waiting) announce(t("waiting.status"));
      waiting = true;
      // Our place in the queue, across a dropped connection or a reload.
      state.resume = msg.resume;
      session.remember(slug, { token: msg.resume, name: joinScreen.name, profile: joinScreen.profile, ...media.state() });
      showWaiting(msg);
      return;
    case "turned_away":
      endScreen.turnedAwayMessage = msg.message ?? null;
      return;
    case "error":
      return serverError(msg);
    case "connect":
      return msg.restart ? peers.restart(msg.peer, msg.initiator) : peers.connect(msg.peer, msg.initiator);
    case "disconnect":
      // Still in our circle: it moved to the SFU; hand the connection over.
      if (state.myCircle()?.media === "sfu" && state.myCircle().members.includes(msg.peer)) return peers.handOver(msg.peer);
      return peers.close(msg.peer);
    case "signal":
      return peers.signal(msg.from, msg.payload);
    case "sfu_offer":
      // `connection` numbers the receiving connection: a new number is a new connection.
      return sfu.offered(msg.sdp, msg.connection).catch(() => {});
    case "sfu_answer":
      return sfu.answered(msg.sdp);
    case "sfu_unpublished":
      // The server lost our sending connection: publish again if we still should.
      return sfu.unpublished();
    case "sfu_layers":
      // No receiver calls for our camera's higher layers: the browser stops
      // encoding them (or starts again).
      return sfu.sendLayers(msg.top);
    case "muted":
      media.setMic(false);
      return toast(t("host.mutedYou"));
    case "gathered":
      return announce(t("host.gathered"));
    case "circle_invite":
      return talkInvite.show(msg.by);
    case "broadcast_invite":
      controls.invitedToBroadcast = true;
      controls.update();
      announce(t("host.invitedYou"));
      return toast(t("host.invitedYou"));
    case "reaction":
      if (REACTIONS.includes(msg.reaction)) floor.react(msg.id, msg.reaction);
      return;
    case "rtt":
      return rtt.received(msg, state);
  }
  const change = state.apply(msg);
  if (!change) return;
  // In a big room: ids the page meets but does not know yet.
  if (change.unknown?.length > 0) whoAsker.ask(change.unknown);
  switch (change.kind) {
    case "positions": {
      // A round may bring circles that changed or dissolved out of sight (their news
      // for one's own circle came at once already), and in a big room who left and how
      // many are here.
      if (change.left.length > 0 || change.counted || change.circles) scheduleRender();
      floor.positions(change.ids);
      const me = state.me();
      if (me) {
        // Follow one's own avatar only when it moved: a big room's round sends unchanged
        // positions again, and a person who scrolled away to look around stays there.
        const moved = !lastPosition || lastPosition.x !== me.x || lastPosition.y !== me.y;
        lastPosition = { x: me.x, y: me.y };
        if (moved && change.ids.includes(me.id)) floor.keepInView(floor.shownAt(me.id), state.myCircle());
        peers.warmIfNear(state, me);
      }
      return;
    }
    case "reset":
      return renderPeople();
    case "participants":
    case "found":
      scheduleRender();
      return;
    case "chat":
      panel.addChat(state, change.message);
      return;
    case "room":
      controls.showRoomState();
      return;
    case "areas":
      floor.renderAreas();
      hostTools.renderAreaList();
      return;
    case "floorPlan":
      showPlan();
      return;
    case "onAir":
      scheduleRender();
      controls.update();
      paths.follow();
      return;
    case "hand": {
      const p = state.participants.get(change.id);
      scheduleRender();
      controls.update();
      if (p?.hand && change.id !== state.you && state.me()?.role === "host") announce(t("announce.hand", { name: p.name }));
      return;
    }
    case "left":
      // The host who asked us over left: the question goes with them.
      if (change.id === talkInvite.by) talkInvite.close();
      scheduleRender();
      return;
    case "joined":
    case "media":
    case "reconnecting":
    case "alone":
      scheduleRender();
      return;
    case "icebreaker":
      icebreaker.show(state.icebreaker, state.me()?.circle);
      return;
    case "icebreakers":
      hostTools.showIcebreakerSettings();
      return;
    case "summary":
      summary.render(state.summary);
      return;
    case "waitingRoom":
      waitingPanel.render(state.me()?.role === "host", state.waitingRoom);
      return;
    case "circle":
      announceCircle(state, change);
      scheduleRender();
      // One's own circle formed, grew or moved: all of it in view, if one is looking at it
      // (after the drawing, which sizes its ring).
      if (change.id === state.myCircle()?.id) requestAnimationFrame(() => state.myCircle() && floor.keepInView(floor.shownAt(state.you), state.myCircle(), { onlyIfSeen: true }));
      // Not in a circle (it ended around one, or one walked out): the floor at one's own
      // scale again (nothing to do where it is).
      else if (!state.myCircle()) floor.unframe(floor.shownAt(state.you));
      controls.update();
      paths.follow();
      return;
  }
}

// The floor plan on the floor, and in the host's choice of plan.
function showPlan() {
  floor.setPlan(state.floorPlan);
  $("#plan-select").value = BUILTIN_FLOOR_PLANS.find((p) => state.floorPlan?.startsWith(`/plans/${p.slice(8)}.`)) ?? (state.floorPlan ? "own" : "");
}

// Everything that shows people is drawn once per frame at most, after the messages that
// came together (a `connect` comes before its `circle_changed`: its connection is under
// way before the drawing).
let renderQueued = false;
function scheduleRender() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    if (state.you && !ended) renderPeople();
  });
}

// Everything that shows people: floor, conversation, the broadcast and the panel.
function renderPeople() {
  duplicates = duplicateNumbers(state.participants.values());
  floor.setDuplicates(duplicates);
  floor.renderAll();
  for (const p of state.participants.values()) {
    const stream = p.id === state.you ? selfStream() : conversation.stream(p.id);
    floor.setVideo(p.id, p.camera || p.id === state.you ? stream : null);
  }
  // Before the conversation is drawn: a panel that goes moves the focus out of it while
  // its section is still shown.
  rtt.update(state);
  conversation.render(state, media, duplicates, selfStream());
  icebreaker.update(state.me()?.circle);
  panel.render(state, duplicates);
  const count = String(state.inRoom ?? state.participants.size);
  $("#people-count-top").textContent = count;
  // (Where the button is an icon alone, the number stays beside it.)
  $("#people-count-short").textContent = count;
}

let ownStream = null;
// One's own camera as a stream (the same object while the track is the same).
function selfStream() {
  const track = media.cameraToSend();
  if (!track) return null;
  if (ownStream?.getVideoTracks()[0] !== track) ownStream = new MediaStream([track]);
  return ownStream;
}

function speakingChanged(key, on) {
  const id = key === "self" ? state.you : key;
  if (!id) return;
  conversation.setSpeaking(id, on, state);
  const p = state.participants.get(id);
  floor.speaking(id, on && (id === state.you ? media.state().mic : !!p?.mic));
}

function welcomed(msg) {
  // For the tests and diagnostics: how soon after the page started it was in the room.
  window.hallway.welcomedAt ??= performance.now();
  // Resumed: the same participant, in the same circle; connections to its members are
  // kept and restart ICE (the server sends `connect` with `restart`), and those to the
  // SFU simply go on (the server kept them), unless the room moved to another server of a
  // cluster (`sfu_reset`): then those to the SFU start again. Otherwise we are someone new
  // and start over.
  const resumed = !!msg.resumed;
  const again = joined;
  if (resumed && again) resumes += 1;
  if (!resumed || !again) peers.closeAll();
  if (!resumed || !again || msg.sfu_reset) sfu.closeAll();
  // RTCIceServer has the same fields as the welcome's ice_servers.
  peers.setIceServers(msg.ice_servers ?? []);
  sfu.iceServers = msg.ice_servers ?? [];
  state.apply(msg);
  if (resumed) {
    const members = state.myCircle()?.members ?? [];
    for (const { id } of peers.summary()) if (!members.includes(id)) peers.close(id);
    if (again && !msg.sfu_reset) sfu.resumed();
  }
  session.remember(slug, { token: msg.resume, name: joinScreen.name, profile: joinScreen.profile, ...media.state() });
  if (waiting) {
    waiting = false;
    hideWaiting();
    announce(t("waiting.admitted"));
  }
  if (!joined) {
    joined = true;
    $("#join").hidden = true;
    $("#room").hidden = false;
    $("#room-title").textContent = state.room.title;
    document.title = `${state.room.title} – Hallway`;
    controls.setPanelOpen(matchMedia("(min-width: 1101px)").matches);
    floor.setRoom(state);
    $("#floor").focus();
    // A reload that was not given its place back: walk to where we stood.
    const stood = session.position(slug);
    if (!resumed && stood) walker.walkTo(stood.x, stood.y);
    else if (!resumed) floorHint.offer();
  } else {
    walker.stop();
    floor.setRoom(state);
    // Back after a blip as someone new: walk back to where we stood.
    if (!resumed && lastPosition) walker.walkTo(lastPosition.x, lastPosition.y);
  }
  showPlan();
  conn.send(messages.media(media.state()));
  meter.watch("self", media.stream);
  renderPeople();
  panel.renderChat(state);
  controls.showRoomState();
  panel.offerHostTools(state.me()?.role === "host");
  areaEditor.setEnabled(state.me()?.role === "host");
  hostTools.renderAreaList();
  controls.update();
  paths.follow();
  // A new connection sees everything until it says what it shows.
  viewReporter.reset();
  whoAsker.reset();
  showStatus({ state: "connected" });
}

function serverError(msg) {
  // Someone waiting to be let in may do nothing in the room yet: what the page said
  // meanwhile (its media state after a reload) is refused, and they simply wait on. Their
  // place (the resume token) stays, and the join form stays away.
  if (msg.code === "waiting" && !$("#waiting").hidden) return;
  const text = errorText(msg.code);
  if (msg.code === "area_full" || msg.code === "invalid_position") walker.stop();
  if (!joined) {
    session.forget(slug);
    joinScreen.refused(msg.code, text);
  } else if (msg.code === "invalid_icebreakers") hostTools.icebreakerStatus(text, true);
  else toast(text);
}

function leaveCircle() {
  if (walker.outOfCircle(state, floor.shownAt(state.you) ?? state.me())) announce(t("announce.leavingCircle"));
  // The buttons that leave go with the circle: focus goes to the floor one walks on.
  const from = document.activeElement;
  if (!from || from === document.body || from.closest("#more-menu, #conversation, #floor-leave-circle")) $("#floor").focus();
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
  } else if (status.state === "closed") {
    if (joined || waiting) end(CLOSE_REASONS[status.code] ?? "lost");
    else el.hidden = true;
  } else {
    el.hidden = true;
  }
  // A notice at the top stands under the status line.
  placeToast();
}

// --- leaving: everything off, and a screen that says why

function end(reason) {
  if (ended) return;
  ended = true;
  walker.stop();
  conn.close();
  peers.closeAll();
  sfu.closeAll();
  conversation.clear();
  rtt.clear();
  media.stopAll();
  meter.stop();
  session.forget(slug);
  for (const video of document.querySelectorAll("video")) video.srcObject = null;
  for (const dialog of document.querySelectorAll("dialog[open]")) dialog.close();
  $("#room").hidden = true;
  $("#join").hidden = true;
  hideWaiting();
  endScreen.show(reason);
}

// --- what follows our own media and place

function followOwnMedia() {
  media.onChange((s) => {
    if (ended) return;
    conn.send(messages.media(s));
    if (state.you) session.remember(slug, { ...session.resume(slug), ...s });
    meter.watch("self", media.stream);
    controls.update();
    scheduleRender();
  });
  // Where we stand, for a reload that comes too late to get our place back.
  addEventListener("pagehide", () => {
    const me = state.me();
    if (me && !ended) session.rememberPosition(slug, { x: me.x, y: me.y });
  });
}

function refresh() {
  translatePage();
  joinScreen.translate();
  if (!joined) return;
  summary.render();
  renderPeople();
  hostTools.renderAreaList();
  waitingPanel.updateActions();
  controls.showRoomState();
  if (ended) endScreen.translate();
}

// For diagnostics and the browser tests: the live state of this page (before anything
// can be welcomed: a reload's welcome may already be waiting).
window.hallway = {
  state, peers, sfu, media, conn, floor, walker, conversation, meter, panel, icebreaker, summary,
  get resumes() {
    return resumes;
  },
};

// Every language switch of the page (on the join screen and in the room's settings).
for (const button of document.querySelectorAll(".lang-switch")) {
  button.addEventListener("click", () => {
    setLang(lang() === "de" ? "en" : "de");
    refresh();
  });
}
joinScreen.setUp();
controls.setUp();
followOwnMedia();
hostTools.setUp();
