//! "Batch": names in, one zip of credentials out, made in a worker of its
//! own with a progress bar and a cancel button.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{JsFuture, spawn_local};
use yew::prelude::*;

use super::batch_job::JobPanel;
use super::event_input;
use crate::batch::BatchProblem;
use crate::download::save_bytes;
use crate::i18n::{Lang, Text};
use crate::state::{Action, BatchStatus, State};
use crate::worker::describe;

#[derive(Properties, PartialEq)]
pub(crate) struct BatchSectionProps {
    pub(crate) state: UseReducerHandle<State>,
    pub(crate) on_start: Callback<()>,
    pub(crate) on_cancel: Callback<()>,
}

/// Name lists larger than this are not lists of names.
const MAX_LIST_BYTES: f64 = 1_048_576.0;

#[function_component(BatchSection)]
pub(crate) fn batch_section(props: &BatchSectionProps) -> Html {
    let state = &props.state;
    let lang = state.lang;
    let batch = &state.batch;
    let running = state.batch_running();
    let file_error = use_state(|| None::<String>);
    let download_error = use_state(|| None::<String>);
    let dispatch = state.dispatcher().to_callback();

    let oninput = dispatch.reform(|e: InputEvent| {
        let value = e
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlTextAreaElement>().ok())
            .map(|t| t.value())
            .unwrap_or_default();
        Action::SetBatchNames(value)
    });
    let on_file = {
        let dispatcher = state.dispatcher();
        let file_error = file_error.clone();
        Callback::from(move |e: Event| {
            let Some(input) = event_input(&e) else {
                return;
            };
            let Some(file) = input.files().and_then(|list| list.get(0)) else {
                return;
            };
            input.set_value("");
            if file.size() > MAX_LIST_BYTES {
                file_error.set(Some(format!("{}: > 1 MiB", file.name())));
                return;
            }
            file_error.set(None);
            let dispatcher = dispatcher.clone();
            let file_error = file_error.clone();
            spawn_local(async move {
                match JsFuture::from(file.text()).await {
                    Ok(text) => dispatcher
                        .dispatch(Action::SetBatchNames(text.as_string().unwrap_or_default())),
                    Err(error) => {
                        file_error.set(Some(format!("{}: {}", file.name(), describe(error))))
                    }
                }
            });
        })
    };
    let onsubmit = {
        let on_start = props.on_start.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            on_start.emit(());
        })
    };
    let on_cancel = props.on_cancel.reform(|_: MouseEvent| ());
    let count = batch.names.lines().filter(|l| !l.trim().is_empty()).count();

    let status = match &batch.status {
        BatchStatus::Idle => html! {},
        BatchStatus::Refused(problem) => html! {
            <p class="status error" role="alert" id="batch-problem">{ problem_text(problem, lang) }</p>
        },
        BatchStatus::Running { done, total } => html! {
            <div class="batch-progress">
                <label for="batch-progress">
                    { format!("{done} / {total} {}", Text::BatchProgress.get(lang)) }
                </label>
                <progress id="batch-progress" max={total.to_string()} value={done.to_string()}></progress>
                <button type="button" id="batch-cancel" onclick={on_cancel}>{ Text::BatchCancel.get(lang) }</button>
            </div>
        },
        BatchStatus::Done(result) => {
            let onclick = {
                let result = result.clone();
                let download_error = download_error.clone();
                Callback::from(move |_: MouseEvent| {
                    download_error
                        .set(save_bytes(&result.file_name, "application/zip", &result.zip).err());
                })
            };
            html! {
                <div id="batch-done" data-ms={(result.ms.round() as u64).to_string()} data-count={result.count.to_string()}>
                    <p class="status ok">
                        { format!("{} {} {}", result.count, Text::BatchDone.get(lang), crate::batch::duration_and_size(result.ms, result.zip.len())) }
                    </p>
                    <button type="button" class="primary" id="batch-download" {onclick}>{ Text::BatchDownload.get(lang) }</button>
                    <p class="warning">{ Text::SaveKeyNow.get(lang) }</p>
                    <JobPanel state={state.clone()} result={result.clone()} />
                </div>
            }
        }
        BatchStatus::Failed(message) => html! {
            <p class="status error" role="alert">{ format!("{} {message}", Text::BatchFailed.get(lang)) }</p>
        },
        BatchStatus::Cancelled => html! {
            <p class="status" id="batch-cancelled">{ Text::BatchCancelled.get(lang) }</p>
        },
    };

    html! {
        <section class="card" aria-labelledby="batch-heading">
            <h2 id="batch-heading">{ Text::BatchHeading.get(lang) }</h2>
            <p class="hint" id="batch-hint">{ Text::BatchHint.get(lang) }</p>
            <form {onsubmit} novalidate=true>
                <div class="field">
                    <label for="batch-names">{ format!("{} ({count})", Text::BatchNames.get(lang)) }</label>
                    <textarea id="batch-names" rows="6" spellcheck="false" autocomplete="off"
                        aria-describedby="batch-hint" value={batch.names.clone()} {oninput}
                        disabled={running} placeholder={"sensor-001\nsensor-002"} />
                </div>
                <div class="inline batch-actions">
                    <label for="batch-file" class="muted">{ Text::BatchUpload.get(lang) }</label>
                    <input id="batch-file" type="file" accept=".txt,.csv,text/plain,text/csv"
                        onchange={on_file} disabled={running} />
                </div>
                if let Some(error) = &*file_error {
                    <p class="status error" role="alert">{ error }</p>
                }
                <button type="submit" class="primary" id="batch-start" disabled={running}
                    aria-busy={running.then_some("true")}>
                    { Text::BatchStart.get(lang) }
                </button>
            </form>
            <div aria-live="polite">
                { status }
                if let Some(error) = &*download_error {
                    <p class="status error" role="alert">{ error }</p>
                }
            </div>
        </section>
    }
}

/// "Line 3: "a b" is not a valid thing name ..."
fn problem_text(problem: &BatchProblem, lang: Lang) -> String {
    let mut text = String::new();
    if let Some(line) = problem.line {
        text.push_str(&match lang {
            Lang::En => format!("Line {line}: "),
            Lang::Ja => format!("{line} 行目: "),
        });
    }
    if let Some(name) = &problem.name {
        text.push_str(&format!("\"{name}\" "));
    }
    text.push_str(problem.reason.get(lang));
    if problem.reason == Text::BatchTooMany {
        text.push_str(&format!(" {}", crate::batch::MAX_BATCH));
    }
    text
}
