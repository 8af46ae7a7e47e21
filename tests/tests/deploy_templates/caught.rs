//! Each rule of the checkers shown to bite: a mutated copy of a template
//! must give the finding the rule exists for. Tests named after a finding
//! of the December 2026 security review pin it.

use serde_json::{Value, json};

use crate::iam::{self, Kind};
use crate::settings::{self, OWNERSHIP_TABLE};
use crate::{API_CALLS, HUB, HUB_DEPLOYMENTS, TARGET, TARGET_DEPLOYMENTS, template};

/// Applies `mutate` to a copy of `path` and expects a finding (IAM or
/// settings) containing `expected`.
fn assert_caught(path: &str, kind: Kind, expected: &str, mutate: impl FnOnce(&mut Value)) {
    let mut mutated = template(path);
    mutate(&mut mutated);
    let deployments = match kind {
        Kind::Hub => HUB_DEPLOYMENTS,
        Kind::Target => TARGET_DEPLOYMENTS,
    };
    let mut findings = iam::check(&mutated, kind, API_CALLS, deployments);
    findings.extend(settings::check(&mutated, kind, deployments));
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

fn trust_statements(template: &mut Value) -> &mut Vec<Value> {
    template
        .pointer_mut("/Resources/TargetRole/Properties/AssumeRolePolicyDocument/Statement")
        .and_then(Value::as_array_mut)
        .unwrap()
}

/// The hub role's inline policy `name` (the chosen branch of an `Fn::If`).
fn hub_policy<'a>(template: &'a mut Value, name: &str) -> &'a mut Value {
    template
        .pointer_mut("/Resources/ApiFunctionRole/Properties/Policies")
        .and_then(Value::as_array_mut)
        .unwrap()
        .iter_mut()
        .map(|p| {
            if p.get("Fn::If").is_some() {
                &mut p["Fn::If"][1]
            } else {
                p
            }
        })
        .find(|p| p["PolicyName"] == name)
        .unwrap_or_else(|| panic!("{HUB} has no policy {name}"))
}

fn hub_iot_statement<'a>(template: &'a mut Value, sid: &str) -> &'a mut Value {
    hub_policy(template, "iot-in-this-account")["PolicyDocument"]["Statement"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|s| s["Sid"] == sid)
        .unwrap_or_else(|| panic!("{HUB} has no statement {sid}"))
}

fn function_variables(template: &mut Value) -> &mut serde_json::Map<String, Value> {
    template
        .pointer_mut("/Resources/ApiFunction/Properties/Environment/Variables")
        .and_then(Value::as_object_mut)
        .unwrap()
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

// ------------------------------------------ the ownership work's calls

#[test]
fn a_trust_without_set_source_identity_is_caught() {
    assert_caught(
        TARGET,
        Kind::Target,
        "no trust statement allows the hub sts:SetSourceIdentity",
        |t| {
            trust_statements(t).retain(|s| s["Action"] != "sts:SetSourceIdentity");
        },
    );
    assert_caught(
        HUB,
        Kind::Hub,
        "sts:SetSourceIdentity is needed by the API but never granted",
        |t| {
            let pointer = "/Resources/ApiFunctionRole/Properties/Policies/1/Fn::If/1/PolicyDocument/Statement/0/Action";
            *t.pointer_mut(pointer).unwrap() = json!("sts:AssumeRole");
        },
    );
}

#[test]
fn a_trust_beyond_the_api_or_without_an_external_id_is_caught() {
    assert_caught(
        TARGET,
        Kind::Target,
        "trusts the hub with sts:TagSession",
        |t| {
            trust_statements(t)[1]["Action"] = json!(["sts:SetSourceIdentity", "sts:TagSession"]);
        },
    );
    // AssumeRole beside SetSourceIdentity, where no ExternalId is asked for.
    assert_caught(
        TARGET,
        Kind::Target,
        "without a StringEquals sts:ExternalId",
        |t| {
            trust_statements(t)[1]["Action"] = json!(["sts:SetSourceIdentity", "sts:AssumeRole"]);
        },
    );
}

#[test]
fn ownership_records_beyond_their_table_are_caught() {
    assert_caught(HUB, Kind::Hub, "dynamodb:GetItem on \"*\"", |t| {
        hub_policy(t, "ownership-records")["PolicyDocument"]["Statement"][0]["Resource"] =
            json!("*");
    });
    assert_caught(
        HUB,
        Kind::Hub,
        "dynamodb:Scan is not an AWS call of the API",
        |t| {
            push_action(
                &mut hub_policy(t, "ownership-records")["PolicyDocument"]["Statement"][0],
                "dynamodb:Scan",
            );
        },
    );
    assert_caught(
        TARGET,
        Kind::Target,
        "a target role must not dynamodb:PutItem",
        |t| {
            push_action(target_statement(t, "Things"), "dynamodb:PutItem");
        },
    );
}

#[test]
fn a_missing_or_loose_ownership_table_is_caught() {
    assert_caught(HUB, Kind::Hub, "needs DeletionPolicy", |t| {
        t["Resources"][OWNERSHIP_TABLE]
            .as_object_mut()
            .unwrap()
            .remove("DeletionPolicy");
    });
    assert_caught(HUB, Kind::Hub, "needs PointInTimeRecoveryEnabled", |t| {
        t["Resources"][OWNERSHIP_TABLE]["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] =
            json!(false);
    });
    assert_caught(HUB, Kind::Hub, "needs BillingMode PAY_PER_REQUEST", |t| {
        t["Resources"][OWNERSHIP_TABLE]["Properties"]["BillingMode"] = json!("PROVISIONED");
    });
    assert_caught(HUB, Kind::Hub, "needs SSEEnabled", |t| {
        t["Resources"][OWNERSHIP_TABLE]["Properties"]
            .as_object_mut()
            .unwrap()
            .remove("SSESpecification");
    });
    assert_caught(HUB, Kind::Hub, "MARSHAL_OWNERSHIP_TABLE must be", |t| {
        function_variables(t).remove("MARSHAL_OWNERSHIP_TABLE");
    });
}

#[test]
fn jobs_that_never_expire_are_caught() {
    assert_caught(
        HUB,
        Kind::Hub,
        "Resources.JobsTable: needs TimeToLiveSpecification",
        |t| {
            t["Resources"]["JobsTable"]["Properties"]["TimeToLiveSpecification"]["Enabled"] =
                json!(false);
        },
    );
    assert_caught(
        HUB,
        Kind::Hub,
        "Resources.JobsTable: needs TimeToLiveSpecification",
        |t| {
            t["Resources"]["JobsTable"]["Properties"]["TimeToLiveSpecification"]["AttributeName"] =
                json!("ttl");
        },
    );
}

// ------------------------------------------------- M3 and friends

#[test]
fn m3_a_policy_wildcard_is_caught() {
    assert_caught(TARGET, Kind::Target, "iot:CreatePolicy on", |t| {
        target_statement(t, "Policies")["Resource"] =
            json!({"Fn::Sub": "arn:${AWS::Partition}:iot:*:${AWS::AccountId}:policy/*"});
    });
    assert_caught(HUB, Kind::Hub, "iot:GetPolicy on", |t| {
        hub_iot_statement(t, "Policies")["Resource"] =
            json!({"Fn::Sub": "arn:${AWS::Partition}:iot:*:${AWS::AccountId}:policy/Admin"});
    });
}

#[test]
fn m3_a_policy_name_without_its_slot_is_caught() {
    assert_caught(
        TARGET,
        Kind::Target,
        "iot:GetPolicy never reaches policy/p8",
        |t| {
            target_statement(t, "Policies")["Resource"]
                .as_array_mut()
                .unwrap()
                .pop();
        },
    );
}

#[test]
fn m3_an_iot_statement_in_any_region_is_caught() {
    assert_caught(
        TARGET,
        Kind::Target,
        "iot:DeleteThing without a StringEquals aws:RequestedRegion",
        |t| {
            target_statement(t, "Things")
                .as_object_mut()
                .unwrap()
                .remove("Condition");
        },
    );
    assert_caught(
        HUB,
        Kind::Hub,
        "iot:RegisterCertificateWithoutCA without a StringEquals aws:RequestedRegion",
        |t| {
            hub_iot_statement(t, "IotActionsWithoutResourceTypes")
                .as_object_mut()
                .unwrap()
                .remove("Condition");
        },
    );
}

#[test]
fn m3_optional_regions_or_policy_names_are_caught() {
    assert_caught(TARGET, Kind::Target, "AllowedRegions is required", |t| {
        let regions = &mut t["Parameters"]["AllowedRegions"];
        regions["Default"] = json!("");
        regions["AllowedPattern"] = json!("^$|^[a-z]{2}(-[a-z]+)+-\\d+$");
    });
    assert_caught(TARGET, Kind::Target, "a wildcard policy name", |t| {
        t["Parameters"]["AllowedPolicyNames"]["AllowedPattern"] = json!("[\\w+=.@*,-]+");
    });
    assert_caught(
        HUB,
        Kind::Hub,
        "IoT actions in this account without AllowedRegions",
        |t| {
            t["Rules"]
                .as_object_mut()
                .unwrap()
                .remove("HubAccountTargetsNeedScope");
        },
    );
}

#[test]
fn i5_an_unchecked_role_arn_is_caught() {
    assert_caught(HUB, Kind::Hub, "a wildcard target role", |t| {
        t["Parameters"]["TargetRoleArns"]
            .as_object_mut()
            .unwrap()
            .remove("AllowedPattern");
    });
    assert_caught(HUB, Kind::Hub, "an empty entry among the roles", |t| {
        t["Rules"]
            .as_object_mut()
            .unwrap()
            .remove("TargetRoleArnsHaveNoGaps");
    });
    assert_caught(TARGET, Kind::Target, "trusting any role", |t| {
        t["Parameters"]["HubRoleArn"]["AllowedPattern"] = json!("arn:aws[a-z-]*:iam::.+");
    });
}

#[test]
fn i2_an_issuer_without_an_audience_is_caught() {
    assert_caught(HUB, Kind::Hub, "an issuer without an audience", |t| {
        t["Rules"]
            .as_object_mut()
            .unwrap()
            .remove("JwtIssuerNeedsAudience");
    });
}

#[test]
fn l9_optional_mfa_and_long_tokens_are_caught() {
    assert_caught(HUB, Kind::Hub, "MfaConfiguration: \"OPTIONAL\"", |t| {
        t["Resources"]["UserPool"]["Properties"]["MfaConfiguration"] = json!("OPTIONAL");
    });
    assert_caught(HUB, Kind::Hub, "IdTokenValidity: Some(60.0) minutes", |t| {
        t["Resources"]["UserPoolClient"]["Properties"]["IdTokenValidity"] = json!(60);
    });
    assert_caught(
        HUB,
        Kind::Hub,
        "AccessTokenValidity: Some(60.0) minutes",
        |t| {
            t["Resources"]["UserPoolClient"]["Properties"]["TokenValidityUnits"]["AccessToken"] =
                json!("hours");
            t["Resources"]["UserPoolClient"]["Properties"]["AccessTokenValidity"] = json!(1);
        },
    );
}

#[test]
fn l11_an_uncapped_function_is_caught() {
    assert_caught(HUB, Kind::Hub, "it defaults to Some(0.0)", |t| {
        t["Parameters"]["ReservedConcurrency"]["Default"] = json!(0);
    });
    assert_caught(
        HUB,
        Kind::Hub,
        "ReservedConcurrentExecutions: must be",
        |t| {
            t["Resources"]["ApiFunction"]["Properties"]
                .as_object_mut()
                .unwrap()
                .remove("ReservedConcurrentExecutions");
        },
    );
}

#[test]
fn m4_a_timeout_or_deadline_past_api_gateway_is_caught() {
    assert_caught(HUB, Kind::Hub, "Timeout: 29 s is not under", |t| {
        t["Resources"]["ApiFunction"]["Properties"]["Timeout"] = json!(29);
    });
    assert_caught(
        HUB,
        Kind::Hub,
        "MARSHAL_REQUEST_DEADLINE_MS 27000 leaves",
        |t| {
            function_variables(t).insert("MARSHAL_REQUEST_DEADLINE_MS".into(), json!("27000"));
        },
    );
    assert_caught(HUB, Kind::Hub, "no MARSHAL_REQUEST_DEADLINE_MS", |t| {
        function_variables(t).remove("MARSHAL_REQUEST_DEADLINE_MS");
    });
}
