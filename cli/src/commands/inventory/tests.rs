use clap::Parser;
use marshal_shared::api::CertificateStatus;
use time::macros::datetime;

use super::*;
use crate::cli::{Cli, Command};

const NOW: OffsetDateTime = datetime!(2026-12-01 09:30:15.5 UTC);

fn args(flags: &[&str]) -> InventoryArgs {
    let argv = ["marshal", "inventory", "--api", "http://127.0.0.1:1"];
    match Cli::try_parse_from(argv.iter().chain(flags)).map(|c| c.command) {
        Ok(Command::Inventory(args)) => args,
        other => panic!("{flags:?}: {other:?}"),
    }
}

fn entry(id: char, not_after: &str) -> InventoryEntry {
    InventoryEntry {
        certificate_id: id.to_string().repeat(64),
        target: "a-tokyo".into(),
        status: Some(CertificateStatus::Active),
        not_after: not_after.into(),
        managed: true,
        thing: Some("sensor-01".into()),
        policy: Some("MarshalDevice".into()),
        registered_by: Some("alice".into()),
        registered_at: Some("2026-11-01T00:00:00Z".into()),
        owner_group: None,
        successor: None,
    }
}

#[test]
fn days_left_counts_whole_days_and_says_expired() {
    for (not_after, expected) in [
        ("2026-12-11T10:30:15Z", "10"),
        ("2026-12-11T09:30:15Z", "9"),
        ("2026-12-02T09:30:15Z", "0"),
        ("2026-12-01T09:30:16Z", "0"),
        ("2026-12-01T09:30:15.5Z", "expired"),
        ("2026-11-30T00:00:00Z", "expired"),
        ("2036-11-29T09:30:15.5Z", "3651"),
        ("2026-12-11T19:30:15.5+09:00", "10"),
        ("next tuesday", "?"),
    ] {
        assert_eq!(days_left(not_after, NOW), expected, "{not_after}");
    }
}

#[test]
fn the_table_shows_short_ids_days_left_and_what_is_hidden() {
    let rotated = InventoryEntry {
        successor: Some("b".repeat(64)),
        ..entry('a', "2026-12-03T00:00:00Z")
    };
    let not_yours = InventoryEntry {
        target: "b-virginia".into(),
        status: None,
        managed: false,
        thing: None,
        policy: None,
        registered_by: None,
        registered_at: None,
        ..entry('c', "2036-11-29T09:30:15Z")
    };
    let expired = entry('d', "2026-11-01T00:00:00Z");
    assert_eq!(
        render(&[expired, rotated, not_yours], NOW, false),
        "\
CERTIFICATE    TARGET      STATUS  NOT AFTER (UTC)   DAYS LEFT  THING      POLICY         REGISTERED BY  NOTE
dddddddddddd…  a-tokyo     ACTIVE  2026-11-01 00:00  expired    sensor-01  MarshalDevice  alice
aaaaaaaaaaaa…  a-tokyo     ACTIVE  2026-12-03 00:00  1          sensor-01  MarshalDevice  alice          rotated to bbbbbbbbbbbb…
cccccccccccc…  b-virginia  -       2036-11-29 09:30  3650       -          -              -              not yours: details hidden
3 entries, 1 expired
"
    );
}

#[test]
fn wide_shows_whole_ids() {
    let text = render(&[entry('e', "2027-01-01T00:00:00Z")], NOW, true);
    assert!(text.contains(&"e".repeat(64)), "{text}");
    assert!(text.ends_with("\n1 entry\n"), "{text}");
    assert!(!text.contains('…'), "{text}");
}

#[test]
fn nothing_found_says_so() {
    assert_eq!(render(&[], NOW, false), "no certificates match\n");
}

#[test]
fn short_ids_never_cut_what_is_short() {
    assert_eq!(short_id("abc", false), "abc");
    assert_eq!(short_id(&"f".repeat(12), false), "f".repeat(12));
    assert_eq!(
        short_id(&"f".repeat(13), false),
        format!("{}…", "f".repeat(12))
    );
}

#[test]
fn expires_within_becomes_a_time_from_now() {
    let query = inventory_query(&args(&["--expires-within", "30"]), NOW).unwrap();
    assert_eq!(
        query.expires_before.as_deref(),
        Some("2026-12-31T09:30:15Z")
    );
    let query = query_of(&["--expires-within", "0"]);
    assert_eq!(
        query.expires_before.as_deref(),
        Some("2026-12-01T09:30:15Z")
    );
}

fn query_of(flags: &[&str]) -> InventoryQuery {
    inventory_query(&args(flags), NOW).unwrap_or_else(|f| panic!("{flags:?}: {f:?}"))
}

#[test]
fn expires_before_is_checked_and_sent_as_typed() {
    let query = query_of(&["--expires-before", "2027-03-31T09:00:00+09:00"]);
    assert_eq!(
        query.expires_before.as_deref(),
        Some("2027-03-31T09:00:00+09:00")
    );
    assert!(
        query
            .path()
            .contains("expiresBefore=2027-03-31T09%3A00%3A00%2B09%3A00"),
        "{}",
        query.path()
    );
    // The API reads it with the same parser (`time`'s RFC 3339, which also
    // takes a space for the `T`), so what passes here passes there.
    for bad in ["2027-03-31", "31/03/2027", "2027-03-31T00:00:00", ""] {
        let failure = inventory_query(&args(&["--expires-before", bad]), NOW).unwrap_err();
        assert_eq!(
            (failure.status, &*failure.code),
            (2, "invalid_time"),
            "{bad}"
        );
        assert!(failure.message.contains("RFC 3339"), "{failure:?}");
    }
}

#[test]
fn filters_are_refused_empty_or_longer_than_the_api_takes() {
    let longest = "t".repeat(256);
    let query = query_of(&[
        "--thing",
        &longest,
        "--registered-by",
        "bob",
        "--limit",
        "7",
    ]);
    assert_eq!(query.thing.as_deref(), Some(longest.as_str()));
    assert_eq!(query.registered_by.as_deref(), Some("bob"));
    assert_eq!(query.limit, Some(7));
    for (flag, value) in [
        ("--thing", "t".repeat(257)),
        ("--target", String::new()),
        ("--registered-by", "é".repeat(257)),
    ] {
        let failure = inventory_query(&args(&[flag, &value]), NOW).unwrap_err();
        assert_eq!(
            (failure.status, &*failure.code),
            (2, "invalid_filter"),
            "{flag}"
        );
        assert!(failure.message.starts_with(flag), "{failure:?}");
    }
}

#[test]
fn cursors_are_passed_on_as_the_api_gave_them() {
    let cursor = format!("111111111111_ap-northeast-1_{}.end", "9".repeat(300));
    assert_eq!(query_of(&["--cursor", &cursor]).cursor, Some(cursor));
    let failure = inventory_query(&args(&["--cursor", ""]), NOW).unwrap_err();
    assert_eq!((failure.status, &*failure.code), (2, "invalid_cursor"));
}

#[test]
fn json_is_an_array_of_the_api_entries() {
    let entries = [entry('a', "2027-01-01T00:00:00Z")];
    let json = serde_json::to_value(entries).unwrap();
    let first = &json.as_array().unwrap()[0];
    assert_eq!(first["certificateId"], "a".repeat(64));
    assert_eq!(first["notAfter"], "2027-01-01T00:00:00Z");
    assert_eq!(first["registeredBy"], "alice");
    assert_eq!(first["status"], "ACTIVE");
    assert!(first.get("successor").is_none(), "{first}");
}
