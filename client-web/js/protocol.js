// Hallway protocol v1 as the browser client speaks it. The Rust types in proto/ are the
// source of truth; tests/browser/protocol.test.mjs checks this file against the same
// fixtures (tests/fixtures/protocol/) that the Rust tests decode, so the two cannot drift.

export const PROTOCOL_VERSION = 1;

export const CLIENT_TYPES = [
  "hello", "move", "signal", "lock_circle", "media", "chat", "hand", "react", "broadcast", "invite_to_stage", "mute",
  "remove", "lock_room", "gather", "set_areas", "set_floor_plan",
  "announce", "sfu_offer", "sfu_answer", "sfu_unpublish", "sfu_restart", "ping", "leave",
];

export const SERVER_TYPES = [
  "welcome", "snapshot", "error", "joined", "left", "tick", "circle_changed",
  "circle_dissolved", "connect", "disconnect", "signal", "chat", "reconnecting", "pong", "hand", "reaction", "broadcast", "stage_invite", "muted",
  "room_locked", "gathered", "areas", "floor_plan",
  "announcement",
  "media", "sfu_answer", "sfu_offer", "sfu_unpublished",
];

// The floor plans built into the server, as a host picks them with setFloorPlan.
export const BUILTIN_FLOOR_PLANS = ["builtin:foyer", "builtin:hall", "builtin:garden"];

export const LIMITS = {
  maxNameChars: 64,
  maxProfileChars: 80,
  // The server allows 20 moves a second; walking sends at most 10.
  moveIntervalMs: 100,
  maxChatChars: 1000,
};

// The reactions the server knows; the page draws each with the icon of the same name.
export const REACTIONS = ["applause", "thumbs_up", "heart", "laugh", "party", "thinking"];

export const CLOSE = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  SERVICE_RESTART: 1012,
  TRY_AGAIN_LATER: 1013,
  TOO_BIG: 1009,
  REFUSED: 4001,
  HELLO_TIMEOUT: 4002,
  REMOVED: 4003,
  BANNED: 4004,
  SLOW_CONSUMER: 4008,
  UNRESPONSIVE: 4009,
  REPLACED: 4010,
  ABANDONED: 4011,
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
  signal: (to, payload) => ({ type: "signal", to, payload }),
  lockCircle: (locked) => ({ type: "lock_circle", locked }),
  media: ({ mic, camera, screen }) => ({ type: "media", mic, camera, screen }),
  chat: (to, text) => ({ type: "chat", to, text }),
  hand: (raised) => ({ type: "hand", raised }),
  react: (reaction) => ({ type: "react", reaction }),
  broadcast: (on) => ({ type: "broadcast", on }),
  inviteToStage: (id) => ({ type: "invite_to_stage", id }),
  mute: (id) => ({ type: "mute", id }),
  remove: (id, ban) => ({ type: "remove", id, ban }),
  lockRoom: (locked) => ({ type: "lock_room", locked }),
  gather: (x, y) => ({ type: "gather", x, y }),
  setAreas: (areas) => ({ type: "set_areas", areas }),
  // plan: "builtin:foyer" | "builtin:hall" | "builtin:garden", or null for none.
  setFloorPlan: (plan) => ({ type: "set_floor_plan", plan: plan ?? null }),
  announce: (text) => ({ type: "announce", text }),
  // screen: the mid of the media section carrying the screen share, if any.
  sfuOffer: (sdp, screen) => ({ type: "sfu_offer", sdp, ...(screen ? { screen } : {}) }),
  // connection: the number of the server's offer answered.
  sfuAnswer: (sdp, connection) => ({ type: "sfu_answer", sdp, ...(connection !== undefined ? { connection } : {}) }),
  sfuUnpublish: () => ({ type: "sfu_unpublish" }),
  sfuRestart: () => ({ type: "sfu_restart" }),
  ping: () => ({ type: "ping" }),
  leave: () => ({ type: "leave" }),
};
