// WebRTC connections to the members of this participant's circle, one per member, using
// the perfect-negotiation pattern. The server says whom to connect to and who offers
// (`connect`), brokers the signalling (`signal`), and says when to hang up (`disconnect`).

export class Peers {
  constructor({ send, media, onStream, onClosed }) {
    this.send = send;
    this.media = media;
    this.onStream = onStream;
    this.onClosed = onClosed;
    this.peers = new Map();
    this.iceServers = [];
    media.onChange(() => this.updateTracks());
  }

  connect(id, initiator) {
    this.close(id);
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    // The initiator is the impolite peer: on a collision its offer wins.
    const peer = { pc, polite: !initiator, makingOffer: false, ignoreOffer: false };
    this.peers.set(id, peer);
    pc.addEventListener("negotiationneeded", async () => {
      // The responder waits for the initiator's first offer instead of racing it.
      if (!initiator && !pc.remoteDescription) return;
      try {
        peer.makingOffer = true;
        await pc.setLocalDescription();
        this.send(id, { description: pc.localDescription });
      } catch {
        // A newer negotiation replaces this one.
      } finally {
        peer.makingOffer = false;
      }
    });
    pc.addEventListener("icecandidate", ({ candidate }) => {
      if (candidate) this.send(id, { candidate });
    });
    pc.addEventListener("track", ({ streams, track }) => {
      this.onStream(id, streams[0] ?? new MediaStream([track]));
    });
    pc.addEventListener("connectionstatechange", () => {
      if (pc.connectionState === "failed") pc.restartIce();
    });
    // addTrack, so that the responder's tracks ride on the m-lines of the initiator's
    // offer; the initiator asks to receive what it has nothing to send for.
    for (const [kind, track] of [["audio", this.media.mic], ["video", this.media.videoTrack()]]) {
      if (track) pc.addTrack(track, this.media.stream);
      else if (initiator) pc.addTransceiver(kind, { direction: "recvonly" });
    }
  }

  // One of us came back after a dropped connection: keep the connection and restart its
  // ICE (the initiator offers), or connect afresh if there is none.
  restart(id, initiator) {
    const peer = this.peers.get(id);
    if (!peer || peer.pc.connectionState === "closed") return this.connect(id, initiator);
    if (initiator) peer.pc.restartIce();
  }

  // Signals from one peer are handled one after another, in the order they came.
  signal(from, payload) {
    const peer = this.peers.get(from);
    if (!peer) return;
    peer.queue = (peer.queue ?? Promise.resolve()).then(() => this.handle(peer, from, payload));
  }

  async handle(peer, from, payload) {
    const { pc } = peer;
    try {
      if (payload.description) {
        const description = payload.description;
        const collision = description.type === "offer" && (peer.makingOffer || pc.signalingState !== "stable");
        peer.ignoreOffer = !peer.polite && collision;
        if (peer.ignoreOffer) return;
        await pc.setRemoteDescription(description);
        if (description.type === "offer") {
          await pc.setLocalDescription();
          this.send(from, { description: pc.localDescription });
        }
      } else if (payload.candidate) {
        try {
          await pc.addIceCandidate(payload.candidate);
        } catch (err) {
          if (!peer.ignoreOffer) throw err;
        }
      }
    } catch {
      // A broken negotiation recovers through the next one (or an ICE restart).
    }
  }

  // Microphone, camera or screen changed: swap what is sent, without renegotiating.
  updateTracks() {
    for (const { pc } of this.peers.values()) {
      for (const transceiver of pc.getTransceivers()) {
        const kind = transceiver.receiver.track?.kind;
        const track = kind === "audio" ? this.media.mic : this.media.videoTrack();
        if (track && transceiver.sender.track !== track) {
          transceiver.sender.replaceTrack(track).catch(() => {});
          // A device that came late: start sending (this renegotiates).
          if (transceiver.direction === "recvonly") transceiver.direction = "sendrecv";
        }
      }
    }
  }

  // Connection states, for the page's own diagnostics and the browser tests.
  summary() {
    return [...this.peers.entries()].map(([id, { pc }]) => ({ id, state: pc.connectionState }));
  }

  pc(id) {
    return this.peers.get(id)?.pc;
  }

  close(id) {
    const peer = this.peers.get(id);
    if (!peer) return;
    peer.pc.close();
    this.peers.delete(id);
    this.onClosed(id);
  }

  closeAll() {
    for (const id of [...this.peers.keys()]) this.close(id);
  }
}
