//! The issuer's key set (JWKS) and the signature check: only RS256 and
//! ES256, a key found by `kid` whose type, `alg` and `use` fit, verified by
//! `jsonwebtoken` over aws-lc-rs.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use super::{Claims, TokenProblem};

/// What the verifier reads from a token's header before trusting it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Header {
    pub(super) alg: Algorithm,
    pub(super) kid: String,
}

impl Header {
    /// The header of `token`: refuses `none`, HS* and every other
    /// algorithm but RS256 and ES256, and a missing `kid`.
    pub(super) fn parse(token: &str) -> Result<Header, TokenProblem> {
        let mut parts = token.split('.');
        let (Some(header), Some(_), Some(_), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenProblem::Malformed);
        };
        let header: Value = URL_SAFE_NO_PAD
            .decode(header)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or(TokenProblem::Malformed)?;
        let alg = match header.get("alg").and_then(Value::as_str) {
            Some("RS256") => Algorithm::RS256,
            Some("ES256") => Algorithm::ES256,
            Some(none) if none.eq_ignore_ascii_case("none") => return Err(TokenProblem::Unsigned),
            Some(_) => return Err(TokenProblem::AlgorithmNotAccepted),
            None => return Err(TokenProblem::Malformed),
        };
        match header.get("kid").and_then(Value::as_str) {
            Some(kid) if !kid.is_empty() => Ok(Header {
                alg,
                kid: kid.to_owned(),
            }),
            _ => Err(TokenProblem::NoKeyId),
        }
    }
}

/// An issuer's signing keys by `kid`.
#[derive(Debug, Clone)]
pub struct KeySet {
    keys: Vec<Jwk>,
}

impl KeySet {
    /// Reads a JWKS document (`{"keys": [...]}`). Keys of kinds this
    /// verifier cannot use (e.g. `oct`, Ed25519) are skipped, not fatal.
    pub fn parse(text: &str) -> Result<KeySet, String> {
        let raw: Value =
            serde_json::from_str(text).map_err(|e| format!("the JWKS is not JSON: {e}"))?;
        let list = raw
            .get("keys")
            .and_then(Value::as_array)
            .ok_or("the JWKS has no \"keys\" array")?;
        let keys: Vec<Jwk> = list
            .iter()
            .filter_map(|key| serde_json::from_value(key.clone()).ok())
            .filter(|key: &Jwk| key.common.key_id.is_some())
            .collect();
        Ok(KeySet { keys })
    }

    /// How many usable keys it holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether it holds no usable key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether a key has this `kid`.
    pub fn has(&self, kid: &str) -> bool {
        self.find(kid).is_some()
    }

    fn find(&self, kid: &str) -> Option<&Jwk> {
        self.keys
            .iter()
            .find(|k| k.common.key_id.as_deref() == Some(kid))
    }

    /// Checks the signature of `token` (whose `header` was parsed) with the
    /// key its `kid` names, and returns its claims.
    pub(super) fn verify(&self, token: &str, header: &Header) -> Result<Claims, TokenProblem> {
        let jwk = self.find(&header.kid).ok_or(TokenProblem::UnknownKey)?;
        if jwk
            .common
            .public_key_use
            .as_ref()
            .is_some_and(|u| *u != PublicKeyUse::Signature)
        {
            return Err(TokenProblem::UnknownKey);
        }
        // A key published for one algorithm signs only with that one.
        if let Some(alg) = jwk.common.key_algorithm
            && alg.to_string() != format!("{:?}", header.alg)
        {
            return Err(TokenProblem::BadSignature);
        }
        let key = DecodingKey::from_jwk(jwk).map_err(|_| TokenProblem::BadSignature)?;
        let mut validation = Validation::new(header.alg);
        // The claims are checked by `claims`, with API Gateway's rules.
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.leeway = 0;
        match jsonwebtoken::decode::<Claims>(token, &key, &validation) {
            Ok(data) => Ok(data.claims),
            Err(e) => Err(match e.kind() {
                jsonwebtoken::errors::ErrorKind::Base64(_)
                | jsonwebtoken::errors::ErrorKind::Json(_)
                | jsonwebtoken::errors::ErrorKind::Utf8(_)
                | jsonwebtoken::errors::ErrorKind::InvalidToken => TokenProblem::Malformed,
                _ => TokenProblem::BadSignature,
            }),
        }
    }
}
