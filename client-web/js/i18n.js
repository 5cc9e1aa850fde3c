// German and English texts. The language comes from the browser, can be switched, and is
// remembered on this device.

const texts = {
  en: {
    "app.title": "Hallway",
    "landing.heading": "Enter a room",
    "landing.room": "Room name",
    "landing.go": "Go to room",
    "landing.hint": "Ask your host for the room name, or use “lobby”.",
    "join.heading": "Join {room}",
    "join.name": "Your name",
    "join.nameHint": "1 to 64 characters, shown to everyone in the room",
    "join.camera": "Camera",
    "join.microphone": "Microphone",
    "join.enter": "Enter the room",
    "join.preview": "Your camera preview",
    "join.noDevices": "No camera or microphone available: you can still join and listen.",
    "join.off": "Off",
    "lang.switch": "Deutsch",
    "lang.label": "Sprache: Deutsch",
    "room.floor": "Room floor. Use the arrow keys or W, A, S, D to walk; click or tap to walk there.",
    "room.people": "People",
    "room.circles": "Circles",
    "room.goto": "Go to {name}",
    "room.gotoCircle": "Go to circle",
    "room.circleOf": "Circle of {count}: {names}",
    "room.you": "{name} (you)",
    "room.mic": "Microphone",
    "room.camera": "Camera",
    "room.screen": "Share screen",
    "room.hand": "Raise hand",
    "room.stage": "On stage",
    "room.onStage": "on stage",
    "host.invite": "Invite {name} to the stage",
    "host.invitedYou": "A host invited you onto the stage. Press “On stage” when you are ready.",
    "room.handRaised": "hand raised",
    "room.reactions": "Reactions",
    "reaction.applause": "Applause",
    "reaction.thumbs_up": "Thumbs up",
    "reaction.heart": "Heart",
    "reaction.laugh": "Laugh",
    "reaction.party": "Celebrate",
    "reaction.thinking": "Thinking",
    "announce.hand": "{name} raised a hand.",
    "announce.reaction": "{name}: {reaction}",
    "room.lock": "Lock circle",
    "room.unlock": "Unlock circle",
    "room.leave": "Leave",
    "room.zoomIn": "Zoom in",
    "room.zoomOut": "Zoom out",
    "room.on": "on",
    "room.off": "off",
    "room.locked": "locked",
    "room.members": "{count} people",
    "room.noCircles": "No circles yet. Walk up to someone to start one.",
    "announce.youJoined": "You joined a circle with {names}.",
    "announce.joinedYou": "{name} joined your circle.",
    "announce.leftYou": "{name} left your circle.",
    "announce.youLeft": "You left the circle.",
    "announce.entered": "{name} entered the room.",
    "status.connecting": "Connecting…",
    "status.reconnecting": "Connection lost. Reconnecting in {seconds} s…",
    "status.left": "You left the room.",
    "and": " and ",
    "host.heading": "Host tools",
    "host.lockRoom": "Lock room",
    "host.gather": "Gather everyone here",
    "host.gathered": "A host gathered everyone.",
    "host.roomLocked": "Room locked",
    "host.announcement": "Announcement for everyone",
    "host.post": "Post",
    "host.clear": "Clear",
    "host.mute": "Mute {name}",
    "host.remove": "Remove {name}",
    "host.ban": "Ban {name}",
    "host.mutedYou": "A host turned your microphone off. You can turn it on again.",
    "status.removed": "A host removed you from the room.",
    "status.banned": "A host removed you from the room and banned this link.",
    "error.forbidden": "Only hosts may do that.",
    "error.unknown_reaction": "That reaction is not available.",
    "error.room_locked": "The room is locked. Please ask a host to let you in.",
    "error.banned": "You have been banned from this room.",
    "error.invalid_announcement": "Announcements are at most 500 characters.",
    "chat.heading": "Chat",
    "chat.to": "To",
    "chat.everyone": "Everyone in the room",
    "chat.circle": "My circle",
    "chat.message": "Message",
    "chat.send": "Send",
    "chat.toCircle": "to the circle",
    "chat.toYou": "to you",
    "chat.toName": "to {name}",
    "error.invalid_chat": "Messages are 1 to 1000 characters.",
    "error.unknown_participant": "That person is no longer in the room.",
    "error.not_in_circle": "You are not in a circle.",
    "error.circle_full": "That circle is full.",
    "error.circle_locked": "That circle is locked.",
    "error.area_full": "That area is full.",
    "error.room_full": "The room is full.",
    "error.room_not_found": "There is no room with that name.",
    "error.invalid_token": "This link is not valid for this room. Please ask your host for a new one.",
    "error.token_expired": "This link has expired. Please ask your host for a new one.",
    "error.invalid_name": "Please enter a name of 1 to 64 characters without special control characters.",
    "error.version_mismatch": "This page is out of date. Please reload it.",
    "error.rate_limited": "Slow down a little.",
    "error.generic": "Something went wrong ({code}).",
  },
  de: {
    "app.title": "Hallway",
    "landing.heading": "Raum betreten",
    "landing.room": "Name des Raums",
    "landing.go": "Zum Raum",
    "landing.hint": "Den Namen des Raums erfahren Sie von Ihrer Gastgeberin oder Ihrem Gastgeber – oder nutzen Sie „lobby“.",
    "join.heading": "{room} betreten",
    "join.name": "Ihr Name",
    "join.nameHint": "1 bis 64 Zeichen, für alle im Raum sichtbar",
    "join.camera": "Kamera",
    "join.microphone": "Mikrofon",
    "join.enter": "Raum betreten",
    "join.preview": "Vorschau Ihrer Kamera",
    "join.noDevices": "Keine Kamera und kein Mikrofon verfügbar: Sie können trotzdem teilnehmen und zuhören.",
    "join.off": "Aus",
    "lang.switch": "English",
    "lang.label": "Language: English",
    "room.floor": "Raumfläche. Mit den Pfeiltasten oder W, A, S, D gehen; klicken oder tippen, um dorthin zu gehen.",
    "room.people": "Personen",
    "room.circles": "Gesprächskreise",
    "room.goto": "Zu {name} gehen",
    "room.gotoCircle": "Zum Kreis gehen",
    "room.circleOf": "Kreis mit {count}: {names}",
    "room.you": "{name} (Sie)",
    "room.mic": "Mikrofon",
    "room.camera": "Kamera",
    "room.screen": "Bildschirm teilen",
    "room.hand": "Hand heben",
    "room.stage": "Auf der Bühne",
    "room.onStage": "auf der Bühne",
    "host.invite": "{name} auf die Bühne einladen",
    "host.invitedYou": "Die Gastgebenden haben Sie auf die Bühne eingeladen. Drücken Sie „Auf der Bühne“, wenn Sie so weit sind.",
    "room.handRaised": "Hand gehoben",
    "room.reactions": "Reaktionen",
    "reaction.applause": "Applaus",
    "reaction.thumbs_up": "Daumen hoch",
    "reaction.heart": "Herz",
    "reaction.laugh": "Lachen",
    "reaction.party": "Feiern",
    "reaction.thinking": "Nachdenklich",
    "announce.hand": "{name} hat die Hand gehoben.",
    "announce.reaction": "{name}: {reaction}",
    "room.lock": "Kreis schließen",
    "room.unlock": "Kreis öffnen",
    "room.leave": "Verlassen",
    "room.zoomIn": "Vergrößern",
    "room.zoomOut": "Verkleinern",
    "room.on": "an",
    "room.off": "aus",
    "room.locked": "geschlossen",
    "room.members": "{count} Personen",
    "room.noCircles": "Noch keine Kreise. Gehen Sie zu jemandem, um einen zu beginnen.",
    "announce.youJoined": "Sie sind jetzt in einem Kreis mit {names}.",
    "announce.joinedYou": "{name} ist Ihrem Kreis beigetreten.",
    "announce.leftYou": "{name} hat Ihren Kreis verlassen.",
    "announce.youLeft": "Sie haben den Kreis verlassen.",
    "announce.entered": "{name} hat den Raum betreten.",
    "status.connecting": "Verbinde…",
    "status.reconnecting": "Verbindung unterbrochen. Neuer Versuch in {seconds} s…",
    "status.left": "Sie haben den Raum verlassen.",
    "and": " und ",
    "host.heading": "Werkzeuge für Gastgebende",
    "host.lockRoom": "Raum schließen",
    "host.gather": "Alle hierher holen",
    "host.gathered": "Die Gastgebenden haben alle zusammengeholt.",
    "host.roomLocked": "Raum geschlossen",
    "host.announcement": "Ankündigung für alle",
    "host.post": "Veröffentlichen",
    "host.clear": "Entfernen",
    "host.mute": "{name} stummschalten",
    "host.remove": "{name} hinausbitten",
    "host.ban": "{name} sperren",
    "host.mutedYou": "Eine Gastgeberin oder ein Gastgeber hat Ihr Mikrofon ausgeschaltet. Sie können es wieder einschalten.",
    "status.removed": "Sie wurden von einer Gastgeberin oder einem Gastgeber aus dem Raum gebeten.",
    "status.banned": "Sie wurden aus dem Raum gebeten und dieser Link wurde gesperrt.",
    "error.forbidden": "Das dürfen nur Gastgebende.",
    "error.unknown_reaction": "Diese Reaktion gibt es nicht.",
    "error.room_locked": "Der Raum ist geschlossen. Bitte wenden Sie sich an die Gastgebenden.",
    "error.banned": "Sie wurden für diesen Raum gesperrt.",
    "error.invalid_announcement": "Ankündigungen haben höchstens 500 Zeichen.",
    "chat.heading": "Chat",
    "chat.to": "An",
    "chat.everyone": "Alle im Raum",
    "chat.circle": "Mein Kreis",
    "chat.message": "Nachricht",
    "chat.send": "Senden",
    "chat.toCircle": "an den Kreis",
    "chat.toYou": "an Sie",
    "chat.toName": "an {name}",
    "error.invalid_chat": "Nachrichten haben 1 bis 1000 Zeichen.",
    "error.unknown_participant": "Diese Person ist nicht mehr im Raum.",
    "error.not_in_circle": "Sie sind in keinem Kreis.",
    "error.circle_full": "Dieser Kreis ist voll.",
    "error.circle_locked": "Dieser Kreis ist geschlossen.",
    "error.area_full": "Dieser Bereich ist voll.",
    "error.room_full": "Der Raum ist voll.",
    "error.room_not_found": "Einen Raum mit diesem Namen gibt es nicht.",
    "error.invalid_token": "Dieser Link gilt nicht für diesen Raum. Bitte fragen Sie Ihre Gastgeberin oder Ihren Gastgeber nach einem neuen.",
    "error.token_expired": "Dieser Link ist abgelaufen. Bitte fragen Sie Ihre Gastgeberin oder Ihren Gastgeber nach einem neuen.",
    "error.invalid_name": "Bitte geben Sie einen Namen mit 1 bis 64 Zeichen ohne Steuerzeichen ein.",
    "error.version_mismatch": "Diese Seite ist veraltet. Bitte laden Sie sie neu.",
    "error.rate_limited": "Bitte etwas langsamer.",
    "error.generic": "Etwas ist schiefgegangen ({code}).",
  },
};

let language = pick();

function pick() {
  const saved = localStorage.getItem("hallway.lang");
  if (saved && texts[saved]) return saved;
  const browser = (navigator.language || "en").slice(0, 2).toLowerCase();
  return texts[browser] ? browser : "en";
}

export function lang() {
  return language;
}

export function setLang(next) {
  language = texts[next] ? next : "en";
  localStorage.setItem("hallway.lang", language);
  document.documentElement.lang = language;
  translatePage();
}

export function t(key, vars = {}) {
  const template = texts[language][key] ?? texts.en[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

// A list of names in the language: "Anna, Ben and Chris".
export function listNames(names) {
  if (names.length <= 1) return names.join("");
  return names.slice(0, -1).join(", ") + t("and") + names[names.length - 1];
}

// Fills every element with data-i18n (text) or data-i18n-label (aria-label, title).
export function translatePage(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-label]")) {
    el.setAttribute("aria-label", t(el.dataset.i18nLabel));
    el.title = t(el.dataset.i18nLabel);
  }
}

export function errorText(code) {
  const key = `error.${code}`;
  return texts.en[key] ? t(key) : t("error.generic", { code });
}
