//! The sign-in bar, when `config.json` asks for sign-in: who is signed in,
//! "sign in" (a popup: the page itself never navigates away, its keys stay
//! in its memory), "sign out", an expired session, and a `config.json`
//! that cannot be used. In local mode (no `config.json`) it shows nothing.

use yew::prelude::*;

use crate::api_client;
use crate::auth::{Session, SignInProblem};
use crate::i18n::Lang;
use crate::i18n::auth::{AuthText, config_problem, sign_in_problem};
use crate::sign_in::{self, Pending, SignInEvent};

#[derive(Properties, PartialEq)]
pub(crate) struct SignInBarProps {
    pub(crate) lang: Lang,
    /// After a sign-in: the page loads what needed it.
    pub(crate) on_signed_in: Callback<()>,
    /// After a sign-out: the page drops what was the last user's.
    pub(crate) on_signed_out: Callback<()>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Progress {
    Idle,
    /// The popup is open; waiting for its answer.
    Waiting,
    /// The answer came; the code is being exchanged.
    Exchanging,
}

#[function_component(SignInBar)]
pub(crate) fn sign_in_bar(props: &SignInBarProps) -> Html {
    let lang = props.lang;
    let runtime = use_memo((), |()| api_client::runtime_config());
    let redraw = use_force_update();
    use_effect_with((), move |()| {
        api_client::watch_session(Callback::from(move |()| redraw.force_update()));
    });
    let progress = use_state(|| Progress::Idle);
    let problem = use_state(|| None::<SignInProblem>);
    let pending = use_mut_ref(|| None::<Pending>);

    let sign_in_config = match &*runtime {
        Err(broken) => {
            return html! {
                <section class="signin-bar error" id="sign-in-bar" role="alert" aria-label={AuthText::Region.get(lang)}>
                    <p>{ AuthText::ConfigBroken.get(lang) }{ " " }{ config_problem(broken, lang) }</p>
                    <p class="hint">{ AuthText::AskDeployer.get(lang) }</p>
                </section>
            };
        }
        Ok(config) => match config.sign_in() {
            Some(sign_in) => sign_in.clone(),
            None => return html! {},
        },
    };

    let on_sign_in = {
        let (progress, problem, pending) = (progress.clone(), problem.clone(), pending.clone());
        let on_signed_in = props.on_signed_in.clone();
        let sign_in_config = sign_in_config.clone();
        Callback::from(move |_: MouseEvent| {
            problem.set(None);
            let on_event = {
                let (progress, problem, pending) =
                    (progress.clone(), problem.clone(), pending.clone());
                let on_signed_in = on_signed_in.clone();
                Callback::from(move |event| match event {
                    SignInEvent::Refused(refused) => problem.set(Some(refused)),
                    SignInEvent::Exchanging => {
                        problem.set(None);
                        progress.set(Progress::Exchanging);
                    }
                    SignInEvent::Done(result) => {
                        pending.borrow_mut().take();
                        progress.set(Progress::Idle);
                        problem.set(result.as_ref().err().cloned());
                        if result.is_ok() {
                            on_signed_in.emit(());
                        }
                    }
                })
            };
            // Opened here, in the click: browsers allow popups only then.
            match sign_in::begin(&sign_in_config, on_event) {
                Ok(started) => {
                    *pending.borrow_mut() = Some(started);
                    progress.set(Progress::Waiting);
                }
                Err(failed) => {
                    pending.borrow_mut().take();
                    progress.set(Progress::Idle);
                    problem.set(Some(failed));
                }
            }
        })
    };
    let on_sign_out = {
        let (progress, problem, pending) = (progress.clone(), problem.clone(), pending.clone());
        let sign_in_config = sign_in_config.clone();
        let on_signed_out = props.on_signed_out.clone();
        Callback::from(move |_: MouseEvent| {
            pending.borrow_mut().take();
            progress.set(Progress::Idle);
            // The popup first, in the click (browsers allow popups only then);
            // the page forgets the token whatever the provider does.
            problem.set(sign_in::end_provider_session(&sign_in_config).err());
            api_client::sign_out();
            on_signed_out.emit(());
        })
    };

    let sign_in_button = |label: AuthText| {
        html! {
            <button type="button" class="primary" id="sign-in" onclick={on_sign_in.clone()}>
                { label.get(lang) }
            </button>
        }
    };
    let body = match (api_client::session(), *progress) {
        (Session::SignedIn(token), _) => html! {
            <>
                <p id="sign-in-status">
                    { AuthText::SignedInAs.get(lang) }{ " " }
                    <strong id="signed-in-name">{ token.name().to_owned() }</strong>
                </p>
                <button type="button" id="sign-out" onclick={on_sign_out}>{ AuthText::SignOut.get(lang) }</button>
            </>
        },
        (_, Progress::Exchanging) => html! {
            <p id="sign-in-status" class="status busy" aria-busy="true">{ AuthText::Exchanging.get(lang) }</p>
        },
        (_, Progress::Waiting) => html! {
            <>
                <p id="sign-in-status" class="status busy">{ AuthText::Waiting.get(lang) }</p>
                { sign_in_button(AuthText::OpenAgain) }
            </>
        },
        (Session::Expired { name }, Progress::Idle) => html! {
            <>
                <p id="sign-in-status" class="status error">
                    { AuthText::Expired.get(lang) }{ " " }
                    <span class="muted">{ format!("{} {name}", AuthText::ExpiredAs.get(lang)) }</span>
                </p>
                { sign_in_button(AuthText::SignInAgain) }
            </>
        },
        (Session::SignedOut | Session::NotRequired, Progress::Idle) => html! {
            <>
                <p id="sign-in-status">{ AuthText::Prompt.get(lang) }</p>
                { sign_in_button(AuthText::SignIn) }
            </>
        },
    };
    html! {
        <section class="signin-bar" id="sign-in-bar" aria-label={AuthText::Region.get(lang)} aria-live="polite">
            { body }
            if let Some(problem) = &*problem {
                <p class="field-error" id="sign-in-problem" role="alert">{ sign_in_problem(problem, lang) }</p>
            }
        </section>
    }
}
