// Device settings in the room: change camera, microphone and speaker without leaving, a
// microphone level meter, and a clear message when a device is missing or blocked. The
// same device lists and problem texts serve the join screen.

import { t } from "./i18n.js";

// Fills a <select> with devices, choosing `current`.
export function fillDevices(select, devices, current) {
  const names = { camera: "join.camera", mic: "join.microphone", speaker: "settings.speaker" };
  select.replaceChildren(
    ...devices.map((d, i) => {
      const option = document.createElement("option");
      option.value = d.deviceId;
      option.textContent = d.label || `${t(names[select.dataset.kind] ?? "join.camera")} ${i + 1}`;
      option.selected = d.deviceId === current;
      return option;
    }),
  );
  select.disabled = devices.length === 0;
  // A device's name is often longer than its field ("Microphone Array (Intel® Smart Sound
  // Technology …)"): the whole of it when pointed at.
  const named = () => (select.title = select.selectedOptions[0]?.textContent ?? "");
  named();
  if (!select.dataset.named) {
    select.dataset.named = "1";
    select.addEventListener("change", named);
  }
}

// What to tell the person about their devices, or "" when all is well.
export function problemText(problems, { camera, mic }) {
  const lines = [];
  if (camera && problems.camera) lines.push(t(`device.camera.${problems.camera}`));
  if (mic && problems.mic) lines.push(t(`device.mic.${problems.mic}`));
  return lines.join(" ");
}

export class DeviceSettings {
  constructor(dialog, { media, meter, onSpeaker }) {
    this.dialog = dialog;
    this.media = media;
    this.meter = meter;
    this.onSpeaker = onSpeaker;
    this.speaker = "";
    this.timer = null;
    const $ = (s) => dialog.querySelector(s);
    this.camera = $("#settings-camera");
    this.mic = $("#settings-mic");
    this.speakers = $("#settings-speaker");
    this.level = $("#settings-level");
    this.problem = $("#settings-problem");
    this.camera.addEventListener("change", () => this.switch("camera", this.camera.value));
    this.mic.addEventListener("change", () => this.switch("mic", this.mic.value));
    this.speakers.addEventListener("change", () => {
      this.speaker = this.speakers.value;
      this.onSpeaker(this.speaker);
    });
    dialog.addEventListener("close", () => {
      clearInterval(this.timer);
      this.timer = null;
    });
  }

  async open() {
    await this.fill();
    this.dialog.showModal();
    clearInterval(this.timer);
    this.timer = setInterval(() => (this.level.value = Math.min(1, this.meter.level("self") * 8)), 100);
  }

  async fill() {
    const { cameras, mics, speakers } = await this.media.devices();
    fillDevices(this.camera, cameras, this.media.camera?.getSettings().deviceId ?? this.media.chosen.camera);
    fillDevices(this.mic, mics, this.media.mic?.getSettings().deviceId ?? this.media.chosen.mic);
    fillDevices(this.speakers, speakers, this.speaker);
    // Browsers that cannot choose where sound plays (no setSinkId) get no choice.
    this.speakers.disabled = speakers.length === 0 || !("setSinkId" in HTMLMediaElement.prototype);
    this.showProblem();
  }

  async switch(kind, deviceId) {
    await this.media.switchDevice(kind, deviceId);
    this.showProblem();
  }

  showProblem() {
    const text = problemText(this.media.problems, { camera: true, mic: true });
    this.problem.textContent = text;
    this.problem.hidden = !text;
  }
}
