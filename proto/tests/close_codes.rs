//! The close codes of `docs/protocol.md` against `proto`'s table (`close::CODES`), both
//! ways: every code the server knows is documented with the reason its close frame
//! carries, and the documentation lists no code or reason the table does not have.

use std::collections::BTreeMap;
use std::path::Path;

use hallway_proto::close;

/// The rows of the "Close codes" table: code and reason (the reason is written in
/// backticks, as it appears in the close frame).
fn documented() -> BTreeMap<u16, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/protocol.md");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("reading {}: {err}", path.display()));
    let section = text
        .split("\n## ")
        .find(|section| section.starts_with("Close codes\n"))
        .expect("docs/protocol.md has a \"## Close codes\" section");
    let mut rows = BTreeMap::new();
    for line in section.lines().filter(|line| line.starts_with('|')) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // `| code | reason | meaning |` splits into an empty cell, three, and an empty one.
        assert_eq!(
            cells.len(),
            5,
            "a close-code row with other than three cells: {line}"
        );
        if cells[1] == "code" || cells[1].starts_with("---") {
            continue;
        }
        let code: u16 = cells[1]
            .parse()
            .unwrap_or_else(|_| panic!("not a close code: {line}"));
        let reason = cells[2]
            .strip_prefix('`')
            .and_then(|r| r.strip_suffix('`'))
            .unwrap_or_else(|| panic!("the reason is not in backticks: {line}"));
        let earlier = rows.insert(code, reason.to_owned());
        assert!(earlier.is_none(), "{code} is documented twice");
    }
    rows
}

#[test]
fn the_protocol_reference_lists_every_close_code_with_its_reason() {
    let doc = documented();
    let table: BTreeMap<u16, String> = close::CODES
        .iter()
        .map(|c| (c.code, c.reason.to_owned()))
        .collect();
    for (code, reason) in &table {
        assert_eq!(
            doc.get(code),
            Some(reason),
            "docs/protocol.md must list {code} with the reason `{reason}`"
        );
    }
    for (code, reason) in &doc {
        assert_eq!(
            table.get(code),
            Some(reason),
            "docs/protocol.md lists {code} (`{reason}`), which close::CODES does not have"
        );
    }
}
