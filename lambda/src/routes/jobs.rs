//! `/v1/jobs`: factory jobs, their progress, cancelling and results.

use axum::{
    extract::{Path, State},
    http::StatusCode,
};
use marshal_shared::{OffsetDateTime, api::CreateJobRequest};

use super::{AppStateRef, Authenticated, Handled, body::JsonBody, json};

pub(crate) async fn create(
    State(state): AppStateRef,
    Authenticated(caller): Authenticated,
    JsonBody(request): JsonBody<CreateJobRequest>,
) -> Handled {
    let response = state
        .service
        .create_job(&caller, &request, OffsetDateTime::now_utc())
        .await?;
    Ok(json(StatusCode::CREATED, &response))
}

pub(crate) async fn get(
    State(state): AppStateRef,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Handled {
    Ok(json(
        StatusCode::OK,
        &state.service.job(&caller, &id).await?,
    ))
}

pub(crate) async fn start(
    State(state): AppStateRef,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Handled {
    Ok(json(
        StatusCode::ACCEPTED,
        &state.service.start_job(&caller, &id).await?,
    ))
}

pub(crate) async fn cancel(
    State(state): AppStateRef,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Handled {
    Ok(json(
        StatusCode::OK,
        &state.service.cancel_job(&caller, &id).await?,
    ))
}

pub(crate) async fn results(
    State(state): AppStateRef,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Handled {
    Ok(json(
        StatusCode::OK,
        &state.service.job_results(&caller, &id).await?,
    ))
}
