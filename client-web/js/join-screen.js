// The join screen: the name and profile line to enter with, the camera and microphone
// preview, what the room asks of newcomers (a passcode, a personal link, that it is
// locked), a reload that comes back without the form, and the errors of a refused hello
// under the field they are about.

import { LIMITS } from "./protocol.js";
import { fillDevices, problemText } from "./settings.js";
import { t, lang, translatePage } from "./i18n.js";
import { session } from "./session.js";
import { toast } from "./announce.js";

const $ = (selector) => document.querySelector(selector);

// The join form's field a refusal is about, if it is about one.
const JOIN_FIELDS = { invalid_name: "#name", name_taken: "#name", invalid_profile: "#profile" };

// How long entering waits for the camera and microphone at most.
const PREVIEW_WAIT_MS = 3000;

export class JoinScreen {
  // `connect` opens the connection (the hello takes `name` and `profile` from here);
  // `joined` says whether the room welcomed us.
  constructor({ slug, token, media, meter, connect, joined }) {
    this.slug = slug;
    this.token = token;
    this.media = media;
    this.meter = meter;
    this.connect = connect;
    this.joined = joined;
    // The name and profile line to enter with: typed here, or remembered by this tab.
    this.name = "";
    this.profile = "";
    this.previewing = Promise.resolve();
    // The room's title (its address until the server said).
    this.title = slug;
    // "Enter" was pressed and the page is on its way in (until a refusal).
    this.entering = false;
  }

  // The texts of the join screen that are not in the page's markup, in the language now.
  translate() {
    $("#join-heading").textContent = t("join.heading", { room: this.title });
  }

  setUp() {
    const { slug, meter } = this;
    document.documentElement.lang = lang();
    translatePage();
    this.translate();
    document.title = `${slug} – Hallway`;
    $("#name").maxLength = LIMITS.maxNameChars;
    // (What someone typed while the script was still loading stays.)
    $("#name").value ||= localStorage.getItem("hallway.name") ?? "";
    $("#profile").maxLength = LIMITS.maxProfileChars;
    $("#profile").value ||= localStorage.getItem("hallway.profile") ?? "";
    this.fixedByInvitation();
    $("#join-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const name = tidy($("#name"));
      if (name.length < 1 || [...name].length > LIMITS.maxNameChars) {
        this.showError(explain("invalid_name") ?? t("error.invalid_name"), "#name");
        return;
      }
      const profile = tidy($("#profile"));
      if ([...profile].length > LIMITS.maxProfileChars) {
        this.showError(explain("invalid_profile") ?? t("error.invalid_profile"), "#profile");
        return;
      }
      localStorage.setItem("hallway.name", name);
      localStorage.setItem("hallway.profile", profile);
      this.name = name;
      this.profile = profile;
      this.entering = true;
      $("#enter").disabled = true;
      meter.start();
      // Enter with the camera and microphone ready, so that the first connections send them;
      // a browser slow to give them (seconds on a starved machine) does not keep one out:
      // they follow once it does, as after a reload.
      let timer;
      const late = new Promise((resolve) => (timer = setTimeout(resolve, PREVIEW_WAIT_MS)));
      await Promise.race([this.previewing, late]);
      clearTimeout(timer);
      this.connect();
    });
    // The form is the script's now (the markup keeps the button disabled until here, and
    // says after a while that the page did not finish loading).
    $("#enter").disabled = false;
    $("#enter").removeAttribute("aria-describedby");
    $("#script-late")?.remove();
    const again = () => (this.previewing = this.preview());
    for (const id of ["#camera-select", "#mic-select", "#camera-on", "#mic-on"]) $(id).addEventListener("change", again);
    // Browsers start sound analysis only after a gesture: the level meter wakes on the first.
    document.addEventListener("pointerdown", () => meter.start(), { once: true });
    document.addEventListener("keydown", () => meter.start(), { once: true });
    this.checkRoom();
    const remembered = session.resume(slug);
    if (remembered) {
      // A reload (or a restored tab) within the grace window: come back without the form.
      this.name = remembered.name;
      this.profile = remembered.profile ?? "";
      $("#name").value = remembered.name;
      $("#profile").value = this.profile;
      $("#camera-on").checked = remembered.camera !== false;
      $("#mic-on").checked = remembered.mic !== false;
      $("#join").hidden = true;
      // Connect at once (the place is kept only for a moment after a reload); camera and
      // microphone follow as soon as the browser gives them (those that were on: the boxes
      // above say which the preview opens).
      meter.start();
      this.connect();
      this.previewing = this.preview();
      return;
    }
    this.previewing = this.preview();
    // A first visit: the name is what the form asks first.
    if (!$("#name").value && !$("#name").readOnly) $("#name").focus();
    setInterval(() => {
      if (!this.joined()) $("#join-level").value = Math.min(1, meter.level("self") * 8);
    }, 100);
  }

  // What the room asks of newcomers, said before they type a name: a passcode, a personal
  // link, or that it is locked. (A room that does not exist never gets this far: the server
  // answers its address with a page that says so.)
  async checkRoom() {
    const { slug, token } = this;
    let about;
    try {
      const response = await fetch(`/r/${encodeURIComponent(slug)}/about`);
      if (!response.ok) return;
      about = await response.json();
    } catch {
      return;
    }
    this.title = about.title || this.slug;
    this.translate();
    document.title = `${about.title} – Hallway`;
    const notes = [];
    if (about.access === "passcode" && !token) {
      $("#passcode-row").hidden = false;
      notes.push(t("join.access.passcode"));
    }
    if (about.access === "invite" && !token) notes.push(t("error.invite_only"));
    if (about.locked) notes.push(t("join.access.locked"));
    $("#join-access").textContent = notes.join(" ");
    $("#join-access").hidden = notes.length === 0;
    $("#join-access").dataset.access = about.access;
    // (Not while entering: an answer that came after the press would offer it again.)
    if (!this.entering) $("#enter").disabled = about.access === "invite" && !token;
    // Hosts of an organisation with an identity provider sign in there instead of using a
    // host link (the provider gives the name; the server makes them host).
    const signIn = $("#host-sign-in");
    signIn.dataset.langHref = `/r/${encodeURIComponent(slug)}/host`;
    signIn.href = `${signIn.dataset.langHref}?lang=${lang()}`;
    signIn.hidden = !about.host_sign_in || Boolean(token);
  }

  async preview() {
    const { media, meter } = this;
    await media.open({
      cameraId: $("#camera-select").value || undefined,
      micId: $("#mic-select").value || undefined,
      camera: $("#camera-on").checked,
      mic: $("#mic-on").checked,
    });
    $("#preview").srcObject = media.camera ? new MediaStream([media.camera]) : null;
    meter.watch("self", media.stream);
    const problem = problemText(media.problems, { camera: $("#camera-on").checked, mic: $("#mic-on").checked });
    const nothing = !media.camera && !media.mic && ($("#camera-on").checked || $("#mic-on").checked);
    $("#no-devices").textContent = [problem, nothing ? t("join.noDevices") : ""].filter(Boolean).join(" ");
    $("#no-devices").hidden = !$("#no-devices").textContent;
    // The browser answered after the page went in (see PREVIEW_WAIT_MS): what went wrong is
    // said in the room, where one is now.
    if (this.joined() && $("#no-devices").textContent) toast($("#no-devices").textContent);
    const { cameras, mics } = await media.devices();
    fillDevices($("#camera-select"), cameras, media.camera?.getSettings().deviceId);
    fillDevices($("#mic-select"), mics, media.mic?.getSettings().deviceId);
  }

  // A personal invitation fixes the name (and maybe the profile line): the form shows them
  // as the invitation says, not to be changed. (The server verifies the token and uses what
  // it says whatever is typed; the page only reads it to show it.)
  fixedByInvitation() {
    let claims;
    try {
      const part = (this.token ?? "").split(".")[1] ?? "";
      const json = atob(part.replace(/-/g, "+").replace(/_/g, "/"));
      claims = JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0))));
    } catch {
      return;
    }
    for (const [field, value] of [["name", claims?.name], ["profile", claims?.profile]]) {
      if (typeof value !== "string" || !value) continue;
      const input = $(`#${field}`);
      input.value = value;
      input.readOnly = true;
      $(`#${field}-hint`).textContent = t("join.fixedByInvitation");
      $(`#${field}-hint`).dataset.i18n = "join.fixedByInvitation";
    }
  }

  // A refused hello: its error on the join screen, under the field it is about (if any).
  // A room that asks for a passcode shows its field, for the person to try.
  refused(code, text) {
    if (code === "passcode_required" || code === "wrong_passcode") {
      $("#passcode-row").hidden = false;
      this.showError(text);
      $("#passcode").focus();
      return;
    }
    this.showError(explain(code) ?? text, JOIN_FIELDS[code]);
  }

  // The join screen's error; with `field` (a selector), that field is marked invalid and
  // focused, until it is changed, and the error stands under it.
  showError(text, field) {
    $("#join").hidden = false;
    $("#join-error").textContent = text;
    $("#join-error").hidden = false;
    if (field) $(`${field}-hint`).after($("#join-error"));
    else $("#enter").before($("#join-error"));
    this.entering = false;
    $("#enter").disabled = false;
    for (const input of document.querySelectorAll("#join-form [aria-invalid]")) markValid(input);
    if (field) {
      // Marked invalid and described by the error too, until it is changed.
      const input = $(field);
      input.setAttribute("aria-invalid", "true");
      input.dataset.describedby ??= input.getAttribute("aria-describedby") ?? "";
      input.setAttribute("aria-describedby", `${input.dataset.describedby} join-error`.trim());
      input.addEventListener("input", () => markValid(input), { once: true });
      input.focus();
    }
  }
}

// Which of a field's rules its text breaks, said for that rule alone: the server's one
// sentence with every rule left people guessing (text pasted with a hidden control
// character looks right). Null when none is recognised here (the server's text stands).
function explain(code) {
  const which = { invalid_name: ["#name", "join.field.name", LIMITS.maxNameChars], invalid_profile: ["#profile", "join.field.profile", LIMITS.maxProfileChars] }[code];
  if (!which) return null;
  const [selector, label, max] = which;
  const value = $(selector).value.trim();
  const field = t(label);
  if (code === "invalid_name" && value === "") return t("error.text.empty", { field });
  if ([...value].length > max) return t("error.text.tooLong", { field, max });
  // (The joiners that scripts and emoji need are allowed.)
  if (/(?![\u200C\u200D])[\p{Cc}\p{Cf}\u2028\u2029]/u.test(value)) return t("error.text.invisible", { field });
  if (!/[\p{L}\p{N}]/u.test(value)) return t("error.text.noLetter", { field });
  return null;
}

// A field's text as sent: what text copied from a document or a web page brings along
// unseen (a soft hyphen, a zero-width space, a word joiner, a byte-order mark) left out,
// tabs as spaces, trimmed; the field shows it so. The server refuses a name with those in
// it, and a person cannot see what to remove. (Joiners, which some scripts and emoji need,
// and the bidirectional controls, which can make text read backwards, are not touched: the
// server accepts the first and refuses the second with an error.)
function tidy(input) {
  const value = input.value.replace(/[\u00AD\u200B\u2060\uFEFF]/g, "").replace(/\t/g, " ").trim();
  if (value !== input.value) input.value = value;
  return value;
}

// A field no longer marked invalid.
function markValid(input) {
  input.removeAttribute("aria-invalid");
  if (input.dataset.describedby !== undefined) input.setAttribute("aria-describedby", input.dataset.describedby);
}
