//! In-process tests of the router (`tower::ServiceExt::oneshot`) over the
//! in-memory registry: every route, every error code, idempotency, partial
//! failure with rollback, and the API Gateway identity path.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;

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
            403,
            "forbidden_target",
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
async fn an_owner_group_that_is_no_group_name_is_refused_even_without_auth() {
    let w = world();
    let before = w.provider.snapshot("111111111111", "ap-northeast-1");
    for group in ["", "line\u{7}7", &"g".repeat(129)] {
        let body = json!({
            "certificates": [{"certificatePem": creds("grouped").certificate.to_pem()}],
            "targets": ["a-tokyo"],
            "policy": "MarshalDevice",
            "ownerGroup": group,
        });
        let r = w.post("/v1/registrations", &body).await;
        expect(&r, 400, Some("invalid_request"));
        assert!(
            r.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("ownerGroup"),
            "{}",
            r.body
        );
    }
    assert_eq!(
        w.provider.snapshot("111111111111", "ap-northeast-1"),
        before,
        "nothing registered"
    );
}

#[tokio::test]
async fn a_policy_is_looked_up_once_and_again_after_it_disappears() {
    let w = world();
    let policy_lookups = |w: &World| {
        w.provider
            .calls()
            .iter()
            .filter(|c| c.ends_with(":policy_exists"))
            .count()
    };
    let first = w
        .register(&[&creds("memo-1")], &["a-tokyo"], "MarshalTemplated")
        .await;
    expect(&first, 200, None);
    let looked = policy_lookups(&w);
    let second = w
        .register(&[&creds("memo-2")], &["a-tokyo"], "MarshalTemplated")
        .await;
    expect(&second, 200, None);
    assert_eq!(policy_lookups(&w), looked, "a warm target asks AWS once");

    // Deleted outside Marshal: the next registration is refused and leaves
    // nothing behind, and the one after creates it again from its template.
    w.provider
        .delete_policy("111111111111", "ap-northeast-1", "MarshalTemplated");
    let before = w.provider.snapshot("111111111111", "ap-northeast-1");
    let gone = w
        .register(&[&creds("memo-3")], &["a-tokyo"], "MarshalTemplated")
        .await;
    expect(&gone, 207, None);
    let error = &gone.body["results"][0]["error"];
    assert_eq!(error["code"], "policy_missing", "{}", gone.body);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("send the request again"),
        "{error}"
    );
    assert_eq!(
        w.provider.snapshot("111111111111", "ap-northeast-1"),
        before,
        "a refused registration leaves nothing behind"
    );
    let again = w
        .register(&[&creds("memo-3")], &["a-tokyo"], "MarshalTemplated")
        .await;
    expect(&again, 200, None);
    assert!(
        w.provider
            .snapshot("111111111111", "ap-northeast-1")
            .contains("policy MarshalTemplated"),
        "recreated from its template"
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

/// Issue 14: Schemathesis found the document allowing what the server
/// refuses (`?targets=` empty, status `OTHER`). The request side now states
/// the server's rules, with the configuration's limits, and every operation
/// lists its statuses instead of a catch-all `default`.
#[tokio::test]
async fn openapi_states_what_the_server_refuses() {
    let w = world();
    let doc = w.get("/v1/openapi.json").await.body;
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["UpdateStatusRequest"]["properties"]["status"]["enum"],
        json!(["ACTIVE", "INACTIVE", "REVOKED"])
    );
    let targets = &schemas["UpdateStatusRequest"]["properties"]["targets"];
    assert_eq!(targets["minItems"], 1);
    assert_eq!(
        targets["maxItems"], 3,
        "maxTargetsPerRequest of the configuration"
    );
    let pattern =
        doc["paths"]["/v1/certificates/{id}"]["delete"]["parameters"][1]["schema"]["pattern"]
            .as_str()
            .unwrap();
    // Spelled `\uXXXX`, which ECMA-262, Python and regex-lite all read.
    let pattern = regex_lite::Regex::new(pattern).unwrap();
    for refused in ["", ",", " , \t", "\u{3000}"] {
        assert!(!pattern.is_match(refused), "{refused:?} must not match");
    }
    assert!(pattern.is_match(" a-tokyo,"));
    for (method, path) in marshal_lambda::openapi::OPERATIONS {
        let responses = doc["paths"][path][method]["responses"].as_object().unwrap();
        assert!(!responses.contains_key("default"), "{method} {path}");
        for (status, response) in responses {
            // 414 is the HTTP server's own refusal of a request line too long
            // to read: it never reaches the API, so it has no ErrorBody.
            if status == "414" {
                assert!(response.get("content").is_none(), "{method} {path} 414");
                continue;
            }
            if status.starts_with('4') || status.starts_with('5') {
                assert_eq!(
                    response["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{method} {path} {status}"
                );
            }
        }
    }
    let body = &doc["paths"]["/v1/registrations"]["post"]["responses"];
    for status in ["400", "401", "403", "413", "415", "422"] {
        assert!(body[status].is_object(), "POST /v1/registrations {status}");
    }
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

// ---------------------------------------------------------------------------
// Edges: who may reach the API and what it tells them (security review
// 2026-12: M1, M2, L4, L10, I8, I9, I10).

/// A GET with these headers (no body).
fn get_with(path: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut request = Request::get(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.body(Body::empty()).unwrap()
}

/// M1: with `auth = "none"` a page on another site whose name resolves to
/// 127.0.0.1 (DNS rebinding) sends its own name as `Host`; the API must
/// answer only requests addressed to a loopback name.
#[tokio::test]
async fn auth_none_checks_host() {
    let w = world();
    for host in [
        "127.0.0.1:8080",
        "localhost:8080",
        "LOCALHOST:8080",
        "[::1]:8080",
        "127.0.0.1",
    ] {
        let r = w.send(get_with("/v1/config", &[("host", host)])).await;
        expect(&r, 200, None);
    }
    for host in [
        "evil.example",
        "rebind.attacker.example:8080",
        "127.0.0.1.nip.io:8080",
        "localhost.evil.example:8080",
        "127.0.0.1:8080@evil.example",
        "[::ffff:127.0.0.1]:8080",
        "127.0.0.1:http",
        "",
    ] {
        let r = w.send(get_with("/v1/config", &[("host", host)])).await;
        expect(&r, 403, Some("host_not_allowed"));
        assert!(
            !r.body.to_string().contains("targets"),
            "Host {host:?} got an answer: {:#}",
            r.body
        );
    }
    // A URI in absolute form names the host too (RFC 9112 §3.2.2).
    let r = w
        .send(get_with(
            "http://evil.example:8080/v1/config",
            &[("host", "127.0.0.1:8080")],
        ))
        .await;
    expect(&r, 403, Some("host_not_allowed"));
    // Refused before anything else happens: no AWS call for a POST either.
    let c = creds("rebound");
    let r = w
        .send(
            Request::post("/v1/registrations")
                .header("host", "evil.example")
                .header("content-type", "application/json")
                .body(Body::from(
                    json!({"certificates": [{"certificatePem": c.certificate.to_pem()}], "targets": ["a-tokyo"], "policy": "MarshalDevice"}).to_string(),
                ))
                .unwrap(),
        )
        .await;
    expect(&r, 403, Some("host_not_allowed"));
    assert!(w.provider.calls().is_empty(), "{:?}", w.provider.calls());
}

/// M1: a browser names the page's origin; only loopback `http` origins may
/// call a server without authentication, and a proxy in front is refused.
#[tokio::test]
async fn auth_none_checks_origin_and_proxies() {
    let w = world();
    let local = ("host", "127.0.0.1:8080");
    for origin in [
        "http://127.0.0.1:8080",
        "http://localhost:3000",
        "http://[::1]:8080",
    ] {
        let r = w
            .send(get_with("/v1/config", &[local, ("origin", origin)]))
            .await;
        expect(&r, 200, None);
    }
    for origin in [
        "http://evil.example",
        "http://evil.example:8080",
        "https://evil.example",
        "null",
        "http://127.0.0.1:8080/path",
        "file://",
        "http://localhost.evil.example:8080",
    ] {
        let r = w
            .send(get_with("/v1/config", &[local, ("origin", origin)]))
            .await;
        expect(&r, 403, Some("host_not_allowed"));
    }
    for header in ["x-forwarded-for", "x-forwarded-host", "forwarded"] {
        let r = w
            .send(get_with("/v1/config", &[local, (header, "203.0.113.10")]))
            .await;
        expect(&r, 403, Some("host_not_allowed"));
    }
}

/// The claims of the API Gateway event in `events/`, with `cognito:groups`
/// set to `groups` (the string API Gateway passes).
fn event_with_groups(groups: &str) -> String {
    let event = include_str!("events/apigw-v2-jwt.json");
    let quoted = serde_json::to_string(groups).unwrap();
    let replaced = event.replace("\"[factory operators]\"", &quoted);
    assert_ne!(replaced, event, "the event fixture changed");
    replaced
}

/// M2: a group whose name contains a space is one group, not two.
#[tokio::test]
async fn groups_with_spaces_are_not_split_into_other_groups() {
    let config = CONFIG.replace("auth = \"none\"", "auth = \"jwt\"").replace(
        "allowedGroups = [\"factory\"]",
        "allowedGroups = [\"Admins\"]",
    );
    let w = world_with(&config);
    for (groups, sees) in [
        ("[\"Factory Admins\"]", false),
        ("[\"Factory Admins\",\"ops\"]", false),
        ("[\"Admins\",\"ops\"]", true),
        ("[ops Admins]", true),
        ("[ops,Admins]", false),
        ("ops,Admins", false),
        ("Admins", true),
        ("[\"Admins\"", false),
    ] {
        let r = w.send(from_api_gateway(&event_with_groups(groups))).await;
        expect(&r, 200, None);
        assert_eq!(
            target_ids(&r).contains(&"b-virginia".to_owned()),
            sees,
            "groups claim {groups:?}: {:#}",
            r.body
        );
    }
}

/// M2: a group name the claim parser could never give back is refused at
/// start, naming the field.
#[test]
fn config_refuses_group_names_the_claims_cannot_carry() {
    for bad in [
        "Factory Admins",
        "ops,prod",
        "\"quoted\"",
        "[admins]",
        "tab\tgroup",
        "",
    ] {
        let toml_value = serde_json::to_string(bad).unwrap();
        let config = CONFIG.replace(
            "allowedGroups = [\"factory\"]",
            &format!("allowedGroups = [\"factory\", {toml_value}]"),
        );
        let err = Config::parse(&config, Format::Toml)
            .map(|_| ())
            .expect_err(bad)
            .to_string();
        assert!(
            err.contains("targets[3].allowedGroups[1]"),
            "{bad:?}: the error names no field: {err}"
        );
    }
}

/// I10: `thingNamePattern` is wrapped as `^(?:…)$`; a pattern that closes
/// that group itself would escape the anchors and match anything.
#[test]
fn thing_name_pattern_cannot_escape_its_anchors() {
    for bad in ["a)|(?:.*", "a)|(.*", ")(", "a\\"] {
        let config = CONFIG.replace(
            "thingNamePattern = \"[a-zA-Z0-9_-]{1,64}\"",
            &format!("thingNamePattern = {}", serde_json::to_string(bad).unwrap()),
        );
        match Config::parse(&config, Format::Toml) {
            Err(e) => assert!(e.to_string().contains("thingNamePattern"), "{e}"),
            Ok(config) => {
                let regex = config.thing_name_regex().unwrap();
                assert!(
                    !regex.is_match("zzz"),
                    "{bad:?} was accepted and matches \"zzz\""
                );
            }
        }
    }
    let config = CONFIG.replace(
        "thingNamePattern = \"[a-zA-Z0-9_-]{1,64}\"",
        "thingNamePattern = \"a|ab\"",
    );
    let regex = Config::parse(&config, Format::Toml)
        .unwrap()
        .thing_name_regex()
        .unwrap();
    assert!(regex.is_match("ab") && regex.is_match("a") && !regex.is_match("abc"));
}

/// I8: an unknown target and a forbidden one get the same answer, so target
/// IDs cannot be discovered by trying them.
#[tokio::test]
async fn unknown_and_forbidden_targets_look_the_same() {
    let config = CONFIG.replace("auth = \"none\"", "auth = \"jwt\"");
    let w = world_with(&config);
    let outsider = event_with_groups("[operators]");
    let id = "ab".repeat(32);
    let mut replies = Vec::new();
    for target in ["b-virginia", "no-such-target"] {
        let mut request = from_api_gateway(&outsider);
        *request.method_mut() = axum::http::Method::DELETE;
        *request.uri_mut() = format!("/v1/certificates/{id}?targets={target}")
            .parse()
            .unwrap();
        let r = w.send(request).await;
        expect(&r, 403, Some("forbidden_target"));
        let message = r.body["error"]["message"].as_str().unwrap().to_owned();
        replies.push(message.replace(target, "<id>"));
    }
    assert_eq!(replies[0], replies[1], "the wording tells them apart");
    assert!(w.provider.calls().is_empty(), "{:?}", w.provider.calls());
}

/// L4: a refused role must not show callers the role ARN or the words AWS
/// used (which name the hub's role too).
#[tokio::test]
async fn a_refused_role_does_not_echo_aws_words() {
    let w = world();
    w.provider.refuse_role("a-virginia");
    let c = creds("sensor-l4");
    let r = w
        .register(&[&c], &["a-virginia", "b-tokyo"], "MarshalDevice")
        .await;
    expect(&r, 207, None);
    let failed = &r.body["results"][0]["error"];
    assert_eq!(failed["code"], "assume_role_failed", "{:#}", r.body);
    let message = failed["message"].as_str().unwrap();
    assert!(
        message.contains("a-virginia") && message.contains("could not be assumed"),
        "{message}"
    );
    // The other target's success names its certificate's ARN, rightly.
    let text = failed.to_string();
    for leak in ["arn:", "sts:AssumeRole", "not authorized"] {
        assert!(!text.contains(leak), "the error contains {leak:?}: {text}");
    }

    // Transfer reports a refused source in its own message.
    let id = c.certificate.id();
    let r = w
        .post(
            &format!("/v1/certificates/{id}/transfer"),
            &json!({"from": "a-virginia", "to": ["b-tokyo"], "policy": "MarshalDevice", "mode": "copy"}),
        )
        .await;
    assert!(r.status.is_client_error(), "{:#}", r.body);
    let text = r.body.to_string();
    for leak in ["arn:", "sts:AssumeRole", "not authorized"] {
        assert!(!text.contains(leak), "the reply contains {leak:?}: {text}");
    }
}

/// A fake STS on loopback that refuses every AssumeRole as AWS words it
/// (naming the hub's session and the role's ARN), keeping the request bodies.
struct RefusingSts {
    endpoint: String,
    bodies: Arc<std::sync::Mutex<Vec<String>>>,
}

async fn refusing_sts() -> RefusingSts {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let bodies = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = Arc::clone(&bodies);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let seen = Arc::clone(&seen);
            tokio::spawn(async move {
                let mut bytes = Vec::new();
                let mut chunk = [0u8; 4096];
                let body = loop {
                    let n = stream.read(&mut chunk).await.unwrap();
                    if n == 0 {
                        return;
                    }
                    bytes.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&bytes).into_owned();
                    let Some(end) = text.find("\r\n\r\n") else {
                        continue;
                    };
                    let length: usize = text[..end]
                        .lines()
                        .find_map(|l| {
                            let (name, value) = l.split_once(':')?;
                            name.eq_ignore_ascii_case("content-length")
                                .then(|| value.trim().parse().ok())?
                        })
                        .unwrap_or(0);
                    if bytes.len() >= end + 4 + length {
                        break percent_decode(&text[end + 4..end + 4 + length]);
                    }
                };
                let role = body
                    .split('&')
                    .find_map(|kv| kv.strip_prefix("RoleArn="))
                    .unwrap_or("?")
                    .to_owned();
                seen.lock().unwrap().push(body);
                let xml = format!(
                    "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error>\
                     <Type>Sender</Type><Code>AccessDenied</Code><Message>User: \
                     arn:aws:sts::999999999999:assumed-role/MarshalHub/marshal-api is not \
                     authorized to perform: sts:AssumeRole on resource: {role}</Message>\
                     </Error><RequestId>4b8b4a30-0000-4000-8000-000000000000</RequestId>\
                     </ErrorResponse>"
                );
                let reply = format!(
                    "HTTP/1.1 403 Forbidden\r\ncontent-type: text/xml\r\ncontent-length: {}\r\n\
                     connection: close\r\n\r\n{xml}",
                    xml.len()
                );
                let _ = stream.write_all(reply.as_bytes()).await;
            });
        }
    });
    RefusingSts { endpoint, bodies }
}

/// `%XX` and `+` of a form body, decoded.
fn percent_decode(form: &str) -> String {
    let bytes = form.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

/// L4 and L10 through the real AWS provider: AssumeRole carries the caller's
/// `sub` as SourceIdentity and a session name that hashes it, and AWS's
/// refusal (which names role ARNs) reaches the caller only as our sentence.
#[tokio::test]
async fn assume_role_names_the_caller_by_sub_and_leaks_no_arn() {
    use aws_config::{BehaviorVersion, Region};

    let sts = refusing_sts().await;
    let base = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(&sts.endpoint)
        .credentials_provider(aws_sdk_iot::config::Credentials::new(
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            None,
            None,
            "test",
        ))
        .load()
        .await;
    let provider =
        marshal_lambda::aws::AwsRegistryProvider::new(base, std::time::Duration::from_secs(5));
    let config = CONFIG.replace("auth = \"none\"", "auth = \"jwt\"");
    let config = Config::parse(&config, Format::Toml).unwrap();
    let app = marshal_lambda::router(marshal_lambda::service::Service::new(
        Arc::new(config),
        Arc::new(provider),
        Arc::new(marshal_lambda::testing::InMemoryOwnership::new()),
        Arc::new(marshal_lambda::testing::InMemoryLedger::new()),
    ));

    let mut request = from_api_gateway(include_str!("events/apigw-v2-jwt.json"));
    *request.uri_mut() = format!("/v1/certificates/{}", "ab".repeat(32))
        .parse()
        .unwrap();
    let response = tower::ServiceExt::oneshot(app, request).await.unwrap();
    let status = response.status();
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    assert_eq!(status, axum::http::StatusCode::OK, "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    for target in body["targets"].as_array().unwrap() {
        assert_eq!(target["error"]["code"], "assume_role_failed", "{text}");
    }
    for leak in ["arn:", "sts:AssumeRole", "not authorized", "MarshalHub"] {
        assert!(!text.contains(leak), "the reply contains {leak:?}: {text}");
    }

    let sub = "6b1f0f2a-1111-2222-3333-444455556666";
    let hash = &hex::encode(marshal_shared::sha256(sub.as_bytes()))[..16];
    let bodies = sts.bodies.lock().unwrap().clone();
    assert!(!bodies.is_empty(), "STS was never called");
    for body in &bodies {
        let fields: Vec<&str> = body.split('&').collect();
        assert!(
            fields.contains(&format!("SourceIdentity={sub}").as_str()),
            "no SourceIdentity in {body}"
        );
        assert!(
            fields.contains(&format!("RoleSessionName=marshal-{hash}-jane").as_str()),
            "unexpected RoleSessionName in {body}"
        );
    }
}

#[test]
fn the_deployment_environment_names_the_table_and_the_deadline() {
    let config = Config::parse(CONFIG, Format::Toml).unwrap();
    assert_eq!(config.ownership_table, "marshal-ownership");
    let env = |table: &'static str, deadline: &'static str| {
        move |name: &str| match name {
            "MARSHAL_OWNERSHIP_TABLE" => Some(table.to_owned()),
            "MARSHAL_REQUEST_DEADLINE_MS" => Some(deadline.to_owned()),
            _ => None,
        }
    };
    let set = config
        .clone()
        .with_env_overrides(env("marshal-prod-OwnershipTable-1X2Y", "27000"))
        .unwrap();
    assert_eq!(set.ownership_table, "marshal-prod-OwnershipTable-1X2Y");
    assert_eq!(set.limits.request_deadline_ms, 27_000);
    for (deadline, why) in [
        ("soon", "not a number"),
        ("29000", "at most 28000"),
        ("1000", "does not fit"),
    ] {
        let err = config
            .clone()
            .with_env_overrides(env("t-1", deadline))
            .unwrap_err()
            .to_string();
        assert!(err.contains(why), "{deadline}: {err}");
    }
}

#[tokio::test]
async fn certificate_pem_holds_certificates_and_nothing_else() {
    let w = world();
    let c = creds("strict-pem");
    let pem = c.certificate.to_pem();
    let der = c.private_key.pkcs8_der();
    let hex_key: String = der.iter().map(|b| format!("{b:02x}")).collect();
    for (what, text, code) in [
        (
            "hex of the key after the block",
            format!("{pem}{hex_key}\n"),
            "key_material_refused",
        ),
        (
            "a note after the block",
            format!("{pem}device 7, line B\n"),
            "certificate_invalid",
        ),
        (
            "another block label",
            pem.replace("CERTIFICATE", "X509 CERTIFICATE"),
            "certificate_invalid",
        ),
    ] {
        let r = w
            .post(
                "/v1/registrations",
                &json!({"certificates": [{"certificatePem": text}], "targets": ["a-tokyo"], "policy": "MarshalDevice"}),
            )
            .await;
        assert_eq!(r.body["error"]["code"], code, "{what}: {:#}", r.body);
        assert_eq!(r.status.as_u16(), 422, "{what}");
    }
    // CRLF and surrounding whitespace are fine.
    let crlf = format!("\r\n{}\r\n", pem.replace('\n', "\r\n"));
    let r = w
        .post(
            "/v1/registrations",
            &json!({"certificates": [{"certificatePem": crlf}], "targets": ["a-tokyo"], "policy": "MarshalDevice"}),
        )
        .await;
    expect(&r, 200, None);
}
