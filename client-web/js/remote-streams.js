// Streams from other participants, shown in their tile and floor bubble: from a direct
// connection or through the SFU, handed over without a gap (make before break).

export class RemoteStreams {
  // `conversation` and `floor` show them; `state`: the room; `render()`: redraw soon.
  constructor({ conversation, floor, state, render }) {
    this.conversation = conversation;
    this.floor = floor;
    this.state = state;
    this.render = render;
    // Streams whose track changes re-render: the SFU may add someone's video after their
    // sound, and tiles and floor bubbles show video only for tracks the stream has.
    this.followed = new WeakSet();
  }

  // A stream from another participant arrived (or ended, `null`): show it.
  show(id, kind, stream) {
    if (stream && !this.followed.has(stream)) {
      this.followed.add(stream);
      stream.addEventListener("addtrack", this.render);
      stream.addEventListener("removetrack", this.render);
    }
    this.conversation.setStream(id, kind, stream);
    if (kind === "camera") this.floor.setVideo(id, this.state.participants.get(id)?.camera ? stream : null);
    this.render();
  }

  // Make before break: a new stream for what is already shown and playing (the same
  // person now coming through the SFU, or directly again) replaces it only once media
  // flows on it (a remote track is muted until its first packets), so that a switch is
  // not heard. `flowing` is called once it does.
  showWhenFlowing(id, kind, stream, flowing = () => {}) {
    const shown = this.conversation.stream(id, kind);
    const plays = (s) => !!s?.getTracks().some((tr) => tr.readyState === "live" && !tr.muted);
    if (!stream || !plays(shown) || plays(stream)) {
      this.show(id, kind, stream);
      if (stream && plays(stream)) flowing();
      else if (stream) whenFlowing(stream, flowing);
      return;
    }
    whenFlowing(stream, () => {
      // Unless something newer was shown meanwhile (the old one may be gone: then this).
      const now = this.conversation.stream(id, kind);
      if (now === shown || !now) this.show(id, kind, stream);
      flowing();
    });
  }
}

// Calls `then` once, when any track of `stream` (also one added later) carries media.
function whenFlowing(stream, then) {
  let done = false;
  const check = (track) => {
    if (done || track.muted || track.readyState !== "live") return;
    done = true;
    then();
  };
  const watchTrack = (track) => {
    track.addEventListener("unmute", () => check(track));
    check(track);
  };
  stream.getTracks().forEach(watchTrack);
  stream.addEventListener("addtrack", ({ track }) => watchTrack(track));
}
