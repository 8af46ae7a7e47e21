//! In-process tests of the router (`tower::ServiceExt::oneshot`) over the
//! in-memory registry: every route, every error code, idempotency, partial
//! failure with rollback, and the API Gateway identity path.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::{body::Body, http::Request};
use marshal_lambda::config::{Config, Format};
use serde_json::{Value, json};
use support::*;

#[tokio::test]
async fn health_and_config() {
    let w = world();
    let r = w.get("/v1/health").await;
    expect(&r, 200, None);
    assert_eq!(r.body["status"], "ok");
    let r = w.get("/v1/config").await;
    expect(&r, 200, None);
    let ids: Vec<&str> = r.body["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["a-tokyo", "a-virginia", "b-tokyo", "b-virginia"]);
    let text = r.body.to_string();
    assert!(
        !text.contains("roleArn")
            && !text.contains("arn:aws:iam")
            && !text.contains("externalId")
            && !text.contains("marshal-test")
    );
    assert_eq!(r.body["limits"]["maxTargetsPerRequest"], 3);
}

#[tokio::test]
async fn register_into_targets_then_again_is_idempotent() {
    let w = world();
    let c = creds("sensor-01");
    let r = w
        .register(&[&c], &["a-tokyo", "b-tokyo"], "MarshalDevice")
        .await;
    expect(&r, 200, None);
    let results = r.body["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    for result in results {
        assert_eq!(result["certificateId"], c.certificate.id());
        let reg = &result["registration"];
        assert_eq!(reg["status"], "ACTIVE");
        assert_eq!(reg["thing"], "sensor-01");
        assert_eq!(reg["policy"], "MarshalDevice");
        assert!(
            reg["endpoint"]
                .as_str()
                .unwrap()
                .ends_with(".amazonaws.com")
        );
        assert_eq!(reg["newlyRegistered"], true);
    }
    let before = w.provider.snapshot("111111111111", "ap-northeast-1");
    assert!(
        before.contains("Active")
            && before.contains("policy MarshalDevice")
            && before.contains("thing sensor-01"),
        "{before}"
    );

    let again = w
        .register(&[&c], &["a-tokyo", "b-tokyo"], "MarshalDevice")
        .await;
    expect(&again, 200, None);
    assert_eq!(
        again.body["results"][0]["registration"]["newlyRegistered"],
        false
    );
    assert_eq!(
        w.provider.snapshot("111111111111", "ap-northeast-1"),
        before,
        "second run changed state"
    );
    assert_eq!(
        w.provider.snapshot("111111111111", "us-east-1"),
        "policy MarshalDevice\n",
        "untouched target changed"
    );
}

#[tokio::test]
async fn inactive_on_request_and_template_policy_created_when_missing() {
    let w = world();
    let c = creds("sensor-02");
    let certificates =
        json!([{"certificatePem": c.certificate.to_pem(), "thingName": "custom-thing"}]);
    let r = w.post("/v1/registrations", &json!({"certificates": certificates, "targets": ["a-virginia"], "policy": "MarshalTemplated", "activate": false})).await;
    expect(&r, 200, None);
    assert_eq!(r.body["results"][0]["registration"]["status"], "INACTIVE");
    let snap = w.provider.snapshot("111111111111", "us-east-1");
    assert!(
        snap.contains("policy MarshalTemplated")
            && snap.contains("thing custom-thing")
            && snap.contains("Inactive"),
        "{snap}"
    );
}

#[tokio::test]
async fn key_material_is_refused_before_anything_happens() {
    let w = world();
    let c = creds("leaky");
    let key_pem = c.private_key.to_pkcs8_pem().to_string();
    let bodies = [
        json!({"certificates": [{"certificatePem": format!("{}{}", c.certificate.to_pem(), key_pem)}], "targets": ["a-tokyo"], "policy": "MarshalDevice"}),
        json!({"certificates": [{"certificatePem": c.certificate.to_pem()}], "targets": ["a-tokyo"], "policy": "MarshalDevice", "note": key_pem.replace("-----", "")}),
        json!({"certificates": [{"certificatePem": marshal_shared::pem::encode("CERTIFICATE", c.private_key.pkcs8_der())}], "targets": ["a-tokyo"], "policy": "MarshalDevice"}),
    ];
    for body in bodies {
        let r = w.post("/v1/registrations", &body).await;
        expect(&r, 422, Some("key_material_refused"));
        assert!(
            !r.body.to_string().contains("PRIVATE KEY"),
            "the reply echoes key material"
        );
    }
    assert!(
        w.provider.calls().is_empty(),
        "AWS was called: {:?}",
        w.provider.calls()
    );
}

#[tokio::test]
async fn preflight_and_request_errors() {
    let w = world();
    let expired = include_str!("../../shared/tests/examples/expired.cert.pem");
    let weak = include_str!("../../shared/tests/examples/rsa1024.cert.pem");
    let good = creds("good");
    let pem = |p: &str| json!({"certificatePem": p});
    let cases: Vec<(Value, u16, &str)> = vec![
        (
            json!({"certificates": [pem(expired)], "targets": ["a-tokyo"], "policy": "MarshalDevice"}),
            422,
            "preflight_failed",
        ),
        (
            json!({"certificates": [pem(weak)], "targets": ["a-tokyo"], "policy": "MarshalDevice"}),
            422,
            "preflight_failed",
        ),
        (
            json!({"certificates": [pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")], "targets": ["a-tokyo"], "policy": "MarshalDevice"}),
            422,
            "certificate_invalid",
        ),
        (
            json!({"certificates": [pem(&good.certificate.to_pem()), pem(&good.certificate.to_pem())], "targets": ["a-tokyo"], "policy": "MarshalDevice"}),
            422,
            "preflight_failed",
        ),
        (
            json!({"certificates": [pem(&good.certificate.to_pem())], "targets": ["a-tokyo"], "policy": "AdminEverything"}),
            403,
            "policy_not_allowed",
        ),
        (
            json!({"certificates": [pem(&good.certificate.to_pem())], "targets": ["nowhere"], "policy": "MarshalDevice"}),
            400,
            "unknown_target",
        ),
        (
            json!({"certificates": [pem(&good.certificate.to_pem())], "targets": [], "policy": "MarshalDevice"}),
            400,
            "invalid_request",
        ),
        (
            json!({"certificates": [pem(&good.certificate.to_pem())], "targets": ["a-tokyo", "a-virginia", "b-tokyo", "b-virginia"], "policy": "MarshalDevice"}),
            422,
            "too_many_targets",
        ),
        (
            json!({"certificates": [{"certificatePem": good.certificate.to_pem(), "thingName": "bad name!"}], "targets": ["a-tokyo"], "policy": "MarshalDevice"}),
            422,
            "invalid_thing_name",
        ),
        (
            json!({"certificates": [{"certificatePem": good.certificate.to_pem(), "thingName": "has:colon"}], "targets": ["a-tokyo"], "policy": "MarshalDevice"}),
            422,
            "invalid_thing_name",
        ),
        (
            json!({"certificates": [], "targets": ["a-tokyo"], "policy": "MarshalDevice"}),
            400,
            "invalid_request",
        ),
        (
            json!({"certificates": [pem(&good.certificate.to_pem())], "targets": ["a-tokyo"]}),
            400,
            "invalid_json",
        ),
        (
            json!({"certificates": [pem(&good.certificate.to_pem())], "targets": ["a-tokyo"], "policy": "MarshalDevice", "surprise": 1}),
            400,
            "invalid_json",
        ),
    ];
    for (body, status, code) in cases {
        let r = w.post("/v1/registrations", &body).await;
        expect(&r, status, Some(code));
    }
    let many: Vec<Value> = (0..6)
        .map(|i| pem(&creds(&format!("d{i}")).certificate.to_pem()))
        .collect();
    let r = w
        .post(
            "/v1/registrations",
            &json!({"certificates": many, "targets": ["a-tokyo"], "policy": "MarshalDevice"}),
        )
        .await;
    expect(&r, 422, Some("too_many_certificates"));
    let r = w.post("/v1/registrations", &json!({"certificates": [pem(expired)], "targets": ["a-tokyo"], "policy": "MarshalDevice"})).await;
    let finding = &r.body["error"]["findings"][0];
    assert_eq!(
        (finding["index"].as_u64(), finding["code"].as_str()),
        (Some(0), Some("expired")),
        "{:#}",
        r.body
    );
    assert!(
        w.provider.calls().is_empty(),
        "AWS was called: {:?}",
        w.provider.calls()
    );
}

#[tokio::test]
async fn transport_errors_have_our_body() {
    let w = world();
    let r = w
        .send(
            Request::post("/v1/registrations")
                .header("content-type", "text/plain")
                .body(Body::from("{}"))
                .unwrap(),
        )
        .await;
    expect(&r, 415, Some("unsupported_media_type"));
    let r = w
        .send(
            Request::post("/v1/registrations")
                .header("content-type", "application/json")
                .body(Body::from("{not json"))
                .unwrap(),
        )
        .await;
    expect(&r, 400, Some("invalid_json"));
    let big = "x".repeat(70_000);
    let r = w
        .send(
            Request::post("/v1/registrations")
                .header("content-type", "application/json")
                .body(Body::from(big))
                .unwrap(),
        )
        .await;
    expect(&r, 413, Some("body_too_large"));
    expect(&w.get("/v2/nothing").await, 404, Some("not_found"));
    expect(
        &w.send(Request::put("/v1/health").body(Body::empty()).unwrap())
            .await,
        405,
        Some("method_not_allowed"),
    );
    expect(
        &w.get("/v1/certificates/not-an-id").await,
        400,
        Some("invalid_certificate_id"),
    );
}

#[tokio::test]
async fn a_failing_target_is_reported_and_left_clean_while_others_complete() {
    let w = world();
    w.provider.fail("b-tokyo", "attach_thing");
    let c = creds("sensor-03");
    let r = w
        .register(&[&c], &["a-tokyo", "b-tokyo"], "MarshalDevice")
        .await;
    expect(&r, 207, None);
    assert_eq!(r.body["summary"], json!({"succeeded": 1, "failed": 1}));
    let failed = r.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["target"] == "b-tokyo")
        .unwrap();
    assert_eq!(failed["error"]["code"], "aws_unavailable");
    assert_eq!(
        w.provider.snapshot("222222222222", "ap-northeast-1"),
        "policy MarshalDevice\n",
        "rollback left something behind"
    );
    assert!(
        w.provider
            .snapshot("111111111111", "ap-northeast-1")
            .contains("Active")
    );
}

#[tokio::test]
async fn missing_policy_without_template_and_refused_role() {
    let w = world();
    let c = creds("sensor-04");
    let config_without = CONFIG.replace(
        "name = \"MarshalTemplated\"\ntemplate = { topicPrefix = \"devices\" }",
        "name = \"NotThere\"",
    );
    assert!(config_without.contains("NotThere") && !config_without.contains("template"));
    let w2 = world_with(&config_without);
    let r = w2.register(&[&c], &["a-tokyo"], "NotThere").await;
    expect(&r, 207, None);
    assert_eq!(r.body["results"][0]["error"]["code"], "policy_missing");
    assert_eq!(
        w2.provider.snapshot("111111111111", "ap-northeast-1"),
        "policy MarshalDevice\n"
    );

    w.provider.refuse_role("a-virginia");
    let r = w
        .register(&[&c], &["a-virginia", "b-tokyo"], "MarshalDevice")
        .await;
    expect(&r, 207, None);
    assert_eq!(r.body["results"][0]["error"]["code"], "assume_role_failed");
    assert!(r.body["results"][1]["registration"].is_object());
}

#[tokio::test]
async fn lookup_status_delete_and_reregister() {
    let w = world();
    let c = creds("sensor-05");
    let id = c.certificate.id();
    expect(
        &w.register(&[&c], &["a-tokyo", "b-tokyo"], "MarshalDevice")
            .await,
        200,
        None,
    );

    let r = w.get(&format!("/v1/certificates/{id}")).await;
    expect(&r, 200, None);
    let present: Vec<(String, bool)> = r.body["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["target"].as_str().unwrap().to_owned(),
                t["present"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        present,
        [
            ("a-tokyo".into(), true),
            ("a-virginia".into(), false),
            ("b-tokyo".into(), true),
            ("b-virginia".into(), false)
        ]
    );
    assert_eq!(r.body["targets"][0]["policies"], json!(["MarshalDevice"]));
    assert_eq!(r.body["targets"][0]["things"], json!(["sensor-05"]));

    let r = w
        .post(
            &format!("/v1/certificates/{id}/status"),
            &json!({"status": "INACTIVE", "targets": ["a-tokyo", "a-virginia"]}),
        )
        .await;
    expect(&r, 207, None);
    assert_eq!(r.body["results"][0]["status"], "INACTIVE");
    assert_eq!(r.body["results"][1]["error"]["code"], "not_registered");

    let r = w
        .post(
            &format!("/v1/certificates/{id}/status"),
            &json!({"status": "REVOKED", "targets": ["b-tokyo"]}),
        )
        .await;
    expect(&r, 200, None);
    let r = w
        .post(
            &format!("/v1/certificates/{id}/status"),
            &json!({"status": "ACTIVE", "targets": ["b-tokyo"]}),
        )
        .await;
    expect(&r, 207, None);
    assert_eq!(r.body["results"][0]["error"]["code"], "certificate_revoked");

    let r = w
        .delete(&format!(
            "/v1/certificates/{id}?targets=a-tokyo,b-tokyo,a-virginia"
        ))
        .await;
    expect(&r, 200, None);
    let details: Vec<&str> = r.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["detail"].as_str().unwrap())
        .collect();
    assert_eq!(details, ["deleted", "deleted", "was not registered"]);
    assert!(
        !w.provider
            .snapshot("111111111111", "ap-northeast-1")
            .contains("cert ")
    );
    let r = w
        .delete(&format!("/v1/certificates/{id}?targets=a-tokyo"))
        .await;
    expect(&r, 200, None);

    // The blog's step 3: the same certificate registered again after deletion.
    let r = w.register(&[&c], &["a-tokyo"], "MarshalDevice").await;
    expect(&r, 200, None);
    assert_eq!(
        r.body["results"][0]["registration"]["newlyRegistered"],
        true
    );
}

#[tokio::test]
async fn transfer_copy_and_move() {
    let w = world();
    let c = creds("sensor-06");
    let id = c.certificate.id();
    expect(
        &w.register(&[&c], &["a-tokyo"], "MarshalDevice").await,
        200,
        None,
    );
    let r = w.post(&format!("/v1/certificates/{id}/transfer"), &json!({"from": "a-tokyo", "to": ["b-tokyo"], "policy": "MarshalDevice", "mode": "copy"})).await;
    expect(&r, 200, None);
    assert_eq!(
        r.body["destinations"][0]["registration"]["status"],
        "ACTIVE"
    );
    assert!(r.body.get("source").is_none());
    let r = w.post(&format!("/v1/certificates/{id}/transfer"), &json!({"from": "a-tokyo", "to": ["a-virginia"], "policy": "MarshalDevice", "mode": "move_delete"})).await;
    expect(&r, 200, None);
    assert_eq!(r.body["source"]["detail"], "deleted");
    assert!(
        !w.provider
            .snapshot("111111111111", "ap-northeast-1")
            .contains("cert ")
    );
    assert!(
        w.provider
            .snapshot("111111111111", "us-east-1")
            .contains("Active")
    );

    // Make before break: a failing destination leaves the source alone.
    w.provider.fail("b-virginia", "attach_policy");
    let r = w.post(&format!("/v1/certificates/{id}/transfer"), &json!({"from": "a-virginia", "to": ["b-virginia"], "policy": "MarshalDevice", "mode": "move_delete"})).await;
    expect(&r, 207, None);
    assert!(r.body.get("source").is_none());
    assert!(
        w.provider
            .snapshot("111111111111", "us-east-1")
            .contains("Active")
    );

    let r = w.post(&format!("/v1/certificates/{id}/transfer"), &json!({"from": "a-tokyo", "to": ["b-tokyo"], "policy": "MarshalDevice", "mode": "copy"})).await;
    expect(&r, 404, Some("certificate_not_found"));
}

#[tokio::test]
async fn jwt_identity_from_api_gateway_and_groups() {
    let jwt_config = CONFIG.replace("auth = \"none\"", "auth = \"jwt\"");
    let w = world_with(&jwt_config);
    // No request context: 401.
    expect(&w.get("/v1/config").await, 401, Some("unauthorized"));

    let event = include_str!("events/apigw-v2-jwt.json");
    let r = w.send(from_api_gateway(event)).await;
    expect(&r, 200, None);
    assert_eq!(r.request_id, "Xyz1AbCdNjMEJ2g=");
    assert!(
        target_ids(&r).contains(&"b-virginia".to_owned()),
        "a factory member sees factory targets"
    );

    let outsider = event.replace("[factory operators]", "[operators]");
    let r = w.send(from_api_gateway(&outsider)).await;
    assert!(
        !target_ids(&r).contains(&"b-virginia".to_owned()),
        "a non-member must not see it"
    );
}

#[tokio::test]
async fn openapi_documents_every_route_and_code() {
    let w = world();
    let r = w.get("/v1/openapi.json").await;
    expect(&r, 200, None);
    for (method, path) in marshal_lambda::openapi::OPERATIONS {
        assert!(
            r.body["paths"][path][method].is_object(),
            "{method} {path} not documented"
        );
        let concrete = path.replace("{id}", &"ab".repeat(32));
        let request = Request::builder()
            .method(method.to_uppercase().as_str())
            .uri(concrete)
            .body(Body::empty())
            .unwrap();
        let reply = w.send(request).await;
        assert!(
            ![404, 405].contains(&reply.status.as_u16())
                || reply.body["error"]["code"] != "not_found"
                    && reply.body["error"]["code"] != "method_not_allowed",
            "{method} {path} is documented but not routed: {:#}",
            reply.body
        );
    }
    let documented = r.body["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(documented, marshal_shared::api::ErrorCode::ALL.len());
}

#[tokio::test]
async fn config_errors_name_the_field() {
    for (bad, field) in [
        (
            CONFIG.replace(
                "accountId = \"222222222222\"\nregion = \"us-east-1\"",
                "accountId = \"2222\"\nregion = \"us-east-1\"",
            ),
            "targets[3].accountId",
        ),
        (
            CONFIG.replace(
                "region = \"us-east-1\"\nroleArn = \"arn:aws:iam::111111111111",
                "region = \"Virginia\"\nroleArn = \"arn:aws:iam::111111111111",
            ),
            "targets[1].region",
        ),
        (
            CONFIG.replace("name = \"MarshalDevice\"", "name = \"bad name\""),
            "policies[0].name",
        ),
        (
            CONFIG.replace("maxTargetsPerRequest = 3", "maxTargetsPerRequest = 0"),
            "limits.maxTargetsPerRequest",
        ),
        (
            CONFIG.replace(
                "thingNamePattern = \"[a-zA-Z0-9_-]{1,64}\"",
                "thingNamePattern = \"[\"",
            ),
            "thingNamePattern",
        ),
        (
            CONFIG.replace("id = \"b-tokyo\"", "id = \"a-tokyo\""),
            "targets[2].id",
        ),
        (
            CONFIG.replace("[limits]", "[limits]\nmaxBodyByte = 1"),
            "maxBodyByte",
        ),
    ] {
        let err = Config::parse(&bad, Format::Toml).unwrap_err().to_string();
        assert!(err.contains(field), "expected {field} in: {err}");
    }
}
