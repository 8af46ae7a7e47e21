//! The page's sections, each a function component over the shared state.

mod batch;
mod batch_job;
mod credential_form;
mod credential_view;
mod import;
mod inventory;
mod language_switch;
mod manage;
mod register;
mod signin;

pub(crate) use batch::BatchSection;
pub(crate) use credential_form::CredentialSection;
pub(crate) use credential_view::CredentialView;
#[cfg(test)]
pub(crate) use credential_view::CredentialViewProps;
pub(crate) use import::ImportSection;
pub(crate) use inventory::InventorySection;
pub(crate) use language_switch::LanguageSwitch;
pub(crate) use manage::ManageSection;
pub(crate) use register::RegisterSection;
pub(crate) use signin::SignInBar;

use wasm_bindgen::JsCast;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::i18n::auth::{page_config_unusable, sign_in_need};
use crate::i18n::{Lang, Text, explain_error};
use crate::state::ApiFailure;

/// An API failure in plain words: the explanation of its code, the
/// server's message, and the request id to quote.
fn failure_text(failure: &ApiFailure, lang: Lang) -> Html {
    match failure {
        ApiFailure::Refused {
            code,
            message,
            request_id,
            ..
        } => html! {
            <p>
                { explain_error(*code, lang) }
                <br/><span class="muted">{ format!("{message} ({}: {request_id})", Text::RequestId.get(lang)) }</span>
            </p>
        },
        ApiFailure::Unreachable { detail } => html! { <p>{ detail }</p> },
        ApiFailure::SignIn(need) => {
            html! { <p class="sign-in-needed">{ sign_in_need(*need, lang) }</p> }
        }
        ApiFailure::PageConfig => html! { <p>{ page_config_unusable(lang) }</p> },
    }
}

/// The `<input>` an event came from (a file picker's `change`, say).
fn event_input(event: &Event) -> Option<HtmlInputElement> {
    event
        .target()
        .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
}

/// The text of the `<input>` an input event came from.
fn input_value(event: &InputEvent) -> String {
    event
        .target()
        .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
        .map(|input| input.value())
        .unwrap_or_default()
}

/// The value of the `<select>` a change event came from.
fn select_value(event: &Event) -> String {
    event
        .target()
        .and_then(|t| t.dyn_into::<HtmlSelectElement>().ok())
        .map(|select| select.value())
        .unwrap_or_default()
}
