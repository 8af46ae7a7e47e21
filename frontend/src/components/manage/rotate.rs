//! Rotation in the manage section: the "rotate" button with what it will
//! do, the worker run that makes the successor (the same generation code
//! the credentials form uses), the call that registers its certificate,
//! the per-target results with the new device kit, and "retire old
//! certificate" (a confirmed change like the others).

use std::cell::RefCell;
use std::rc::Rc;

use marshal_shared::api::RegistrationResult;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use super::{failure_text, info, next_ticket};
use crate::api_client;
use crate::components::CredentialView;
use crate::generation::{GenerateOutcome, now_from_unix_ms};
use crate::i18n::manage::{ManageText, target_label};
use crate::i18n::rotate::{RotateText, plan_sentences, rotate_blocker};
use crate::i18n::{Text, explain_target_error};
use crate::state::manage::{
    ChangeKind, ManageAction, RotationFailure, RotationPlan, RotationStep, rotate_request,
    short_id, succeeded,
};
use crate::state::{Action, Made, State, kit_endpoints_of};
use crate::worker::{Generator, WorkerMessage};

/// The worker making a rotation's key; terminated when replaced or dropped.
pub(super) type Rotator = Rc<RefCell<Option<Generator>>>;

/// Makes the successor in a worker of its own, then sends its certificate
/// (only) to `POST /v1/certificates/{old}/rotate`.
pub(super) fn start_rotation(
    state: &UseReducerHandle<State>,
    rotator: &Rotator,
    plan: RotationPlan,
) {
    let job = next_ticket();
    let dispatcher = state.dispatcher();
    dispatcher.dispatch(Action::Manage(ManageAction::RotationStarted {
        old_id: plan.old_id.clone(),
        job,
        targets: plan.targets.clone(),
    }));
    let failed = {
        let dispatcher = dispatcher.clone();
        move |message: String| {
            dispatcher.dispatch(Action::Manage(ManageAction::RotationMakingFailed {
                job,
                message,
            }));
        }
    };
    let on_message = {
        let (dispatcher, rotator, failed) = (dispatcher.clone(), rotator.clone(), failed.clone());
        let (old_id, targets) = (plan.old_id.clone(), plan.targets.clone());
        Callback::from(move |message| {
            let WorkerMessage::Generated(outcome) = message else {
                return;
            };
            // Its one job is done; free its memory.
            rotator.borrow_mut().take();
            let (certificate_pem, private_key_pem) = match outcome {
                GenerateOutcome::Made {
                    certificate_pem,
                    private_key_pem,
                    ..
                } => (certificate_pem, private_key_pem),
                GenerateOutcome::Failed { message, .. } => return failed(message),
            };
            let made = now_from_unix_ms(js_sys::Date::now())
                .and_then(|now| Made::from_worker(&certificate_pem, private_key_pem, now));
            let made = match made {
                Ok(made) => Rc::new(made),
                Err(error) => return failed(error.to_string()),
            };
            dispatcher.dispatch(Action::Manage(ManageAction::RotationMade {
                job,
                made: made.clone(),
            }));
            let request = rotate_request(&made, &targets);
            let (dispatcher, old_id) = (dispatcher.clone(), old_id.clone());
            spawn_local(async move {
                let result = api_client::rotate_certificate(&old_id, &request)
                    .await
                    .map(Rc::new);
                dispatcher.dispatch(Action::Manage(ManageAction::RotationDone { job, result }));
            });
        })
    };
    let on_broken = Callback::from(failed.clone());
    let worker = Generator::spawn(on_message, on_broken).and_then(|worker| {
        worker
            .send(&plan.job(job, js_sys::Date::now()))
            .map(|()| worker)
    });
    match worker {
        Ok(worker) => *rotator.borrow_mut() = Some(worker),
        Err(message) => failed(message),
    }
}

/// The "rotate" part of the actions: what it will make, or why it cannot.
pub(super) fn rotate_controls(
    state: &UseReducerHandle<State>,
    on_rotate: &Callback<RotationPlan>,
) -> Html {
    let lang = state.lang;
    let plan = state.manage.rotation_plan(&state.config);
    let onclick = {
        let state = state.clone();
        let on_rotate = on_rotate.clone();
        // Planned again from the state as it is at the click.
        Callback::from(move |_: MouseEvent| {
            if let Ok(plan) = state.manage.rotation_plan(&state.config) {
                on_rotate.emit(plan);
            }
        })
    };
    let busy = state.manage.rotating().then_some("true");
    html! {
        <fieldset class="rotate">
            <legend>{ RotateText::Heading.get(lang) }</legend>
            <p class="hint">{ RotateText::Hint.get(lang) }</p>
            <div id="manage-rotate-plan">
                { match &plan {
                    Ok(plan) => {
                        let targets: Vec<_> = plan.targets.iter().map(|t| info(state, t)).collect();
                        html! { <>{ for plan_sentences(plan, &targets, lang).into_iter().map(|s| html! { <p>{ s }</p> }) }</> }
                    }
                    Err(blocker) => html! {
                        <p class="hint" id="manage-rotate-blocker">{ rotate_blocker(blocker, lang) }</p>
                    },
                } }
            </div>
            <button type="button" id="manage-rotate" {onclick} disabled={plan.is_err()}
                aria-busy={busy} aria-describedby="manage-rotate-plan">
                { RotateText::Button.get(lang) }
            </button>
        </fieldset>
    }
}

/// The last rotation: its progress, or what it did per target, the new
/// credentials (with their device kit) and "retire old certificate".
pub(super) fn rotation_view(state: &UseReducerHandle<State>, panel: Html) -> Html {
    let lang = state.lang;
    let Some(rotation) = &state.manage.rotation else {
        return html! {};
    };
    let status = match &rotation.step {
        RotationStep::Making => html! {
            <p class="status busy" role="status">{ RotateText::Making.get(lang) }</p>
        },
        RotationStep::Sending { .. } => html! {
            <p class="status busy" role="status">{ RotateText::Sending.get(lang) }</p>
        },
        RotationStep::Failed {
            failure: RotationFailure::Making(message),
            ..
        } => html! {
            <div role="alert">
                <p class="status error">{ RotateText::MakingFailed.get(lang) }</p>
                <p>{ message }</p>
            </div>
        },
        RotationStep::Failed {
            failure: RotationFailure::Api(failure),
            ..
        } => html! {
            <div role="alert">
                <p class="status error">{ RotateText::Refused.get(lang) }</p>
                { failure_text(failure, lang) }
            </div>
        },
        RotationStep::Done { response, .. } => {
            let ok = succeeded(&response.results).count();
            let failed = response.results.len() - ok;
            html! {
                <div role="status">
                    <p id="manage-rotation-summary" class={if failed == 0 { "status ok" } else { "status error" }}>
                        { format!("{ok} {}, {failed} {}", Text::Succeeded.get(lang), Text::Failed.get(lang)) }
                    </p>
                    <p class="hint">{ RotateText::OldStaysActive.get(lang) }</p>
                </div>
            }
        }
    };
    let done = match &rotation.step {
        RotationStep::Done { made, response } => Some((made, response)),
        _ => None,
    };
    let retire_blocker = state.manage.blocker(ChangeKind::Retire, &state.config);
    let ask_retire = state
        .dispatcher()
        .to_callback()
        .reform(|_: MouseEvent| Action::Manage(ManageAction::Ask(ChangeKind::Retire)));
    let retire_busy = state
        .manage
        .change
        .as_ref()
        .filter(|c| c.kind == ChangeKind::Retire && state.manage.changing())
        .map(|_| "true");
    html! {
        <div class="rotation" id="manage-rotation">
            <h3>
                { format!("{} ", RotateText::ResultsHeading.get(lang)) }
                <code title={rotation.old_id.clone()}>{ short_id(&rotation.old_id) }</code>
            </h3>
            { status }
            if let Some((made, response)) = done {
                { results_table(state, &response.results) }
                if succeeded(&response.results).next().is_some() {
                    <h4>{ RotateText::NewCredentials.get(lang) }</h4>
                    <p class="warning" id="rotate-save-kit">{ RotateText::SaveKitNow.get(lang) }</p>
                    <CredentialView made={made.clone()} {lang} id_prefix="rotate-"
                        endpoints={kit_endpoints_of(&response.results, &made.info.certificate_id, &state.config)} />
                    <h4>{ RotateText::RetireHeading.get(lang) }</h4>
                    <p class="hint">{ RotateText::RetireHint.get(lang) }</p>
                    <div class="downloads">
                        <button type="button" id="manage-retire" class="danger" onclick={ask_retire}
                            disabled={retire_blocker.is_some()} aria-busy={retire_busy}
                            aria-describedby="manage-retire-blocker">
                            { RotateText::RetireButton.get(lang) }
                        </button>
                    </div>
                    <p class="hint" id="manage-retire-blocker">
                        { retire_blocker.map(|b| b.get(lang)).unwrap_or_default() }
                    </p>
                    { panel }
                }
            }
        </div>
    }
}

/// The successor in each target: registered (status, endpoint) or why not.
fn results_table(state: &State, results: &[RegistrationResult]) -> Html {
    let lang = state.lang;
    let labels = [
        ManageText::Target.get(lang),
        ManageText::Result.get(lang),
        ManageText::Status.get(lang),
        RotateText::Endpoint.get(lang),
    ];
    html! {
        <div class="table-scroll">
            <table id="manage-rotation-results" class="stacked">
                <thead><tr>
                    { for labels.iter().map(|label| html! { <th scope="col">{ *label }</th> }) }
                </tr></thead>
                <tbody>
                    { for results.iter().map(|r| {
                        let ok = r.error.is_none() && r.registration.is_some();
                        let detail = match (&r.registration, &r.error) {
                            (_, Some(error)) => html! {
                                <>
                                    { explain_target_error(error.code, lang) }
                                    <br/><span class="muted">{ &error.message }</span>
                                </>
                            },
                            (Some(registration), None) => html! { <code>{ &registration.endpoint }</code> },
                            (None, None) => html! { { "—" } },
                        };
                        html! {
                            <tr data-target={r.target.clone()} class={if ok { "ok" } else { "failed" }}>
                                <th scope="row" data-label={labels[0]}>{ target_label(&info(state, &r.target)) }</th>
                                <td class="status-cell" data-label={labels[1]}>
                                    { if ok { ManageText::Done } else { ManageText::Failed }.get(lang) }
                                </td>
                                <td data-label={labels[2]}>
                                    { r.registration.as_ref().map_or("—", |reg| reg.status.as_str()) }
                                </td>
                                <td data-label={labels[3]}>{ detail }</td>
                            </tr>
                        }
                    }) }
                </tbody>
            </table>
        </div>
    }
}
