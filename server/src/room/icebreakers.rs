//! Icebreakers: when a circle forms, its members see one conversation prompt, the same for
//! all of them. A room has its own prompts (text its hosts or operators typed, shown as
//! typed) or, without any, the built-in ones here in English and German (each reader sees
//! their language). Which prompt a circle gets is the engine's choice (see
//! `engine/icebreakers.rs`); this file owns the built-in list and what a prompt may be.

use hallway_proto::limits::{MAX_ICEBREAKER_CHARS, MAX_ICEBREAKERS};

use super::error::EngineError;
use super::text::{has_visible_letter, refused_in_text};

/// The built-in prompts: (English, German in the Sie-form). Open questions about work and
/// the event, nothing that asks for private matters.
pub(crate) const BUILTIN: &[(&str, &str)] = &[
    (
        "What brought you to this event?",
        "Was hat Sie zu dieser Veranstaltung geführt?",
    ),
    (
        "What are you working on at the moment that you enjoy?",
        "Woran arbeiten Sie gerade, das Ihnen Freude macht?",
    ),
    (
        "What did you learn recently that surprised you?",
        "Was haben Sie zuletzt gelernt, das Sie überrascht hat?",
    ),
    (
        "Which talk or idea from today would you like to talk about?",
        "Über welchen Vortrag oder welche Idee von heute möchten Sie gern sprechen?",
    ),
    (
        "Which problem would you like to solve this year?",
        "Welches Problem würden Sie dieses Jahr gern lösen?",
    ),
    (
        "Who or what inspires you in your work?",
        "Wer oder was inspiriert Sie bei Ihrer Arbeit?",
    ),
    (
        "Which tool or habit makes your working day easier?",
        "Welches Werkzeug oder welche Gewohnheit erleichtert Ihnen den Arbeitstag?",
    ),
    (
        "What would you tell someone who is new to your field?",
        "Was würden Sie jemandem raten, der neu in Ihrem Fachgebiet ist?",
    ),
    (
        "Which project are you proud of, and why?",
        "Auf welches Projekt sind Sie stolz – und warum?",
    ),
    (
        "What would you like to take home from this event?",
        "Was möchten Sie von dieser Veranstaltung mitnehmen?",
    ),
    (
        "Which book, podcast or article would you recommend?",
        "Welches Buch, welchen Podcast oder Artikel können Sie empfehlen?",
    ),
    (
        "What has changed in your work over the last year?",
        "Was hat sich in Ihrer Arbeit im letzten Jahr verändert?",
    ),
    (
        "If you had an extra hour every day, what would you do with it?",
        "Was würden Sie mit einer zusätzlichen Stunde am Tag anfangen?",
    ),
    (
        "What would you like to get better at?",
        "Worin möchten Sie gern besser werden?",
    ),
    (
        "Where would you like to work together with others here?",
        "Wobei würden Sie gern mit anderen hier zusammenarbeiten?",
    ),
    (
        "What was a good decision you made recently?",
        "Welche gute Entscheidung haben Sie kürzlich getroffen?",
    ),
    (
        "Which question would you like to ask the people here?",
        "Welche Frage würden Sie den Menschen hier gern stellen?",
    ),
    (
        "What does a good working day look like for you?",
        "Wie sieht für Sie ein guter Arbeitstag aus?",
    ),
    (
        "Which place in your town would you recommend to a visitor?",
        "Welchen Ort in Ihrer Stadt würden Sie Gästen empfehlen?",
    ),
    (
        "What small thing made you happy this week?",
        "Welche Kleinigkeit hat Sie diese Woche gefreut?",
    ),
];

/// The prompt a circle got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Icebreaker {
    /// One of [`BUILTIN`], by index: each reader sees it in their language.
    Builtin(usize),
    /// One of the room's own prompts, as typed.
    Own(String),
}

impl Icebreaker {
    /// The prompt in English and German (a room's own is the same text in both).
    pub fn texts(&self) -> (&str, &str) {
        match self {
            Icebreaker::Builtin(i) => BUILTIN.get(*i).copied().unwrap_or(("", "")),
            Icebreaker::Own(text) => (text, text),
        }
    }
}

/// Checks a room's own prompts: each trimmed, blank ones dropped; at most
/// [`MAX_ICEBREAKERS`] of at most [`MAX_ICEBREAKER_CHARS`] characters, each on one line
/// with a visible letter or digit and without control or bidirectional characters (as
/// chat refuses them, and line breaks besides).
pub(crate) fn parse_prompts<S: AsRef<str>>(raw: &[S]) -> Result<Vec<String>, EngineError> {
    let mut prompts = Vec::new();
    for line in raw {
        let line = line.as_ref().trim();
        if line.is_empty() {
            continue;
        }
        let fine = line.chars().count() <= MAX_ICEBREAKER_CHARS
            && !line.chars().any(|c| c.is_control() || refused_in_text(c))
            && has_visible_letter(line);
        if !fine || prompts.len() >= MAX_ICEBREAKERS {
            return Err(EngineError::InvalidIcebreakers);
        }
        prompts.push(line.to_owned());
    }
    Ok(prompts)
}

/// Prompts kept from earlier (stored before these rules) made fine: those that pass
/// [`parse_prompts`] on their own, trimmed, the first [`MAX_ICEBREAKERS`] of them.
pub(crate) fn clean_prompts(stored: &[String]) -> Vec<String> {
    stored
        .iter()
        .filter_map(|p| parse_prompts(&[p]).ok()?.pop())
        .take(MAX_ICEBREAKERS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_prompts_are_there_in_both_languages() {
        assert!(BUILTIN.len() >= 12);
        for (en, de) in BUILTIN {
            assert!(!en.is_empty() && !de.is_empty() && en != de);
            assert!(en.chars().count() <= MAX_ICEBREAKER_CHARS);
            assert!(de.chars().count() <= MAX_ICEBREAKER_CHARS);
            // German in the Sie-form: nobody is addressed as "du".
            // (Case matters: "Ihr" is the Sie-form's "your", "ihr" the plural "you".)
            let words: Vec<&str> = de.split(|c: char| !c.is_alphabetic()).collect();
            for du in [
                "du", "Du", "dich", "dir", "dein", "deine", "deiner", "euch", "ihr",
            ] {
                assert!(!words.contains(&du), "{de}");
            }
        }
        let german: Vec<&str> = BUILTIN.iter().map(|p| p.1).collect();
        assert_eq!(parse_prompts(&german).map(|p| p.len()), Ok(BUILTIN.len()));
    }

    #[test]
    fn prompts_are_trimmed_blank_ones_dropped_and_bad_ones_refused() {
        assert_eq!(
            parse_prompts(&["  Was führt Sie her?  ", "", "   ", "Why here?"]),
            Ok(vec![
                "Was führt Sie her?".to_owned(),
                "Why here?".to_owned()
            ])
        );
        let long = "a".repeat(MAX_ICEBREAKER_CHARS + 1);
        let just = "ä".repeat(MAX_ICEBREAKER_CHARS);
        assert_eq!(parse_prompts(&[just.as_str()]).map(|p| p.len()), Ok(1));
        for bad in [
            long.as_str(),
            "two\nlines",
            "bell\u{7}",
            "Anna\u{202E}txt",
            "isolate\u{2067}",
            "-- ? --",
        ] {
            assert_eq!(
                parse_prompts(&[bad]),
                Err(EngineError::InvalidIcebreakers),
                "{bad:?}"
            );
        }
        let many: Vec<String> = (0..=MAX_ICEBREAKERS).map(|i| format!("Q{i}")).collect();
        assert_eq!(parse_prompts(&many), Err(EngineError::InvalidIcebreakers));
        assert_eq!(
            parse_prompts(&many[..MAX_ICEBREAKERS]).map(|p| p.len()),
            Ok(MAX_ICEBREAKERS)
        );
        // RLM, which Arabic and Hebrew typing inserts, stays (as in chat).
        assert!(parse_prompts(&["שלום\u{200F} שאלה"]).is_ok());
    }

    #[test]
    fn prompts_stored_before_these_rules_are_kept_where_they_pass() {
        let stored = vec![
            " Fine? ".to_owned(),
            "two\nlines".to_owned(),
            "x".repeat(MAX_ICEBREAKER_CHARS + 1),
            "Also fine?".to_owned(),
        ];
        assert_eq!(
            clean_prompts(&stored),
            vec!["Fine?".to_owned(), "Also fine?".to_owned()]
        );
        let mut settings = crate::room::model::RoomSettings::new("t", "T");
        settings.icebreaker_prompts = stored;
        let room = crate::room::Room::new(settings).expect("the room opens");
        assert_eq!(room.settings().icebreaker_prompts.len(), 2);
    }
}
