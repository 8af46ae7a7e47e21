//! The finished batch registered as a factory job: into the targets and
//! with the policy chosen in Register, its certificates in the request or
//! uploaded to the presigned URL the API gives, then its progress read
//! every two seconds until it ends, with cancel and the results CSV.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use marshal_shared::api::GetConfigResponse;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use super::failure_text;
use crate::api_client::{self, JobCall};
use crate::download::save_text;
use crate::i18n::Lang;
use crate::i18n::jobs::JobText;
use crate::state::job::{self, JobAction, JobPlan, JobStep, JobWatch};
use crate::state::{Action, BatchResult, Remote, State};

/// How often a running job is read.
const POLL: Duration = Duration::from_secs(2);

#[derive(Properties, PartialEq)]
pub(crate) struct JobPanelProps {
    pub(crate) state: UseReducerHandle<State>,
    pub(crate) result: Rc<BatchResult>,
}

#[function_component(JobPanel)]
pub(crate) fn job_panel(props: &JobPanelProps) -> Html {
    let state = &props.state;
    let lang = state.lang;
    let run = state.batch.run;
    // The watch in flight stops when the batch changes or the page is left.
    let watching = use_mut_ref(|| Rc::new(Cell::new(0u64)));
    let results_error = use_state(|| None::<crate::state::ApiFailure>);
    {
        let watching = watching.clone();
        use_effect_with(run, move |_| move || watching.borrow().set(u64::MAX));
    }

    let Remote::Loaded(config) = &state.config else {
        return html! {
            <div class="job-panel" id="batch-job">
                <h3>{ JobText::Heading.get(lang) }</h3>
                <p class="hint" id="batch-job-blocker">{ JobText::NeedsConfig.get(lang) }</p>
            </div>
        };
    };
    let planned = job::plan(&state.register, config, &props.result.job_file);
    let watch = &state.batch.job;

    let on_submit = {
        let state = state.clone();
        let result = props.result.clone();
        let watching = watching.borrow().clone();
        let planned = planned.clone();
        Callback::from(move |_: MouseEvent| {
            let (Ok(plan), false) = (planned.clone(), state.batch.job.busy()) else {
                return;
            };
            watching.set(run);
            let dispatcher = state.dispatcher();
            let watching = watching.clone();
            let file = result.job_file.clone();
            spawn_local(async move {
                let send =
                    |action: JobAction| dispatcher.dispatch(Action::BatchJob { run, action });
                match submit(plan, &file, &send).await {
                    Ok(id) => watch_job(id, run, &watching, &send).await,
                    Err((failure, job)) => send(JobAction::Failed { failure, job }),
                }
            });
        })
    };

    let summary = targets_line(state, config, lang);
    let body = match watch {
        JobWatch::Idle | JobWatch::Failed { .. } => {
            let blocker = planned.as_ref().err().copied();
            html! {
                <>
                    <p class="hint" id="batch-job-into">{ summary }</p>
                    <button type="button" class="primary" id="batch-job-submit" onclick={on_submit}
                        disabled={blocker.is_some()} aria-describedby="batch-job-blocker">
                        { JobText::Submit.get(lang) }
                    </button>
                    if let Some(blocker) = blocker {
                        <p class="hint" id="batch-job-blocker">{ blocker.get(lang) }</p>
                    }
                    if let JobWatch::Failed { failure, job } = watch {
                        <div role="alert" class="status error" id="batch-job-failed">
                            <p>{ JobText::SubmitFailed.get(lang) }</p>
                            { failure_text(failure, lang) }
                            if let Some(id) = job {
                                <p>{ format!("{} {id}", JobText::JobId.get(lang)) }</p>
                            }
                        </div>
                    }
                </>
            }
        }
        JobWatch::Submitting(step) => html! {
            <p class="status busy" aria-busy="true" id="batch-job-step">{ step_text(*step).get(lang) }</p>
        },
        JobWatch::Watching {
            job,
            cancelling,
            stale,
        } => {
            let on_cancel = {
                let state = state.clone();
                let id = job.id.clone();
                Callback::from(move |_: MouseEvent| {
                    let dispatcher = state.dispatcher();
                    let id = id.clone();
                    dispatcher.dispatch(Action::BatchJob {
                        run,
                        action: JobAction::Cancelling,
                    });
                    spawn_local(async move {
                        let action = match api_client::job(&id, JobCall::Cancel).await {
                            Ok(job) => JobAction::Read(Rc::new(job)),
                            Err(failure) => JobAction::Failed {
                                failure,
                                job: Some(id),
                            },
                        };
                        dispatcher.dispatch(Action::BatchJob { run, action });
                    });
                })
            };
            let on_results = {
                let id = job.id.clone();
                let results_error = results_error.clone();
                Callback::from(move |_: MouseEvent| {
                    let id = id.clone();
                    let results_error = results_error.clone();
                    spawn_local(async move {
                        let saved = match api_client::job_results(&id).await {
                            Ok(csv) => save_text(
                                &format!("marshal-job-{id}.csv"),
                                "text/csv;charset=utf-8",
                                &csv,
                            )
                            .err()
                            .map(|detail| crate::state::ApiFailure::Unreachable { detail }),
                            Err(failure) => Some(failure),
                        };
                        results_error.set(saved);
                    });
                })
            };
            let (done, total) = job::progress(job);
            let c = job.counts;
            let over = job.state.is_terminal();
            let mut pace = String::new();
            if let Some(rate) = job.rate_per_second.filter(|_| !over) {
                // Tenths, with integers: no float formatting in the page.
                let tenths = (rate * 10.0).round() as u64;
                pace.push_str(&format!(
                    "{}.{} {}",
                    tenths / 10,
                    tenths % 10,
                    JobText::PerSecond.get(lang)
                ));
            }
            if let Some(eta) = job.eta_seconds.filter(|_| !over) {
                pace.push_str(&format!(
                    " · {} {}",
                    job::eta_text(eta),
                    JobText::Left.get(lang)
                ));
            }
            html! {
                <div id="batch-job-status" data-job={job.id.clone()} data-state={job.state.as_str()}
                    data-done={done.to_string()} data-total={total.to_string()}>
                    <p class="hint">{ summary }</p>
                    <p>
                        <strong>{ format!("{} {}", JobText::JobId.get(lang), job.id) }</strong>
                        { " · " }
                        <span class={classes!("job-state", over.then_some("over"))}>{ job::state_text(job.state).get(lang) }</span>
                    </p>
                    <label for="batch-job-progress">{ format!("{done} / {total} {}", JobText::Pairs.get(lang)) }</label>
                    <progress id="batch-job-progress" max={total.max(1).to_string()} value={done.to_string()}></progress>
                    <p id="batch-job-counts">
                        { format!("{} {} · {} {} · {} {}", c.succeeded, JobText::Succeeded.get(lang),
                            c.failed, JobText::Failed.get(lang), c.skipped, JobText::Skipped.get(lang)) }
                        if job.throttled > 0 {
                            <br/><span class="muted">{ format!("{} {}", job.throttled, JobText::Throttled.get(lang)) }</span>
                        }
                        if !pace.is_empty() {
                            <br/><span class="muted">{ pace }</span>
                        }
                    </p>
                    if let Some(error) = &job.error {
                        <p class="status error" role="alert" id="batch-job-error">{ format!("{}: {}", error.code, error.message) }</p>
                    }
                    if let Some(failure) = stale {
                        <div class="status" role="status">
                            <p>{ JobText::Stale.get(lang) }</p>
                            { failure_text(failure, lang) }
                        </div>
                    }
                    <div class="inline batch-actions">
                        if over {
                            <button type="button" class="primary" id="batch-job-results" onclick={on_results}>
                                { JobText::Results.get(lang) }
                            </button>
                        } else {
                            <button type="button" id="batch-job-cancel" onclick={on_cancel}
                                disabled={*cancelling} aria-busy={cancelling.then_some("true")}>
                                { if *cancelling { JobText::Cancelling.get(lang) } else { JobText::Cancel.get(lang) } }
                            </button>
                        }
                    </div>
                    if let Some(failure) = &*results_error {
                        <div class="status error" role="alert">
                            <p>{ JobText::ResultsFailed.get(lang) }</p>
                            { failure_text(failure, lang) }
                        </div>
                    }
                    <p class="hint">{ JobText::Reattach.get(lang) }{ " " }<code>{ format!("marshal job {}", job.id) }</code></p>
                </div>
            }
        }
    };
    html! {
        <div class="job-panel" id="batch-job" aria-live="polite">
            <h3>{ JobText::Heading.get(lang) }</h3>
            <p class="hint">{ JobText::Hint.get(lang) }</p>
            { body }
        </div>
    }
}

/// "Into: Tokyo (a-tokyo), Virginia (b-virginia) · policy MarshalDevice".
fn targets_line(state: &State, config: &GetConfigResponse, lang: Lang) -> String {
    let names: Vec<String> = state
        .register
        .targets
        .iter()
        .map(|id| {
            config
                .targets
                .iter()
                .find(|t| &t.id == id)
                .map_or_else(|| id.clone(), |t| format!("{} ({id})", t.name))
        })
        .collect();
    let mut line = format!("{}: {}", JobText::Into.get(lang), names.join(", "));
    if let Some(policy) = &state.register.policy {
        line.push_str(&format!(
            " · {}: {policy}",
            crate::i18n::Text::Policy.get(lang)
        ));
    }
    line
}

fn step_text(step: JobStep) -> JobText {
    match step {
        JobStep::Creating => JobText::Creating,
        JobStep::Uploading => JobText::Uploading,
        JobStep::Starting => JobText::Starting,
    }
}

type Failed = (crate::state::ApiFailure, Option<String>);

/// Creates the job, uploads its file when it has one and starts it; the
/// job's id. The first read of the job is sent as it comes.
async fn submit(plan: JobPlan, file: &str, send: &impl Fn(JobAction)) -> Result<String, Failed> {
    send(JobAction::Step(JobStep::Creating));
    let (request, upload) = match plan {
        JobPlan::Inline(request) => (request, false),
        JobPlan::Upload(request) => (request, true),
    };
    let created = api_client::create_job(&request)
        .await
        .map_err(|failure| (failure, None))?;
    let id = created.job.id.clone();
    if !upload {
        send(JobAction::Read(Rc::new(created.job)));
        return Ok(id);
    }
    let Some(instructions) = created.upload else {
        let failure = crate::state::ApiFailure::Unreachable {
            detail: "the server gave no upload URL".to_owned(),
        };
        return Err((failure, Some(id)));
    };
    send(JobAction::Step(JobStep::Uploading));
    api_client::upload_job_file(&instructions, file)
        .await
        .map_err(|failure| (failure, Some(id.clone())))?;
    send(JobAction::Step(JobStep::Starting));
    let started = api_client::job(&id, JobCall::Start)
        .await
        .map_err(|failure| (failure, Some(id.clone())))?;
    send(JobAction::Read(Rc::new(started)));
    Ok(id)
}

/// Reads the job every [`POLL`] until it ends or `watching` moves on from `run`.
async fn watch_job(id: String, run: u64, watching: &Cell<u64>, send: &impl Fn(JobAction)) {
    loop {
        yew::platform::time::sleep(POLL).await;
        if watching.get() != run {
            return;
        }
        match api_client::job(&id, JobCall::Read).await {
            Ok(job) => {
                let over = job.state.is_terminal();
                send(JobAction::Read(Rc::new(job)));
                if over {
                    return;
                }
            }
            Err(failure) => send(JobAction::Failed {
                failure,
                job: Some(id.clone()),
            }),
        }
    }
}
