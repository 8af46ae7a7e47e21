//! `config.json`, which deploy-page writes next to the page: where the API
//! is and how to sign in. Without it (locally, `cargo xtask dev`) the API
//! is the page's own origin and nobody signs in.

use serde::Deserialize;

use crate::auth::SignInConfig;

/// Where the page's API calls go, and how it signs in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// `https://host[/path]` without a trailing slash; empty for the page's
    /// own origin.
    api_base: String,
    sign_in: Option<SignInConfig>,
}

/// Why `config.json` cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigProblem {
    /// It could not be fetched (other than a 404).
    Unavailable { status: u16 },
    /// The fetch failed (network).
    Unreachable { detail: String },
    /// Not the JSON object deploy-page writes.
    NotJson,
    /// `apiUrl` is not an `http(s)://` URL.
    ApiUrl(String),
    /// `auth.signInUrl` is not an `http(s)://` URL.
    SignInUrl(String),
    /// Only one of `auth.clientId` and `auth.signInUrl` is set.
    HalfSignIn,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw {
    api_url: Option<String>,
    auth: Option<RawAuth>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawAuth {
    client_id: Option<String>,
    sign_in_url: Option<String>,
}

impl RuntimeConfig {
    /// No `config.json`: the page's own origin, no sign-in.
    pub fn local() -> RuntimeConfig {
        RuntimeConfig::default()
    }

    /// Reads `config.json`: `{"apiUrl", "auth": {"issuer", "clientId",
    /// "signInUrl"}}`, any of them null or absent. Sign-in is required when
    /// both `clientId` and `signInUrl` are set.
    pub fn from_json(text: &str) -> Result<RuntimeConfig, ConfigProblem> {
        let raw: Raw = serde_json::from_str(text).map_err(|_| ConfigProblem::NotJson)?;
        let present = |value: Option<String>| value.filter(|v| !v.trim().is_empty());
        let api_base = match present(raw.api_url) {
            None => String::new(),
            Some(url) => http_url(&url).ok_or(ConfigProblem::ApiUrl(url))?,
        };
        let (client_id, sign_in_url) = raw
            .auth
            .map(|auth| (present(auth.client_id), present(auth.sign_in_url)))
            .unwrap_or_default();
        let sign_in = match (client_id, sign_in_url) {
            (None, None) => None,
            (Some(client_id), Some(url)) => Some(SignInConfig {
                client_id,
                sign_in_url: http_url(&url).ok_or(ConfigProblem::SignInUrl(url))?,
            }),
            _ => return Err(ConfigProblem::HalfSignIn),
        };
        Ok(RuntimeConfig { api_base, sign_in })
    }

    /// The URL of an API path (`/v1/...`).
    pub fn api_url(&self, path: &str) -> String {
        format!("{}{path}", self.api_base)
    }

    /// How to sign in, when the page must.
    pub fn sign_in(&self) -> Option<&SignInConfig> {
        self.sign_in.as_ref()
    }
}

/// `url` without its trailing `/` when it is `http(s)://host[:port][/path]`
/// with nothing a URL or a Content-Security-Policy would read otherwise
/// (no user info, query, fragment, spaces, quotes or separators).
fn http_url(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let host = rest.split('/').next().unwrap_or_default();
    let clean = !url
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || "?#@;,'\"\\<>`".contains(c));
    (clean && !host.is_empty() && !host.starts_with(':'))
        .then(|| url.trim_end_matches('/').to_owned())
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const DEPLOYED: &str = r#"{"apiUrl":"https://abc.execute-api.ap-northeast-1.amazonaws.com","auth":{"issuer":"https://cognito-idp.ap-northeast-1.amazonaws.com/ap-northeast-1_X","clientId":"client","signInUrl":"https://marshal-1.auth.ap-northeast-1.amazoncognito.com"}}"#;

    #[test]
    fn deploy_pages_config_points_at_the_api_and_requires_sign_in() {
        let config = RuntimeConfig::from_json(DEPLOYED).unwrap();
        assert_eq!(
            config.api_url("/v1/config"),
            "https://abc.execute-api.ap-northeast-1.amazonaws.com/v1/config"
        );
        let sign_in = config.sign_in().unwrap();
        assert_eq!(sign_in.client_id, "client");
        assert_eq!(
            sign_in.token_endpoint(),
            "https://marshal-1.auth.ap-northeast-1.amazoncognito.com/oauth2/token"
        );
    }

    #[test]
    fn local_and_partial_configs() {
        assert_eq!(RuntimeConfig::local().api_url("/v1/config"), "/v1/config");
        assert_eq!(RuntimeConfig::local().sign_in(), None);
        for (json, api_url) in [
            // An external issuer without a client of the page's: no sign-in.
            (
                r#"{"apiUrl":"https://api.example.com/prod/","auth":{"issuer":"https://idp.example.com","clientId":null,"signInUrl":null}}"#,
                "https://api.example.com/prod/v1/x",
            ),
            (
                r#"{"apiUrl":"http://127.0.0.1:8080"}"#,
                "http://127.0.0.1:8080/v1/x",
            ),
            (r#"{"apiUrl":" ","auth":{"clientId":""}}"#, "/v1/x"),
            ("{}", "/v1/x"),
        ] {
            let config = RuntimeConfig::from_json(json).unwrap();
            assert_eq!(
                (config.api_url("/v1/x").as_str(), config.sign_in()),
                (api_url, None),
                "{json}"
            );
        }
    }

    #[test]
    fn malformed_configs_are_problems_not_guesses() {
        for (json, problem) in [
            ("", ConfigProblem::NotJson),
            ("<html>", ConfigProblem::NotJson),
            ("[]", ConfigProblem::NotJson),
            (r#"{"apiUrl":42}"#, ConfigProblem::NotJson),
            (
                r#"{"apiUrl":"ftp://x"}"#,
                ConfigProblem::ApiUrl("ftp://x".to_owned()),
            ),
            (
                r#"{"apiUrl":"https://"}"#,
                ConfigProblem::ApiUrl("https://".to_owned()),
            ),
            (
                r#"{"apiUrl":"https://a.example; script-src *"}"#,
                ConfigProblem::ApiUrl("https://a.example; script-src *".to_owned()),
            ),
            (
                r#"{"apiUrl":"https://u@a.example"}"#,
                ConfigProblem::ApiUrl("https://u@a.example".to_owned()),
            ),
            (r#"{"auth":{"clientId":"c"}}"#, ConfigProblem::HalfSignIn),
            (
                r#"{"auth":{"signInUrl":"https://s.example"}}"#,
                ConfigProblem::HalfSignIn,
            ),
            (
                r#"{"auth":{"clientId":"c","signInUrl":"javascript:alert(1)"}}"#,
                ConfigProblem::SignInUrl("javascript:alert(1)".to_owned()),
            ),
        ] {
            assert_eq!(RuntimeConfig::from_json(json), Err(problem), "{json}");
        }
    }
}
