//! The accessibility statement ("Erklärung zur Barrierefreiheit", BGG § 12b and BITV 2.0
//! § 7): what the operator says about the public body, the contact, the last review and
//! the conformance status, and what Hallway itself knows it does not yet meet. The page
//! at `/accessibility` is rendered from this (see `http::statement`).

use std::fmt;

/// The operator's settings for the statement (`--statement-…`); every one optional: the
/// page says something sensible without them.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct StatementArgs {
    /// The public body that runs this server, as the accessibility statement names it
    /// (e.g. "Stadt Bamberg").
    #[arg(long, env = "HALLWAY_STATEMENT_BODY", value_parser = statement_text)]
    pub statement_body: Option<String>,

    /// Whom people contact about barriers: an e-mail address, a phone number or both,
    /// as one line.
    #[arg(long, env = "HALLWAY_STATEMENT_CONTACT", value_parser = statement_text)]
    pub statement_contact: Option<String>,

    /// When the statement was last reviewed (YYYY-MM-DD).
    #[arg(long, env = "HALLWAY_STATEMENT_REVIEWED", value_parser = ReviewDate::parse)]
    pub statement_reviewed: Option<ReviewDate>,

    /// How far the service meets the requirements (BITV 2.0 / EN 301 549).
    #[arg(long, env = "HALLWAY_STATEMENT_STATUS", value_enum, default_value_t = Conformance::Partial)]
    pub statement_status: Conformance,

    /// A barrier the operator knows of, besides those Hallway lists itself; repeat the
    /// flag for several, or separate them with `|` (also in the environment variable).
    #[arg(long, env = "HALLWAY_STATEMENT_LIMITATION", value_delimiter = '|', value_parser = statement_text)]
    pub statement_limitation: Vec<String>,

    /// The enforcement procedure people may turn to (default: the federal conciliation
    /// body under § 16 BGG; a Land's own body for its administrations).
    #[arg(
        long,
        env = "HALLWAY_STATEMENT_ENFORCEMENT_URL",
        default_value = DEFAULT_ENFORCEMENT_URL,
        value_parser = enforcement_url
    )]
    pub statement_enforcement_url: String,

    /// The name of that enforcement body, when it is not the federal one.
    #[arg(long, env = "HALLWAY_STATEMENT_ENFORCEMENT_NAME", value_parser = statement_text)]
    pub statement_enforcement_name: Option<String>,
}

/// The origin (`scheme://host[:port]`) of an address such as `--public-url`.
pub fn origin_of(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("https", url));
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    format!("{scheme}://{host}")
}

/// The federal conciliation body (Schlichtungsstelle nach § 16 BGG).
pub const DEFAULT_ENFORCEMENT_URL: &str = "https://www.schlichtungsstelle-bgg.de/";

/// Longest setting text, in characters.
const MAX_SETTING_CHARS: usize = 500;

/// A setting's text: one line, no control characters, not too long.
fn statement_text(value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.is_empty() {
        return Err("must not be empty".into());
    }
    if value.chars().count() > MAX_SETTING_CHARS {
        return Err(format!("at most {MAX_SETTING_CHARS} characters"));
    }
    if value.chars().any(char::is_control) {
        return Err("one line without control characters".into());
    }
    Ok(value.to_owned())
}

/// The enforcement body's address: an `https://` (or `http://`) URL.
fn enforcement_url(value: &str) -> Result<String, String> {
    let value = statement_text(value)?;
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    match rest {
        Some(rest) if !rest.is_empty() && !rest.contains(char::is_whitespace) => Ok(value),
        _ => Err("an http:// or https:// address".into()),
    }
}

/// How far the service meets the requirements, in the statement's three standard words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Conformance {
    /// Fully conformant ("vollständig vereinbar").
    Full,
    /// Partially conformant ("teilweise vereinbar"): the known barriers are listed.
    #[default]
    Partial,
    /// Not conformant ("nicht vereinbar").
    None,
}

/// A calendar date, checked (1 ≤ day ≤ days of that month).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReviewDate {
    /// The year (2000–2999).
    pub year: u16,
    /// The month, 1–12.
    pub month: u8,
    /// The day of the month.
    pub day: u8,
}

const MONTHS_DE: [&str; 12] = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

impl ReviewDate {
    /// Reads `YYYY-MM-DD`.
    pub fn parse(value: &str) -> Result<ReviewDate, String> {
        let wrong = || format!("{value:?} is not a date written YYYY-MM-DD");
        let mut parts = value.trim().split('-');
        let (Some(y), Some(m), Some(d), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(wrong());
        };
        if y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return Err(wrong());
        }
        let year: u16 = y.parse().map_err(|_| wrong())?;
        let month: u8 = m.parse().map_err(|_| wrong())?;
        let day: u8 = d.parse().map_err(|_| wrong())?;
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return Err(wrong()),
        };
        if !(2000..=2999).contains(&year) || day == 0 || day > days {
            return Err(wrong());
        }
        Ok(ReviewDate { year, month, day })
    }

    /// "1. Dezember 2026" or "1 December 2026".
    pub fn written(&self, lang: Lang) -> String {
        let month = usize::from(self.month - 1);
        match lang {
            Lang::De => format!("{}. {} {}", self.day, MONTHS_DE[month], self.year),
            Lang::En => format!("{} {} {}", self.day, MONTHS_EN[month], self.year),
        }
    }

    /// `YYYY-MM-DD`, for `<time datetime>`.
    pub fn iso(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// The two languages of the statement (and of the client).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// German.
    De,
    /// English.
    En,
}

impl Lang {
    /// `de` or `en`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::De => "de",
            Lang::En => "en",
        }
    }

    /// The language a `?lang=` names.
    pub fn from_code(code: &str) -> Option<Lang> {
        match code {
            "de" => Some(Lang::De),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The first of German and English an `Accept-Language` header prefers (by weight,
    /// then order); German when it names neither.
    pub fn preferred(accept_language: Option<&str>) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for item in accept_language.unwrap_or_default().split(',') {
            let mut fields = item.split(';');
            let tag = fields
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            let weight = fields
                .find_map(|f| f.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or_default();
            let Some(lang) = Lang::from_code(primary) else {
                continue;
            };
            if weight > 0.0 && best.is_none_or(|(w, _)| weight > w) {
                best = Some((weight, lang));
            }
        }
        best.map_or(Lang::De, |(_, lang)| lang)
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A barrier Hallway knows it has, in both languages, with what people can do instead.
#[derive(Debug, Clone, Copy)]
pub struct KnownBarrier {
    /// German.
    pub de: &'static str,
    /// English.
    pub en: &'static str,
}

impl KnownBarrier {
    /// The text in `lang`.
    pub fn text(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::De => self.de,
            Lang::En => self.en,
        }
    }
}

/// What Hallway itself does not yet meet. Kept honest: when one is fixed, it goes.
pub const KNOWN_BARRIERS: [KnownBarrier; 4] = [
    KnownBarrier {
        de: "Gespräche finden mit Sprache und Video statt. Live-Untertitel gibt es noch nicht. \
             Im Gesprächskreis kann jede und jeder Echtzeittext schreiben, den die anderen \
             beim Tippen mitlesen; der Text-Chat im Raum steht allen offen.",
        en: "Conversations take place by voice and video. There are no live captions yet. In \
             a circle, everyone can write real-time text that the others read as it is typed; \
             the room's text chat is open to everyone.",
    },
    KnownBarrier {
        de: "Der Raum ist eine Karte, auf der man geht. Alles, was dort geht, geht auch mit der \
             Tastatur und über die Personenliste (zum Beispiel „Zu Anna gehen“); die Lage der \
             Personen zueinander sieht man aber nur auf der Karte.",
        en: "The room is a map people walk on. Everything it offers also works by keyboard and \
             through the people list (for example “Go to Anna”), but where people stand in \
             relation to each other is shown only on the map.",
    },
    KnownBarrier {
        de: "Geteilte Bildschirme und hochgeladene Raumpläne sind Bilder ohne Textalternative; \
             die Bereiche eines Raumplans werden mit ihrem Namen angesagt.",
        en: "Shared screens and uploaded floor plans are pictures without a text alternative; \
             a floor plan's areas are announced by their names.",
    },
    KnownBarrier {
        de: "Was andere Teilnehmende sagen, zeigen und schreiben, liegt nicht in der Hand des \
             Betreibers.",
        en: "What other participants say, show and write is not in the operator's hands.",
    },
];

/// The statement as the server was started with it.
#[derive(Debug, Clone)]
pub struct Statement {
    /// The public body, if the operator named it.
    pub body: Option<String>,
    /// The contact line.
    pub contact: Option<String>,
    /// The last review.
    pub reviewed: Option<ReviewDate>,
    /// The conformance status.
    pub status: Conformance,
    /// The operator's own known barriers (Hallway's come first, from [`KNOWN_BARRIERS`]).
    pub limitations: Vec<String>,
    /// The enforcement procedure's address.
    pub enforcement_url: String,
    /// The enforcement body's name, when not the federal one.
    pub enforcement_name: Option<String>,
}

impl From<&StatementArgs> for Statement {
    fn from(args: &StatementArgs) -> Statement {
        Statement {
            body: args.statement_body.clone(),
            contact: args.statement_contact.clone(),
            reviewed: args.statement_reviewed,
            status: args.statement_status,
            limitations: args.statement_limitation.clone(),
            enforcement_url: args.statement_enforcement_url.clone(),
            enforcement_name: args.statement_enforcement_name.clone(),
        }
    }
}

impl Default for Statement {
    fn default() -> Statement {
        Statement::from(&StatementArgs {
            statement_enforcement_url: DEFAULT_ENFORCEMENT_URL.into(),
            ..StatementArgs::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_checked_and_written_in_both_languages() {
        let date = ReviewDate::parse("2026-12-01").expect("a date");
        assert_eq!(date.written(Lang::De), "1. Dezember 2026");
        assert_eq!(date.written(Lang::En), "1 December 2026");
        assert_eq!(date.iso(), "2026-12-01");
        assert!(ReviewDate::parse("2028-02-29").is_ok());
        for wrong in [
            "2027-02-29",
            "2026-13-01",
            "2026-04-31",
            "2026-4-1",
            "01.12.2026",
            "",
            "1999-01-01",
        ] {
            assert!(ReviewDate::parse(wrong).is_err(), "{wrong}");
        }
    }

    #[test]
    fn the_language_follows_the_browser() {
        assert_eq!(Lang::preferred(None), Lang::De);
        assert_eq!(Lang::preferred(Some("en-GB,en;q=0.9")), Lang::En);
        assert_eq!(Lang::preferred(Some("fr-FR,en;q=0.5,de;q=0.8")), Lang::De);
        assert_eq!(Lang::preferred(Some("fr")), Lang::De);
        assert_eq!(Lang::preferred(Some("de;q=0,en")), Lang::En);
    }

    #[test]
    fn settings_are_one_line_and_addresses_are_web_addresses() {
        assert!(statement_text("Stadt Bamberg").is_ok());
        assert!(statement_text("a\nb").is_err());
        assert!(statement_text("   ").is_err());
        assert!(statement_text(&"x".repeat(501)).is_err());
        assert!(enforcement_url("https://www.schlichtungsstelle-bgg.de/").is_ok());
        assert!(enforcement_url("javascript:alert(1)").is_err());
        assert!(enforcement_url("https://").is_err());
        assert_eq!(
            origin_of("https://treffen.stadt.example/hallway/"),
            "https://treffen.stadt.example"
        );
        assert_eq!(origin_of("http://localhost:8080"), "http://localhost:8080");
    }
}
