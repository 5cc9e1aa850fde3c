// Hallway protocol v2 as the browser client speaks it. The Rust types in proto/ are the
// source of truth: their constants reach the client generated (wire.js, checked by
// tests/tests/client_constants.rs), and tests/browser/protocol.test.mjs checks the messages
// built here against the same fixtures (tests/fixtures/protocol/) that the Rust tests decode.

import { PROTOCOL_VERSION, WIRE_LIMITS } from "./wire.js";

// The constants the server defines, generated from its crates (wire.js).
export { PROTOCOL_VERSION, CLIENT_TYPES, SERVER_TYPES, ERROR_CODES, CLOSE, REACTIONS } from "./wire.js";

// The floor plans built into the server, as a host picks them with setFloorPlan.
export const BUILTIN_FLOOR_PLANS = ["builtin:foyer", "builtin:hall", "builtin:garden"];

export const LIMITS = {
  ...WIRE_LIMITS,
  // The server allows 20 moves a second; walking sends at most 10.
  moveIntervalMs: 100,
};

export const messages = {
  // `profile`, `token`, `passcode` and `resume` are left out when empty.
  hello: (room, { name, profile, token, passcode, resume } = {}) => ({
    type: "hello",
    version: PROTOCOL_VERSION,
    room,
    name,
    ...(profile ? { profile } : {}),
    ...(token ? { token } : {}),
    ...(passcode ? { passcode } : {}),
    ...(resume ? { resume } : {}),
  }),
  // `walking`: a step of a walk that goes on (circles form where it ends).
  move: (x, y, walking = false) => ({ type: "move", x, y, ...(walking ? { walking: true } : {}) }),
  // Participants by id (a big room's welcome lists only those near), and by name.
  who: (ids) => ({ type: "who", ids }),
  find: (query) => ({ type: "find", query }),
  // The part of the floor the page shows, in floor units.
  view: ({ x, y, width, height }) => ({ type: "view", x, y, width, height }),
  signal: (to, payload) => ({ type: "signal", to, payload }),
  lockCircle: (locked) => ({ type: "lock_circle", locked }),
  media: ({ mic, camera, screen }) => ({ type: "media", mic, camera, screen }),
  chat: (to, text) => ({ type: "chat", to, text }),
  // Real-time text: the line so far; `done` when it is finished (Enter).
  // `circle`: the circle it was typed for (a line that arrives after one was moved is refused).
  rtt: (to, text, done = false, circle) => ({ type: "rtt", to, ...(circle != null ? { circle } : {}), text, ...(done ? { done: true } : {}) }),
  hand: (raised) => ({ type: "hand", raised }),
  react: (reaction) => ({ type: "react", reaction }),
  broadcast: (on) => ({ type: "broadcast", on }),
  inviteToBroadcast: (id) => ({ type: "invite_to_broadcast", id }),
  inviteToCircle: (id) => ({ type: "invite_to_circle", id }),
  mute: (id) => ({ type: "mute", id }),
  remove: (id, ban) => ({ type: "remove", id, ban }),
  lockRoom: (locked) => ({ type: "lock_room", locked }),
  gather: (x, y) => ({ type: "gather", x, y }),
  setAreas: (areas) => ({ type: "set_areas", areas }),
  // plan: "builtin:foyer" | "builtin:hall" | "builtin:garden", or null for none.
  setFloorPlan: (plan) => ({ type: "set_floor_plan", plan: plan ?? null }),
  // prompts: the room's own icebreakers, one a line; empty: the built-in ones.
  setIcebreakers: (on, prompts) => ({ type: "set_icebreakers", on, prompts }),
  // Host: the organiser summary (answered by `summary`).
  summary: () => ({ type: "summary" }),
  setWaitingRoom: (on) => ({ type: "set_waiting_room", on }),
  admit: (ids) => ({ type: "admit", ids }),
  admitAll: () => ({ type: "admit", ids: [], all: true }),
  // message: to those turned away, optional.
  turnAway: (ids, message) => ({ type: "turn_away", ids, ...(message ? { message } : {}) }),
  announce: (text) => ({ type: "announce", text }),
  // screen: the mid of the media section carrying the screen share, if any.
  sfuOffer: (sdp, screen) => ({ type: "sfu_offer", sdp, ...(screen ? { screen } : {}) }),
  // connection: the number of the server's offer answered.
  sfuAnswer: (sdp, connection) => ({ type: "sfu_answer", sdp, ...(connection !== undefined ? { connection } : {}) }),
  sfuUnpublish: () => ({ type: "sfu_unpublish" }),
  sfuRestart: () => ({ type: "sfu_restart" }),
  sfuView: (views) => ({ type: "sfu_view", views }),
  ping: () => ({ type: "ping" }),
  leave: () => ({ type: "leave" }),
};
