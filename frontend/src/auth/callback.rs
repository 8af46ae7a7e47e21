//! One sign-in attempt: the authorize URL it opens, the answer the popup
//! relays back, and the token request made with the attempt's verifier.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::encoding::{base64url, form_body, query_pairs};
use super::pkce::Pkce;
use super::{SCOPES, SignInConfig, SignInProblem};

/// A sign-in in progress: what the page must remember (in memory only)
/// between opening the popup and the popup's answer.
#[derive(Clone, PartialEq, Eq)]
pub struct SignInAttempt {
    state: String,
    pkce: Pkce,
    redirect_uri: String,
}

impl SignInAttempt {
    /// A fresh attempt: `state` and `verifier` are 32 random bytes each
    /// (made by the caller, so this stays deterministic under test), and
    /// `redirect_uri` is the page's own URL ([`redirect_uri`]).
    pub fn new(state: &[u8; 32], verifier: &[u8; 32], redirect_uri: String) -> SignInAttempt {
        SignInAttempt {
            state: base64url(state),
            pkce: Pkce::from_random(verifier),
            redirect_uri,
        }
    }

    /// The opaque value the provider hands back unchanged.
    pub fn state(&self) -> &str {
        &self.state
    }

    /// Where the provider sends the popup back to.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// `{signInUrl}/oauth2/authorize?response_type=code&…` with the S256
    /// challenge, every value percent-encoded.
    pub fn authorize_url(&self, config: &SignInConfig) -> String {
        format!(
            "{}?{}",
            config.authorize_endpoint(),
            form_body(&[
                ("response_type", "code"),
                ("client_id", &config.client_id),
                ("redirect_uri", &self.redirect_uri),
                ("scope", SCOPES),
                ("state", &self.state),
                ("code_challenge_method", "S256"),
                ("code_challenge", self.pkce.challenge()),
            ])
        )
    }

    /// The code in the popup's answer, if the answer is for this attempt.
    /// An answer with another `state` is refused: it was not asked for by
    /// this page (or not by this attempt), so its code is never used.
    pub fn accept<'a>(&self, answer: &'a CallbackParams) -> Result<&'a str, SignInProblem> {
        if !same(answer.state.as_bytes(), self.state.as_bytes()) {
            return Err(SignInProblem::StateMismatch);
        }
        if let Some(error) = &answer.error {
            return Err(SignInProblem::Provider {
                error: error.clone(),
                description: answer.error_description.clone(),
            });
        }
        answer.code.as_deref().ok_or(SignInProblem::NoCode)
    }

    /// The `application/x-www-form-urlencoded` body that exchanges `code`
    /// at `{signInUrl}/oauth2/token`: the verifier proves this page made
    /// the request the code answers.
    pub fn token_request_body(&self, config: &SignInConfig, code: &str) -> String {
        form_body(&[
            ("grant_type", "authorization_code"),
            ("client_id", &config.client_id),
            ("code", code),
            ("redirect_uri", &self.redirect_uri),
            ("code_verifier", self.pkce.verifier()),
        ])
    }
}

/// The state and verifier are secrets until used: never printed.
impl fmt::Debug for SignInAttempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignInAttempt")
            .field("pkce", &self.pkce)
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

/// Equal bytes, compared without stopping at the first difference.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// What the provider put on the page's URL when it sent the popup back:
/// `?code=…&state=…`, or `?error=…&state=…`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackParams {
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

/// The message the popup posts: tagged, so the page tells it from anything
/// else that arrives.
#[derive(Serialize, Deserialize)]
struct Message {
    #[serde(rename = "marshalSignIn")]
    answer: CallbackParams,
}

impl CallbackParams {
    /// The answer in a page URL's query (`location.search`); `None` when
    /// the query is not a sign-in answer (no `state`, or neither `code` nor
    /// `error`), so the page starts as usual.
    pub fn from_query(query: &str) -> Option<CallbackParams> {
        let mut answer = CallbackParams {
            state: String::new(),
            code: None,
            error: None,
            error_description: None,
        };
        let mut has_state = false;
        for (name, value) in query_pairs(query) {
            match name.as_str() {
                "state" => {
                    has_state = true;
                    answer.state = value;
                }
                "code" => answer.code = Some(value),
                "error" => answer.error = Some(value),
                "error_description" => answer.error_description = Some(value),
                _ => {}
            }
        }
        (has_state && (answer.code.is_some() || answer.error.is_some())).then_some(answer)
    }

    /// The JSON the popup posts to the page.
    pub fn to_message(&self) -> String {
        serde_json::to_string(&Message {
            answer: self.clone(),
        })
        .unwrap_or_default() // strings only: serialising cannot fail
    }

    /// The answer in a posted message; `None` for any other message.
    pub fn from_message(text: &str) -> Option<CallbackParams> {
        serde_json::from_str::<Message>(text).ok().map(|m| m.answer)
    }
}

/// The code is a secret until exchanged: never printed.
impl fmt::Debug for CallbackParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackParams")
            .field("code", &self.code.as_ref().map(|_| "…"))
            .field("error", &self.error)
            .field("error_description", &self.error_description)
            .finish_non_exhaustive()
    }
}

/// The page's own URL as the provider must send the popup back to it: no
/// query or fragment, and `/index.html` as `/` (the distribution serves
/// the page at `/`, which is the template's callback URL).
pub fn redirect_uri(origin: &str, pathname: &str) -> String {
    let path = pathname.strip_suffix("index.html").unwrap_or(pathname);
    let path = if path.is_empty() { "/" } else { path };
    format!("{origin}{path}")
}

/// Where the provider sends the sign-out window: `signed-out.html` beside
/// the page, which closes itself (the template allows this sign-out URL).
pub fn signed_out_uri(origin: &str, pathname: &str) -> String {
    let page = redirect_uri(origin, pathname);
    let folder = page.rfind('/').map_or(page.len(), |slash| slash + 1);
    format!("{}signed-out.html", &page[..folder])
}
