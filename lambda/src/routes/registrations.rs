//! `POST /v1/registrations`.

use axum::extract::State;
use marshal_shared::{OffsetDateTime, api::CreateRegistrationRequest};

use super::{AppStateRef, Authenticated, Handled, body::JsonBody, json, multi_status};

pub(crate) async fn create(
    State(state): AppStateRef,
    Authenticated(caller): Authenticated,
    JsonBody(request): JsonBody<CreateRegistrationRequest>,
) -> Handled {
    let response = state
        .service
        .register(
            &caller,
            &request,
            OffsetDateTime::now_utc(),
            state.service.deadline(),
        )
        .await?;
    Ok(json(multi_status(response.summary.failed == 0), &response))
}
