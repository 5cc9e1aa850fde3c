// This participant's camera, microphone and screen.

export class LocalMedia {
  constructor() {
    this.stream = new MediaStream();
    this.camera = null;
    this.mic = null;
    this.screen = null;
    this.listeners = new Set();
  }

  // Opens the chosen devices (or the defaults). Missing or refused devices are not an
  // error: one can join and listen.
  async open({ cameraId, micId, camera = true, mic = true } = {}) {
    this.stopDevices();
    const constraints = {
      video: camera ? (cameraId ? { deviceId: { exact: cameraId } } : { width: 640, height: 360 }) : false,
      audio: mic ? (micId ? { deviceId: { exact: micId } } : true) : false,
    };
    if (!constraints.video && !constraints.audio) return this.changed();
    try {
      const got = await navigator.mediaDevices.getUserMedia(constraints);
      this.camera = got.getVideoTracks()[0] ?? null;
      this.mic = got.getAudioTracks()[0] ?? null;
    } catch {
      this.camera = null;
      this.mic = null;
    }
    this.stream = new MediaStream([this.mic, this.camera].filter(Boolean));
    this.changed();
  }

  async devices() {
    try {
      const all = await navigator.mediaDevices.enumerateDevices();
      return {
        cameras: all.filter((d) => d.kind === "videoinput"),
        mics: all.filter((d) => d.kind === "audioinput"),
      };
    } catch {
      return { cameras: [], mics: [] };
    }
  }

  state() {
    return {
      mic: !!this.mic && this.mic.enabled,
      camera: !!this.camera && this.camera.enabled,
      screen: !!this.screen,
    };
  }

  setMic(on) {
    if (this.mic) this.mic.enabled = on;
    this.changed();
  }

  setCamera(on) {
    if (this.camera) this.camera.enabled = on;
    this.changed();
  }

  // Shares the screen in place of the camera picture; the circle sees it at once.
  async startScreen() {
    const shared = await navigator.mediaDevices.getDisplayMedia({ video: true });
    this.screen = shared.getVideoTracks()[0];
    this.screen.addEventListener("ended", () => this.stopScreen());
    this.changed();
  }

  stopScreen() {
    this.screen?.stop();
    this.screen = null;
    this.changed();
  }

  // The video track to send: the screen while sharing, else the camera.
  videoTrack() {
    return this.screen ?? this.camera;
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
  }
}
