// Menu buttons: a button that opens a popover of actions (the control bar's "More" and
// "React"), by mouse, touch and keyboard. Arrow keys move between the items, Escape and
// a click elsewhere close it and give focus back to the button.

export class MenuButton {
  constructor(button, popover, { onOpen } = {}) {
    this.button = button;
    this.popover = popover;
    this.onOpen = onOpen;
    button.addEventListener("click", () => (this.isOpen ? this.close() : this.open()));
    button.addEventListener("keydown", (event) => {
      // Opened by a click or Enter, the focus stays on the button: Escape there closes it too.
      if (event.key === "Escape" && this.isOpen) {
        event.preventDefault();
        this.close();
        return;
      }
      if (event.key === "ArrowUp" || event.key === "ArrowDown") {
        event.preventDefault();
        this.open();
        this.focusItem(event.key === "ArrowUp" ? -1 : 0);
      }
    });
    popover.addEventListener("keydown", (event) => this.key(event));
    // Choosing an item closes the menu.
    popover.addEventListener("click", (event) => {
      if (event.target.closest("button")) this.close(false);
    });
    document.addEventListener("pointerdown", (event) => {
      if (this.isOpen && !popover.contains(event.target) && !button.contains(event.target)) this.close(false);
    });
    // The mouse moving onto an item while the focus is in the menu (someone went there by
    // keyboard) takes the focus along: one highlighted item, as in the system's menus.
    popover.addEventListener("pointermove", (event) => {
      const item = event.target.closest("button");
      if (event.pointerType === "mouse" && item && popover.contains(document.activeElement) && document.activeElement !== item) item.focus({ preventScroll: true });
    });
    // A menu taller than the window scrolls: a shadow at each edge beyond which there are
    // more items.
    popover.addEventListener("scroll", () => this.showMore());
    window.addEventListener("resize", () => this.isOpen && this.showMore());
  }

  showMore() {
    const items = this.items();
    if (items.length === 0) return;
    const { popover } = this;
    const top = popover.getBoundingClientRect().top + popover.clientTop;
    const bottom = top + popover.clientHeight;
    popover.classList.toggle("more-above", items[0].getBoundingClientRect().top < top - 1);
    popover.classList.toggle("more-below", items.at(-1).getBoundingClientRect().bottom > bottom + 1);
  }

  get isOpen() {
    return !this.popover.hidden;
  }

  items() {
    return [...this.popover.querySelectorAll("button")].filter((b) => !b.disabled && b.offsetParent !== null);
  }

  open() {
    this.popover.hidden = false;
    this.button.setAttribute("aria-expanded", "true");
    this.onOpen?.();
    this.showMore();
  }

  close(focusButton = true) {
    if (!this.isOpen) return;
    this.popover.hidden = true;
    this.popover.classList.remove("more-above", "more-below");
    this.button.setAttribute("aria-expanded", "false");
    if (focusButton) this.button.focus();
  }

  focusItem(index) {
    const items = this.items();
    if (items.length === 0) return;
    items[(index + items.length) % items.length].focus();
  }

  key(event) {
    const items = this.items();
    const at = items.indexOf(document.activeElement);
    const next = { ArrowDown: at + 1, ArrowRight: at + 1, ArrowUp: at - 1, ArrowLeft: at - 1, Home: 0, End: -1 }[event.key];
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      this.close();
    } else if (next !== undefined) {
      event.preventDefault();
      this.focusItem(next);
    } else if (event.key === "Tab") {
      this.close(false);
    }
  }
}
