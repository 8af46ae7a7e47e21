//! The OpenAPI 3.1 description of the API, served at `GET /v1/openapi.json`.
//! Error codes and statuses come from `shared::api::ErrorCode`, so they cannot
//! drift; tests check every documented operation exists in the router.

use marshal_shared::api::ErrorCode;
use serde_json::{Value, json};

/// Every documented (method, path) pair, as the router serves them.
pub const OPERATIONS: &[(&str, &str)] = &[
    ("get", "/v1/health"),
    ("get", "/v1/config"),
    ("get", "/v1/openapi.json"),
    ("post", "/v1/registrations"),
    ("get", "/v1/certificates/{id}"),
    ("delete", "/v1/certificates/{id}"),
    ("post", "/v1/certificates/{id}/status"),
    ("post", "/v1/certificates/{id}/transfer"),
    ("post", "/v1/certificates/{id}/adopt"),
    ("post", "/v1/things/{name}/adopt"),
];

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn content(name: &str) -> Value {
    json!({ "application/json": { "schema": reference(name) } })
}

fn error_response() -> Value {
    json!({ "description": "Error (see the `code` table in components.schemas.ErrorCode)", "content": content("ErrorBody") })
}

fn id_param() -> Value {
    json!({ "name": "id", "in": "path", "required": true, "description": "Certificate ID: 64 hex digits (SHA-256 of the DER)", "schema": { "type": "string", "pattern": "^(0x)?[0-9a-fA-F]{64}$" } })
}

fn multi(ok: &str, schema: &str) -> Value {
    json!({
        "200": { "description": ok, "content": content(schema) },
        "207": { "description": "Some targets failed; see each result's `error`", "content": content(schema) },
        "default": error_response(),
    })
}

/// The whole document.
pub fn document() -> Value {
    let codes: Vec<Value> = ErrorCode::ALL
        .iter()
        .map(|c| serde_json::to_value(c).unwrap_or(Value::Null))
        .collect();
    let statuses: serde_json::Map<String, Value> = ErrorCode::ALL
        .iter()
        .filter_map(|c| {
            let name = serde_json::to_value(c).ok()?.as_str()?.to_owned();
            Some((name, json!(c.http_status())))
        })
        .collect();
    let string = json!({ "type": "string" });
    let strings = json!({ "type": "array", "items": { "type": "string" } });
    let status = json!({ "type": "string", "enum": ["ACTIVE", "INACTIVE", "REVOKED", "OTHER"] });
    let target_error = json!({ "type": "object", "required": ["code", "message"], "properties": { "code": string, "message": string } });
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Marshal API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Register AWS IoT device certificates without a CA (Multi-Account Registration) into allowed accounts and regions. Bodies never carry private keys: any body that does is refused with 422 key_material_refused."
        },
        "paths": {
            "/v1/health": { "get": { "summary": "Liveness", "responses": { "200": { "description": "OK", "content": content("HealthResponse") } } } },
            "/v1/config": { "get": { "summary": "Targets, policies and limits the caller may use", "responses": { "200": { "description": "OK", "content": content("GetConfigResponse") }, "default": error_response() } } },
            "/v1/openapi.json": { "get": { "summary": "This document", "responses": { "200": { "description": "OpenAPI document" } } } },
            "/v1/registrations": { "post": {
                "summary": "Register certificates without a CA into targets, activate, attach policy and thing",
                "requestBody": { "required": true, "content": content("CreateRegistrationRequest") },
                "responses": multi("Every (certificate, target) succeeded", "CreateRegistrationResponse")
            } },
            "/v1/certificates/{id}": {
                "get": { "summary": "The certificate in every visible target", "parameters": [id_param()], "responses": { "200": { "description": "OK", "content": content("GetCertificateResponse") }, "default": error_response() } },
                "delete": { "summary": "Deactivate, detach policies and things, delete (absent is not an error)", "parameters": [id_param(), { "name": "targets", "in": "query", "required": true, "description": "Comma-separated target ids", "schema": string }], "responses": multi("Done in every target", "TargetOutcomes") }
            },
            "/v1/certificates/{id}/status": { "post": { "summary": "Set ACTIVE, INACTIVE or REVOKED in targets", "parameters": [id_param()], "requestBody": { "required": true, "content": content("UpdateStatusRequest") }, "responses": multi("Done in every target", "TargetOutcomes") } },
            "/v1/certificates/{id}/transfer": { "post": { "summary": "Copy or move (make before break) to other targets", "parameters": [id_param()], "requestBody": { "required": true, "content": content("TransferCertificateRequest") }, "responses": multi("Every destination succeeded", "TransferCertificateResponse") } },
            "/v1/things/{name}/adopt": { "post": { "summary": "Target admins only: bring a thing made outside Marshal under Marshal's ownership records, so its owner can register a certificate onto it; nothing changes in AWS", "parameters": [{ "name": "name", "in": "path", "required": true, "schema": string }], "requestBody": { "required": true, "content": content("AdoptRequest") }, "responses": multi("Adopted (or already managed) in every target", "AdoptThingResponse") } },
            "/v1/certificates/{id}/adopt": { "post": { "summary": "Target admins only: bring a certificate registered outside Marshal (and its things) under Marshal's ownership records; nothing changes in AWS", "parameters": [id_param()], "requestBody": { "required": true, "content": content("AdoptRequest") }, "responses": multi("Adopted (or already managed) in every target", "TargetOutcomes") } }
        },
        "components": { "schemas": {
            "ErrorCode": { "type": "string", "enum": codes, "description": "Stable error codes; x-http-status gives each one's status.", "x-http-status": statuses },
            "ErrorBody": { "type": "object", "required": ["error"], "properties": { "error": { "type": "object", "required": ["code", "message", "requestId"], "properties": {
                "code": reference("ErrorCode"), "message": string, "requestId": string,
                "findings": { "type": "array", "items": { "type": "object", "properties": { "index": { "type": "integer" }, "code": string, "severity": string, "message": string } } }
            } } } },
            "HealthResponse": { "type": "object", "properties": { "status": string, "version": string } },
            "GetConfigResponse": { "type": "object", "required": ["targets", "policies", "thingNamePattern", "limits"], "properties": {
                "targets": { "type": "array", "items": { "type": "object", "properties": { "id": string, "name": string, "accountId": string, "region": string, "admin": { "type": "boolean", "description": "The caller administers this target (adminGroups)" } } } },
                "policies": { "type": "array", "items": { "type": "object", "properties": { "name": string, "createdWhenMissing": { "type": "boolean" } } } },
                "thingNamePattern": string,
                "groups": { "type": "array", "items": { "type": "string" }, "description": "The caller's groups: what ownerGroup may name" },
                "limits": { "type": "object", "properties": { "maxBodyBytes": { "type": "integer" }, "maxTargetsPerRequest": { "type": "integer" }, "maxCertificatesPerRequest": { "type": "integer" } } }
            } },
            "CreateRegistrationRequest": { "type": "object", "additionalProperties": false, "required": ["certificates", "targets", "policy"], "properties": {
                "certificates": { "type": "array", "items": { "type": "object", "additionalProperties": false, "required": ["certificatePem"], "properties": { "certificatePem": string, "thingName": string } } },
                "targets": strings, "policy": string, "activate": { "type": "boolean", "default": true },
                "ownerGroup": { "type": "string", "description": "One of the caller's groups, which then owns what is registered alongside the caller" }
            } },
            "Registration": { "type": "object", "properties": { "certificateArn": string, "status": status, "policy": string, "thing": string, "endpoint": string, "newlyRegistered": { "type": "boolean" } } },
            "RegistrationResult": { "type": "object", "required": ["index", "certificateId", "target"], "properties": { "index": { "type": "integer" }, "certificateId": string, "target": string, "registration": reference("Registration"), "error": target_error } },
            "CreateRegistrationResponse": { "type": "object", "properties": { "results": { "type": "array", "items": reference("RegistrationResult") }, "summary": { "type": "object", "properties": { "succeeded": { "type": "integer" }, "failed": { "type": "integer" } } } } },
            "GetCertificateResponse": { "type": "object", "properties": { "certificateId": string, "targets": { "type": "array", "items": { "type": "object", "properties": { "target": string, "present": { "type": "boolean" }, "status": status, "managed": { "type": "boolean", "description": "The caller may change it here; policies and things are shown only then (or to target admins)" }, "policies": strings, "things": strings, "error": target_error } } } } },
            "UpdateStatusRequest": { "type": "object", "additionalProperties": false, "required": ["status", "targets"], "properties": { "status": status, "targets": strings } },
            "TargetOutcome": { "type": "object", "properties": { "target": string, "ok": { "type": "boolean" }, "status": status, "detail": string, "error": target_error } },
            "TargetOutcomes": { "type": "object", "properties": { "certificateId": string, "results": { "type": "array", "items": reference("TargetOutcome") } } },
            "TransferCertificateRequest": { "type": "object", "additionalProperties": false, "required": ["from", "to", "policy", "mode"], "properties": { "from": string, "to": strings, "policy": string, "thingName": string, "mode": { "type": "string", "enum": ["copy", "move_deactivate", "move_delete"] } } },
            "AdoptThingResponse": { "type": "object", "properties": { "thingName": string, "results": { "type": "array", "items": reference("TargetOutcome") } } },
            "AdoptRequest": { "type": "object", "additionalProperties": false, "required": ["targets"], "properties": { "targets": strings, "ownerGroup": string } },
            "TransferCertificateResponse": { "type": "object", "properties": { "certificateId": string, "destinations": { "type": "array", "items": reference("RegistrationResult") }, "source": reference("TargetOutcome") } }
        } }
    })
}
