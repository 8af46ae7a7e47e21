//! Ownership and least authority, in process, with callers as API Gateway's
//! JWT authorizer passes them: a caller changes only what Marshal registered
//! for them or their group (or, as a target admin, what Marshal manages
//! there); nothing registered outside Marshal is changed; no thing is taken
//! over; concurrent and late requests leave the registry as they said.
//! Each test pins one hole of the December 2026 security review (H1, H2, M4).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{sync::Arc, time::Duration};

use marshal_lambda::service::registry::{CertificateStatus, RegistryErrorKind, RegistryProvider};
use serde_json::{Value, json};
use support::*;

/// A certificate with a fleet policy and a thing, registered straight into
/// AWS by another team: Marshal has no record of it.
async fn seed_foreign(w: &World, cn: &str, thing: &str) -> String {
    let creds = creds(cn);
    let registry = w.provider.registry(&tokyo(), "seed").await.unwrap();
    let record = registry
        .register_without_ca(&creds.certificate.to_pem(), CertificateStatus::Active)
        .await
        .unwrap();
    registry
        .attach_policy("FleetPolicy", &record.arn)
        .await
        .unwrap();
    registry.create_thing(thing).await.unwrap();
    registry.attach_thing(thing, &record.arn).await.unwrap();
    record.id
}

async fn status(w: &World, who: &Who, id: &str, status: &str) -> Reply {
    w.send_as(
        who,
        "POST",
        &format!("/v1/certificates/{id}/status"),
        Some(&json!({"status": status, "targets": ["a-tokyo"]})),
    )
    .await
}

async fn delete(w: &World, who: &Who, id: &str) -> Reply {
    w.send_as(
        who,
        "DELETE",
        &format!("/v1/certificates/{id}?targets=a-tokyo"),
        None,
    )
    .await
}

async fn transfer(w: &World, who: &Who, id: &str, mode: &str) -> Reply {
    w.send_as(
        who,
        "POST",
        &format!("/v1/certificates/{id}/transfer"),
        Some(
            &json!({"from": "a-tokyo", "to": ["b-tokyo"], "policy": "MarshalDevice", "mode": mode}),
        ),
    )
    .await
}

fn registered_id(reply: &Reply) -> String {
    expect(reply, 200, None);
    reply.body["results"][0]["certificateId"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn certificates_registered_outside_marshal_are_left_alone() {
    let w = jwt_world();
    let creds_id = seed_foreign(&w, "fleet-1", "line-7").await;
    let before = snapshot(&w);

    expect(
        &status(&w, &alice(), &creds_id, "REVOKED").await,
        403,
        Some("admin_only"),
    );
    expect(
        &status(&w, &alice(), &creds_id, "INACTIVE").await,
        403,
        Some("certificate_not_managed"),
    );
    expect(
        &delete(&w, &alice(), &creds_id).await,
        403,
        Some("certificate_not_managed"),
    );
    expect(
        &transfer(&w, &alice(), &creds_id, "move_delete").await,
        403,
        Some("certificate_not_managed"),
    );
    // Admins too, until they adopt it.
    expect(
        &status(&w, &admin(), &creds_id, "REVOKED").await,
        403,
        Some("certificate_not_managed"),
    );
    expect(
        &delete(&w, &admin(), &creds_id).await,
        403,
        Some("certificate_not_managed"),
    );
    assert_eq!(snapshot(&w), before, "nothing may change");

    // The look-up says present and its status, no names.
    let r = w
        .send_as(
            &alice(),
            "GET",
            &format!("/v1/certificates/{creds_id}"),
            None,
        )
        .await;
    expect(&r, 200, None);
    let tokyo = &r.body["targets"][0];
    assert_eq!(tokyo["present"], true);
    assert_eq!(tokyo["status"], "ACTIVE");
    assert_eq!(tokyo["managed"], false);
    assert!(
        tokyo.get("policies").is_none() && tokyo.get("things").is_none(),
        "{tokyo}"
    );
}

#[tokio::test]
async fn posting_someone_elses_pem_changes_nothing() {
    let w = jwt_world();
    let fleet = creds("fleet-2");
    let registry = w.provider.registry(&tokyo(), "seed").await.unwrap();
    registry
        .register_without_ca(&fleet.certificate.to_pem(), CertificateStatus::Active)
        .await
        .unwrap();
    let before = snapshot(&w);
    for activate in [false, true] {
        let r = w
            .register_as(
                &bob(),
                &[(&fleet, Some("bob-thing"))],
                &["a-tokyo"],
                json!({"activate": activate}),
            )
            .await;
        expect(&r, 207, None);
        assert_eq!(target_codes(&r), ["certificate_not_managed"]);
    }
    assert_eq!(
        snapshot(&w),
        before,
        "status, policies and things as they were"
    );
}

/// A registration whose rollback could not delete the certificate keeps
/// its claim: another user cannot take the certificate left behind, and
/// the owner's next request completes it (the fault test once found it
/// refused as "registered outside Marshal").
#[tokio::test]
async fn a_certificate_left_by_an_incomplete_rollback_stays_its_owners() {
    let w = jwt_world();
    let device = creds("left-behind");
    w.provider.fail("a-tokyo", "attach_thing");
    w.provider.fail("a-tokyo", "delete_certificate");
    let r = w
        .register_as(
            &alice(),
            &[(&device, Some("alice-thing"))],
            &["a-tokyo"],
            json!({}),
        )
        .await;
    expect(&r, 207, None);
    assert_eq!(target_codes(&r), ["aws_unavailable"]);
    let message = r.body["results"][0]["error"]["message"].as_str().unwrap();
    assert!(message.contains("rollback incomplete"), "{message}");
    w.provider.heal("a-tokyo", "attach_thing");
    w.provider.heal("a-tokyo", "delete_certificate");

    let r = w
        .register_as(
            &bob(),
            &[(&device, Some("bob-thing"))],
            &["a-tokyo"],
            json!({}),
        )
        .await;
    expect(&r, 207, None);
    assert_eq!(target_codes(&r), ["certificate_not_managed"]);

    let r = w
        .register_as(
            &alice(),
            &[(&device, Some("alice-thing"))],
            &["a-tokyo"],
            json!({}),
        )
        .await;
    expect(&r, 200, None);
    assert_eq!(target_codes(&r), ["ok"]);
    assert_eq!(r.body["results"][0]["registration"]["status"], "ACTIVE");
}

/// A registration AWS carried out although the SDK's answer was an error
/// (the first attempt's reply lost, its retries throttled) is undone, not
/// left behind as a certificate "registered outside Marshal" that its owner
/// could never register again (the fault test found this in CI).
#[tokio::test]
async fn a_registration_whose_reply_was_lost_to_throttling_is_undone_and_retried() {
    let w = jwt_world();
    let device = creds("lost-reply");
    let before = snapshot(&w);
    w.provider.lose_reply(
        "a-tokyo",
        "register_without_ca",
        RegistryErrorKind::Throttled,
    );
    let r = w
        .register_as(
            &alice(),
            &[(&device, Some("alice-lost"))],
            &["a-tokyo"],
            json!({}),
        )
        .await;
    expect(&r, 207, None);
    assert_eq!(target_codes(&r), ["aws_throttled"]);
    assert_eq!(
        snapshot(&w),
        before,
        "the certificate AWS registered is gone"
    );
    w.provider.heal("a-tokyo", "register_without_ca");

    let r = w
        .register_as(
            &alice(),
            &[(&device, Some("alice-lost"))],
            &["a-tokyo"],
            json!({}),
        )
        .await;
    expect(&r, 200, None);
    assert_eq!(target_codes(&r), ["ok"]);
    assert_eq!(r.body["results"][0]["registration"]["status"], "ACTIVE");
    assert_eq!(
        r.body["results"][0]["registration"]["newlyRegistered"],
        true
    );
}

#[tokio::test]
async fn another_users_certificate_is_theirs_and_their_groups() {
    let w = jwt_world();
    let mine = creds("alice-1");
    let id = registered_id(
        &w.register_as(
            &alice(),
            &[(&mine, None)],
            &["a-tokyo"],
            json!({"ownerGroup": "line-7"}),
        )
        .await,
    );
    let before = snapshot(&w);
    expect(
        &status(&w, &bob(), &id, "INACTIVE").await,
        403,
        Some("certificate_not_managed"),
    );
    expect(
        &delete(&w, &bob(), &id).await,
        403,
        Some("certificate_not_managed"),
    );
    expect(
        &transfer(&w, &bob(), &id, "copy").await,
        403,
        Some("certificate_not_managed"),
    );
    let r = w
        .register_as(
            &bob(),
            &[(&mine, None)],
            &["a-tokyo"],
            json!({"activate": false}),
        )
        .await;
    assert_eq!(target_codes(&r), ["certificate_not_managed"]);
    assert_eq!(snapshot(&w), before);

    // Bob's look-up shows no names; Carol (same group) sees them and may act.
    let r = w
        .send_as(&bob(), "GET", &format!("/v1/certificates/{id}"), None)
        .await;
    assert_eq!(r.body["targets"][0]["managed"], false);
    assert!(r.body["targets"][0].get("things").is_none());
    let r = w
        .send_as(&carol(), "GET", &format!("/v1/certificates/{id}"), None)
        .await;
    assert_eq!(r.body["targets"][0]["managed"], true);
    assert_eq!(r.body["targets"][0]["things"], json!(["alice-1"]));
    expect(&status(&w, &carol(), &id, "INACTIVE").await, 200, None);
    // REVOKED is for admins; an admin may act on anyone's.
    expect(
        &status(&w, &alice(), &id, "REVOKED").await,
        403,
        Some("admin_only"),
    );
    expect(&status(&w, &admin(), &id, "REVOKED").await, 200, None);
    assert!(snapshot(&w).contains("Revoked"));

    // Naming a group one is not in is refused.
    let r = w
        .register_as(
            &bob(),
            &[(&creds("bob-1"), None)],
            &["a-tokyo"],
            json!({"ownerGroup": "line-7"}),
        )
        .await;
    expect(&r, 403, Some("forbidden_group"));
}

#[tokio::test]
async fn things_are_not_taken_over() {
    let w = jwt_world();
    seed_foreign(&w, "fleet-3", "pump-17").await;
    let before = snapshot(&w);
    // A thing that exists outside Marshal.
    let r = w
        .register_as(
            &alice(),
            &[(&creds("a"), Some("pump-17"))],
            &["a-tokyo"],
            json!({}),
        )
        .await;
    assert_eq!(target_codes(&r), ["thing_in_use"]);
    assert_eq!(snapshot(&w), before, "no certificate left behind");

    // Alice's thing: Bob may not attach to it, nor may Alice add a second certificate.
    registered_id(
        &w.register_as(
            &alice(),
            &[(&creds("b"), Some("pump-18"))],
            &["a-tokyo"],
            json!({}),
        )
        .await,
    );
    let before = snapshot(&w);
    let r = w
        .register_as(
            &bob(),
            &[(&creds("c"), Some("pump-18"))],
            &["a-tokyo"],
            json!({}),
        )
        .await;
    assert_eq!(target_codes(&r), ["thing_in_use"]);
    let r = w
        .register_as(
            &alice(),
            &[(&creds("d"), Some("pump-18"))],
            &["a-tokyo"],
            json!({}),
        )
        .await;
    assert_eq!(target_codes(&r), ["thing_in_use"]);
    assert_eq!(snapshot(&w), before);
}

#[tokio::test]
async fn registering_again_never_changes_the_status() {
    let w = jwt_world();
    let mine = creds("quarantined");
    let id = registered_id(
        &w.register_as(&alice(), &[(&mine, None)], &["a-tokyo"], json!({}))
            .await,
    );
    expect(&status(&w, &alice(), &id, "INACTIVE").await, 200, None);
    let r = w
        .register_as(&alice(), &[(&mine, None)], &["a-tokyo"], json!({}))
        .await;
    expect(&r, 200, None);
    assert_eq!(r.body["results"][0]["registration"]["status"], "INACTIVE");
    assert_eq!(
        r.body["results"][0]["registration"]["newlyRegistered"],
        false
    );
    assert!(snapshot(&w).contains("Inactive"));

    // Deleted outside Marshal, then registered again: a new registration,
    // which gets the status asked for.
    let registry = w.provider.registry(&tokyo(), "seed").await.unwrap();
    let arn = format!("arn:aws:iot:ap-northeast-1:111111111111:cert/{id}");
    registry.detach_policy("MarshalDevice", &arn).await.unwrap();
    registry.detach_thing("quarantined", &arn).await.unwrap();
    registry.delete_certificate(&id).await.unwrap();
    let r = w
        .register_as(&alice(), &[(&mine, None)], &["a-tokyo"], json!({}))
        .await;
    expect(&r, 200, None);
    assert_eq!(r.body["results"][0]["registration"]["status"], "ACTIVE");
    assert_eq!(
        r.body["results"][0]["registration"]["newlyRegistered"],
        true
    );
}

#[tokio::test]
async fn adopt_is_for_admins_and_delete_detaches_only_what_is_marshals() {
    let w = jwt_world();
    let id = seed_foreign(&w, "fleet-4", "line-9").await;
    let adopt = |who: Who, group: Option<&str>| {
        let body = match group {
            Some(g) => json!({"targets": ["a-tokyo"], "ownerGroup": g}),
            None => json!({"targets": ["a-tokyo"]}),
        };
        let w = &w;
        let id = id.clone();
        async move {
            w.send_as(
                &who,
                "POST",
                &format!("/v1/certificates/{id}/adopt"),
                Some(&body),
            )
            .await
        }
    };
    expect(
        &adopt(alice(), Some("line-7")).await,
        403,
        Some("admin_only"),
    );
    let r = adopt(admin(), Some("line-7")).await;
    expect(&r, 200, None);
    assert_eq!(
        r.body["results"][0]["detail"],
        "adopted with thing(s) line-9"
    );
    // Now line-7 manages it: a member may deactivate it.
    expect(&status(&w, &carol(), &id, "INACTIVE").await, 200, None);
    // Its fleet policy is not Marshal's: delete refuses and changes nothing.
    let before = snapshot(&w);
    let r = delete(&w, &carol(), &id).await;
    expect(&r, 207, None);
    assert_eq!(r.body["results"][0]["error"]["code"], "foreign_attachment");
    assert_eq!(snapshot(&w), before);
}

#[tokio::test]
async fn delete_of_own_certificate_detaches_then_deletes() {
    let w = jwt_world();
    let id = registered_id(
        &w.register_as(&alice(), &[(&creds("gone"), None)], &["a-tokyo"], json!({}))
            .await,
    );
    let r = delete(&w, &alice(), &id).await;
    expect(&r, 200, None);
    let after = snapshot(&w);
    assert!(!after.contains("cert "), "{after}");
    assert!(
        !after.contains(&format!("cert#111111111111#ap-northeast-1#{id}")),
        "{after}"
    );
    assert!(
        after.contains("thing gone"),
        "the thing stays, still Alice's:\n{after}"
    );
    assert!(
        after.contains("thing#111111111111#ap-northeast-1#gone owner=alice-sub"),
        "{after}"
    );
}

#[tokio::test]
async fn concurrent_registrations_end_as_both_said() {
    let w = Arc::new(jwt_world());
    let same = creds("twice");
    // The first request holds the certificate while it activates it.
    w.provider
        .delay("update_status", Duration::from_millis(300));
    let (alice, pair) = (alice(), [(&same, None)]);
    let (first, second) = tokio::join!(
        w.register_as(&alice, &pair, &["a-tokyo"], json!({})),
        async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            w.register_as(&alice, &pair, &["a-tokyo"], json!({})).await
        }
    );
    expect(&first, 200, None);
    assert_eq!(target_codes(&second), ["certificate_busy"]);
    let after = snapshot(&w);
    assert!(
        after.contains("Active\n  policy MarshalDevice\n  thing twice"),
        "the first answer's state must hold:\n{after}"
    );
    assert!(
        !after.contains("leased=true"),
        "every lease handed back:\n{after}"
    );
}

/// Two identical first registrations at once make their records side by
/// side: whichever way they interleave, one of them gets both records and
/// finishes, the other is told it is busy, and nothing stays leased.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn identical_first_registrations_at_once_end_with_one_done() {
    let w = Arc::new(jwt_world());
    w.ownership.set_jitter(Duration::from_millis(3));
    for round in 0..25 {
        let same = creds(&format!("race-{round}"));
        let (alice, pair) = (alice(), [(&same, None)]);
        let (first, second) = tokio::join!(
            w.register_as(&alice, &pair, &["a-tokyo"], json!({})),
            w.register_as(&alice, &pair, &["a-tokyo"], json!({})),
        );
        let mut codes = [target_codes(&first), target_codes(&second)].concat();
        codes.sort();
        assert!(
            codes == ["certificate_busy", "ok"] || codes == ["ok", "ok"],
            "round {round}: {codes:?}\n{}\n{}",
            first.body,
            second.body
        );
        let after = snapshot(&w);
        assert!(
            !after.contains("leased=true"),
            "round {round}: every lease handed back:\n{after}"
        );
        assert!(
            after.contains(&format!(
                "Active\n  policy MarshalDevice\n  thing race-{round}"
            )),
            "round {round}:\n{after}"
        );
    }
}

#[tokio::test]
async fn pairs_that_cannot_finish_in_time_are_not_started() {
    let config = CONFIG
        .replace("auth = \"none\"", "auth = \"jwt\"")
        .replace(
            "maxCertificatesPerRequest = 5",
            "maxCertificatesPerRequest = 5\nconcurrency = 1\nawsCallTimeoutMs = 20\nrequestDeadlineMs = 200",
        );
    let w = world_with(&config);
    w.provider
        .delay("register_without_ca", Duration::from_millis(250));
    let certs: Vec<_> = ["late-1", "late-2", "late-3"]
        .map(creds)
        .into_iter()
        .collect();
    let pairs: Vec<_> = certs.iter().map(|c| (c, None)).collect();
    let r = w
        .register_as(&alice(), &pairs, &["a-tokyo"], json!({}))
        .await;
    expect(&r, 207, None);
    assert_eq!(target_codes(&r), ["ok", "not_attempted", "not_attempted"]);
    let results: &Vec<Value> = r.body["results"].as_array().unwrap();
    assert!(
        results[1]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("send it again")
    );
}

#[tokio::test]
async fn an_unreachable_ownership_store_changes_nothing() {
    let w = jwt_world();
    let before = snapshot(&w);
    w.ownership.set_unavailable(true);
    let r = w
        .register_as(
            &alice(),
            &[(&creds("offline"), None)],
            &["a-tokyo"],
            json!({}),
        )
        .await;
    assert_eq!(target_codes(&r), ["ownership_unavailable"]);
    w.ownership.set_unavailable(false);
    assert_eq!(snapshot(&w), before);
}

#[tokio::test]
async fn an_adopted_thing_takes_its_owners_new_certificate() {
    let w = jwt_world();
    let old = seed_foreign(&w, "fleet-5", "pump-20").await;
    // The fleet's thing, once its old certificate is gone, is still not Alice's.
    let registry = w.provider.registry(&tokyo(), "seed").await.unwrap();
    let arn = format!("arn:aws:iot:ap-northeast-1:111111111111:cert/{old}");
    registry.detach_thing("pump-20", &arn).await.unwrap();
    let new = creds("pump-20");
    let r = w
        .register_as(&alice(), &[(&new, None)], &["a-tokyo"], json!({}))
        .await;
    assert_eq!(target_codes(&r), ["thing_in_use"]);

    let adopt = |who: Who| {
        let w = &w;
        async move {
            w.send_as(
                &who,
                "POST",
                "/v1/things/pump-20/adopt",
                Some(&json!({"targets": ["a-tokyo"], "ownerGroup": "line-7"})),
            )
            .await
        }
    };
    expect(&adopt(alice()).await, 403, Some("admin_only"));
    let r = adopt(admin()).await;
    expect(&r, 200, None);
    assert_eq!(r.body["results"][0]["detail"], "adopted");
    assert_eq!(
        adopt(admin()).await.body["results"][0]["detail"],
        "already managed by Marshal"
    );
    let r = w
        .send_as(
            &admin(),
            "POST",
            "/v1/things/no-such-thing/adopt",
            Some(&json!({"targets": ["a-tokyo"]})),
        )
        .await;
    assert_eq!(r.body["results"][0]["error"]["code"], "not_registered");

    // Alice (line-7) may now put her new certificate on it.
    let r = w
        .register_as(&alice(), &[(&new, None)], &["a-tokyo"], json!({}))
        .await;
    expect(&r, 200, None);
}

#[tokio::test]
async fn config_tells_the_page_the_callers_groups_and_where_they_administer() {
    let w = jwt_world();
    let r = w.send_as(&admin(), "GET", "/v1/config", None).await;
    expect(&r, 200, None);
    assert_eq!(r.body["groups"], json!(["admins"]));
    let admin_of: Vec<&str> = r.body["targets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["admin"] == true)
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(admin_of, ["a-tokyo"]);
    let r = w.send_as(&alice(), "GET", "/v1/config", None).await;
    assert_eq!(r.body["groups"], json!(["line-7"]));
    assert!(
        r.body["targets"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["admin"] == false)
    );
}
