//! The English / Japanese switch.

use yew::prelude::*;

use super::select_value;
use crate::i18n::{Lang, Text};

#[derive(Properties, PartialEq)]
pub(crate) struct LanguageSwitchProps {
    pub(crate) lang: Lang,
    pub(crate) on_change: Callback<Lang>,
}

#[function_component(LanguageSwitch)]
pub(crate) fn language_switch(props: &LanguageSwitchProps) -> Html {
    let onchange = props.on_change.reform(|event: Event| {
        let tag = select_value(&event);
        Lang::from_tag(&tag)
    });
    html! {
        <label class="lang">
            { Text::Language.get(props.lang) }
            <select {onchange} id="language">
                { for Lang::ALL.iter().map(|&lang| html! {
                    <option value={lang.tag()} selected={lang == props.lang} lang={lang.tag()}>
                        { lang.name() }
                    </option>
                }) }
            </select>
        </label>
    }
}
