//! "Inventory": the certificates Marshal registered in the visible targets,
//! soonest expiry first, filtered, paged with "load more", each with its
//! history, and the loaded rows exported as CSV. The state and the words are
//! in `state::inventory` and `i18n::inventory`; this file does the
//! browser's part: calling the API, the clipboard, the download, focus.

mod history;

use std::cell::Cell;

use marshal_shared::api::InventoryEntry;
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::HtmlElement;
use yew::prelude::*;

use super::{failure_text, input_value, select_value};
use crate::api_client;
use crate::download::save_text;
use crate::i18n::Lang;
use crate::i18n::inventory::{InventoryText, expiry_badge, rows_loaded};
use crate::i18n::manage::target_label;
use crate::state::inventory::{Expiry, InventoryAction, InventoryQuery, Loading, inventory_csv};
use crate::state::manage::{short_id, target_info};
use crate::state::{Action, Remote, State};

#[derive(Properties, PartialEq)]
pub(crate) struct InventorySectionProps {
    pub(crate) state: UseReducerHandle<State>,
}

type Dispatcher = UseReducerDispatcher<State>;

thread_local! {
    /// Tickets for pages and histories: unique, so late answers are told apart.
    static TICKETS: Cell<u64> = const { Cell::new(0) };
}

fn next_ticket() -> u64 {
    TICKETS.with(|t| {
        let next = t.get() + 1;
        t.set(next);
        next
    })
}

#[function_component(InventorySection)]
pub(crate) fn inventory_section(props: &InventorySectionProps) -> Html {
    let state = &props.state;
    let lang = state.lang;
    let inventory = &state.inventory;
    let dispatch = state.dispatcher().to_callback();
    let date_ref = use_node_ref();
    let export_error = use_state(|| None::<String>);
    let copied = use_state(|| None::<Result<String, ()>>);
    let config = match &state.config {
        Remote::Loaded(config) => Some(&**config),
        _ => None,
    };

    let onsubmit = {
        let state = state.clone();
        let date_ref = date_ref.clone();
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let config = match &state.config {
                Remote::Loaded(config) => Some(&**config),
                _ => None,
            };
            match state.inventory.filters.query(config) {
                Ok(query) => search(&state.dispatcher(), query),
                Err(_) => {
                    state.dispatch(Action::Inventory(InventoryAction::SearchRefused));
                    if let Some(input) = date_ref.cast::<HtmlElement>() {
                        let _ = input.focus();
                    }
                }
            }
        })
    };
    let on_more = {
        let state = state.clone();
        Callback::from(move |_: MouseEvent| {
            let inventory = &state.inventory;
            let (Some(query), Some(cursor)) = (&inventory.query, &inventory.next_cursor) else {
                return;
            };
            if inventory.busy() {
                return;
            }
            let ticket = next_ticket();
            state.dispatch(Action::Inventory(InventoryAction::MoreStarted { ticket }));
            let (query, cursor, dispatcher) = (query.clone(), cursor.clone(), state.dispatcher());
            spawn_local(async move {
                let result = api_client::list_certificates(&query, Some(&cursor)).await;
                dispatcher.dispatch(Action::Inventory(InventoryAction::PageLoaded {
                    ticket,
                    result,
                }));
            });
        })
    };
    let on_export = {
        let rows = inventory.rows.clone();
        let export_error = export_error.clone();
        Callback::from(move |_: MouseEvent| {
            // A byte-order mark, so spreadsheets read UTF-8 (Japanese names) as UTF-8.
            let csv = format!("\u{feff}{}", inventory_csv(&rows));
            let day = String::from(js_sys::Date::new_0().to_iso_string())
                .get(..10)
                .unwrap_or_default()
                .to_owned();
            let result = save_text(
                &format!("marshal-inventory-{day}.csv"),
                "text/csv;charset=utf-8",
                &csv,
            );
            export_error.set(result.err());
        })
    };

    let problem = inventory.visible_problem(&state.config);
    let date_described_by = if problem.is_some() {
        "inventory-expires-before-error"
    } else {
        "inventory-expires-before-hint"
    };
    let now = (js_sys::Date::now() / 1000.0) as i64;
    let more = inventory.next_cursor.is_some();

    html! {
        <section class="card" aria-labelledby="inventory-heading">
            <h2 id="inventory-heading">{ InventoryText::Heading.get(lang) }</h2>
            <p class="hint">{ InventoryText::Intro.get(lang) }</p>
            <form id="inventory-filters" {onsubmit}>
                <fieldset>
                    <legend>{ InventoryText::Filters.get(lang) }</legend>
                    <div class="grid">
                        <div class="field">
                            <label for="inventory-target">{ InventoryText::Target.get(lang) }</label>
                            <select id="inventory-target"
                                onchange={dispatch.reform(|e: Event| Action::Inventory(InventoryAction::SetTarget(select_value(&e))))}>
                                <option value="" selected={inventory.filters.target.is_empty()}>{ InventoryText::AllTargets.get(lang) }</option>
                                { for config.into_iter().flat_map(|c| c.targets.iter()).map(|t| html! {
                                    <option value={t.id.clone()} selected={inventory.filters.target == t.id}>{ target_label(t) }</option>
                                }) }
                            </select>
                        </div>
                        <div class="field">
                            <label for="inventory-thing">{ InventoryText::Thing.get(lang) }</label>
                            <input id="inventory-thing" type="text" value={inventory.filters.thing.clone()}
                                autocomplete="off" spellcheck="false"
                                oninput={dispatch.reform(|e: InputEvent| Action::Inventory(InventoryAction::SetThing(input_value(&e))))} />
                        </div>
                        <div class="field">
                            <label for="inventory-expires-before">{ InventoryText::ExpiresBefore.get(lang) }</label>
                            <input id="inventory-expires-before" type="date" ref={date_ref}
                                value={inventory.filters.expires_before.clone()}
                                aria-invalid={problem.is_some().then_some("true")}
                                aria-describedby={date_described_by}
                                oninput={dispatch.reform(|e: InputEvent| Action::Inventory(InventoryAction::SetExpiresBefore(input_value(&e))))} />
                            if problem.is_some() {
                                <p class="field-error" id="inventory-expires-before-error">{ InventoryText::BadDate.get(lang) }</p>
                            } else {
                                <p class="hint field-hint" id="inventory-expires-before-hint">{ InventoryText::ExpiresBeforeHint.get(lang) }</p>
                            }
                        </div>
                        <div class="field">
                            <label for="inventory-registered-by">{ InventoryText::RegisteredBy.get(lang) }</label>
                            <input id="inventory-registered-by" type="text" value={inventory.filters.registered_by.clone()}
                                autocomplete="off" spellcheck="false"
                                oninput={dispatch.reform(|e: InputEvent| Action::Inventory(InventoryAction::SetRegisteredBy(input_value(&e))))} />
                        </div>
                    </div>
                </fieldset>
                <div class="downloads">
                    <button type="submit" class="primary" id="inventory-search"
                        aria-busy={matches!(inventory.loading, Loading::Search).then_some("true")}>
                        { InventoryText::Search.get(lang) }
                    </button>
                    <button type="button" id="inventory-export" onclick={on_export}
                        disabled={inventory.rows.is_empty()} aria-describedby="inventory-export-hint">
                        { InventoryText::ExportCsv.get(lang) }
                    </button>
                </div>
                <p class="hint" id="inventory-export-hint">{ InventoryText::ExportHint.get(lang) }</p>
                if let Some(error) = &*export_error {
                    <p class="status error" role="alert">{ format!("{} {error}", InventoryText::ExportFailed.get(lang)) }</p>
                }
            </form>
            { status(state, lang) }
            if !inventory.rows.is_empty() {
                <p id="inventory-count" class="status" role="status">{ rows_loaded(inventory.rows.len(), more, lang) }</p>
                { table(state, now, &copied) }
            }
            if more {
                <div class="downloads">
                    <button type="button" id="inventory-more" onclick={on_more}
                        disabled={inventory.busy()}
                        aria-busy={matches!(inventory.loading, Loading::More).then_some("true")}>
                        { InventoryText::LoadMore.get(lang) }
                    </button>
                </div>
            }
            if let Loading::Failed { failure, more: true } = &inventory.loading {
                <div role="alert">
                    <p class="status error">{ InventoryText::MoreFailed.get(lang) }</p>
                    { failure_text(failure, lang) }
                </div>
            }
            <history::HistoryPanel state={state.clone()} />
        </section>
    }
}

/// A first page for `query`; the rows shown so far are replaced.
fn search(dispatcher: &Dispatcher, query: InventoryQuery) {
    let ticket = next_ticket();
    dispatcher.dispatch(Action::Inventory(InventoryAction::SearchStarted {
        query: query.clone(),
        ticket,
    }));
    let dispatcher = dispatcher.clone();
    spawn_local(async move {
        let result = api_client::list_certificates(&query, None).await;
        dispatcher.dispatch(Action::Inventory(InventoryAction::PageLoaded {
            ticket,
            result,
        }));
    });
}

/// Loading, failed, nothing found, or not searched yet.
fn status(state: &State, lang: Lang) -> Html {
    let inventory = &state.inventory;
    match &inventory.loading {
        Loading::Search => html! {
            <p class="status busy" role="status">{ InventoryText::Searching.get(lang) }</p>
        },
        Loading::More => html! {
            <p class="status busy" role="status">{ InventoryText::LoadingMore.get(lang) }</p>
        },
        Loading::Failed {
            failure,
            more: false,
        } => html! {
            <div role="alert" id="inventory-failed">
                <p class="status error">{ InventoryText::Failed.get(lang) }</p>
                { failure_text(failure, lang) }
            </div>
        },
        Loading::Failed { more: true, .. } => html! {},
        Loading::Idle if inventory.query.is_none() => html! {
            <p class="hint" id="inventory-not-searched">{ InventoryText::NotSearched.get(lang) }</p>
        },
        Loading::Idle if inventory.rows.is_empty() => html! {
            <p class="status" id="inventory-empty" role="status">{ InventoryText::Empty.get(lang) }</p>
        },
        Loading::Idle => html! {},
    }
}

/// The rows, with the days-left badge and a history button each.
fn table(
    state: &UseReducerHandle<State>,
    now: i64,
    copied: &UseStateHandle<Option<Result<String, ()>>>,
) -> Html {
    let lang = state.lang;
    let labels = [
        InventoryText::Certificate.get(lang),
        InventoryText::Target.get(lang),
        InventoryText::Status.get(lang),
        InventoryText::NotAfter.get(lang),
        InventoryText::Thing.get(lang),
        InventoryText::Policy.get(lang),
        InventoryText::RegisteredBy.get(lang),
        InventoryText::RegisteredAt.get(lang),
        InventoryText::Actions.get(lang),
    ];
    let config = match &state.config {
        Remote::Loaded(config) => Some(&**config),
        _ => None,
    };
    let row = |(i, e): (usize, &InventoryEntry)| {
        let expiry = Expiry::of(&e.not_after, now);
        let target = target_info(config, &e.target);
        let on_copy = {
            let (id, copied) = (e.certificate_id.clone(), copied.clone());
            Callback::from(move |_: MouseEvent| copy_id(&id, &copied))
        };
        let on_history = {
            let (id, dispatcher) = (e.certificate_id.clone(), state.dispatcher());
            Callback::from(move |_: MouseEvent| open_history(&dispatcher, id.clone(), i))
        };
        let optional = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".to_owned());
        html! {
            <tr data-certificate={e.certificate_id.clone()} data-target={e.target.clone()}>
                <th scope="row" data-label={labels[0]}>
                    <code class="short-id" title={e.certificate_id.clone()}>{ short_id(&e.certificate_id) }</code>
                    { " " }
                    <button type="button" class="small" id={format!("inventory-copy-{i}")} onclick={on_copy}
                        title={e.certificate_id.clone()}>
                        { InventoryText::CopyId.get(lang) }
                        <span class="visually-hidden">{ format!(" {}", e.certificate_id) }</span>
                    </button>
                </th>
                <td data-label={labels[1]}>{ target_label(&target) }</td>
                <td data-label={labels[2]}>
                    { e.status.map_or("—", |s| s.as_str()) }
                    if let Some(successor) = &e.successor {
                        <br/><span class="muted">
                            { format!("{} ", InventoryText::Successor.get(lang)) }
                            <code title={successor.clone()}>{ short_id(successor) }</code>
                        </span>
                    }
                </td>
                <td data-label={labels[3]}>
                    <span class={classes!("badge", expiry.class())}>{ expiry_badge(expiry, lang) }</span>
                    <br/><span class="muted">{ &e.not_after }</span>
                </td>
                if e.managed {
                    <td data-label={labels[4]}>{ optional(&e.thing) }</td>
                    <td data-label={labels[5]}>{ optional(&e.policy) }</td>
                    <td data-label={labels[6]}>{ optional(&e.registered_by) }</td>
                    <td data-label={labels[7]}>{ optional(&e.registered_at) }</td>
                    <td data-label={labels[8]}>
                        <button type="button" id={format!("inventory-history-{i}")} onclick={on_history}>
                            { InventoryText::History.get(lang) }
                            <span class="visually-hidden">{ format!(" {} {}", short_id(&e.certificate_id), target.name) }</span>
                        </button>
                    </td>
                } else {
                    <td colspan="5" class="muted" data-label={labels[4]}>{ InventoryText::NotYours.get(lang) }</td>
                }
            </tr>
        }
    };
    html! {
        <>
            // One live region for every row's copy button.
            <p class="hint" id="inventory-copy-status" role="status">
                { match **copied {
                    Some(Ok(ref id)) => format!("{}: {}", InventoryText::Copied.get(lang), short_id(id)),
                    _ => String::new(),
                } }
            </p>
            if matches!(**copied, Some(Err(()))) {
                <p class="status error" role="alert">{ InventoryText::CopyFailed.get(lang) }</p>
            }
            <div class="table-scroll">
                <table id="inventory-table" class="stacked" aria-labelledby="inventory-heading">
                    <thead><tr>
                        { for labels.iter().map(|label| html! { <th scope="col">{ *label }</th> }) }
                    </tr></thead>
                    <tbody>{ for state.inventory.rows.iter().enumerate().map(row) }</tbody>
                </table>
            </div>
        </>
    }
}

/// The full ID to the clipboard; the page says it was copied, or that it could not be.
fn copy_id(id: &str, copied: &UseStateHandle<Option<Result<String, ()>>>) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let promise = window.navigator().clipboard().write_text(id);
    let (id, copied) = (id.to_owned(), copied.clone());
    spawn_local(async move {
        copied.set(Some(
            JsFuture::from(promise).await.map(|_| id).map_err(|_| ()),
        ));
    });
}

/// Asks for one certificate's history; the panel below the table shows it.
fn open_history(dispatcher: &Dispatcher, certificate_id: String, row: usize) {
    let ticket = next_ticket();
    dispatcher.dispatch(Action::Inventory(InventoryAction::HistoryStarted {
        certificate_id: certificate_id.clone(),
        row,
        ticket,
    }));
    let dispatcher = dispatcher.clone();
    spawn_local(async move {
        let result = api_client::certificate_history(&certificate_id)
            .await
            .map(std::rc::Rc::new);
        dispatcher.dispatch(Action::Inventory(InventoryAction::HistoryLoaded {
            ticket,
            result,
        }));
    });
}
