//! The page's sections, each a function component over the shared state.

mod batch;
mod credential_form;
mod credential_view;
mod import;
mod language_switch;
mod manage;
mod register;

pub(crate) use batch::BatchSection;
pub(crate) use credential_form::CredentialSection;
pub(crate) use credential_view::CredentialView;
#[cfg(test)]
pub(crate) use credential_view::CredentialViewProps;
pub(crate) use import::ImportSection;
pub(crate) use language_switch::LanguageSwitch;
pub(crate) use manage::ManageSection;
pub(crate) use register::RegisterSection;

use wasm_bindgen::JsCast;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

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
