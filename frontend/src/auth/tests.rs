//! Sign-in's pure parts, natively: PKCE against RFC 7636 and Python's
//! hashlib, the URLs and bodies sent, the answers read, the session.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::test_support::run;

const CLIENT: &str = "page-client";
const NOW: i64 = 1_764_374_400;

fn config() -> SignInConfig {
    SignInConfig {
        client_id: CLIENT.to_owned(),
        sign_in_url: "https://marshal-1.auth.ap-northeast-1.amazoncognito.com".to_owned(),
    }
}

fn attempt() -> SignInAttempt {
    SignInAttempt::new(
        &[7; 32],
        &[9; 32],
        "https://d111.cloudfront.net/".to_owned(),
    )
}

/// An unsigned JWT with `claims` as its payload.
fn jwt(claims: &serde_json::Value) -> String {
    format!(
        "{}.{}.{}",
        base64url(br#"{"alg":"RS256","kid":"test"}"#),
        base64url(claims.to_string().as_bytes()),
        base64url(b"not-a-signature")
    )
}

fn token(exp: i64) -> IdToken {
    let raw = jwt(
        &serde_json::json!({"sub": "s-1", "email": "ana@example.com", "aud": CLIENT, "exp": exp}),
    );
    IdToken::parse(&raw, CLIENT).unwrap()
}

#[test]
fn pkce_matches_rfc_7636_appendix_b() {
    // The octets of RFC 7636 Appendix B and the verifier and challenge it
    // derives (the RFC's challenge, also what Python's hashlib gives).
    let octets: [u8; 32] = [
        116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37,
        77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
    ];
    let pkce = Pkce::from_random(&octets);
    assert_eq!(
        pkce.verifier(),
        "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    );
    assert_eq!(
        pkce.challenge(),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
    let again = Pkce::from_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".to_owned());
    assert_eq!(again, pkce);
    assert!(
        !format!("{pkce:?}").contains(pkce.verifier()),
        "Debug prints the verifier"
    );
}

#[test]
fn pkce_challenges_agree_with_pythons_hashlib() {
    let verifiers: Vec<String> = (0u8..8)
        .map(|i| {
            Pkce::from_random(&[i.wrapping_mul(37); 32])
                .verifier()
                .to_owned()
        })
        .collect();
    let script = "import base64,hashlib,sys\n\
                  for v in sys.argv[1:]:\n    \
                  print(base64.urlsafe_b64encode(hashlib.sha256(v.encode()).digest()).rstrip(b'=').decode())";
    let mut args = vec!["-c", script];
    args.extend(verifiers.iter().map(String::as_str));
    let python = run("python3", &args);
    let ours: Vec<String> = verifiers
        .iter()
        .map(|v| Pkce::from_verifier(v.clone()).challenge().to_owned())
        .collect();
    assert_eq!(python.lines().collect::<Vec<_>>(), ours);
    assert!(verifiers.iter().all(|v| v.len() == 43), "{verifiers:?}");
}

#[test]
fn percent_encoding_keeps_only_unreserved_characters() {
    for (text, encoded) in [
        ("abcXYZ019-._~", "abcXYZ019-._~"),
        ("openid email profile", "openid%20email%20profile"),
        (
            "https://a.example/x?y=1&z",
            "https%3A%2F%2Fa.example%2Fx%3Fy%3D1%26z",
        ),
        ("+/=%", "%2B%2F%3D%25"),
        ("日本", "%E6%97%A5%E6%9C%AC"),
    ] {
        assert_eq!(percent_encode(text), encoded, "{text:?}");
        assert_eq!(
            query_pairs(&format!("k={encoded}")),
            [("k".to_owned(), text.to_owned())]
        );
    }
}

#[test]
fn query_pairs_read_plus_as_space_and_keep_stray_percents() {
    assert_eq!(
        query_pairs("?a=1+2&b=%zz&c&=d&&e=%41%"),
        [
            ("a".to_owned(), "1 2".to_owned()),
            ("b".to_owned(), "%zz".to_owned()),
            ("c".to_owned(), String::new()),
            (String::new(), "d".to_owned()),
            ("e".to_owned(), "A%".to_owned()),
        ]
    );
    assert_eq!(query_pairs(""), []);
}

#[test]
fn the_authorize_url_asks_for_a_code_with_an_s256_challenge() {
    let attempt = attempt();
    let url = attempt.authorize_url(&config());
    let (endpoint, query) = url.split_once('?').unwrap();
    assert_eq!(
        endpoint,
        "https://marshal-1.auth.ap-northeast-1.amazoncognito.com/oauth2/authorize"
    );
    let challenge = Pkce::from_random(&[9; 32]).challenge().to_owned();
    assert_eq!(
        query_pairs(query),
        [
            ("response_type", "code"),
            ("client_id", CLIENT),
            ("redirect_uri", "https://d111.cloudfront.net/"),
            ("scope", "openid email profile"),
            ("state", base64url(&[7; 32]).as_str()),
            ("code_challenge_method", "S256"),
            ("code_challenge", challenge.as_str()),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
    );
    assert!(
        query.contains("redirect_uri=https%3A%2F%2Fd111.cloudfront.net%2F&"),
        "{query}"
    );
    assert!(query.contains("scope=openid%20email%20profile&"), "{query}");
    assert!(
        !url.contains(Pkce::from_random(&[9; 32]).verifier()),
        "the verifier leaked: {url}"
    );
}

#[test]
fn the_token_request_sends_the_code_with_the_verifier() {
    let body = attempt().token_request_body(&config(), "c/+ 1");
    assert_eq!(
        query_pairs(&body),
        [
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT),
            ("code", "c/+ 1"),
            ("redirect_uri", "https://d111.cloudfront.net/"),
            ("code_verifier", Pkce::from_random(&[9; 32]).verifier()),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
    );
}

#[test]
fn the_popups_query_is_an_answer_only_with_a_state_and_a_code_or_error() {
    let state = base64url(&[7; 32]);
    let answer = CallbackParams::from_query(&format!("?code=abc%2B1&state={state}")).unwrap();
    assert_eq!(
        (answer.code.as_deref(), answer.state.as_str()),
        (Some("abc+1"), state.as_str())
    );
    let denied =
        CallbackParams::from_query("?error=access_denied&error_description=User+said+no&state=s")
            .unwrap();
    assert_eq!(denied.error.as_deref(), Some("access_denied"));
    assert_eq!(denied.error_description.as_deref(), Some("User said no"));
    for query in ["", "?", "?code=abc", "?state=s", "?lang=ja&state=s", "?x=1"] {
        assert_eq!(CallbackParams::from_query(query), None, "{query:?}");
    }
}

#[test]
fn an_answer_is_accepted_only_for_the_attempts_own_state() {
    let attempt = attempt();
    let answer = |state: &str| CallbackParams {
        state: state.to_owned(),
        code: Some("the-code".to_owned()),
        error: None,
        error_description: None,
    };
    assert_eq!(attempt.accept(&answer(attempt.state())), Ok("the-code"));
    // Another attempt's (or a forged) answer is refused; its code is not used.
    for wrong in [
        String::new(),
        base64url(&[8; 32]),
        format!("{}x", attempt.state()),
    ] {
        assert_eq!(
            attempt.accept(&answer(&wrong)),
            Err(SignInProblem::StateMismatch),
            "{wrong:?}"
        );
    }
    let mut denied = answer(attempt.state());
    denied.code = None;
    denied.error = Some("access_denied".to_owned());
    assert_eq!(
        attempt.accept(&denied),
        Err(SignInProblem::Provider {
            error: "access_denied".to_owned(),
            description: None
        })
    );
    denied.error = None;
    assert_eq!(attempt.accept(&denied), Err(SignInProblem::NoCode));
}

#[test]
fn the_popups_message_round_trips_and_other_messages_are_ignored() {
    let answer = CallbackParams::from_query("?code=c&state=s").unwrap();
    let message = answer.to_message();
    assert_eq!(message, r#"{"marshalSignIn":{"state":"s","code":"c"}}"#);
    assert_eq!(CallbackParams::from_message(&message), Some(answer));
    for other in [
        "",
        "hello",
        "{}",
        r#"{"marshalSignIn":{}}"#,
        r#"{"state":"s","code":"c"}"#,
    ] {
        assert_eq!(CallbackParams::from_message(other), None, "{other:?}");
    }
    assert!(
        !format!("{:?}", CallbackParams::from_query("?code=secret&state=s")).contains("secret")
    );
}

#[test]
fn the_redirect_uri_is_the_page_without_query_or_index_html() {
    for (origin, path, uri) in [
        (
            "https://d1.cloudfront.net",
            "/",
            "https://d1.cloudfront.net/",
        ),
        (
            "https://d1.cloudfront.net",
            "/index.html",
            "https://d1.cloudfront.net/",
        ),
        (
            "http://127.0.0.1:8080",
            "/marshal/index.html",
            "http://127.0.0.1:8080/marshal/",
        ),
        (
            "http://127.0.0.1:8080",
            "/marshal/",
            "http://127.0.0.1:8080/marshal/",
        ),
        ("http://127.0.0.1:8080", "", "http://127.0.0.1:8080/"),
    ] {
        assert_eq!(redirect_uri(origin, path), uri, "{path:?}");
    }
}

#[test]
fn sign_out_goes_to_the_provider_and_back_to_signed_out_html() {
    for (origin, path, back) in [
        (
            "https://d1.cloudfront.net",
            "/",
            "https://d1.cloudfront.net/signed-out.html",
        ),
        (
            "https://d1.cloudfront.net",
            "/index.html",
            "https://d1.cloudfront.net/signed-out.html",
        ),
        (
            "http://127.0.0.1:8080",
            "/marshal/",
            "http://127.0.0.1:8080/marshal/signed-out.html",
        ),
    ] {
        assert_eq!(signed_out_uri(origin, path), back, "{path:?}");
    }
    let url = config().logout_url("https://d1.cloudfront.net/signed-out.html");
    let (endpoint, query) = url.split_once('?').unwrap();
    assert_eq!(
        endpoint,
        "https://marshal-1.auth.ap-northeast-1.amazoncognito.com/logout"
    );
    assert_eq!(
        query_pairs(query),
        vec![
            ("client_id".to_owned(), CLIENT.to_owned()),
            (
                "logout_uri".to_owned(),
                "https://d1.cloudfront.net/signed-out.html".to_owned()
            ),
        ]
    );
}

#[test]
fn the_token_response_gives_the_id_token_and_its_claims() {
    let id = jwt(&serde_json::json!({
        "sub": "s-1", "cognito:username": "ana", "email": "ana@example.com",
        "aud": CLIENT, "exp": NOW + 3600, "token_use": "id"
    }));
    let body = serde_json::json!({
        "id_token": id, "access_token": "a", "refresh_token": "r",
        "expires_in": 3600, "token_type": "Bearer"
    })
    .to_string();
    let token = parse_token_response(200, &body, CLIENT, NOW).unwrap();
    assert_eq!(
        (token.name(), token.expires_at()),
        ("ana@example.com", NOW + 3600)
    );
    assert_eq!(token.bearer(), format!("Bearer {id}"));
    assert!(
        !format!("{token:?}").contains(&id),
        "Debug prints the token"
    );
}

#[test]
fn the_name_shown_is_the_email_else_a_username_else_the_subject() {
    for (claims, name) in [
        (
            serde_json::json!({"cognito:username": "ana", "sub": "s"}),
            "ana",
        ),
        (
            serde_json::json!({"preferred_username": "ana.p", "username": "u", "sub": "s"}),
            "ana.p",
        ),
        (
            serde_json::json!({"email": "", "username": "u", "sub": "s"}),
            "u",
        ),
        (serde_json::json!({"sub": "s-1"}), "s-1"),
        (serde_json::json!({}), "?"),
    ] {
        let mut claims = claims;
        claims["aud"] = serde_json::json!([CLIENT, "other"]);
        claims["exp"] = serde_json::json!(NOW);
        assert_eq!(
            IdToken::parse(&jwt(&claims), CLIENT).unwrap().name(),
            name,
            "{claims}"
        );
    }
}

#[test]
fn unusable_token_answers_are_refused_in_words_not_json() {
    let with =
        |claims: serde_json::Value| serde_json::json!({ "id_token": jwt(&claims) }).to_string();
    let cases: [(u16, String, SignInProblem); 9] = [
        (
            200,
            with(serde_json::json!({"aud": "someone-else", "exp": NOW + 60})),
            SignInProblem::BadToken(TokenProblem::WrongAudience),
        ),
        (
            200,
            with(serde_json::json!({"exp": NOW + 60})),
            SignInProblem::BadToken(TokenProblem::WrongAudience),
        ),
        (
            200,
            with(serde_json::json!({"aud": CLIENT})),
            SignInProblem::BadToken(TokenProblem::NoExpiry),
        ),
        (
            200,
            with(serde_json::json!({"aud": CLIENT, "exp": NOW})),
            SignInProblem::BadToken(TokenProblem::Expired),
        ),
        (
            200,
            r#"{"id_token":"a.b"}"#.to_owned(),
            SignInProblem::BadToken(TokenProblem::Malformed),
        ),
        (
            200,
            r#"{"id_token":"a.!!!.c"}"#.to_owned(),
            SignInProblem::BadToken(TokenProblem::Malformed),
        ),
        (
            200,
            r#"{"access_token":"a"}"#.to_owned(),
            SignInProblem::BadToken(TokenProblem::Missing),
        ),
        (
            400,
            r#"{"error":"invalid_grant","error_description":"bad verifier"}"#.to_owned(),
            SignInProblem::TokenRefused {
                error: "invalid_grant".to_owned(),
                description: Some("bad verifier".to_owned()),
            },
        ),
        (
            502,
            "<html>Bad Gateway</html>".to_owned(),
            SignInProblem::TokenEndpoint { status: 502 },
        ),
    ];
    for (status, body, problem) in cases {
        assert_eq!(
            parse_token_response(status, &body, CLIENT, NOW),
            Err(problem),
            "{status} {body}"
        );
    }
}

#[test]
fn the_session_sends_a_token_only_when_signed_in_and_not_expired() {
    let mut local = Session::new(false);
    assert_eq!(local.authorization(NOW), Ok(None));
    assert_eq!(local.rejected(), SignInNeed::NotConfigured);
    local.sign_out();
    assert_eq!(local, Session::NotRequired);

    let mut session = Session::new(true);
    assert_eq!(session.authorization(NOW), Err(SignInNeed::SignedOut));
    let token = token(NOW + 600);
    session = Session::SignedIn(token.clone());
    assert_eq!(session.authorization(NOW), Ok(Some(token.bearer())));
    // Within the margin of `exp` the session ends, before any call leaves.
    assert!(!session.expire_if_due(NOW + 600 - EXPIRY_MARGIN_SECS - 1));
    assert_eq!(
        session.authorization(NOW + 600 - EXPIRY_MARGIN_SECS),
        Err(SignInNeed::Expired)
    );
    assert_eq!(
        session,
        Session::Expired {
            name: "ana@example.com".to_owned()
        }
    );

    // A 401 ends a signed-in session too, and signing out forgets it.
    session = Session::SignedIn(token);
    assert_eq!(session.rejected(), SignInNeed::Rejected);
    assert_eq!(session.authorization(NOW), Err(SignInNeed::Expired));
    session.sign_out();
    assert_eq!(session, Session::SignedOut);
    assert_eq!(session.rejected(), SignInNeed::SignedOut);
}
