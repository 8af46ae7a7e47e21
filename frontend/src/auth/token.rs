//! The token endpoint's answer and the id token the page sends as its
//! bearer token. The page reads the token's payload only to show who is
//! signed in and to know when it expires; it never verifies the signature
//! (API Gateway's JWT authorizer does, on every call).

use std::fmt;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::SignInProblem;
use super::encoding::base64url_decode;

/// Why an id token cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    /// The token endpoint's answer has no `id_token`.
    Missing,
    /// Not three base64url parts with a JSON object in the middle.
    Malformed,
    /// No numeric `exp` claim.
    NoExpiry,
    /// `aud` does not name this page's client: the API would refuse it.
    WrongAudience,
    /// `exp` has passed already.
    Expired,
}

/// A signed-in user's id token, held in the page's memory only.
#[derive(Clone, PartialEq, Eq)]
pub struct IdToken {
    raw: String,
    name: String,
    expires_at: i64,
}

impl IdToken {
    /// Reads the payload of `raw` (a JWT): `exp`, `aud` (which must name
    /// `client_id`) and a name to show.
    pub fn parse(raw: &str, client_id: &str) -> Result<IdToken, TokenProblem> {
        let mut parts = raw.split('.');
        let (Some(_header), Some(payload), Some(_signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenProblem::Malformed);
        };
        let claims: Map<String, Value> = base64url_decode(payload)
            .and_then(|json| serde_json::from_slice(&json).ok())
            .ok_or(TokenProblem::Malformed)?;
        let expires_at = claims
            .get("exp")
            .and_then(Value::as_f64)
            .filter(|exp| exp.is_finite())
            .ok_or(TokenProblem::NoExpiry)? as i64; // seconds: far inside i64
        let audience_ok = match claims.get("aud") {
            Some(Value::String(aud)) => aud == client_id,
            Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(client_id)),
            _ => false,
        };
        if !audience_ok {
            return Err(TokenProblem::WrongAudience);
        }
        let name = [
            "email",
            "cognito:username",
            "preferred_username",
            "username",
            "name",
            "sub",
        ]
        .iter()
        .find_map(|claim| claims.get(*claim)?.as_str().filter(|s| !s.is_empty()))
        .unwrap_or("?")
        .to_owned();
        Ok(IdToken {
            raw: raw.to_owned(),
            name,
            expires_at,
        })
    }

    /// Who is signed in: the email, else a username, else the subject.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `exp`, in seconds since the Unix epoch.
    pub fn expires_at(&self) -> i64 {
        self.expires_at
    }

    /// The `Authorization` header's value.
    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.raw)
    }
}

/// The token is a credential: never printed.
impl fmt::Debug for IdToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdToken")
            .field("name", &self.name)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    id_token: Option<String>,
}

#[derive(Deserialize)]
struct TokenError {
    error: String,
    error_description: Option<String>,
}

/// The token endpoint's answer (`status`, `body`) as the id token for
/// `client_id`, still valid at `now` (seconds since the epoch). Only the
/// id token is kept: the access and refresh tokens are dropped here.
pub fn parse_token_response(
    status: u16,
    body: &str,
    client_id: &str,
    now: i64,
) -> Result<IdToken, SignInProblem> {
    if status == 200 {
        let raw = serde_json::from_str::<TokenResponse>(body)
            .map_err(|_| SignInProblem::TokenEndpoint { status })?
            .id_token
            .ok_or(SignInProblem::BadToken(TokenProblem::Missing))?;
        let token = IdToken::parse(&raw, client_id).map_err(SignInProblem::BadToken)?;
        if token.expires_at <= now {
            return Err(SignInProblem::BadToken(TokenProblem::Expired));
        }
        return Ok(token);
    }
    match serde_json::from_str::<TokenError>(body) {
        Ok(TokenError {
            error,
            error_description,
        }) => Err(SignInProblem::TokenRefused {
            error,
            description: error_description,
        }),
        Err(_) => Err(SignInProblem::TokenEndpoint { status }),
    }
}
