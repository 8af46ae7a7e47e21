//! One certificate's ledger events, oldest first, below the inventory
//! table: focused when it opens, and "close" gives the focus back to the
//! row's history button.

use marshal_shared::api::{LedgerEvent, TargetErrorCode};
use web_sys::HtmlElement;
use yew::prelude::*;

use crate::components::failure_text;
use crate::i18n::inventory::{InventoryText, action_word, phase_word};
use crate::i18n::manage::target_label;
use crate::i18n::{Lang, Text, explain_target_error};
use crate::state::inventory::InventoryAction;
use crate::state::manage::target_info;
use crate::state::{Action, Remote, State};

#[derive(Properties, PartialEq)]
pub(super) struct HistoryPanelProps {
    pub(super) state: UseReducerHandle<State>,
}

#[function_component(HistoryPanel)]
pub(super) fn history_panel(props: &HistoryPanelProps) -> Html {
    let state = &props.state;
    let lang = state.lang;
    let panel_ref = use_node_ref();
    let opened = state
        .inventory
        .history
        .as_ref()
        .map(|h| (h.certificate_id.clone(), h.row));
    {
        let panel_ref = panel_ref.clone();
        use_effect_with(opened, move |opened| {
            if opened.is_some()
                && let Some(panel) = panel_ref.cast::<HtmlElement>()
            {
                let _ = panel.focus();
            }
        });
    }
    let Some(history) = &state.inventory.history else {
        return html! {};
    };
    let on_close = {
        let dispatcher = state.dispatcher();
        let row = history.row;
        Callback::from(move |_: MouseEvent| {
            dispatcher.dispatch(Action::Inventory(InventoryAction::HistoryClosed));
            let button = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.get_element_by_id(&format!("inventory-history-{row}")))
                .and_then(|e| wasm_bindgen::JsCast::dyn_into::<HtmlElement>(e).ok());
            if let Some(button) = button {
                let _ = button.focus();
            }
        })
    };
    let body = match &history.events {
        Remote::NotAsked => html! {},
        Remote::Loading => html! {
            <p class="status busy" role="status">{ InventoryText::HistoryLoading.get(lang) }</p>
        },
        Remote::Failed(failure) => html! {
            <div role="alert">
                <p class="status error">{ InventoryText::HistoryFailed.get(lang) }</p>
                { failure_text(failure, lang) }
            </div>
        },
        Remote::Loaded(response) if response.events.is_empty() => html! {
            <p class="status" id="inventory-history-empty">{ InventoryText::HistoryEmpty.get(lang) }</p>
        },
        Remote::Loaded(response) => events_table(state, &response.events),
    };
    html! {
        <section class="history" id="inventory-history" ref={panel_ref} tabindex="-1"
            aria-labelledby="inventory-history-heading">
            <h3 id="inventory-history-heading">
                { format!("{} ", InventoryText::HistoryHeading.get(lang)) }
                <code class="certificate-id">{ &history.certificate_id }</code>
            </h3>
            { body }
            <button type="button" id="inventory-history-close" onclick={on_close}>
                { InventoryText::CloseHistory.get(lang) }
            </button>
        </section>
    }
}

fn events_table(state: &State, events: &[LedgerEvent]) -> Html {
    let lang = state.lang;
    let config = match &state.config {
        Remote::Loaded(config) => Some(&**config),
        _ => None,
    };
    let labels = [
        InventoryText::Time.get(lang),
        InventoryText::Action.get(lang),
        InventoryText::Phase.get(lang),
        InventoryText::Result.get(lang),
        InventoryText::By.get(lang),
        InventoryText::Target.get(lang),
        InventoryText::Detail.get(lang),
    ];
    let row = |e: &LedgerEvent| {
        let result = match (e.ok, e.code) {
            (Some(true), _) => {
                html! { <span class="outcome ok">{ InventoryText::Ok.get(lang) }</span> }
            }
            (Some(false), code) => html! {
                <>
                    <span class="outcome failed">{ InventoryText::FailedEvent.get(lang) }</span>
                    if let Some(code) = code {
                        <br/><code>{ code_name(code) }</code>
                        <br/><span class="muted">{ explain_target_error(code, lang) }</span>
                    }
                </>
            },
            (None, _) => html! { { "—" } },
        };
        let by = e.username.clone().unwrap_or_else(|| e.subject.clone());
        let detail = detail_text(e, lang);
        html! {
            <tr class={match e.ok { Some(true) => "ok", Some(false) => "failed", None => "" }}>
                <td data-label={labels[0]}>{ &e.at }</td>
                <td data-label={labels[1]}>{ action_word(e.action, lang) }</td>
                <td data-label={labels[2]}>{ phase_word(e.phase, lang) }</td>
                <td class="status-cell" data-label={labels[3]}>{ result }</td>
                <td data-label={labels[4]}>{ by }</td>
                <td data-label={labels[5]}>{ target_label(&target_info(config, &e.target)) }</td>
                <td data-label={labels[6]}>{ detail }</td>
            </tr>
        }
    };
    html! {
        <div class="table-scroll">
            <table id="inventory-history-table" class="stacked" aria-labelledby="inventory-history-heading">
                <thead><tr>
                    { for labels.iter().map(|label| html! { <th scope="col">{ *label }</th> }) }
                </tr></thead>
                <tbody>{ for events.iter().map(row) }</tbody>
            </table>
        </div>
    }
}

/// The event's words, status, thing, policy and the other certificate of a rotation.
fn detail_text(e: &LedgerEvent, lang: Lang) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(detail) = &e.detail {
        parts.push(detail.clone());
    }
    if let Some(status) = e.status {
        parts.push(status.as_str().to_owned());
    }
    if let Some(thing) = &e.thing {
        parts.push(format!("{} {thing}", Text::ThingName.get(lang)));
    }
    if let Some(policy) = &e.policy {
        parts.push(format!("{} {policy}", Text::Policy.get(lang)));
    }
    if let Some(related) = &e.related {
        parts.push(format!("↔ {related}"));
    }
    if parts.is_empty() {
        "—".to_owned()
    } else {
        parts.join(" · ")
    }
}

/// The stable snake_case code, as the API spells it.
fn code_name(code: TargetErrorCode) -> String {
    serde_json::to_value(code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}
