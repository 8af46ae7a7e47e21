//! `GET /v1/health` and `GET /v1/config`: what the caller may use.

use serde::{Deserialize, Serialize};

/// `GET /v1/health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthResponse {
    /// Always `ok` when the API answers.
    pub status: String,
    /// The API's version.
    pub version: String,
}

/// A target the caller may use. Never carries role ARNs or external IDs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetInfo {
    /// Id to use in requests.
    pub id: String,
    /// Display name.
    pub name: String,
    /// AWS account ID.
    pub account_id: String,
    /// AWS region.
    pub region: String,
    /// Whether the caller administers it (`adminGroups`): may REVOKE and
    /// adopt, and manage what others registered there.
    #[serde(default)]
    pub admin: bool,
}

/// A policy the caller may attach.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyInfo {
    /// IoT policy name.
    pub name: String,
    /// Whether the API creates it in targets where it is missing.
    pub created_when_missing: bool,
}

/// The limits the server enforces, for the page to mirror.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigLimits {
    /// Largest request body in bytes.
    pub max_body_bytes: usize,
    /// Most targets in one request.
    pub max_targets_per_request: usize,
    /// Most certificates in one request.
    pub max_certificates_per_request: usize,
}

/// `GET /v1/config`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetConfigResponse {
    /// Targets this caller may use.
    pub targets: Vec<TargetInfo>,
    /// Policies this caller may attach.
    pub policies: Vec<PolicyInfo>,
    /// Thing names must match this (anchored) regular expression.
    pub thing_name_pattern: String,
    /// Limits.
    pub limits: ConfigLimits,
    /// The caller's groups: the choices for a registration's `ownerGroup`.
    #[serde(default)]
    pub groups: Vec<String>,
}
