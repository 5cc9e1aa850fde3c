// The ways other people's media reach this page, and how one hands over to the other:
// direct connections to each member of a mesh circle (peers.js), the server's SFU for
// broadcasts, large circles and rooms in privacy mode (sfu.js), and the streams they
// bring in, shown in tiles and floor bubbles (remote-streams.js). A stream from the new
// path replaces the old one's only once it plays (make before break).

import { messages } from "./protocol.js";
import { Peers } from "./peers.js";
import { Sfu } from "./sfu.js";
import { RemoteStreams, SETTLE_MS, plays } from "./remote-streams.js";

export class MediaPaths {
  // `send` sends a message to the server; `render` redraws the people (a stream's tracks
  // changed).
  constructor({ send, media, state, conversation, floor, render }) {
    this.state = state;
    // The circle we were in while we sent through the SFU (see `follow`).
    this.routedCircle = null;
    const streams = new RemoteStreams({ conversation, floor, state, render });
    const peers = new Peers({
      send: (to, payload) => send(messages.signal(to, payload)),
      media,
      onStream: (id, stream, kind) => streams.showWhenFlowing(id, kind, stream),
      // Takes away what this connection showed (not what the SFU shows meanwhile); if the
      // SFU carries that person too (its stream may still have been settling), that is
      // shown.
      onClosed: (id, closed) => {
        for (const kind of ["camera", "screen"]) {
          const shown = conversation.stream(id, kind);
          if (shown && shown === closed.get(kind)) streams.show(id, kind, sfu.stream(id, kind));
        }
      },
    });
    const sfu = new Sfu({
      send,
      media,
      // Replaces a direct connection's stream that still plays once it has carried media
      // for SETTLE_MS; then the direct connection may go (see `Peers.carried`).
      onStream: (id, stream, kind = "camera") =>
        streams.showWhenFlowing(
          id,
          kind,
          stream,
          () => {
            if (kind === "camera") peers.carried(id);
          },
          SETTLE_MS,
        ),
      // The SFU's stream of someone ended (they stopped sending there, or left). Without a
      // direct connection to them, the tile shows their initials; with one, it stays as it
      // is, unless what it shows no longer plays: then the direct connection's stream
      // takes it (the tile may show an SFU stream newer than the one the direct stream was
      // to replace, so that the direct one never took over, and it stayed on a dead stream).
      onEnded: (id, kind) => {
        for (const k of kind ? [kind] : ["camera", "screen"]) {
          const direct = peers.stream(id, k);
          if (!peers.pc(id)) streams.show(id, k, null);
          else if (direct && !plays(conversation.stream(id, k))) streams.show(id, k, direct);
        }
      },
    });
    Object.assign(this, { streams, peers, sfu });
  }

  // Publish to the SFU exactly while we broadcast or stand in a circle whose media goes
  // through the server (a large circle, or any circle in a room in privacy mode); back in
  // a mesh, until the direct connections are up (see `Sfu.follow`).
  // Only a circle that went back to a mesh keeps its routes through the SFU: in another
  // circle (one walked on), or none, nobody receives us there any more, and we stop at once.
  follow() {
    const { state, peers } = this;
    this.sfu.follow(
      () => {
        const need = state.broadcasters.includes(state.you) || state.myCircle()?.media === "sfu";
        if (need) this.routedCircle = state.myCircle()?.id ?? null;
        return need;
      },
      () => {
        const circle = state.myCircle();
        return !circle || circle.id !== this.routedCircle || circle.members.every((id) => id === state.you || peers.up(id));
      },
    );
  }
}
