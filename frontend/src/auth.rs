//! Signing in to the API's issuer with OAuth 2.0 authorization code + PKCE
//! (RFC 7636, S256), without I/O: the pieces are values in, values out, so
//! they are tested natively; `sign_in` does the browser's part (the popup,
//! its message, the token request).
//!
//! The flow: the page makes a [`SignInAttempt`] (a random `state` and PKCE
//! verifier, in memory only) and opens [`SignInAttempt::authorize_url`] in a
//! popup. The provider sends the popup back to the page's own URL with
//! `?code=&state=`; the page running there relays the [`CallbackParams`]
//! and closes. The opener [accepts](SignInAttempt::accept) them only for
//! its own `state`, exchanges the code with the verifier
//! ([`SignInAttempt::token_request_body`]) and keeps the [`IdToken`] in its
//! [`Session`], which puts it on API calls until it expires.

mod callback;
mod encoding;
mod pkce;
mod session;
mod token;

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;

pub use callback::{CallbackParams, SignInAttempt, redirect_uri, signed_out_uri};
pub use encoding::{base64url, base64url_decode, form_body, percent_encode, query_pairs};
pub use pkce::Pkce;
pub use session::{EXPIRY_MARGIN_SECS, Session, SignInNeed};
pub use token::{IdToken, TokenProblem, parse_token_response};

/// Where the page signs in: a public OAuth client of a Cognito-style
/// provider (`/oauth2/authorize`, `/oauth2/token`), from `config.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInConfig {
    /// The OAuth client ID (the id token's `aud`).
    pub client_id: String,
    /// `https://host[/path]`, without a trailing slash.
    pub sign_in_url: String,
}

impl SignInConfig {
    /// `{signInUrl}/oauth2/authorize`.
    pub fn authorize_endpoint(&self) -> String {
        format!("{}/oauth2/authorize", self.sign_in_url)
    }

    /// `{signInUrl}/oauth2/token`.
    pub fn token_endpoint(&self) -> String {
        format!("{}/oauth2/token", self.sign_in_url)
    }

    /// `{signInUrl}/logout?client_id=…&logout_uri=…`: the provider ends its
    /// own session (else its next sign-in would skip the password) and
    /// sends the window to `logout_uri`, a sign-out URL the client allows.
    pub fn logout_url(&self, logout_uri: &str) -> String {
        format!(
            "{}/logout?client_id={}&logout_uri={}",
            self.sign_in_url,
            percent_encode(&self.client_id),
            percent_encode(logout_uri)
        )
    }
}

/// The scopes the page asks for (the template's client allows these).
pub const SCOPES: &str = "openid email profile";

/// Why signing in did not work, ready to be put into words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInProblem {
    /// `window.open` returned nothing: the browser blocked the popup.
    PopupBlocked,
    /// Signed out of the page, but the popup that ends the provider's own
    /// session was blocked.
    SignOutPopupBlocked,
    /// The browser gave no random bytes for the state and verifier.
    NoRandomness,
    /// An answer came back for another request (not this page's `state`):
    /// refused, the page keeps waiting for its own.
    StateMismatch,
    /// The provider sent the user back with an OAuth error.
    Provider {
        error: String,
        description: Option<String>,
    },
    /// The answer had neither a code nor an error.
    NoCode,
    /// The token endpoint answered with an OAuth error.
    TokenRefused {
        error: String,
        description: Option<String>,
    },
    /// The token endpoint answered with something that is not OAuth.
    TokenEndpoint { status: u16 },
    /// The token endpoint could not be reached (network, CORS, CSP).
    Unreachable { detail: String },
    /// The token endpoint's id token cannot be used.
    BadToken(TokenProblem),
}
