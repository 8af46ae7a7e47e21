//! The page's Inventory and Rotate end to end: the built page served by
//! `marshal-lambda --static-dir` against moto, driven in Debian's Chromium
//! by `tests/e2e/inventory.cjs`. Three certificates registered through the
//! API (10, 60 and 400 days left) are listed soonest first with their
//! days-left badges, filtered, exported as CSV, one's history shown; then
//! the page rotates the soonest (its new key made in the browser) and
//! retires the old one. boto3 judges AWS; axe-core the page.
//!
//! Screenshots, the CSV, the new device kit and `result.json` stay in
//! `<target>/tmp/page-inventory/` (paths printed), to be looked at.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use marshal_tests::Cmd;
use marshal_tests::api::Api;
use marshal_tests::moto::Moto;
use marshal_tests::moto_state;
use marshal_tests::page::{self, PageTest};
use serde_json::{Value, json};

const POLICY: &str = "MarshalDevice";

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

#[test]
fn inventory_history_csv_rotation_and_retirement_in_the_page() {
    let setup = PageTest::prepare(Path::new(env!("CARGO_TARGET_TMPDIR")).join("page-inventory"));
    let moto = Moto::start();
    let targets = moto_state::tokyo_and_virginia();
    moto_state::seed_with_device_policy(&moto.endpoint(), &targets, POLICY);
    let api = Api::start_serving(
        &moto_state::config_toml("", &targets, POLICY),
        &moto.endpoint(),
        Some(&setup.built),
    );

    let dir = tempfile::tempdir().unwrap();
    let mut ids = Vec::new();
    let mut pems = Vec::new();
    for (cn, days) in [("inv-a", 10), ("inv-b", 60), ("inv-c", 400)] {
        let run = Cmd::marshal()
            .args([
                "keygen",
                "--cn",
                cn,
                "--days",
                &days.to_string(),
                "--json",
                "--out",
            ])
            .arg(dir.path())
            .run();
        run.assert_success();
        let out = run.json();
        pems.push(std::fs::read_to_string(text(&out["certificatePath"])).unwrap());
        ids.push(text(&out["certificateId"]));
    }
    api.post_json(
        "/v1/registrations",
        &json!({
            "certificates": pems.iter().map(|p| json!({"certificatePem": p})).collect::<Vec<_>>(),
            "targets": ["a-tokyo", "b-virginia"],
            "policy": POLICY,
        }),
    )
    .expect_status(200);

    let result = setup
        .script("inventory.cjs", &format!("{}/", api.url()))
        .env("MARSHAL_ROTATE", &ids[0])
        .env("MARSHAL_THING", "inv-b")
        .run();
    let explain = || page::explain(&result, &[], &api);
    setup.print_screenshots("page inventory", &result);

    // Soonest first, each with the badge of its bucket.
    let rows = result["rows"].as_array().cloned().unwrap_or_default();
    let order: Vec<String> = rows.iter().map(|r| text(&r["certificate"])).collect();
    assert_eq!(
        order,
        [&ids[0], &ids[0], &ids[1], &ids[1], &ids[2], &ids[2]].map(String::clone),
        "{}",
        explain()
    );
    for (row, bucket) in rows
        .iter()
        .zip(["soon", "soon", "near", "near", "later", "later"])
    {
        assert!(
            text(&row["badge"]).split(' ').any(|c| c == bucket),
            "{row} is not {bucket}\n{}",
            explain()
        );
    }
    assert!(
        text(&rows[0]["badgeText"]).contains("days left"),
        "{}",
        explain()
    );
    let filtered: Vec<String> = result["filtered"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|r| text(&r["certificate"]))
        .collect();
    assert_eq!(
        filtered,
        [&ids[1], &ids[1]].map(String::clone),
        "{}",
        explain()
    );
    let history = result["history"].as_array().cloned().unwrap_or_default();
    assert!(
        history.len() >= 2 && history.iter().all(|h| text(h).contains("register")),
        "{}",
        explain()
    );

    // The CSV holds the loaded rows.
    let csv = std::fs::read_to_string(text(&result["csvPath"])).unwrap();
    assert!(text(&result["csvName"]).ends_with(".csv"), "{}", explain());
    assert_eq!(csv.lines().count(), 7, "header and six rows:\n{csv}");
    for id in &ids {
        assert_eq!(csv.matches(id.as_str()).count(), 2, "{id} twice in:\n{csv}");
    }

    // Rotation: both targets, and boto3 finds the new certificate ACTIVE
    // on the old one's thing and policy; the old one is gone after retiring.
    let rotated = result["rotationRows"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(rotated.len(), 2, "{}", explain());
    assert!(rotated.iter().all(|r| r["ok"] == true), "{}", explain());
    let new_id = text(&result["newCertificateId"]);
    assert!(
        new_id.len() == 64 && new_id != ids[0],
        "{new_id}\n{}",
        explain()
    );
    assert!(text(&result["kitName"]).ends_with(".zip"), "{}", explain());
    let aws = moto_state::inspect(&moto.endpoint(), &targets, &[&ids[0], &new_id]);
    for t in ["a-tokyo", "b-virginia"] {
        assert_eq!(aws.certificate(t, &ids[0]), None, "{t}: not retired\n{aws}");
        let c = aws
            .certificate(t, &new_id)
            .unwrap_or_else(|| panic!("{t}: no successor\n{aws}"));
        assert_eq!(
            (c.status.as_str(), c.policies.clone(), c.things.clone()),
            ("ACTIVE", vec![POLICY.to_owned()], vec!["inv-a".to_owned()]),
            "{t}\n{aws}"
        );
    }

    // No request carried a private key.
    for request in result["requests"].as_array().cloned().unwrap_or_default() {
        assert!(
            !request["body"].to_string().contains("PRIVATE KEY"),
            "a request carried key material: {}",
            request["url"]
        );
    }
    for key in ["axeInventory", "axeRotated"] {
        let serious = page::serious_violations(&result[key]);
        assert!(
            serious.is_empty(),
            "axe-core ({key}): {}",
            serde_json::to_string_pretty(&serious).unwrap_or_default()
        );
    }
}
