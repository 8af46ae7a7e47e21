//! Who the API client calls as: nobody (no sign-in configured), nobody yet,
//! a signed-in user until the id token expires, or an expired session.

use super::IdToken;

/// A token this close to its `exp` is treated as expired, so a call does
/// not leave with a token that dies on the way.
pub const EXPIRY_MARGIN_SECS: i64 = 30;

/// The page's session with the API.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Session {
    /// No sign-in configured: calls go without a token (locally, or an API
    /// that does not ask for one).
    #[default]
    NotRequired,
    /// Sign-in is configured and nobody has signed in (or they signed out).
    SignedOut,
    SignedIn(IdToken),
    /// The token expired or the API refused it; `name` was signed in.
    Expired {
        name: String,
    },
}

/// Why a call needs a sign-in first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInNeed {
    /// Nobody is signed in: the call was not sent.
    SignedOut,
    /// The session expired: the call was not sent.
    Expired,
    /// The API answered 401 to a signed-in call (expired or revoked).
    Rejected,
    /// The API answered 401, but this page has no sign-in configured.
    NotConfigured,
}

impl Session {
    /// The session at start: signed out when sign-in is configured.
    pub fn new(sign_in_configured: bool) -> Session {
        if sign_in_configured {
            Session::SignedOut
        } else {
            Session::NotRequired
        }
    }

    /// The `Authorization` header for a call at `now` (seconds): none when
    /// no sign-in is configured, the bearer token when signed in, and the
    /// reason otherwise (the call must not be sent). A token past its
    /// expiry (less the margin) ends the session here.
    pub fn authorization(&mut self, now: i64) -> Result<Option<String>, SignInNeed> {
        self.expire_if_due(now);
        match self {
            Session::NotRequired => Ok(None),
            Session::SignedIn(token) => Ok(Some(token.bearer())),
            Session::SignedOut => Err(SignInNeed::SignedOut),
            Session::Expired { .. } => Err(SignInNeed::Expired),
        }
    }

    /// The API answered 401: a signed-in session ends (the token is
    /// forgotten); what the caller should be told.
    pub fn rejected(&mut self) -> SignInNeed {
        match self {
            Session::NotRequired => SignInNeed::NotConfigured,
            Session::SignedIn(token) => {
                *self = Session::Expired {
                    name: token.name().to_owned(),
                };
                SignInNeed::Rejected
            }
            Session::SignedOut => SignInNeed::SignedOut,
            Session::Expired { .. } => SignInNeed::Rejected,
        }
    }

    /// Ends a signed-in session whose token is (nearly) expired at `now`;
    /// true when it did.
    pub fn expire_if_due(&mut self, now: i64) -> bool {
        match self {
            Session::SignedIn(token) if token.expires_at() - EXPIRY_MARGIN_SECS <= now => {
                *self = Session::Expired {
                    name: token.name().to_owned(),
                };
                true
            }
            _ => false,
        }
    }

    /// Signs out: the token is forgotten. No-op without sign-in.
    pub fn sign_out(&mut self) {
        if *self != Session::NotRequired {
            *self = Session::SignedOut;
        }
    }

    /// Whether sign-in is configured at all.
    pub fn sign_in_configured(&self) -> bool {
        *self != Session::NotRequired
    }
}
