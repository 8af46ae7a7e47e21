//! The claim checks of API Gateway's JWT authorizer, on a verified
//! payload: `iss`, `exp`/`nbf`/`iat` with the configured skew, `aud` or
//! `client_id`, scopes, and a subject. No clock of its own: `now` comes in.

use serde_json::Value;

use super::{Claims, TokenProblem};
use crate::config::JwtConfig;

/// Checks `claims` against `config` at `now` (Unix seconds).
pub(super) fn check(claims: &Claims, config: &JwtConfig, now: u64) -> Result<(), TokenProblem> {
    if claims.get("iss").and_then(Value::as_str) != Some(config.issuer.as_str()) {
        return Err(TokenProblem::WrongIssuer {
            expected: config.issuer.clone(),
        });
    }
    let skew = config.clock_skew_seconds;
    let exp = time(claims, "exp")?.ok_or(TokenProblem::NoExpiry)?;
    if now >= exp.saturating_add(skew) {
        return Err(TokenProblem::Expired);
    }
    if let Some(nbf) = time(claims, "nbf")?
        && nbf > now.saturating_add(skew)
    {
        return Err(TokenProblem::NotYetValid);
    }
    if let Some(iat) = time(claims, "iat")?
        && iat > now.saturating_add(skew)
    {
        return Err(TokenProblem::IssuedInFuture);
    }
    // API Gateway: `aud` when the token has one (ID tokens), else
    // `client_id` (Cognito's access tokens).
    let audience_ok = match claims.get("aud") {
        Some(Value::String(aud)) => config.audiences.contains(aud),
        Some(Value::Array(auds)) => auds
            .iter()
            .filter_map(Value::as_str)
            .any(|aud| config.audiences.iter().any(|a| a == aud)),
        Some(_) => false,
        None => claims
            .get("client_id")
            .and_then(Value::as_str)
            .is_some_and(|id| config.audiences.iter().any(|a| a == id)),
    };
    if !audience_ok {
        return Err(TokenProblem::WrongAudience);
    }
    if !config.scopes.is_empty() {
        let held: Vec<&str> = ["scope", "scp"]
            .iter()
            .filter_map(|name| claims.get(*name))
            .flat_map(|value| match value {
                Value::String(s) => s.split_whitespace().collect::<Vec<_>>(),
                Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            })
            .collect();
        if !config.scopes.iter().any(|s| held.contains(&s.as_str())) {
            return Err(TokenProblem::MissingScope {
                wanted: config.scopes.join(" "),
            });
        }
    }
    match claims.get("sub") {
        Some(Value::String(sub)) if !sub.is_empty() => Ok(()),
        _ => Err(TokenProblem::NoSubject),
    }
}

/// A NumericDate claim in whole seconds; absent is `None`, anything but a
/// non-negative number is refused (a string `exp` is not "no expiry").
fn time(claims: &Claims, name: &'static str) -> Result<Option<u64>, TokenProblem> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => {
            if let Some(secs) = n.as_u64() {
                Ok(Some(secs))
            } else {
                match n.as_f64() {
                    Some(secs) if secs.is_finite() && secs >= 0.0 => Ok(Some(secs as u64)),
                    _ => Err(TokenProblem::NotATime(name)),
                }
            }
        }
        Some(_) => Err(TokenProblem::NotATime(name)),
    }
}
