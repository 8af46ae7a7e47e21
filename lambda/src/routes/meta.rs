//! `GET /v1/health`, `GET /v1/config`, `GET /v1/openapi.json`.

use axum::{Json, extract::State, http::StatusCode, response::Response};
use marshal_shared::api::{
    ConfigLimits, GetConfigResponse, HealthResponse, PolicyInfo, TargetInfo,
};

use super::{AppStateRef, Authenticated, Handled, json};

pub(crate) async fn health() -> Json<HealthResponse> {
    Json(HealthResponse {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

pub(crate) async fn config(
    State(state): AppStateRef,
    Authenticated(caller): Authenticated,
) -> Handled {
    let config = state.service.config();
    let response = GetConfigResponse {
        targets: state
            .service
            .visible_targets(&caller)
            .into_iter()
            .map(|t| TargetInfo {
                id: t.id.clone(),
                name: t.name.clone(),
                account_id: t.account_id.clone(),
                region: t.region.clone(),
                admin: caller.is_admin(t),
            })
            .collect(),
        policies: config
            .policies
            .iter()
            .map(|p| PolicyInfo {
                name: p.name.clone(),
                created_when_missing: p.template.is_some(),
            })
            .collect(),
        thing_name_pattern: config.thing_name_pattern.clone(),
        limits: ConfigLimits {
            max_body_bytes: config.limits.max_body_bytes,
            max_targets_per_request: config.limits.max_targets_per_request,
            max_certificates_per_request: config.limits.max_certificates_per_request,
        },
        groups: caller.groups.iter().cloned().collect(),
    };
    Ok(json(StatusCode::OK, &response))
}

pub(crate) async fn openapi(State(state): AppStateRef) -> Response {
    json(
        StatusCode::OK,
        &crate::openapi::document(state.service.config()),
    )
}
