//! "Manage": look up a certificate across targets and change it. Filled in next.

use yew::prelude::*;

use crate::state::State;

#[derive(Properties, PartialEq)]
pub(crate) struct ManageSectionProps {
    pub(crate) state: UseReducerHandle<State>,
}

#[function_component(ManageSection)]
pub(crate) fn manage_section(_props: &ManageSectionProps) -> Html {
    html! {}
}
