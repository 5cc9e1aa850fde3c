// A TCP proxy for the tests that can blackhole everything passing through it: while
// blackholed, not a byte and not a close goes either way (what is read is held, and the
// sockets stop reading, so TCP backpressure holds the rest), and new connections are
// accepted but carry nothing. When the network "returns", what was held is delivered in
// order. This is a network outage as TCP sees it: packets are not lost, they are late.

import net from "node:net";
import { once } from "node:events";

// Forwards one direction, holding chunks and the end while blackholed.
class Pipe {
  constructor(proxy, from, to) {
    this.proxy = proxy;
    this.from = from;
    this.to = to;
    this.held = [];
    from.on("data", (chunk) => this.push({ chunk }));
    from.on("end", () => this.push({ end: true }));
    from.on("error", () => this.push({ destroy: true }));
    to.on("error", () => {});
  }

  push(action) {
    this.held.push(action);
    if (this.proxy.blackholed) this.from.pause();
    else this.flush();
  }

  flush() {
    for (const action of this.held.splice(0)) {
      if (action.chunk) this.to.write(action.chunk);
      else if (action.end) this.to.end();
      else this.to.destroy();
    }
    this.from.resume();
  }
}

export async function faultProxy(target) {
  let { hostname, port } = new URL(target);
  const pipes = new Set();
  const proxy = {
    blackholed: false,
    url: null,
    connections: 0,
    // Sends new connections to another server from now on, as a load balancer does
    // when a server goes down; connections open now stay where they are.
    retarget(url) {
      ({ hostname, port } = new URL(url));
    },
    // Starts or ends the outage.
    blackhole(on) {
      this.blackholed = on;
      for (const pipe of pipes) {
        if (on) pipe.from.pause();
        else pipe.flush();
      }
    },
    async close() {
      server.close();
      for (const pipe of pipes) pipe.from.destroy();
    },
  };
  const server = net.createServer((client) => {
    proxy.connections += 1;
    const upstream = net.connect(Number(port), hostname);
    const up = new Pipe(proxy, client, upstream);
    const down = new Pipe(proxy, upstream, client);
    pipes.add(up).add(down);
    if (proxy.blackholed) {
      client.pause();
      upstream.pause();
    }
    client.on("close", () => pipes.delete(up));
    upstream.on("close", () => pipes.delete(down));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  proxy.url = `http://127.0.0.1:${server.address().port}`;
  return proxy;
}
