// Streams from other participants, shown in their tile and floor bubble: from a direct
// connection or through the SFU, handed over without a gap (make before break).

// How long a new stream must have carried media before it replaces one that still plays,
// when the caller asks for it (the SFU's, while the direct connection still plays): the
// first packets through a new SFU connection can pause while the browsers are busy
// setting it up, and the stream that plays meanwhile is the one heard.
export const SETTLE_MS = 1_500;

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
  // flows on it (a remote track is muted until its first packets), and with `settleMs`
  // only once it has flowed that long and still does, so that a switch is not heard.
  // `flowing` is called once it has taken over (at once, if nothing played), or once
  // something newer has.
  showWhenFlowing(id, kind, stream, flowing = () => {}, settleMs = 0) {
    const shown = this.conversation.stream(id, kind);
    if (!stream || !plays(shown) || (plays(stream) && !settleMs)) {
      this.show(id, kind, stream);
      if (stream && plays(stream)) flowing();
      else if (stream) whenFlowing(stream, flowing);
      return;
    }
    const replace = () => {
      // Unless something newer was shown meanwhile (the old one may be gone: then this).
      const now = this.conversation.stream(id, kind);
      if (now === shown || !now) this.show(id, kind, stream);
      flowing();
    };
    const settled = () => {
      const now = this.conversation.stream(id, kind);
      if (now !== shown && now) return flowing();
      // Still flowing (or the old one stopped): it takes over. Paused again meanwhile: it
      // must flow once more, and that long.
      if (plays(stream) || !plays(now)) replace();
      else whenFlowing(stream, () => setTimeout(settled, settleMs));
    };
    whenFlowing(stream, settleMs ? () => setTimeout(settled, settleMs) : replace);
  }
}

// Whether any track of the stream `s` is live and carries media.
export function plays(s) {
  return !!s?.getTracks().some((tr) => tr.readyState === "live" && !tr.muted);
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
