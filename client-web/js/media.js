// This participant's camera, microphone and screen: the one owner of every local
// MediaStreamTrack. Whatever opens a device does it here, and `stopAll()` ends them all,
// so that leaving can prove that nothing records any more (`tracks()` lists what is held).

export class LocalMedia {
  constructor() {
    // Camera and microphone travel in this stream; the screen in a stream of its own, so
    // that receivers can tell the two pictures apart.
    this.stream = new MediaStream();
    this.screenStream = new MediaStream();
    this.camera = null;
    this.mic = null;
    this.screen = null;
    // Why the last attempt to open a device failed: null, "blocked" or "missing", per kind.
    this.problems = { camera: null, mic: null };
    this.listeners = new Set();
    this.stopped = false;
    // Counts `stopAll`s (an open asked for before one is not done after it).
    this.stops = 0;
    // Every track this page ever opened, so that leaving can check each one has ended.
    this.opened = [];
    // The device last chosen of each kind (undefined: the browser's default), for turning
    // one on that is not held.
    this.chosen = { camera: undefined, mic: undefined };
    // Whether the person turned each off (on the join screen or in the room): an answer from
    // the browser that comes after that does not turn it on again.
    this.off = { camera: false, mic: false };
  }

  // Opens the chosen devices (or the defaults). Missing or refused devices are not an
  // error: one can join and listen; `problems` says what went wrong, for the page to tell.
  // In turn with switches (see `switchDevice`): the page enters without waiting for the
  // browser's answer, so a switch in the room can come while an open still waits, and
  // the open's late tracks would replace the one switched to (which nobody would hold).
  // An open that comes after `stopAll` (the page was left meanwhile) opens nothing.
  open(options) {
    const stops = this.stops;
    return this.inTurn(() => (stops === this.stops ? this.openNow(options) : undefined));
  }

  async openNow({ cameraId, micId, camera = true, mic = true } = {}) {
    this.stopDevices();
    this.stopped = false;
    this.problems = { camera: null, mic: null };
    this.chosen = { camera: cameraId, mic: micId };
    this.off = { camera: !camera, mic: !mic };
    if (camera) this.camera = await this.get("camera", cameraId);
    if (mic) this.mic = await this.get("mic", micId);
    // (Turned off, or muted by a host, in the room while the browser was still asking.)
    this.camera = this.asWanted("camera", this.camera);
    this.mic = this.asWanted("mic", this.mic);
    this.restream();
    this.changed();
  }

  // One device; null (and a problem noted) when it is missing or blocked. Camera and
  // microphone are asked for one at a time so that a missing camera does not cost the
  // microphone.
  async get(kind, deviceId) {
    const constraints =
      kind === "camera"
        ? { video: { ...(deviceId ? { deviceId: { exact: deviceId } } : {}), width: { ideal: 640 }, height: { ideal: 360 } } }
        : { audio: deviceId ? { deviceId: { exact: deviceId } } : true };
    try {
      const got = await navigator.mediaDevices.getUserMedia(constraints);
      const track = (kind === "camera" ? got.getVideoTracks() : got.getAudioTracks())[0] ?? null;
      // The page may have been left while the browser asked.
      if (track) this.opened.push(track);
      if (this.stopped) {
        track?.stop();
        return null;
      }
      return track;
    } catch (err) {
      this.problems[kind] = err?.name === "NotAllowedError" || err?.name === "SecurityError" ? "blocked" : "missing";
      return null;
    }
  }

  // Replaces one device (from the settings while in the room), keeping the other and
  // the on/off state; connections swap the track through `onChange`.
  // One switch (or open) at a time: two at once would each stop the same old track and
  // leave one of the new ones open, recording, with nobody holding it.
  switchDevice(kind, deviceId) {
    return this.inTurn(() => this.switchNow(kind, deviceId));
  }

  // Runs `operation` once every device operation asked for before it is done.
  inTurn(operation) {
    this.switching = (this.switching ?? Promise.resolve()).catch(() => {}).then(operation);
    return this.switching;
  }

  async switchNow(kind, deviceId) {
    this.chosen[kind] = deviceId;
    const old = this.held(kind);
    // A device turned off and not held stays off: the one chosen opens when it is turned on.
    if (this.off[kind] && !old) return;
    old?.stop();
    this.hold(kind, this.asWanted(kind, await this.get(kind, deviceId)));
    this.restream();
    this.changed();
  }

  restream() {
    this.stream = new MediaStream([this.mic, this.camera].filter(Boolean));
  }

  async devices() {
    try {
      const all = await navigator.mediaDevices.enumerateDevices();
      return {
        cameras: all.filter((d) => d.kind === "videoinput"),
        mics: all.filter((d) => d.kind === "audioinput"),
        speakers: all.filter((d) => d.kind === "audiooutput"),
      };
    } catch {
      return { cameras: [], mics: [], speakers: [] };
    }
  }

  state() {
    return {
      mic: !!this.mic && this.mic.enabled,
      camera: !!this.camera && this.camera.enabled,
      screen: !!this.screen,
    };
  }

  // Turns the camera or microphone on. One not held — off on the join screen, refused,
  // missing, or still asked for when the page went in — is asked of the browser again
  // (in turn with opening and switching). Resolves to whether it is on now; `problems`
  // says why not. Turned off again (or muted by a host) while the browser asks: it stays
  // off.
  async turnOn(kind) {
    this.off[kind] = false;
    // One held: at once (not after a device operation still waiting for the browser).
    if (this.held(kind)?.readyState === "live") {
      this.held(kind).enabled = true;
      this.changed();
      return true;
    }
    const stops = this.stops;
    await this.inTurn(async () => {
      if (stops !== this.stops || this.off[kind]) return;
      const now = this.held(kind);
      if (now?.readyState === "live") {
        now.enabled = true;
        return;
      }
      now?.stop();
      this.problems[kind] = null;
      let track = await this.get(kind, this.chosen[kind]);
      // The device chosen before may be gone (unplugged): then the browser's default.
      if (!track && this.chosen[kind] && this.problems[kind] === "missing" && stops === this.stops) {
        this.problems[kind] = null;
        this.chosen[kind] = undefined;
        track = await this.get(kind, undefined);
      }
      if (stops !== this.stops) {
        track?.stop();
        return;
      }
      this.hold(kind, this.asWanted(kind, track));
      this.restream();
    });
    this.changed();
    return this.state()[kind];
  }

  held(kind) {
    return kind === "camera" ? this.camera : this.mic;
  }

  hold(kind, track) {
    if (kind === "camera") this.camera = track;
    else this.mic = track;
  }

  // A track the browser gave, as the person wants it now: a camera turned off meanwhile is
  // closed (null), a microphone muted meanwhile is muted.
  asWanted(kind, track) {
    if (!track) return null;
    if (kind === "camera" && this.off.camera) {
      track.stop();
      return null;
    }
    track.enabled = !this.off[kind];
    return track;
  }

  setMic(on) {
    this.off.mic = !on;
    if (this.mic) this.mic.enabled = on;
    this.changed();
  }

  // Off ends the camera's track, so that its light goes out (the microphone only mutes:
  // turning it back on must be instant); on uses the one held (see `turnOn` for one not).
  setCamera(on) {
    if (on && this.camera) this.camera.enabled = true;
    if (!on && this.camera) {
      // (The same camera opens when it is turned on again.)
      this.chosen.camera = this.camera.getSettings().deviceId ?? this.chosen.camera;
      this.camera.stop();
      this.camera = null;
      this.restream();
    }
    this.off.camera = !on;
    this.changed();
  }

  // The camera as it should be sent: null while it is off, so that connections send no
  // frames at all (a disabled track would still send black ones).
  cameraToSend() {
    return this.camera && this.camera.enabled ? this.camera : null;
  }

  // Shares the screen as a picture of its own, next to the camera.
  async startScreen() {
    const shared = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    const track = shared.getVideoTracks()[0];
    this.opened.push(track);
    if (this.stopped) {
      track.stop();
      return;
    }
    this.screen = track;
    this.screenStream = new MediaStream([track]);
    track.addEventListener("ended", () => this.stopScreen());
    this.changed();
  }

  stopScreen() {
    if (!this.screen) return;
    this.screen.stop();
    this.screen = null;
    this.screenStream = new MediaStream();
    this.changed();
  }

  onChange(listener) {
    this.listeners.add(listener);
  }

  changed() {
    for (const listener of this.listeners) listener(this.state());
  }

  stopDevices() {
    this.camera?.stop();
    this.mic?.stop();
    this.camera = null;
    this.mic = null;
  }

  // Ends every track this page holds: camera, microphone and screen. The browser's
  // recording indicator goes out.
  stopAll() {
    this.stopped = true;
    this.stops += 1;
    this.stopScreen();
    this.stopDevices();
    this.restream();
    this.changed();
  }

  // Every track ever opened (a handful: devices are switched by hand), with its state:
  // for the leave check and the tests.
  tracks() {
    return this.opened.map((t) => ({ kind: t.kind, label: t.label, readyState: t.readyState }));
  }
}
