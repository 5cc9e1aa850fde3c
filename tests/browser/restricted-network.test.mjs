// Media through port 443 only (issue #17): networks in many administrations let nothing out
// but HTTPS. Two Chromiums, each in a network namespace this test makes, can reach nothing
// but TCP port 443 of the server (nftables drops UDP and every other port, each other
// included). They load the room over HTTP on 443, talk in a circle — a mesh pair, relay to
// relay through TURN over TLS on 443 — and one receives the other's broadcast through the
// SFU, relayed likewise. The TURN certificate is issued by a CA the test makes, which the
// namespaced Chromiums trust (an NSS database of their own, filled with `certutil`).
//
// Needs root (network namespaces), `nft` and `certutil` (Debian's nftables and
// libnss3-tools, which scripts/test installs); without root it is skipped, saying why.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startServer, person, mintLink, clickFloor, waitAt, waitCircle, waitDecoding, framesDecoded, DEADLINE } from "./harness.mjs";
import { run, namespace, undoAll } from "./netns.mjs";

const SKIP = process.getuid?.() === 0 ? false : "needs root to make network namespaces";
const TURN_NAME = "turn.hallway.test";
// Addresses of this run (the process id keeps parallel runs apart): the server's web and
// media side on the first link, TURN over TLS on the second.
const net = 100 + (process.pid % 100);
const suffix = process.pid % 100000;
const sides = ["a", "b"].map((letter, i) => ({
  ns: `hw443${letter}-${suffix}`,
  host: `hw${letter}${suffix}`,
  inner: `hw${letter}${suffix}i`,
  hostIp: `10.${net}.${i + 1}.1`,
  innerIp: `10.${net}.${i + 1}.2`,
}));
const WEB = sides[0].hostIp;
const TURN = sides[1].hostIp;

let dir;
let server;
const people = [];
const made = [];

// A network namespace with one link to this machine, through which only TCP 443 goes out.
function restrictedNamespace(side) {
  const { ns } = side;
  namespace(side, made);
  run("ip", ["netns", "exec", ns, "nft", "-f", "-"], `table inet restricted {
  chain output {
    type filter hook output priority 0; policy drop;
    oifname "lo" accept
    tcp dport 443 accept
  }
}
`);
  // The TURN server's name, for this namespace only (`ip netns exec` puts it in /etc/hosts;
  // Chromium's own rules below map it too).
  mkdirSync(`/etc/netns/${ns}`, { recursive: true });
  made.push(() => rmSync(`/etc/netns/${ns}`, { recursive: true, force: true }));
  writeFileSync(`/etc/netns/${ns}/hosts`, `127.0.0.1 localhost\n${TURN} ${TURN_NAME} ${TURN_NAME}.\n`);
}

// A CA, and a certificate for TURN_NAME it signed.
function certificates() {
  const at = (name) => path.join(dir, name);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  run("openssl", ["req", "-x509", ...ec, "-keyout", at("ca.key"), "-out", at("ca.pem"), "-days", "2", "-subj", "/CN=Hallway test CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
  run("openssl", ["req", ...ec, "-keyout", at("turn.key"), "-out", at("turn.csr"), "-subj", `/CN=${TURN_NAME}`]);
  writeFileSync(at("turn.ext"), `subjectAltName=DNS:${TURN_NAME}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`);
  run("openssl", ["x509", "-req", "-in", at("turn.csr"), "-CA", at("ca.pem"), "-CAkey", at("ca.key"), "-CAcreateserial", "-out", at("turn.pem"), "-days", "2", "-extfile", at("turn.ext")]);
}

// How a person's Chromium starts in `side`'s namespace, trusting the test CA.
function browserIn(side) {
  const home = path.join(dir, `home-${side.ns}`);
  const nssdb = path.join(home, ".pki", "nssdb");
  mkdirSync(nssdb, { recursive: true });
  run("certutil", ["-d", `sql:${nssdb}`, "-N", "--empty-password"]);
  run("certutil", ["-d", `sql:${nssdb}`, "-A", "-t", "C,,", "-n", "Hallway test CA", "-i", path.join(dir, "ca.pem")]);
  const wrapper = path.join(dir, `chromium-${side.ns}`);
  writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${side.ns} ${process.env.CHROMIUM ?? "/usr/bin/chromium"} "$@"\n`);
  chmodSync(wrapper, 0o755);
  return {
    executable: wrapper,
    env: { HOME: home },
    // Camera and microphone need a secure origin: this test's plain-HTTP one counts as such.
    // WebRTC looks the TURN server's name up with a trailing dot: both forms are mapped.
    args: [`--unsafely-treat-insecure-origin-as-secure=http://${WEB}:443`, `--host-resolver-rules=MAP ${TURN_NAME} ${TURN}, MAP ${TURN_NAME}. ${TURN}`],
  };
}

// The local candidate of a connection's selected pair (`peer` as for iceReport): its type
// and, for a relay, how it reaches the TURN server.
async function selectedCandidate(page, peer) {
  return page.evaluate(async (id) => {
    const { sfu, peers } = window.hallway;
    const pc = id === "sfu" ? sfu.receiving : id === "sfu-sending" ? sfu.sending : peers.pc(id);
    const stats = await pc.getStats();
    let pair;
    stats.forEach((r) => {
      if (r.type === "transport" && r.selectedCandidatePairId) pair = stats.get(r.selectedCandidatePairId);
    });
    const local = pair && stats.get(pair.localCandidateId);
    return local ? { type: local.candidateType, relayProtocol: local.relayProtocol ?? null } : null;
  }, peer);
}

// What ICE tried, for a failure's report: the candidates and the pairs' states. `peer` is
// a person's id, "sfu" (the receiving connection) or "sfu-sending".
async function iceReport(page, peer) {
  return page.evaluate(async (id) => {
    const { sfu, peers } = window.hallway;
    const pc = id === "sfu" ? sfu.receiving : id === "sfu-sending" ? sfu.sending : peers.pc(id);
    if (!pc) return null;
    const out = { state: pc.connectionState, ice: pc.iceConnectionState, local: [], remote: [], pairs: [] };
    (await pc.getStats()).forEach((r) => {
      if (r.type === "local-candidate") out.local.push(`${r.candidateType}/${r.protocol}${r.relayProtocol ? `/${r.relayProtocol}` : ""} ${r.address}:${r.port}`);
      if (r.type === "remote-candidate") out.remote.push(`${r.candidateType}/${r.protocol} ${r.address}:${r.port}`);
      if (r.type === "candidate-pair") out.pairs.push(`${r.state} ${r.requestsSent}/${r.responsesReceived}`);
    });
    return out;
  }, peer);
}

before(async () => {
  if (SKIP) return;
  dir = mkdtempSync(path.join(tmpdir(), "hallway-443-"));
  certificates();
  for (const side of sides) restrictedNamespace(side);
  server = await startServer({
    HALLWAY_BIND: WEB,
    HALLWAY_PORT: "443",
    HALLWAY_TURN_TLS_BIND: `${TURN}:443`,
    HALLWAY_TURN_TLS_CERT: path.join(dir, "turn.pem"),
    HALLWAY_TURN_TLS_KEY: path.join(dir, "turn.key"),
    HALLWAY_TURN_TLS_PUBLIC: `${TURN_NAME}:443`,
  });
});

after(async () => {
  for (const p of people) await p.close().catch(() => {});
  await server?.stop();
  undoAll(made);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("in networks that let only TCP 443 out, two people talk in a circle and hear a broadcast", { skip: SKIP, timeout: 5 * 60 * 1000 }, async () => {
  const hostLink = mintLink(server, ["--room", "lobby", "--role", "host"]);
  const anna = await person(server, "Anna Amt", { link: hostLink, browser: browserIn(sides[0]) });
  people.push(anna);
  const ben = await person(server, "Ben Behörde", { browser: browserIn(sides[1]) });
  people.push(ben);
  // Nothing but TCP 443 gets out: the page offers every way it has, and only the relay
  // over TLS on 443 connects.
  const urls = await anna.page.evaluate(() => window.hallway.peers.iceServers.flatMap((s) => s.urls));
  assert.ok(urls.includes(`turns:${TURN_NAME}:443?transport=tcp`), JSON.stringify(urls));

  // A mesh pair: each one's relay to the other's.
  await clickFloor(anna.page, 600, 600);
  await waitAt(ben.page, anna.id, 600, 600);
  await clickFloor(ben.page, 650, 600);
  await waitCircle(anna.page, [anna.id, ben.id]);
  await waitCircle(ben.page, [anna.id, ben.id]);
  for (const [page, peer] of [[anna.page, ben.id], [ben.page, anna.id]]) {
    await waitDecoding(page, peer).catch(async (err) => {
      throw new Error(`${err.message}; ICE: ${JSON.stringify(await iceReport(page, peer))}`);
    });
  }
  for (const [page, peer] of [[anna.page, ben.id], [ben.page, anna.id]]) {
    assert.deepEqual(await selectedCandidate(page, peer), { type: "relay", relayProtocol: "tls" });
  }

  // A broadcast through the SFU: Anna (a host) goes on stage, Ben receives it.
  await ben.page.click("#leave-circle");
  await anna.page.waitForFunction(() => !window.hallway.state.myCircle(), null, { timeout: DEADLINE });
  await anna.page.click("#on-air-toggle");
  await ben.page.waitForFunction((id) => window.hallway.sfu.summary().streams.includes(`p${id}`), anna.id, { timeout: DEADLINE }).catch(async (err) => {
    const seen = await Promise.all([anna.page, ben.page].map((page) => page.evaluate(() => ({ sfu: window.hallway.sfu.summary(), stage: document.querySelector("#on-air-toggle")?.dataset.on }))));
    throw new Error(`${err.message}: the broadcast did not reach Ben: ${JSON.stringify(seen)}; Anna's sending ICE: ${JSON.stringify(await iceReport(anna.page, "sfu-sending"))}`);
  });
  const until = Date.now() + DEADLINE;
  while ((await framesDecoded(ben.page, "sfu")) <= 0) {
    assert.ok(Date.now() < until, "no broadcast video decoded through the relay");
    await ben.page.waitForTimeout(200);
  }
  assert.deepEqual(await selectedCandidate(anna.page, "sfu-sending"), { type: "relay", relayProtocol: "tls" });
  assert.deepEqual(await selectedCandidate(ben.page, "sfu"), { type: "relay", relayProtocol: "tls" });
});
