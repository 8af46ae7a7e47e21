//! The ledger, the inventory and rotation, in process: every change leaves
//! an intent and an outcome; the inventory pages through what Marshal
//! registered, soonest expiry first, showing others' certificates without
//! their details; rotate registers a successor beside the old certificate
//! and retire removes the old one only once its successor is ACTIVE.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use marshal_shared::{CertificateRequest, Credentials, KeyType, OffsetDateTime, generate};
use serde_json::{Value, json};
use support::*;

fn creds_for(cn: &str, days: i64) -> Credentials {
    let mut request = CertificateRequest::new(cn);
    request.validity_days = u32::try_from(days).unwrap();
    generate(KeyType::EcP256, &request, OffsetDateTime::now_utc()).unwrap()
}

fn events(reply: &Reply) -> Vec<String> {
    reply.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {} {} {}",
                e["target"].as_str().unwrap(),
                e["action"].as_str().unwrap(),
                e["phase"].as_str().unwrap(),
                match e["ok"].as_bool() {
                    Some(true) => "ok",
                    Some(false) => e["code"].as_str().unwrap(),
                    None => "-",
                }
            )
        })
        .collect()
}

fn sorted(mut rows: Vec<String>) -> Vec<String> {
    rows.sort();
    rows
}

#[tokio::test]
async fn every_change_is_recorded_and_the_inventory_follows_it() {
    let w = world();
    let c = creds_for("pump-1", 365);
    let id = c.certificate.id();
    let reply = w
        .register(&[&c], &["a-tokyo", "a-virginia"], "MarshalDevice")
        .await;
    expect(&reply, 200, None);

    let history = w.get(&format!("/v1/certificates/{id}/history")).await;
    expect(&history, 200, None);
    assert_eq!(
        sorted(events(&history)),
        [
            "a-tokyo register intent -",
            "a-tokyo register outcome ok",
            "a-virginia register intent -",
            "a-virginia register outcome ok",
        ]
    );
    let first = &history.body["events"][0];
    assert_eq!(first["requestId"], json!(reply.request_id));
    assert_eq!(first["subject"], "local");
    assert_eq!(first["thing"], "pump-1");
    assert_eq!(first["policy"], "MarshalDevice");
    let not_after = first["notAfter"].as_str().unwrap().to_owned();
    assert!(
        not_after.ends_with('Z') && not_after.len() == 24,
        "{not_after}"
    );

    let inventory = w.get("/v1/certificates").await;
    expect(&inventory, 200, None);
    let entries = inventory.body["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{:#}", inventory.body);
    for e in entries {
        assert_eq!(e["certificateId"], json!(id));
        assert_eq!(e["status"], "ACTIVE");
        assert_eq!(e["notAfter"], json!(not_after));
        assert_eq!(e["managed"], true);
        assert_eq!(e["thing"], "pump-1");
        assert_eq!(e["registeredBy"], "local");
    }
    assert!(inventory.body.get("nextCursor").is_none());

    let reply = w
        .post(
            &format!("/v1/certificates/{id}/status"),
            &json!({"status": "INACTIVE", "targets": ["a-tokyo"]}),
        )
        .await;
    expect(&reply, 200, None);
    let inventory = w.get("/v1/certificates?target=a-tokyo").await;
    assert_eq!(inventory.body["entries"][0]["status"], "INACTIVE");
    assert_eq!(inventory.body["entries"].as_array().unwrap().len(), 1);

    let reply = w
        .delete(&format!("/v1/certificates/{id}?targets=a-tokyo,a-virginia"))
        .await;
    expect(&reply, 200, None);
    let inventory = w.get("/v1/certificates").await;
    assert_eq!(inventory.body["entries"], json!([]));
    let history = w.get(&format!("/v1/certificates/{id}/history")).await;
    let rows = events(&history);
    assert_eq!(rows.len(), 10, "{rows:#?}");
    assert!(rows.contains(&"a-tokyo set_status outcome ok".to_owned()));
    assert!(rows.contains(&"a-virginia delete outcome ok".to_owned()));
    // Append-only: the first event is still there as it was (events of
    // one millisecond from different requests may sort either way).
    assert!(
        history.body["events"]
            .as_array()
            .unwrap()
            .contains(&first.clone()),
        "{:#}",
        history.body
    );
}

#[tokio::test]
async fn without_the_ledger_nothing_is_changed() {
    let w = world();
    let before = (
        w.provider.snapshot("111111111111", "ap-northeast-1"),
        w.ownership.snapshot(),
    );
    w.ledger.set_unavailable(true);
    let c = creds("pump-2");
    let reply = w.register(&[&c], &["a-tokyo"], "MarshalDevice").await;
    expect(&reply, 207, None);
    assert_eq!(target_codes(&reply), ["ledger_unavailable"]);
    assert_eq!(
        (
            w.provider.snapshot("111111111111", "ap-northeast-1"),
            w.ownership.snapshot()
        ),
        before
    );
    w.ledger.set_unavailable(false);
    expect(
        &w.register(&[&c], &["a-tokyo"], "MarshalDevice").await,
        200,
        None,
    );

    // A status change is refused the same way, and leaves the record free.
    w.ledger.set_unavailable(true);
    let id = c.certificate.id();
    let reply = w
        .post(
            &format!("/v1/certificates/{id}/status"),
            &json!({"status": "INACTIVE", "targets": ["a-tokyo"]}),
        )
        .await;
    expect(&reply, 207, None);
    assert_eq!(
        reply.body["results"][0]["error"]["code"],
        "ledger_unavailable"
    );
    w.ledger.set_unavailable(false);
    let look = w.get(&format!("/v1/certificates/{id}")).await;
    assert_eq!(look.body["targets"][0]["status"], "ACTIVE");
    let reply = w
        .post(
            &format!("/v1/certificates/{id}/status"),
            &json!({"status": "INACTIVE", "targets": ["a-tokyo"]}),
        )
        .await;
    expect(&reply, 200, None);
}

#[tokio::test]
async fn the_inventory_pages_soonest_expiry_first_across_registries() {
    let w = world();
    let mut made = Vec::new();
    for (i, days) in [200, 30, 90, 10, 365, 45, 120].iter().enumerate() {
        let c = creds_for(&format!("dev-{i}"), *days);
        // Alternate registries so the pages merge two lanes.
        let target = if i % 2 == 0 { "a-tokyo" } else { "b-tokyo" };
        expect(
            &w.register(&[&c], &[target], "MarshalDevice").await,
            200,
            None,
        );
        made.push((*days, c.certificate.id()));
    }
    made.sort();
    let mut seen = Vec::new();
    let mut path = "/v1/certificates?limit=3".to_owned();
    let mut pages = 0;
    loop {
        let page = w.get(&path).await;
        expect(&page, 200, None);
        pages += 1;
        for e in page.body["entries"].as_array().unwrap() {
            seen.push(e["certificateId"].as_str().unwrap().to_owned());
        }
        match page.body["nextCursor"].as_str() {
            Some(cursor) => path = format!("/v1/certificates?limit=3&cursor={cursor}"),
            None => break,
        }
        assert!(pages < 5, "pages never end");
    }
    let want: Vec<String> = made.iter().map(|(_, id)| id.clone()).collect();
    assert_eq!(seen, want);

    let soon = (OffsetDateTime::now_utc() + time::Duration::days(60))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let page = w
        .get(&format!("/v1/certificates?expiresBefore={soon}"))
        .await;
    let ids: Vec<&str> = page.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["certificateId"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        want[..3].iter().map(String::as_str).collect::<Vec<_>>()
    );

    let page = w.get("/v1/certificates?thing=dev-4").await;
    assert_eq!(page.body["entries"].as_array().unwrap().len(), 1);

    for bad in [
        "/v1/certificates?limit=0",
        "/v1/certificates?limit=101",
        "/v1/certificates?expiresBefore=tomorrow",
        "/v1/certificates?cursor=zz",
        "/v1/certificates?colour=blue",
        "/v1/certificates?thing=",
    ] {
        expect(&w.get(bad).await, 400, Some("invalid_request"));
    }
    expect(
        &w.get("/v1/certificates?target=nowhere").await,
        403,
        Some("forbidden_target"),
    );
}

#[tokio::test]
async fn others_see_neither_details_nor_history() {
    let w = jwt_world();
    let c = creds("pump-3");
    let id = c.certificate.id();
    let reply = w
        .register_as(&alice(), &[(&c, None)], &["a-tokyo"], json!({}))
        .await;
    expect(&reply, 200, None);

    let bob_view = w.send_as(&bob(), "GET", "/v1/certificates", None).await;
    expect(&bob_view, 200, None);
    let entry = &bob_view.body["entries"][0];
    assert_eq!(entry["certificateId"], json!(id));
    assert_eq!(entry["managed"], false);
    for hidden in [
        "thing",
        "policy",
        "registeredBy",
        "registeredAt",
        "ownerGroup",
    ] {
        assert!(entry.get(hidden).is_none(), "{hidden} shown: {entry:#}");
    }
    // Filters on details match only what the caller manages.
    let filtered = w
        .send_as(&bob(), "GET", "/v1/certificates?thing=pump-3", None)
        .await;
    assert_eq!(filtered.body["entries"], json!([]));
    let filtered = w
        .send_as(
            &bob(),
            "GET",
            "/v1/certificates?registeredBy=alice-sub",
            None,
        )
        .await;
    assert_eq!(filtered.body["entries"], json!([]));

    let history = w
        .send_as(
            &bob(),
            "GET",
            &format!("/v1/certificates/{id}/history"),
            None,
        )
        .await;
    expect(&history, 200, None);
    assert_eq!(history.body["events"], json!([]));
    let history = w
        .send_as(
            &admin(),
            "GET",
            &format!("/v1/certificates/{id}/history"),
            None,
        )
        .await;
    assert_eq!(history.body["events"].as_array().unwrap().len(), 2);
    let alice_view = w
        .send_as(
            &alice(),
            "GET",
            "/v1/certificates?registeredBy=alice-sub",
            None,
        )
        .await;
    assert_eq!(alice_view.body["entries"][0]["thing"], "pump-3");

    // Bob can neither rotate nor retire it.
    let next = creds("pump-3");
    let before = snapshot(&w);
    let reply = w
        .send_as(
            &bob(),
            "POST",
            &format!("/v1/certificates/{id}/rotate"),
            Some(&json!({"certificatePem": next.certificate.to_pem(), "targets": ["a-tokyo"]})),
        )
        .await;
    expect(&reply, 403, Some("certificate_not_managed"));
    let reply = w
        .send_as(
            &bob(),
            "POST",
            &format!("/v1/certificates/{id}/retire"),
            Some(&json!({"targets": ["a-tokyo"]})),
        )
        .await;
    expect(&reply, 403, Some("certificate_not_managed"));
    assert_eq!(snapshot(&w), before);
}

/// A new certificate for `cn`, registered into a-tokyo and b-tokyo; its ID.
async fn registered_in_two(w: &World, cn: &str) -> String {
    let old = creds(cn);
    expect(
        &w.register(&[&old], &["a-tokyo", "b-tokyo"], "MarshalDevice")
            .await,
        200,
        None,
    );
    old.certificate.id()
}

fn rotate_body(next: &Credentials) -> Value {
    json!({"certificatePem": next.certificate.to_pem()})
}

#[tokio::test]
async fn rotation_makes_before_it_breaks() {
    let w = world();
    let old_id = registered_in_two(&w, "meter-9").await;
    // Retiring before a successor exists changes nothing.
    let before = w.provider.snapshot("111111111111", "ap-northeast-1");
    let reply = w
        .post(
            &format!("/v1/certificates/{old_id}/retire"),
            &json!({"targets": ["a-tokyo"]}),
        )
        .await;
    expect(&reply, 207, None);
    assert_eq!(reply.body["results"][0]["error"]["code"], "not_rotated");
    assert_eq!(
        w.provider.snapshot("111111111111", "ap-northeast-1"),
        before
    );

    let next = creds("meter-9");
    let new_id = next.certificate.id();
    let reply = w
        .post(
            &format!("/v1/certificates/{old_id}/rotate"),
            &rotate_body(&next),
        )
        .await;
    expect(&reply, 200, None);
    assert_eq!(reply.body["newCertificateId"], json!(new_id));
    let results = reply.body["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    for r in results {
        assert_eq!(r["registration"]["status"], "ACTIVE");
        assert_eq!(r["registration"]["thing"], "meter-9");
        assert_eq!(r["registration"]["policy"], "MarshalDevice");
    }
    // Both are ACTIVE and on the thing: the device can switch at leisure.
    let look = w.get(&format!("/v1/certificates/{old_id}")).await;
    for t in look.body["targets"].as_array().unwrap() {
        if t["present"] == true {
            assert_eq!(t["status"], "ACTIVE");
            assert_eq!(t["things"], json!(["meter-9"]));
        }
    }
    // Again: nothing new.
    let again = w
        .post(
            &format!("/v1/certificates/{old_id}/rotate"),
            &rotate_body(&next),
        )
        .await;
    expect(&again, 200, None);
    assert_eq!(
        again.body["results"][0]["registration"]["newlyRegistered"],
        false
    );
    // A different successor is refused while one is recorded.
    let other = creds("meter-9");
    let reply = w
        .post(
            &format!("/v1/certificates/{old_id}/rotate"),
            &rotate_body(&other),
        )
        .await;
    expect(&reply, 207, None);
    assert_eq!(reply.body["results"][0]["error"]["code"], "already_rotated");
    let inventory = w.get("/v1/certificates?thing=meter-9").await;
    let successors: Vec<&Value> = inventory.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["certificateId"] == json!(old_id))
        .map(|e| &e["successor"])
        .collect();
    assert_eq!(successors, [&json!(new_id), &json!(new_id)]);
    // The thing's inventory (read from its record) holds both meanwhile.
    let listed: Vec<&str> = inventory.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["certificateId"].as_str().unwrap())
        .collect();
    assert_eq!(listed.len(), 4, "{:#}", inventory.body);
    assert!(listed.contains(&new_id.as_str()));

    let reply = w
        .post(&format!("/v1/certificates/{old_id}/retire"), &json!({}))
        .await;
    expect(&reply, 200, None);
    assert_eq!(reply.body["results"].as_array().unwrap().len(), 2);
    let look = w.get(&format!("/v1/certificates/{old_id}")).await;
    assert!(
        look.body["targets"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["present"] == false)
    );
    let look = w.get(&format!("/v1/certificates/{new_id}")).await;
    let present: Vec<&Value> = look.body["targets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["present"] == true)
        .collect();
    assert_eq!(present.len(), 2);
    for t in present {
        assert_eq!(t["status"], "ACTIVE");
        assert_eq!(t["things"], json!(["meter-9"]));
    }
    let inventory = w.get("/v1/certificates?thing=meter-9").await;
    let listed: Vec<&str> = inventory.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["certificateId"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [new_id.as_str(), new_id.as_str()]);
    // Retiring again names nothing left to retire.
    let reply = w
        .post(&format!("/v1/certificates/{old_id}/retire"), &json!({}))
        .await;
    expect(&reply, 200, None);
    assert_eq!(reply.body["results"], json!([]));

    let history = w.get(&format!("/v1/certificates/{old_id}/history")).await;
    let rows = events(&history);
    assert!(
        rows.contains(&"a-tokyo rotate outcome ok".to_owned()),
        "{rows:#?}"
    );
    assert!(
        rows.contains(&"b-tokyo retire outcome ok".to_owned()),
        "{rows:#?}"
    );
    let history = w.get(&format!("/v1/certificates/{new_id}/history")).await;
    assert!(
        history.body["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["related"] == json!(old_id) && e["action"] == "rotate")
    );
}

#[tokio::test]
async fn a_failed_rotation_is_undone_in_that_target_only() {
    let w = world();
    let old_id = registered_in_two(&w, "valve-4").await;
    let before = w.provider.snapshot("222222222222", "ap-northeast-1");
    w.provider.fail("b-tokyo", "attach_thing");
    let next = creds("valve-4");
    let reply = w
        .post(
            &format!("/v1/certificates/{old_id}/rotate"),
            &rotate_body(&next),
        )
        .await;
    expect(&reply, 207, None);
    let codes = target_codes(&reply);
    assert_eq!(codes[0], "ok");
    assert_ne!(codes[1], "ok");
    assert_eq!(
        w.provider.snapshot("222222222222", "ap-northeast-1"),
        before
    );
    let history = w.get(&format!("/v1/certificates/{old_id}/history")).await;
    let rows = events(&history);
    assert!(
        rows.iter()
            .any(|r| r.starts_with("b-tokyo rotate outcome ") && !r.ends_with(" ok"))
    );
    // Healed, the same request completes b-tokyo and leaves a-tokyo as it is.
    w.provider.heal("b-tokyo", "attach_thing");
    let reply = w
        .post(
            &format!("/v1/certificates/{old_id}/rotate"),
            &rotate_body(&next),
        )
        .await;
    expect(&reply, 200, None);
    assert_eq!(
        reply.body["results"][0]["registration"]["newlyRegistered"],
        false
    );
    assert_eq!(
        reply.body["results"][1]["registration"]["newlyRegistered"],
        true
    );
}

/// What changed in AWS behind Marshal's back in a-tokyo: one certificate
/// deleted, one deactivated, one detached from its thing, and one
/// registered straight into AWS.
#[tokio::test]
async fn reconcile_reports_drift_and_applies_only_to_the_inventory() {
    use marshal_lambda::service::registry::{CertificateStatus, RegistryProvider};
    let w = jwt_world();
    let made: Vec<Credentials> = (0..4).map(|i| creds(&format!("drift-{i}"))).collect();
    let pairs: Vec<(&Credentials, Option<&str>)> = made.iter().map(|c| (c, None)).collect();
    expect(
        &w.register_as(&alice(), &pairs, &["a-tokyo"], json!({}))
            .await,
        200,
        None,
    );
    let ids: Vec<String> = made.iter().map(|c| c.certificate.id()).collect();
    let registry = w.provider.registry(&tokyo(), "outside").await.unwrap();
    let arn = |id: &str| format!("arn:aws:iot:ap-northeast-1:111111111111:cert/{id}");
    registry
        .detach_policy("MarshalDevice", &arn(&ids[0]))
        .await
        .unwrap();
    registry
        .detach_thing("drift-0", &arn(&ids[0]))
        .await
        .unwrap();
    registry
        .update_status(&ids[0], CertificateStatus::Inactive)
        .await
        .unwrap();
    registry.delete_certificate(&ids[0]).await.unwrap();
    registry
        .update_status(&ids[1], CertificateStatus::Inactive)
        .await
        .unwrap();
    registry
        .detach_thing("drift-2", &arn(&ids[2]))
        .await
        .unwrap();
    let outside = creds("outside-1");
    registry
        .register_without_ca(&outside.certificate.to_pem(), CertificateStatus::Active)
        .await
        .unwrap();

    let body = json!({"targets": ["a-tokyo"]});
    let reply = w
        .send_as(&alice(), "POST", "/v1/reconcile", Some(&body))
        .await;
    expect(&reply, 403, Some("admin_only"));

    let before = snapshot(&w);
    let reply = w
        .send_as(&admin(), "POST", "/v1/reconcile", Some(&body))
        .await;
    expect(&reply, 200, None);
    let target = &reply.body["targets"][0];
    assert_eq!(target["checked"], 5, "{target:#}");
    let mut found: Vec<(String, String)> = target["drift"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            assert_eq!(d["applied"], false);
            (
                d["certificateId"].as_str().unwrap().to_owned(),
                d["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    found.sort();
    let mut want = vec![
        (ids[0].clone(), "deleted_outside".to_owned()),
        (ids[1].clone(), "status_changed".to_owned()),
        (ids[2].clone(), "attachments_changed".to_owned()),
        (outside.certificate.id(), "registered_outside".to_owned()),
    ];
    want.sort();
    assert_eq!(found, want);
    // Reporting changed nothing.
    assert_eq!(snapshot(&w), before);

    let aws_before = w.provider.snapshot("111111111111", "ap-northeast-1");
    let body = json!({"targets": ["a-tokyo"], "apply": true});
    let reply = w
        .send_as(&admin(), "POST", "/v1/reconcile", Some(&body))
        .await;
    expect(&reply, 200, None);
    let applied: Vec<&Value> = reply.body["targets"][0]["drift"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["applied"] == true)
        .collect();
    assert_eq!(applied.len(), 2, "{:#}", reply.body);
    // AWS is as it was; the inventory now agrees with it.
    assert_eq!(
        w.provider.snapshot("111111111111", "ap-northeast-1"),
        aws_before
    );
    let inventory = w.send_as(&alice(), "GET", "/v1/certificates", None).await;
    let statuses: Vec<(String, String)> = inventory.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["certificateId"].as_str().unwrap().to_owned(),
                e["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(statuses.len(), 3);
    assert!(statuses.contains(&(ids[1].clone(), "INACTIVE".to_owned())));
    assert!(!statuses.iter().any(|(id, _)| id == &ids[0]));
    let history = w
        .send_as(
            &alice(),
            "GET",
            &format!("/v1/certificates/{}/history", ids[0]),
            None,
        )
        .await;
    assert!(events(&history).contains(&"a-tokyo reconcile outcome ok".to_owned()));
    // A second run finds only what apply cannot mend.
    let reply = w
        .send_as(&admin(), "POST", "/v1/reconcile", Some(&body))
        .await;
    let kinds: Vec<&str> = reply.body["targets"][0]["drift"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.len(), 2, "{kinds:?}");
    assert!(kinds.contains(&"attachments_changed") && kinds.contains(&"registered_outside"));
}

/// A certificate Marshal registered before it kept an inventory (its record
/// has no facts) is listed by reconcile and added to the inventory by apply.
#[tokio::test]
async fn reconcile_adds_what_was_registered_before_the_inventory() {
    use marshal_lambda::service::{
        ownership::{Owner, Ownership, OwnershipKey, OwnershipState, OwnershipStore},
        registry::{CertificateStatus, RegistryProvider},
    };
    let w = jwt_world();
    let legacy = creds("legacy-1");
    let id = legacy.certificate.id();
    let registry = w.provider.registry(&tokyo(), "before").await.unwrap();
    registry
        .register_without_ca(&legacy.certificate.to_pem(), CertificateStatus::Active)
        .await
        .unwrap();
    let mut record = Ownership::claimed(
        &Owner {
            subject: "alice-sub".into(),
            group: None,
        },
        0,
    );
    record.state = OwnershipState::Registered;
    w.ownership
        .put(&OwnershipKey::certificate(&tokyo(), &id), &record, None)
        .await
        .unwrap();
    let listed = w.send_as(&alice(), "GET", "/v1/certificates", None).await;
    assert_eq!(listed.body["entries"], json!([]));

    let body = json!({"targets": ["a-tokyo"], "apply": true});
    let reply = w
        .send_as(&admin(), "POST", "/v1/reconcile", Some(&body))
        .await;
    expect(&reply, 200, None);
    let drift = &reply.body["targets"][0]["drift"][0];
    assert_eq!(drift["kind"], "not_in_inventory", "{:#}", reply.body);
    assert_eq!(drift["applied"], true);
    let listed = w.send_as(&alice(), "GET", "/v1/certificates", None).await;
    let entry = &listed.body["entries"][0];
    assert_eq!(entry["certificateId"], json!(id));
    assert_eq!(entry["status"], "ACTIVE");
    assert_eq!(entry["registeredBy"], "alice-sub");
    let not_after = legacy.certificate.validity().1;
    assert!(
        entry["notAfter"]
            .as_str()
            .unwrap()
            .starts_with(&not_after.year().to_string()),
        "{entry:#}"
    );
}
