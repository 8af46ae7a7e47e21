//! The OpenAPI 3.1 description of the API, served at `GET /v1/openapi.json`.
//! Error codes and statuses come from `shared::api::ErrorCode`, so they cannot
//! drift; tests check every documented operation exists in the router, and
//! Schemathesis (`tests/tests/api_schema.rs`) that the server keeps to it.
//!
//! The request side states every rule the server checks before it acts
//! (lengths, counts, enums, patterns, unknown fields), with the limits of
//! this deployment's configuration; what no schema can say (a target the
//! caller may use, a certificate AWS IoT accepts) is in the descriptions
//! and answered with the documented 403/422. The response side lists, per
//! operation, every status the server gives, each error with `ErrorBody`.

use marshal_shared::api::ErrorCode;
use serde_json::{Map, Value, json};

use crate::config::Config;

/// Every documented (method, path) pair, as the router serves them.
pub const OPERATIONS: &[(&str, &str)] = &[
    ("get", "/v1/health"),
    ("get", "/v1/config"),
    ("get", "/v1/openapi.json"),
    ("post", "/v1/registrations"),
    ("get", "/v1/certificates"),
    ("get", "/v1/certificates/{id}/history"),
    ("post", "/v1/certificates/{id}/rotate"),
    ("post", "/v1/certificates/{id}/retire"),
    ("post", "/v1/reconcile"),
    ("get", "/v1/certificates/{id}"),
    ("delete", "/v1/certificates/{id}"),
    ("post", "/v1/certificates/{id}/status"),
    ("post", "/v1/certificates/{id}/transfer"),
    ("post", "/v1/certificates/{id}/adopt"),
    ("post", "/v1/things/{name}/adopt"),
    ("post", "/v1/jobs"),
    ("get", "/v1/jobs/{id}"),
    ("post", "/v1/jobs/{id}/start"),
    ("post", "/v1/jobs/{id}/cancel"),
    ("get", "/v1/jobs/{id}/results"),
];

/// AWS IoT's rule for thing names (`shared::validate::thing_name`).
const THING_NAME: &str = "^[a-zA-Z0-9:_-]{1,128}$";

/// The characters Rust's `char::is_whitespace` trims (Unicode White_Space),
/// for a regular-expression class, spelled the same in ECMA-262 and Python.
const WHITESPACE: &str =
    r"\u0009-\u000d\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn content(name: &str) -> Value {
    json!({ "application/json": { "schema": reference(name) } })
}

/// The error responses of an operation: each status with the codes that
/// carry it, every one with `ErrorBody`.
fn errors(statuses: &[u16]) -> Map<String, Value> {
    statuses
        .iter()
        .map(|&status| {
            let codes: Vec<String> = ErrorCode::ALL
                .iter()
                .filter(|c| c.http_status() == status)
                .filter_map(|c| serde_json::to_value(c).ok()?.as_str().map(str::to_owned))
                .collect();
            let description = format!("Refused: `code` is one of {}", codes.join(", "));
            (
                status.to_string(),
                json!({ "description": description, "content": content("ErrorBody") }),
            )
        })
        .collect()
}

/// 200 and 207 with `schema`, then the error statuses.
fn multi(ok: &str, schema: &str, statuses: &[u16]) -> Value {
    let mut responses = Map::new();
    responses.insert(
        "200".into(),
        json!({ "description": ok, "content": content(schema) }),
    );
    responses.insert(
        "207".into(),
        json!({ "description": "Some targets failed; see each result's `error`", "content": content(schema) }),
    );
    responses.extend(errors(statuses));
    Value::Object(responses)
}

/// 200 with `ok`, then the error statuses.
fn single(ok: Value, statuses: &[u16]) -> Value {
    let mut responses = Map::new();
    responses.insert("200".into(), ok);
    responses.extend(errors(statuses));
    Value::Object(responses)
}

fn job_id_param() -> Value {
    json!({ "name": "id", "in": "path", "required": true, "description": "A job id from POST /v1/jobs: 32 lowercase hex digits (else 400 invalid_request); another caller's job is 404 job_not_found", "schema": { "type": "string", "pattern": crate::service::jobs::JOB_ID_PATTERN } })
}

/// `status` with `schema`, then the error statuses.
fn answer(status: u16, ok: &str, schema: &str, statuses: &[u16]) -> Value {
    let mut responses = Map::new();
    responses.insert(
        status.to_string(),
        json!({ "description": ok, "content": content(schema) }),
    );
    responses.extend(errors(statuses));
    Value::Object(responses)
}

// A job route: 404 for a job that is not the caller's, 503 where this
// deployment runs no jobs, 500 when the jobs table fails.
const JOB_ROUTE: [u16; 6] = [400, 401, 403, 404, 500, 503];

fn id_param() -> Value {
    json!({ "name": "id", "in": "path", "required": true, "description": "Certificate ID: 64 hex digits (SHA-256 of the DER), optionally `0x`-prefixed; anything else is 400 invalid_certificate_id", "schema": { "type": "string", "pattern": "^(0x)?[0-9a-fA-F]{64}$" } })
}

/// Adds the HTTP server's own refusal of a request line too long to read.
fn uri_too_long(mut responses: Value) -> Value {
    if let Some(map) = responses.as_object_mut() {
        map.insert("414".into(), json!({ "description": "The query string is too long to read (refused before the API sees it)" }));
    }
    responses
}

fn query(name: &str, description: &str, schema: Value) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": description, "schema": schema })
}

fn json_body(schema: &str) -> Value {
    json!({ "required": true, "description": "`application/json` (else 415), at most the configured maxBodyBytes (else 413), never carrying private key material (else 422 key_material_refused)", "content": content(schema) })
}

// Statuses every authenticated route may give besides its own: 401 without
// a caller, 403 host_not_allowed from a server without authentication.
const BODY_ROUTE: [u16; 6] = [400, 401, 403, 413, 415, 422];

/// The whole document, with this deployment's limits.
pub fn document(config: &Config) -> Value {
    let limits = &config.limits;
    let codes: Vec<Value> = ErrorCode::ALL
        .iter()
        .map(|c| serde_json::to_value(c).unwrap_or(Value::Null))
        .collect();
    let statuses: Map<String, Value> = ErrorCode::ALL
        .iter()
        .filter_map(|c| {
            let name = serde_json::to_value(c).ok()?.as_str()?.to_owned();
            Some((name, json!(c.http_status())))
        })
        .collect();
    let string = json!({ "type": "string" });
    let strings = json!({ "type": "array", "items": { "type": "string" } });
    let integer = json!({ "type": "integer", "minimum": 0 });
    let boolean = json!({ "type": "boolean" });
    let status = json!({ "type": "string", "enum": ["ACTIVE", "INACTIVE", "REVOKED", "OTHER"] });
    let target_error = json!({ "type": "object", "required": ["code", "message"], "properties": { "code": string, "message": string } });
    let target_ids = json!({
        "type": "array", "minItems": 1, "maxItems": limits.max_targets_per_request,
        "items": { "type": "string" },
        "description": format!("Target ids from GET /v1/config (at least one, else 400; more than {} distinct, 422); one the caller may not use is 403 forbidden_target", limits.max_targets_per_request)
    });
    let thing_name = json!({
        "type": ["string", "null"], "pattern": THING_NAME,
        "description": format!("1 to 128 of letters, digits, ':', '_', '-' (AWS IoT), and matching this deployment's thingNamePattern `{}`; else 422 invalid_thing_name. Absent or null: the certificate's CN", config.thing_name_pattern)
    });
    let owner_group = json!({
        "type": ["string", "null"], "maxLength": 128,
        "pattern": format!("^[^\\u0000-\\u0020\\u007f-\\u00a0{WHITESPACE},\"\\[\\]]+$"),
        "description": "One of the caller's groups (else 403 forbidden_group): at most 128 bytes of UTF-8, no whitespace, control characters, ',', '\"', '[' or ']'. Absent or null: the caller alone"
    });
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Marshal API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Register AWS IoT device certificates without a CA (Multi-Account Registration) into allowed accounts and regions. Bodies never carry private keys: any body that does is refused with 422 key_material_refused. Another method on a documented path is 405 method_not_allowed, an unknown path 404 not_found, both with ErrorBody."
        },
        "paths": {
            "/v1/health": { "get": { "summary": "Liveness", "responses": single(json!({ "description": "OK", "content": content("HealthResponse") }), &[403]) } },
            "/v1/config": { "get": { "summary": "Targets, policies and limits the caller may use", "responses": single(json!({ "description": "OK", "content": content("GetConfigResponse") }), &[401, 403]) } },
            "/v1/openapi.json": { "get": { "summary": "This document", "responses": single(json!({ "description": "OpenAPI document", "content": { "application/json": { "schema": { "type": "object" } } } }), &[403]) } },
            "/v1/registrations": { "post": {
                "summary": "Register certificates without a CA into targets, activate, attach policy and thing",
                "requestBody": json_body("CreateRegistrationRequest"),
                "responses": multi("Every (certificate, target) succeeded", "CreateRegistrationResponse", &BODY_ROUTE)
            } },
            "/v1/certificates": { "get": {
                "summary": "The inventory: what Marshal registered in the targets the caller may use, soonest notAfter first, page by page; details only for what the caller manages",
                "parameters": [
                    query("target", "Only this target id; one the caller may not use is 403 forbidden_target", json!({ "type": "string", "minLength": 1, "maxLength": crate::service::MAX_INVENTORY_FILTER })),
                    query("thing", "Only certificates attached to this thing (matches only what the caller manages)", json!({ "type": "string", "minLength": 1, "maxLength": crate::service::MAX_INVENTORY_FILTER })),
                    query("expiresBefore", "Only certificates whose notAfter is before this RFC 3339 time", json!({ "type": "string", "format": "date-time" })),
                    query("registeredBy", "Only those registered by this user name or JWT sub (matches only what the caller manages)", json!({ "type": "string", "minLength": 1, "maxLength": crate::service::MAX_INVENTORY_FILTER })),
                    query("cursor", "nextCursor of the previous page, as it came (a registry the caller may not see is ignored)", json!({ "type": "string", "pattern": crate::service::INVENTORY_CURSOR_PATTERN })),
                    query("limit", "Entries per page", json!({ "type": "integer", "minimum": 1, "maximum": crate::service::MAX_INVENTORY_PAGE, "default": crate::service::MAX_INVENTORY_PAGE }))
                ],
                "responses": uri_too_long(single(json!({ "description": "One page", "content": content("InventoryResponse") }), &[400, 401, 403, 500]))
            } },
            "/v1/certificates/{id}/history": { "get": { "summary": "The ledger's events of a certificate, oldest first: in targets the caller may use, of what they or their group owned, or anything in targets they administer (none is an empty list)", "parameters": [id_param()], "responses": single(json!({ "description": "OK", "content": content("CertificateHistoryResponse") }), &[400, 401, 403, 500]) } },
            "/v1/certificates/{id}/rotate": { "post": { "summary": "Make before break: register a successor wherever {id} is the caller's, with its policy and thing, ACTIVE, leaving {id} ACTIVE", "parameters": [id_param()], "requestBody": json_body("RotateCertificateRequest"), "responses": multi("The successor is registered in every target", "RotateCertificateResponse", &[400, 401, 403, 404, 413, 415, 422, 500]) } },
            "/v1/certificates/{id}/retire": { "post": { "summary": "Deactivate and delete {id} where its successor is registered and ACTIVE; nothing left to retire is an empty list", "parameters": [id_param()], "requestBody": json_body("RetireCertificateRequest"), "responses": multi("Retired in every target", "TargetOutcomes", &[400, 401, 403, 413, 415, 422, 500]) } },
            "/v1/reconcile": { "post": { "summary": "Target admins only: compare Marshal's records with AWS in each target (deleted, deactivated or re-attached outside Marshal; registered outside Marshal); with apply, bring the inventory (never AWS) in line", "requestBody": json_body("ReconcileRequest"), "responses": single(json!({ "description": "Per target, the drift found", "content": content("ReconcileResponse") }), &BODY_ROUTE) } },
            "/v1/certificates/{id}": {
                "get": { "summary": "The certificate in every visible target", "parameters": [id_param()], "responses": single(json!({ "description": "OK", "content": content("GetCertificateResponse") }), &[400, 401, 403]) },
                "delete": { "summary": "Deactivate, detach policies and things, delete (absent is not an error)", "parameters": [id_param(), {
                    "name": "targets", "in": "query", "required": true,
                    "description": format!("Comma-separated target ids (whitespace around each is ignored); at least one, else 400; more than {} distinct, 422", limits.max_targets_per_request),
                    "schema": { "type": "string", "pattern": format!("[^,{WHITESPACE}]") }
                }], "responses": multi("Done in every target", "TargetOutcomes", &[400, 401, 403, 422]) }
            },
            "/v1/certificates/{id}/status": { "post": { "summary": "Set ACTIVE, INACTIVE or REVOKED (target admins only) in targets", "parameters": [id_param()], "requestBody": json_body("UpdateStatusRequest"), "responses": multi("Done in every target", "TargetOutcomes", &BODY_ROUTE) } },
            "/v1/certificates/{id}/transfer": { "post": { "summary": "Copy or move (make before break) to other targets", "parameters": [id_param()], "requestBody": json_body("TransferCertificateRequest"), "responses": multi("Every destination succeeded", "TransferCertificateResponse", &[400, 401, 403, 404, 413, 415, 422, 500]) } },
            "/v1/things/{name}/adopt": { "post": { "summary": "Target admins only: bring a thing made outside Marshal under Marshal's ownership records, so its owner can register a certificate onto it; nothing changes in AWS", "parameters": [{ "name": "name", "in": "path", "required": true, "description": "The thing's name: 1 to 128 of letters, digits, ':', '_', '-', else 422 invalid_thing_name", "schema": { "type": "string", "pattern": THING_NAME } }], "requestBody": json_body("AdoptRequest"), "responses": multi("Adopted (or already managed) in every target", "AdoptThingResponse", &BODY_ROUTE) } },
            "/v1/jobs": { "post": {
                "summary": "Create a registration job: its certificates in the body (a small job, queued at once), or `upload` for a file PUT to the returned URL and then `POST /v1/jobs/{id}/start`. Workers register each certificate × target at each registry's pace; poll GET /v1/jobs/{id}. A caller may have `[jobs] maxActivePerCaller` jobs that have not ended (default 3); 429 beyond",
                "requestBody": json_body("CreateJobRequest"),
                "responses": answer(201, "Created (and, for a small job, queued)", "CreateJobResponse", &[400, 401, 403, 413, 415, 422, 429, 500, 503])
            } },
            "/v1/jobs/{id}": { "get": { "summary": "A job's progress: counts per state and target, pace, rate and time left", "parameters": [job_id_param()], "responses": answer(200, "The job", "Job", &JOB_ROUTE) } },
            "/v1/jobs/{id}/start": { "post": { "summary": "The file is uploaded: queue it to be read, checked (no key material, every certificate through preflight) and cut into chunks. Again on a splitting or running job: queue again what a failed send may have lost (work queued twice is done once), at most once in 15 minutes; 409 sooner than that, or once it has ended", "parameters": [job_id_param()], "responses": answer(202, "Queued", "Job", &[400, 401, 403, 404, 409, 500, 503]) } },
            "/v1/jobs/{id}/cancel": { "post": { "summary": "No chunk starts any more (chunks under way finish); cancelling a cancelled job changes nothing, a finished or failed one is 409", "parameters": [job_id_param()], "responses": answer(200, "Cancelled", "Job", &[400, 401, 403, 404, 409, 500, 503]) } },
            "/v1/jobs/{id}/results": { "get": { "summary": "A presigned URL of the results CSV so far: one row per certificate × target done", "parameters": [job_id_param()], "responses": answer(200, "Where to download", "JobResultsResponse", &JOB_ROUTE) } },
            "/v1/certificates/{id}/adopt": { "post": { "summary": "Target admins only: bring a certificate registered outside Marshal (and its things) under Marshal's ownership records; nothing changes in AWS", "parameters": [id_param()], "requestBody": json_body("AdoptRequest"), "responses": multi("Adopted (or already managed) in every target", "TargetOutcomes", &BODY_ROUTE) } }
        },
        "components": { "schemas": {
            "ErrorCode": { "type": "string", "enum": codes, "description": "Stable error codes; x-http-status gives each one's status.", "x-http-status": statuses },
            "ErrorBody": { "type": "object", "required": ["error"], "properties": { "error": { "type": "object", "required": ["code", "message", "requestId"], "properties": {
                "code": reference("ErrorCode"), "message": string, "requestId": string,
                "findings": { "type": "array", "items": { "type": "object", "required": ["index", "code", "severity", "message"], "properties": { "index": integer, "code": string, "severity": string, "message": string } } }
            } } } },
            "HealthResponse": { "type": "object", "required": ["status", "version"], "properties": { "status": string, "version": string } },
            "GetConfigResponse": { "type": "object", "required": ["targets", "policies", "thingNamePattern", "limits", "groups"], "properties": {
                "targets": { "type": "array", "items": { "type": "object", "required": ["id", "name", "accountId", "region", "admin"], "properties": { "id": string, "name": string, "accountId": string, "region": string, "admin": { "type": "boolean", "description": "The caller administers this target (adminGroups)" } } } },
                "policies": { "type": "array", "items": { "type": "object", "required": ["name", "createdWhenMissing"], "properties": { "name": string, "createdWhenMissing": boolean } } },
                "thingNamePattern": string,
                "groups": { "type": "array", "items": { "type": "string" }, "description": "The caller's groups: what ownerGroup may name" },
                "limits": { "type": "object", "required": ["maxBodyBytes", "maxTargetsPerRequest", "maxCertificatesPerRequest"], "properties": { "maxBodyBytes": integer, "maxTargetsPerRequest": integer, "maxCertificatesPerRequest": integer } }
            } },
            "CreateRegistrationRequest": { "type": "object", "additionalProperties": false, "required": ["certificates", "targets", "policy"], "properties": {
                "certificates": { "type": "array", "minItems": 1, "maxItems": limits.max_certificates_per_request,
                    "description": format!("At least one (else 400), at most {} (else 422 too_many_certificates)", limits.max_certificates_per_request),
                    "items": { "type": "object", "additionalProperties": false, "required": ["certificatePem"], "properties": {
                        "certificatePem": { "type": "string", "pattern": "-----BEGIN CERTIFICATE-----", "description": "Exactly one PEM CERTIFICATE block and whitespace, nothing else (else 422 certificate_invalid), that passes AWS IoT's preflight (else 422 preflight_failed)" },
                        "thingName": thing_name
                    } } },
                "targets": target_ids,
                "policy": { "type": "string", "description": "An allowed policy (GET /v1/config), else 403 policy_not_allowed" },
                "activate": { "type": "boolean", "default": true },
                "ownerGroup": owner_group
            } },
            "Registration": { "type": "object", "required": ["certificateArn", "status", "policy", "thing", "endpoint", "newlyRegistered"], "properties": { "certificateArn": string, "status": status, "policy": string, "thing": string, "endpoint": string, "newlyRegistered": boolean } },
            "RegistrationResult": { "type": "object", "required": ["index", "certificateId", "target"], "properties": { "index": integer, "certificateId": string, "target": string, "registration": reference("Registration"), "error": target_error } },
            "CreateRegistrationResponse": { "type": "object", "required": ["results", "summary"], "properties": { "results": { "type": "array", "items": reference("RegistrationResult") }, "summary": { "type": "object", "required": ["succeeded", "failed"], "properties": { "succeeded": integer, "failed": integer } } } },
            "GetCertificateResponse": { "type": "object", "required": ["certificateId", "targets"], "properties": { "certificateId": string, "targets": { "type": "array", "items": { "type": "object", "required": ["target", "present", "managed"], "properties": { "target": string, "present": boolean, "status": status, "managed": { "type": "boolean", "description": "The caller may change it here; policies and things are shown only then (or to target admins)" }, "policies": strings, "things": strings, "error": target_error } } } } },
            "UpdateStatusRequest": { "type": "object", "additionalProperties": false, "required": ["status", "targets"], "properties": {
                "status": { "type": "string", "enum": ["ACTIVE", "INACTIVE", "REVOKED"], "description": "Any other value is 400 invalid_request; REVOKED only for the targets' admins (else 403 admin_only)" },
                "targets": target_ids
            } },
            "TargetOutcome": { "type": "object", "required": ["target", "ok", "detail"], "properties": { "target": string, "ok": boolean, "status": status, "detail": string, "error": target_error } },
            "TargetOutcomes": { "type": "object", "required": ["certificateId", "results"], "properties": { "certificateId": string, "results": { "type": "array", "items": reference("TargetOutcome") } } },
            "TransferCertificateRequest": { "type": "object", "additionalProperties": false, "required": ["from", "to", "policy", "mode"], "properties": {
                "from": { "type": "string", "description": "The source target id; one the caller may not use is 403 forbidden_target" },
                "to": { "description": "Destination target ids, never `from` (else 400)", "allOf": [target_ids] },
                "policy": { "type": "string", "description": "An allowed policy (GET /v1/config), else 403 policy_not_allowed" },
                "thingName": thing_name,
                "mode": { "type": "string", "enum": ["copy", "move_deactivate", "move_delete"] }
            } },
            "AdoptThingResponse": { "type": "object", "required": ["thingName", "results"], "properties": { "thingName": string, "results": { "type": "array", "items": reference("TargetOutcome") } } },
            "AdoptRequest": { "type": "object", "additionalProperties": false, "required": ["targets"], "properties": { "targets": target_ids, "ownerGroup": owner_group } },
            "InventoryResponse": { "type": "object", "required": ["entries"], "properties": {
                "entries": { "type": "array", "items": { "type": "object", "required": ["certificateId", "target", "notAfter", "managed"], "properties": {
                    "certificateId": string, "target": string, "status": status, "notAfter": string, "managed": boolean,
                    "thing": string, "policy": string, "registeredBy": string, "registeredAt": string, "ownerGroup": string, "successor": string
                } } },
                "nextCursor": string
            } },
            "CertificateHistoryResponse": { "type": "object", "required": ["certificateId", "events"], "properties": {
                "certificateId": string,
                "events": { "type": "array", "items": { "type": "object", "required": ["certificateId", "target", "action", "phase", "subject", "requestId", "at"], "properties": {
                    "certificateId": string, "target": string,
                    "action": { "type": "string", "enum": ["register", "set_status", "delete", "transfer", "adopt", "rotate", "retire", "reconcile", "other"] },
                    "phase": { "type": "string", "enum": ["intent", "outcome"] },
                    "ok": boolean, "code": string, "detail": string, "subject": string, "username": string, "requestId": string, "at": string,
                    "thing": string, "policy": string, "notAfter": string, "status": status, "related": string
                } } }
            } },
            "RotateCertificateRequest": { "type": "object", "additionalProperties": false, "required": ["certificatePem"], "properties": {
                "certificatePem": { "type": "string", "pattern": "-----BEGIN CERTIFICATE-----", "description": "The successor: exactly one PEM CERTIFICATE block (else 422 certificate_invalid) that passes AWS IoT's preflight (else 422 preflight_failed), not {id} itself (else 400)" },
                "targets": { "description": "Absent or null: every target the caller may use where Marshal registered {id} for them (none is 404 certificate_not_found)", "anyOf": [target_ids, { "type": "null" }] }
            } },
            "RotateCertificateResponse": { "type": "object", "required": ["certificateId", "newCertificateId", "results"], "properties": { "certificateId": string, "newCertificateId": string, "results": { "type": "array", "items": reference("RegistrationResult") } } },
            "RetireCertificateRequest": { "type": "object", "additionalProperties": false, "properties": {
                "targets": { "description": "Absent or null: every target where Marshal rotated {id} for the caller", "anyOf": [target_ids, { "type": "null" }] }
            } },
            "ReconcileRequest": { "type": "object", "additionalProperties": false, "required": ["targets"], "properties": { "targets": target_ids, "apply": { "type": "boolean", "default": false } } },
            "ReconcileResponse": { "type": "object", "required": ["targets"], "properties": { "targets": { "type": "array", "items": { "type": "object", "required": ["target", "checked", "drift"], "properties": {
                "target": string, "checked": integer, "error": target_error,
                "drift": { "type": "array", "items": { "type": "object", "required": ["certificateId", "kind", "detail", "applied"], "properties": {
                    "certificateId": string, "kind": { "type": "string", "enum": ["deleted_outside", "status_changed", "attachments_changed", "registered_outside", "other"] }, "detail": string, "applied": boolean
                } } }
            } } } } },
            "CreateJobRequest": { "type": "object", "additionalProperties": false, "required": ["targets", "policy"],
                "description": "Exactly one of certificates (an array) and upload (a format); the other absent or null, else 400",
                "oneOf": [
                    { "required": ["certificates"], "properties": { "certificates": { "type": "array" }, "upload": { "type": "null" } } },
                    { "required": ["upload"], "properties": { "upload": { "type": "string" }, "certificates": { "type": "null" } } }
                ],
                "properties": {
                    "targets": target_ids,
                    "policy": { "type": "string", "description": "An allowed policy (GET /v1/config), else 403 policy_not_allowed" },
                    "activate": { "type": "boolean", "default": true },
                    "ownerGroup": owner_group,
                    "certificates": { "type": ["array", "null"], "minItems": 1, "maxItems": limits.max_certificates_per_request,
                        "description": format!("A small job: at least one (else 400), at most {} (else 422 too_many_certificates), checked as a registration's are", limits.max_certificates_per_request),
                        "items": { "type": "object", "additionalProperties": false, "required": ["certificatePem"], "properties": {
                            "certificatePem": { "type": "string", "pattern": "-----BEGIN CERTIFICATE-----", "description": "Exactly one PEM CERTIFICATE block and whitespace (else 422 certificate_invalid) that passes AWS IoT's preflight (else 422 preflight_failed)" },
                            "thingName": thing_name
                        } } },
                    "upload": { "type": ["string", "null"], "enum": ["ndjson", "csv", null], "description": "A large job: the format of the file (NDJSON lines {thingName, certificatePem}, or CSV with the header thing_name,certificate_pem)" }
                } },
            "UploadInstructions": { "type": "object", "required": ["url", "method", "headers", "expiresAt", "maxBytes"], "properties": {
                "url": string, "method": { "type": "string", "enum": ["PUT"] }, "headers": { "type": "array", "items": { "type": "array", "prefixItems": [string, string], "minItems": 2, "maxItems": 2 } },
                "expiresAt": string, "maxBytes": integer
            } },
            "CreateJobResponse": { "type": "object", "required": ["job"], "properties": { "job": reference("Job"), "upload": reference("UploadInstructions") } },
            "PairCounts": { "type": "object", "required": ["pending", "succeeded", "failed", "skipped"], "properties": { "pending": integer, "succeeded": integer, "failed": integer, "skipped": integer } },
            "Job": { "type": "object", "required": ["id", "state", "createdBy", "createdAt", "targets", "policy", "activate", "certificates", "chunks", "chunksDone", "counts", "perTarget", "throttled"], "properties": {
                "id": string,
                "state": { "type": "string", "enum": ["awaiting_upload", "splitting", "running", "finished", "cancelled", "failed", "other"] },
                "createdBy": string, "createdAt": string, "startedAt": string, "endedAt": string,
                "targets": strings, "policy": string, "activate": boolean, "ownerGroup": string,
                "certificates": integer, "chunks": integer, "chunksDone": integer,
                "counts": reference("PairCounts"),
                "perTarget": { "type": "array", "items": { "type": "object", "required": ["target", "counts", "budgetPerSecond"], "properties": { "target": string, "counts": reference("PairCounts"), "budgetPerSecond": { "type": "number" } } } },
                "throttled": integer, "ratePerSecond": { "type": "number" }, "etaSeconds": integer,
                "error": { "type": "object", "required": ["code", "message"], "properties": { "code": string, "message": string,
                    "findings": { "type": "array", "items": { "type": "object", "required": ["index", "code", "severity", "message"], "properties": { "index": integer, "code": string, "severity": string, "message": string } } } } }
            } },
            "JobResultsResponse": { "type": "object", "required": ["url", "expiresAt", "rows", "complete"], "properties": { "url": string, "expiresAt": string, "rows": integer, "complete": boolean } },
            "TransferCertificateResponse": { "type": "object", "required": ["certificateId", "destinations"], "properties": { "certificateId": string, "destinations": { "type": "array", "items": reference("RegistrationResult") }, "source": reference("TargetOutcome") } }
        } }
    })
}
