//! "Make credentials": the form, the worker's progress and what it made.

use marshal_shared::KeyType;
use yew::prelude::*;

use super::{input_value, select_value};
use crate::app::key_type_label;
use crate::i18n::Text;
use crate::state::{Action, Field, Generation, State};

#[derive(Properties, PartialEq)]
pub(crate) struct CredentialSectionProps {
    pub(crate) state: UseReducerHandle<State>,
    pub(crate) on_generate: Callback<()>,
}

#[function_component(CredentialSection)]
pub(crate) fn credential_section(props: &CredentialSectionProps) -> Html {
    let state = &props.state;
    let lang = state.lang;
    let form = &state.form;
    let errors = state.visible_form_errors();
    let running = matches!(state.generation, Generation::Running);
    let dispatch = state.dispatcher().to_callback();

    let text_field = |id: &'static str,
                      label: Text,
                      hint: Option<Text>,
                      value: &str,
                      field: Field,
                      action: fn(String) -> Action| {
        let error = errors.iter().find(|(f, _)| *f == field).map(|(_, t)| *t);
        let error_id = format!("{id}-error");
        let hint_id = format!("{id}-hint");
        let optional = !matches!(field, Field::CommonName | Field::ValidityDays);
        let described_by = match (hint.is_some(), error.is_some()) {
            (_, true) => Some(error_id.clone()),
            (true, false) => Some(hint_id.clone()),
            (false, false) => None,
        };
        let oninput = dispatch.reform(move |e: InputEvent| action(input_value(&e)));
        html! {
            <div class="field">
                <label for={id}>
                    { label.get(lang) }
                    if optional { <span class="optional">{ format!(" ({})", Text::Optional.get(lang)) }</span> }
                </label>
                <input {id} type="text" value={value.to_owned()} {oninput}
                    autocomplete="off" spellcheck="false"
                    aria-invalid={error.is_some().then_some("true")}
                    aria-describedby={described_by} />
                if let Some(error) = error {
                    <p class="field-error" id={error_id}>{ error.get(lang) }</p>
                } else if let Some(hint) = hint {
                    <p class="hint field-hint" id={hint_id}>{ hint.get(lang) }</p>
                }
            </div>
        }
    };

    let on_key_type = dispatch
        .reform(|e: Event| Action::SetKeyType(select_value(&e).parse().unwrap_or(KeyType::EcP256)));
    let onsubmit = {
        let on_generate = props.on_generate.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            on_generate.emit(());
        })
    };

    html! {
        <div id="make-panel">
            <form {onsubmit} novalidate=true>
                <div class="grid">
                    <div class="field">
                        <label for="key-type">{ Text::KeyType.get(lang) }</label>
                        <select id="key-type" onchange={on_key_type}>
                            { for KeyType::ALL.iter().map(|&k| html! {
                                <option value={k.as_str()} selected={k == form.key_type}>
                                    { key_type_label(k, lang) }
                                </option>
                            }) }
                        </select>
                    </div>
                    { text_field("common-name", Text::CommonName, Some(Text::CommonNameHint), &form.common_name, Field::CommonName, Action::SetCommonName) }
                    { text_field("validity-days", Text::ValidityDays, None, &form.validity_days, Field::ValidityDays, Action::SetValidityDays) }
                    { text_field("organization", Text::Organization, None, &form.organization, Field::Organization, Action::SetOrganization) }
                    { text_field("organizational-unit", Text::OrganizationalUnit, None, &form.organizational_unit, Field::OrganizationalUnit, Action::SetOrganizationalUnit) }
                    { text_field("country", Text::Country, None, &form.country, Field::Country, Action::SetCountry) }
                </div>
                <button type="submit" class="primary" id="generate"
                    disabled={running} aria-busy={running.then_some("true")}>
                    { if running { Text::Generating.get(lang) } else { Text::Generate.get(lang) } }
                </button>
            </form>
            <div aria-live="polite">
                { match &state.generation {
                    Generation::Idle => html! {},
                    Generation::Running => html! { <p class="status busy">{ Text::Generating.get(lang) }</p> },
                    Generation::Failed(message) => html! {
                        <p class="status error" role="alert">{ format!("{} {message}", Text::GenerationFailed.get(lang)) }</p>
                    },
                    Generation::Made(_) => html! {},
                } }
            </div>
        </div>
    }
}
