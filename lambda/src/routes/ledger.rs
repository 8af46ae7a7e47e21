//! `/v1/certificates` (the inventory), `/v1/certificates/{id}/history`,
//! rotate, retire, and `/v1/reconcile`.

use std::collections::BTreeMap;

use axum::{
    extract::{Path, Query, State, rejection::QueryRejection},
    http::StatusCode,
};
use marshal_shared::{
    OffsetDateTime,
    api::{ErrorCode, ReconcileRequest, RetireCertificateRequest, RotateCertificateRequest},
};

use super::{AppStateRef, Authenticated, Handled, body::JsonBody, json, multi_status};
use crate::{
    error::ApiError,
    service::{InventoryQuery, MAX_INVENTORY_FILTER, MAX_INVENTORY_PAGE},
};

/// The query parameters the inventory takes.
const PARAMETERS: [&str; 6] = [
    "target",
    "thing",
    "expiresBefore",
    "registeredBy",
    "cursor",
    "limit",
];

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidRequest, message)
}

/// Reads the inventory's query: unknown parameters, empty values and
/// malformed ones are refused by name.
pub(crate) fn inventory_query(
    raw: Result<Query<BTreeMap<String, String>>, QueryRejection>,
) -> Result<InventoryQuery, ApiError> {
    let Query(mut raw) = raw.map_err(|_| invalid("the query string is not valid"))?;
    if let Some(unknown) = raw.keys().find(|k| !PARAMETERS.contains(&k.as_str())) {
        return Err(invalid(format!(
            "unknown query parameter \"{}\"; this route takes {}",
            unknown.chars().take(40).collect::<String>(),
            PARAMETERS.join(", ")
        )));
    }
    for name in ["target", "thing", "registeredBy"] {
        if raw
            .get(name)
            .is_some_and(|v| v.is_empty() || v.chars().count() > MAX_INVENTORY_FILTER)
        {
            return Err(invalid(format!(
                "{name}: give 1 to {MAX_INVENTORY_FILTER} characters, or leave it out"
            )));
        }
    }
    let expires_before_ms = match raw.remove("expiresBefore") {
        None => None,
        Some(text) => {
            let at = OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339)
                .map_err(|_| {
                invalid("expiresBefore: an RFC 3339 time, e.g. 2027-03-31T00:00:00Z")
            })?;
            Some(i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX))
        }
    };
    let limit = match raw.remove("limit") {
        None => MAX_INVENTORY_PAGE,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_INVENTORY_PAGE).contains(n))
            .ok_or_else(|| invalid(format!("limit: a number from 1 to {MAX_INVENTORY_PAGE}")))?,
    };
    Ok(InventoryQuery {
        target: raw.remove("target"),
        thing: raw.remove("thing"),
        expires_before_ms,
        registered_by: raw.remove("registeredBy"),
        cursor: raw.remove("cursor"),
        limit,
    })
}

pub(crate) async fn list(
    State(state): AppStateRef,
    Authenticated(caller): Authenticated,
    raw: Result<Query<BTreeMap<String, String>>, QueryRejection>,
) -> Handled {
    let query = inventory_query(raw)?;
    let response = state.service.inventory(&caller, &query).await?;
    Ok(json(StatusCode::OK, &response))
}

pub(crate) async fn history(
    State(state): AppStateRef,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Handled {
    let id = super::certificates::certificate_id(&id)?;
    let response = state.service.history(&caller, &id).await?;
    Ok(json(StatusCode::OK, &response))
}

pub(crate) async fn rotate(
    State(state): AppStateRef,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<RotateCertificateRequest>,
) -> Handled {
    let id = super::certificates::certificate_id(&id)?;
    let response = state
        .service
        .rotate(
            &caller,
            &id,
            &request,
            OffsetDateTime::now_utc(),
            state.service.deadline(),
        )
        .await?;
    Ok(json(
        multi_status(response.results.iter().all(|r| r.error.is_none())),
        &response,
    ))
}

pub(crate) async fn retire(
    State(state): AppStateRef,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<RetireCertificateRequest>,
) -> Handled {
    let id = super::certificates::certificate_id(&id)?;
    let response = state
        .service
        .retire(&caller, &id, &request, state.service.deadline())
        .await?;
    Ok(json(
        multi_status(response.results.iter().all(|r| r.ok)),
        &response,
    ))
}

pub(crate) async fn reconcile(
    State(state): AppStateRef,
    Authenticated(caller): Authenticated,
    JsonBody(request): JsonBody<ReconcileRequest>,
) -> Handled {
    let response = state
        .service
        .reconcile(&caller, &request, state.service.deadline())
        .await?;
    Ok(json(StatusCode::OK, &response))
}
