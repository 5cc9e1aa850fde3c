// The room as this client knows it, kept up to date from server messages. No DOM here:
// the protocol tests apply every fixture to it under Node.

// A participant as the server lists them, with what it leaves out filled in: a listing
// omits the role of a participant, the circle of one in none and whatever is off or down
// (microphone, camera, screen, hand, reconnecting), which keeps the welcome to a big room
// small.
export function person(p) {
  return { role: "participant", circle: null, mic: false, camera: false, screen: false, hand: false, reconnecting: false, ...p };
}

// A circle as the server sends it, with what it leaves out filled in: `locked` when it is
// not, `media` when the members' browsers connect directly.
export function circleOf(c) {
  return { locked: false, media: "mesh", ...c };
}

export class RoomState {
  constructor() {
    this.you = null;
    this.room = null;
    // The welcome's token for resuming after a dropped connection.
    this.resume = null;
    this.participants = new Map();
    // In a big room the welcome lists only those near: how many are in the room (null:
    // `participants` is everyone). Others become known as they come into sight (`who`)
    // or are found by name (`find`).
    this.inRoom = null;
    // The server's answer to the last search: { query, ids, total }.
    this.search = null;
    this.circles = new Map();
    this.areas = [];
    this.chat = [];
    this.broadcasters = [];
    // Where to fetch the picture under the floor (same origin), or null for none.
    this.floorPlan = null;
    // The last icebreaker we were told: { circle, prompt }.
    this.icebreaker = null;
    // For hosts: the room's icebreaker settings, { on, prompts }.
    this.icebreakers = null;
    // The organiser summary, as a host last got it.
    this.summary = null;
  }

  me() {
    return this.participants.get(this.you);
  }

  myCircle() {
    const me = this.me();
    return me && me.circle != null ? this.circles.get(me.circle) : undefined;
  }

  name(id) {
    return this.participants.get(id)?.name ?? "?";
  }

  // A circle formed or changed: its members are in it, whoever it lost is not.
  circleChanged(sent) {
    const circle = circleOf(sent);
    const before = this.circles.get(circle.id);
    this.circles.set(circle.id, circle);
    for (const p of this.participants.values()) {
      if (p.circle === circle.id && !circle.members.includes(p.id)) p.circle = null;
    }
    for (const id of circle.members) {
      const p = this.participants.get(id);
      if (p) p.circle = circle.id;
    }
    const unknown = circle.members.filter((id) => !this.participants.has(id));
    return { kind: "circle", id: circle.id, before: before?.members ?? [], after: circle.members, unknown };
  }

  // A circle dissolved: nobody is in it any more.
  circleDissolved(id) {
    const before = this.circles.get(id);
    this.circles.delete(id);
    for (const p of this.participants.values()) {
      if (p.circle === id) p.circle = null;
    }
    return { kind: "circle", id, before: before?.members ?? [], after: [], unknown: [] };
  }

  // Applies one server message; returns what changed, for the user interface:
  // { kind, ... } or null when nothing visible changed.
  apply(msg) {
    switch (msg.type) {
      case "welcome":
        this.you = msg.you;
        this.room = msg.room;
        this.resume = msg.resume;
        this.replace(msg);
        this.inRoom = msg.in_room ?? null;
        this.search = null;
        this.floorPlan = msg.room.floor_plan ?? null;
        return { kind: "reset" };
      case "snapshot":
        // Everyone (in a big room: those near, and how many are here).
        this.replace(msg);
        this.inRoom = msg.in_room ?? null;
        this.floorPlan = msg.floor_plan ?? null;
        return { kind: "reset" };
      case "joined":
        if (this.inRoom != null && !this.participants.has(msg.participant.id)) this.inRoom += 1;
        this.participants.set(msg.participant.id, person(msg.participant));
        return { kind: "joined", id: msg.participant.id };
      case "left": {
        const gone = this.participants.get(msg.id);
        this.participants.delete(msg.id);
        if (this.inRoom != null) this.inRoom = Math.max(this.participants.size, this.inRoom - 1);
        return { kind: "left", id: msg.id, name: gone?.name };
      }
      case "participants":
        for (const p of msg.participants) this.participants.set(p.id, person(p));
        return { kind: "participants" };
      case "found":
        for (const p of msg.participants) this.participants.set(p.id, person(p));
        this.search = { query: msg.query, ids: msg.participants.map((p) => p.id), total: msg.total };
        return { kind: "found", query: msg.query };
      case "tick": {
        // A big room's round: how many are here, and who left out of sight.
        const counted = msg.in_room != null && msg.in_room !== this.inRoom;
        if (msg.in_room != null) this.inRoom = msg.in_room;
        const left = (msg.left ?? []).filter((id) => this.participants.delete(id));
        const unknown = [];
        for (const [id, x, y] of msg.positions) {
          const p = this.participants.get(id);
          if (p) {
            p.x = x;
            p.y = y;
          } else unknown.push(id);
        }
        // The round's news of circles out of this page's sight.
        const circles = (msg.circles ?? []).map((c) => this.circleChanged(c));
        for (const id of msg.dissolved ?? []) circles.push(this.circleDissolved(id));
        const asked = new Set(unknown);
        for (const id of circles.flatMap((c) => c.unknown)) {
          if (!asked.has(id)) unknown.push(id);
          asked.add(id);
        }
        const ids = msg.positions.map((p) => p[0]);
        return { kind: "positions", ids, unknown, left, counted, circles: circles.length > 0 };
      }
      case "circle_changed":
        return this.circleChanged(msg.circle);
      case "circle_dissolved":
        return this.circleDissolved(msg.id);
      case "hand": {
        const p = this.participants.get(msg.id);
        if (p) {
          p.hand = msg.raised;
          p.hand_at = msg.raised ? (msg.at ?? p.hand_at ?? Date.now()) : undefined;
        }
        // In a big room, a host's page asks who raised a hand it did not know of (the
        // answer carries the hand); other pages need not know.
        return { kind: "hand", id: msg.id, unknown: p || this.me()?.role !== "host" ? [] : [msg.id] };
      }
      case "broadcast":
        this.broadcasters = this.broadcasters.filter((id) => id !== msg.id).concat(msg.on ? [msg.id] : []);
        return { kind: "onAir", id: msg.id, unknown: this.participants.has(msg.id) ? [] : [msg.id] };
      case "areas":
        this.areas = msg.areas;
        return { kind: "areas" };
      case "floor_plan":
        this.floorPlan = msg.url ?? null;
        return { kind: "floorPlan", url: this.floorPlan };
      case "room_locked":
        this.locked = msg.locked;
        return { kind: "room" };
      case "announcement":
        this.announcement = msg.text ?? null;
        return { kind: "room" };
      case "chat":
        this.chat.push(msg.message);
        return { kind: "chat", message: msg.message };
      case "reconnecting": {
        const p = this.participants.get(msg.id);
        if (p) p.reconnecting = msg.on;
        return { kind: "reconnecting", id: msg.id };
      }
      case "media": {
        const p = this.participants.get(msg.id);
        if (p) Object.assign(p, { mic: !!msg.mic, camera: !!msg.camera, screen: !!msg.screen });
        return { kind: "media", id: msg.id };
      }
      case "icebreaker":
        // The prompt of the circle we are in (or just entered).
        this.icebreaker = { circle: msg.circle, prompt: msg.prompt };
        return { kind: "icebreaker", circle: msg.circle };
      case "icebreakers":
        this.icebreakers = { on: msg.on, prompts: msg.prompts };
        return { kind: "icebreakers" };
      case "summary":
        // For hosts who asked: the room's figures since it opened (aggregates only).
        this.summary = msg;
        return { kind: "summary" };
      case "alone":
        // For hosts: who is alone, as of now (`at`, this page's clock).
        this.alone = { after_s: msg.after_s, people: msg.people, at: Date.now() };
        return { kind: "alone" };
      case "waiting_room":
        // For hosts: the waiting room, as of now (`at`, this page's clock).
        this.waitingRoom = { on: msg.on, people: msg.people, at: Date.now() };
        return { kind: "waitingRoom" };
      case "error":
      case "connect":
      case "disconnect":
      case "signal":
      case "pong":
        return null; // handled by the caller, not room state
      default:
        return null;
    }
  }

  replace(msg) {
    this.participants = new Map(msg.participants.map((p) => [p.id, person(p)]));
    this.circles = new Map(msg.circles.map((c) => [c.id, circleOf(c)]));
    this.areas = msg.areas;
    this.locked = msg.locked;
    this.broadcasters = msg.broadcasters ?? [];
    this.announcement = msg.announcement ?? null;
    // Room history comes from the server; circle and direct messages only we have.
    const own = this.chat.filter((m) => m.to !== "room");
    const byId = new Map([...own, ...msg.chat].map((m) => [m.id, m]));
    this.chat = [...byId.values()].sort((a, b) => a.id - b.id);
  }
}
