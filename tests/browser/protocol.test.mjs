// The browser client's view of the protocol against the fixtures the Rust tests use: the
// client builds every client message exactly as documented, knows every server message
// type, and its room state takes every server message.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { repo } from "./harness.mjs";
import { CLIENT_TYPES, SERVER_TYPES, messages, PROTOCOL_VERSION } from "../../client-web/js/protocol.js";
import { RoomState } from "../../client-web/js/state.js";

const fixtures = (side) => {
  const dir = path.join(repo, "tests/fixtures/protocol", side);
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => ({ type: f.replace(/\.json$/, ""), msg: JSON.parse(readFileSync(path.join(dir, f), "utf8")) }));
};

test("the client knows exactly the message types the server's protocol has", () => {
  assert.deepEqual(fixtures("client").map((f) => f.type).sort(), [...CLIENT_TYPES].sort());
  assert.deepEqual(fixtures("server").map((f) => f.type).sort(), [...SERVER_TYPES].sort());
});

test("the client builds every client message as the fixtures show it", () => {
  const build = {
    hello: (m) => messages.hello(m.room, m),
    move: (m) => messages.move(m.x, m.y),
    signal: (m) => messages.signal(m.to, m.payload),
    lock_circle: (m) => messages.lockCircle(m.locked),
    media: (m) => messages.media(m),
    chat: (m) => messages.chat(m.to, m.text),
    rtt: (m) => messages.rtt(m.to, m.text, m.done, m.circle),
    hand: (m) => messages.hand(m.raised),
    react: (m) => messages.react(m.reaction),
    broadcast: (m) => messages.broadcast(m.on),
    invite_to_broadcast: (m) => messages.inviteToBroadcast(m.id),
    invite_to_circle: (m) => messages.inviteToCircle(m.id),
    summary: () => messages.summary(),
    mute: (m) => messages.mute(m.id),
    remove: (m) => messages.remove(m.id, m.ban),
    lock_room: (m) => messages.lockRoom(m.locked),
    gather: (m) => messages.gather(m.x, m.y),
    set_areas: (m) => messages.setAreas(m.areas),
    set_floor_plan: (m) => messages.setFloorPlan(m.plan),
    set_icebreakers: (m) => messages.setIcebreakers(m.on, m.prompts),
    set_waiting_room: (m) => messages.setWaitingRoom(m.on),
    admit: (m) => (m.all ? messages.admitAll() : messages.admit(m.ids)),
    turn_away: (m) => messages.turnAway(m.ids, m.message),
    announce: (m) => messages.announce(m.text),
    sfu_offer: (m) => messages.sfuOffer(m.sdp, m.screen),
    sfu_answer: (m) => messages.sfuAnswer(m.sdp, m.connection),
    sfu_unpublish: () => messages.sfuUnpublish(),
    sfu_restart: () => messages.sfuRestart(),
    sfu_view: (m) => messages.sfuView(m.views),
    view: (m) => messages.view(m),
    who: (m) => messages.who(m.ids),
    find: (m) => messages.find(m.query),
    ping: () => messages.ping(),
    leave: () => messages.leave(),
  };
  for (const { type, msg } of fixtures("client")) {
    assert.ok(build[type], `no builder for ${type}`);
    assert.deepEqual(build[type](msg), msg, type);
  }
  assert.equal(messages.hello("x", { name: "y" }).version, PROTOCOL_VERSION);
  assert.deepEqual(Object.keys(messages.hello("x", { name: "y", profile: "", token: undefined })), ["type", "version", "room", "name"]);
});

test("the room state takes every server message", () => {
  const all = fixtures("server");
  const state = new RoomState();
  state.apply(all.find((f) => f.type === "welcome").msg);
  for (const { type, msg } of all) {
    assert.doesNotThrow(() => state.apply(msg), type);
  }
  // A host's waiting room is kept as the server sent it.
  const queue = all.find((f) => f.type === "waiting_room").msg;
  state.apply(queue);
  assert.deepEqual(state.waitingRoom.people, queue.people);
  // Spot checks: a tick moves people, a snapshot replaces everything.
  const welcome = all.find((f) => f.type === "welcome").msg;
  state.apply(welcome);
  const [id, x, y] = all.find((f) => f.type === "tick").msg.positions[0];
  state.apply({ type: "tick", positions: [[id, x, y]] });
  assert.deepEqual([state.participants.get(id).x, state.participants.get(id).y], [x, y]);
  // A round brings circles that changed out of sight (members it does not know yet are
  // asked for) and those that dissolved, as `circle_changed` and `circle_dissolved` would.
  const stranger = "9ZyXw8vUt7s";
  const far = { id: 91, x: 2400, y: 1800, radius: 90, members: [id, stranger] };
  const round = state.apply({ type: "tick", positions: [], circles: [far] });
  assert.equal(round.circles, true);
  assert.deepEqual(round.unknown, [stranger]);
  assert.equal(state.participants.get(id).circle, 91);
  assert.deepEqual(state.circles.get(91).members, far.members);
  // A circle leaves out what is the default: the state has it.
  assert.deepEqual([state.circles.get(91).locked, state.circles.get(91).media], [false, "mesh"]);
  assert.equal(state.apply({ type: "tick", positions: [], dissolved: [91] }).circles, true);
  assert.equal(state.circles.has(91), false);
  assert.equal(state.participants.get(id).circle, null);
  assert.equal(state.apply({ type: "tick", positions: [[id, x, y]] }).circles, false);
  const snapshot = all.find((f) => f.type === "snapshot").msg;
  state.apply(snapshot);
  assert.equal(state.participants.size, snapshot.participants.length);
  assert.equal(state.circles.size, snapshot.circles.length);
  assert.equal(state.floorPlan, snapshot.floor_plan);
  state.apply(welcome);
  assert.equal(state.floorPlan, welcome.room.floor_plan);
  const plan = all.find((f) => f.type === "floor_plan").msg;
  assert.deepEqual(state.apply(plan), { kind: "floorPlan", url: plan.url });
  assert.equal(state.floorPlan, plan.url);
  state.apply({ type: "floor_plan", url: null });
  assert.equal(state.floorPlan, null);
  const chat = all.find((f) => f.type === "chat").msg;
  state.apply(chat);
  assert.equal(state.chat.at(-1).id, chat.message.id);
  // A listed participant leaves out what is off: the state has every field, false.
  const joined = all.find((f) => f.type === "joined").msg;
  assert.equal("mic" in joined.participant || "role" in joined.participant || "circle" in joined.participant, false);
  const newcomer = { ...joined.participant, id: "a".repeat(11) };
  state.apply({ ...joined, participant: newcomer });
  const ben = state.participants.get(newcomer.id);
  assert.deepEqual(
    [ben.role, ben.circle, ben.mic, ben.camera, ben.screen, ben.hand, ben.reconnecting],
    ["participant", null, false, false, false, false, false],
  );
  const host = welcome.participants.find((p) => p.role === "host");
  state.apply(welcome);
  assert.deepEqual([state.participants.get(host.id).role, state.participants.get(host.id).screen], ["host", false]);
  state.apply({ type: "media", id: host.id, camera: true });
  assert.deepEqual([state.participants.get(host.id).mic, state.participants.get(host.id).camera], [false, true]);
});
