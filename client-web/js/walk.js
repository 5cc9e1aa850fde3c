// Walking: a click (or "go to") walks this participant's avatar to a point at a steady
// pace, and held arrow keys walk in their direction, sending a position every step at the
// rate the server allows, so that others see the person walk. Steps on the way are marked
// as such: the server forms and joins circles where a walk ends, not wherever it passes.

import { walkStep } from "./layout.js";

export class Walker {
  // `send(x, y, walking)` sends one step; `position()` is where the server has us;
  // `bounds()` is the floor's { width, height }; `speed()` is floor units per second.
  constructor({ send, position, bounds, speed, intervalMs }) {
    this.send = send;
    this.position = position;
    this.bounds = bounds;
    this.speed = speed;
    this.intervalMs = intervalMs;
    this.goal = null;
    this.direction = null;
    this.cursor = null;
    this.timer = null;
    this.lastSent = 0;
  }

  get walking() {
    return this.timer !== null;
  }

  // Walks to (x, y).
  walkTo(x, y) {
    this.direction = null;
    this.goal = this.clamp({ x, y });
    this.start();
  }

  // Walks in a direction ({ dx, dy }, each -1, 0 or 1) until `steer(null)`.
  steer(direction) {
    if (!direction) {
      if (this.direction) {
        // Stop where we are: that is where the walk ends.
        this.direction = null;
        this.goal = this.cursor ? { ...this.cursor } : null;
        if (this.goal) this.step();
      }
      return;
    }
    const length = Math.hypot(direction.dx, direction.dy) || 1;
    this.direction = { dx: direction.dx / length, dy: direction.dy / length };
    this.goal = null;
    this.start();
  }

  // Walks up to the participant `id` of the room `state`: next to them, or into their
  // circle if they stand in one.
  toPerson(state, id) {
    const target = state.participants.get(id);
    const me = state.me();
    if (!target || !me) return;
    if (target.circle != null) return this.toCircle(state, target.circle);
    const to = nextTo(me, target, state.room.forming_distance);
    this.walkTo(to.x, to.y);
  }

  // Walks into the circle `id` of the room `state`.
  toCircle(state, id) {
    const circle = state.circles.get(id);
    const me = state.me();
    if (!circle || !me) return;
    const to = into(me, circle);
    this.walkTo(to.x, to.y);
  }

  // Walks out of one's circle in the room `state`, from `at` (where the floor shows us);
  // false if one stands in none.
  outOfCircle(state, at) {
    const circle = state.myCircle();
    if (!circle || !at) return false;
    const to = outOf(at, circle, state.room.forming_distance);
    this.walkTo(to.x, to.y);
    return true;
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
    this.goal = null;
    this.direction = null;
    this.cursor = null;
  }

  start() {
    if (!this.cursor) {
      const here = this.position();
      if (!here) return;
      this.cursor = { x: here.x, y: here.y };
    }
    if (this.timer === null) {
      // The first step goes at once (unless one just went), then one per interval.
      const since = performance.now() - this.lastSent;
      if (since >= this.intervalMs) this.step();
      if (this.goal || this.direction) this.timer = setInterval(() => this.step(), this.intervalMs);
    }
  }

  step() {
    if (!this.cursor) return this.stop();
    let next;
    if (this.direction) {
      const reach = (this.speed() * this.intervalMs) / 1000;
      next = this.clamp({ x: this.cursor.x + this.direction.dx * reach, y: this.cursor.y + this.direction.dy * reach });
      next.arrived = false;
    } else if (this.goal) {
      next = walkStep(this.cursor, this.goal, this.speed(), this.intervalMs);
    } else {
      return this.stop();
    }
    const x = Math.round(next.x);
    const y = Math.round(next.y);
    this.cursor = { x: next.x, y: next.y };
    this.lastSent = performance.now();
    this.send(x, y, !next.arrived);
    if (next.arrived) this.stop();
  }

  clamp({ x, y }) {
    const { width, height } = this.bounds();
    return { x: Math.max(0, Math.min(width, x)), y: Math.max(0, Math.min(height, y)) };
  }
}

// Where to walk to meet `target`, who stands in no circle: just short of them, on the side
// `me` comes from (half the distance at which circles form).
export function nextTo(me, target, formingDistance) {
  const dx = me.x - target.x;
  const dy = me.y - target.y;
  const d = Math.hypot(dx, dy) || 1;
  const gap = formingDistance * 0.5;
  return { x: target.x + (dx / d) * gap, y: target.y + (dy / d) * gap };
}

// Where to walk to join `circle`: inside it, on the side `me` comes from.
export function into(me, circle) {
  const dx = me.x - circle.x;
  const dy = me.y - circle.y;
  const d = Math.hypot(dx, dy) || 1;
  const inside = circle.radius * 0.6;
  return { x: circle.x + (dx / d) * inside, y: circle.y + (dy / d) * inside };
}

// Where to walk to step out of `circle`: just outside it, on the side `at` stands; beyond
// its radius and the server's margin for leaving (see the engine's rule 3).
export function outOf(at, circle, formingDistance) {
  let dx = at.x - circle.x;
  let dy = at.y - circle.y;
  const d = Math.hypot(dx, dy);
  if (d < 1) [dx, dy] = [0, 1];
  else [dx, dy] = [dx / d, dy / d];
  const out = circle.radius + 60 + formingDistance;
  return { x: circle.x + dx * out, y: circle.y + dy * out };
}
