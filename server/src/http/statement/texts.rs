//! The accessibility statement's fixed sentences, in German and English, by key.

use crate::statement::Lang;

/// The page's fixed sentences.
pub(super) fn t(lang: Lang, key: &str) -> &'static str {
    let (de, en) = match key {
        "title" => ("Erklärung zur Barrierefreiheit", "Accessibility statement"),
        "scope" => (
            "Diese Erklärung gilt für alle Seiten dieses Hallway-Servers: die Startseite, die Räume mit ihren Gesprächen und die Hilfe.",
            "This statement applies to every page of this Hallway server: the start page, the rooms with their conversations, and the help.",
        ),
        "no-body" => (
            "Der Betreiber dieses virtuellen Veranstaltungsraums hat noch keine eigenen Angaben hinterlegt. Diese Erklärung beruht daher auf der Selbstbewertung der Software Hallway, mit der der Raum betrieben wird.",
            "The operator of this virtual event room has not yet given details of their own. This statement is therefore based on the self-assessment of Hallway, the software the room runs on.",
        ),
        "status-heading" => (
            "Stand der Vereinbarkeit mit den Anforderungen",
            "Compliance status",
        ),
        "status-full" => (
            "Dieses Angebot ist mit den Anforderungen der BITV 2.0 vollständig vereinbar.",
            "This service fully complies with the requirements of BITV 2.0 (EN 301 549).",
        ),
        "status-partial" => (
            "Dieses Angebot ist mit den Anforderungen der BITV 2.0 teilweise vereinbar. Die unten genannten Inhalte sind nicht oder nicht vollständig barrierefrei.",
            "This service partially complies with the requirements of BITV 2.0 (EN 301 549). The content listed below is not, or not fully, accessible.",
        ),
        "status-none" => (
            "Dieses Angebot ist mit den Anforderungen der BITV 2.0 nicht vereinbar. Die unten genannten Inhalte sind nicht barrierefrei.",
            "This service does not comply with the requirements of BITV 2.0 (EN 301 549). The content listed below is not accessible.",
        ),
        "barriers-heading" => (
            "Nicht barrierefreie Inhalte",
            "Content that is not accessible",
        ),
        "barriers-intro" => (
            "Diese Einschränkungen sind bekannt:",
            "These limitations are known:",
        ),
        "review-heading" => (
            "Erstellung dieser Erklärung",
            "Preparation of this statement",
        ),
        "feedback-heading" => ("Feedback und Kontaktangaben", "Feedback and contact"),
        "feedback-intro" => (
            "Sind Ihnen Barrieren aufgefallen, oder brauchen Sie Inhalte in einer anderen Form? Dann schreiben Sie uns bitte.",
            "Have you come across a barrier, or do you need content in another form? Please tell us.",
        ),
        "contact" => ("Kontakt:", "Contact:"),
        "message" => ("Ihre Nachricht", "Your message"),
        "message-hint" => (
            "Was hat nicht funktioniert, und wo? Höchstens 4000 Zeichen.",
            "What did not work, and where? At most 4000 characters.",
        ),
        "contact-field" => (
            "Ihre E-Mail-Adresse oder Telefonnummer (freiwillig)",
            "Your e-mail address or phone number (optional)",
        ),
        "contact-hint" => (
            "Nur wenn Sie eine Antwort wünschen. Wir verwenden Ihre Angabe nur, um Ihnen zu antworten.",
            "Only if you would like an answer. We use it for nothing but answering you.",
        ),
        "send" => ("Rückmeldung senden", "Send feedback"),
        "sent" => (
            "Vielen Dank. Ihre Rückmeldung ist angekommen.",
            "Thank you. Your feedback has arrived.",
        ),
        "goes-mail" => (
            "Ihre Nachricht wird per E-Mail an den Betreiber geschickt.",
            "Your message is sent to the operator by e-mail.",
        ),
        "unavailable" => (
            "Ihre Nachricht konnte gerade nicht gespeichert werden. Bitte versuchen Sie es in einigen Minuten noch einmal; Ihr Text steht noch im Feld.",
            "Your message could not be saved just now. Please try again in a few minutes; your text is still in the field.",
        ),
        "enforcement-heading" => ("Schlichtungsverfahren", "Enforcement procedure"),
        "enforcement-federal" => (
            "Wenn auch nach Ihrem Feedback an den oben genannten Kontakt keine zufriedenstellende Lösung gefunden wurde, können Sie sich an die Schlichtungsstelle nach § 16 BGG wenden. Die Schlichtungsstelle BGG hat die Aufgabe, bei Konflikten zum Thema Barrierefreiheit zwischen Menschen mit Behinderungen und öffentlichen Stellen des Bundes eine außergerichtliche Streitbeilegung zu unterstützen. Das Schlichtungsverfahren ist kostenlos; Sie brauchen keinen Rechtsbeistand.",
            "If your feedback to the contact above has not led to a satisfactory solution, you can turn to the conciliation body under section 16 of the German Disability Equality Act (Schlichtungsstelle nach § 16 BGG). It helps to settle disputes about accessibility between people with disabilities and federal public bodies out of court. The procedure is free of charge; you do not need a lawyer.",
        ),
        "enforcement-federal-link" => (
            "Website der Schlichtungsstelle BGG",
            "Website of the conciliation body (in German)",
        ),
        "enforcement-other" => (
            "Wenn auch nach Ihrem Feedback an den oben genannten Kontakt keine zufriedenstellende Lösung gefunden wurde, können Sie sich an diese Stelle wenden:",
            "If your feedback to the contact above has not led to a satisfactory solution, you can turn to this body:",
        ),
        "home" => ("Zur Startseite", "To the start page"),
        "help" => ("Hilfe in Leichter Sprache", "Help in plain language"),
        "other-lang" => ("English", "Deutsch"),
        "error-empty" => (
            "Bitte schreiben Sie eine Nachricht.",
            "Please write a message.",
        ),
        "error-too_long" => (
            "Die Nachricht ist zu lang: höchstens 4000 Zeichen. Bitte kürzen Sie sie.",
            "The message is too long: at most 4000 characters. Please shorten it.",
        ),
        "error-bad_characters" => (
            "Die Nachricht enthält Steuerzeichen. Bitte schreiben Sie sie als normalen Text.",
            "The message contains control characters. Please write it as plain text.",
        ),
        "error-bad_contact" => (
            "Die Kontaktangabe muss eine Zeile mit höchstens 200 Zeichen sein.",
            "The contact must be one line of at most 200 characters.",
        ),
        "error-too_many" => (
            "Von Ihrem Anschluss kamen gerade viele Nachrichten. Bitte versuchen Sie es in zehn Minuten noch einmal; Ihr Text steht noch im Feld.",
            "Many messages came from your connection just now. Please try again in ten minutes; your text is still in the field.",
        ),
        "error-busy" => (
            "Gerade kommen sehr viele Rückmeldungen an. Bitte versuchen Sie es in einer Stunde noch einmal, oder schreiben Sie an die oben genannte Kontaktadresse; Ihr Text steht noch im Feld.",
            "Very many messages are arriving just now. Please try again in an hour, or write to the contact above; your text is still in the field.",
        ),
        "error-other_site" => (
            "Das Formular wurde von einer anderen Website aus abgeschickt und deshalb nicht angenommen. Bitte senden Sie es von dieser Seite aus.",
            "The form was sent from another website and was therefore not accepted. Please send it from this page.",
        ),
        _ => ("", ""),
    };
    match lang {
        Lang::De => de,
        Lang::En => en,
    }
}
