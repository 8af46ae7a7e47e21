//! `marshal inventory`: what Marshal registered, soonest expiry first, as a
//! table with the days left, or the API's entries as one JSON array.

use marshal_shared::{OffsetDateTime, api::InventoryEntry};
use time::{Duration, format_description::well_known::Rfc3339, macros::format_description};

use crate::{
    api::{ApiClient, InventoryQuery},
    cli::InventoryArgs,
    outcome::{Failure, Report},
    table::Table,
};

/// The longest `--target`, `--thing` or `--registered-by` the API takes, in characters.
const MAX_FILTER: usize = 256;
/// Hex characters of a certificate ID shown without `--wide`: enough to tell
/// certificates apart by eye, short enough for the table to fit a terminal.
const SHORT_ID: usize = 12;

/// `marshal inventory`.
pub(crate) fn run(args: &InventoryArgs) -> Result<Report, Failure> {
    let now = OffsetDateTime::now_utc();
    let mut query = inventory_query(args, now)?;
    let client = ApiClient::new(&args.api)?;
    let mut entries = Vec::new();
    let next_cursor = loop {
        let page = client.inventory(&query)?;
        entries.extend(page.entries);
        match page.next_cursor {
            Some(cursor) if args.all => {
                if query.cursor.as_ref() == Some(&cursor) {
                    return Err(Failure::check(
                        "unexpected_response",
                        "the API answered the same cursor twice; stopped instead of asking forever",
                    ));
                }
                query.cursor = Some(cursor);
            }
            other => break other,
        }
    };
    let json = serde_json::to_value(&entries).unwrap_or_default();
    let mut report = Report::ok(render(&entries, now, args.wide), json);
    if let Some(cursor) = next_cursor {
        report.notes.push(format!(
            "more entries follow: run again with --all, or with --cursor {cursor}"
        ));
    }
    Ok(report)
}

/// The API query the flags ask for, checked before anything is sent.
pub(crate) fn inventory_query(
    args: &InventoryArgs,
    now: OffsetDateTime,
) -> Result<InventoryQuery, Failure> {
    let expires_before = match (args.expires_within, &args.expires_before) {
        (Some(days), _) => {
            let at = now.replace_nanosecond(0).unwrap_or(now) + Duration::days(days.into());
            // Formatting a UTC time of year 1..=9999 as RFC 3339 cannot fail;
            // `now + 100 years` stays within that.
            Some(at.format(&Rfc3339).map_err(|e| {
                Failure::input("invalid_time", format!("--expires-within {days}: {e}"))
            })?)
        }
        (None, Some(text)) => {
            OffsetDateTime::parse(text, &Rfc3339).map_err(|_| {
                Failure::input(
                    "invalid_time",
                    format!(
                        "--expires-before {text:?}: not an RFC 3339 time; write e.g. \
                         2027-03-31T00:00:00Z or 2027-03-31T09:00:00+09:00"
                    ),
                )
            })?;
            Some(text.clone())
        }
        (None, None) => None,
    };
    Ok(InventoryQuery {
        target: filter("--target", args.target.as_deref())?,
        thing: filter("--thing", args.thing.as_deref())?,
        expires_before,
        registered_by: filter("--registered-by", args.registered_by.as_deref())?,
        cursor: match args.cursor.as_deref() {
            Some("") => {
                return Err(Failure::input(
                    "invalid_cursor",
                    "--cursor: empty; give the cursor a note named, or leave it out",
                ));
            }
            cursor => cursor.map(str::to_owned),
        },
        limit: args.limit,
    })
}

/// A filter as the API takes it: 1 to 256 characters.
fn filter(flag: &str, value: Option<&str>) -> Result<Option<String>, Failure> {
    let Some(value) = value else {
        return Ok(None);
    };
    let length = value.chars().count();
    if length == 0 || length > MAX_FILTER {
        return Err(Failure::input(
            "invalid_filter",
            format!("{flag}: give 1 to {MAX_FILTER} characters, or leave it out"),
        ));
    }
    Ok(Some(value.to_owned()))
}

/// The entries as a table, with a closing count.
pub(crate) fn render(entries: &[InventoryEntry], now: OffsetDateTime, wide: bool) -> String {
    if entries.is_empty() {
        return "no certificates match\n".to_owned();
    }
    let mut table = Table::new([
        "CERTIFICATE",
        "TARGET",
        "STATUS",
        "NOT AFTER (UTC)",
        "DAYS LEFT",
        "THING",
        "POLICY",
        "REGISTERED BY",
        "NOTE",
    ]);
    let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
    for e in entries {
        let note = match (&e.successor, e.managed) {
            (Some(successor), _) => format!("rotated to {}", short_id(successor, wide)),
            (None, false) => "not yours: details hidden".to_owned(),
            (None, true) => String::new(),
        };
        table.row([
            short_id(&e.certificate_id, wide),
            e.target.clone(),
            e.status.map_or("-", |s| s.as_str()).to_owned(),
            not_after_text(&e.not_after),
            days_left(&e.not_after, now),
            or_dash(&e.thing),
            or_dash(&e.policy),
            or_dash(&e.registered_by),
            note,
        ]);
    }
    let expired = entries
        .iter()
        .filter(|e| days_left(&e.not_after, now) == "expired")
        .count();
    let mut text = table.render();
    text.push_str(&format!(
        "{} entr{}{}\n",
        entries.len(),
        if entries.len() == 1 { "y" } else { "ies" },
        if expired > 0 {
            format!(", {expired} expired")
        } else {
            String::new()
        }
    ));
    text
}

/// The first characters of a certificate ID, or all of it with `--wide`.
pub(crate) fn short_id(id: &str, wide: bool) -> String {
    match id.get(..SHORT_ID) {
        Some(head) if !wide && id.len() > SHORT_ID => format!("{head}…"),
        _ => id.to_owned(),
    }
}

/// Whole days from `now` to `notAfter`; `expired` once it has passed;
/// `?` when the API's time cannot be read.
pub(crate) fn days_left(not_after: &str, now: OffsetDateTime) -> String {
    match OffsetDateTime::parse(not_after, &Rfc3339) {
        Ok(at) if at <= now => "expired".to_owned(),
        Ok(at) => (at - now).whole_days().to_string(),
        Err(_) => "?".to_owned(),
    }
}

/// `notAfter` to the minute, in UTC; as the API sent it when unreadable.
fn not_after_text(not_after: &str) -> String {
    OffsetDateTime::parse(not_after, &Rfc3339)
        .ok()
        .and_then(|at| {
            at.to_offset(time::UtcOffset::UTC)
                .format(format_description!("[year]-[month]-[day] [hour]:[minute]"))
                .ok()
        })
        .unwrap_or_else(|| not_after.to_owned())
}

#[cfg(test)]
mod tests;
