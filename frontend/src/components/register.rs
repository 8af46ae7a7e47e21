//! "Register": targets from `GET /v1/config` grouped by account, a policy,
//! the thing name, and the per-target results.

use marshal_shared::api::GetConfigResponse;
use wasm_bindgen::prelude::{JsValue, wasm_bindgen};
use yew::prelude::*;

use super::{failure_text, input_value, select_value};
use crate::i18n::{Lang, Text, explain_target_error};
use crate::state::{Action, ApiFailure, Remote, State, targets_by_account};

#[derive(Properties, PartialEq)]
pub(crate) struct RegisterSectionProps {
    pub(crate) state: UseReducerHandle<State>,
    pub(crate) on_register: Callback<()>,
    pub(crate) on_retry: Callback<()>,
}

#[function_component(RegisterSection)]
pub(crate) fn register_section(props: &RegisterSectionProps) -> Html {
    let state = &props.state;
    let lang = state.lang;
    let body = match &state.config {
        Remote::NotAsked | Remote::Loading => html! {
            <p class="status busy" aria-busy="true">{ Text::LoadingTargets.get(lang) }</p>
        },
        // Not a failure: the targets load once someone signs in.
        Remote::Failed(failure @ ApiFailure::SignIn(_)) => html! {
            <div role="status">{ failure_text(failure, lang) }</div>
        },
        Remote::Failed(failure) => html! {
            <div role="alert">
                <p class="status error">{ Text::TargetsFailed.get(lang) }</p>
                { failure_text(failure, lang) }
                <button type="button" onclick={props.on_retry.reform(|_| ())}>{ Text::Retry.get(lang) }</button>
            </div>
        },
        Remote::Loaded(config) => form(state, config, &props.on_register),
    };
    html! {
        <section class="card" aria-labelledby="register-heading">
            <h2 id="register-heading">{ Text::RegisterHeading.get(lang) }</h2>
            { body }
            <div aria-live="polite">{ results(state, lang) }</div>
        </section>
    }
}

fn form(
    state: &UseReducerHandle<State>,
    config: &GetConfigResponse,
    on_register: &Callback<()>,
) -> Html {
    let lang = state.lang;
    let dispatch = state.dispatcher().to_callback();
    let thing_name = state.thing_name();
    let pattern_ok = matches_pattern(&config.thing_name_pattern, &thing_name);
    let blocker = state
        .register_blocker()
        .or((!pattern_ok).then_some(Text::ThingNamePattern));
    let registering = matches!(state.registration, Remote::Loading);
    let onclick = on_register.reform(|_: MouseEvent| ());

    html! {
        <>
            <fieldset class="targets">
                <legend>{ Text::Targets.get(lang) }</legend>
                { for targets_by_account(config).into_iter().map(|(account, targets)| html! {
                    <fieldset class="account">
                        <legend>{ format!("{} {account}", Text::Account.get(lang)) }</legend>
                        { for targets.into_iter().map(|t| {
                            let id = format!("target-{}", t.id);
                            let toggle = dispatch.reform({
                                let target = t.id.clone();
                                move |_: Event| Action::ToggleTarget(target.clone())
                            });
                            html! {
                                <div class="check">
                                    <input type="checkbox" id={id.clone()} value={t.id.clone()}
                                        checked={state.register.targets.contains(&t.id)} onchange={toggle} />
                                    <label for={id}>
                                        <span>{ &t.name }</span>
                                        <span class="muted">{ format!(" {} · {}", t.region, t.id) }</span>
                                    </label>
                                </div>
                            }
                        }) }
                    </fieldset>
                }) }
            </fieldset>
            <div class="grid">
                <div class="field">
                    <label for="policy">{ Text::Policy.get(lang) }</label>
                    <select id="policy" onchange={dispatch.reform(|e: Event| Action::SetPolicy(select_value(&e)))}>
                        { for config.policies.iter().map(|p| html! {
                            <option value={p.name.clone()} selected={state.register.policy.as_ref() == Some(&p.name)}>
                                { &p.name }
                            </option>
                        }) }
                    </select>
                </div>
                <div class="field">
                    <label for="thing-name">{ Text::ThingName.get(lang) }</label>
                    <input id="thing-name" type="text" value={thing_name} autocomplete="off" spellcheck="false"
                        oninput={dispatch.reform(|e: InputEvent| Action::SetThingName(input_value(&e)))}
                        aria-describedby="thing-name-rule" />
                    <p class="hint" id="thing-name-rule">
                        { Text::ThingNameRule.get(lang) }{ " " }
                        { Text::ThingNamePattern.get(lang) }{ " " }<code>{ &config.thing_name_pattern }</code>
                    </p>
                </div>
                { owner_group(state, config) }
            </div>
            <button type="button" class="primary" id="register" {onclick}
                disabled={blocker.is_some()} aria-busy={registering.then_some("true")}
                aria-describedby="register-blocker">
                { if registering { Text::Registering.get(lang) } else { Text::Register.get(lang) } }
            </button>
            <p class="hint" id="register-blocker">
                { match blocker {
                    Some(Text::TooManyTargets) => format!("{} {}.", Text::TooManyTargets.get(lang), config.limits.max_targets_per_request),
                    Some(Text::Registering) | None => Text::OnlyCertificateSent.get(lang).to_owned(),
                    Some(text) => text.get(lang).to_owned(),
                } }
            </p>
        </>
    }
}

/// "Owner group": "only me", or one of the caller's groups. Absent when
/// the caller is in no group.
fn owner_group(state: &UseReducerHandle<State>, config: &GetConfigResponse) -> Html {
    if config.groups.is_empty() {
        return html! {};
    }
    let lang = state.lang;
    let chosen = state.register.owner_group.as_deref();
    // The empty value stands for "only me": group names are never empty.
    let onchange = state
        .dispatcher()
        .to_callback()
        .reform(|e: Event| Action::SetOwnerGroup(Some(select_value(&e)).filter(|g| !g.is_empty())));
    html! {
        <div class="field">
            <label for="owner-group">{ Text::OwnerGroup.get(lang) }</label>
            <select id="owner-group" {onchange} aria-describedby="owner-group-hint">
                <option value="" selected={chosen.is_none()}>{ Text::OnlyMe.get(lang) }</option>
                { for config.groups.iter().map(|g| html! {
                    <option value={g.clone()} selected={chosen == Some(g.as_str())}>{ g }</option>
                }) }
            </select>
            <p class="hint field-hint" id="owner-group-hint">{ Text::OwnerGroupHint.get(lang) }</p>
        </div>
    }
}

fn results(state: &State, lang: Lang) -> Html {
    // The target's display name from the config; its id when unknown.
    let name_of = |id: &str| match &state.config {
        Remote::Loaded(config) => config
            .targets
            .iter()
            .find(|t| t.id == id)
            .map_or_else(|| id.to_owned(), |t| t.name.clone()),
        _ => id.to_owned(),
    };
    let labels = [
        Text::Target.get(lang),
        Text::Status.get(lang),
        Text::CertificateArn.get(lang),
        Text::EndpointOrError.get(lang),
    ];
    match &state.registration {
        Remote::NotAsked => html! {},
        Remote::Loading => html! { <p class="status busy">{ Text::Registering.get(lang) }</p> },
        Remote::Failed(failure) => {
            html! { <div role="alert" class="status error">{ failure_text(failure, lang) }</div> }
        }
        Remote::Loaded(response) => html! {
            <>
                <h3>{ Text::Results.get(lang) }</h3>
                <p id="registration-summary">
                    { format!("{} {}, {} {}", response.summary.succeeded, Text::Succeeded.get(lang),
                        response.summary.failed, Text::Failed.get(lang)) }
                </p>
                <div class="table-scroll">
                    <table id="registration-results">
                        <thead><tr>
                            { for labels.iter().map(|label| html! { <th scope="col">{ *label }</th> }) }
                        </tr></thead>
                        <tbody>
                            { for response.results.iter().map(|r| match (&r.registration, &r.error) {
                                (Some(reg), _) => html! {
                                    <tr data-target={r.target.clone()} class="ok">
                                        <th scope="row" data-label={labels[0]}>{ name_of(&r.target) }</th>
                                        <td class="status-cell" data-label={labels[1]}>{ reg.status.as_str() }</td>
                                        <td data-label={labels[2]}><code>{ &reg.certificate_arn }</code></td>
                                        <td data-label={labels[3]}><code class="endpoint">{ &reg.endpoint }</code></td>
                                    </tr>
                                },
                                (None, error) => html! {
                                    <tr data-target={r.target.clone()} class="failed">
                                        <th scope="row" data-label={labels[0]}>{ name_of(&r.target) }</th>
                                        <td class="status-cell" data-label={labels[1]}>{ Text::Failed.get(lang) }</td>
                                        <td data-label={labels[2]}>{ "—" }</td>
                                        <td data-label={labels[3]}>{ error.as_ref().map(|e| format!("{} ({})", explain_target_error(e.code, lang), e.message)).unwrap_or_default() }</td>
                                    </tr>
                                },
                            }) }
                        </tbody>
                    </table>
                </div>
            </>
        },
    }
}

/// Whether `name` matches the server's anchored pattern, checked with the
/// browser's RegExp (the server's regex dialect agrees on the simple
/// patterns used here; the server checks again in any case). A pattern
/// the browser cannot compile is not held against the name.
fn matches_pattern(pattern: &str, name: &str) -> bool {
    match BrowserRegExp::new(&format!("^(?:{pattern})$"), "u") {
        Ok(regexp) => regexp.test(name),
        Err(_) => true,
    }
}

#[wasm_bindgen]
extern "C" {
    /// `RegExp`, bound with `catch` so a bad pattern is an error, not a trap.
    #[wasm_bindgen(js_name = RegExp)]
    type BrowserRegExp;

    #[wasm_bindgen(catch, constructor, js_class = "RegExp")]
    fn new(pattern: &str, flags: &str) -> Result<BrowserRegExp, JsValue>;

    #[wasm_bindgen(method, js_class = "RegExp")]
    fn test(this: &BrowserRegExp, text: &str) -> bool;
}
