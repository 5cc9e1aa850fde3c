//! What the text people type into a room may contain: display names, area names, room
//! titles, announcements and chat share these rules.
//!
//! Text others read must not mislead them. Control characters and bidirectional controls
//! reorder or break lines and lists ("Anna" followed by U+202E prints backwards); format
//! and other invisible characters make a name that shows as nothing, or two names that
//! look the same and differ. The joiners that scripts and emoji need (ZWNJ in Persian,
//! ZWJ and variation selectors in emoji) stay allowed; a name needs a visible letter or
//! digit besides. Labels (names, area names, titles) refuse all of these; chat and
//! announcements, where people paste text of every script, refuse only control
//! characters and the bidirectional embeddings, overrides and isolates.

use caseless::Caseless;
use unicode_normalization::UnicodeNormalization;

/// Bidirectional controls: embeddings, overrides, isolates and the marks (LRM, RLM, ALM).
pub(crate) fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
    )
}

/// Characters that show as nothing: Unicode's format characters (general category Cf,
/// Unicode 15: soft hyphen, zero-width space and joiners, word joiner, BOM, tag
/// characters …) and the other default-ignorable code points, assigned or not (browsers
/// draw U+2060–206F, U+FFF0–FFF8 and U+E0000–E0FFF as nothing), line and paragraph
/// separators, and letters and symbols that render blank (Hangul fillers, the braille
/// blank, Khmer inherent vowels, the combining grapheme joiner, variation selectors).
pub(crate) fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061C}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{2800}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// Invisible characters that join visible ones: ZWNJ and ZWJ (Persian, Indic scripts,
/// emoji sequences) and variation selectors (emoji or text presentation).
fn is_joiner(c: char) -> bool {
    matches!(c, '\u{200C}' | '\u{200D}' | '\u{FE00}'..='\u{FE0F}')
}

/// Whether a character is refused in a single-line label (a name, an area's name, a
/// room's title): control, bidirectional control, or invisible other than a joiner.
pub(crate) fn refused_in_label(c: char) -> bool {
    c.is_control() || is_bidi_control(c) || (is_invisible(c) && !is_joiner(c))
}

/// Whether a character is refused in text of several lines (an announcement, chat):
/// control characters other than line breaks and tabs, and the bidirectional
/// embeddings, overrides and isolates (the marks LRM, RLM and ALM, which Arabic, Hebrew
/// and Persian typing inserts, stay).
pub(crate) fn refused_in_text(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Whether a label (an area's name, a room's title) is fine: something visible, and no
/// character [`refused_in_label`]. Names ask more ([`has_visible_letter`]).
pub(crate) fn valid_label(text: &str) -> bool {
    text.chars().any(|c| !c.is_whitespace() && !is_invisible(c))
        && !text.chars().any(refused_in_label)
}

/// A label kept from earlier (stored before these rules) made fine: refused characters
/// left out, trimmed; `fallback` if nothing is left.
pub(crate) fn clean_label(text: &str, fallback: impl FnOnce() -> String) -> String {
    let kept: String = text.chars().filter(|c| !refused_in_label(*c)).collect();
    let kept = kept.trim();
    if valid_label(kept) {
        kept.to_owned()
    } else {
        fallback()
    }
}

/// Whether the text shows a letter or digit of its own (the Hangul fillers are letters
/// that show nothing).
pub(crate) fn has_visible_letter(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_alphanumeric() && !is_invisible(c))
}

/// What two names that read the same share: compatibility caseless (NFKC and full case
/// folding, as Unicode's definition D146 does it), invisible characters (joiners) left
/// out and runs of white space as one. Look-alikes from other scripts (a Cyrillic "А")
/// are not caught. "ANNA  Schmidt" and "anna schmidt", "Straße" and "STRASSE", "Ａnna"
/// (fullwidth) and "Anna" have the same key.
pub(crate) fn name_key(name: &str) -> String {
    let folded: String = name
        .chars()
        .filter(|c| !is_invisible(*c))
        .nfd()
        .default_case_fold()
        .nfkd()
        .default_case_fold()
        .nfkd()
        .collect();
    let key: String = folded.nfc().collect();
    key.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A name as searched: case, accents and spacing do not matter ("muller" finds "Müller"),
/// as in the page's own search (`people.js`).
pub(crate) fn searchable(text: &str) -> String {
    let folded: String = text
        .nfkd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .collect::<String>()
        .replace('ß', "ss")
        .to_lowercase();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether `query` is a query `find` takes: 1 to
/// [`hallway_proto::limits::MAX_FIND_CHARS`]
/// characters with something to search for.
pub(crate) fn valid_query(query: &str) -> bool {
    let chars = query.chars().count();
    (1..=hallway_proto::limits::MAX_FIND_CHARS).contains(&chars) && !searchable(query).is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_invisible_character_of_the_probe_is_refused_in_a_label() {
        for c in [
            '\u{200B}',
            '\u{3164}',
            '\u{00AD}',
            '\u{200F}',
            '\u{061C}',
            '\u{2028}',
            '\u{FEFF}',
            '\u{E0041}',
            '\u{202E}',
            '\u{2066}',
            '\u{1160}',
            '\u{2800}',
            '\u{2065}',
            '\u{FFF0}',
            '\u{E0000}',
            '\u{E01F0}',
            '\u{E0FFF}',
        ] {
            assert!(refused_in_label(c), "U+{:04X}", c as u32);
        }
        // Joiners inside visible text, and ordinary letters, stay.
        for c in ['\u{200C}', '\u{200D}', '\u{FE0F}', 'ß', 'é', 'ش', '漢', ' '] {
            assert!(!refused_in_label(c), "U+{:04X}", c as u32);
        }
        assert!(refused_in_text('\u{202E}') && refused_in_text('\u{2067}'));
        assert!(refused_in_text('\u{7}') && refused_in_text('\r'));
        // Text people paste stays: line breaks, tabs, RLM, ZWSP (Thai), a flag's tags.
        for c in ['\n', '\t', '\u{200F}', '\u{200B}', '\u{E0067}', '\u{00AD}'] {
            assert!(!refused_in_text(c), "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn a_visible_letter_or_digit_is_needed() {
        assert!(!has_visible_letter("\u{3164}\u{3164}"));
        assert!(!has_visible_letter("-- · --"));
        assert!(has_visible_letter("Ö"));
        assert!(has_visible_letter("7"));
    }

    #[test]
    fn names_that_read_the_same_have_one_key() {
        let key = name_key("Anna Schmidt");
        for same in [
            "anna schmidt",
            "ANNA  SCHMIDT",
            "\u{FF21}nna Schmidt",
            "An\u{200D}na Schmidt",
        ] {
            assert_eq!(name_key(same), key, "{same:?}");
        }
        assert_eq!(name_key("Straße"), name_key("STRASSE"));
        assert_eq!(name_key("Anna Schmidt\u{E01F0}"), key);
        assert_eq!(name_key("Ｄr. Müller"), name_key("dr. mu\u{0308}ller"));
        assert_ne!(name_key("Anna Schmitt"), key);
    }

    #[test]
    fn labels_need_something_visible_and_old_ones_are_cleaned() {
        assert!(valid_label("☕ Kaffee") && valid_label("🎤"));
        assert!(!valid_label("\u{200B}") && !valid_label("Bühne\u{202E}"));
        assert_eq!(clean_label("Fo\u{200B}yer\u{00AD}", || "x".into()), "Foyer");
        assert_eq!(clean_label("\u{200B}", || "Area 3".into()), "Area 3");
    }
}

#[cfg(test)]
mod search_tests {
    use super::*;

    #[test]
    fn searching_ignores_case_accents_and_spacing() {
        assert_eq!(searchable("  Jürgen   MÜLLER "), "jurgen muller");
        assert_eq!(searchable("Straße"), "strasse");
        assert_eq!(searchable("Élodie Café"), "elodie cafe");
        assert!(valid_query("ab"));
        assert!(!valid_query(""));
        assert!(!valid_query("   "));
        assert!(!valid_query(&"x".repeat(65)));
    }
}
