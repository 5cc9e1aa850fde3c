// What this browser tab remembers of its room, in sessionStorage (it ends with the tab):
// the link's token, moved out of the address bar, and the resume token that brings a
// reloaded page back to its place and circle within the server's grace window.

const key = (kind, slug) => `hallway.${kind}.${slug}`;

function read(name) {
  try {
    return JSON.parse(sessionStorage.getItem(name) ?? "null");
  } catch {
    return null;
  }
}

function write(name, value) {
  try {
    if (value === null) sessionStorage.removeItem(name);
    else sessionStorage.setItem(name, JSON.stringify(value));
  } catch {
    // Storage may be unavailable (private mode quotas): the page works, reloads rejoin.
  }
}

export const session = {
  // The token of a signed link: taken from the URL's fragment before anything else, the
  // address bar cleaned (history.replaceState), and kept for this tab.
  takeLinkToken(slug) {
    const fromUrl = new URLSearchParams(location.hash.slice(1)).get("token");
    if (fromUrl) {
      write(key("link", slug), fromUrl);
      history.replaceState(history.state, "", location.pathname + location.search);
      return fromUrl;
    }
    return read(key("link", slug)) ?? undefined;
  },

  // { token, name, mic, camera } of the participant this tab was, or null.
  resume(slug) {
    const saved = read(key("resume", slug));
    return saved?.token ? saved : null;
  },

  remember(slug, value) {
    write(key("resume", slug), value);
  },

  // Leaving on purpose (or being refused) forgets the place; the link stays.
  forget(slug) {
    write(key("resume", slug), null);
    write(key("position", slug), null);
  },

  position(slug) {
    return read(key("position", slug));
  },

  rememberPosition(slug, at) {
    write(key("position", slug), at);
  },
};
