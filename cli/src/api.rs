//! The Marshal API from the terminal: one blocking client, the bearer token
//! kept out of argv and logs, and every failure turned into words.
//!
//! Exit statuses follow the rest of the CLI: an API that cannot be reached or
//! refuses a request is a failed check (1); a URL or token that cannot be
//! used at all is bad input (2).

use std::{
    borrow::Cow,
    io::BufRead,
    net::{Ipv4Addr, Ipv6Addr},
    time::Duration,
};

use marshal_shared::api::{
    CertificateHistoryResponse, CreateRegistrationRequest, CreateRegistrationResponse,
    DeleteCertificateResponse, ErrorBody, GetCertificateResponse, GetConfigResponse,
    InventoryResponse, ReconcileRequest, ReconcileResponse, RetireCertificateRequest,
    RetireCertificateResponse, RotateCertificateRequest, RotateCertificateResponse,
    TransferCertificateRequest, TransferCertificateResponse, UpdateStatusRequest,
    UpdateStatusResponse,
};
use serde::{Serialize, de::DeserializeOwned};
use zeroize::Zeroizing;

use marshal_shared::debug_text::looks_like_debug;

use crate::tls_failure::{self, Peer, find_rustls_error};
use crate::{cli::ApiArgs, outcome::Failure};

mod jobs;
mod query;

pub(crate) use jobs::JobId;
pub(crate) use query::InventoryQuery;

/// Where the token comes from when `--token-stdin` is not given.
const TOKEN_ENV: &str = "MARSHAL_TOKEN";

/// A client of one Marshal API.
pub(crate) struct ApiClient {
    base: String,
    token: Option<Zeroizing<String>>,
    agent: ureq::Agent,
}

impl ApiClient {
    /// Checks the URL and reads the token (stdin when asked, else `MARSHAL_TOKEN`).
    pub(crate) fn new(args: &ApiArgs) -> Result<ApiClient, Failure> {
        let base = args.api.trim().trim_end_matches('/').to_owned();
        if base.is_empty() {
            return Err(Failure::input(
                "missing_api",
                "no API URL: give --api URL or set MARSHAL_API",
            ));
        }
        let Some((scheme, rest)) = base.split_once("://") else {
            return Err(Failure::input(
                "invalid_api_url",
                format!("--api {base}: not a URL (expected http(s)://host[:port][/stage])"),
            ));
        };
        if !matches!(scheme, "http" | "https") || rest.is_empty() {
            return Err(Failure::input(
                "invalid_api_url",
                format!("--api {base}: only http:// and https:// URLs are supported"),
            ));
        }
        let token = if args.token_stdin {
            let mut line = Zeroizing::new(String::new());
            std::io::stdin().lock().read_line(&mut line).map_err(|e| {
                Failure::input(
                    "unreadable_input",
                    format!("cannot read the token from stdin: {e}"),
                )
            })?;
            Some(Zeroizing::new(line.trim().to_owned()))
        } else {
            std::env::var(TOKEN_ENV)
                .ok()
                .map(|t| Zeroizing::new(t.trim().to_owned()))
        }
        .filter(|t| !t.is_empty());
        if token
            .as_ref()
            .is_some_and(|t| t.chars().any(char::is_control))
        {
            return Err(Failure::input(
                "invalid_token",
                "the bearer token contains control characters",
            ));
        }
        if token.is_some() {
            refuse_cleartext_token(&base)?;
        }
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(args.api_timeout)))
            .user_agent(concat!("marshal-cli/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(ApiClient {
            base,
            token,
            agent: config.into(),
        })
    }

    /// `GET /v1/config`.
    pub(crate) fn config(&self) -> Result<GetConfigResponse, Failure> {
        self.call(Method::Get, "/v1/config", None::<&()>)
    }

    /// `POST /v1/registrations` (200 or 207).
    pub(crate) fn register(
        &self,
        request: &CreateRegistrationRequest,
    ) -> Result<CreateRegistrationResponse, Failure> {
        self.call(Method::Post, "/v1/registrations", Some(request))
    }

    /// `GET /v1/certificates/{id}`.
    pub(crate) fn certificate(&self, id: &str) -> Result<GetCertificateResponse, Failure> {
        self.call(Method::Get, &format!("/v1/certificates/{id}"), None::<&()>)
    }

    /// `POST /v1/certificates/{id}/status`.
    pub(crate) fn update_status(
        &self,
        id: &str,
        request: &UpdateStatusRequest,
    ) -> Result<UpdateStatusResponse, Failure> {
        let path = format!("/v1/certificates/{id}/status");
        self.call(Method::Post, &path, Some(request))
    }

    /// `DELETE /v1/certificates/{id}?targets=...`.
    pub(crate) fn delete(
        &self,
        id: &str,
        targets: &[String],
    ) -> Result<DeleteCertificateResponse, Failure> {
        let path = format!("/v1/certificates/{id}?targets={}", query::list(targets));
        self.call(Method::Delete, &path, None::<&()>)
    }

    /// `GET /v1/certificates?...`: one page of the inventory.
    pub(crate) fn inventory(&self, query: &InventoryQuery) -> Result<InventoryResponse, Failure> {
        self.call(Method::Get, &query.path(), None::<&()>)
    }

    /// `GET /v1/certificates/{id}/history`.
    pub(crate) fn history(&self, id: &str) -> Result<CertificateHistoryResponse, Failure> {
        let path = format!("/v1/certificates/{id}/history");
        self.call(Method::Get, &path, None::<&()>)
    }

    /// `POST /v1/certificates/{id}/rotate` (200 or 207).
    pub(crate) fn rotate(
        &self,
        id: &str,
        request: &RotateCertificateRequest,
    ) -> Result<RotateCertificateResponse, Failure> {
        let path = format!("/v1/certificates/{id}/rotate");
        self.call(Method::Post, &path, Some(request))
    }

    /// `POST /v1/certificates/{id}/retire` (200 or 207).
    pub(crate) fn retire(
        &self,
        id: &str,
        request: &RetireCertificateRequest,
    ) -> Result<RetireCertificateResponse, Failure> {
        let path = format!("/v1/certificates/{id}/retire");
        self.call(Method::Post, &path, Some(request))
    }

    /// `POST /v1/reconcile` (target admins).
    pub(crate) fn reconcile(
        &self,
        request: &ReconcileRequest,
    ) -> Result<ReconcileResponse, Failure> {
        self.call(Method::Post, "/v1/reconcile", Some(request))
    }

    /// `POST /v1/certificates/{id}/transfer`.
    pub(crate) fn transfer(
        &self,
        id: &str,
        request: &TransferCertificateRequest,
    ) -> Result<TransferCertificateResponse, Failure> {
        let path = format!("/v1/certificates/{id}/transfer");
        self.call(Method::Post, &path, Some(request))
    }

    fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, Failure> {
        let url = format!("{}{path}", self.base);
        let auth = self
            .token
            .as_ref()
            .map(|t| Zeroizing::new(format!("Bearer {}", t.as_str())));
        let result = match method {
            Method::Get | Method::Delete => {
                let mut request = if matches!(method, Method::Get) {
                    self.agent.get(&url)
                } else {
                    self.agent.delete(&url)
                };
                if let Some(auth) = &auth {
                    request = request.header("Authorization", auth.as_str());
                }
                request.call()
            }
            Method::Post => {
                let mut request = self.agent.post(&url);
                if let Some(auth) = &auth {
                    request = request.header("Authorization", auth.as_str());
                }
                let body = serde_json::to_vec(&body).map_err(|e| {
                    Failure::check("internal_error", format!("cannot encode the request: {e}"))
                })?;
                request
                    .header("Content-Type", "application/json")
                    .send(&body[..])
            }
        };
        let mut response = result.map_err(|e| self.unreachable(&e))?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_string()
            .map_err(|e| self.unreachable(&e))?;
        if (200..300).contains(&status) {
            return serde_json::from_str(&text).map_err(|e| {
                Failure::check(
                    "unexpected_response",
                    format!(
                        "{url} answered {status} with a body this marshal does not understand \
                         ({e}); is --api the Marshal API, and of a compatible version?"
                    ),
                )
            });
        }
        Err(api_error(&url, status, &text))
    }

    fn unreachable(&self, error: &ureq::Error) -> Failure {
        let (what, hint) = unreachable_words(&self.base, error);
        Failure::check(
            "api_unreachable",
            format!(
                "cannot reach the Marshal API at {}: {what}; {hint}",
                self.base
            ),
        )
    }
}

/// What went wrong reaching the API at `base`, and what to do, in words:
/// ureq's own `Display` passes rustls's on (`io: invalid peer certificate:
/// Other(OtherError(CaUsedAsEndEntity))`).
fn unreachable_words(base: &str, error: &ureq::Error) -> (String, String) {
    const CHECK_URL: &str = "check --api / MARSHAL_API";
    let tls = match error {
        ureq::Error::Rustls(e) => Some(e),
        ureq::Error::Io(io) => find_rustls_error(io),
        _ => None,
    };
    if let Some(tls) = tls {
        let host = base.split_once("://").map_or(base, |(_, rest)| {
            rest.split(['/', '?', '#']).next().unwrap_or(rest)
        });
        let peer = Peer {
            host,
            trust: "the public web's root CAs (Mozilla's list, built in)",
            right_server: "check --api / MARSHAL_API: it is the Marshal API's https:// URL \
                           (API Gateway's or CloudFront's address)",
        };
        let explained = tls_failure::explain(tls, &peer);
        let hint = explained
            .causes
            .into_iter()
            .next()
            .unwrap_or_else(|| CHECK_URL.to_owned());
        return (format!("TLS: {}", explained.message), hint);
    }
    let (what, hint): (Cow<'static, str>, &str) = match error {
        ureq::Error::Timeout(_) => ("it did not answer in time".into(), "see --api-timeout"),
        ureq::Error::HostNotFound => ("the host name does not resolve".into(), CHECK_URL),
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => (
            "nothing listens there".into(),
            "is the API running? `cargo xtask dev` starts one locally",
        ),
        ureq::Error::Io(e) => {
            let text = e.to_string();
            let what = if looks_like_debug(&text) {
                "the connection failed".into()
            } else {
                format!("the connection failed ({text})").into()
            };
            (what, CHECK_URL)
        }
        ureq::Error::ConnectionFailed => ("the connection failed".into(), CHECK_URL),
        ureq::Error::TooManyRedirects | ureq::Error::RedirectFailed => (
            "it redirects elsewhere".into(),
            "give the API's own URL, not one that redirects",
        ),
        ureq::Error::BodyExceedsLimit(_) => (
            "its answer is larger than any Marshal API answer".into(),
            CHECK_URL,
        ),
        ureq::Error::Protocol(_) | ureq::Error::LargeResponseHeader(..) => (
            "it did not answer with HTTP this client can read".into(),
            CHECK_URL,
        ),
        other => {
            let text = other.to_string();
            let what = if looks_like_debug(&text) {
                "the request failed".into()
            } else {
                text.into()
            };
            (what, CHECK_URL)
        }
    };
    (what.into_owned(), hint.to_owned())
}

/// Refuses a plain `http://` base URL unless its host is loopback: a bearer
/// token sent in clear text can be read and replayed by anyone on the path.
///
/// There is deliberately no `--insecure-http`: a token is only needed behind
/// API Gateway, which is always https, and the local API (`auth = "none"`)
/// listens only on loopback and needs none. A token over plain http to
/// another host is therefore always a mistake worth stopping.
fn refuse_cleartext_token(base: &str) -> Result<(), Failure> {
    match base.split_once("://") {
        Some(("http", rest)) if !is_loopback(rest) => Err(Failure::input(
            "insecure_api_url",
            format!(
                "--api {base}: refusing to send the bearer token over plain http:// to a \
                 host that is not this machine; use the API's https:// URL, or for local \
                 development a loopback address (127.0.0.1, [::1] or localhost). An API \
                 that needs no token is called without MARSHAL_TOKEN or --token-stdin."
            ),
        )),
        _ => Ok(()),
    }
}

/// Whether the host of `rest` (a URL after `scheme://`) is this machine by
/// address: `localhost`, 127.0.0.0/8 or `[::1]`. Anything it cannot read
/// plainly (odd ports, unclosed brackets) counts as not loopback, so a URL the
/// HTTP client would read differently is refused rather than trusted.
fn is_loopback(rest: &str) -> bool {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let (loopback, port) = match host_port.strip_prefix('[') {
        Some(bracketed) => match bracketed.split_once(']') {
            Some((host, port)) => (
                host.parse::<Ipv6Addr>().is_ok_and(|ip| ip.is_loopback()),
                port,
            ),
            None => return false,
        },
        None => {
            let (host, port) = host_port.split_at(host_port.find(':').unwrap_or(host_port.len()));
            let loopback = host.eq_ignore_ascii_case("localhost")
                || host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback());
            (loopback, port)
        }
    };
    let plain_port = port.is_empty()
        || port
            .strip_prefix(':')
            .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    loopback && plain_port
}

#[derive(Clone, Copy)]
enum Method {
    Get,
    Post,
    Delete,
}

/// An error answer in words: the API's own code and message when it sent
/// one, with the preflight findings; the status otherwise.
fn api_error(url: &str, status: u16, text: &str) -> Failure {
    let Ok(body) = serde_json::from_str::<ErrorBody>(text) else {
        let hint = match status {
            401 | 403 => " (is MARSHAL_TOKEN / --token-stdin a valid token for this API?)",
            404 => " (is --api the Marshal API's base URL, without /v1?)",
            502..=504 => " (the API or its gateway is failing; try again)",
            _ => "",
        };
        return Failure::check("api_error", format!("{url} answered HTTP {status}{hint}"));
    };
    let detail = body.error;
    let code = serde_json::to_value(detail.code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "api_error".to_owned());
    let mut message = format!(
        "the API refused the request: {} [{code}, HTTP {status}, request {}]",
        detail.message, detail.request_id
    );
    for finding in &detail.findings {
        message.push_str(&format!(
            "\n  certificate #{}: {} {}: {}",
            finding.index + 1,
            finding.severity,
            finding.code,
            finding.message
        ));
    }
    Failure {
        status: 1,
        code: Cow::Owned(code),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What reaches the user when the API cannot be reached is words, also
    /// when the cause is a TLS error that ureq and rustls print as `Debug`.
    #[test]
    fn unreachable_apis_are_explained_in_words() {
        use std::sync::Arc;

        use marshal_shared::debug_text::debug_shapes;
        use rustls::{AlertDescription, CertificateError, OtherError};

        let tls = |e: rustls::Error| {
            ureq::Error::Io(std::io::Error::new(std::io::ErrorKind::InvalidData, e))
        };
        let ca_as_leaf = tls(rustls::Error::InvalidCertificate(CertificateError::Other(
            OtherError(Arc::new(webpki::Error::CaUsedAsEndEntity)),
        )));
        assert!(
            ca_as_leaf
                .to_string()
                .contains("Other(OtherError(CaUsedAsEndEntity))"),
            "the library's own text is what this test guards against: {ca_as_leaf}"
        );
        let cases = [
            ca_as_leaf,
            tls(rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer,
            )),
            tls(rustls::Error::AlertReceived(
                AlertDescription::HandshakeFailure,
            )),
            ureq::Error::Rustls(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName,
            )),
            ureq::Error::Timeout(ureq::Timeout::Global),
            ureq::Error::HostNotFound,
            ureq::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused)),
            ureq::Error::Io(std::io::Error::other(std::io::Error::other(
                "Custom { kind: Other }",
            ))),
            ureq::Error::ConnectionFailed,
            ureq::Error::TooManyRedirects,
            ureq::Error::BodyExceedsLimit(1),
            ureq::Error::LargeResponseHeader(1, 2),
            ureq::Error::BodyStalled,
        ];
        for error in &cases {
            let (what, hint) = unreachable_words("https://api.example.com/prod", error);
            let text = format!("{what}; {hint}");
            assert_eq!(debug_shapes(&text), Vec::<&str>::new(), "{error:?}: {text}");
        }
        let (what, hint) = unreachable_words("https://api.example.com/prod", &cases[0]);
        assert_eq!(
            what,
            "TLS: the server presented a CA certificate as its own certificate"
        );
        assert!(hint.contains("--api"), "{hint}");
        let (what, _) = unreachable_words("https://api.example.com/prod", &cases[3]);
        assert!(what.contains("not valid for api.example.com"), "{what}");
    }

    #[test]
    fn api_errors_keep_the_code_and_findings() {
        let body = r#"{"error":{"code":"preflight_failed","message":"1 certificate refused",
            "requestId":"r-1","findings":[{"index":0,"code":"weak_key","severity":"error","message":"RSA 1024"}]}}"#;
        let failure = api_error("http://x/v1/registrations", 422, body);
        assert_eq!(failure.code, "preflight_failed");
        assert_eq!(failure.status, 1);
        assert!(
            failure
                .message
                .contains("certificate #1: error weak_key: RSA 1024")
        );
        assert!(failure.message.contains("request r-1"));
    }

    /// Finding L5: the token never goes over cleartext to another machine.
    #[test]
    fn the_token_goes_over_plain_http_only_to_loopback() {
        for (url, loopback) in [
            ("127.0.0.1:8080", true),
            ("127.0.0.1", true),
            ("127.1.2.3:80/prod", true),
            ("localhost:8080/", true),
            ("LOCALHOST", true),
            ("[::1]:8080/v1", true),
            ("user@127.0.0.1:8080", true),
            ("127.0.0.1?@evil.example", true),
            ("example.invalid", false),
            ("10.0.0.5:8080", false),
            ("0.0.0.0:8080", false),
            ("[::ffff:127.0.0.1]:8080", false),
            ("localhost.evil.example", false),
            ("127.0.0.1.evil.example", false),
            ("127.0.0.1@evil.example", false),
            ("127.0.0.1:8080\\@evil.example/", false),
            ("evil.example#@127.0.0.1", false),
            ("127.0.0.1:80:evil.example", false),
            ("127.0.0.1:", false),
            ("[::1", false),
            ("", false),
        ] {
            assert_eq!(is_loopback(url), loopback, "{url}");
        }
    }

    #[test]
    fn a_token_for_plain_http_to_another_host_is_refused() {
        let failure = refuse_cleartext_token("http://example.invalid").unwrap_err();
        assert_eq!(failure.code, "insecure_api_url", "{failure:?}");
        assert_eq!(failure.status, 2, "{failure:?}");
        for advice in ["https://", "127.0.0.1", "localhost"] {
            assert!(failure.message.contains(advice), "{failure:?}");
        }
        for allowed in [
            "https://example.invalid",
            "https://10.0.0.5:8443/prod",
            "http://127.0.0.1:8080",
            "http://localhost:8080",
            "http://[::1]:8080",
        ] {
            assert!(refuse_cleartext_token(allowed).is_ok(), "{allowed}");
        }
    }

    #[test]
    fn non_json_errors_say_the_status() {
        let failure = api_error("http://x/v1/config", 404, "<html>");
        assert_eq!(failure.code, "api_error");
        assert!(failure.message.contains("HTTP 404"));
        assert!(failure.message.contains("without /v1"));
    }
}
