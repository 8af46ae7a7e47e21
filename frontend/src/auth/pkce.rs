//! PKCE (RFC 7636) with the S256 method: a random verifier that stays in
//! the page's memory and the challenge that goes into the authorize URL.

use std::fmt;

use super::encoding::base64url;

/// A verifier and its S256 challenge.
#[derive(Clone, PartialEq, Eq)]
pub struct Pkce {
    verifier: String,
    challenge: String,
}

impl Pkce {
    /// The verifier of 32 random bytes (43 base64url characters, as RFC
    /// 7636 §4.1 recommends) and its challenge.
    pub fn from_random(bytes: &[u8; 32]) -> Pkce {
        Pkce::from_verifier(base64url(bytes))
    }

    /// The challenge of a given verifier:
    /// `BASE64URL(SHA256(ASCII(code_verifier)))`.
    pub fn from_verifier(verifier: String) -> Pkce {
        let challenge = base64url(&marshal_shared::sha256(verifier.as_bytes()));
        Pkce {
            verifier,
            challenge,
        }
    }

    /// Sent only to the token endpoint, with the code.
    pub fn verifier(&self) -> &str {
        &self.verifier
    }

    /// Sent in the authorize URL.
    pub fn challenge(&self) -> &str {
        &self.challenge
    }
}

/// The verifier is a secret until it is used: never printed.
impl fmt::Debug for Pkce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkce")
            .field("verifier", &"…")
            .field("challenge", &self.challenge)
            .finish()
    }
}
