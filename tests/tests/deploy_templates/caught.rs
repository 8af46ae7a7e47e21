//! Each rule of the checkers shown to bite: a mutated copy of a template
//! must give the finding the rule exists for.

use serde_json::{Value, json};

use crate::iam::{Kind, check};
use crate::{API_CALLS, HUB, TARGET, template};

/// Applies `mutate` to a copy of `path` and expects a finding containing `expected`.
fn assert_caught(path: &str, kind: Kind, expected: &str, mutate: impl FnOnce(&mut Value)) {
    let mut mutated = template(path);
    mutate(&mut mutated);
    let findings = check(&mutated, kind, API_CALLS);
    assert!(
        findings.iter().any(|f| f.contains(expected)),
        "a mutated {path} should give a finding containing {expected:?}; findings:\n{}",
        findings.join("\n")
    );
}

fn target_statement<'a>(template: &'a mut Value, sid: &str) -> &'a mut Value {
    template
        .pointer_mut("/Resources/TargetRole/Properties/Policies/0/PolicyDocument/Statement")
        .and_then(Value::as_array_mut)
        .unwrap()
        .iter_mut()
        .find(|s| s["Sid"] == sid)
        .unwrap_or_else(|| panic!("{TARGET} has no statement {sid}"))
}

fn push_action(statement: &mut Value, action: &str) {
    statement["Action"]
        .as_array_mut()
        .unwrap()
        .push(json!(action));
}

#[test]
fn an_iot_wildcard_action_is_caught() {
    assert_caught(TARGET, Kind::Target, "wildcard action iot:*", |t| {
        push_action(target_statement(t, "Things"), "iot:*");
    });
    assert_caught(TARGET, Kind::Target, "wildcard action iot:Describe*", |t| {
        push_action(target_statement(t, "Things"), "iot:Describe*");
    });
}

#[test]
fn a_missing_external_id_is_caught() {
    assert_caught(
        TARGET,
        Kind::Target,
        "without a StringEquals sts:ExternalId",
        |t| {
            t.pointer_mut("/Resources/TargetRole/Properties/AssumeRolePolicyDocument/Statement/0")
                .unwrap()
                .as_object_mut()
                .unwrap()
                .remove("Condition");
        },
    );
}

#[test]
fn a_trust_in_a_fixed_account_is_caught() {
    assert_caught(
        TARGET,
        Kind::Target,
        "only a role ARN from a parameter",
        |t| {
            *t.pointer_mut(
            "/Resources/TargetRole/Properties/AssumeRolePolicyDocument/Statement/0/Principal/AWS",
        )
        .unwrap() = json!("arn:aws:iam::123456789012:root");
        },
    );
}

#[test]
fn an_iot_action_the_api_does_not_call_is_caught() {
    assert_caught(
        TARGET,
        Kind::Target,
        "iot:DeleteCACertificate is not an AWS call",
        |t| {
            push_action(
                target_statement(t, "Certificates"),
                "iot:DeleteCACertificate",
            );
        },
    );
}

#[test]
fn a_scoped_action_on_every_resource_is_caught() {
    assert_caught(
        TARGET,
        Kind::Target,
        "iot:DeleteCertificate on \"*\"",
        |t| {
            push_action(
                target_statement(t, "IotActionsWithoutResourceTypes"),
                "iot:DeleteCertificate",
            );
        },
    );
    assert_caught(TARGET, Kind::Target, "iot:DeleteThing on", |t| {
        target_statement(t, "Things")["Resource"] =
            json!({"Fn::Sub": "arn:${AWS::Partition}:iot:*:*:thing/*"});
    });
}

#[test]
fn an_action_the_api_needs_but_not_granted_is_caught() {
    assert_caught(
        TARGET,
        Kind::Target,
        "iot:DescribeEndpoint is needed",
        |t| {
            let statement = target_statement(t, "IotActionsWithoutResourceTypes");
            statement["Action"]
                .as_array_mut()
                .unwrap()
                .retain(|a| a != "iot:DescribeEndpoint");
        },
    );
}

#[test]
fn assume_role_beyond_the_listed_roles_is_caught() {
    let pointer = "/Resources/ApiFunctionRole/Properties/Policies/1/Fn::If/1/PolicyDocument/Statement/0/Resource";
    assert_caught(HUB, Kind::Hub, "sts:AssumeRole on \"*\"", |t| {
        *t.pointer_mut(pointer).unwrap() = json!("*");
    });
    assert_caught(HUB, Kind::Hub, "sts:AssumeRole on", |t| {
        *t.pointer_mut(pointer).unwrap() = json!({"Ref": "JwtIssuer"});
    });
}

#[test]
fn a_target_role_that_may_assume_roles_is_caught() {
    assert_caught(
        TARGET,
        Kind::Target,
        "a target role must not sts:AssumeRole",
        |t| {
            let statements = t
                .pointer_mut("/Resources/TargetRole/Properties/Policies/0/PolicyDocument/Statement")
                .and_then(Value::as_array_mut)
                .unwrap();
            statements.push(json!({
                "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": {"Ref": "HubRoleArn"}
            }));
        },
    );
}

#[test]
fn a_managed_policy_or_a_public_bucket_is_caught() {
    assert_caught(HUB, Kind::Hub, "ManagedPolicyArns", |t| {
        t["Resources"]["ApiFunctionRole"]["Properties"]["ManagedPolicyArns"] =
            json!(["arn:aws:iam::aws:policy/AWSIoTFullAccess"]);
    });
    assert_caught(HUB, Kind::Hub, "only CloudFront", |t| {
        t.pointer_mut(
            "/Resources/PageBucketPolicy/Properties/PolicyDocument/Statement/0/Principal",
        )
        .map(|p| *p = json!("*"))
        .unwrap();
    });
}
