// The circle's icebreaker: the conversation prompt the server chose when the circle formed,
// the same for every member. It is shown above the tiles once per circle (not again when
// one walks out and back in, nor after closing it), until closed or until one is in
// another circle or none, and announced politely to screen readers. A built-in prompt
// comes in English and German and is shown in the reader's language; a room's own is
// shown as its host typed it.

import { t, lang } from "./i18n.js";

// Circles whose prompt this page remembers having shown: enough for a long event.
const REMEMBERED = 500;

// The prompt's text for a reader of `language`.
export function icebreakerText(prompt, language) {
  if (!prompt) return "";
  if (typeof prompt.text === "string") return prompt.text;
  return prompt[language] ?? prompt.en ?? prompt.de ?? "";
}

export class IcebreakerView {
  constructor({ box, text, close, announce, focusAfterClose }) {
    this.box = box;
    this.text = text;
    this.announce = announce;
    this.focusAfterClose = focusAfterClose;
    // Circles whose prompt was shown, oldest first, by id and prompt: a room that started
    // again (a restart, or another server of a cluster) numbers its circles from 1 again.
    this.seen = new Set();
    // The prompt shown now: { circle, prompt }, or null.
    this.shown = null;
    close.addEventListener("click", () => this.close());
    // A prompt longer than its box (a host's own, or a low screen's narrow column beside
    // the tiles) scrolls: then it takes the focus, so that it scrolls by keyboard too.
    const para = text.parentElement;
    this.scrolls = () => {
      if (para.scrollHeight > para.clientHeight || para.scrollWidth > para.clientWidth) para.tabIndex = 0;
      else para.removeAttribute("tabindex");
    };
    new ResizeObserver(this.scrolls).observe(para);
  }

  // The server told us our circle's prompt (`icebreaker` in the room state); shown unless
  // it was shown for this circle before.
  show(icebreaker, myCircle) {
    const key = `${icebreaker?.circle}:${JSON.stringify(icebreaker?.prompt)}`;
    if (!icebreaker || this.seen.has(key) || icebreaker.circle !== myCircle) return;
    this.seen.add(key);
    if (this.seen.size > REMEMBERED) this.seen.delete(this.seen.values().next().value);
    this.shown = icebreaker;
    this.update(myCircle);
    this.announce(t("icebreaker.announce", { text: this.text.textContent }));
  }

  // Follows one's circle and the language.
  update(myCircle) {
    if (this.shown && this.shown.circle !== myCircle) this.shown = null;
    this.box.hidden = !this.shown;
    this.text.textContent = this.shown ? icebreakerText(this.shown.prompt, lang()) : "";
    this.scrolls();
  }

  // Closed by its button: the focus goes on, not to the page's start.
  close() {
    const hadFocus = this.box.contains(document.activeElement);
    this.shown = null;
    this.box.hidden = true;
    if (hadFocus) this.focusAfterClose()?.focus();
  }
}
