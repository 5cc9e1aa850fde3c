// Network namespaces for the browser tests that need a network of their own (they need
// root): a namespace with one veth link to this machine and a default route through it.
// Every step that made something pushes its undoing onto `made`; `undoAll` undoes them in
// reverse order.

import { execFileSync } from "node:child_process";

// Runs a command, with `input` on its standard input if given, and returns its output.
export function run(command, args, input) {
  return execFileSync(command, args, { input, stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"] }).toString();
}

// Namespace `ns` linked to this machine: `host` (here, `hostIp`) and `inner` (there,
// `innerIp`), both /24.
export function namespace({ ns, host, inner, hostIp, innerIp }, made) {
  run("ip", ["netns", "add", ns]);
  made.push(() => run("ip", ["netns", "del", ns]));
  run("ip", ["link", "add", host, "type", "veth", "peer", "name", inner]);
  made.push(() => run("ip", ["link", "del", host]));
  run("ip", ["link", "set", inner, "netns", ns]);
  run("ip", ["addr", "add", `${hostIp}/24`, "dev", host]);
  run("ip", ["link", "set", host, "up"]);
  const inside = (...args) => run("ip", ["netns", "exec", ns, ...args]);
  inside("ip", "addr", "add", `${innerIp}/24`, "dev", inner);
  inside("ip", "link", "set", inner, "up");
  inside("ip", "link", "set", "lo", "up");
  inside("ip", "route", "add", "default", "via", hostIp);
}

// Undoes what `made` lists, newest first (what went with a namespace is already gone).
export function undoAll(made) {
  for (const undo of made.splice(0).reverse()) {
    try {
      undo();
    } catch {
      // Already gone with the namespace.
    }
  }
}
