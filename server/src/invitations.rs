//! Personal invitations for a list of attendees: reads a ticketing export (CSV), writes the
//! same people with one signed link each, their name fixed in the link.
//!
//! Exports differ, so columns are found by their headings: a full name ("Name",
//! "Full name", "Teilnehmer", ...) or a first and a last name ("First name"/"Vorname",
//! "Last name"/"Nachname"), and an e-mail address ("Email", "E-Mail", ...). The
//! delimiter (comma or semicolon, as German spreadsheets write) is taken from the heading
//! line. Nothing is stored: the list is read, the links are written.

use std::io::{Read, Write};

use crate::access::{TokenRole, Tokens};
use crate::room::model::DisplayName;

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
    /// Rows whose names are empty, too long or have control characters (1-based line numbers).
    #[error(
        "invalid names on lines {0:?}: names are 1 to 64 characters without control characters"
    )]
    BadNames(Vec<usize>),
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

/// Reads attendees from `input` and writes `name, email, link` rows to `output`, with the
/// input's delimiter. Returns how many invitations were written.
pub fn write_invitations(
    input: impl Read,
    output: impl Write,
    tokens: &Tokens,
    base_url: &str,
    room: &str,
    expires_at: u64,
) -> Result<usize, InvitationError> {
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
    let headers: Vec<String> = reader
        .headers()?
        .iter()
        .map(|h| h.trim().to_lowercase())
        .collect();
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
    let mut rows = Vec::new();
    let mut bad = Vec::new();
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
        match DisplayName::parse(&name) {
            Ok(name) => rows.push((name.as_str().to_owned(), field(email))),
            Err(_) => bad.push(index + 2),
        }
    }
    if !bad.is_empty() {
        return Err(InvitationError::BadNames(bad));
    }
    let mut writer = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .from_writer(output);
    writer.write_record(["name", "email", "link"])?;
    for (name, email) in &rows {
        let token = tokens.mint(room, TokenRole::Participant, Some(name), expires_at);
        writer.write_record([
            name.as_str(),
            email.as_str(),
            &format!("{base_url}/r/{room}#token={token}"),
        ])?;
    }
    writer.flush()?;
    Ok(rows.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::now_secs;

    fn invite(csv: &str) -> Result<Vec<Vec<String>>, InvitationError> {
        let tokens = Tokens::new(b"0123456789abcdef0123456789abcdef");
        let mut out = Vec::new();
        write_invitations(
            csv.as_bytes(),
            &mut out,
            &tokens,
            "https://hallway.example",
            "lobby",
            now_secs() + 60,
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
            .verify(token, "lobby")
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
            matches!(invite(&format!("Name,Email\nok,a@b\n{long},c@d\n")), Err(InvitationError::BadNames(lines)) if lines == vec![3])
        );
    }
}
