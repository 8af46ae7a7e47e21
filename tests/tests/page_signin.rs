//! Sign-in end to end: the built page (`MARSHAL_PAGE_DIR`) with a
//! `config.json` that points it at the API and at a fake OIDC provider
//! (`tests/e2e/fake_oidc.py`, which checks PKCE itself), served by the
//! built `marshal-lambda --static-dir` against moto and driven in Debian's
//! Chromium by `tests/e2e/signin.cjs`: a blocked popup, then sign in through
//! the popup, generate, register, let the token expire, sign in again, sign
//! out.
//!
//! The API runs with `auth = "none"`, so it checks no token: this test
//! checks that the page *sends* the provider's id token on every API call
//! after signing in, and sends nothing to the API before, while expired or
//! after signing out. The provider's log, the browser's requests and
//! boto3's view of moto are compared with what the page showed. The same
//! sign-in against a real provider, with the API checking the tokens, is
//! `page_signin_oidc.rs`; this one keeps what only a scripted provider can
//! show (a forged answer, expiry on a moved clock, PKCE checked by the
//! provider's own log).
//!
//! Screenshots and the script's `result.json` stay in
//! `<target>/tmp/page-signin/` (paths printed), to be looked at.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use marshal_tests::api::{Api, free_port};
use marshal_tests::moto::Moto;
use marshal_tests::moto_state::{self, Target};
use marshal_tests::page::{self, PageTest};
use marshal_tests::{python, workspace_dir};
use serde_json::{Value, json};

const CLIENT_ID: &str = "marshal-page-test";
const EMAIL: &str = "operator@factory.example";
const POLICY: &str = "MarshalDevice";
const THING: &str = "signin-sensor-01";
/// The first id token's lifetime: the script moves the page's clock past
/// it. The second one outlives the test.
const FIRST_TOKEN_SECONDS: u64 = 600;
const REGISTER_INTO: &str = "b-virginia";

fn targets() -> Vec<Target> {
    [
        ("a-tokyo", "111111111111", "ap-northeast-1"),
        ("b-virginia", "222222222222", "us-east-1"),
    ]
    .iter()
    .map(|(id, account, region)| Target::new(id, account, region, "MarshalTarget", "marshal-test"))
    .collect()
}

fn config_toml() -> String {
    let mut toml = String::from("auth = \"none\"\n");
    for t in targets() {
        toml.push_str(&t.config_entry(&format!("Target {}", t.id)));
    }
    toml.push_str(&format!("\n[[policies]]\nname = \"{POLICY}\"\n"));
    toml
}

/// `tests/e2e/fake_oidc.py` on a loopback port; killed when dropped.
struct FakeOidc {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl FakeOidc {
    fn start(port: u16, page_url: &str, page_origin: &str, log: PathBuf) -> FakeOidc {
        let script = workspace_dir().join("tests/e2e/fake_oidc.py");
        let lifetimes = format!("{FIRST_TOKEN_SECONDS},86400");
        let child = Command::new(python())
            .arg(&script)
            .args(["--port", &port.to_string(), "--client-id", CLIENT_ID])
            .args(["--redirect-uri", page_url, "--page-origin", page_origin])
            .arg("--logout-uri")
            .arg(format!("{page_origin}/signed-out.html"))
            .args(["--email", EMAIL, "--lifetimes", &lifetimes])
            .arg("--log")
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", script.display()));
        let mut fake = FakeOidc { child, port, log };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = fake.child.try_wait() {
                panic!("{} exited ({status}) before listening", script.display());
            }
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "{} did not listen on {port}",
                script.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        fake
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What it logged: one JSON object per request.
    fn events(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|_| json!({ "raw": line })))
            .collect()
    }
}

impl Drop for FakeOidc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

#[test]
fn sign_in_through_a_popup_then_every_api_call_carries_the_id_token() {
    let setup = PageTest::prepare(Path::new(env!("CARGO_TARGET_TMPDIR")).join("page-signin"));
    let artifacts = &setup.artifacts;

    let (api_port, idp_port) = (free_port(), free_port());
    let api_url = format!("http://127.0.0.1:{api_port}");
    let page_url = format!("{api_url}/");
    let fake = FakeOidc::start(
        idp_port,
        &page_url,
        &api_url,
        artifacts.join("fake-oidc.log"),
    );
    let page_dir = tempfile::tempdir().unwrap();
    page::deployed_copy(
        &setup.built,
        page_dir.path(),
        &api_url,
        &fake.url(),
        CLIENT_ID,
    );

    let moto = Moto::start();
    let all = targets();
    moto_state::seed_with_device_policy(&moto.endpoint(), &all, POLICY);
    let api = Api::start_serving_on(
        api_port,
        &config_toml(),
        &moto.endpoint(),
        Some(page_dir.path()),
    );
    let result = setup
        .script("signin.cjs", &page_url)
        .env("MARSHAL_TARGET", REGISTER_INTO)
        .env("MARSHAL_THING", THING)
        .env(
            "MARSHAL_FIRST_TOKEN_SECONDS",
            FIRST_TOKEN_SECONDS.to_string(),
        )
        .run();
    let events = fake.events();
    let explain = || {
        let log = events.iter().map(Value::to_string).collect::<Vec<_>>();
        page::explain(&result, &[("fake OIDC provider log", log.join("\n"))], &api)
    };
    setup.print_screenshots("page sign-in", &result);

    // The local server allowed the provider because config.json names it.
    let csp = text(&result["pageHeaders"]["content-security-policy"]);
    assert!(
        csp.contains(&format!("connect-src 'self' {api_url} {}", fake.url())),
        "CSP: {csp}\n{}",
        explain()
    );

    // Before signing in: asked to, and told why the targets are missing.
    assert!(
        text(&result["prompt"]).starts_with("Sign in to load your targets"),
        "{}",
        explain()
    );
    assert!(
        text(&result["targetsBeforeSignIn"]).starts_with("Sign in first"),
        "{}",
        explain()
    );

    assert!(
        text(&result["popupBlocked"]).starts_with("The browser blocked the sign-in window"),
        "{}",
        explain()
    );

    // The provider: two sign-ins (none for the blocked popup), each with an S256 challenge the token
    // request's verifier matched, asked from the page's origin; the forged
    // answer's code never reached it.
    let of =
        |event: &str| -> Vec<&Value> { events.iter().filter(|e| e["event"] == event).collect() };
    assert!(
        events.iter().all(|e| e["ok"] != false),
        "the provider refused something\n{}",
        explain()
    );
    // Three authorize requests: the first sign-in (no provider session yet),
    // the second (the provider still had one), and one after signing out,
    // which must find it ended.
    let authorizations = of("authorize");
    assert_eq!(authorizations.len(), 3, "{}", explain());
    let sessions: Vec<&Value> = authorizations.iter().map(|a| &a["session"]).collect();
    assert_eq!(sessions, [false, true, false], "{}", explain());
    let logouts = of("logout");
    assert_eq!(logouts.len(), 1, "{}", explain());
    assert_eq!(
        (
            text(&logouts[0]["query"]["client_id"]),
            text(&logouts[0]["query"]["logout_uri"]),
            logouts[0]["hadSession"].as_bool()
        ),
        (
            CLIENT_ID,
            format!("{api_url}/signed-out.html").as_str(),
            Some(true)
        ),
        "{}",
        explain()
    );
    assert_eq!(
        result["signOutPopupClosedItself"],
        true,
        "the sign-out popup did not close itself\n{}",
        explain()
    );
    assert_eq!(result["signOutProblems"], 0, "{}", explain());
    for a in &authorizations {
        let q = &a["query"];
        assert_eq!(
            (
                text(&q["client_id"]),
                text(&q["redirect_uri"]),
                text(&q["scope"])
            ),
            (CLIENT_ID, page_url.as_str(), "openid email profile"),
            "{}",
            explain()
        );
        assert_eq!(q["code_challenge_method"], "S256");
    }
    assert_ne!(
        authorizations[0]["query"]["state"],
        authorizations[1]["query"]["state"]
    );
    assert_ne!(
        authorizations[0]["query"]["code_challenge"],
        authorizations[1]["query"]["code_challenge"]
    );
    let tokens: Vec<&str> = of("token")
        .iter()
        .map(|t| {
            assert_eq!(
                (t["pkce"].as_str(), t["origin"].as_str()),
                (Some("verified"), Some(api_url.as_str()))
            );
            text(&t["id_token"])
        })
        .collect();
    assert_eq!(tokens.len(), 2, "{}", explain());

    // The popups: each closed itself after handing the code over; a forged
    // answer (wrong state) was refused while the page kept waiting.
    let popups = result["popups"].as_array().cloned().unwrap_or_default();
    assert_eq!(popups.len(), 2, "{}", explain());
    for popup in &popups {
        assert_eq!(popup["closedItself"], true, "{}", explain());
        assert_eq!(popup["signedInName"], EMAIL, "{}", explain());
        assert_eq!(popup["problemsLeft"], 0, "{}", explain());
        assert!(
            text(&popup["waiting"]).starts_with("Finish signing in"),
            "{}",
            explain()
        );
        assert!(
            !text(&popup["providerUrl"]).contains("code_verifier"),
            "{}",
            explain()
        );
    }
    assert!(
        text(&popups[0]["forgedRefused"]).contains("did not ask for"),
        "{}",
        explain()
    );
    assert!(
        text(&popups[0]["stillWaiting"]).starts_with("Finish signing in"),
        "{}",
        explain()
    );

    // The requests: nothing to the API before sign-in, while expired or
    // after signing out; the first token until it expired, then the second.
    let requests = result["requests"].as_array().cloned().unwrap_or_default();
    let mark = |name: &str| {
        result["marks"][name]
            .as_u64()
            .unwrap_or_else(|| panic!("no mark {name}\n{}", explain())) as usize
    };
    let phases = [
        (0, mark("signInClicked"), None, "before signing in"),
        (
            mark("signInClicked"),
            mark("beforeExpiry"),
            Some(tokens[0]),
            "signed in",
        ),
        (
            mark("beforeExpiry"),
            mark("expired"),
            None,
            "with the session expired",
        ),
        (
            mark("expired"),
            mark("signedOut"),
            Some(tokens[1]),
            "signed in again",
        ),
        (mark("signedOut"), requests.len(), None, "after signing out"),
    ];
    let mut api_calls = Vec::new();
    for (i, request) in requests.iter().enumerate() {
        let url = text(&request["url"]);
        assert!(!text(&request["body"]).contains("PRIVATE KEY"), "{request}");
        if url.starts_with(&fake.url()) {
            assert!(
                request["authorization"].is_null(),
                "a bearer token went to the provider: {request}"
            );
            continue;
        }
        if !url.starts_with(&format!("{api_url}/v1/")) {
            continue;
        }
        let (_, _, token, phase) = phases
            .iter()
            .find(|(from, to, _, _)| (*from..*to).contains(&i))
            .unwrap();
        let Some(token) = token else {
            panic!("an API call {phase}: {request}\n{}", explain());
        };
        assert_eq!(
            text(&request["authorization"]),
            format!("Bearer {token}"),
            "{phase}: {request}\n{}",
            explain()
        );
        api_calls.push(format!(
            "{} {}",
            text(&request["method"]),
            &url[api_url.len()..]
        ));
    }
    let id = text(&result["certificateId"]).to_owned();
    for call in [
        "GET /v1/config",
        "POST /v1/registrations",
        &format!("GET /v1/certificates/{id}"),
    ] {
        assert!(
            api_calls.iter().any(|c| c == call),
            "no {call} in {api_calls:?}\n{}",
            explain()
        );
    }
    let token_requests: Vec<&Value> = requests
        .iter()
        .filter(|r| {
            text(&r["url"]) == format!("{}/oauth2/token", fake.url()) && r["method"] == "POST"
        })
        .collect();
    assert_eq!(token_requests.len(), 2, "{}", explain());
    for r in token_requests {
        let body = text(&r["body"]);
        assert!(
            body.starts_with("grant_type=authorization_code&client_id="),
            "{body}"
        );
        assert!(body.contains("&code_verifier="), "{body}");
    }

    // What the page showed, and kept: the credentials outlive the session.
    assert_eq!(
        result["rows"],
        json!([{ "target": REGISTER_INTO, "status": "ACTIVE" }]),
        "{}",
        explain()
    );
    assert!(
        text(&result["expired"]).starts_with("Your session has expired"),
        "{}",
        explain()
    );
    assert!(
        text(&result["lookUpWhileExpired"]).starts_with("Your session has expired"),
        "{}",
        explain()
    );
    assert_eq!(result["lookedUpStatus"], "ACTIVE", "{}", explain());
    assert!(
        text(&result["afterSignOut"]).starts_with("Sign in to load your targets"),
        "{}",
        explain()
    );
    assert!(
        text(&result["lookUpSignedOut"]).starts_with("Sign in first"),
        "{}",
        explain()
    );
    for kept in ["certificateIdAfterExpiry", "certificateIdAfterSignOut"] {
        assert_eq!(text(&result[kept]), id, "{kept}\n{}", explain());
    }

    // boto3's view: registered where chosen, nowhere else.
    let aws = moto_state::inspect(&moto.endpoint(), &all, &[&id]);
    for target in &all {
        let cert = aws.certificate(&target.id, &id);
        if target.id == REGISTER_INTO {
            assert_eq!(cert.map(|c| c.status), Some("ACTIVE".to_owned()), "{aws}");
        } else {
            assert!(cert.is_none(), "{id} should not be in {}\n{aws}", target.id);
        }
    }

    // Accessibility with the bar signed out and expired: nothing serious.
    for (state, violations) in result["axe"].as_object().into_iter().flatten() {
        let serious = page::serious_violations(violations);
        assert!(serious.is_empty(), "axe-core, {state}: {serious:#?}");
    }
    assert_eq!(
        result["axe"].as_object().map(|o| o.len()),
        Some(2),
        "{}",
        explain()
    );

    // Nothing kept in the browser: the token lived in the page's memory.
    assert_eq!(
        result["storage"],
        json!({"localStorage": 0, "sessionStorage": 0, "indexedDB": [], "cookies": ""}),
        "{}",
        explain()
    );
    assert_eq!(result["pages"], 1, "a popup stayed open\n{}", explain());
    assert_eq!(
        result["consoleErrors"],
        json!([]),
        "the page logged errors\n{}",
        explain()
    );
}
