//! The inventory's pure parts, natively: expiry buckets, CSV, the query
//! string, and the reducer's paging and stale answers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::rc::Rc;

use marshal_shared::api::{
    CertificateHistoryResponse, CertificateStatus, ErrorCode, InventoryEntry, InventoryResponse,
};

use super::*;
use crate::state::{Action, ApiFailure, State, reduce};

/// 2026-12-04T00:00:00Z.
const NOW: i64 = 1_796_342_400;

#[test]
fn rfc3339_times_are_read_exactly() {
    for (text, expected) in [
        ("1970-01-01T00:00:00Z", Some(0)),
        ("2026-12-04T00:00:00Z", Some(NOW)),
        ("2026-12-04T00:00:00.123Z", Some(NOW)),
        ("2026-12-04T09:00:00+09:00", Some(NOW)),
        ("2026-12-03T19:30:00-04:30", Some(NOW)),
        ("2000-02-29T12:00:00Z", Some(951_825_600)),
        ("2100-03-01T00:00:00Z", Some(4_107_542_400)),
        ("1969-12-31T23:59:59Z", Some(-1)),
        ("2026-02-29T00:00:00Z", None),
        ("2026-13-01T00:00:00Z", None),
        ("2026-12-04T24:00:00Z", None),
        ("2026-12-04T00:00:00", None),
        ("2026-12-04T00:00:00.Z", None),
        ("2026-12-04", None),
        ("", None),
        ("２０２６-12-04T00:00:00Z", None),
    ] {
        assert_eq!(parse_rfc3339(text), expected, "{text:?}");
    }
}

#[test]
fn days_left_fall_into_the_badges_buckets() {
    // The ends are written by an independent formatter, not the parser's inverse.
    let bucket = |offset: i64| Expiry::of(&format_unix(NOW + offset), NOW);
    let day = 86_400;
    assert_eq!(bucket(-day), Expiry::Expired);
    assert_eq!(bucket(0), Expiry::Expired);
    assert_eq!(bucket(1), Expiry::Within30 { days: 0 });
    assert_eq!(bucket(30 * day), Expiry::Within30 { days: 30 });
    assert_eq!(bucket(31 * day - 1), Expiry::Within30 { days: 30 });
    assert_eq!(bucket(31 * day), Expiry::Within90 { days: 31 });
    assert_eq!(bucket(90 * day + 3600), Expiry::Within90 { days: 90 });
    assert_eq!(bucket(91 * day), Expiry::Later { days: 91 });
    assert_eq!(bucket(3650 * day), Expiry::Later { days: 3650 });
    assert_eq!(Expiry::of("soon", NOW), Expiry::Unknown);
    // Each bucket has its own class, so the badge is not told apart by words alone either.
    let classes = [
        Expiry::Expired,
        Expiry::Within30 { days: 1 },
        Expiry::Within90 { days: 40 },
        Expiry::Later { days: 400 },
        Expiry::Unknown,
    ]
    .map(Expiry::class);
    for (i, a) in classes.iter().enumerate() {
        for b in &classes[i + 1..] {
            assert_ne!(a, b);
        }
    }
}

/// Seconds since 1970 as RFC 3339 UTC, by counting days forward (an
/// implementation independent of the parser's).
fn format_unix(secs: i64) -> String {
    let mut days = secs.div_euclid(86_400);
    let rest = secs.rem_euclid(86_400);
    let mut year = 1970;
    loop {
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let length = if leap { 366 } else { 365 };
        if days < length {
            let mut month = 1;
            for m in [
                31,
                if leap { 29 } else { 28 },
                31,
                30,
                31,
                30,
                31,
                31,
                30,
                31,
                30,
                31,
            ] {
                if days < m {
                    break;
                }
                days -= m;
                month += 1;
            }
            return format!(
                "{year:04}-{month:02}-{:02}T{:02}:{:02}:{:02}Z",
                days + 1,
                rest / 3600,
                rest % 3600 / 60,
                rest % 60
            );
        }
        days -= length;
        year += 1;
    }
}

#[test]
fn the_independent_formatter_and_the_parser_agree() {
    for secs in [
        0,
        59,
        86_399,
        951_825_600,
        NOW,
        NOW + 12_345_678,
        4_107_542_400,
    ] {
        assert_eq!(parse_rfc3339(&format_unix(secs)), Some(secs), "{secs}");
    }
}

#[test]
fn dates_from_the_date_input_are_checked() {
    assert!(is_date("2027-03-01"));
    assert!(is_date("2028-02-29"));
    assert!(!is_date("2027-02-29"));
    assert!(!is_date("2027-3-1"));
    assert!(!is_date("03/01/2027"));
    assert!(!is_date(""));
}

#[test]
fn csv_cells_are_quoted_as_rfc_4180_says() {
    for (value, expected) in [
        ("plain", "plain"),
        ("", ""),
        ("a,b", "\"a,b\""),
        ("say \"hi\"", "\"say \"\"hi\"\"\""),
        ("two\nlines", "\"two\nlines\""),
        ("cr\rhere", "\"cr\rhere\""),
        ("日本語", "日本語"),
    ] {
        assert_eq!(csv_cell(value), expected, "{value:?}");
    }
}

#[test]
fn csv_cells_that_would_be_formulas_become_text() {
    for (value, expected) in [
        (
            "=HYPERLINK(\"http://x\")",
            "\"'=HYPERLINK(\"\"http://x\"\")\"",
        ),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTAB", "'\tTAB"),
        ("\r=1", "\"'\r=1\""),
        ("=1,2", "\"'=1,2\""),
        ("a=b", "a=b"),
        ("sensor-01", "sensor-01"),
    ] {
        assert_eq!(csv_cell(value), expected, "{value:?}");
    }
}

fn entry(id: &str, target: &str, managed: bool) -> InventoryEntry {
    InventoryEntry {
        certificate_id: id.to_owned(),
        target: target.to_owned(),
        status: Some(CertificateStatus::Active),
        not_after: "2027-01-01T00:00:00Z".to_owned(),
        managed,
        thing: managed.then(|| "=cmd|' /C calc'!A0".to_owned()),
        policy: managed.then(|| "MarshalDevice".to_owned()),
        registered_by: managed.then(|| "alice, \"the\" admin".to_owned()),
        registered_at: managed.then(|| "2026-01-01T00:00:00.000Z".to_owned()),
        owner_group: None,
        successor: None,
    }
}

#[test]
fn the_csv_has_a_header_and_one_crlf_line_per_row() {
    let csv = inventory_csv(&[entry("aa", "dev-tokyo", true), entry("bb", "prod", false)]);
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(lines.len(), 4, "{csv}");
    assert_eq!(lines[0], COLUMNS.join(","));
    assert_eq!(
        lines[1],
        "aa,dev-tokyo,ACTIVE,2027-01-01T00:00:00Z,true,'=cmd|' /C calc'!A0,MarshalDevice,\"alice, \"\"the\"\" admin\",2026-01-01T00:00:00.000Z,,"
    );
    assert_eq!(lines[2], "bb,prod,ACTIVE,2027-01-01T00:00:00Z,false,,,,,,");
    assert_eq!(lines[3], "");
    // Read back with a straightforward RFC 4180 reader: the same cells.
    let rows = read_csv(&csv);
    assert_eq!(rows[1][5], "'=cmd|' /C calc'!A0");
    assert_eq!(rows[1][7], "alice, \"the\" admin");
    assert!(rows.iter().all(|r| r.len() == COLUMNS.len()));
}

/// A small RFC 4180 reader for the test: quoted fields, doubled quotes, CRLF.
fn read_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = vec![];
    let mut row = vec![];
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') if chars.peek() == Some(&'\n') => {
                chars.next();
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    rows
}

#[test]
fn query_values_are_percent_encoded() {
    assert_eq!(percent_encode("sensor-01_a.b~"), "sensor-01_a.b~");
    assert_eq!(percent_encode("a b&c=d"), "a%20b%26c%3Dd");
    assert_eq!(
        percent_encode("2027-03-01T00:00:00Z"),
        "2027-03-01T00%3A00%3A00Z"
    );
    assert_eq!(percent_encode("+/?#%"), "%2B%2F%3F%23%25");
    assert_eq!(percent_encode("山田"), "%E5%B1%B1%E7%94%B0");
}

#[test]
fn filters_become_the_query_the_api_reads() {
    let filters = InventoryFilters {
        target: "dev-tokyo".to_owned(),
        thing: "  line 7 ".to_owned(),
        expires_before: "2027-03-01".to_owned(),
        registered_by: "alice@example.com".to_owned(),
    };
    let query = filters.query(None).unwrap();
    assert_eq!(
        query.path(None),
        "/v1/certificates?target=dev-tokyo&thing=line%207&expiresBefore=2027-03-01T00%3A00%3A00Z&registeredBy=alice%40example.com&limit=100"
    );
    assert_eq!(
        query.path(Some("abc+/=")),
        "/v1/certificates?target=dev-tokyo&thing=line%207&expiresBefore=2027-03-01T00%3A00%3A00Z&registeredBy=alice%40example.com&cursor=abc%2B%2F%3D&limit=100"
    );
    // Nothing typed: every certificate, first page.
    let empty = InventoryFilters::default().query(None).unwrap();
    assert_eq!(empty.path(None), "/v1/certificates?limit=100");
    // A bad date is refused before anything is sent.
    let bad = InventoryFilters {
        expires_before: "2027-02-30".to_owned(),
        ..InventoryFilters::default()
    };
    assert_eq!(bad.query(None), Err(FilterProblem::BadDate));
}

fn page(ids: &[&str], next: Option<&str>) -> InventoryResponse {
    InventoryResponse {
        entries: ids.iter().map(|id| entry(id, "dev-tokyo", true)).collect(),
        next_cursor: next.map(str::to_owned),
    }
}

fn act(state: State, action: InventoryAction) -> State {
    reduce(state, Action::Inventory(action))
}

fn ids(state: &State) -> Vec<&str> {
    state
        .inventory
        .rows
        .iter()
        .map(|e| e.certificate_id.as_str())
        .collect()
}

#[test]
fn load_more_appends_the_next_page_and_stops_at_the_last() {
    let query = InventoryQuery::default();
    let mut s = act(
        State::default(),
        InventoryAction::SearchStarted {
            query: query.clone(),
            ticket: 1,
        },
    );
    assert!(s.inventory.busy());
    assert_eq!(s.inventory.more_path(), None);
    s = act(
        s,
        InventoryAction::PageLoaded {
            ticket: 1,
            result: Ok(page(&["a", "b"], Some("c1"))),
        },
    );
    assert_eq!(ids(&s), ["a", "b"]);
    assert_eq!(
        s.inventory.more_path().as_deref(),
        Some("/v1/certificates?cursor=c1&limit=100")
    );
    s = act(s, InventoryAction::MoreStarted { ticket: 2 });
    assert_eq!(s.inventory.loading, Loading::More);
    s = act(
        s,
        InventoryAction::PageLoaded {
            ticket: 2,
            result: Ok(page(&["c"], None)),
        },
    );
    assert_eq!(ids(&s), ["a", "b", "c"]);
    assert_eq!(s.inventory.more_path(), None);
    assert_eq!(s.inventory.loading, Loading::Idle);
}

#[test]
fn a_new_search_drops_the_answer_of_the_old_one() {
    let mut s = act(
        State::default(),
        InventoryAction::SearchStarted {
            query: InventoryQuery::default(),
            ticket: 1,
        },
    );
    s = act(
        s,
        InventoryAction::SearchStarted {
            query: InventoryQuery {
                thing: Some("x".to_owned()),
                ..InventoryQuery::default()
            },
            ticket: 2,
        },
    );
    s = act(
        s,
        InventoryAction::PageLoaded {
            ticket: 1,
            result: Ok(page(&["old"], None)),
        },
    );
    assert!(s.inventory.rows.is_empty());
    assert!(s.inventory.busy());
    s = act(
        s,
        InventoryAction::PageLoaded {
            ticket: 2,
            result: Ok(page(&["new"], None)),
        },
    );
    assert_eq!(ids(&s), ["new"]);
}

#[test]
fn a_failed_next_page_keeps_the_rows_loaded() {
    let failure = ApiFailure::Refused {
        status: 500,
        code: ErrorCode::InternalError,
        message: "boom".to_owned(),
        request_id: "r1".to_owned(),
    };
    let mut s = act(
        State::default(),
        InventoryAction::SearchStarted {
            query: InventoryQuery::default(),
            ticket: 1,
        },
    );
    s = act(
        s,
        InventoryAction::PageLoaded {
            ticket: 1,
            result: Ok(page(&["a"], Some("c1"))),
        },
    );
    s = act(s, InventoryAction::MoreStarted { ticket: 2 });
    s = act(
        s,
        InventoryAction::PageLoaded {
            ticket: 2,
            result: Err(failure.clone()),
        },
    );
    assert_eq!(ids(&s), ["a"]);
    assert_eq!(
        s.inventory.loading,
        Loading::Failed {
            failure,
            more: true
        }
    );
    // The cursor stays, so "load more" can be pressed again.
    assert!(s.inventory.more_path().is_some());
}

#[test]
fn history_answers_for_another_certificate_are_dropped() {
    let mut s = act(
        State::default(),
        InventoryAction::HistoryStarted {
            certificate_id: "a".to_owned(),
            row: 0,
            ticket: 5,
        },
    );
    s = act(
        s,
        InventoryAction::HistoryStarted {
            certificate_id: "b".to_owned(),
            row: 1,
            ticket: 6,
        },
    );
    let events = |id: &str| {
        Rc::new(CertificateHistoryResponse {
            certificate_id: id.to_owned(),
            events: vec![],
        })
    };
    s = act(
        s,
        InventoryAction::HistoryLoaded {
            ticket: 5,
            result: Ok(events("a")),
        },
    );
    let history = s.inventory.history.as_ref().unwrap();
    assert_eq!(history.certificate_id, "b");
    assert_eq!(history.events, crate::state::Remote::Loading);
    s = act(
        s,
        InventoryAction::HistoryLoaded {
            ticket: 6,
            result: Ok(events("b")),
        },
    );
    assert!(matches!(
        s.inventory.history.as_ref().unwrap().events,
        crate::state::Remote::Loaded(_)
    ));
    s = act(s, InventoryAction::HistoryClosed);
    assert!(s.inventory.history.is_none());
}

#[test]
fn signing_out_forgets_the_inventory() {
    let mut s = act(
        State::default(),
        InventoryAction::SearchStarted {
            query: InventoryQuery::default(),
            ticket: 1,
        },
    );
    s = act(
        s,
        InventoryAction::PageLoaded {
            ticket: 1,
            result: Ok(page(&["a"], None)),
        },
    );
    s = reduce(s, Action::SignedOut);
    assert_eq!(s.inventory, Inventory::default());
}
