//! The browser's half of sign-in (the pure half is `auth`): the popup that
//! opens the provider, the relay that runs in that popup when the provider
//! sends it back, and the token request.
//!
//! The page is never navigated away: its private keys exist only in its
//! memory. The popup comes back to the page's own URL, so the page's code
//! runs there too and [`relay_callback`] hands the answer over. It posts to
//! `window.opener` (target origin: its own); when the opener is gone —
//! `Cross-Origin-Opener-Policy: same-origin`, which the page is served
//! with, severs it once the popup has been to the provider's origin — it
//! posts on a same-origin `BroadcastChannel` instead. Either way only the
//! attempt whose `state` matches uses the code, and only with the verifier
//! it holds.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::JsValue;
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{BroadcastChannel, Headers, MessageEvent, Request, RequestInit, Response, Window};
use yew::Callback;

use crate::api_client;
use crate::auth::{
    CallbackParams, IdToken, SignInAttempt, SignInConfig, SignInProblem, parse_token_response,
    redirect_uri, signed_out_uri,
};
use crate::i18n::Lang;
use crate::i18n::auth::AuthText;
use crate::worker::describe;

/// The channel the popup falls back to when it has no opener.
const CHANNEL: &str = "marshal-sign-in";
/// The popup's window name: pressing "sign in" again reuses it.
const POPUP_NAME: &str = "marshal-sign-in";
const POPUP_FEATURES: &str = "popup,width=520,height=720";

/// In the popup, back from the provider with `?code=&state=` (or
/// `?error=`): hands the answer to the page that opened it and closes.
/// False when this is not such a return, and the page starts as usual.
pub(crate) fn relay_callback() -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let location = window.location();
    let Some(answer) = location
        .search()
        .ok()
        .and_then(|search| CallbackParams::from_query(&search))
    else {
        return false;
    };
    let message = JsValue::from_str(&answer.to_message());
    let origin = location.origin().unwrap_or_default();
    let opener = window
        .opener()
        .ok()
        .filter(|opener| !opener.is_null() && !opener.is_undefined());
    let posted = opener.is_some_and(|opener| {
        opener
            .unchecked_into::<Window>()
            .post_message(&message, &origin)
            .is_ok()
    });
    if !posted && let Ok(channel) = BroadcastChannel::new(CHANNEL) {
        let _ = channel.post_message(&message);
        channel.close();
    }
    show_done(&window);
    let _ = window.close();
    true
}

/// What the popup shows if the browser keeps it open.
fn show_done(window: &Window) {
    let lang = Lang::from_tag(&window.navigator().language().unwrap_or_default());
    let Some(document) = window.document() else {
        return;
    };
    let Some(root) = document.get_element_by_id("app") else {
        return;
    };
    let page = redirect_uri(
        &window.location().origin().unwrap_or_default(),
        &window.location().pathname().unwrap_or_default(),
    );
    root.set_text_content(None);
    let paragraph = document.create_element("p");
    let link = document.create_element("a");
    if let (Ok(paragraph), Ok(link)) = (paragraph, link) {
        paragraph.set_text_content(Some(AuthText::PopupDone.get(lang)));
        link.set_text_content(Some(AuthText::OpenPage.get(lang)));
        let _ = link.set_attribute("href", &page);
        let _ = root.append_child(&paragraph);
        let _ = root.append_child(&link);
    }
}

/// What a sign-in attempt reports to the bar.
#[derive(Debug)]
pub(crate) enum SignInEvent {
    /// An answer for another attempt was refused; still waiting.
    Refused(SignInProblem),
    /// The answer is ours: the code is being exchanged.
    Exchanging,
    /// Signed in (the API client has the token already), or not. Never
    /// sent from inside a listener, so the bar may drop the [`Pending`].
    Done(Result<String, SignInProblem>),
}

/// A sign-in waiting for the popup's answer. Dropping it stops listening;
/// the verifier goes with it.
pub(crate) struct Pending {
    window: Window,
    on_message: Closure<dyn FnMut(MessageEvent)>,
    channel: Option<BroadcastChannel>,
    _on_channel: Closure<dyn FnMut(MessageEvent)>,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending").finish_non_exhaustive()
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        let _ = self.window.remove_event_listener_with_callback(
            "message",
            self.on_message.as_ref().unchecked_ref(),
        );
        if let Some(channel) = &self.channel {
            channel.set_onmessage(None);
            channel.close();
        }
    }
}

/// Ends the provider's own session: opens `{signInUrl}/logout` in the
/// sign-in popup, which comes back to `signed-out.html` and closes itself.
/// Must run in the click's handler, like [`begin`].
pub(crate) fn end_provider_session(config: &SignInConfig) -> Result<(), SignInProblem> {
    let window = web_sys::window().ok_or(SignInProblem::SignOutPopupBlocked)?;
    let location = window.location();
    let signed_out = signed_out_uri(
        &location.origin().unwrap_or_default(),
        &location.pathname().unwrap_or_default(),
    );
    window
        .open_with_url_and_target_and_features(
            &config.logout_url(&signed_out),
            POPUP_NAME,
            POPUP_FEATURES,
        )
        .ok()
        .flatten()
        .map(|_| ())
        .ok_or(SignInProblem::SignOutPopupBlocked)
}

/// Opens the provider's sign-in in a popup and listens for its answer.
/// Must run in the click's handler (browsers allow popups only then).
pub(crate) fn begin(
    config: &SignInConfig,
    on_event: Callback<SignInEvent>,
) -> Result<Pending, SignInProblem> {
    let window = web_sys::window().ok_or(SignInProblem::PopupBlocked)?;
    let mut random = [0u8; 64];
    getrandom::fill(&mut random).map_err(|_| SignInProblem::NoRandomness)?;
    let (state, verifier) = random.split_at(32);
    let (Ok(state), Ok(verifier)) = (<[u8; 32]>::try_from(state), <[u8; 32]>::try_from(verifier))
    else {
        return Err(SignInProblem::NoRandomness); // 64 split at 32: always two halves
    };
    let location = window.location();
    let origin = location.origin().unwrap_or_default();
    let page = redirect_uri(&origin, &location.pathname().unwrap_or_default());
    let attempt = Rc::new(SignInAttempt::new(&state, &verifier, page));

    let popup = window
        .open_with_url_and_target_and_features(
            &attempt.authorize_url(config),
            POPUP_NAME,
            POPUP_FEATURES,
        )
        .ok()
        .flatten();
    if popup.is_none() {
        return Err(SignInProblem::PopupBlocked);
    }

    let handle = answer_handler(config.clone(), attempt, on_event);
    let on_message = {
        let handle = handle.clone();
        Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            // Only this origin's pages (the popup at the page's URL) count.
            if event.origin() == origin
                && let Some(text) = event.data().as_string()
            {
                handle(&text);
            }
        })
    };
    let _ = window.add_event_listener_with_callback("message", on_message.as_ref().unchecked_ref());
    let on_channel = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        // A BroadcastChannel delivers only this origin's messages.
        if let Some(text) = event.data().as_string() {
            handle(&text);
        }
    });
    let channel = BroadcastChannel::new(CHANNEL).ok();
    if let Some(channel) = &channel {
        channel.set_onmessage(Some(on_channel.as_ref().unchecked_ref()));
    }
    Ok(Pending {
        window,
        on_message,
        channel,
        _on_channel: on_channel,
    })
}

/// What to do with a message: ignore others', refuse another attempt's
/// answer, or exchange this attempt's code (once).
fn answer_handler(
    config: SignInConfig,
    attempt: Rc<SignInAttempt>,
    on_event: Callback<SignInEvent>,
) -> Rc<dyn Fn(&str)> {
    let used = Rc::new(Cell::new(false));
    Rc::new(move |text: &str| {
        let Some(answer) = CallbackParams::from_message(text) else {
            return;
        };
        if used.get() {
            return;
        }
        match attempt.accept(&answer) {
            Err(SignInProblem::StateMismatch) => {
                on_event.emit(SignInEvent::Refused(SignInProblem::StateMismatch));
            }
            Err(problem) => {
                used.set(true);
                // Later, not from inside this listener: the bar drops the
                // `Pending` (and so this listener) when it is done.
                let on_event = on_event.clone();
                spawn_local(async move { on_event.emit(SignInEvent::Done(Err(problem))) });
            }
            Ok(code) => {
                used.set(true);
                on_event.emit(SignInEvent::Exchanging);
                let (config, attempt, code) = (config.clone(), attempt.clone(), code.to_owned());
                let on_event = on_event.clone();
                spawn_local(async move {
                    let result = exchange(&config, &attempt, &code).await.map(|token| {
                        let name = token.name().to_owned();
                        expire_later(token.expires_at());
                        api_client::signed_in(token);
                        name
                    });
                    on_event.emit(SignInEvent::Done(result));
                });
            }
        }
    })
}

/// `POST {signInUrl}/oauth2/token` with the code and the verifier.
async fn exchange(
    config: &SignInConfig,
    attempt: &SignInAttempt,
    code: &str,
) -> Result<IdToken, SignInProblem> {
    let unreachable = |e: JsValue| SignInProblem::Unreachable {
        detail: describe(e),
    };
    let init = RequestInit::new();
    init.set_method("POST");
    let headers = Headers::new().map_err(unreachable)?;
    headers
        .set("Content-Type", "application/x-www-form-urlencoded")
        .map_err(unreachable)?;
    headers
        .set("Accept", "application/json")
        .map_err(unreachable)?;
    init.set_headers(&headers);
    init.set_body(&JsValue::from_str(
        &attempt.token_request_body(config, code),
    ));
    // The provider needs no cookie of ours, and gets none.
    init.set_credentials(web_sys::RequestCredentials::Omit);
    let request =
        Request::new_with_str_and_init(&config.token_endpoint(), &init).map_err(unreachable)?;
    let window = web_sys::window().ok_or_else(|| unreachable(JsValue::from_str("no window")))?;
    let response: Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(unreachable)?
        .dyn_into()
        .map_err(unreachable)?;
    let status = response.status();
    let body = JsFuture::from(response.text().map_err(unreachable)?)
        .await
        .map_err(unreachable)?
        .as_string()
        .unwrap_or_default();
    let now = (js_sys::Date::now() / 1000.0) as i64;
    parse_token_response(status, &body, &config.client_id, now)
}

/// Ends the session when the token expires (less the margin), so the bar
/// says so even if no call is made. A later sign-in's token is checked on
/// its own: this only expires a token that is due.
fn expire_later(expires_at: i64) {
    let now_ms = js_sys::Date::now();
    let due_ms = (expires_at - crate::auth::EXPIRY_MARGIN_SECS) as f64 * 1000.0;
    // setTimeout holds at most 2^31-1 ms; tokens live hours, not weeks.
    let wait = (due_ms - now_ms).clamp(0.0, f64::from(i32::MAX)) as u64;
    spawn_local(async move {
        yew::platform::time::sleep(Duration::from_millis(wait)).await;
        api_client::expire_if_due();
    });
}
