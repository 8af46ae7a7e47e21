//! "Manage": look a certificate up across the visible targets (typed, the
//! current credentials', or a dropped file's), then change it in the
//! selected ones after a confirmation. The state and the words are in
//! `state::manage` and `i18n::manage`; this file does the browser's part:
//! reading files, calling the API, moving focus.

mod actions;
mod adopt;
mod rotate;
mod tables;

use std::cell::Cell;
use std::rc::Rc;

use marshal_shared::api::TargetInfo;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{File, HtmlInputElement};
use yew::prelude::*;
use zeroize::Zeroizing;

use super::{failure_text, input_value};
use crate::api_client;
use crate::i18n::Lang;
use crate::i18n::manage::{ManageText, file_problem, id_problem};
use crate::state::manage::{
    ChangeRequest, FileProblem, FileState, MAX_FILE_BYTES, ManageAction, Outcomes,
    certificate_id_of_file, target_info,
};
use crate::state::{Action, ApiFailure, Remote, State};
use crate::worker::describe;

#[derive(Properties, PartialEq)]
pub(crate) struct ManageSectionProps {
    pub(crate) state: UseReducerHandle<State>,
}

type Dispatcher = UseReducerDispatcher<State>;

#[function_component(ManageSection)]
pub(crate) fn manage_section(props: &ManageSectionProps) -> Html {
    let state = &props.state;
    let lang = state.lang;
    let manage = &state.manage;
    let dispatcher = state.dispatcher();
    let id_ref = use_node_ref();
    // Here, not in the actions (which go while a look-up loads): a
    // rotation's worker must live until it answers.
    let rotator: rotate::Rotator = use_mut_ref(|| None);
    let on_rotate = {
        let state = state.clone();
        Callback::from(move |plan| rotate::start_rotation(&state, &rotator, plan))
    };
    let retire_panel = if manage.pending == Some(crate::state::manage::ChangeKind::Retire) {
        actions::confirmation_panel(state, &NodeRef::default())
    } else {
        html! {}
    };

    let onsubmit = {
        let state = state.clone();
        let id_ref = id_ref.clone();
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            match state.manage.id_to_look_up() {
                Ok(id) => look_up(&state.dispatcher(), id, false),
                Err(_) => {
                    state.dispatch(Action::Manage(ManageAction::LookupRefused));
                    // Back to the field, whose description is now the problem.
                    if let Some(input) = id_ref.cast::<HtmlInputElement>() {
                        let _ = input.focus();
                    }
                }
            }
        })
    };
    let oninput = dispatcher
        .to_callback()
        .reform(|e: InputEvent| Action::Manage(ManageAction::SetId(input_value(&e))));
    let use_current = state.made().map(|made| {
        let id = made.info.certificate_id.clone();
        let dispatcher = dispatcher.clone();
        Callback::from(move |_: MouseEvent| look_up(&dispatcher, id.clone(), false))
    });

    let problem = manage.visible_id_problem();
    let id_described_by = if problem.is_some() {
        "manage-id-error"
    } else {
        "manage-id-hint"
    };

    html! {
        <section class="card" aria-labelledby="manage-heading">
            <h2 id="manage-heading">{ ManageText::Heading.get(lang) }</h2>
            <p class="hint">{ ManageText::Intro.get(lang) }</p>
            <form class="lookup" {onsubmit}>
                <div class="field">
                    <label for="manage-id">{ ManageText::CertificateId.get(lang) }</label>
                    <input id="manage-id" type="text" ref={id_ref} value={manage.id_input.clone()} {oninput}
                        autocomplete="off" spellcheck="false"
                        aria-invalid={problem.is_some().then_some("true")}
                        aria-describedby={id_described_by} />
                    if let Some(problem) = problem {
                        <p class="field-error" id="manage-id-error">{ id_problem(problem, lang) }</p>
                    } else {
                        <p class="hint field-hint" id="manage-id-hint">{ ManageText::IdHint.get(lang) }</p>
                    }
                </div>
                <div class="downloads">
                    <button type="submit" class="primary" id="manage-lookup"
                        aria-busy={matches!(manage.lookup, Remote::Loading).then_some("true")}>
                        { ManageText::LookUp.get(lang) }
                    </button>
                    if let Some(onclick) = use_current {
                        <button type="button" id="manage-use-current" {onclick}>
                            { ManageText::UseCurrent.get(lang) }
                        </button>
                    }
                </div>
            </form>
            <FileDrop state={state.clone()} />
            { lookup_status(state, lang) }
            if let Some(looked_up) = manage.looked_up() {
                { tables::targets_table(state, looked_up) }
                <actions::ManageActions state={state.clone()} {on_rotate} />
            }
            { tables::change_view(state) }
            { rotate::rotation_view(state, retire_panel) }
        </section>
    }
}

/// Loading, failure, or nothing: the table itself is drawn separately.
fn lookup_status(state: &State, lang: Lang) -> Html {
    match &state.manage.lookup {
        Remote::Loading => html! {
            <p class="status busy" role="status">{ ManageText::LookingUp.get(lang) }</p>
        },
        Remote::Failed(failure) => html! {
            <div role="alert">
                <p class="status error">{ ManageText::LookupFailed.get(lang) }</p>
                { failure_text(failure, lang) }
            </div>
        },
        Remote::Loaded(_) if state.manage.refreshing => html! {
            <p class="status busy" role="status">{ ManageText::Refreshing.get(lang) }</p>
        },
        Remote::NotAsked | Remote::Loaded(_) => html! {},
    }
}

#[derive(Properties, PartialEq)]
struct FileDropProps {
    state: UseReducerHandle<State>,
}

/// A drop zone around a file picker: dropping is for the mouse, the
/// picker (a native control) for the keyboard.
#[function_component(FileDrop)]
fn file_drop(props: &FileDropProps) -> Html {
    let state = &props.state;
    let lang = state.lang;
    let over = use_state(|| false);

    let onchange = {
        let dispatcher = state.dispatcher();
        Callback::from(move |event: Event| {
            let Some(input) = event
                .target()
                .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
            else {
                return;
            };
            let file = input.files().and_then(|files| files.get(0));
            // Cleared so that picking the same file again reads it again.
            input.set_value("");
            if let Some(file) = file {
                read_file(&dispatcher, file);
            }
        })
    };
    let ondragover = {
        let over = over.clone();
        Callback::from(move |event: DragEvent| {
            event.prevent_default(); // allows the drop
            over.set(true);
        })
    };
    let ondragleave = {
        let over = over.clone();
        Callback::from(move |_: DragEvent| over.set(false))
    };
    let ondrop = {
        let over = over.clone();
        let dispatcher = state.dispatcher();
        Callback::from(move |event: DragEvent| {
            event.prevent_default(); // or the browser opens the file
            over.set(false);
            let file = event
                .data_transfer()
                .and_then(|d| d.files())
                .and_then(|files| files.get(0));
            if let Some(file) = file {
                read_file(&dispatcher, file);
            }
        })
    };

    let status = match &state.manage.file {
        FileState::None => html! {},
        FileState::Reading { name, .. } => html! {
            <p class="status busy" role="status">{ format!("{} {name}", ManageText::ReadingFile.get(lang)) }</p>
        },
        FileState::Read {
            name,
            result: Ok(found),
        } => html! {
            <div role="status">
                <p class="status ok">{ format!("{} {name}", ManageText::IdFromFile.get(lang)) }</p>
                if found.key_skipped {
                    <p class="hint">{ ManageText::KeySkipped.get(lang) }</p>
                }
                if found.certificates > 1 {
                    <p class="hint">{ ManageText::FirstOfSeveral.get(lang) }</p>
                }
            </div>
        },
        FileState::Read {
            name,
            result: Err(problem),
        } => html! {
            <div role="alert">
                <p class="status error">{ format!("{name}: {}", file_problem(problem, lang)) }</p>
                if let FileProblem::NotACertificate { detail } | FileProblem::Unreadable { detail } = problem {
                    <p class="muted">{ detail }</p>
                }
            </div>
        },
    };

    html! {
        <div class={classes!("drop-zone", over.then_some("over"))}
            ondragenter={ondragover.clone()} {ondragover} {ondragleave} {ondrop}>
            <label for="manage-file">{ ManageText::FileLabel.get(lang) }</label>
            <p class="hint" id="manage-file-hint">{ ManageText::DropHere.get(lang) }</p>
            <input id="manage-file" type="file" {onchange}
                accept=".pem,.crt,.cer,.der,application/x-pem-file,application/pkix-cert,application/x-x509-ca-cert"
                aria-describedby="manage-file-hint manage-file-keys" />
            <p class="hint" id="manage-file-keys">{ ManageText::FileHint.get(lang) }</p>
            { status }
        </div>
    }
}

thread_local! {
    /// Tickets for look-ups and file reads: unique, so late answers are told apart.
    static TICKETS: Cell<u64> = const { Cell::new(0) };
    /// The file read last started; an older one's ID is not looked up.
    static LATEST_FILE: Cell<u64> = const { Cell::new(0) };
}

fn next_ticket() -> u64 {
    TICKETS.with(|t| {
        let next = t.get() + 1;
        t.set(next);
        next
    })
}

/// Looks `id` up (canonical). A refresh keeps the table until it answers,
/// and is dropped by the reducer if another ID is shown by then.
fn look_up(dispatcher: &Dispatcher, id: String, refresh: bool) {
    let ticket = next_ticket();
    dispatcher.dispatch(Action::Manage(if refresh {
        ManageAction::RefreshStarted {
            id: id.clone(),
            ticket,
        }
    } else {
        ManageAction::LookupStarted {
            id: id.clone(),
            ticket,
        }
    }));
    let dispatcher = dispatcher.clone();
    spawn_local(async move {
        let result = api_client::get_certificate(&id).await.map(Rc::new);
        dispatcher.dispatch(Action::Manage(ManageAction::LookupDone { ticket, result }));
    });
}

/// Reads a picked or dropped file down to its certificate ID, then looks it up.
fn read_file(dispatcher: &Dispatcher, file: File) {
    let name = file.name();
    if file.size() > MAX_FILE_BYTES as f64 {
        dispatcher.dispatch(Action::Manage(ManageAction::FileRefused {
            name,
            problem: FileProblem::TooLarge,
        }));
        return;
    }
    let ticket = next_ticket();
    LATEST_FILE.with(|latest| latest.set(ticket));
    dispatcher.dispatch(Action::Manage(ManageAction::FileReading { ticket, name }));
    let dispatcher = dispatcher.clone();
    spawn_local(async move {
        let result = match JsFuture::from(file.array_buffer()).await {
            Ok(buffer) => {
                // Wiped when dropped: the file may hold a key next to the certificate.
                let bytes = Zeroizing::new(js_sys::Uint8Array::new(&buffer).to_vec());
                certificate_id_of_file(&bytes)
            }
            Err(error) => Err(FileProblem::Unreadable {
                detail: describe(error),
            }),
        };
        let id = result.as_ref().ok().map(|f| f.certificate_id.clone());
        dispatcher.dispatch(Action::Manage(ManageAction::FileRead { ticket, result }));
        if let Some(id) = id
            && LATEST_FILE.with(Cell::get) == ticket
        {
            look_up(&dispatcher, id, false);
        }
    });
}

/// Sends a confirmed change, then looks the certificate up again so the
/// table shows what is true now (also after a failure, which may be partial).
fn send_change(dispatcher: &Dispatcher, certificate_id: String, request: ChangeRequest) {
    let dispatcher = dispatcher.clone();
    spawn_local(async move {
        let result: Result<Outcomes, ApiFailure> = match &request {
            ChangeRequest::Status {
                certificate_id,
                request,
            } => api_client::update_certificate_status(certificate_id, request)
                .await
                .map(Outcomes::from),
            ChangeRequest::Delete {
                certificate_id,
                targets,
            } => api_client::delete_certificate(certificate_id, targets)
                .await
                .map(Outcomes::from),
            ChangeRequest::Transfer {
                certificate_id,
                request,
            } => api_client::transfer_certificate(certificate_id, request)
                .await
                .map(Outcomes::from),
            ChangeRequest::Adopt {
                certificate_id,
                request,
            } => api_client::adopt_certificate(certificate_id, request)
                .await
                .map(Outcomes::from),
            ChangeRequest::Retire {
                certificate_id,
                request,
            } => api_client::retire_certificate(certificate_id, request)
                .await
                .map(Outcomes::from),
        };
        dispatcher.dispatch(Action::Manage(ManageAction::ChangeDone(result)));
        look_up(&dispatcher, certificate_id, true);
    });
}

/// The config's entry for a target (a bare one while the config is not there).
fn info(state: &State, id: &str) -> TargetInfo {
    let config = match &state.config {
        Remote::Loaded(config) => Some(&**config),
        _ => None,
    };
    target_info(config, id)
}
