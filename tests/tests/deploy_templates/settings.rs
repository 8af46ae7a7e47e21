//! What the templates must hold besides their IAM statements, from the
//! December 2026 security review: the parameter values CloudFormation must
//! refuse (M3, I5), and the table the ownership records live in. Findings
//! are sentences naming the template path, like the IAM checker's.

use serde_json::{Value, json};

use crate::iam::Kind;
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

/// The logical ID of the hub's ownership table.
pub(crate) const OWNERSHIP_TABLE: &str = "OwnershipTable";

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
        ownership_table(template, &mut findings);
    }
    findings
}

fn ownership_table(template: &Value, findings: &mut Vec<String>) {
    let variables = template.pointer("/Resources/ApiFunction/Properties/Environment/Variables");
    if variables.and_then(|v| v.get("MARSHAL_OWNERSHIP_TABLE"))
        != Some(&json!({"Ref": OWNERSHIP_TABLE}))
    {
        findings.push(format!(
            "Resources.ApiFunction.Properties.Environment: MARSHAL_OWNERSHIP_TABLE must be {{\"Ref\": \"{OWNERSHIP_TABLE}\"}}"
        ));
    }
    let at = format!("Resources.{OWNERSHIP_TABLE}");
    let Some(table) = template.pointer(&format!("/Resources/{OWNERSHIP_TABLE}")) else {
        findings.push(format!(
            "{at}: missing: the API keeps its ownership records there"
        ));
        return;
    };
    let properties = table.get("Properties").unwrap_or(&Value::Null);
    let retained = table.get("DeletionPolicy") == Some(&json!("Retain"))
        && table.get("UpdateReplacePolicy") == Some(&json!("Retain"));
    let protected = truthy(properties.get("DeletionProtectionEnabled"));
    let expected = [
        (
            "Type",
            table.get("Type") == Some(&json!("AWS::DynamoDB::Table")),
        ),
        (
            "DeletionPolicy and UpdateReplacePolicy Retain, or DeletionProtectionEnabled",
            retained || protected,
        ),
        (
            "KeySchema: partition key pk only",
            properties.get("KeySchema")
                == Some(&json!([{"AttributeName": "pk", "KeyType": "HASH"}])),
        ),
        (
            "AttributeDefinitions: pk, a string",
            properties.get("AttributeDefinitions")
                == Some(&json!([{"AttributeName": "pk", "AttributeType": "S"}])),
        ),
        (
            "BillingMode PAY_PER_REQUEST",
            properties.get("BillingMode") == Some(&json!("PAY_PER_REQUEST")),
        ),
        (
            "PointInTimeRecoveryEnabled",
            truthy(
                properties.pointer("/PointInTimeRecoverySpecification/PointInTimeRecoveryEnabled"),
            ),
        ),
        (
            "SSEEnabled",
            truthy(properties.pointer("/SSESpecification/SSEEnabled")),
        ),
    ];
    for (what, holds) in expected {
        if !holds {
            findings.push(format!("{at}: needs {what}"));
        }
    }
}

fn truthy(value: Option<&Value>) -> bool {
    matches!(value, Some(v) if v == &json!(true) || v == &json!("true"))
}
