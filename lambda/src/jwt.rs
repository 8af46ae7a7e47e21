//! The local server's bearer-token check, as API Gateway's HTTP API JWT
//! authorizer does it in AWS: the issuer's keys (JWKS, found through OpenID
//! discovery or configured), an RS256 or ES256 signature by one of them,
//! then `iss`, `exp`/`nbf`/`iat`, `aud` (or `client_id`) and the scopes
//! (`[jwt]` in the configuration). In Lambda nothing here runs: the
//! authorizer has checked the token and its claims come in the request
//! context (`identity`).
//!
//! Tokens are never logged or echoed; refusals say what is wrong in words.

mod claims;
mod fetch;
mod keys;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use crate::config::JwtConfig;

pub use fetch::{HttpKeySource, KeySource};
pub use keys::KeySet;

/// Claims of a verified token.
pub type Claims = Map<String, Value>;

/// Why a token is refused, in words safe to send back (nothing of the
/// token is repeated).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenProblem {
    /// Not three base64url parts with a JSON header and payload.
    #[error("the bearer token is not a well-formed JWT")]
    Malformed,
    /// `alg: none`.
    #[error("the token is not signed (alg \"none\")")]
    Unsigned,
    /// Any algorithm but RS256 and ES256 (HS256 would let a public key sign).
    #[error("the token's signing algorithm is not accepted (only RS256 and ES256 are)")]
    AlgorithmNotAccepted,
    /// No `kid` in the header: API Gateway needs one too.
    #[error("the token names no signing key (no kid in its header)")]
    NoKeyId,
    /// The issuer publishes no key with that `kid` (after a refetch).
    #[error("the token was signed with an unknown key: the issuer publishes no key with its kid")]
    UnknownKey,
    /// The signature does not verify with the issuer's key.
    #[error("the token's signature does not verify with the issuer's key (bad signature)")]
    BadSignature,
    /// `iss` is not the configured issuer.
    #[error("the token is from the wrong issuer: this API accepts tokens of {expected}")]
    WrongIssuer { expected: String },
    /// No `exp`.
    #[error("the token has no expiry time (exp)")]
    NoExpiry,
    /// `exp` has passed.
    #[error("the token has expired")]
    Expired,
    /// `nbf` is still ahead.
    #[error("the token is not valid yet (nbf is in the future)")]
    NotYetValid,
    /// `iat` is ahead.
    #[error("the token was issued in the future (iat)")]
    IssuedInFuture,
    /// A time claim that is not a number.
    #[error("the token's {0} claim is not a number of seconds")]
    NotATime(&'static str),
    /// Neither `aud` nor `client_id` names a configured audience.
    #[error(
        "the token is for the wrong audience: its aud (or client_id) is not a client of this API"
    )]
    WrongAudience,
    /// None of the configured scopes.
    #[error("the token has none of the scopes this API requires ({wanted})")]
    MissingScope { wanted: String },
    /// No `sub`.
    #[error("the token names no subject (sub)")]
    NoSubject,
    /// The issuer's keys could not be had: not the caller's fault.
    #[error("the token issuer's keys could not be fetched: {0}")]
    KeysUnavailable(String),
}

impl TokenProblem {
    /// Whether the token is to blame (401), rather than this server (500).
    pub fn is_callers(&self) -> bool {
        !matches!(self, TokenProblem::KeysUnavailable(_))
    }
}

/// How often an unknown `kid` may send the verifier back to the issuer:
/// keys rotate rarely, and tokens with made-up kids must not become a
/// stream of requests to the issuer.
pub const MIN_REFETCH_INTERVAL: Duration = Duration::from_secs(10);
/// A key set older than this is fetched again before use.
pub const MAX_KEY_AGE: Duration = Duration::from_secs(3600);

/// Verifies bearer tokens against one issuer, caching its keys.
pub struct TokenVerifier {
    config: JwtConfig,
    source: Arc<dyn KeySource>,
    min_refetch: Duration,
    cache: tokio::sync::Mutex<KeyCache>,
}

#[derive(Default)]
struct KeyCache {
    keys: Option<(Arc<KeySet>, Instant)>,
    last_attempt: Option<Instant>,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("issuer", &self.config.issuer)
            .finish()
    }
}

impl TokenVerifier {
    /// A verifier for `config` whose keys come from `source`.
    pub fn new(config: JwtConfig, source: Arc<dyn KeySource>) -> TokenVerifier {
        TokenVerifier::with_refetch_interval(config, source, MIN_REFETCH_INTERVAL)
    }

    /// [`TokenVerifier::new`] with another least time between fetches.
    pub fn with_refetch_interval(
        config: JwtConfig,
        source: Arc<dyn KeySource>,
        min_refetch: Duration,
    ) -> TokenVerifier {
        TokenVerifier {
            config,
            source,
            min_refetch,
            cache: tokio::sync::Mutex::new(KeyCache::default()),
        }
    }

    /// The configuration it checks against.
    pub fn config(&self) -> &JwtConfig {
        &self.config
    }

    /// Verifies `token` at `now` (Unix seconds): its signature, then its claims.
    pub async fn verify(&self, token: &str, now: u64) -> Result<Claims, TokenProblem> {
        let header = keys::Header::parse(token)?;
        let keys = self.keys_with(&header.kid).await?;
        let claims = keys.verify(token, &header)?;
        claims::check(&claims, &self.config, now)?;
        Ok(claims)
    }

    /// The cached key set, fetched again when it is missing, old, or lacks
    /// `kid` (at most once per `min_refetch`).
    async fn keys_with(&self, kid: &str) -> Result<Arc<KeySet>, TokenProblem> {
        let mut cache = self.cache.lock().await;
        let fresh = cache
            .keys
            .as_ref()
            .filter(|(_, at)| at.elapsed() < MAX_KEY_AGE)
            .map(|(keys, _)| Arc::clone(keys));
        if let Some(keys) = &fresh
            && keys.has(kid)
        {
            return Ok(Arc::clone(keys));
        }
        let may_fetch = cache
            .last_attempt
            .is_none_or(|at| at.elapsed() >= self.min_refetch);
        if may_fetch {
            cache.last_attempt = Some(Instant::now());
            match self
                .source
                .fetch()
                .await
                .and_then(|text| KeySet::parse(&text))
            {
                Ok(keys) => {
                    let keys = Arc::new(keys);
                    tracing::info!(keys = keys.len(), "token issuer's keys fetched");
                    cache.keys = Some((Arc::clone(&keys), Instant::now()));
                    return if keys.has(kid) {
                        Ok(keys)
                    } else {
                        Err(TokenProblem::UnknownKey)
                    };
                }
                Err(why) => {
                    tracing::warn!(error = %why, "token issuer's keys could not be fetched");
                    if cache.keys.is_none() {
                        return Err(TokenProblem::KeysUnavailable(why));
                    }
                }
            }
        }
        // Old keys still serve while the issuer cannot be reached.
        match &cache.keys {
            Some((keys, _)) if keys.has(kid) => Ok(Arc::clone(keys)),
            Some(_) => Err(TokenProblem::UnknownKey),
            None => Err(TokenProblem::KeysUnavailable(
                "no key set yet; the last attempt failed moments ago".into(),
            )),
        }
    }
}

/// Unix seconds now.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
