//! The page's sign-in end to end against a real OpenID provider: the built
//! page (`MARSHAL_PAGE_DIR`) with a `config.json` naming
//! `dev/oidc/provider.mjs` (npm oidc-provider, keys made at its start),
//! served by the built `marshal-lambda --static-dir` with `auth = "jwt"`,
//! which checks every token through the provider's discovery document and
//! JWKS. Driven in Debian's Chromium by `tests/e2e/signin_oidc.cjs`: alice
//! signs in at the provider's form (a wrong password first), sees her
//! group's target only and registers into it; signing out ends the
//! provider's session; bob signs in and sees his group's target only.
//!
//! Screenshots and `result.json` stay in `<target>/tmp/page-signin-oidc/`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use marshal_tests::api::{Api, free_port};
use marshal_tests::moto::Moto;
use marshal_tests::moto_state::{self, Target};
use marshal_tests::oidc::{self, OidcProvider, ProviderOptions, USERS};
use marshal_tests::page::{self, PageTest};
use serde_json::{Value, json};

const CLIENT_ID: &str = "marshal-page";
const POLICY: &str = "MarshalDevice";
const THING: &str = "oidc-sensor-01";

fn config_toml(issuer: &str) -> String {
    let mut toml =
        format!("auth = \"jwt\"\n\n[jwt]\nissuer = \"{issuer}\"\naudiences = [\"{CLIENT_ID}\"]\n");
    for (target, group) in oidc::group_targets() {
        toml.push_str(&target.config_entry(&format!("Target {}", target.id)));
        toml.push_str(&format!("allowedGroups = [\"{group}\"]\n"));
    }
    toml.push_str(&format!("\n[[policies]]\nname = \"{POLICY}\"\n"));
    toml
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

#[test]
fn the_page_signs_in_at_a_real_provider_and_the_api_checks_its_tokens() {
    let setup = PageTest::prepare(Path::new(env!("CARGO_TARGET_TMPDIR")).join("page-signin-oidc"));
    let api_port = free_port();
    let api_url = format!("http://127.0.0.1:{api_port}");
    let page_url = format!("{api_url}/");
    let provider = OidcProvider::start(&ProviderOptions {
        client_id: CLIENT_ID.into(),
        redirect_uris: vec![page_url.clone()],
        post_logout_uris: vec![format!("{api_url}/signed-out.html")],
        test_clients: false,
    });
    let page_dir = tempfile::tempdir().unwrap();
    page::deployed_copy(
        &setup.built,
        page_dir.path(),
        &api_url,
        &provider.issuer(),
        CLIENT_ID,
    );

    let moto = Moto::start();
    let all: Vec<Target> = oidc::group_targets().into_iter().map(|(t, _)| t).collect();
    moto_state::seed_with_device_policy(&moto.endpoint(), &all, POLICY);
    let api = Api::start_serving_on(
        api_port,
        &config_toml(&provider.issuer()),
        &moto.endpoint(),
        Some(page_dir.path()),
    );
    let [(alice, alice_pw, _), (bob, bob_pw, _)] = USERS;
    let result = setup
        .script("signin_oidc.cjs", &page_url)
        .env(
            "MARSHAL_USERS",
            json!([[alice, alice_pw], [bob, bob_pw]]).to_string(),
        )
        .env("MARSHAL_TARGET", "a-tokyo")
        .env("MARSHAL_THING", THING)
        .run();
    let explain = || {
        page::explain(
            &result,
            &[("OpenID provider output", provider.output())],
            &api,
        )
    };
    setup.print_screenshots("page sign-in (real provider)", &result);

    assert!(
        text(&result["prompt"]).starts_with("Sign in to load your targets"),
        "{}",
        explain()
    );
    let sign_ins = result["signIns"].as_array().cloned().unwrap_or_default();
    assert_eq!(sign_ins.len(), 2, "{}", explain());
    // The provider's own form, at its own origin; a wrong password stays there.
    for s in &sign_ins {
        assert!(
            text(&s["providerUrl"]).starts_with(&format!("{}/interaction/", provider.issuer())),
            "{}",
            explain()
        );
        assert_eq!(s["closedItself"], true, "{}", explain());
    }
    assert_eq!(
        text(&sign_ins[0]["wrongPassword"]),
        "Unknown user or wrong password.",
        "{}",
        explain()
    );
    // The name the page shows comes from the id token; the targets from
    // GET /v1/config, which the API answered for the verified groups.
    assert_eq!(
        sign_ins[0]["signedInName"],
        "alice@factory-a.example",
        "{}",
        explain()
    );
    assert_eq!(sign_ins[0]["configStatus"], 200, "{}", explain());
    assert_eq!(
        sign_ins[0]["apiTargets"],
        json!(["a-tokyo"]),
        "{}",
        explain()
    );
    assert_eq!(sign_ins[0]["targets"], json!(["a-tokyo"]), "{}", explain());
    assert_eq!(
        sign_ins[1]["signedInName"],
        "bob@factory-b.example",
        "{}",
        explain()
    );
    assert_eq!(
        sign_ins[1]["targets"],
        json!(["b-virginia"]),
        "{}",
        explain()
    );

    assert_eq!(
        result["rows"],
        json!([{ "target": "a-tokyo", "status": "ACTIVE" }]),
        "{}",
        explain()
    );
    assert_eq!(result["signOutPopupClosedItself"], true, "{}", explain());
    assert!(
        text(&result["afterSignOut"]).starts_with("Sign in to load your targets"),
        "{}",
        explain()
    );
    assert_eq!(
        result["targetsAfterSignOut"],
        json!([]),
        "the first user's targets went with the sign-out\n{}",
        explain()
    );
    assert_eq!(
        (
            &result["keyDownloadsAfterSignOut"],
            &result["resultRowsAfterSignOut"]
        ),
        (&json!(1), &json!(0)),
        "the first user's results went with the sign-out, the credentials stayed\n{}",
        explain()
    );

    // Every API call after signing in carried a bearer token and was
    // answered as accepted (no 401 anywhere), and none went before.
    let requests = result["requests"].as_array().cloned().unwrap_or_default();
    let mut api_calls = 0;
    for (i, request) in requests.iter().enumerate() {
        let url = text(&request["url"]);
        if url.starts_with(&provider.issuer()) {
            assert!(
                request["authorization"].is_null(),
                "a bearer token went to the provider"
            );
            continue;
        }
        if !url.starts_with(&format!("{api_url}/v1/")) {
            continue;
        }
        api_calls += 1;
        let first = result["marks"]["firstSignIn"].as_u64().unwrap() as usize;
        assert!(
            i >= first,
            "an API call before signing in: {url}\n{}",
            explain()
        );
        assert!(
            text(&request["authorization"]).starts_with("Bearer ey"),
            "an API call without a token: {url}\n{}",
            explain()
        );
    }
    assert!(api_calls >= 3, "{}", explain());
    let answers = result["apiAnswers"].as_array().cloned().unwrap_or_default();
    assert!(
        answers
            .iter()
            .all(|a| a["status"].as_u64().is_some_and(|s| s < 400)),
        "the API refused a call of the page: {answers:?}\n{}",
        explain()
    );

    // boto3's view: registered in alice's target only.
    let id = text(&result["certificateId"]);
    let aws = moto_state::inspect(&moto.endpoint(), &all, &[id]);
    assert_eq!(
        aws.certificate("a-tokyo", id).map(|c| c.status),
        Some("ACTIVE".to_owned()),
        "{aws}"
    );
    assert!(aws.certificate("b-virginia", id).is_none(), "{aws}");

    // Nothing kept in the browser by the page.
    assert_eq!(
        result["storage"],
        json!({"localStorage": 0, "sessionStorage": 0, "indexedDB": [], "cookies": ""}),
        "{}",
        explain()
    );
    assert_eq!(result["pages"], 1, "a popup stayed open\n{}", explain());
    assert_eq!(result["consoleErrors"], json!([]), "{}", explain());
}
