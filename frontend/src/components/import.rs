//! "Import credentials": a file picker and a drop zone for certificates,
//! keys and PKCS#12 files, and the password that opens them. The bytes are
//! read here and handed to the reducer; nothing leaves the page.

use std::rc::Rc;

use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{DragEvent, File, FileList};
use yew::prelude::*;
use zeroize::Zeroizing;

use super::{event_input, input_value};
use crate::generation::now_from_unix_ms;
use crate::i18n::{Lang, Text};
use crate::importing::{ACCEPT, ImportProblem, MAX_FILE_BYTES, MAX_FILES, PickedFile};
use crate::state::{Action, State};
use crate::worker::describe;

#[derive(Properties, PartialEq)]
pub(crate) struct ImportSectionProps {
    pub(crate) state: UseReducerHandle<State>,
}

#[function_component(ImportSection)]
pub(crate) fn import_section(props: &ImportSectionProps) -> Html {
    let state = &props.state;
    let lang = state.lang;
    let reading = use_state(|| false);
    let dragging = use_state(|| false);
    let read_error = use_state(|| None::<String>);

    // Reads every file, then lets the reducer import them all at once.
    let on_files = {
        let dispatcher = state.dispatcher();
        let reading = reading.clone();
        let read_error = read_error.clone();
        Callback::from(move |list: FileList| {
            let files: Vec<File> = (0..list.length()).filter_map(|i| list.get(i)).collect();
            if files.is_empty() {
                return;
            }
            reading.set(true);
            read_error.set(None);
            let dispatcher = dispatcher.clone();
            let reading = reading.clone();
            let read_error = read_error.clone();
            spawn_local(async move {
                match read_all(files).await {
                    Ok(files) => match now_from_unix_ms(js_sys::Date::now()) {
                        Ok(now) => dispatcher.dispatch(Action::ImportFiles {
                            files: Rc::new(files),
                            now,
                        }),
                        Err(error) => read_error.set(Some(error.to_string())),
                    },
                    Err(error) => read_error.set(Some(error)),
                }
                reading.set(false);
            });
        })
    };

    let onchange = {
        let on_files = on_files.clone();
        Callback::from(move |e: Event| {
            let Some(input) = event_input(&e) else {
                return;
            };
            if let Some(list) = input.files() {
                on_files.emit(list);
            }
            // Picking the same file again must fire `change` again.
            input.set_value("");
        })
    };
    let ondragover = {
        let dragging = dragging.clone();
        Callback::from(move |e: DragEvent| {
            e.prevent_default(); // allows the drop
            dragging.set(true);
        })
    };
    let ondragleave = {
        let dragging = dragging.clone();
        Callback::from(move |_: DragEvent| dragging.set(false))
    };
    let ondrop = {
        let dragging = dragging.clone();
        Callback::from(move |e: DragEvent| {
            e.prevent_default(); // or the browser opens the file
            dragging.set(false);
            if let Some(list) = e.data_transfer().and_then(|d| d.files()) {
                on_files.emit(list);
            }
        })
    };
    let oninput = state
        .dispatcher()
        .to_callback()
        .reform(|e: InputEvent| Action::SetImportPassword(input_value(&e)));
    let on_retry = {
        let dispatcher = state.dispatcher();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if let Ok(now) = now_from_unix_ms(js_sys::Date::now()) {
                dispatcher.dispatch(Action::RetryImport { now });
            }
        })
    };

    let problem = state.import.problem.as_ref();
    let can_retry =
        problem.is_some_and(ImportProblem::wants_password) && !state.import.files.is_empty();
    let zone_class = classes!("drop-zone", dragging.then_some("dragging"));

    html! {
        <div id="import-panel">
            <p class="hint" id="import-hint">{ Text::ImportHint.get(lang) }</p>
            <form onsubmit={on_retry} novalidate=true>
                <div class={zone_class} {ondragover} {ondragleave} {ondrop} id="import-drop">
                    <label for="import-file">{ Text::ChooseFiles.get(lang) }</label>
                    <input id="import-file" type="file" multiple=true accept={ACCEPT}
                        aria-describedby="import-hint" {onchange} />
                    <span class="muted">{ Text::DropFilesHere.get(lang) }</span>
                </div>
                <div class="field">
                    <label for="import-password">{ Text::ImportPassword.get(lang) }</label>
                    <input id="import-password" type="password" autocomplete="off"
                        value={state.import.password.0.to_string()} {oninput}
                        aria-describedby="import-password-hint" />
                    <p class="hint field-hint" id="import-password-hint">{ Text::ImportPasswordHint.get(lang) }</p>
                </div>
                if can_retry {
                    <button type="submit" class="primary" id="import-retry">{ Text::ImportOpen.get(lang) }</button>
                }
            </form>
            <div aria-live="polite">
                if *reading {
                    <p class="status busy">{ Text::ImportReading.get(lang) }</p>
                }
                if let Some(error) = &*read_error {
                    <p class="status error" role="alert">{ format!("{} {error}", Text::ImportFailed.get(lang)) }</p>
                }
                if let Some(problem) = problem {
                    <p class="status error" role="alert" id="import-problem">{ problem_text(problem, lang) }</p>
                }
            </div>
        </div>
    }
}

/// "Could not import: cert.p12 is protected by a password. ..."
fn problem_text(problem: &ImportProblem, lang: Lang) -> String {
    let mut text = Text::ImportFailed.get(lang).to_owned();
    if let Some(file) = &problem.file {
        text.push(' ');
        text.push_str(file);
        if !problem.reason.get(lang).starts_with(':') {
            text.push(' ');
        }
    } else {
        text.push(' ');
    }
    text.push_str(problem.reason.get(lang));
    if let Some(detail) = &problem.detail {
        text.push_str(&format!(" ({detail})"));
    }
    text
}

/// The bytes of each file; refuses before reading what is too many or too big.
async fn read_all(files: Vec<File>) -> Result<Vec<PickedFile>, String> {
    if files.len() > MAX_FILES {
        // The reducer words it; a list of that length says enough.
        return Ok(files
            .iter()
            .map(|f| PickedFile {
                name: f.name(),
                bytes: Zeroizing::new(Vec::new()),
            })
            .collect());
    }
    let mut picked = Vec::with_capacity(files.len());
    for file in files {
        let bytes = if file.size() > MAX_FILE_BYTES as f64 {
            // Not read: one byte more than allowed says "too large".
            vec![0; MAX_FILE_BYTES + 1]
        } else {
            let buffer = JsFuture::from(file.array_buffer())
                .await
                .map_err(|e| format!("{}: {}", file.name(), describe(e)))?;
            js_sys::Uint8Array::new(&buffer).to_vec()
        };
        picked.push(PickedFile {
            name: file.name(),
            bytes: Zeroizing::new(bytes),
        });
    }
    Ok(picked)
}
