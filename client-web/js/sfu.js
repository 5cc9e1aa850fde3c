// Media through the server's SFU (broadcasts to the whole room). Two connections with the
// server: one that sends this participant's microphone and camera while they broadcast
// (we offer, the server answers), and one that receives what the server forwards (the
// server offers whenever tracks come and go, we answer). Each incoming stream's id is
// "p" + the id of the participant it comes from.

export class Sfu {
  constructor({ send, media, onStream, onEnded }) {
    this.send = send;
    this.media = media;
    this.onStream = onStream;
    this.onEnded = onEnded;
    this.sending = null;
    this.receiving = null;
    this.streams = new Map();
    // From the welcome: the TURN relay with this participant's credentials.
    this.iceServers = [];
    media.onChange(() => this.updateTracks());
  }

  get publishing() {
    return this.sending !== null;
  }

  // Starts sending the microphone and camera to the server.
  async publish() {
    if (this.sending) return;
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    this.sending = pc;
    for (const [kind, track] of [["audio", this.media.mic], ["video", this.media.videoTrack()]]) {
      if (track) pc.addTrack(track, this.media.stream);
      else pc.addTransceiver(kind, { direction: "sendonly" });
    }
    await pc.setLocalDescription();
    // The server is ICE-lite and needs none of our candidates: the description is enough.
    if (this.sending === pc) this.send({ type: "sfu_offer", sdp: pc.localDescription.sdp });
  }

  // Stops sending: the server ends our tracks for everyone.
  unpublish() {
    if (!this.sending) return;
    this.sending.close();
    this.sending = null;
    this.send({ type: "sfu_unpublish" });
  }

  // The server's answer to our offer.
  async answered(sdp) {
    try {
      await this.sending?.setRemoteDescription({ type: "answer", sdp });
    } catch {
      // A stale answer for a connection we already replaced.
    }
  }

  // The server offers (or renegotiates) the receiving connection.
  async offered(sdp) {
    if (!this.receiving) this.receiving = this.openReceiving();
    const pc = this.receiving;
    await pc.setRemoteDescription({ type: "offer", sdp });
    await pc.setLocalDescription();
    this.send({ type: "sfu_answer", sdp: pc.localDescription.sdp });
    this.pruneStreams();
  }

  openReceiving() {
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    pc.addEventListener("track", ({ track, streams }) => {
      const stream = streams[0];
      if (!stream || !stream.id.startsWith("p")) return;
      const id = stream.id.slice(1);
      this.streams.set(id, stream);
      stream.addEventListener("removetrack", () => this.pruneStreams());
      track.addEventListener("ended", () => this.pruneStreams());
      this.onStream(id, stream);
    });
    return pc;
  }

  // Streams left without live tracks (the broadcast stopped: renegotiation removed them)
  // are taken off the stage.
  pruneStreams() {
    for (const [id, stream] of this.streams) {
      if (stream.getTracks().every((t) => t.readyState === "ended")) {
        this.streams.delete(id);
        this.onEnded(id);
      }
    }
  }

  // Microphone, camera or screen changed while broadcasting: swap what is sent.
  updateTracks() {
    if (!this.sending) return;
    for (const transceiver of this.sending.getTransceivers()) {
      const kind = transceiver.receiver.track?.kind;
      const track = kind === "audio" ? this.media.mic : this.media.videoTrack();
      if (track && transceiver.sender.track !== track) transceiver.sender.replaceTrack(track).catch(() => {});
    }
  }

  // Who is received through the server, for diagnostics and the browser tests.
  summary() {
    return {
      sending: this.sending?.connectionState ?? null,
      receiving: this.receiving?.connectionState ?? null,
      streams: [...this.streams.keys()],
    };
  }

  closeAll() {
    this.sending?.close();
    this.receiving?.close();
    this.sending = null;
    this.receiving = null;
    for (const id of [...this.streams.keys()]) this.onEnded(id);
    this.streams.clear();
  }
}
