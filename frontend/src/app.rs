//! The page: one reducer for the whole state, the generation worker, the
//! API calls, and the sections laid out in the order a user works.

use std::rc::Rc;

use marshal_shared::KeyType;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::api_client;
use crate::components::{CredentialSection, LanguageSwitch, ManageSection, RegisterSection};
use crate::generation::{GenerateOutcome, now_from_unix_ms};
use crate::i18n::{Lang, Text};
use crate::state::{Action, Made, State};
use crate::worker::Generator;

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
                Callback::from(move |outcome| dispatcher.dispatch(outcome_action(outcome)))
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
            <p class="tagline">{ Text::Tagline.get(lang) }</p>
            <p class="keys-note" role="note">{ Text::KeysStayHere.get(lang) }</p>
            <CredentialSection state={state.clone()} {on_generate} />
            <RegisterSection state={state.clone()} {on_register} on_retry={load_config} />
            <ManageSection state={state.clone()} />
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
                .and_then(|now| Made::new(&certificate_pem, private_key_pem, now));
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
