//! The `[jwt]` table: which tokens the local server accepts when it checks
//! them itself (`auth = "jwt"` outside AWS Lambda), with the settings of API
//! Gateway's JWT authorizer (`template.yaml`).

use serde::Deserialize;

use super::ConfigError;
use crate::routes::loopback::is_loopback_url;

/// The largest clock skew the verifier allows. API Gateway documents none;
/// a minute covers a loopback provider and a drifting laptop clock.
pub const MAX_CLOCK_SKEW_SECONDS: u64 = 60;

/// How the local server verifies bearer tokens, as API Gateway's JWT
/// authorizer does: issuer, audiences and, optionally, scopes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JwtConfig {
    /// The `iss` every token must carry, exactly; its OpenID discovery
    /// document (`{issuer}/.well-known/openid-configuration`) names the
    /// keys unless `jwksUrl` does.
    pub issuer: String,
    /// The token's `aud` (or, without one, `client_id`) must be one of these.
    pub audiences: Vec<String>,
    /// When set, the token's `scope` (or `scp`) must hold one of these, as
    /// API Gateway's `authorizationScopes`.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// The issuer's key set, when it is not the one discovery names.
    #[serde(default)]
    pub jwks_url: Option<String>,
    /// Seconds of leeway for `exp`, `nbf` and `iat`; at most 60.
    #[serde(default = "default_skew")]
    pub clock_skew_seconds: u64,
}

fn default_skew() -> u64 {
    MAX_CLOCK_SKEW_SECONDS
}

impl JwtConfig {
    /// Refuses settings no token could meet, or that would fetch keys over
    /// plain HTTP from another machine.
    pub fn check(&self) -> Result<(), ConfigError> {
        let fail = |field: &str, why: String| Err(ConfigError(format!("jwt.{field}: {why}")));
        if let Err(why) = key_source_url(&self.issuer) {
            return fail("issuer", why);
        }
        if let Some(url) = &self.jwks_url
            && let Err(why) = key_source_url(url)
        {
            return fail("jwksUrl", why);
        }
        if self.audiences.is_empty() {
            return fail(
                "audiences",
                "at least one audience (the OAuth client id of the page or CLI) is needed".into(),
            );
        }
        for (field, list) in [("audiences", &self.audiences), ("scopes", &self.scopes)] {
            for (i, value) in list.iter().enumerate() {
                if value.is_empty() || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
                    return fail(
                        &format!("{field}[{i}]"),
                        format!("{value:?} must be non-empty, without whitespace"),
                    );
                }
            }
        }
        if self.clock_skew_seconds > MAX_CLOCK_SKEW_SECONDS {
            return fail(
                "clockSkewSeconds",
                format!(
                    "{} is more than {MAX_CLOCK_SKEW_SECONDS} s (API Gateway allows none)",
                    self.clock_skew_seconds
                ),
            );
        }
        Ok(())
    }
}

/// `https://…`, or `http://` on loopback only (a local provider): keys
/// fetched in the clear from elsewhere could be swapped on the way.
fn key_source_url(url: &str) -> Result<(), String> {
    let rest = if let Some(rest) = url.strip_prefix("https://") {
        rest
    } else if let Some(rest) = url.strip_prefix("http://") {
        if !is_loopback_url(url) {
            return Err(format!(
                "\"{url}\": plain http:// is allowed only on loopback (127.0.0.1, [::1], localhost)"
            ));
        }
        rest
    } else {
        return Err(format!("\"{url}\" is not an https:// URL"));
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty()
        || authority.contains('@')
        || url.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(format!("\"{url}\" is not a usable URL"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(issuer: &str) -> JwtConfig {
        JwtConfig {
            issuer: issuer.into(),
            audiences: vec!["page".into()],
            scopes: Vec::new(),
            jwks_url: None,
            clock_skew_seconds: 60,
        }
    }

    #[test]
    fn issuers_are_https_or_loopback_http() {
        for ok in [
            "https://cognito-idp.ap-northeast-1.amazonaws.com/ap-northeast-1_X",
            "http://127.0.0.1:5056",
            "http://localhost:5056/realms/x",
            "http://[::1]:1",
        ] {
            assert!(config(ok).check().is_ok(), "{ok}");
        }
        for bad in [
            "http://idp.example.com",
            "http://127.0.0.1.nip.io",
            "ftp://127.0.0.1",
            "https://",
            "idp.example.com",
        ] {
            let err = config(bad).check().err().map(|e| e.to_string());
            assert!(err.is_some_and(|e| e.contains("jwt.issuer")), "{bad}");
        }
    }

    #[test]
    fn audiences_scopes_and_skew_are_checked() {
        let mut c = config("https://idp.example.com");
        c.audiences.clear();
        assert!(c.check().is_err());
        c.audiences = vec!["a b".into()];
        assert!(c.check().is_err());
        c.audiences = vec!["page".into()];
        c.scopes = vec![String::new()];
        assert!(c.check().is_err());
        c.scopes = vec!["marshal/api".into()];
        c.clock_skew_seconds = 61;
        assert!(c.check().is_err());
        c.clock_skew_seconds = 0;
        assert!(c.check().is_ok());
    }
}
