//! The real OpenID provider of `cargo xtask dev --auth`
//! (`dev/oidc/provider.mjs`, npm `oidc-provider` from
//! `MARSHAL_NODE_MODULES`) on a free loopback port, killed when dropped;
//! and a user signing in through it over HTTP the way the page does in a
//! browser: authorization code with PKCE (S256), the provider's sign-in
//! form, the token endpoint. The tokens are the provider's, signed with the
//! keys it generated at start.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use crate::api::free_port;
use crate::http::{self, Request, Response};
use crate::moto_state::Target;
use crate::workspace_dir;

/// The test users `provider.mjs` knows: (name, password, group).
pub const USERS: [(&str, &str, &str); 2] = [
    ("alice", "alice-pass", "factory-a"),
    ("bob", "bob-pass", "factory-b"),
];

/// A target for each user's group: alice's `factory-a` may use `a-tokyo`,
/// bob's `factory-b` may use `b-virginia`.
pub fn group_targets() -> [(Target, &'static str); 2] {
    [
        (
            Target::new(
                "a-tokyo",
                "111111111111",
                "ap-northeast-1",
                "MarshalTarget",
                "marshal-test",
            ),
            USERS[0].2,
        ),
        (
            Target::new(
                "b-virginia",
                "222222222222",
                "us-east-1",
                "MarshalTarget",
                "marshal-test",
            ),
            USERS[1].2,
        ),
    ]
}

/// What to start the provider with.
#[derive(Debug, Clone)]
pub struct ProviderOptions {
    /// The page's client id.
    pub client_id: String,
    /// Redirect URIs of every client.
    pub redirect_uris: Vec<String>,
    /// Where sign-out may send the browser.
    pub post_logout_uris: Vec<String>,
    /// Also the clients `marshal-cli` (ES256), `other-app` and
    /// `short-lived` (2-second id tokens).
    pub test_clients: bool,
}

/// A running `provider.mjs`.
#[derive(Debug)]
pub struct OidcProvider {
    child: Child,
    port: u16,
    output: Arc<Mutex<String>>,
}

/// What the token endpoint answered.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub id_token: String,
    pub access_token: String,
}

impl OidcProvider {
    /// Starts the provider and waits until it listens (at most 20 s).
    pub fn start(options: &ProviderOptions) -> OidcProvider {
        let node_modules = std::env::var_os("MARSHAL_NODE_MODULES")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                panic!(
                    "MARSHAL_NODE_MODULES is not set: it must name the node_modules with \
                     oidc-provider (`cargo xtask install`). `cargo xtask test` sets it."
                )
            });
        let script = workspace_dir().join("dev/oidc/provider.mjs");
        let port = free_port();
        let mut cmd = Command::new("node");
        cmd.arg(&script)
            .args(["--port", &port.to_string()])
            .arg("--node-modules")
            .arg(&node_modules)
            .args(["--client-id", &options.client_id]);
        for uri in &options.redirect_uris {
            cmd.args(["--redirect-uri", uri]);
        }
        for uri in &options.post_logout_uris {
            cmd.args(["--post-logout-uri", uri]);
        }
        if options.test_clients {
            cmd.arg("--test-clients");
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start node {}: {e}", script.display()));
        let output = Arc::new(Mutex::new(String::new()));
        let (ready_tx, ready_rx) = mpsc::channel();
        let stdout = child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>);
        let stderr = child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>);
        for stream in [stdout, stderr].into_iter().flatten() {
            let output = Arc::clone(&output);
            let ready = ready_tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if line.starts_with("oidc-provider listening on") {
                        let _ = ready.send(());
                    }
                    let mut out = output.lock().unwrap_or_else(|e| e.into_inner());
                    out.push_str(&line);
                    out.push('\n');
                }
            });
        }
        let mut provider = OidcProvider {
            child,
            port,
            output,
        };
        if ready_rx.recv_timeout(Duration::from_secs(20)).is_err() {
            let status = provider.child.try_wait().ok().flatten();
            panic!(
                "{} did not listen on {port} within 20 s (exit: {status:?}); its output:\n{}",
                script.display(),
                provider.output()
            );
        }
        provider
    }

    /// `http://127.0.0.1:PORT`, the `iss` of its tokens.
    pub fn issuer(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What it printed.
    pub fn output(&self) -> String {
        self.output
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Its public key set.
    pub fn jwks(&self) -> Value {
        let response = self.send(Request::new("GET", "/.well-known/jwks.json"));
        serde_json::from_slice(&response.body).unwrap_or(Value::Null)
    }

    fn send(&self, request: Request) -> Response {
        http::send(self.port, &request).unwrap_or_else(|e| {
            panic!(
                "no answer from the provider: {e}\n{request}\n--- its output ---\n{}",
                self.output()
            )
        })
    }

    /// Signs `user` in with `password` for `client_id`, as the page does:
    /// authorize with an S256 challenge, the sign-in form, the redirect
    /// back with a code, the code and verifier at the token endpoint.
    pub fn sign_in(
        &self,
        client_id: &str,
        redirect_uri: &str,
        user: &str,
        password: &str,
    ) -> Tokens {
        let mut cookies = BTreeMap::new();
        let verifier = random_verifier();
        let challenge = URL_SAFE_NO_PAD.encode(ring::digest::digest(
            &ring::digest::SHA256,
            verifier.as_bytes(),
        ));
        let state = random_verifier();
        let authorize = format!(
            "/oauth2/authorize?response_type=code&client_id={}&redirect_uri={}&scope=openid%20email%20profile\
             &state={state}&code_challenge={challenge}&code_challenge_method=S256",
            encode(client_id),
            encode(redirect_uri)
        );
        let mut trail = Vec::new();
        let interaction = self.redirect(&mut cookies, Request::new("GET", &authorize), &mut trail);
        let form = self.step(&mut cookies, Request::new("GET", &interaction), &mut trail);
        assert_eq!(form.status, 200, "the sign-in form: {form}\n{trail:#?}");
        let login = Request::new("POST", &format!("{interaction}/login")).body(
            "application/x-www-form-urlencoded",
            format!("username={}&password={}", encode(user), encode(password)),
        );
        let resume = self.redirect(&mut cookies, login, &mut trail);
        let back = self.redirect(&mut cookies, Request::new("GET", &resume), &mut trail);
        let query = back
            .strip_prefix(redirect_uri)
            .and_then(|rest| rest.strip_prefix('?'))
            .unwrap_or_else(|| panic!("not sent back to {redirect_uri}: {back}\n{trail:#?}"));
        let params: BTreeMap<&str, &str> =
            query.split('&').filter_map(|p| p.split_once('=')).collect();
        assert_eq!(params.get("state"), Some(&state.as_str()), "{trail:#?}");
        let code = params
            .get("code")
            .unwrap_or_else(|| panic!("no code in {back}\n{trail:#?}"));
        let token = Request::new("POST", "/oauth2/token").body(
            "application/x-www-form-urlencoded",
            format!(
                "grant_type=authorization_code&client_id={}&code={code}&redirect_uri={}&code_verifier={verifier}",
                encode(client_id),
                encode(redirect_uri)
            ),
        );
        let answer = self.send(token);
        let body: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
        let field = |name: &str| {
            body[name]
                .as_str()
                .unwrap_or_else(|| {
                    panic!(
                        "the token endpoint gave no {name}: status {}\n{trail:#?}",
                        answer.status
                    )
                })
                .to_owned()
        };
        Tokens {
            id_token: field("id_token"),
            access_token: field("access_token"),
        }
    }

    /// Sends `request` with the cookies, keeps the ones set.
    fn step(
        &self,
        cookies: &mut BTreeMap<String, String>,
        mut request: Request,
        trail: &mut Vec<String>,
    ) -> Response {
        if !cookies.is_empty() {
            let jar: Vec<String> = cookies.iter().map(|(n, v)| format!("{n}={v}")).collect();
            request = request.header("Cookie", jar.join("; "));
        }
        let what = format!(
            "{} {}",
            request.method,
            request.path.split('?').next().unwrap_or_default()
        );
        let response = self.send(request);
        trail.push(format!("{what} -> {}", response.status));
        for set in response.headers_named("set-cookie") {
            let pair = set.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                let expired = set
                    .to_ascii_lowercase()
                    .contains("expires=thu, 01 jan 1970");
                if value.is_empty() || expired {
                    cookies.remove(name.trim());
                } else {
                    cookies.insert(name.trim().to_owned(), value.to_owned());
                }
            }
        }
        response
    }

    /// [`step`](Self::step), which must answer a redirect: its target, as
    /// a path on the provider or a full URL elsewhere.
    fn redirect(
        &self,
        cookies: &mut BTreeMap<String, String>,
        request: Request,
        trail: &mut Vec<String>,
    ) -> String {
        let response = self.step(cookies, request, trail);
        let location = response
            .header("location")
            .filter(|_| (300..400).contains(&response.status))
            .unwrap_or_else(|| {
                panic!(
                    "expected a redirect: {response}\n{trail:#?}\n--- provider output ---\n{}",
                    self.output()
                )
            });
        location
            .strip_prefix(&self.issuer())
            .map(str::to_owned)
            .unwrap_or_else(|| location.to_owned())
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// 43 base64url characters from 32 random bytes (a PKCE verifier, a state).
fn random_verifier() -> String {
    let mut bytes = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .expect("the OS gives random bytes");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Percent-encodes all but unreserved characters.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The JSON of a token's part `index` (0 header, 1 payload).
pub fn token_part(token: &str, index: usize) -> Value {
    token
        .split('.')
        .nth(index)
        .and_then(|part| URL_SAFE_NO_PAD.decode(part).ok())
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or(Value::Null)
}

/// A token made of `header` and `payload` JSON and the raw `signature`.
pub fn assemble(header: &Value, payload: &Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload.to_string()),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

/// `header.payload` signed ES256 by a P-256 key made here, not the
/// provider's: a forgery that names the provider's `kid`.
pub fn forge_es256(header: &Value, payload: &Value) -> String {
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        .expect("ring makes a P-256 key");
    let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
        .expect("ring reads its own key");
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload.to_string())
    );
    let signature = key.sign(&rng, input.as_bytes()).expect("ring signs");
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
}
