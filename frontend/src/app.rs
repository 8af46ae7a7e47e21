//! The page: one reducer for the whole state, the generation worker, the
//! API calls, and the sections laid out in the order a user works.

use std::rc::Rc;

use marshal_shared::KeyType;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::api_client;
use crate::components::{
    BatchSection, CredentialSection, CredentialView, ImportSection, InventorySection,
    LanguageSwitch, ManageSection, RegisterSection, SignInBar,
};
use crate::generation::{GenerateOutcome, now_from_unix_ms};
use crate::i18n::{Lang, Text};
use crate::state::{Action, BatchResult, Made, Source, State};
use crate::worker::{Generator, WorkerMessage};

#[function_component(App)]
pub(crate) fn app() -> Html {
    let state = use_reducer(|| State::new(browser_lang()));

    // <html lang> and the title follow the chosen language.
    use_effect_with(state.lang, |lang| {
        if let Some(document) = web_sys::window().and_then(|w| w.document()) {
            if let Some(html) = document.document_element() {
                let _ = html.set_attribute("lang", lang.tag());
            }
            document.set_title(Text::Title.get(*lang));
        }
    });

    let generator = {
        let dispatcher = state.dispatcher();
        use_memo((), move |_| {
            let on_outcome = {
                let dispatcher = dispatcher.clone();
                Callback::from(move |message| {
                    if let WorkerMessage::Generated(outcome) = message {
                        dispatcher.dispatch(outcome_action(outcome));
                    }
                })
            };
            let on_broken = Callback::from(move |message| {
                dispatcher.dispatch(Action::WorkerFailed(message));
            });
            Generator::spawn(on_outcome, on_broken)
        })
    };

    let load_config = {
        let dispatcher = state.dispatcher();
        Callback::from(move |()| {
            dispatcher.dispatch(Action::ConfigLoading);
            let dispatcher = dispatcher.clone();
            spawn_local(async move {
                dispatcher.dispatch(match api_client::get_config().await {
                    Ok(config) => Action::ConfigLoaded(Rc::new(config)),
                    Err(failure) => Action::ConfigFailed(failure),
                });
            });
        })
    };
    {
        let load_config = load_config.clone();
        use_effect_with((), move |()| load_config.emit(()));
    }

    // Signed in or out: the targets are the user's (their groups), so they
    // load again; after a sign-out the API refuses them, and the page says
    // to sign in instead of showing the last user's.
    let on_signed_in = load_config.clone();
    let on_signed_out = {
        let (dispatcher, load_config) = (state.dispatcher(), load_config.clone());
        Callback::from(move |()| {
            dispatcher.dispatch(Action::SignedOut);
            load_config.emit(());
        })
    };

    let on_generate = {
        let state = state.clone();
        Callback::from(move |()| {
            let id = state.last_job + 1;
            let Ok(job) = state.form.job(id, js_sys::Date::now()) else {
                state.dispatch(Action::GenerationRefused); // shows every error
                return;
            };
            state.dispatch(Action::GenerationStarted { job: id });
            let sent = match &*generator {
                Ok(generator) => generator.send(&job),
                Err(error) => Err(error.clone()),
            };
            if let Err(message) = sent {
                state.dispatch(Action::GenerationFailed { job: id, message });
            }
        })
    };

    // Batches run in a worker of their own, dropped (terminated) to cancel.
    let batch_worker = use_mut_ref(|| None::<Generator>);

    let on_batch_start = {
        let state = state.clone();
        let batch_worker = batch_worker.clone();
        Callback::from(move |()| {
            if state.batch_running() {
                return;
            }
            let job = match state.batch_job(js_sys::Date::now()) {
                Ok(job) => job,
                Err(problem) => {
                    state.dispatch(Action::BatchRefused(problem));
                    return;
                }
            };
            let run = state.batch.run + 1;
            let dispatcher = state.dispatcher();
            let on_message = {
                let dispatcher = dispatcher.clone();
                let batch_worker = batch_worker.clone();
                Callback::from(move |message| {
                    let action = match message {
                        WorkerMessage::Progress { done } => Action::BatchProgress { run, done },
                        WorkerMessage::BatchDone {
                            file_name,
                            count,
                            ms,
                            zip,
                            job_file,
                        } => Action::BatchDone {
                            run,
                            result: Rc::new(BatchResult {
                                file_name,
                                count,
                                ms,
                                zip,
                                job_file: Rc::from(job_file),
                            }),
                        },
                        WorkerMessage::BatchFailed(message) => Action::BatchFailed { run, message },
                        WorkerMessage::Generated(_) => return,
                    };
                    let finished = !matches!(action, Action::BatchProgress { .. });
                    dispatcher.dispatch(action);
                    if finished {
                        // Its work is done; free its memory.
                        batch_worker.borrow_mut().take();
                    }
                })
            };
            let on_broken = {
                let dispatcher = dispatcher.clone();
                Callback::from(move |message| {
                    dispatcher.dispatch(Action::BatchFailed { run, message })
                })
            };
            dispatcher.dispatch(Action::BatchStarted {
                run,
                total: job.names.len(),
            });
            let started = Generator::spawn(on_message, on_broken)
                .and_then(|worker| worker.send_batch(&job).map(|()| worker));
            match started {
                Ok(worker) => *batch_worker.borrow_mut() = Some(worker),
                Err(message) => dispatcher.dispatch(Action::BatchFailed { run, message }),
            }
        })
    };
    let on_batch_cancel = {
        let dispatcher = state.dispatcher();
        Callback::from(move |()| {
            batch_worker.borrow_mut().take(); // terminates it mid-batch
            dispatcher.dispatch(Action::BatchCancelled);
        })
    };

    let on_register = {
        let state = state.clone();
        Callback::from(move |()| {
            let Some(request) = state.registration_request() else {
                return;
            };
            state.dispatch(Action::RegistrationSent);
            let dispatcher = state.dispatcher();
            spawn_local(async move {
                dispatcher.dispatch(match api_client::create_registration(&request).await {
                    Ok(response) => Action::RegistrationDone(Rc::new(response)),
                    Err(failure) => Action::RegistrationFailed(failure),
                });
            });
        })
    };

    let lang = state.lang;
    html! {
        <>
            <header class="top">
                <h1>{ Text::Title.get(lang) }</h1>
                <LanguageSwitch {lang} on_change={state.dispatcher().to_callback().reform(Action::SetLang)} />
            </header>
            <SignInBar {lang} {on_signed_in} {on_signed_out} />
            <p class="tagline">{ Text::Tagline.get(lang) }</p>
            <p class="keys-note" role="note">{ Text::KeysStayHere.get(lang) }</p>
            <section class="card" aria-labelledby="credentials-heading">
                <h2 id="credentials-heading">{ Text::CredentialsHeading.get(lang) }</h2>
                <div class="switch" role="group" aria-label={Text::CredentialsSource.get(lang)}>
                    { for [(Source::Make, Text::MakeHeading, "source-make"), (Source::Import, Text::ImportHeading, "source-import")].into_iter().map(|(source, label, id)| {
                        let pressed = state.source == source;
                        let onclick = state.dispatcher().to_callback().reform(move |_: MouseEvent| Action::SetSource(source));
                        html! {
                            <button type="button" {id} {onclick} aria-pressed={if pressed { "true" } else { "false" }}>{ label.get(lang) }</button>
                        }
                    }) }
                </div>
                if state.source == Source::Make {
                    <CredentialSection state={state.clone()} {on_generate} />
                } else {
                    <ImportSection state={state.clone()} />
                }
            </section>
            if let Some(made) = state.made() {
                <section class="card" aria-labelledby="yours-heading">
                    <h2 id="yours-heading">{ Text::YourCredentials.get(lang) }</h2>
                    <CredentialView made={made.clone()} {lang} endpoints={state.kit_endpoints()} />
                </section>
            }
            <RegisterSection state={state.clone()} {on_register} on_retry={load_config} />
            <ManageSection state={state.clone()} />
            <BatchSection state={state.clone()} on_start={on_batch_start} on_cancel={on_batch_cancel} />
            <InventorySection state={state.clone()} />
        </>
    }
}

/// The worker's answer as an action; the certificate is read here (cheap)
/// so the state holds parsed details and preflight findings.
fn outcome_action(outcome: GenerateOutcome) -> Action {
    match outcome {
        GenerateOutcome::Made {
            id,
            certificate_pem,
            private_key_pem,
        } => {
            let made = now_from_unix_ms(js_sys::Date::now())
                .and_then(|now| Made::from_worker(&certificate_pem, private_key_pem, now));
            match made {
                Ok(made) => Action::Generated {
                    job: id,
                    made: Rc::new(made),
                },
                Err(error) => Action::GenerationFailed {
                    job: id,
                    message: error.to_string(),
                },
            }
        }
        GenerateOutcome::Failed { id, message } => Action::GenerationFailed { job: id, message },
    }
}

/// The browser's preferred language.
fn browser_lang() -> Lang {
    web_sys::window()
        .and_then(|w| w.navigator().language())
        .map(|tag| Lang::from_tag(&tag))
        .unwrap_or_default()
}

/// How a key type is offered in the menu.
pub(crate) fn key_type_label(key_type: KeyType, lang: Lang) -> &'static str {
    match (key_type, lang) {
        (KeyType::EcP256, Lang::En) => "ECDSA P-256 (recommended)",
        (KeyType::EcP256, Lang::Ja) => "ECDSA P-256（推奨）",
        (KeyType::EcP384, _) => "ECDSA P-384",
        (KeyType::Rsa2048, _) => "RSA 2048",
        (KeyType::Rsa3072, _) => "RSA 3072",
        (KeyType::Rsa4096, Lang::En) => "RSA 4096 (slow: several seconds)",
        (KeyType::Rsa4096, Lang::Ja) => "RSA 4096（低速: 数秒かかります）",
    }
}
