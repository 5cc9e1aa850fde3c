// Who is speaking, from the audio level of each stream (Web Audio, no library). One
// AudioContext for the page; one analyser per stream; a sampling loop that marks a
// stream as speaking while its level stays above a threshold, with a short hold so the
// indicator does not flicker between words.

// RMS of the samples, 0..1: about -42 dBFS. Speech that reaches us through WebRTC has
// been through echo cancellation and noise suppression and is quieter than the raw
// microphone; silence measures below 0.001.
const THRESHOLD = 0.008;
const HOLD_MS = 400;
const SAMPLE_MS = 100;
const WINDOW = 512;

export class SpeakingMeter {
  constructor({ onChange }) {
    this.onChange = onChange;
    this.context = null;
    // key → { stream, source, analyser, data, level, speaking, lastLoud }
    this.meters = new Map();
    this.timer = null;
  }

  // Must first be called from a user gesture (the join button), as browsers ask.
  start() {
    if (!this.context) {
      try {
        this.context = new AudioContext();
      } catch {
        return;
      }
    }
    this.context.resume?.().catch(() => {});
    if (!this.timer) this.timer = setInterval(() => this.sample(), SAMPLE_MS);
  }

  // Watches the audio of `stream` under `key` (a participant's id); a stream without
  // audio, or null, stops watching.
  watch(key, stream) {
    const current = this.meters.get(key);
    const track = stream?.getAudioTracks().find((t) => t.readyState === "live");
    if (current && current.track === track) return;
    this.unwatch(key);
    if (!track || !this.context) return;
    try {
      const source = this.context.createMediaStreamSource(new MediaStream([track]));
      const analyser = this.context.createAnalyser();
      // About 85 ms of sound at 48 kHz: most of each sampling interval is looked at.
      analyser.fftSize = 4096;
      source.connect(analyser);
      this.meters.set(key, { track, source, analyser, data: new Float32Array(analyser.fftSize), level: 0, speaking: false, lastLoud: 0 });
    } catch {
      // A track the context cannot read (already ended): nothing to show.
    }
  }

  unwatch(key) {
    const meter = this.meters.get(key);
    if (!meter) return;
    meter.source.disconnect();
    this.meters.delete(key);
    if (meter.speaking) this.onChange(key, false);
  }

  level(key) {
    return this.meters.get(key)?.level ?? 0;
  }

  sample() {
    const now = performance.now();
    for (const [key, meter] of this.meters) {
      meter.analyser.getFloatTimeDomainData(meter.data);
      // The loudest 10 ms: a short syllable is not averaged away by the pause after it.
      let level = 0;
      for (let start = 0; start + WINDOW <= meter.data.length; start += WINDOW) {
        let sum = 0;
        for (let i = start; i < start + WINDOW; i++) sum += meter.data[i] * meter.data[i];
        level = Math.max(level, Math.sqrt(sum / WINDOW));
      }
      meter.level = level;
      // A muted track (enabled = false, or muted by the sender) is silent by definition.
      const loud = meter.track.enabled && !meter.track.muted && meter.level > THRESHOLD;
      if (loud) meter.lastLoud = now;
      const speaking = loud || (meter.speaking && now - meter.lastLoud < HOLD_MS);
      if (speaking !== meter.speaking) {
        meter.speaking = speaking;
        this.onChange(key, speaking);
      }
    }
  }

  stop() {
    for (const key of [...this.meters.keys()]) this.unwatch(key);
    clearInterval(this.timer);
    this.timer = null;
    this.context?.close().catch(() => {});
    this.context = null;
  }
}
