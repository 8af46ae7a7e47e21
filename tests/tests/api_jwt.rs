//! The local server checking bearer tokens as API Gateway's JWT authorizer
//! does, against a real OpenID provider (`dev/oidc/provider.mjs`, npm
//! oidc-provider): the built API with `auth = "jwt"` on moto, tokens of two
//! test users in different groups got through the provider's authorization
//! code + PKCE flow over HTTP and signed with its own keys (RS256 and
//! ES256), verified through its discovery document and JWKS.
//!
//! Shows: forged, re-signed, unsigned, HS256, unknown-key, expired,
//! wrong-audience and wrong-issuer tokens get 401 with our error body and
//! `WWW-Authenticate: Bearer error="invalid_token"`, the reason in words and
//! never the token; each user sees and may touch only the targets of their
//! group.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::Duration;

use marshal_tests::api::{Api, Exchange};
use marshal_tests::http::Request;
use marshal_tests::moto::Moto;
use marshal_tests::moto_state::{self, Target};
use marshal_tests::oidc::{self, OidcProvider, ProviderOptions, USERS};
use marshal_tests::{Cmd, api::free_port};
use serde_json::{Value, json};

const POLICY: &str = "MarshalDevice";
const PAGE_CLIENT: &str = "marshal-page";
/// Never visited: the test reads the code off the redirect.
const REDIRECT: &str = "http://127.0.0.1:9/callback";

/// The API's configuration: each target allowed to one group, tokens of
/// `issuer` (keys from `jwks_url` when given, else discovery), no skew so
/// a 2-second token expires in 2 seconds.
fn config(issuer: &str, jwks_url: Option<&str>) -> String {
    let mut toml = String::from("auth = \"jwt\"\n");
    for (target, group) in oidc::group_targets() {
        toml.push_str(&target.config_entry(&target.id));
        toml.push_str(&format!("allowedGroups = [\"{group}\"]\n"));
    }
    toml.push_str(&format!("\n[[policies]]\nname = \"{POLICY}\"\n"));
    toml.push_str(&format!(
        "\n[jwt]\nissuer = \"{issuer}\"\naudiences = [\"{PAGE_CLIENT}\", \"marshal-cli\", \"short-lived\"]\nclockSkewSeconds = 0\n"
    ));
    if let Some(url) = jwks_url {
        toml.push_str(&format!("jwksUrl = \"{url}\"\n"));
    }
    toml
}

fn get(api: &Api, path: &str, token: &str) -> Exchange {
    api.send(Request::new("GET", path).bearer(token))
}

fn post(api: &Api, path: &str, token: &str, body: &Value) -> Exchange {
    api.send(
        Request::new("POST", path)
            .bearer(token)
            .body("application/json", body.to_string()),
    )
}

/// A refusal of `token`: 401, `unauthorized`, the challenge, `words` in the
/// message, and nothing of the token in the answer.
#[track_caller]
fn refused(exchange: &Exchange, token: &str, words: &str) {
    let error = exchange.expect_error(401, "unauthorized");
    let message = error["message"].as_str().unwrap_or_default();
    if !message.contains(words) {
        exchange.fail(format_args!("the message should say {words:?}"));
    }
    let response = &exchange.response;
    if response.header("www-authenticate") != Some("Bearer error=\"invalid_token\"") {
        exchange.fail("no WWW-Authenticate: Bearer error=\"invalid_token\"");
    }
    let text = response.body_text();
    for part in token.split('.').filter(|p| p.len() > 8) {
        if text.contains(part) {
            exchange.fail("the answer repeats part of the token");
        }
    }
}

fn visible_targets(exchange: &Exchange) -> Vec<String> {
    exchange.expect_status(200)["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}

/// `marshal keygen` in `dir`: (PEM, certificate ID).
fn device(dir: &Path, cn: &str) -> (String, String) {
    Cmd::marshal()
        .args(["keygen", "--cn", cn, "--out"])
        .arg(dir)
        .run()
        .assert_success();
    let cert = dir.join(format!("{cn}.cert.pem"));
    let fingerprint = Cmd::marshal().arg("fingerprint").arg(&cert).run();
    fingerprint.assert_success();
    (
        std::fs::read_to_string(&cert).unwrap(),
        fingerprint.stdout_text().trim().to_owned(),
    )
}

#[test]
fn tokens_are_checked_like_api_gateway_and_groups_pick_the_targets() {
    let moto = Moto::start();
    let all: Vec<Target> = oidc::group_targets().into_iter().map(|(t, _)| t).collect();
    moto_state::seed_with_device_policy(&moto.endpoint(), &all, POLICY);
    let provider = OidcProvider::start(&ProviderOptions {
        client_id: PAGE_CLIENT.into(),
        redirect_uris: vec![REDIRECT.into()],
        post_logout_uris: Vec::new(),
        test_clients: true,
    });
    let api = Api::start(&config(&provider.issuer(), None), &moto.endpoint());

    let [(alice, alice_pw, _), (bob, bob_pw, _)] = USERS;
    // alice through the page's client (RS256), bob through the CLI's (ES256).
    let alice_token = provider
        .sign_in(PAGE_CLIENT, REDIRECT, alice, alice_pw)
        .id_token;
    let bob_token = provider
        .sign_in("marshal-cli", REDIRECT, bob, bob_pw)
        .id_token;
    assert_eq!(oidc::token_part(&alice_token, 0)["alg"], "RS256");
    assert_eq!(oidc::token_part(&bob_token, 0)["alg"], "ES256");

    // Each user sees the targets of their group only.
    assert_eq!(
        visible_targets(&get(&api, "/v1/config", &alice_token)),
        ["a-tokyo"]
    );
    assert_eq!(
        visible_targets(&get(&api, "/v1/config", &bob_token)),
        ["b-virginia"]
    );

    // No token: 401 with a bare Bearer challenge (RFC 6750: no error code
    // when nothing was presented).
    let none = api.get("/v1/config");
    none.expect_error(401, "unauthorized");
    assert_eq!(none.response.header("www-authenticate"), Some("Bearer"));
    let basic =
        api.send(Request::new("GET", "/v1/config").header("Authorization", "Basic YWxpY2U6eA=="));
    refused(&basic, "", "Bearer");

    // Forgeries of alice's token.
    let header = oidc::token_part(&alice_token, 0);
    let payload = oidc::token_part(&alice_token, 1);
    let parts: Vec<&str> = alice_token.split('.').collect();
    let mut flipped = parts[2].as_bytes().to_vec();
    flipped[5] = if flipped[5] == b'A' { b'B' } else { b'A' };
    let bad_signature = format!(
        "{}.{}.{}",
        parts[0],
        parts[1],
        String::from_utf8(flipped).unwrap()
    );
    let mut raised = payload.clone();
    raised["groups"] = json!(["factory-a", "factory-b"]);
    let raised = format!(
        "{}.{}.{}",
        parts[0],
        oidc::assemble(&json!({}), &raised, b"")
            .split('.')
            .nth(1)
            .unwrap(),
        parts[2]
    );
    let es256_kid = provider.jwks()["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["alg"] == "ES256")
        .map(|k| k["kid"].clone())
        .expect("the provider publishes an ES256 key");
    let other_key = oidc::forge_es256(&json!({"alg": "ES256", "kid": es256_kid}), &payload);
    let unknown_key = oidc::forge_es256(&json!({"alg": "ES256", "kid": "made-up"}), &payload);
    let unsigned = oidc::assemble(&json!({"alg": "none", "kid": header["kid"]}), &payload, b"");
    let hs256 = oidc::assemble(
        &json!({"alg": "HS256", "kid": header["kid"]}),
        &payload,
        &[7; 32],
    );
    for (what, token, words) in [
        ("signature changed", bad_signature.as_str(), "bad signature"),
        ("groups raised", raised.as_str(), "bad signature"),
        ("signed by another key", other_key.as_str(), "bad signature"),
        (
            "a kid the provider never had",
            unknown_key.as_str(),
            "unknown key",
        ),
        ("alg none", unsigned.as_str(), "not signed"),
        ("HS256", hs256.as_str(), "algorithm is not accepted"),
        ("not a JWT", "not-a-jwt", "not a well-formed JWT"),
    ] {
        eprintln!("refusing: {what}");
        refused(&get(&api, "/v1/config", token), token, words);
    }

    // Signed by the provider, and still not for this API.
    let other_app = provider
        .sign_in("other-app", REDIRECT, alice, alice_pw)
        .id_token;
    refused(
        &get(&api, "/v1/config", &other_app),
        &other_app,
        "wrong audience",
    );
    let short = provider
        .sign_in("short-lived", REDIRECT, alice, alice_pw)
        .id_token;
    let claims = oidc::token_part(&short, 1);
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        2
    );
    std::thread::sleep(Duration::from_secs(3));
    refused(&get(&api, "/v1/config", &short), &short, "expired");

    // The same provider under another name is another issuer: its keys
    // (configured jwksUrl) verify the signature, `iss` does not match.
    let localhost = provider.issuer().replace("127.0.0.1", "localhost");
    let jwks_url = format!("{}/.well-known/jwks.json", provider.issuer());
    let strict = Api::start_serving_on(
        free_port(),
        &config(&localhost, Some(&jwks_url)),
        &moto.endpoint(),
        None,
    );
    refused(
        &get(&strict, "/v1/config", &alice_token),
        &alice_token,
        "wrong issuer",
    );

    // Registering: alice into her target; bob can neither use it nor see
    // or touch what alice put there.
    let dir = tempfile::tempdir().unwrap();
    let (pem, id) = device(dir.path(), "jwt-sensor-01");
    let register = |token: &str, target: &str| {
        post(
            &api,
            "/v1/registrations",
            token,
            &json!({"certificates": [{"certificatePem": pem}], "targets": [target], "policy": POLICY}),
        )
    };
    register(&bob_token, "a-tokyo").expect_error(403, "forbidden_target");
    let done = register(&alice_token, "a-tokyo");
    assert_eq!(
        done.expect_status(200)["results"][0]["registration"]["status"],
        "ACTIVE",
        "{}",
        done.response
    );
    let seen_by_bob = get(&api, &format!("/v1/certificates/{id}"), &bob_token);
    let text = seen_by_bob.response.body_text();
    if text.contains("a-tokyo") {
        seen_by_bob.fail("bob sees a target of factory-a");
    }
    post(
        &api,
        &format!("/v1/certificates/{id}/status"),
        &bob_token,
        &json!({"status": "INACTIVE", "targets": ["a-tokyo"]}),
    )
    .expect_error(403, "forbidden_target");
    api.send(
        Request::new("DELETE", &format!("/v1/certificates/{id}?targets=a-tokyo"))
            .bearer(&bob_token),
    )
    .expect_error(403, "forbidden_target");
    let seen_by_alice = get(&api, &format!("/v1/certificates/{id}"), &alice_token);
    assert!(
        seen_by_alice.response.body_text().contains("a-tokyo"),
        "{}",
        seen_by_alice.response
    );
    let aws = moto_state::inspect(&moto.endpoint(), &all, &[&id]);
    assert_eq!(
        aws.certificate("a-tokyo", &id).map(|c| c.status),
        Some("ACTIVE".to_owned()),
        "{aws}"
    );
    assert!(aws.certificate("b-virginia", &id).is_none(), "{aws}");

    // Nothing the API logged holds a token.
    for token in [&alice_token, &bob_token, &other_app, &short] {
        let signature = token.rsplit('.').next().unwrap();
        assert!(
            !api.log().contains(signature),
            "a token reached the API's log"
        );
    }
}
