//! The harness shared by the router tests: the configuration, a world of
//! in-memory ports around the router, requests with or without an API
//! Gateway identity, and replies that explain themselves.

#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use http_body_util::BodyExt;
use marshal_lambda::{
    config::{Config, Format},
    router,
    service::Service,
    testing::{InMemoryJobs, InMemoryLedger, InMemoryOwnership, InMemoryProvider},
};
use marshal_shared::{CertificateRequest, Credentials, KeyType, OffsetDateTime, generate};
use serde_json::{Value, json};
use tower::ServiceExt;

pub const CONFIG: &str = r#"
auth = "none"
thingNamePattern = "[a-zA-Z0-9_-]{1,64}"

[limits]
maxBodyBytes = 65536
maxTargetsPerRequest = 3
maxCertificatesPerRequest = 5

[[targets]]
id = "a-tokyo"
name = "A Tokyo"
accountId = "111111111111"
region = "ap-northeast-1"
roleArn = "arn:aws:iam::111111111111:role/MarshalTarget"
externalId = "marshal-test"

[[targets]]
id = "a-virginia"
name = "A Virginia"
accountId = "111111111111"
region = "us-east-1"
roleArn = "arn:aws:iam::111111111111:role/MarshalTarget"

[[targets]]
id = "b-tokyo"
name = "B Tokyo"
accountId = "222222222222"
region = "ap-northeast-1"
roleArn = "arn:aws:iam::222222222222:role/MarshalTarget"

[[targets]]
id = "b-virginia"
name = "B Virginia (factory only)"
accountId = "222222222222"
region = "us-east-1"
roleArn = "arn:aws:iam::222222222222:role/MarshalTarget"
allowedGroups = ["factory"]

[[policies]]
name = "MarshalDevice"

[[policies]]
name = "MarshalTemplated"
template = { topicPrefix = "devices" }
"#;

pub struct World {
    pub provider: InMemoryProvider,
    pub ownership: InMemoryOwnership,
    pub ledger: InMemoryLedger,
    pub jobs: InMemoryJobs,
    /// The use cases behind `app`, for what no route does (a job's worker).
    pub service: Service,
    pub app: axum::Router,
}

pub fn world_with(config: &str) -> World {
    let provider = InMemoryProvider::new();
    for (account, region) in [
        ("111111111111", "ap-northeast-1"),
        ("111111111111", "us-east-1"),
        ("222222222222", "ap-northeast-1"),
        ("222222222222", "us-east-1"),
    ] {
        provider.create_policy(account, region, "MarshalDevice");
    }
    let config = Config::parse(config, Format::Toml).unwrap();
    let ownership = InMemoryOwnership::new();
    let ledger = InMemoryLedger::new();
    let jobs = InMemoryJobs::new();
    let service = Service::new(
        Arc::new(config),
        Arc::new(provider.clone()),
        Arc::new(ownership.clone()),
        Arc::new(ledger.clone()),
    )
    .with_jobs(jobs.ports());
    World {
        provider,
        ownership,
        ledger,
        jobs,
        service: service.clone(),
        app: router(service),
    }
}

pub fn world() -> World {
    world_with(CONFIG)
}

pub fn creds(cn: &str) -> Credentials {
    generate(
        KeyType::EcP256,
        &CertificateRequest::new(cn),
        OffsetDateTime::now_utc(),
    )
    .unwrap()
}

pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub request_id: String,
}

impl World {
    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let request_id = response
            .headers()
            .get("x-request-id")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
        Reply {
            status,
            body,
            request_id,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Request::get(path).body(Body::empty()).unwrap())
            .await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.send(
            Request::post(path)
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send(Request::delete(path).body(Body::empty()).unwrap())
            .await
    }

    pub async fn register(&self, certs: &[&Credentials], targets: &[&str], policy: &str) -> Reply {
        let certificates: Vec<Value> = certs
            .iter()
            .map(|c| json!({"certificatePem": c.certificate.to_pem()}))
            .collect();
        self.post(
            "/v1/registrations",
            &json!({"certificates": certificates, "targets": targets, "policy": policy}),
        )
        .await
    }
}

/// Asserts the status and, for errors, the code; prints the whole reply otherwise.
pub fn expect(reply: &Reply, status: u16, code: Option<&str>) {
    let got_code = reply.body["error"]["code"].as_str();
    assert!(
        reply.status.as_u16() == status && (code.is_none() || got_code == code),
        "expected {status} {code:?}, got {} with body:\n{:#}",
        reply.status,
        reply.body
    );
    if code.is_some() {
        assert!(
            !reply.body["error"]["requestId"]
                .as_str()
                .unwrap()
                .is_empty(),
            "error without requestId"
        );
        assert_eq!(
            reply.body["error"]["requestId"].as_str().unwrap(),
            reply.request_id
        );
    }
}

/// A request as `lambda_http` builds it from an API Gateway v2 event.
pub fn from_api_gateway(event: &str) -> Request<Body> {
    let (parts, _) = lambda_http::request::from_str(event).unwrap().into_parts();
    let mut request = Request::from_parts(parts, Body::empty());
    *request.uri_mut() = "/v1/config".parse().unwrap();
    request
}

pub fn target_ids(reply: &Reply) -> Vec<String> {
    reply.body["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}

/// A signed-in caller as API Gateway's JWT authorizer passes it on.
#[derive(Debug, Clone)]
pub struct Who {
    pub sub: String,
    pub groups: Vec<String>,
}

/// A caller with `sub` and `groups`.
pub fn who(sub: &str, groups: &[&str]) -> Who {
    Who {
        sub: sub.to_owned(),
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
    }
}

impl World {
    /// `method path` with `body` as `who`, through a real API Gateway v2
    /// event (the committed fixture with this caller's claims), as
    /// `lambda_http` hands it to the router.
    pub async fn send_as(
        &self,
        who: &Who,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Reply {
        let mut event: Value =
            serde_json::from_str(include_str!("../events/apigw-v2-jwt.json")).unwrap();
        let (raw_path, query) = path.split_once('?').unwrap_or((path, ""));
        event["rawPath"] = json!(raw_path);
        event["rawQueryString"] = json!(query);
        event["requestContext"]["http"]["method"] = json!(method);
        event["requestContext"]["http"]["path"] = json!(raw_path);
        let claims = &mut event["requestContext"]["authorizer"]["jwt"]["claims"];
        claims["sub"] = json!(who.sub);
        claims["username"] = json!(who.sub);
        claims["cognito:groups"] = json!(format!("[{}]", who.groups.join(" ")));
        if let Some(body) = body {
            event["headers"]["content-type"] = json!("application/json");
            event["body"] = json!(body.to_string());
        }
        let (parts, body) = lambda_http::request::from_str(&event.to_string())
            .unwrap()
            .into_parts();
        let mut request = Request::from_parts(parts, Body::from(body.to_vec()));
        *request.uri_mut() = path.parse().unwrap();
        self.send(request).await
    }

    /// Registers `certs` as `who`, with extra fields merged into the body.
    pub async fn register_as(
        &self,
        who: &Who,
        certs: &[(&Credentials, Option<&str>)],
        targets: &[&str],
        extra: Value,
    ) -> Reply {
        let certificates: Vec<Value> = certs
            .iter()
            .map(|(c, thing)| match thing {
                Some(thing) => {
                    json!({"certificatePem": c.certificate.to_pem(), "thingName": thing})
                }
                None => json!({"certificatePem": c.certificate.to_pem()}),
            })
            .collect();
        let mut body =
            json!({"certificates": certificates, "targets": targets, "policy": "MarshalDevice"});
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        self.send_as(who, "POST", "/v1/registrations", Some(&body))
            .await
    }
}

/// The target error codes of a registration reply, in result order.
pub fn target_codes(reply: &Reply) -> Vec<String> {
    reply.body["results"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|r| r["error"]["code"].as_str().unwrap_or("ok").to_owned())
        .collect()
}

/// `CONFIG` behind the JWT authorizer, with `admins` administering every
/// target and a fleet policy that Marshal may not attach.
/// [`CONFIG`] with JWT callers, and `admins` administering account 1.
pub fn jwt_config() -> String {
    CONFIG
        .replace("auth = \"none\"", "auth = \"jwt\"")
        .replace(
            "roleArn = \"arn:aws:iam::111111111111:role/MarshalTarget\"\nexternalId = \"marshal-test\"",
            "roleArn = \"arn:aws:iam::111111111111:role/MarshalTarget\"\nexternalId = \"marshal-test\"\nadminGroups = [\"admins\"]",
        )
}

pub fn jwt_world() -> World {
    let config = jwt_config();
    let w = world_with(&config);
    w.provider
        .create_policy("111111111111", "ap-northeast-1", "FleetPolicy");
    w
}

pub fn alice() -> Who {
    who("alice-sub", &["line-7"])
}
pub fn bob() -> Who {
    who("bob-sub", &["line-8"])
}
pub fn carol() -> Who {
    who("carol-sub", &["line-7"])
}
pub fn admin() -> Who {
    who("admin-sub", &["admins"])
}

/// The Tokyo registry of account 1 and every ownership record.
pub fn snapshot(w: &World) -> String {
    format!(
        "{}\n{}",
        w.provider.snapshot("111111111111", "ap-northeast-1"),
        w.ownership.snapshot().join("\n")
    )
}

/// The a-tokyo registry's target, as the provider opens it.
pub fn tokyo() -> marshal_lambda::config::Target {
    marshal_lambda::config::Target {
        id: "a-tokyo".into(),
        name: "A Tokyo".into(),
        account_id: "111111111111".into(),
        region: "ap-northeast-1".into(),
        role_arn: None,
        external_id: None,
        allowed_groups: None,
        admin_groups: Vec::new(),
        job_calls_per_second: None,
    }
}
