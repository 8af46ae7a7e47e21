//! `/v1/certificates/{id}`: look-up, status, delete, transfer, adopt.

use axum::extract::{Path, Query, State};
use marshal_shared::{
    OffsetDateTime,
    api::{AdoptRequest, ErrorCode, TransferCertificateRequest, UpdateStatusRequest},
    validate,
};
use serde::Deserialize;

use super::{AppStateRef, Authenticated, Handled, body::JsonBody, json, multi_status};
use crate::error::ApiError;

pub(crate) fn certificate_id(raw: &str) -> Result<String, ApiError> {
    validate::certificate_id(raw)
        .map_err(|e| ApiError::new(ErrorCode::InvalidCertificateId, e.to_string()))
}

pub(crate) async fn get(
    State(state): AppStateRef,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Handled {
    let id = certificate_id(&id)?;
    let response = state.service.lookup(&caller, &id).await;
    Ok(json(axum::http::StatusCode::OK, &response))
}

pub(crate) async fn update_status(
    State(state): AppStateRef,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<UpdateStatusRequest>,
) -> Handled {
    let id = certificate_id(&id)?;
    let response = state
        .service
        .update_status(
            &caller,
            &id,
            request.status,
            &request.targets,
            state.service.deadline(),
        )
        .await?;
    Ok(json(
        multi_status(response.results.iter().all(|r| r.ok)),
        &response,
    ))
}

#[derive(Debug, Deserialize)]
pub(crate) struct TargetsQuery {
    targets: Option<String>,
}

pub(crate) async fn delete(
    State(state): AppStateRef,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    Query(query): Query<TargetsQuery>,
) -> Handled {
    let id = certificate_id(&id)?;
    let targets: Vec<String> = query
        .targets
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect();
    let response = state
        .service
        .delete(&caller, &id, &targets, state.service.deadline())
        .await?;
    Ok(json(
        multi_status(response.results.iter().all(|r| r.ok)),
        &response,
    ))
}

pub(crate) async fn transfer(
    State(state): AppStateRef,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<TransferCertificateRequest>,
) -> Handled {
    let id = certificate_id(&id)?;
    let response = state
        .service
        .transfer(
            &caller,
            &id,
            &request,
            OffsetDateTime::now_utc(),
            state.service.deadline(),
        )
        .await?;
    let all_ok = response.destinations.iter().all(|d| d.error.is_none())
        && response.source.as_ref().is_none_or(|s| s.ok);
    Ok(json(multi_status(all_ok), &response))
}

pub(crate) async fn adopt(
    State(state): AppStateRef,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<AdoptRequest>,
) -> Handled {
    let id = certificate_id(&id)?;
    let response = state
        .service
        .adopt(&caller, &id, &request, state.service.deadline())
        .await?;
    Ok(json(
        multi_status(response.results.iter().all(|r| r.ok)),
        &response,
    ))
}

pub(crate) async fn adopt_thing(
    State(state): AppStateRef,
    Authenticated(caller): Authenticated,
    Path(name): Path<String>,
    JsonBody(request): JsonBody<AdoptRequest>,
) -> Handled {
    let response = state
        .service
        .adopt_thing(&caller, &name, &request, state.service.deadline())
        .await?;
    Ok(json(
        multi_status(response.results.iter().all(|r| r.ok)),
        &response,
    ))
}
