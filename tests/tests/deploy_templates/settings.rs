//! What the templates must hold besides their IAM statements, from the
//! December 2026 security review: the parameter values CloudFormation must
//! refuse (M3, I2, I5), a required second factor and short tokens for
//! sign-in (L9), a small concurrency cap (L11), a deadline inside API
//! Gateway's timeout (M4), and the table the ownership records live in.
//! Findings are sentences naming the template path, like the IAM checker's.

use serde_json::{Value, json};

use crate::iam::{Kind, alternatives};
use crate::intrinsics::deploy;

/// Parameter values a template must refuse, as changes to an accepted
/// deployment: parameters left out, values given, and why.
struct Refused {
    without: &'static [&'static str],
    with: &'static [(&'static str, &'static str)],
    because: &'static str,
}

const fn refused(
    without: &'static [&'static str],
    with: &'static [(&'static str, &'static str)],
    because: &'static str,
) -> Refused {
    Refused {
        without,
        with,
        because,
    }
}

/// One more IoT policy name than the Policies statements have slots for.
pub(crate) const NINE_NAMES: &str = "p1,p2,p3,p4,p5,p6,p7,p8,p9";

const HUB_REFUSES: &[Refused] = &[
    refused(
        &[],
        &[("JwtIssuer", "https://issuer.example"), ("JwtAudience", "")],
        "an issuer without an audience accepts its tokens for any client (I2)",
    ),
    refused(
        &[],
        &[("TargetRoleArns", "*")],
        "a wildcard target role (M3, I5)",
    ),
    refused(
        &[],
        &[("TargetRoleArns", "arn:aws:iam::*:role/*")],
        "a wildcard target role (M3, I5)",
    ),
    refused(
        &[],
        &[("TargetRoleArns", "arn:aws:iam::111111111111:role/*")],
        "every role of an account (M3, I5)",
    ),
    refused(
        &[],
        &[("TargetRoleArns", "arn:aws:iam::111111111111:root")],
        "an account where a role belongs (I5)",
    ),
    refused(
        &[],
        &[(
            "TargetRoleArns",
            "arn:aws:iam::111111111111:role/MarshalTarget,",
        )],
        "an empty entry among the roles (I5)",
    ),
    refused(
        &[],
        &[
            ("HubAccountTargets", "true"),
            ("AllowedPolicyNames", "MarshalDevice"),
        ],
        "IoT actions in this account without AllowedRegions (M3)",
    ),
    refused(
        &[],
        &[
            ("HubAccountTargets", "true"),
            ("AllowedRegions", "ap-northeast-1"),
        ],
        "IoT actions in this account without AllowedPolicyNames (M3)",
    ),
    refused(&[], &[("AllowedRegions", "*")], "a wildcard region (M3)"),
    refused(
        &[],
        &[("AllowedPolicyNames", "*")],
        "a wildcard policy name (M3)",
    ),
    refused(
        &[],
        &[("AllowedPolicyNames", "Marshal*")],
        "a wildcard policy name (M3)",
    ),
    refused(
        &[],
        &[("AllowedPolicyNames", NINE_NAMES)],
        "more policy names than the Policies statement has slots (M3)",
    ),
];

const TARGET_REFUSES: &[Refused] = &[
    refused(
        &["AllowedRegions"],
        &[],
        "a target role for every region: AllowedRegions is required (M3)",
    ),
    refused(
        &[],
        &[("AllowedRegions", "")],
        "an empty AllowedRegions (M3)",
    ),
    refused(&[], &[("AllowedRegions", "*")], "a wildcard region (M3)"),
    refused(
        &[],
        &[("AllowedRegions", "us-east-1,*")],
        "a wildcard region (M3)",
    ),
    refused(
        &["AllowedPolicyNames"],
        &[],
        "every IoT policy: AllowedPolicyNames is required (M3)",
    ),
    refused(&[], &[("AllowedPolicyNames", "")], "no policy name (M3)"),
    refused(
        &[],
        &[("AllowedPolicyNames", "*")],
        "a wildcard policy name (M3)",
    ),
    refused(
        &[],
        &[("AllowedPolicyNames", "MarshalDevice,Admin*")],
        "a wildcard policy name (M3)",
    ),
    refused(
        &[],
        &[("AllowedPolicyNames", NINE_NAMES)],
        "more policy names than the Policies statement has slots (M3)",
    ),
    refused(
        &[],
        &[("HubRoleArn", "arn:aws:iam::*:role/*")],
        "trusting any role (I5)",
    ),
    refused(
        &[],
        &[("HubRoleArn", "arn:aws:iam::111111111111:role/*")],
        "trusting every role of the hub account (I5)",
    ),
];

/// API Gateway answers 503 after 29 s, whatever the function still does.
const API_GATEWAY_TIMEOUT_S: f64 = 29.0;

/// Time the function keeps after its deadline to roll back and answer.
const ROLLBACK_MARGIN_MS: f64 = 2_000.0;

/// The longest a token may be used after a sign-out or a group removal.
const TOKEN_MINUTES: f64 = 15.0;

/// The most a default concurrency cap may allow (L11).
const SMALL_CONCURRENCY: f64 = 20.0;

/// The logical ID of the hub's ownership table.
pub(crate) const OWNERSHIP_TABLE: &str = "OwnershipTable";

/// The ledger table's logical ID in template.yaml.
pub(crate) const LEDGER_TABLE: &str = "LedgerTable";

/// Every way `template` misses the review's settings. `deployments[0]` is
/// the accepted deployment the refusals change.
pub(crate) fn check(template: &Value, kind: Kind, deployments: &[&[(&str, &str)]]) -> Vec<String> {
    let mut findings = Vec::new();
    let cases = match kind {
        Kind::Hub => HUB_REFUSES,
        Kind::Target => TARGET_REFUSES,
    };
    let base = deployments.first().copied().unwrap_or_default();
    if deploy(template, base).is_ok() {
        for case in cases {
            let mut given: Vec<(&str, &str)> = base
                .iter()
                .filter(|(name, _)| {
                    !case.without.contains(name) && !case.with.iter().any(|(n, _)| n == name)
                })
                .copied()
                .collect();
            given.extend(case.with);
            if deploy(template, &given).is_ok() {
                findings.push(format!(
                    "Parameters: the deployment {given:?} is accepted; it must be refused: {}",
                    case.because
                ));
            }
        }
    }
    if kind == Kind::Hub {
        function(template, &mut findings);
        sign_in(template, &mut findings);
        ownership_table(template, &mut findings);
        jobs_table(template, &mut findings);
    }
    findings
}

/// The attribute whose time (Unix seconds) the jobs table's time to live
/// removes an item at; `lambda/src/aws/jobs.rs` writes it on every job and
/// chunk.
pub(crate) const JOBS_EXPIRY: &str = "expires_at";

fn jobs_table(template: &Value, findings: &mut Vec<String>) {
    let ttl = template.pointer("/Resources/JobsTable/Properties/TimeToLiveSpecification");
    if ttl != Some(&json!({"AttributeName": JOBS_EXPIRY, "Enabled": true})) {
        findings.push(format!(
            "Resources.JobsTable: needs TimeToLiveSpecification {{AttributeName: {JOBS_EXPIRY}, \
             Enabled: true}}: jobs and chunks are working state, and the chunks of a split that \
             failed are never read again"
        ));
    }
}

fn function(template: &Value, findings: &mut Vec<String>) {
    let at = "Resources.ApiFunction.Properties";
    let properties = template
        .pointer("/Resources/ApiFunction/Properties")
        .unwrap_or(&Value::Null);
    let timeout_s = number(properties.get("Timeout")).unwrap_or(f64::MAX);
    if timeout_s >= API_GATEWAY_TIMEOUT_S {
        findings.push(format!(
            "{at}.Timeout: {timeout_s} s is not under API Gateway's {API_GATEWAY_TIMEOUT_S} s: the caller would get 503 while the function still works (M4)"
        ));
    }
    let variables = properties
        .pointer("/Environment/Variables")
        .unwrap_or(&Value::Null);
    match number(variables.get("MARSHAL_REQUEST_DEADLINE_MS")) {
        Some(deadline) if deadline + ROLLBACK_MARGIN_MS <= timeout_s * 1000.0 => {}
        Some(deadline) => findings.push(format!(
            "{at}.Environment: MARSHAL_REQUEST_DEADLINE_MS {deadline} leaves less than {ROLLBACK_MARGIN_MS} ms before the {timeout_s} s Timeout to roll back (M4)"
        )),
        None => findings.push(format!(
            "{at}.Environment: no MARSHAL_REQUEST_DEADLINE_MS: the function would start AWS work it cannot finish before the Timeout (M4)"
        )),
    }
    let reserved = properties
        .get("ReservedConcurrentExecutions")
        .map(alternatives)
        .unwrap_or_default();
    let capped = !reserved.is_empty()
        && reserved
            .iter()
            .all(|r| *r == &json!({"Ref": "ReservedConcurrency"}));
    let default = number(template.pointer("/Parameters/ReservedConcurrency/Default"));
    if !capped || !default.is_some_and(|d| (1.0..=SMALL_CONCURRENCY).contains(&d)) {
        findings.push(format!(
            "{at}.ReservedConcurrentExecutions: must be the ReservedConcurrency parameter, by default between 1 and {SMALL_CONCURRENCY} (L11); it defaults to {default:?}"
        ));
    }
}

fn sign_in(template: &Value, findings: &mut Vec<String>) {
    let Some(pool) = template.pointer("/Resources/UserPool/Properties") else {
        return;
    };
    let at = "Resources.UserPool.Properties";
    if pool.get("MfaConfiguration") != Some(&json!("ON")) {
        findings.push(format!(
            "{at}.MfaConfiguration: {}: every user must sign in with a second factor (L9)",
            pool.get("MfaConfiguration").unwrap_or(&Value::Null)
        ));
    }
    let totp = pool
        .get("EnabledMfas")
        .and_then(Value::as_array)
        .is_some_and(|m| m.contains(&json!("SOFTWARE_TOKEN_MFA")));
    if !totp {
        findings.push(format!(
            "{at}.EnabledMfas: SOFTWARE_TOKEN_MFA (an authenticator app) must be enabled (L9)"
        ));
    }
    let client = template
        .pointer("/Resources/UserPoolClient/Properties")
        .unwrap_or(&Value::Null);
    for token in ["AccessToken", "IdToken"] {
        let validity = number(client.get(format!("{token}Validity").as_str()));
        // Cognito counts access and id tokens in hours unless told otherwise.
        let unit = client
            .pointer(&format!("/TokenValidityUnits/{token}"))
            .and_then(Value::as_str)
            .unwrap_or("hours");
        let minutes = validity.map(|v| match unit {
            "seconds" => v / 60.0,
            "minutes" => v,
            "hours" => v * 60.0,
            _ => v * 24.0 * 60.0,
        });
        if !minutes.is_some_and(|m| m <= TOKEN_MINUTES) {
            findings.push(format!(
                "Resources.UserPoolClient.Properties.{token}Validity: {minutes:?} minutes; at most {TOKEN_MINUTES}, since API Gateway cannot revoke a token (L9)"
            ));
        }
    }
}

/// A DynamoDB table of the hub's own records: its key schema and attribute
/// definitions (before any index's), and the environment variable naming it.
struct OwnTable {
    logical_id: &'static str,
    variable: &'static str,
    purpose: &'static str,
    keys: Value,
    attributes: Value,
    indexes: Value,
}

fn own_tables() -> [OwnTable; 2] {
    [
        OwnTable {
            logical_id: OWNERSHIP_TABLE,
            variable: "MARSHAL_OWNERSHIP_TABLE",
            purpose: "the API keeps its ownership records there",
            keys: json!([{"AttributeName": "pk", "KeyType": "HASH"}]),
            attributes: json!([
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "registry", "AttributeType": "S"},
                {"AttributeName": "expiry", "AttributeType": "S"}
            ]),
            indexes: json!([{
                "IndexName": "inventory",
                "KeySchema": [
                    {"AttributeName": "registry", "KeyType": "HASH"},
                    {"AttributeName": "expiry", "KeyType": "RANGE"}
                ],
                "Projection": {"ProjectionType": "ALL"}
            }]),
        },
        OwnTable {
            logical_id: LEDGER_TABLE,
            variable: "MARSHAL_LEDGER_TABLE",
            purpose: "the API appends its ledger events there",
            keys: json!([
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"}
            ]),
            attributes: json!([
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"}
            ]),
            indexes: Value::Null,
        },
    ]
}

fn ownership_table(template: &Value, findings: &mut Vec<String>) {
    for own in own_tables() {
        own_table(template, &own, findings);
    }
}

fn own_table(template: &Value, own: &OwnTable, findings: &mut Vec<String>) {
    let (name, variable) = (own.logical_id, own.variable);
    let variables = template.pointer("/Resources/ApiFunction/Properties/Environment/Variables");
    if variables.and_then(|v| v.get(variable)) != Some(&json!({"Ref": name})) {
        findings.push(format!(
            "Resources.ApiFunction.Properties.Environment: {variable} must be {{\"Ref\": \"{name}\"}}"
        ));
    }
    let at = format!("Resources.{name}");
    let Some(table) = template.pointer(&format!("/Resources/{name}")) else {
        findings.push(format!("{at}: missing: {}", own.purpose));
        return;
    };
    let properties = table.get("Properties").unwrap_or(&Value::Null);
    let retained = table.get("DeletionPolicy") == Some(&json!("Retain"))
        && table.get("UpdateReplacePolicy") == Some(&json!("Retain"));
    let protected = truthy(properties.get("DeletionProtectionEnabled"));
    let expected = [
        (
            "Type".to_owned(),
            table.get("Type") == Some(&json!("AWS::DynamoDB::Table")),
        ),
        (
            "DeletionPolicy and UpdateReplacePolicy Retain, or DeletionProtectionEnabled"
                .to_owned(),
            retained || protected,
        ),
        (
            format!("KeySchema {}", own.keys),
            properties.get("KeySchema") == Some(&own.keys),
        ),
        (
            format!("AttributeDefinitions {}", own.attributes),
            properties.get("AttributeDefinitions") == Some(&own.attributes),
        ),
        (
            format!("GlobalSecondaryIndexes {}", own.indexes),
            properties
                .get("GlobalSecondaryIndexes")
                .unwrap_or(&Value::Null)
                == &own.indexes,
        ),
        (
            "BillingMode PAY_PER_REQUEST".to_owned(),
            properties.get("BillingMode") == Some(&json!("PAY_PER_REQUEST")),
        ),
        (
            "PointInTimeRecoveryEnabled".to_owned(),
            truthy(
                properties.pointer("/PointInTimeRecoverySpecification/PointInTimeRecoveryEnabled"),
            ),
        ),
        (
            "SSEEnabled".to_owned(),
            truthy(properties.pointer("/SSESpecification/SSEEnabled")),
        ),
    ];
    for (what, holds) in expected {
        if !holds {
            findings.push(format!("{at}: needs {what}"));
        }
    }
}

/// A number given as a JSON number or as text.
fn number(value: Option<&Value>) -> Option<f64> {
    match value? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn truthy(value: Option<&Value>) -> bool {
    matches!(value, Some(v) if v == &json!(true) || v == &json!("true"))
}
