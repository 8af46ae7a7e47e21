//! The manage section's adopt form, for target admins: where the
//! certificate is there and nobody manages it (it was registered outside
//! Marshal), record an owner so it can be changed through Marshal.

use yew::prelude::*;

use super::info;
use crate::components::select_value;
use crate::i18n::Text;
use crate::i18n::manage::{ManageText, target_label};
use crate::state::manage::{ChangeKind, ManageAction};
use crate::state::{Action, Remote, State};

/// The form, or nothing when the caller may adopt it nowhere.
pub(super) fn adopt_form(state: &UseReducerHandle<State>, button: &NodeRef, busy: bool) -> Html {
    let lang = state.lang;
    let manage = &state.manage;
    let adoptable = manage.adoptable_targets(&state.config);
    if adoptable.is_empty() {
        return html! {};
    }
    let Remote::Loaded(config) = &state.config else {
        return html! {};
    };
    let dispatch = state.dispatcher().to_callback();
    let blocker = manage.blocker(ChangeKind::Adopt, &state.config);
    let blocker_text = match blocker {
        Some(ManageText::TooManyTargets) => format!(
            "{} {}.",
            ManageText::TooManyTargets.get(lang),
            config.limits.max_targets_per_request
        ),
        Some(text) => text.get(lang).to_owned(),
        None => String::new(),
    };
    let chosen_group = manage.adopt.owner_group.as_deref();
    html! {
        <fieldset class="adopt" id="manage-adopt">
            <legend>{ ManageText::AdoptHeading.get(lang) }</legend>
            <p class="hint">{ ManageText::AdoptHint.get(lang) }</p>
            <fieldset>
                <legend>{ ManageText::AdoptTargets.get(lang) }</legend>
                { for adoptable.iter().map(|t| {
                    let id = format!("manage-adopt-{}", t.target);
                    let onchange = dispatch.reform({
                        let target = t.target.clone();
                        move |_: Event| Action::Manage(ManageAction::ToggleAdopt(target.clone()))
                    });
                    html! {
                        <div class="check">
                            <input type="checkbox" id={id.clone()} value={t.target.clone()}
                                checked={manage.adopt.targets.contains(&t.target)} {onchange} />
                            <label for={id}>{ target_label(&info(state, &t.target)) }</label>
                        </div>
                    }
                }) }
            </fieldset>
            if !config.groups.is_empty() {
                <div class="field">
                    <label for="manage-adopt-group">{ ManageText::AdoptGroup.get(lang) }</label>
                    // The empty value stands for "only me": group names are never empty.
                    <select id="manage-adopt-group" onchange={dispatch.reform(|e: Event| {
                        Action::Manage(ManageAction::SetAdoptGroup(Some(select_value(&e)).filter(|g| !g.is_empty())))
                    })}>
                        <option value="" selected={chosen_group.is_none()}>{ Text::OnlyMe.get(lang) }</option>
                        { for config.groups.iter().map(|g| html! {
                            <option value={g.clone()} selected={chosen_group == Some(g.as_str())}>{ g }</option>
                        }) }
                    </select>
                </div>
            }
            <button type="button" id="manage-adopt-button" ref={button.clone()}
                onclick={dispatch.reform(|_: MouseEvent| Action::Manage(ManageAction::Ask(ChangeKind::Adopt)))}
                disabled={blocker.is_some()} aria-busy={busy.then_some("true")}
                aria-describedby="manage-adopt-blocker">
                { ManageText::AdoptButton.get(lang) }
            </button>
            <p class="hint" id="manage-adopt-blocker">{ blocker_text }</p>
        </fieldset>
    }
}
