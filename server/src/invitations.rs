//! Personal invitations for a list of attendees: reads a ticketing export (CSV), writes the
//! same people with one signed link each, their name fixed in the link.
//!
//! Exports differ, so columns are found by their headings: a full name ("Name",
//! "Full name", "Teilnehmer", ...) or a first and a last name ("First name"/"Vorname",
//! "Last name"/"Nachname"), an e-mail address ("Email", "E-Mail", ...), and for the
//! profile line beside the name an organisation ("Organisation", "Behörde", "Company", ...)
//! and topics ("Topics", "Themen", ...), or columns the organiser names. The delimiter (comma or semicolon, as German spreadsheets write) is taken from the heading
//! line. Nothing is stored: the list is read, the links are written.

use std::io::{Read, Write};

use crate::access::{TokenRole, Tokens};
use crate::room::model::{DisplayName, ProfileLine};

/// Why the list could not be turned into invitations.
#[derive(Debug, thiserror::Error)]
pub enum InvitationError {
    /// No column with a name (or first and last name).
    #[error(
        "no name column found; expected a heading like \"Name\", or \"First name\" and \"Last name\""
    )]
    NoNameColumn,
    /// The CSV could not be read or written.
    #[error("CSV: {0}")]
    Csv(#[from] csv::Error),
    /// Reading the input failed.
    #[error("reading the list: {0}")]
    Io(#[from] std::io::Error),
    /// A column asked for as the profile line is not in the heading.
    #[error("no column headed {0:?} (asked for as the profile line)")]
    NoProfileColumn(String),
    /// Rows whose names or profile lines break the rules (1-based line numbers), all of
    /// them at once so that one corrected list goes through.
    #[error("{}", bad_rows(names, profiles))]
    BadRows {
        /// Names empty, too long, or with control or invisible characters.
        names: Vec<usize>,
        /// Profile lines too long, or with control or invisible characters.
        profiles: Vec<usize>,
    },
}

fn bad_rows(names: &[usize], profiles: &[usize]) -> String {
    let mut parts = Vec::new();
    if !names.is_empty() {
        parts.push(format!(
            "invalid names on lines {names:?}: names are 1 to 64 characters with a letter or digit, without control or invisible characters"
        ));
    }
    if !profiles.is_empty() {
        parts.push(format!(
            "invalid profile lines on lines {profiles:?}: a profile line is at most 80 characters (organisation and topics together) without control or invisible characters"
        ));
    }
    parts.join("; ")
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// How many invitations.
    pub invitations: usize,
    /// The headings of the columns the profile lines came from (none: no lines).
    pub profile_columns: Vec<String>,
}

const FULL_NAME: &[&str] = &[
    "name",
    "full name",
    "fullname",
    "attendee",
    "participant",
    "teilnehmer",
    "teilnehmerin",
    "vollständiger name",
];
const FIRST_NAME: &[&str] = &["first name", "firstname", "given name", "vorname"];
const LAST_NAME: &[&str] = &[
    "last name",
    "lastname",
    "surname",
    "family name",
    "nachname",
];
const EMAIL: &[&str] = &[
    "email",
    "e-mail",
    "email address",
    "e-mail address",
    "e-mail-adresse",
    "mail",
];

const ORGANISATION: &[&str] = &[
    "organisation",
    "organization",
    "organisation name",
    "organization name",
    "company",
    "firma",
    "unternehmen",
    "behörde",
    "dienststelle",
    "institution",
    "einrichtung",
    "arbeitgeber",
    "affiliation",
    "profile",
    "profil",
    "profile line",
    "profilzeile",
    "company name",
    "firmenname",
    "firma/organisation",
    "organisation/firma",
    "behörde/organisation",
    "organisation/behörde",
];
const TOPICS: &[&str] = &[
    "topics",
    "themen",
    "interests",
    "interessen",
    "schwerpunkte",
];

/// Between the organisation and the topics (and between columns named for the line).
const PROFILE_SEPARATOR: &str = " · ";

/// A cell as written into the output: one that a spreadsheet would take for a formula
/// (`=`, `+`, `-`, `@`, a tab or a carriage return first) gets a `'` in front, so that
/// opening the list runs nothing. (The token keeps the text as it is.)
fn cell(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}").into()
    } else {
        text.into()
    }
}

/// Reads attendees from `input` and writes `name, email, link` rows to `output`, with the
/// input's delimiter; with a profile line per person (from `profile_columns`, or found by
/// its heading) `name, email, profile, link`. Returns how many invitations were written.
pub fn write_invitations(
    input: impl Read,
    output: impl Write,
    tokens: &Tokens,
    base_url: &str,
    room: &str,
    expires_at: u64,
    profile_columns: &[String],
) -> Result<Written, InvitationError> {
    let mut text = String::new();
    let mut input = input;
    input.read_to_string(&mut text)?;
    let text = text.trim_start_matches('\u{feff}'); // spreadsheet programs add a BOM
    let heading = text.lines().next().unwrap_or_default();
    let delimiter = if heading.matches(';').count() > heading.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(text.as_bytes());
    // The headings as written (for saying which were used), and as compared.
    let reader_headings: Vec<String> = reader
        .headers()?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    let headers: Vec<String> = reader_headings.iter().map(|h| h.to_lowercase()).collect();
    let find = |names: &[&str]| headers.iter().position(|h| names.contains(&h.as_str()));
    let (full, first, last, email) = (
        find(FULL_NAME),
        find(FIRST_NAME),
        find(LAST_NAME),
        find(EMAIL),
    );
    if full.is_none() && (first.is_none() || last.is_none()) {
        return Err(InvitationError::NoNameColumn);
    }
    // The profile line: the columns named, else an organisation and topics if present.
    let profile: Vec<usize> = if profile_columns.is_empty() {
        [find(ORGANISATION), find(TOPICS)]
            .into_iter()
            .flatten()
            .collect()
    } else {
        profile_columns
            .iter()
            .map(|asked| {
                let asked = asked.trim().to_lowercase();
                headers
                    .iter()
                    .position(|h| *h == asked)
                    .ok_or(InvitationError::NoProfileColumn(asked))
            })
            .collect::<Result<_, _>>()?
    };
    let mut rows = Vec::new();
    let mut bad = Vec::new();
    let mut bad_profiles = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record = record?;
        let field = |i: Option<usize>| {
            i.and_then(|i| record.get(i))
                .unwrap_or_default()
                .trim()
                .to_owned()
        };
        let name = match full {
            Some(_) => field(full),
            None => format!("{} {}", field(first), field(last))
                .trim()
                .to_owned(),
        };
        if name.is_empty() && field(email).is_empty() {
            continue; // a blank line at the end of an export
        }
        let line: Vec<String> = profile
            .iter()
            .map(|&i| field(Some(i)))
            .filter(|part| !part.is_empty())
            .collect();
        let line = match ProfileLine::parse(&line.join(PROFILE_SEPARATOR)) {
            Ok(line) => line.map(|l| l.as_str().to_owned()),
            Err(_) => {
                bad_profiles.push(index + 2);
                None
            }
        };
        match DisplayName::parse(&name) {
            Ok(name) => rows.push((name.as_str().to_owned(), field(email), line)),
            Err(_) => bad.push(index + 2),
        }
    }
    if !bad.is_empty() || !bad_profiles.is_empty() {
        return Err(InvitationError::BadRows {
            names: bad,
            profiles: bad_profiles,
        });
    }
    let mut writer = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .from_writer(output);
    let with_profiles = !profile.is_empty();
    if with_profiles {
        writer.write_record(["name", "email", "profile", "link"])?;
    } else {
        writer.write_record(["name", "email", "link"])?;
    }
    for (name, email, line) in &rows {
        let token = tokens.mint_fixed(
            room,
            TokenRole::Participant,
            Some(name),
            line.as_deref(),
            expires_at,
        );
        let link = format!("{base_url}/r/{room}#token={token}");
        let (name, email) = (cell(name), cell(email));
        if with_profiles {
            let line = cell(line.as_deref().unwrap_or_default());
            writer.write_record([name.as_ref(), email.as_ref(), line.as_ref(), &link])?;
        } else {
            writer.write_record([name.as_ref(), email.as_ref(), &link])?;
        }
    }
    writer.flush()?;
    Ok(Written {
        invitations: rows.len(),
        profile_columns: profile
            .iter()
            .filter_map(|&i| reader_headings.get(i).cloned())
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::now_secs;

    fn invite(csv: &str) -> Result<Vec<Vec<String>>, InvitationError> {
        invite_with(csv, &[])
    }

    fn invite_with(csv: &str, columns: &[&str]) -> Result<Vec<Vec<String>>, InvitationError> {
        let columns: Vec<String> = columns.iter().map(|c| (*c).to_owned()).collect();
        let tokens = Tokens::new(b"0123456789abcdef0123456789abcdef");
        let mut out = Vec::new();
        write_invitations(
            csv.as_bytes(),
            &mut out,
            &tokens,
            "https://hallway.example",
            "lobby",
            now_secs() + 60,
            &columns,
        )?;
        let text = String::from_utf8(out).expect("utf-8");
        let delimiter = if text.lines().next().unwrap_or_default().contains(';') {
            b';'
        } else {
            b','
        };
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .from_reader(text.as_bytes());
        Ok(reader
            .records()
            .map(|r| r.expect("row").iter().map(str::to_owned).collect())
            .collect())
    }

    #[test]
    fn a_german_export_with_first_and_last_names() {
        let rows = invite("\u{feff}Vorname;Nachname;E-Mail;Ticket\nAnna-Lena;Müller-Lüdenscheidt;anna@example.org;A1\n\"Ben, Jr.\";Okafor;ben@example.org;B2\n;;;\n")
            .expect("invitations");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0][0], "Anna-Lena Müller-Lüdenscheidt");
        assert_eq!(rows[1][0], "Ben, Jr. Okafor");
        assert_eq!(rows[1][1], "ben@example.org");
        let token = rows[0][2].split("#token=").nth(1).expect("token");
        let grant = Tokens::new(b"0123456789abcdef0123456789abcdef")
            .verify(token, "lobby", crate::clock::now_secs())
            .expect("valid");
        assert_eq!(grant.name.as_deref(), Some("Anna-Lena Müller-Lüdenscheidt"));
    }

    #[test]
    fn a_full_name_column_and_clear_errors() {
        let rows = invite("Name,Email\nDr. Dana Yilmaz,dana@example.org\n").expect("invitations");
        assert_eq!(rows[0][0], "Dr. Dana Yilmaz");
        assert!(matches!(
            invite("Ticket,Email\nA1,x@example.org\n"),
            Err(InvitationError::NoNameColumn)
        ));
        let long = "x".repeat(65);
        assert!(
            matches!(invite(&format!("Name,Email\nok,a@b\n{long},c@d\n")), Err(InvitationError::BadRows { names, profiles }) if names == vec![3] && profiles.is_empty())
        );
    }

    fn grant_of(link: &str) -> crate::access::Grant {
        let token = link.split("#token=").nth(1).expect("token");
        Tokens::new(b"0123456789abcdef0123456789abcdef")
            .verify(token, "lobby", crate::clock::now_secs())
            .expect("valid")
    }

    #[test]
    fn an_organisation_and_topics_make_the_profile_line() {
        let rows = invite("Vorname;Nachname;E-Mail;Behörde;Themen\nAnna;Roth;anna@example.org;Stadt Bamberg;Smart City, Bürgerbeteiligung\nBen;Okafor;ben@example.org;;\n")
            .expect("invitations");
        assert_eq!(rows[0][2], "Stadt Bamberg · Smart City, Bürgerbeteiligung");
        let grant = grant_of(&rows[0][3]);
        assert_eq!(
            grant.profile.as_deref(),
            Some("Stadt Bamberg · Smart City, Bürgerbeteiligung")
        );
        // Someone without an organisation gets no line (and may write their own).
        assert_eq!(rows[1][2], "");
        assert_eq!(grant_of(&rows[1][3]).profile, None);
        // Without such a column, the output keeps its three columns.
        let plain = invite("Name,Email\nDana,dana@example.org\n").expect("invitations");
        assert_eq!(plain[0].len(), 3);
        assert_eq!(grant_of(&plain[0][2]).profile, None);
    }

    #[test]
    fn columns_named_for_the_profile_line_and_clear_errors() {
        let rows = invite_with(
            "Name,Email,Ticket,Referat\nDana,dana@example.org,A1,Open Data\n",
            &["referat"],
        )
        .expect("invitations");
        assert_eq!(rows[0][2], "Open Data");
        assert_eq!(grant_of(&rows[0][3]).profile.as_deref(), Some("Open Data"));
        assert!(matches!(
            invite_with("Name,Email\nDana,d@example.org\n", &["Referat"]),
            Err(InvitationError::NoProfileColumn(c)) if c == "referat"
        ));
        let long = "x".repeat(81);
        // Every bad row at once, names and lines.
        let err = invite(&format!(
            "Name,Organisation\nA,ok\nB,{long}\nC,\u{202e}evil\n\u{200b},ok\n"
        ))
        .expect_err("refused");
        assert!(
            matches!(&err, InvitationError::BadRows { names, profiles } if *names == vec![5] && *profiles == vec![3, 4]),
            "{err}"
        );
        assert!(
            err.to_string().contains("names on lines [5]")
                && err.to_string().contains("profile lines on lines [3, 4]")
        );
    }

    #[test]
    fn a_cell_a_spreadsheet_would_run_is_written_as_text() {
        let rows = invite("Name,Email,Organisation\n\"=HYPERLINK(\"\"x\"\")\",a@example.org,@SUM(1)\nBen,+1@example.org,Amt\n")
            .expect("invitations");
        assert_eq!(rows[0][0], "'=HYPERLINK(\"x\")");
        assert_eq!(rows[0][2], "'@SUM(1)");
        assert_eq!(rows[1][1], "'+1@example.org");
        assert_eq!(rows[1][2], "Amt");
        // The token keeps the name as it is.
        assert_eq!(
            grant_of(&rows[0][3]).name.as_deref(),
            Some("=HYPERLINK(\"x\")")
        );
    }
}
