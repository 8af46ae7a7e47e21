//! The manage section's actions: activate, deactivate, delete, the copy /
//! move form (only where the certificate is yours), adopting (admins), and
//! the confirmation panel that names what will happen before anything is
//! sent.

use marshal_shared::api::{GetCertificateResponse, GetConfigResponse, TransferMode};
use wasm_bindgen::JsCast;
use web_sys::HtmlElement;
use yew::prelude::*;

use super::adopt::adopt_form;
use super::rotate::rotate_controls;
use super::{info, send_change};
use crate::components::{input_value, select_value};
use crate::i18n::Text;
use crate::i18n::manage::{ManageText, confirm_label, confirmation, target_label};
use crate::state::manage::{ChangeKind, ManageAction, RotationPlan};
use crate::state::{Action, Remote, State};

#[derive(Properties, PartialEq)]
pub(super) struct ManageActionsProps {
    pub(super) state: UseReducerHandle<State>,
    pub(super) on_rotate: Callback<RotationPlan>,
}

#[function_component(ManageActions)]
pub(super) fn manage_actions(props: &ManageActionsProps) -> Html {
    let state = &props.state;
    let lang = state.lang;
    let manage = &state.manage;
    let dispatch = state.dispatcher().to_callback();
    let status_refs = use_memo((), |()| {
        [NodeRef::default(), NodeRef::default(), NodeRef::default()]
    });
    let transfer_ref = use_node_ref();
    let adopt_ref = use_node_ref();
    let cancel_ref = use_node_ref();
    let previous = use_mut_ref(|| None::<ChangeKind>);

    // The panel takes the focus when it opens. When it closes with the
    // focus inside it (Cancel, Escape, Confirm), the focus goes back to the
    // button that opened it, or to the change's progress after a Confirm.
    {
        let cancel_ref = cancel_ref.clone();
        let status_refs = status_refs.clone();
        let transfer_ref = transfer_ref.clone();
        let adopt_ref = adopt_ref.clone();
        let changing = manage.changing();
        use_effect_with(manage.pending, move |pending| {
            let before = previous.replace(*pending);
            match (pending, before) {
                // Retire's panel is drawn with the rotation, outside this component.
                (Some(ChangeKind::Retire), _) => focus_id("manage-cancel"),
                (Some(_), _) => focus(&cancel_ref),
                (None, Some(kind)) if focus_was_lost() => {
                    if changing {
                        focus_id("manage-change");
                    } else {
                        focus(match kind {
                            ChangeKind::Activate => &status_refs[0],
                            ChangeKind::Deactivate => &status_refs[1],
                            ChangeKind::Delete => &status_refs[2],
                            ChangeKind::Transfer(_) => &transfer_ref,
                            ChangeKind::Adopt => &adopt_ref,
                            ChangeKind::Retire => return focus_id("manage-retire"),
                        });
                    }
                }
                _ => {}
            }
        });
    }

    let Some(looked_up) = manage.looked_up() else {
        return html! {};
    };
    let config = match &state.config {
        Remote::Loaded(config) => Some(&**config),
        _ => None,
    };
    let max = config.map_or(0, |c| c.limits.max_targets_per_request);
    let blocker_text = |blocker: Option<ManageText>| match blocker {
        Some(ManageText::TooManyTargets) => {
            format!("{} {max}.", ManageText::TooManyTargets.get(lang))
        }
        Some(text) => text.get(lang).to_owned(),
        None => String::new(),
    };
    let busy = |kind: ChangeKind| {
        manage
            .change
            .as_ref()
            .filter(|c| c.kind == kind && manage.changing())
            .map(|_| "true")
    };

    let status_blocker = manage.blocker(ChangeKind::Delete, &state.config);
    let status_button = |kind: ChangeKind, id: &'static str, text: ManageText, node: &NodeRef| {
        let onclick = dispatch.reform(move |_: MouseEvent| Action::Manage(ManageAction::Ask(kind)));
        html! {
            <button type="button" {id} ref={node.clone()} {onclick}
                class={(kind == ChangeKind::Delete).then_some("danger")}
                disabled={status_blocker.is_some()} aria-busy={busy(kind)}
                aria-describedby="manage-actions-blocker">
                { text.get(lang) }
            </button>
        }
    };

    let transfer_kind = ChangeKind::Transfer(manage.transfer.mode);
    let transfer_blocker = manage.blocker(transfer_kind, &state.config);
    let panel = confirmation_panel(state, &cancel_ref);
    // The panel opens below the button that asked for it.
    let panel_after_transfer = matches!(manage.pending, Some(ChangeKind::Transfer(_)));
    let panel_after_adopt = manage.pending == Some(ChangeKind::Adopt);
    let adopt = adopt_form(state, &adopt_ref, busy(ChangeKind::Adopt).is_some());

    // Nothing here is the caller's to change: no buttons, only why (and adopting, for admins).
    if !manage.changeable_anywhere() && looked_up.targets.iter().any(|t| t.present) {
        return html! {
            <div class="manage-actions">
                <p class="status" id="manage-none-yours">{ ManageText::NoneYours.get(lang) }</p>
                { adopt }
                if panel_after_adopt { { panel } }
            </div>
        };
    }

    html! {
        <div class="manage-actions">
            <h3>{ ManageText::Actions.get(lang) }</h3>
            <p class="hint">{ ManageText::ActionsHint.get(lang) }</p>
            <div class="downloads">
                { status_button(ChangeKind::Activate, "manage-activate", ManageText::Activate, &status_refs[0]) }
                { status_button(ChangeKind::Deactivate, "manage-deactivate", ManageText::Deactivate, &status_refs[1]) }
                { status_button(ChangeKind::Delete, "manage-delete", ManageText::Delete, &status_refs[2]) }
            </div>
            <p class="hint" id="manage-actions-blocker">{ blocker_text(status_blocker) }</p>
            if !panel_after_transfer && !panel_after_adopt && manage.pending != Some(ChangeKind::Retire) { { panel.clone() } }
            <fieldset class="transfer">
                <legend>{ ManageText::TransferHeading.get(lang) }</legend>
                <p class="hint">{ ManageText::TransferHint.get(lang) }</p>
                { transfer_form(state, looked_up, config) }
                <button type="button" id="manage-transfer" ref={transfer_ref}
                    onclick={dispatch.reform(move |_: MouseEvent| Action::Manage(ManageAction::Ask(transfer_kind)))}
                    disabled={transfer_blocker.is_some()} aria-busy={busy(transfer_kind)}
                    aria-describedby="manage-transfer-blocker">
                    { if manage.transfer.mode == TransferMode::Copy { ManageText::CopyButton } else { ManageText::MoveButton }.get(lang) }
                </button>
                <p class="hint" id="manage-transfer-blocker">{ blocker_text(transfer_blocker) }</p>
            </fieldset>
            if panel_after_transfer { { panel.clone() } }
            { rotate_controls(state, &props.on_rotate) }
            { adopt }
            if panel_after_adopt { { panel } }
        </div>
    }
}

/// Destinations, policy, thing name and what happens at the source.
fn transfer_form(
    state: &UseReducerHandle<State>,
    looked_up: &GetCertificateResponse,
    config: Option<&GetConfigResponse>,
) -> Html {
    let lang = state.lang;
    let manage = &state.manage;
    let dispatch = state.dispatcher().to_callback();
    let free: Vec<&str> = looked_up
        .targets
        .iter()
        .map(|t| t.target.as_str())
        .filter(|t| manage.can_receive(t))
        .collect();
    let policy = config.and_then(|c| manage.transfer_policy(c));
    let modes = [
        (TransferMode::Copy, "manage-mode-copy", ManageText::ModeCopy),
        (
            TransferMode::MoveDeactivate,
            "manage-mode-move-deactivate",
            ManageText::ModeMoveDeactivate,
        ),
        (
            TransferMode::MoveDelete,
            "manage-mode-move-delete",
            ManageText::ModeMoveDelete,
        ),
    ];
    html! {
        <>
            <fieldset>
                <legend>{ ManageText::Destinations.get(lang) }</legend>
                if free.is_empty() {
                    <p class="hint">{ ManageText::NoDestinations.get(lang) }</p>
                }
                { for free.iter().map(|&target| {
                    let id = format!("manage-to-{target}");
                    let onchange = dispatch.reform({
                        let target = target.to_owned();
                        move |_: Event| Action::Manage(ManageAction::ToggleDestination(target.clone()))
                    });
                    html! {
                        <div class="check">
                            <input type="checkbox" id={id.clone()} value={target.to_owned()}
                                checked={manage.transfer.to.contains(target)} {onchange} />
                            <label for={id}>{ target_label(&info(state, target)) }</label>
                        </div>
                    }
                }) }
            </fieldset>
            <div class="grid">
                <div class="field">
                    <label for="manage-policy">{ ManageText::Policy.get(lang) }</label>
                    <select id="manage-policy"
                        onchange={dispatch.reform(|e: Event| Action::Manage(ManageAction::SetPolicy(select_value(&e))))}>
                        { for config.into_iter().flat_map(|c| c.policies.iter()).map(|p| html! {
                            <option value={p.name.clone()} selected={policy == Some(p.name.as_str())}>{ &p.name }</option>
                        }) }
                    </select>
                </div>
                <div class="field">
                    <label for="manage-thing">
                        { ManageText::ThingName.get(lang) }
                        <span class="optional">{ format!(" ({})", Text::Optional.get(lang)) }</span>
                    </label>
                    <input id="manage-thing" type="text" value={manage.transfer.thing_name.clone()}
                        autocomplete="off" spellcheck="false" aria-describedby="manage-thing-hint"
                        oninput={dispatch.reform(|e: InputEvent| Action::Manage(ManageAction::SetThingName(input_value(&e))))} />
                    <p class="hint field-hint" id="manage-thing-hint">{ ManageText::ThingNameHint.get(lang) }</p>
                </div>
            </div>
            <fieldset>
                <legend>{ ManageText::Mode.get(lang) }</legend>
                { for modes.into_iter().map(|(mode, id, text)| html! {
                    <div class="check">
                        <input type="radio" name="manage-mode" {id} checked={manage.transfer.mode == mode}
                            onchange={dispatch.reform(move |_: Event| Action::Manage(ManageAction::SetMode(mode)))} />
                        <label for={id}>{ text.get(lang) }</label>
                    </div>
                }) }
            </fieldset>
        </>
    }
}

/// The pending change in words, with Confirm and Cancel (Escape cancels).
pub(super) fn confirmation_panel(state: &UseReducerHandle<State>, cancel_ref: &NodeRef) -> Html {
    let lang = state.lang;
    let Some(c) = state.manage.confirmation(&state.config) else {
        return html! {};
    };
    let cancel = state
        .dispatcher()
        .to_callback()
        .reform(|_: MouseEvent| Action::Manage(ManageAction::Cancel));
    let onkeydown = {
        let dispatcher = state.dispatcher();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" {
                e.prevent_default();
                dispatcher.dispatch(Action::Manage(ManageAction::Cancel));
            }
        })
    };
    let onconfirm = {
        let state = state.clone();
        Callback::from(move |_: MouseEvent| {
            // Built again from the state as it is at the click.
            let Some(c) = state.manage.confirmation(&state.config) else {
                return;
            };
            state.dispatch(Action::Manage(ManageAction::ChangeSent {
                kind: c.kind,
                certificate_id: c.certificate_id.clone(),
            }));
            send_change(&state.dispatcher(), c.certificate_id, c.request);
        })
    };
    let sentences = confirmation(&c, lang);
    let destructive = matches!(
        c.kind,
        ChangeKind::Delete
            | ChangeKind::Deactivate
            | ChangeKind::Transfer(TransferMode::MoveDelete | TransferMode::MoveDeactivate)
    );
    html! {
        <div class="confirm" id="manage-confirm-panel" role="alertdialog"
            aria-labelledby="manage-confirm-heading" aria-describedby="manage-confirm-text" {onkeydown}>
            <h3 id="manage-confirm-heading">{ ManageText::ConfirmHeading.get(lang) }</h3>
            <div id="manage-confirm-text">
                { for sentences.iter().enumerate().map(|(i, s)| if i == 0 {
                    html! { <p><strong>{ s }</strong></p> }
                } else {
                    html! { <p>{ s }</p> }
                }) }
            </div>
            <p class="muted">
                { format!("{}: ", Text::CertificateId.get(lang)) }<code>{ &c.certificate_id }</code>
            </p>
            <div class="downloads">
                <button type="button" id="manage-confirm" onclick={onconfirm}
                    class={if destructive { "primary danger" } else { "primary" }}>
                    { confirm_label(c.kind, lang) }
                </button>
                <button type="button" id="manage-cancel" ref={cancel_ref.clone()} onclick={cancel}>
                    { ManageText::Cancel.get(lang) }
                </button>
            </div>
        </div>
    }
}

fn focus(node: &NodeRef) {
    if let Some(element) = node.cast::<HtmlElement>() {
        let _ = element.focus();
    }
}

fn focus_id(id: &str) {
    let element = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id))
        .and_then(|e| e.dyn_into::<HtmlElement>().ok());
    if let Some(element) = element {
        let _ = element.focus();
    }
}

/// Whether the focus fell to the page (its element was removed), so
/// moving it takes nothing from the user.
fn focus_was_lost() -> bool {
    let document = web_sys::window().and_then(|w| w.document());
    match document.as_ref().and_then(|d| d.active_element()) {
        None => true,
        Some(active) => document
            .and_then(|d| d.body())
            .is_some_and(|body| active == *body.as_ref()),
    }
}
