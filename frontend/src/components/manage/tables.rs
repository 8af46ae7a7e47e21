//! The manage section's two tables: the certificate in each target (with
//! the selection checkboxes), and what the last change did.

use marshal_shared::api::{GetCertificateResponse, TargetCertificate};
use yew::prelude::*;

use super::{failure_text, info};
use crate::i18n::manage::{ManageText, target_label};
use crate::i18n::{Text, explain_target_error};
use crate::state::manage::{ManageAction, OutcomeDetail, Outcomes, Role, changeable, short_id};
use crate::state::{Action, Remote, State};

/// The certificate in every visible target, with whose it is; where it is
/// present and yours, a checkbox selects the target for an action.
pub(super) fn targets_table(
    state: &UseReducerHandle<State>,
    looked_up: &GetCertificateResponse,
) -> Html {
    let lang = state.lang;
    let labels = [
        ManageText::Target.get(lang),
        ManageText::Status.get(lang),
        ManageText::Policies.get(lang),
        ManageText::Things.get(lang),
    ];
    let anywhere = looked_up.targets.iter().any(|t| t.present);
    let dispatch = state.dispatcher().to_callback();
    let row = |t: &TargetCertificate| {
        let target = info(state, &t.target);
        let checkbox_id = format!("manage-target-{}", t.target);
        let status_id = format!("manage-status-{}", t.target);
        let name = html! {
            <>
                <span>{ &target.name }</span>
                <span class="muted">{ format!(" {} · {}", target.account_id, target.region) }</span>
            </>
        };
        // Only where it is yours can it be chosen for a change.
        let first = if changeable(t) {
            let onchange = dispatch.reform({
                let target = t.target.clone();
                move |_: Event| Action::Manage(ManageAction::ToggleTarget(target.clone()))
            });
            html! {
                <div class="check">
                    <input type="checkbox" id={checkbox_id.clone()} value={t.target.clone()}
                        checked={state.manage.selected.contains(&t.target)} {onchange} />
                    <label for={checkbox_id}>{ name }</label>
                </div>
            }
        } else {
            name
        };
        let list = |items: &[String]| {
            if items.is_empty() {
                ManageText::Nothing.get(lang).to_owned()
            } else {
                items.join(", ")
            }
        };
        // Whose it is, in words (not by colour alone).
        let owner_id = format!("manage-owner-{}", t.target);
        let badge = if t.managed {
            html! { <span class="badge yours" id={owner_id}>{ ManageText::Yours.get(lang) }</span> }
        } else {
            html! { <span class="badge not-yours" id={owner_id}>{ ManageText::NotYours.get(lang) }</span> }
        };
        match (&t.error, t.present, t.status) {
            (Some(error), _, _) => html! {
                <tr data-target={t.target.clone()} class="failed">
                    <th scope="row" data-label={labels[0]}>{ first }</th>
                    <td class="status-cell" id={status_id} data-label={labels[1]}>{ ManageText::CouldNotCheck.get(lang) }</td>
                    <td colspan="2" data-label={labels[2]}>
                        { explain_target_error(error.code, lang) }
                        <br/><span class="muted">{ &error.message }</span>
                    </td>
                </tr>
            },
            (None, true, status) => html! {
                <tr data-target={t.target.clone()}
                    class={(status == Some(marshal_shared::api::CertificateStatus::Active)).then_some("ok")}>
                    <th scope="row" data-label={labels[0]}>{ first }{ " " }{ badge }</th>
                    <td class="status-cell" id={status_id} data-label={labels[1]}>
                        { status.map_or("—", |s| s.as_str()) }
                    </td>
                    <td data-label={labels[2]}>{ list(&t.policies) }</td>
                    <td data-label={labels[3]}>{ list(&t.things) }</td>
                </tr>
            },
            (None, false, _) => html! {
                <tr data-target={t.target.clone()}>
                    <th scope="row" data-label={labels[0]}>{ first }</th>
                    <td class="status-cell" id={status_id} data-label={labels[1]}>{ ManageText::NotRegistered.get(lang) }</td>
                    <td data-label={labels[2]}>{ "—" }</td>
                    <td data-label={labels[3]}>{ "—" }</td>
                </tr>
            },
        }
    };
    html! {
        <>
            <h3 id="manage-table-heading">
                { format!("{} ", Text::CertificateId.get(lang)) }
                <code class="certificate-id">{ &looked_up.certificate_id }</code>
                { format!(" {}", ManageText::InTargets.get(lang)) }
            </h3>
            if !anywhere {
                <p class="status" id="manage-nowhere">{ ManageText::NotRegisteredAnywhere.get(lang) }</p>
            }
            if state.manage.has_unmanaged() {
                <p class="hint" id="manage-not-yours">{ ManageText::NotYoursHint.get(lang) }</p>
            }
            <div class="table-scroll">
                <table id="manage-table" class="stacked" aria-labelledby="manage-table-heading"
                    aria-busy={state.manage.refreshing.then_some("true")}>
                    <thead><tr>
                        { for labels.iter().map(|label| html! { <th scope="col">{ *label }</th> }) }
                    </tr></thead>
                    <tbody>{ for looked_up.targets.iter().map(row) }</tbody>
                </table>
            </div>
        </>
    }
}

/// The last change: being sent, refused, or its per-target outcomes. A
/// live region, focused after a confirmation so the keyboard lands here.
pub(super) fn change_view(state: &State) -> Html {
    let lang = state.lang;
    let body = match &state.manage.change {
        None => html! {},
        Some(change) => match &change.outcome {
            Remote::NotAsked => html! {},
            Remote::Loading => html! {
                <p class="status busy" role="status">{ ManageText::Sending.get(lang) }</p>
            },
            Remote::Failed(failure) => html! {
                <div role="alert">
                    <p class="status error">{ ManageText::ChangeFailed.get(lang) }</p>
                    { failure_text(failure, lang) }
                </div>
            },
            Remote::Loaded(outcomes) => {
                outcomes_table(state, &change.certificate_id, change.kind, outcomes)
            }
        },
    };
    html! {
        <div id="manage-change" aria-live="polite" tabindex="-1">{ body }</div>
    }
}

fn outcomes_table(
    state: &State,
    certificate_id: &str,
    kind: crate::state::manage::ChangeKind,
    outcomes: &Outcomes,
) -> Html {
    let lang = state.lang;
    let labels = [
        ManageText::Target.get(lang),
        ManageText::Result.get(lang),
        ManageText::Status.get(lang),
        ManageText::Detail.get(lang),
    ];
    let (succeeded, failed) = outcomes.counts(kind);
    let rows = outcomes.rows(kind);
    html! {
        <>
            <h3>{ format!("{}: {} {}", ManageText::OutcomesHeading.get(lang), Text::CertificateId.get(lang), short_id(certificate_id)) }</h3>
            <p id="manage-outcomes-summary" class={if failed == 0 { "status ok" } else { "status error" }}>
                { format!("{succeeded} {}, {failed} {}", Text::Succeeded.get(lang), Text::Failed.get(lang)) }
            </p>
            if outcomes.source_kept(kind) {
                <p class="warning">{ ManageText::SourceKept.get(lang) }</p>
            }
            <div class="table-scroll">
                <table id="manage-outcomes" class="stacked">
                    <thead><tr>
                        { for labels.iter().map(|label| html! { <th scope="col">{ *label }</th> }) }
                    </tr></thead>
                    <tbody>
                        { for rows.iter().map(|row| {
                            let target = info(state, &row.target);
                            let role = row.role.map(|role| match role {
                                Role::Source => ManageText::Source,
                                Role::Destination => ManageText::Destination,
                            });
                            let detail = match &row.detail {
                                OutcomeDetail::Said(words) => html! { { words } },
                                OutcomeDetail::Registered { newly, policy, thing } => html! {
                                    <>
                                        { if *newly { ManageText::RegisteredNow } else { ManageText::RegisteredAlready }.get(lang) }
                                        <span class="muted">{ format!(" · {} {policy} · {} {thing}", Text::Policy.get(lang), Text::ThingName.get(lang)) }</span>
                                    </>
                                },
                                OutcomeDetail::Failed(error) => html! {
                                    <>
                                        { explain_target_error(error.code, lang) }
                                        <br/><span class="muted">{ &error.message }</span>
                                    </>
                                },
                            };
                            html! {
                                <tr data-target={row.target.clone()} class={if row.ok { "ok" } else { "failed" }}>
                                    <th scope="row" data-label={labels[0]}>
                                        { target_label(&target) }
                                        if let Some(role) = role {
                                            <span class="muted">{ format!(" ({})", role.get(lang)) }</span>
                                        }
                                    </th>
                                    <td class="status-cell" data-label={labels[1]}>
                                        { if row.ok { ManageText::Done } else { ManageText::Failed }.get(lang) }
                                    </td>
                                    <td data-label={labels[2]}>{ row.status.map_or("—", |s| s.as_str()) }</td>
                                    <td data-label={labels[3]}>{ detail }</td>
                                </tr>
                            }
                        }) }
                    </tbody>
                </table>
            </div>
        </>
    }
}
