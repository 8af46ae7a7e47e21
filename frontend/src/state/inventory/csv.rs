//! The loaded inventory rows as a CSV file (RFC 4180: CRLF lines, fields
//! with commas, quotes or line breaks quoted, quotes doubled), safe to open
//! in a spreadsheet: a cell that would start a formula is prefixed with `'`.

use marshal_shared::api::InventoryEntry;

/// The header line's names, in column order (the API's field names).
pub const COLUMNS: [&str; 11] = [
    "certificateId",
    "target",
    "status",
    "notAfter",
    "managed",
    "thing",
    "policy",
    "registeredBy",
    "registeredAt",
    "ownerGroup",
    "successor",
];

/// The CSV of `entries`, header first.
pub fn inventory_csv(entries: &[InventoryEntry]) -> String {
    let mut out = String::new();
    push_line(&mut out, COLUMNS.iter().copied());
    for e in entries {
        let optional = |v: &Option<String>| v.clone().unwrap_or_default();
        let cells = [
            e.certificate_id.clone(),
            e.target.clone(),
            e.status.map(|s| s.as_str().to_owned()).unwrap_or_default(),
            e.not_after.clone(),
            e.managed.to_string(),
            optional(&e.thing),
            optional(&e.policy),
            optional(&e.registered_by),
            optional(&e.registered_at),
            optional(&e.owner_group),
            optional(&e.successor),
        ];
        push_line(&mut out, cells.iter().map(String::as_str));
    }
    out
}

fn push_line<'a>(out: &mut String, cells: impl Iterator<Item = &'a str>) {
    for (i, cell) in cells.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&csv_cell(cell));
    }
    out.push_str("\r\n");
}

/// One field: defused, then quoted when it must be.
pub fn csv_cell(value: &str) -> String {
    // Spreadsheets run a cell starting with these as a formula (CSV
    // injection); a leading apostrophe makes it text. Thing names and
    // user names come from other people, so this is not hypothetical.
    let defused = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if defused.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}
